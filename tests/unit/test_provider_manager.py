"""ProviderManager on scripted providers with a fake clock and sleep: rotation, retries,
fallback, the circuit breaker and the spending cap, judged by what each provider received."""

from __future__ import annotations

import itertools
import logging
import threading
from typing import Any

import pytest

from adapters.memory.ai_provider import ScriptedProvider
from application.ports.ai_provider import (
    AIError,
    AIProvider,
    NoProviderAvailable,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
    SpendingCapReached,
)
from application.provider_manager import ProviderManager


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def manager(*providers: tuple[AIProvider, float], time: FakeTime, cap: float = 100.0,
            **options: Any) -> ProviderManager:
    return ProviderManager(list(providers), spending_cap_usd=cap, sleep=time.sleep, clock=time.clock, **options)


def ok(name: str, cost: float = 0.0) -> ScriptedProvider:
    return ScriptedProvider(name, itertools.repeat(f"from {name}"), cost_per_call=cost)


def down(name: str) -> ProviderUnavailable:
    return ProviderUnavailable(name, "HTTP 500: boom")


def test_weights_two_to_one_rotate_smoothly() -> None:
    time = FakeTime()
    a, b = ok("a"), ok("b")
    pm = manager((a, 2.0), (b, 1.0), time=time)
    served = [pm.generate("p").provider for _ in range(9)]
    assert served == ["a", "b", "a"] * 3
    assert (a.calls, b.calls) == (6, 3)


def test_zero_weight_provider_serves_only_as_fallback() -> None:
    time = FakeTime()
    main, spare = ScriptedProvider("main", ["one", ProviderRejected("main", "HTTP 400"), "three"]), ok("spare")
    pm = manager((main, 1.0), (spare, 0.0), time=time)
    assert [pm.generate("p").text for _ in range(3)] == ["one", "from spare", "three"]


def test_retryable_errors_are_retried_with_growing_backoff() -> None:
    time = FakeTime()
    flaky = ScriptedProvider("a", [down("a"), down("a"), down("a"), "finally"])
    pm = manager((flaky, 1.0), time=time, failure_threshold=10, backoff_seconds=1.0, max_backoff_seconds=3.0)
    completion = pm.generate("p")
    assert (completion.text, completion.attempts, flaky.calls) == ("finally", 4, 4)
    assert len(time.sleeps) == 3
    for sleep, step in zip(time.sleeps, [1.0, 2.0, 3.0], strict=True):  # capped at max_backoff
        assert step / 2 <= sleep <= step
    assert pm.stats()["a"]["failures"] == 3 and pm.stats()["a"]["circuit"] == "closed"


def test_backoff_jitter_is_reproducible_from_the_seed() -> None:
    def sleeps(seed: int) -> list[float]:
        time = FakeTime()
        pm = ProviderManager([(ScriptedProvider("a", [down("a")] * 3 + ["x"]), 1.0)], spending_cap_usd=1,
                             failure_threshold=10, sleep=time.sleep, clock=time.clock, seed=seed)
        pm.generate("p")
        return time.sleeps
    assert sleeps(7) == sleeps(7)
    assert sleeps(7) != sleeps(8)


def test_retry_after_is_slept_exactly_and_capped() -> None:
    time = FakeTime()
    limited = ScriptedProvider("a", [RateLimited("a", "HTTP 429", retry_after=2.5),
                                     RateLimited("a", "HTTP 429", retry_after=900.0), "ok"])
    pm = manager((limited, 1.0), time=time, failure_threshold=10, max_backoff_seconds=30.0)
    assert pm.generate("p").text == "ok"
    assert time.sleeps == [2.5, 30.0]


def test_exhausted_retries_fall_back_to_the_next_provider(caplog: pytest.LogCaptureFixture) -> None:
    time = FakeTime()
    bad, good = ScriptedProvider("a", itertools.repeat(down("a"))), ok("b")
    pm = manager((bad, 1.0), (good, 1.0), time=time, max_retries=2, failure_threshold=10)
    with caplog.at_level(logging.WARNING, logger="application.provider_manager"):
        completion = pm.generate("the prompt", system="be brief")
    assert (completion.provider, completion.attempts) == ("b", 4)
    assert bad.calls == 3 and good.prompts == ["the prompt"] and good.systems == ["be brief"]
    assert len(time.sleeps) == 2
    assert "falling back" in caplog.text and "retry 1/2" in caplog.text


def test_rejection_falls_back_at_once_without_retry() -> None:
    time = FakeTime()
    rejecting, good = ScriptedProvider("a", itertools.repeat(ProviderRejected("a", "HTTP 401: bad key"))), ok("b")
    pm = manager((rejecting, 1.0), (good, 1.0), time=time)
    completion = pm.generate("p")
    assert (completion.provider, completion.attempts, rejecting.calls, time.sleeps) == ("b", 2, 1, [])


