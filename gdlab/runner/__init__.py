"""The runner: expand runs, execute them (inline, in a process pool or on Ray), store, judge."""

from gdlab.runner.execute import RunOutcome as RunOutcome
from gdlab.runner.execute import execute as execute
from gdlab.runner.executors import executor_for as executor_for
from gdlab.runner.plan import Plan as Plan
from gdlab.runner.plan import RunSpec as RunSpec
from gdlab.runner.plan import make_plans as make_plans
from gdlab.runner.result import Result as Result
from gdlab.runner.session import run as run
from gdlab.runner.session import run_plans as run_plans
from gdlab.runner.sweep import sweep as sweep
from gdlab.runner.sweep import sweep_plans as sweep_plans

__all__ = [
    "Plan",
    "Result",
    "RunOutcome",
    "RunSpec",
    "execute",
    "executor_for",
    "make_plans",
    "run",
    "run_plans",
    "sweep",
    "sweep_plans",
]
