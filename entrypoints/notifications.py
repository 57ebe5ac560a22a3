"""Building the notification targets from `monitoring.notifications`; their secrets go to the log scrubber.

The bot token sits in the Telegram URL and a webhook URL may hold its own token, so each is
registered with `add_secret` before any client exists: whatever logs a URL later (httpx, a
traceback) writes `***` in its place.
"""

from __future__ import annotations

from datetime import timedelta

from application.notify_events import EventNotifications
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.notifier import Notifier
from application.ports.read_models import ReadModelStore
from entrypoints.logging_setup import add_secret
from entrypoints.settings import Settings


def notification_targets(settings: Settings) -> dict[str, Notifier]:
    """Name -> notifier, each enabled target once; empty when notifications are off."""
    config = settings.monitoring.notifications
    targets: dict[str, Notifier] = {}
    if not config.enabled:
        return targets
    if config.telegram.enabled:
        from adapters.webhook.telegram import TelegramNotifier

        token = config.telegram.bot_token.get_secret_value()
        add_secret(token)
        targets["telegram"] = TelegramNotifier(token, config.telegram.chat_id, base_url=config.telegram.base_url,
                                               timeout_seconds=config.timeout_seconds, retries=config.retries)
    if config.webhook.enabled:
        from adapters.webhook.json_webhook import JsonWebhookNotifier

        url, secret = config.webhook.url.get_secret_value(), config.webhook.secret.get_secret_value()
        add_secret(url)
        add_secret(secret)
        targets["webhook"] = JsonWebhookNotifier(url, secret=secret, header=config.webhook.header,
                                                 timeout_seconds=config.timeout_seconds, retries=config.retries)
    return targets


def event_notifications(settings: Settings, store: EventStore, read_models: ReadModelStore, clock: Clock,
                        targets: dict[str, Notifier]) -> EventNotifications:
    config = settings.monitoring.notifications
    return EventNotifications(store, read_models, targets, clock, kinds=tuple(config.events),
                              max_age=timedelta(minutes=config.max_age_minutes))
