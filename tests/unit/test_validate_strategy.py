"""ValidateStrategy on in-memory stores and the in-process sandbox: the gate's decisions and its records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.validate_strategy import ValidationRequest
from application.validation_policy import ValidationPolicy
from domain.backtest import InsufficientData
from tests.sandbox_cases import HEADER
from tests.validation_support import validator

GRID = 'default_params = {"lag": 1, "size": 0.5}\n    param_grid = {"lag": [1, 2, 3]}'
FOLLOWER = HEADER.replace('default_params = {"period": 5}', GRID) + '''\
        moved = df["close"].diff(self.params["lag"])
        return pd.DataFrame({"long_entry": moved > 0, "short_entry": moved < 0, "exit": False,
                             "size": self.params["size"], "sl_pct": np.nan, "tp_pct": np.nan}, index=df.index)
'''
PEEKING = FOLLOWER.replace('moved = df["close"].diff(self.params["lag"])',
                           'moved = df["close"] - df["close"].mean()')


class TrendingCandles:
    """Returns with strong positive autocorrelation: following the last move is a real, timing-based edge."""

    def __init__(self, bars: int = 3000) -> None:
        rng = np.random.default_rng(7)
        noise = rng.normal(0, 0.003, bars)
        returns = np.zeros(bars)
        for t in range(1, bars):
            returns[t] = 0.6 * returns[t - 1] + noise[t]
        close = 100 * np.exp(np.cumsum(returns))
        open_ = np.concatenate([[100.0], close[:-1]])
        index = pd.date_range("2025-01-01", periods=bars, freq="15min", tz="UTC", name="timestamp")
        self.frame = pd.DataFrame({"open": open_, "high": np.maximum(open_, close) * 1.0005,
                                   "low": np.minimum(open_, close) * 0.9995, "close": close, "volume": 1.0},
                                  index=index)

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        return self.frame

    def default_symbols(self, timeframe: str) -> list[str]:
        return ["SYN"]


def project(store: InMemoryEventStore) -> InMemoryReadModels:
    read_models = InMemoryReadModels()
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    return read_models


def test_a_real_edge_passes_and_the_outcome_is_an_event() -> None:
    store = InMemoryEventStore()
    stages: list[tuple[float, str]] = []
    report = validator(InProcessSandbox(), store).execute(ValidationRequest(code=FOLLOWER, origin="follower.py"),
                                                          TrendingCandles(), lambda f, s: stages.append((f, s)))
    result = report.to_json_dict()
    assert result["passed"] is True, result["reasons"]
    assert result["shuffle_p_value"] == pytest.approx(1 / 101) and result["deflated_sharpe"] is not None
    assert stages[-1] == (1.0, "done") and [f for f, _ in stages] == sorted(f for f, _ in stages)
    assert set(result["stage_seconds"]) >= {"ast", "sandbox_load", "prefix_check", "backtest", "shuffle"}
    (event,) = [e for e in store.read_all() if e.stream_id.startswith("validation-")]
    assert event.event_type == "StrategyValidated" and event.payload["report"]["shuffle_p_value"] == pytest.approx(
        1 / 101)
    read_models = project(store)
    (row,) = read_models.rows("validation_results")
    assert row["passed"] is True and row["strategy_id"] == report.strategy_id
    (strategy,) = read_models.rows("strategies")
    assert strategy["validation_status"] == "VALIDATED" and strategy["latest_validation_id"] == report.validation_id


def test_lookahead_stops_the_run_before_any_backtest() -> None:
    store = InMemoryEventStore()
    report = validator(InProcessSandbox(), store).execute(ValidationRequest(code=PEEKING, origin="peek.py"),
                                                          TrendingCandles())
    assert report.ast_ok is False and report.lookahead_free is False and report.shuffle is None
    rules = {v.rule for v in report.violations}
    assert rules == {"global_statistic", "prefix_invariance"}
    (event,) = [e for e in store.read_all() if e.stream_id.startswith("validation-")]
    assert event.event_type == "StrategyRejected" and "lookahead" in event.payload["reasons"][0]


def test_walk_forward_rejects_when_out_of_sample_sharpe_is_too_low() -> None:
    strict = ValidationPolicy(shuffle_iterations=100, prefix_max_bars=3000, min_sharpe=1e6)
    report = validator(InProcessSandbox(), policy=strict).execute(
        ValidationRequest(code=FOLLOWER, origin="follower.py", walk_forward=True), TrendingCandles())
    assert report.passed is False and report.walk_forward is not None
    assert len(report.walk_forward["windows"]) == 4
    assert any(r.startswith("walk-forward:") and "window" in r for r in report.reasons)


def test_the_deflated_sharpe_ratio_falls_with_the_number_of_trials() -> None:
    run = validator(InProcessSandbox()).execute
    alone = run(ValidationRequest(code=FOLLOWER, origin="f.py"), TrendingCandles()).deflated
    crowd = run(ValidationRequest(code=FOLLOWER, origin="f.py", trials=1000, sharpe_variance=0.01),
                TrendingCandles()).deflated
    assert alone is not None and crowd is not None and crowd.sr0 > alone.sr0 == 0.0 and crowd.dsr < alone.dsr


def test_too_little_data_is_an_error_not_a_rejection() -> None:
    with pytest.raises(InsufficientData, match="needs more than"):
        validator(InProcessSandbox()).execute(ValidationRequest(code=FOLLOWER.replace('"lag": 1', '"lag": 5000'),
                                                                origin="f.py"), TrendingCandles())


def test_a_sandbox_rejection_is_recorded_with_its_line() -> None:
    store = InMemoryEventStore()
    code = FOLLOWER.replace('        moved = ', '        raise ValueError("bad day")\n        moved = ')
    report = validator(InProcessSandbox(), store).execute(ValidationRequest(code=code, origin="f.py"),
                                                          TrendingCandles())
    assert report.sandbox_ok is False and report.error is not None and "bad day" in report.error
    assert report.violations[0].rule == "sandbox_runtime" and report.violations[0].line == 13


OLD_STYLE = '''import numpy as np
import pandas as pd

from domain.strategy import Signal, StrategyCore


class OldStyle(StrategyCore):
    type = "MOM"
    timeframe = "15m"
    default_params = {"lookback": 3}

    def generate_signal(self, df):
        if len(df) <= self.params["lookback"]:
            return None
        last, before = float(df["close"].iloc[-1]), float(df["close"].iloc[-1 - self.params["lookback"]])
        if last > before:
            return Signal(direction="long", size=0.5, stop_loss=last * 0.98, take_profit=None, reason="up")
        return Signal(direction="close", size=1.0, stop_loss=None, take_profit=None, reason="down")
'''


class FrameSizes(InProcessSandbox):
    """The in-process sandbox, noting the longest frame of every signals() call."""

    def __init__(self) -> None:
        super().__init__()
        self.longest: list[int] = []

    def signals(self, code: str, origin: str, params: Any, frames: Any, last_rows: int | None = None) -> Any:
        self.longest.append(max(len(frame) for frame in frames.values()))
        return super().signals(code, origin, params, frames, last_rows)


def test_an_old_style_strategy_is_validated_on_a_bounded_prefix() -> None:
    """Bar by bar, every prefix would cost minutes: the check runs on the last legacy_prefix_bars bars."""
    policy = ValidationPolicy(shuffle_iterations=100, prefix_max_bars=3000, legacy_prefix_bars=300)
    sandbox = FrameSizes()
    report = validator(sandbox, policy=policy).execute(
        ValidationRequest(code=OLD_STYLE, origin="old.py", days=10), TrendingCandles(bars=1200))
    assert report.sandbox_ok and report.ast_ok and report.prefix_ok is True, report.violations
    assert max(sandbox.longest) > 300, "the full-history signals saw every bar"
    assert sorted(sandbox.longest)[0] <= 300, "the prefix check saw the last 300 bars at most"
