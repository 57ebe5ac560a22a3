"""The live loop's scheduler on a simulated clock: each job as often as its trigger says, in fire-time
order, recorded through the runner's own wrappers; a run pushed late is coalesced or missed as
APScheduler would; the candle feed never shows a bar's future."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from adapters.memory.clock import ManualClock
from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.live_candles import MemoryLiveCandles
from application.replay_bars import ReplayedBars
from application.scheduler_runs import JobRunLog
from entrypoints.live_runner import LiveRunner, ScheduledJob
from entrypoints.simulated_schedule import SimulatedSchedule
from tests.unit.test_live_runner import RecordingSession

T0 = datetime(2026, 2, 9, tzinfo=UTC)


def runner(clock: ManualClock, jobs: list[ScheduledJob], log: JobRunLog) -> tuple[LiveRunner, RecordingSession]:
    session = RecordingSession()
    live = LiveRunner(session, ["15m", "1h"], grace_seconds=5, check_minutes=15,  # type: ignore[arg-type]
                      catch_up=lambda: None, rotation_hours=24, jobs=jobs, record_run=log.record, now=clock.now)
    return live, session


def test_a_simulated_day_runs_every_job_as_often_as_its_interval_says_in_fire_time_order() -> None:
    clock, log = ManualClock(T0), JobRunLog(InMemoryEventStore())
    seen: list[tuple[str, datetime]] = []
    jobs = [ScheduledJob("research", "every 4 h", lambda: seen.append(("research", clock.now())), timedelta(hours=4)),
            ScheduledJob("history", "daily, due soon", lambda: seen.append(("history", clock.now())),
                         timedelta(days=1), first_run_at=T0 + timedelta(minutes=1))]
    live, session = runner(clock, jobs, log)
    with live.scheduled() as scheduler:
        schedule = SimulatedSchedule(scheduler, clock, timed=False)
        schedule.start()
        assert live.running and live.next_runs()["close-15m"] == T0 + timedelta(seconds=5)
        tallies = schedule.run_until(T0 + timedelta(days=1))
        assert live.next_runs()["research"] == T0 + timedelta(hours=28), "the job store holds the simulated schedule"
        schedule.stop()
    ran = {job: t.runs for job, t in tallies.items()}
    assert ran == {"close-15m": 96, "close-1h": 24, "snapshots": 96, "rotation": 1, "research": 6, "history": 1}
    assert all(t.runs == t.expected(T0 + timedelta(days=1)) for t in tallies.values())
    assert [len(log.runs(job)) for job in ("close-15m", "snapshots", "research")] == [96, 96, 6]
    assert seen[0] == ("history", T0 + timedelta(minutes=1)) and seen[1] == ("research", T0 + timedelta(hours=4))
    assert session.calls[0] == "start" and session.calls[-1] == "stop"
    assert session.calls.count("close 15m") == 96 and session.calls.count("rotate") == 1


@pytest.mark.parametrize(("late_by", "ran", "skipped"), [
    (timedelta(minutes=40), 2, 2),                # 00:29 and 00:44 came while it ran
    (timedelta(minutes=15), 3, 1),                # 00:29 came just as it finished
    (timedelta(minutes=14, seconds=59), 4, 0),    # done a second before the next
])
def test_fire_times_that_pass_while_a_job_runs_are_skipped_as_max_instances_skips_them(
        late_by: timedelta, ran: int, skipped: int) -> None:
    clock, log = ManualClock(T0), JobRunLog(InMemoryEventStore())
    slow = [True]

    def research() -> None:
        if slow[0]:
            slow[0] = False
            clock.advance(late_by)

    live, _ = runner(clock, [ScheduledJob("research", "slow once", research, timedelta(minutes=15),
                                          first_run_at=T0 + timedelta(minutes=14))], log)
    with live.scheduled() as scheduler:
        schedule = SimulatedSchedule(scheduler, clock, timed=False)
        schedule.start()
        tallies = schedule.run_until(T0 + timedelta(hours=1))
        schedule.stop()
    research_tally = tallies["research"]
    assert (research_tally.runs, research_tally.skipped) == (ran, skipped)
    assert research_tally.runs + research_tally.skipped == research_tally.expected(T0 + timedelta(hours=1)) == 4
    runs = log.runs("research")
    assert len(runs) == ran and all(a.finished_at <= b.started_at for a, b in itertools.pairwise(runs))


def test_jobs_due_while_another_held_the_clock_run_after_it_late_but_each_once() -> None:
    clock, log = ManualClock(T0), JobRunLog(InMemoryEventStore())
    long_job = ScheduledJob("long", "an hour long", lambda: clock.advance(timedelta(hours=1)), timedelta(days=1),
                            first_run_at=T0 + timedelta(minutes=14, seconds=30))
    live, _ = runner(clock, [long_job], log)
    with live.scheduled() as scheduler:
        schedule = SimulatedSchedule(scheduler, clock, timed=False)
        schedule.start()
        tallies = schedule.run_until(T0 + timedelta(hours=2))
        schedule.stop()
    assert {job: (t.runs, t.skipped) for job, t in tallies.items()} == {
        "close-15m": (8, 0), "close-1h": (2, 0), "snapshots": (8, 0), "rotation": (0, 0), "long": (1, 0)}
    late = [r.started_at for r in log.runs("close-15m")][1:5]
    assert late == [T0 + timedelta(hours=1, minutes=14, seconds=30)] * 4, "00:15:05 to 01:00:05, after the long run"


def test_the_feed_shows_closed_bars_whole_and_the_forming_bar_only_with_its_open() -> None:
    index = pd.date_range(T0, periods=6, freq="1h", tz="UTC", name="timestamp")
    frame = pd.DataFrame({"open": [1.0, 2, 3, 4, 5, 6], "high": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
                          "low": [0.5, 1.5, 2.5, 3.5, 4.5, 5.5], "close": [2.0, 3, 4, 5, 6, 7],
                          "volume": [10.0] * 6}, index=index)
    clock = ManualClock(T0 + timedelta(hours=2, minutes=30))
    feed = MemoryLiveCandles(clock=clock)
    bars = ReplayedBars(feed, {("BTC", "1h"): frame})
    bars.start_at(clock.now())
    shown = feed.get_data("BTC", "1h", 10)
    assert list(shown["close"]) == [2.0, 3.0, 3.0] and shown.iloc[-1]["high"] == 3.0, "02:00 forming: its open only"
    clock.advance(timedelta(minutes=30))
    bars.advance_to(clock.now())
    shown = feed.get_data("BTC", "1h", 10)
    assert list(shown["close"]) == [2.0, 3.0, 4.0, 4.0] and shown.iloc[2]["high"] == 3.5
    clock.advance(timedelta(hours=10))
    bars.advance_to(clock.now())
    assert feed.get_data("BTC", "1h", 10).equals(frame), "past the last bar: everything, whole"
