"""Shared fixtures: float64 by default where a test asks for it, fixed threads, seeds."""

from __future__ import annotations

import os

import pytest
import torch

# Tests must be repeatable and not fight each other for the 2 CI cores.
torch.set_num_threads(int(os.environ.get("GDLAB_TEST_THREADS", "2")))
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def f64():
    """Run the test with float64 as the default dtype."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield torch.float64
    torch.set_default_dtype(old)


def pytest_collection_modifyitems(config, items):
    has_cuda = torch.cuda.is_available()
    skip_cuda = pytest.mark.skip(reason="needs a CUDA device")
    for item in items:
        if "cuda" in item.keywords and not has_cuda:
            item.add_marker(skip_cuda)
