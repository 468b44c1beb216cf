"""``amlforge azure validate|what-if|deploy``: ask Azure Resource Manager about the ARM template.

Needs the optional extra: ``pip install 'amlforge[azure]'``. Nothing here is imported by
``amlforge lint``; the Azure SDK is imported only when one of these commands runs.
"""

from __future__ import annotations

import functools
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from amlforge.cli._common import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, handle_errors, verbose_option


def _options(f: Callable[..., Any]) -> Callable[..., Any]:
    """The options every subcommand shares."""
    decorators = [
        click.argument("source", metavar="SPEC_OR_TEMPLATE", type=click.Path(path_type=Path),
                       default="amlforge.yaml", required=False),
        click.option("--subscription", envvar="AZURE_SUBSCRIPTION_ID", show_envvar=True, metavar="ID",
                     help="Subscription id (default: target.subscription of amlforge.yaml)."),
        click.option("-g", "--resource-group", metavar="NAME",
                     help="Resource group to deploy to (default: target.resource_group of amlforge.yaml)."),
        click.option("-p", "--parameters", "parameters_file", type=click.Path(path_type=Path, dir_okay=False),
                     help="Parameters file (default: <template>.parameters.json beside the template, or the "
                          "parameters generated from the spec, which this file overrides)."),
        click.option("-n", "--deployment-name", metavar="NAME",
                     help="Name of the ARM deployment (default: amlforge-<UTC date-time>)."),
        click.option("--mode", type=click.Choice(["incremental", "complete"], case_sensitive=False),
                     default="incremental", show_default=True,
                     help="ARM deployment mode; complete deletes resources of the group the template does not name."),
        click.option("--arm-endpoint", metavar="URL",
                     help="Azure Resource Manager address (env AMLFORGE_ARM_ENDPOINT; default "
                          "https://management.azure.com; sovereign clouds and tests set their own)."),
        click.option("--max-retries", type=click.IntRange(0, 20), default=3, show_default=True,
                     help="Retries of one request after throttling (429, honouring Retry-After), a 5xx or a "
                          "broken connection, with azure-core's exponential backoff."),
        click.option("--poll-interval", type=click.FloatRange(0.01, 600), default=5.0, show_default=True,
                     help="Seconds between status polls when Azure sends no Retry-After."),
        verbose_option,
        click.option("--no-preflight", is_flag=True,
                     help="Skip the pre-flight reads (resource group, Microsoft.MachineLearningServices "
                          "registration, workspace) made before the ARM call; see docs/azure.md."),
    ]
    for decorator in reversed(decorators):
        f = decorator(f)
    return f


@click.group("azure", context_settings={"help_option_names": ["-h", "--help"]})
def command() -> None:
    """Validate, preview (what-if) and deploy the ARM template through Azure Resource Manager.

    SPEC_OR_TEMPLATE is amlforge.yaml (or its folder; the template is generated in memory) or an
    ARM template such as generated/arm/azuredeploy.json. Credentials come from
    DefaultAzureCredential (az login, a service principal in AZURE_CLIENT_ID / AZURE_TENANT_ID /
    AZURE_CLIENT_SECRET, a managed identity, ...). Needs: pip install 'amlforge[azure]'.
    See docs/azure.md.
    """


def _print_problems(problems: list[Any]) -> None:
    for p in problems:
        click.echo(f"{p.location}: error: {p.message}", err=True)
        if p.hint:
            click.echo(f"  hint: {p.hint}", err=True)


