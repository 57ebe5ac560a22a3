"""The validation gate's thresholds and sizes, read from config by the container."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ValidationPolicy:
    shuffle_iterations: int = 100
    max_p_value: float = 0.05
    seed: int = 0
    cut_points: int = 8
    prefix_max_bars: int = 6000
    """The dynamic check runs on at most this many of the last bars: a few thousand show any lookahead."""
    legacy_prefix_bars: int = 1500
    """An old-style strategy (bar by bar) is checked on fewer bars, or the check would outlast the CPU limit."""
    walk_forward_windows: int = 4
    walk_forward_train_ratio: float = 0.75
    min_sharpe: float = 1.0
    max_cv: float = 0.3
    max_parameters: int = 4
    walk_forward_search: bool = True
    """False: walk-forward only scores the strategy's own parameters on each window (no grid search)."""
    max_combinations: int | None = 16
    """Walk-forward grid points searched at most (evenly spread over a larger grid)."""
