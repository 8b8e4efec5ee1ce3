"""Where accounts and the audit trail live (and the column mappings of uploads, etl/mappings.py, and
the subscriptions and notify's memory, monitor/accounts/subscriptions.py, which follow them wherever
they move), and the access settings.

By default they live in one SQLite file outside the repository (``~/.config/ipmon/accounts.sqlite3``,
or the path in ``IPMON_ACCOUNTS``), not in the DuckDB store, because:
- the store allows one writing process at a time (docs/decisions.md D1, D2), and a long CLI load
  would then block every login and its audit row; SQLite lets the dashboard and the CLI write
  the same file by turns within milliseconds (``busy_timeout``);
- a data reset (``etl init --reset-demo``), a restored or copied store file must not reset who may
  log in nor erase who did what;
- password hashes stay out of data/, which is copied for tests, benchmarks and backups.

Two files, two commits: the audit record of a write to the store is therefore committed with the
write, into the store's outbox, and moved here afterwards (monitor/store/outbox.py; ``audit.outbox_id``
keeps a moved record from being recorded twice).

With a PostgreSQL store, or ``IPMON_ACCOUNTS=postgresql://…``, the same tables live in that database's
schema ``accounts`` instead (docs/decisions.md D20), so every dashboard process on every machine sees
one set of accounts, throttle counters and trail. The code is the same for both: ``connect`` gives
a connection taking ``?`` placeholders whose write transactions are serialised as SQLite's
``BEGIN IMMEDIATE`` serialises them (on PostgreSQL by a transaction-scoped advisory lock), and a
writer that waits longer than ``IPMON_ACCOUNTS_TIMEOUT`` gets ``AccountsBusyError`` on both.

The access settings (``IPMON_ACCOUNTS``, ``IPMON_ANONYMOUS_VIEW``, ``IPMON_SESSION_IDLE_MINUTES``,
``IPMON_ACCOUNTS_TIMEOUT``) come from the environment, read by monitor/settings.py like every other.
"""

from __future__ import annotations

import fcntl
import os
import re
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from monitor import postgres, settings
from monitor.errors import AccountsBusyError

