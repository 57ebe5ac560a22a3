"""Choosing and building the exchange: paper unless three separate locks are all open.

Live orders reach Hyperliquid only when `deployment.mode: live` is in the config, `--live` is on
the command line (for the API: `sixbtc api --live`), and HL_PRIVATE_KEY is in the environment,
with at least one subaccount address configured. Each lock guards a different mistake: a config
copied from a live box, a command typed from shell history, a key left in the environment.
Asking for live with any lock closed is refused loudly (never a silent fall back to paper, which
would let someone believe they were trading); not asking is always paper.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Literal, TypeVar

import pandas as pd

from application.deploy_strategies import DeploymentPolicy
from application.ports.clock import Clock
from application.ports.event_store import EventStore
from application.ports.exchange import Exchange
from application.ports.market_data import LiveCandles, MarketDataError
from application.symbols import to_coin
from domain.candles import timeframe_delta
from domain.errors import DomainError
from domain.instruments import Instrument
from entrypoints.logging_setup import add_secret
from entrypoints.settings import Settings

log = logging.getLogger(__name__)

Mode = Literal["paper", "live"]
KEY_VARIABLE = "HL_PRIVATE_KEY"
TEST_SUBACCOUNTS = 3
_KEY_SHAPE = re.compile(r"(0x)?[0-9a-fA-F]{64}")
T = TypeVar("T")


class LiveTradingRefused(DomainError):
    """Live trading was asked for but a lock is closed; `missing` says which, never a key's value."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = tuple(missing)
        super().__init__("LIVE TRADING REFUSED: " + "; ".join(missing)
                         + ". Nothing was sent to the exchange; without --live SixBTC trades on paper.")


def exchange_mode(settings: Settings, live_requested: bool, environ: Mapping[str, str]) -> Mode:
    """The safety rule, in one place: "live" only when every lock is open, else refused or paper."""
    if not live_requested:
        return "paper"
    missing: list[str] = []
    if settings.deployment.mode != "live":
        missing.append("deployment.mode is paper in the config (set deployment.mode: live)")
    key = environ.get(KEY_VARIABLE, "").strip()
    if not key:
        missing.append(f"the {KEY_VARIABLE} environment variable is not set (export it; it is never read from "
                       "config.yaml)")
    elif not _KEY_SHAPE.fullmatch(key):
        missing.append(f"{KEY_VARIABLE} is not a private key (0x followed by 64 hex digits)")
    if not settings.hyperliquid.subaccounts:
        missing.append("hyperliquid.subaccounts maps no subaccount number to an address")
    if missing:
        raise LiveTradingRefused(missing)
    return "live"


def deployment_policy_from(settings: Settings) -> DeploymentPolicy:
    trading = settings.trading
    return DeploymentPolicy(
        test_subaccounts=TEST_SUBACCOUNTS, test_capital=trading.subaccounts.test_mode_capital,
        subaccount_count=trading.subaccounts.count, leverage=trading.leverage, symbols=tuple(trading.symbols),
        max_slippage=trading.max_slippage, min_capital=settings.hyperliquid.min_notional,
    )


class LazyLiveCandles:
    """Builds the real feed (a WebSocket and its history) on the first read, not before.

    Deploying, stopping or reconciling on paper reads no price when nothing is open, so those
    commands never open a connection; the live loop's first read starts it.
    """

    def __init__(self, build: Callable[[], LiveCandles]) -> None:
        self._build = build
        self._feed: LiveCandles | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._feed is not None

    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        return self._started().get_data(symbol, timeframe, lookback)

    def last_update(self, symbol: str, timeframe: str) -> datetime | None:
        return self._started().last_update(symbol, timeframe)

    def _started(self) -> LiveCandles:
        with self._lock:
            if self._feed is None:
                self._feed = self._build()
            return self._feed


def hyperliquid_instruments(settings: Settings) -> dict[str, Instrument]:
    """Each perp's real size step and leverage cap, from Hyperliquid's meta (one REST call).

    The paper venue calls this on its first order (the live feed needs the network then anyway),
    so its sizes round exactly as the real venue's do. Offline it falls back, with a warning, to
    size steps derived from the first price seen.
    """
    from adapters.hyperliquid.rest import HyperliquidRest

    rest = HyperliquidRest(str(settings.hyperliquid.base_url), retries=1)
    try:
        universe = rest.meta()["universe"]
    except MarketDataError as exc:
        log.warning("paper trading without Hyperliquid's instrument list: size steps come from prices",
                    extra={"reason": str(exc)})
        return {}
    finally:
        rest.close()
    by_coin = {str(a["name"]): Instrument(str(a["name"]), int(a["szDecimals"]), int(a.get("maxLeverage", 50)))
               for a in universe if not a.get("isDelisted", False)}
    aliases = {s: by_coin[to_coin(s)] for s in settings.trading.symbols if to_coin(s) in by_coin}
    return {**by_coin, **aliases}


def price_timeframe(settings: Settings) -> str:
    """The paper venue prices from the shortest configured timeframe: the live feed streams it anyway."""
    return min(settings.trading.timeframes, key=timeframe_delta)


def open_exchange(settings: Settings, live_requested: bool, environ: Mapping[str, str], store: EventStore,
                  live_candles: Callable[[], LiveCandles], clock: Clock,
                  instruments: Callable[[], Mapping[str, Instrument]]) -> Iterator[Exchange]:
    """A dependency-injector Resource: the exchange in, closed out. Raises LiveTradingRefused."""
    mode = exchange_mode(settings, live_requested, environ)
    exchange = _live(settings, environ) if mode == "live" else _paper(settings, store, live_candles, clock,
                                                                        instruments)
    log.info("exchange opened", extra={"mode": exchange.mode, "subaccounts": list(exchange.subaccounts())})
    try:
        yield exchange
    finally:
        exchange.close()


def _paper(settings: Settings, store: EventStore, live_candles: Callable[[], LiveCandles], clock: Clock,
           instruments: Callable[[], Mapping[str, Instrument]]) -> Exchange:
    from adapters.paper.exchange import PaperExchange

    trading, venue = settings.trading, settings.hyperliquid
    return PaperExchange(
        store, LazyLiveCandles(live_candles), clock, subaccounts=tuple(range(1, trading.subaccounts.count + 1)),
        capital=trading.subaccounts.test_mode_capital, fee_rate=venue.fee_rate, slippage=venue.slippage,
        min_notional=venue.min_notional, leverage=trading.leverage, price_timeframe=price_timeframe(settings),
        instruments=lambda: dict(instruments()),
    )


def _live(settings: Settings, environ: Mapping[str, str]) -> Exchange:
    from adapters.hyperliquid.exchange import HyperliquidExchange

    key = environ[KEY_VARIABLE].strip()
    add_secret(key)
    log.warning("LIVE trading: orders go to Hyperliquid",
                extra={"subaccounts": sorted(settings.hyperliquid.subaccounts)})
    exchange: Exchange = HyperliquidExchange(str(settings.hyperliquid.base_url), key,
                                             dict(settings.hyperliquid.subaccounts),
                                             main_address=settings.hyperliquid.main_address or None)
    return exchange


def projected(catch_up: Callable[[], object], action: Callable[[], T]) -> T:
    """Run a writing use case, then bring the read models up to date, also when it failed half way
    (a stop that closed one position of two has recorded that), so the subaccounts view shows the truth.
    A failure to catch up after a failed action is logged and the action's own error raised."""
    try:
        result = action()
    except Exception:
        try:
            catch_up()
        except Exception:
            log.exception("read models not caught up after the failed command; they catch up on the next one")
        raise
    catch_up()
    return result
