"""Notifications POSTed as JSON to any URL: an incident tool, a chat bridge, a script of yours.

    POST {url}  {"source": "sixbtc", "id", "kind", "title", "text", "severity", "occurred_at", "fields"}
    any 2xx -> delivered

With a secret, it goes in `header`: `Authorization: Bearer <secret>` for the Authorization
header, the bare secret for any other (X-Webhook-Token ...). The URL's path and query are
treated as secret too (Slack and Discord put their token there): messages show only its origin.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from adapters.webhook.http import RETRIES, HttpPoster, public_origin
from application.ports.notifier import Notification

SOURCE = "sixbtc"


class JsonWebhookNotifier:
    def __init__(self, url: str, *, secret: str = "", header: str = "Authorization", timeout_seconds: float = 10.0,
                 retries: int = RETRIES, client: httpx.Client | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if not header.strip():
            raise ValueError("webhook secret header must be named")
        self._headers = {} if not secret else {header: f"Bearer {secret}" if header.lower() == "authorization"
                                               else secret}
        origin = public_origin(url)
        hidden = url[len(origin):] if url.startswith(origin) else url
        self._poster = HttpPoster(f"webhook at {origin}", url, secrets=(secret, url, hidden if len(hidden) > 1 else ""),
                                  timeout_seconds=timeout_seconds, retries=retries, client=client, sleep=sleep)

    def notify(self, notification: Notification) -> None:
        self._poster.post({"source": SOURCE, **notification.as_dict()}, self._headers)
