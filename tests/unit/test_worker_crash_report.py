"""The controller's report on a dead xdist worker names the signal that ended it."""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

from tests.worker_crash_report import crash_report


def test_a_killed_worker_is_reported_with_its_signal_and_the_memory_left() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    process.kill()
    node = SimpleNamespace(gateway=SimpleNamespace(id="gw7", _io=SimpleNamespace(popen=process)))

    report = crash_report(node, "Not properly terminated")

    assert report.startswith("worker gw7 went down: Not properly terminated\n")
    assert "how it ended: killed by SIGKILL" in report
    assert "memory available now: " in report and " kB" in report
    assert "kernel: " in report


def test_a_worker_that_exited_is_reported_with_its_status() -> None:
    process = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    node = SimpleNamespace(gateway=SimpleNamespace(id="gw0", _io=SimpleNamespace(popen=process)))
    assert "how it ended: exit status 3" in crash_report(node, "Not properly terminated")
