"""monitoring.notifications: problems that name the key to set, and the targets the container builds."""

from __future__ import annotations

from pathlib import Path

import pytest
from dependency_injector import providers

from adapters.memory.event_store import InMemoryEventStore
from adapters.memory.read_models import InMemoryReadModels
from adapters.webhook.json_webhook import JsonWebhookNotifier
from adapters.webhook.telegram import TelegramNotifier
from entrypoints.container import Container, build_container
from entrypoints.logging_setup import scrub
from entrypoints.settings import ConfigError, Settings, load_settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"
TOKEN = "987654321:AAH-notification-settings-token"
HOOK = "https://hooks.test/services/T1/B1/settings-path-secret"


def in_memory(settings: Settings) -> Container:
    """The container with in-memory stores: these tests never start a database."""
    container = build_container(settings)
    container.event_store.override(providers.Object(InMemoryEventStore()))
    container.read_models.override(providers.Object(InMemoryReadModels()))
    return container


def load(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return load_settings(path, env=env or {}, dotenv_path=tmp_path / "none.env")


def problems(tmp_path: Path, text: str, env: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, env)
    return [str(p) for p in caught.value.problems]


def section(body: str) -> str:
    return "monitoring:\n  notifications:\n" + "".join(f"    {line}\n" for line in body.splitlines())


TELEGRAM = section('enabled: true\ntelegram:\n  enabled: true\n  bot_token: "${TELEGRAM_BOT_TOKEN:-}"\n'
                   '  chat_id: "${TELEGRAM_CHAT_ID:-}"\n')


def test_the_shipped_config_has_notifications_off(tmp_path: Path) -> None:
    notifications = load_settings(REPO_CONFIG, env={}, dotenv_path=tmp_path / "none.env").monitoring.notifications
    assert notifications.enabled is False and notifications.telegram.enabled is False
    assert notifications.events == ["emergency_stop", "rotation", "deployment", "error"]
    assert notifications.telegram.base_url == "https://api.telegram.org"


def test_enabled_telegram_without_a_token_names_the_key_and_the_variable(tmp_path: Path) -> None:
    assert problems(tmp_path, TELEGRAM, {"TELEGRAM_CHAT_ID": "-1001"}) == [
        "monitoring.notifications.telegram.bot_token: is required when telegram notifications are enabled; "
        "set TELEGRAM_BOT_TOKEN (line 6)"]
    assert problems(tmp_path, TELEGRAM, {"TELEGRAM_BOT_TOKEN": TOKEN}) == [
        "monitoring.notifications.telegram.chat_id: is required when telegram notifications are enabled; "
        "set TELEGRAM_CHAT_ID (line 7)"]


def test_enabled_webhook_needs_an_http_url_and_the_secret_never_shows(tmp_path: Path) -> None:
    text = section('enabled: true\nwebhook:\n  enabled: true\n  url: "${SIXBTC_WEBHOOK_URL:-}"\n')
    assert problems(tmp_path, text) == [
        "monitoring.notifications.webhook.url: is required when webhook notifications are enabled; "
        "set SIXBTC_WEBHOOK_URL (line 6)"]
    (found,) = problems(tmp_path, text, {"SIXBTC_WEBHOOK_URL": "ftp://hooks.test/settings-path-secret"})
    assert found.startswith("monitoring.notifications.webhook.url: must be an http or https URL")
    assert "settings-path-secret" not in found


def test_notifications_on_with_no_target_and_unknown_kinds_are_refused(tmp_path: Path) -> None:
    assert problems(tmp_path, section("enabled: true\nevents: [emergency_stop, party]\n")) == [
        "monitoring.notifications.events.1: must be 'emergency_stop', 'rotation', 'deployment' or 'error' (line 4)"]
    assert problems(tmp_path, section("enabled: true\n")) == [
        "monitoring.notifications.enabled: needs a target: set telegram.enabled or webhook.enabled to true "
        "(line 3)"]


def test_the_container_builds_enabled_targets_and_scrubs_their_secrets(tmp_path: Path) -> None:
    text = TELEGRAM + "".join(f"    {line}\n" for line in (
        "webhook:", "  enabled: true", '  url: "${SIXBTC_WEBHOOK_URL}"', "  secret: webhook-settings-secret",
        "interval_seconds: 2", "events: [emergency_stop]"))
    settings = load(tmp_path, text, {"TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_CHAT_ID": "-1001",
                                     "SIXBTC_WEBHOOK_URL": HOOK})
    dumped = str(settings.safe_dump())
    assert TOKEN not in dumped and "settings-path-secret" not in dumped and "webhook-settings-secret" not in dumped
    container = in_memory(settings)
    targets = container.notification_targets()
    assert isinstance(targets["telegram"], TelegramNotifier) and isinstance(targets["webhook"], JsonWebhookNotifier)
    assert container.event_notifications().targets == ("telegram", "webhook")
    logged = scrub(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage then {HOOK} with webhook-settings-secret")
    assert TOKEN not in logged and HOOK not in logged and "webhook-settings-secret" not in logged


def test_with_notifications_off_the_container_builds_no_target() -> None:
    container = in_memory(Settings())
    assert container.notification_targets() == {} and container.event_notifications().targets == ()
