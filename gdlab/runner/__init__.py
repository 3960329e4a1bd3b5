"""The runner: expand runs, execute them (inline or in a process pool), store, judge."""

from gdlab.runner.execute import RunOutcome as RunOutcome
from gdlab.runner.execute import execute as execute
from gdlab.runner.plan import Plan as Plan
from gdlab.runner.plan import RunSpec as RunSpec
from gdlab.runner.plan import make_plans as make_plans
from gdlab.runner.result import Result as Result
from gdlab.runner.session import run as run
from gdlab.runner.session import run_plans as run_plans

__all__ = ["Plan", "Result", "RunOutcome", "RunSpec", "execute", "make_plans", "run", "run_plans"]
