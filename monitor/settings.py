"""Deployment settings: the one module that reads the ``IPMON_*`` environment variables.

The dashboard, the CLI, the notifier and the benchmarks read the same values from the environment
(the core does not import streamlit to read secrets.toml, which holds only the ``[auth]`` secrets of
single sign-on). Every value is read when its accessor is called, never at import, so a test can
set one with ``monkeypatch.setenv`` and a long-running process sees the value of the moment.

Unset or blank means the default. A value the product cannot use raises ``SettingError`` (or its
subclass ``NotifySettingError`` for the mail settings) with a message in Chinese that names the
variable; it is never replaced by the default in silence.

``VARIABLES`` lists every variable with its default and meaning; README's 「Settings」 section shows
the same list and tests/test_readme.py holds the two together.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from monitor import DATA_DIR, postgres
from monitor.errors import NotifySettingError, SettingError


@dataclass(frozen=True)
class Variable:
    """One environment variable: its name, its default and what it sets, as README's table shows them
    (Markdown)."""

    name: str
    default: str
    meaning: str


VARIABLES: tuple[Variable, ...] = (
    Variable("IPMON_DB", "`data/monitor.duckdb`",
             "the store: a DuckDB file (tests and benchmarks use their own), or a PostgreSQL database "
             "(`postgresql://user@host:5432/ipmon`) shared by several dashboard processes"),
    Variable("IPMON_STORE_TIMEOUT", "`15`", "seconds a second writer of the store waits before it fails with a message"),
    Variable("IPMON_TODAY", "the system date",
             "the product's \"today\" (`2027-01-10` or `2027-01`): the last full month, default months and form "
             "dates follow it; for demos and tests (the suite fixes it, see `scripts/test.sh`)"),
    Variable("IPMON_ACCOUNTS", "`~/.config/ipmon/accounts.sqlite3`",
             "accounts, login failures, audit trail, column mappings, subscriptions and 通知记录: a SQLite file, "
             "or a `postgresql://` URL; with a PostgreSQL store they live in its database unless this says otherwise"),
    Variable("IPMON_ACCOUNTS_TIMEOUT", "`15`", "seconds to wait while another process writes the accounts file"),
    Variable("IPMON_ANONYMOUS_VIEW", "`on`", "`off`: every page asks for a login"),
    Variable("IPMON_SESSION_IDLE_MINUTES", "`30`", "a login ends after this many minutes without a click"),
    Variable("IPMON_APPROVAL", "on, off in a demo store",
             "`on`: a committed upload waits for a reviewer (待审核) before pages show it; `off`: it is published at once"),
    Variable("IPMON_MAX_UPLOAD_MB", "`50`", "largest file an upload may be (MB)"),
    Variable("IPMON_MAX_UPLOAD_ROWS", "`200000`", "most rows an uploaded sheet may have, title and header included"),
    Variable("IPMON_PARSE_MEMORY_MB", "`768`", "memory the parse of one uploaded file may add (its worker process, MB)"),
    Variable("IPMON_PARSE_SECONDS", "`60`", "wall time the parse of one uploaded file may take (seconds)"),
    Variable("IPMON_SMTP_HOST", "—", "`etl notify`'s mail server; without it every e-mail fails (and is retried)"),
    Variable("IPMON_SMTP_SECURITY", "`starttls`",
             "`starttls`, `ssl` (TLS from the first byte) or `none` (a relay on the same host or network)"),
    Variable("IPMON_SMTP_PORT", "587 / 465 / 25", "the mail server's port; the default follows the security"),
    Variable("IPMON_SMTP_USER", "—", "login name, when the mail server asks for one"),
    Variable("IPMON_SMTP_PASSWORD", "—",
             "its password (keep it in the unit's `EnvironmentFile`, mode 600)"),
    Variable("IPMON_SMTP_FROM", "—", "the sender address"),
    Variable("IPMON_SMTP_CAFILE", "the system's CAs",
             "the certificate of an intranet CA that signed the mail server's certificate"),
    Variable("IPMON_NOTIFY_TIMEOUT", "`20`", "seconds to wait for the mail server or a webhook"),
    Variable("IPMON_PUBLIC_URL", "—",
             "the dashboard's address as users reach it, for links in messages (`https://ipmon.example.gov.cn`); "
             "without it messages carry no links"),
    Variable("IPMON_BRIEFINGS_DIR", "`data/briefings/`",
             "where `etl notify` writes the briefings it sends as links (one PDF per region and month, reached "
             "through `IPMON_PUBLIC_URL/briefing_file?token=…`)"),
    Variable("IPMON_TEST_POSTGRES", "a cluster the tests start",
             "tests only: a `postgresql://` URL of a server where the test user may `CREATE DATABASE`; without "
             "it the test command starts a throw-away cluster (`devtools/postgres.py`)"),
)
_KNOWN = {v.name for v in VARIABLES}

DEFAULT_STORE = DATA_DIR / "monitor.duckdb"
DEFAULT_BRIEFINGS_DIR = DATA_DIR / "briefings"
DEFAULT_STORE_TIMEOUT = 15.0
DEFAULT_ACCOUNTS_TIMEOUT = 15.0
DEFAULT_IDLE_MINUTES = 30.0
DEFAULT_MAX_UPLOAD_MB = 50.0
DEFAULT_PARSE_MEMORY_MB = 768.0
DEFAULT_PARSE_SECONDS = 60.0
DEFAULT_NOTIFY_TIMEOUT = 20.0
SMTP_SECURITY = ("starttls", "ssl", "none")
_ON = {"1", "on", "true", "yes"}
_OFF = {"0", "off", "false", "no"}
_TODAY_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?\s*$")

Env = Mapping[str, str]


# --------------------------------------------------------------------------- reading


def _raw(name: str, env: Env | None) -> str | None:
    if name not in _KNOWN:  # every variable is listed (and documented) in VARIABLES
        raise KeyError(f"{name} is not in monitor/settings.py VARIABLES")
    return (os.environ if env is None else env).get(name)


def _text(name: str, env: Env | None = None) -> str | None:
    """The value with surrounding blanks removed; None when unset or blank."""
    value = (_raw(name, env) or "").strip()
    return value or None


def _number(name: str, default: float, *, positive: bool, env: Env | None = None) -> float:
    """A number (> 0 when ``positive``, else ≥ 0), or ``default`` when unset."""
    text = _text(name, env)
    if text is None:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 if positive else value >= 0):  # NaN fails both
        raise SettingError(f"环境变量 {name}=「{text}」无效：应为{'正数' if positive else '不小于 0 的数'}")
    return value


def _switch(name: str, env: Env | None = None) -> bool | None:
    """on / off (also 1/0, true/false, yes/no); None when unset."""
    text = _text(name, env)
    if text is None:
        return None
    if text.lower() in _ON:
        return True
    if text.lower() in _OFF:
        return False
    raise SettingError(f"环境变量 {name} 的值「{text}」无效：请设为 on 或 off")


# --------------------------------------------------------------------------- store and clock


def store_path() -> Path:
    """IPMON_DB: the DuckDB store file; default data/monitor.duckdb."""
    text = _text("IPMON_DB")
    return Path(text) if text else DEFAULT_STORE


def test_postgres_url() -> str | None:
    """IPMON_TEST_POSTGRES: a PostgreSQL server the tests make their databases on; None: they start
    their own cluster."""
    return _text("IPMON_TEST_POSTGRES")


def store_postgres_url() -> str | None:
    """IPMON_DB when it is a ``postgresql://`` URL (the store is then PostgreSQL); None: a DuckDB file."""
    text = _text("IPMON_DB")
    return text if postgres.is_url(text) else None


