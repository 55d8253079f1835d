"""Models compared on the same test records: each metric with its bootstrap interval, win / tie /
loss per record against a reference model (usually the base), the records where they disagree
most (side by side, with the reference answer), what serving each costs per 1K requests, and a
verdict in words: which is better, by how much, and how sure.

Works on plain JSON rows (a report's `rows`, or rows lined up from stored evaluations of
several runs), each with one answer object per contender, so one evaluation and many runs are
compared by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from core.evaluation import metrics as m
from core.evaluation.stats import (
    Interval,
    bootstrap_paired_difference,
    most_disagreeing,
    win_tie_loss,
)

DISAGREEMENTS = 5
ANSWER_CHARS = 600
"""Answers in the disagreement list are cut to this (the full text is in the rows)."""


@dataclass(frozen=True)
class Contender:
    """One model in a comparison."""

    id: str
    """The side key in the rows (`tuned`, `base`, `run:<id>`...)."""
    label: str
    model: str
    serving: Mapping[str, Any] | None = None
    """`{"per_1k_requests", "note"}` when known."""


def paired_json(
    rows: Sequence[Mapping[str, Any]], a: str, b: str, metric: m.Metric, seed: int
) -> dict[str, Any]:
    """`a` minus `b` on the records both have a value for: the difference with its interval,
    the share of resamples where `a` led, and win / tie / loss."""
    xs, ys = [], []
    for x, y in zip(m.values(list(rows), a, metric), m.values(list(rows), b, metric), strict=True):
        if x is not None and y is not None:
            xs.append(x)
            ys.append(y)
    diff = bootstrap_paired_difference(xs, ys, seed=seed)
    record = win_tie_loss(xs, ys)
    return {
        "difference": diff.mean,
        "ci_low": diff.low,
        "ci_high": diff.high,
        "share_a_ahead": diff.share_above_zero,
        "n": diff.n,
        **record.to_json(),
    }


def verdict(a: str, b: str, metric: m.Metric, paired: Mapping[str, Any]) -> str:
    """Which of `a` and `b` is better on `metric`, by how much, and how sure (in words)."""
    n, low, high = paired.get("n", 0), paired.get("ci_low"), paired.get("ci_high")
    mean, share = paired.get("difference"), paired.get("share_a_ahead")
    if not n or low is None or high is None or mean is None:
        return f"{a} and {b} have no record in common to compare on {metric.label}."
    span = f"95% CI {low:+.3f} to {high:+.3f}, {n} records"
    record = f"{paired['wins']} wins, {paired['ties']} ties, {paired['losses']} losses"
    if low > 0:
        return (
            f"{a} beats {b} on {metric.label} by {mean:+.3f} ({span}; {record}); "
            f"it led in {share:.0%} of bootstrap resamples."
        )
    if high < 0:
        return (
            f"{b} beats {a} on {metric.label} by {-mean:+.3f} ({span}; {record} for {a}); "
            f"{a} led in only {share:.0%} of bootstrap resamples."
        )
    return (
        f"No clear difference between {a} and {b} on {metric.label}: {mean:+.3f} ({span}, "
        f"which includes 0; {record}). More records would tell them apart."
    )


def _cut(text: Any) -> str:
    value = str(text or "")
    return value if len(value) <= ANSWER_CHARS else value[: ANSWER_CHARS - 1] + "…"


def disagreements(
    rows: Sequence[Mapping[str, Any]],
    a: Contender,
    b: Contender,
    metric: m.Metric,
    limit: int = DISAGREEMENTS,
) -> list[dict[str, Any]]:
    """The records where `a` and `b` differ most on `metric`, side by side with the reference."""
    both = [
        (row, x, y)
        for row, x, y in zip(
            rows,
            m.values(list(rows), a.id, metric),
            m.values(list(rows), b.id, metric),
            strict=True,
        )
        if x is not None and y is not None
    ]
    picks = most_disagreeing([x for _, x, _ in both], [y for _, _, y in both], limit=limit)
    out = []
    for index in picks:
        row, x, y = both[index]
        out.append(
            {
                "line": row.get("line"),
                "key": row.get("key"),
                "prompt": _cut(row.get("prompt")),
                "reference": _cut(row.get("reference")),
                "a": a.id,
                "b": b.id,
                "a_answer": _cut((row.get(a.id) or {}).get("answer")),
                "b_answer": _cut((row.get(b.id) or {}).get("answer")),
                "a_value": x,
                "b_value": y,
                "gap": x - y,
            }
        )
    return out


def build_comparison(
    rows: Sequence[Mapping[str, Any]],
    contenders: Sequence[Contender],
    against: str | None,
    seed: int,
) -> dict[str, Any]:
    """The comparison block (JSON) of `contenders` on `rows`, each paired with `against`."""
    ids = tuple(c.id for c in contenders)
    present = m.present(list(rows), ids)
    primary = m.primary(present)
    summary = []
    for contender in contenders:
        intervals: dict[str, Interval] = {
            metric.key: m.interval(list(rows), contender.id, metric, seed) for metric in present
        }
        answers = [r.get(contender.id) for r in rows if isinstance(r.get(contender.id), Mapping)]
        summary.append(
            {
                "id": contender.id,
                "label": contender.label,
                "model": contender.model,
                "metrics": {k: v.to_json() for k, v in intervals.items()},
                "answered": sum(1 for a in answers if a and not a.get("error")),
                "failed": sum(1 for a in answers if a and a.get("error")),
                "serving": dict(contender.serving) if contender.serving else None,
            }
        )
    reference = next((c for c in contenders if c.id == against), None)
    pairs = []
    if reference is not None:
        for contender in contenders:
            if contender.id == reference.id:
                continue
            by_metric = {
                metric.key: paired_json(rows, contender.id, reference.id, metric, seed)
                for metric in present
            }
            pairs.append(
                {
                    "a": contender.id,
                    "b": reference.id,
                    "metrics": by_metric,
                    "verdict": verdict(
                        contender.label, reference.label, primary, by_metric[primary.key]
                    )
                    if primary
                    else "Nothing to compare.",
                    "disagreements": disagreements(rows, contender, reference, primary)
                    if primary
                    else [],
                }
            )
    return {
        "records": len(rows),
        "primary": primary.key if primary else None,
        "metric_labels": {metric.key: metric.label for metric in present},
        "contenders": summary,
        "against": reference.id if reference else None,
        "pairs": pairs,
    }
