"""The null test: on a pure random walk no strategy has an edge, and the pipeline must select none.

200 generated candidates through the real process pool and the confined sandbox: across that many
tries some always look good in-sample, and every gate together must still refuse them all.
"""

from __future__ import annotations

import pytest

from adapters.local.process_pool import ProcessPoolRunner
from adapters.memory.event_store import InMemoryEventStore
from application.research_pipeline import PipelineRequest
from tests.pipeline_support import RandomWalkCandles, pipeline


@pytest.mark.parametrize("search", [False, True], ids=["windows", "grid-search"])
def test_no_strategy_is_selected_on_a_random_walk(search: bool) -> None:
    """Both walk-forward modes (pipeline.walk_forward: windows, the default, and optimise)."""
    store = InMemoryEventStore()
    with ProcessPoolRunner(2) as runner:
        report = pipeline(runner, store, isolation="process", search=search).run(
            PipelineRequest(count=200, seed=5, days=120), RandomWalkCandles(days=150))
    assert report["candidates"] >= 200 and report["selected"] == []
    assert len(report["decisions"]) == report["candidates"]
    assert all(d["reasons"] for d in report["decisions"])
    looked_good = [d for d in report["decisions"] if d["score"] >= 50]
    assert all(not d["selected"] for d in looked_good)
    evaluated = [e for e in store.read_all() if e.event_type == "CandidateEvaluated"]
    assert len(evaluated) == report["candidates"]
