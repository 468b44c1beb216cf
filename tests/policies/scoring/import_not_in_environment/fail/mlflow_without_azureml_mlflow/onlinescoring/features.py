def prepare(rows):
    return rows
