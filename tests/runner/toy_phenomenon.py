"""Two tiny test-only phenomena for the runner, store and CLI tests (not in the catalog).

- ``toy-gd``: one seed trains a small MLP by GD on its own data (a second or less). Config
  knobs make a run slow (``sleep``), diverge (a large ``lr``), raise (``fail``) or kill its
  own process (``crash="always"`` or ``crash="once:PATH"``: only while PATH does not exist).
- ``toy-ensemble``: the same, all pending seeds of a config trained as one ensemble through
  `gdlab.train.ensemble.seeds_at_once`; ``bad_seed`` gets a step size that diverges.

The module defines the phenomena without registering them; `register_toys(monkeypatch)`
registers them for one test. Worker processes find them through ``RunSpec.module``.
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass

import torch

from gdlab import optim
from gdlab.core import functionalize, stack
from gdlab.errors import Diverged
from gdlab.models import MLP
from gdlab.phenomena import Phenomenon, SeedResult, Verdict, catalog, check
from gdlab.train import mse, train
from gdlab.train.ensemble import member_scale, mlp_objective, seeds_at_once, train_ensemble

N, D = 16, 3


@dataclass(frozen=True)
class Config:
    steps: int = 20
    lr: float = 0.1
    width: int = 8
    sleep: float = 0.0
    fail: bool = False
    crash: str = ""
    widths_extra: tuple[int, ...] = ()  # a tuple field, for grid parsing tests

    def __post_init__(self):
        if self.steps < 1:
            raise ValueError("steps must be >= 1")
        if not self.lr > 0:
            raise ValueError("lr must be positive")


def _data(ctx):
    g = ctx.generator()
    x = torch.randn(N, D, generator=g, dtype=torch.float64)
    y = torch.sin(x @ torch.randn(D, 1, generator=g, dtype=torch.float64))
    return x.to(ctx.device), y.to(ctx.device)


def _net(cfg, ctx) -> tuple[MLP, dict]:
    net = MLP(D, (cfg.width,), 1, generator=ctx.generator(1)).double()
    f, p = functionalize(net)
    return net, {k: v.to(ctx.device) for k, v in p.items()}


def _maybe_crash(crash: str) -> None:
    if crash == "always" or (crash.startswith("once:") and not os.path.exists(crash[5:])):
        if crash.startswith("once:"):
            open(crash[5:], "w").close()
        os.kill(os.getpid(), signal.SIGKILL)


def run(cfg: Config, ctx) -> dict:
    _maybe_crash(cfg.crash)
    if cfg.sleep:
        time.sleep(cfg.sleep)
    if cfg.fail:
        raise RuntimeError("toy failure")
    x, y = _data(ctx)
    net, p0 = _net(cfg, ctx)
    f, _ = functionalize(net.to(ctx.device))
    res = train(lambda p: mse(f(p, x), y), p0, optim.sgd(cfg.lr), cfg.steps, log=ctx.log,
                progress=ctx.trange)
    res.raise_if_diverged()
    # A draw from the global RNG: reproducible only if the runner seeds it.
    draw = float(torch.randn((), dtype=torch.float64))
    return {"init_loss": res.losses[0], "final_loss": ctx.series_data["loss"][1][-1],
            "global_draw": draw, "at": {"half": res.losses[cfg.steps // 2]},
            "curve": res.losses[:3]}


def verdict(cfg: Config, runs) -> Verdict:
    per_seed = [SeedResult(r.seed, (check("final loss / initial", r["final_loss"] / r["init_loss"],
                                          "<", 1.0),)) if r.status == "done"
                else SeedResult(r.seed, (), r.status) for r in runs]
    return Verdict.from_seeds("toy-gd", per_seed, prediction="GD lowers the loss")


TOY = Phenomenon(name="toy-gd", claim="GD lowers the training loss of a small MLP.",
                 source="test", Config=Config, run=run, verdict=verdict, default_seeds=2)


@dataclass(frozen=True)
class EnsembleConfig:
    steps: int = 30
    lr: float = 0.05
    width: int = 8
    bad_seed: int = -1


def run_seeds(cfg: EnsembleConfig, ctxs: list) -> list:
    data = [_data(c) for c in ctxs]
    nets = [_net(cfg, c) for c in ctxs]
    params = stack([p for _, p in nets])
    x = torch.stack([d[0] for d in data])  # (m, n, d): each seed its own data
    y = torch.stack([d[1] for d in data])
    lrs = torch.tensor([1e4 if c.seed == cfg.bad_seed else cfg.lr for c in ctxs],
                       dtype=torch.float64, device=ctxs[0].device)
    tx = optim.chain(optim.sgd(1.0), member_scale(lrs))
    res = train_ensemble(mlp_objective(nets[0][0], mse, (x, y)), params, tx, cfg.steps,
                         log=[c.log for c in ctxs])
    out = []
    for i, c in enumerate(ctxs):
        m = res.member(i)
        if m.diverged:
            out.append(Diverged(m.reason, step=m.steps, last_finite={"loss": m.losses[-1]}))
        else:
            out.append({"init_loss": m.losses[0], "final_loss": c.series_data["loss"][1][-1]})
    return out


def ensemble_verdict(cfg: EnsembleConfig, runs) -> Verdict:
    per_seed = [SeedResult(r.seed, (check("final loss / initial", r["final_loss"] / r["init_loss"],
                                          "<", 1.0),)) if r.status == "done"
                else SeedResult(r.seed, (), r.status) for r in runs]
    return Verdict.from_seeds("toy-ensemble", per_seed, prediction="GD lowers the loss")


TOY_ENSEMBLE = Phenomenon(name="toy-ensemble", claim="GD lowers the loss of every member.",
                          source="test", Config=EnsembleConfig, run=seeds_at_once(run_seeds),
                          verdict=ensemble_verdict, default_seeds=3)


def register_toys(monkeypatch) -> None:
    """Register both toys for the duration of one test."""
    for phen in (TOY, TOY_ENSEMBLE):
        monkeypatch.setitem(catalog._REGISTRY, phen.name, phen)
