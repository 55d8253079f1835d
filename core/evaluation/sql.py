"""SQL that runs: a generated query scored by what it returns, not only by how it reads.

For a record with a schema (the text-to-SQL preset puts `CREATE TABLE ...` in the system
prompt), the schema is created in a fresh in-memory SQLite database, a few rows are filled in
(deterministically, from the reference query's own literals so that its WHERE clauses find
something: sql-create-context gives schemas without rows, on which every query returns nothing
and "same result" would mean nothing), and both the reference and the generated query run:

* execution match: the same result set, compared as a multiset of rows, or in order when the
  reference query sorts (a top-level ORDER BY);
* exact match after normalisation: both queries parsed and printed back by sqlglot (identifiers
  lower-cased, spacing, quoting and keyword case made uniform);
* "does not parse" (sqlglot cannot read it as a query), "runs with an error" (SQLite refuses
  it), and "timed out" (over the time limit: a progress handler interrupts it).

Nothing but a `:memory:` database is ever opened: ATTACH (and so `VACUUM INTO`, which writes a
file) is disabled by a zero attach limit, and while the queries run an authorizer allows only
reading. No network, no user database.
"""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

DEFAULT_TIME_LIMIT = 2.0
"""Seconds one query may run before it is interrupted."""
ROWS_PER_TABLE = 12
_PROGRESS_EVERY = 1000
"""SQLite virtual-machine instructions between two checks of the time limit."""

Status = Literal["match", "mismatch", "no-parse", "error", "timeout", "reference-error"]

_FENCE = re.compile(r"```(?:sql|sqlite)?\s*\n?(.*?)```", re.IGNORECASE | re.DOTALL)
_QUERY_START = re.compile(r"\b(SELECT|WITH)\b", re.IGNORECASE)
_CREATE = re.compile(r"\bCREATE\s+TABLE\b.*?(?:;|(?=\bCREATE\s+TABLE\b)|\Z)", re.I | re.S)
_INSERT = re.compile(r"\bINSERT\s+INTO\b.*?(?:;|(?=\bINSERT\s+INTO\b)|\Z)", re.I | re.S)
_FILLER_TEXT = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta")


@dataclass(frozen=True)
class SqlOutcome:
    """How one generated query fared against the reference."""

    status: Status
    exact: bool
    """Equal to the reference after sqlglot normalisation."""
    detail: str = ""
    """The parse or SQLite error, or why the reference could not run."""

    @property
    def execution_match(self) -> bool:
        """The same result set as the reference."""
        return self.status == "match"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "status": self.status,
            "execution_match": self.execution_match,
            "exact_match": self.exact,
            "detail": self.detail,
        }


def extract_query(answer: str) -> str:
    """The SQL in a model's answer: the first fenced code block, else the text from the first
    SELECT or WITH on (models often say "Here is the query:" first); a trailing `;` dropped."""
    fenced = _FENCE.search(answer)
    text = fenced.group(1) if fenced else answer
    if not fenced:
        start = _QUERY_START.search(text)
        if start:
            text = text[start.start() :]
    return text.strip().rstrip(";").strip()


def extract_schema(texts: Iterable[str]) -> list[str]:
    """The `CREATE TABLE` and `INSERT INTO` statements in a record's texts, in order."""
    statements: list[str] = []
    for text in texts:
        for pattern in (_CREATE, _INSERT):
            statements += [m.group(0).strip().rstrip(";") for m in pattern.finditer(text)]
    return statements


def _parse(query: str) -> Any:
    """sqlglot's tree of `query` when it is one SQL query; None when it is not."""
    import logging

    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    if not query.strip():
        return None
    # sqlglot logs a warning for every statement it only half understands; model answers are
    # full of those, and the outcome already says "does not parse".
    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    try:
        trees = [t for t in sqlglot.parse(query, read="sqlite") if t is not None]
    except SqlglotError:
        return None
    if len(trees) != 1 or not isinstance(trees[0], exp.Query):
        return None
    return trees[0]


def normalize(query: str) -> str | None:
    """`query` printed back by sqlglot in one canonical form; None when it does not parse as
    one SQL query."""
    tree = _parse(query)
    return None if tree is None else str(tree.sql(dialect="sqlite", normalize=True))


def _orders(tree: Any) -> bool:
    """Whether the query's outermost result is sorted."""
    return tree.args.get("order") is not None


def _literals(tree: Any) -> tuple[list[str], list[float]]:
    from sqlglot import exp

    texts: list[str] = []
    numbers: list[float] = []
    for literal in tree.find_all(exp.Literal):
        if literal.is_string:
            texts.append(str(literal.this))
        else:
            try:
                value = float(literal.this)
            except ValueError:
                continue
            # Either side of a bound too, so that `age > 56` and `age < 56` both find rows.
            numbers += [value - 1, value, value + 1]
    return texts, numbers


def _fill_rows(connection: sqlite3.Connection, reference: Any, seed: int) -> None:
    """A few deterministic rows per table, using the reference's literals half of the time."""
    texts, numbers = _literals(reference)
    rng = random.Random(seed)
    tables = [
        str(row[0])
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )
    ]
    for table in tables:
        columns = connection.execute(f'PRAGMA table_info("{table}")').fetchall()
        if not columns:
            continue
        rows = []
        for _ in range(ROWS_PER_TABLE):
            row: list[Any] = []
            for column in columns:
                declared = str(column[2]).upper()
                numeric = any(k in declared for k in ("INT", "REAL", "NUM", "FLOA", "DOUB", "DEC"))
                if numeric:
                    pool: Sequence[Any] = numbers if numbers and rng.random() < 0.5 else ()
                    value: Any = rng.choice(pool) if pool else rng.randint(0, 20)
                    if "INT" in declared and isinstance(value, float) and value.is_integer():
                        value = int(value)
                else:
                    pool = texts if texts and rng.random() < 0.5 else _FILLER_TEXT
                    value = rng.choice(pool)
                row.append(value)
            rows.append(row)
        marks = ", ".join("?" for _ in columns)
        connection.executemany(f'INSERT INTO "{table}" VALUES ({marks})', rows)


