"""The StrategySandbox port on confined worker processes (worker.py), reused across calls.

The host screens the code first (so a refusal costs no process), then asks a worker. Whatever
happens there, the host gets a SandboxRejection with one line of reason, or checked frames
rebuilt on its own candle index. Each worker serves one call at a time; calls that overlap
(the live loop deciding several subaccounts at once, a validation run beside it) get workers
of their own, up to `workers` (default: one per CPU), started only when all are busy
(worker_pool.py). A dead worker is replaced.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from adapters.sandbox.screen import screen
from adapters.sandbox.wire import BYTES_PER_ROW, WireError, decode_frames
from adapters.sandbox.worker_pool import Broken, WorkerPool
from adapters.sandbox.worker_process import SandboxLimits, WorkerDied, WorkerProcess
from application.ports.strategy_sandbox import SandboxRejection, StrategyInfo
from domain.errors import InvalidSignal
from domain.signal_frame import check_last_rows, checked_columns
from domain.validation.violations import Violation

logger = logging.getLogger(__name__)

_REASON_CHARS = 500
_KEYS_KEPT = 8
_SCREENS_KEPT = 64
_KINDS = {"screen", "load", "contract", "runtime", "timeout", "cpu", "memory", "crash"}


class ProcessSandbox:
    """`require` names the kernel layers without which untrusted code must not run."""

    def __init__(self, limits: SandboxLimits | None = None, require: tuple[str, ...] = ("seccomp",),
                 *, screen_code: bool = True, workers: int | None = None) -> None:
        self.limits = limits or SandboxLimits()
        self._screen_code = screen_code  # False only in tests that prove the kernel layers alone
        self._pool = WorkerPool(self.limits, require, workers if workers is not None else os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._keys: OrderedDict[tuple[tuple[str, int], ...], tuple[str, dict[str, pd.DataFrame]]] = OrderedDict()
        self._screened: OrderedDict[tuple[str, str], list[Violation]] = OrderedDict()

    def inspect(self, code: str, origin: str, params: Mapping[str, Any] | None = None) -> StrategyInfo:
        header, _ = self._call({"op": "inspect", "code": code, "origin": origin, "params": dict(params or {})}, None)
        return _info(header.get("info"))

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame], last_rows: int | None = None) -> dict[str, pd.DataFrame]:
        check_last_rows(last_rows)
        key = self._key_of(frames)
        message = {"op": "signals", "code": code, "origin": origin, "params": dict(params or {}), "data_key": key,
                   "frames": None, "last_rows": last_rows}
        _, columns = self._call(message, frames)
        out = {}
        for name, frame in frames.items():
            index = frame.index[len(frame) - _rows(frame, last_rows):]
            try:
                out[name] = checked_columns(columns[name], index, "strategy")
            except InvalidSignal as exc:
                raise SandboxRejection("contract", f"{origin}: {exc}") from None
        return out

    def _key_of(self, frames: Mapping[str, pd.DataFrame]) -> str:
        """The content hash of `frames`, remembered for the same frame objects (a walk-forward grid asks
        for the same candles dozens of times; hashing them costs more than the strategy)."""
        identity = tuple((name, id(frame)) for name, frame in frames.items())
        with self._lock:
            found = self._keys.get(identity)
            if found is not None:
                self._keys.move_to_end(identity)
                return found[0]
        key = _data_key(frames)
        with self._lock:
            self._keys[identity] = (key, dict(frames))  # holding the frames keeps their ids from being reused
            while len(self._keys) > _KEYS_KEPT:
                self._keys.popitem(last=False)
        return key

    def _screen(self, code: str, origin: str) -> list[Violation]:
        """The screen's findings, remembered: the live loop sends the same code every bar, and
        screening it costs a quarter of what computing its signals does."""
        key = (origin, code)
        with self._lock:
            found = self._screened.get(key)
            if found is not None:
                self._screened.move_to_end(key)
                return found
        found = screen(code, origin)
        with self._lock:
            self._screened[key] = found
            while len(self._screened) > _SCREENS_KEPT:
                self._screened.popitem(last=False)
        return found

    def layers(self) -> dict[str, Any]:
        """The confinement a worker runs under (starting one if needed)."""
        with self._pool.lease() as worker:
            return dict(worker.layers)

    @property
    def _worker(self) -> WorkerProcess | None:
        """The worker the latest call used, while it lives (tests look at its home and pid)."""
        return self._pool.last

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> ProcessSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, message: dict[str, Any], frames: Mapping[str, pd.DataFrame] | None,
              ) -> tuple[dict[str, Any], dict[str, dict[str, np.ndarray]]]:
        """The worker's reply header and, for signals, the columns of each frame it computed."""
        origin = message["origin"]
        if self._screen_code:
            violations = self._screen(message["code"], origin)
            if violations:
                raise SandboxRejection("screen", f"{origin}: {violations[0]}", tuple(violations), violations[0].line)
        message["cpu_seconds"] = self.limits.cpu_seconds
        message["guarded"] = self._screen_code
        key = message.get("data_key")
        try:
            with self._pool.lease(key) as worker:
                header, payload = self._ask(worker, message, frames)
                if header.get("ok") is True:
                    return header, {} if frames is None else _columns(header, payload, frames, message)
        except Broken as broken:
            raise broken.rejection from None
        raise _rejection(header, origin)

    @staticmethod
    def _ask(worker: WorkerProcess, message: dict[str, Any], frames: Mapping[str, pd.DataFrame] | None,
             ) -> tuple[dict[str, Any], bytes]:
        """The worker's reply; Broken when the worker is not to be used again."""
        origin = message["origin"]
        if frames is not None and message["data_key"] not in worker.sent_data:
            message = {**message, "frames": dict(frames)}
        rows = 0 if frames is None else sum(_rows(f, message.get("last_rows")) for f in frames.values())
        expected = rows * BYTES_PER_ROW
        try:
            header, payload = worker.request(message, expected)
            if header.get("kind") == "missing_data" and frames is not None:
                header, payload = worker.request({**message, "frames": dict(frames)}, expected)
        except WorkerDied as died:
            raise Broken(SandboxRejection(died.kind, f"{origin}: {died.reason}")) from None  # type: ignore[arg-type]
        except WireError as exc:
            raise Broken(SandboxRejection("crash", f"{origin}: {exc}")) from None
        if frames is not None:
            worker.sent_data.add(message["data_key"])
        if header.get("ok") is not True and header.get("kind") == "memory":
            raise Broken(_rejection(header, origin))  # a worker that ran out of memory may be in a bad state
        return header, payload