# Where the accounts live: a SQLite file (a Path), or a PostgreSQL database (a postgresql:// URL).
Location = Path | str

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    username      TEXT PRIMARY KEY,          -- lower case: [a-z0-9][a-z0-9_.@-]*
    password_hash TEXT,                      -- argon2id (salt and parameters inside); NULL: single sign-on only
    role          TEXT NOT NULL CHECK (role IN ('viewer', 'uploader', 'reviewer', 'admin')),
    scope         TEXT NOT NULL DEFAULT '',  -- region codes separated by commas; '' = every region
    email         TEXT UNIQUE,               -- lower case; maps a single sign-on user to this account
    display_name  TEXT,
    enabled       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    last_login    TEXT
);
CREATE TABLE IF NOT EXISTS login_failures (
    key           TEXT PRIMARY KEY,          -- 'user:<name>' (known accounts), 'user:*' or 'client:<address>'
    failures      INTEGER NOT NULL,
    last_failure  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    at       TEXT NOT NULL,                  -- local time, ISO 8601 to the second
    actor    TEXT NOT NULL,                  -- account name, an e-mail (single sign-on), 'cli:<os user>' or '匿名'
    action   TEXT NOT NULL,                  -- see monitor/accounts/audit.py ACTIONS
    outcome  TEXT NOT NULL,                  -- ok | refused | failed
    target   TEXT,                           -- the batch, task, account or file touched
    detail   TEXT,
    client   TEXT,                           -- the client address, or 'cli'
    via      TEXT,                           -- password | oidc | cli
    outbox_id TEXT                           -- a row moved from the store's outbox (monitor/store/outbox.py)
);
CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
CREATE TABLE IF NOT EXISTS column_mappings (  -- monitor/mappings.py
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    layout       TEXT NOT NULL,              -- signature of the header row (mappings.layout_signature)
    headers      TEXT NOT NULL,              -- that header row's cells as written, JSON list (for people)
    header       TEXT NOT NULL,              -- the column's header, folded (monitor.domain.config.normalise_name)
    label        TEXT NOT NULL,              -- the column's header as written
    indicator_id TEXT,                       -- NULL: not an indicator, skipped without a warning
    unit         TEXT,                       -- the unit the column's values are written in
    owner        TEXT NOT NULL DEFAULT '',   -- '' = everyone's uploads; else only this account's
    created_by   TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_by   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    UNIQUE (layout, header, owner)
);
"""
# a row moved from the store's audit outbox is recorded once, however often it is moved
_OUTBOX_INDEX = "CREATE UNIQUE INDEX IF NOT EXISTS audit_outbox_id ON audit (outbox_id)"
# SQLite's counter column as PostgreSQL writes it (there an id may skip a number: a sequence value
# taken by an insert that was ignored or rolled back is not given back)
_PG_ID = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
PG_SCHEMA = "accounts"  # the PostgreSQL schema of these tables, apart from the store's
_PG_WRITE_LOCK = 7_301_180_001  # pg_advisory_xact_lock key of a write: one writer at a time, as in SQLite
_PG_RUN_LOCKS = {"notify": 7_301_180_002}  # pg_try_advisory_lock keys of single runs (``single_run``)


@dataclass(frozen=True)
class SchemaPart:
    """Tables every process creates on first use (``CREATE … IF NOT EXISTS``), then the columns added
    since a file was first created, (table, column, definition), and statements needing them."""

    name: str
    script: str
    added_columns: tuple[tuple[str, str, str], ...] = ()
    after: tuple[str, ...] = ()


# outbox_id: a file from before the outbox (docs/decisions.md D3)
ACCOUNTS_SCHEMA = SchemaPart("accounts", SCHEMA, (("audit", "outbox_id", "TEXT"),), (_OUTBOX_INDEX,))


def is_postgres(where: Location) -> bool:
    return postgres.is_url(where)


def location(where: Location | None = None) -> Location:
    """Where the accounts are: ``where`` (a file path or a postgresql:// URL), else the default
    (``default_accounts_path``). A file path is made absolute; a URL is kept as given."""
    if where is None or (isinstance(where, str) and not where.strip()):
        return default_accounts_path()
    if is_postgres(where):
        return str(where).strip()
    return Path(where).absolute()


def exists(where: Location) -> bool:
    """Whether the accounts were ever created there (a database is not created by use: it counts)."""
    return is_postgres(where) or Path(where).exists()


def describe(where: Location) -> str:
    """The accounts' home for a message: the file's name, or 账户数据库."""
    return "账户数据库" if is_postgres(where) else Path(where).name


def default_accounts_path() -> Location:
    """Where the accounts live unless told: a PostgreSQL database (``settings.accounts_postgres_url``:
    IPMON_ACCOUNTS as a postgresql:// URL, or the store's database), else the SQLite file
    ``IPMON_ACCOUNTS``, else ``$XDG_CONFIG_HOME/ipmon/accounts.sqlite3`` (``~/.config`` by default)."""
    url = settings.accounts_postgres_url()
    return url.strip() if url else settings.accounts_path().absolute()


def accounts_timeout() -> float:
    """How long to wait for another writer of the accounts: IPMON_ACCOUNTS_TIMEOUT seconds, 15 by default."""
    return settings.accounts_timeout()


@dataclass(frozen=True)
class AccessSettings:
    accounts_path: Location  # a SQLite file or a postgresql:// URL
    anonymous_view: bool = True
    idle_minutes: float = 30.0

    @classmethod
    def from_env(cls) -> AccessSettings:
        return cls(accounts_path=default_accounts_path(), anonymous_view=settings.anonymous_view(),
                   idle_minutes=settings.session_idle_minutes())


def statements(script: str) -> list[str]:
    """A schema script's statements: each ends with ``;`` at the end of a line (none holds one inside)."""
    return [s.strip() for s in re.split(r";[ \t]*$", script, flags=re.MULTILINE) if s.strip()]


class _Rows:
    """A PostgreSQL result that also iterates, as a sqlite3 cursor does."""

    def __init__(self, result):
        self._result = result
        self.rowcount = result.rowcount

    def fetchone(self):
        return self._result.fetchone()

    def fetchall(self):
        return self._result.fetchall()

    def __iter__(self):
        return iter(self._result.fetchall())


class AccountsConnection:
    """One transaction on the accounts, SQLite or PostgreSQL: ``?`` placeholders on both, and the few
    things the two engines say differently said once, here."""

    def __init__(self, raw, engine: str):
        self.raw = raw  # a sqlite3.Connection, or a monitor.postgres.Connection
        self.engine = engine  # "sqlite" | "postgresql"

    def execute(self, sql: str, params: Sequence = ()):
        if self.engine == "sqlite":
            return self.raw.execute(sql, list(params))
        return _Rows(self.raw.execute(sql, list(params)))

    def executemany(self, sql: str, rows: Iterable[Sequence]) -> int:
        """``sql`` once per row; returns how many rows it changed (an insert that did nothing, ``ON
        CONFLICT DO NOTHING``, counts none)."""
        rows = [list(r) for r in rows]
        if not rows:
            return 0
        if self.engine == "sqlite":
            return self.raw.executemany(sql, rows).rowcount
        return self.raw.executemany(sql, rows)

    def insert(self, sql: str, params: Sequence) -> int:
        """An INSERT; returns the new row's ``id`` (``RETURNING``: SQLite ≥ 3.35 and PostgreSQL)."""
        return int(self.execute(sql + " RETURNING id", params).fetchone()[0])

    def columns(self, table: str) -> set[str]:
        if self.engine == "sqlite":
            return {row[1] for row in self.raw.execute(f"PRAGMA table_info({table})")}
        return {row[0] for row in self.raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
            [PG_SCHEMA, table]).fetchall()}

    def create(self, parts: Iterable[SchemaPart]) -> None:
        """Create the tables of ``parts``, or bring them up to date, in this write transaction."""
        parts = tuple(parts)
        if parts and self.engine == "postgresql":
            self.raw.execute(f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}")
        for part in parts:
            script = part.script if self.engine == "sqlite" else \
                part.script.replace("INTEGER PRIMARY KEY AUTOINCREMENT", _PG_ID)
            for statement in statements(script):
                self.execute(statement)
            for table, column, definition in part.added_columns:
                if column not in self.columns(table):
                    self.execute(f"ALTER TABLE {table} ADD COLUMN {column} {definition}")
            for statement in part.after:
                self.execute(statement)
            if part is ACCOUNTS_SCHEMA and self.engine == "sqlite":
                _allow_reviewers(self.raw)


def _allow_reviewers(con: sqlite3.Connection) -> None:
    """A file from before approval (docs/decisions.md D6) refuses the role 'reviewer' (审核员) in its
    CHECK constraint, which SQLite cannot alter: the table is rebuilt with the current definition,
    rows unchanged, in the caller's write transaction. (No PostgreSQL database is that old.)"""
    (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").fetchone()
    if "'reviewer'" in sql:
        return
    current = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS accounts"):SCHEMA.index("\n);") + 3]
    con.execute("ALTER TABLE accounts RENAME TO accounts_before_reviewers")
    con.execute(current)
    con.execute("INSERT INTO accounts SELECT * FROM accounts_before_reviewers")
    con.execute("DROP TABLE accounts_before_reviewers")


_SCHEMA_DONE: set[tuple[Location, str]] = set()  # (accounts, part) this process has created or checked


def pg_url(url: str) -> str:
    """``url`` with the accounts' schema alone on the search path: the pool of this URL (another than
    the store's) reads and writes the accounts' tables by their plain names."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = " ".join([v for k, v in query if k == "options"] + [f"-c search_path={PG_SCHEMA}"])
    query = [(k, v) for k, v in query if k != "options"] + [("options", options)]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query, quote_via=quote), parts.fragment))


def _busy(where: Location) -> AccountsBusyError:
    return AccountsBusyError(f"{describe(where)}正被另一个程序写入，等待超时；请稍后再试")


@contextmanager
def connect(path: Location | None, *, write: bool = True, timeout: float | None = None,
            parts: tuple[SchemaPart, ...] = (ACCOUNTS_SCHEMA,)) -> Iterator[AccountsConnection]:
    """A short-lived connection to the accounts (their tables, ``parts``, created on first use).

    One transaction per ``with``: committed on success, rolled back on any exception. ``write``
    takes the write lock at once, so a read-then-write cannot interleave with another writer
    (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock held to the transaction's end).
    ``timeout``: seconds to wait while another process writes (default ``accounts_timeout()``);
    then AccountsBusyError."""
    where = location(path)
    wait = accounts_timeout() if timeout is None else timeout
    pending = tuple(p for p in parts if (where, p.name) not in _SCHEMA_DONE)
    write = write or bool(pending)  # creating tables is writing
    if is_postgres(where):
        import psycopg

        with postgres.connect(pg_url(where)) as raw, raw.transaction():
            if write:
                try:
                    raw.execute(f"SET LOCAL lock_timeout = {max(1, int(wait * 1000))}")
                    raw.execute("SELECT pg_advisory_xact_lock(?)", [_PG_WRITE_LOCK])
                except psycopg.errors.LockNotAvailable as e:
                    raise _busy(where) from e
            con = AccountsConnection(raw, "postgresql")
            con.create(pending)
            yield con
    else:
        with _sqlite_transaction(where, write=write, wait=wait) as con:
            con.create(pending)
            yield con
    _SCHEMA_DONE.update((where, p.name) for p in pending)


@contextmanager
def _sqlite_transaction(path: Path, *, write: bool, wait: float) -> Iterator[AccountsConnection]:
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = sqlite3.connect(path, timeout=wait, isolation_level=None)
    try:
        if created:
            os.chmod(path, 0o600)  # password hashes: readable by the owner only
        raw.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield AccountsConnection(raw, "sqlite")
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
    except sqlite3.OperationalError as e:
        if "locked" in str(e):  # "database is locked": another process held the file past the wait
            raise _busy(path) from e
        raise
    finally:
        raw.close()


@contextmanager
def single_run(path: Location | None, purpose: str) -> Iterator[bool]:
    """Whether this process may run ``purpose`` (``notify``) alone on these accounts: yields False when
    another run holds it. A file lock beside a SQLite file; a session advisory lock in PostgreSQL
    (any machine), held until the block ends."""
    where = location(path)
    if is_postgres(where):
        with postgres.connect(pg_url(where)) as raw:
            key = _PG_RUN_LOCKS[purpose]
            held = bool(raw.execute("SELECT pg_try_advisory_lock(?)", [key]).fetchone()[0])
            try:
                yield held
            finally:
                if held:
                    raw.execute("SELECT pg_advisory_unlock(?)", [key])
        return
    lock_path = where.with_name(f"{where.name}.{purpose}.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def copy_accounts(source: Location, target: Location, parts: tuple[SchemaPart, ...] = (ACCOUNTS_SCHEMA,)) -> dict[str, int]:
    """Copy every row of the tables of ``parts`` from ``source`` to ``target`` (e.g. an accounts file
    into a PostgreSQL database), ids kept, in one transaction of each; ``target``'s tables must be
    empty. Returns the rows copied per table."""
    tables = [t for part in parts for t in re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", part.script)]
    copied: dict[str, int] = {}
    with connect(source, write=False, parts=parts) as src, connect(target, parts=parts) as dst:
        for table in tables:
            names = sorted(src.columns(table))
            rows = src.execute(f"SELECT {', '.join(names)} FROM {table}").fetchall()
            copied[table] = dst.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})", rows)
            if dst.engine == "postgresql" and "id" in names and rows:  # the counter continues after the copied ids
                dst.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return copied
