"""The store's writes on PostgreSQL (``IPMON_DB=postgresql://…``, docs/decisions.md D19).

monitor/store/database.py hands a ``WriteConnection`` to every ``Store.transaction()`` block when
the store is PostgreSQL. It answers what the writer (monitor/store/writer.py) and the other
writing modules ask of a DuckDB connection, so one SQL text serves both engines:

- ``execute(sql, params)`` with ``?`` placeholders, results with ``fetchone``/``fetchall``/``df``
  (monitor/postgres.py);
- ``register(name, frame)``: DuckDB reads a pandas or Arrow frame by name in SQL; here the frame is
  copied (COPY … FROM STDIN, CSV written by pyarrow) into a temporary table of that name, dropped at
  the end of the transaction, so ``INSERT … SELECT … FROM incoming`` and ``DELETE … USING
  changed_keys`` read the same on both;
- ``sql(query, params).to_arrow_table()``, as DuckDB's relation answers.

One writer at a time: the transaction first takes a transaction-level advisory lock
(``pg_try_advisory_xact_lock``), tried until ``Store.timeout`` and then refused with the same
StoreBusyError a locked DuckDB file gives. Readers never wait for it (MVCC).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from monitor import postgres
from monitor.errors import StoreBusyError

# the advisory lock every writer of the store takes (any constant; one store per database)
WRITER_LOCK = 0x1B5_0D8
_TYPES = (
    (pa.types.is_string, "TEXT"), (pa.types.is_large_string, "TEXT"), (pa.types.is_floating, "DOUBLE PRECISION"),
    (pa.types.is_integer, "BIGINT"), (pa.types.is_boolean, "BOOLEAN"), (pa.types.is_date, "DATE"),
    (pa.types.is_timestamp, "TIMESTAMP"), (pa.types.is_binary, "BYTEA"), (pa.types.is_null, "TEXT"),
)


def _arrow(frame: pd.DataFrame | pa.Table) -> pa.Table:
    table = frame if isinstance(frame, pa.Table) else pa.Table.from_pandas(frame, preserve_index=False)
    columns = []
    for column in table.columns:
        if pa.types.is_dictionary(column.type):  # categorical columns (the national generator's)
            column = column.cast(column.type.value_type)
        if pa.types.is_large_string(column.type) or str(column.type) == "string_view":
            column = column.cast(pa.string())
        columns.append(column)
    return pa.table(columns, names=table.column_names)


def _sql_type(kind: pa.DataType) -> str:
    for test, name in _TYPES:
        if test(kind):
            return name
    raise TypeError(f"no PostgreSQL type for an Arrow column of type {kind}")


class ArrowResult:
    def __init__(self, table: pa.Table):
        self._table = table

    def to_arrow_table(self) -> pa.Table:
        return self._table


class WriteConnection:
    """A PostgreSQL connection inside a write transaction, answering as a DuckDB connection does."""

    def __init__(self, con: postgres.Connection):
        self.con = con
        self.raw = con.raw

    def execute(self, sql: str, params=None) -> postgres.Result:
        return self.con.execute(sql, params)

    def register(self, name: str, frame: pd.DataFrame | pa.Table) -> None:
        """A temporary table ``name`` (a constant of the caller's, never user text) holding ``frame``."""
        table = _arrow(frame)
        columns = ", ".join(f'"{c}" {_sql_type(t)}' for c, t in zip(table.column_names, table.schema.types,
                                                                    strict=True))
        self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')
        self.raw.execute(f'CREATE TEMPORARY TABLE "{name}" ({columns}) ON COMMIT DROP')
        self._copy(f'"{name}"', table)

    def copy_into(self, table: str, frame: pd.DataFrame | pa.Table) -> None:
        """Append ``frame``'s rows to the store's ``table`` (a constant of the writer's), its columns
        by name, in one COPY … FROM STDIN: the bulk load's path, with no temporary table between."""
        rows = _arrow(frame)
        self._copy(f'{table} ({", ".join(rows.column_names)})', rows)

    def _copy(self, into: str, table: pa.Table) -> None:
        if not table.num_rows:
            return
        if any(pa.types.is_binary(t) for t in table.schema.types):
            # CSV cannot carry bytes: a few rows at most (no writer registers files)
            with self.raw.cursor().copy(f"COPY {into} FROM STDIN") as copy:
                for row in table.to_pylist():
                    copy.write_row(list(row.values()))
            return
        buffer = io.BytesIO()
        # CSV written by Arrow's C++ writer (measured faster end to end than psycopg's binary rows,
        # which are built one Python row at a time); nulls as empty fields, empty text quoted:
        # COPY's CSV tells them apart the same way
        pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
        with self.raw.cursor().copy(f"COPY {into} FROM STDIN (FORMAT csv)") as copy:
            copy.write(buffer.getbuffer())

    @contextmanager
    def indexes_rebuilt(self, *tables: str) -> Iterator[None]:
        """Drop the tables' indexes and keys for the block, then build them again from their own
        definitions and ANALYZE the tables: one sort per index after a bulk load instead of
        millions of single inserts into each. Inside the write transaction, so a failed load
        restores them; other sessions wait for the tables until the transaction ends (a set-up
        step on a new store, docs/decisions.md D19)."""
        keys = self.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = ANY(CAST(? AS regclass[])) AND contype IN ('p', 'u') ORDER BY conname",
            [list(tables)]).fetchall()
        indexes = self.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename = ANY(?) AND indexname NOT IN (SELECT conname FROM pg_constraint) ORDER BY indexname",
            [list(tables)]).fetchall()
        for name, _ in indexes:
            self.raw.execute(f'DROP INDEX "{name}"')
        for table, name, _ in keys:
            self.raw.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        yield
        self.raw.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for table, name, definition in keys:
            self.raw.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for _, definition in indexes:
            self.raw.execute(definition)
        for table in tables:
            self.raw.execute(f"ANALYZE {table}")

    def unregister(self, name: str) -> None:
        self.raw.execute(f'DROP TABLE IF EXISTS pg_temp."{name}"')

    def sql(self, query: str, params=None) -> ArrowResult:
        cursor = self.raw.cursor()
        cursor.execute(postgres.qmark(query), list(params or []))
        names = [c.name for c in cursor.description]
        rows = cursor.fetchall()
        return ArrowResult(pa.table({n: pa.array([r[k] for r in rows]) if rows else pa.array([], pa.null())
                                     for k, n in enumerate(names)}))


