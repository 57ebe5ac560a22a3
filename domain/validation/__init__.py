"""Checks that decide whether a strategy may be trusted: lookahead, permutation, overfitting."""