def accounts_postgres_url() -> str | None:
    """Where the accounts live when that is PostgreSQL: IPMON_ACCOUNTS when it is a
    ``postgresql://`` URL, else the store's database when IPMON_DB is one and IPMON_ACCOUNTS is unset
    (so every dashboard process over one store sees one set of accounts); None: a SQLite file."""
    text = _text("IPMON_ACCOUNTS")
    if text:
        return text if postgres.is_url(text) else None
    return store_postgres_url()


def store_timeout() -> float:
    """IPMON_STORE_TIMEOUT: seconds to wait for another writer of the store; default 15."""
    return _number("IPMON_STORE_TIMEOUT", DEFAULT_STORE_TIMEOUT, positive=False)


def fixed_today() -> date | None:
    """IPMON_TODAY: the day the product takes as today (``2027-01-10``, or ``2027-01`` for its first
    day); None when unset (the system date, monitor/domain/clock.py)."""
    text = _text("IPMON_TODAY")
    if text is None:
        return None
    m = _TODAY_RE.match(text)
    try:
        if not m:
            raise ValueError(text)
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3) or 1))
    except ValueError:
        raise SettingError(f"环境变量 IPMON_TODAY 的值「{text}」不是日期；应写作 YYYY-MM-DD（例如 2027-01-10）"
                           f"或 YYYY-MM，不设则使用系统日期") from None


