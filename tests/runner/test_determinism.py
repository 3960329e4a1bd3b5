"""Bit-identical reruns across processes: the same config and seed give the same numbers.

Cross-process, because some LAPACK paths (MKL's gelsy) vary from one process to the next on
identical inputs while being repeatable inside one process.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from gdlab.store import Store

_MIN_NORM = """
import hashlib, torch
from gdlab.theory import min_norm_solution
torch.set_num_threads(1)
g = torch.Generator().manual_seed(0)
x = torch.relu(torch.randn(100, 90, generator=g, dtype=torch.float64))  # the RF case that varied
y = torch.randn(100, generator=g, dtype=torch.float64)
wide = torch.randn(50, 120, generator=g, dtype=torch.float64)
sols = [min_norm_solution(x, y), min_norm_solution(wide, y[:50])]
print(hashlib.sha256(b"".join(s.numpy().tobytes() for s in sols)).hexdigest())
"""


def _fresh(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_min_norm_solution_is_bit_identical_across_processes():
    assert len({_fresh(_MIN_NORM) for _ in range(4)}) == 1


@pytest.mark.slow
def test_whole_catalog_reruns_bit_identical_in_fresh_processes(tmp_path):
    stores = [tmp_path / "a.db", tmp_path / "b.db"]
    for db in stores:
        subprocess.run([sys.executable, "-m", "gdlab.cli.main", "run", "all", "--quick",
                        "--seeds", "1", "--store", str(db), "--no-progress"], check=True,
                       capture_output=True)
    values = []
    for db in stores:
        with Store(str(db)) as st:
            values.append({r.phenomenon: json.dumps(r.values, sort_keys=True)
                           for r in st.runs() if r.status == "done"})
    assert values[0].keys() == values[1].keys() and len(values[0]) > 0
    differ = [name for name in values[0] if values[0][name] != values[1][name]]
    assert not differ, f"not bit-identical across processes: {differ}"
