"""Bulk writing: ids handed out up front, rows inserted in chunks of plain dicts.

Rows reference each other (an answer its attempt, a delivery its statement) before
any of them is written, so each table's ids are taken in advance: on PostgreSQL from
the table's own sequence (``nextval``, safe beside other writers), on SQLite after the
largest id in use (the load holds SQLite's single write lock for its transaction).
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

import sqlalchemy as sa
from psycopg import sql

from lms.extensions import db

#: Rows per INSERT statement batch handed to the driver.
CHUNK = 5_000
#: Ids taken from a sequence at a time by ``Writer.id``.
BLOCK = 2_000


class Writer:
    """Collects rows per table and inserts them in chunks; counts what it wrote."""

    def __init__(self, order: Iterable[sa.Table] = (), chunk: int = CHUNK) -> None:
        """``order``: tables in the order their rows must be written (referenced first)."""
        self.chunk = chunk
        self.counts: Counter[str] = Counter()
        self.seconds: Counter[str] = Counter()
        self._next_id: dict[str, int] = {}
        self._blocks: dict[str, list[int]] = {}
        self._tables: dict[str, sa.Table] = {table.name: table for table in order}
        self._pending: dict[str, list[dict[str, Any]]] = {name: [] for name in self._tables}

    @property
    def dialect(self) -> str:
        return db.session.get_bind().dialect.name

    def ids(self, table: sa.Table, count: int) -> list[int]:
        """``count`` new primary-key values of ``table`` (none of them used yet)."""
        if count <= 0:
            return []
        if self.dialect == "postgresql":
            query = sa.text(
                "SELECT nextval(pg_get_serial_sequence(:table, 'id')) "
                "FROM generate_series(1, :count)"
            )
            return list(db.session.scalars(query, {"table": table.name, "count": count}))
        if table.name not in self._next_id:
            largest = db.session.scalar(sa.select(sa.func.max(table.c.id)))
            self._next_id[table.name] = (largest or 0) + 1
        first = self._next_id[table.name]
        self._next_id[table.name] = first + count
        return list(range(first, first + count))

    def id(self, table: sa.Table) -> int:
        """One new primary-key value of ``table``, from a block taken in advance."""
        block = self._blocks.setdefault(table.name, [])
        if not block:
            block.extend(reversed(self.ids(table, BLOCK)))
        return block.pop()

    def add(self, table: sa.Table, rows: Iterable[dict[str, Any]]) -> None:
        """Queue ``rows`` for ``table`` (written by the next ``flush``)."""
        self._tables[table.name] = table
        self._pending.setdefault(table.name, []).extend(rows)

    def flush(self) -> None:
        """Write every queued row, table by table in the writer's ``order`` (then in the
        order tables were first queued)."""
        for name in list(self._pending):
            self._write(name)

    def _write(self, name: str) -> None:
        rows = self._pending.get(name)
        if not rows:
            return
        started = time.perf_counter()
        table = self._tables[name]
        if self.dialect == "postgresql":
            _copy(table, rows)
        else:
            for part in _chunks(rows, self.chunk):
                db.session.execute(sa.insert(table), part)
        self.counts[name] += len(rows)
        self.seconds[name] += time.perf_counter() - started
        self._pending[name] = []


def _copy(table: sa.Table, rows: list[dict[str, Any]]) -> None:
    """PostgreSQL: ``COPY ... FROM STDIN`` on the session's own connection (and so in its
    transaction), ten times the speed of INSERTs. JSON columns are serialised here as
    SQLAlchemy would; datetimes are aware and go as they are."""
    columns = list(rows[0])
    json_columns = [i for i, n in enumerate(columns) if isinstance(table.c[n].type, sa.JSON)]
    null_for_none = {i for i in json_columns if _null_for_none(table.c[columns[i]])}
    command = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = db.session.connection().connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(command) as copy:
        for row in rows:
            values = [row[name] for name in columns]
            for index in json_columns:
                if values[index] is not None or index not in null_for_none:
                    values[index] = json.dumps(values[index])
            copy.write_row(values)


def _null_for_none(column: sa.Column) -> bool:
    return bool(getattr(column.type, "none_as_null", False))


def _chunks(rows: list, size: int) -> Iterator[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]
