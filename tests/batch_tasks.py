"""Task functions for the BatchRunner contract tests. They live in an importable module because
spawned workers import a function by its module path to unpickle it; every side effect is a
file under a test's tmp_path, the one thing both the test and the workers can see."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def _rebuild(log: str, value: int) -> SharedProbe:
    with open(log, "a") as f:
        f.write(f"{os.getpid()}\n")
    return SharedProbe(log, value)


class SharedProbe:
    """A `shared` object that writes its process id to `log` each time it is unpickled: how many
    times the runner sent it to a worker, told by the workers themselves."""

    def __init__(self, log: str, value: int) -> None:
        self.log, self.value = log, value

    def __reduce__(self) -> tuple[Any, tuple[str, int]]:
        return _rebuild, (self.log, self.value)

    def loads(self) -> list[int]:
        path = Path(self.log)
        return [int(line) for line in path.read_text().split()] if path.exists() else []


def add_shared(shared: SharedProbe, n: int) -> tuple[int, int]:
    """(n + shared.value, the pid that ran it)."""
    return n + shared.value, os.getpid()


def square_or_fail(shared: Any, n: int) -> int:
    if n % 3 == 0:
        raise ValueError(f"no multiples of 3\nplease ({n})")
    return n * n


def sleep_and_record(shared: Any, task: tuple[str, float]) -> int:
    """Leaves a file per started task, then sleeps."""
    folder, seconds = task
    Path(folder, f"started-{time.monotonic_ns()}-{os.getpid()}").touch()
    time.sleep(seconds)
    return os.getpid()


def crash_or_return(shared: Any, task: tuple[str, str, int]) -> int:
    """By `mode`: "ok" returns n after a short nap; "die once" kills its worker unless the file
    `path` exists (creating it first), a crash a retry fixes; "die" appends a line to `path`
    and kills its worker every time."""
    mode, path, n = task
    if mode == "die once" and not Path(path).exists():
        Path(path).touch()
        os._exit(1)
    if mode == "die":
        with open(path, "a") as f:
            f.write("attempt\n")
        os._exit(1)
    time.sleep(0.02)
    return n


def _refuse(log: str) -> None:
    raise RuntimeError("this object cannot be rebuilt here")


class UnloadableShared:
    """Pickles fine, fails to unpickle: what a worker sees when the shared data is broken."""

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _refuse, ("x",)


def add_shared_slowly(shared: SharedProbe, n: int) -> tuple[int, int]:
    """add_shared, 0.05 s at a time: long enough for a run to be interrupted in the middle."""
    time.sleep(0.05)
    return n + shared.value, os.getpid()
