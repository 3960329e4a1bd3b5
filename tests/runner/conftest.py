"""Fixtures of the runner tests: the test-only toy phenomena and a fresh store path."""

from __future__ import annotations

import pytest
import toy_phenomenon


@pytest.fixture
def toys(monkeypatch):
    """Register ``toy-gd`` and ``toy-ensemble`` for this test only."""
    toy_phenomenon.register_toys(monkeypatch)
    return toy_phenomenon


@pytest.fixture
def db(tmp_path):
    """A path for a fresh store."""
    return str(tmp_path / "gdlab.db")