def _azure_command(func: Callable[..., Any]) -> Callable[..., Any]:
    """handle_errors, plus ARM's "no" (exit 1) and every problem of an invalid spec."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from amlforge.integrations.azure.errors import ArmRejected
        from amlforge.specs.project_spec import SpecError

        try:
            return func(*args, **kwargs)
        except SpecError as e:
            _print_problems(e.problems)
            sys.exit(EXIT_USAGE)
        except ArmRejected as e:
            if kwargs.get("fmt") == "json":
                click.echo(json.dumps({"ok": False, **e.to_dict()}, indent=2))
            for line in e.lines():
                click.echo(line if line.startswith(" ") else f"error: {line}", err=True)
            sys.exit(EXIT_FINDINGS)

    return handle_errors(wrapper)


def _prepare(source: Path, subscription: str | None, resource_group: str | None, parameters_file: Path | None,
             deployment_name: str | None, mode: str, arm_endpoint: str | None, max_retries: int,
             poll_interval: float) -> tuple[Any, Any]:
    from amlforge.integrations.azure import require
    from amlforge.integrations.azure.arm import Target, check_names, default_deployment_name, load_input
    from amlforge.integrations.azure.credentials import arm_endpoint as resolve_endpoint
    from amlforge.integrations.azure.preflight import target_region

    require("azure.core", "azure.mgmt.core", "azure.mgmt.resource.deployments", "azure.mgmt.resource.resources")
    endpoint = resolve_endpoint(arm_endpoint)
    dep = load_input(source, parameters_file)
    name = deployment_name or default_deployment_name()
    sub, rg = check_names(subscription or dep.subscription, resource_group or dep.resource_group, name)
    target = Target(sub, rg, name, endpoint, "Complete" if mode.lower() == "complete" else "Incremental",
                    max_retries, poll_interval, region=target_region(dep)[0] or "")
    return dep, target


def _preflight(dep: Any, target: Any, operation: str, skip: bool) -> None:
    """The pre-flight reads before the ARM call (docs/azure.md): a failed check exits 2, the rest are notes."""
    if skip:
        return
    from amlforge.integrations.azure.preflight import preflight

    report = preflight(dep, target, operation)
    if report.passed:
        click.echo(report.summary(), err=True)
    for note in report.notes:
        click.echo(f"note: {note}", err=True)


def _where(dep: Any, target: Any) -> str:
    return (f"{dep.source} -> resource group {target.resource_group} of subscription {target.subscription} "
            f"({target.endpoint})")


@command.command("validate")
@_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_azure_command
def validate_command(source: Path, subscription: str | None, resource_group: str | None,
                     parameters_file: Path | None, deployment_name: str | None, mode: str,
                     arm_endpoint: str | None, max_retries: int, poll_interval: float, no_preflight: bool,
                     fmt: str) -> None:
    """Ask ARM whether the template would be accepted (syntax, parameters, provider preflight).

    Nothing is created. Same as 'az deployment group validate'.

    Before the ARM call, pre-flight reads check that the resource group, the
    Microsoft.MachineLearningServices registration and the workspace are there (--no-preflight
    skips them; a read you may not make is a note, not an error).

    Exit codes: 0 valid, 1 ARM rejected the template, 2 the question could not be asked (bad
    input, no credentials or permission, unknown subscription or group, a failed pre-flight
    check, throttling, network).
    """
    from amlforge.integrations.azure.arm import deployments_client, validate

    dep, target = _prepare(source, subscription, resource_group, parameters_file, deployment_name, mode,
                           arm_endpoint, max_retries, poll_interval)
    click.echo(f"validating {_where(dep, target)}", err=True)
    _preflight(dep, target, "validate", no_preflight)
    with deployments_client(target) as client:
        result = validate(client, dep, target)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, **result.to_dict()}, indent=2))
    else:
        click.echo(f"valid: Azure Resource Manager accepts the template ({len(result.resources)} resources "
                   "validated)")
        for rid in result.resources:
            click.echo(f"  {rid}")
    sys.exit(EXIT_OK)


@command.command("what-if")
@_options
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_azure_command
def what_if_command(source: Path, subscription: str | None, resource_group: str | None,
                    parameters_file: Path | None, deployment_name: str | None, mode: str,
                    arm_endpoint: str | None, max_retries: int, poll_interval: float, no_preflight: bool,
                    fmt: str) -> None:
    """Show what deploying the template would change, per resource.

    + create, ~ modify (with the property diff), - delete (complete mode only), = no change,
    * ignore (resources of the group the template does not name, incremental mode),
    ! deploy (what-if cannot predict the properties). Nothing is changed.

    Pre-flight reads run first, as for validate (--no-preflight skips them).

    Exit codes: 0 shown, 1 ARM rejected the template, 2 the question could not be asked (a failed
    pre-flight check among others).
    """
    from amlforge.integrations.azure.arm import deployments_client, what_if

    dep, target = _prepare(source, subscription, resource_group, parameters_file, deployment_name, mode,
                           arm_endpoint, max_retries, poll_interval)
    click.echo(f"what-if {_where(dep, target)}", err=True)
    _preflight(dep, target, "what-if", no_preflight)
    with deployments_client(target) as client:
        summary = what_if(client, dep, target)
    if fmt == "json":
        click.echo(json.dumps({"ok": True, **summary.to_dict()}, indent=2))
    else:
        click.echo(summary.render_text(), nl=False)
    sys.exit(EXIT_OK)


def _lint_gate(dep: Any, projects: tuple[Path, ...]) -> None:
    """Lint the project; exit 1 with the findings when any is an error."""
    from amlforge.errors import UserInputError
    from amlforge.policies.registry import Severity

    if projects or dep.spec is None:
        paths = list(projects) or dep.lint_paths
        if not paths:
            raise UserInputError(
                f"deploy lints the project's az-ml YAML first, and none was found beside {dep.source}", None,
                "pass the az-ml YAML folder with --project PATH (a template generated by 'amlforge generate' "
                "finds its azureml/ folder by itself)")
        from amlforge.policies.engine import lint_paths

        shown = ", ".join(str(p) for p in paths)
        findings = lint_paths(paths).findings
    else:
        from amlforge.generators.pipeline import self_check

        shown = f"the az-ml YAML generated from {dep.source} (paths as if written to generated/)"
        findings = self_check(dep.inputs, dep.spec.folder, dep.spec.folder / "generated")
    errors = [f for f in findings if f.fatal or f.severity == Severity.ERROR]
    for f in findings:
        click.echo(f"{f.location}: {f.severity.value} {f.rule} {f.message}")
        if f.hint:
            click.echo(f"  hint: {f.hint}")
    if errors:
        n = len(errors)
        click.echo(f"refused: lint found {n} error{'s' if n != 1 else ''} in {shown}; nothing was deployed "
                   "(fix them, then run again)", err=True)
        sys.exit(EXIT_FINDINGS)
    warnings = len(findings)
    click.echo(f"lint: no errors in {shown}" + (f" ({warnings} other finding{'s' if warnings != 1 else ''})"
                                                if warnings else ""), err=True)


@command.command("deploy")
@_options
@click.option("--project", "projects", multiple=True, type=click.Path(path_type=Path),
              help="az-ml YAML to lint before deploying (default: the spec's generated YAML, or the azureml/ "
                   "folder beside a generated template). Repeatable.")
@click.option("--timeout", type=click.FloatRange(1, 6 * 3600), default=3600.0, show_default=True,
              help="Seconds to wait for the deployment; past it amlforge stops waiting (the deployment goes on).")
@_azure_command
def deploy_command(source: Path, subscription: str | None, resource_group: str | None,
                   parameters_file: Path | None, deployment_name: str | None, mode: str,
                   arm_endpoint: str | None, max_retries: int, poll_interval: float, no_preflight: bool,
                   projects: tuple[Path, ...], timeout: float) -> None:
    """Lint the project, then create or update the ARM deployment and follow it to the end.

    Refuses to deploy (exit 1, nothing sent to Azure) when lint finds errors. Pre-flight reads
    then run as for validate (--no-preflight skips them). Progress is printed while ARM runs the
    deployment.

    Exit codes: 0 deployed, 1 lint found errors, ARM rejected the template, or the deployment
    failed; 2 the question could not be asked (bad input, no credentials or permission, unknown
    subscription or group, a failed pre-flight check, throttling, network, --timeout passed).
    """
    from amlforge.integrations.azure.arm import deploy, deployments_client

    dep, target = _prepare(source, subscription, resource_group, parameters_file, deployment_name, mode,
                           arm_endpoint, max_retries, poll_interval)
    _lint_gate(dep, projects)
    uploads = sorted(p for p in (dep.template.get("parameters") or {}) if p.startswith(("codeUri_", "modelUri_")))
    if uploads:
        click.echo(f"note: ARM cannot upload files: the folders of {', '.join(uploads)} must already be at their "
                   "URIs (see docs/generate.md)", err=True)
    click.echo(f"deploying '{target.deployment_name}': {_where(dep, target)}", err=True)
    _preflight(dep, target, "deploy", no_preflight)
    state = {"last": "", "at": -1e9}

    def progress(status: str, seconds: float) -> None:
        if status != state["last"] or seconds - state["at"] >= 30:
            click.echo(f"  {status} ({int(seconds)} s)", err=True)
            state["last"], state["at"] = status, seconds

    started = time.monotonic()
    with deployments_client(target) as client:
        result = deploy(client, dep, target, timeout=timeout, progress=progress, tick=min(poll_interval, 5.0))
    click.echo(f"deployed: '{target.deployment_name}' {result.state or 'Succeeded'} in "
               f"{int(time.monotonic() - started)} s ({len(result.resources)} resources)")
    for rid in result.resources:
        click.echo(f"  {rid}")
    for key, value in result.outputs.items():
        click.echo(f"  output {key} = {json.dumps(value)}")
    sys.exit(EXIT_OK)

