"""SQL that runs: execution match in an in-memory SQLite, exact match after sqlglot
normalisation, and the counts of queries that do not parse, fail or hang."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from core.evaluation.sql import (
    extract_query,
    extract_schema,
    normalize,
    open_scratch_database,
    score_sql,
    summarize,
)

SYSTEM = (
    "You write SQL for the tables below. Answer with one SQL query only.\n\n"
    "CREATE TABLE head (name VARCHAR, born_state VARCHAR, age INTEGER)"
)
SCHEMA = extract_schema([SYSTEM])
REFERENCE = "SELECT name FROM head WHERE born_state = 'California' AND age > 56"


class TickingClock:
    """Each reading is 0.05 s later: a query that never ends passes any limit, with no wait."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 0.05
        return self.t


def test_schema_and_query_extraction() -> None:
    assert SCHEMA == ["CREATE TABLE head (name VARCHAR, born_state VARCHAR, age INTEGER)"]
    two = extract_schema(["CREATE TABLE a (x INT); CREATE TABLE b (y TEXT)", "no sql here"])
    assert two == ["CREATE TABLE a (x INT)", "CREATE TABLE b (y TEXT)"]
    assert extract_query("```sql\nSELECT 1;\n```") == "SELECT 1"
    assert extract_query("Here is the query: SELECT a FROM t;") == "SELECT a FROM t"
    assert normalize("select  Name from HEAD where age>56;") == normalize(
        "SELECT name FROM head WHERE age > 56"
    )
    assert normalize("hello world") is None  # an expression, not a query
    assert normalize("SELECT FROM WHERE") is None


def test_execution_match_and_exact_match() -> None:
    spelled = "select name from HEAD where born_state = 'California' and age>56;"
    same = score_sql(SCHEMA, REFERENCE, spelled)
    assert same.status == "match" and same.exact
    # Another spelling of the same query: the same rows, not the same text.
    swapped = "SELECT name FROM head WHERE age > 56 AND born_state = 'California'"
    outcome = score_sql(SCHEMA, REFERENCE, swapped)
    assert outcome.execution_match and not outcome.exact
    # Dropping a condition returns more rows (the made-up rows use the reference's literals).
    looser = score_sql(SCHEMA, REFERENCE, "SELECT name FROM head WHERE age > 56")
    assert looser.status == "mismatch"


def test_result_sets_compare_as_multisets_unless_the_reference_sorts() -> None:
    schema = ["CREATE TABLE t (a INTEGER)", "INSERT INTO t VALUES (3), (1), (2), (2)"]
    assert score_sql(schema, "SELECT a FROM t", "SELECT a FROM t ORDER BY a DESC").execution_match
    # Duplicates count: DISTINCT drops one of the 2s.
    assert score_sql(schema, "SELECT a FROM t", "SELECT DISTINCT a FROM t").status == "mismatch"
    ordered = "SELECT a FROM t ORDER BY a"
    assert score_sql(schema, ordered, "SELECT a FROM t ORDER BY a").execution_match
    assert score_sql(schema, ordered, "SELECT a FROM t ORDER BY a DESC").status == "mismatch"


def test_what_does_not_parse_fails_or_cannot_be_judged() -> None:
    assert score_sql(SCHEMA, REFERENCE, "I do not know.").status == "no-parse"
    failed = score_sql(SCHEMA, REFERENCE, "SELECT nme FROM head")
    assert failed.status == "error" and "no such column" in failed.detail
    broken_reference = score_sql(SCHEMA, "SELECT city FROM head", "SELECT name FROM head")
    assert broken_reference.status == "reference-error"
    summary = summarize(
        [
            score_sql(SCHEMA, REFERENCE, REFERENCE),
            score_sql(SCHEMA, REFERENCE, "nonsense"),
            failed,
            broken_reference,
        ]
    )
    assert summary.to_json() == {
        "scored": 4,
        "execution_match": 1,
        "execution_match_rate": 1 / 3,
        "exact_match": 1,
        "does_not_parse": 1,
        "runs_with_an_error": 1,
        "timed_out": 0,
        "reference_errors": 1,
    }


def test_a_query_that_hangs_sqlite_is_stopped_at_the_time_limit() -> None:
    endless = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"
    )
    clock = TickingClock()
    outcome = score_sql(SCHEMA, REFERENCE, endless, time_limit=1.0, clock=clock)
    assert outcome.status == "timeout"
    assert "1 s" in outcome.detail
    # It was stopped by the limit, a few progress checks after it passed, not run for long.
    assert clock.t < 5.0


def test_no_file_is_ever_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    target = folder / "stolen.db"
    for query in (f"ATTACH DATABASE '{target}' AS x", f"VACUUM INTO '{target}'"):
        assert not score_sql(SCHEMA, REFERENCE, query).execution_match
        # Had it reached SQLite, the scratch database could not attach a file either.
        with pytest.raises(sqlite3.OperationalError, match="attached"):
            open_scratch_database().execute(query)
    outcome = score_sql(SCHEMA, REFERENCE, "SELECT 1; DELETE FROM head")
    assert outcome.status == "no-parse"
    assert list(folder.iterdir()) == []


def test_the_read_only_authorizer_refuses_writes() -> None:
    from core.evaluation import sql

    connection = sqlite3.connect(":memory:")
    connection.execute("CREATE TABLE t (a)")
    connection.set_authorizer(sql._read_only)
    with pytest.raises(sqlite3.DatabaseError):
        connection.execute("INSERT INTO t VALUES (1)")
    assert connection.execute("SELECT count(*) FROM t").fetchone() == (0,)
