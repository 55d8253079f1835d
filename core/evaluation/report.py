"""The evaluation report: JSON (per-metric means with `ci_low` / `ci_high`, the comparison of
tuned and base, and `judge` / `sql` / `batch` sections when they ran), a CSV with one row per
record, and a self-contained HTML page with the charts (`core.evaluation.html`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any, NamedTuple

from core.atomic import AtomicFiles
from core.evaluation.compare import Contender, build_comparison
from core.evaluation.costs import serving_cost, token_price, unknown_price_hint
from core.evaluation.evaluate import Report, Result, Row
from core.evaluation.sql import summarize as summarize_sql
from core.files import check_output_folder
from core.pricing.service import PriceService

VERSION = 2
"""Of the report's JSON: 2 has per-metric objects `{mean, ci_low, ci_high, n}`."""
JSON_NAME = "evaluation.json"
CSV_NAME = "evaluation.csv"
HTML_NAME = "evaluation.html"


def _answer_json(result: Result) -> dict[str, Any]:
    return {
        "answer": result.answer,
        "error": result.error,
        "via": result.via,
        "input_tokens": result.input_tokens,
        "output_tokens": result.output_tokens,
        "scores": asdict(result.scores) if result.scores else None,
        "sql": result.sql.to_json() if result.sql else None,
        "judge": result.judge.to_json() if result.judge else None,
    }


def row_json(row: Row) -> dict[str, Any]:
    """One record and its answers as plain data."""
    return {
        "line": row.record.line,
        "key": row.record.key,
        "system": row.record.system,
        "prompt": row.record.user,
        "reference": row.record.reference,
        "tuned": _answer_json(row.tuned),
        "base": _answer_json(row.base) if row.base else None,
        "pair": row.pair.to_json() if row.pair else None,
    }


def _mean_tokens(results: list[Result]) -> tuple[float | None, float | None]:
    counted = [r for r in results if r.input_tokens is not None and r.output_tokens is not None]
    if not counted:
        return None, None
    return (
        sum(r.input_tokens or 0 for r in counted) / len(counted),
        sum(r.output_tokens or 0 for r in counted) / len(counted),
    )


def _serving(
    model: str, base_id: str | None, results: list[Result], region: str | None, prices: PriceService
) -> dict[str, Any]:
    tokens_in, tokens_out = _mean_tokens(results)
    cost = serving_cost(model, base_id, tokens_in, tokens_out, region=region, prices=prices)
    return {
        "per_1k_requests": cost.per_1k_requests,
        "note": cost.note,
        "source": cost.source or None,
    }


def _judge_json(report: Report, prices: PriceService) -> dict[str, Any] | None:
    if report.judge_model is None:
        return None
    calls, tokens_in, tokens_out = report.judge_usage
    price = token_price(report.judge_model, report.region, prices)

    def side(which: str) -> dict[str, Any] | None:
        verdicts = [
            getattr(r, which).judge
            for r in report.rows
            if getattr(r, which) is not None and getattr(r, which).judge is not None
        ]
        if not verdicts and which == "base":
            return None
        overall = [v.overall for v in verdicts if v.overall is not None]
        return {
            "scored": sum(1 for v in verdicts if v.status == "scored"),
            "unparseable": sum(1 for v in verdicts if v.status == "unparseable"),
            "failed": sum(1 for v in verdicts if v.status == "failed"),
            "retried": sum(1 for v in verdicts if v.attempts > 1),
            "mean": sum(overall) / len(overall) if overall else None,
        }

    pairs = [r.pair for r in report.rows if r.pair is not None]
    return {
        "model": report.judge_model,
        "rubric": report.rubric.to_json() if report.rubric else None,
        "calls": calls,
        "input_tokens": tokens_in,
        "output_tokens": tokens_out,
        "cost": price.cost(tokens_in, tokens_out) if price else None,
        "cost_source": price.source if price else None,
        "cost_todo": None if price else unknown_price_hint(report.judge_model),
        "tuned": side("tuned"),
        "base": side("base"),
        "pairwise": {
            "tuned": sum(1 for p in pairs if p.winner == "tuned"),
            "base": sum(1 for p in pairs if p.winner == "base"),
            "tie": sum(1 for p in pairs if p.winner == "tie"),
            "orders_disagreed": sum(1 for p in pairs if p.winner == "tie" and not p.consistent),
            "unparseable": sum(1 for p in pairs if p.winner is None),
            "method": "asked in both orders (tuned first, then base first); a preference "
            "counts only when both orders give it",
        }
        if pairs
        else None,
    }


def _sql_json(report: Report) -> dict[str, Any] | None:
    if not report.sql:
        return None
    out: dict[str, Any] = {}
    for which in ("tuned", "base"):
        outcomes = [
            getattr(r, which).sql
            for r in report.rows
            if getattr(r, which) is not None and getattr(r, which).sql is not None
        ]
        if which == "tuned" or outcomes:
            out[which] = summarize_sql(outcomes).to_json()
    out["records_with_schema"] = sum(1 for r in report.rows if r.record.schema)
    return out


