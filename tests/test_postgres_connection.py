"""monitor/postgres.py: ? placeholders and DuckDB-like results on a real PostgreSQL server."""

from monitor import postgres


def test_question_marks_outside_quotes_become_placeholders_and_percent_signs_stay_literal():
    assert postgres.qmark("SELECT ? WHERE a LIKE '%?%' AND b = ?") == "SELECT %s WHERE a LIKE '%%?%%' AND b = %s"


def test_a_pooled_connection_answers_like_a_duckdb_result(postgres_url):
    with postgres.connect(postgres_url) as con:
        con.execute("CREATE TABLE t (a INTEGER, b TEXT)")
        con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "一"), (2, "100%")])
        assert con.execute("SELECT b FROM t WHERE a = ?", [2]).fetchone() == ("100%",)
        assert con.execute("SELECT count(*) FROM t WHERE b LIKE '%%'").fetchall() == [(2,)]
        frame = con.execute("SELECT a, b FROM t WHERE b <> ? ORDER BY a", ["x"]).df()
        assert frame.to_dict("list") == {"a": [1, 2], "b": ["一", "100%"]}
    postgres.close_pools()


def test_a_failed_transaction_leaves_nothing_behind(postgres_url):
    with postgres.connect(postgres_url) as con:
        con.execute("CREATE TABLE t (a INTEGER)")
        try:
            with con.transaction():
                con.execute("INSERT INTO t VALUES (?)", [1])
                raise RuntimeError("stop")
        except RuntimeError:
            pass
        assert con.execute("SELECT count(*) FROM t").fetchone() == (0,)
    postgres.close_pools()


def test_only_postgresql_urls_name_a_server():
    assert postgres.is_url("postgresql://ipmon@127.0.0.1:5432/ipmon")
    assert postgres.is_url("postgres://h/db")
    assert not postgres.is_url("data/monitor.duckdb")
