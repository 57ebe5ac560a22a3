"""The worker keeps what it loaded: the live loop asks for the same strategies every bar."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adapters.sandbox import worker as worker_module
from adapters.sandbox.worker import Worker

CODE = '''
import pandas as pd
from domain.strategy import StrategyCore


class Flat(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    default_params = {"period": 3}
    param_grid = {"period": [3]}

    def signals(self, df):
        return pd.DataFrame({"long_entry": False, "short_entry": False, "exit": False, "size": 0.5,
                             "sl_pct": float("nan"), "tp_pct": float("nan")}, index=df.index)
'''


def _frames() -> dict[str, pd.DataFrame]:
    index = pd.date_range("2026-01-01", periods=20, freq="1h", tz="UTC")
    close = np.linspace(100.0, 120.0, 20)
    return {"BTC": pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close,
                                 "volume": 1.0}, index=index)}


def _ask(worker: Worker, origin: str, frames: dict[str, pd.DataFrame] | None) -> dict[str, object]:
    header, _ = worker.handle({"op": "signals", "code": CODE, "origin": origin, "params": {}, "data_key": "bar-1",
                               "frames": frames, "last_rows": 1, "cpu_seconds": 30.0, "guarded": True})
    return header


def test_ten_strategies_asked_in_turn_are_each_loaded_once(monkeypatch: pytest.MonkeyPatch) -> None:
    loads: list[str] = []
    real = worker_module.load_class
    monkeypatch.setattr(worker_module, "load_class", lambda code, origin, guarded: loads.append(origin) or
                        real(code, origin, guarded=guarded))
    worker = Worker()
    origins = [f"strategy-{n}" for n in range(1, 11)]
    for bar in range(3):
        for n, origin in enumerate(origins):
            assert _ask(worker, origin, _frames() if bar == n == 0 else None)["ok"] is True
    assert loads == origins


def test_the_classes_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(worker_module, "_CLASSES_KEPT", 4)
    worker = Worker()
    for n in range(6):
        _ask(worker, f"strategy-{n}", _frames() if n == 0 else None)
    assert len(worker.classes) == 4
