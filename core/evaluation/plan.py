"""What an evaluation will cost and take, before it runs: the answers on demand and, where a
model supports it, through batch inference (about half the price, hours instead of minutes),
and the judge's own cost; which way each model's answers will come, and why."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core import format as fmt
from core.data.tokens import estimate_tokens
from core.evaluation.batch_support import BatchSupport, batch_support
from core.evaluation.costs import BATCH_TIME_NOTE, CostLine, estimate_calls, sources, total
from core.evaluation.evaluate import DETERMINISTIC, Options
from core.evaluation.judge import JUDGE_SETTINGS, score_prompt
from core.evaluation.records import TestRecord
from core.pricing.service import PriceService
from core.serving.chat import Settings

JUDGE_REPLY_TOKENS = 60
"""A JSON object with a one-line reason."""


@dataclass(frozen=True)
class Side:
    """One model's part of the plan."""

    side: str
    model: str
    cost: CostLine
    support: BatchSupport
    uses_batch: bool
    why: str


@dataclass(frozen=True)
class EvaluationPlan:
    """The estimate shown before an evaluation runs."""

    records: int
    sides: tuple[Side, ...]
    judge: CostLine | None
    notes: tuple[str, ...]

    @property
    def lines(self) -> list[CostLine]:
        """Every cost line (answers, then the judge)."""
        return [s.cost for s in self.sides] + ([self.judge] if self.judge else [])

    def text(self) -> list[str]:
        """The estimate in a few lines (the CLI prints them; the evaluate step shows them)."""
        batch_offered = any(s.cost.batch is not None for s in self.sides)
        seconds = sum(line.seconds_on_demand for line in self.lines)
        hourly = " and ".join(
            dict.fromkeys(
                "the SageMaker endpoint's instance-hours"
                if side.model.startswith("endpoint:")
                else "the provisioned throughput's hourly bill"
                for side in self.sides
                if side.cost.hourly
            )
        )
        records = fmt.plural(self.records, "test record")
        if all(line.hourly for line in self.lines):
            # Nothing is priced per answer: a "$0.00" total would read as a price nobody
            # knows, and hide what does bill.
            return [
                f"{records}. Estimate: no per-answer charge; {hourly} go on while it exists, "
                f"~{fmt.duration(seconds)}.",
                *(f"  {line.text()}" for line in self.lines),
                *(f"  {s.side} model answers {s.why}" for s in self.sides),
                *self.notes,
            ]
        besides = f" (besides {hourly})" if hourly else ""
        out = [
            f"{records}. Estimate on demand: about "
            f"{_priced(self.lines, batch=False)}{besides}, ~{fmt.duration(seconds)}."
        ]
        if batch_offered:
            out.append(
                f"Estimate with batch inference where offered: about "
                f"{_priced(self.lines, batch=True)}{besides} ({BATCH_TIME_NOTE})."
            )
        out += [f"  {line.text()}" for line in self.lines]
        out += [f"  {s.side} model answers {s.why}" for s in self.sides]
        out += list(self.notes)
        return out


def _priced(lines: list[CostLine], *, batch: bool) -> str:
    """A total with its sources, or why there is none."""
    amount = total(lines, batch=batch)
    if amount is None:
        return f"{fmt.UNKNOWN_PRICE} (a model's price is unknown: see below)"
    where = sources(lines, batch=batch)
    return f"{fmt.money(amount)} ({where})" if where else fmt.money(amount)


def _tuned_price_model(model: str, tuned_base_id: str | None) -> str | None:
    """Whom the tuned model's tokens are priced like (None: it bills by the hour instead)."""
    if ":provisioned-model/" in model or model.startswith("endpoint:"):
        return None  # a SageMaker endpoint bills its instance-hours, not tokens
    return tuned_base_id or model


def plan_evaluation(
    records: Sequence[TestRecord],
    tuned_model: str,
    base_model: str | None,
    options: Options,
    region: str,
    *,
    concurrency: int = 4,
    settings: Settings = DETERMINISTIC,
    prices: PriceService | None = None,
) -> EvaluationPlan:
    """The cost and time of evaluating `records` with `options` (estimates, labelled so), at
    the prices of `region` from `prices` (default: the cached Price List answer, else the
    built-in figures; a service with an AWS context may call the Price List API, so run this
    in a worker)."""
    prices = prices or PriceService(None)
    prompts = [f"{r.system}\n\n{r.user}" if r.system else r.user for r in records]
    answer_tokens = (
        sum(min(settings.max_tokens, estimate_tokens(r.reference)) for r in records)
        // max(1, len(records))
        or 1
    )
    wants = options.wants_batch(len(records))
    sides: list[Side] = []
    notes: list[str] = []
    for side, model in (("tuned", tuned_model), ("base", base_model)):
        if not model:
            continue
        support = batch_support(model, region)
        priced = _tuned_price_model(model, options.tuned_base_id) if side == "tuned" else model
        line = estimate_calls(
            f"{side} model",
            priced,
            prompts,
            output_tokens_each=answer_tokens,
            concurrency=concurrency,
            batch_offered=support.offered,
            region=region,
            prices=prices,
            note="SageMaker endpoint: billed per instance-hour, not per answer"
            if model.startswith("endpoint:")
            else "",
        )
        uses = wants and support.offered and options.batch_place is not None
        if uses:
            why = "through batch inference"
        elif wants and not support.offered:
            why = f"on demand: batch is not offered ({support.reason})"
        elif wants:
            why = "on demand: batch needs the run's bucket and role"
        else:
            why = (
                f"on demand (batch from {options.batch_threshold:,} records on, or on request)"
                if support.offered
                else "on demand"
            )
        sides.append(Side(side, model, line, support, uses, why))
    judge_line = None
    if options.judge is not None:
        per_record = len(sides) + (2 if options.judge.pairwise and base_model else 0)
        judge_prompts = [
            score_prompt(options.judge.rubric, record, record.reference) for record in records
        ]
        judge_line = estimate_calls(
            "judge",
            options.judge.model_id,
            judge_prompts,
            output_tokens_each=min(JUDGE_REPLY_TOKENS, JUDGE_SETTINGS.max_tokens),
            calls_each=per_record,
            concurrency=concurrency,
            note="an unreadable reply is asked once more",
            region=region,
            prices=prices,
        )
    return EvaluationPlan(len(records), tuple(sides), judge_line, tuple(notes))
