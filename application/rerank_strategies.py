"""Use case: re-rank every strategy that passed the gates, across all research runs, in today's regimes.

A research run ranks only its own batch, and its regime filter used the regimes of its run's data;
a symbol's regime changes by the hour. So every `classification.frequency_hours` the pool (TESTED
and SELECTED strategies, whichever run found them) is ranked again by `build_portfolio` with each
symbol's regime at the last cached bar, and the statuses follow: TESTED -> SELECTED for the newly
chosen, a new score and rank for a SELECTED one that moved, SELECTED -> TESTED with the reasons for
one no longer chosen. Deployment and rotation take SELECTED strategies by rank, so they always see
this ranking.

Rules, and why:
- The deflated Sharpe of each candidate is the one its own research run computed: the candidate's
  run is read back (every CandidateEvaluated of pipeline-{run}, failed candidates included) and
  `pipeline_selection.candidates` deflates it against that batch again, which gives the same
  number. A DSR says how likely the Sharpe survives the search that found it; that search was the
  run's batch, so deflating against a pool mixed from other runs would judge it by trials it
  never competed in. The score is recomputed from the stored metrics with the configured weights
  (it is not relative to a batch), so a change of weights applies at the next ranking.
- LIVE and RETIRED strategies are neither ranked nor counted against top_n, max_per_type,
  max_per_timeframe or max_correlation, as in a research run's selection: SELECTED is the bench
  deployment and rotation draw from, and a LIVE strategy leaves it when it is deployed.
- A regime on the synthetic market (no cached candles for the symbol) is not used: it says nothing
  about today's market. Symbols without a regime are not checked, as in the portfolio builder.
- A strategy whose stored results cannot be read is unrankable: named with the reason, and a
  SELECTED one is deselected (nothing vouches for it any more); every other strategy is ranked.
- A strategy written by someone else meanwhile (WrongExpectedVersion) keeps what it has; the next
  ranking decides it.

A ranking that moved something is a StrategiesReranked event (ranking-classification); the job's
run itself is a SchedulerJobRan either way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from application.event_codec import decode, encode
from application.pipeline_selection import Scoring, candidates
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore, WrongExpectedVersion
from application.ports.market_data import MarketDataError
from application.ports.read_models import ReadModelStore
from application.strategy_repository import StrategyRepository
from domain.candles import TIMEFRAME_MINUTES
from domain.classification.errors import InvalidClassificationInput
from domain.classification.portfolio import Candidate, Decision, build_portfolio
from domain.classification.regimes import Regime, RegimeWindows, current_regime
from domain.errors import DomainError
from domain.event_ids import new_event_id
from domain.lifecycle import Strategy, StrategyStatus
from domain.research_events import CandidateEvaluated, PipelineEvent, StrategiesReranked

logger = logging.getLogger(__name__)

RANKING_STREAM = "classification"
"""The aggregate id of every StrategiesReranked: one stream, ranking-classification, holds them all."""
POOL = (StrategyStatus.TESTED, StrategyStatus.SELECTED)


class UnreadableResults(DomainError):
    """A research run's stored results that cannot be read back into candidates."""


@dataclass(frozen=True)
class RerankReport:
    ranking_id: str
    pool: int
    selected: tuple[str, ...] = ()
    """The new ranking, best first."""
    newly_selected: tuple[str, ...] = ()
    reranked: tuple[str, ...] = ()
    """Still selected, with a new score or rank."""
    deselected: Mapping[str, str] = field(default_factory=dict)
    unrankable: Mapping[str, str] = field(default_factory=dict)
    conflicts: Mapping[str, str] = field(default_factory=dict)
    """Changed by another writer meanwhile, or refused by the domain: left as they are for the next ranking."""
    current_regimes: Mapping[str, str] = field(default_factory=dict)
    unknown_regimes: Mapping[str, str] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.newly_selected or self.reranked or self.deselected)


