"""In-memory read models: same upsert and checkpoint semantics as the Postgres tables."""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from application.ports.read_models import Upsert


class InMemoryReadModels:
    """Columns never written read as None, as they would from a SQL table."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tables: dict[str, dict[tuple[Any, ...], dict[str, Any]]] = {}
        self._checkpoints: dict[str, int] = {}

    def checkpoint(self, projection: str) -> int:
        with self._lock:
            return self._checkpoints.get(projection, 0)

    def apply(self, projection: str, up_to_position: int, changes: Sequence[Upsert]) -> bool:
        with self._lock:
            if self._checkpoints.get(projection, 0) >= up_to_position:
                return False
            for change in changes:
                table = self._tables.setdefault(change.table, {})
                key = tuple(change.key.values())
                if not change.insert and key not in table:
                    continue
                row = table.setdefault(key, dict(change.key))
                row.update(copy.deepcopy(dict(change.values)))
            self._checkpoints[projection] = up_to_position
            return True

    def reset(self, projection: str, tables: Sequence[str]) -> None:
        with self._lock:
            for name in tables:
                self._tables.pop(name, None)
            self._checkpoints[projection] = 0

    def rows(self, table: str, where: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        with self._lock:
            stored = self._tables.get(table, {})
            columns = {column: None for row in stored.values() for column in row}
            found = [
                {**columns, **copy.deepcopy(row)}
                for _, row in sorted(stored.items())
                if not where or all(row.get(k) == v for k, v in where.items())
            ]
        return found
