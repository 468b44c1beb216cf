def predict(raw_data):
    return raw_data
