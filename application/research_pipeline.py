"""Use case: one research run, generate -> validate -> backtest -> walk-forward -> shuffle -> deflate ->
score -> select.

Progress is events on the run's stream (pipeline-{id}): the request, the candidates chosen, each
candidate evaluated, the completion. `resume(run_id)` reads them back and does only what is left,
so a killed run finishes with the same selection an uninterrupted one would have given. Candidates
are evaluated in the batch runner's workers; everything that writes (events, statuses) happens
here, in one process.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from contextlib import closing
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from application.evaluate_candidate import CandidateTask, failed_result
from application.event_codec import decode, encode
from application.generate_strategies import GenerateStrategies, GenerationRequest
from application.pipeline_holdout import HoldoutEvaluator
from application.pipeline_selection import Scoring, record_statuses, select
from application.ports.batch_runner import BatchRunner
from application.ports.candle_source import CandleSource
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.strategy_repository import StrategyRepository
from domain.candles import TIMEFRAME_MINUTES, last_days
from domain.classification.errors import InsufficientHistory
from domain.classification.regimes import Regime, RegimeWindows, current_regime
from domain.errors import DomainError
from domain.events import DomainEvent
from domain.research_events import (
    CandidateEvaluated,
    PipelineCandidatesChosen,
    PipelineRunCompleted,
    PipelineRunStarted,
    validation_outcome,
)

logger = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
Evaluate = Callable[[Any, CandidateTask], dict[str, Any]]


class PipelineRunNotFound(DomainError):
    """No research run with this id."""


@dataclass(frozen=True)
class PipelineRequest:
    count: int
    seed: int = 0
    symbols: tuple[str, ...] = ()
    days: int = 180
    holdout_days: int = 0
    strategy_type: str | None = None
    timeframe: str | None = None

    def __post_init__(self) -> None:
        if self.count < 1 or self.days < 1 or self.holdout_days < 0:
            raise DomainError("a pipeline run needs count >= 1, days >= 1 and holdout_days >= 0")


@dataclass(frozen=True)
class EvaluationContext:
    """Sent once to each worker: the run's candles and how to evaluate."""

    frames: Mapping[tuple[str, str], pd.DataFrame]
    symbols: tuple[str, ...]
    settings: Mapping[str, Any] = field(default_factory=dict)


