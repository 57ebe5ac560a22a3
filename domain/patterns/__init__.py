"""Conditional price patterns: the value object a prompt is seeded with, and a miner that finds them.

Pure model code (pandas and numpy only): the miner reads candle frames handed to it and never
does I/O, so the same numbers come out of a test, a CLI run or the scheduler.
"""

from domain.patterns.pattern import InvalidPattern, Pattern, pattern_id_for

__all__ = ["InvalidPattern", "Pattern", "pattern_id_for"]
