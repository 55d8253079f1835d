"""The evaluation report as one self-contained HTML page: the verdict in words first, then the
charts (inline SVG: each metric's mean with its 95% interval per model; win / tie / loss per
record; the judge's pairwise preferences), the records the models disagree on most, side by
side with the reference, and the judge, SQL and batch details. No script, no font, no image,
no stylesheet is fetched: the page is one file that opens anywhere, offline.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from core.evaluation.costs import judge_cost_text, serving_text

PALETTE = ("#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d")
WIN, TIE, LOSS = "#54a24b", "#bab0ac", "#e45756"
CHART_WIDTH = 720
LABEL_WIDTH = 190
BAR_HEIGHT = 16

STYLE = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 1000px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.5rem; margin-bottom: .2rem; } h2 { font-size: 1.15rem; margin-top: 2rem; }
.meta { color: #666; font-size: .9rem; }
.verdict { font-size: 1.1rem; background: #f3f7fb; border-left: 4px solid #4c78a8;
           padding: .6rem .9rem; margin: .6rem 0; }
.note { background: #fff7e6; border-left: 4px solid #f58518; padding: .4rem .8rem;
        margin: .4rem 0; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; font-size: .9rem; }
th, td { border-bottom: 1px solid #e3e3e3; padding: .3rem .5rem; text-align: left;
         vertical-align: top; }
th { background: #fafafa; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.answer { white-space: pre-wrap; font-family: ui-monospace, Menlo, monospace; font-size: .82rem; }
svg text { font: 12px system-ui, sans-serif; fill: #333; }
.legend span { display: inline-block; margin-right: 1rem; }
.swatch { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem;
          vertical-align: middle; }
"""


NONE = "\u2013"
"""An en dash: what a cell shows when there is no value."""


def _num(value: Any, digits: int = 3) -> str:
    return NONE if value is None else f"{value:.{digits}f}"


def _interval_text(entry: Mapping[str, Any] | None) -> str:
    if not entry or entry.get("mean") is None:
        return NONE
    return f"{entry['mean']:.3f} [{_num(entry.get('ci_low'))}, {_num(entry.get('ci_high'))}]"


def _color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def scores_chart(comparison: Mapping[str, Any]) -> str:
    """Each metric's mean per model as a bar, its 95% interval as a whisker (0..1 axis)."""
    contenders = comparison.get("contenders") or []
    labels: Mapping[str, str] = comparison.get("metric_labels") or {}
    if not contenders or not labels:
        return ""
    plot = CHART_WIDTH - LABEL_WIDTH - 20
    group = BAR_HEIGHT * len(contenders) + 14
    height = group * len(labels) + 30
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="{height}" '
        f'role="img" aria-label="Scores with 95% confidence intervals">'
    ]
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = LABEL_WIDTH + tick * plot
        parts.append(
            f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" stroke="#eee"/>'
            f'<text x="{x:.1f}" y="{height - 5}" text-anchor="middle">{tick:g}</text>'
        )
    for row, (key, label) in enumerate(labels.items()):
        top = row * group + 4
        parts.append(
            f'<text x="0" y="{top + group / 2:.1f}" dominant-baseline="middle">'
            f"{escape(label)}</text>"
        )
        for index, contender in enumerate(contenders):
            entry = (contender.get("metrics") or {}).get(key) or {}
            y = top + index * BAR_HEIGHT
            mean = entry.get("mean")
            if mean is None:
                continue
            width = max(0.0, min(1.0, mean)) * plot
            parts.append(
                f'<rect class="bar" x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" '
                f'height="{BAR_HEIGHT - 3}" fill="{_color(index)}">'
                f"<title>{escape(contender['label'])}: {_interval_text(entry)}</title></rect>"
            )
            low, high = entry.get("ci_low"), entry.get("ci_high")
            if low is not None and high is not None:
                mid = y + (BAR_HEIGHT - 3) / 2
                x1, x2 = LABEL_WIDTH + low * plot, LABEL_WIDTH + high * plot
                parts.append(
                    f'<line class="ci" x1="{x1:.1f}" y1="{mid:.1f}" x2="{x2:.1f}" y2="{mid:.1f}" '
                    f'stroke="#222" stroke-width="1.5"/>'
                    f'<line x1="{x1:.1f}" y1="{mid - 4:.1f}" x2="{x1:.1f}" y2="{mid + 4:.1f}" '
                    f'stroke="#222"/><line x1="{x2:.1f}" y1="{mid - 4:.1f}" x2="{x2:.1f}" '
                    f'y2="{mid + 4:.1f}" stroke="#222"/>'
                )
            # The value goes right of the bar and its whisker, so neither hides it.
            end = max(width, (high if high is not None else 0.0) * plot)
            if end < plot - 40:
                parts.append(
                    f'<text x="{LABEL_WIDTH + end + 6:.1f}" y="{y + 10}">{mean:.3f}</text>'
                )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{_color(i)}"></i>{escape(c["label"])}</span>'
        for i, c in enumerate(contenders)
    )
    return f'<div class="legend">{legend}</div>' + "".join(parts)


