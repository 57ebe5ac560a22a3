"""The fake Hyperliquid with trading: POST /exchange (signed actions) and the account /info types.

Every /exchange request is checked as the venue does: the signer is recovered from the signature
(tests.fakes.hyperliquid_signing) and must be the master of `vaultAddress` (or, with no vault, a
master trading its own account); a nonce is accepted once per signer. Refusals answer HTTP 200
{"status": "err", "response": "..."} like the venue. Every accepted action is recorded in
`actions` (signer, vault, user, type, nonce, action, reply), so a test can prove which account an
order landed in. Accounts, matching and triggers: tests.fakes.hyperliquid_ledger.

Faults for /exchange, each used by the next request(s) in the order they were asked for:
- fail_exchange(status, times): answered with that HTTP status; the action is NOT processed.
- delay_exchange(seconds, times): the server waits `seconds`, THEN processes the action and
  replies. A client that timed out meanwhile has left, but its action still lands, late: a later
  resend of the same order meets it (the cloid is taken) or overtakes it.
- lose_reply(times, hang=False): the action IS processed, then the reply never arrives: the
  connection is closed without a response (hang=True: held open until the client times out).

Prices move through `set_mid`, `advance` and `push_tick`; each move checks the triggers against
the whole path from the old price to the new one, so a trigger crossed on the way fires.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiohttp import web

from tests.fakes import hyperliquid_views as views
from tests.fakes.hyperliquid import FakeHyperliquid, recorded
from tests.fakes.hyperliquid_ledger import DEFAULT_SLIPPAGE, FEE_RATE, Account, Ledger
from tests.fakes.hyperliquid_market import DEFAULT_INTERVALS, DEFAULT_START, FakeCandle, FakeMarket, round_price
from tests.fakes.hyperliquid_signing import recover_signer


@dataclass(frozen=True)
class ActionRecord:
    signer: str
    vault: str | None
    user: str
    """The account the action was applied to: the vault, or the signer itself."""
    type: str
    nonce: int
    action: dict[str, Any]
    reply: dict[str, Any]


@dataclass(frozen=True)
class _Fault:
    kind: str  # "fail" | "delay" | "lose"
    status: int = 0
    seconds: float = 0.0
    hang: bool = False


class _ObservedMarket(FakeMarket):
    """The fake's market, telling the ledger about every price move so triggers see the path."""

    on_move: Callable[[str, float, float], None] | None = None

    def tick(self, coin: str, price: float, volume: float = 1.0, at: datetime | None = None) -> list[FakeCandle]:
        old = self.mids.get(coin)
        bars = super().tick(coin, price, volume, at)
        if self.on_move is not None and old is not None:
            self.on_move(coin, old, self.mids[coin])
        return bars


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000


def _err(message: str) -> dict[str, Any]:
    return {"status": "err", "response": message}


