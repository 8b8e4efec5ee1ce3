"""PostgreSQL connections, shared by the store (monitor/store/) and the accounts (monitor/accounts/)
when ``IPMON_DB`` (and so, by default, ``IPMON_ACCOUNTS``) is a ``postgresql://`` URL.

- ``is_url``: whether a setting names a PostgreSQL database rather than a file;
- ``pool``: one psycopg connection pool per URL and process (psycopg_pool), opened on first use;
- ``Connection``: a pooled connection that takes the ``?`` placeholders the DuckDB and SQLite code
  is written with (psycopg's are ``%s``), and whose results answer ``fetchone``, ``fetchall`` and
  ``df`` as a DuckDB result does, so code written once for the file stores reads the same here.

Like monitor/settings.py and monitor/errors.py this sits below every room: any may import it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SCHEMES = ("postgresql://", "postgres://")
_pools: dict[str, Any] = {}
_pools_lock = threading.Lock()


def is_url(text: object) -> bool:
    return isinstance(text, str) and text.strip().lower().startswith(SCHEMES)


@lru_cache(maxsize=512)
def qmark(sql: str) -> str:
    """``sql`` with each ``?`` placeholder outside quotes as ``%s``, and every literal ``%`` doubled
    (psycopg reads ``%`` as the start of a placeholder anywhere in the text)."""
    out: list[str] = []
    quote: str | None = None
    for ch in sql:
        if quote:
            if ch == quote:
                quote = None
            out.append("%%" if ch == "%" else ch)
        elif ch in ("'", '"'):
            quote = ch
            out.append(ch)
        elif ch == "?":
            out.append("%s")
        elif ch == "%":
            out.append("%%")
        else:
            out.append(ch)
    return "".join(out)


def pool(url: str, *, max_size: int = 8):
    """The process's pool for ``url`` (opened on first use; psycopg_pool checks connections back in
    and replaces broken ones)."""
    with _pools_lock:
        found = _pools.get(url)
        if found is None:
            from psycopg_pool import ConnectionPool

            found = _pools[url] = ConnectionPool(url, min_size=1, max_size=max_size, open=True,
                                                 kwargs={"autocommit": True}, name="ipmon")
        return found


def close_pools() -> None:
    """Close every pool of this process (tests dropping their databases, a clean exit)."""
    with _pools_lock:
        for found in _pools.values():
            found.close()
        _pools.clear()


class Result:
    """A finished statement's rows, answering as a DuckDB result does."""

    def __init__(self, cursor):
        self._cursor = cursor
        self.rowcount = cursor.rowcount

    def fetchone(self) -> tuple | None:
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[tuple]:
        return self._cursor.fetchall() if self._cursor.description else []

    def df(self) -> pd.DataFrame:
        import pandas as pd

        columns = [c.name for c in self._cursor.description or []]
        return pd.DataFrame(self.fetchall(), columns=columns)


class Connection:
    """A psycopg connection taking ``?`` placeholders. Autocommit unless inside ``transaction()``."""

    def __init__(self, raw):
        self.raw = raw

    def execute(self, sql: str, params: Sequence | None = None) -> Result:
        cursor = self.raw.cursor()
        if params:
            cursor.execute(qmark(sql), list(params))
        else:  # without parameters psycopg sends the text as it is
            cursor.execute(sql)
        return Result(cursor)

    def executemany(self, sql: str, rows: Sequence[Sequence]) -> int:
        with self.raw.cursor() as cursor:
            cursor.executemany(qmark(sql), [list(r) for r in rows])
            return cursor.rowcount

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.raw.transaction():
            yield self


@contextmanager
def connect(url: str) -> Iterator[Connection]:
    """A connection from ``url``'s pool, returned to it when the block ends."""
    with pool(url).connection() as raw:
        yield Connection(raw)
