"""The store: one DuckDB file under data/ (the default), or a PostgreSQL database when IPMON_DB is a
``postgresql://`` URL (docs/decisions.md D19); created and migrated on open.

On PostgreSQL, ``transaction()`` writes to the database (monitor/store/pg.py: the same SQL, one
writer at a time through an advisory lock), and every read (``connect()``, ``query()``,
``reading()``) runs on this process's DuckDB read mirror of it (monitor/store/mirror.py), caught up
before the read. What follows describes the file.

Connection handling is deliberate (docs/decisions.md D1: DuckDB allows one read-write process per file,
and a read-only connection in the same process conflicts with a read-write one). Every
operation therefore opens a short-lived read-write connection and closes it: the dashboard's
sessions and a CLI run in another process take turns; a connection that finds the file locked
retries until ``timeout`` and then raises ``StoreBusyError`` with a message a person can act on.

``data_version`` in ``store_meta`` is bumped by every commit, so callers can key caches on it.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd

from monitor import postgres, settings
from monitor.domain.config import Config, MilestoneTarget
from monitor.errors import StoreBusyError, StoreError

DEFAULT_STORE = settings.DEFAULT_STORE
_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")
# The connection a thread holds inside ``Store.reading()``, by file: {resolved path: connection}.
_held = threading.local()


def default_store_path() -> Path:
    """data/monitor.duckdb, or the path in IPMON_DB (tests and benchmarks use their own file)."""
    return settings.store_path()


def migrations(engine: str = "duckdb") -> list[tuple[int, str]]:
    """The numbered migrations in order; for ``engine`` "postgresql", a migration's variant under
    sql/postgresql/ where DuckDB's syntax differs (the same number, the same tables and columns)."""
    def numbered(package: str) -> dict[int, str]:
        return {int(p.name.split("_", 1)[0]): p.read_text(encoding="utf-8")
                for p in resources.files(package).iterdir() if p.name.endswith(".sql")}

    found = numbered("monitor.store.sql")
    if engine == "postgresql":
        found.update(numbered("monitor.store.sql.postgresql"))
    return sorted(found.items())


_migrations = migrations
SCHEMA_VERSION = max(v for v, _ in migrations())

def key_filter(region_codes: Iterable[str] | None, indicator_ids: Iterable[str] | None,
               alias: str = "") -> tuple[str, list]:
    """SQL (「 AND … IN (SELECT unnest(?))」 for each given list, None: no filter) and its
    parameters, narrowing a query to some regions and indicators; ``alias``: a table alias with
    its dot ("o."), never user text."""
    sql, params = "", []
    if region_codes is not None:
        sql += f" AND {alias}region_code IN (SELECT unnest(?))"
        params.append(list(region_codes))
    if indicator_ids is not None:
        sql += f" AND {alias}indicator_id IN (SELECT unnest(?))"
        params.append(list(indicator_ids))
    return sql, params