def stacked_bar(title: str, parts: Sequence[tuple[str, int, str]]) -> str:
    """One labelled horizontal bar split into counts (e.g. wins, ties, losses)."""
    total = sum(count for _, count, _ in parts)
    plot = CHART_WIDTH - LABEL_WIDTH - 20
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{CHART_WIDTH}" height="30" role="img" '
        f'aria-label="{escape(title)}"><text x="0" y="15" dominant-baseline="middle">'
        f"{escape(title)}</text>"
    ]
    x = float(LABEL_WIDTH)
    for label, count, color in parts:
        if not total or not count:
            continue
        width = count / total * plot
        out.append(
            f'<rect x="{x:.1f}" y="4" width="{width:.1f}" height="22" fill="{color}">'
            f"<title>{escape(label)}: {count}</title></rect>"
        )
        if width > 24:
            out.append(
                f'<text x="{x + width / 2:.1f}" y="15" text-anchor="middle" '
                f'dominant-baseline="middle" style="fill:#fff">{count}</text>'
            )
        x += width
    out.append("</svg>")
    return "".join(out)


def _summary_table(comparison: Mapping[str, Any]) -> str:
    labels: Mapping[str, str] = comparison.get("metric_labels") or {}
    head = "".join(f"<th>{escape(label)}</th>" for label in labels.values())
    rows = []
    for contender in comparison.get("contenders") or []:
        cost = escape(serving_text(contender.get("serving")))
        cells = "".join(
            f'<td class="num">{_interval_text((contender.get("metrics") or {}).get(k))}</td>'
            for k in labels
        )
        rows.append(
            f"<tr><td><b>{escape(contender['label'])}</b><br><span class='meta'>"
            f"{escape(contender.get('model') or '')}</span></td>{cells}"
            f'<td class="num">{contender.get("answered", 0)}</td>'
            f'<td class="num">{contender.get("failed", 0)}</td><td>{cost}</td></tr>'
        )
    return (
        f"<table><tr><th>model</th>{head}<th>answered</th><th>failed</th>"
        f"<th>serving per 1K requests</th></tr>{''.join(rows)}</table>"
        "<p class='meta'>Each cell: mean [95% bootstrap confidence interval].</p>"
    )


