"""The reference site builds warning-free, with a page for every registry record.

Runs ``python -m sphinx -W -b html docs OUT`` into a temporary directory (the
command of the README and CI, with the output elsewhere), or reads the site
that FASTACT_DOCS_HTML names (.ci/run builds it with that command first). Skips when Sphinx
or the docs extra is not installed (``pip install -e ".[docs]"``), or when the
repository's docs/ is not there (the installed wheel is tested without it).
"""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

import fastact
from fastact import ufuncs

DOCS = Path(__file__).resolve().parent.parent / "docs"

pytestmark = [
    pytest.mark.skipif(not (DOCS / "conf.py").exists(), reason="no docs/ next to the tests"),
    pytest.mark.skipif(importlib.util.find_spec("sphinx") is None,
                       reason='Sphinx is not installed (pip install -e ".[docs]")'),
    pytest.mark.skipif(importlib.util.find_spec("myst_parser") is None,
                       reason='myst-parser is not installed (pip install -e ".[docs]")'),
    pytest.mark.skipif(importlib.util.find_spec("matplotlib") is None,
                       reason='matplotlib draws the plots (pip install -e ".[docs]")'),
]


def _sphinx(builder, out):
    return subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", builder,
         "-d", str(out / ".doctrees"), str(DOCS), str(out / builder)],
        capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    built = os.environ.get("FASTACT_DOCS_HTML")         # .ci/run builds the site first
    if built and (Path(built) / "index.html").exists():
        return Path(built)
    out = tmp_path_factory.mktemp("site")
    run = _sphinx("html", out)
    assert run.returncode == 0, f"sphinx -W failed:\n{run.stdout}\n{run.stderr}"
    assert "WARNING" not in run.stderr and "ERROR" not in run.stderr, run.stderr
    return out / "html"


def test_every_record_has_a_page(site):
    for name, rec in fastact.activations().items():
        html = (site / "reference" / f"{name}.html").read_text(encoding="utf-8")
        for text in (f"{name}_backward", "Formula", "Derivative", "Edge rules", "Accuracy",
                     "Speed", "Example"):
            assert text in html, f"{name}.html lacks {text!r}"
        assert (site / "_images" / f"{name}.png").exists(), f"no plot for {name}"
        catalogue = (site / "reference" / "index.html").read_text(encoding="utf-8")
        assert f'href="{name}.html"' in catalogue, f"{name} is not in the catalogue"


def test_pages_of_the_site(site):
    for page in ("index", "user_guide", "api", "accuracy", "performance", "threads",
                 "reference/index", "reference/ufuncs"):
        assert (site / f"{page}.html").exists(), page
    for optional in ("design", "semantics"):         # included when someone wrote them
        if (DOCS / f"{optional}.md").exists() or (DOCS / f"{optional}.rst").exists():
            assert (site / f"{optional}.html").exists(), optional


def test_every_ufunc_is_listed(site):
    html = (site / "reference" / "ufuncs.html").read_text(encoding="utf-8")
    for name in ufuncs.UFUNCS:
        assert f'id="fastact.ufuncs.{name}"' in html, name


@pytest.mark.slow
def test_examples_run(tmp_path):
    """The user guide's and the function pages' examples (sphinx.ext.doctest)."""
    run = _sphinx("doctest", tmp_path)
    assert run.returncode == 0, (tmp_path / "doctest" / "output.txt").read_text(encoding="utf-8")
