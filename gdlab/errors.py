"""Errors that gdlab raises on purpose.

`UserInputError` marks bad input from a person (an unknown name, a bad override, an unusable
store path). The CLI prints its message and exits with status 2, without a traceback; the
Python API lets it propagate as an ordinary `ValueError`.
"""

from __future__ import annotations

import difflib


class UserInputError(ValueError):
    """Bad input from the user: the message says what was wrong and how to fix it."""


class Diverged(RuntimeError):
    """Training produced NaN/inf or blew up; the run is recorded as ``diverged``."""

    def __init__(self, message: str, *, step: int, last_finite: dict | None = None):
        super().__init__(message)
        self.step = step
        self.last_finite = dict(last_finite or {})


def did_you_mean(name: str, choices: list[str]) -> str:
    """A ' Did you mean X?' suffix for the closest of `choices`, or '' when none is close."""
    close = difflib.get_close_matches(name, choices, n=1, cutoff=0.5)
    return f" Did you mean '{close[0]}'?" if close else ""
