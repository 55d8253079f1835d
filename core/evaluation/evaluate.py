"""Evaluation on held-out data: N test records through the tuned model (and the base model),
scored against each record's reference answer; optionally SQL run in SQLite, an LLM judge, and
batch inference for large sets.

The flow: the judge's access is checked first (nothing is spent on answers a judge could then
not grade); answers come from concurrent Converse calls (throttling retried), or from a Bedrock
batch job per model when the set is large or batch is asked for and the model supports it (a
model it does not serve, or a job that yields nothing, falls back to Converse with a note);
then ROUGE and exact match, SQL execution when asked, and the judge. `core.evaluation.report`
turns the `Report` into JSON, CSV and HTML with confidence intervals.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from statistics import mean
from typing import Any, Literal

from core.aws import AwsContext
from core.errors import BedrockTuneError, ValidationError
from core.evaluation.batch import (
    DEFAULT_THRESHOLD,
    BatchJobInfo,
    BatchPlace,
    BatchRunner,
    BatchStatus,
)
from core.evaluation.batch_support import batch_support
from core.evaluation.judge import Judge, PairVerdict, Verdict, self_judging_warning
from core.evaluation.records import TestRecord, load_test_records
from core.evaluation.retry import retry_throttled
from core.evaluation.rubrics import Rubric
from core.evaluation.scores import Comparison, compare
from core.evaluation.sql import DEFAULT_TIME_LIMIT, SqlOutcome, score_sql
from core.evaluation.stats import DEFAULT_SEED
from core.poll import Pacing
from core.registry import Registry
from core.serving.chat import Settings, Turn, converse
from core.serving.endpoint import endpoint_of, invoke_endpoint

__all__ = [
    "DETERMINISTIC",
    "JudgeSetup",
    "Options",
    "Report",
    "Result",
    "Row",
    "TestRecord",
    "evaluate",
    "load_test_records",
]

DETERMINISTIC = Settings(max_tokens=512, temperature=0.0, top_p=1.0)
"""Evaluation settings: temperature 0, so that base and tuned are compared fairly."""

BatchMode = Literal["auto", "on", "off"]


@dataclass(frozen=True)
class Result:
    """One model's answer to one record, scored."""

    answer: str
    scores: Comparison | None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    sql: SqlOutcome | None = None
    judge: Verdict | None = None
    via: str = "on-demand"
    """`on-demand` (Converse) or `batch`."""


@dataclass(frozen=True)
class Row:
    """One test record through the tuned (and base) model."""

    record: TestRecord
    tuned: Result
    base: Result | None
    pair: PairVerdict | None = None
    """The judge's preference between the two answers (asked in both orders)."""


@dataclass(frozen=True)
class JudgeSetup:
    """Which model judges, by which rubric, and whether it also compares tuned with base."""

    model_id: str
    """The judge's inference id (`core.evaluation.judge.resolve_judge`)."""
    rubric: Rubric
    pairwise: bool = True


@dataclass(frozen=True)
class Options:
    """What an evaluation does beyond ROUGE and exact match."""

    sql: bool = False
    judge: JudgeSetup | None = None
    batch: BatchMode = "auto"
    """`auto`: batch from `batch_threshold` records on; `on`: whenever a model supports it."""
    batch_threshold: int = DEFAULT_THRESHOLD
    batch_place: BatchPlace | None = None
    registry: Registry | None = None
    account_id: str = ""
    pacing: Pacing = field(default_factory=Pacing)
    seed: int = DEFAULT_SEED
    sql_time_limit: float = DEFAULT_TIME_LIMIT
    tuned_base_id: str | None = None
    """The tuned model's base (catalog id): for self-judging warnings and serving costs."""

    def wants_batch(self, records: int) -> bool:
        """Whether batch inference is asked for (explicitly or by size)."""
        return self.batch == "on" or (self.batch == "auto" and records >= self.batch_threshold)