def report_json(report: Report, prices: PriceService | None = None) -> dict[str, Any]:
    """The report as plain data (see the module doc). Costs are priced by `prices` (default:
    the cached Price List answer, else the built-in figures; a service with an AWS context may
    call the Price List API, so run this in a worker), each with its source and date."""
    prices = prices or PriceService(None)
    rows = [row_json(r) for r in report.rows]
    tuned_results = [r.tuned for r in report.rows]
    base_results = [r.base for r in report.rows if r.base is not None]
    contenders = [
        Contender(
            "tuned",
            "tuned model",
            report.tuned_model,
            _serving(
                report.tuned_model, report.tuned_base_id, tuned_results, report.region, prices
            ),
        )
    ]
    if report.base_model:
        contenders.append(
            Contender(
                "base",
                "base model",
                report.base_model,
                _serving(report.base_model, None, base_results, report.region, prices),
            )
        )
    comparison = build_comparison(
        rows, contenders, "base" if report.base_model else None, report.seed
    )
    by_id = {c["id"]: c for c in comparison["contenders"]}

    def side(which: str) -> dict[str, Any] | None:
        entry = by_id.get(which)
        if entry is None:
            return None
        return {**entry["metrics"], "answered": entry["answered"], "failed": entry["failed"]}

    pair = comparison["pairs"][0] if comparison["pairs"] else None
    return {
        "version": VERSION,
        "created": report.created,
        "tuned_model": report.tuned_model,
        "base_model": report.base_model,
        "tuned_base_id": report.tuned_base_id,
        "records": len(report.rows),
        "seed": report.seed,
        "tuned": side("tuned"),
        "base": side("base"),
        "comparison": pair["metrics"] if pair else None,
        "verdict": pair["verdict"] if pair else None,
        "compared": comparison,
        "region": report.region,
        "judge": _judge_json(report, prices),
        "sql": _sql_json(report),
        "batch": [job.to_json() for job in report.batch_jobs],
        "notes": list(report.notes),
        "rows": rows,
    }


_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection")."""


def spreadsheet_safe(text: str) -> str:
    """`text` as a cell no spreadsheet runs as a formula: a cell that starts with = + - @, a
    tab or a carriage return gets a leading single quote (OWASP's recipe), which spreadsheets
    read as "this is text". The JSON report keeps the raw text."""
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def _csv(data: Mapping[str, Any]) -> str:
    table = io.StringIO()
    writer = csv.writer(table)
    sides = ("tuned", "base")
    fields = ("rouge1", "rouge2", "rougeL", "exact", "sql", "judge", "judge_reason", "error")
    writer.writerow(
        [
            "line",
            "key",
            *(f"{s}_{f}" for s in sides for f in fields),
            "judge_prefers",
            "reference",
            "tuned_answer",
            "base_answer",
        ]
    )
    for row in data["rows"]:
        cells: list[Any] = [row["line"], row["key"]]
        for which in sides:
            answer = row.get(which) or {}
            scores = answer.get("scores") or {}
            judge = answer.get("judge") or {}
            overall = judge.get("overall")
            cells += [
                f"{scores['rouge1']:.4f}" if scores else "",
                f"{scores['rouge2']:.4f}" if scores else "",
                f"{scores['rouge_l']:.4f}" if scores else "",
                scores.get("exact", ""),
                (answer.get("sql") or {}).get("status", ""),
                "" if overall is None else f"{overall:.4f}",
                spreadsheet_safe(judge.get("reason", "")),
                spreadsheet_safe(answer.get("error") or ""),
            ]
        cells.append((row.get("pair") or {}).get("winner") or "")
        cells += [  # what models and test files wrote: text, never a formula
            spreadsheet_safe(row["reference"]),
            spreadsheet_safe((row.get("tuned") or {}).get("answer", "")),
            spreadsheet_safe((row.get("base") or {}).get("answer", "")),
        ]
        writer.writerow(cells)
    return table.getvalue()


class SavedReport(NamedTuple):
    """Where the report's three files are."""

    json: Path
    csv: Path
    html: Path


def save_report(
    report: Report, out_dir: Path, *, title: str = "", prices: PriceService | None = None
) -> SavedReport:
    """Write `evaluation.json`, `evaluation.csv` and `evaluation.html` together (atomically).

    Raises:
        FileAccessError: `out_dir` is not a folder that can be written (nothing is written).
    """
    from core.evaluation.html import render_report

    check_output_folder(out_dir, "report folder")
    data = report_json(report, prices)
    with AtomicFiles(out_dir) as files:
        files.open(JSON_NAME).write(json.dumps(data, indent=2, ensure_ascii=False).encode())
        files.open(CSV_NAME).write(_csv(data).encode())
        files.open(HTML_NAME).write(render_report(data, title=title).encode())
    return SavedReport(out_dir / JSON_NAME, out_dir / CSV_NAME, out_dir / HTML_NAME)
