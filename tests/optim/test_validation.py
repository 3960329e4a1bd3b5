"""Bad hyper-parameters fail at construction with a message naming the parameter."""

from __future__ import annotations

import pytest

from gdlab import optim

BAD = [
    (optim.sgd, {"lr": -0.1}, "lr"),
    (optim.adam, {"betas": (1.0, 0.9)}, r"betas\[0\]"),
    (optim.adamw, {"eps": -1e-8}, "eps"),
    (optim.adagrad, {"lr_decay": -1.0}, "lr_decay"),
    (optim.adagrad, {"initial_accumulator_value": -0.1}, "initial_accumulator_value"),
    (optim.sign_descent, {"momentum": 1.0}, "momentum"),
    (optim.normalized_gd, {"lr": float("inf")}, "lr"),
    (optim.lion, {"betas": (0.9,)}, "betas"),
    (optim.lion, {"weight_decay": -0.5}, "weight_decay"),
    (optim.diffgrad, {"betas": (0.9, 1.5)}, r"betas\[1\]"),
    (optim.exadam, {"lr": "fast"}, "lr"),
    (optim.muon, {"ns_steps": 0}, "ns_steps"),
    (optim.muon, {"adjust_lr_fn": "bogus"}, "adjust_lr_fn"),
    (optim.muon, {"ns_coefficients": (1.0, 2.0)}, "ns_coefficients"),
    (optim.polargrad, {"polar": "qr"}, "polar"),
    (optim.polargrad, {"momentum": -0.1}, "momentum"),
    (optim.sven, {"k": 0}, "k"),
    (optim.sven, {"damping": -1.0}, "damping"),
]


@pytest.mark.parametrize("factory,kwargs,match", BAD)
def test_bad_hyperparameters_raise_value_error(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_every_gradient_rule_is_registered_with_source_and_rule():
    specs = {s.name: s for s in optim.all_optimizers()}
    for name in ["sgd", "adam", "adamw", "adagrad", "sign_descent", "normalized_gd",
                 "normalized_lr_gd", "lion", "diffgrad", "exadam", "muon", "polargrad",
                 "sven", "cbo"]:
        assert specs[name].source and specs[name].rule, name
    assert specs["cbo"].interface == "particles"