@dataclass(frozen=True)
class Report:
    """The whole evaluation."""

    tuned_model: str
    base_model: str | None
    rows: tuple[Row, ...]
    judge_model: str | None = None
    rubric: Rubric | None = None
    sql: bool = False
    judge_usage: tuple[int, int, int] = (0, 0, 0)
    """The judge's (calls, input tokens, output tokens)."""
    batch_jobs: tuple[BatchJobInfo, ...] = ()
    notes: tuple[str, ...] = ()
    seed: int = DEFAULT_SEED
    tuned_base_id: str | None = None
    region: str | None = None
    """Where the models were called (their prices are that region's)."""
    created: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @property
    def all_failed(self) -> bool:
        """Whether no record got an answer from the tuned model (every call failed)."""
        return bool(self.rows) and all(r.tuned.error is not None for r in self.rows)

    def summary(self, which: str) -> dict[str, float]:
        """Mean ROUGE-1/2/L and exact-match rate of `tuned` or `base` (no intervals: the
        report's JSON has them)."""
        results = [getattr(r, which) for r in self.rows if getattr(r, which) is not None]
        scored = [r.scores for r in results if r.scores is not None]
        if not scored:
            return {}
        return {
            "rouge1": mean(s.rouge1 for s in scored),
            "rouge2": mean(s.rouge2 for s in scored),
            "rougeL": mean(s.rouge_l for s in scored),
            "exact_match": mean(1.0 if s.exact else 0.0 for s in scored),
            "answered": float(len(scored)),
        }


Progress = Callable[[int, int], None]


@dataclass
class _Counter:
    total: int
    progress: Progress | None
    done: int = 0

    def step(self, count: int = 1) -> None:
        self.done += count
        if self.progress:
            self.progress(min(self.done, self.total), self.total)


def _ask(
    context: AwsContext,
    model: str,
    record: TestRecord,
    settings: Settings,
    sleep: Callable[[float], None],
) -> Result:
    def call() -> Any:
        endpoint = endpoint_of(model)
        if endpoint is not None:  # a SageMaker endpoint (`endpoint:NAME`): InvokeEndpoint
            return invoke_endpoint(
                context, endpoint, record.system, [Turn("user", record.user)], settings
            )
        return converse(
            context, model, record.system, [Turn("user", record.user)], settings, sleep=sleep
        )

    try:
        answer = retry_throttled(call, sleep)
    except BedrockTuneError as error:
        return Result("", None, error.message)
    return Result(
        answer.text, None, None, answer.input_tokens, answer.output_tokens, via="on-demand"
    )


@dataclass
class _Run:
    """One evaluation's state while it runs (its parts are the steps of `evaluate`)."""

    context: AwsContext
    records: list[TestRecord]
    settings: Settings
    options: Options
    pool: ThreadPoolExecutor
    counter: _Counter
    cancelled: Callable[[], bool]
    sleep: Callable[[float], None]
    on_batch: Callable[[str, BatchStatus], None]
    notes: list[str] = field(default_factory=list)
    jobs: list[BatchJobInfo] = field(default_factory=list)

    def answers(self, side: str, model: str) -> list[Result | None]:
        """Every record's answer from `model`: batch when asked and offered, else Converse."""
        if self.options.wants_batch(len(self.records)):
            batched = self._batch(side, model)
            if batched is not None:
                return batched
        return self._converse(model)

    def _converse(self, model: str) -> list[Result | None]:
        def one(record: TestRecord) -> Result | None:
            if self.cancelled():
                return None
            result = _ask(self.context, model, record, self.settings, self.sleep)
            self.counter.step()
            return result

        return list(self.pool.map(one, self.records))

    def _batch(self, side: str, model: str) -> list[Result | None] | None:
        support = batch_support(model, self.context.region)
        if not support.offered:
            self.notes.append(
                f"Batch inference is not offered for the {side} model ({support.reason}); its "
                "answers come from on-demand Converse."
            )
            return None
        place, registry = self.options.batch_place, self.options.registry
        if place is None or registry is None:
            self.notes.append(
                f"Batch inference for the {side} model needs the run's bucket and role (the "
                "infrastructure and upload steps); its answers come from on-demand Converse."
            )
            return None
        runner = BatchRunner(
            self.context,
            place,
            registry,
            self.options.account_id,
            pacing=self.options.pacing,
            on_status=lambda status: self.on_batch(side, status),
            cancelled=self.cancelled,
        )
        prompts = [(r.system, r.user) for r in self.records]
        outcome = runner.run(model, support.family, prompts, self.settings)
        self.jobs.append(outcome.info)
        if not outcome.usable:
            if self.cancelled():
                return [None] * len(self.records)
            why = outcome.info.message or f"the job ended {outcome.info.status}"
            self.notes.append(
                f"The {side} model's batch job gave no answers ({why}); its answers come from "
                "on-demand Converse instead."
            )
            return None
        if outcome.info.failed:
            self.notes.append(
                f"The {side} model's batch job failed {outcome.info.failed} of "
                f"{outcome.info.records} records: they are counted as failed and the rest scored."
            )
        self.counter.step(len(self.records))
        results: list[Result | None] = []
        for index in range(len(self.records)):
            got = outcome.answers[index]
            results.append(
                Result(got.text, None, got.error, got.input_tokens, got.output_tokens, via="batch")
            )
        return results

    def scored(self, record: TestRecord, result: Result) -> Result:
        """ROUGE and exact match, and SQL when asked and the record has a schema."""
        if result.error is not None:
            return result
        sql = None
        if self.options.sql:
            schema = record.schema
            if schema:
                sql = score_sql(
                    schema,
                    record.reference,
                    result.answer,
                    time_limit=self.options.sql_time_limit,
                    seed=self.options.seed,
                )
        return replace(result, scores=compare(result.answer, record.reference), sql=sql)