def _rejection(header: dict[str, Any], origin: str) -> SandboxRejection:
    kind: Any = header.get("kind") if header.get("kind") in _KINDS else "crash"
    line = header.get("line") if isinstance(header.get("line"), int) else None
    return SandboxRejection(kind, f"{origin}: {_reason(header)}", _violations(header.get("violations")), line)


def _rows(frame: pd.DataFrame, last_rows: int | None) -> int:
    """Rows the worker must send back for `frame`: all, or the last `last_rows`."""
    return len(frame) if last_rows is None else min(len(frame), last_rows)


def _columns(header: dict[str, Any], payload: bytes, frames: Mapping[str, pd.DataFrame],
             message: dict[str, Any]) -> dict[str, dict[str, np.ndarray]]:
    try:
        rows = {k: _rows(f, message.get("last_rows")) for k, f in frames.items()}
        return decode_frames(header.get("frames"), payload, rows)
    except WireError as exc:
        raise Broken(SandboxRejection("crash", f"{message['origin']}: the worker sent a malformed reply ({exc})"),
                     ) from None


def _data_key(frames: Mapping[str, pd.DataFrame]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for name, frame in frames.items():
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(pd.DatetimeIndex(frame.index).asi8).tobytes())
        digest.update(np.ascontiguousarray(frame.to_numpy(dtype=float)).tobytes())
        digest.update(",".join(map(str, frame.columns)).encode())
    return digest.hexdigest()


def _reason(header: dict[str, Any]) -> str:
    reason = str(header.get("reason") or "refused")[:_REASON_CHARS].replace("\n", " ")
    line = header.get("line")
    return f"line {line}: {reason}" if isinstance(line, int) else reason


def _violations(found: object) -> tuple[Violation, ...]:
    if not isinstance(found, list):
        return ()
    out = []
    for v in found[:50]:
        if isinstance(v, dict):
            line = v.get("line")
            out.append(Violation(str(v.get("rule"))[:80], line if isinstance(line, int) else None,
                                 str(v.get("message"))[:_REASON_CHARS]))
    return tuple(out)


def _info(found: object) -> StrategyInfo:
    if not isinstance(found, dict):
        raise SandboxRejection("crash", "the worker sent no strategy description")
    try:
        return StrategyInfo(
            class_name=str(found["class_name"])[:200], strategy_type=str(found["strategy_type"])[:20],
            timeframe=str(found["timeframe"]), params=dict(found["params"]),
            default_params=dict(found["default_params"]), param_grid={str(k): list(v) for k, v in
                                                                    dict(found["param_grid"]).items()},
            legacy=bool(found["legacy"]), warmup_bars=int(found["warmup_bars"]),
        )
    except (KeyError, TypeError, ValueError):
        raise SandboxRejection("crash", "the worker sent a malformed strategy description") from None
