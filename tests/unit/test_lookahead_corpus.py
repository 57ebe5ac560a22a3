"""The validation corpus is what it claims to be, checked here in-process on real 15m BTC candles.

The static screen flags exactly the "lookahead_ast" files; the clean files are prefix invariant
(signals of a prefix equal the prefix of the signals, bit for bit); every lookahead file, including
those the static screen cannot see, breaks prefix invariance at some cut. The sandbox's tests run
the same files through the worker process.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import pandas as pd
import pytest

from adapters.inprocess.strategy_loader import InProcessStrategyLoader
from adapters.parquet.loader import load_candles
from domain.signal_frame import SIGNAL_COLUMNS
from domain.strategy import StrategyCore
from domain.validation.lookahead_ast import find_lookahead
from tests.conftest import SHARED_DATA
from tests.validation_corpus.manifest import MANIFEST

CORPUS = Path(__file__).resolve().parents[1] / "validation_corpus"
CANDLES = SHARED_DATA / "ohlcv" / "BINANCEUSDM_BTCUSDT_15m.parquet"
BARS = 6_000
CUT_FRACTIONS = (0.30, 0.39, 0.48, 0.57, 0.66, 0.75, 0.85, 0.95)


def path_of(name: str) -> Path:
    return CORPUS / ("clean" if MANIFEST[name]["kind"] == "clean" else "lookahead") / name


@cache
def candles() -> pd.DataFrame:
    if not CANDLES.is_file():
        pytest.skip(f"{CANDLES} is not there (../shared/data beside the repo)")
    return load_candles(CANDLES).iloc[-BARS:]


def load(name: str) -> StrategyCore:
    return InProcessStrategyLoader().load(path_of(name).read_text(), name)()


def differing_cuts(strategy: StrategyCore, df: pd.DataFrame, full: pd.DataFrame) -> list[int]:
    cuts = [int(len(df) * f) for f in CUT_FRACTIONS]
    differing = []
    for cut in cuts:
        try:
            pd.testing.assert_frame_equal(strategy.checked_signals(df.iloc[:cut]), full.iloc[:cut])
        except AssertionError:
            differing.append(cut)
    return differing


def test_manifest_lists_every_corpus_file_in_its_folder() -> None:
    on_disk = {p.name: p.parent.name for p in CORPUS.glob("*/*.py") if p.parent.name != "hostile"}
    assert on_disk == {name: path_of(name).parent.name for name in MANIFEST}
    kinds = [entry["kind"] for entry in MANIFEST.values()]
    assert kinds.count("lookahead_ast") >= 6
    assert kinds.count("lookahead_dynamic") >= 6
    assert kinds.count("clean") == 10
    assert all(entry["construct"] for entry in MANIFEST.values())


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_static_screen_flags_exactly_the_ast_visible_files(name: str) -> None:
    violations = find_lookahead(path_of(name).read_text())
    if MANIFEST[name]["kind"] == "lookahead_ast":
        assert violations
        assert all(v.rule != "syntax_error" for v in violations)
    else:
        assert violations == []


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_corpus_strategy_runs_and_is_prefix_invariant_exactly_when_clean(name: str) -> None:
    df = candles()
    strategy = load(name)
    full = strategy.checked_signals(df)
    assert list(full.columns) == list(SIGNAL_COLUMNS)
    assert (full["long_entry"] | full["short_entry"]).any(), "no entries: the dynamic check would see nothing"
    differing = differing_cuts(strategy, df, full)
    if MANIFEST[name]["kind"] == "clean":
        assert differing == []
    else:
        assert differing, "lookahead that never changes a prefix's signals"
