"""The audit outbox: a write's audit record is committed in the same transaction as the write.

The trail lives with the accounts (monitor/accounts/access.py says why), the data in the store: two
files or databases, two commits. A process killed between them, or a trail held by another process for
longer than its timeout, used to leave a committed batch with no audit row. So every write
adds its record to ``audit_outbox`` inside its own transaction (``stage``): the write and its
record are committed together or not at all. Writes of observations (an upload's commit,
``etl load``, a rollback, a review, ``etl init --reset-demo``) are staged by the store's writer
(monitor/store/writer.py) from who writes; a task's progress is given an ``AuditEntry`` by its door.

``drain`` then moves the outbox to the trail: right after the commit, and at every later open
of the store (monitor/context.py open_context: each CLI command, each dashboard start). Each row
keeps its unique id in the trail (a unique index), so a row moved twice (a kill after the
trail's commit and before the row left the outbox) is recorded once.
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime

import duckdb

from monitor.accounts.access import describe
from monitor.accounts.audit import ACTIONS, ANONYMOUS, OUTCOMES, AuditLog
from monitor.domain import clock
from monitor.errors import AccountsBusyError, AuditTrailBusyError
from monitor.store.database import Store

_COLUMNS = ("id", "occurred", "actor", "action", "outcome", "target", "detail", "client", "via")


@dataclass(frozen=True)
class AuditEntry:
    """Who does a write, from where, and what to say: the core adds the batch or task it wrote
    (``target``) and, where it has more to say, the detail."""

    action: str
    actor: str | None
    outcome: str = "ok"
    target: str | None = None
    detail: str | None = None
    client: str | None = None
    via: str | None = None


def stage(con: duckdb.DuckDBPyConnection, entry: AuditEntry, *, at: datetime | None = None) -> str:
    """Add ``entry`` to the outbox inside the caller's open transaction; returns its id."""
    if entry.action not in ACTIONS:
        raise ValueError(f"unknown audit action {entry.action!r}")
    if entry.outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {entry.outcome!r}")
    entry_id = uuid.uuid4().hex
    moment = at or clock.now()
    con.execute("INSERT INTO audit_outbox VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [entry_id, moment.isoformat(sep=" ", timespec="seconds"), entry.actor or ANONYMOUS, entry.action,
                 entry.outcome, entry.target, entry.detail, entry.client, entry.via, clock.now()])
    return entry_id


def pending(store: Store) -> int:
    """How many records wait in the outbox."""
    with store.primary() as con:
        return int(con.execute("SELECT count(*) FROM audit_outbox").fetchone()[0])


def drain(store: Store, trail: AuditLog | None = None) -> int:
    """Move every record of the outbox to the trail; returns how many were moved.

    Raises AuditTrailBusyError when the trail cannot be written in time (the records stay in the
    outbox for the next drain), StoreBusyError when the store is held by another process."""
    with store.primary() as con:  # on PostgreSQL the database itself, not the read mirror
        rows = con.execute(f"SELECT {', '.join(_COLUMNS)} FROM audit_outbox ORDER BY staged_at, id").fetchall()
    if not rows:
        return 0
    trail = trail or AuditLog()
    try:
        trail.deliver(rows)
    except AccountsBusyError as e:  # another process writes the trail
        raise AuditTrailBusyError(f"审计记录暂时无法写入（{describe(trail.path)} 正被另一个程序占用）；"
                                  f"{len(rows)} 条记录已随数据保存在数据库中，下次打开时自动补写") from e
    # another thread of this process may be moving the same rows at the same moment
    with store.primary() as con, contextlib.suppress(duckdb.TransactionException):
        con.execute("DELETE FROM audit_outbox WHERE id IN (SELECT unnest(CAST(? AS VARCHAR[])))", [[r[0] for r in rows]])
    return len(rows)


def drain_quietly(store: Store, trail: AuditLog | None = None) -> bool:
    """``drain``, for the moments nothing should fail because of it (an open, after a commit):
    True when the outbox is empty afterwards, False when records still wait."""
    from monitor.errors import MonitorError

    try:
        drain(store, trail)
    except MonitorError:
        return False
    return True
