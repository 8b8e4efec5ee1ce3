"""Fixtures shared by the tests: the real config and registries, a small config and registry for
tests where the whole of them is not the point, and a fresh store per test.

Every store lives under the test's own tmp_path; nothing touches data/monitor.duckdb.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pytest

from monitor.domain.config import Config, load_config
from monitor.domain.population import Population, load_population
from monitor.domain.regions import RegionRegistry, load_regions
from monitor.store.database import Store

CONFIG = Path(__file__).parent.parent / "indicators.yaml"
SMALL = Path(__file__).parent / "data" / "small"

# "Today" is an input of the product (monitor.domain.clock). The suite runs on a fixed day just after the
# demo's end unless the caller sets another (scripts/test.sh also runs the page tests on a day well
# after the demo and on one in January), so no test depends on the calendar. Set before any test
# imports the product; served apps inherit it.
os.environ.setdefault("IPMON_TODAY", "2026-11-25")
# Approval before publish (monitor/store/approval.py) is on by default outside the demo. The suite tests
# publishing on its own: an upload is live at once unless a test turns approval on (the approval
# tests do, and test the default with the variable removed). Served apps inherit it.
os.environ.setdefault("IPMON_APPROVAL", "off")


@pytest.fixture(scope="session")
def regions() -> RegionRegistry:
    return load_regions()


@pytest.fixture(scope="session")
def population() -> Population:
    return load_population()


@pytest.fixture(scope="session")
def config(regions) -> Config:
    return load_config(CONFIG, regions=regions)


@pytest.fixture(scope="session")
def small_regions() -> RegionRegistry:
    """A registry of 山西省 with two cities (太原市, 晋城市) and five counties (tests/data/small/
    divisions), plus the special regions every registry has (全国, 山西综改示范区, 杨凌示范区, and
    陕西省 as the latter's parent): real codes and names, so the real population figures apply."""
    return load_regions(SMALL)


@pytest.fixture(scope="session")
def small_config(small_regions) -> Config:
    """Eleven indicators (every kind) and two target sets (jincheng_2025, shanxi_14th_plan) with a few targets each,
    copied from indicators.yaml (tests/data/small/indicators.yaml)."""
    return load_config(SMALL / "indicators.yaml", regions=small_regions)


@pytest.fixture(scope="session")
def migrated_store_file(tmp_path_factory) -> Path:
    """An empty, migrated store file, made once and copied for each test that needs a store."""
    path = tmp_path_factory.mktemp("template") / "monitor.duckdb"
    Store(path).migrate()
    return path


# These modules' tests of a ``store`` run twice: on a DuckDB file and on PostgreSQL (a new database
# of the session's cluster, docs/decisions.md D19). A test about the file itself (its lock, its
# path) is marked ``duckdb_only``.
BOTH_BACKENDS = {"test_store", "test_loader", "test_history", "test_writer", "test_approval", "test_corrections",
                 "test_notes"}


def pytest_configure(config) -> None:
    config.addinivalue_line("markers", "duckdb_only: a test of the DuckDB store file itself (not run on PostgreSQL)")


def pytest_generate_tests(metafunc) -> None:
    if ("store" in metafunc.fixturenames and metafunc.module.__name__.rsplit(".", 1)[-1] in BOTH_BACKENDS
            and metafunc.definition.get_closest_marker("duckdb_only") is None):
        metafunc.parametrize("backend", ["duckdb", "postgresql"], indirect=True)


@pytest.fixture
def backend(request) -> str:
    """Which engine the ``store`` fixture is: duckdb (the default) or postgresql."""
    return getattr(request, "param", "duckdb")


@pytest.fixture
def store(migrated_store_file, tmp_path, backend, request) -> Iterator[Store]:
    if backend == "postgresql":
        url = request.getfixturevalue("postgres_url")
        found = Store(url)
        found.migrate()
        yield found
        close_postgres()
        return
    path = tmp_path / "monitor.duckdb"
    shutil.copyfile(migrated_store_file, path)
    yield Store(path)


def close_postgres() -> None:
    """Close this process's connections and read mirrors (each test has its own database)."""
    from monitor import postgres
    from monitor.store.mirror import close_mirrors

    close_mirrors()
    postgres.close_pools()


# --------------------------------------------------------------------------- the dashboard's store
# The page tests (AppTest, in this process) and the browser tests (a served app, another process)
# read a store with the demo data. Building one takes ~6 s, so it is built once per run; a test
# that writes, or another process, gets its own copy (DuckDB: one process per file).

DEMO_END = "2026-10"


@pytest.fixture(scope="session")
def demo_store_file(tmp_path_factory) -> Path:
    """A store holding the demo data up to 2026-10, built once for the whole run."""
    from monitor.context import load_demo_data, open_context

    path = tmp_path_factory.mktemp("demo_store") / "monitor.duckdb"
    load_demo_data(open_context(store_path=path), end=DEMO_END)
    return path


@pytest.fixture(scope="session")
def copy_demo_store(demo_store_file, tmp_path_factory) -> Callable[[str], Path]:
    """copy_demo_store("name") -> a fresh copy of the demo store in its own directory."""

    def copy(name: str) -> Path:
        target = tmp_path_factory.mktemp(name) / demo_store_file.name
        for source in (demo_store_file, demo_store_file.with_name(demo_store_file.name + ".wal")):
            if source.exists():
                shutil.copyfile(source, target.with_name(source.name))
        return target

    return copy


@pytest.fixture(scope="session")
def dashboard_store(demo_store_file) -> Iterator[Path]:
    """IPMON_DB points at the shared demo store from first use to the end of the run."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPMON_DB", str(demo_store_file))
        yield demo_store_file


@pytest.fixture
def fresh_streamlit_caches() -> Iterator[None]:
    """Empty Streamlit's caches around a test: get_context() is cached per process and would keep
    the store (and the cached evaluations) of whichever test ran first."""
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


# --------------------------------------------------------------------------- accounts
# No test may touch the real accounts file (~/.config/ipmon/accounts.sqlite3): the whole run uses
# one under its own tmp directory, and tests that look at accounts get a fresh one each.

TEST_PASSWORD = "Kj8#mQ2-wLz9-测试口令"


@pytest.fixture(scope="session", autouse=True)
def _accounts_outside_home(tmp_path_factory) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("IPMON_ACCOUNTS", str(tmp_path_factory.mktemp("accounts") / "accounts.sqlite3"))
        patch.delenv("IPMON_ANONYMOUS_VIEW", raising=False)
        patch.delenv("IPMON_SESSION_IDLE_MINUTES", raising=False)
        yield


@pytest.fixture(scope="session")
def accounts_template(tmp_path_factory) -> Path:
    """Four accounts, hashed once per run (argon2 is slow on purpose), all with TEST_PASSWORD:
    admin, viewer, clerk (uploader, every region) and jc-clerk (uploader limited to 晋城市 140500)."""
    from monitor.accounts.users import AccountStore

    path = tmp_path_factory.mktemp("accounts_template") / "accounts.sqlite3"
    store = AccountStore(path)
    store.add("admin", TEST_PASSWORD, "admin", actor="test")
    store.add("viewer", TEST_PASSWORD, "viewer", actor="test")
    store.add("clerk", TEST_PASSWORD, "uploader", actor="test")
    store.add("jc-clerk", TEST_PASSWORD, "uploader", scope=("140500",), display_name="晋城市局数据员", actor="test")
    return path


def everything_stored(where: Path | str) -> bytes:
    """Every byte the accounts keep: the SQLite file, or every row of every table of their PostgreSQL schema."""
    if isinstance(where, Path):
        return where.read_bytes()
    from monitor.accounts.access import connect

    with connect(where, write=False) as con:
        tables = [r[0] for r in con.execute("SELECT table_name FROM information_schema.tables "
                                            "WHERE table_schema = 'accounts'").fetchall()]
        assert "accounts" in tables and "audit" in tables
        return repr([con.execute(f"SELECT * FROM {t}").fetchall() for t in tables]).encode()


@pytest.fixture
def accounts_backend() -> str:
    """Where a test's accounts live: a SQLite file. A module whose tests must hold on both engines
    overrides this with ``@pytest.fixture(params=("sqlite", "postgresql"))``."""
    return "sqlite"


@pytest.fixture
def accounts_location(accounts_backend, tmp_path, request) -> Iterator[Path | str]:
    """A fresh, empty home for accounts: a SQLite file under tmp_path, or a new PostgreSQL database
    (the accounts in its schema ``accounts``, monitor/accounts/access.py)."""
    if accounts_backend == "sqlite":
        yield tmp_path / "accounts.sqlite3"
        return
    assert accounts_backend == "postgresql", accounts_backend
    yield request.getfixturevalue("postgres_url")
    from monitor import postgres

    postgres.close_pools()  # a database per test: its pool closes with it


@pytest.fixture
def accounts(accounts_template, accounts_location, monkeypatch):
    """A fresh copy of the four test accounts for this test (a file, or a PostgreSQL database when the
    module tests both, see accounts_backend); IPMON_ACCOUNTS points at it."""
    from monitor.accounts.access import ACCOUNTS_SCHEMA, copy_accounts
    from monitor.accounts.users import AccountStore

    if isinstance(accounts_location, Path):
        shutil.copyfile(accounts_template, accounts_location)
    else:
        copy_accounts(accounts_template, accounts_location, (ACCOUNTS_SCHEMA,))
    monkeypatch.setenv("IPMON_ACCOUNTS", str(accounts_location))
    return AccountStore(accounts_location)


# --------------------------------------------------------------------------- a served dashboard
# The browser tests (*_browser.py, helpers in browsing.py) drive Debian's chromium against the
# dashboard served by its own process (devtools/serving.py), on its own copy of a store: DuckDB
# lets only one process open a file, and the in-process page tests use the shared one.


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args) -> dict:
    """pytest-playwright's launch arguments, with Debian's chromium (never a downloaded one)."""
    from devtools.serving import CHROMIUM, CHROMIUM_ARGS

    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def copy_accounts(accounts_template, tmp_path_factory) -> Callable[..., Path]:
    """copy_accounts("name") -> a fresh copy of the four test accounts, for a served dashboard
    whose visitors log in (the served app writes its audit there); ``jincheng_reviewer=True`` adds
    晋城's reviewer, jc-reviewer (the approval, notes and reporting-cycle walks)."""

    def copy(name: str, *, jincheng_reviewer: bool = False) -> Path:
        path = tmp_path_factory.mktemp(f"{name}_accounts") / "accounts.sqlite3"
        shutil.copyfile(accounts_template, path)
        if jincheng_reviewer:
            from monitor.accounts.users import AccountStore

            AccountStore(path).add("jc-reviewer", TEST_PASSWORD, "reviewer", scope=("140500",),
                                   display_name="晋城市局审核员", actor="test")
        return path

    return copy


@pytest.fixture(scope="session")
def serve_dashboard(tmp_path_factory) -> Callable[..., AbstractContextManager[str]]:
    """serve_dashboard(store, "name", accounts=None, env=None) -> a context manager: the dashboard
    served on ``store`` (and ``accounts``, else the run's own), yielding its URL; its log is kept
    in a folder of the run named after ``name``."""
    from devtools.serving import serve

    def start(store: Path, name: str, accounts: Path | None = None,
              env: dict[str, str] | None = None) -> AbstractContextManager[str]:
        return serve(store, tmp_path_factory.mktemp(f"{name}_streamlit") / "streamlit.log", accounts, env=env)

    return start


@pytest.fixture(scope="session")
def dashboard_url(copy_demo_store, serve_dashboard) -> Iterator[str]:
    """The dashboard served on its own copy of the demo store, for the whole run (no logins)."""
    with serve_dashboard(copy_demo_store("served_store"), "served") as url:
        yield url


@pytest.fixture
def smtp():
    """A local SMTP server (aiosmtpd) on a free port; its ``Inbox`` keeps every message accepted."""
    from aiosmtpd.controller import Controller
    from mailroom import Inbox

    from devtools.serving import free_port

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


@pytest.fixture
def receiver():
    """A local HTTP server standing in for a chat group's robot (mailroom.Receiver)."""
    from mailroom import Receiver

    r = Receiver()
    yield r
    r.server.shutdown()
    r.server.server_close()


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[Callable[..., str]]:
    """Makes a new PostgreSQL database per call, by name (empty, or a copy of the database named
    ``template``), and returns its URL: on the server
    in IPMON_TEST_POSTGRES (a postgresql:// URL of a user who may CREATE DATABASE) when one is given,
    else on a throw-away cluster this session starts on 127.0.0.1 (devtools/postgres.py)."""
    from devtools.postgres import Cluster, create_database, temporary_cluster
    from monitor import settings

    given = settings.test_postgres_url()
    counter = iter(range(1_000_000))

    def maker(server_url: str) -> Callable[..., str]:
        def create(name: str, template: str | None = None) -> str:
            return create_database(server_url, f"t{next(counter)}_{name}"[:60], template, replace=True)
        return create

    if given:
        yield maker(given)
        return
    with temporary_cluster() as cluster:
        assert isinstance(cluster, Cluster)
        yield maker(cluster.url())


@pytest.fixture(scope="session")
def copy_demo_postgres(postgres_cluster) -> Callable[[str], str]:
    """copy_demo_postgres("name") -> the URL of a new PostgreSQL store holding the demo data up to
    DEMO_END (the PostgreSQL twin of copy_demo_store): loaded once, then copied as a template."""
    from monitor import postgres
    from monitor.context import load_demo_data, open_context

    template = postgres_cluster("demo_template")
    load_demo_data(open_context(store_path=template), end=DEMO_END)
    postgres.close_pools()  # PostgreSQL copies a template nobody is connected to
    template_name = template.rsplit("/", 1)[1]

    def copy(name: str) -> str:
        return postgres_cluster(name, template_name)

    return copy


@pytest.fixture
def postgres_url(postgres_cluster, request) -> str:
    """A new empty PostgreSQL database for this test (see postgres_cluster)."""
    name = "".join(c if c.isalnum() else "_" for c in request.node.name.lower())
    return postgres_cluster(name)
