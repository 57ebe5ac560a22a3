"""Paper trading: a simulated venue with Hyperliquid's rules, its state kept in the event store."""

from adapters.paper.exchange import PaperExchange
from adapters.paper.subaccount import PaperSubaccount

__all__ = ["PaperExchange", "PaperSubaccount"]
