"""Moving a store onto PostgreSQL: every table of a DuckDB file, as it is, into a new PostgreSQL
store (docs/decisions.md D19), so an office that started on one machine keeps its history when it
moves to several (``python -m etl copy-to postgresql://…``, which copies the accounts as well).

Everything is copied as it stands: the observations, the whole log, the confirmations and
corrections, every batch with its review state, the files as received, notes and the chosen
readings, with their ids and seqs; the sequences then continue after the highest copied. One
transaction on the target: a failure leaves it as it was. The target must hold no batch, no
logged value and no note (a store someone already writes to is never merged into).
"""

from __future__ import annotations

import re

import pyarrow as pa

from monitor.errors import StoreError
from monitor.store.database import Store

# the reference tables, synced from indicators.yaml by every start, are copied too (what the store
# held); schema_version is the target's own; store_meta without its data_version
_SKIPPED = ("schema_version",)
_LARGE = ("observations", "observation_log", "observation_confirmations")  # indexes rebuilt after the rows
_BATCH_ROWS = 500_000
_NEXTVAL = re.compile(r"nextval\('([\w.]+)'")


def copy_store(source: Store, target: Store) -> dict[str, int]:
    """Every row of ``source`` (a DuckDB file) into ``target`` (a PostgreSQL store, migrated here);
    returns the rows copied per table. Raises StoreError when the target already holds data or
    is not PostgreSQL."""
    if not target.url:
        raise StoreError("只能复制到 PostgreSQL 数据库（postgresql://…）；复制 DuckDB 文件请直接复制文件")
    if source.url:
        raise StoreError("源数据库应是 DuckDB 文件；PostgreSQL 之间请用 pg_dump / pg_restore")
    source.migrate()
    target.migrate()
    copied: dict[str, int] = {}
    with source.connect() as src, target.transaction() as dst:
        held = {t: dst.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("load_batches", "observation_log", "value_notes")}
        if any(held.values()):
            raise StoreError(f"目标数据库 {target.name} 已有数据（批次 {held['load_batches']} 个、历史记录 "
                             f"{held['observation_log']} 条、备注 {held['value_notes']} 条），未复制任何内容；"
                             "请复制到一个新建的空数据库")
        tables = _tables(dst)
        with dst.indexes_rebuilt(*[t for t in _LARGE if t in tables]):
            for table, columns in tables.items():
                copied[table] = _copy_table(src, dst, table, columns)
        _continue_sequences(dst)
    return copied


def _tables(dst) -> dict[str, list[str]]:
    """The target's base tables (the same as a DuckDB store's: tests/test_mirror.py) and columns."""
    tables: dict[str, list[str]] = {}
    for table, column in dst.execute(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c "
            "JOIN information_schema.tables t USING (table_schema, table_name) "
            "WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' "
            "ORDER BY c.table_name, c.ordinal_position").fetchall():
        if table not in _SKIPPED:
            tables.setdefault(table, []).append(column)
    return tables


def _copy_table(src, dst, table: str, columns: list[str]) -> int:
    # table and column names come from the target's own schema, never from user text
    where = " WHERE key <> 'data_version'" if table == "store_meta" else ""
    dst.execute(f"DELETE FROM {table}{where}")  # the reference rows a migration or a sync wrote
    reader = src.sql(f"SELECT {', '.join(columns)} FROM {table}{where}").to_arrow_reader(_BATCH_ROWS)
    rows = 0
    for batch in reader:
        dst.copy_into(table, pa.Table.from_batches([batch]))
        rows += batch.num_rows
    return rows


def _continue_sequences(dst) -> None:
    """Each sequence a column takes its default from goes on after the highest value copied."""
    highest: dict[str, int] = {}
    for table, column, default in dst.execute(
            "SELECT table_name, column_name, column_default FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND column_default LIKE 'nextval(%'").fetchall():
        found = dst.execute(f"SELECT max({column}) FROM {table}").fetchall()[0][0]
        sequence = _NEXTVAL.match(default).group(1)
        if found is not None:
            highest[sequence] = max(highest.get(sequence, 0), int(found))
    for sequence, value in highest.items():
        dst.execute("SELECT setval(?, ?)", [sequence, value])
