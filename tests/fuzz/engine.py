"""The fuzz campaign: mutate the shipped examples, run amlforge on them in-process, and check
that every run fails safely.

A run is *safe* when amlforge exits 0, 1 or 2 (never 3, never an uncaught exception), finishes
within the per-input time limit, and every message line it prints is located
(``file:line:col: ...``), with no raw control, bidi or zero-width character in it.

Seeds are the files of ``examples/``: az-ml YAML (endpoints, deployments, models), conda files,
``score.py`` scripts and ``amlforge.yaml`` specs; and for each other reader, its sources: the ARM,
Bicep and Terraform that ``amlforge generate`` writes from the examples' specs plus the readers'
hand-written template fixtures, and the azure-ai-ml Python of ``tests/fuzz/seeds/sdk`` (also as
notebooks). These get mutations of their own syntax (``syntax.py``) besides the generic ones. Each input takes one seed file and applies one
to three mutations (keys deleted and duplicated, types swapped, huge numbers, NaN/inf, long
strings, control/bidi/zero-width characters, YAML tags, anchors and merge keys, deep nesting,
truncation, byte flips, BOM/CRLF/tabs). The mutated file is written over its copy in a scratch
copy of its example, and ``amlforge lint`` (for a spec, also ``amlforge generate`` now and then)
runs on that example in this process.

Run ``python -m tests.fuzz`` (``make fuzz``) for the full campaign; the tests run a fixed-seed
sample. Everything is deterministic for a given ``--seed``.
"""

from __future__ import annotations

import collections
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.syntax import SENTINEL, m_bicep, m_hcl, m_json, m_notebook, m_sdk

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

#: A message line: ``path:line:col: ...`` (findings and errors alike).
_LOCATED = re.compile(r"^.+?:\d+:\d+: ")
#: Characters that must never reach a report raw: C0/C1 controls (tab and newline are line
#: structure), bidi overrides and isolates, zero-width characters, lone surrogates.
_RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_SUMMARY = ("Found ", "All checks passed", "  hint: ", "hint: ", "[*] ", "No fixes available", "Fixed ",
            # the run-level warning of a folder that holds nothing to lint (README, exit codes)
            "warning: no az-ml online endpoint, deployment, environment or model found")


class FuzzTimeout(BaseException):
    """Raised in the main thread when one input runs past the time limit (not an Exception,
    so that amlforge's own error handling cannot swallow it)."""


@dataclass(frozen=True)
class Seed:
    kind: str  # azml | conda | score | spec | arm | bicep | terraform | sdk | notebook
    example: Path  # the example folder it belongs to
    rel: str  # its path inside the example
    data: bytes


@dataclass
class Outcome:
    index: int
    seed: Seed
    mutations: list[str]
    data: bytes
    command: list[str]
    exit_code: int | None = None
    output: str = ""
    seconds: float = 0.0
    problem: str = ""  # empty when the run was safe


@dataclass
class Campaign:
    inputs: int = 0
    exit_codes: collections.Counter = field(default_factory=collections.Counter)
    crashes: list[Outcome] = field(default_factory=list)
    hangs: list[Outcome] = field(default_factory=list)
    unlocated: list[Outcome] = field(default_factory=list)
    slowest: Outcome | None = None
    by_kind: collections.Counter = field(default_factory=collections.Counter)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Outcome]:
        return self.crashes + self.hangs + self.unlocated

    def summary(self) -> str:
        hist = ", ".join(f"{code}: {n}" for code, n in sorted(self.exit_codes.items(), key=lambda kv: str(kv[0])))
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.by_kind.items()))
        lines = [
            f"inputs run: {self.inputs} ({kinds}) in {self.seconds:.1f} s",
            f"exit codes: {hist}",
            f"crashes (exit 3 / uncaught exception): {len(self.crashes)}",
            f"hangs (over the time limit): {len(self.hangs)}",
            f"messages without file:line:col or with raw control characters: {len(self.unlocated)}",
        ]
        if self.slowest is not None:
            s = self.slowest
            lines.append(f"slowest input: #{s.index} {s.seed.example.name}/{s.seed.rel} "
                         f"[{', '.join(s.mutations)}] {s.seconds * 1000:.0f} ms")
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Seeds


