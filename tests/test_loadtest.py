"""A short run of the load test (devtools/loadtest.py): two browser sessions through nginx while
the command line commits two uploads and rolls one back; no page shows an error and the store
ends with exactly the expected values. Its timings are the load test's, never asserted here."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from devtools.loadtest import check_store, read, run_round

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("engine", ["duckdb", "postgresql"])
def test_a_short_load_through_nginx_shows_no_error_and_leaves_exactly_the_expected_values(engine, request, tmp_path):
    if engine == "duckdb":
        store, accounts = request.getfixturevalue("copy_demo_store")("loadtest"), None
    else:  # the deployment docs/deploy/ describes: the store, the accounts and the audit in one database
        store = accounts = request.getfixturevalue("copy_demo_postgres")("loadtest")
    # a thread of its own: the browser tests before this one leave pytest-playwright's loop running here
    with ThreadPoolExecutor(1) as pool:
        result = pool.submit(asyncio.run, run_round(store, 1, sessions=2, views=2, uploads=2, folder=tmp_path,
                                                    accounts=accounts)).result()
    assert result.errors == []
    assert (result.uploads, result.rollbacks, len(result.views)) == (2, 1, 4)
    assert result.store_problems == []


def test_the_store_check_names_a_value_other_than_the_expected_one_and_passes_the_first_state(copy_demo_store):
    store = copy_demo_store("loadtest_check")
    first = read(store, "SELECT region_code, indicator_id, month, value FROM observations")
    kept = first.iloc[0]
    key = (kept.region_code, kept.indicator_id, kept.month)
    problems = check_store(store, first, {key: kept.value + 1})
    assert problems[0].startswith("missing (") and "unexpected (" in problems[1]
    assert problems[-1] == "1 missing, 1 unexpected in all"
    assert check_store(store, first, {}) == []
