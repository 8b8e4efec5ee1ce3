"""Where accounts and the audit trail live (and the column mappings of uploads, monitor/mappings.py,
which follow them wherever they move), and the access settings.

Both live in one SQLite file outside the repository (default ``~/.config/ipmon/accounts.sqlite3``,
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

The access settings (``IPMON_ACCOUNTS``, ``IPMON_ANONYMOUS_VIEW``, ``IPMON_SESSION_IDLE_MINUTES``,
``IPMON_ACCOUNTS_TIMEOUT``) come from the environment, read by monitor/settings.py like every other.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from monitor import settings

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


def default_accounts_path() -> Path:
    """``IPMON_ACCOUNTS``, else ``$XDG_CONFIG_HOME/ipmon/accounts.sqlite3`` (``~/.config`` by default)."""
    return settings.accounts_path()


def accounts_timeout() -> float:
    """How long to wait for another writer of the accounts file: IPMON_ACCOUNTS_TIMEOUT seconds, 15 by default."""
    return settings.accounts_timeout()


@dataclass(frozen=True)
class AccessSettings:
    accounts_path: Path
    anonymous_view: bool = True
    idle_minutes: float = 30.0

    @classmethod
    def from_env(cls) -> AccessSettings:
        return cls(accounts_path=default_accounts_path(), anonymous_view=settings.anonymous_view(),
                   idle_minutes=settings.session_idle_minutes())


_SCHEMA_DONE: set[Path] = set()  # files whose schema this process has created or checked


def _allow_reviewers(con: sqlite3.Connection) -> None:
    """A file from before approval (docs/decisions.md D6) refuses the role 'reviewer' (审核员) in its
    CHECK constraint, which SQLite cannot alter: the table is rebuilt with the current definition,
    rows unchanged."""
    (sql,) = con.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").fetchone()
    if "'reviewer'" in sql:
        return
    current = SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS accounts"):SCHEMA.index("\n);") + 3]
    con.execute("BEGIN IMMEDIATE")
    try:
        con.execute("ALTER TABLE accounts RENAME TO accounts_before_reviewers")
        con.execute(current)
        con.execute("INSERT INTO accounts SELECT * FROM accounts_before_reviewers")
        con.execute("DROP TABLE accounts_before_reviewers")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def connect(path: Path | str, *, write: bool = True, timeout: float | None = None) -> Iterator[sqlite3.Connection]:
    """A short-lived connection to the accounts file (created with its schema on first use).

    One transaction per ``with``: committed on success, rolled back on any exception. ``write``
    takes the write lock at once, so a read-then-write cannot interleave with another writer.
    ``timeout``: seconds to wait while another process writes (default ``accounts_timeout()``);
    then sqlite3.OperationalError ("database is locked")."""
    path = Path(path).absolute()
    created = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = accounts_timeout() if timeout is None else timeout
    con = sqlite3.connect(path, timeout=wait, isolation_level=None)
    try:
        if created:
            os.chmod(path, 0o600)  # password hashes: readable by the owner only
        con.execute(f"PRAGMA busy_timeout = {int(wait * 1000)}")
        if created or path not in _SCHEMA_DONE:
            con.executescript(SCHEMA)
            if "outbox_id" not in {row[1] for row in con.execute("PRAGMA table_info(audit)")}:
                con.execute("ALTER TABLE audit ADD COLUMN outbox_id TEXT")  # a file from before the outbox (decisions D3)
            con.execute(_OUTBOX_INDEX)
            _allow_reviewers(con)
            _SCHEMA_DONE.add(path)
        con.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield con
        except BaseException:
            con.execute("ROLLBACK")
            raise
        con.execute("COMMIT")
    finally:
        con.close()
