"""Seeding SELECTED strategies and building configs for the execution end-to-end tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from application.ports.event_store import EventStore
from application.strategy_repository import StrategyRepository
from domain.instruments import Instrument
from domain.lifecycle import Strategy

REPO = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, tzinfo=UTC)
FAKE_KEY = "0x" + "4c" * 32
FAKE_ADDRESS = "0x" + "5e" * 20
INSTRUMENTS = {s: Instrument(s, d, 50) for s, d in (("BTC", 5), ("ETH", 4), ("SOL", 2))}
"""Hyperliquid's size steps for the configured symbols, so the paper venue needs no meta call."""


def seed_selected(store: EventStore, count: int, *, at: datetime = T0) -> list[str]:
    """`count` SELECTED strategies, ranked 1..count in the returned order."""
    repository = StrategyRepository(store)
    ids = []
    for rank in range(1, count + 1):
        strategy_id = f"strategy-{rank:02d}"
        strategy = Strategy.generate(strategy_id, f"MOM_{rank:02d}", "MOM", "1h", "class S: pass\n", "test", at=at)
        strategy.record_backtest(backtest_id=f"bt-{rank}", symbol="BTC", timeframe="1h", period_start=at,
                                 period_end=at + timedelta(days=90), total_trades=40, win_rate=0.5, sharpe=1.5,
                                 total_return=0.2, max_drawdown=0.1, expectancy=0.01, at=at)
        strategy.mark_tested(f"bt-{rank}", at=at)
        strategy.select(90.0 - rank, rank, at=at)
        repository.save(strategy)
        ids.append(strategy_id)
    return ids


def write_config(tmp_path: Path, *, mode: str = "paper", subaccounts: dict[int, str] | None = None,
                 base_url: str | None = None) -> Path:
    """The shipped config with deployment.mode, subaccount addresses and the venue's URL replaced."""
    text = (REPO / "config" / "config.yaml").read_text()
    text = text.replace("  mode: paper ", f"  mode: {mode} ")
    if subaccounts:
        mapping = ", ".join(f'{n}: "{a}"' for n, a in subaccounts.items())
        text = text.replace("  subaccounts: {}  ", f"  subaccounts: {{{mapping}}}  ")
    if base_url:
        text = text.replace("base_url: https://api.hyperliquid.xyz", f"base_url: {base_url}")
        text = text.replace("ws_url: wss://api.hyperliquid.xyz/ws", f"ws_url: {'ws' + base_url[4:]}/ws")
    text = text.replace("file: logs/sixbtc.log ", f"file: {tmp_path / 'sixbtc.log'} ")
    text = text.replace("  var_dir: var ", f"  var_dir: {tmp_path / 'var'} ")
    path = tmp_path / "config.yaml"
    path.write_text(text)
    return path
