"""Every registered rule through `torch_optimizer`: save/load mid-training continues exactly."""

from __future__ import annotations

import io

import pytest
import torch
from _rule_table import Model, gradient_rules, hyper

from gdlab import optim
from gdlab.errors import UserInputError


def _make(name: str, values: dict[str, torch.Tensor]):
    params = [torch.nn.Parameter(values["W"].clone()), torch.nn.Parameter(values["b"].clone())]
    return params, optim.torch_optimizer(name, params, **hyper(name))


def _step(name: str, model: Model, params, opt) -> None:
    def closure():
        opt.zero_grad()
        loss = model.loss({"W": params[0], "b": params[1]})
        loss.backward()
        return loss

    extra = {}
    if name == "normalized_lr_gd":
        extra = {"margins": model.margins({"W": params[0].detach(), "b": params[1].detach()})}
    if name == "sven":
        current = {"W": params[0].detach(), "b": params[1].detach()}
        rj = optim.residual_jacobian(model.residuals, current)
        extra = {"residuals": rj["residuals"], "jacobian": [rj["jacobian"]["W"],
                                                           rj["jacobian"]["b"]]}
    opt.step(closure, **extra)


@pytest.mark.parametrize("name", gradient_rules())
def test_state_survives_torch_save_and_continues_identically(name):
    model = Model()
    params, opt = _make(name, model.params())
    for _ in range(3):
        _step(name, model, params, opt)
    buffer = io.BytesIO()
    torch.save(opt.state_dict(), buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    clone, opt2 = _make(name, {"W": params[0].detach(), "b": params[1].detach()})
    opt2.load_state_dict(saved)
    for _ in range(4):
        _step(name, model, params, opt)
        _step(name, model, clone, opt2)
    moved = (params[0] - model.W).abs().max()
    assert moved > 0, f"{name} did not move the parameters"
    for a, b in zip(params, clone, strict=True):
        assert torch.equal(a, b), f"{name}: max diff {(a - b).abs().max():.3e}"


def test_loading_into_another_rule_is_refused():
    model = Model()
    params, opt = _make("adam", model.params())
    _step("adam", model, params, opt)
    _, other = _make("lion", model.params())
    with pytest.raises(ValueError, match="state"):
        other.load_state_dict(opt.state_dict())


def test_particle_methods_have_no_torch_optim_form():
    with pytest.raises(UserInputError, match="cbo_minimize"):
        optim.torch_optimizer("cbo", [torch.nn.Parameter(torch.zeros(2))])


def test_unknown_hyperparameter_names_the_valid_ones():
    with pytest.raises(TypeError, match="betas"):
        optim.torch_optimizer("lion", [torch.nn.Parameter(torch.zeros(2))], momentum=0.9)


def test_lr_schedulers_act_on_the_group_lr():
    """torch's lr_scheduler changes param_groups[0]['lr'], which the rule reads each step."""
    p = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
    opt = optim.torch_optimizer("normalized_gd", [p], lr=0.1)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    lengths = []
    for _ in range(3):
        before = p.detach().clone()
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
        sched.step()
        lengths.append(float((p.detach() - before).norm()))
    assert lengths == pytest.approx([0.1, 0.05, 0.025], rel=1e-12)


def test_a_schedule_can_be_passed_as_lr():
    p = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    lr = optim.schedules.linear_schedule(0.1, 0.0, transition_steps=2)
    opt = optim.torch_optimizer("normalized_gd", [p], lr=lr)
    lengths = []
    for _ in range(3):
        before = p.detach().clone()
        opt.zero_grad()
        (p**2).sum().backward()
        opt.step()
        lengths.append(float((p.detach() - before).norm()))
    assert lengths == pytest.approx([0.1, 0.05, 0.0], abs=1e-15)
