"""The sandbox worker: `python -m adapters.sandbox.worker --home DIR --memory-mb N`.

It imports everything a strategy may use, confines itself (confinement.py), says hello with the
layers that took effect, then answers requests one at a time on its own pipes. Loaded classes
and candle sets are kept between requests, so validating one strategy many ways stays cheap.
"""

from __future__ import annotations

import argparse
import collections.abc  # noqa: F401
import contextlib
import dataclasses  # noqa: F401 - importable by strategies: loaded before confinement
import functools  # noqa: F401
import hashlib
import itertools  # noqa: F401
import math  # noqa: F401
import os
import pickle
import statistics  # noqa: F401
import struct
import sys
import typing  # noqa: F401
from collections import OrderedDict
from typing import Any, BinaryIO

import numpy as np  # noqa: F401
import numpy.lib.stride_tricks  # noqa: F401
import pandas as pd
import pandas.api.types

from adapters.sandbox import confinement
from adapters.sandbox.runtime import Refusal, compute_arrays, describe, instantiate, load_class
from adapters.sandbox.wire import encode_reply, frame_payload
from domain.strategy import StrategyCore

with contextlib.suppress(ImportError):  # optional: strategies that import talib need it installed
    import talib
    import talib.abstract  # noqa: F401

_CLASSES_KEPT = 64
"""More than the live loop runs at once (10 by default): with fewer, deciding them in turn evicts
each class before its next bar, and every call screens and compiles its code again."""
_DATASETS_KEPT = 8


class Worker:
    def __init__(self) -> None:
        self.classes: OrderedDict[str, type[StrategyCore]] = OrderedDict()
        self.datasets: OrderedDict[str, dict[str, pd.DataFrame]] = OrderedDict()

    def handle(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        op = message.get("op")
        if op == "ping":
            return {"ok": True}, b""
        if op not in ("inspect", "signals"):
            return {"ok": False, "kind": "crash", "reason": f"unknown request {op!r}"}, b""
        confinement.set_cpu_budget(float(message["cpu_seconds"]))
        code, origin = message["code"], message["origin"]
        strategy = instantiate(self._class(code, origin, message.get("guarded", True)), message.get("params"), origin)
        if op == "inspect":
            return {"ok": True, "info": describe(strategy)}, b""
        frames = self._frames(message)
        if frames is None:
            return {"ok": False, "kind": "missing_data", "reason": "data not held"}, b""
        last_rows = message.get("last_rows")
        out = {key: compute_arrays(strategy, frame, origin, last_rows) for key, frame in frames.items()}
        entries, payload = frame_payload(out)
        return {"ok": True, "frames": entries}, payload

    def _class(self, code: str, origin: str, guarded: bool) -> type[StrategyCore]:
        key = hashlib.sha256(f"{guarded}\0{origin}\0{code}".encode()).hexdigest()
        if key not in self.classes:
            self.classes[key] = load_class(code, origin, guarded=guarded)
            while len(self.classes) > _CLASSES_KEPT:
                self.classes.popitem(last=False)
        self.classes.move_to_end(key)
        return self.classes[key]

    def _frames(self, message: dict[str, Any]) -> dict[str, pd.DataFrame] | None:
        key = message["data_key"]
        if message.get("frames") is not None:
            self.datasets[key] = message["frames"]
            while len(self.datasets) > _DATASETS_KEPT:
                self.datasets.popitem(last=False)
        found = self.datasets.get(key)
        if found is not None:
            self.datasets.move_to_end(key)
        return found


def _read_exact(stream: BinaryIO, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = stream.read(left)
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _serve(requests: BinaryIO, replies: BinaryIO, worker: Worker) -> None:
    while True:
        head = _read_exact(requests, 8)
        if head is None:
            return
        body = _read_exact(requests, struct.unpack("<Q", head)[0])
        if body is None:
            return
        message = pickle.loads(body)  # noqa: S301 - from the host, which started this process
        try:
            header, payload = worker.handle(message)
        except Refusal as refusal:
            header, payload = {"ok": False, "kind": refusal.kind, "reason": refusal.reason, "line": refusal.line,
                               "violations": refusal.violations}, b""
        except MemoryError:
            header, payload = {"ok": False, "kind": "memory", "reason": "out of memory"}, b""
        replies.write(encode_reply(header, payload))
        replies.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", required=True)
    parser.add_argument("--memory-mb", type=int, required=True)
    args = parser.parse_args()
    requests = os.fdopen(os.dup(0), "rb", buffering=0)
    replies = os.fdopen(os.dup(1), "wb")
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)  # print() in a strategy goes nowhere, never into the replies
    sys.stdout = open(os.devnull, "w")
    os.chdir(args.home)
    layers: dict[str, Any] = {"pid": os.getpid()}
    confinement.apply_rlimits(args.memory_mb * 1024 * 1024)
    project_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(confinement.__file__))))
    layers["landlock"] = confinement.landlock(args.home, confinement.readable_roots(project_root))
    layers["seccomp"] = confinement.seccomp()
    replies.write(encode_reply({"ok": True, "hello": layers}))
    replies.flush()
    _serve(requests, replies, Worker())


if __name__ == "__main__":
    main()