class RerankStrategies:
    def __init__(self, repository: StrategyRepository, events: EventStore, read_models: ReadModelStore,
                 clock: Clock, scoring: Scoring, *, regime_filter: bool = True,
                 catch_up: Callable[[], object] | None = None) -> None:
        self._repository = repository
        self._events = events
        self._read_models = read_models
        self._clock = clock
        self._scoring = scoring
        self._regime_filter = regime_filter
        self._catch_up = catch_up

    def run(self, candles: CandleSource) -> RerankReport:
        """Rank the pool in the regimes `candles` end in; no pool, nothing written."""
        if self._catch_up is not None:
            self._catch_up()
        ranking_id = new_event_id()
        strategies = self._pool()
        if not strategies:
            return RerankReport(ranking_id, 0)
        pool, unrankable = self._candidates(strategies)
        current, unknown = current_regimes(candles, pool) if self._regime_filter and pool else ({}, {})
        decisions = build_portfolio(pool, self._scoring.rules, current or None)
        report = self._apply(ranking_id, strategies, decisions, unrankable,
                             {s: str(r) for s, r in current.items()}, unknown)
        if report.changed:
            self._record(report)
        logger.info("strategies re-ranked", extra={
            "ranking_id": ranking_id, "pool": report.pool, "selected": len(report.selected),
            "newly_selected": len(report.newly_selected), "reranked": len(report.reranked),
            "deselected": len(report.deselected), "unrankable": len(report.unrankable),
            "conflicts": len(report.conflicts), "current_regimes": dict(report.current_regimes)})
        return report

    def _pool(self) -> list[Strategy]:
        """TESTED and SELECTED by the read model, kept only where the strategy's own stream agrees."""
        ids = sorted({row["strategy_id"] for status in POOL
                      for row in self._read_models.rows("strategies", {"status": status.value})})
        loaded = [self._repository.get(strategy_id) for strategy_id in ids]
        return [s for s in loaded if s.status in POOL]

    def _candidates(self, strategies: Sequence[Strategy]) -> tuple[list[Candidate], dict[str, str]]:
        """Each strategy as its research run scored it (DSR against that run's batch), or why not."""
        unrankable: dict[str, str] = {}
        by_run: dict[str, list[Strategy]] = {}
        for strategy in strategies:
            run_id = research_run_of(strategy)
            if run_id is None:
                unrankable[strategy.id] = (f"not tested by a research run (tested on backtest "
                                           f"{strategy.tested_backtest_id!r}): no stored results to rank it by")
            else:
                by_run.setdefault(run_id, []).append(strategy)
        pool: list[Candidate] = []
        for run_id, members in sorted(by_run.items()):
            try:
                batch = {c.strategy_id: c for c in candidates(self._results(run_id), self._scoring)}
            except (DomainError, KeyError, TypeError, ValueError) as exc:
                why = f"the stored results of research run {run_id} cannot be read ({type(exc).__name__}: {exc})"
                unrankable.update({s.id: why for s in members})
                continue
            for strategy in members:
                if strategy.id in batch:
                    pool.append(batch[strategy.id])
                else:
                    unrankable[strategy.id] = f"not among the evaluated candidates of research run {run_id}"
        for strategy_id, why in sorted(unrankable.items()):
            logger.warning("strategy %s cannot be ranked: %s", strategy_id, why)
        return pool, unrankable

    def _results(self, run_id: str) -> list[dict[str, Any]]:
        """The run's whole batch, in evaluation order; a candidate evaluated twice counts once, last wins."""
        recorded = self._events.read_stream(f"{PipelineEvent.stream_prefix}-{run_id}")
        if not recorded:
            raise UnreadableResults(f"no research run {run_id} in the event store")
        found: dict[str, dict[str, Any]] = {}
        for event in map(decode, recorded):
            if isinstance(event, CandidateEvaluated):
                found[event.strategy_id] = event.result
        return list(found.values())

    def _apply(self, ranking_id: str, strategies: Sequence[Strategy], decisions: Sequence[Decision],
               unrankable: Mapping[str, str], current: dict[str, str], unknown: dict[str, str]) -> RerankReport:
        by_id = {s.id: s for s in strategies}
        newly: list[str] = []
        reranked: list[str] = []
        deselected: dict[str, str] = {}
        conflicts: dict[str, str] = {}
        at = self._clock.now()
        steps = [(d.strategy_id, d) for d in decisions] + [(i, None) for i in sorted(unrankable)]
        for strategy_id, decision in steps:
            strategy = by_id[strategy_id]
            before = strategy.status
            try:
                if decision is None:
                    if before == StrategyStatus.SELECTED:
                        strategy.deselect(f"re-ranking {ranking_id}: cannot be ranked: {unrankable[strategy_id]}"
                                          [:500], at=at)
                elif decision.selected:
                    score, rank = round(decision.score, 4), decision.rank or 1
                    if before == StrategyStatus.TESTED or (strategy.score, strategy.rank) != (score, rank):
                        strategy.select(score, rank, at=at)
                elif before == StrategyStatus.SELECTED:
                    strategy.deselect(f"re-ranking {ranking_id}: " + "; ".join(decision.reasons)[:500], at=at)
                changed = strategy.version != strategy.stored_version
                self._repository.save(strategy, correlation_id=ranking_id)
            except (WrongExpectedVersion, DomainError) as exc:
                conflicts[strategy_id] = f"{type(exc).__name__}: {exc}"
                logger.warning("re-ranking %s: %s keeps its status %s (%s)", ranking_id, strategy_id, before.value,
                               conflicts[strategy_id])
                continue
            if not changed:
                continue
            if strategy.status == StrategyStatus.TESTED:
                deselected[strategy_id] = strategy.deselected_reason or ""
            elif before == StrategyStatus.TESTED:
                newly.append(strategy_id)
            else:
                reranked.append(strategy_id)
        selected = tuple(d.strategy_id for d in decisions if d.selected and d.strategy_id not in conflicts)
        return RerankReport(ranking_id, len(strategies), selected, tuple(newly), tuple(reranked), deselected,
                            dict(unrankable), conflicts, current, unknown)

    def _record(self, report: RerankReport) -> None:
        event = StrategiesReranked(
            aggregate_id=RANKING_STREAM, event_id=report.ranking_id, occurred_at=self._clock.now(),
            pool=report.pool, selected=report.selected, newly_selected=report.newly_selected,
            reranked=report.reranked, deselected=dict(report.deselected), unrankable=dict(report.unrankable),
            current_regimes=dict(report.current_regimes))
        self._events.append(event.stream_id, [encode(event, correlation_id=report.ranking_id)], None)


