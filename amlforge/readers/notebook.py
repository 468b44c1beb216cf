"""The notebook reader: the code cells of a ``.ipynb``, read as one Python source, never run.

The notebook is JSON (read with the standard library, up to :data:`MAX_NOTEBOOK_BYTES`; outputs
are never looked at, so embedded images cost only their bytes). The code cells are joined, in
order, into one text whose lines remember their cell, their line in the cell and their line in
the ``.ipynb`` file (``SourceMap.cells``); each cell is parsed on its own and fed to the Python
reader's :class:`~amlforge.readers.python_sdk.Extractor`, so names bound in one cell are known
in the cells after it. IPython syntax is skipped, not reported: line magics (``%pip ...``),
shell lines (``!az ...``, ``x = !ls``) are blanked, and a cell magic (``%%bash``) skips its cell
(``%%time`` and ``%%capture`` keep the Python below them). A notebook whose kernel is not Python
is skipped.

Cells are numbered from 1, counting every cell (markdown ones too), as a reader counts them
from the top of the notebook.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

from amlforge._regex import LazyPattern
from amlforge.errors import Location, UserInputError
from amlforge.readers.base import LoadOptions, LoadProblem, Reader, ReadResult
from amlforge.readers.python_sdk import ENTITIES, Extractor, mentions_sdk, not_sdk_source
from amlforge.specs.source import SourceMap, read_text

#: Largest notebook read. Outputs (plots, images) make notebooks large; the cap bounds the JSON parse.
MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
#: Cell magics whose body is Python.
_PYTHON_CELL_MAGICS = {"time", "timeit", "capture", "prun", "python", "python3", "debug"}
_SHELL_ASSIGN = LazyPattern(r"^\s*[A-Za-z_][\w, ]*=\s*[!%]")
_SOURCE_KEY = LazyPattern(r'"source"\s*:\s*')
_ENTITY_WORDS = LazyPattern("|".join(sorted(ENTITIES)) + r"|load_online_|azure\.ai\.ml")


def _cell_text(cell: dict[str, Any]) -> list[str]:
    source = cell.get("source", "")
    if isinstance(source, list):
        text = "".join(s for s in source if isinstance(s, str))
    elif isinstance(source, str):
        text = source
    else:
        text = ""
    return text.split("\n") if text else []


def python_lines(lines: list[str]) -> list[str] | None:
    """A code cell's lines with IPython syntax blanked; ``None`` for a cell that is not Python
    (``%%bash``, ``%%sql``, ...)."""
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return None
        lines = [""] + lines[1:]
    out = []
    for line in lines:
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")) or _SHELL_ASSIGN.match(line) or (
                stripped.endswith("?") and not stripped.startswith("#") and "(" not in stripped):
            out.append("")
        else:
            out.append(line)
    return out


def _file_lines(raw: str, cells: list[Any]) -> list[list[int]]:
    """For each cell, the line in the ``.ipynb`` text of each of its source lines (0 when the
    JSON is not laid out one source string per line, as Jupyter writes it)."""
    out: list[list[int]] = []
    cursor = 0
    counted, line_at = 0, 1  # lines are counted from the last match on, once through the text
    for cell in cells:
        count = len(_cell_text(cell)) if isinstance(cell, dict) else 0
        m = _SOURCE_KEY.search(raw, cursor) if isinstance(cell, dict) and "source" in cell else None
        if m is None:
            out.append([0] * count)
            continue
        cursor = m.end()
        line_at += raw.count("\n", counted, m.start())
        counted = m.start()
        line0 = line_at  # 1-based line of "source":
        source = cell.get("source")
        mapped = [line0] * count
        if isinstance(source, list) and raw[m.end():m.end() + 1] == "[":
            # Jupyter writes one source string per line, the first on the line after '['; compact
            # JSON has no newline there (searching the rest of the text per cell was quadratic)
            at = raw.find("\n", m.end(), m.end() + 8)
            for k, piece in enumerate(source[:count] if at >= 0 else ()):
                end = raw.find("\n", at + 1)
                if at < 0:
                    break
                try:
                    shown = json.loads(raw[at + 1:end if end >= 0 else None].strip().rstrip(","))
                except ValueError:
                    break
                if shown != piece:
                    break
                mapped[k] = line0 + 1 + k
                at = end
        out.append(mapped)
    return out


class NotebookReader(Reader):
    """Jupyter notebooks (``.ipynb``) whose Python code cells build azure-ai-ml entities."""

    name = "notebook"
    suffixes = (".ipynb",)

    def read(self, path: Path, display: str, explicit: bool, options: LoadOptions) -> ReadResult:
        result = ReadResult()
        try:
            in_memory = options.overlay.text(path) if options.overlay is not None else None
            raw = read_text(path, display, max(options.max_file_bytes, MAX_NOTEBOOK_BYTES)) \
                if in_memory is None else in_memory
        except UserInputError as e:
            if explicit or "larger than" in e.message:
                code = "AML004" if "larger than" in e.message else "AML001"
                message = e.message.replace("configuration files", "notebooks")
                result.problems.append(LoadProblem(
                    code, e.location or Location(display), message,
                    "clear the notebook's outputs (jupyter nbconvert --clear-output) to make it smaller"
                    if code == "AML004" else e.hint, fatal=True))
            result.skipped = e.message
            return result
        if not mentions_sdk(raw):
            result.skipped = "does not use azure-ai-ml"
            if explicit:
                result.problems.append(not_sdk_source(display, "it does not use azure-ai-ml"))
            return result
        try:
            nb = json.loads(raw)
        except (ValueError, RecursionError) as e:
            line, col = (e.lineno, e.colno) if isinstance(e, json.JSONDecodeError) else (1, 1)
            result.problems.append(LoadProblem(
                "AML006", Location(display, line, col),
                f"invalid notebook: not valid JSON ({e.msg if isinstance(e, json.JSONDecodeError) else e})",
                "open and save the notebook in Jupyter, or fix the JSON at this position", fatal=True))
            result.skipped = "not valid JSON"
            return result
        cells = nb.get("cells") if isinstance(nb, dict) else None
        if not isinstance(cells, list):
            if explicit:
                result.problems.append(LoadProblem(
                    "AML005", Location(display, 1, 1), "not a Jupyter notebook (nbformat 4): it has no 'cells' list",
                    "pass notebooks saved by Jupyter 4 or later", fatal=True))
            result.skipped = "not an nbformat 4 notebook"
            return result
        language = _language(nb)
        if language and language != "python":
            result.skipped = f"the notebook's kernel language is {language}, not Python"
            if explicit:
                result.problems.append(not_sdk_source(display, result.skipped))
            return result
        return self._read_cells(path, display, explicit, options, raw, cells, result)

    def _read_cells(self, path: Path, display: str, explicit: bool, options: LoadOptions, raw: str,
                    cells: list[Any], result: ReadResult) -> ReadResult:
        size = sum(len(line) + 1 for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"
                   for line in _cell_text(c))
        if size > options.max_file_bytes:  # the code, not the outputs, is what is read: as a .py file is
            result.problems.append(LoadProblem(
                "AML004", Location(display, 1, 1),
                f"the notebook's code cells hold {size / 1_048_576:.1f} MiB of text, more than the "
                f"{options.max_file_bytes / 1_048_576:.0f} MiB limit for Python sources",
                "move the deployment code into a smaller notebook or a .py file", fatal=True))
            result.skipped = "code cells too large"
            return result
        file_lines = _file_lines(raw, cells)
        lines: list[str] = []
        line_map: list[tuple[int, int, int]] = []
        parts: list[tuple[int, list[str], int]] = []  # (cell number, its lines, offset in lines)
        for number, cell in enumerate(cells, start=1):
            if not isinstance(cell, dict) or cell.get("cell_type") != "code":
                continue
            source = _cell_text(cell)
            code = python_lines(source)
            if code is None:
                continue
            offset = len(lines)
            for k, text in enumerate(code):
                lines.append(text)
                line_map.append((number, k + 1, file_lines[number - 1][k] if k < len(file_lines[number - 1]) else 0))
            parts.append((number, code, offset))
        smap_args = {"lines": lines, "cells": line_map}
        probe = SourceMap(display, **smap_args)
        extractor = Extractor(path, display, options, lines)
        extractor.locate = probe.position  # type: ignore[method-assign]  # positions are in cells
        for number, code, offset in parts:
            text = "\n".join(code)
            try:
                module = ast.parse(text)
            except (SyntaxError, ValueError) as e:
                if explicit or _ENTITY_WORDS.search(text):
                    line = getattr(e, "lineno", None) or 1
                    col = getattr(e, "offset", None) or 1
                    where = probe.position(offset + min(line, max(1, len(code))), col)
                    msg = e.msg if isinstance(e, SyntaxError) else str(e)
                    result.problems.append(LoadProblem(
                        "AML006", where, f"invalid Python in cell {number}: {msg}",
                        "fix the cell; IPython magics (%pip, !az) are skipped, other IPython syntax is not read"))
                continue
            except (RecursionError, MemoryError):  # CPython's parser gives up on very deep nesting either way
                result.problems.append(LoadProblem("AML003", probe.position(offset + 1, 1),
                                                   f"cell {number} nests too deeply to parse", "flatten the expression"))
                continue
            try:
                extractor.run(module, offset)
            except RecursionError:
                result.problems.append(LoadProblem("AML003", probe.position(offset + 1, 1),
                                                   f"cell {number} nests too deeply to read", "flatten the expression"))
        result.problems.extend(extractor.problems)
        result.documents = extractor.documents(lambda: SourceMap(display, **smap_args), explicit)
        if not result.documents:
            result.skipped = "builds no azure-ai-ml online endpoint, deployment, environment or model"
            if explicit and not result.problems:
                result.problems.append(not_sdk_source(display, "it builds no online endpoint, deployment, "
                                                               "environment or model"))
        return result


def _language(nb: dict[str, Any]) -> str | None:
    meta = nb.get("metadata")
    if not isinstance(meta, dict):
        return None
    for key in ("kernelspec", "language_info"):
        info = meta.get(key)
        if isinstance(info, dict):
            lang = info.get("language") if key == "kernelspec" else info.get("name")
            if isinstance(lang, str) and lang:
                return lang.lower()
    return None


READER = NotebookReader()

__all__ = ["MAX_NOTEBOOK_BYTES", "NotebookReader", "READER", "python_lines"]
