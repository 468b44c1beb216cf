"""Readers: one per source form, each turning source files into az-ml-shaped documents.

The contract (``base.Reader``) is small: a reader claims files by name, and ``read`` returns
:class:`~amlforge.specs.project.Document` objects whose data has the shape of the az-ml YAML of
the same resource and whose :class:`~amlforge.specs.source.SourceMap` points into the original
file (the line and column of the ``.py``, the notebook cell, the ``.bicep``, the ``.tf``). A value
a reader cannot know statically is recorded in ``SourceMap.unknown``; rules never see findings
located at an unknown value (``policies/engine.py``), so they never guess with it.

The loader (``specs/loader.py``) only chooses a reader for each file and builds the ``Project``.
Reader modules are imported on first use, so that a run that reads YAML imports only the YAML
reader.
"""

from amlforge.readers.base import ReadResult, Reader, Unknown, claimed, reader_for, reader_names

__all__ = ["ReadResult", "Reader", "Unknown", "claimed", "reader_for", "reader_names"]
