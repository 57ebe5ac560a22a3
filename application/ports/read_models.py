"""Read-model store port: tables built from events by projections, queried by the edges."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Upsert:
    """Insert the row, or update only the given columns of the row with this key.

    `insert=False` only updates: no row with this key, no change. A projection uses it to add
    facts to rows another event creates, without a partial row standing in for a missing one.
    """

    table: str
    key: Mapping[str, Any]
    values: Mapping[str, Any]
    insert: bool = True


@runtime_checkable
class ReadModelStore(Protocol):
    def checkpoint(self, projection: str) -> int:
        """The global position up to which `projection` has been applied (0 if never)."""
        ...

    def apply(self, projection: str, up_to_position: int, changes: Sequence[Upsert]) -> bool:
        """Apply the changes and move the checkpoint, atomically.

        Returns False (and changes nothing) when the checkpoint is already at or past
        `up_to_position`, so a batch applied twice, or by two runners, counts once.
        """
        ...

    def reset(self, projection: str, tables: Sequence[str]) -> None:
        """Empty the projection's tables and set its checkpoint to 0, atomically."""
        ...

    def rows(self, table: str, where: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """All rows of a table (optionally equal to `where`), ordered by primary key."""
        ...
