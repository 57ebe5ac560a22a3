"""The Notifier contract, run against every adapter: memory, Telegram and the JSON webhook (respx).

Then what each webhook adapter promises on its own: the request it sends, the bounded retry,
and that the bot token, the webhook secret and a secret URL path never reach an error or a log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
import respx

from adapters.memory.clock import ManualClock
from adapters.memory.notifier import InMemoryNotifier
from adapters.webhook.json_webhook import JsonWebhookNotifier
from adapters.webhook.telegram import MAX_TEXT, TelegramNotifier
from application.event_codec import encode
from application.notify_events import CHECKPOINT_PREFIX, EventNotifications
from application.ports.event_store import EventStore
from application.ports.notifier import Notification, NotificationFailed, Notifier
from application.ports.read_models import ReadModelStore
from domain.execution_events import EmergencyStopTriggered

TOKEN = "123456789:AAE-secret-bot-token_xyz"
TELEGRAM = "https://telegram.test"
SEND = f"{TELEGRAM}/bot{TOKEN}/sendMessage"
HOOK = "https://hooks.test/services/T000/B000/hook-path-secret"
SECRET = "webhook-shared-secret-42"
AT = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def note(title: str = "Emergency stop on subaccount 2", text: str = "drawdown 31% > 25%",
         **fields: str | int | float | bool | None) -> Notification:
    return Notification(notification_id=f"id-{title}", kind="emergency_stop", title=title, text=text,
                        severity="critical", occurred_at=AT, fields=fields or {"subaccount": 2})


@dataclass
class Harness:
    notifier: Notifier
    received: Callable[[], list[str]]
    """What reached the target, one string per message: title and text must be in it."""
    break_target: Callable[[], None]
    mend_target: Callable[[], None]


class FakeTarget:
    """An HTTP target that answers 200 (ok) or 500 while broken, keeping the bodies it accepted."""

    def __init__(self, ok_body: dict[str, object]) -> None:
        self.broken = False
        self.accepted: list[dict[str, object]] = []
        self._ok = ok_body

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.broken:
            return httpx.Response(500, json={"ok": False, "description": "Internal Server Error"})
        self.accepted.append(json.loads(request.content))
        return httpx.Response(200, json=self._ok)

    def break_down(self) -> None:
        self.broken = True

    def mend(self) -> None:
        self.broken = False


def no_sleep(_: float) -> None:
    return None


@pytest.fixture(params=["memory", "telegram", "json"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    if request.param == "memory":
        memory = InMemoryNotifier()
        yield Harness(memory, lambda: [f"{n.title}\n{n.text}" for n in memory.sent],
                      lambda: memory.go_down("test"), memory.come_back)
        return
    with respx.mock:
        if request.param == "telegram":
            target = FakeTarget({"ok": True, "result": {"message_id": 1}})
            respx.post(SEND).mock(side_effect=target)
            yield Harness(TelegramNotifier(TOKEN, "-100200", base_url=TELEGRAM, sleep=no_sleep),
                          lambda: [str(b["text"]) for b in target.accepted], target.break_down, target.mend)
        else:
            target = FakeTarget({"accepted": True})
            respx.post(HOOK).mock(side_effect=target)
            yield Harness(JsonWebhookNotifier(HOOK, secret=SECRET, sleep=no_sleep),
                          lambda: [f"{b['title']}\n{b['text']}" for b in target.accepted],
                          target.break_down, target.mend)


def test_a_notification_reaches_the_target_with_its_title_and_text(harness: Harness) -> None:
    assert isinstance(harness.notifier, Notifier)
    harness.notifier.notify(note())
    harness.notifier.notify(note("Strategy deployed on subaccount 1", "s-1 now trades 100.00 USDC (paper)."))
    got = harness.received()
    assert len(got) == 2
    assert "Emergency stop on subaccount 2" in got[0] and "drawdown 31%" in got[0] and "25%" in got[0]
    assert "Strategy deployed on subaccount 1" in got[1] and "s-1 now trades" in got[1]


def test_a_target_that_refuses_raises_notification_failed_and_keeps_nothing(harness: Harness) -> None:
    harness.break_target()
    with pytest.raises(NotificationFailed):
        harness.notifier.notify(note())
    assert harness.received() == []


def test_a_target_that_comes_back_takes_the_next_notification(harness: Harness) -> None:
    harness.break_target()
    with pytest.raises(NotificationFailed):
        harness.notifier.notify(note())
    harness.mend_target()
    harness.notifier.notify(note())
    assert len(harness.received()) == 1


# --- Telegram ---------------------------------------------------------------------------------


def test_telegram_posts_send_message_with_chat_id_and_escaped_html() -> None:
    with respx.mock:
        route = respx.post(SEND).mock(return_value=httpx.Response(200, json={"ok": True, "result": {}}))
        TelegramNotifier(TOKEN, "-100200", base_url=TELEGRAM + "/").notify(
            note("Order <rejected>", "size & price", symbol="BTC", code=None))
    body = json.loads(route.calls.last.request.content)
    assert body["chat_id"] == "-100200" and body["parse_mode"] == "HTML"
    assert body["text"].startswith("\U0001f6a8 <b>Order &lt;rejected&gt;</b>\nsize &amp; price\n")
    assert "<i>symbol</i>: BTC" in body["text"] and "<i>at</i>: 2025-03-01T12:00:00+00:00" in body["text"]


def test_telegram_cuts_long_text_to_the_message_limit() -> None:
    with respx.mock:
        route = respx.post(SEND).mock(return_value=httpx.Response(200, json={"ok": True}))
        TelegramNotifier(TOKEN, "1", base_url=TELEGRAM).notify(note(text="<&>" * 5000))
    text = json.loads(route.calls.last.request.content)["text"]
    assert len(text) <= MAX_TEXT and "\u2026" in text and "<i>at</i>" in text
    assert "&am\u2026" not in text and "&l\u2026" not in text  # never half an entity


def test_telegram_retries_5xx_and_timeouts_a_bounded_number_of_times() -> None:
    slept: list[float] = []
    with respx.mock:
        route = respx.post(SEND).mock(side_effect=[httpx.Response(503), httpx.ReadTimeout("slow"),
                                                   httpx.Response(200, json={"ok": True})])
        TelegramNotifier(TOKEN, "1", base_url=TELEGRAM, retries=2, sleep=slept.append).notify(note())
        assert route.call_count == 3 and slept == [0.5, 1.0]
        route.side_effect = httpx.ConnectTimeout("down")
        with pytest.raises(NotificationFailed, match=r"timed out after 3s \(2 attempts\)"):
            TelegramNotifier(TOKEN, "1", base_url=TELEGRAM, retries=1, timeout_seconds=3,
                             sleep=no_sleep).notify(note())
        assert route.call_count == 5


def test_telegram_does_not_retry_a_refusal_and_never_shows_its_token(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echoed = {"ok": False, "error_code": 401, "description": f"Unauthorized: bot{TOKEN} is not valid"}
    with respx.mock:
        route = respx.post(SEND).mock(return_value=httpx.Response(401, json=echoed))
        with pytest.raises(NotificationFailed) as refused:
            TelegramNotifier(TOKEN, "1", base_url=TELEGRAM, sleep=no_sleep).notify(note())
        assert route.call_count == 1
        route.side_effect = [httpx.Response(502, text=f"bad gateway for /bot{TOKEN}/sendMessage"),
                             httpx.ConnectError(f"cannot connect to {SEND}")]
        with pytest.raises(NotificationFailed) as unreachable:
            TelegramNotifier(TOKEN, "1", base_url=TELEGRAM, retries=1, sleep=no_sleep).notify(note())
    for caught in (refused, unreachable):
        message = str(caught.value)
        assert message.startswith("telegram at https://telegram.test ")
        assert TOKEN not in message and "AAE-secret" not in message and "***" in message
        assert caught.value.__cause__ is None and caught.value.__context__ is None
    assert "HTTP 401" in str(refused.value) and "ConnectError" in str(unreachable.value)
    assert caplog.records and all(TOKEN not in r.getMessage() and TOKEN not in str(vars(r)) for r in caplog.records)


def test_telegram_answer_without_ok_is_a_failure() -> None:
    with respx.mock:
        respx.post(SEND).mock(return_value=httpx.Response(200, json={"ok": False, "description": "chat not found"}))
        with pytest.raises(NotificationFailed, match=r"did not confirm the message.*chat not found"):
            TelegramNotifier(TOKEN, "1", base_url=TELEGRAM).notify(note())


def test_telegram_refuses_to_start_without_token_or_chat() -> None:
    with pytest.raises(ValueError, match="bot token and a chat id"):
        TelegramNotifier("", "1")
    with pytest.raises(ValueError, match="bot token and a chat id"):
        TelegramNotifier(TOKEN, " ")


# --- JSON webhook -----------------------------------------------------------------------------


def test_json_webhook_posts_the_notification_with_a_bearer_secret() -> None:
    with respx.mock:
        route = respx.post(HOOK).mock(return_value=httpx.Response(204))
        JsonWebhookNotifier(HOOK, secret=SECRET).notify(note(subaccount=2, strategy_id="s-1"))
    request = route.calls.last.request
    assert request.headers["Authorization"] == f"Bearer {SECRET}"
    assert json.loads(request.content) == {
        "source": "sixbtc", "id": "id-Emergency stop on subaccount 2", "kind": "emergency_stop",
        "title": "Emergency stop on subaccount 2", "text": "drawdown 31% > 25%", "severity": "critical",
        "occurred_at": "2025-03-01T12:00:00+00:00", "fields": {"subaccount": 2, "strategy_id": "s-1"}}


def test_json_webhook_sends_the_bare_secret_in_another_header_and_none_without_one() -> None:
    with respx.mock:
        route = respx.post(HOOK).mock(return_value=httpx.Response(200))
        JsonWebhookNotifier(HOOK, secret=SECRET, header="X-Webhook-Token").notify(note())
        assert route.calls.last.request.headers["X-Webhook-Token"] == SECRET
        JsonWebhookNotifier(HOOK).notify(note())
        headers = route.calls.last.request.headers
        assert "Authorization" not in headers and "X-Webhook-Token" not in headers


def test_json_webhook_errors_show_only_the_origin(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with respx.mock:
        route = respx.post(HOOK).mock(side_effect=[
            httpx.Response(500, text=f"failed {HOOK} with {SECRET}"), httpx.Response(403, text=f"no: {SECRET}")])
        with pytest.raises(NotificationFailed) as caught:
            JsonWebhookNotifier(HOOK, secret=SECRET, sleep=no_sleep).notify(note())
        assert route.call_count == 2
    message = str(caught.value)
    assert message.startswith("webhook at https://hooks.test answered HTTP 403")
    assert SECRET not in message and "hook-path-secret" not in message
    assert all(SECRET not in str(vars(r)) and "hook-path-secret" not in str(vars(r)) for r in caplog.records)


def test_notification_fields_must_be_plain_values() -> None:
    with pytest.raises(ValueError, match="plain value"):
        Notification("i", "error", "t", "x", "warning", AT, {"bad": [1, 2]})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="kind must be one of"):
        Notification("i", "party", "t", "x", "info", AT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="timezone-aware"):
        Notification("i", "error", "t", "x", "info", datetime(2025, 1, 1))


# --- The checkpoint, in every read-model store --------------------------------------------------


def test_delivery_checkpoints_persist_in_every_read_model_store(
        store: EventStore, read_models: ReadModelStore) -> None:
    """The dispatcher moves `notifications:<target>` with no row changes; every store must keep it."""
    clock = ManualClock(AT)
    events = [EmergencyStopTriggered(aggregate_id="2", occurred_at=AT, strategy_id="s-1", reason=f"r{i}")
              for i in range(3)]
    store.append("subaccount-2", [encode(e) for e in events[:2]], expected_version=0)
    inbox = InMemoryNotifier()
    EventNotifications(store, read_models, {"chat": inbox}, clock).run_once()
    assert read_models.checkpoint(CHECKPOINT_PREFIX + "chat") == store.head_position()
    store.append("subaccount-2", [encode(events[2])], expected_version=2)
    EventNotifications(store, read_models, {"chat": inbox}, clock).run_once()  # a restart
    assert [n.text for n in inbox.sent] == ["r0", "r1", "r2"]
