"""Run on a Ray cluster: each unit of work is one Ray task; the driver writes the store.

Imported only when ``--executor ray`` is asked for; Ray is the optional ``ray`` extra
(``pip install 'gdlab[ray]'``). Without an address a local Ray instance is started for the
session (and stopped after it); with one (``ray://head:10001``, ``head:6379`` or ``auto``) the
runs go to that cluster, whose nodes need the same gdlab and torch installed.

Outcomes come back to the driver as each task finishes and are stored there, so workers never
touch the store. A task whose worker dies (killed, out of memory, node lost) is retried by Ray
up to ``retries`` times; after that its runs are recorded as failed with Ray's error.
"""

from __future__ import annotations

import os
import pickle
import sys
from collections.abc import Iterator, Sequence

from gdlab.errors import UserInputError
from gdlab.runner.execute import RunOutcome, execute_unit, failed, units
from gdlab.runner.plan import RunSpec

# Retries of a task whose worker died (system failures only: the runs themselves never
# raise, `execute_unit` records their errors).
RAY_RETRIES = 2


def require_ray():
    """The ``ray`` module, or a `UserInputError` that says how to install it."""
    try:
        import ray
    except ImportError:
        raise UserInputError("--executor ray needs Ray: pip install 'gdlab[ray]'") from None
    return ray


def init(address: str | None = None, *, num_cpus: int | None = None) -> bool:
    """Connect to the cluster at ``address``, or start a local one; ``True`` if this call did.

    A Ray session that is already initialized (e.g. by the caller) is used as it is.

    Args:
        address: a Ray cluster address; ``None`` starts a local instance.
        num_cpus: CPUs of a local instance (default: all cores).

    Raises:
        UserInputError: Ray is missing or the cluster cannot be reached.
    """
    ray = require_ray()
    if ray.is_initialized():
        return False
    kwargs = dict(include_dashboard=False, logging_level="WARNING", log_to_driver=False)
    try:
        if address is None:
            ray.init(num_cpus=num_cpus, **kwargs)
        else:
            ray.init(address=address, **kwargs)
    except (ConnectionError, RuntimeError, ValueError) as e:
        where = f"the Ray cluster at {address}" if address else "a local Ray instance"
        raise UserInputError(f"cannot start or reach {where}: {e}") from None
    return True


def run_ray(
    specs: Sequence[RunSpec],
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    retries: int = RAY_RETRIES,
) -> Iterator[RunOutcome]:
    """Execute ``specs`` as Ray tasks; yields outcomes as tasks finish.

    Args:
        specs: the runs.
        address: cluster address (``None``: a local instance, started and stopped here).
        num_cpus: CPUs of a local instance.
        retries: Ray retries of a task whose worker died.

    Raises:
        UserInputError: Ray is missing, the cluster cannot be reached, or a run asks for a
            numbered CUDA device (Ray assigns each task its own GPU: use ``cuda``).
    """
    ray = require_ray()
    for spec in specs:
        if spec.device.startswith("cuda:"):
            raise UserInputError(f"with --executor ray use --device cuda, not {spec.device!r}: "
                                 "Ray gives each task one GPU of its own")
    work = units(specs)
    if not work:
        return
    started = init(address, num_cpus=num_cpus)
    # A local instance runs on this machine: let its workers import whatever the driver can
    # (phenomena registered from user or test modules). Remote nodes have their own paths.
    paths = [p for p in sys.path if p and os.path.isdir(p)] if address is None else []
    remote = ray.remote(_execute_on_worker)
    pending = {}
    try:
        for unit in work:
            gpus = 1 if unit[0].device.startswith("cuda") else 0
            # Pickled here and loaded on the worker after `paths` are set: a config class
            # from a module outside gdlab cannot be unpickled before.
            ref = remote.options(num_cpus=1, num_gpus=gpus, max_retries=retries,
                                 retry_exceptions=False).remote(pickle.dumps(unit), paths)
            pending[ref] = unit
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                unit = pending.pop(ref)
                yield from _collect(ray, ref, unit, retries)
    finally:
        for ref in pending:  # interrupted: do not leave tasks running on the cluster
            ray.cancel(ref, force=True)
        if started:
            ray.shutdown()


def _collect(ray, ref, unit: list[RunSpec], retries: int) -> list[RunOutcome]:
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        msg = f"Ray task failed after {retries} retries: {type(e).__name__}: {first}"
        return [failed(s, msg) for s in unit]


def _execute_on_worker(unit: bytes, paths: list[str]) -> list[RunOutcome]:
    """Runs inside a Ray worker: ``unit`` is a pickled list of specs."""
    for p in paths:
        if p not in sys.path:
            sys.path.append(p)
    import gdlab.phenomena  # noqa: F401 — register the catalog

    return execute_unit(pickle.loads(unit))
