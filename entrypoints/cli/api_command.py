"""`sixbtc api`: serve the REST API (OpenAPI docs at /docs)."""

from __future__ import annotations

import argparse
import logging

import uvicorn
from dependency_injector import providers

from entrypoints.api.app import create_app
from entrypoints.api.security import API_KEYS_VARIABLE, ApiAccess
from entrypoints.cli.context import app_container
from entrypoints.cli.execution_context import banner

log = logging.getLogger(__name__)

def add(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    api = sub.add_parser("api", help="serve the REST API and its OpenAPI docs")
    api.add_argument("--config", help="config file")
    api.add_argument("--host", help="bind address (default monitoring.api.host)")
    api.add_argument("--port", type=int, help="port (default monitoring.api.port)")
    api.add_argument("--live", action="store_true",
                     help="execution endpoints trade for real on Hyperliquid; also needs deployment.mode: live "
                          "and HL_PRIVATE_KEY (default: paper)")
    api.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    with app_container(args.config) as container:
        container.live_requested.override(providers.Object(args.live))
        banner(str(container.exchange_mode()), to_stderr=True)  # a refused --live stops here, before listening
        settings = container.settings()
        app = create_app(container)
        _log_access(app.state.api_access)
        uvicorn.run(app, host=args.host or settings.monitoring.api.host,
                    port=args.port or settings.monitoring.api.port, log_config=None)
    return 0


def _log_access(access: ApiAccess) -> None:
    """How many keys (never which), so an operator sees at start why writes will be refused."""
    fields = {"api_keys": access.keys.count, "reads_need_key": access.reads_need_key}
    if access.keys.count:
        log.info("API keys configured", extra=fields)
    else:
        log.warning(f"no API keys: every request that changes state is refused with 403 until "
                    f"{API_KEYS_VARIABLE} is set", extra=fields)
