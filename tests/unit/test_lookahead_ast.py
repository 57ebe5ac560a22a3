"""The static lookahead screen: every rule pinned with the line it reports, and the legal look-alikes
it must leave alone (a false alarm rejects an honest strategy, so those cases matter as much)."""

from __future__ import annotations

import pytest

from domain.validation.lookahead_ast import find_lookahead

HEADER = [
    "import numpy as np",
    "import pandas as pd",
    "",
    "class S:",
    "    def signals(self, df):",
    '        close = df["close"]',
    '        closes = df["close"].to_numpy()',
]
FIRST = len(HEADER) + 1
"""Line of the first body line given to `strategy`."""


def strategy(*body: str) -> str:
    """A module whose `signals` runs `body` (indented once more), after `close` and `closes` are set."""
    return "\n".join([*HEADER, *("        " + line for line in body)]) + "\n"


def found(code: str) -> list[tuple[str, int | None]]:
    return [(v.rule, v.line) for v in find_lookahead(code)]


FLAGGED = [
    ("x = close.shift(-1)", "negative_shift"),
    ("x = close.shift(periods=-2)", "negative_shift"),
    ("x = close.shift(-n)", "negative_shift"),
    ("x = close.shift(-(k))", "negative_shift"),
    ("x = close.shift(-1 * n)", "negative_shift"),
    ("x = close.shift(-1, fill_value=0.0)", "negative_shift"),
    ("x = close.diff(-3)", "negative_diff"),
    ('x = close.diff(periods=-self.params["h"])', "negative_diff"),
    ("x = close.pct_change(-1)", "negative_pct_change"),
    ("x = close.pct_change(periods=-k)", "negative_pct_change"),
    ("x = np.roll(closes, -1)", "roll"),
    ("x = np.roll(closes, 1)", "roll"),
    ("x = close.rolling(5, center=True).mean()", "centered_window"),
    ("x = close.rolling(5, 1, True).mean()", "centered_window"),
    ("x = close.bfill()", "backfill"),
    ("x = close.backfill()", "backfill"),
    ('x = close.fillna(method="bfill")', "backfill"),
    ('x = close.fillna(method="backfill")', "backfill"),
    ('x = close.reindex(idx, method="nearest")', "backfill"),
    ('x = pd.merge_asof(a, b, on="t", direction="forward")', "backfill"),
    ("x = close.interpolate()", "interpolate"),
    ('x = close.interpolate(method="linear")', "interpolate"),
    ('x = df["close"].iloc[-1]', "last_bar"),
    ("x = close.iloc[-1]", "last_bar"),
    ("x = close.values[-1]", "last_bar"),
    ("x = df.close.to_numpy()[-1]", "last_bar"),
    ("x = closes[-2]", "last_bar"),
    ("x = close.iat[-n]", "last_bar"),
    ("x = close.iloc[-5:]", "last_bar"),
    ("x = close.iloc[len(df) - 1]", "last_bar"),
    ("x = close.tail(3)", "last_bar"),
    ("x = close.rolling(20).mean().iloc[-1]", "last_bar"),
    ('x = df.loc[:, "close"].iloc[-1]', "last_bar"),
    ("x = close.mean()", "global_statistic"),
    ("x = close.std()", "global_statistic"),
    ("x = close.rank(pct=True)", "global_statistic"),
    ("x = close.quantile(0.9)", "global_statistic"),
    ("x = (close - close.shift(1)).abs().max()", "global_statistic"),
    ("x = close.rolling(10).mean().max()", "global_statistic"),
    ("x = np.max(closes)", "global_statistic"),
    ("x = np.percentile(closes, 90)", "global_statistic"),
    ("x = np.nanmean(np.log(closes))", "global_statistic"),
    ("x = max(close)", "global_statistic"),
    ('x = df["volume"].sum()', "global_statistic"),
]


@pytest.mark.parametrize(("line", "rule"), FLAGGED, ids=[line for line, _ in FLAGGED])
def test_each_rule_reports_its_line(line: str, rule: str) -> None:
    assert found(strategy("pass", line)) == [(rule, FIRST + 1)]


LEGAL = [
    "x = close.shift(1)",
    "x = close.shift()",
    "x = close.shift(n)",
    "x = close.shift(1, fill_value=False)",
    "x = close.diff()",
    "x = close.diff(4)",
    "x = np.diff(closes)",
    "x = close.pct_change(4)",
    "x = close.rolling(5).mean()",
    "x = close.rolling(5, center=False).mean()",
    "x = close.rolling(5, min_periods=1).max()",
    "x = close.ffill()",
    'x = close.reindex(idx, method="ffill")',
    "x = close.fillna(0.0)",
    'x = pd.merge_asof(a, b, on="t", direction="backward")',
    "x = close.iloc[:-1]",
    "x = close.iloc[0]",
    "x = close.iloc[::-1]",
    "x = closes[i - 20:i + 1][-1]",
    "x = df.shape[-1]",
    "x = df.columns[-1]",
    "x = close.rolling(20).apply(lambda w: w[-1] - w.mean(), raw=True)",
    "x = close.expanding().mean()",
    "x = close.expanding(min_periods=50).std()",
    "x = close.ewm(span=10, adjust=True).mean()",
    "x = close.cummax()",
    'x = df[["high", "low"]].max(axis=1)',
    'x = df[["high", "low"]].min(axis="columns")',
    'x = (df[["high", "low"]] / close.iloc[0]).mean(axis=-1)',
    "x = close.groupby(day).cumsum()",
    'x = close.resample("1h", label="right", closed="left").max()',
    "x = np.max(closes[i - 5:i + 1])",
    "x = max(a, b)",
    "x = self.params.max()",
    "x = np.dot(w[::-1], weights)",
]


