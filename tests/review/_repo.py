"""A real git repository in a temporary folder, for review tests (git runs for real, never mocked)."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "HOME": os.environ.get("HOME", "/tmp")}
for _name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
    _ENV.pop(_name, None)


class Repo:
    """``git init`` in ``path`` with a local identity; write files, commit, run git."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "user.email", "review-tests@example.com")
        self.git("config", "user.name", "Review Tests")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str) -> str:
        proc = subprocess.run(["git", *args], cwd=self.path, capture_output=True, text=True, env=_ENV, check=True)
        return proc.stdout.strip()

    def write(self, rel: str, text: str) -> Path:
        target = self.path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        return target

    def remove(self, rel: str) -> None:
        (self.path / rel).unlink()

    def commit(self, message: str) -> str:
        self.git("add", "-A")
        self.git("commit", "-q", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD")


_FILE = re.compile(r"^`([^`]+)`( \(deleted\))?\s*$")
_FENCE = re.compile(r"^```[a-z]*\s*$")


def parse_case(text: str) -> dict[str, object]:
    """A review fixture: ``## base`` and ``## head`` sections of ``\\`path\\``` + fenced file contents
    (``\\`path\\` (deleted)`` deletes a file at head), and an ``## expected`` JSON block."""
    sections: dict[str, list[str]] = {}
    current = "intro"
    for line in text.splitlines():
        if line.startswith("## "):
            current = line[3:].strip()
            sections[current] = []
        else:
            sections.setdefault(current, []).append(line)
    out: dict[str, object] = {}
    for name in ("base", "head"):
        files: dict[str, str | None] = {}
        lines = sections.get(name, [])
        i = 0
        while i < len(lines):
            m = _FILE.match(lines[i])
            if m:
                if m.group(2):
                    files[m.group(1)] = None
                    i += 1
                    continue
                j = i + 1
                while not _FENCE.match(lines[j]):
                    j += 1
                k = j + 1
                while lines[k].strip() != "```":
                    k += 1
                files[m.group(1)] = "\n".join(lines[j + 1:k]) + "\n"
                i = k + 1
            else:
                i += 1
        out[name] = files
    expected = sections.get("expected")
    if expected is not None:
        body = "\n".join(expected)
        start, end = body.index("```json") + len("```json"), body.rindex("```")
        out["expected"] = body[start:end].strip()
    return out
