"""A static HTML report: verdict table, then one section per claim with numbers and figure.

Everything is plain files (``index.html``, ``figures/*.png``, ``verdicts.json``) that open in
any browser without a server.
"""

from __future__ import annotations

import dataclasses
import html
import json
import time
from pathlib import Path

import gdlab
from gdlab.phenomena._verdict import _fmt
from gdlab.report.load import Entry

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#1d1d1f;line-height:1.45}
h1{margin-bottom:.2em}.sub{color:#666;margin-top:0}
table{border-collapse:collapse;width:100%;margin:.8em 0;font-size:.92em}
th,td{border-bottom:1px solid #e3e3e3;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f6f6f6}.num{font-variant-numeric:tabular-nums;white-space:nowrap}
.badge{display:inline-block;padding:.1em .6em;border-radius:1em;font-weight:600;font-size:.85em}
.holds{background:#d7f5dd;color:#11602a}.fails{background:#fde0e0;color:#8a1212}
.inconclusive{background:#eee;color:#555}
section{border-top:2px solid #eee;margin-top:2em;padding-top:.5em}
.claim{font-size:1.05em}.meta{color:#666;font-size:.9em}
img{max-width:100%;border:1px solid #eee}.pass{color:#11602a}.fail{color:#8a1212}
details{margin:.5em 0}code{background:#f4f4f4;padding:0 .25em}
"""


def write_report(entries: list[Entry], out_dir: str | Path, *, store_path: str = "") -> Path:
    """Write ``index.html`` (and figures, ``verdicts.json``) into ``out_dir``; returns the page."""
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    sections, rows, dump = [], [], []
    for e in entries:
        v = e.verdict
        name = v.phenomenon
        fig_html = _figure(e, out)
        checks_html = ("<br>".join(html.escape(c.describe()) for c in v.checks)
                       or html.escape("; ".join(v.notes)))
        rows.append(
            f"<tr><td><a href='#{name}'>{html.escape(name)}</a></td>"
            f"<td><span class='badge {v.status}'>{v.status}</span></td>"
            f"<td class='num'>{v.seeds_holding}/{v.n_seeds}</td>"
            f"<td>{html.escape(e.stored.preset)}</td>"
            f"<td>{checks_html}</td></tr>"
        )
        sections.append(_section(e, fig_html))
        dump.append({"phenomenon": name, "preset": e.stored.preset, "config": e.stored.config_hash,
                     "verdict": v.to_dict()})
    held = sum(e.verdict.status == "holds" for e in entries)
    page = f"""<!doctype html><html><head><meta charset="utf-8">
<title>gdlab report</title><style>{_CSS}</style></head><body>
<h1>gdlab report</h1>
<p class="sub">{held} of {len(entries)} claims hold · gdlab {gdlab.__version__} ·
{time.strftime('%Y-%m-%d %H:%M')} · store <code>{html.escape(store_path)}</code></p>
<p>Each claim from the literature is an experiment: gdlab trains the networks, measures the
phenomenon, and compares it with the theory's prediction. A claim <b>holds</b> when every check passes
in at least {int(round(100 * (entries[0].verdict.quorum if entries else 0.8)))}% of seeds.
Failing claims are results, reported with their numbers.</p>
<table><tr><th>phenomenon</th><th>verdict</th><th>seeds</th><th>preset</th>
<th>measured (median over seeds; rule) [seeds passing]</th></tr>
{''.join(rows)}</table>
{''.join(sections)}
</body></html>"""
    index = out / "index.html"
    index.write_text(page, encoding="utf-8")
    (out / "verdicts.json").write_text(json.dumps(dump, indent=1, default=str), encoding="utf-8")
    return index


def _figure(e: Entry, out: Path) -> str:
    name = e.verdict.phenomenon
    try:
        fig = e.figure()
    except Exception as exc:  # noqa: BLE001 — a broken figure must not sink the report
        return (f"<p class='fail'>figure failed: {html.escape(type(exc).__name__)}: "
                f"{html.escape(str(exc))}</p>")
    if fig is None:
        return "<p class='meta'>(no figure)</p>"
    import matplotlib.pyplot as plt

    path = out / "figures" / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"<img src='figures/{name}.png' alt='{html.escape(name)} figure'>"


def _section(e: Entry, fig_html: str) -> str:
    v = e.verdict
    p = e.phenomenon
    claim = html.escape(p.claim) if p else ""
    source = html.escape(p.source) if p else ""
    checks = "".join(
        f"<tr><td>{html.escape(c.name)}</td><td class='num'>{_fmt(c.median)}</td>"
        f"<td class='num'>{html.escape(_rule(c.op, c.threshold))}</td>"
        f"<td class='num'>{c.n_passed}/{c.n}</td><td class='num'>{c.margin:+.3g}</td>"
        f"<td class='num'>{html.escape(', '.join(_fmt(x) for x in c.values))}</td>"
        f"<td>{html.escape(c.prediction)}</td></tr>"
        for c in v.checks
    )
    seeds = "".join(
        f"<li>seed {s.seed}: <span class='{'pass' if s.holds else 'fail'}'>"
        f"{'holds' if s.holds else s.status if s.status != 'done' else 'fails'}</span> — "
        + "; ".join(html.escape(c.describe()) for c in s.checks) + "</li>"
        for s in v.per_seed
    )
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in v.notes)
    cfg = html.escape(json.dumps(dataclasses.asdict(e.config), default=str)) if e.config else ""
    return f"""<section id="{v.phenomenon}">
<h2>{html.escape(v.phenomenon)} <span class='badge {v.status}'>{v.status}</span></h2>
<p class="claim">{claim}</p>
<p class="meta">Source: {source}<br>Prediction: {html.escape(v.prediction)}<br>
{v.seeds_holding}/{v.n_seeds} seeds hold · preset {html.escape(e.stored.preset)} ·
{e.seconds:.1f} s of runs</p>
<table><tr><th>check</th><th>median</th><th>rule</th><th>seeds</th><th>margin</th>
<th>per seed</th><th>theory</th></tr>{checks}</table>
{fig_html}
<details><summary>per-seed checks, notes, config</summary><ul>{seeds}{notes}</ul>
<p class="meta">config: <code>{cfg}</code></p></details>
</section>"""


def _rule(op: str, thr) -> str:
    if op == "in":
        return f"in [{_fmt(thr[0])}, {_fmt(thr[1])}]"
    return f"{op} {_fmt(thr)}"
