"""Live Azure checks (the optional ``amlforge[azure]`` extra).

Azure Resource Manager (ARM) validates, previews (what-if) and deploys the ARM template that
``amlforge generate`` writes; the Azure Machine Learning usages API gives the real quota of a
subscription and region. Everything here is optional: the modules import the Azure SDK only
inside their functions, and nothing on the ``amlforge lint`` path imports this package.

Modules:

- :mod:`.credentials`: the ARM endpoint (``--arm-endpoint`` / ``AMLFORGE_ARM_ENDPOINT``), its
  token scope, and the credential (``DefaultAzureCredential``, or the test/CI-only static token
  of ``AMLFORGE_AZURE_TOKEN``).
- :mod:`.errors`: azure-core exceptions -> one clear message with a hint (exit code 2), or an
  ARM verdict on the template (:class:`~.errors.ArmRejected`, exit code 1). Never a traceback.
- :mod:`.arm`: what to deploy (a template, or a spec through the generator), and validate,
  what-if and deploy through ``azure-mgmt-resource-deployments`` (the ``Deployments``
  operations of ``azure-mgmt-resource``, which moved to that package in azure-mgmt-resource 25).
- :mod:`.preflight`: reads made before validate, what-if and deploy through azure-mgmt-resource's
  ``ResourceManagementClient`` (the resource group, the Microsoft.MachineLearningServices
  registration, the workspace), so that the commonest first-deploy failures are one located
  error with a hint; a read that is refused is a note, never a blocker.
- :mod:`.quota`: Azure ML usages and limits per VM family -> :class:`~amlforge.specs.quota.QuotaSpec`
  and the quota file format.
"""

from __future__ import annotations

import importlib

from amlforge.errors import UserInputError

#: The pip requirement that brings the Azure SDK packages these commands need.
EXTRA = "amlforge[azure]"


def require(*modules: str, command: str = "azure") -> None:
    """Import ``modules`` or say which extra to install.

    Raises:
        UserInputError: a module is missing (exit code 2, never an ImportError traceback):
            "amlforge azure needs the 'azure' extra (azure.identity is not installed: ...)".
    """
    for name in modules:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise UserInputError(
                f"amlforge {command} needs the 'azure' extra ({name} is not installed: {e})",
                None, f"pip install '{EXTRA}'") from None


#: Loggers of the Azure SDK that write to stderr on their own (DefaultAzureCredential logs a
#: warning for every credential it tries: about 15 lines before amlforge's one-line error).
SDK_LOGGERS = ("azure.identity", "azure.core", "azure.mgmt", "msal", "urllib3")


def sdk_logging(verbose: int) -> None:
    """Silence the Azure SDK's own log output unless ``verbose`` (``-v``): amlforge reports every
    failure itself, with a hint. ``-v`` shows the SDK's warnings, ``-vv`` its debug log too."""
    import logging

    level = logging.CRITICAL + 1 if verbose <= 0 else logging.WARNING if verbose == 1 else logging.DEBUG
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(level)
    if verbose >= 2 and not logging.getLogger().handlers:
        logging.basicConfig(level=logging.WARNING, format="%(name)s: %(levelname)s: %(message)s")


__all__ = ["EXTRA", "SDK_LOGGERS", "require", "sdk_logging"]
