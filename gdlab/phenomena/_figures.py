"""Figure pieces shared by claim modules."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gdlab.phenomena._protocol import RunRecord


def loglog_vs_width(ax, widths: Sequence[int], runs: Sequence[RunRecord], key: str) -> list[RunRecord]:
    """Plot a quantity predicted to fall as ``width^-1/2`` against width, on log-log axes.

    Draws, on ``ax``: ``r[key]`` against ``r["widths"]`` for every completed run (one curve per
    seed), the power law with the median of the runs' fitted ``r["slope"]`` and
    ``r["intercept"]`` (natural log), and the theory line of slope −1/2 through the median of
    the values at the smallest width.

    Returns:
        The completed runs; when there are none, nothing is drawn.
    """
    done = [r for r in runs if r.status == "done"]
    for r in done:
        ax.loglog(r["widths"], r[key], "o-", alpha=0.6, label=f"seed {r.seed}")
    if done:
        w = np.asarray(widths, float)
        slope = float(np.median([r["slope"] for r in done]))
        icpt = float(np.median([r["intercept"] for r in done]))
        ax.loglog(w, np.exp(icpt) * w**slope, "k-", lw=2, label=f"fit: slope {slope:.2f}")
        v0 = float(np.median([r[key][0] for r in done]))
        ax.loglog(w, v0 * (w / w[0]) ** -0.5, "r--", label="theory: slope −1/2")
    return done
