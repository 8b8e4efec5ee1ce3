"""Fixtures shared by the tests: the real config and registries, and a fresh store per test.

Every store lives under the test's own tmp_path; nothing touches data/monitor.duckdb.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.config import Config, load_config
from monitor.population import Population, load_population
from monitor.regions import RegionRegistry, load_regions
from monitor.store import Store

CONFIG = Path(__file__).parent.parent / "indicators.yaml"


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
def migrated_store_file(tmp_path_factory) -> Path:
    """An empty, migrated store file, made once and copied for each test that needs a store."""
    path = tmp_path_factory.mktemp("template") / "monitor.duckdb"
    Store(path).migrate()
    return path


@pytest.fixture
def store(migrated_store_file, tmp_path) -> Store:
    path = tmp_path / "monitor.duckdb"
    shutil.copyfile(migrated_store_file, path)
    return Store(path)


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
