"""Stored events -> notifications: which facts say what, each told once per target, across restarts
and outages; and the live loop's job that runs the passes."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.notifier import InMemoryNotifier
from adapters.memory.read_models import InMemoryReadModels
from application.event_codec import encode
from application.notification_messages import notification_for
from application.notify_events import CHECKPOINT_PREFIX, EventNotifications
from domain.events import DomainEvent, OrderFilled, StrategyGenerated
from domain.execution_events import (
    DecisionFailed,
    EmergencyStopTriggered,
    OrderRejected,
    PositionReconciled,
    StrategyAssigned,
    StrategyUnassigned,
)
from entrypoints.live_runner import LiveRunner

AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def stop(reason: str, subaccount: str = "2", at: datetime = AT) -> EmergencyStopTriggered:
    return EmergencyStopTriggered(aggregate_id=subaccount, occurred_at=at, strategy_id="s-1", reason=reason)


def fill(at: datetime = AT) -> OrderFilled:
    return OrderFilled(aggregate_id="2", occurred_at=at, order_id="o", strategy_id="s-1", symbol="BTC", side="buy",
                       size=1.0, price=100.0, fee=0.1, filled_at=at)


class World:
    def __init__(self) -> None:
        self.store = InMemoryEventStore()
        self.read_models = InMemoryReadModels()
        self.clock = ManualClock(AT + timedelta(minutes=1))

    def record(self, *events: DomainEvent) -> None:
        for event in events:
            stream = event.stream_id
            self.store.append(stream, [encode(event)], expected_version=self.store.stream_version(stream))

    def dispatcher(self, targets: dict[str, InMemoryNotifier], **options: Any) -> EventNotifications:
        return EventNotifications(self.store, self.read_models, targets, self.clock, **options)


def texts(notifier: InMemoryNotifier) -> list[str]:
    return [n.text for n in notifier.sent]


# --- which facts say what ------------------------------------------------------------------------


def kinds_of(events: Sequence[DomainEvent]) -> list[tuple[str, str, str] | None]:
    notes = [notification_for(e) for e in events]
    return [None if n is None else (n.kind, n.severity, n.title) for n in notes]


def test_each_notifiable_fact_has_its_kind_severity_and_title() -> None:
    events: list[DomainEvent] = [
        stop("emergency stop: drawdown 31% beyond 25%"),
        StrategyAssigned(aggregate_id="1", occurred_at=AT, strategy_id="s-1", mode="paper", capital=100.0),
        StrategyUnassigned(aggregate_id="1", occurred_at=AT, strategy_id="s-1",
                           reason="rotated out for s-2: degraded: live expectancy ..."),
        StrategyAssigned(aggregate_id="1", occurred_at=AT, strategy_id="s-2", mode="paper", capital=100.0,
                         replaces="s-1"),
        StrategyUnassigned(aggregate_id="3", occurred_at=AT, strategy_id="s-3",
                           reason="degraded: live expectancy ...; no SELECTED strategy to replace it"),
        StrategyUnassigned(aggregate_id="4", occurred_at=AT, strategy_id="s-4", reason="manual stop"),
        DecisionFailed(aggregate_id="1", occurred_at=AT, strategy_id="s-2", bar_time="2025-03-01T11:00:00+00:00",
                       error="ZeroDivisionError: division by zero"),
        OrderRejected(aggregate_id="1", occurred_at=AT, order_id="o-1", strategy_id="s-2", symbol="ETH",
                      reason="insufficient margin", code=None),
        PositionReconciled(aggregate_id="1", occurred_at=AT, symbol="SOL", difference="unexpected"),
        fill(),
        StrategyGenerated(aggregate_id="g", occurred_at=AT, name="n", strategy_type="MOM", timeframe="1h",
                          code="", generator="offline"),
    ]
    assert kinds_of(events) == [
        ("emergency_stop", "critical", "Emergency stop on subaccount 2"),
        ("deployment", "info", "Strategy deployed on subaccount 1"),
        ("rotation", "info", "Strategy rotated out of subaccount 1"),
        ("rotation", "info", "Strategy rotated in on subaccount 1"),
        ("rotation", "warning", "Degraded strategy stopped on subaccount 3"),
        ("deployment", "warning", "Strategy stopped on subaccount 4"),
        ("error", "warning", "Decision failed on subaccount 1"),
        ("error", "warning", "Order rejected on subaccount 1"),
        ("error", "warning", "Position differed from the venue on subaccount 1"),
        None,
        None,
    ]
    rotated_in = notification_for(events[3])
    assert rotated_in is not None and rotated_in.notification_id == events[3].event_id
    assert rotated_in.text == "s-2 replaces s-1 with 100.00 USDC (paper)."
    assert dict(rotated_in.fields) == {"subaccount": 1, "strategy_id": "s-2", "replaces": "s-1", "mode": "paper",
                                       "capital": 100.0}
    rejected = notification_for(events[7])
    assert rejected is not None and "code" not in rejected.fields and rejected.occurred_at == AT


# --- exactly once ------------------------------------------------------------------------------


def test_each_event_is_notified_once_and_only_new_ones_later() -> None:
    world = World()
    world.record(stop("a"), fill(), stop("b"))
    chat = InMemoryNotifier()
    dispatcher = world.dispatcher({"chat": chat})
    assert dispatcher.run_once().sent == {"chat": 2}
    assert dispatcher.run_once().sent == {"chat": 0}
    world.record(fill(), stop("c"))
    dispatcher.run_once()
    assert texts(chat) == ["a", "b", "c"]
    assert world.read_models.checkpoint(CHECKPOINT_PREFIX + "chat") == world.store.head_position()


def test_the_checkpoint_survives_a_restart() -> None:
    world = World()
    world.record(stop("a"), stop("b"))
    chat = InMemoryNotifier()
    world.dispatcher({"chat": chat}).run_once()
    world.record(stop("c"))
    restarted = InMemoryNotifier()
    world.dispatcher({"chat": restarted}).run_once()  # a new process: only the stores carry over
    assert texts(chat) == ["a", "b"] and texts(restarted) == ["c"]


def test_small_batches_resume_inside_the_log() -> None:
    world = World()
    world.record(*[stop(str(i)) if i % 2 else fill() for i in range(9)])
    chat = InMemoryNotifier()
    world.dispatcher({"chat": chat}, batch_size=2).run_once()
    assert texts(chat) == ["1", "3", "5", "7"]


# --- failures ------------------------------------------------------------------------------------


def test_a_failed_notification_is_logged_and_retried_first_on_the_next_pass(
        caplog: pytest.LogCaptureFixture) -> None:
    world = World()
    world.record(stop("a"), stop("b"))
    chat = InMemoryNotifier()
    dispatcher = world.dispatcher({"chat": chat})
    dispatcher.run_once()
    world.record(stop("c"), fill(), stop("d"))
    chat.go_down("503 from the bot API")
    result = dispatcher.run_once()
    assert result.failed == {"chat": "in-memory notifier is down: 503 from the bot API"}
    assert result.sent == {"chat": 0} and chat.attempts == 3  # c tried once; d waits behind it
    (failure,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert failure.getMessage() == "notification failed; it is retried on the next pass"
    assert vars(failure)["target"] == "chat" and "503 from the bot API" in vars(failure)["error"]
    assert dispatcher.run_once().failed == {"chat": "in-memory notifier is down: 503 from the bot API"}
    chat.come_back()
    assert dispatcher.run_once().sent == {"chat": 2}
    assert texts(chat) == ["a", "b", "c", "d"]


def test_a_target_that_is_down_holds_back_only_itself() -> None:
    world = World()
    world.record(stop("a"), stop("b"))
    chat, hook = InMemoryNotifier(), InMemoryNotifier()
    hook.go_down("connection refused")
    result = world.dispatcher({"chat": chat, "hook": hook}).run_once()
    assert result.sent == {"chat": 2, "hook": 0} and set(result.failed) == {"hook"}
    hook.come_back()
    world.record(stop("c"))
    world.dispatcher({"chat": chat, "hook": hook}).run_once()
    assert texts(chat) == ["a", "b", "c"] and texts(hook) == ["a", "b", "c"]


def test_an_unexpected_error_is_raised_not_swallowed() -> None:
    class Broken:
        def notify(self, notification: object) -> None:
            raise RuntimeError("bug in a notifier")

    world = World()
    world.record(stop("a"))
    with pytest.raises(RuntimeError, match="bug in a notifier"):
        world.dispatcher({"broken": Broken()}).run_once()  # type: ignore[dict-item]
    assert world.read_models.checkpoint(CHECKPOINT_PREFIX + "broken") == 0


# --- filters -------------------------------------------------------------------------------------


def test_only_the_configured_kinds_are_sent() -> None:
    world = World()
    world.record(stop("a"), StrategyAssigned(aggregate_id="1", occurred_at=AT, strategy_id="s-1", mode="paper",
                                             capital=100.0))
    chat = InMemoryNotifier()
    world.dispatcher({"chat": chat}, kinds=["deployment"]).run_once()
    assert [n.kind for n in chat.sent] == ["deployment"]
    with pytest.raises(ValueError, match="unknown notification kinds"):
        world.dispatcher({"chat": chat}, kinds=["party"])


def test_events_older_than_max_age_are_skipped_and_counted() -> None:
    world = World()
    world.record(stop("old", at=AT - timedelta(days=3)), stop("fresh"))
    chat = InMemoryNotifier()
    result = world.dispatcher({"chat": chat}, max_age=timedelta(hours=1)).run_once()
    assert texts(chat) == ["fresh"] and result.skipped_stale == 1


def test_without_targets_nothing_is_read() -> None:
    world = World()
    world.record(stop("a"))
    assert world.dispatcher({}).run_once().sent == {}


# --- the live loop's job --------------------------------------------------------------------------


class QuietSession:
    def start(self) -> list[Any]:
        return []

    def on_candle_close(self, timeframe: str) -> list[Any]:
        return []

    def check(self) -> list[Any]:
        return []

    def rotate(self) -> list[Any]:
        return []

    def stop(self) -> None:
        return None


def run_briefly(runner: LiveRunner, stop_loop: threading.Event, stop_once_scheduled: bool = False) -> set[str]:
    """Run the loop until `stop_loop` is set (or 10 s), and return the job ids it scheduled.
    `stop_once_scheduled`: stop as soon as the jobs are seen (the start settles the heap first, so
    not after a fixed delay); they are read before the stop, which empties them."""
    jobs: set[str] = set()

    def watch() -> None:
        while not (seen := runner.next_runs()) and not stop_loop.is_set():
            threading.Event().wait(0.01)
        jobs.update(seen)
        if stop_once_scheduled:
            stop_loop.set()

    watcher = threading.Thread(target=watch)
    watcher.start()
    loop = threading.Thread(target=runner.run, args=(stop_loop,))
    loop.start()
    watcher.join(timeout=10)
    stop_loop.wait(timeout=10)
    stop_loop.set()
    loop.join(timeout=10)
    assert not loop.is_alive() and runner.errors == 0
    return jobs


def test_the_live_loop_runs_notification_passes_on_their_own_interval() -> None:
    passes: list[int] = []
    stop_loop = threading.Event()

    def notify() -> None:
        passes.append(1)
        if len(passes) >= 2:
            stop_loop.set()

    runner = LiveRunner(QuietSession(), ["1h"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                        catch_up=lambda: None, notify=notify, notify_seconds=0.05)
    assert "notifications" in run_briefly(runner, stop_loop) and len(passes) >= 2


def test_without_notifications_the_live_loop_schedules_no_such_job() -> None:
    stop_loop = threading.Event()
    runner = LiveRunner(QuietSession(), ["1h"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                        catch_up=lambda: None)

    jobs = run_briefly(runner, stop_loop, stop_once_scheduled=True)
    assert jobs and "notifications" not in jobs
