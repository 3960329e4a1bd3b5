"""The n = 20 000, width 512, depth 3 empirical NTK fits in 24 GiB (issue 3), in a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

RAM_LIMIT_GIB = 24.0  # the machine's memory, the bound

_SCRIPT = textwrap.dedent("""
    import json, resource, time, torch
    from torch import nn
    from gdlab.probes import empirical_ntk
    torch.manual_seed(0)
    w = 512
    model = nn.Sequential(nn.Linear(64, w), nn.ReLU(), nn.Linear(w, w), nn.ReLU(),
                          nn.Linear(w, w), nn.ReLU(), nn.Linear(w, 1))
    x = torch.randn(20_000, 64)
    t0 = time.perf_counter()
    k = empirical_ntk(model, x)
    secs = time.perf_counter() - t0
    idx = torch.tensor([0, 7, 4_999, 12_345, 19_999])
    ref = empirical_ntk(model.double(), x[idx].double(), x[idx.flip(0)].double(), method="jacobian")
    err = ((k[idx][:, idx.flip(0)].double() - ref).abs().max() / ref.abs().max()).item()
    print(json.dumps(dict(shape=list(k.shape), seconds=secs, rel_err=err,
                          peak_gib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
                          symmetric=bool(torch.equal(k, k.T)))))
""")


@pytest.mark.slow
def test_n20000_width512_depth3_fits_in_memory():
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    print(res)
    assert res["shape"] == [20_000, 20_000] and res["symmetric"]
    assert res["rel_err"] < 1e-4  # float32 kernel vs float64 Jacobian contraction on 25 entries
    # 1.6 GB for the kernel itself; the blocks add at most MEMORY_BUDGET_BYTES (2 GiB).
    assert res["peak_gib"] < RAM_LIMIT_GIB
