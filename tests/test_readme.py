"""The README's catalog table lists exactly the registered phenomena, in catalog order."""

import pathlib
import re

import gdlab.phenomena as ph

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_catalog_matches_registry():
    text = README.read_text()
    block = text.split("<!-- catalog-table")[1].split("<!-- end catalog-table -->")[0]
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", block, flags=re.M)
    assert listed == ph.names(), f"README lists {listed}, registry has {ph.names()}"


def test_readme_gives_the_ci_test_command():
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in README.read_text() and "make test" in ci
