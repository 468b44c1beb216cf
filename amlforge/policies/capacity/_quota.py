"""The quota a run needs: per VM family vCPUs (with the upgrade reserve), endpoint and deployment counts.

One computation, :func:`quota_table`, feeds both the quota rules (AML208-AML211) and the
``amlforge quota`` command, so that the two always agree.

Facts (see the reference, section 2):
- A managed deployment of ``n`` instances of a SKU with ``v`` vCPUs reserves
  ``ceil(1.2 x n) x v`` vCPUs of its VM family's quota, computed as ``(6n + 4) // 5``; the SKUs
  the docs mark "skip 20 %" reserve ``n x v`` (``Sku.reserved_vcpus``).
- Quota is per subscription, region and VM family; GPU families start at 0 vCPUs.
- Endpoints (100) and deployments (500) per subscription and region, deployments per endpoint
  (20), and the regional total compute limit (500, shared with training clusters and compute
  instances; each managed deployment counts) are documented defaults a quota file can change.

Kubernetes deployments run on their cluster and use no Azure ML VM quota, but they count as
endpoints and deployments. Every deployment of the run is assumed to go to the one subscription
and region the quota file describes. ``amlforge quota`` groups files into projects as ``amlforge
lint`` does, and sums the projects that share quota figures (:func:`quota_for_paths`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from msgspec import Struct, field

from amlforge.policies.capacity._helpers import is_managed, label

if TYPE_CHECKING:
    from amlforge.specs.deployment import OnlineDeploymentBase
    from amlforge.specs.endpoint import OnlineEndpointBase
    from amlforge.specs.loader import LoadProblem
    from amlforge.specs.project import Loaded, Project
    from amlforge.specs.quota import Usage
    from amlforge.specs.sku import Sku

#: Family status values.
OK, OVER, GPU_DEFAULT_ZERO, UNKNOWN = "ok", "over quota", "GPU quota 0 unless raised", "no quota figures"


class DeploymentUse(Struct, frozen=True):
    """What one managed deployment reserves."""

    deployment: Loaded[OnlineDeploymentBase]
    sku: Sku
    instance_count: int
    count_given: bool

    @property
    def reserved_instances(self) -> int:
        n = self.instance_count
        return n if self.sku.skip_upgrade_reserve else (6 * n + 4) // 5

    @property
    def reserved_vcpus(self) -> int:
        return self.sku.reserved_vcpus(self.instance_count)

    @property
    def label(self) -> str:
        return label(self.deployment)

    def arithmetic(self) -> str:
        """``10 x Standard_DS3_v2 -> 12 instances with the 20% upgrade reserve x 4 vCPUs``."""
        s = self.sku
        count = f"{self.instance_count}" + ("" if self.count_given else " (instance_count not set, assumed)")
        if s.skip_upgrade_reserve:
            return f"{count} x {s.name} x {s.vcpus} vCPUs, exempt from the 20% reserve"
        return (f"{count} x {s.name} -> {self.reserved_instances} instances with the 20% upgrade reserve "
                f"x {s.vcpus} vCPUs")

    def explain(self) -> str:
        """``reserves 48 vCPUs (10 x Standard_DS3_v2 -> 12 instances ... x 4 vCPUs)``."""
        return f"reserves {self.reserved_vcpus} vCPUs ({self.arithmetic()})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "endpoint": self.deployment.spec.endpoint_name,
            "deployment": self.deployment.spec.name,
            "instance_type": self.sku.name,
            "instance_count": self.instance_count,
            "instance_count_assumed": not self.count_given,
            "reserved_instances": self.reserved_instances,
            "vcpus_per_instance": self.sku.vcpus,
            "reserved_vcpus": self.reserved_vcpus,
            "skip_upgrade_reserve": self.sku.skip_upgrade_reserve,
        }


class FamilyRow(Struct, frozen=True):
    """One VM family: what the run reserves in it and what the quota allows."""

    family: str
    uses: tuple[DeploymentUse, ...]
    quota: Usage | None

    @property
    def gpu(self) -> bool:
        return any(u.sku.is_gpu for u in self.uses)

    @property
    def skus(self) -> list[str]:
        return sorted({u.sku.name for u in self.uses})

    @property
    def instances(self) -> int:
        return sum(u.instance_count for u in self.uses)

    @property
    def reserved_instances(self) -> int:
        return sum(u.reserved_instances for u in self.uses)

    @property
    def reserved_vcpus(self) -> int:
        return sum(u.reserved_vcpus for u in self.uses)

    @property
    def available(self) -> int | None:
        return self.quota.available if self.quota is not None else None

    @property
    def status(self) -> str:
        if self.quota is not None:
            return OK if self.reserved_vcpus <= self.quota.available else OVER
        return GPU_DEFAULT_ZERO if self.gpu else UNKNOWN

    @property
    def shortfall(self) -> int:
        """vCPUs missing (0 when the family fits or has no figures)."""
        available = self.available
        return max(self.reserved_vcpus - available, 0) if available is not None else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "family": self.family,
            "gpu": self.gpu,
            "skus": self.skus,
            "deployments": [u.to_dict() for u in self.uses],
            "instances": self.instances,
            "reserved_instances": self.reserved_instances,
            "reserved_vcpus": self.reserved_vcpus,
            "limit": self.quota.limit if self.quota is not None else None,
            "usage": self.quota.usage if self.quota is not None else None,
            "available": self.available,
            "status": self.status,
        }


class CountRow(Struct, frozen=True):
    """A counted limit (endpoints, deployments, total compute): this run's count against limit - usage."""

    what: str
    members: tuple[Loaded[Any], ...]
    limit: int
    usage: int

    @property
    def count(self) -> int:
        return len(self.members)

    @property
    def available(self) -> int:
        return max(self.limit - self.usage, 0)

    @property
    def status(self) -> str:
        return OK if self.count <= self.available else OVER

    @property
    def beyond(self) -> tuple[Loaded[Any], ...]:
        """Members past the available count, in load order (the ones that do not fit)."""
        return self.members[self.available:]

    def to_dict(self) -> dict[str, Any]:
        return {"count": self.count, "usage": self.usage, "limit": self.limit, "available": self.available,
                "status": self.status}


