import json


MODEL = None
print(json.dumps({"status": "loaded"}))
