"""``amlforge import PATH``: existing az-ml YAML, or azure-ai-ml Python and notebooks -> amlforge.yaml."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from amlforge.cli._common import EXIT_USAGE, handle_errors


@click.command("import")
@click.argument("folder", type=click.Path(path_type=Path), default=Path("."), required=False)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Spec to write (default: FOLDER/amlforge.yaml; '-' prints it).")
@click.option("--workspace", default=None, help="target.workspace (default: a placeholder).")
@click.option("--resource-group", default=None, help="target.resource_group (default: a placeholder).")
@click.option("--region", default=None, help="target.region (default: westeurope).")
@click.option("--subscription", default=None, help="target.subscription (optional).")
@click.option("--profile", type=click.Choice(["dev", "test", "prod"]), default=None, help="target.profile.")
@click.option("--parameters", type=click.Path(path_type=Path, dir_okay=False), default=None, metavar="FILE",
              help="Parameter values of ARM, Bicep or Terraform input (parameters JSON, .bicepparam, .tfvars).")
@click.option("--force", is_flag=True, help="Overwrite an existing spec.")
@handle_errors
def command(folder: Path, output: Path | None, workspace: str | None, resource_group: str | None,
            region: str | None, subscription: str | None, profile: str | None, parameters: Path | None,
            force: bool) -> None:
    """Convert the az-ml endpoint, deployment, environment and model YAML under FOLDER into amlforge.yaml.

    FOLDER may also be (or hold) ARM templates, Bicep files or Terraform files with azapi resources
    (their parameter values from --parameters FILE or the template's own parameters file).

    FOLDER may also be (or hold) a .py file or a notebook that builds azure-ai-ml entities: the
    spec then holds what the code deploys (values known only at run time are left out, and listed).
    """
    from amlforge.cli.generate import print_problems
    from amlforge.errors import Location, UserInputError
    from amlforge.generators.importer import default_target, import_project
    from amlforge.generators.spec_yaml import render_spec
    from amlforge.generators.writer import write_atomic
    from amlforge.specs.project_spec import SpecError

    target = default_target()
    given = {"workspace": workspace, "resource_group": resource_group, "region": region,
             "subscription": subscription, "profile": profile}
    target.update({k: v for k, v in given.items() if v is not None})
    out = output if output is not None else (folder if folder.is_dir() else folder.parent) / "amlforge.yaml"
    to_stdout = str(out) == "-"
    if not to_stdout and out.exists() and not force:
        raise UserInputError("the spec exists", Location(str(out)), "pass --force to overwrite it, or -o another file")
    notes: list[str] = []
    try:
        spec = import_project(folder, spec_folder=Path(".") if to_stdout else out.parent, target=target, notes=notes,
                              parameters=parameters)
    except SpecError as e:
        print_problems(e.problems)
        sys.exit(EXIT_USAGE)
    placeholders = [k for k in ("workspace", "resource_group") if given[k] is None]
    note = ("target holds placeholders: set " + " and ".join(placeholders) + " before generating ARM or Bicep"
            if placeholders else "")
    for line in notes:
        click.echo(f"note: {line}", err=True)
    text = render_spec(spec, note=f"Imported from {folder}. {note}".strip())
    if to_stdout:
        click.echo(text, nl=False)
        return
    write_atomic(out, text)
    counts = f"{len(spec.endpoints)} endpoint(s), {sum(len(e.deployments) for e in spec.endpoints.values())} deployment(s)"
    click.echo(f"wrote {out}: {counts}", err=True)
    if note:
        click.echo(f"note: {note}", err=True)
