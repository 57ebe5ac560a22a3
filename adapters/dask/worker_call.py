"""What a Dask worker runs for each task: the same call, with the same error rules, as a pool worker.

Kept apart from the client side because this module is imported on every worker of the cluster
(functions travel by reference), and it must need nothing there but the project's own code.
- `shared` arrives as the bytes the client pickled, scattered once to every worker; it is
  unpickled here at most once per worker process and then kept, keyed by the scatter's token. The
  client, not Dask, does the pickling so that a `shared` a worker cannot rebuild fails each task
  with "SharedUnavailable: ..." (as in the pool) instead of breaking the worker's data transfer.
- The outcome goes back pickled too: a result that cannot be pickled becomes an error outcome
  here, where it is known, rather than a failed gather on the client.
- `fn` is called exactly as the local pool calls it, so whatever it does inside (the pipeline's
  evaluation starts its own confined sandbox process per worker) happens on a Dask worker too.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from application.ports.batch_runner import error_line

T = TypeVar("T")
R = TypeVar("R")

_KEPT = 2
"""Shared objects a worker keeps: the current run's, and the one before while it is released."""

_lock = threading.Lock()
_cache: OrderedDict[str, tuple[Any, str | None]] = OrderedDict()


def run_task(task: T, *, fn: Callable[[Any, T], R], token: str | None, shared: bytes | None) -> bytes:
    """Pickled (result, error) for one task; never raises for what `fn` does, by the contract."""
    value, problem = _shared_value(token, shared)
    if problem is not None:
        return pickle.dumps((None, f"SharedUnavailable: {problem}"))
    try:
        outcome: tuple[Any, str | None] = (fn(value, task), None)
    except Exception as exc:  # noqa: BLE001 - the contract: a failing task is an outcome, not a crash
        outcome = (None, error_line(exc))
    try:
        return pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # noqa: BLE001 - PicklingError, TypeError, AttributeError ...
        return pickle.dumps((None, f"result could not be sent back: {error_line(exc)}"))


def _shared_value(token: str | None, blob: bytes | None) -> tuple[Any, str | None]:
    """(the unpickled object, None) or (None, why it could not be rebuilt), once per token per
    worker process: with several threads per worker the lock keeps it to one unpickling."""
    if token is None or blob is None:
        return None, None
    with _lock:
        if token in _cache:
            _cache.move_to_end(token)
            return _cache[token]
        try:
            found: tuple[Any, str | None] = (pickle.loads(blob), None)  # noqa: S301 - bytes our client pickled
        except Exception as exc:  # noqa: BLE001 - reported on every task instead, see run_task
            found = (None, error_line(exc))
        _cache[token] = found
        while len(_cache) > _KEPT:
            _cache.popitem(last=False)
        return found
