"""Fuzz seed: a Kubernetes online deployment with resources and scale settings, built with
azure-ai-ml, written for amlforge's fuzz campaign."""

from azure.ai.ml.entities import (
    CodeConfiguration,
    KubernetesOnlineDeployment,
    KubernetesOnlineEndpoint,
    ResourceRequirementsSettings,
    ResourceSettings,
    TargetUtilizationScaleSettings,
)

endpoint = KubernetesOnlineEndpoint(name="fuzz-k8s", compute="k8s-compute", auth_mode="key")
deployment = KubernetesOnlineDeployment(
    name="blue",
    endpoint_name=endpoint.name,
    model="azureml:fuzz-model:1",
    environment="azureml:fuzz-env:1",
    code_configuration=CodeConfiguration(code="src", scoring_script="score.py"),
    instance_type="defaultinstancetype",
    resources=ResourceRequirementsSettings(
        requests=ResourceSettings(cpu="500m", memory="1Gi"),
        limits=ResourceSettings(cpu="1", memory="2Gi"),
    ),
    scale_settings=TargetUtilizationScaleSettings(min_instances=1, max_instances=3, target_utilization_percentage=70),
)
deployment.instance_count = None
