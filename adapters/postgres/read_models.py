"""Read models in PostgreSQL: batched upserts and the checkpoint move in one transaction."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from psycopg2.extras import Json, execute_values
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.engine import Connection, Engine

from adapters.postgres.engine import unavailable
from adapters.postgres.tables import READ_MODEL_TABLES, projection_checkpoints
from application.ports.read_models import Upsert


class PostgresReadModels:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def checkpoint(self, projection: str) -> int:
        with self._connect() as conn:
            found = conn.execute(
                sa.select(projection_checkpoints.c.position).where(projection_checkpoints.c.name == projection)
            ).scalar()
        return int(found or 0)

    def apply(self, projection: str, up_to_position: int, changes: Sequence[Upsert]) -> bool:
        with self._begin() as conn:
            if self._lock_checkpoint(conn, projection) >= up_to_position:
                return False
            for table, columns, rows, insert in _merged_batches(changes):
                (_upsert if insert else _update)(conn, table, columns, rows)
            conn.execute(
                projection_checkpoints.update()
                .where(projection_checkpoints.c.name == projection)
                .values(position=up_to_position, updated_at=sa.func.now())
            )
            return True

    def reset(self, projection: str, tables: Sequence[str]) -> None:
        with self._begin() as conn:
            self._lock_checkpoint(conn, projection)
            for name in tables:
                conn.execute(_table(name).delete())
            conn.execute(
                projection_checkpoints.update()
                .where(projection_checkpoints.c.name == projection)
                .values(position=0, updated_at=sa.func.now())
            )

    def rows(self, table: str, where: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        t = _table(table)
        query = sa.select(t).order_by(*t.primary_key.columns)
        for column, value in (where or {}).items():
            query = query.where(t.c[column] == value)
        with self._connect() as conn:
            return [dict(row) for row in conn.execute(query).mappings()]

    @staticmethod
    def _lock_checkpoint(conn: Connection, projection: str) -> int:
        conn.execute(
            insert(projection_checkpoints).values(name=projection, position=0).on_conflict_do_nothing()
        )
        return int(conn.execute(
            sa.select(projection_checkpoints.c.position)
            .where(projection_checkpoints.c.name == projection)
            .with_for_update()
        ).scalar_one())

    def _connect(self) -> Connection:
        try:
            return self._engine.connect()
        except sa.exc.OperationalError as exc:
            raise unavailable(self._engine, exc) from None

    def _begin(self) -> Any:
        try:
            return self._engine.begin()
        except sa.exc.OperationalError as exc:
            raise unavailable(self._engine, exc) from None


def _table(name: str) -> sa.Table:
    try:
        return READ_MODEL_TABLES[name]
    except KeyError:
        raise ValueError(f"unknown read-model table {name!r}") from None


def _merged_batches(changes: Sequence[Upsert]) -> list[tuple[str, tuple[str, ...], list[dict[str, Any]], bool]]:
    """Fold changes to the same row into one (later values win), then group by column set.

    One INSERT ... ON CONFLICT may not touch a row twice, and grouping lets psycopg2 send
    thousands of rows per statement. An update-only change followed by an insert of the same
    row must not fold into that insert: applied in order, the update finds no row and does
    nothing (the in-memory adapter's semantics), so the insert starts a later round.
    """
    rounds: list[dict[tuple[str, tuple[Any, ...]], tuple[dict[str, Any], bool]]] = [{}]
    for change in changes:
        where = (change.table, tuple(change.key.items()))
        current = rounds[-1]
        folded = current.get(where)
        if folded is not None and change.insert and not folded[1]:
            rounds.append({})
            current, folded = rounds[-1], None
        row, inserting = folded if folded is not None else (dict(change.key), False)
        row.update(change.values)
        current[where] = (row, inserting or change.insert)
    batches: list[tuple[str, tuple[str, ...], list[dict[str, Any]], bool]] = []
    for merged in rounds:
        groups: dict[tuple[str, tuple[str, ...], bool], list[dict[str, Any]]] = {}
        for (table, _), (row, inserting) in merged.items():
            groups.setdefault((table, tuple(sorted(row)), inserting), []).append(row)
        batches.extend((table, columns, rows, insert) for (table, columns, insert), rows in groups.items())
    return batches


def _upsert(conn: Connection, table_name: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT through execute_values: SQLAlchemy would send upserts one by one."""
    table = _table(table_name)
    keys = [c.name for c in table.primary_key.columns]
    updates = [c for c in columns if c not in keys]
    quoted = ", ".join(f'"{c}"' for c in columns)
    conflict = (
        "DO UPDATE SET " + ", ".join(f'"{c}" = EXCLUDED."{c}"' for c in updates) if updates else "DO NOTHING"
    )
    sql = f'INSERT INTO "{table.name}" ({quoted}) VALUES %s ON CONFLICT ({", ".join(keys)}) {conflict}'
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSONB)}
    values = [
        tuple(Json(row[c], dumps=_dumps) if c in json_columns else row[c] for c in columns) for row in rows
    ]
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        execute_values(cursor, sql, values, page_size=1000)


def _update(conn: Connection, table_name: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """UPDATE ... FROM (VALUES ...): rows whose key is absent are left absent."""
    table = _table(table_name)
    keys = [c.name for c in table.primary_key.columns]
    updates = [c for c in columns if c not in keys]
    if not updates:
        return
    dialect = postgresql.dialect()
    template = "(" + ", ".join(f"CAST(%s AS {table.c[c].type.compile(dialect=dialect)})" for c in columns) + ")"
    names = ", ".join(f'"{c}"' for c in columns)
    sql = (f'UPDATE "{table.name}" AS t SET ' + ", ".join(f'"{c}" = v."{c}"' for c in updates)
           + f" FROM (VALUES %s) AS v({names}) WHERE " + " AND ".join(f't."{k}" = v."{k}"' for k in keys))
    json_columns = {c.name for c in table.columns if isinstance(c.type, JSONB)}
    values = [
        tuple(Json(row[c], dumps=_dumps) if c in json_columns else row[c] for c in columns) for row in rows
    ]
    with conn.connection.driver_connection.cursor() as cursor:  # type: ignore[union-attr]
        execute_values(cursor, sql, values, template=template, page_size=1000)


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)