class ResearchPipeline:
    def __init__(self, generate: GenerateStrategies, runner: BatchRunner, evaluate: Evaluate,
                 repository: StrategyRepository, events: EventStore, clock: Clock, scoring: Scoring,
                 worker_settings: Mapping[str, Any], holdout: HoldoutEvaluator | None = None, *,
                 regime_filter: bool = True, new_id: Callable[[], str] = lambda: str(uuid.uuid4())) -> None:
        self._regime_filter = regime_filter
        self._generate = generate
        self._runner = runner
        self._evaluate = evaluate
        self._repository = repository
        self._events = events
        self._clock = clock
        self._scoring = scoring
        self._worker_settings = dict(worker_settings)
        self._holdout = holdout
        self._new_id = new_id

    def run(self, request: PipelineRequest, candles: CandleSource, progress: Progress | None = None,
            run_id: str | None = None) -> dict[str, Any]:
        run_id = run_id or self._new_id()
        self._append(PipelineRunStarted(aggregate_id=run_id, occurred_at=self._clock.now(), request=asdict(request)))
        return self._continue(run_id, request, [], candles, progress)

    def resume(self, run_id: str, candles: CandleSource, progress: Progress | None = None) -> dict[str, Any]:
        stored = [decode(e) for e in self._events.read_stream(f"pipeline-{run_id}")]
        if not stored or not isinstance(stored[0], PipelineRunStarted):
            raise PipelineRunNotFound(f"no pipeline run {run_id!r}")
        done = [e for e in stored if isinstance(e, PipelineRunCompleted)]
        if done:
            return {**done[-1].report, "resumed": True}
        raw = dict(stored[0].request)
        request = PipelineRequest(**{**raw, "symbols": tuple(raw.get("symbols") or ())})
        return self._continue(run_id, request, stored, candles, progress, resumed=True)

    def _continue(self, run_id: str, request: PipelineRequest, stored: list[DomainEvent], candles: CandleSource,
                  progress: Progress | None, resumed: bool = False) -> dict[str, Any]:
        step = progress or (lambda _done, _total, _label: None)
        chosen = next((e for e in stored if isinstance(e, PipelineCandidatesChosen)), None)
        if chosen is None:
            generation = self._generate.execute(
                GenerationRequest(count=request.count, strategy_type=request.strategy_type,
                                  timeframe=request.timeframe, seed=request.seed), candles,
                lambda done, total, label: step(done, total * 2, f"generating {label}"))
            ids = tuple(dict.fromkeys(r.strategy_id for r in generation.results if r.strategy_id))
            summary = {k: v for k, v in generation.to_json_dict().items() if k != "strategies"}
            chosen = PipelineCandidatesChosen(aggregate_id=run_id, occurred_at=self._clock.now(), strategy_ids=ids,
                                              generation=summary)
            self._append(chosen)
        results = {e.strategy_id: e.result for e in stored if isinstance(e, CandidateEvaluated)}
        frames, symbols = self._frames(request, candles, chosen.strategy_ids)
        todo = [self._task(sid) for sid in chosen.strategy_ids if sid not in results]
        total = len(chosen.strategy_ids)
        if todo:
            context = EvaluationContext(frames, symbols, self._worker_settings)
            tasks = {t.strategy_id: t for t in todo}
            with closing(self._runner.run(self._evaluate, [(t.strategy_id, t) for t in todo], shared=context)) as outs:
                for outcome in outs:  # closing: a failure here cancels what has not run yet
                    result = outcome.result if outcome.result is not None else failed_result(
                        tasks[outcome.key], f"evaluation crashed: {outcome.error}")
                    results[outcome.key] = result
                    self._record_evaluation(run_id, result)
                    step(total + len(results), total * 2, f"evaluated {result['name']}")
        ordered = [results[sid] for sid in chosen.strategy_ids if sid in results]
        return self._complete(run_id, request, ordered, frames, symbols, chosen.generation, resumed, candles)

    def _frames(self, request: PipelineRequest, candles: CandleSource,
                ids: tuple[str, ...]) -> tuple[dict[tuple[str, str], pd.DataFrame], tuple[str, ...]]:
        timeframes = sorted({self._repository.get(sid).timeframe for sid in ids})
        frames: dict[tuple[str, str], pd.DataFrame] = {}
        symbols = request.symbols or tuple(candles.default_symbols(timeframes[0] if timeframes else "1h"))
        for timeframe in timeframes:
            for symbol in symbols:
                full = last_days(candles.load(symbol, timeframe), timeframe, request.days + request.holdout_days)
                frames[(symbol, timeframe)] = _before_holdout(full, request.holdout_days)
        return frames, tuple(symbols)

    def _task(self, strategy_id: str) -> CandidateTask:
        s = self._repository.get(strategy_id)
        return CandidateTask(s.id, s.name, s.strategy_type, s.timeframe, s.code)

    def _record_evaluation(self, run_id: str, result: dict[str, Any]) -> None:
        at, sid = self._clock.now(), result["strategy_id"]
        validation = result.get("validation")
        if validation is not None:
            self._append(validation_outcome(
                passed=bool(result["passed_gates"]), reasons=tuple(result["gate_reasons"]),
                validation_id=f"{run_id}-{sid}", occurred_at=at, strategy_id=sid, origin=result["name"],
                code_sha256="", report=validation))
        self._append(CandidateEvaluated(aggregate_id=run_id, occurred_at=at, strategy_id=sid, result=result))

    def _complete(self, run_id: str, request: PipelineRequest, results: list[dict[str, Any]],
                  frames: Mapping[tuple[str, str], pd.DataFrame], symbols: tuple[str, ...],
                  generation: Mapping[str, Any], resumed: bool, candles: CandleSource) -> dict[str, Any]:
        current = self._current_regimes(frames) if self._regime_filter else {}
        pool, decisions = select(results, self._scoring, current or None)
        by_id = {r["strategy_id"]: r for r in results}
        starts = [f.index[0] for f in frames.values() if len(f)] or [pd.Timestamp(self._clock.now())]
        ends = [f.index[-1] for f in frames.values() if len(f)] or [pd.Timestamp(self._clock.now())]
        record_statuses(self._repository, run_id, pool, decisions, by_id, self._clock.now(),
                        (min(starts).to_pydatetime(), max(ends).to_pydatetime()))
        chosen = [d for d in decisions if d.selected]
        report: dict[str, Any] = {
            "run_id": run_id, "candidates": len(results), "passed": sum(1 for r in results if r["passed_gates"]),
            "selected": [{"name": d.name, "strategy_id": d.strategy_id, "score": d.score, "rank": d.rank,
                          "reasons": list(d.reasons)} for d in chosen],
            "decisions": [{"name": d.name, "strategy_id": d.strategy_id, "selected": d.selected, "score": d.score,
                           "reasons": list(d.reasons)} for d in decisions],
            "generation": dict(generation), "current_regimes": {s: str(r) for s, r in current.items()},
            "request": asdict(request), "out_of_sample": None,
            "synthetic": sorted(f"{s} {tf}" for (s, tf), f in frames.items() if f.attrs.get("synthetic")),
        }
        if report["synthetic"]:
            logger.warning("pipeline %s evaluated on the SYNTHETIC market for %s: not real prices", run_id,
                           ", ".join(report["synthetic"]))
        if request.holdout_days and chosen and self._holdout is not None:
            report["out_of_sample"] = self._holdout.report(
                days=request.days, holdout_days=request.holdout_days, candles=candles,
                selected=[by_id[d.strategy_id] for d in chosen], symbols=symbols)
        self._append(PipelineRunCompleted(aggregate_id=run_id, occurred_at=self._clock.now(),
                                          selected=tuple(d.strategy_id for d in chosen), report=report))
        return {**report, "resumed": resumed}

    @staticmethod
    def _current_regimes(frames: Mapping[tuple[str, str], pd.DataFrame]) -> dict[str, Regime]:
        """Each symbol's regime at the end of the run's data, read on its finest timeframe."""
        finest: dict[str, str] = {}
        for symbol, timeframe in frames:
            if symbol not in finest or TIMEFRAME_MINUTES[timeframe] < TIMEFRAME_MINUTES[finest[symbol]]:
                finest[symbol] = timeframe
        found = {}
        for symbol, timeframe in sorted(finest.items()):
            try:
                found[symbol] = current_regime(frames[(symbol, timeframe)], RegimeWindows.for_timeframe(timeframe))
            except InsufficientHistory as exc:
                logger.info("no current regime for %s: %s", symbol, exc)
        return found

    def _append(self, event: DomainEvent) -> None:
        self._events.append(event.stream_id, [encode(event, correlation_id=event.aggregate_id)], None)


def _before_holdout(frame: pd.DataFrame, days: int) -> pd.DataFrame:
    if not days or frame.empty:
        return frame
    return frame.loc[frame.index < frame.index[-1] - pd.Timedelta(days=days)]

