"""Real quota: Azure Machine Learning usages and limits per VM family, as a :class:`QuotaSpec`.

The Machine Learning management API lists, for a subscription and region::

    GET {arm}/subscriptions/{sub}/providers/Microsoft.MachineLearningServices/locations/{region}/usages
        ?api-version=2024-04-01
    -> {"value": [{"id", "type", "currentValue", "limit", "name": {"value", "localizedValue"},
                   "unit": "Count"}, ...], "nextLink": "..."}

(Azure/azure-rest-api-specs, machinelearningservices stable/2024-04-01 ``examples/Usage/list.json``).
The rows that matter for managed online deployments are the subscription-level VM family rows:
type ``Microsoft.MachineLearningServices/vmFamily/usages``, id
``/subscriptions/{sub}/usages/Standard_DSv2_Family_Cluster_Dedicated_vCPUs``, name
"Standard DSv2 Family Cluster Dedicated vCPUs": the family is the name without
" Cluster Dedicated vCPUs", written without spaces ("standardDSv2Family", the spelling of
amlforge's SKU catalog; :meth:`QuotaSpec.family` compares ignoring case and spaces). Skipped:
workspace and compute rows (shares of the subscription's figures), low-priority rows (limit
-1; online endpoints use dedicated cores) and rows with a negative limit.

Not reported by that API, so the documented defaults stay: endpoints and deployments per
subscription and region, deployments per endpoint, instances per deployment, and the regional
total compute limit. The regional "Total Cluster Dedicated Regional vCPUs" row has no field in the
quota file; :class:`LiveQuota` keeps it so that ``amlforge quota --live`` can show it.

The call goes through azure-core's ``ARMPipelineClient`` (azure-mgmt-core, which
azure-mgmt-resource already needs), not the whole ``azure-mgmt-machinelearningservices`` SDK:
one GET with paging needs none of its thousands of models.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from msgspec import Struct

from amlforge._regex import LazyPattern
from amlforge.errors import UserInputError
from amlforge.specs.quota import QuotaSpec, Usage

API_VERSION = "2024-04-01"
#: Pages followed at most (a region lists a few dozen rows in one or two pages).
MAX_PAGES = 20
FAMILY_SUFFIX = " cluster dedicated vcpus"
REGION_RE = LazyPattern(r"^[a-z][a-z0-9]{1,39}\Z")
READ_PERMISSION = ("Microsoft.MachineLearningServices/locations/usages/read on the subscription (for example the "
                   "Reader role)")


class LiveQuota(Struct, frozen=True):
    """What the usages API said, as quota figures."""

    spec: QuotaSpec
    #: "Total Cluster Dedicated Regional vCPUs": a cap across all families of the region.
    regional_vcpus: Usage | None
    rows: int


def check_region(region: str | None) -> str:
    """A programmatic region name (``westeurope``).

    Raises:
        UserInputError: missing or not of that form.
    """
    if not region:
        raise UserInputError("--live needs --region", None, "pass the workspace's region, such as --region westeurope")
    value = region.strip().lower()
    if not REGION_RE.match(value):
        raise UserInputError(f"'{region}' is not a programmatic region name", None,
                             "write it like westeurope or eastus2 ('az account list-locations -o table')")
    return value


def family_key(name: str) -> str | None:
    """``"Standard DSv2 Family Cluster Dedicated vCPUs"`` -> ``"standardDSv2Family"``; other names -> ``None``."""
    if not name.lower().endswith(FAMILY_SUFFIX):
        return None
    family = name[: -len(FAMILY_SUFFIX)].replace(" ", "")
    if not family or "family" not in family.lower():
        return None
    return family[0].lower() + family[1:]


def usages_to_quota(rows: list[dict[str, Any]], subscription: str, region: str) -> LiveQuota:
    """Usage rows of the usages API -> :class:`LiveQuota`."""
    families: dict[str, Usage] = {}
    regional: Usage | None = None
    for row in rows:
        if not isinstance(row, dict):
            continue
        rid = str(row.get("id") or "").lower()
        if "/workspaces/" in rid:
            continue
        if str(row.get("unit") or "Count").lower() != "count":
            continue
        name = row.get("name") or {}
        label = str(name.get("value") or name.get("localizedValue") or "") if isinstance(name, dict) else str(name)
        try:
            limit, current = int(row.get("limit")), int(row.get("currentValue") or 0)
        except (TypeError, ValueError):
            continue
        if limit < 0:
            continue
        usage = Usage(limit=limit, usage=max(current, 0))
        if label.lower() == "total cluster dedicated regional vcpus":
            regional = usage
            continue
        key = family_key(label)
        if key is not None and key not in families:
            families[key] = usage
    spec = QuotaSpec(subscription=subscription, region=region, families=dict(sorted(families.items(),
                                                                                  key=lambda kv: kv[0].lower())))
    spec = spec.model_copy(update={"source": "Azure Machine Learning usages API (live)"})
    return LiveQuota(spec, regional, len(rows))


def read_usages(subscription: str, region: str, *, endpoint: str, max_retries: int = 3) -> list[dict[str, Any]]:
    """Every usage row of ``subscription`` in ``region`` (pages followed, at most :data:`MAX_PAGES`).

    Raises:
        UserInputError: the extra is missing, or Azure could not be asked (credentials,
            permission, unknown subscription or region, throttling, network).
    """
    from amlforge.integrations.azure import require

    require("azure.core", "azure.mgmt.core")
    from azure.core.exceptions import HttpResponseError
    from azure.core.pipeline import policies
    from azure.core.rest import HttpRequest
    from azure.mgmt.core import ARMPipelineClient
    from azure.mgmt.core.exceptions import ARMErrorFormat
    from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

    from amlforge import __version__
    from amlforge.integrations.azure.credentials import credential_scopes, get_credential, transport_options
    from amlforge.integrations.azure.errors import Call, azure_errors

    call = Call("read the Azure Machine Learning quota", endpoint, subscription, region=region,
                max_retries=max_retries, permission=READ_PERMISSION)
    credential = get_credential()
    pipeline_policies = [
        policies.RequestIdPolicy(),
        policies.HeadersPolicy(),
        policies.UserAgentPolicy(user_agent=f"amlforge/{__version__}"),
        policies.ContentDecodePolicy(),
        policies.RetryPolicy(**transport_options(max_retries)),
        ARMChallengeAuthenticationPolicy(credential, *credential_scopes(endpoint)),
        policies.HttpLoggingPolicy(),
    ]
    url: str | None = (f"{endpoint}/subscriptions/{quote(subscription, safe='')}/providers/"
                       f"Microsoft.MachineLearningServices/locations/{quote(region, safe='')}/usages")
    params: dict[str, str] | None = {"api-version": API_VERSION}
    rows: list[dict[str, Any]] = []
    with azure_errors(call), ARMPipelineClient(base_url=endpoint, policies=pipeline_policies) as client:
        for _ in range(MAX_PAGES):
            if not url:
                break
            response = client.send_request(HttpRequest("GET", url, params=params))
            if response.status_code != 200:
                raise HttpResponseError(response=response, error_format=ARMErrorFormat)
            data = response.json()
            rows.extend(r for r in data.get("value") or [] if isinstance(r, dict))
            url, params = data.get("nextLink"), None
    return rows


def read_live_quota(subscription: str, region: str, *, endpoint: str, max_retries: int = 3) -> LiveQuota:
    """:func:`read_usages` -> :func:`usages_to_quota`."""
    return usages_to_quota(read_usages(subscription, region, endpoint=endpoint, max_retries=max_retries),
                           subscription, region)


def _scalar(value: str) -> str:
    return value if re.match(r"^[A-Za-z][A-Za-z0-9_.-]*$", value) else '"' + value.replace('"', '\\"') + '"'


def quota_file_text(live: LiveQuota) -> str:
    """The quota file (format of :mod:`amlforge.specs.quota`) of the live figures, for ``--save``.

    Deterministic (no date), so that a CI job that refreshes it only shows a diff when a figure moved.
    """
    spec = live.spec
    lines = [
        "# Azure Machine Learning quota, written by 'amlforge quota --live --save' from the usages API",
        "# (Microsoft.MachineLearningServices/locations/usages). Families: vCPU limit and usage",
        "# ('<family> Cluster Dedicated vCPUs'). Endpoint and deployment counts and the total compute",
        "# limit are not reported by that API: the documented defaults apply. Lint with --quota FILE.",
    ]
    if live.regional_vcpus is not None:
        r = live.regional_vcpus
        lines.append(f"# Total Cluster Dedicated Regional vCPUs: limit {r.limit}, usage {r.usage} (not checked by the "
                     "quota rules).")
    lines.append(f"subscription: {_scalar(spec.subscription or '')}")
    lines.append(f"region: {_scalar(spec.region or '')}")
    if spec.families:
        lines.append("families:")
        for name, usage in spec.families.items():
            lines.append(f"  {_scalar(name)}: {{limit: {usage.limit}, usage: {usage.usage}}}")
    else:
        lines.append("families: {}")
    return "\n".join(lines) + "\n"




# --- ``amlforge quota --live [--save FILE]`` ------------------------------------------------------


class LiveQuotaFile(Struct):
    """Live figures written as a quota file (``--save FILE``, else a temporary file), so that the
    quota table and rules read them exactly as they read ``--quota FILE``: live and saved figures
    give the same results by construction."""

    live: LiveQuota
    path: Any
    saved: bool

    @classmethod
    def read(cls, subscription: str | None, region: str | None, *, arm_endpoint: str | None, max_retries: int,
             save: Any = None) -> LiveQuotaFile:
        """Read the usages and write them to ``save`` (or a temporary file).

        Raises:
            UserInputError: a missing or malformed subscription or region, or Azure could not be asked.
        """
        import os
        import tempfile
        from pathlib import Path

        from amlforge.generators.writer import write_atomic
        from amlforge.integrations.azure.arm import SUBSCRIPTION_RE
        from amlforge.integrations.azure.credentials import arm_endpoint as resolve_endpoint

        if not subscription:
            raise UserInputError("--live needs --subscription ID (or AZURE_SUBSCRIPTION_ID)", None,
                                 "'az account show --query id -o tsv' prints the current subscription")
        if not SUBSCRIPTION_RE.match(subscription):
            raise UserInputError(f"--subscription is a subscription id (a GUID), got '{subscription}'", None,
                                 "list yours with 'az account list -o table'")
        region = check_region(region)
        endpoint = resolve_endpoint(arm_endpoint)
        live = read_live_quota(subscription, region, endpoint=endpoint, max_retries=max_retries)
        text = quota_file_text(live)
        if save is not None:
            write_atomic(Path(save), text)
            return cls(live, Path(save), True)
        fd, tmp = tempfile.mkstemp(prefix="amlforge-live-quota-", suffix=".yaml")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        return cls(live, Path(tmp), False)

    def cleanup(self) -> None:
        if not self.saved:
            try:
                self.path.unlink()
            except OSError:
                pass

    def relabel(self, table: Any) -> Any:
        """The table with its source named after Azure rather than the (temporary) file."""
        import msgspec.structs

        source = self.live.spec.source + (f", saved to {self.path}" if self.saved else "")
        return msgspec.structs.replace(table, source=source)

    def notes(self, table: Any) -> list[str]:
        """What the user should know about live figures (printed on stderr)."""
        spec = self.live.spec
        out = [f"read {len(spec.families)} VM famil{'y' if len(spec.families) == 1 else 'ies'} of Azure Machine "
               f"Learning quota live (subscription {spec.subscription}, region {spec.region})"]
        if self.saved:
            out.append(f"saved them to {self.path}: lint and quota offline with --quota {self.path}")
        out.append("endpoint and deployment counts and the total compute limit are not in the usages API: the "
                   "documented defaults apply")
        regional = self.live.regional_vcpus
        if regional is not None:
            reserved = sum(f.reserved_vcpus for f in table.families)
            verdict = ("OVER the regional total" if reserved > regional.available else "within it")
            out.append(f"Total Cluster Dedicated Regional vCPUs: {reserved} reserved by this run, {regional.available} "
                       f"available (limit {regional.limit}, usage {regional.usage}): {verdict}")
        return out


__all__ = [
    "API_VERSION",
    "LiveQuota",
    "LiveQuotaFile",
    "check_region",
    "family_key",
    "quota_file_text",
    "read_live_quota",
    "read_usages",
    "usages_to_quota",
]
