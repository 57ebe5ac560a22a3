"""The built-in pattern miner: simple conditions on indicators that preceded the next bars' direction.

Why it is shaped this way:
- No lookahead. A condition is read at bar t's close; the trade enters at bar t+1's open and
  exits at bar t+1+h's open, so the forward return is open[t+1+h] / open[t+1] - 1.
- Honest out-of-sample numbers. The history of each symbol is split by time (first
  `train_fraction` = train). Thresholds are quantiles of the train part only, train labels
  whose exit bar would lie in the test part are dropped (purged), and a pattern is kept only if
  it made money in the same direction in both parts.
- Few, readable hypotheses: one clause (a feature beyond its 5/10/20/80/90/95% train quantile, or a
  weekday/hour) or two clauses on different features; a two-clause rule must beat both of its
  clauses on train, or the second clause is just noise.
- The t-statistic is of the return in excess of all bars' mean in the same part (a bull market
  makes every "long" look good), with a variance that counts overlapping holding periods:
  signals on consecutive bars share most of their forward return and are not independent.
  A pattern's t is the smaller of its train and test t: hundreds of rules are tried, so one
  lucky part is common on a random walk, two are not.
Tier from that t (1: t > 3, 2: t > 2, 3: otherwise), quality = tanh(t / 4); ranked by t.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from domain.patterns.indicators import CALENDAR, CONTINUOUS, LABELS, indicator_frame
from domain.patterns.pattern import Direction, Pattern, pattern_id_for

QUANTILES: tuple[float, ...] = (0.05, 0.1, 0.2, 0.8, 0.9, 0.95)
FEATURES: tuple[str, ...] = CONTINUOUS + CALENDAR
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_STATS = 5  # per (part, horizon): valid count, sum, sum of squares, wins long, wins short


@dataclass(frozen=True)
class _Clause:
    text: str      # the pandas expression
    feature: int   # column in FEATURES
    human: str     # for names and descriptions


@dataclass(frozen=True)
class _Panel:
    """All symbols stacked, separated by padding rows (NaN features) so nothing overlaps across them."""
    features: np.ndarray           # rows x len(FEATURES)
    returns: dict[int, np.ndarray]  # horizon -> forward return per row, 0 where not valid
    valid: dict[tuple[str, int], np.ndarray]  # (part, horizon) -> rows whose label counts
    rows: dict[str, np.ndarray]    # part -> rows of that part


def forward_returns(opens: np.ndarray, horizon: int) -> np.ndarray:
    """open[t+1+h] / open[t+1] - 1 for every bar t: the trade a signal at t's close can make; NaN at the end."""
    out = np.full(len(opens), np.nan)
    if len(opens) > horizon + 1:
        out[: len(opens) - horizon - 1] = opens[horizon + 1:] / opens[1: len(opens) - horizon] - 1.0
    return out


def split_index(rows: int, train_fraction: float) -> int:
    """The first test row: rows before it are the train part."""
    return int(rows * train_fraction)


def thresholds(candles: Mapping[str, pd.DataFrame], train_fraction: float = 0.7) -> dict[str, tuple[float, ...]]:
    """Per continuous feature, its QUANTILES over the train parts of all symbols, to 4 significant digits."""
    train = [indicator_frame(df).iloc[: split_index(len(df), train_fraction)] for _, df in sorted(candles.items())]
    out: dict[str, tuple[float, ...]] = {}
    for name in CONTINUOUS:
        values = np.concatenate([frame[name].to_numpy(dtype=float) for frame in train]) if train else np.array([])
        values = values[np.isfinite(values)]
        out[name] = tuple(float(f"{q:.4g}") for q in np.quantile(values, QUANTILES)) if len(values) else ()
    return out


