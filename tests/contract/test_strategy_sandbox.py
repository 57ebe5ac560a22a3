"""One contract for every StrategySandbox adapter: the confined worker process and the in-process one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from adapters.inprocess.sandbox import InProcessSandbox
from adapters.sandbox.process_sandbox import ProcessSandbox
from adapters.sandbox.worker_process import SandboxLimits
from application.ports.strategy_sandbox import SandboxRejection, StrategySandbox
from domain.signal_frame import SIGNAL_COLUMNS
from tests.sandbox_cases import candles, strategy

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "strategies"


@pytest.fixture(params=["process", "inprocess"], scope="module")
def sandbox(request: pytest.FixtureRequest) -> Iterator[StrategySandbox]:
    adapter: StrategySandbox = (ProcessSandbox(SandboxLimits(cpu_seconds=10, wall_seconds=20))
                                if request.param == "process" else InProcessSandbox())
    yield adapter
    adapter.close()


def rejection(sandbox: StrategySandbox, code: str, frame: pd.DataFrame | None = None) -> SandboxRejection:
    with pytest.raises(SandboxRejection) as caught:
        if frame is None:
            sandbox.inspect(code, "probe.py")
        else:
            sandbox.signals(code, "probe.py", None, {"X": frame})
    return caught.value


def test_inspect_describes_the_strategy(sandbox: StrategySandbox) -> None:
    code = (EXAMPLES / "mom_ema_cross.py").read_text()
    info = sandbox.inspect(code, "mom_ema_cross.py", {"fast": 8})
    assert (info.class_name, info.strategy_type, info.timeframe) == ("EmaCrossMomentum", "MOM", "1h")
    assert info.params["fast"] == 8 and info.default_params["fast"] == 12
    assert info.param_grid == {"fast": [8, 12, 20], "slow": [34, 48, 96]}
    assert info.warmup_bars == 48 and info.legacy is False


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.py")))
def test_signals_equal_the_strategy_run_directly(sandbox: StrategySandbox, example: str) -> None:
    from adapters.inprocess.strategy_loader import InProcessStrategyLoader

    code = (EXAMPLES / example).read_text()
    frame = candles(600)
    got = sandbox.signals(code, example, None, {"A": frame, "B": frame.iloc[:400]})
    direct = InProcessStrategyLoader().load(code, example)()
    pd.testing.assert_frame_equal(got["A"], direct.checked_signals(frame))
    pd.testing.assert_frame_equal(got["B"], direct.checked_signals(frame.iloc[:400]))
    assert list(got["A"].columns) == list(SIGNAL_COLUMNS) and got["A"].index.equals(frame.index)


def test_screen_refusals_name_rule_and_line(sandbox: StrategySandbox) -> None:
    refused = rejection(sandbox, strategy("        import os\n"))
    assert refused.kind == "screen" and "line 12" in str(refused) and "'os'" in str(refused)
    assert refused.violations[0].rule == "import_not_allowed" and refused.violations[0].line == 12


@pytest.mark.parametrize(("code", "kind", "words"), [
    ("def broken(:\n", "screen", "syntax error"),
    ("import numpy as np\n", "load", "no class deriving"),
    (strategy() + "\n\nclass Other(Probe):\n    pass\n", "load", "several StrategyCore subclasses"),
    (strategy().replace('timeframe = "15m"', 'timeframe = "2m"'), "load", "timeframe"),
])
def test_bad_modules_are_refused_with_one_line(sandbox: StrategySandbox, code: str, kind: str, words: str) -> None:
    refused = rejection(sandbox, code)
    assert refused.kind == kind and words in str(refused) and "\n" not in str(refused)


def test_exceptions_and_bad_frames_are_rejections(sandbox: StrategySandbox) -> None:
    frame = candles()
    crashed = rejection(sandbox, strategy("        raise ValueError('no edge today')\n"), frame)
    assert crashed.kind == "runtime" and "ValueError" in str(crashed) and "line 12" in str(crashed)
    short = rejection(sandbox, strategy(frame="        return pd.DataFrame({'long_entry': True}, index=df.index)\n"),
                      frame)
    assert short.kind == "contract" and "missing column" in str(short)
    sized = rejection(sandbox, strategy(frame=strategy_frame(size="2.0")), frame)
    assert sized.kind == "contract" and "size" in str(sized)
    wrong_index = rejection(sandbox, strategy(frame="        return pd.DataFrame({'long_entry': False, "
                            "'short_entry': False, 'exit': False, 'size': 1.0, 'sl_pct': 0.1, 'tp_pct': 0.1}, "
                            "index=df.index[::-1])\n"), frame)
    assert wrong_index.kind == "contract" and "index" in str(wrong_index)


def test_the_sandbox_keeps_working_after_rejections(sandbox: StrategySandbox) -> None:
    frame = candles()
    rejection(sandbox, strategy("        raise RuntimeError('x')\n"), frame)
    got = sandbox.signals(strategy(), "probe.py", None, {"X": frame})["X"]
    assert got["long_entry"].sum() > 0


def strategy_frame(size: str) -> str:
    return (f"        return pd.DataFrame({{'long_entry': True, 'short_entry': False, 'exit': False, "
            f"'size': {size}, 'sl_pct': 0.1, 'tp_pct': 0.1}}, index=df.index)\n")


def test_code_that_writes_into_its_candles_changes_neither_them_nor_the_next_call(sandbox: StrategySandbox) -> None:
    """The live loop gives every strategy of a bar the same frame objects."""
    frame = candles()
    before = frame.copy()
    scribble = "        df['close'] = -1.0\n        df.loc[df.index[-1], 'open'] = -1.0\n"
    sandbox.signals(strategy(scribble), "scribbler.py", None, {"X": frame})
    pd.testing.assert_frame_equal(frame, before)
    got = sandbox.signals(strategy(), "probe.py", None, {"X": frame})["X"]
    direct = sandbox.signals(strategy(), "probe.py", None, {"X": before})["X"]
    pd.testing.assert_frame_equal(got, direct)
    assert got["long_entry"].sum() > 0


def test_last_rows_are_the_last_rows_of_the_whole_frame(sandbox: StrategySandbox) -> None:
    """The live loop asks for the last row only; the strategy still sees every bar."""
    code = (EXAMPLES / "mom_ema_cross.py").read_text()
    frame = candles(600)
    whole = sandbox.signals(code, "mom_ema_cross.py", None, {"A": frame, "B": frame.iloc[:3]})
    last = sandbox.signals(code, "mom_ema_cross.py", None, {"A": frame, "B": frame.iloc[:3]}, last_rows=2)
    pd.testing.assert_frame_equal(last["A"], whole["A"].iloc[-2:])
    pd.testing.assert_frame_equal(sandbox.signals(code, "mom_ema_cross.py", None, {"B": frame.iloc[:1]},
                                                  last_rows=2)["B"], whole["B"].iloc[:1])
    with pytest.raises(ValueError, match="last_rows"):
        sandbox.signals(code, "mom_ema_cross.py", None, {"A": frame}, last_rows=0)


def test_with_last_rows_only_those_rows_values_are_checked_but_the_shape_always_is(sandbox: StrategySandbox) -> None:
    frame = candles()
    bad_early = strategy(frame="        size = pd.Series(0.5, index=df.index)\n        size.iloc[0] = 2.0\n"
                               + strategy_frame(size="size"))
    refused = rejection(sandbox, bad_early, frame)
    assert refused.kind == "contract" and "size" in str(refused) and "row 0" in str(refused)
    got = sandbox.signals(bad_early, "probe.py", None, {"X": frame}, last_rows=1)["X"]
    assert len(got) == 1 and got.index[0] == frame.index[-1] and got["size"].iloc[0] == 0.5
    bad_last = strategy(frame="        size = pd.Series(0.5, index=df.index)\n        size.iloc[-1] = 2.0\n"
                              + strategy_frame(size="size"))
    with pytest.raises(SandboxRejection, match="size") as caught:
        sandbox.signals(bad_last, "probe.py", None, {"X": frame}, last_rows=1)
    assert caught.value.kind == "contract"
    reversed_index = ("        return pd.DataFrame({'long_entry': False, 'short_entry': False, 'exit': False, "
                      "'size': 1.0, 'sl_pct': 0.1, 'tp_pct': 0.1}, index=df.index[::-1])\n")
    with pytest.raises(SandboxRejection, match="index") as caught:
        sandbox.signals(strategy(frame=reversed_index), "probe.py", None, {"X": frame}, last_rows=1)
    assert caught.value.kind == "contract"
