"""The offline strategy generator: strategy modules composed from a grammar of building blocks."""

from adapters.offline_ai.composer import GrammarComposer

__all__ = ["GrammarComposer"]
