"""Logs never hold a key, an address or a signature, and never the Hyperliquid SDK's own payload logs."""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from entrypoints.logging_setup import add_secret, configure_logging, scrub

KEY = "0x" + "9f" * 32
ADDRESS = "0x" + "8e" * 20
SIGNATURE = "0x" + "7d" * 65
CLOID = "0x" + "6c" * 16
SDK_FILE = "/opt/venv/lib/python3.11/site-packages/hyperliquid/exchange.py"


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_scrub_keeps_client_order_ids_and_blanks_keys_addresses_and_signatures() -> None:
    text = scrub(f"key={KEY} vault={ADDRESS} sig={SIGNATURE} cloid={CLOID} hash=0x{'ab' * 32}")
    assert text == f"key=*** vault=*** sig=*** cloid={CLOID} hash=***"
    assert scrub(f"{ADDRESS}ff") == f"{ADDRESS}ff"  # 42 hex digits: neither an address nor a key


def test_a_registered_secret_is_scrubbed_in_any_form() -> None:
    secret = "0x" + "51" * 32
    add_secret(secret)
    assert scrub(f"a {secret.removeprefix('0x')} b") == "a *** b"


def test_the_log_file_holds_no_secret_and_no_sdk_payload(tmp_path: Path, restore_root: None) -> None:
    path = tmp_path / "logs" / "sixbtc.log"
    configure_logging("DEBUG", "json", str(path), 1_000_000, 1)
    log = logging.getLogger("adapters.hyperliquid.exchange")
    log.debug("signed %s for %s", SIGNATURE, ADDRESS, extra={"key": KEY, "cloid": CLOID})
    log.info("our own adapter logs stay", extra={"vault": ADDRESS})
    sdk = logging.LogRecord("root", logging.DEBUG, SDK_FILE, 109,
                            {"action": {"type": "order"}, "signature": {"r": "0x" + "1" * 64}, "vaultAddress": ADDRESS,
                             "marker": "SDK-PAYLOAD"}, None, None)
    logging.getLogger().handle(sdk)
    warning = logging.LogRecord("hyperliquid.api", logging.WARNING, SDK_FILE.replace("exchange", "api"), 1,
                                "SDK-WARNING", None, None)
    logging.getLogger("hyperliquid.api").handle(warning)
    installed = importlib.util.find_spec("hyperliquid.exchange")
    assert installed is not None and installed.origin
    logging.getLogger().handle(logging.LogRecord("root", logging.DEBUG, installed.origin, 109, "SDK-INSTALLED",
                                                 None, None))
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = path.read_text()
    assert "our own adapter logs stay" in written and CLOID in written
    for secret in (KEY, KEY[2:], ADDRESS, SIGNATURE, SIGNATURE[2:66], "SDK-PAYLOAD", "SDK-WARNING", "SDK-INSTALLED"):
        assert secret not in written
