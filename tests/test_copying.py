"""Moving from one machine to several: a DuckDB store (and the accounts file) copied into a new
PostgreSQL database (monitor/store/copying.py, ``python -m etl copy-to``)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import duckdb
import pandas as pd
import psycopg
import pytest

from monitor import postgres
from monitor.errors import StoreError
from monitor.store import writer
from monitor.store.copying import copy_store
from monitor.store.database import Store
from monitor.store.mirror import close_mirrors
from monitor.store.notes import ValueKey, add_note
from monitor.store.writer import BatchSource, Writer

ROOT = Path(__file__).resolve().parent.parent
CLERK = Writer.internal("测试员")


@pytest.fixture
def pg(postgres_url):
    yield postgres_url
    close_mirrors()
    postgres.close_pools()


def rows(*values: tuple[str, str, str, float]) -> pd.DataFrame:
    return pd.DataFrame([(r, i, m, v, "upload", None, None) for r, i, m, v in values],
                        columns=["region_code", "indicator_id", "month", "value", "origin", "source_url", "note"])


@pytest.fixture
def worked_file(copy_demo_store) -> Store:
    """The demo store after a month of work: an upload with its file, a correction of it, a
    rollback, a note."""
    store = Store(copy_demo_store("copying"))
    first = writer.commit(store, rows(("140500", "invention_patents", "2026-11", 700.0),
                                      ("140500", "trademarks", "2026-11", 13500.0)),
                          BatchSource("十一月.csv", "h1", data="地区,指标\n".encode()), by=CLERK,
                          at=datetime(2026, 12, 2), review=False)
    second = writer.commit(store, rows(("140500", "invention_patents", "2026-11", 701.0)),
                           BatchSource("更正.csv", "h2"), by=CLERK, at=datetime(2026, 12, 3), review=False)
    writer.rollback_batch(store, second, by=CLERK, at=datetime(2026, 12, 3))
    add_note(store, ValueKey("140500", "invention_patents", "2026-11"), "含补报", by=CLERK)
    assert first
    return store


def table_rows(query, tables: list[str]) -> dict[str, list[tuple]]:
    out = {}
    for table in tables:
        where = " WHERE key <> 'data_version'" if table == "store_meta" else ""
        out[table] = sorted((tuple(r) for r in query(f"SELECT * FROM {table}{where}")), key=repr)
    return out


def test_a_file_store_copied_to_postgresql_holds_every_row_of_every_table_and_goes_on_from_there(worked_file, pg):
    copied = copy_store(worked_file, Store(pg))
    with duckdb.connect(str(worked_file.path), read_only=True) as con:
        tables = [t for (t,) in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_type = 'BASE TABLE' AND table_name <> 'schema_version'")
                  .fetchall()]
        on_file = table_rows(lambda sql: con.execute(sql).fetchall(), tables)
    with psycopg.connect(pg) as con:
        on_postgres = table_rows(lambda sql: con.execute(sql).fetchall(), tables)
    assert {t: len(r) for t, r in on_postgres.items()} == {t: len(r) for t, r in on_file.items()}
    for table in tables:
        assert on_postgres[table] == on_file[table], table
    assert copied["observation_log"] == len(on_file["observation_log"]) > 65_000
    assert copied["upload_files"] == 1
    # the copy is a store: a commit there numbers its batch and log entries after the copied ones
    target = Store(pg)
    batch = writer.commit(target, rows(("140500", "trademarks", "2026-11", 13600.0)), BatchSource("再报.csv", "h3"),
                          by=CLERK, at=datetime(2026, 12, 4), review=False)
    assert batch == max(r[0] for r in on_file["load_batches"]) + 1
    seqs = target.query("SELECT seq FROM observation_log WHERE batch_id = ?", [batch])["seq"].tolist()
    assert seqs[0] > max(r[0] for r in on_file["observation_log"])
    assert target.query("SELECT value FROM observations WHERE region_code = '140500' AND month = '2026-11' "
                        "ORDER BY indicator_id")["value"].tolist() == [700.0, 13600.0]


def test_a_copy_into_a_database_that_holds_data_is_refused_and_changes_nothing(worked_file, pg):
    target = Store(pg)
    target.migrate()
    writer.commit(target, rows(("140500", "trademarks", "2026-11", 1.0)), BatchSource("a.csv", "a"), by=CLERK,
                  at=datetime(2026, 12, 4), review=False)
    before = target.query("SELECT * FROM observations").values.tolist()
    with pytest.raises(StoreError, match="已有数据（批次 1 个、历史记录 1 条、备注 0 条），未复制任何内容"):
        copy_store(worked_file, target)
    assert target.query("SELECT * FROM observations").values.tolist() == before
    assert target.query("SELECT count(*) AS n FROM load_batches")["n"].tolist() == [1]


def test_the_command_copies_the_store_and_the_accounts_and_the_dashboard_reads_them_there(worked_file, pg,
                                                                                          accounts_template, tmp_path):
    from monitor.accounts.users import AccountStore

    accounts = tmp_path / "accounts.sqlite3"
    accounts.write_bytes(accounts_template.read_bytes())
    env = {**os.environ, "PYTHONPATH": str(ROOT), "IPMON_ACCOUNTS": str(accounts)}
    env.pop("IPMON_DB", None)
    done = subprocess.run([sys.executable, "-m", "etl", "--db", str(worked_file.path), "copy-to", pg], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    assert "observation_log：" in done.stdout and "已复制到该库的 accounts 模式：accounts 4 行" in done.stdout
    assert f"此后以 IPMON_DB={pg} 启动看板" in done.stdout
    assert sorted(a.username for a in AccountStore(pg).list()) == sorted(a.username for a in AccountStore(accounts).list())
    # the same command again: the database holds data now, nothing is copied twice
    again = subprocess.run([sys.executable, "-m", "etl", "--db", str(worked_file.path), "copy-to", pg], cwd=ROOT,
                           capture_output=True, text=True, timeout=300, env=env)
    assert again.returncode == 1 and "已有数据" in again.stderr
