"""What the controller knows when a pytest-xdist worker dies: how it ended, memory left, the kernel's word.

A worker killed by the OOM killer or a signal leaves no Python traceback, and xdist says only "Not
properly terminated". This says which signal it was, how much memory the machine had left, and the
kernel's last lines about kills and faults, so a CI log is enough to find the cause.
"""

from __future__ import annotations

import re
import signal
import subprocess
from pathlib import Path
from typing import Any

_KERNEL_WORDS = re.compile(r"oom|out of memory|killed process|segfault|general protection|traps:", re.IGNORECASE)


def crash_report(node: Any, error: object) -> str:
    lines = [f"worker {node.gateway.id} went down: {error}", f"  how it ended: {_exit_of(node)}",
             f"  memory available now: {_mem_available()}"]
    lines += [f"  kernel: {line}" for line in _kernel_lines()]
    return "\n".join(lines) + "\n"


def _exit_of(node: Any) -> str:
    popen = getattr(getattr(node.gateway, "_io", None), "popen", None)
    if popen is None:
        return "unknown (not a local popen worker)"
    try:
        code = popen.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return "still running 5 s after its channel closed"
    if code < 0:
        return f"killed by {signal.Signals(-code).name}"
    return f"exit status {code}"


def _mem_available() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return line.split(":", 1)[1].strip()
    return "unknown (no MemAvailable in /proc/meminfo)"


def _kernel_lines() -> list[str]:
    try:
        out = subprocess.run(["dmesg"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [f"dmesg could not be read: {exc}"]
    if out.returncode != 0:
        return [f"dmesg could not be read: {out.stderr.strip()}"]
    matches = [line for line in out.stdout.splitlines() if _KERNEL_WORDS.search(line)]
    return matches[-15:] or ["nothing about kills or faults"]
