"""Plain-text tables of verdicts for the terminal."""

from __future__ import annotations

import shutil

from gdlab.phenomena._verdict import Verdict

_MARK = {"holds": "HOLDS", "fails": "FAILS", "inconclusive": "??"}


def verdict_table(verdicts: list[Verdict], seconds: list[float] | None = None) -> str:
    """One row per claim: name, verdict, seeds holding, and each check's median and rule."""
    width = shutil.get_terminal_size((120, 20)).columns
    name_w = max([len(v.phenomenon) for v in verdicts] + [10])
    head = (f"{'phenomenon':<{name_w}}  {'verdict':<7}  {'seeds':>5}  {'time':>6}  "
            "numbers (median over seeds; rule; seeds passing)")
    lines = [head, "-" * min(len(head) + 10, width)]
    for i, v in enumerate(verdicts):
        secs = f"{seconds[i]:.0f}s" if seconds else ""
        nums = [c.describe() for c in v.checks] or list(v.notes) or ["(no checks)"]
        lines.append(f"{v.phenomenon:<{name_w}}  {_MARK[v.status]:<7}  "
                     f"{v.seeds_holding:>2}/{v.n_seeds:<2}  {secs:>6}  {nums[0]}")
        pad = " " * (name_w + 26)
        lines += [pad + n for n in nums[1:]]
    held = sum(v.status == "holds" for v in verdicts)
    lines.append("-" * min(len(head) + 10, width))
    lines.append(f"{held}/{len(verdicts)} claims hold")
    return "\n".join(lines)


def verdict_detail(v: Verdict) -> str:
    """The full verdict: summary, then every seed's checks."""
    out = [v.summary(), "", "per seed:"]
    for s in v.per_seed:
        mark = "holds" if s.holds else ("fails" if s.status == "done" else s.status)
        out.append(f"  seed {s.seed}: {mark}")
        out += [f"    {'✓' if c.passed else '✗'} {c.describe()}  (margin {c.margin:+.3g})" for c in s.checks]
    return "\n".join(out)
