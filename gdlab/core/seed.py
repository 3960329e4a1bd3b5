"""Randomness as an argument: seeded generators and a local fork of the global RNG."""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Iterator

import numpy as np
import torch


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed``."""
    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g


@contextlib.contextmanager
def fork_rng(seed: int) -> Iterator[None]:
    """Seed torch, NumPy and `random` inside the block and restore their state afterwards.

    Library code that must use global RNGs (``nn.Linear``'s init, for example) runs inside
    this so that it neither depends on nor disturbs the caller's random state.
    """
    np_state = np.random.get_state()
    py_state = random.getstate()
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_initialized() else []
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(int(seed))
        np.random.seed(int(seed) % 2**32)
        random.seed(int(seed))
        try:
            yield
        finally:
            np.random.set_state(np_state)
            random.setstate(py_state)


def derive_seed(*parts: object) -> int:
    """A stable 63-bit seed from any printable parts (e.g. ``(config_hash, replicate)``)."""
    digest = hashlib.sha256("\x1f".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1
