"""GenerateStrategies with scripted AI replies, the in-process sandbox and the synthetic market."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.jinja.prompts import JinjaPromptBook
from adapters.memory.ai_provider import ScriptedProvider
from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.pattern_source import InMemoryPatternSource
from adapters.synthetic.candle_source import SyntheticCandleSource
from application.generate_strategies import GenerateStrategies, GenerationRequest
from application.generation_policy import GenerationPolicy
from application.ports.pattern_source import Pattern
from application.provider_manager import ProviderManager
from application.register_strategy import RegisterStrategy
from application.strategy_authoring import NO_CODE, LlmAuthor
from application.strategy_repository import StrategyRepository
from tests.validation_support import validator

NOW = datetime(2026, 1, 2, tzinfo=UTC)
CANDLES = SyntheticCandleSource(end=NOW, days=120, seed=3, symbols=("BTC",))
GOOD = '''```python
"""Momentum on a fast/slow EMA cross."""
import numpy as np
import pandas as pd

from domain.strategy import StrategyCore


class Crossing(StrategyCore):
    type = "MOM"
    timeframe = "1h"
    default_params = {"fast": 10, "slow": 40}
    param_grid = {"fast": [5, 10], "slow": [30, 40]}

    def signals(self, df: pd.DataFrame) -> pd.DataFrame:
        close = df["close"]
        above = close.ewm(span=self.params["fast"]).mean() > close.ewm(span=self.params["slow"]).mean()
        was = above.shift(1, fill_value=False)
        warm = pd.Series(np.arange(len(df)) >= self.params["slow"], index=df.index)
        return pd.DataFrame({"long_entry": above & ~was & warm, "short_entry": ~above & was & warm,
                             "exit": False, "size": 0.5, "sl_pct": 0.02, "tp_pct": 0.04}, index=df.index)
```
A plain crossover.'''
PEEKING = GOOD.replace('above.shift(1, fill_value=False)', 'above.shift(-1, fill_value=False)')


def use_case(replies, store: InMemoryEventStore, *, cap: float = 100.0, cost: float = 0.01, max_fix: int = 2,
             patterns=None, types=("MOM",)) -> tuple[GenerateStrategies, ScriptedProvider]:
    provider = ScriptedProvider("claude", replies, cost_per_call=cost)
    manager = ProviderManager([(provider, 1.0)], spending_cap_usd=cap, sleep=lambda _s: None, clock=lambda: 0.0)
    clock = ManualClock(NOW)
    ids = iter(f"run-{i}" for i in range(100))
    generate = GenerateStrategies(
        LlmAuthor(manager, JinjaPromptBook(), max_fix, label="claude"), validator(InProcessSandbox(), store),
        RegisterStrategy(StrategyRepository(store), clock), StrategyRepository(store), store, clock,
        GenerationPolicy(strategy_types=types, timeframes=("1h",), max_fix_attempts=max_fix), patterns=patterns,
        new_id=lambda: next(ids))
    return generate, provider


def generated(store: InMemoryEventStore) -> list:
    return [e for e in store.read_all() if e.event_type == "StrategyGenerated"]


def test_broken_code_is_repaired_with_the_gate_errors_and_stored_with_provenance() -> None:
    store = InMemoryEventStore()
    generate, provider = use_case([PEEKING, GOOD], store)
    report = generate.execute(GenerationRequest(count=1), CANDLES)
    (result,) = report.results
    assert (result.status, result.attempts) == ("stored", 2)
    assert re.fullmatch(r"Strategy_MOM_[0-9a-f]{8}", result.name)
    fix_prompt = provider.prompts[1]
    assert "negative_shift" in fix_prompt and "shift(-1" in fix_prompt
    (event,) = generated(store)
    payload = event.payload
    assert payload["name"] == result.name and f"class {result.name}(StrategyCore)" in payload["code"]
    assert payload["generator"] == "claude" and "Write one new MOM strategy" in payload["prompt"]
    provenance = payload["provenance"]
    assert provenance["provider"] == "claude" and provenance["model"] == "scripted"
    assert provenance["template_version"].startswith("generate@") and len(provenance["code_sha256"]) == 64
    assert [a["attempt"] for a in provenance["attempts"]] == [1, 2] and provenance["attempts"][0]["errors"]
    assert provenance["cost_usd"] == pytest.approx(0.02) and provenance["attempts"][1]["errors"] == []



def test_a_reply_without_code_is_an_attempt_error() -> None:
    store = InMemoryEventStore()
    generate, _ = use_case(["I would rather not.", GOOD], store)
    (result,) = generate.execute(GenerationRequest(count=1), CANDLES).results
    assert result.status == "stored"
    attempts = generated(store)[0].payload["provenance"]["attempts"]
    assert attempts[0]["errors"] == [NO_CODE]


def test_code_that_never_passes_is_recorded_as_rejected_and_the_batch_goes_on() -> None:
    store = InMemoryEventStore()
    generate, _ = use_case([PEEKING, PEEKING, PEEKING, GOOD], store, max_fix=2)
    report = generate.execute(GenerationRequest(count=2), CANDLES)
    assert [r.status for r in report.results] == ["rejected", "stored"]
    (rejected,) = [e for e in store.read_all() if e.event_type == "GenerationRejected"]
    assert rejected.stream_id.startswith("generation-") and len(rejected.payload["provenance"]["attempts"]) == 3
    assert all("attempt" in r for r in rejected.payload["reasons"])


def test_the_same_strategy_twice_is_stored_once() -> None:
    store = InMemoryEventStore()
    renamed = GOOD.replace("class Crossing", "class Other").replace("A plain crossover.", "Again.")
    generate, _ = use_case([GOOD, renamed], store)
    report = generate.execute(GenerationRequest(count=2), CANDLES)
    assert [r.status for r in report.results] == ["stored", "duplicate"]
    assert report.results[0].strategy_id == report.results[1].strategy_id and len(generated(store)) == 1


def test_the_spending_cap_stops_the_batch_and_keeps_what_was_made() -> None:
    store = InMemoryEventStore()
    generate, provider = use_case([GOOD] + [GOOD.replace("0.04", f"0.0{k}") for k in range(5, 9)], store,
                                  cap=0.25, cost=0.1)
    report = generate.execute(GenerationRequest(count=5), CANDLES)
    assert len(report.results) == 3 and report.stopped and "cap" in report.stopped.lower()
    assert report.spent_usd == pytest.approx(0.3) and len(provider.prompts) == 3
    assert len(generated(store)) == 3


def test_pattern_slots_seed_the_prompt_and_keep_the_pattern_id() -> None:
    pattern = Pattern(pattern_id="pat-rsi", name="rsi dip", description="after oversold RSI prices bounce",
                      condition="rsi_14 < 30", direction="long", timeframe="1h", horizon_bars=8, symbols=("BTC",),
                      test_edge=0.004, test_win_rate=0.56, train_edge=0.005, occurrences=80, tier=1, quality=0.9,
                      source="mined")
    store = InMemoryEventStore()
    generate, provider = use_case([GOOD.replace('type = "MOM"', 'type = "PAT"')], store,
                                  patterns=InMemoryPatternSource([pattern]), types=("PAT",))
    (result,) = generate.execute(GenerationRequest(count=1), CANDLES).results
    assert result.status == "stored" and result.pattern_id == "pat-rsi" and result.name.startswith("Strategy_PAT_")
    assert "rsi_14 < 30" in provider.prompts[0]
    payload = generated(store)[0].payload
    assert payload["pattern_id"] == "pat-rsi" and payload["provenance"]["pattern_ids"] == ["pat-rsi"]


def test_a_timeframe_other_than_the_one_asked_for_is_refused() -> None:
    store = InMemoryEventStore()
    generate, provider = use_case([GOOD.replace('"1h"', '"4h"'), GOOD], store)
    (result,) = generate.execute(GenerationRequest(count=1), CANDLES).results
    assert result.status == "stored" and result.attempts == 2
    assert "it must be '1h' as asked" in provider.prompts[1]
