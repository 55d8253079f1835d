"""The metrics an evaluation reports, one definition each: how to read a per-record value from an
answer, and how it reads to a person. The report, the comparison of runs and the HTML page all
use this list, so a metric means the same thing everywhere.

Per-record values are in 0..1 (ROUGE F-measures; exact match and SQL matches as 1 or 0; the
judge's criteria mean scaled to 0..1). A record with no value for a metric (the answer failed,
the record has no schema, the judge's reply was unreadable) is left out of that metric.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from core.evaluation.stats import Interval, bootstrap_mean


@dataclass(frozen=True)
class Metric:
    """One metric: its JSON key, its label, and how to read it from a row's JSON answer."""

    key: str
    label: str
    read: Callable[[Mapping[str, Any]], float | None]
    """From a report row's answer object (`rows[i].tuned` in the report JSON)."""


def _score(name: str) -> Callable[[Mapping[str, Any]], float | None]:
    def read(answer: Mapping[str, Any]) -> float | None:
        scores = answer.get("scores")
        if not isinstance(scores, Mapping):
            return None
        value = scores.get(name)
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        return float(value) if isinstance(value, int | float) else None

    return read


def _sql(name: str) -> Callable[[Mapping[str, Any]], float | None]:
    def read(answer: Mapping[str, Any]) -> float | None:
        sql = answer.get("sql")
        if not isinstance(sql, Mapping) or sql.get("status") == "reference-error":
            return None
        return 1.0 if sql.get(name) else 0.0

    return read


def _judge(answer: Mapping[str, Any]) -> float | None:
    judge = answer.get("judge")
    if not isinstance(judge, Mapping):
        return None
    value = judge.get("overall")
    return float(value) if isinstance(value, int | float) else None


ROUGE1 = Metric("rouge1", "ROUGE-1", _score("rouge1"))
ROUGE2 = Metric("rouge2", "ROUGE-2", _score("rouge2"))
ROUGE_L = Metric("rougeL", "ROUGE-L", _score("rouge_l"))
EXACT = Metric("exact_match", "exact match", _score("exact"))
SQL_EXECUTION = Metric("sql_execution_match", "SQL execution match", _sql("execution_match"))
SQL_EXACT = Metric("sql_exact_match", "SQL exact match", _sql("exact_match"))
JUDGE = Metric("judge", "judge score", _judge)
ALL: tuple[Metric, ...] = (JUDGE, SQL_EXECUTION, SQL_EXACT, ROUGE_L, ROUGE1, ROUGE2, EXACT)
"""In the order a person reads them: the most telling first."""
BY_KEY = {m.key: m for m in ALL}


def present(rows: list[Mapping[str, Any]], sides: tuple[str, ...]) -> list[Metric]:
    """The metrics some answer of `sides` has a value for (in `ALL` order)."""
    found = []
    for metric in ALL:
        for row in rows:
            if any(
                isinstance(row.get(s), Mapping) and metric.read(row[s]) is not None for s in sides
            ):
                found.append(metric)
                break
    return found


def primary(metrics: list[Metric]) -> Metric | None:
    """The metric a verdict is said in: the judge, else SQL execution, else ROUGE-L."""
    return metrics[0] if metrics else None


def values(rows: list[Mapping[str, Any]], side: str, metric: Metric) -> list[float | None]:
    """The per-record values of `side` (`tuned`, `base`...), aligned with `rows`."""
    out: list[float | None] = []
    for row in rows:
        answer = row.get(side)
        out.append(metric.read(answer) if isinstance(answer, Mapping) else None)
    return out


def interval(rows: list[Mapping[str, Any]], side: str, metric: Metric, seed: int) -> Interval:
    """The mean of `side`'s values with its bootstrap interval."""
    present_values = [v for v in values(rows, side, metric) if v is not None]
    return bootstrap_mean(present_values, seed=seed)
