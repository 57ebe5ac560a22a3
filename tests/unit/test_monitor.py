"""`sixbtc monitor`: one frame from the read models and the runner's health port, drawn with Rich."""

from __future__ import annotations

from datetime import timedelta

import httpx
import respx
from rich.console import Console

from application.deploy_strategies import DeploymentRequest
from domain.trading import Fill
from entrypoints.cli.monitor_command import render
from entrypoints.monitor_view import monitor_view
from tests.execution_support import T0, PaperDesk

RUNNER = "http://127.0.0.1:18080"
METRICS = (
    "# HELP sixbtc_last_candle_age_seconds age of the newest closed candle\n"
    "# TYPE sixbtc_last_candle_age_seconds gauge\n"
    'sixbtc_last_candle_age_seconds{symbol="BTC",timeframe="1h"} 42.0\n'
)


def _desk_with_a_live_strategy() -> tuple[PaperDesk, str]:
    desk = PaperDesk()
    first, _ = desk.selected(2)
    desk.manager.deploy(DeploymentRequest(plan="test", strategy_ids=(first,)))
    book = desk.ledger.load(1)
    for i, exit_price in enumerate((103.0, 99.0, 104.0)):
        at = T0 + timedelta(hours=i)
        book.record_fill(Fill(order_id=f"in-{i}", symbol="XRP", side="buy", size=1.0, price=100.0, fee=0.0, time=at),
                         first, f"f-in-{i}")
        book.record_fill(Fill(order_id=f"out-{i}", symbol="XRP", side="sell", size=1.0, price=exit_price, fee=0.0,
                              time=at + timedelta(minutes=30)), first, f"f-out-{i}")
    book.observe(108.0, 0, T0 + timedelta(hours=4))
    book.observe(105.0, 0, T0 + timedelta(hours=5))
    desk.ledger.save(book)
    desk.projections.catch_up()
    return desk, first


def _text(view: dict[str, object]) -> str:
    console = Console(record=True, width=200)
    console.print(render(view))
    return console.export_text()


@respx.mock
def test_a_frame_shows_runner_strategy_against_backtest_subaccounts_and_trades() -> None:
    respx.get(f"{RUNNER}/ready").mock(return_value=httpx.Response(200, json={
        "status": "ready", "checks": [{"name": "scheduler", "ok": True, "detail": "running, 3 jobs"}]}))
    respx.get(f"{RUNNER}/metrics").mock(return_value=httpx.Response(200, text=METRICS))
    desk, live_id = _desk_with_a_live_strategy()
    view = monitor_view(desk.read_models, mode="paper", subaccounts=3, runner_url=RUNNER, now=T0)
    [strategy] = view["strategies"]
    assert (strategy["strategy_id"], strategy["subaccount"], strategy["live_trades"]) == (live_id, 1, 3)
    assert abs(strategy["live_expectancy"] - 0.02) < 1e-9  # (+3% - 1% + 4%) / 3
    assert strategy["backtest_expectancy"] == 0.01 and abs(strategy["live_win_rate"] - 2 / 3) < 1e-9
    assert abs(strategy["live_pnl"] - 6.0) < 1e-9
    first = view["subaccounts"][0]
    assert (first["status"], first["strategy_id"], first["equity"]) == ("active", live_id, 105.0)
    assert abs(first["drawdown"] - (108.0 - 105.0) / 108.0) < 1e-9
    assert [s["status"] for s in view["subaccounts"][1:]] == ["free", "free"]
    assert [t["exit_price"] for t in view["recent_trades"]] == [104.0, 99.0, 103.0], "newest first"
    assert view["runner"]["ready"] and view["runner"]["candle_ages"] == [
        {"symbol": "BTC", "timeframe": "1h", "age_seconds": 42.0}]
    text = _text(view)
    for expected in ("PAPER", "runner: ready", "scheduler: running, 3 jobs", "BTC 1h 42s", "LIVE strategies",
                     live_id, "2.00%", "1.00%", "105.00", "2.78%", "104.00", "recent trades"):
        assert expected in text, expected


@respx.mock
def test_a_runner_that_does_not_answer_is_shown_as_such_and_the_rest_still_draws() -> None:
    respx.get(f"{RUNNER}/ready").mock(side_effect=httpx.ConnectError("connection refused"))
    desk, live_id = _desk_with_a_live_strategy()
    view = monitor_view(desk.read_models, mode="live", subaccounts=3, runner_url=RUNNER, now=T0)
    assert view["runner"]["reachable"] is False and "connection refused" in view["runner"]["detail"]
    text = _text(view)
    assert "runner not reachable" in text and "LIVE" in text and live_id in text
    assert "unknown (no runner data)" in text


@respx.mock
def test_a_runner_that_is_not_ready_says_which_check_failed() -> None:
    respx.get(f"{RUNNER}/ready").mock(return_value=httpx.Response(503, json={
        "title": "Not ready", "status": 503, "detail": "candles: BTC 1h is 3 h old",
        "checks": [{"name": "candles", "ok": False, "detail": "BTC 1h is 3 h old"}]},
        headers={"content-type": "application/problem+json"}))
    respx.get(f"{RUNNER}/metrics").mock(return_value=httpx.Response(200, text=""))
    view = monitor_view(PaperDesk().read_models, mode="paper", subaccounts=2, runner_url=RUNNER, now=T0)
    text = _text(view)
    assert "not ready" in text and "FAIL candles: BTC 1h is 3 h old" in text
    assert "no LIVE strategy" in text and "none yet" in text