class EndpointRow(Struct, frozen=True):
    """Deployments of one endpoint against the per-endpoint limit."""

    endpoint: str
    deployments: tuple[Loaded[OnlineDeploymentBase], ...]
    limit: int

    @property
    def count(self) -> int:
        return len(self.deployments)

    @property
    def status(self) -> str:
        return OK if self.count <= self.limit else OVER

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "deployments": self.count, "limit": self.limit, "status": self.status}


class Skipped(Struct, frozen=True):
    """A managed deployment that could not be counted, and why."""

    deployment: Loaded[OnlineDeploymentBase]
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"endpoint": self.deployment.spec.endpoint_name, "deployment": self.deployment.spec.name,
                "reason": self.reason}


class QuotaTable(Struct, frozen=True):
    """Everything ``amlforge quota`` prints and the quota rules check."""

    source: str
    subscription: str | None
    region: str | None
    families: tuple[FamilyRow, ...]
    endpoints: CountRow
    deployments: CountRow
    total_compute: CountRow
    per_endpoint: tuple[EndpointRow, ...]
    skipped: tuple[Skipped, ...] = field(default=())

    @property
    def over(self) -> bool:
        """Whether any known limit is exceeded (GPU families without figures do not count)."""
        return (any(f.status == OVER for f in self.families)
                or any(r.status == OVER for r in (self.endpoints, self.deployments, self.total_compute))
                or any(e.status == OVER for e in self.per_endpoint))

    def family_of(self, dep: Loaded[OnlineDeploymentBase]) -> tuple[FamilyRow, DeploymentUse] | None:
        for row in self.families:
            for use in row.uses:
                if use.deployment is dep:
                    return row, use
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "subscription": self.subscription,
            "region": self.region,
            "families": [f.to_dict() for f in self.families],
            "endpoints": self.endpoints.to_dict(),
            "deployments": self.deployments.to_dict(),
            "total_compute": self.total_compute.to_dict(),
            "deployments_per_endpoint": [e.to_dict() for e in self.per_endpoint],
            "skipped": [s.to_dict() for s in self.skipped],
            "over_quota": self.over,
        }


def quota_table(project: Project) -> QuotaTable:
    """The quota the run needs against ``project.quota_figures`` (computed once per run)."""
    return project.memo(("capacity", "quota_table"), lambda: _build(project))