def research_run_of(strategy: Strategy) -> str | None:
    """The research run that tested it: record_statuses names its backtest "{run_id}:{strategy_id}"."""
    tested, suffix = strategy.tested_backtest_id, f":{strategy.id}"
    if tested is None or not tested.endswith(suffix) or len(tested) == len(suffix):
        return None
    return tested[: -len(suffix)]


def current_regimes(candles: CandleSource, pool: Sequence[Candidate]) -> tuple[dict[str, Regime], dict[str, str]]:
    """Each symbol's regime at its last bar on the pool's finest timeframe (as a research run reads it),
    and for each symbol without one, why not."""
    timeframe = min({c.timeframe for c in pool}, key=TIMEFRAME_MINUTES.__getitem__)
    symbols = {s for c in pool for s in c.symbols}
    if any(not c.symbols for c in pool):
        symbols.update(candles.default_symbols(timeframe))
    windows = RegimeWindows.for_timeframe(timeframe)
    found: dict[str, Regime] = {}
    unknown: dict[str, str] = {}
    for symbol in sorted(symbols):
        try:
            frame = candles.load(symbol, timeframe)
            if frame.attrs.get("synthetic"):
                unknown[symbol] = f"no cached {timeframe} candles (only the synthetic market)"
                continue
            found[symbol] = current_regime(frame, windows)
        except (MarketDataError, InvalidClassificationInput) as exc:
            unknown[symbol] = f"{type(exc).__name__}: {exc}"
    for symbol, why in unknown.items():
        logger.warning("no current regime for %s %s: %s", symbol, timeframe, why)
    return found, unknown