def mine_patterns(candles: Mapping[str, pd.DataFrame], timeframe: str, *, train_fraction: float = 0.7,
                  min_occurrences: int = 30, horizons: Sequence[int] = (4, 8, 16)) -> list[Pattern]:
    """Patterns found in the candles of all symbols pooled, highest t first, one (its best horizon) per condition.

    Symbols with fewer than 4 * (max horizon + 2) bars are left out; none left gives [].
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction {train_fraction} must be between 0 and 1")
    if min_occurrences < 2 or not horizons or min(horizons) < 1:
        raise ValueError("min_occurrences must be >= 2 and horizons positive")
    hs = tuple(sorted(set(horizons)))
    usable = {s: df for s, df in candles.items() if len(df) >= 4 * (max(hs) + 2)}
    if not usable:
        return []
    panel = _panel(usable, train_fraction, hs)
    clauses = _clauses(thresholds(usable, train_fraction), panel)
    if not clauses:
        return []
    singles = np.stack([_mask(panel.features, c) for c in clauses])
    continuous = [i for i, c in enumerate(clauses) if FEATURES[c.feature] in CONTINUOUS]
    rules: list[tuple[int, ...]] = [(i,) for i in range(len(clauses))] + [
        (i, j) for i in continuous for j in continuous if i < j and clauses[i].feature != clauses[j].feature]
    pairs = np.array([r for r in rules if len(r) == 2], dtype=int).reshape(-1, 2)
    stats = np.vstack([_sums(singles, panel, hs)]
                      + [_sums(singles[pairs[k:k + 64, 0]] & singles[pairs[k:k + 64, 1]], panel, hs)
                         for k in range(0, len(pairs), 64)])
    found: dict[int, tuple[float, int, int]] = {}  # rule -> (t, horizon index, direction)
    for hi, h in enumerate(hs):
        tr, te = _view(stats, "train", hi, len(hs)), _view(stats, "test", hi, len(hs))
        base_tr, base_te = _base(panel, "train", h), _base(panel, "test", h)
        with np.errstate(divide="ignore", invalid="ignore"):
            mean_tr, mean_te = tr[:, 1] / tr[:, 0], te[:, 1] / te[:, 0]
        side = np.where(mean_tr >= base_tr, 1.0, -1.0)
        keep = ((tr[:, 0] >= min_occurrences) & (te[:, 0] >= min_occurrences) & (side * mean_tr > 0)
                & (side * mean_te > 0) & (side * (mean_te - base_te) > 0))
        if len(pairs):  # a second clause must add something on train
            edge = side[len(clauses):] * mean_tr[len(clauses):]
            keep[len(clauses):] &= ((edge > side[len(clauses):] * mean_tr[pairs[:, 0]])
                                    & (edge > side[len(clauses):] * mean_tr[pairs[:, 1]]))
        for rule in (int(r) for r in np.flatnonzero(keep)):
            mask = np.logical_and.reduce(singles[list(rules[rule])])
            t = min(_t_stat(mask, tr[rule], base_tr, side[rule], panel, ("train", h)),
                    _t_stat(mask, te[rule], base_te, side[rule], panel, ("test", h)))
            if t > found.get(rule, (-math.inf, 0, 0))[0]:
                found[rule] = (t, hi, int(side[rule]))
    symbols = tuple(sorted(usable))
    ranked = []
    for rule, (t, hi, sign) in found.items():
        tr, te = _view(stats, "train", hi, len(hs))[rule], _view(stats, "test", hi, len(hs))[rule]
        parts = [clauses[i] for i in rules[rule]]
        ranked.append((t, _pattern(parts, t, sign, hs[hi], tr, te, timeframe, symbols, train_fraction)))
    ranked.sort(key=lambda item: (-item[0], item[1].condition, item[1].horizon_bars))
    return [p for _, p in ranked]


def _panel(candles: Mapping[str, pd.DataFrame], train_fraction: float, hs: tuple[int, ...]) -> _Panel:
    pad = max(hs) + 1
    blocks: list[np.ndarray] = []
    rets: dict[int, list[np.ndarray]] = {h: [] for h in hs}
    rows: dict[str, list[np.ndarray]] = {"train": [], "test": []}
    masks: dict[tuple[str, int], list[np.ndarray]] = {(p, h): [] for p in ("train", "test") for h in hs}
    for _, df in sorted(candles.items()):
        n, split = len(df), split_index(len(df), train_fraction)
        blocks += [indicator_frame(df)[list(FEATURES)].to_numpy(dtype=float), np.full((pad, len(FEATURES)), np.nan)]
        t = np.arange(n + pad)
        rows["train"].append(t < split)
        rows["test"].append((t >= split) & (t < n))
        opens = df["open"].to_numpy(dtype=float)
        for h in hs:
            r = np.concatenate([forward_returns(opens, h), np.full(pad, np.nan)])
            ok = np.isfinite(r)
            masks[("train", h)].append(ok & (t + 1 + h < split))  # purged: the exit stays in train
            masks[("test", h)].append(ok & (t >= split))
            rets[h].append(np.where(ok, r, 0.0))
    valid = {key: np.concatenate(parts) for key, parts in masks.items()}
    return _Panel(np.vstack(blocks), {h: np.concatenate(v) for h, v in rets.items()}, valid,
                  {p: np.concatenate(v) for p, v in rows.items()})


def _clauses(levels: dict[str, tuple[float, ...]], panel: _Panel) -> list[_Clause]:
    out: list[_Clause] = []
    for name, values in levels.items():
        col = FEATURES.index(name)
        for q, level in zip(QUANTILES, values, strict=False):  # no values: the feature never warmed up
            op = "<" if q < 0.5 else ">"
            clause = _Clause(f"{name} {op} {level!r}", col, f"{LABELS[name]} {op} {level:g}")
            if clause.text not in {c.text for c in out}:
                out.append(clause)
    for name in CALENDAR:
        col = FEATURES.index(name)
        seen = np.unique(panel.features[panel.rows["train"], col])
        seen = seen[np.isfinite(seen)]
        if len(seen) < 2:
            continue
        for value in seen.astype(int):
            label = WEEKDAYS[value] if name == "dow" else f"{value:02d}:00 UTC"
            human = f"the bar opening on a {label}" if name == "dow" else f"the bar opening at {label}"
            out.append(_Clause(f"{name} == {value}", col, human))
    return out


def _mask(features: np.ndarray, clause: _Clause) -> np.ndarray:
    _, op, level = clause.text.split(" ")
    column = features[:, clause.feature]
    with np.errstate(invalid="ignore"):
        if op == "<":
            return np.asarray(column < float(level))
        if op == ">":
            return np.asarray(column > float(level))
        return np.asarray(column == float(level))


def _sums(masks: np.ndarray, panel: _Panel, hs: tuple[int, ...]) -> np.ndarray:
    """Per mask, for each part and horizon: valid count, sum, sum of squares, long wins, short wins."""
    columns = []
    for part in ("train", "test"):
        for h in hs:
            ok = panel.valid[(part, h)]
            r = np.where(ok, panel.returns[h], 0.0)
            columns += [ok, r, r * r, ok & (r > 0), ok & (r < 0)]
    weights = np.column_stack([np.asarray(c, dtype=float) for c in columns])
    return np.asarray(masks.astype(float) @ weights)


def _view(stats: np.ndarray, part: str, hi: int, n_h: int) -> np.ndarray:
    start = ((0 if part == "train" else n_h) + hi) * _STATS
    return stats[:, start:start + _STATS]


def _base(panel: _Panel, part: str, h: int) -> float:
    ok = panel.valid[(part, h)]
    return float(panel.returns[h][ok].mean()) if ok.any() else 0.0


def _t_stat(mask: np.ndarray, sums: np.ndarray, base: float, side: float, panel: _Panel, key: tuple[str, int]) -> float:
    """t of one part's excess return; Var(sum) = s^2 * sum over signal pairs of (h - lag) / h (overlap-aware)."""
    h = key[1]
    n, total, squares = sums[0], sums[1], sums[2]
    variance = (squares - total * total / n) / (n - 1)
    selected = mask & panel.valid[key]
    overlap = n * h + 2.0 * sum((h - d) * int(np.count_nonzero(selected[:-d] & selected[d:])) for d in range(1, h))
    spread = math.sqrt(max(variance, 0.0) * overlap / h)
    return side * (total - n * base) / spread if spread > 0 else 0.0


