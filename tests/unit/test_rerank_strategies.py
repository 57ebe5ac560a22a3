"""The hourly re-ranking: every strategy that passed the gates, from every research run, ranked together
in today's regimes, each deflated against its own run's batch; statuses follow through the domain."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from application.event_codec import decode, encode
from application.pipeline_selection import Scoring, candidates, record_statuses, select
from application.ports.event_store import EventStore, NewEvent, WrongExpectedVersion
from application.ports.market_data import UnknownSymbol
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.rerank_strategies import RerankReport, RerankStrategies
from application.strategy_repository import StrategyRepository
from domain.classification.portfolio import SelectionRules
from domain.classification.scorer import ScoreBounds, ScoreWeights
from domain.events import DomainEvent
from domain.lifecycle import Strategy, StrategyStatus
from domain.research_events import CandidateEvaluated, PipelineCandidatesChosen, PipelineRunStarted, StrategiesReranked

T0 = datetime(2026, 3, 2, 12, tzinfo=UTC)
SCORING = Scoring(ScoreWeights(), ScoreBounds(), SelectionRules(top_n=3))
LOSES_IN_TRENDS = {"trend/high": {"trades": 12, "pnl": -40.0, "win_rate": 0.25}}


def result(sid: str, *, sharpe: float = 0.1, expectancy: float = 0.005, kind: str = "MOM", passed: bool = True,
           symbols: tuple[str, ...] = ("BTC",), regimes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A stored evaluation as evaluate_candidate writes it; `sharpe` is per bar, over 17000 bars."""
    rng = np.random.default_rng(list(sid.encode()))
    days = pd.date_range("2025-06-01", periods=200, freq="D")
    return {
        "strategy_id": sid, "name": f"name-{sid}", "strategy_type": kind, "timeframe": "1h", "passed_gates": passed,
        "gate_reasons": [] if passed else ["shuffle p 0.40 > 0.05"], "validation": None, "symbols": list(symbols),
        "metrics": {"sharpe_ratio": 2.0, "win_rate": 0.55, "total_trades": 120, "max_drawdown": 0.1,
                    "expectancy": expectancy, "consistency": 0.7},
        "shuffle_p_value": 0.01, "test_sharpes": [1.5, 1.6, 1.4],
        "moments": {"sharpe": sharpe, "skew": 0.0, "kurtosis": 3.0, "observations": 17000},
        "daily_returns": {d.date().isoformat(): float(r) for d, r in zip(days, rng.normal(0, 0.01, 200), strict=True)},
        "regimes": regimes or {},
    }


class World:
    """In-memory stores with research runs written as a ResearchPipeline writes them."""

    def __init__(self, store: EventStore | None = None) -> None:
        self.store: EventStore = store or InMemoryEventStore()
        self.read_models = InMemoryReadModels()
        self.projections = ProjectionRunner(self.store, self.read_models, ALL_PROJECTIONS)
        self.repository = StrategyRepository(self.store)
        self.clock = ManualClock(T0)

    def research_run(self, run_id: str, results: Sequence[dict[str, Any]], scoring: Scoring = SCORING) -> None:
        """The run's stream and the statuses its own selection (of its batch alone) gave."""
        for r in results:
            self.repository.save(Strategy.generate(r["strategy_id"], r["name"], r["strategy_type"], r["timeframe"],
                                                   "code", "offline", at=T0 - timedelta(days=1)))
        ids = tuple(r["strategy_id"] for r in results)
        self.append(PipelineRunStarted(aggregate_id=run_id, request={"count": len(results)}),
                    PipelineCandidatesChosen(aggregate_id=run_id, strategy_ids=ids),
                    *(CandidateEvaluated(aggregate_id=run_id, strategy_id=r["strategy_id"], result=r) for r in results))
        pool, decisions = select(results, scoring, None)
        record_statuses(self.repository, run_id, pool, decisions, {r["strategy_id"]: r for r in results},
                        T0 - timedelta(hours=1), (T0 - timedelta(days=200), T0 - timedelta(days=1)))

    def append(self, *events: DomainEvent) -> None:
        for event in events:
            self.store.append(event.stream_id, [encode(event)], None)

    def rerank(self, candles: Any = None, scoring: Scoring = SCORING, regime_filter: bool = True) -> RerankReport:
        use_case = RerankStrategies(self.repository, self.store, self.read_models, self.clock, scoring,
                                    regime_filter=regime_filter, catch_up=self.projections.catch_up)
        return use_case.run(candles or Market())

    def status(self, sid: str) -> tuple[StrategyStatus, int | None]:
        strategy = self.repository.get(sid)
        return strategy.status, strategy.rank

    def selected(self) -> list[tuple[str, int]]:
        self.projections.catch_up()
        rows = self.read_models.rows("strategies", {"status": "SELECTED"})
        return sorted(((r["strategy_id"], r["rank"]) for r in rows), key=lambda p: p[1])

    def rankings(self) -> list[StrategiesReranked]:
        return [e for e in map(decode, self.store.read_stream("ranking-classification"))
                if isinstance(e, StrategiesReranked)]