def _disagreements(pair: Mapping[str, Any], names: Mapping[str, str]) -> str:
    items = pair.get("disagreements") or []
    if not items:
        return ""
    a, b = names.get(pair["a"], pair["a"]), names.get(pair["b"], pair["b"])
    rows = "".join(
        f"<tr><td class='num'>{escape(str(d.get('line')))}</td>"
        f"<td><div class='answer'>{escape(d.get('prompt') or '')}</div></td>"
        f"<td><div class='answer'>{escape(d.get('reference') or '')}</div></td>"
        f"<td><div class='answer'>{escape(d.get('a_answer') or '')}</div>"
        f"<span class='meta'>{_num(d.get('a_value'))}</span></td>"
        f"<td><div class='answer'>{escape(d.get('b_answer') or '')}</div>"
        f"<span class='meta'>{_num(d.get('b_value'))}</span></td></tr>"
        for d in items
    )
    return (
        f"<h3>Where {escape(a)} and {escape(b)} disagree most</h3><table><tr><th>line</th>"
        f"<th>prompt</th><th>reference</th><th>{escape(a)}</th><th>{escape(b)}</th></tr>"
        f"{rows}</table>"
    )


def comparison_sections(comparison: Mapping[str, Any]) -> str:
    """Verdicts, the scores chart and table, win / tie / loss and disagreements."""
    names = {c["id"]: c["label"] for c in comparison.get("contenders") or []}
    primary = comparison.get("primary")
    label = (comparison.get("metric_labels") or {}).get(primary or "", primary or "")
    out = [f'<p class="verdict">{escape(p["verdict"])}</p>' for p in comparison.get("pairs") or []]
    out.append("<h2>Scores</h2>" + scores_chart(comparison) + _summary_table(comparison))
    pairs = comparison.get("pairs") or []
    if pairs and primary:
        out.append(f"<h2>Per record, on {escape(label)}</h2>")
        legend = (
            f'<div class="legend"><span><i class="swatch" style="background:{WIN}"></i>wins'
            f'</span><span><i class="swatch" style="background:{TIE}"></i>ties</span><span>'
            f'<i class="swatch" style="background:{LOSS}"></i>losses</span></div>'
        )
        out.append(legend)
        for pair in pairs:
            record = pair["metrics"].get(primary) or {}
            title = f"{names.get(pair['a'], pair['a'])} vs {names.get(pair['b'], pair['b'])}"
            out.append(
                stacked_bar(
                    title,
                    [
                        ("wins", int(record.get("wins", 0)), WIN),
                        ("ties", int(record.get("ties", 0)), TIE),
                        ("losses", int(record.get("losses", 0)), LOSS),
                    ],
                )
            )
        for pair in pairs:
            out.append(_disagreements(pair, names))
    return "".join(out)


def _judge_section(judge: Mapping[str, Any] | None) -> str:
    if not judge:
        return ""
    rubric = judge.get("rubric") or {}
    criteria = "".join(
        f"<li><b>{escape(k)}</b>: {escape(v)}</li>"
        for k, v in (rubric.get("criteria") or {}).items()
    )
    rows = ""
    for which in ("tuned", "base"):
        side = judge.get(which)
        if side:
            rows += (
                f"<tr><td>{which}</td><td class='num'>{_num(side.get('mean'))}</td>"
                f"<td class='num'>{side.get('scored', 0)}</td>"
                f"<td class='num'>{side.get('unparseable', 0)}</td>"
                f"<td class='num'>{side.get('failed', 0)}</td>"
                f"<td class='num'>{side.get('retried', 0)}</td></tr>"
            )
    out = (
        f"<h2>LLM judge</h2><p>{escape(str(judge.get('model')))} graded by the rubric "
        f"<b>{escape(str(rubric.get('name', '')))}</b> (1 to 5 per criterion, shown scaled to "
        f"0..1): {judge.get('calls', 0)} calls, {escape(judge_cost_text(judge))}.</p>"
        f"<ul>{criteria}</ul><table><tr><th>model</th><th>mean</th><th>scored</th>"
        f"<th>unparseable</th><th>failed</th><th>asked twice</th></tr>{rows}</table>"
    )
    pairwise = judge.get("pairwise")
    if pairwise:
        out += "<h3>Which answer the judge prefers</h3>" + stacked_bar(
            "tuned / tie / base",
            [
                ("tuned", int(pairwise.get("tuned", 0)), PALETTE[0]),
                ("tie", int(pairwise.get("tie", 0)), TIE),
                ("base", int(pairwise.get("base", 0)), PALETTE[1]),
            ],
        )
        out += (
            f"<p class='meta'>{escape(str(pairwise.get('method', '')))}; the two orders "
            f"disagreed on {pairwise.get('orders_disagreed', 0)} records (counted as ties); "
            f"{pairwise.get('unparseable', 0)} unreadable.</p>"
        )
    return out