def _build(project: Project) -> QuotaTable:
    figures = project.quota_figures
    by_family: dict[str, list[DeploymentUse]] = {}
    skipped: list[Skipped] = []
    managed: list[Loaded[OnlineDeploymentBase]] = []
    for dep in project.unique_deployments:  # two files of one deployment use its quota once
        if not is_managed(dep):
            continue
        managed.append(dep)
        sku = project.skus.get(dep.spec.instance_type)
        if sku is None:
            skipped.append(Skipped(dep, f"instance_type '{dep.spec.instance_type}' is not in the SKU catalog"))
            continue
        count = dep.spec.instance_count
        if count is not None and count < 1:
            skipped.append(Skipped(dep, f"instance_count {count} is below 1"))
            continue
        use = DeploymentUse(dep, sku, count if count is not None else 1, count is not None)
        by_family.setdefault(sku.family, []).append(use)
    families = tuple(
        FamilyRow(name, tuple(uses), figures.family(name))
        for name, uses in sorted(by_family.items(), key=lambda kv: kv[0].replace(" ", "").lower())
    )
    endpoints: list[Loaded[OnlineEndpointBase]] = [ep for ep in project.unique_endpoints if ep.spec.name]
    unique = {id(d) for d in project.unique_deployments}
    per_endpoint = tuple(
        EndpointRow(group.name, tuple(d for d in group.deployments if id(d) in unique), figures.deployments_per_endpoint)
        for _, group in sorted(project.groups.items())
        if group.deployments
    )
    return QuotaTable(
        source=figures.source,
        subscription=figures.subscription,
        region=figures.region,
        families=families,
        endpoints=CountRow("endpoints", tuple(endpoints), figures.endpoints.limit, figures.endpoints.usage),
        deployments=CountRow("deployments", tuple(project.unique_deployments), figures.deployments.limit,
                             figures.deployments.usage),
        total_compute=CountRow("total compute", tuple(managed), figures.total_compute.limit,
                               figures.total_compute.usage),
        per_endpoint=per_endpoint,
        skipped=tuple(skipped),
    )


# --- the command's library function and text form ------------------------------------------------


class QuotaRun(Struct):
    """Result of :func:`quota_for_paths`: one table per set of quota figures, and the load problems
    met on the way.

    Attributes:
        tables: (projects, table): the project roots whose deployments the table counts.
        problems: Load problems of every project.
    """

    tables: list[tuple[list[Path], QuotaTable]]
    problems: list[LoadProblem]

    @property
    def fatal(self) -> list[LoadProblem]:
        return [p for p in self.problems if p.fatal]

    @property
    def table(self) -> QuotaTable:
        """The table of a run with one set of quota figures (the first one otherwise)."""
        return self.tables[0][1]

    @property
    def over(self) -> bool:
        return any(table.over for _, table in self.tables)


def quota_for_paths(paths: Sequence[Path | str], *, quota: Path | None = None, root: Path | None = None,
                    config_file: Path | None = None) -> QuotaRun:
    """Load the az-ml YAML under ``paths`` and compute the quota tables: the library side of ``amlforge quota``.

    Files are grouped into projects as ``amlforge lint`` groups them
    (:class:`~amlforge.policies.settings.Resolver`: the nearest configuration and project root of
    each file). A project's quota file is ``quota``, else the ``quota`` key of its configuration,
    else the documented defaults. Projects with the same quota figures share one table, since
    they draw on the same quota: with ``quota`` (or ``--live``) given, that is every project.

    Raises:
        UserInputError: a path does not exist, holds nothing to read, or a quota file is invalid.
    """
    import os

    from amlforge.policies.config import build_config
    from amlforge.policies.settings import Resolver
    from amlforge.specs.loader import LoadOptions, load_project
    from amlforge.specs.quota import load_quota

    resolver = Resolver(config_file=config_file, root=root)
    given = [Path(p) for p in paths] or [Path(".")]
    found = resolver.files(given)
    by_figures: dict[Path | None, list[Project]] = {}
    problems: list[LoadProblem] = []
    options: dict[Path | None, dict[str, Any]] = {}
    shown: dict[Path | None, Path | None] = {}  # the quota file as the user or configuration wrote it
    for (project_root, _), files in resolver.group(found).items():
        cfg = resolver.config_for(Path(os.path.abspath(files[0][0])).parent)
        config = build_config(cfg.table, cfg.display, quota=quota, base_dir=cfg.path.parent if cfg.path else project_root,
                              folders={k: cfg.folder_of(k) for k in cfg.sources})
        result = load_project([p for p, _ in files], LoadOptions(root=project_root, profile=config.profile, files=files))
        problems.extend(result.problems)
        figures = Path(os.path.abspath(config.quota_file)) if config.quota_file is not None else None
        by_figures.setdefault(figures, []).append(result.project)
        shown.setdefault(figures, config.quota_file)
        options.setdefault(figures, {}).update(config.options)
    if not problems and not any(p.documents for group in by_figures.values() for p in group):
        load_project(given, LoadOptions(root=root))  # raises what it says for nothing to read
    tables = []
    for figures, projects in by_figures.items():
        project = projects[0] if len(projects) == 1 else _together(projects)
        project.options.update(options[figures])
        if figures is not None:
            project.quota = load_quota(shown[figures])
        tables.append(([p.root for p in projects], quota_table(project)))
    return QuotaRun(tables, problems)