class FakeHyperliquidExchange(FakeHyperliquid):
    def __init__(self, *, prices: Mapping[str, float] | None = None, fee_rate: float = FEE_RATE,
                 slippage: float = DEFAULT_SLIPPAGE, now_ms: Callable[[], int] = _wall_ms,
                 start: datetime = DEFAULT_START, intervals: Iterable[str] = DEFAULT_INTERVALS, seed: int = 7,
                 **kwargs: Any) -> None:
        """`prices` sets the starting mid of listed coins (extra_coins adds new ones); fills and
        orders are stamped with `now_ms` (wall-clock milliseconds, like the venue)."""
        super().__init__(start=start, intervals=intervals, seed=seed, **kwargs)
        mids = dict(self.market.mids) | {coin: round_price(p) for coin, p in (prices or {}).items()}
        unknown = set(prices or {}) - set(self.market.mids)
        if unknown:
            raise ValueError(f"prices for coins the fake does not list: {sorted(unknown)}; use extra_coins")
        self.market = _ObservedMarket(mids, start, intervals, seed)
        self.ledger = Ledger(self._meta["universe"], self.market.mids, now_ms, fee_rate, slippage)
        self.market.on_move = self.ledger.on_price
        self.is_mainnet = False
        self.info_handlers |= {
            "clearinghouseState": self._clearinghouse_state,
            "openOrders": lambda body: views.open_orders(self._account_or_empty(body["user"])),
            "frontendOpenOrders": lambda body: views.frontend_open_orders(self._account_or_empty(body["user"])),
            "userFills": lambda body: views.user_fills(self.ledger.account(body["user"])),
            "userFillsByTime": lambda body: views.user_fills_by_time(
                self.ledger.account(body["user"]), int(body["startTime"]),
                None if body.get("endTime") is None else int(body["endTime"])),
            "orderStatus": lambda body: views.order_status(self.ledger.account(body["user"]), body["oid"]),
        }
        self.actions: list[ActionRecord] = []
        self.orders_accepted: Counter[str] = Counter()
        self.exchange_requests: Counter[str] = Counter()
        self.refused_signatures = 0
        self.faults_served: Counter[str] = Counter()
        self._faults: deque[_Fault] = deque()
        self._nonces: defaultdict[str, set[int]] = defaultdict(set)
        self._stopping = asyncio.Event()

    def routes(self) -> list[web.RouteDef]:
        return [*super().routes(), web.post("/exchange", self._exchange)]

    # -- accounts -----------------------------------------------------------------------------------
    def add_master(self, address: str, usdc: float = 0.0) -> None:
        """A master account (its key signs for it and for its subaccounts); it may trade itself."""
        self._on_loop(lambda: self.ledger.add_account(address, None, usdc))

    def add_subaccount(self, master: str, address: str, usdc: float) -> None:
        def add() -> None:
            if self.ledger.account(master) is None:
                raise ValueError("add the master first")
            self.ledger.add_account(address, master, usdc)
        self._on_loop(add)

    # -- market -------------------------------------------------------------------------------------
    def set_mid(self, coin: str, price: float) -> None:
        """The coin trades to `price` (one tick), passing every price in between: triggers crossed fire."""
        self.push_tick(coin, price)

    # -- faults -------------------------------------------------------------------------------------
    def fail_exchange(self, status: int = 429, times: int = 1) -> None:
        self._on_loop(lambda: self._faults.extend([_Fault("fail", status=status)] * times))

    def delay_exchange(self, seconds: float, times: int = 1) -> None:
        self._on_loop(lambda: self._faults.extend([_Fault("delay", seconds=seconds)] * times))

    def lose_reply(self, times: int = 1, hang: bool = False) -> None:
        self._on_loop(lambda: self._faults.extend([_Fault("lose", hang=hang)] * times))

    # -- what tests read ----------------------------------------------------------------------------
    def inspect(self, read: Callable[[Ledger], Any]) -> Any:
        """Runs `read` on the server's loop, where the ledger lives; return copies, not live objects."""
        return self._on_loop(lambda: read(self.ledger))

    def position(self, user: str, coin: str) -> float:
        """The signed size held (0.0 when flat)."""
        def read(ledger: Ledger) -> float:
            acct = ledger.account(user)
            held = acct.positions.get(coin) if acct else None
            return held.szi if held else 0.0
        return float(self.inspect(read))

    def balance(self, user: str) -> float:
        return float(self.inspect(lambda ledger: self._known(ledger, user).usdc))

    def fills(self, user: str) -> list[dict[str, Any]]:
        """Oldest first."""
        return list(self.inspect(lambda ledger: [dict(f) for f in self._known(ledger, user).fills]))

    def open_orders(self, user: str) -> list[dict[str, Any]]:
        return list(self.inspect(lambda ledger: views.frontend_open_orders(self._known(ledger, user))))

    def order_statuses(self, user: str) -> dict[str, str]:
        """cloid (or str(oid) without one) -> status, for every order the user ever sent."""
        return dict(self.inspect(lambda ledger: {o.cloid or str(o.oid): o.status
                                                 for o in self._known(ledger, user).orders.values()}))

    def recorded_actions(self, user: str | None = None) -> list[ActionRecord]:
        return list(self.inspect(lambda _: [a for a in self.actions if user is None or a.user == user.lower()]))

    # -- handlers -----------------------------------------------------------------------------------
    async def _exchange(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            if not isinstance(body, dict) or not isinstance(body.get("action"), dict):
                raise ValueError("no action")
        except ValueError:
            return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")
        fault = self._faults.popleft() if self._faults else None
        if fault is not None:
            self.faults_served[fault.kind] += 1
        if fault is not None and fault.kind == "fail":
            return web.Response(status=fault.status, text="Too Many Requests" if fault.status == 429 else "Error")
        if fault is not None and fault.kind == "delay" and await self._wait(fault.seconds):
            return web.Response(status=503, text="shutting down")
        reply = self._process(body)
        if fault is not None and fault.kind == "lose":
            if fault.hang:
                await self._wait(3600.0)
            if request.transport is not None:
                request.transport.abort()  # type: ignore[attr-defined]  # the reply below goes nowhere
        return web.json_response(reply)

    def _process(self, body: dict[str, Any]) -> dict[str, Any]:
        action = body["action"]
        vault = body.get("vaultAddress")
        try:
            nonce = int(body["nonce"])
            signer = recover_signer(action, body["signature"], vault, nonce, body.get("expiresAfter"), self.is_mainnet)
        except (KeyError, TypeError, ValueError):
            return _err("Invalid signature")
        user = (vault or signer).lower()
        acct = self.ledger.account(user)
        if acct is None or acct.master != (signer if vault else None) or (not vault and acct.address != signer):
            self.refused_signatures += 1
            return _err(f"User or API Wallet {signer} does not exist.")
        if nonce in self._nonces[signer]:
            return _err(f"Invalid nonce: duplicate nonce {nonce}")
        self._nonces[signer].add(nonce)
        kind = str(action.get("type"))
        self.exchange_requests[kind] += 1
        handler = {"order": self._orders, "cancel": self._cancel, "cancelByCloid": self._cancel,
                   "updateLeverage": self._update_leverage}.get(kind)
        if handler is None:
            return _err(f"Unsupported action type {kind}")
        try:
            reply = handler(acct, action)
        except (KeyError, TypeError, ValueError) as exc:
            return _err(f"Failed to deserialize the action: {exc}")
        self.actions.append(ActionRecord(signer, vault.lower() if vault else None, user, kind, nonce, action, reply))
        return reply

    def _orders(self, acct: Account, action: dict[str, Any]) -> dict[str, Any]:
        statuses = []
        for wire in action["orders"]:
            status = self.ledger.place(acct, wire)
            if "error" not in status:
                self.orders_accepted[acct.address] += 1
            statuses.append(status)
        return {"status": "ok", "response": {"type": "order", "data": {"statuses": statuses}}}

    def _cancel(self, acct: Account, action: dict[str, Any]) -> dict[str, Any]:
        by_cloid = action["type"] == "cancelByCloid"
        statuses = [self.ledger.cancel(acct, int(c["asset"]), cloid=c["cloid"]) if by_cloid
                    else self.ledger.cancel(acct, int(c["a"]), oid=int(c["o"])) for c in action["cancels"]]
        return {"status": "ok", "response": {"type": "cancel", "data": {"statuses": statuses}}}

    def _update_leverage(self, acct: Account, action: dict[str, Any]) -> dict[str, Any]:
        error = self.ledger.update_leverage(acct, int(action["asset"]), bool(action["isCross"]), action["leverage"])
        return _err(error) if error else {"status": "ok", "response": {"type": "default"}}

    def _clearinghouse_state(self, body: dict[str, Any]) -> Any:
        acct = self.ledger.account(body["user"])
        return views.clearinghouse_state(self.ledger, acct) if acct else recorded("info_clearinghouseState")

    def _account_or_empty(self, user: str) -> Account:
        return self.ledger.account(user) or Account(user.lower(), None, 0.0)

    @staticmethod
    def _known(ledger: Ledger, user: str) -> Account:
        acct = ledger.account(user)
        if acct is None:
            raise KeyError(f"the fake has no account {user}")
        return acct

    async def _wait(self, seconds: float) -> bool:
        """Sleeps, cut short when the server stops; True when it was cut short."""
        try:
            await asyncio.wait_for(self._stopping.wait(), seconds)
        except TimeoutError:
            return False
        return True

    async def _shutdown(self) -> None:
        self._stopping.set()
        await super()._shutdown()