def _pattern(parts: list[_Clause], t: float, side: int, h: int, tr: np.ndarray, te: np.ndarray, timeframe: str,
             symbols: tuple[str, ...], train_fraction: float) -> Pattern:
    direction: Direction = "long" if side > 0 else "short"
    condition = " and ".join(c.text for c in parts)
    test_edge, train_edge = side * te[1] / te[0], side * tr[1] / tr[0]
    win_rate = (te[3] if side > 0 else te[4]) / te[0]
    description = (
        f"Go {direction} at the next bar's open after a {timeframe} bar closes with"
        f" {' and '.join(c.human for c in parts)},"
        f" holding {h} bars: on the test period (last {1 - train_fraction:.0%} of {', '.join(symbols)} history) this"
        f" earned {test_edge:+.3%} per trade over {int(te[0])} signals, win rate {win_rate:.0%}, t = {t:.1f}"
        f" against all bars (train {train_edge:+.3%})."
    )
    return Pattern(
        pattern_id=pattern_id_for(condition, direction, timeframe, h),
        name=f"{' & '.join(c.human for c in parts)} -> {direction} {h} bars",
        description=description, condition=condition, direction=direction, timeframe=timeframe,
        horizon_bars=h, symbols=symbols, test_edge=float(test_edge), test_win_rate=float(win_rate),
        train_edge=float(train_edge), occurrences=int(te[0]), tier=1 if t > 3 else 2 if t > 2 else 3,
        quality=round(math.tanh(max(t, 0.0) / 4.0), 4), source="mined",
    )
