"""Checks and verdicts: how a measurement is compared with a prediction.

A `Check` is one comparison (``cos(w_T, w_svm) > 0.99``) with its margin. A phenomenon's
`verdict` turns each seed's measurements into checks; `Verdict.from_seeds` counts the seeds
in which every check passed and applies the quorum. Checks that only make sense across seeds
(``success in ≥ 90% of runs``) are passed as ``pooled`` checks and must pass too.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from gdlab.phenomena._protocol import RunRecord

Status = Literal["holds", "fails", "inconclusive"]

SEED_QUORUM = 0.8
"""Fraction of seeds in which every check must pass for the claim to hold.

The catalog asks that a claim hold in at least 4 of 5 seeds; 0.8 is that ratio, and it
means all seeds when fewer than 5 are run.
"""

_OPS = ("<", "<=", ">", ">=", "in", "==")


@dataclass(frozen=True)
class Check:
    """One comparison of a measured number with a threshold.

    Attributes:
        name: what is measured, in words ("cosine to the SVM direction").
        measured: the measured value.
        op: one of ``< <= > >= in ==``.
        threshold: a number, or ``(low, high)`` for ``in``.
        passed: whether the comparison holds.
        margin: signed distance to the threshold in units of the threshold's scale:
            positive when passing, negative when failing (``(measured − t)/|t|`` for ``>``).
        prediction: the theory's value or statement, for the report.
    """

    name: str
    measured: float
    op: str
    threshold: float | tuple[float, float]
    passed: bool
    margin: float
    prediction: str = ""

    def describe(self) -> str:
        """``name: measured op threshold`` as one line."""
        if self.op == "in":
            lo, hi = self.threshold  # type: ignore[misc]
            rule = f"in [{_fmt(lo)}, {_fmt(hi)}]"
        else:
            rule = f"{self.op} {_fmt(self.threshold)}"  # type: ignore[arg-type]
        return f"{self.name} = {_fmt(self.measured)} ({rule})"


def check(
    name: str,
    measured: float,
    op: str,
    threshold: float | tuple[float, float],
    *,
    prediction: str = "",
) -> Check:
    """Build a `Check`, computing ``passed`` and ``margin``.

    Example:
        >>> check("cos to SVM", 0.995, ">", 0.99).passed
        True
        >>> round(check("slope", -0.5, "in", (-0.65, -0.35)).margin, 3)
        1.0
    """
    if op not in _OPS:
        raise ValueError(f"unknown op {op!r}; use one of {_OPS}")
    m = float(measured)
    if not math.isfinite(m):
        return Check(name, m, op, threshold, False, -math.inf, prediction)
    if op == "in":
        lo, hi = (float(t) for t in threshold)  # type: ignore[union-attr]
        half = (hi - lo) / 2 or 1.0
        # Distance to the nearer edge, in half-widths: 1 at the centre, 0 on an edge.
        margin = min(m - lo, hi - m) / half
        passed = lo <= m <= hi
    else:
        t = float(threshold)  # type: ignore[arg-type]
        scale = abs(t) if t != 0 else 1.0
        if op in ("<", "<="):
            margin = (t - m) / scale
            passed = m < t if op == "<" else m <= t
        elif op in (">", ">="):
            margin = (m - t) / scale
            passed = m > t if op == ">" else m >= t
        else:
            margin = -abs(m - t) / scale
            passed = m == t
    return Check(name, m, op, threshold, bool(passed), float(margin), prediction)


@dataclass(frozen=True)
class SeedResult:
    """The checks of one seed; it holds when all of them pass."""

    seed: int
    checks: tuple[Check, ...]
    status: str = "done"

    @property
    def holds(self) -> bool:
        """All checks passed and the run completed."""
        return self.status == "done" and bool(self.checks) and all(c.passed for c in self.checks)


def seed_results(
    runs: Iterable[RunRecord], checks: Callable[[RunRecord], Sequence[Check]]
) -> list[SeedResult]:
    """One `SeedResult` per run, in order: ``checks(r)`` for completed runs, none for the rest.

    ``checks`` is called only for runs with ``status == "done"``; a run that diverged (or did
    not finish) gives ``SeedResult(r.seed, (), r.status)``, which never holds but counts
    towards the quorum.

    Example:
        >>> from gdlab.phenomena._protocol import RunRecord
        >>> runs = [RunRecord(0, "done", {"cos": 0.995}), RunRecord(1, "diverged", {})]
        >>> [s.holds for s in seed_results(runs, lambda r: (check("cos", r["cos"], ">", 0.99),))]
        [True, False]
    """
    return [
        SeedResult(r.seed, tuple(checks(r))) if r.status == "done" else SeedResult(r.seed, (), r.status)
        for r in runs
    ]


@dataclass(frozen=True)
class CheckSummary:
    """One check across seeds: the median measurement and how many seeds passed."""

    name: str
    op: str
    threshold: float | tuple[float, float]
    median: float
    values: tuple[float, ...]
    n_passed: int
    n: int
    margin: float
    prediction: str = ""
    pooled: bool = False

    def describe(self) -> str:
        """One line for tables: ``name: median (rule) k/n``."""
        c = Check(self.name, self.median, self.op, self.threshold, True, 0.0)
        return f"{c.describe()} [{self.n_passed}/{self.n}]"


@dataclass(frozen=True)
class Verdict:
    """What gdlab says about a claim: holds or fails, with the numbers behind it."""

    phenomenon: str
    status: Status
    seeds_holding: int
    n_seeds: int
    checks: tuple[CheckSummary, ...]
    per_seed: tuple[SeedResult, ...]
    prediction: str
    quorum: float = SEED_QUORUM
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def holds(self) -> bool:
        """``status == "holds"``."""
        return self.status == "holds"

    def summary(self) -> str:
        """A few lines a person reads first."""
        head = (
            f"{self.phenomenon}: {self.status.upper()} "
            f"({self.seeds_holding}/{self.n_seeds} seeds hold; quorum {self.quorum:.0%})"
        )
        lines = [head, f"  prediction: {self.prediction}"]
        lines += [f"  {c.describe()}" for c in self.checks]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready form (for the store)."""
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> Verdict:
        """Inverse of `to_dict`."""

        def thr(t):
            return tuple(t) if isinstance(t, list) else t

        per_seed = tuple(
            SeedResult(
                s["seed"],
                tuple(Check(**{**c, "threshold": thr(c["threshold"])}) for c in s["checks"]),
                s.get("status", "done"),
            )
            for s in d["per_seed"]
        )
        checks = tuple(
            CheckSummary(**{**c, "threshold": thr(c["threshold"]), "values": tuple(c["values"])})
            for c in d["checks"]
        )
        return Verdict(
            d["phenomenon"], d["status"], d["seeds_holding"], d["n_seeds"], checks, per_seed,
            d["prediction"], d.get("quorum", SEED_QUORUM), tuple(d.get("notes", ())),
        )

    @staticmethod
    def from_seeds(
        phenomenon: str,
        per_seed: Sequence[SeedResult],
        *,
        prediction: str,
        pooled: Sequence[Check] = (),
        quorum: float = SEED_QUORUM,
        notes: Sequence[str] = (),
    ) -> Verdict:
        """Aggregate per-seed checks (and pooled checks) into a verdict.

        The claim holds when at least ``ceil(quorum · n)`` seeds hold and every pooled check
        passes. With no completed seed it is ``inconclusive``.
        """
        n = len(per_seed)
        holding = sum(s.holds for s in per_seed)
        completed = [s for s in per_seed if s.status == "done" or s.checks]
        summaries = _summarize(per_seed) + [
            CheckSummary(c.name, c.op, c.threshold, c.measured, (c.measured,), int(c.passed), 1,
                         c.margin, c.prediction, pooled=True)
            for c in pooled
        ]
        if not completed and not pooled:
            status: Status = "inconclusive"
        else:
            need = math.ceil(quorum * n - 1e-9) if n else 0
            ok = (n == 0 or holding >= need) and all(c.passed for c in pooled)
            status = "holds" if ok else "fails"
        return Verdict(phenomenon, status, holding, n, tuple(summaries), tuple(per_seed),
                       prediction, quorum, tuple(notes))


def _summarize(per_seed: Sequence[SeedResult]) -> list[CheckSummary]:
    by_name: dict[str, list[Check]] = {}
    for s in per_seed:
        for c in s.checks:
            by_name.setdefault(c.name, []).append(c)
    out = []
    for name, cs in by_name.items():
        vals = tuple(c.measured for c in cs)
        finite = [v for v in vals if math.isfinite(v)] or [math.nan]
        out.append(CheckSummary(
            name, cs[0].op, cs[0].threshold, statistics.median(finite), vals,
            sum(c.passed for c in cs), len(cs), statistics.median(c.margin for c in cs),
            cs[0].prediction,
        ))
    return out


def _fmt(x) -> str:
    if isinstance(x, (tuple, list)):
        return "(" + ", ".join(_fmt(v) for v in x) + ")"
    x = float(x)
    if x == 0 or (1e-3 <= abs(x) < 1e5):
        return f"{x:.4g}"
    return f"{x:.3e}"
