"""GrammarComposer: the offline StrategyComposer, writing strategy modules from building blocks.

It is the generator used when no LLM is configured, and the one tests rely on, so it must be
deterministic (one `random.Random(seed)` makes every choice: same arguments, same code) and its
code must pass the same gate as LLM code. It picks one entry block of the requested type, maybe
a filter, one or two exits and a stop block, then their parameter values and a small grid, and
renders them as an ordinary, readable strategy module (see blocks.py and entries.py).
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping
from typing import Any

from adapters.offline_ai.blocks import Block, Number, exit_blocks, filter_blocks, stop_blocks
from adapters.offline_ai.entries import ENTRIES, EXCLUDED_FILTERS
from adapters.offline_ai.indicators import helper_sources
from adapters.offline_ai.pattern import UnusablePattern, pattern_entry
from application.generation_policy import PATTERN_TYPE
from application.ports.strategy_composer import STRATEGY_TYPES, ComposedStrategy
from domain.strategy import MAX_GRID_PARAMS, TIMEFRAMES

TYPE_NAMES: dict[str, str] = {
    "MOM": "Momentum", "REV": "Mean reversion", "TRN": "Trend following", "BRE": "Breakout", "VOL": "Volatility",
    PATTERN_TYPE: "Pattern",
}
PATTERN_BASE = "MOM"
"""A pattern slot whose pattern cannot be used still gets a strategy: a momentum one, typed PAT."""
SIZES: tuple[float, ...] = (0.25, 0.5, 0.75, 1.0)
SIDES: dict[str, str] = {"both": "long and short", "long": "long only", "short": "short only"}
_TIME_STOPS = ("time_stop", "time_stop_loop")


class GrammarComposer:
    """Implements application.ports.strategy_composer.StrategyComposer without any model or network."""

    def compose(self, *, strategy_type: str, timeframe: str, seed: int, class_name: str = "Strategy",
                pattern: Mapping[str, Any] | None = None) -> ComposedStrategy:
        base = PATTERN_BASE if strategy_type == PATTERN_TYPE else strategy_type  # PAT: MOM's filters and stops
        _check(base, timeframe, class_name)
        rng = random.Random(seed)
        note, entry, lookback, sides = "", None, 0, ""
        if pattern is not None:
            try:
                entry, lookback = pattern_entry(pattern)
                sides = str(pattern["direction"])
            except UnusablePattern as why:
                note = f"pattern {str(pattern.get('condition'))!r} not used ({why}); composed from the grammar"
        if entry is None:
            entry = rng.choice(ENTRIES[base])
            draw = rng.random()
            sides = "both" if draw < 0.65 else "long" if draw < 0.9 else "short"
        chosen: list[Block] = [entry]
        if entry.name != "pattern" and rng.random() < 0.6:
            allowed = [f for f in filter_blocks(base) if f.name not in EXCLUDED_FILTERS.get(entry.name, ())]
            chosen.append(rng.choice(allowed))
        stops = stop_blocks(base, timeframe)
        stop = stops[rng.choice(sorted(stops))]
        exits = exit_blocks(entry, sides, timeframe)
        names = list(_TIME_STOPS) if entry.name == "pattern" else sorted(exits)
        first = rng.choice(names)
        chosen.append(exits[first])
        if first not in _TIME_STOPS and rng.random() < 0.3:
            chosen.append(exits[rng.choice(_TIME_STOPS)])
        chosen.append(stop)
        params = _pick_params(chosen, rng)
        grid = _pick_grid(chosen, params, rng)
        params["size"] = rng.choice(SIZES)
        blocks = tuple(b.label for b in chosen)
        summary = "; ".join(f"{b.label} ({b.doc})" for b in chosen)
        description = f"{TYPE_NAMES[strategy_type]} on {timeframe}, {SIDES[sides]}: {summary}"
        if note:
            description += f". Note: {note}"
        code = _render(strategy_type, timeframe, class_name, chosen, sides, params, grid, lookback, note)
        return ComposedStrategy(code=code, strategy_type=strategy_type, timeframe=timeframe,
                                class_name=class_name, blocks=blocks, description=description)


def _check(strategy_type: str, timeframe: str, class_name: str) -> None:
    """Refuse what could only produce a module the gate rejects: fail at the caller, not in the sandbox."""
    if strategy_type not in STRATEGY_TYPES:
        raise ValueError(f"strategy type {strategy_type!r} is not one of {', '.join(STRATEGY_TYPES)}")
    if timeframe not in TIMEFRAMES:
        raise ValueError(f"timeframe {timeframe!r} is not one of {', '.join(TIMEFRAMES)}")
    if not class_name.isidentifier() or "__" in class_name or not class_name[0].isupper():
        raise ValueError(f"class name {class_name!r} must be a CamelCase identifier without '__'")


def _pick_params(chosen: list[Block], rng: random.Random) -> dict[str, Number]:
    """One value per parameter; a name two blocks share (atr_period, say) is picked once."""
    params: dict[str, Number] = {}
    for block in chosen:
        for param in block.params:
            if param.name not in params:
                params[param.name] = param.default if param.default is not None else rng.choice(param.choices)
    return params


def _pick_grid(chosen: list[Block], params: Mapping[str, Number], rng: random.Random) -> dict[str, list[Number]]:
    """Up to MAX_GRID_PARAMS tunable parameters, each with 2-4 values around (and including) its default."""
    tunable = {p.name: p for b in chosen for p in b.params if p.tunable and len(p.choices) >= 2}
    if not tunable:
        return {}
    names = sorted(tunable)
    count = rng.randint(min(2, len(names)), min(MAX_GRID_PARAMS, len(names)))
    grid: dict[str, list[Number]] = {}
    for name in sorted(rng.sample(names, count)):
        default = params[name]
        others = [c for c in tunable[name].choices if c != default]
        size = rng.randint(2, min(4, len(others) + 1))
        grid[name] = sorted([default, *rng.sample(others, size - 1)])
    return grid


def _render(strategy_type: str, timeframe: str, class_name: str, chosen: list[Block], sides: str,
            params: Mapping[str, Number], grid: Mapping[str, list[Number]], lookback: int, note: str) -> str:
    entry, rest = chosen[0], chosen[1:]
    filters = [b for b in rest if b.role == "filter"]
    stops = [b for b in rest if b.role == "stops"]
    exits = [b for b in rest if b.role == "exit"]
    helpers = [h for b in chosen for h in b.helpers]
    docstring = [f"{TYPE_NAMES[strategy_type]} strategy on {timeframe} candles ({SIDES[sides]}), composed offline.",
                 "", "Building blocks:"]
    docstring += [f"- {b.label}: {_safe_text(b.doc)}" for b in chosen]
    if note:
        docstring += ["", f"Note: {_safe_text(note)}"]
    docstring += ["", "Every indicator uses trailing windows only, and no entry fires before warmup_bars()."]
    parts = ['"""' + "\n".join(docstring) + '\n"""', "import numpy as np\nimport pandas as pd",
             "from domain.strategy import StrategyCore", *helper_sources(helpers)]
    body = [f"class {class_name}(StrategyCore):",
            f'    """{TYPE_NAMES[strategy_type]}: {_safe_text(entry.doc)}."""', "",
            f'    type = "{strategy_type}"', f'    timeframe = "{timeframe}"',
            "    default_params = {", *(f'        "{k}": {v!r},' for k, v in params.items()), "    }",
            "    param_grid = {", *(f'        "{k}": {v!r},' for k, v in grid.items()), "    }"]
    body += _warmup(chosen, lookback)
    signals = ["        p = self.params", *(f'        {c} = df["{c}"]' for c in ("close", "high", "low")),
               "        warm = pd.Series(np.arange(len(df)) >= self.warmup_bars(), index=df.index)"]
    signals += _section(entry)
    for block in filters:
        signals += _section(block)
    signals += _entries(entry, filters, sides)
    for block in [*stops, *exits]:
        signals += _section(block)
    exit_rule = " | ".join(b.exit for b in exits)
    signals.append(f"        exit_ = ({exit_rule}) & warm" if len(exits) > 1 else f"        exit_ = {exit_rule} & warm")
    columns = {"long_entry": "long_entry", "short_entry": "short_entry", "exit": "exit_", "size": 'p["size"]',
               "sl_pct": "sl_pct", "tp_pct": "tp_pct"}
    signals += ["        return pd.DataFrame({", *(f'            "{k}": {v},' for k, v in columns.items()),
                "        }, index=df.index)"]
    body += ["", "    def signals(self, df: pd.DataFrame) -> pd.DataFrame:", *_wrapped(_pruned(signals))]
    parts.append("\n".join(body))
    return "\n\n".join(parts[:3]) + "\n\n\n" + "\n\n\n".join(parts[3:]) + "\n"


def _safe_text(text: str) -> str:
    """Text from outside (a pattern's condition) made fit for a docstring the screen accepts.

    No quotes or backslashes (they could end the docstring), no '__' (the screen refuses such
    strings) and no line breaks; capped, since it is only a reminder of what was asked for.
    """
    kept = "".join(ch if (ch.isascii() and ch.isalnum()) or ch in " _.,:;<>=!()+-*/'%" else " " for ch in text)
    while "__" in kept:
        kept = kept.replace("__", "_")
    return " ".join(kept.split())[:240]


def _warmup(chosen: list[Block], lookback: int) -> list[str]:
    """An override only when integer parameters alone understate the warm-up (recursive averages, a pattern)."""
    settle = [f'3 * p["{name}"]' for b in chosen for name in b.settle]
    terms = list(dict.fromkeys(settle)) + ([str(lookback)] if lookback else [])
    if not terms:
        return []
    return ["", "    def warmup_bars(self) -> int:",
            '        """The longest lookback; recursive averages (EMA, RSI, ADX) get three periods to settle."""',
            *(["        p = self.params"] if settle else []),
            f"        return max(super().warmup_bars(), {', '.join(terms)})"]


_ASSIGNMENT = re.compile(r"^ {8}(?P<targets>[A-Za-z_][A-Za-z0-9_]*(?:, [A-Za-z_][A-Za-z0-9_]*)*) = ")


def _pruned(lines: list[str]) -> list[str]:
    """`lines` without assignments nothing reads (a block's spare middle line, `high` when no block needs it).

    Blocks are written to stand alone, so a composition can leave some of their names unused;
    dropping them keeps the generated code as tidy as hand-written code. Comments do not count as uses.
    """
    kept = list(lines)
    while True:
        for i, line in enumerate(kept):
            found = _ASSIGNMENT.match(line)
            if found is None:
                continue
            later = "\n".join(x for x in kept[i + 1:] if not x.lstrip().startswith("#"))
            if not any(re.search(rf"\b{t}\b", later) for t in found["targets"].split(", ")):
                del kept[i]
                break
        else:
            return kept


def _wrapped(lines: list[str], width: int = 120) -> list[str]:
    """Long `x = a & b & c` lines broken one term per line, inside parentheses."""
    out: list[str] = []
    for line in lines:
        found = _ASSIGNMENT.match(line)
        if len(line) <= width or found is None or " & " not in line:
            out.append(line)
            continue
        terms = line[found.end():].split(" & ")
        out += [f"        {found['targets']} = (", f"            {terms[0]}",
                *(f"            & {t}" for t in terms[1:]), "        )"]
    return out


def _section(block: Block) -> list[str]:
    """A block's statements under a comment naming it, so the generated code reads block by block."""
    return [f"        # {block.label}: {block.doc}"] + [f"        {line}" for line in dict.fromkeys(block.lines)]


def _entries(entry: Block, filters: list[Block], sides: str) -> list[str]:
    long_terms = [entry.long, *(f.long for f in filters), "warm"]
    short_terms = [entry.short, *(f.short for f in filters), "warm", *(["~long_entry"] if sides == "both" else [])]
    none = "pd.Series(False, index=df.index)"
    long_rule = " & ".join(long_terms) if sides in ("both", "long") else none
    short_rule = " & ".join(short_terms) if sides in ("both", "short") else none
    return [f"        long_entry = {long_rule}", f"        short_entry = {short_rule}"]
