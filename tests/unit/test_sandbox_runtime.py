"""The worker's run-time wall: the guarded import and the builtins strategy code gets."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from adapters.sandbox.runtime import Refusal, load_class

REPO = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import sys, types
    sys.path.insert(0, {repo!r})
    from adapters.sandbox.runtime import _safe_builtins
    module = types.ModuleType("probe")
    module.__dict__["__builtins__"] = _safe_builtins()
    exec(compile({code!r}, "probe.py", "exec"), module.__dict__)
    print(module.result)
""")


def run_guarded(code: str) -> subprocess.CompletedProcess[str]:
    """In a fresh interpreter: numpy has not yet imported its lazy internals there."""
    return subprocess.run([sys.executable, "-c", SCRIPT.format(repo=str(REPO), code=code)],
                          capture_output=True, text=True, timeout=60)


def test_import_statements_outside_the_allowlist_fail_at_run_time() -> None:
    found = run_guarded("def f():\n    import os\n    return os.getcwd()\nresult = f()\n")
    assert found.returncode != 0 and "import of 'os' is not allowed in the sandbox" in found.stderr
    relative = run_guarded("from . import x\nresult = 1\n")
    assert relative.returncode != 0 and "not allowed" in relative.stderr


def test_numpy_and_pandas_lazy_imports_from_c_still_work() -> None:
    found = run_guarded("import numpy as np\nimport pandas as pd\n"
                        "def f():\n    return float(np.arange(5.0).max()) + float(pd.Series([1.0, 2.0]).std())\n"
                        "result = f()\n")
    assert found.returncode == 0, found.stderr
    assert float(found.stdout) == pytest.approx(4 + 0.7071067811865476)


def test_open_exec_and_eval_are_not_builtins_of_strategy_code() -> None:
    for name in ("open", "exec", "eval", "compile", "getattr", "globals"):
        found = run_guarded(f"result = {name}\n")
        assert found.returncode != 0 and f"name '{name}' is not defined" in found.stderr


def test_load_class_refuses_unscreened_tricks() -> None:
    with pytest.raises(Refusal) as refused:
        load_class("x = ().__class__\n", "probe.py")
    assert refused.value.kind == "screen" and refused.value.line == 1
