"""Write constraints.txt from ``pip freeze`` of the test environment made with several Pythons.

``make test`` installs amlforge with ``-c constraints.txt``. A freeze made with one Python does
not install on an older one: some pinned releases (rpds-py 2026.9.1, hypothesis 6.170, regex
2026.12 ...) require Python 3.11, and Python 3.10 needs packages that 3.11 does not (tomli,
exceptiongroup). So the file is the freeze of the newest-baseline Python (for it and every later
one), and for each older Python its own pins, told apart by environment markers::

    rpds-py==2026.9.1 ; python_version > "3.10"
    rpds-py==0.30.0 ; python_version == "3.10"
    click==8.5.1

Run: ``python tools/constraints.py 3.11=freeze-3.11.txt 3.10=freeze-3.10.txt > constraints.txt``
(the first pair is the baseline, pinned for every Python above the older ones; ``make
constraints`` does it all).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

HEADER = ("# pip freeze of the test environment ('make constraints'); 'make' installs with -c constraints.txt.\n"
          "# Made with Python {main}; where an older Python needs other pins, the lines marked with its\n"
          "# version are the freeze made with it, and those marked {newer} are {main}'s (tools/constraints.py).\n")


def read_freeze(path: Path) -> dict[str, tuple[str, str]]:
    """Normalised name -> (name as written, version) of a ``pip freeze`` output."""
    out: dict[str, tuple[str, str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "==" not in line:
            continue
        name, version = (part.strip() for part in line.split("==", 1))
        out[re.sub(r"[-_.]+", "-", name).lower()] = (name, version)
    return out


def merge(main_version: str, main: dict[str, tuple[str, str]], older: dict[str, dict[str, tuple[str, str]]]) -> str:
    """The constraints text: a plain pin when every Python has the same one, else one pin per Python."""
    newer = f'python_version > "{max(older, key=_key)}"' if older else ""
    lines = []
    for key in sorted(set(main) | {k for freeze in older.values() for k in freeze}):
        pins = {version: freeze[key] for version, freeze in older.items() if key in freeze}
        if key in main and all(pin[1] == main[key][1] for pin in pins.values()) and len(pins) == len(older):
            lines.append(f"{main[key][0]}=={main[key][1]}")
            continue
        if key in main:
            lines.append(f"{main[key][0]}=={main[key][1]} ; {newer}")
        for version, (name, pinned) in sorted(pins.items(), key=lambda kv: _key(kv[0])):
            lines.append(f'{name}=={pinned} ; python_version == "{version}"')
    return HEADER.format(main=main_version, newer=newer) + "\n".join(lines) + "\n"


def _key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("."))


def main(argv: list[str]) -> int:
    pairs = []
    for arg in argv:
        version, sep, path = arg.partition("=")
        if not sep or not re.fullmatch(r"3\.\d+", version):
            print(f"usage: {sys.argv[0]} 3.11=FREEZE [3.10=FREEZE ...] (bad argument {arg!r})", file=sys.stderr)
            return 2
        pairs.append((version, Path(path)))
    if not pairs:
        print(f"usage: {sys.argv[0]} 3.11=FREEZE [3.10=FREEZE ...]", file=sys.stderr)
        return 2
    (main_version, main_path), rest = pairs[0], pairs[1:]
    if any(_key(v) >= _key(main_version) for v, _ in rest):
        print("the first freeze must be of the newest Python: the others are pinned for their version only",
              file=sys.stderr)
        return 2
    sys.stdout.write(merge(main_version, read_freeze(main_path), {v: read_freeze(p) for v, p in rest}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
