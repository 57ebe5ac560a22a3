"""A local fake Hyperliquid: POST /info and the /ws WebSocket, on 127.0.0.1 in a background thread.

Answers like the real venue where recordings show it (meta, allMids and clearinghouseState are the
recorded responses; candles have the recorded field set and string prices; candleSnapshot returns
bars overlapping [startTime, endTime], at most 5000). WebSocket protocol as documented:
"Websocket connection established." on connect, subscribe/unsubscribe answered with
{"channel": "subscriptionResponse", "data": <request>}, then {"channel": "candle", "data": <candle>}
pushes; {"method": "ping"} -> {"channel": "pong"}.

Tests drive the market (advance, push_tick) and break things on purpose (drop_connections,
pause_pushes, fail_info, reject_ws). Later features extend it by registering more /info types
(`info_handlers`) or overriding `routes()` to add POST /exchange.

All state lives on the server's event loop; the control methods hop onto it and wait, so tests
see every push sent before the call returns.
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
from aiohttp import WSMsgType, web

from tests.fakes.hyperliquid_market import DEFAULT_INTERVALS, DEFAULT_START, FakeCandle, FakeClock, FakeMarket

logger = logging.getLogger(__name__)
T = TypeVar("T")
RECORDED = Path(__file__).resolve().parents[3] / "shared" / "data" / "hyperliquid" / "sdk_recorded"
SNAPSHOT_LIMIT = 5000
InfoHandler = Callable[[dict[str, Any]], Any]


def recorded(name: str) -> Any:
    """The response body of a recorded /info call, e.g. recorded("info_meta")."""
    return json.loads((RECORDED / f"{name}.json").read_text())["response"]


@dataclass(eq=False)
class _Client:
    ws: web.WebSocketResponse
    transport: asyncio.BaseTransport | None
    candles: set[tuple[str, str]] = field(default_factory=set)
    all_mids: bool = False
    silent: bool = False


class FakeHyperliquid:
    def __init__(self, *, start: datetime = DEFAULT_START, extra_coins: Mapping[str, float] | None = None,
                 intervals: Iterable[str] = DEFAULT_INTERVALS, seed: int = 7,
                 snapshot_limit: int = SNAPSHOT_LIMIT, host: str = "127.0.0.1") -> None:
        self._meta = recorded("info_meta")
        extra = dict(extra_coins or {})
        for coin in extra:
            self._meta["universe"].append({"name": coin, "szDecimals": 2, "maxLeverage": 20})
        mids = {coin: float(price) for coin, price in recorded("info_allMids").items()} | extra
        self.market = FakeMarket(mids, start, intervals, seed)
        self.snapshot_limit = snapshot_limit
        self.info_handlers: dict[str, InfoHandler] = {
            "meta": lambda _: copy.deepcopy(self._meta),
            "spotMeta": lambda _: {"universe": [], "tokens": []},
            "allMids": lambda _: {c: repr(p) for c, p in self.market.mids.items()},
            "candleSnapshot": self._candle_snapshot,
            "clearinghouseState": lambda _: recorded("info_clearinghouseState"),
        }
        self.info_requests: Counter[str] = Counter()
        self.connections_opened = 0
        self.ws_rejected = 0
        self.candles_served = 0
        self.pushes_sent = 0
        self.pings_received = 0
        self.ack_subscriptions = True  # False: subscribe silently, as if the ack format had changed
        self._clients: set[_Client] = set()
        self._info_failures: deque[tuple[int, str | None]] = deque()
        self._ws_rejections = 0
        self._paused = False
        self._host = host
        self._port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def url(self) -> str:
        if self._port is None:
            raise RuntimeError("fake Hyperliquid not started")
        return f"http://{self._host}:{self._port}"

    @property
    def ws_url(self) -> str:
        return "ws" + self.url[len("http"):] + "/ws"

    @property
    def clock(self) -> FakeClock:
        return self.market.clock

    def start(self) -> FakeHyperliquid:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fake-hyperliquid", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._serve(), self._loop).result(10)
        return self

    def stop(self) -> None:
        if self._loop is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._shutdown(), self._loop).result(15)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()
        self._loop = self._thread = None
        self._port = None

    def __enter__(self) -> FakeHyperliquid:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def routes(self) -> list[web.RouteDef]:
        """Override and extend to serve more endpoints (POST /exchange)."""
        return [web.post("/info", self._info), web.get("/ws", self._ws_handler)]

    # -- market controls ---------------------------------------------------------------------------
    def seed_history(self, minutes: int, coins: Iterable[str] | None = None) -> None:
        self._on_loop(lambda: self.market.seed_history(minutes, coins))

    def advance(self, minutes: int = 1, coins: Iterable[str] | None = None) -> None:
        """Steps the clock minute by minute, every coin trading at each minute; pushes updates."""
        chosen = list(coins) if coins is not None else None
        self._on_loop(lambda: self.market.step(minutes, chosen), push=True)

    def push_tick(self, coin: str, price: float, volume: float = 1.0, at: datetime | None = None) -> None:
        """One trade: updates the forming bar of every interval (a new one when a bar closed)."""
        self._on_loop(lambda: self.market.tick(coin, price, volume, at), push=True)

    def candles(self, coin: str, interval: str) -> pd.DataFrame:
        return self._on_loop(lambda: self.market.frame(coin, interval))

    def latest(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """The newest bar of each (coin, interval) that has one, as served (the candle JSON)."""
        def read() -> dict[tuple[str, str], dict[str, Any]]:
            bars = {key: self.market.latest(*key) for key in keys}
            return {key: bar.to_json() for key, bar in bars.items() if bar is not None}
        return self._on_loop(read)

    # -- failure controls --------------------------------------------------------------------------
    def drop_connections(self, abrupt: bool = False) -> int:
        """Closes every WebSocket (close code 1012, or a reset when abrupt); returns how many."""
        return self._on_loop_async(self._drop(abrupt))

    def silence_connections(self) -> None:
        """The open connections stay open but send nothing more, pongs included (a half-open link);
        connections made later behave normally."""
        def silence() -> None:
            for client in self._clients:
                client.silent = True
        self._on_loop(silence)

    def pause_pushes(self) -> None:
        """Stops sending candle pushes (they are lost, not queued); the store still updates."""
        self._paused = True

    def resume_pushes(self) -> None:
        self._paused = False

    def fail_info(self, status: int = 429, times: int = 1, kind: str | None = None) -> None:
        """The next `times` POST /info requests (of type `kind`, or any) answer `status` instead."""
        self._on_loop(lambda: self._info_failures.extend([(status, kind)] * times))

    def reject_ws(self, times: int = 1) -> None:
        """The next `times` WebSocket upgrades answer 503."""
        self._ws_rejections += times

    @property
    def open_connections(self) -> int:
        return len(self._clients)

    def subscriptions(self) -> list[set[tuple[str, str]]]:
        """The candle subscriptions of each open connection."""
        return self._on_loop(lambda: [set(c.candles) for c in self._clients])

    # -- handlers ----------------------------------------------------------------------------------
    async def _info(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
            kind = body["type"]
        except (ValueError, KeyError, TypeError):
            return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")
        self.info_requests[kind] += 1
        failure = next((f for f in self._info_failures if f[1] in (None, kind)), None)
        if failure is not None:
            self._info_failures.remove(failure)
            status = failure[0]
            return web.Response(status=status, text="Too Many Requests" if status == 429 else "Internal Error")
        handler = self.info_handlers.get(kind)
        if handler is None:
            return web.Response(status=422, text="Failed to deserialize the JSON body into the target type")
        try:
            return web.json_response(handler(body))
        except (KeyError, ValueError) as exc:
            return web.Response(status=422, text=f"Failed to deserialize the JSON body: {exc}")

    def _candle_snapshot(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        req = body["req"]
        coin, interval = req["coin"], req["interval"]
        if interval not in self.market.intervals:
            raise ValueError(f"unknown interval {interval}")
        if coin not in self.market.mids:
            return []
        bars = self.market.snapshot(coin, interval, int(req["startTime"]), int(req["endTime"]), self.snapshot_limit)
        self.candles_served += len(bars)
        return [bar.to_json() for bar in bars]

    async def _ws_handler(self, request: web.Request) -> web.StreamResponse:
        if self._ws_rejections > 0:
            self._ws_rejections -= 1
            self.ws_rejected += 1
            return web.Response(status=503, text="Service Unavailable")
        ws = web.WebSocketResponse(timeout=2.0)
        await ws.prepare(request)
        client = _Client(ws, request.transport)
        self.connections_opened += 1
        self._clients.add(client)
        try:
            await ws.send_str("Websocket connection established.")
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    await self._on_ws_text(client, msg.data)
        finally:
            self._clients.discard(client)
        return ws

    async def _on_ws_text(self, client: _Client, text: str) -> None:
        try:
            request = json.loads(text)
            method = request["method"]
        except (ValueError, KeyError, TypeError):
            await self._send(client, {"channel": "error", "data": f"Invalid message {text[:200]}"})
            return
        if method == "ping":
            self.pings_received += 1
            await self._send(client, {"channel": "pong"})
            return
        sub = request.get("subscription") or {}
        if method not in ("subscribe", "unsubscribe") or sub.get("type") not in ("candle", "allMids"):
            await self._send(client, {"channel": "error", "data": f"Unsupported request {text[:200]}"})
            return
        if sub["type"] == "allMids":
            client.all_mids = method == "subscribe"
        else:
            key = (sub.get("coin"), sub.get("interval"))
            if key[0] not in self.market.mids or key[1] not in self.market.intervals:
                await self._send(client, {"channel": "error", "data": f"Invalid subscription {json.dumps(sub)}"})
                return
            (client.candles.add if method == "subscribe" else client.candles.discard)(key)
        if self.ack_subscriptions:
            await self._send(client, {"channel": "subscriptionResponse", "data": request})

    # -- internals -----------------------------------------------------------------------------------
    async def _push(self, candles: list[FakeCandle]) -> None:
        if self._paused or not candles:
            return
        for bar in candles:
            text = json.dumps({"channel": "candle", "data": bar.to_json()})
            for client in list(self._clients):
                if (bar.coin, bar.interval) in client.candles:
                    await self._send_text(client, text)
        mids = json.dumps({"channel": "allMids", "data": {"mids": {c: repr(p) for c, p in self.market.mids.items()}}})
        for client in [c for c in self._clients if c.all_mids]:
            await self._send_text(client, mids)

    async def _send(self, client: _Client, payload: dict[str, Any]) -> None:
        await self._send_text(client, json.dumps(payload))

    async def _send_text(self, client: _Client, text: str) -> None:
        if client.silent:
            return
        try:
            await client.ws.send_str(text)
            self.pushes_sent += 1
        except (ConnectionError, RuntimeError) as exc:  # a client that is going away
            logger.debug("fake Hyperliquid: send failed: %s", exc)

    async def _drop(self, abrupt: bool) -> int:
        clients = list(self._clients)
        for client in clients:
            if abrupt and client.transport is not None:
                client.transport.abort()  # type: ignore[attr-defined]
            else:
                await client.ws.close(code=1012, message=b"restart")
        return len(clients)

    async def _serve(self) -> None:
        app = web.Application()
        app.add_routes(self.routes())
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, 0)
        await site.start()
        self._port = self._runner.addresses[0][1]

    async def _shutdown(self) -> None:
        await self._drop(abrupt=True)
        if self._runner is not None:
            await self._runner.cleanup()

    def _on_loop(self, fn: Callable[[], T], push: bool = False) -> T:
        async def run() -> T:
            result = fn()
            if push:
                await self._push(result)  # type: ignore[arg-type]
            return result

        if self._loop is None:  # not serving yet: nobody to push to
            return fn()
        return self._on_loop_async(run())

    def _on_loop_async(self, coro: Any) -> Any:
        if self._loop is None:
            coro.close()
            return 0
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(30)
