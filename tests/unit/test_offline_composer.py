"""The offline composer: deterministic, within the contract, and clean for the screen and the static check.

Running the composed code on real candles (signals, prefix invariance, the confined sandbox) is
in tests/integration/test_offline_composer_gate.py; here the code is only parsed and loaded.
"""

from __future__ import annotations

import ast

import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.offline_ai import GrammarComposer
from adapters.sandbox.screen import screen
from application.ports.strategy_composer import STRATEGY_TYPES, ComposedStrategy, StrategyComposer
from domain.strategy import MAX_GRID_PARAMS
from domain.validation.lookahead_ast import find_lookahead
from tests.sandbox_cases import candles

TIMEFRAMES = ("15m", "1h", "4h")
RSI_PATTERN = {"condition": "rsi_14 < 30", "direction": "long", "horizon_bars": 8}


def batch(count: int = 50) -> list[ComposedStrategy]:
    composer: StrategyComposer = GrammarComposer()
    return [composer.compose(strategy_type=STRATEGY_TYPES[s % 5], timeframe=TIMEFRAMES[s % 3], seed=s)
            for s in range(count)]


def test_the_same_arguments_give_the_same_code() -> None:
    first, again = batch(10), batch(10)
    assert first == again
    other = GrammarComposer().compose(strategy_type="MOM", timeframe="15m", seed=1000)
    assert other.code != first[0].code


def test_fifty_seeds_give_distinct_strategies_of_every_type_and_timeframe() -> None:
    composed = batch()
    assert len({c.code for c in composed}) >= 45
    assert {c.strategy_type for c in composed} == set(STRATEGY_TYPES)
    assert {c.timeframe for c in composed} == set(TIMEFRAMES)
    assert len({c.blocks[0] for c in composed}) >= 10  # many entry blocks, not one per type


@pytest.mark.parametrize("composed", batch(), ids=lambda c: f"{c.strategy_type}-{c.timeframe}-{c.blocks[0]}")
def test_composed_code_passes_the_screen_and_the_static_lookahead_check(composed: ComposedStrategy) -> None:
    assert screen(composed.code) == []
    assert find_lookahead(composed.code) == []
    tree = ast.parse(composed.code)
    assert ast.get_docstring(tree) and "Building blocks" in ast.get_docstring(tree)  # type: ignore[operator]
    assert composed.blocks[0].startswith("entry:") and composed.blocks[-1].startswith("stops:")
    assert any(b.startswith("exit:") for b in composed.blocks)


def test_declared_attributes_follow_the_contract() -> None:
    sandbox = InProcessSandbox()
    for composed in batch(25):
        info = sandbox.inspect(composed.code, "composed.py")
        assert (info.strategy_type, info.timeframe, info.class_name) == \
            (composed.strategy_type, composed.timeframe, composed.class_name)
        assert 0 < len(info.param_grid) <= MAX_GRID_PARAMS
        for name, values in info.param_grid.items():
            assert name in info.default_params and 2 <= len(values) <= 4
            assert info.default_params[name] in values and len(set(values)) == len(values)
        assert 0 < info.default_params["size"] <= 1
        assert info.warmup_bars >= max(v for v in info.default_params.values() if isinstance(v, int))


def test_no_signal_during_warm_up() -> None:
    sandbox, df = InProcessSandbox(), candles(1500)
    for composed in batch(15):
        warmup = sandbox.inspect(composed.code, "composed.py").warmup_bars
        frame = sandbox.signals(composed.code, "composed.py", None, {"X": df})["X"].iloc[:warmup]
        assert not (frame["long_entry"] | frame["short_entry"] | frame["exit"]).any(), composed.blocks


def test_class_name_is_used_and_bad_arguments_are_refused() -> None:
    composer = GrammarComposer()
    named = composer.compose(strategy_type="BRE", timeframe="1h", seed=3, class_name="BreDonchian7")
    assert "class BreDonchian7(StrategyCore):" in named.code and named.class_name == "BreDonchian7"
    for bad in ({"strategy_type": "XYZ"}, {"timeframe": "7m"}, {"class_name": "not a name"},
                {"class_name": "Evil__"}):
        arguments = {"strategy_type": "MOM", "timeframe": "1h", "seed": 0, **bad}
        with pytest.raises(ValueError):
            composer.compose(**arguments)  # type: ignore[arg-type]


def test_a_known_pattern_becomes_the_entry_block() -> None:
    composed = GrammarComposer().compose(strategy_type="REV", timeframe="1h", seed=7, pattern=RSI_PATTERN)
    assert composed.blocks[0] == "entry:pattern"
    assert "rsi_14 = rsi(close, 14)" in composed.code and "(rsi_14 < 30)" in composed.code
    assert "short_entry = pd.Series(False" in composed.code  # a long pattern trades long only
    assert '"hold_bars": 8' in composed.code
    assert any(b.startswith("exit:time_stop") for b in composed.blocks)
    assert screen(composed.code) == [] and find_lookahead(composed.code) == []
    assert "not used" not in composed.description


@pytest.mark.parametrize("condition", [
    "rsi_14 < 30 and sma_200_dist > 0", "bb_pctb_20 > 1 or ret_z_50 > 2", "30 < rsi_14 < 40",
    "hour == 3 and volume_z_20 > 1", "close > sma_200 and not (adx_14 < 20)", "range_atr_14 > 2",
])
def test_miner_style_conditions_are_rendered(condition: str) -> None:
    pattern = {"condition": condition, "direction": "short", "horizon_bars": 12}
    composed = GrammarComposer().compose(strategy_type="MOM", timeframe="4h", seed=1, pattern=pattern)
    assert composed.blocks[0] == "entry:pattern", composed.description
    assert screen(composed.code) == [] and find_lookahead(composed.code) == []
    frame = InProcessSandbox().signals(composed.code, "p.py", None, {"X": candles(900)})["X"]
    assert not frame["long_entry"].any()


@pytest.mark.parametrize(("condition", "why"), [
    ("foo_3 > 1 and rsi_14 < 30", "unknown indicator(s) foo_3"),
    ("close.shift(-1) > close", "is not an indicator"),
    ("rsi_14", "not a true/false condition"),
])
def test_an_unusable_pattern_falls_back_to_the_grammar_with_a_note(condition: str, why: str) -> None:
    pattern = {"condition": condition, "direction": "long", "horizon_bars": 8}
    composed = GrammarComposer().compose(strategy_type="REV", timeframe="1h", seed=3, pattern=pattern)
    plain = GrammarComposer().compose(strategy_type="REV", timeframe="1h", seed=3)
    assert composed.blocks == plain.blocks
    assert "not used" in composed.description and why in composed.description
    assert why in composed.code  # the module's docstring says so too
    assert screen(composed.code) == [] and find_lookahead(composed.code) == []
