"""Turn typed errors into one clear CLI message and an exit code; nothing is swallowed."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TypeVar

from application.ports.event_store import EventStoreError, EventStoreUnavailable
from application.ports.exchange import ExchangeError, UnknownSubaccount
from application.ports.market_data import MarketDataError, UnknownSymbol
from domain.candles import UnknownTimeframe
from domain.errors import DomainError
from entrypoints.execution import LiveTradingRefused
from entrypoints.logging_setup import scrub
from entrypoints.settings import ConfigError

USAGE_ERROR = 2
FAILED = 1

T = TypeVar("T")


def run_guarded(action: Callable[[], int]) -> int:
    try:
        return action()
    except ConfigError as exc:
        for problem in exc.problems:
            print(scrub(str(problem)), file=sys.stderr)
        return USAGE_ERROR
    except (EventStoreUnavailable, UnknownSymbol, UnknownTimeframe, UnknownSubaccount, LiveTradingRefused) as exc:
        print(f"error: {scrub(str(exc))}", file=sys.stderr)
        return USAGE_ERROR
    except ExchangeError as exc:
        print(f"exchange error ({type(exc).__name__}): {scrub(str(exc))}", file=sys.stderr)
        return FAILED
    except (DomainError, EventStoreError, MarketDataError) as exc:
        print(f"error: {scrub(str(exc))}", file=sys.stderr)
        return FAILED
