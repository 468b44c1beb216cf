from azure.ai.ml.entities import ManagedOnlineDeployment

blue = ManagedOnlineDeployment(
    name="blue",
    instance_type="Standard_DS3_v2",
