"""One bar close, many strategies: the candles are read once and shared, no strategy can change
what another sees, and the open-positions limit counts what is really open (a stop the venue
fired frees its slot; an entry that trades against a position it could not close takes none)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from adapters.inprocess.sandbox import InProcessSandbox
from application.live_trader import Decision, LiveStrategy, LiveTrader
from application.ports.exchange import OrderRejected
from domain.risk import RiskPolicy
from tests.execution_support import ALWAYS_LONG, T0, PaperDesk

SCRIBBLER = '''
import numpy as np
import pandas as pd
from domain.strategy import StrategyCore

class Scribbler(StrategyCore):
    type = "MOM"
    timeframe = "1h"

    def signals(self, df):
        df["close"] = -1.0
        df.loc[df.index[-1], "open"] = -1.0
        n = len(df)
        return pd.DataFrame({"long_entry": np.zeros(n, dtype=bool), "short_entry": np.zeros(n, dtype=bool),
                             "exit": np.zeros(n, dtype=bool), "size": np.full(n, 1.0),
                             "sl_pct": np.full(n, np.nan), "tp_pct": np.full(n, np.nan)}, index=df.index)
'''
# Long while the closes it is shown are positive, short otherwise; `STOP` below the fill.
FOLLOWS_CLOSE = '''
import numpy as np
import pandas as pd
from domain.strategy import StrategyCore

class FollowsClose(StrategyCore):
    type = "MOM"
    timeframe = "1h"

    def signals(self, df):
        up = (df["close"] > 0) & (df["open"] > 0)
        n = len(df)
        return pd.DataFrame({"long_entry": up, "short_entry": ~up, "exit": np.zeros(n, dtype=bool),
                             "size": np.full(n, 1.0), "sl_pct": np.full(n, STOP), "tp_pct": np.full(n, np.nan)},
                            index=df.index)
'''
# Long on even hours, short on odd ones: a reversal on every bar.
ALTERNATING = '''
import numpy as np
import pandas as pd
from domain.strategy import StrategyCore

class Alternating(StrategyCore):
    type = "MOM"
    timeframe = "1h"

    def signals(self, df):
        even = pd.Series(df.index.hour % 2 == 0, index=df.index)
        n = len(df)
        return pd.DataFrame({"long_entry": even, "short_entry": ~even, "exit": np.zeros(n, dtype=bool),
                             "size": np.full(n, 1.0), "sl_pct": np.full(n, np.nan), "tp_pct": np.full(n, np.nan)},
                            index=df.index)
'''


class CountingCandles:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.reads: list[tuple[str, str]] = []

    def get_data(self, symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        self.reads.append((symbol, timeframe))
        return self._inner.get_data(symbol, timeframe, lookback)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _desk(subaccounts: int) -> PaperDesk:
    desk = PaperDesk()
    for number in range(1, subaccounts + 1):
        book = desk.ledger.load(number)
        book.fund(1000.0, desk.clock.now())
        book.assign(f"strat-{number}", "paper", 1000.0, desk.clock.now())
        desk.ledger.save(book)
    return desk


def _close_hour(desk: PaperDesk, hour: int) -> datetime:
    """Hour `hour` (after T0) has closed; the next one opens at the last price."""
    opened = T0 + timedelta(hours=hour)
    desk.prices.append("BTC", "1h", opened, 60000.0, 60100.0, 59900.0, desk.last["BTC"])
    desk.clock.advance(opened + timedelta(hours=1, seconds=5) - desk.clock.now())
    price = desk.last["BTC"]
    desk.prices.append("BTC", "1m", desk.clock.now().replace(second=0), price, price, price, price)
    return opened


def _trader(desk: PaperDesk, max_open: int, candles: Any = None, venue: Any = None, parallel: int = 1) -> LiveTrader:
    return LiveTrader(InProcessSandbox(), candles or desk.prices, desk.ledger, venue or desk.exchange, desk.clock,
                      RiskPolicy(max_position_size=0.2, max_open_positions=max_open), ["BTC"], max_slippage=0.01,
                      lookback=50, parallel=parallel)


def _actions(decisions: list[Decision]) -> list[tuple[str, str]]:
    return [(d.strategy_id, d.action) for d in decisions]


def test_the_candles_of_a_bar_are_read_once_for_all_strategies() -> None:
    for parallel in (1, 3):
        desk = _desk(3)
        for hour in range(1, 4):
            closed = _close_hour(desk, hour)
        candles = CountingCandles(desk.prices)
        live = [LiveStrategy(f"strat-{n}", ALWAYS_LONG, "1h", n) for n in (1, 2, 3)]
        decisions = _trader(desk, 10, candles=candles, parallel=parallel).on_bar_close(live, closed)
        assert [d.action for d in decisions] == ["entered"] * 3
        assert candles.reads == [("BTC", "1h")]


def test_a_strategy_that_writes_into_its_candles_changes_nothing_another_strategy_sees() -> None:
    desk = _desk(2)
    for hour in range(1, 4):
        closed = _close_hour(desk, hour)
    live = [LiveStrategy("strat-1", SCRIBBLER, "1h", 1),
            LiveStrategy("strat-2", FOLLOWS_CLOSE.replace("STOP", "np.nan"), "1h", 2)]
    decisions = _trader(desk, 10).on_bar_close(live, closed)
    assert _actions(decisions) == [("strat-1", "none"), ("strat-2", "entered")]
    assert [p.direction for p in desk.exchange.subaccount(2).positions()] == ["long"]
    assert (desk.prices.get_data("BTC", "1h", 10)["close"] > 0).all()


def test_a_stop_the_venue_fired_frees_its_slot_for_the_next_entry() -> None:
    desk = _desk(1)
    for hour in range(1, 4):
        closed = _close_hour(desk, hour)
    trader = _trader(desk, max_open=1)
    live = [LiveStrategy("strat-1", FOLLOWS_CLOSE.replace("STOP", "0.01"), "1h", 1)]
    assert _actions(trader.on_bar_close(live, closed)) == [("strat-1", "entered")]
    desk.move("BTC", 59000.0)  # through the 1% stop
    desk.move("BTC", 59100.0)
    assert desk.exchange.subaccount(1).positions() == []
    decisions = trader.on_bar_close(live, _close_hour(desk, 4))
    assert _actions(decisions) == [("strat-1", "entered")], decisions
    assert [p.direction for p in desk.exchange.subaccount(1).positions()] == ["long"]


class ClosesRejected:
    """The venue refuses every reduce-only order (a close); entries go through."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def market_order(self, request: Any) -> Any:
        if request.reduce_only:
            raise OrderRejected(request.client_order_id, "no liquidity to close into", code="IocCancel")
        return self._inner.market_order(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class RejectingVenue:
    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def subaccount(self, number: int) -> Any:
        return ClosesRejected(self._inner.subaccount(number))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_an_entry_against_a_position_its_close_left_open_takes_no_second_slot() -> None:
    desk = _desk(1)
    for hour in range(1, 3):
        closed = _close_hour(desk, hour)  # hour 2 closes: even, long
    trader = _trader(desk, max_open=1, venue=RejectingVenue(desk.exchange))
    live = [LiveStrategy("strat-1", ALTERNATING, "1h", 1)]
    assert _actions(trader.on_bar_close(live, closed)) == [("strat-1", "entered")]
    decisions = trader.on_bar_close(live, _close_hour(desk, 3))  # odd: short, the close is refused
    assert [d.action for d in decisions] != ["refused"], decisions
    assert _actions(decisions) == [("strat-1", "reversed")]
    assert len(desk.exchange.subaccount(1).positions()) <= 1


class CountingVenue:
    """Subaccount 1 of the venue, noting mid reads and the market orders sent."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.mids = 0
        self.batches = 0
        self.orders: list[Any] = []

    def subaccount(self, number: int) -> Any:
        outer, inner = self, self._inner.subaccount(number)

        class Noting:
            def mid_price(self, symbol: str) -> float:
                outer.mids += 1
                return float(inner.mid_price(symbol))

            def mid_and_account(self, symbol: str) -> Any:
                return self.mid_price(symbol), self.account()

            def market_order(self, request: Any) -> Any:
                outer.orders.append(request)
                return inner.market_order(request)

            def market_orders(self, requests: Any) -> Any:
                outer.orders.extend(requests)
                outer.batches += 1
                return inner.market_orders(requests)

            def __getattr__(self, name: str) -> Any:
                return getattr(inner, name)

        return Noting()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def test_a_reversal_reads_the_mid_once_for_its_close_and_its_entry() -> None:
    desk = _desk(1)
    venue = CountingVenue(desk.exchange)
    trader = _trader(desk, 10, venue=venue)
    live = [LiveStrategy("strat-1", ALTERNATING, "1h", 1)]
    for hour in range(1, 4):
        closed = _close_hour(desk, hour)
    assert [d.action for d in trader.on_bar_close(live, closed)] == ["entered"]
    closed = _close_hour(desk, 4)
    venue.mids, venue.orders, venue.batches = 0, [], 0
    assert [d.action for d in trader.on_bar_close(live, closed)] == ["reversed"]
    assert venue.mids == 1
    close, entry = venue.orders
    assert venue.batches == 1, "the close and the entry go out in one request"
    assert close.reduce_only and not entry.reduce_only and close.side == entry.side
    assert close.reference_mid == entry.reference_mid == desk.exchange.subaccount(1).mid_price("BTC")


def test_a_reversal_on_the_paper_venue_reads_the_prices_once_for_its_orders(monkeypatch: Any) -> None:
    """cancel, close, mid, account, entry, stop and target share the venue's reads of its bars
    (SubaccountExchange.one_moment) instead of reading them again in every call."""
    desk = _desk(1)
    with_stop = ALTERNATING.replace('np.full(n, np.nan), "tp_pct"', 'np.full(n, 0.02), "tp_pct"')
    live = [LiveStrategy("strat-1", with_stop, "1h", 1)]
    trader = _trader(desk, 10)
    for hour in range(1, 4):
        closed = _close_hour(desk, hour)
    assert [d.action for d in trader.on_bar_close(live, closed)] == ["entered"]
    closed = _close_hour(desk, 4)
    reads: list[str] = []
    original = desk.prices.get_data

    def counted(symbol: str, timeframe: str, lookback: int) -> pd.DataFrame:
        if timeframe == "1m":
            reads.append(symbol)
        return original(symbol, timeframe, lookback)

    monkeypatch.setattr(desk.prices, "get_data", counted)
    assert [d.action for d in trader.on_bar_close(live, closed)] == ["reversed"]
    # in the decision, the latest bar, then the bars since the old stop was placed (a longer read):
    # 6 reads before the block; no fired-stop check before the signals, as the reversal's cancel
    # finds both triggers resting (live_trader._prepare)
    assert len(reads) == 2, reads
    assert len(desk.exchange.subaccount(1).open_orders()) == 1, "the new stop rests"