def test_circuit_opens_then_half_opens_and_a_good_trial_closes_it() -> None:
    time = FakeTime()
    a = ScriptedProvider("a", [down("a"), down("a"), down("a"), "a is back", "a again"])
    b = ok("b")
    pm = manager((a, 1.0), (b, 1.0), time=time, max_retries=5, failure_threshold=3, cooldown_seconds=60.0)
    assert pm.generate("p").provider == "b"  # three failed tries open a's circuit, b answers
    assert a.calls == 3 and pm.stats()["a"]["circuit"] == "open"
    for _ in range(4):
        assert pm.generate("p").provider == "b"
    assert a.calls == 3
    time.now += 60.0
    assert pm.stats()["a"]["circuit"] == "half_open"
    served = [pm.generate("p").provider for _ in range(2)]
    assert "a" in served and a.calls == 4
    assert pm.stats()["a"]["circuit"] == "closed"


def test_a_failed_trial_reopens_the_circuit_without_retrying() -> None:
    time = FakeTime()
    a, b = ScriptedProvider("a", itertools.repeat(down("a"))), ok("b")
    pm = manager((a, 1.0), (b, 1.0), time=time, max_retries=5, failure_threshold=2, cooldown_seconds=60.0)
    pm.generate("p")
    assert a.calls == 2
    time.now += 61.0
    pm.generate("p")
    pm.generate("p")
    assert a.calls == 3  # one trial, no retries
    assert pm.stats()["a"]["circuit"] == "open"
    time.now += 59.0
    assert pm.stats()["a"]["circuit"] == "open"  # the cooldown restarted at the failed trial


def test_spending_cap_stops_the_run_at_the_cap() -> None:
    time = FakeTime()
    paid = ok("a", cost=0.4)
    pm = manager((paid, 1.0), time=time, cap=1.0)
    for _ in range(3):
        pm.generate("p")
    with pytest.raises(SpendingCapReached) as caught:
        pm.generate("p")
    assert paid.calls == 3
    assert pm.spent_usd == pytest.approx(1.2)
    assert caught.value.cap_usd == 1.0 and caught.value.spent_usd == pytest.approx(1.2)
    assert isinstance(caught.value, AIError)


def test_zero_cap_makes_no_call() -> None:
    time = FakeTime()
    paid = ok("a")
    with pytest.raises(SpendingCapReached):
        manager((paid, 1.0), time=time, cap=0.0).generate("p")
    assert paid.calls == 0


def test_no_provider_available_lists_each_last_error() -> None:
    time = FakeTime()
    a = ScriptedProvider("a", itertools.repeat(ProviderRejected("a", "HTTP 401: invalid x-api-key")))
    b = ScriptedProvider("b", itertools.repeat(down("b")))
    pm = manager((a, 1.0), (b, 1.0), time=time, max_retries=1, failure_threshold=2)
    with pytest.raises(NoProviderAvailable) as caught:
        pm.generate("p")
    assert caught.value.errors == {"a": "ProviderRejected: HTTP 401: invalid x-api-key",
                                   "b": "ProviderUnavailable: HTTP 500: boom"}
    assert "a: ProviderRejected: HTTP 401" in str(caught.value) and "b: ProviderUnavailable" in str(caught.value)
    with pytest.raises(NoProviderAvailable) as again:  # b is now open-circuited, a rejects again
        pm.generate("p")
    assert again.value.errors["b"].startswith("circuit open (last error: ProviderUnavailable")
    assert b.calls == 2


def test_stats_count_calls_tokens_and_cost_per_provider() -> None:
    time = FakeTime()
    a = ScriptedProvider("a", [down("a"), "12345678"], cost_per_call=0.25)
    pm = manager((a, 1.0), time=time)
    pm.generate("abcd")
    assert pm.stats() == {"a": {"calls": 2, "failures": 1, "cost_usd": 0.25, "input_tokens": 1,
                                "output_tokens": 2, "circuit": "closed"}}


def test_concurrent_calls_keep_exact_books() -> None:
    time = FakeTime()
    a, b = ok("a", cost=0.01), ok("b", cost=0.01)
    pm = manager((a, 1.0), (b, 1.0), time=time)
    threads = [threading.Thread(target=lambda: [pm.generate("p") for _ in range(50)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stats = pm.stats()
    assert stats["a"]["calls"] + stats["b"]["calls"] == 400 == a.calls + b.calls
    assert stats["a"]["calls"] == 200
    assert pm.spent_usd == pytest.approx(4.0)


def test_unexpected_errors_propagate() -> None:
    time = FakeTime()
    pm = manager((ScriptedProvider("a", [ValueError("adapter bug")]), 1.0), (ok("b"), 1.0), time=time)
    with pytest.raises(ValueError, match="adapter bug"):
        pm.generate("p")


@pytest.mark.parametrize(("names", "weights"), [(("a", "a"), (1.0, 1.0)), (("a", "b"), (-1.0, 1.0)),
                                               (("a", "b"), (0.0, 0.0)), (("a", "b"), (float("nan"), 1.0))])
def test_bad_configuration_is_refused(names: tuple[str, str], weights: tuple[float, float]) -> None:
    time = FakeTime()
    with pytest.raises(ValueError):
        manager(*[(ok(name), weight) for name, weight in zip(names, weights, strict=True)], time=time)


def test_no_provider_configured() -> None:
    time = FakeTime()
    with pytest.raises(NoProviderAvailable, match="no AI provider configured"):
        manager(time=time).generate("p")
