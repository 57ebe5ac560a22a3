"""A new process loads the backtest's compiled code from numba's on-disk cache instead of compiling.

Compiling vectorbt's simulator takes ~10 s; a CLI run or a pipeline worker must not pay that
each time. This process warms the cache (or finds it warm), then a fresh interpreter runs a
backtest and reports, per kernel, how many signatures it had to compile: none.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from adapters.vectorbt.engine import VectorbtBacktestEngine
from domain.backtest import Costs
from domain.signal_frame import checked_frame

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, time
import numpy as np, pandas as pd
from tests.integration.test_numba_cache import tiny_backtest
from adapters.vectorbt import kernel, layout, records
started = time.perf_counter()
tiny_backtest()
seconds = time.perf_counter() - started
kernels = {"simulate": kernel.simulate_from_signals_cached, "layout": layout._fill,
           "rows": layout._rows_needed, "read_orders": records.read_column}
print(json.dumps({"seconds": seconds,
                  "misses": {k: sum(d.stats.cache_misses.values()) for k, d in kernels.items()},
                  "hits": {k: sum(d.stats.cache_hits.values()) for k, d in kernels.items()}}))
"""


def tiny_backtest() -> None:
    index = pd.date_range("2025-01-01", periods=50, freq="1h", tz="UTC")
    close = pd.Series(np.linspace(100, 120, 50), index=index)
    candles = pd.DataFrame({"open": close, "high": close + 1, "low": close - 1, "close": close, "volume": 1.0})
    flags = np.arange(50) % 7 == 0
    signals = checked_frame(pd.DataFrame({"long_entry": flags, "short_entry": False, "exit": np.arange(50) % 7 == 3,
                                          "size": 0.5, "sl_pct": 0.01, "tp_pct": 0.02}, index=index), index, "Tiny")
    VectorbtBacktestEngine().run({"X": candles}, {"X": signals}, timeframe="1h", costs=Costs(),
                                 funding={"X": pd.Series([0.001], index=index[[10]])})


def test_a_new_process_compiles_nothing() -> None:
    tiny_backtest()  # compiles and stores, unless the cache is warm already
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["misses"] == {"simulate": 0, "layout": 0, "rows": 0, "read_orders": 0}, report
    assert all(hits > 0 for hits in report["hits"].values()), report