@pytest.mark.parametrize("line", LEGAL)
def test_legal_look_alikes_pass(line: str) -> None:
    assert found(strategy(line)) == []


def test_forward_index_in_loops_counts_from_the_furthest_bar_written() -> None:
    code = strategy(
        "out = np.zeros(len(closes))",
        "for i in range(len(closes) - 1):",
        "    out[i] = closes[i + 1] - closes[i]",        # +2: reads the next bar
        "for i in range(len(closes) - 1):",
        "    out[i + 1] = closes[i + 1] - closes[i]",    # +4: computes bar i + 1 from bars <= i + 1
        "for i in range(5, len(closes)):",
        "    window = closes[i - 5:i + 1]",              # +6: trailing window
        "    later = closes[i + 1:]",                    # +7: everything after i
        "    more = closes[:i + 2]",                     # +8: one bar too many
        "    prev = closes[i - 1] + closes[i + n]",      # +9: n unknown: left to the dynamic check
        "    pair = table[i + 3, 0]",                    # +10: row part of a 2-d index
        "ahead = [closes[j + 1] for j in range(3)]",     # +11: comprehension
    )
    assert found(code) == [
        ("forward_index", FIRST + 2),
        ("forward_index", FIRST + 7),
        ("forward_index", FIRST + 8),
        ("forward_index", FIRST + 10),
        ("forward_index", FIRST + 11),
    ]


def test_messages_name_the_construct() -> None:
    (violation,) = find_lookahead(strategy("x = close.shift(-1)"))
    assert violation.message == "shift(-1) reads a later bar"
    (violation,) = find_lookahead(strategy('x = df["close"].iloc[-1]'))
    assert "df['close'].iloc[-1]" in violation.message
    (violation,) = find_lookahead(strategy("x = (close / 2).mean()"))
    assert violation.message.startswith("(close / 2).mean() is a statistic of the whole series")


def test_findings_come_sorted_by_line_and_each_once() -> None:
    code = strategy(
        "b = close.bfill()",
        "a = close.shift(-1).interpolate()",
        "z = (close - close.mean()) / close.std()",
    )
    assert found(code) == [
        ("backfill", FIRST),
        ("interpolate", FIRST + 1),
        ("negative_shift", FIRST + 1),
        ("global_statistic", FIRST + 2),
        ("global_statistic", FIRST + 2),
    ]
    assert len({v.message for v in find_lookahead(code)}) == 5


def test_whole_series_names_follow_assignments_and_helpers() -> None:
    code = "\n".join([
        "class S:",
        "    def signals(self, bars_in):",
        '        spread = bars_in["high"] - bars_in["low"]',
        "        level = spread.median()",                  # 4: `bars_in` is the frame of signals
        "        return helper(bars_in)",
        "",
        "def helper(df):",
        '        return df["close"].iloc[-1]',              # 8: a helper's `df` is the whole frame too
        "",
        "def scale(values):",
        "        return values / values.max()",             # 11: unknown parameter: not followed
    ])
    assert found(code) == [("global_statistic", 4), ("last_bar", 8)]


def test_a_name_with_one_window_assignment_is_not_the_whole_series() -> None:
    code = strategy(
        "for i in range(10, len(closes)):",
        "    w = closes[i - 10:i + 1]",
        "    w = w - w.mean()",
        "    top = w.max()",
    )
    assert found(code) == []


def test_live_and_legacy_code_reads_a_trailing_window_so_its_last_row_is_legal() -> None:
    live = "\n".join([
        "class S:",
        "    def signals(self, df):",
        "        return df",
        "    def generate_signal(self, df):",
        '        return df["close"].iloc[-1] > df["close"].mean()',
    ])
    legacy = "\n".join([
        "class Old:",
        "    def generate_signal(self, df):",
        '        return last(df) > df["close"].mean()',
        "",
        "def last(df):",
        '    return df["close"].iloc[-1]',
    ])
    assert found(live) == []
    assert found(legacy) == []


def test_the_rolling_rules_apply_everywhere_not_only_in_signals() -> None:
    code = "def helper(x):\n    return x.shift(-1).rolling(3, center=True).mean()\n"
    assert found(code) == [("centered_window", 2), ("negative_shift", 2)]


@pytest.mark.parametrize(("code", "line"), [("def f(:\n", 1), ("x = 1\ny = (\n", 2), ("x = 1\n  y = 2\n", 2)])
def test_a_syntax_error_is_one_violation(code: str, line: int) -> None:
    (violation,) = find_lookahead(code)
    assert (violation.rule, violation.line) == ("syntax_error", line)
    assert violation.message.startswith("syntax error")


def test_clean_code_has_no_findings() -> None:
    assert find_lookahead("") == []
    assert find_lookahead(strategy("fast = close.ewm(span=12, adjust=False).mean()", "return fast > close")) == []