@contextmanager
def transaction(url: str, *, timeout: float, name: str) -> Iterator[WriteConnection]:
    """A write transaction holding the writer lock; commits on success, rolls back on any exception."""
    with postgres.connect(url) as con, con.transaction():
        deadline = time.monotonic() + timeout
        delay = 0.05
        while not con.execute("SELECT pg_try_advisory_xact_lock(?)", [WRITER_LOCK]).fetchone()[0]:
            if time.monotonic() >= deadline:
                raise StoreBusyError(
                    f"数据库 {name} 正被另一个程序写入（等待 {timeout:g} 秒后仍未释放）；"
                    "请稍后重试，或等待正在进行的导入完成")
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
        yield WriteConnection(con)


def migrate(url: str, migrations: list[tuple[int, str]], *, timeout: float, name: str) -> int:
    """Every migration not yet applied, in order, in one transaction holding the writer lock (two
    processes opening a new store at once: the second finds the first one's work done)."""
    from monitor.errors import StoreError

    with transaction(url, timeout=timeout, name=name) as con:
        con.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        applied = {v for (v,) in con.execute("SELECT version FROM schema_version").fetchall()}
        current = max(applied, default=0)
        for version, sql in migrations:
            if version in applied:
                continue
            try:
                with con.raw.transaction():  # a savepoint: the failing migration names itself
                    con.raw.execute(sql)
                    con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
            except Exception as e:
                raise StoreError(f"数据库升级到第 {version} 版失败：{e}") from e
            current = max(current, version)
        return current
