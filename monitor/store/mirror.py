"""The read mirror of a PostgreSQL store (docs/decisions.md D19): one in-memory DuckDB database
per process and store, holding a copy of every table, which every read of pages, evaluation
and history runs on (``Store.connect()``, ``query()``, ``reading()``), so those reads run the same
DuckDB SQL, as fast, as on the store file. Writes go to PostgreSQL (monitor/store/pg.py), never here.

Its schema is made by the DuckDB migrations themselves (monitor/store/sql/), so a read sees the
same tables, types and views (official_observations) as on a file. Before each read the mirror
compares PostgreSQL's ``data_version`` with its own and, when they differ, catches up inside one
REPEATABLE READ transaction (one consistent snapshot of PostgreSQL):

- small tables (batches, reference data, notes, corrections …) are copied whole;
- observation_log and observation_confirmations are append-only (their seq comes from one sequence,
  and one writer at a time commits, so a later commit never holds a smaller seq): the rows above
  the mirror's highest seq are added;
- observations: the rows of every key those new log rows touch are read again from PostgreSQL;
- upload_files: the files the mirror lacks, by hash;
- a reset (the demo reset erases the log: its lowest seq changed, or the log ends lower than the
  mirror's) reloads everything.

Reads from PostgreSQL are Arrow through the ADBC driver (binary COPY underneath).

Checkpoints (which compress the tables, nationally 2.9 GB as inserted → 110 MB, and drop deleted
rows) are made here, never by DuckDB on its own: its automatic one ran inside whichever catch-up
crossed its threshold, stalling that read and every other of the process for 0.6-5 s. One follows
a whole load, and catch-ups once they have written ``CHECKPOINT_AFTER_ROWS`` rows since the last.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import pyarrow as pa

_mirrors: dict[str, Mirror] = {}
_mirrors_lock = threading.Lock()
# copied row by row from seq on, or by key; every other table is copied whole
_INCREMENTAL = ("observations", "observation_log", "observation_confirmations", "upload_files")
KEY_JOIN = "o.region_code = k.region_code AND o.indicator_id = k.indicator_id AND o.month = k.month"
# the small tables copied whole write ~4,000 rows a catch-up nationally: a checkpoint every ~250
CHECKPOINT_AFTER_ROWS = 1_000_000


def mirror_of(url: str) -> Mirror:
    with _mirrors_lock:
        found = _mirrors.get(url)
        if found is None:
            found = _mirrors[url] = Mirror(url)
        return found


def close_mirrors() -> None:
    """Forget every mirror of this process (tests dropping their databases)."""
    with _mirrors_lock:
        for found in _mirrors.values():
            found.close()
        _mirrors.clear()


class Mirror:
    def __init__(self, url: str):
        from monitor.store.database import migrations

        self.url = url
        self.db = duckdb.connect(":memory:")
        self.db.execute("SET checkpoint_threshold = '1TiB'")  # checkpoints are made by refresh(), see above
        self._written = 0  # rows written since the last checkpoint
        self.db.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)")
        for _version, sql in migrations("duckdb"):
            self.db.execute(sql)
        self.columns: dict[str, list[str]] = {}
        for table, column in self.db.execute(
                "SELECT c.table_name, c.column_name FROM information_schema.columns c "
                "JOIN information_schema.tables t USING (table_schema, table_name) "
                "WHERE t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position").fetchall():
            self.columns.setdefault(table, []).append(column)
        self.version: str | None = None
        self.log_low: int | None = None
        self.log_high: int | None = None
        self._source = None
        self._lock = threading.Lock()

    def close(self) -> None:
        with self._lock:
            if self._source is not None:
                self._source.close()
                self._source = None
            self.db.close()

    # ------------------------------------------------------------------ reading
    @contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A cursor on the mirror, caught up with PostgreSQL first."""
        self.refresh()
        cursor = self.db.cursor()
        try:
            yield cursor
        finally:
            cursor.close()

    # ------------------------------------------------------------------ catching up
    def _fetch(self, cursor, sql: str, params: list | None = None) -> pa.Table:
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return cursor.fetch_arrow_table()

    def _connect_source(self):
        if self._source is None:
            import adbc_driver_postgresql.dbapi as adbc

            self._source = adbc.connect(self.url, autocommit=True)
        return self._source

    def refresh(self) -> bool:
        """Catch up with PostgreSQL when its data_version differs; returns whether anything was read."""
        with self._lock:
            try:
                source = self._connect_source().cursor()
            except Exception:
                self._source = None
                raise
            try:
                source.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
                found = self._fetch(source, "SELECT value FROM store_meta WHERE key = 'data_version'")
                version = found.column(0)[0].as_py() if found.num_rows else None
                if version is not None and version == self.version:
                    return False
                low, high = self._fetch(source, "SELECT min(seq) AS low, max(seq) AS high FROM observation_log"
                                        ).to_pylist()[0].values()
                whole = (self.version is None or self.log_low is not None
                         and (low != self.log_low or high is None or high < (self.log_high or 0)))
                target = self.db.cursor()
                target.begin()
                try:
                    # a whole load builds the mirror's indexes once, after the rows are in (adding
                    # millions of log rows to three ART indexes one at a time costs minutes)
                    indexes = target.execute(
                        "SELECT index_name, sql FROM duckdb_indexes() WHERE sql IS NOT NULL ORDER BY index_name"
                    ).fetchall() if whole else []
                    for name, _ in indexes:
                        target.execute(f'DROP INDEX "{name}"')
                    for table in self.columns:
                        if table not in _INCREMENTAL or whole:
                            self._replace(source, target, table)
                    for _, definition in indexes:
                        target.execute(definition)
                    if not whole:
                        self._catch_up(source, target)
                    target.commit()
                except BaseException:
                    target.rollback()
                    raise
                finally:
                    target.close()
                self.version, self.log_low, self.log_high = version, low, high
                if whole or self._written >= CHECKPOINT_AFTER_ROWS:
                    self._checkpoint()
                return True
            finally:
                try:
                    source.execute("COMMIT")
                finally:
                    source.close()

    def _checkpoint(self) -> None:
        try:
            self.db.execute("CHECKPOINT")
        except duckdb.Error:
            return  # e.g. another thread's write to the mirror: the next catch-up tries again
        self._written = 0

    def _select(self, table: str, alias: str = "") -> str:
        return ", ".join(f"{alias}{c}" for c in self.columns[table])

    def _insert(self, target, table: str, rows: pa.Table) -> None:
        if not rows.num_rows:
            return
        self._written += rows.num_rows
        target.register("mirror_rows", rows)
        try:
            target.execute(f"INSERT INTO {table} ({self._select(table)}) SELECT {self._select(table)} FROM mirror_rows")
        finally:
            target.unregister("mirror_rows")

    def _replace(self, source, target, table: str) -> None:
        # table names come from the mirror's own schema, never from user text
        rows = self._fetch(source, f"SELECT {self._select(table)} FROM {table}")
        target.execute(f"DELETE FROM {table}")
        self._insert(target, table, rows)

    def _catch_up(self, source, target) -> None:
        since = self.log_high or 0
        log = self._fetch(source, f"SELECT {self._select('observation_log')} FROM observation_log WHERE seq > $1 "
                                  "ORDER BY seq", [since])
        if log.num_rows:
            # every key the new entries touch: its row now (none when the key was removed)
            current = self._fetch(
                source, f"SELECT {self._select('observations', 'o.')} FROM observations o WHERE EXISTS ("
                        f"SELECT 1 FROM observation_log k WHERE k.seq > $1 AND {KEY_JOIN})", [since])
            target.register("mirror_log", log)
            try:
                target.execute("DELETE FROM observations o USING (SELECT DISTINCT region_code, indicator_id, month "
                               f"FROM mirror_log) k WHERE {KEY_JOIN}")
            finally:
                target.unregister("mirror_log")
            self._insert(target, "observations", current)
            self._insert(target, "observation_log", log)
        ((confirmed_high,),) = target.execute("SELECT coalesce(max(seq), 0) FROM observation_confirmations").fetchall()
        self._insert(target, "observation_confirmations", self._fetch(
            source, f"SELECT {self._select('observation_confirmations')} FROM observation_confirmations "
                    "WHERE seq > $1 ORDER BY seq", [int(confirmed_high)]))
        stored = {h for (h,) in target.execute("SELECT file_hash FROM upload_files").fetchall()}
        wanted = set(self._fetch(source, "SELECT file_hash FROM upload_files").column(0).to_pylist())
        if stored - wanted:
            target.execute("DELETE FROM upload_files WHERE file_hash IN (SELECT unnest(?))", [sorted(stored - wanted)])
        if wanted - stored:
            self._insert(target, "upload_files", self._fetch(
                source, f"SELECT {self._select('upload_files')} FROM upload_files WHERE file_hash = ANY($1)",
                [sorted(wanted - stored)]))