def _judged(judge: Judge, run: _Run, rows: list[Row], pairwise: bool) -> list[Row]:
    def one(row: Row) -> Row:
        if run.cancelled():
            return row
        tuned, base, pair = row.tuned, row.base, None
        if tuned.error is None:
            tuned = replace(tuned, judge=_safely(lambda: judge.score(row.record, tuned.answer)))
        if base is not None and base.error is None:
            answer = base.answer
            base = replace(base, judge=_safely(lambda: judge.score(row.record, answer)))
        if pairwise and base is not None and tuned.error is None and base.error is None:
            try:
                pair = judge.prefer(row.record, tuned.answer, base.answer)
            except BedrockTuneError as error:
                pair = PairVerdict(None, None, None, f"failed: {error.message}")
        run.counter.step()
        return Row(row.record, tuned, base, pair)

    return list(run.pool.map(one, rows))


def _safely(call: Callable[[], Verdict]) -> Verdict:
    """A judge call whose AWS failure (after retries) is recorded, not raised."""
    try:
        return call()
    except BedrockTuneError as error:
        return Verdict("failed", None, error.message, 1)


def evaluate(
    context: AwsContext,
    records: Sequence[TestRecord],
    tuned_model: str,
    base_model: str | None = None,
    *,
    settings: Settings = DETERMINISTIC,
    concurrency: int = 4,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    options: Options | None = None,
    sleep: Callable[[float], None] = time.sleep,
    on_batch: Callable[[str, BatchStatus], None] = lambda side, status: None,
) -> Report:
    """Answer every record with the models, score the answers (see the module doc).

    Raises:
        ValidationError: bad settings or a concurrency below 1 (checked before any call).
        AccessDeniedError: the judge model cannot be called (checked before anything else).
    """
    if concurrency < 1:
        raise ValidationError(
            f"Concurrency {concurrency} sends no request.",
            hint="Send 1 request at a time or more (4 is a good start).",
        )
    settings.check()
    options = options or Options()
    items = list(records)
    judge = None
    notes: list[str] = []
    if options.judge is not None:
        judge = Judge(context, options.judge.model_id, options.judge.rubric, sleep=sleep)
        judge.check_access()
        warning = self_judging_warning(
            options.judge.model_id, [tuned_model, options.tuned_base_id, base_model]
        )
        if warning:
            notes.append(warning)
    sides = [("tuned", tuned_model)] + ([("base", base_model)] if base_model else [])
    total = len(items) * len(sides) + (len(items) if judge else 0)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        run = _Run(
            context,
            items,
            settings,
            options,
            pool,
            _Counter(total, progress),
            cancelled,
            sleep,
            on_batch,
            notes,
        )
        answers = {side: run.answers(side, model) for side, model in sides}
        rows: list[Row] = []
        for index, record in enumerate(items):
            tuned = answers["tuned"][index]
            base = answers["base"][index] if "base" in answers else None
            if tuned is None or ("base" in answers and base is None):
                continue  # cancelled before this record was asked
            rows.append(
                Row(record, run.scored(record, tuned), run.scored(record, base) if base else None)
            )
        if judge is not None and options.judge is not None:
            rows = _judged(judge, run, rows, options.judge.pairwise)
    return Report(
        tuned_model,
        base_model,
        tuple(rows),
        judge_model=options.judge.model_id if options.judge else None,
        rubric=options.judge.rubric if options.judge else None,
        sql=options.sql,
        judge_usage=(judge.calls, judge.input_tokens, judge.output_tokens) if judge else (0, 0, 0),
        batch_jobs=tuple(run.jobs),
        notes=tuple(run.notes),
        seed=options.seed,
        tuned_base_id=options.tuned_base_id,
        region=context.region,
    )