def _together(projects: list[Project]) -> Project:
    """One project holding the documents of ``projects`` (that draw on the same quota)."""
    from amlforge.specs.project import Project

    out = Project(root=projects[0].root, profile=projects[0].profile)
    for p in projects:
        out.documents.extend(p.documents)
        out.endpoints.extend(p.endpoints)
        out.deployments.extend(p.deployments)
        out.environments.extend(p.environments)
        out.models.extend(p.models)
        out.instance_types.extend(p.instance_types)
    return out


def _columns(rows: list[tuple[str, ...]], indent: str = "") -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]


def render_text(table: QuotaTable) -> str:
    """The per-family table, the per-deployment arithmetic and the counted limits as plain text."""
    where = ", ".join(x for x in (f"subscription {table.subscription}" if table.subscription else "",
                                  f"region {table.region}" if table.region else "") if x)
    lines = [f"Quota figures: {table.source}" + (f" ({where})" if where else ""), ""]
    if table.families:
        rows = [("family", "SKUs", "deployments", "instances", "with 20% reserve", "reserved vCPUs", "available",
                 "limit", "usage", "status")]
        for f in table.families:
            dash = lambda v: "-" if v is None else str(v)
            rows.append((f.family, ", ".join(f.skus), str(len(f.uses)), str(f.instances), str(f.reserved_instances),
                         str(f.reserved_vcpus), dash(f.available), dash(f.quota.limit if f.quota else None),
                         dash(f.quota.usage if f.quota else None), f.status))
        lines.extend(_columns(rows))
        lines += ["", "Deployments (vCPUs reserved = ceil(1.2 x instance_count) x vCPUs, exempt SKUs n x vCPUs):"]
        lines.extend(_columns([(u.label, str(u.reserved_vcpus), u.arithmetic()) for f in table.families
                               for u in f.uses], "  "))
    else:
        lines.append("no managed deployments with a known instance_type")
    for s in table.skipped:
        lines.append(f"  not counted: {label(s.deployment)}: {s.reason}")
    lines += ["", "Limits (per subscription and region):"]
    rows = [(row.what, f"{row.count} in this run + {row.usage} in use = {row.count + row.usage} of {row.limit}",
             row.status) for row in (table.endpoints, table.deployments, table.total_compute)]
    rows += [(f"endpoint {e.endpoint}", f"{e.count} deployments of {e.limit}", e.status) for e in table.per_endpoint]
    lines.extend(_columns(rows, "  "))
    if any(f.status == GPU_DEFAULT_ZERO for f in table.families):
        lines += ["", ("GPU families start with 0 vCPUs of quota: request an increase, then pass the figures "
                       "with --quota FILE.")]
    if any(f.status == UNKNOWN for f in table.families):
        lines += ["", "Families without figures were not checked: pass --quota FILE with their limit and usage."]
    lines += ["", "OVER QUOTA" if table.over else "within quota" if all(f.status == OK for f in table.families)
              else "within the known limits"]
    return "\n".join(lines) + "\n"


__all__ = [
    "CountRow",
    "DeploymentUse",
    "EndpointRow",
    "FamilyRow",
    "QuotaRun",
    "QuotaTable",
    "Skipped",
    "quota_for_paths",
    "quota_table",
    "render_text",
]
