"""The sandbox's AST screen and wire format: what is refused before running, and what the host distrusts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from adapters.sandbox.screen import screen
from adapters.sandbox.wire import BYTES_PER_ROW, WireError, decode_frames, frame_payload
from tests.sandbox_cases import strategy

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("body", "rule"), [
    ("        import os\n", "import_not_allowed"),
    ("        from subprocess import run\n", "import_not_allowed"),
    ("        from numpy import *\n", "import_not_allowed"),
    ("        from . import helpers\n", "import_not_allowed"),
    ("        x = ().__class__.__bases__\n", "dunder"),
    ("        x = __builtins__\n", "dunder"),
    ("        x = eval('1')\n", "forbidden_builtin"),
    ("        x = getattr(pd, 'read_csv')\n", "forbidden_builtin"),
    ("        x = open('/etc/passwd')\n", "forbidden_builtin"),
    ("        x = pd.read_parquet('x')\n", "forbidden_attribute"),
    ("        df.to_csv('x')\n", "forbidden_attribute"),
    ("        np.ones(3).dump('x')\n", "forbidden_attribute"),
    ("        x = pd.io.common.os\n", "forbidden_attribute"),
    ("        x = np.lib.format\n", "forbidden_attribute"),
    ("        x = df.eval('close * 2')\n", "forbidden_attribute"),
    ("        pd.set_option('display.width', 10)\n", "forbidden_attribute"),
    ("        x = df._mgr\n", "private_attribute"),
    ("        np.mean = len\n", "attribute_assignment"),
    ("        x = '{0.__class__}'\n", "dunder_string"),
    ("        global state\n", "global_statement"),
])
def test_hostile_constructs_are_refused_with_rule_and_line(body: str, rule: str) -> None:
    found = screen(strategy(body), "probe.py")
    assert rule in {v.rule for v in found}, found
    assert all(v.line == 12 for v in found if v.rule == rule)


@pytest.mark.parametrize("module", [
    "x = open('/tmp/x', 'w')\n",
    "print('loading')\n",
    "for i in range(3):\n    pass\n",
    "if True:\n    import os\n",
    "@decorate\nclass X:\n    pass\n",
    "class X(metaclass=type):\n    pass\n",
])
def test_only_definitions_run_at_import_time(module: str) -> None:
    rules = {v.rule for v in screen(module)}
    assert rules & {"module_statement", "class_decorator", "class_keywords"}, rules


def test_legal_strategies_pass_the_screen() -> None:
    files = [*(REPO / "examples" / "strategies").glob("*.py"),
             *(REPO / "tests" / "validation_corpus" / "clean").glob("*.py"),
             *(REPO / "tests" / "validation_corpus" / "lookahead").glob("*.py")]
    assert len(files) >= 30
    for path in files:
        assert screen(path.read_text(), path.name) == [], path.name
    assert screen(strategy("        self._cache = df['close'].rolling(3).mean()\n")) == []


def test_syntax_errors_and_oversized_code_are_one_violation() -> None:
    (broken,) = screen("def f(:\n")
    assert (broken.rule, broken.line) == ("syntax_error", 1)
    (large,) = screen("x = 1\n" * 50_000)
    assert large.rule == "code_too_large"


def checked_columns(rows: int) -> pd.DataFrame:
    index = pd.date_range("2025-01-01", periods=rows, freq="15min", tz="UTC")
    return pd.DataFrame({"long_entry": np.arange(rows) % 2 == 0, "short_entry": False, "exit": False,
                         "size": 0.5, "sl_pct": np.nan, "tp_pct": 0.02}, index=index)


def test_frames_round_trip_through_the_wire() -> None:
    entries, payload = frame_payload({"A": checked_columns(5), "B": checked_columns(3)})
    assert len(payload) == 8 * BYTES_PER_ROW
    columns = decode_frames(entries, payload, {"A": 5, "B": 3})
    assert columns["A"]["long_entry"].tolist() == [True, False, True, False, True]
    assert np.isnan(columns["B"]["sl_pct"]).all() and columns["B"]["tp_pct"].tolist() == [0.02] * 3


@pytest.mark.parametrize("tamper", ["short", "long", "rows", "key", "extra"])
def test_a_reply_that_does_not_match_the_request_is_refused(tamper: str) -> None:
    entries, payload = frame_payload({"A": checked_columns(5)})
    expected = {"A": 5}
    if tamper == "short":
        payload = payload[:-1]
    elif tamper == "long":
        payload += b"\x00"
    elif tamper == "rows":
        entries[0]["rows"] = 4
    elif tamper == "key":
        entries[0]["key"] = "Z"
    else:
        entries.append({"key": "A", "rows": 5})
    with pytest.raises(WireError):
        decode_frames(entries, payload, expected)


def test_the_process_sandbox_screens_a_code_once_and_refuses_it_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    from adapters.sandbox import process_sandbox
    from application.ports.strategy_sandbox import SandboxRejection
    from domain.validation.violations import Violation

    screened: list[str] = []

    def counting(code: str, origin: str = "<strategy>") -> list[Violation]:
        screened.append(origin)
        return screen(code, origin)

    monkeypatch.setattr(process_sandbox, "screen", counting)
    sandbox = process_sandbox.ProcessSandbox()
    hostile = strategy("        import os\n")
    for _ in range(3):
        with pytest.raises(SandboxRejection, match="'os'") as refused:
            sandbox.signals(hostile, "hostile.py", None, {"X": pd.DataFrame()})
        assert refused.value.kind == "screen" and refused.value.line == 12
    with pytest.raises(SandboxRejection):
        sandbox.inspect(hostile, "other.py")
    assert screened == ["hostile.py", "other.py"], "once per code and origin, and no worker started"
    assert sandbox._worker is None
