"""Generators: pure functions from the project spec to the text of each artifact.

Nothing here is imported by ``amlforge lint`` (``writer`` aside), so keep this file free of imports.

* :mod:`.inputs` reads what the generators need from disk (conda files and their locks), once;
* :mod:`.azureml_yaml`, :mod:`.arm`, :mod:`.bicep`, :mod:`.dockerfile` render one target each
  (``render_<artifact>(inputs, ...) -> str``, ``generate_<target>(inputs) -> {path: text}``),
  through the templates in ``amlforge/templates`` and the escaping filters of :mod:`._render`;
  :mod:`.resources` is the resource model ARM and Bicep share;
* :mod:`.pipeline` is ``amlforge generate``: render, self-check with the lint policies, write;
* :mod:`.importer` (``amlforge import``), :mod:`.spec_yaml` and :mod:`.scaffold` (``amlforge init``)
  go the other way, to ``amlforge.yaml``;
* :mod:`.writer` is the one place amlforge writes files.
"""
