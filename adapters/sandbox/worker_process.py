"""The host's handle on one worker process: start it, send a request, wait with a deadline, kill it.

A worker that overruns its wall-clock limit is killed; one that dies (SIGXCPU from the CPU
limit, SIGKILL, a crash) is reported by its exit status. Either way the next request starts a
fresh worker, and the host never blocks on it for longer than the limit.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from adapters.sandbox.wire import MAX_HEADER, MAX_PAYLOAD, WireError, encode_request

_ROOT = Path(__file__).resolve().parents[2]
_BOOTSTRAP = "import sys; sys.path.insert(0, {root!r}); from adapters.sandbox.worker import main; main()"
"""Isolated mode (-I): no environment variables, user site or current folder shape the worker's imports."""


@dataclass(frozen=True)
class SandboxLimits:
    cpu_seconds: float = 30.0
    wall_seconds: float = 60.0
    memory_mb: int = 2048
    start_seconds: float = 60.0


class WorkerDied(RuntimeError):
    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind, self.reason = kind, reason


def _environment(home: str) -> dict[str, str]:
    """Nothing of the host's environment (keys, tokens) reaches the worker."""
    return {
        "PATH": "/usr/bin:/bin", "HOME": home, "TMPDIR": home, "LANG": "C.UTF-8", "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "NUMEXPR_MAX_THREADS": "1", "MALLOC_ARENA_MAX": "2",
    }


class WorkerProcess:
    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self.home = tempfile.mkdtemp(prefix="sixbtc-sandbox-")
        os.chmod(self.home, 0o700)
        self._log = open(os.path.join(self.home, "worker.log"), "wb")
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-I", "-B", "-c", _BOOTSTRAP.format(root=str(_ROOT)), "--home", self.home,
             "--memory-mb", str(limits.memory_mb)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log, cwd=self.home,
            env=_environment(self.home), start_new_session=True,
        )
        self.sent_data: set[str] = set()
        try:
            hello, _ = self._reply(limits.start_seconds)
        except BaseException:
            self.kill()
            raise
        self.layers: dict[str, Any] = hello.get("hello", {})

    @property
    def alive(self) -> bool:
        return self._process.poll() is None

    def request(self, message: dict[str, Any], max_payload: int = 0) -> tuple[dict[str, Any], bytes]:
        """The reply to `message`; a reply carrying more than `max_payload` bytes kills the worker."""
        stdin = self._process.stdin
        assert stdin is not None
        try:
            stdin.write(encode_request(message))
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise self._death() from None
        return self._reply(self.limits.wall_seconds, max_payload)

    def _reply(self, timeout: float, max_payload: int = 0) -> tuple[dict[str, Any], bytes]:
        deadline = time.monotonic() + timeout
        size = struct.unpack("<I", self._read(4, deadline))[0]
        if size > MAX_HEADER:
            self.kill()
            raise WireError("worker reply header is too large")
        try:
            header = json.loads(self._read(size, deadline))
        except ValueError:
            self.kill()
            raise WireError("worker reply header is not JSON") from None
        if not isinstance(header, dict) or not isinstance(header.get("payload"), int):
            self.kill()
            raise WireError("worker reply header is malformed")
        if not 0 <= header["payload"] <= min(max_payload, MAX_PAYLOAD):
            self.kill()
            raise WireError("worker reply payload is larger than the frames asked for")
        return header, self._read(header["payload"], deadline)

    def _read(self, size: int, deadline: float) -> bytes:
        stdout = self._process.stdout
        assert stdout is not None
        chunks, left = [], size
        while left:
            wait = deadline - time.monotonic()
            ready, _, _ = select.select([stdout], [], [], max(0.0, wait))
            if not ready:
                self.kill()
                raise WorkerDied("timeout", f"still running after {self.limits.wall_seconds:g} s (wall-clock limit)")
            chunk = os.read(stdout.fileno(), min(left, 1 << 20))
            if not chunk:
                raise self._death()
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def _death(self) -> WorkerDied:
        try:
            code = self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            code = None
        self.kill()
        if code == -signal.SIGXCPU:
            return WorkerDied("cpu", f"used more than {self.limits.cpu_seconds:g} s of CPU time (CPU limit)")
        if code == -signal.SIGKILL:
            return WorkerDied("memory", "the worker was killed (memory exhausted or killed from outside)")
        return WorkerDied("crash", f"the worker process died (exit status {code})")

    def kill(self) -> None:
        if self._process.poll() is None:
            try:
                os.killpg(self._process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._process.wait()
        for stream in (self._process.stdin, self._process.stdout):
            if stream is not None:
                stream.close()
        self._log.close()
        shutil.rmtree(self.home, ignore_errors=True)