def hourly(tail: str, n: int = 1000) -> pd.DataFrame:
    """1h candles whose last day is a strong, volatile climb ("trend": trend/high) or tiny back and forth
    ("range": range/low)."""
    rng = np.random.default_rng(5)
    moves = rng.normal(0, 0.004, n)
    moves[-30:] = 0.01 + rng.normal(0, 0.006, 30) if tail == "trend" else np.tile([0.001, -0.001], 15)
    close = 100 * np.exp(np.cumsum(moves))
    index = pd.date_range(end=T0 - timedelta(hours=1), periods=n, freq="1h", tz="UTC", name="timestamp")
    return pd.DataFrame({"open": close, "high": close, "low": close, "close": close, "volume": 1.0}, index=index)


@dataclass
class Market:
    """A CandleSource whose symbols end in the regime set for them; others are unknown."""

    tails: dict[str, str] = field(default_factory=lambda: {"BTC": "range"})
    synthetic: frozenset[str] = frozenset()

    def load(self, symbol: str, timeframe: str) -> pd.DataFrame:
        if symbol not in self.tails:
            raise UnknownSymbol(f"{symbol} {timeframe}: not cached")
        frame = hourly(self.tails[symbol])
        frame.attrs["synthetic"] = symbol in self.synthetic
        return frame

    def default_symbols(self, timeframe: str) -> list[str]:
        return sorted(self.tails)


def two_runs(world: World) -> None:
    """Run A: a wide batch (high benchmark), its top three selected; run B: two close Sharpe ratios (low
    benchmark), both selected. B's pair pass the DSR against B and would fail it against A and B mixed."""
    world.research_run("run-A", [
        result("a1", sharpe=0.10, expectancy=0.009, kind="MOM"), result("a2", sharpe=0.095, expectancy=0.007,
                                                                         kind="REV"),
        result("a3", sharpe=0.09, expectancy=0.005, kind="TRN"), result("a4", sharpe=0.0, passed=False),
        result("a5", sharpe=-0.02, passed=False)])
    world.research_run("run-B", [result("b1", sharpe=0.05, expectancy=0.008, kind="BRE"),
                                 result("b2", sharpe=0.045, expectancy=0.006, kind="VOL")])


def test_the_pool_of_every_run_is_ranked_together_each_deflated_against_its_own_batch() -> None:
    world = World()
    two_runs(world)
    assert world.selected() == [("a1", 1), ("b1", 1), ("a2", 2), ("b2", 2), ("a3", 3)], "each run ranked alone"
    mixed = {c.strategy_id: c.deflated_sharpe for c in candidates(
        [e.result for e in map(decode, world.store.read_all()) if isinstance(e, CandidateEvaluated)], SCORING)}
    assert mixed["b1"] is not None and mixed["b1"] < 0.95, "precondition: a mixed pool would refuse b1"

    report = world.rerank()

    assert report.selected == ("a1", "b1", "a2") and world.selected() == [("a1", 1), ("b1", 2), ("a2", 3)]
    assert report.newly_selected == () and set(report.reranked) == {"b1", "a2"}
    assert set(report.deselected) == {"b2", "a3"} and report.pool == 5 and report.unrankable == {}
    for sid in ("b2", "a3"):
        strategy = world.repository.get(sid)
        assert strategy.status is StrategyStatus.TESTED and strategy.rank is None
        assert strategy.deselected_reason == report.deselected[sid]
        assert strategy.deselected_reason.startswith(f"re-ranking {report.ranking_id}: not in the top 3 by score")
    [ranking] = world.rankings()
    assert ranking.event_id == report.ranking_id and ranking.selected == ("a1", "b1", "a2")
    assert ranking.deselected == dict(report.deselected) and ranking.current_regimes == {"BTC": "range/low"}
    again = world.rerank()
    assert not again.changed and len(world.rankings()) == 1, "an unchanged ranking writes nothing"


