"""The README's Python examples run as written (the front door must stay true)."""

import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_python_block_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # gdlab.db, figures and stores land in a scratch directory
    code = BLOCKS[index]
    if "gdlab.db" in code and "runs_frame" in code:
        pytest.importorskip("pandas")
        import gdlab

        gdlab.run("logistic-max-margin", quick=True, seeds=1, store="gdlab.db")
    exec(compile(code, f"README.md python block {index}", "exec"), {})
