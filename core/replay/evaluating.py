"""The replayed Evaluate step: a recipe with an [evaluation] section evaluates the served model
the way the recipe says (`core.evaluation.choices`, as the app's Evaluate step and
`bedrock-tune evaluate --run` do), saves the report beside the test split and stores it with the
run. It bills (the tuned model's answers, the base model's and the judge's tokens), so the
engine asks first, with the estimate (`evaluation_question`).
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from core.data.prepared import PreparedDir
from core.evaluation.choices import Prepared, prepare_evaluation
from core.evaluation.evaluate import evaluate, load_test_records
from core.evaluation.plan import plan_evaluation
from core.evaluation.records import TestRecord
from core.evaluation.report import report_json, save_report
from core.evaluation.store import EvaluationStore, EvaluationStoreError, StoredEvaluation
from core.pricing.service import PriceService
from core.registry import Registry
from core.replay.shop import ReplayStepFailed, Workshop
from core.run.routes import serving_target
from core.run.types import EvaluationChoices, Run

HEADLINE = ("rougeL", "rouge1", "judge", "sql_execution_match", "exact_match")
"""The scores a replay's summary shows for each model (the means; the report has the rest)."""


CHOICES_KEY = "choices"
"""Where a replayed evaluation's stored report keeps the choices it was made with."""


def stored_evaluation(registry: Registry, run: Run) -> StoredEvaluation | None:
    """The run's newest stored evaluation made with the run's evaluation choices (None: none,
    or the recipe's [evaluation] changed since: the step is to do again)."""
    if run.run_id is None or run.evaluation is None:
        return None
    wanted = asdict(run.evaluation)
    store = EvaluationStore(registry)
    for stored in store.for_run(run.run_id):
        try:
            if store.load(stored).get(CHOICES_KEY) == wanted:
                return stored
        except EvaluationStoreError:
            continue  # a damaged report is not this step's outcome
    return None


def evaluated(registry: Registry, run: Run) -> bool:
    """Whether an evaluation with the run's choices is stored (an earlier replay did it)."""
    return stored_evaluation(registry, run) is not None


def _setup(shop: Workshop, run: Run) -> tuple[EvaluationChoices, str, Path, Prepared]:
    choices = run.evaluation
    tuned = serving_target(run)
    folder = PreparedDir.of(run.prepared_dir)
    if choices is None or tuned is None or folder is None:
        raise ReplayStepFailed(
            f"Run {run.run_id} has nothing to evaluate: no served model or no test split.",
            hint="Replay the steps before evaluate first (the same command continues).",
        )
    prepared = prepare_evaluation(
        choices,
        run,
        registry=shop.registry,
        account_id=run.account_id or "",
        where=f"{shop.recipe.where} [evaluation]",
    )
    return choices, tuned, folder.test, prepared


def _records(test: Path, count: int) -> list[TestRecord]:
    return list(load_test_records(test, limit=count))


def _estimate(shop: Workshop, run: Run) -> list[str]:
    """The evaluation's estimate (cost and time) as lines."""
    choices, tuned, test, prepared = _setup(shop, run)
    records = _records(test, choices.records)
    region = run.region or shop.context.region
    plan = plan_evaluation(
        records, tuned, prepared.base, prepared.options, region, prices=PriceService(shop.context)
    )
    return plan.text()


def evaluation_question(shop: Workshop, run: Run) -> str:
    """What confirming the evaluate step means, with the estimate of its cost and time."""
    choices, _, _, prepared = _setup(shop, run)
    judge = prepared.options.judge
    who = f", graded by {judge.model_id}" if judge else ""
    return (
        f"Evaluate the tuned model on up to {choices.records} test records{who}? The answers "
        "(and the judge's grades) are billed per token.\n" + "\n".join(_estimate(shop, run))
    )


def do_evaluate(shop: Workshop, run: Run) -> Run:
    """Evaluate as the recipe says, save the report beside the test split, and store it with
    the run (a rerun finds it stored and does not evaluate, and bill, again)."""
    choices, tuned, test, prepared = _setup(shop, run)
    records = _records(test, choices.records)
    for line in _estimate(shop, run):  # said with --yes too, where nobody was asked
        shop.note(line)
    shop.note(
        f"{len(records)} records to {tuned}" + (f" and {prepared.base}" if prepared.base else "")
    )
    report = evaluate(
        shop.context,
        records,
        tuned,
        prepared.base,
        options=prepared.options,
        on_batch=lambda side, status: shop.note(
            f"{side} batch job: {status.status} {status.processed}/{status.total}"
        ),
    )
    if report.all_failed:
        raise ReplayStepFailed(
            f"Every record failed on the tuned model ({len(report.rows)} of {len(report.rows)}): "
            "nothing was scored, and nothing is stored.",
            hint="Check that the model is deployed and ready (`bedrock-tune chat MODEL --prompt "
            "hi` shows the error); the same command evaluates again.",
        )
    prices = PriceService(shop.context)
    saved = save_report(report, test.parent, title=f"Evaluation of run {run.run_id}", prices=prices)
    data = {**report_json(report, prices), CHOICES_KEY: asdict(choices)}
    stored = EvaluationStore(shop.registry).save(run.run_id, data)
    shop.note(f"report {saved.html} (stored as evaluation {stored.id})")
    if data.get("verdict"):
        shop.note(str(data["verdict"]))
    return run


def _means(side: Any) -> dict[str, float]:
    if not isinstance(side, dict):
        return {}
    means = {}
    for key in HEADLINE:
        entry = side.get(key)
        if isinstance(entry, dict) and isinstance(entry.get("mean"), int | float):
            means[key] = float(entry["mean"])
    return means


def evaluation_summary(registry: Registry, run: Run) -> dict[str, Any] | None:
    """The run's stored evaluation of its choices for a replay's summary: its id, where its
    report is, and the headline means of each model (None: none stored)."""
    stored = stored_evaluation(registry, run)
    if stored is None:
        return None
    data = EvaluationStore.load(stored)
    folder = PreparedDir.of(run.prepared_dir)
    report = folder.test.parent / "evaluation.html" if folder is not None else None
    return {
        "id": stored.id,
        "stored": str(stored.path),
        "report": str(report) if report is not None and report.is_file() else None,
        "records": stored.records,
        "tuned_model": stored.tuned_model,
        "base_model": stored.base_model,
        "tuned": _means(data.get("tuned")),
        "base": _means(data.get("base")) if data.get("base") else None,
        "verdict": data.get("verdict"),
    }
