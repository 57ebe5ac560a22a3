"""The fake Hyperliquid in a process of its own, driven through a multiprocessing manager.

In the benchmark's own process the fake's HTTP server competes with the client for the GIL, which
no real venue does; served from another process it behaves like a remote exchange with no
network delay, so overlapping requests from several subaccounts overlap there too.
"""

from __future__ import annotations

from collections import Counter
from multiprocessing.managers import BaseManager
from typing import Any


class FakeHandle:
    """What the benchmark needs of the fake, as plain values that cross the process boundary."""

    def __init__(self, prices: dict[str, float], fee_rate: float, slippage: float, rtt_ms: float = 0.0) -> None:
        from tests.contract.hyperliquid_harness import StrictMillis

        self._clock = StrictMillis()
        self._fake = _fake_class(rtt_ms / 1e3)(prices=prices, fee_rate=fee_rate, slippage=slippage,
                                               now_ms=self._clock).start()

    def advance_clock(self, seconds: float) -> None:
        """The venue's time moves on by `seconds` more than the wall clock: its fill times keep up
        with the bars, or every fill of the run falls within a client's few minutes of clock skew."""
        self._clock.advance(round(seconds * 1000))

    def url(self) -> str:
        return str(self._fake.url)

    def add_master(self, address: str) -> None:
        self._fake.add_master(address)

    def add_subaccount(self, master: str, address: str, capital: float) -> None:
        self._fake.add_subaccount(master, address, capital)

    def set_mids(self, symbol: str, prices: list[float]) -> None:
        for price in prices:
            self._fake.set_mid(symbol, price)

    def requests(self) -> dict[str, int]:
        fake = self._fake
        return dict(fake.inspect(lambda _: fake.info_requests + Counter(
            {f"/exchange {kind}": n for kind, n in fake.exchange_requests.items()})))

    def cpu_seconds(self) -> float:
        """CPU time of the process serving the fake (every thread): on one machine the venue's work
        competes with the client's for the same cores, which a remote venue's would not."""
        import time

        return time.process_time()

    def stop(self) -> None:
        self._fake.stop()


def _fake_class(rtt_s: float) -> Any:
    """The fake, answering every POST `rtt_s` late (a round trip to a venue farther away)."""
    import asyncio

    from aiohttp import web

    from tests.fakes.hyperliquid_exchange import FakeHyperliquidExchange

    if rtt_s <= 0:
        return FakeHyperliquidExchange

    class Distant(FakeHyperliquidExchange):
        def routes(self) -> list[web.RouteDef]:
            return [web.post(r.path, _late(r.handler, rtt_s)) if r.method == "POST" else r  # type: ignore[arg-type]
                    for r in super().routes()]

    def _late(handler: Any, seconds: float) -> Any:
        async def answer(request: web.Request) -> web.StreamResponse:
            await asyncio.sleep(seconds)
            return await handler(request)
        return answer

    return Distant


class FakeProcess(BaseManager):
    """`with FakeProcess() as manager: handle = manager.Fake(prices, fee, slippage)`."""


FakeProcess.register("Fake", FakeHandle)


def start(prices: dict[str, float], fee_rate: float, slippage: float,
          rtt_ms: float = 0.0) -> tuple[FakeProcess, Any]:
    import multiprocessing

    manager = FakeProcess(ctx=multiprocessing.get_context("spawn"))
    manager.start()
    return manager, manager.Fake(prices, fee_rate, slippage, rtt_ms)  # type: ignore[attr-defined]