class Store:
    def __init__(self, path: Path | str | None = None, *, timeout: float | None = None,
                 published_at: datetime | None = None):
        # a postgresql:// URL (given, or IPMON_DB): the store is that database, and path is None
        self.url = path if postgres.is_url(path) else None if path else settings.store_postgres_url()
        self.path = None if self.url else Path(path) if path else default_store_path()
        # how long to wait for another writer before giving up (IPMON_STORE_TIMEOUT, seconds)
        self.timeout = timeout if timeout is not None else settings.store_timeout()
        # When set, reads of observations see the store as it was published at that moment
        # (monitor/store/history.py); writes are refused.
        self.published_at = published_at

    def as_published(self, moment: datetime | None) -> Store:
        """The same file, read as it stood at ``moment`` (None: as it is now)."""
        return Store(self.url or self.path, timeout=self.timeout, published_at=moment)

    @property
    def name(self) -> str:
        """What messages call the store: the file's name, or the PostgreSQL database's."""
        if self.url:
            return self.url.rsplit("/", 1)[-1].split("?", 1)[0] or "PostgreSQL"
        return self.path.name

    @property
    def location(self) -> str:
        """Where the store is, for the command line: the file, or the URL without its password."""
        if self.url:
            from psycopg.conninfo import conninfo_to_dict

            parts = conninfo_to_dict(self.url)
            return f"postgresql://{parts.get('user', '')}@{parts.get('host', '')}:{parts.get('port', 5432)}/{self.name}"
        return str(self.path)

    # ------------------------------------------------------------------ connections
    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A short-lived connection; waits while another process holds the file. Inside
        ``reading()`` it is the connection this thread holds."""
        held = getattr(_held, "connections", {}).get(self._key())
        if held is not None:
            yield held
            return
        with self._open() as con:
            yield con

    def _key(self) -> str:
        return self.url or str(self.path.resolve())

    @property
    def identity(self) -> str:
        """Which store this is (its URL, or its file's resolved path), whatever path named it."""
        return self._key()

    @contextmanager
    def primary(self) -> Iterator:
        """A connection to the store itself, outside any transaction: PostgreSQL's (not the mirror)
        for what must be read as it is this moment and for writes that change no data (the audit
        outbox, monitor/store/outbox.py); on a file, ``connect()``."""
        if self.url:
            with postgres.connect(self.url) as con:
                yield con
        else:
            with self.connect() as con:
                yield con

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One connection for every read this thread makes inside the block. Opening one costs
        ~10 ms, and a briefing reads the store some fifty times; the file stays locked for the
        block's length, which other processes wait out as they wait out a write (docs/decisions.md D1)."""
        connections = getattr(_held, "connections", None)
        if connections is None:
            connections = _held.connections = {}
        key = self._key()
        if key in connections:  # nested: the outer block's connection serves
            yield
            return
        with self._open() as con:
            connections[key] = con
            try:
                yield
            finally:
                del connections[key]

    @contextmanager
    def _open(self) -> Iterator[duckdb.DuckDBPyConnection]:
        if self.url:
            from monitor.store.mirror import mirror_of

            with mirror_of(self.url).connection() as con:
                yield con
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                con = duckdb.connect(str(self.path))
                break
            except (duckdb.IOException, duckdb.ResourceInUseException) as e:
                # ResourceInUse: another thread of this process is opening the same file right now
                if isinstance(e, duckdb.IOException) and not any(m in str(e) for m in _LOCK_MARKERS):
                    raise StoreError(f"无法打开数据库 {self.path}：{e}") from e
                if time.monotonic() >= deadline:
                    raise StoreBusyError(
                        f"数据库 {self.name} 正被另一个程序写入（等待 {self.timeout:g} 秒后仍未释放）；"
                        "请稍后重试，或等待正在进行的导入完成"
                    ) from e
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
        try:
            yield con
        finally:
            con.close()

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commits on success, rolls back on any exception, bumps data_version."""
        if self.published_at is not None:
            raise StoreError("历史版本视图是只读的，不能写入")
        if self.url:
            from monitor.store import pg

            with pg.transaction(self.url, timeout=self.timeout, name=self.name) as con:
                yield con
                con.execute("UPDATE store_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) "
                            "WHERE key = 'data_version'")
            return
        with self.connect() as con:
            con.execute("BEGIN TRANSACTION")
            try:
                yield con
                # Every write transaction updates this one row, so DuckDB fails the later of two
                # overlapping writers ("Conflict on update") and it rolls back: a writer keeping
                # one row per key (schema 3 has no primary key) never races another.
                con.execute(
                    "UPDATE store_meta SET value = CAST(CAST(value AS INTEGER) + 1 AS VARCHAR) "
                    "WHERE key = 'data_version'"
                )
                con.execute("COMMIT")
            except BaseException:
                con.execute("ROLLBACK")
                raise

    def query(self, sql: str, params: list | tuple | None = None) -> pd.DataFrame:
        with self.connect() as con:
            return con.execute(sql, params or []).df()

    # ------------------------------------------------------------------ schema
    def migrate(self) -> int:
        """Create or upgrade the schema; returns the schema version now in place."""
        if self.url:
            from monitor.store import pg

            return pg.migrate(self.url, migrations("postgresql"), timeout=self.timeout, name=self.name)
        with self.connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TIMESTAMP)"
            )
            # every migration not yet applied, not only those above the highest applied: parallel
            # branches number theirs apart (004, 005, 006), and a store may have met 005 first
            applied = {v for (v,) in con.execute("SELECT version FROM schema_version").fetchall()}
            current = max(applied, default=0)
            for version, sql in _migrations():
                if version in applied:
                    continue
                con.execute("BEGIN TRANSACTION")
                try:
                    con.execute(sql)
                    con.execute("INSERT INTO schema_version VALUES (?, now())", [version])
                    con.execute("COMMIT")
                except Exception as e:
                    con.execute("ROLLBACK")
                    raise StoreError(f"数据库升级到第 {version} 版失败：{e}") from e
                current = max(current, version)
            return current

    def data_version(self) -> int:
        with self.primary() as con:
            row = con.execute("SELECT value FROM store_meta WHERE key = 'data_version'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ reference data
    def sync_reference(self, config: Config, regions, population) -> bool:
        """Mirror the registry, population and config into their tables (config is the source of truth).
        Returns whether anything was written (False: the tables already hold exactly this)."""
        region_rows = pd.DataFrame(
            [(r.code, r.name, r.short_name, r.level, r.parent) for r in regions],
            columns=["code", "name", "short_name", "level", "parent"],
        )
        pop = population.frame()[["region_code", "year", "population", "basis", "source_url"]]
        indicators = pd.DataFrame(
            [
                (i.id, i.name, i.unit, i.kind, i.frequency, i.direction, i.aggregation, i.description,
                 i.model_dump_json())
                for i in config.indicators
            ],
            columns=["id", "name", "unit", "kind", "frequency", "direction", "aggregation", "description",
                     "definition"],
        )
        sets = pd.DataFrame(
            [
                (s.id, s.title, s.issuer, s.doc_number, s.date, s.source.seed or s.source.url, s.region)
                for s in config.target_sets
            ],
            columns=["id", "title", "issuer", "doc_number", "issued_on", "source", "region"],
        )
        targets = pd.DataFrame(
            [
                (
                    t.id, s.id, t.type,
                    None if isinstance(t, MilestoneTarget) else t.indicator,
                    s.region_of(t),
                    getattr(t, "value", None),
                    None if isinstance(t, MilestoneTarget) else t.deadline,
                    t.clause,
                    json.dumps(t.model_dump(mode="json"), ensure_ascii=False),
                )
                for s in config.target_sets
                for t in s.targets
            ],
            columns=["id", "target_set", "type", "indicator", "region", "value", "deadline", "clause",
                     "definition"],
        )
        calendar = pd.DataFrame(
            [(i.id, str(config.reporting.rule(i)), config.reporting.close_after_days)
             for i in config.indicators if i.kind != "derived"],
            columns=["indicator_id", "due_rule", "close_after_days"],
        ).astype({"close_after_days": "Int64"})
        tables = (("regions", region_rows), ("population", pop), ("indicators", indicators),
                  ("target_sets", sets), ("targets", targets), ("reporting_calendar", calendar))
        # Every command and every dashboard start calls this: it writes (and bumps data_version,
        # which empties every page's cache) only when the reference data differ from what was
        # last mirrored, so reading commands leave the store as they found it.
        digest = hashlib.sha256()
        for table, frame in tables:
            digest.update(f"{table}:{','.join(frame.columns)}:{len(frame)}:".encode())
            digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        with self.primary() as con:
            row = con.execute("SELECT value FROM store_meta WHERE key = 'reference_digest'").fetchone()
        if row is not None and row[0] == digest.hexdigest():
            return False
        with self.transaction() as con:
            for table, frame in tables:
                con.execute(f"DELETE FROM {table}")  # table names are constants above, never user input
                con.register("frame", frame)
                columns = ", ".join(frame.columns)
                con.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM frame")
                con.unregister("frame")
            con.execute("DELETE FROM store_meta WHERE key = 'reference_digest'")
            con.execute("INSERT INTO store_meta VALUES ('reference_digest', ?)", [digest.hexdigest()])
        return True

    def observation_count(self) -> int:
        with self.connect() as con:
            return con.execute("SELECT count(*) FROM observations").fetchone()[0]