# --------------------------------------------------------------------------- accounts and access


def accounts_path() -> Path:
    """IPMON_ACCOUNTS: the SQLite accounts file (accounts, audit trail, mappings, subscriptions);
    default ``$XDG_CONFIG_HOME/ipmon/accounts.sqlite3`` (``~/.config`` when XDG_CONFIG_HOME is unset)."""
    text = _raw("IPMON_ACCOUNTS", None)
    if text:
        return Path(text).expanduser()
    base = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config")
    return base / "ipmon" / "accounts.sqlite3"


def accounts_timeout() -> float:
    """IPMON_ACCOUNTS_TIMEOUT: seconds to wait for another writer of the accounts file; default 15."""
    return _number("IPMON_ACCOUNTS_TIMEOUT", DEFAULT_ACCOUNTS_TIMEOUT, positive=False)


def anonymous_view() -> bool:
    """IPMON_ANONYMOUS_VIEW: whether visitors who are not logged in may see the read pages
    (on / off); default on."""
    setting = _switch("IPMON_ANONYMOUS_VIEW")
    return True if setting is None else setting


def session_idle_minutes() -> float:
    """IPMON_SESSION_IDLE_MINUTES: minutes without activity after which a login ends; default 30."""
    return _number("IPMON_SESSION_IDLE_MINUTES", DEFAULT_IDLE_MINUTES, positive=False)


def approval() -> bool | None:
    """IPMON_APPROVAL: True (on: uploads wait for a reviewer), False (off: published at once) or
    None (unset: decided by the store, monitor/store/approval.py ``approval_required``)."""
    text = (_text("IPMON_APPROVAL") or "").lower()
    if not text:
        return None
    if text in _ON | _OFF:
        return text in _ON
    raise SettingError(f"环境变量 IPMON_APPROVAL 的值「{text}」无效：请设为 on（上传须经审核后发布）或 off（上传即发布）")


# --------------------------------------------------------------------------- uploads


