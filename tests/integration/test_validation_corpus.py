"""The corpus through the whole gate, in the confined sandbox, on real BTC 15m candles.

Every lookahead strategy is caught (the AST ones by the static check, the others only by
prefix invariance); every clean one passes both checks and reaches the shuffle test; every
hostile or broken one is rejected with a reason, and the test looks for traces outside.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from adapters.memory.event_store import InMemoryEventStore
from adapters.sandbox.process_sandbox import ProcessSandbox
from adapters.sandbox.worker_process import SandboxLimits
from application.validate_strategy import ValidationRequest
from tests.validation_corpus.manifest import MANIFEST
from tests.validation_support import OHLCV, RealCandles, validator

CORPUS = Path(__file__).resolve().parents[1] / "validation_corpus"
HOSTILE = sorted(p.name for p in (CORPUS / "hostile").glob("*.py"))

pytestmark = pytest.mark.skipif(not OHLCV.is_dir(), reason=f"real candles not found at {OHLCV} (../shared/data)")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[ProcessSandbox]:
    with ProcessSandbox(SandboxLimits(cpu_seconds=4, wall_seconds=10, memory_mb=1536)) as found:
        yield found


@pytest.fixture(scope="module")
def candles() -> RealCandles:
    return RealCandles(bars=6000)


def corpus(kind: str) -> list[str]:
    return sorted(name for name, entry in MANIFEST.items() if entry["kind"] == kind)


@pytest.mark.parametrize("name", corpus("lookahead_ast") + corpus("lookahead_dynamic"))
def test_lookahead_is_caught(name: str, sandbox: ProcessSandbox, candles: RealCandles) -> None:
    code = (CORPUS / "lookahead" / name).read_text()
    report = validator(sandbox).execute(ValidationRequest(code=code, origin=name), candles)
    result = report.to_json_dict()
    assert result["sandbox_ok"] is True and result["lookahead_free"] is False and result["passed"] is False
    if MANIFEST[name]["kind"] == "lookahead_ast":
        static = [v for v in result["violations"] if v["rule"] not in ("prefix_invariance", "nondeterministic")]
        assert result["ast_ok"] is False and static and all(isinstance(v["line"], int) for v in static)
    else:
        assert result["ast_ok"] is True
        (found,) = result["violations"]
        assert found["rule"] in ("prefix_invariance", "nondeterministic") and "bar" in found["message"]
    assert result["shuffle_p_value"] is None and "lookahead" in " ".join(result["reasons"])


@pytest.mark.parametrize("name", corpus("clean"))
def test_clean_strategies_pass_both_lookahead_checks(name: str, sandbox: ProcessSandbox, candles: RealCandles) -> None:
    code = (CORPUS / "clean" / name).read_text()
    result = validator(sandbox).execute(ValidationRequest(code=code, origin=name), candles).to_json_dict()
    assert (result["sandbox_ok"], result["ast_ok"], result["lookahead_free"]) == (True, True, True), result
    assert result["violations"] == [] and result["error"] is None
    assert 0 < result["shuffle_p_value"] <= 1 and result["metrics"]["total_trades"] > 0
    assert result["passed"] is (result["shuffle_p_value"] <= 0.05)


@pytest.fixture
def traps(tmp_path: Path) -> Iterator[dict[str, object]]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    secret = tmp_path / "secret.csv"
    secret.write_text("key\nhost-secret\n")
    yield {"server": server, "port": server.getsockname()[1], "marker": tmp_path / "pwned", "secret": secret,
           "tmp": tmp_path}
    server.close()


def armed(code: str, traps: dict[str, object]) -> str:
    return (code.replace("MARKER_PLACEHOLDER", repr(str(traps["marker"])))
            .replace("SECRET_PLACEHOLDER", repr(str(traps["secret"]))).replace("PORT_PLACEHOLDER", str(traps["port"])))


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_and_broken_code_is_rejected_and_leaves_no_trace(name: str, sandbox: ProcessSandbox,
                                                                 candles: RealCandles, traps) -> None:
    code = armed((CORPUS / "hostile" / name).read_text(), traps)
    store = InMemoryEventStore()
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    report = validator(sandbox, store).execute(ValidationRequest(code=code, origin=name), candles)
    result = report.to_json_dict()
    assert result["sandbox_ok"] is False and result["passed"] is False
    assert result["error"] and "\n" not in result["error"] and result["violations"]
    if name == "syntax_error.py":
        assert result["violations"][0]["rule"] == "syntax_error" and result["violations"][0]["line"] == 12
    # no trace: no marker, no connection, the secret unread and unchanged, no stray process, host alive
    assert not Path(str(traps["marker"])).exists()
    assert sorted(os.listdir(str(traps["tmp"]))) == ["secret.csv"]
    with pytest.raises(BlockingIOError):
        traps["server"].accept()  # type: ignore[attr-defined]
    after = {p.pid for p in psutil.Process().children(recursive=True)}
    assert after <= before | ({sandbox._worker._process.pid} if sandbox._worker else set())
    (event,) = [e for e in store.read_all() if e.stream_id.startswith("validation-")]
    assert event.event_type == "StrategyRejected" and event.payload["reasons"]


def test_the_hostile_corpus_is_large_enough() -> None:
    kinds = {"shell_command.py", "object_internals.py", "socket_connect.py", "file_read.py", "import_side_effect.py",
             "infinite_loop.py", "memory_bomb.py", "syntax_error.py"}
    assert kinds <= set(HOSTILE) and len(corpus("lookahead_dynamic")) >= 6 and len(corpus("clean")) >= 10
