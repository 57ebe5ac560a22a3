"""Notifications over HTTP: the Telegram Bot API and a generic JSON webhook (config: monitoring.notifications)."""
