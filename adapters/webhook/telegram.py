"""Notifications as Telegram messages, through the Bot API (or any server speaking it).

    POST {base_url}/bot<token>/sendMessage  {"chat_id", "text", "parse_mode": "HTML", ...}
    200 -> {"ok": true, "result": {...}};  4xx -> {"ok": false, "description": "..."}

The token is part of the URL, so it is treated as a secret everywhere: messages name the target
as "telegram at <origin>", and any text from outside (a description, an OS error) is scrubbed.
Text is HTML-escaped and cut to Telegram's 4096-character limit.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable

import httpx

from adapters.webhook.http import RETRIES, HttpPoster, public_origin
from application.ports.notifier import Notification, NotificationFailed

MAX_TEXT = 4096
_MARK = {"critical": "\U0001f6a8", "warning": "\u26a0\ufe0f", "info": "\u2139\ufe0f"}


class TelegramNotifier:
    def __init__(self, bot_token: str, chat_id: str, *, base_url: str = "https://api.telegram.org",
                 timeout_seconds: float = 10.0, retries: int = RETRIES, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not bot_token.strip() or not chat_id.strip():
            raise ValueError("telegram needs a bot token and a chat id")
        self._chat_id = chat_id
        url = f"{base_url.rstrip('/')}/bot{bot_token}/sendMessage"
        self._poster = HttpPoster(f"telegram at {public_origin(base_url)}", url, secrets=(bot_token,),
                                  timeout_seconds=timeout_seconds, retries=retries, client=client, sleep=sleep)

    def notify(self, notification: Notification) -> None:
        response = self._poster.post({"chat_id": self._chat_id, "text": render(notification), "parse_mode": "HTML",
                                      "disable_web_page_preview": True})
        try:
            ok = response.json().get("ok") is True
        except (ValueError, AttributeError):
            ok = False
        if not ok:
            raise NotificationFailed(self._poster.scrub(f"telegram did not confirm the message: {response.text[:300]}"))


def render(notification: Notification) -> str:
    """Title in bold, the text, then one line per field; every outside string escaped."""
    def esc(value: object) -> str:
        return html.escape(str(value), quote=False)

    head = f"{_MARK[notification.severity]} <b>{esc(notification.title)}</b>"
    lines = [f"<i>{esc(k)}</i>: {esc(str(v)[:300])}" for k, v in notification.fields.items()]
    lines.append(f"<i>at</i>: {esc(notification.occurred_at.isoformat())}")
    tail = "\n".join(lines)
    room = MAX_TEXT - len(head) - len(tail) - 5
    raw = notification.text
    cut = False
    while len(esc(raw)) > room:
        raw, cut = raw[: len(raw) - max(1, len(esc(raw)) - room + 1)], True
    ellipsis = "\u2026" if cut else ""
    return f"{head}\n{esc(raw)}{ellipsis}\n\n{tail}"
