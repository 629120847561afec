"""Sphinx configuration of fastact's reference site.

Build (from the repository's top, after ``pip install -e ".[docs]"``)::

    python -m sphinx -W -b html docs docs/_build/html

The page of every activation, the catalogue and the ufunc table are
generated from the registry by ``_ext/fastact_registry.py`` into
``docs/reference/`` (not committed); nothing here names an activation.
"""
from __future__ import annotations

import importlib.util
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

import fastact  # noqa: E402  (the site documents the installed, built package)
from fastact_registry import PRINTOPTIONS  # noqa: E402

project = "fastact"
author = "the fastact developers"
copyright = "the fastact developers"          # noqa: A001 (Sphinx's name)
release = version = fastact.__version__

extensions = [
    "myst_parser",              # the Markdown pages (accuracy, performance, threads, ...)
    "sphinx.ext.autodoc",       # the helpers' docstrings (api.rst)
    "sphinx.ext.napoleon",      # ... which are numpy-style
    "sphinx.ext.doctest",       # `python -m sphinx -b doctest docs DIR` runs the examples
    "fastact_registry",         # one page per registry record, plots, the ufunc table
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "Thumbs.db", ".DS_Store"]
templates_path: list[str] = []

# furo when it is installed (the docs extra has it), Sphinx's default otherwise.
html_theme = "furo" if importlib.util.find_spec("furo") else "alabaster"
html_title = f"fastact {release}"
html_static_path: list[str] = []
html_show_sourcelink = False

myst_heading_anchors = 3
suppress_warnings = ["myst.header"]          # the pages keep their own heading levels

autodoc_member_order = "bysource"
autodoc_default_options = {"undoc-members": False}
napoleon_google_docstring = False
napoleon_numpy_docstring = True

# sphinx.ext.doctest: the examples of the user guide and of each function page
# (doctest directives); the illustrative >>> lines of module docstrings are not run.
doctest_test_doctest_blocks = ""
# Their outputs were printed with the extension's PRINTOPTIONS; missing(module)
# skips an example whose library is not installed (under -b doctest only).
doctest_global_setup = f"""
import numpy as np
import fastact as fa
from fastact_registry import missing
np.set_printoptions(**{PRINTOPTIONS!r})
"""
