"""``code_configuration``: the scoring code directory and entry script."""

from __future__ import annotations

from pydantic import Field

from amlforge.specs._base import SpecModel


class CodeConfiguration(SpecModel):
    """Where the scoring script lives."""

    code: str | None = Field(None, description="Local directory (relative to the YAML) or azureml: code asset.")
    scoring_script: str = Field(
        description="Entry script, relative to code; defines init() and run().", min_length=1
    )


__all__ = ["CodeConfiguration"]
