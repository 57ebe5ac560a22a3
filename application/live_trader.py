"""One decision per live strategy when its bar closes: signals -> risk policy -> exchange -> events.

The strategy's signals come from the sandbox on the closed bars only (the forming bar is never
shown to it), its last row is acted on at once, so the fill is the next bar's opening price as in
the backtester: an exit closes, an opposite entry reverses, an entry in the direction held is
ignored, and stops are fractions of the entry fill, held by the venue. One strategy's failure is
recorded (DecisionFailed) and never stops the others.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

import pandas as pd

from application import signal_rows
from application.bar_frames import BarFrames
from application.closing import close_symbol
from application.open_position import EntryRequest, PendingClose, PositionOpener, book_pending_close, send_close
from application.ports.clock import Clock
from application.ports.exchange import Exchange, OrderRejected
from application.ports.market_data import LiveCandles
from application.ports.strategy_sandbox import StrategySandbox
from application.resting_triggers import RestingTriggers
from application.subaccount_ledger import SubaccountLedger
from application.venue_fills import book_fired_triggers
from domain.client_order_ids import order_intent_id
from domain.risk import RiskPolicy
from domain.subaccount_book import SubaccountBook
from domain.trading import Side

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class LiveStrategy:
    strategy_id: str
    code: str
    timeframe: str
    subaccount: int
    params: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Decision:
    strategy_id: str
    symbol: str
    action: str
    """entered, exited, reversed, held, refused, rejected, failed, or none."""
    detail: str = ""


@dataclass
class LiveTrader:
    sandbox: StrategySandbox
    candles: LiveCandles
    ledger: SubaccountLedger
    exchange: Exchange
    clock: Clock
    risk: RiskPolicy
    symbols: Sequence[str]
    max_slippage: float
    lookback: int | None = 1000
    """Closed bars shown to the strategy; None: every bar the feed holds (replays, parity)."""
    parallel: int = 1
    """Subaccounts decided at the same time. Above 1, one subaccount's round trips to the venue and
    the database overlap another's work (a remote exchange, PostgreSQL); 1 decides them one after
    another in the given order, which replays and parity tests rely on for the open-positions limit."""
    _opener: PositionOpener = field(init=False)
    _open_total: int = field(init=False, default=0)
    """Positions open across subaccounts, counted once per bar and kept up to date by this bar's orders."""
    _slots: threading.Lock = field(init=False, default_factory=threading.Lock)
    """Guards `_open_total`: a slot is taken before an entry is sent and given back if none opened."""
    _resting: RestingTriggers = field(init=False, default_factory=RestingTriggers)
    _pool: ThreadPoolExecutor | None = field(init=False, default=None)
    """The deciding threads, started on the first bar decided at once and kept: starting ten
    threads per bar cost a few ms before the first signal."""

    def __post_init__(self) -> None:
        if self.parallel < 1:
            raise ValueError(f"parallel must be at least 1, got {self.parallel}")
        self._opener = PositionOpener(self.ledger, self.exchange, self.clock)

    def on_bar_close(self, strategies: Sequence[LiveStrategy], bar_time: datetime) -> list[Decision]:
        """`bar_time` is the open time of the bar that just closed. Decisions come back in the order given.

        In turn (`parallel` 1), each strategy's signals and then its orders, one strategy after
        another. Otherwise subaccounts are decided at once, each its signals then its orders, when
        even the most entries this bar could bring (every symbol a subaccount holds nothing on)
        fit under the open-positions limit: no entry can then be refused for a slot, whatever the
        timing. When they might not, signals first, for every strategy, then orders: at once when
        the entries the signals ask for fit; when they compete for the last slots, the strategies
        act one after another in the order given, so which entries get a slot never depends on
        which venue answered first.
        """
        books = {n: self.ledger.load(n) for n in self.exchange.subaccounts()}
        self._open_total = sum(len(book.positions) for book in books.values())
        groups: dict[int, list[LiveStrategy]] = {}
        for strategy in strategies:
            groups.setdefault(strategy.subaccount, []).append(strategy)
        bars = BarFrames(self._closed_bars, bar_time)
        most_entries = sum(len(self.symbols) if n not in books else
                           sum(1 for symbol in self.symbols if symbol not in books[n].positions) for n in groups)

        fits_all = self._open_total + most_entries <= self.risk.max_open_positions

        def prepare(s: LiveStrategy) -> _Prepared:
            return self._guarded(s, bar_time, lambda: self._prepare(s, bar_time, bars, fits_all),
                                 lambda failed: _Prepared(s, None, {}, [failed]))

        def act(s: LiveStrategy, prepared: _Prepared) -> list[Decision]:
            return self._guarded(s, bar_time, lambda: self._act_all(prepared, bar_time), lambda failed: [failed])

        if self.parallel == 1 or len(groups) == 1:
            acted = self._each(groups, lambda s: act(s, prepare(s)), at_once=False)
        elif fits_all:
            acted = self._each(groups, lambda s: act(s, prepare(s)))
        else:
            ready = self._each(groups, prepare)
            entries = sum(p.new_entries for p in ready.values())
            at_once = self._open_total + entries <= self.risk.max_open_positions
            acted = self._each(groups, lambda s: act(s, ready[id(s)]), at_once=at_once)
        return [decision for strategy in strategies for decision in acted[id(strategy)]]

    def _each(self, groups: Mapping[int, Sequence[LiveStrategy]], work: Callable[[LiveStrategy], T],
              at_once: bool = True) -> dict[int, T]:
        """`work` for every strategy, keyed by id(strategy): one subaccount's strategies in turn,
        subaccounts on `parallel` threads when at_once."""
        def group_work(group: Sequence[LiveStrategy]) -> list[tuple[int, T]]:
            return [(id(strategy), work(strategy)) for strategy in group]
        if self.parallel == 1 or len(groups) == 1 or not at_once:
            done = [group_work(group) for group in groups.values()]
        else:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(max_workers=self.parallel, thread_name_prefix="decide")
            done = list(self._pool.map(group_work, groups.values()))
        return {key: value for pairs in done for key, value in pairs}

    def close(self) -> None:
        """Stop the deciding threads (after the bar in progress); the next bar decided at once starts them again."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True)

    def _guarded(self, strategy: LiveStrategy, bar_time: datetime, work: Callable[[], T],
                 failed: Callable[[Decision], T]) -> T:
        try:
            return work()
        except Exception as exc:  # recorded as an event below, then the next strategy goes on
            log.exception("decision failed", extra={"strategy_id": strategy.strategy_id})
            self._resting.distrust(strategy.subaccount, self.symbols)  # an order sent may have lost its booking
            book = self.ledger.load(strategy.subaccount)
            book.decision_failed(strategy.strategy_id, bar_time, f"{type(exc).__name__}: {exc}", self.clock.now())
            self.ledger.save(book)
            return failed(Decision(strategy.strategy_id, "*", "failed", str(exc)))

    # --- one strategy -----------------------------------------------------------------------

    def _prepare(self, strategy: LiveStrategy, bar_time: datetime, bars: BarFrames, fits_all: bool) -> _Prepared:
        """The signals, and the stops the venue fired since the last bar booked (their slots given
        back before any entry). When every entry this bar could bring fits under the limit anyway
        and every symbol with resting triggers is about to be closed, that read of the fills is
        left to the close: its cancel tells whether a trigger was gone (`_close`)."""
        frames = {s: bars.get(s, strategy.timeframe) for s in self.symbols}
        frames = {s: f for s, f in frames.items() if len(f) and f.index[-1] == pd.Timestamp(bar_time)}
        if not frames:
            return _Prepared(strategy, None, {}, [])
        signals = self.sandbox.signals(strategy.code, strategy.strategy_id, strategy.params, frames, last_rows=1)
        book = self.ledger.load(strategy.subaccount)
        rows = {symbol: signals[symbol].iloc[-1] for symbol in sorted(frames)}
        resting = {o.symbol for o in book.open_orders.values()}
        closing = {symbol for symbol, row in rows.items() if signal_rows.closes(book, symbol, row)}
        if not (fits_all and resting <= closing):
            self._book_fired(book, strategy.subaccount, bar_time)
        return _Prepared(strategy, book, rows, [])

    def _book_fired(self, book: SubaccountBook, subaccount: int, bar_time: datetime) -> None:
        held = len(book.positions)
        if book_fired_triggers(book, self.exchange.subaccount(subaccount), pd.Timestamp(bar_time)):
            self.ledger.save(book)  # a stop the venue fired since the last bar: the position is gone
            for _ in range(held - len(book.positions)):
                self._give_slot()  # counted open at the start of the bar; free for this bar's entries

    def _act_all(self, prepared: _Prepared, bar_time: datetime) -> list[Decision]:
        if prepared.book is None:
            return prepared.decisions
        with self.exchange.subaccount(prepared.strategy.subaccount).one_moment():
            return [self._act(prepared.book, prepared.strategy, symbol, row, bar_time)
                    for symbol, row in prepared.rows.items()]

    def _closed_bars(self, symbol: str, timeframe: str, bar_time: datetime) -> pd.DataFrame:
        lookback = (self.lookback or 10**7) + 2
        frame = self.candles.get_data(symbol, timeframe, lookback)
        closed = frame[frame.index <= pd.Timestamp(bar_time)]
        return closed if self.lookback is None else closed.iloc[-self.lookback:]

    def _act(self, book: SubaccountBook, strategy: LiveStrategy, symbol: str, row: pd.Series,
             bar_time: datetime) -> Decision:
        held = book.positions.get(symbol)
        wanted = signal_rows.wanted(row)
        if wanted is None:
            if bool(row["exit"]) and held is not None:
                closed = self._close(book, strategy, symbol, bar_time, "exit")
                if closed.fired:
                    return Decision(strategy.strategy_id, symbol, "none", "a stop or target had closed it")
                return Decision(strategy.strategy_id, symbol, "exited")
            return Decision(strategy.strategy_id, symbol, "none")
        if held is not None and held.direction == wanted:
            return Decision(strategy.strategy_id, symbol, "held", "an entry in the direction held is ignored")
        reversed_ = held is not None
        pending = None
        venue = self.exchange.subaccount(strategy.subaccount)
        mid, account = venue.mid_and_account(symbol)  # one read of each for both orders of a reversal
        if held is not None:
            closed = self._close(book, strategy, symbol, bar_time, "reverse", mid, with_entry=True)
            pending, reversed_ = closed.pending, not closed.fired
        try:
            decision = self._enter(book, strategy, symbol, wanted, row, bar_time, mid, account.account_value, pending)
        except BaseException:
            if book.has_pending:
                self.ledger.save(book)  # the cancels of a reversal, saved with its orders otherwise
            raise
        finally:
            if pending is not None and pending.order_id in book.pending_orders:
                book_pending_close(self.ledger, book, venue, pending)  # sent, and the entry did not book it
                if symbol not in book.positions:
                    self._give_slot()
        if reversed_ and decision.action == "entered":
            return Decision(strategy.strategy_id, symbol, "reversed", decision.detail)
        return decision

    def _enter(self, book: SubaccountBook, strategy: LiveStrategy, symbol: str, direction: str, row: pd.Series,
               bar_time: datetime, price: float, equity: float, pending: PendingClose | None = None) -> Decision:
        """`price`, `equity`: the mid and the account value read just now (with the close of a
        reversal, before it), for this entry's size and limit.
        `pending`: that close, not sent yet: it goes out with the entry, or alone when the entry is
        refused. The equity the entry is sized on is read before the close, so it still holds the
        old position's unrealized PnL at the venue's mark (its close costs a fee and slippage more).
        Until the close is booked the book holds the position, so the entry neither takes a slot
        nor gives one back: it is the same one."""
        side: Side = "buy" if direction == "long" else "sell"
        sl_pct, tp_pct = signal_rows.fraction(row["sl_pct"]), signal_rows.fraction(row["tp_pct"])
        sign = 1.0 if side == "buy" else -1.0
        stop = None if sl_pct is None else price * (1 - sign * sl_pct)
        refusal = self._refusal(book, equity)
        size = 0.0 if refusal else self.risk.position_size(equity, price, stop, float(row["size"]))
        if refusal is None and size <= 0:
            refusal = f"no size: equity {equity:.2f}"
        netted = symbol in book.positions  # a reversal whose close failed: the entry trades against it
        if refusal is None and not netted:
            refusal = self._take_slot()
        if refusal is not None:
            book.refuse_signal(strategy.strategy_id, symbol, direction, bar_time, refusal, self.clock.now())
            self.ledger.save(book)
            if pending is not None:
                self._send_close(book, pending)
            return Decision(strategy.strategy_id, symbol, "refused", refusal)
        opened = False
        try:
            result = self._opener.open(EntryRequest(
                subaccount=strategy.subaccount, strategy_id=strategy.strategy_id, symbol=symbol, side=side,
                size=size, bar_time=bar_time, max_slippage=self.max_slippage, stop_loss_pct=sl_pct,
                take_profit_pct=tp_pct, reference_mid=price), book, pending)
            opened = result.status == "filled"
            if result.status == "duplicate" and pending is not None:
                self._send_close(book, pending)
        finally:
            if not opened and not netted and symbol not in book.positions:
                self._give_slot()
        if result.status == "rejected":
            return Decision(strategy.strategy_id, symbol, "rejected", result.reason or "")
        return Decision(strategy.strategy_id, symbol, "entered", f"{result.filled_size} at {result.average_price}")

    def _refusal(self, book: SubaccountBook, equity: float) -> str | None:
        if equity <= 0:
            return f"subaccount {book.subaccount} has no equity ({equity:.2f})"
        breach = None if book.last_snapshot is None else self.risk.snapshot_breach(book.last_snapshot)
        return None if breach is None else f"emergency stop: {breach}"

    def _take_slot(self) -> str | None:
        """One of `max_open_positions` for this entry, or why there is none left."""
        with self._slots:
            if self._open_total >= self.risk.max_open_positions:
                return f"{self._open_total} positions open; the limit is {self.risk.max_open_positions}"
            self._open_total += 1
            return None

    def _give_slot(self) -> None:
        with self._slots:
            self._open_total = max(0, self._open_total - 1)

    def _send_close(self, book: SubaccountBook, pending: PendingClose) -> None:
        try:
            send_close(self.ledger, book, self.exchange.subaccount(book.subaccount), pending, self.clock.now())
        except OrderRejected:
            pass  # recorded by close_symbol; reconciliation adopts whatever the venue holds
        if pending.symbol not in book.positions:
            self._give_slot()

    def _close(self, book: SubaccountBook, strategy: LiveStrategy, symbol: str, bar_time: datetime,
               intent: str, mid: float | None = None, with_entry: bool = False) -> _Closed:
        """With `with_entry`, the close is returned unsent, for the entry to send with it, and the
        book unsaved: the cancels are appended with the orders' OrderPlaced, one append fewer.

        A resting trigger of the book's that the cancel did not find had fired (or been cancelled
        by the venue, with its fired sibling, or by someone else): the fills since the last bar are
        booked first, and when they closed the position there is nothing left to close; one that
        did not fill is booked as missing from the venue."""
        venue = self.exchange.subaccount(strategy.subaccount)
        now = self.clock.now()
        fired = self._resting.cancel(book, venue, symbol, f"{intent} of {symbol}", now,
                                     lambda: self._book_fired(book, strategy.subaccount, bar_time))
        held = book.positions.get(symbol)
        pending = None
        if held is not None:
            order_id = order_intent_id(strategy.strategy_id, bar_time, f"{intent}:{symbol}")
            reason = "signal" if intent == "exit" else intent
            if with_entry:
                pending = PendingClose(order_id, strategy.strategy_id, symbol, held.direction, held.size,
                                       self.max_slippage, reason, reference_mid=mid)
            else:
                try:
                    close_symbol(self.ledger, book, venue, order_id, strategy.strategy_id, symbol, held.direction,
                                 held.size, self.max_slippage, reason, now, reference_mid=mid)
                except OrderRejected:
                    pass  # recorded by close_symbol; reconciliation adopts whatever the venue holds
                if symbol not in book.positions:
                    self._give_slot()
        if pending is None:
            self.ledger.save(book)  # else with the orders: every path of the entry saves before it sends
        return _Closed(pending, fired)


@dataclass(frozen=True)
class _Closed:
    pending: PendingClose | None
    """The close to send with the entry (`with_entry`)."""
    fired: bool
    """The position was gone before the close: a stop or target the venue fired."""


@dataclass(frozen=True)
class _Prepared:
    """A strategy's signals for the bar that closed, before any order: its book, and the last row
    per symbol (or the decisions already made, when there is nothing to act on)."""

    strategy: LiveStrategy
    book: SubaccountBook | None
    rows: dict[str, pd.Series]
    decisions: list[Decision]

    @property
    def new_entries(self) -> int:
        """Positions this strategy may open on symbols it holds nothing on (a reversal keeps its slot)."""
        if self.book is None:
            return 0
        held = self.book.positions
        return sum(1 for symbol, row in self.rows.items() if signal_rows.wanted(row) and symbol not in held)
