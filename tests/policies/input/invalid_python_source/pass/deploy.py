from azure.ai.ml.entities import ManagedOnlineDeployment

blue = ManagedOnlineDeployment(
    name="blue",
    endpoint_name="my-endpoint",
    model="azureml:my-model:1",
    environment="azureml:my-env:1",
    instance_type="Standard_DS3_v2",
    instance_count=3,
)
