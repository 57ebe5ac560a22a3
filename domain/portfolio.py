"""One subaccount's book: cash, positions, equity, drawdown and the UTC day's PnL.

Backtests, paper and live trading all feed the same fills here, so risk limits read the same
numbers on every path. Time comes only from the fills, marks and snapshots given to it: a
first timestamp on a later UTC day opens that day at the equity last known. Late timestamps
(an earlier day) never reopen a closed day; they count toward the current one.

Accounting is for perpetual futures: cash moves by fees and realised PnL only, so
equity == cash + unrealised PnL, and realised_pnl == cash - net funding.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from types import MappingProxyType

from domain.errors import InvalidTradingRecord
from domain.events import PortfolioSnapshotTaken
from domain.trading import Fill, Position, Trade, check_aware, check_finite, check_positive, direction_of

_CLOSE_TOLERANCE = 1e-9
"""Relative size below which a remainder is float noise, not a position left open."""


class Portfolio:
    def __init__(self, subaccount: int, cash: float, at: datetime, strategy_id: str | None = None) -> None:
        check_finite("cash", cash)
        check_aware("at", at)
        self.subaccount = subaccount
        self.strategy_id = strategy_id
        self.cash = float(cash)
        self.net_funding = float(cash)
        self.fees_paid = 0.0
        self._positions: dict[str, Position] = {}
        self._marks: dict[str, float] = {}
        self._trades_closed = 0
        self.peak_equity = self.cash
        self.day: date = at.astimezone(UTC).date()
        self.day_start_equity = self.cash
        self.updated_at = at

    # --- reading ----------------------------------------------------------------------------

    @property
    def positions(self) -> Mapping[str, Position]:
        return MappingProxyType(self._positions)

    def position(self, symbol: str) -> Position | None:
        return self._positions.get(symbol)

    @property
    def open_positions(self) -> int:
        return len(self._positions)

    @property
    def realized_pnl(self) -> float:
        return self.cash - self.net_funding

    @property
    def unrealized_pnl(self) -> float:
        return sum(
            (p.unrealized_pnl(self._marks.get(s, p.entry_price)) for s, p in self._positions.items()), 0.0
        )

    @property
    def equity(self) -> float:
        return self.cash + self.unrealized_pnl

    @property
    def drawdown(self) -> float:
        """Fraction of the peak equity lost since the peak (0.25 = 25% below the peak)."""
        if self.peak_equity <= 0:
            return 0.0
        return max(0.0, (self.peak_equity - self.equity) / self.peak_equity)

    @property
    def daily_pnl(self) -> float:
        return self.equity - self.day_start_equity

    @property
    def daily_return(self) -> float:
        """The day's PnL as a fraction of the equity the day started with."""
        if self.day_start_equity <= 0:
            return 0.0
        return self.daily_pnl / self.day_start_equity

    # --- changing ---------------------------------------------------------------------------

    def fund(self, amount: float, at: datetime) -> None:
        """Move capital in (or out, negative); a transfer is neither profit, loss nor drawdown."""
        check_finite("amount", amount)
        self._advance(at)
        self.cash += amount
        self.net_funding += amount
        self.peak_equity += amount
        self.day_start_equity += amount
        self._update_peak()

    def mark(self, prices: Mapping[str, float], at: datetime) -> None:
        """Revalue at market prices; symbols without a position are remembered for later."""
        for symbol, price in prices.items():
            check_positive(f"mark price of {symbol}", price)
        self._advance(at)
        self._marks.update({symbol: float(price) for symbol, price in prices.items()})
        self._update_peak()

    def apply_fill(
        self,
        fill: Fill,
        *,
        reason: str = "signal",
        stop_loss: float | None = None,
        take_profit: float | None = None,
    ) -> list[Trade]:
        """Book a fill; return the Trade for any part of a position it closed.

        `reason` becomes the closed trade's exit_reason; `stop_loss`/`take_profit` apply to a
        position the fill opens (or replace those of one it adds to, when given).
        """
        self._advance(fill.time)
        self.cash -= fill.fee
        self.fees_paid += fill.fee
        self._marks[fill.symbol] = fill.price
        held = self._positions.get(fill.symbol)
        trades: list[Trade] = []
        opening_size, opening_fee = fill.size, fill.fee
        if held is not None and held.direction != direction_of(fill.side):
            closed = min(fill.size, held.size)
            trades.append(self._close(held, fill, closed, reason))
            opening_size = fill.size - closed
            opening_fee = fill.fee * opening_size / fill.size
        if opening_size > fill.size * _CLOSE_TOLERANCE:
            self._open(fill, opening_size, opening_fee, stop_loss, take_profit)
        self._update_peak()
        return trades

    def adopt_position(self, symbol: str, position: Position | None, at: datetime) -> None:
        """Take the venue's word for what is held on `symbol` (None: flat); no cash moves.

        Reconciliation records the difference as an event; the book must then agree with the
        venue, or every later fill would be booked against a position that does not exist.
        """
        self._advance(at)
        if position is None:
            self._positions.pop(symbol, None)
        else:
            if position.symbol != symbol:
                raise InvalidTradingRecord(f"position for {position.symbol} adopted as {symbol}")
            self._positions[symbol] = position
            self._marks.setdefault(symbol, position.entry_price)
        self._update_peak()

    def snapshot(self, at: datetime) -> PortfolioSnapshotTaken:
        """The book at `at`; a snapshot is an observation, so a new UTC day starts here too."""
        self._advance(at)
        return PortfolioSnapshotTaken(
            aggregate_id=str(self.subaccount),
            occurred_at=at,
            strategy_id=self.strategy_id,
            equity=self.equity,
            cash=self.cash,
            realized_pnl=self.realized_pnl,
            unrealized_pnl=self.unrealized_pnl,
            peak_equity=self.peak_equity,
            drawdown=self.drawdown,
            daily_pnl=self.daily_pnl,
            open_positions=self.open_positions,
        )

    # --- internals --------------------------------------------------------------------------

    def _open(
        self, fill: Fill, size: float, fee: float, stop_loss: float | None, take_profit: float | None
    ) -> None:
        held = self._positions.get(fill.symbol)
        if held is None:
            self._positions[fill.symbol] = Position(
                symbol=fill.symbol,
                direction=direction_of(fill.side),
                size=size,
                entry_price=fill.price,
                opened_at=fill.time,
                stop_loss=stop_loss,
                take_profit=take_profit,
                entry_fees=fee,
            )
            return
        total = held.size + size
        self._positions[fill.symbol] = replace(
            held,
            size=total,
            entry_price=(held.entry_price * held.size + fill.price * size) / total,
            stop_loss=held.stop_loss if stop_loss is None else stop_loss,
            take_profit=held.take_profit if take_profit is None else take_profit,
            entry_fees=held.entry_fees + fee,
        )

    def _close(self, held: Position, fill: Fill, size: float, reason: str) -> Trade:
        gross = (fill.price - held.entry_price) * size * held.sign
        self.cash += gross
        share = size / held.size
        fees = held.entry_fees * share + fill.fee * size / fill.size
        remaining = held.size - size
        if remaining > held.size * _CLOSE_TOLERANCE:
            self._positions[held.symbol] = replace(held, size=remaining, entry_fees=held.entry_fees * (1 - share))
        else:
            del self._positions[held.symbol]
        self._trades_closed += 1
        return Trade(
            id=f"{fill.order_id}-{self._trades_closed}",
            symbol=held.symbol,
            direction=held.direction,
            size=size,
            entry_price=held.entry_price,
            exit_price=fill.price,
            entry_time=held.opened_at,
            exit_time=fill.time,
            pnl=gross - fees,
            fees=fees,
            exit_reason=reason,
        )

    def _advance(self, at: datetime) -> None:
        check_aware("at", at)
        day = at.astimezone(UTC).date()
        if day > self.day:
            self.day = day
            self.day_start_equity = self.equity
        if at > self.updated_at:
            self.updated_at = at

    def _update_peak(self) -> None:
        self.peak_equity = max(self.peak_equity, self.equity)