def test_a_single_run_reranked_in_unchanged_regimes_keeps_its_own_selection() -> None:
    world = World()
    world.research_run("run-A", [result("a1", expectancy=0.009), result("a2", expectancy=0.007, kind="REV"),
                                 result("a3", sharpe=0.0, passed=False)])
    head = world.store.head_position()
    report = world.rerank(regime_filter=False)
    assert report.selected == ("a1", "a2") and not report.changed
    assert world.store.head_position() == head, "the run's own ranking, reproduced: nothing to write"


def test_a_regime_change_flips_the_selection_and_back() -> None:
    world = World()
    world.research_run("run-C", [result("c1", expectancy=0.009, regimes=LOSES_IN_TRENDS),
                                 result("c2", expectancy=0.004, kind="REV")],
                       Scoring(ScoreWeights(), ScoreBounds(), SelectionRules(top_n=1)))
    scoring = Scoring(ScoreWeights(), ScoreBounds(), SelectionRules(top_n=1))
    assert not world.rerank(Market({"BTC": "range"}), scoring).changed and world.selected() == [("c1", 1)]

    trend = world.rerank(Market({"BTC": "trend"}), scoring)
    assert trend.current_regimes == {"BTC": "trend/high"} and trend.selected == ("c2",)
    assert trend.newly_selected == ("c2",) and world.selected() == [("c2", 1)]
    assert "lost money in the current regime trend/high of BTC" in trend.deselected["c1"]
    assert world.repository.get("c1").deselected_reason == trend.deselected["c1"]

    assert world.rerank(Market({"BTC": "trend"}), scoring, regime_filter=False).selected == ("c1",)
    back = world.rerank(Market({"BTC": "trend"}), scoring)
    assert back.selected == ("c2",)
    back = world.rerank(Market({"BTC": "range"}), scoring)
    assert back.selected == ("c1",) and "not in the top 1" in back.deselected["c2"]


def test_a_synthetic_or_missing_market_gives_no_regime_and_no_veto() -> None:
    world = World()
    world.research_run("run-C", [result("c1", expectancy=0.009, regimes=LOSES_IN_TRENDS, symbols=("BTC", "ETH"))])
    report = world.rerank(Market({"BTC": "trend"}, synthetic=frozenset({"BTC"})))
    assert report.current_regimes == {} and report.selected == ("c1",)
    assert "synthetic" in report.unknown_regimes["BTC"] and "UnknownSymbol" in report.unknown_regimes["ETH"]


def test_live_strategies_are_left_alone_and_take_no_place_in_the_ranking() -> None:
    world = World()
    two_runs(world)
    live = world.repository.get("a1")
    live.deploy(1, "paper", at=T0)
    world.repository.save(live)
    version = world.store.stream_version("strategy-a1")

    report = world.rerank()

    assert world.store.stream_version("strategy-a1") == version and world.status("a1") == (StrategyStatus.LIVE, 1)
    assert "a1" not in report.selected and report.pool == 4
    assert world.selected() == [("b1", 1), ("a2", 2), ("b2", 3)], "top_n counts SELECTED only, as a research run"


def test_no_strategy_in_the_pool_writes_nothing() -> None:
    world = World()
    world.research_run("run-F", [result("f1", passed=False), result("f2", passed=False)])
    head = world.store.head_position()
    report = world.rerank()
    assert report.pool == 0 and report.selected == () and not report.changed
    assert world.store.head_position() == head and world.rankings() == []
    assert World().rerank().pool == 0


