"""The process sandbox under attack: limits, kernel confinement, and a host that lives on untouched.

Two walls are tested separately. With the screen on (as in production) hostile code is refused
before it runs. With the screen and import guard off (`screen_code=False`, a test-only switch)
the same code does run in the worker, and the kernel layers alone must stop it: no network, no
exec, no reads of host files, no writes outside the worker's private folder.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from adapters.sandbox.process_sandbox import ProcessSandbox
from adapters.sandbox.worker_process import SandboxLimits
from application.ports.strategy_sandbox import SandboxRejection
from tests.sandbox_cases import candles, strategy

LIMITS = SandboxLimits(cpu_seconds=2, wall_seconds=6, memory_mb=1024)


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, int]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server, server.getsockname()[1]
    server.close()


def no_connection_arrived(server: socket.socket) -> bool:
    try:
        server.accept()[0].close()
    except BlockingIOError:
        return True
    return False


@pytest.fixture(scope="module")
def unscreened() -> Iterator[ProcessSandbox]:
    sandbox = ProcessSandbox(LIMITS, require=("seccomp", "landlock"), screen_code=False)
    yield sandbox
    sandbox.close()


def run(sandbox: ProcessSandbox, body: str) -> SandboxRejection | None:
    try:
        sandbox.signals(strategy(body), "hostile.py", None, {"X": candles(50)})
    except SandboxRejection as rejection:
        return rejection
    return None


def test_the_worker_reports_its_kernel_layers(unscreened: ProcessSandbox) -> None:
    layers = unscreened.layers()
    assert layers["seccomp"] is True and layers["landlock"] >= 4  # 4: TCP connect and bind are handled
    assert layers["pid"] != os.getpid()


def test_without_the_screen_the_kernel_still_blocks_the_network(unscreened: ProcessSandbox, listener) -> None:
    server, port = listener
    refused = run(unscreened, f"        import socket\n        socket.create_connection(('127.0.0.1', {port}), 2)\n")
    assert refused is not None and refused.kind == "runtime" and "not permitted" in str(refused)
    via_pandas = run(unscreened, f"        pd.read_csv('http://127.0.0.1:{port}/candles.csv')\n")
    assert via_pandas is not None and "not permitted" in str(via_pandas)
    assert no_connection_arrived(server)


def test_without_the_screen_exec_reads_and_writes_outside_fail(unscreened: ProcessSandbox, tmp_path: Path) -> None:
    secret, target = tmp_path / "secret.txt", tmp_path / "written.txt"
    secret.write_text("host secret")
    read = run(unscreened, f"        open({str(secret)!r}).read()\n")
    assert read is not None and "Permission denied" in str(read)
    wrote = run(unscreened, f"        open({str(target)!r}, 'w').write('x')\n")
    assert wrote is not None and "Permission denied" in str(wrote)
    shell = run(unscreened, f"        import subprocess\n        subprocess.run(['touch', {str(target)!r}])\n")
    assert shell is not None and "not permitted" in str(shell)
    system = run(unscreened, f"        import os\n        assert os.system('touch {target}') != 0\n")
    assert system is None  # os.system returns the failed exec's status; nothing was written
    assert not target.exists() and secret.read_text() == "host secret"


def test_without_the_screen_the_project_folder_is_unreadable(unscreened: ProcessSandbox) -> None:
    """Its .env holds keys; only the domain package (and a venv inside it) may be read."""
    project = Path(__file__).resolve().parents[2]
    assert (project / "pyproject.toml").is_file()
    refused = run(unscreened, f"        open({str(project / 'pyproject.toml')!r}).read()\n")
    assert refused is not None and "Permission denied" in str(refused)
    assert run(unscreened, f"        open({str(project / 'domain' / 'strategy.py')!r}).read()\n") is None


def test_the_private_folder_is_writable_and_removed_afterwards(tmp_path: Path) -> None:
    sandbox = ProcessSandbox(LIMITS, screen_code=False)
    home = None
    try:
        assert run(sandbox, "        open('scratch.txt', 'w').write('ok')\n") is None
        assert sandbox._worker is not None
        home = Path(sandbox._worker.home)
        assert (home / "scratch.txt").read_text() == "ok"
    finally:
        sandbox.close()
    assert home is not None and not home.exists()


def test_the_host_environment_does_not_reach_the_worker(unscreened: ProcessSandbox, monkeypatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-secret-value")
    unscreened.close()  # the next worker starts with the variable set in the host
    leaked = run(unscreened, "        import os\n        assert 'ANTHROPIC_API_KEY' not in os.environ, 'leaked'\n")
    assert leaked is None


@pytest.mark.parametrize(("body", "kind"), [
    ("        while True:\n            pass\n", "cpu"),
    ("        x = np.ones(10**10)\n", "memory"),
    ("        x = [1] * (10**10)\n", "memory"),
    ("        def deep(n):\n            return deep(n + 1)\n        deep(0)\n", "runtime"),
])
def test_limits_end_in_rejections_and_the_next_call_works(body: str, kind: str) -> None:
    with ProcessSandbox(LIMITS) as sandbox:
        started = time.monotonic()
        refused = run(sandbox, body)
        assert refused is not None and refused.kind == kind, refused
        assert time.monotonic() - started < LIMITS.wall_seconds + 5
        assert run(sandbox, "") is None


def test_a_sleeping_strategy_hits_the_wall_clock_limit() -> None:
    limits = SandboxLimits(cpu_seconds=30, wall_seconds=1.5, memory_mb=1024)
    with ProcessSandbox(limits, screen_code=False) as sandbox:
        started = time.monotonic()
        refused = run(sandbox, "        import time\n        time.sleep(30)\n")
        assert refused is not None and refused.kind == "timeout" and "wall-clock" in str(refused)
        assert time.monotonic() - started < 5
        assert run(sandbox, "") is None


def test_a_worker_that_dies_is_replaced(unscreened: ProcessSandbox) -> None:
    died = run(unscreened, "        import os\n        os._exit(3)\n")
    assert died is not None and died.kind == "crash" and "exit status 3" in str(died)
    assert run(unscreened, "") is None


def test_the_worker_is_reused_across_calls() -> None:
    with ProcessSandbox(LIMITS) as sandbox:
        first = sandbox.layers()["pid"]
        for _ in range(5):
            assert run(sandbox, "") is None
        assert sandbox.layers()["pid"] == first


def test_a_call_while_the_worker_is_busy_runs_on_a_second_one_with_the_same_answer() -> None:
    frame = candles(200)
    with ProcessSandbox(LIMITS, workers=2) as sandbox:
        alone = sandbox.signals(strategy(), "probe.py", None, {"X": frame})["X"]
        with sandbox._pool.lease() as busy:
            beside = sandbox.signals(strategy(), "probe.py", None, {"X": frame})["X"]
            assert sandbox._worker is not None and sandbox._worker is not busy
            assert sandbox._worker.layers["pid"] != busy.layers["pid"]
        pd.testing.assert_frame_equal(beside, alone)
        assert sandbox._worker.alive and busy.alive


def test_print_in_a_strategy_does_not_corrupt_the_replies() -> None:
    with ProcessSandbox(LIMITS) as sandbox:
        assert run(sandbox, "        print('hello from the strategy' * 1000)\n") is None


def test_a_missing_required_layer_refuses_to_run(monkeypatch) -> None:
    with ProcessSandbox(LIMITS, require=("seccomp", "imaginary")) as sandbox:
        with pytest.raises(SandboxRejection, match="untrusted code will not run here"):
            sandbox.inspect(strategy(), "probe.py")
