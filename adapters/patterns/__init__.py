"""Pattern sources: a pattern-discovery service over HTTP, and the built-in miner over cached candles."""