_READ_ONLY_ACTIONS = frozenset(
    {
        sqlite3.SQLITE_SELECT,
        sqlite3.SQLITE_READ,
        sqlite3.SQLITE_FUNCTION,
        getattr(sqlite3, "SQLITE_RECURSIVE", 33),
    }
)


def open_scratch_database() -> sqlite3.Connection:
    """A fresh in-memory SQLite database that cannot reach any file: ATTACH (and VACUUM INTO,
    which attaches its target) is refused by a zero attach limit."""
    connection = sqlite3.connect(":memory:")
    connection.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
    return connection


def _read_only(action: int, *_: object) -> int:
    return sqlite3.SQLITE_OK if action in _READ_ONLY_ACTIONS else sqlite3.SQLITE_DENY


class _TimedOut(Exception):
    pass


def _run(
    connection: sqlite3.Connection,
    query: str,
    time_limit: float,
    clock: Callable[[], float],
) -> list[tuple[Any, ...]]:
    """Run `query` and fetch every row, interrupted after `time_limit` seconds of `clock`."""
    deadline = clock() + time_limit
    state = {"timed_out": False}

    def progress() -> int:
        if clock() > deadline:
            state["timed_out"] = True
            return 1  # non-zero interrupts the statement
        return 0

    connection.set_progress_handler(progress, _PROGRESS_EVERY)
    try:
        return [tuple(row) for row in connection.execute(query).fetchall()]
    except sqlite3.OperationalError:
        if state["timed_out"]:
            raise _TimedOut from None
        raise
    finally:
        connection.set_progress_handler(None, _PROGRESS_EVERY)


Rows = list[tuple[Any, ...]]


def _same(reference: Rows, generated: Rows, ordered: bool) -> bool:
    if ordered:
        return reference == generated
    return Counter(reference) == Counter(generated)


def score_sql(
    schema: Sequence[str],
    reference: str,
    answer: str,
    *,
    time_limit: float = DEFAULT_TIME_LIMIT,
    clock: Callable[[], float] = time.monotonic,
    seed: int = 0,
) -> SqlOutcome:
    """Score the query in `answer` against `reference` on `schema` (see the module doc).

    Args:
        schema: `CREATE TABLE` (and optional `INSERT INTO`) statements; with no INSERT, rows
            are made up from the reference's literals.
        reference: the reference query.
        answer: the model's answer (the query is extracted from it).
        time_limit: seconds each query may run.
        clock: monotonic seconds (tests pass a fake one).
        seed: for the made-up rows.
    """
    generated = extract_query(answer)
    wanted = extract_query(reference)
    reference_tree = _parse(wanted)
    generated_tree = _parse(generated)
    exact = (
        reference_tree is not None
        and generated_tree is not None
        and normalize(wanted) == normalize(generated)
    )
    if generated_tree is None:
        return SqlOutcome("no-parse", False, "sqlglot cannot read it as one SQL query")
    if reference_tree is None:
        return SqlOutcome("reference-error", exact, "the reference does not parse")
    connection = open_scratch_database()
    try:
        try:
            for statement in schema:
                connection.execute(statement)
            if not any(s.lstrip().upper().startswith("INSERT") for s in schema):
                _fill_rows(connection, reference_tree, seed)
        except sqlite3.Error as error:
            return SqlOutcome("reference-error", exact, f"the schema does not load: {error}")
        connection.set_authorizer(_read_only)
        try:
            expected = _run(connection, wanted, time_limit, clock)
        except _TimedOut:
            return SqlOutcome("reference-error", exact, "the reference query timed out")
        except sqlite3.Error as error:
            return SqlOutcome("reference-error", exact, f"the reference query fails: {error}")
        try:
            got = _run(connection, generated, time_limit, clock)
        except _TimedOut:
            return SqlOutcome("timeout", exact, f"stopped after {time_limit:g} s")
        except sqlite3.Error as error:
            return SqlOutcome("error", exact, str(error))
    finally:
        connection.close()
    if _same(expected, got, _orders(reference_tree)):
        return SqlOutcome("match", exact)
    return SqlOutcome("mismatch", exact)


@dataclass(frozen=True)
class SqlSummary:
    """The SQL scores of one model over the records that have a schema."""

    scored: int
    execution_match: int
    exact_match: int
    no_parse: int
    errors: int
    timeouts: int
    reference_errors: int
    """Records whose reference (or schema) could not run: left out of the rates."""

    @property
    def execution_rate(self) -> float | None:
        """Execution matches over the records whose reference ran."""
        usable = self.scored - self.reference_errors
        return self.execution_match / usable if usable else None

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "scored": self.scored,
            "execution_match": self.execution_match,
            "execution_match_rate": self.execution_rate,
            "exact_match": self.exact_match,
            "does_not_parse": self.no_parse,
            "runs_with_an_error": self.errors,
            "timed_out": self.timeouts,
            "reference_errors": self.reference_errors,
        }


def summarize(outcomes: Iterable[SqlOutcome]) -> SqlSummary:
    """Count the outcomes."""
    items = list(outcomes)
    counts = Counter(o.status for o in items)
    return SqlSummary(
        scored=len(items),
        execution_match=counts["match"],
        exact_match=sum(1 for o in items if o.exact),
        no_parse=counts["no-parse"],
        errors=counts["error"],
        timeouts=counts["timeout"],
        reference_errors=counts["reference-error"],
    )
