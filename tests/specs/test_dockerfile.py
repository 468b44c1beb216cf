"""Dockerfiles of build contexts, read with dockerfile-parse (the real parser)."""

from __future__ import annotations

from pathlib import Path

import pytest

from amlforge.specs.dockerfile import parse_dockerfile
from amlforge.specs.source import read_text


def _parse(text: str, context: Path | None = None):
    return parse_dockerfile(Path("Dockerfile"), "Dockerfile", text, context)


def test_from_with_arg_default_and_stages() -> None:
    d = _parse("ARG BASE=mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest\n"
               "FROM ${BASE} AS build\nRUN echo\nFROM build\nFROM --platform=linux/amd64 python:3.11-slim\n")
    assert [(b.image, b.alias, b.location.line, b.location.column) for b in d.images] == [
        ("mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest", "build", 2, 6),
        ("build", "", 4, 6),
        ("python:3.11-slim", "", 5, 29)]
    assert [b.image for b in d.external_images()] == [
        "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest", "python:3.11-slim"]


def test_an_arg_without_default_stays_unresolved() -> None:
    d = _parse("ARG BASE\nFROM ${BASE}\n")
    assert d.images[0].unresolved and d.external_images() == []


def test_pip_installs_with_options_continuations_and_requirement_files(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("numpy==1.26.4\n")
    d = _parse("FROM python:3.11\n"
               "RUN pip install --no-cache-dir -i https://pypi.example/simple a==1 \\\n"
               "    'b>=2' -r /tmp/requirements.txt && echo done\n"
               "RUN python3 -m pip install -U c --target=/opt ./local.whl .\n"
               "RUN pip install -r missing.txt\n", tmp_path)
    assert [(p.name, p.spec, p.location.line, p.location.column) for p in d.pip.pip] == [
        ("a", "==1", 2, 63), ("b", ">=2", 3, 6), ("c", "", 4, 31)]
    assert d.requirement_files == [tmp_path / "requirements.txt"]
    assert d.missing_requirement_files == ["missing.txt"]


def test_expose_ports() -> None:
    d = _parse("FROM x\nEXPOSE 5001 8080/tcp\n")
    assert [(p, loc.column) for p, loc in d.exposed] == [(5001, 8), (8080, 13)]


@pytest.mark.parametrize("text", ["", "FROM", "RUN pip install 'unterminated\n", "\x00\x01", "FROM a\nRUN \\\n"])
def test_odd_dockerfiles_never_raise(text: str) -> None:
    d = _parse(text)
    assert d.problem or d.images is not None


def test_the_real_parser_agrees_on_the_base_image(tmp_path: Path) -> None:
    from dockerfile_parse import DockerfileParser

    text = "ARG V=3.11\nFROM python:${V}-slim\n"
    (tmp_path / "Dockerfile").write_text(text)
    assert DockerfileParser(str(tmp_path)).baseimage == _parse(read_text(tmp_path / "Dockerfile", "Dockerfile")).images[0].image
