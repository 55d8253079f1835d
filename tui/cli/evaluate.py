"""`bedrock-tune evaluate`: held-out records through the tuned (and base) model, scored with
confidence intervals; optionally SQL that runs, an LLM judge, and batch inference."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from core import format as fmt
from core.errors import NotFoundError, ValidationError
from core.evaluation.batch import DEFAULT_THRESHOLD, BatchPlace, BatchStatus
from core.evaluation.choices import base_inference_model
from core.evaluation.costs import judge_cost_text
from core.evaluation.evaluate import JudgeSetup, Options, evaluate, load_test_records
from core.evaluation.judge import resolve_judge
from core.evaluation.plan import plan_evaluation
from core.evaluation.report import report_json, save_report
from core.evaluation.rubrics import (
    Rubric,
    load_rubric,
    rubric_for_template,
    rubric_from_toml,
    rubric_to_toml,
)
from core.evaluation.stats import DEFAULT_SEED
from core.evaluation.store import EvaluationStore
from core.files import check_output_folder
from core.pricing.service import PriceService
from core.registry import Registry, RunRecord
from core.run.routes import serving_target
from core.run.types import BatchChoice, EvaluationChoices
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    add_aws_options,
    aws_context,
    output_folder,
    positive_int,
    print_json,
    readable_file,
)

SHOWN = ("judge", "sql_execution_match", "sql_exact_match", "rouge1", "rouge2", "rougeL")
LABELS = {
    "judge": "judge",
    "sql_execution_match": "SQL exec",
    "sql_exact_match": "SQL exact",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "exact_match": "exact",
}


def register(subparsers: Any) -> None:
    """Add the `evaluate` parser."""
    parser = subparsers.add_parser(
        "evaluate",
        help="score a tuned model on the test split against its base (ROUGE, SQL, LLM judge)",
        description="Send N test records to the tuned model (and with --compare to the base "
        "model), score the answers against the references (ROUGE-1/2/L and exact match, each "
        "with a 95%% bootstrap confidence interval; with --sql, SQL run in SQLite; with "
        "--judge, an LLM judge by a rubric), and save evaluation.json, .csv and .html. The "
        "evaluation is stored with its run for `bedrock-tune compare`.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("--run", metavar="RUN_ID", help="the run: its model, test split, bucket")
    parser.add_argument(
        "--model",
        help="provisioned throughput/deployment ARN, or endpoint:NAME for a SageMaker endpoint "
        "(default: the run's)",
    )
    parser.add_argument(
        "--test", type=readable_file, help="the prepared test.jsonl (default: the run's)"
    )
    parser.add_argument(
        "--compare",
        metavar="BASE_ID",
        help="the base model's inference id (or `base`: the run's base model)",
    )
    parser.add_argument("-n", type=int, default=50, help="how many records (default 50)")
    parser.add_argument(
        "--concurrency", type=positive_int, default=4, help="parallel requests (default 4)"
    )
    parser.add_argument("--judge", metavar="MODEL", help="an LLM judge: a catalog base model")
    parser.add_argument(
        "--rubric",
        help="preset:summarization, preset:text-to-sql, or a TOML file with a [rubric] table "
        "(default: the run's template's)",
    )
    parser.add_argument(
        "--no-pairwise", action="store_true", help="the judge grades each answer, not A vs B"
    )
    parser.add_argument("--sql", action="store_true", help="run SQL answers in SQLite")
    batch = parser.add_mutually_exclusive_group()
    batch.add_argument("--batch", action="store_true", help="use batch inference where offered")
    batch.add_argument("--no-batch", action="store_true", help="never use batch inference")
    parser.add_argument(
        "--batch-threshold",
        type=positive_int,
        default=DEFAULT_THRESHOLD,
        help=f"records from which batch is used (default {DEFAULT_THRESHOLD:,})",
    )
    parser.add_argument(
        "--seed",
        type=int,
        help="seed of the bootstrap intervals and of SQL's made-up rows (default: fixed)",
    )
    parser.add_argument(
        "--out", type=output_folder, help="folder for the report (default: beside --test)"
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(handler=run)


def _find_run(registry: Registry, run_id: str | None, model: str | None) -> RunRecord | None:
    if run_id:
        found = registry.get_run(run_id)
        if found is None:
            raise NotFoundError(
                f"There is no run '{run_id}' in the registry.",
                hint="`bedrock-tune runs` lists them; or give --model and --test.",
            )
        return found
    if model:
        return next((r for r in registry.runs() if serving_target(r.run) == model), None)
    return None


def _served_model(found: RunRecord | None) -> str | None:
    """What answers for the run: its imported model, its SageMaker endpoint (`endpoint:NAME`),
    else the ARN of its throughput or deployment."""
    return serving_target(found.run) if found is not None else None


def _rubric(args: argparse.Namespace, found: RunRecord | None) -> Rubric | None:
    if args.rubric and not args.judge:
        raise ValidationError("--rubric needs --judge.", hint="--judge 'Nova Pro' --rubric ...")
    if not args.judge:
        return None
    if args.rubric:
        return load_rubric(args.rubric)
    template = found.run.template_toml if found else None
    if template:
        import tomllib

        data = tomllib.loads(template)
        if "rubric" in data:
            return rubric_from_toml(data, f"the template of run {found.id if found else ''}")
        preset = rubric_for_template(str(data.get("name", "")))
        if preset:
            return preset
    raise ValidationError(
        "--judge needs a rubric.",
        hint="Add --rubric preset:summarization, --rubric preset:text-to-sql, or a TOML file "
        "with a [rubric] table.",
    )


def _resolve(args: argparse.Namespace, found: RunRecord | None) -> tuple[str, Path, str | None]:
    from core.catalog.lookup import find_model
    from core.data.prepared import PreparedDir

    model = args.model or _served_model(found)
    test = args.test or (
        PreparedDir(Path(found.run.prepared_dir)).test if found and found.run.prepared_dir else None
    )
    if not model or test is None:
        raise ValidationError(
            "Which model and test file? Give --model and --test, or --run RUN_ID of a run that "
            "is deployed and prepared.",
            hint="bedrock-tune evaluate --model ARN --test prepared/test.jsonl",
        )
    base = args.compare
    if base == "base":
        if not found or not found.run.base_model_id:
            raise ValidationError("--compare base needs --run (whose base model is used).")
        base = find_model(found.run.base_model_id).inference_id
    if args.n < 1:
        raise ValidationError("-n must be at least 1.", hint="Evaluate 1 record or more.")
    return model, test, base


def _interval(entry: Any) -> str:
    if not isinstance(entry, dict) or entry.get("mean") is None:
        return "-"
    return f"{entry['mean']:.3f} [{entry['ci_low']:.3f}, {entry['ci_high']:.3f}]"


def _print_summary(data: dict[str, Any], paths: tuple[Path, Path, Path]) -> None:
    for label in ("tuned", "base"):
        side = data.get(label)
        if not side:
            continue
        parts = [f"{LABELS[k]} {_interval(side[k])}" for k in SHOWN if k in side]
        exact = side.get("exact_match")
        if isinstance(exact, dict) and exact.get("mean") is not None:
            parts.append(f"exact {exact['mean']:.1%}")
        print(f"{label:<6} " + "  ".join(parts) + f"  ({side['answered']} answered)")
    if data.get("verdict"):
        print(data["verdict"])
    failed = [r for r in data["rows"] if r["tuned"]["error"]]
    if failed:
        print(
            f"{fmt.plural(len(failed), 'record')} failed on the tuned model, e.g. line "
            f"{failed[0]['line']}: {failed[0]['tuned']['error']}"
        )
    judge = data.get("judge")
    if judge:
        tuned = judge["tuned"] or {}
        print(
            f"judge {judge['model']}: {judge['calls']} calls, {judge_cost_text(judge)}; "
            f"{tuned.get('unparseable', 0)} unparseable, {tuned.get('failed', 0)} failed"
        )
        if judge.get("pairwise"):
            p = judge["pairwise"]
            print(
                f"judge prefers: tuned {p['tuned']}, base {p['base']}, tie {p['tie']} "
                f"(orders disagreed on {p['orders_disagreed']})"
            )
    sql = (data.get("sql") or {}).get("tuned")
    if sql:
        print(
            f"SQL: {sql['execution_match']} of {sql['scored']} run the same; "
            f"{sql['does_not_parse']} do not parse, {sql['runs_with_an_error']} fail, "
            f"{sql['timed_out']} timed out"
        )
    for note in data.get("notes") or []:
        print(f"note: {note}")
    print(f"Report: {paths[0]}, {paths[1]} and {paths[2]}")


def _choices(
    args: argparse.Namespace, found: RunRecord, base: str | None, rubric: Rubric | None
) -> EvaluationChoices:
    """What this command line chose, as the run keeps it (its recipe then keeps it too): a
    rubric file is kept as its TOML text, so that it travels with the recipe."""
    batch: BatchChoice = "on" if args.batch else "off" if args.no_batch else "auto"
    reference = None
    if args.judge and args.rubric:
        reference = args.rubric if args.rubric.startswith("preset:") else None
        if reference is None and rubric is not None:
            reference = rubric_to_toml(rubric)
    return EvaluationChoices(
        records=args.n,
        compare_base=base is not None and base == base_inference_model(found.run),
        sql=args.sql,
        judge_model=resolve_judge(args.judge) if args.judge else None,
        rubric=reference,
        pairwise=not args.no_pairwise,
        batch=batch,
        batch_threshold=None if args.batch_threshold == DEFAULT_THRESHOLD else args.batch_threshold,
        seed=args.seed,
    )


def run(args: argparse.Namespace) -> int:
    """Evaluate, store with the run, and print the means with intervals and the verdict."""
    registry = Registry()
    found = _find_run(registry, args.run, args.model)
    model, test, base = _resolve(args, found)
    # Checked before any call: a report that cannot be written would waste every answer.
    out_dir = check_output_folder(args.out or test.parent, "report folder")
    rubric = _rubric(args, found)
    records = load_test_records(test, limit=args.n)
    run_data = found.run if found else None
    judge = (
        JudgeSetup(resolve_judge(args.judge), rubric, pairwise=not args.no_pairwise)
        if args.judge and rubric
        else None
    )
    options = Options(
        sql=args.sql,
        judge=judge,
        batch="on" if args.batch else "off" if args.no_batch else "auto",
        batch_threshold=args.batch_threshold,
        batch_place=BatchPlace.for_run(run_data) if run_data else None,
        registry=registry,
        tuned_base_id=run_data.base_model_id if run_data else None,
        seed=DEFAULT_SEED if args.seed is None else args.seed,
    )

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{done}/{total}")

    def batch_progress(side: str, status: BatchStatus) -> None:
        sys.stderr.write(f"{side} batch job: {status.status} {status.processed}/{status.total}\n")

    with aws_context(args) as context:
        # One pricing service for the estimate and the report: the Price List is asked once.
        prices = PriceService(context)
        plan = plan_evaluation(
            records,
            model,
            base,
            options,
            context.region,
            concurrency=args.concurrency,
            prices=prices,
        )
        for line in plan.text():
            sys.stderr.write(line + "\n")
        if any(side.uses_batch for side in plan.sides):
            from dataclasses import replace

            options = replace(options, account_id=context.whoami().account)
        report = evaluate(
            context,
            records,
            model,
            base,
            concurrency=args.concurrency,
            progress=progress,
            options=options,
            on_batch=batch_progress,
        )
    title = f"Evaluation of run {found.id}" if found else "bedrock-tune evaluation"
    saved = save_report(report, out_dir, title=title, prices=prices)
    data = report_json(report, prices)
    EvaluationStore(registry).save(found.id if found else None, data)
    if found is not None and args.run:
        # The run keeps how it was evaluated: its recipe then evaluates the same way.
        from dataclasses import replace

        latest = registry.get_run(found.id) or found
        chosen = _choices(args, found, base, rubric)
        registry.save_run(found.id, replace(latest.run, evaluation=chosen))
    if args.json:
        print_json(data)
        return EXIT_BAD if report.all_failed else EXIT_OK
    _print_summary(data, saved)
    if report.all_failed:
        sys.stderr.write(
            f"Every record failed on the tuned model ({len(report.rows)} of "
            f"{len(report.rows)}): nothing was scored.\nHint: check the model ARN and that it "
            "is deployed and ready (bedrock-tune chat MODEL --prompt hi shows the error).\n"
        )
        return EXIT_BAD
    return EXIT_OK
