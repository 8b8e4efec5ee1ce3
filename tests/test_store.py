"""The DuckDB store: schema, transactions, data_version, a second process holding the file, and the
reference tables mirrored from the config and registries. Every test uses its own file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest

from monitor.domain.config import load_config
from monitor.errors import StoreBusyError, StoreError
from monitor.store.database import SCHEMA_VERSION, Store, _migrations, default_store_path

HERE = Path(__file__).parent
MINIMAL = HERE / "data" / "config_minimal.yaml"

TABLES = {"schema_version", "regions", "population", "indicators", "target_sets", "targets", "load_batches",
          "observations", "milestone_updates", "observation_log", "upload_files", "store_meta",
          "audit_outbox", "observation_confirmations", "value_notes", "reporting_calendar", "observation_corrections",
          "official_observations"}  # a view (schema 7, approval before publish)


def table_names(store: Store) -> set[str]:
    return set(store.query("SELECT table_name FROM information_schema.tables")["table_name"])


def add_observation(con, value: float = 1.0, month: str = "2024-01") -> None:
    con.execute("INSERT INTO observations VALUES ('140500', 'invention_patents', ?, ?, 'upload', 1, NULL, NULL)",
                [month, value])


# --------------------------------------------------------------------------- schema


def test_migrate_creates_every_table_in_a_new_file(tmp_path):
    store = Store(tmp_path / "sub" / "new.duckdb")
    assert store.migrate() == SCHEMA_VERSION
    assert store.path.is_file()
    assert table_names(store) == TABLES
    assert store.data_version() == 0
    assert store.observation_count() == 0


def test_migrate_twice_changes_nothing(store):
    with store.transaction() as con:
        add_observation(con)
    assert store.migrate() == SCHEMA_VERSION
    assert store.query("SELECT version FROM schema_version ORDER BY 1")["version"].tolist() == [v for v, _ in _migrations()]
    assert store.observation_count() == 1
    assert store.data_version() == 1


@pytest.mark.duckdb_only
def test_a_migration_numbered_below_the_highest_applied_is_still_applied(store):
    # parallel branches number their migrations apart (004, 005, 006): a store that met 005
    # first must still get 004 when it arrives
    # (003 rebuilds two tables with the same columns, so it can run again on this store)
    with store.connect() as con:
        con.execute("DELETE FROM schema_version WHERE version = 3")
    assert store.migrate() == SCHEMA_VERSION
    assert 3 in store.query("SELECT version FROM schema_version")["version"].tolist()


def test_the_store_path_comes_from_ipmon_db_when_set(monkeypatch, tmp_path):
    monkeypatch.setenv("IPMON_DB", str(tmp_path / "elsewhere.duckdb"))
    assert default_store_path() == tmp_path / "elsewhere.duckdb"
    assert Store().path == tmp_path / "elsewhere.duckdb"


def test_a_file_that_is_not_a_database_is_a_store_error_naming_it(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_text("这不是数据库\n" * 100, encoding="utf-8")
    with pytest.raises(StoreError, match="无法打开数据库") as caught:
        Store(path).migrate()
    assert str(path) in str(caught.value)
    assert not isinstance(caught.value, StoreBusyError)


# --------------------------------------------------------------------------- transactions


def test_every_committed_transaction_bumps_data_version_once(store):
    for expected in (1, 2, 3):
        with store.transaction() as con:
            add_observation(con, month=f"2024-0{expected}")
        assert store.data_version() == expected
    assert store.observation_count() == 3


def test_an_exception_inside_a_transaction_leaves_the_store_unchanged(store):
    with store.transaction() as con:
        add_observation(con, 5.0)
    before = store.query("SELECT * FROM observations")

    with pytest.raises(ZeroDivisionError), store.transaction() as con:
        con.execute("UPDATE observations SET value = 99")
        add_observation(con, 7.0, month="2024-02")
        1 / 0  # noqa: B018 - the failure being tested

    assert store.query("SELECT * FROM observations").equals(before)
    assert store.data_version() == 1  # the rolled-back transaction did not count


def test_a_failed_statement_rolls_back_the_statements_before_it(store):
    with pytest.raises((duckdb.ConstraintException, psycopg.errors.NotNullViolation), match="(?i)NOT NULL|not-null"), \
            store.transaction() as con:
        add_observation(con)
        add_observation(con, month=None)  # a value without a month: NOT NULL violation
    assert store.observation_count() == 0
    assert store.data_version() == 0


# --------------------------------------------------------------------------- another process


HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.readline()  # hold the file until the test says so
con.close()
"""


@pytest.mark.duckdb_only
def test_a_file_held_by_another_process_is_busy_until_that_process_lets_go(store):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"  # the other process has the file open

        busy = Store(store.path, timeout=0.5)
        with pytest.raises(StoreBusyError) as caught, busy.connect():
            pass
        message = str(caught.value)
        assert f"数据库 {store.path.name} 正被另一个程序写入" in message
        assert "等待 0.5 秒后仍未释放" in message
        assert "请稍后重试" in message

        holder.stdin.close()  # let go
        assert holder.wait(timeout=30) == 0
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()

    with busy.connect() as con:
        assert con.execute("SELECT value FROM store_meta WHERE key = 'data_version'").fetchone() == ("0",)


# --------------------------------------------------------------------------- reference data


@pytest.fixture
def reference(config, regions, population):
    return config, regions, population


def test_sync_reference_mirrors_config_regions_and_population(store, reference):
    config, regions, population = reference
    store.sync_reference(config, regions, population)

    def count(table: str) -> int:
        return int(store.query(f"SELECT count(*) AS n FROM {table}")["n"].iloc[0])

    assert count("regions") == len(regions)
    assert count("population") == len(population.frame())
    assert count("indicators") == len(config.indicators)
    assert count("target_sets") == len(config.target_sets)
    assert count("targets") == sum(len(s.targets) for s in config.target_sets)
    assert store.data_version() == 1

    jincheng = store.query("SELECT name, short_name, level, parent FROM regions WHERE code = '140500'")
    assert jincheng.iloc[0].tolist() == ["晋城市", "晋城", "city", "140000"]
    yangling = store.query("SELECT population, basis FROM population WHERE region_code = '619900' AND year = 2020")
    assert yangling.iloc[0].tolist() == [253871, "七普常住人口"]  # borrowed from 杨陵区 610403
    target = store.query("SELECT target_set, type, indicator, region, value, deadline, definition FROM targets "
                         "WHERE id = 'jc_invention_patents'").iloc[0]
    assert target[:6].tolist() == ["jincheng_2025", "at_least", "invention_patents", "140500", 700.0, "2025-12"]
    assert json.loads(target["definition"])["clause"] == "到 2025 年，全市有效发明专利拥有量达到 700 件"


def test_sync_reference_replaces_what_the_config_no_longer_has(store, reference):
    config, regions, population = reference
    store.sync_reference(config, regions, population)
    store.sync_reference(load_config(MINIMAL, regions=regions), regions, population)
    assert store.query("SELECT id FROM indicators ORDER BY id")["id"].tolist() == [
        "invention_patents", "invention_patents_per_10k"]
    assert store.query("SELECT id FROM targets ORDER BY id")["id"].tolist() == [
        "jc_invention_patents", "jc_task_funding"]
    assert int(store.query("SELECT count(*) AS n FROM regions")["n"].iloc[0]) == len(regions)  # not doubled
    assert store.data_version() == 2
