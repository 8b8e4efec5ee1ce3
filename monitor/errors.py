"""Typed errors raised by the core. Only the edges (pages, CLI) turn them into words for people."""

from __future__ import annotations

from dataclasses import dataclass


def quoted(text: str, limit: int = 40) -> str:
    """A text a person typed, as a message quotes it: a long one cut, saying how long it was."""
    text = str(text)
    return text if len(text) <= limit else f"{text[:limit]}…（共 {len(text):,} 个字符）"


class MonitorError(Exception):
    """Base class of every error the core raises on purpose."""


class PeriodError(MonitorError, ValueError):
    """A month could not be parsed (expected YYYY-MM)."""


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in indicators.yaml: where it is and what is wrong."""

    location: str  # e.g. "目标集 jincheng_2025 › 目标 jc_invention › 字段 value"
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.location
        if self.line is not None:
            where = f"第 {self.line} 行" + (f"第 {self.column} 列" if self.column else "") + f"（{where}）"
        return f"{where}：{self.message}"


class ConfigError(MonitorError):
    """indicators.yaml is invalid. ``problems`` lists every problem found, not just the first."""

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"配置文件 {source} 有 {len(problems)} 处错误：\n{lines}")


class SettingError(MonitorError, ValueError):
    """An environment setting (IPMON_…) has a value the product cannot use."""


class RegionError(MonitorError, LookupError):
    """A region name or code could not be resolved."""


class UnknownRegionError(RegionError):
    def __init__(self, name: str, suggestions: list[str] | None = None):
        self.name = name
        self.suggestions = suggestions or []
        hint = f"；是否是：{'、'.join(self.suggestions)}" if self.suggestions else ""
        super().__init__(f"「{quoted(name)}」不是已知地区{hint}")


class AmbiguousRegionError(RegionError):
    def __init__(self, name: str, candidates: list[tuple[str, str]]):
        self.name = name
        self.candidates = candidates  # (code, full name with parents)
        listed = "、".join(f"{label}（{code}）" for code, label in candidates)
        super().__init__(f"「{name}」对应多个地区：{listed}；请写全称或代码")


class NotApplicableError(MonitorError):
    """A target set was asked about a region it does not apply to (one above its own)."""


class StoreError(MonitorError):
    """The DuckDB store could not be opened, migrated or written."""


class StoreBusyError(StoreError):
    """Another process holds the store for writing."""


class LoadError(MonitorError):
    """A file could not be loaded; ``problems`` holds the row-level findings."""

    def __init__(self, message: str, problems: list | None = None):
        self.problems = problems or []
        super().__init__(message)

    def __reduce__(self):  # pickled from the parsing worker (etl/worker.py) with its problems
        return type(self), (str(self), self.problems)


class LimitError(LoadError):
    """A file is beyond one of the reader's limits (etl/readers.py ReadLimits); ``limit`` names it:
    rows, columns, cell_chars, cells, xml_bytes, shared_string_bytes or seconds (the reader's);
    memory or seconds (the whole parse, etl/worker.py)."""

    def __init__(self, limit: str, message: str):
        self.limit = limit
        super().__init__(message)

    def __reduce__(self):
        return type(self), (self.limit, str(self))


class HistoryError(MonitorError):
    """A batch cannot be shown or rolled back (unknown, already rolled back, superseded)."""


class NoteError(MonitorError):
    """A note on a value that cannot be written (no text, a flag already open or not open, an unknown key)."""


class ClosedPeriodError(HistoryError):
    """A commit changes values of closed periods (a correction) without a written reason: nothing
    was written. ``periods``: (indicator_id, month, closed_on) of each closed period touched."""

    def __init__(self, message: str, periods: list[tuple] | None = None):
        self.periods = list(periods or [])
        super().__init__(message)


class ExportError(MonitorError):
    """A chart, table or briefing could not be exported (PNG, PDF, CSV, xlsx)."""


class ExportSetupError(ExportError):
    """What exports need on the machine is missing: the CJK font or the chromium browser."""


class AccountError(MonitorError):
    """An account could not be created, changed or found (bad name, unknown user, bad role or scope)."""


class LoginError(AccountError):
    """A login was refused: wrong user name or password, a disabled account, or too many failures.

    ``retry_after`` is the number of seconds to wait when the refusal is a throttle, else None."""

    def __init__(self, message: str, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message)


class PermissionDenied(AccountError):
    """The session's role or region scope does not allow the action."""


class ScopeError(PermissionDenied):
    """A write touches regions outside the writer's scope (monitor/store/writer.py): nothing was written.
    ``regions``: the region codes outside it."""

    def __init__(self, message: str, regions: list[str] | None = None):
        self.regions = list(regions or [])
        super().__init__(message)


class UnknownColumnsError(LoadError):
    """No header could be used because its indicator columns are not recognised. The header row it
    would have been (``header_row``, 1-based; ``headers`` its cells; ``unknown`` the cells that name
    no known column): a person may map them to indicators once (monitor/mappings.py) and load again."""

    def __init__(self, message: str, *, header_row: int, headers: list[str], unknown: list[str]):
        self.header_row = header_row
        self.headers = headers
        self.unknown = unknown
        super().__init__(message)

    def __reduce__(self):  # raised in the parsing worker (etl/worker.py): pickled with its columns
        return _unknown_columns, (str(self), self.header_row, self.headers, self.unknown)


def _unknown_columns(message: str, header_row: int, headers: list[str], unknown: list[str]) -> UnknownColumnsError:
    return UnknownColumnsError(message, header_row=header_row, headers=headers, unknown=unknown)


class MappingError(MonitorError):
    """A column mapping could not be saved, changed or found (unknown indicator, a unit that does
    not convert, a column not in the header, an unknown id)."""


class AuditTrailBusyError(MonitorError):
    """The audit trail (the accounts file) could not be written in time; the records wait in the
    store's outbox (monitor/store/outbox.py) and are moved on the next open."""


class SubscriptionError(MonitorError):
    """A subscription that cannot be saved as given (no channel, a bad address, regions outside the account's)."""


class NotifySettingError(SettingError):
    """The notification settings (IPMON_SMTP_*, IPMON_PUBLIC_URL) are not usable as given."""


class AccountsBusyError(MonitorError):
    """The accounts (a SQLite file, or their schema in PostgreSQL) were held by another writer for
    longer than IPMON_ACCOUNTS_TIMEOUT (monitor/accounts/access.py)."""
