"""The StrategySandbox port on a confined worker process (worker.py), reused across calls.

The host screens the code first (so a refusal costs no process), then asks the worker. Whatever
happens there, the host gets a SandboxRejection with one line of reason, or checked frames
rebuilt on its own candle index. Calls are serialised on one worker; a dead worker is replaced.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from adapters.sandbox.screen import screen
from adapters.sandbox.wire import BYTES_PER_ROW, WireError, decode_frames
from adapters.sandbox.worker_process import SandboxLimits, WorkerDied, WorkerProcess
from application.ports.strategy_sandbox import SandboxRejection, StrategyInfo
from domain.errors import InvalidSignal
from domain.signal_frame import checked_frame
from domain.validation.violations import Violation

logger = logging.getLogger(__name__)

_REASON_CHARS = 500
_KEYS_KEPT = 8
_KINDS = {"screen", "load", "contract", "runtime", "timeout", "cpu", "memory", "crash"}


class ProcessSandbox:
    """`require` names the kernel layers without which untrusted code must not run."""

    def __init__(self, limits: SandboxLimits | None = None, require: tuple[str, ...] = ("seccomp",),
                 *, screen_code: bool = True) -> None:
        self.limits = limits or SandboxLimits()
        self._require = require
        self._screen_code = screen_code  # False only in tests that prove the kernel layers alone
        self._worker: WorkerProcess | None = None
        self._lock = threading.Lock()
        self._keys: OrderedDict[tuple[tuple[str, int], ...], tuple[str, dict[str, pd.DataFrame]]] = OrderedDict()

    def inspect(self, code: str, origin: str, params: Mapping[str, Any] | None = None) -> StrategyInfo:
        header, _ = self._call({"op": "inspect", "code": code, "origin": origin, "params": dict(params or {})})
        return _info(header.get("info"))

    def signals(self, code: str, origin: str, params: Mapping[str, Any] | None,
                frames: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
        key = self._key_of(frames)
        message = {"op": "signals", "code": code, "origin": origin, "params": dict(params or {}), "data_key": key,
                   "frames": None}
        header, payload = self._call(message, frames)
        try:
            columns = decode_frames(header.get("frames"), payload, {k: len(f) for k, f in frames.items()})
        except WireError as exc:
            self._discard()
            raise SandboxRejection("crash", f"{origin}: the worker sent a malformed reply ({exc})") from None
        out = {}
        for name, frame in frames.items():
            try:
                out[name] = checked_frame(pd.DataFrame(columns[name], index=frame.index), frame.index, "strategy")
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

    def layers(self) -> dict[str, Any]:
        """The confinement the current worker runs under (starting one if needed)."""
        with self._lock:
            return dict(self._ensure().layers)

    def close(self) -> None:
        with self._lock:
            self._discard()

    def __enter__(self) -> ProcessSandbox:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def _call(self, message: dict[str, Any], frames: Mapping[str, pd.DataFrame] | None = None,
              ) -> tuple[dict[str, Any], bytes]:
        origin = message["origin"]
        if self._screen_code:
            violations = screen(message["code"], origin)
            if violations:
                raise SandboxRejection("screen", f"{origin}: {violations[0]}", tuple(violations), violations[0].line)
        message["cpu_seconds"] = self.limits.cpu_seconds
        message["guarded"] = self._screen_code
        with self._lock:
            worker = self._ensure()
            if frames is not None and message["data_key"] not in worker.sent_data:
                message["frames"] = dict(frames)
            expected = sum(len(f) for f in frames.values()) * BYTES_PER_ROW if frames is not None else 0
            try:
                header, payload = worker.request(message, expected)
                if header.get("kind") == "missing_data" and frames is not None:
                    header, payload = worker.request({**message, "frames": dict(frames)}, expected)
            except WorkerDied as died:
                self._discard()
                raise SandboxRejection(died.kind, f"{origin}: {died.reason}") from None  # type: ignore[arg-type]
            except WireError as exc:
                self._discard()
                raise SandboxRejection("crash", f"{origin}: {exc}") from None
            if frames is not None:
                worker.sent_data.add(message["data_key"])
            if header.get("ok") is True:
                return header, payload
            kind = header.get("kind") if header.get("kind") in _KINDS else "crash"
            if kind == "memory":
                self._discard()  # a worker that ran out of memory may be in a bad state
        line = header.get("line") if isinstance(header.get("line"), int) else None
        raise SandboxRejection(kind, f"{origin}: {_reason(header)}", _violations(header.get("violations")), line)

    def _ensure(self) -> WorkerProcess:
        if self._worker is None or not self._worker.alive:
            self._discard()
            try:
                self._worker = WorkerProcess(self.limits)
            except (WorkerDied, WireError) as exc:
                raise SandboxRejection("crash", f"the sandbox worker did not start: {exc}") from None
            missing = [layer for layer in self._require if not self._worker.layers.get(layer)]
            if missing:
                self._discard()
                raise SandboxRejection("crash", f"the sandbox needs {', '.join(missing)} and this machine "
                                                "does not provide it: untrusted code will not run here")
            logger.info("sandbox worker started", extra={"sandbox_layers": self._worker.layers})
        return self._worker

    def _discard(self) -> None:
        if self._worker is not None:
            self._worker.kill()
            self._worker = None


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
