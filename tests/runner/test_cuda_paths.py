"""``--device cuda`` from the runner to the tensors (skipped without a CUDA device).

The device is part of a run: it is checked when plans are made, reaches the phenomenon as
``ctx.device``, is hashed into the config key and recorded in the store.
"""

from __future__ import annotations

import pytest
import torch

import gdlab.phenomena as ph
from gdlab.runner import make_plans, run
from gdlab.runner.execute import execute
from gdlab.store import Store

pytestmark = pytest.mark.cuda


def test_device_reaches_the_phenomenon_and_the_store(toys, db):
    cpu = run("toy-gd", seeds=2, store=db)
    gpu = run("toy-gd", seeds=2, store=db, device="cuda")
    assert gpu.reused == 0  # another device is another run
    with Store(db) as st:
        assert {st.get_run(i).device for i in gpu.run_ids} == {"cuda"}
    for a, b in zip(cpu.measurements, gpu.measurements, strict=True):
        assert b.status == "done"
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-9)


def test_batched_seeds_on_cuda(toys, db):
    cpu = run("toy-ensemble", seeds=3, store=db)
    gpu = run("toy-ensemble", seeds=3, store=db, device="cuda")
    for a, b in zip(cpu.measurements, gpu.measurements, strict=True):
        assert b["final_loss"] == pytest.approx(a["final_loss"], rel=1e-9)


def test_numbered_device_is_checked():
    with pytest.raises(ValueError, match="no CUDA device"):
        make_plans("logistic-max-margin", device=f"cuda:{torch.cuda.device_count()}")


@pytest.mark.parametrize("name", ph.names())
def test_every_catalog_phenomenon_computes_on_cuda(name):
    """Each phenomenon's quick run, one seed, on the GPU: it completes and uses the GPU."""
    (plan,) = make_plans(name, seeds=1, device="cuda")
    torch.cuda.reset_peak_memory_stats()
    out = execute(plan.specs()[0])
    assert out.status != "failed", out.error
    assert torch.cuda.max_memory_allocated() > 0, f"{name} ignored ctx.device"