def load_seeds(examples: Path = EXAMPLES) -> list[Seed]:
    seeds = []
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        for path in sorted(folder.rglob("*")):
            if not path.is_file():
                continue
            rel = path.relative_to(folder).as_posix()
            name = path.name
            if name in ("amlforge.yaml", "amlforge.yml"):
                kind = "spec"
            elif name == "score.py":
                kind = "score"
            elif name.endswith((".yml", ".yaml")):
                text = path.read_text(encoding="utf-8", errors="replace")
                kind = "conda" if re.search(r"^dependencies:", text, re.M) else "azml"
                if "quota" in name:
                    continue
            else:
                continue
            seeds.append(Seed(kind, folder, rel, path.read_bytes()))
    return seeds + reader_seeds(examples)


SEEDS = Path(__file__).resolve().parent / "seeds"
_READER_KINDS = ("arm", "bicep", "terraform", "sdk", "notebook")
READER_FIXTURES = ROOT / "tests" / "readers" / "fixtures"
_SCRATCH: list[Path] = []


def _scratch() -> Path:
    if not _SCRATCH:
        _SCRATCH.append(Path(tempfile.mkdtemp(prefix="amlforge-fuzz-seeds-")))
        import atexit

        atexit.register(shutil.rmtree, _SCRATCH[0], True)
    return _SCRATCH[0]