def max_upload_mb() -> float:
    """IPMON_MAX_UPLOAD_MB: the largest upload accepted, in MB (2**20 bytes); default 50."""
    return _number("IPMON_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB, positive=True)


def max_upload_rows() -> int | None:
    """IPMON_MAX_UPLOAD_ROWS: the most rows an uploaded sheet may have (a whole number, title and
    header included); None when unset (etl/readers.py ReadLimits: 200,000)."""
    text = _text("IPMON_MAX_UPLOAD_ROWS")
    if text is None:
        return None
    try:
        rows = int(text)
    except ValueError:
        rows = 0
    if rows < 1:
        raise SettingError(f"环境变量 IPMON_MAX_UPLOAD_ROWS=「{text}」无效：应为正整数")
    return rows


def parse_memory_mb() -> float:
    """IPMON_PARSE_MEMORY_MB: the memory the parse of one uploaded file may add, in MB; default 768."""
    return _number("IPMON_PARSE_MEMORY_MB", DEFAULT_PARSE_MEMORY_MB, positive=True)


def parse_seconds() -> float:
    """IPMON_PARSE_SECONDS: the wall time the parse of one uploaded file may take, in seconds; default 60."""
    return _number("IPMON_PARSE_SECONDS", DEFAULT_PARSE_SECONDS, positive=True)


# --------------------------------------------------------------------------- mail (etl notify)
# ``env``: a mapping read instead of os.environ (monitor/output/notify.py NotifySettings.from_env).


def smtp_host(env: Env | None = None) -> str | None:
    """IPMON_SMTP_HOST: the mail server; None when unset (nothing can be sent)."""
    return _text("IPMON_SMTP_HOST", env)


def smtp_security(env: Env | None = None) -> str:
    """IPMON_SMTP_SECURITY: ``starttls``, ``ssl`` or ``none``; default starttls."""
    security = (_text("IPMON_SMTP_SECURITY", env) or "starttls").lower()
    if security not in SMTP_SECURITY:
        raise NotifySettingError(f"环境变量 IPMON_SMTP_SECURITY 的值「{security}」无效，应为 starttls、ssl 或 none")
    return security


def smtp_port(env: Env | None = None) -> int | None:
    """IPMON_SMTP_PORT: the mail server's port; None when unset (the security's usual port:
    587 for starttls, 465 for ssl, 25 for none)."""
    text = _text("IPMON_SMTP_PORT", env)
    try:
        return int(text) if text else None
    except ValueError:
        raise NotifySettingError(f"环境变量 IPMON_SMTP_PORT 的值「{text}」无效，应为端口号（如 587）") from None


def smtp_user(env: Env | None = None) -> str | None:
    """IPMON_SMTP_USER: the login name at the mail server; None when unset (no login)."""
    return _text("IPMON_SMTP_USER", env)


def smtp_password(env: Env | None = None) -> str | None:
    """IPMON_SMTP_PASSWORD: the password at the mail server, as given (blanks kept); None when unset."""
    return _raw("IPMON_SMTP_PASSWORD", env) or None


def smtp_from(env: Env | None = None) -> str | None:
    """IPMON_SMTP_FROM: the sender's address; None when unset (nothing can be sent)."""
    return _text("IPMON_SMTP_FROM", env)


def smtp_cafile(env: Env | None = None) -> str | None:
    """IPMON_SMTP_CAFILE: a file of CA certificates to verify the mail server with; None when unset
    (the system's certificates). The file must exist."""
    cafile = _text("IPMON_SMTP_CAFILE", env)
    if cafile and not Path(cafile).is_file():
        raise NotifySettingError(f"环境变量 IPMON_SMTP_CAFILE 指向的证书文件 {cafile} 不存在")
    return cafile


def notify_timeout(env: Env | None = None) -> float:
    """IPMON_NOTIFY_TIMEOUT: seconds to wait for the mail server; default 20."""
    text = _text("IPMON_NOTIFY_TIMEOUT", env)
    try:
        return float(text) if text else DEFAULT_NOTIFY_TIMEOUT
    except ValueError:
        raise NotifySettingError(f"环境变量 IPMON_NOTIFY_TIMEOUT 的值「{text}」无效，应为秒数（如 20）") from None


def public_url(env: Env | None = None) -> str | None:
    """IPMON_PUBLIC_URL: the dashboard's address (http:// or https://, no trailing slash), for links
    in mail; None when unset (mail without links)."""
    url = _text("IPMON_PUBLIC_URL", env)
    if url and not url.startswith(("http://", "https://")):
        raise NotifySettingError(f"环境变量 IPMON_PUBLIC_URL 的值「{url}」应以 http:// 或 https:// 开头")
    return url.rstrip("/") if url else None


def briefings_dir(env: Env | None = None) -> Path:
    """IPMON_BRIEFINGS_DIR: where notify writes the briefings it sends as links; default data/briefings/."""
    text = _text("IPMON_BRIEFINGS_DIR", env)
    return Path(text).expanduser() if text else DEFAULT_BRIEFINGS_DIR
