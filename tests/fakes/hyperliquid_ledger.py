"""The accounts behind the fake Hyperliquid /exchange: balances, positions, orders, fills, matching.

Pure Python and not thread-safe: the fake server calls it from its event loop only.

How it trades (close to the venue, simplified where SixBTC never looks):
- An IOC order fills completely at mid x (1 +/- slippage) when that is within its limit price,
  else it is refused with the venue's IocCancel message (status iocCancelRejected). There is no
  book: Gtc/Alo limit orders rest and never fill.
- Checks, in the venue's words (exchange_error_messages.json): size off the szDecimals step,
  price off the 5-significant-figure grid, notional under $10 (reduce-only exempt), reduce-only
  that would increase the position, margin (notional / leverage beyond account value minus
  margin used). An order refused by a check still gets an oid and a "<type>Rejected" status and
  uses up its cloid, as the venue's historicalOrders show.
- A cloid the user already used is refused with DUPLICATE_CLOID, without an oid. The real
  message is not documented anywhere we found; this wording is our choice.
- Triggers (stop/take-profit market) fire when the price path crosses them and fill at the
  trigger price -/+ slippage; reduce-only orders that can no longer reduce (position flat or
  flipped) are cancelled with status reduceOnlyCanceled, as the venue does with position TP/SL.
- Fees (fee_rate x notional) and realised PnL move the USDC balance; account value is balance
  plus unrealised PnL at the mid.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from domain.instruments import Instrument

FEE_RATE = 0.00045
DEFAULT_SLIPPAGE = 0.0005
DEFAULT_LEVERAGE = 20
MIN_NOTIONAL = 10.0
DUPLICATE_CLOID = "Duplicate cloid."
INVALID_SIZE = "Order has invalid size."
FIRST_OID = 30_000_000_000  # real oids have 11 digits; equal lengths keep string and numeric order alike
_ERRORS = {  # status recorded for a refused order -> the venue's message
    "tickRejected": "Price must be divisible by tick size.",
    "minTradeNtlRejected": "Order must have minimum value of $10.",
    "perpMarginRejected": "Insufficient margin to place order.",
    "reduceOnlyRejected": "Reduce only order would increase position.",
    "iocCancelRejected": "Order could not immediately match against any resting orders.",
    "rejected": INVALID_SIZE,
}


@dataclass
class Order:
    oid: int
    coin: str
    asset: int
    is_buy: bool
    limit_px: float
    orig_sz: float
    reduce_only: bool
    timestamp: int
    tif: str | None = None
    trigger_px: float | None = None
    tpsl: str | None = None
    cloid: str | None = None
    sz: float = 0.0
    status: str = "open"
    status_ts: int = 0

    @property
    def is_trigger(self) -> bool:
        return self.trigger_px is not None

    def fires_below(self) -> bool:
        """A sell stop or a buy take-profit waits for the price to fall to its trigger."""
        return (self.tpsl == "sl") != self.is_buy


@dataclass
class Position:
    szi: float
    entry_px: float


@dataclass
class Account:
    address: str
    master: str | None
    usdc: float
    positions: dict[str, Position] = field(default_factory=dict)
    leverage: dict[str, int] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    by_cloid: dict[str, int] = field(default_factory=dict)
    fills: list[dict[str, Any]] = field(default_factory=list)

    def open_orders(self) -> list[Order]:
        return [o for o in self.orders.values() if o.status == "open"]


def num(x: float) -> str:
    """A plain decimal string (no exponent) that parses back to exactly `x`, as the venue writes numbers."""
    text = repr(float(x))
    return text if "e" not in text else format(Decimal(text), "f")


class Ledger:
    def __init__(self, universe: list[dict[str, Any]], mids: Mapping[str, float], now_ms: Callable[[], int],
                 fee_rate: float = FEE_RATE, slippage: float = DEFAULT_SLIPPAGE) -> None:
        self.instruments = [Instrument(a["name"], a["szDecimals"], a.get("maxLeverage", 50)) for a in universe]
        self.asset_of = {inst.symbol: i for i, inst in enumerate(self.instruments)}
        self.mids = mids
        self.now_ms = now_ms
        self.fee_rate = fee_rate
        self.slippage = slippage
        self.accounts: dict[str, Account] = {}
        self._next_oid = FIRST_OID
        self._next_tid = 1

    # -- accounts ---------------------------------------------------------------------------------
    def add_account(self, address: str, master: str | None, usdc: float) -> Account:
        key = address.lower()
        if key in self.accounts:
            raise ValueError(f"account {address} exists")
        self.accounts[key] = Account(key, master.lower() if master else None, float(usdc))
        return self.accounts[key]

    def account(self, address: str) -> Account | None:
        return self.accounts.get(address.lower())

    def leverage(self, acct: Account, coin: str) -> int:
        return acct.leverage.get(coin, min(DEFAULT_LEVERAGE, self.instruments[self.asset_of[coin]].max_leverage))

    def account_value(self, acct: Account) -> float:
        return acct.usdc + sum(p.szi * (self.mids[c] - p.entry_px) for c, p in acct.positions.items())

    def margin_used(self, acct: Account) -> float:
        return sum(abs(p.szi) * self.mids[c] / self.leverage(acct, c) for c, p in acct.positions.items())

    # -- actions ----------------------------------------------------------------------------------
    def place(self, acct: Account, wire: dict[str, Any]) -> dict[str, Any]:
        """One order in wire format (a, b, p, s, r, t, c); returns its status as the venue does."""
        asset = int(wire["a"])
        if not 0 <= asset < len(self.instruments):
            return {"error": f"Invalid asset {asset}"}
        cloid = wire.get("c")
        if cloid is not None and cloid in acct.by_cloid:
            return {"error": f"{DUPLICATE_CLOID} asset={asset}"}
        inst = self.instruments[asset]
        kind = wire["t"]
        trigger = kind.get("trigger")
        order = Order(self._oid(), inst.symbol, asset, bool(wire["b"]), float(wire["p"]), float(wire["s"]),
                      bool(wire["r"]), self.now_ms(), tif=kind.get("limit", {}).get("tif"),
                      trigger_px=float(trigger["triggerPx"]) if trigger else None,
                      tpsl=trigger["tpsl"] if trigger else None, cloid=cloid)
        order.sz = order.orig_sz
        acct.orders[order.oid] = order
        if cloid is not None:
            acct.by_cloid[cloid] = order.oid
        refused = self._check(acct, order, inst)
        if refused is None and order.tif == "Ioc":
            refused = self._match_ioc(acct, order)
        if refused is not None:
            self._finish(order, refused)
            return {"error": f"{_ERRORS[refused]} asset={asset}"}
        if order.status == "filled":
            fills = [f for f in acct.fills if f["oid"] == order.oid]
            size = sum(float(f["sz"]) for f in fills)
            avg = fills[0]["px"] if len(fills) == 1 else num(sum(float(f["px"]) * float(f["sz"]) for f in fills) / size)
            return {"filled": {"totalSz": num(size), "avgPx": avg, "oid": order.oid}}
        return {"resting": {"oid": order.oid}}

    def cancel(self, acct: Account, asset: int, oid: int | None = None, cloid: str | None = None) -> Any:
        if cloid is not None:
            oid = acct.by_cloid.get(cloid)
        order = acct.orders.get(oid) if oid is not None else None
        if order is None or order.status != "open" or order.asset != asset:
            return {"error": f"Order was never placed, already canceled, or filled. asset={asset}"}
        self._finish(order, "canceled")
        return "success"

    def update_leverage(self, acct: Account, asset: int, is_cross: bool, leverage: int) -> str | None:
        """None when done, else the venue's error text."""
        if not 0 <= asset < len(self.instruments):
            return f"Invalid asset {asset}"
        inst = self.instruments[asset]
        if not is_cross:
            return "Isolated margin is not supported by this fake."
        if not isinstance(leverage, int) or not 1 <= leverage <= inst.max_leverage:
            return "Invalid leverage value"
        acct.leverage[inst.symbol] = leverage
        return None

    def on_price(self, coin: str, old: float, new: float) -> None:
        """The market traded from `old` to `new` through every price between: fire the triggers crossed."""
        lo, hi = min(old, new), max(old, new)
        crossed = [(acct, o) for acct in self.accounts.values() for o in acct.open_orders()
                   if o.coin == coin and o.is_trigger and o.trigger_px is not None
                   and (lo <= o.trigger_px if o.fires_below() else hi >= o.trigger_px)]
        crossed.sort(key=lambda pair: pair[1].trigger_px or 0.0, reverse=new < old)  # in the order the path meets them
        for acct, order in crossed:
            if order.status != "open":  # cancelled by an earlier fill on this path
                continue
            px = order.trigger_px or 0.0
            self._finish(order, "triggered")
            self._execute(acct, order, px * (1 + self.slippage) if order.is_buy else px * (1 - self.slippage))

    # -- internals --------------------------------------------------------------------------------
    def _check(self, acct: Account, order: Order, inst: Instrument) -> str | None:
        if not inst.is_valid_size(order.orig_sz):
            return "rejected"
        prices = [order.limit_px] + ([order.trigger_px] if order.trigger_px is not None else [])
        if not all(inst.is_valid_price(p) for p in prices):
            return "tickRejected"
        held = acct.positions.get(order.coin)
        szi = held.szi if held else 0.0
        if order.reduce_only:
            return "reduceOnlyRejected" if szi == 0 or (szi > 0) == order.is_buy else None
        if order.orig_sz * order.limit_px < MIN_NOTIONAL:
            return "minTradeNtlRejected"
        closing = min(order.orig_sz, abs(szi)) if szi and (szi > 0) != order.is_buy else 0.0
        required = (order.orig_sz - closing) * order.limit_px / self.leverage(acct, order.coin)
        if required > self.account_value(acct) - self.margin_used(acct) + 1e-9:
            return "perpMarginRejected"
        return None

    def _match_ioc(self, acct: Account, order: Order) -> str | None:
        mid = self.mids[order.coin]
        px = mid * (1 + self.slippage) if order.is_buy else mid * (1 - self.slippage)
        if (order.is_buy and px > order.limit_px) or (not order.is_buy and px < order.limit_px):
            return "iocCancelRejected"
        self._execute(acct, order, px)
        return None

    def _execute(self, acct: Account, order: Order, px: float) -> None:
        inst = self.instruments[order.asset]
        held = acct.positions.get(order.coin) or Position(0.0, 0.0)
        start = held.szi
        sz = min(order.sz, abs(start)) if order.reduce_only else order.sz
        if sz <= 0:
            self._finish(order, "reduceOnlyCanceled")
            return
        signed = sz if order.is_buy else -sz
        closing = min(sz, abs(start)) if start and (start > 0) != order.is_buy else 0.0
        pnl = closing * (px - held.entry_px) * (1 if start > 0 else -1) if closing else 0.0
        new = round(start + signed, inst.sz_decimals)
        if new == 0:
            acct.positions.pop(order.coin, None)
        elif start == 0 or (start > 0) != (new > 0):
            acct.positions[order.coin] = Position(new, px)
        elif abs(new) > abs(start):
            acct.positions[order.coin] = Position(new, (abs(start) * held.entry_px + sz * px) / abs(new))
        else:
            acct.positions[order.coin] = Position(new, held.entry_px)
        fee = px * sz * self.fee_rate
        acct.usdc += pnl - fee
        acct.fills.append(self._fill(order, px, sz, start, new, pnl, fee))
        order.sz = 0.0
        self._finish(order, "filled")
        self._cancel_stale_reduce_only(acct, order.coin)

    def _fill(self, order: Order, px: float, sz: float, start: float, new: float, pnl: float,
              fee: float) -> dict[str, Any]:
        tid = self._next_tid
        self._next_tid += 1
        side = "Long" if (start if start else new) > 0 else "Short"
        if start and new and (start > 0) != (new > 0):
            direction = "Long > Short" if start > 0 else "Short > Long"
        else:
            direction = ("Open " if abs(new) > abs(start) else "Close ") + side
        fill = {"coin": order.coin, "px": num(px), "sz": num(sz), "side": "B" if order.is_buy else "A",
                "time": self.now_ms(), "startPosition": num(start), "dir": direction, "closedPnl": num(pnl),
                "hash": "0x" + f"{tid:064x}", "oid": order.oid, "crossed": True, "fee": num(fee), "tid": tid,
                "feeToken": "USDC", "twapId": None}
        if order.cloid is not None:
            fill["cloid"] = order.cloid
        return fill

    def _cancel_stale_reduce_only(self, acct: Account, coin: str) -> None:
        held = acct.positions.get(coin)
        for order in acct.open_orders():
            if order.coin == coin and order.reduce_only and (held is None or (held.szi > 0) == order.is_buy):
                self._finish(order, "reduceOnlyCanceled")

    def _finish(self, order: Order, status: str) -> None:
        order.status = status
        order.status_ts = self.now_ms()

    def _oid(self) -> int:
        self._next_oid += 1
        return self._next_oid
