"""The optional extras of the package and the clear error when one is missing.

``pip install amlforge`` brings what linting and generating need. Locking and live Azure
are extras, each named in the error of the command that needs it:

- ``amlforge[lock]``: conda-lock and py-rattler (``amlforge lock``, ``amlforge-rattler-micromamba``);
- ``amlforge[azure]``: azure-identity, azure-mgmt-resource, azure-mgmt-resource-deployments and
  azure-mgmt-core (``amlforge azure validate|what-if|deploy``, ``amlforge quota --live``);
- ``amlforge[all]``: both.
"""

from __future__ import annotations

import importlib

from amlforge.errors import UserInputError

#: extra -> the modules it provides (as imported) and the distributions that bring them.
EXTRAS: dict[str, dict[str, str]] = {
    "lock": {"conda_lock": "conda-lock", "rattler": "py-rattler"},
    "azure": {
        "azure.identity": "azure-identity",
        "azure.mgmt.resource.resources": "azure-mgmt-resource",
        "azure.mgmt.resource.deployments": "azure-mgmt-resource-deployments",
        "azure.mgmt.core": "azure-mgmt-core",
        "azure.core": "azure-core",
    },
}


def missing(extra: str, modules: tuple[str, ...] = ()) -> list[str]:
    """The distributions of ``extra`` (or only of ``modules`` of it) that cannot be imported."""
    wanted = EXTRAS[extra]
    out = []
    for module in modules or tuple(wanted):
        try:
            importlib.import_module(module)
        except ImportError:
            out.append(wanted.get(module, module))
    return out


def require_extra(extra: str, command: str, modules: tuple[str, ...] = ()) -> None:
    """Raise the clear error of a command whose extra is not installed.

    Raises:
        UserInputError: (exit code 2) "amlforge lock needs the 'lock' extra (conda-lock is not
            installed)", with the pip command as the hint.
    """
    absent = missing(extra, modules)
    if absent:
        names = ", ".join(absent)
        raise UserInputError(
            f"amlforge {command} needs the '{extra}' extra ({names} {'is' if len(absent) == 1 else 'are'} "
            "not installed)", None, f"pip install 'amlforge[{extra}]'")


__all__ = ["EXTRAS", "missing", "require_extra"]
