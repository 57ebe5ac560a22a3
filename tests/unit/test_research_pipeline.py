"""ResearchPipeline: events as progress, a killed run resumed to the same selection, reasons, statuses."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from adapters.memory.batch_runner import InlineBatchRunner
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from application.ports.batch_runner import TaskOutcome
from application.projections.read_models import ALL_PROJECTIONS
from application.projections.runner import ProjectionRunner
from application.research_pipeline import PipelineRequest, PipelineRunNotFound
from domain.classification.portfolio import SelectionRules
from tests.pipeline_support import RandomWalkCandles, pipeline

LENIENT = SelectionRules(top_n=3, min_score=0, min_sharpe=-100, min_win_rate=0, min_trades=1, max_drawdown=1.0,
                         max_p_value=None, min_deflated_sharpe=None, max_correlation=1.0)
REQUEST = PipelineRequest(count=8, seed=3, days=90)


class Killed(Exception):
    pass


class DiesAfter(InlineBatchRunner):
    """Evaluates `n` candidates, then the process 'dies' (the exception a kill would be)."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def run(self, fn: Any, tasks: Any, *, shared: Any = None) -> Generator[TaskOutcome[Any, Any], None, None]:
        for done, outcome in enumerate(super().run(fn, tasks, shared=shared)):
            if done == self.n:
                raise Killed
            yield outcome


def lenient_run(runner: InlineBatchRunner, store: InMemoryEventStore) -> dict[str, Any]:
    return pipeline(runner, store, rules=LENIENT, gates_open=True).run(REQUEST, RandomWalkCandles(days=120))


def test_a_killed_run_resumes_without_redoing_work_and_selects_the_same() -> None:
    whole = lenient_run(InlineBatchRunner(), InMemoryEventStore())
    store = InMemoryEventStore()
    with pytest.raises(Killed):
        lenient_run(DiesAfter(3), store)
    evaluated = [e for e in store.read_all() if e.event_type == "CandidateEvaluated"]
    assert len(evaluated) == 3
    counted = InlineBatchRunner()
    resumed = pipeline(counted, store, rules=LENIENT, gates_open=True).resume("run-0", RandomWalkCandles(days=120))
    again = [e for e in store.read_all() if e.event_type == "CandidateEvaluated"]
    assert len(again) == whole["candidates"] and len({e.payload["strategy_id"] for e in again}) == len(again)
    assert [s["name"] for s in resumed["selected"]] == [s["name"] for s in whole["selected"]]
    assert resumed["selected"] and resumed["resumed"] is True
    assert [d["name"] for d in resumed["decisions"]] == [d["name"] for d in whole["decisions"]]
    again_runner = pipeline(InlineBatchRunner(), store, rules=LENIENT, gates_open=True)
    finished = again_runner.resume("run-0", RandomWalkCandles(days=120))
    assert finished["selected"] == resumed["selected"]  # a completed run is only reported again


def test_statuses_move_through_the_domain_and_the_read_models_show_the_run() -> None:
    store = InMemoryEventStore()
    report = lenient_run(InlineBatchRunner(), store)
    read_models = InMemoryReadModels()
    ProjectionRunner(store, read_models, ALL_PROJECTIONS).catch_up()
    statuses = {r["name"]: r["status"] for r in read_models.rows("strategies")}
    chosen = {s["name"] for s in report["selected"]}
    assert chosen and all(statuses[name] == "SELECTED" for name in chosen)
    assert all(statuses[n] in ("TESTED", "PENDING") for n in statuses if n not in chosen)
    (run,) = read_models.rows("pipeline_runs")
    assert run["status"] == "completed" and run["candidates"] == report["candidates"]
    assert sorted(run["selected"]) == sorted(s["strategy_id"] for s in report["selected"])
    assert len(read_models.rows("validation_results")) == report["candidates"]


def test_the_holdout_report_gives_in_and_out_of_sample_sharpe() -> None:
    report = pipeline(InlineBatchRunner(), InMemoryEventStore(), rules=LENIENT, gates_open=True).run(
        PipelineRequest(count=6, seed=3, days=60, holdout_days=20), RandomWalkCandles(days=120))
    oos = report["out_of_sample"]
    assert oos["holdout_days"] == 20 and oos["strategies"]
    assert 15 <= oos["out_of_sample"]["days"] <= 21 and oos["in_sample"]["days"] >= 40


def test_an_unknown_run_is_an_error() -> None:
    with pytest.raises(PipelineRunNotFound):
        pipeline(InlineBatchRunner(), InMemoryEventStore()).resume("nope", RandomWalkCandles())