def _notebook(source: str) -> bytes:
    """The Python as a Jupyter notebook: one code cell per top-level block, a markdown cell first."""
    import json

    cells = [{"cell_type": "markdown", "metadata": {}, "source": ["# Deploy\n"]}]
    for block in re.split(r"\n\n(?=\S)", source):
        cells.append({"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
                      "source": block.splitlines(keepends=True)})
    nb = {"cells": cells, "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
          "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(nb, indent=1).encode()


def reader_seeds(examples: Path = EXAMPLES) -> list[Seed]:
    """Seeds of the readers other than az-ml YAML (see the module docstring). The templates are
    generated anew by ``amlforge generate`` (in this process) into a scratch folder."""
    from click.testing import CliRunner

    from amlforge.cli import cli

    seeds = []
    runner = CliRunner()
    for spec in sorted(examples.glob("*/amlforge.yaml")):
        out = _scratch() / "generated" / spec.parent.name
        if not out.exists():
            done = runner.invoke(cli, ["generate", str(spec), "-o", str(out), "--only", "arm,bicep,terraform"])
            assert done.exit_code == 0, done.output
        for path in sorted(out.rglob("*")):
            kind = {".json": "arm", ".bicep": "bicep", ".tf": "terraform"}.get(path.suffix)
            if kind and not path.name.endswith(".parameters.json"):
                seeds.append(Seed(kind, out, path.relative_to(out).as_posix(), path.read_bytes()))
    for path in sorted((READER_FIXTURES / "arm").glob("endpoint.json")) + sorted((READER_FIXTURES / "bicep").glob("main.bicep")):
        seeds.append(Seed(path.parent.name, path.parent, path.name, path.read_bytes()))
    sdk = SEEDS / "sdk"
    notebooks = _scratch() / "notebooks"
    if not notebooks.exists():
        shutil.copytree(sdk, notebooks)
        for path in sorted(notebooks.glob("*.py")):
            path.with_suffix(".ipynb").write_bytes(_notebook(path.read_text()))
            path.unlink()
    for path in sorted(sdk.glob("*.py")):
        seeds.append(Seed("sdk", sdk, path.name, path.read_bytes()))
    for path in sorted(notebooks.glob("*.ipynb")):
        seeds.append(Seed("notebook", notebooks, path.name, path.read_bytes()))
    return seeds


# ---------------------------------------------------------------------------------------------
# Mutations: each takes (rng, text) and returns the new text (str), or bytes for byte-level ones.

_WEIRD_CHARS = ["\x00", "\x01", "\x07", "\x1b[31m", "\x7f", "\x85", "\u202e", "\u2066", "\u200b", "\u200d",
                "\ufeff", "\u2028", "\r", "\x0c", "\t", "\ud800"]
_TAG_VALUES = ["!!int abc", "!!bool maybe", "!!float x", "!!str 12", "!!int 0x", "!!null x", "!!binary ###",
               "!!timestamp nope", "!custom 3", "!!python/object:os.system ls", "!!set {a: 1}", "!!omap [a: 1]",
               "!!int 1_000", "!!float .nan", "!!map [1]", "!!seq {a: 1}", "!<tag:yaml.org,2002:int> z"]
_NUMBERS = ["1" * 5000, "9" * 4301, "-" + "7" * 6000, "1e999999", "-1e400", ".nan", ".inf", "-.inf", "NaN",
            "0x" + "f" * 5000, "0o777777777777777777777777", "1_0", "1e-400", "18446744073709551617", "-0",
            "0b" + "1" * 10000, "1" * 4300, "123456789012345678901234567890.5"]


def _lines(text: str) -> list[str]:
    return text.split("\n")


def _key_lines(lines: list[str]) -> list[int]:
    return [i for i, line in enumerate(lines) if re.match(r"^\s*(?:- )?[A-Za-z_$][\w$.-]*:", line)]


def m_delete_key(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    keys = _key_lines(lines)
    if not keys:
        return text
    i = rng.choice(keys)
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    return "\n".join(lines[:i] + lines[j:])


def m_duplicate_key(rng: random.Random, text: str) -> str:
    lines = _lines(text)
    keys = _key_lines(lines)
    if not keys:
        return text
    i = rng.choice(keys)
    indent = len(lines[i]) - len(lines[i].lstrip())
    j = i + 1
    while j < len(lines) and (not lines[j].strip() or len(lines[j]) - len(lines[j].lstrip()) > indent):
        j += 1
    block = lines[i:j]
    return "\n".join(lines[:j] + block + lines[j:])


def _replace_value(rng: random.Random, text: str, new: Callable[[str], str]) -> str:
    lines = _lines(text)
    cands = [i for i, line in enumerate(lines) if re.match(r"^\s*(?:- )?[^#\s][^:#]*:\s+\S", line)
             or re.match(r"^\s*- \S", line)]
    if not cands:
        return text
    i = rng.choice(cands)
    m = re.match(r"^(\s*(?:- )?[^#\s][^:#]*:\s+)(.*)$", lines[i]) or re.match(r"^(\s*- )(.*)$", lines[i])
    assert m is not None
    lines[i] = m.group(1) + new(m.group(2))
    return "\n".join(lines)


def m_swap_type(rng: random.Random, text: str) -> str:
    options = ["[1, 2]", "{a: 1}", "42", "-3", "true", "null", "''", '"x"', "3.5", "[]", "{}", "~", "yes", "0o17"]
    return _replace_value(rng, text, lambda _old: rng.choice(options))


def m_huge_number(rng: random.Random, text: str) -> str:
    return _replace_value(rng, text, lambda _old: rng.choice(_NUMBERS))


def m_long_string(rng: random.Random, text: str) -> str:
    unit = rng.choice(["A", "a", "Standard_", "x-", "{{", "[", "aA", "\\", "é", "💥", "a ", "_"])
    n = rng.choice([300, 5000, 80_000])
    return _replace_value(rng, text, lambda old: (unit * (n // len(unit)))[:n] if rng.random() < 0.7 else old + unit * n)


def m_weird_chars(rng: random.Random, text: str) -> str:
    if not text:
        return rng.choice(_WEIRD_CHARS)
    for _ in range(rng.randint(1, 4)):
        pos = rng.randrange(len(text) + 1)
        text = text[:pos] + rng.choice(_WEIRD_CHARS) + text[pos:]
    return text


def m_yaml_tag(rng: random.Random, text: str) -> str:
    return _replace_value(rng, text, lambda old: rng.choice(_TAG_VALUES) if rng.random() < 0.7 else f"!!str {old}")


def m_anchor_merge(rng: random.Random, text: str) -> str:
    choice = rng.randrange(5)
    if choice == 0:
        return "base: &b {a: 1, b: [1, 2]}\n" + text + "\n<<: *b\n"
    if choice == 1:
        return text + "\nx: &a [*a]\n"  # an alias to itself: undefined, or recursive
    if choice == 2:  # an alias bomb
        bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(7))
        return bomb + text
    if choice == 3:
        return _replace_value(rng, text, lambda _old: rng.choice(["*undefined", "&x 1", "{<<: [1, 2]}", "<<", "*"]))
    return text + "\n<<: {name: merged, instance_count: 9}\n"


def m_deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice([70, 200, 2000, 20_000])
    flow = rng.choice([("[" * depth + "]" * depth), ("{a: " * depth + "1" + "}" * depth),
                       "".join(" " * i + "k:\n" for i in range(min(depth, 300)))])
    if rng.random() < 0.5:
        return _replace_value(rng, text, lambda _old: flow if not flow.startswith(" ") else "\n" + flow)
    return text + "\nnested: " + flow + "\n"


def m_truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)] if text else text


def m_byte_flip(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    if not buf:
        return bytes([rng.randrange(256)])
    for _ in range(rng.randint(1, 8)):
        buf[rng.randrange(len(buf))] = rng.randrange(256)
    return bytes(buf)


def m_bom_crlf_tabs(rng: random.Random, text: str) -> str:
    choice = rng.randrange(4)
    if choice == 0:
        return "\ufeff" + text
    if choice == 1:
        return text.replace("\n", "\r\n")
    if choice == 2:
        return text.replace("  ", "\t", rng.randint(1, 5))
    return text.replace("\n", "\r")


def m_python(rng: random.Random, text: str) -> str:
    """score.py-specific: odd but parseable-looking Python."""
    choice = rng.randrange(7)
    if choice == 0:
        return text + "\nx = " + "(" * 5000 + ")" * 5000 + "\n"
    if choice == 1:
        return text + "\nx = " + "1" * 5000 + "\n"
    if choice == 2:
        return text + "\nimport " + "a." * 2000 + "b\n"
    if choice == 3:
        return text.replace("def init", "async def init").replace("def run", "def run2")
    if choice == 4:
        return text + "\ndef f():\n" + "".join("    " * (i + 1) + "if x:\n" for i in range(120)) + "    " * 121 + "pass\n"
    if choice == 5:
        return "# -*- coding: latin-1 -*-\n" + text
    return text + "\nx = '" + "\u202e" + "'\nimport \u0430bc\n"


TEXT_MUTATIONS: dict[str, Callable[[random.Random, str], str]] = {
    "delete-key": m_delete_key,
    "duplicate-key": m_duplicate_key,
    "swap-type": m_swap_type,
    "huge-number": m_huge_number,
    "long-string": m_long_string,
    "weird-chars": m_weird_chars,
    "yaml-tag": m_yaml_tag,
    "anchor-merge": m_anchor_merge,
    "deep-nesting": m_deep_nesting,
    "truncate": m_truncate,
    "bom-crlf-tabs": m_bom_crlf_tabs,
}
BYTE_MUTATIONS: dict[str, Callable[[random.Random, bytes], bytes]] = {"byte-flip": m_byte_flip}


_SYNTAX: dict[str, Callable[[random.Random, str], str]] = {
    "python": m_python, "json": m_json, "bicep": m_bicep, "hcl": m_hcl, "sdk": m_sdk,
    "notebook": lambda rng, text: m_notebook(rng, text, m_python)}
_GENERIC = ["weird-chars", "long-string", "truncate", "byte-flip", "bom-crlf-tabs", "huge-number"]
#: Mutations by seed kind (az-ml YAML, conda files and specs take every generic one); the
#: readers' seeds get their own syntax's about half the time.
_POOLS = {
    "score": ["python", "python", *_GENERIC, "huge-number"],
    "sdk": ["sdk", "sdk", "sdk", "python", "python", *_GENERIC],
    "notebook": ["notebook"] * 5 + ["json", *_GENERIC],
    "arm": ["json"] * 6 + _GENERIC,
    "bicep": ["bicep"] * 6 + _GENERIC,
    "terraform": ["hcl"] * 6 + _GENERIC,
}


def mutate(rng: random.Random, seed: Seed) -> tuple[bytes, list[str]]:
    names: list[str] = []
    data = seed.data
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
        pool = _POOLS.get(seed.kind, list(TEXT_MUTATIONS) + list(BYTE_MUTATIONS))
        name = rng.choice(pool)
        names.append(name)
        if name in BYTE_MUTATIONS:
            data = BYTE_MUTATIONS[name](rng, data)
            continue
        text = data.decode("utf-8", "surrogateescape")
        func = _SYNTAX.get(name) or TEXT_MUTATIONS[name]
        text = func(rng, text)
        data = text.encode("utf-8", "surrogateescape") if "\ud800" not in text else text.replace(
            "\ud800", "\udcff").encode("utf-8", "surrogateescape")
    return data, names


# ---------------------------------------------------------------------------------------------
# Running one input


def _command(rng: random.Random, seed: Seed, work: Path, out: Path) -> list[str]:
    if seed.kind == "spec":
        spec = str(work / seed.rel)
        roll = rng.random()
        if roll < 0.25:
            return ["generate", spec, "-o", str(out)]
        if roll < 0.35:
            return ["generate", spec, "-o", str(out), "--check"]
        return ["lint", spec]
    fmt = rng.choice(["text"] * 6 + ["github", "json", "sarif", "junit"])
    if seed.kind in _READER_KINDS and rng.random() < 0.5:
        return ["lint", str(work / seed.rel), "--format", fmt]  # named: read even where a walk would skip it
    return ["lint", str(work), "--format", fmt]


#: Status lines of ``amlforge generate`` (not messages about the input).
_GENERATE_STATUS = ("wrote ", "note: ", "refused: ")


def check_output(output: str, fmt: str, command: list[str] | None = None) -> str:
    """The first problem with a run's output, or ''."""
    if "Traceback (most recent call last)" in output:
        return "traceback in the output"
    bad = _RAW.search(output)
    if bad is not None:
        return f"raw character U+{ord(bad.group(0)):04X} in the output"
    if fmt != "text":
        return ""
    command = command or []
    if "--check" in command:
        return ""  # a unified diff of generated files follows the messages
    generate = bool(command) and command[0] == "generate"
    for line in output.splitlines():
        if not line.strip() or line.startswith(_SUMMARY) or (generate and line.startswith(_GENERATE_STATUS)):
            continue
        if not _LOCATED.match(line):
            return f"message without file:line:col: {line[:200]!r}"
    return ""


class Runner:
    """Runs inputs against scratch copies of the examples, in this process."""

    def __init__(self, time_limit: float = 10.0) -> None:
        self.time_limit = time_limit
        self.tmp = Path(tempfile.mkdtemp(prefix="amlforge-fuzz-"))
        self.copies: dict[Path, Path] = {}
        from click.testing import CliRunner

        from amlforge.cli import cli

        self.cli = cli
        self.runner = CliRunner()

    def close(self) -> None:
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _copy(self, example: Path) -> Path:
        if example not in self.copies:
            dest = self.tmp / "work" / example.name
            if dest.exists():  # examples/kubernetes and its generated templates' folder, generated/kubernetes
                dest = self.tmp / "work" / f"{example.parent.name}-{example.name}"
            shutil.copytree(example, dest, ignore=shutil.ignore_patterns(".generated*"))
            self.copies[example] = dest
        return self.copies[example]

    def run(self, index: int, rng: random.Random, seed: Seed) -> Outcome:
        data, names = mutate(rng, seed)
        work = self._copy(seed.example)
        out = self.tmp / "out"
        shutil.rmtree(out, ignore_errors=True)
        args = _command(rng, seed, work, out)
        outcome = Outcome(index, seed, names, data, args)
        target = work / seed.rel
        target.write_bytes(data)
        fmt = args[args.index("--format") + 1] if "--format" in args else "text"

        def on_alarm(signum: int, frame: object) -> None:
            raise FuzzTimeout()

        previous = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, self.time_limit)
        start = time.perf_counter()
        try:
            result = self.runner.invoke(self.cli, args, catch_exceptions=True, env={"AMLFORGE_DEBUG": "1",
                                                                                     "NO_COLOR": "1"})
            signal.setitimer(signal.ITIMER_REAL, 0)
            outcome.seconds = time.perf_counter() - start
            outcome.exit_code = result.exit_code
            outcome.output = result.output
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                outcome.exit_code = 3
                outcome.output += "".join(traceback.format_exception(result.exception))
                outcome.problem = f"uncaught {type(result.exception).__name__}: {str(result.exception)[:200]}"
            elif result.exit_code not in (0, 1, 2):
                outcome.problem = f"exit {result.exit_code}"
            elif SENTINEL.exists():
                outcome.exit_code = 3
                outcome.problem = "uncaught execution: the input's code ran (it wrote the sentinel file)"
            else:
                outcome.problem = check_output(result.output, fmt, args)
        except FuzzTimeout:
            outcome.seconds = time.perf_counter() - start
            outcome.exit_code = None
            outcome.problem = f"hang: over {self.time_limit:.0f} s"
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            target.write_bytes(seed.data)
            SENTINEL.unlink(missing_ok=True)
        return outcome


def campaign(count: int, seed: int = 0, *, time_limit: float = 10.0, kinds: tuple[str, ...] = (),
             progress: Callable[[int, Outcome], None] | None = None, keep: Path | None = None) -> Campaign:
    """Run ``count`` mutated inputs (deterministic for ``seed``) and collect the results."""
    seeds = [s for s in load_seeds() if not kinds or s.kind in kinds]
    by_kind: dict[str, list[Seed]] = collections.defaultdict(list)
    for s in seeds:
        by_kind[s.kind].append(s)
    order = sorted(by_kind)
    runner = Runner(time_limit)
    result = Campaign()
    start = time.perf_counter()
    # a watchdog for hangs the alarm cannot interrupt (a C loop that never checks signals)
    stop = threading.Event()
    last = [time.monotonic()]

    def watchdog() -> None:
        while not stop.wait(1.0):
            if time.monotonic() - last[0] > time_limit * 6:
                sys.stderr.write(f"fuzz: input stuck for over {time_limit * 6:.0f} s; aborting\n")
                os._exit(4)

    threading.Thread(target=watchdog, daemon=True).start()
    try:
        for i in range(count):
            rng = random.Random(seed * 1_000_003 + i)
            kind = order[i % len(order)]
            s = rng.choice(by_kind[kind])
            last[0] = time.monotonic()
            o = runner.run(i, rng, s)
            result.inputs += 1
            result.by_kind[kind] += 1
            result.exit_codes[o.exit_code if o.exit_code is not None else "hang"] += 1
            if result.slowest is None or o.seconds > result.slowest.seconds:
                result.slowest = o
            if o.problem:
                if o.problem.startswith("hang"):
                    result.hangs.append(o)
                elif o.exit_code not in (0, 1, 2) or o.problem.startswith("uncaught"):
                    result.crashes.append(o)
                else:
                    result.unlocated.append(o)
                if keep is not None:
                    keep.mkdir(parents=True, exist_ok=True)
                    (keep / f"{i:06d}-{s.example.name}-{s.rel.replace('/', '_')}").write_bytes(o.data)
            if progress is not None:
                progress(i, o)
    finally:
        stop.set()
        runner.close()
    result.seconds = time.perf_counter() - start
    return result


def describe(o: Outcome) -> str:
    tail = "\n".join(o.output.strip().splitlines()[-6:])
    return (f"#{o.index} {o.seed.example.name}/{o.seed.rel} [{', '.join(o.mutations)}] "
            f"amlforge {' '.join(a if len(a) < 80 else a[:77] + '...' for a in o.command)}: {o.problem}\n{tail}")


def iter_failures(c: Campaign) -> Iterator[str]:
    for o in c.failures:
        yield describe(o)