def test_unreadable_stored_results_name_the_strategy_and_rank_the_others() -> None:
    world = World()
    two_runs(world)
    world.research_run("run-D", [result("d1", expectancy=0.0095, kind="TRN")])
    assert world.status("d1") == (StrategyStatus.SELECTED, 1)
    broken = {**result("d1"), "regimes": {"trend/high": {"bogus": 1}}}  # a later schema, or a damaged row
    world.append(CandidateEvaluated(aggregate_id="run-D", strategy_id="d1", result=broken))
    orphan = Strategy.generate("e1", "orphan", "MOM", "1h", "code", "offline", at=T0)
    orphan.record_backtest(backtest_id="manual-1", symbol="BTC", timeframe="1h", period_start=T0 - timedelta(days=9),
                           period_end=T0, total_trades=50, win_rate=0.5, sharpe=1.0, total_return=0.1,
                           max_drawdown=0.1, expectancy=0.01, at=T0)
    orphan.mark_tested("manual-1", at=T0)
    world.repository.save(orphan)

    report = world.rerank()

    assert report.selected == ("a1", "b1", "a2"), "the other runs are ranked as if nothing were wrong"
    assert set(report.unrankable) == {"d1", "e1"}
    assert "research run run-D cannot be read (TypeError" in report.unrankable["d1"]
    assert "not tested by a research run" in report.unrankable["e1"]
    d1 = world.repository.get("d1")
    assert d1.status is StrategyStatus.TESTED and "cannot be ranked" in (d1.deselected_reason or "")
    assert world.status("e1") == (StrategyStatus.TESTED, None)
    assert world.rankings()[-1].unrankable == dict(report.unrankable)


class RefusingStore(InMemoryEventStore):
    """Another writer gets to these streams first."""

    def __init__(self, streams: Iterable[str]) -> None:
        super().__init__()
        self.refused = set(streams)

    def append(self, stream_id: str, events: Sequence[NewEvent], expected_version: int | None) -> int:
        if stream_id in self.refused and expected_version is not None:
            raise WrongExpectedVersion(stream_id, expected_version, expected_version + 1)
        return super().append(stream_id, events, expected_version)


def test_a_strategy_changed_meanwhile_keeps_its_status_and_the_rest_is_saved() -> None:
    store = RefusingStore([])
    world = World(store)
    two_runs(world)
    store.refused = {"strategy-b1"}
    report = world.rerank()
    assert "WrongExpectedVersion" in report.conflicts["b1"] and "b1" not in report.reranked
    assert world.status("b1") == (StrategyStatus.SELECTED, 1) and world.status("a2") == (StrategyStatus.SELECTED, 3)
    assert set(report.deselected) == {"b2", "a3"}


def test_the_stored_result_must_match_its_strategy() -> None:
    world = World()
    world.research_run("run-A", [result("a1")])
    world.append(PipelineRunStarted(aggregate_id="run-X"))
    stray = Strategy.generate("x1", "stray", "MOM", "1h", "code", "offline", at=T0)
    stray.record_backtest(backtest_id="run-X:x1", symbol="BTC", timeframe="1h", period_start=T0 - timedelta(days=9),
                          period_end=T0, total_trades=50, win_rate=0.5, sharpe=1.0, total_return=0.1,
                          max_drawdown=0.1, expectancy=0.01, at=T0)
    stray.mark_tested("run-X:x1", at=T0)
    world.repository.save(stray)
    report = world.rerank()
    assert report.unrankable == {"x1": "not among the evaluated candidates of research run run-X"}
    assert report.selected == ("a1",)


@pytest.mark.parametrize("tail", ["trend", "range"])
def test_the_test_market_ends_in_the_regime_it_claims(tail: str) -> None:
    from domain.classification.regimes import RegimeWindows, current_regime

    expected = "trend/high" if tail == "trend" else "range/low"
    assert str(current_regime(hourly(tail), RegimeWindows.for_timeframe("1h"))) == expected
