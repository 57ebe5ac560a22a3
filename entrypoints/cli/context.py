"""Load settings, configure logging and build the container for one CLI invocation."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from entrypoints.container import Container, build_container
from entrypoints.logging_setup import configure_logging
from entrypoints.secret_registry import register_secrets
from entrypoints.settings import Settings, load_settings

REPO_CONFIG = Path(__file__).resolve().parents[2] / "config" / "config.yaml"


def default_config_path() -> Path:
    """SIXBTC_CONFIG, else ./config/config.yaml, else the one shipped beside the code."""
    env = os.environ.get("SIXBTC_CONFIG")
    if env:
        return Path(env)
    local = Path("config/config.yaml")
    return local if local.exists() else REPO_CONFIG


def load(config: str | None) -> Settings:
    return load_settings(Path(config) if config else default_config_path())


@contextmanager
def app_container(config: str | None) -> Iterator[Container]:
    settings = load(config)
    log = settings.logging
    configure_logging(log.level, log.format, log.file or None, log.max_bytes, log.backup_count)
    register_secrets(settings, os.environ)
    container = build_container(settings)
    try:
        yield container
    finally:
        container.shutdown_resources()
