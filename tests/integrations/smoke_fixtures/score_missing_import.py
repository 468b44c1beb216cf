import json

import amlforge_smoke_not_installed_module  # MISSING-IMPORT


def init():
    pass


def run(raw_data):
    return json.loads(raw_data)