def _sql_section(sql: Mapping[str, Any] | None) -> str:
    if not sql:
        return ""
    keys = (
        ("execution_match_rate", "execution match rate"),
        ("exact_match", "exact match (normalised)"),
        ("does_not_parse", "does not parse"),
        ("runs_with_an_error", "runs with an error"),
        ("timed_out", "timed out"),
        ("reference_errors", "reference could not run"),
    )
    head = "".join(f"<th>{label}</th>" for _, label in keys)
    rows = ""
    for which in ("tuned", "base"):
        side = sql.get(which)
        if side:
            shown = [_num(side.get(k)) if k.endswith("rate") else side.get(k, 0) for k, _ in keys]
            cells = "".join(f"<td class='num'>{value}</td>" for value in shown)
            rows += f"<tr><td>{which}</td>{cells}</tr>"
    return (
        f"<h2>SQL that runs</h2><p>{sql.get('records_with_schema', 0)} records carry a schema; "
        "each query ran in a fresh in-memory SQLite database.</p>"
        f"<table><tr><th>model</th>{head}</tr>{rows}</table>"
    )


def _batch_section(jobs: Sequence[Mapping[str, Any]]) -> str:
    if not jobs:
        return ""
    rows = "".join(
        f"<tr><td>{escape(str(j.get('model')))}</td><td>{escape(str(j.get('status')))}</td>"
        f"<td class='num'>{j.get('records', 0)}</td><td class='num'>{j.get('succeeded', 0)}</td>"
        f"<td class='num'>{j.get('failed', 0)}</td><td>{escape(str(j.get('message') or ''))}"
        "</td></tr>"
        for j in jobs
    )
    return (
        "<h2>Batch inference</h2><table><tr><th>model</th><th>status</th><th>records</th>"
        f"<th>answered</th><th>failed</th><th>message</th></tr>{rows}</table>"
    )


def page(title: str, meta: str, body: str) -> str:
    """A whole HTML document around `body`."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><title>{escape(title)}</title>"
        f"<style>{STYLE}</style></head><body><h1>{escape(title)}</h1>"
        f"<p class='meta'>{meta}</p>{body}</body></html>"
    )


def render_report(data: Mapping[str, Any], *, title: str = "") -> str:
    """The evaluate report (`core.evaluation.report.report_json`) as an HTML page."""
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in data.get("notes") or [])
    meta = (
        f"{data.get('records', 0)} test records · tuned {escape(str(data.get('tuned_model')))}"
        + (f" · base {escape(str(data['base_model']))}" if data.get("base_model") else "")
        + f" · {escape(str(data.get('created', '')))} · bootstrap seed {data.get('seed')}"
    )
    body = (
        notes
        + comparison_sections(data.get("compared") or {})
        + _judge_section(data.get("judge"))
        + _sql_section(data.get("sql"))
        + _batch_section(data.get("batch") or [])
    )
    return page(title or "bedrock-tune evaluation", meta, body)


def render_comparison(data: Mapping[str, Any], *, title: str = "") -> str:
    """The `compare` result (`core.evaluation.runs.compare_runs` as JSON) as an HTML page."""
    comparison = data.get("compared") or {}
    notes = "".join(f"<p class='note'>{escape(n)}</p>" for n in data.get("notes") or [])
    meta = f"{comparison.get('records', 0)} test records in common · runs " + ", ".join(
        escape(str(r)) for r in data.get("runs") or []
    )
    return page(
        title or "bedrock-tune: runs compared", meta, notes + comparison_sections(comparison)
    )
