"""Measure amlforge on a real-world corpus of az-ml online files (issue 13).

Usage:
    python bench/measure_realworld.py CORPUS_DIR [--judgments FILE] [--json OUT]

CORPUS_DIR holds ``corpus/<owner>__<repo>/<original path>`` and ``manifest.json``:
``{"repos": {"owner/repo": {"commit": ..., "license_file": ...}},
   "files": [{"repo": ..., "path": ..., "role": "yaml"|"ref", "azml": "deployment"|...|null}]}``.
Files whose ``azml`` is set are the az-ml files a folder run must classify.

It lints each repository folder as a user would (``amlforge lint corpus/<owner>__<repo>``),
loads every az-ml file with the official azure-ai-ml loaders (and their pre-send checks, as
tests/oracles/test_azureml_loaders.py does), and prints:

- crashes (exceptions), repository folders refused as a whole (exit 2), and az-ml files unreadable (a fatal finding or AML002) or not classified;
- error and warning findings on the files azure-ai-ml accepts, per file;
- with ``--judgments`` (``{"<owner>__<repo>/<path>:<line>:<rule>": {"verdict": "real"|"false"|
  "debatable", "why": "..."}}``): how many errors were judged real, how many warnings false.

These are measurements, not tests: nothing here asserts.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import os
import sys
import traceback
import warnings
from pathlib import Path
from typing import Any

warnings.filterwarnings("ignore")
logging.getLogger("azure").setLevel(logging.CRITICAL)


def sdk_load(path: Path, kind: str, cli: list[dict] | None = None) -> Any:
    """Load with azure-ai-ml and run its pre-send checks; raises what the SDK raises.

    ``cli`` are the values ``az ml ... --name/--endpoint-name`` would pass (params_override).
    """
    import azure.ai.ml as aml

    cli = cli or []
    if kind == "endpoint":
        obj = aml.load_online_endpoint(path, params_override=cli)
        obj._to_rest_online_endpoint(location="westeurope")
    elif kind == "deployment":
        obj = aml.load_online_deployment(path, params_override=cli)
        obj._to_rest_object(location="westeurope")
        if obj.environment is not None and not isinstance(obj.environment, str):
            obj.environment.validate()
    elif kind == "environment":
        obj = aml.load_environment(path)
        obj.validate()
    else:
        obj = aml.load_model(path)
    return obj


def key_of(corpus: Path, finding: dict) -> str:
    rel = os.path.relpath(os.path.abspath(finding["path"]), corpus / "corpus")
    return f"{rel}:{finding['line']}:{finding['rule']}"


def measure(root: Path, judgments: dict[str, dict]) -> dict[str, Any]:
    from amlforge.errors import UserInputError
    from amlforge.policies.engine import lint_paths

    manifest = json.loads((root / "manifest.json").read_text())
    corpus = root / "corpus"
    azml = {
        f"{f['repo'].replace('/', '__')}/{f['path']}": f["azml"]
        for f in manifest["files"]
        if f.get("azml") and "omitted" not in f
    }
    findings: list[dict] = []
    classified: set[str] = set()
    crashes: list[str] = []
    usage_errors: list[str] = []
    cwd = os.getcwd()
    os.chdir(root)
    try:
        for repo in sorted(manifest["repos"]):
            folder = Path("corpus") / repo.replace("/", "__")
            try:
                report = lint_paths([folder], root=folder)
            except UserInputError as e:  # exit 2, as the CLI reports it: not a crash
                usage_errors.append(str(e).splitlines()[0])
                continue
            except Exception:  # noqa: BLE001 - a crash is what we count
                crashes.append(f"{folder}: {traceback.format_exc(limit=3)}")
                continue
            findings.extend(f.to_dict() | {"fatal": f.fatal} for f in report.findings)
            for doc in report.project.documents if report.project else []:
                classified.add(os.path.relpath(os.path.abspath(doc.path), corpus.absolute()))
    finally:
        os.chdir(cwd)
    for f in findings:
        f["key"] = os.path.relpath(os.path.abspath(root / f["path"]), corpus.absolute()) + f":{f['line']}:{f['rule']}"
        f["file"] = f["key"].rsplit(":", 2)[0]

    unreadable = sorted({f["file"] for f in findings if (f["fatal"] or f["rule"] == "AML002") and f["file"] in azml})
    skipped = sorted(set(azml) - classified)
    accepted, rejected, with_cli = [], {}, []
    for rel, kind in sorted(azml.items()):
        try:
            sdk_load(corpus / rel, kind)
            accepted.append(rel)
            continue
        except Exception as e:  # noqa: BLE001 - the SDK's verdict is what we record
            first = e
        # The documented use passes the names on the command line
        # (az ml online-endpoint create -n NAME, az ml online-deployment create -e ENDPOINT):
        # accepted with them counts as accepted (listed in accepted_with_cli_names).
        import yaml

        try:
            data = yaml.safe_load((corpus / rel).read_text())
            names = ["name", "endpoint_name"] if kind == "deployment" else ["name"]
            cli = [{k: f"cli-{k.replace('_', '-')}"} for k in names if isinstance(data, dict) and k not in data]
            if not cli:
                raise first
            sdk_load(corpus / rel, kind, cli)
            accepted.append(rel)
            with_cli.append(rel)
        except Exception:  # noqa: BLE001
            msg = " ".join(str(first).split())
            rejected[rel] = f"{type(first).__name__}: {msg[:220]}"

    # Findings "on" an accepted file: at it, or at a file it references (conda file, score.py)
    # that no rejected az-ml file references as well. Simpler and stricter: a finding counts for
    # the accepted set when its file is an accepted az-ml file or not an az-ml file at all.
    acc = set(accepted)
    rej = set(rejected)
    on_accepted = [f for f in findings if f["file"] in acc or (f["file"] not in rej and f["file"] not in azml)]
    errors = [f for f in on_accepted if f["severity"] == "error"]
    warns = [f for f in on_accepted if f["severity"] == "warning"]

    def verdicts(items: list[dict]) -> collections.Counter:
        return collections.Counter(judgments.get(f["key"], {}).get("verdict", "unjudged") for f in items)

    ev, wv = verdicts(errors), verdicts(warns)
    return {
        "repos": len(manifest["repos"]),
        "files_in_corpus": sum(1 for f in manifest["files"] if "omitted" not in f),
        "azml_files": len(azml),
        "azml_files_by_kind": dict(collections.Counter(azml.values())),
        "crashes": crashes,
        "usage_errors": usage_errors,
        "unreadable_azml_files": unreadable,
        "skipped_azml_files": skipped,
        "sdk_accepted": len(accepted),
        "sdk_accepted_with_cli_names": len(with_cli),
        "sdk_rejected": rejected,
        "findings_total": len(findings),
        "errors_on_accepted": len(errors),
        "errors_per_accepted_file": round(len(errors) / max(1, len(accepted)), 3),
        "error_verdicts": dict(ev),
        "errors_judged_real_pct": round(100 * ev["real"] / max(1, len(errors)), 1),
        "warnings_on_accepted": len(warns),
        "warning_verdicts": dict(wv),
        "warnings_judged_false_pct": round(100 * wv["false"] / max(1, len(warns)), 1),
        "errors_by_rule": dict(collections.Counter(f["rule"] for f in errors).most_common()),
        "warnings_by_rule": dict(collections.Counter(f["rule"] for f in warns).most_common()),
        "findings": findings,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--judgments", type=Path)
    ap.add_argument("--json", type=Path, help="write every figure and finding here")
    args = ap.parse_args()
    judgments = json.loads(args.judgments.read_text()) if args.judgments else {}
    result = measure(args.corpus.resolve(), judgments)
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, sort_keys=True))
    summary = {k: v for k, v in result.items() if k != "findings"}
    json.dump(summary, sys.stdout, indent=1, sort_keys=True)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
