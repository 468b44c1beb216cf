"""amlforge: generate and validate Azure ML online endpoint infrastructure before deploying it.

The package is organised as a pipeline (see README "Architecture"):

* :mod:`amlforge.specs` - typed models of endpoints, deployments, environments and the loader
  that reads az-ml YAML into them with a source map (file, line, column of every value).
* :mod:`amlforge.policies` - the rule catalog: pure functions from a loaded project to findings.
* :mod:`amlforge.reporters` - findings to text, JSON, SARIF, JUnit, GitHub annotations.
* :mod:`amlforge.generators` + :mod:`amlforge.templates` - artifacts from a project spec.
* :mod:`amlforge.integrations` - the outside world (conda-lock, the inference server, ARM, git),
  each behind one small module.
* :mod:`amlforge.cli` - a thin command-line layer over the library functions.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
