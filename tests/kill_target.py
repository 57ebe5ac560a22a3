"""The live loop as a process that a test kills with SIGKILL: `python -m tests.kill_target`.

It trades one alternating strategy on subaccount 1 of the fake Hyperliquid at SIXBTC_KILL_HL_URL,
recording in the Postgres at SIXBTC_KILL_DB_URL, over SIXBTC_KILL_BARS hourly bars: every bar after
the first reverses the position (two orders). Each start reconciles first and then decides every
bar again from the beginning, as a restarted process would: the orders are the same intents, so
none may be sent twice. Prints "started" when it is about to trade and "done" at the end.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
from sqlalchemy import create_engine

from adapters.clock.system import SystemClock
from adapters.inprocess.sandbox import InProcessSandbox
from adapters.memory.live_candles import MemoryLiveCandles
from adapters.postgres.event_store import PostgresEventStore
from application.live_trader import LiveStrategy, LiveTrader
from application.reconcile_subaccount import Reconciler
from application.subaccount_ledger import SubaccountLedger
from domain.client_order_ids import order_intent_id
from domain.risk import RiskPolicy
from tests.contract.hyperliquid_harness import FAST, MASTER_KEY, SUBACCOUNT_ADDRESSES

ALTERNATING = '''
import numpy as np
import pandas as pd
from domain.strategy import StrategyCore

class Alternating(StrategyCore):
    type = "MOM"
    timeframe = "1h"

    def signals(self, df):
        even = (np.arange(len(df)) % 2) == 0
        n = len(df)
        return pd.DataFrame({"long_entry": even, "short_entry": ~even, "exit": np.zeros(n, dtype=bool),
                             "size": np.full(n, 0.05), "sl_pct": np.full(n, np.nan), "tp_pct": np.full(n, np.nan)},
                            index=df.index)
'''
START = datetime(2024, 3, 1, tzinfo=UTC)
STRATEGY = "kill-target"


def bars(count: int) -> pd.DataFrame:
    index = pd.date_range(START, periods=count, freq="1h", tz="UTC", name="timestamp")
    close = 60000.0 + np.arange(count, dtype=float)
    return pd.DataFrame({"open": close, "high": close + 5, "low": close - 5, "close": close, "volume": 1.0},
                        index=index)


def resume_from(ledger: SubaccountLedger, count: int) -> int:
    """The last bar whose entry was recorded (it may have been cut short), as a restarted loop resumes."""
    book = ledger.load(1)
    known = book.filled_orders | set(book.pending_orders)
    done = [i for i in range(count)
            if order_intent_id(STRATEGY, START + timedelta(hours=i), "entry:BTC") in known]
    return max(done, default=0)


def main() -> None:
    from adapters.hyperliquid.exchange import HyperliquidExchange

    count = int(os.environ.get("SIXBTC_KILL_BARS", "12"))
    engine = create_engine(os.environ["SIXBTC_KILL_DB_URL"])
    store = PostgresEventStore(engine)
    exchange = HyperliquidExchange(os.environ["SIXBTC_KILL_HL_URL"], MASTER_KEY, SUBACCOUNT_ADDRESSES,
                                   timeout_s=2.0, retries=3, backoff=FAST, requests_per_second=1000.0)
    clock = SystemClock()
    ledger = SubaccountLedger(store)
    book = ledger.load(1)
    if book.strategy_id is None:
        book.assign(STRATEGY, "live", 1000.0, clock.now())
        ledger.save(book)
    feed = MemoryLiveCandles(clock=clock)
    feed.put("BTC", "1h", bars(count))
    trader = LiveTrader(InProcessSandbox(), feed, ledger, exchange, clock, RiskPolicy(max_position_size=0.2),
                        ["BTC"], max_slippage=0.01, lookback=50)
    Reconciler(ledger, exchange, clock).reconcile(1)
    print("started", flush=True)
    strategy = LiveStrategy(STRATEGY, ALTERNATING, "1h", 1)
    for i in range(resume_from(ledger, count), count):
        decisions = trader.on_bar_close([strategy], (START + timedelta(hours=i)))
        failed = [d for d in decisions if d.action == "failed"]
        if failed:
            raise SystemExit(f"decision failed: {failed}")
    exchange.close()
    print("done", flush=True)


if __name__ == "__main__":
    main()
