"""gdlab: a laboratory for the theory of gradient-descent training.

Every claim is an executable experiment with a verdict::

    import gdlab
    res = gdlab.run("icl-one-step-gd", quick=True, seeds=3)
    print(res.verdict.summary())
    res.figure()
"""

from __future__ import annotations

__version__ = "0.1.0"


def run(name, **kwargs):
    """Run a phenomenon (or ``"all"``); see `gdlab.runner.run` for the arguments."""
    import gdlab.phenomena  # noqa: F401 — register the catalog
    from gdlab.runner import run as _run

    return _run(name, **kwargs)


def list_phenomena() -> list[str]:
    """Names of every registered phenomenon, in catalog order."""
    import gdlab.phenomena as ph

    return ph.names()


__all__ = ["__version__", "list_phenomena", "run"]
