import os

from azure.identity import ManagedIdentityCredential
from azure.keyvault.secrets import SecretClient

secret = None


def init():
    global secret
    client = SecretClient(os.environ["KV_URL"], ManagedIdentityCredential())
    secret = client.get_secret("greeting").value


def run(raw_data):
    return {"greeting": secret, "echo": raw_data}
