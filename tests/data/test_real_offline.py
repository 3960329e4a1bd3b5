"""digits and mnist1d are made locally: they must work with the network blocked."""

from __future__ import annotations

import socket

import pytest
import torch

from gdlab.data import digits, mnist1d


class NetworkBlocked(RuntimeError):
    """Raised by any attempt to open a socket while the network is blocked."""


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise NetworkBlocked("network access attempted in an offline test")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    # A guard that cannot fail proves nothing: check that it does block.
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("example.org", 80))


def test_digits_offline(no_network):
    ds = digits(n_train=300, n_test=100, classes=(0, 1, 7), seed=3)
    assert ds.x_train.shape == (300, 64) and ds.x_test.shape == (100, 64)
    assert set(ds.y_train.tolist()) == {0, 1, 2}
    assert ds.x_train.mean(0).abs().max().item() < 1e-5  # standardized on train


def test_mnist1d_offline(no_network):
    ds = mnist1d(n_train=500, n_test=200, seed=0)
    assert ds.x_train.shape == (500, 40) and ds.x_test.shape == (200, 40)
    assert ds.y_train.dtype == torch.long and int(ds.y_train.max()) == 9
    again = mnist1d(n_train=500, n_test=200, seed=0)
    assert torch.equal(ds.x_train, again.x_train)  # generated deterministically from seed
