"""`bedrock-tune autopilot`: fine-tune a base model with SageMaker Autopilot
(`CreateAutoMLJobV2`, text generation), the training half of the `sagemaker-autopilot` route.

- `autopilot models`: the base models Autopilot offers, with their lifecycle (the feature is
  legacy: said plainly, with what to use instead).
- `autopilot launch --base NAME --train S3_CSV --role ARN`: check everything (the model is
  offered, its EULA accepted, the hyperparameters in range), record the run (route
  `sagemaker-autopilot`, job name and run id) before the call, create the job; a rerun after a
  crash re-attaches (the job carries the run's id as a tag). `--dry-run --json` prints
  `{"operation": "CreateAutoMLJobV2", "request": {...}}` and sends nothing.
- `autopilot watch NAME`: the secondary statuses as a timeline, then the best candidate's
  metrics and inference containers (exit 0 Completed, 1 Failed or Stopped).
- `autopilot stop NAME`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, replace
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core.aws import AwsContext
from core.errors import ValidationError, aws_call
from core.naming import AUTOML_MAX_NAME, default_automl_job_name
from core.ownership import RUN_TAG, ownership_tags
from core.poll import Backoff, Pacing, PollUpdate
from core.registry import Registry, new_run_id
from core.run import Route, Run
from core.sagemaker.autopilot import (
    ASSUMED_INSTANCE,
    METRIC_LABELS,
    AutopilotRequest,
    AutopilotSnapshot,
    CompletionCriteria,
    Timeline,
    autopilot_poller,
    check_autopilot_request,
    describe_autopilot_job,
    estimate_autopilot_cost,
    stop_autopilot_job,
)
from core.sagemaker.autopilot_data import RECOMMENDED_ROWS, write_autopilot_csv
from core.sagemaker.autopilot_models import (
    AUTOPILOT_MODELS,
    DEFAULT_BASE_MODEL,
    FEATURE_STATUS,
    HYPERPARAMETERS,
    SOURCE,
    autopilot_model,
)
from core.sagemaker.kinds import AUTOML_JOB
from core.sagemaker.launching import job_ended, start_autopilot
from core.statuses import JobStatus
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    add_aws_options,
    add_job_actions,
    aws_context,
    hyperparameter_pairs,
    output_beside,
    output_file,
    placed,
    positive_float,
    positive_int,
    print_json,
    readable_file,
)


def register(subparsers: Any) -> None:
    """Add `autopilot` and its actions."""
    parser = subparsers.add_parser(
        "autopilot",
        help="fine-tune a model with SageMaker Autopilot (legacy; served on an endpoint)",
        description="SageMaker Autopilot LLM fine-tuning (CreateAutoMLJobV2). " + FEATURE_STATUS,
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    models = actions.add_parser("models", help="the base models Autopilot offers")
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=run_models)

    table = actions.add_parser(
        "csv", help="write Autopilot's input,output CSV from a prepared JSONL file"
    )
    add_aws_options(table, suppress=True)
    table.add_argument("source", metavar="JSONL", type=readable_file, help="prepared records")
    table.add_argument(
        "destination", metavar="CSV", type=output_file(overwrite=True), help="the CSV to write"
    )
    table.add_argument("--base", default=DEFAULT_BASE_MODEL, help="checks its row limit")
    table.add_argument("--upload", metavar="S3_URI", help="also put the CSV at this s3:// URI")
    table.add_argument("--json", action="store_true", help="print JSON")
    table.set_defaults(handler=run_csv)

    launch = actions.add_parser("launch", help="start an Autopilot job (once; a rerun re-attaches)")
    add_aws_options(launch, suppress=True)
    launch.add_argument(
        "--base", default=DEFAULT_BASE_MODEL, help=f"BaseModelName (default {DEFAULT_BASE_MODEL})"
    )
    launch.add_argument("--train", required=True, help="s3:// URI of the input,output CSV")
    launch.add_argument("--validation", help="s3:// URI of a validation CSV")
    launch.add_argument(
        "--output", help="s3:// folder for the results (default: beside the training data)"
    )
    launch.add_argument("--role", required=True, help="ARN of the SageMaker execution role")
    launch.add_argument(
        "--accept-eula",
        action="store_true",
        help="accept the base model's end-user licence (Llama 2 needs it; asked explicitly)",
    )
    launch.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="; ".join(f"{h.name} {h.low:g}-{h.high:g}" for h in HYPERPARAMETERS) + " (repeat)",
    )
    launch.add_argument(
        "--max-runtime",
        type=positive_int,
        default=CompletionCriteria().max_runtime_per_training_job,
        help="completion criterion: seconds per training job (default 72 h)",
    )
    launch.add_argument(
        "--max-job-runtime", type=positive_int, help="completion criterion: seconds in all"
    )
    launch.add_argument("--name", help=f"job name (at most {AUTOML_MAX_NAME} characters)")
    launch.add_argument("--run-id", help="the run to launch or re-attach to")
    launch.add_argument(
        "--hours", type=positive_float, default=2.0, help="expected hours, for the estimate (2)"
    )
    launch.add_argument(
        "--dry-run", action="store_true", help="print the CreateAutoMLJobV2 request; send nothing"
    )
    launch.add_argument("--json", action="store_true", help="print JSON")
    launch.set_defaults(handler=run_launch)

    add_job_actions(
        actions,
        (
            (
                "watch",
                run_watch,
                "follow an Autopilot job to its end (exit 0 Completed, 1 not)",
            ),
            ("stop", run_stop, "stop an Autopilot job"),
        ),
        job_help="Autopilot (AutoML) job name",
        interval=60.0,
    )


def run_models(args: argparse.Namespace) -> int:
    """The models Autopilot offers and the feature's status."""
    rows = [asdict(m) for m in AUTOPILOT_MODELS]
    if args.json:
        print_json({"feature": FEATURE_STATUS, "source": SOURCE, "models": rows})
        return EXIT_OK
    print(FEATURE_STATUS + "\n")
    for m in AUTOPILOT_MODELS:
        eula = "EULA" if m.eula else "    "
        print(
            f"{m.name:<18} {m.lifecycle:<7} {eula} rows<={m.row_limit:>6,} "
            f"context {m.context:>5}  {m.jumpstart_id}"
        )
    print(f"\nSource: {SOURCE}")
    return EXIT_OK


def _record_run_folder(context: AwsContext, uri: str) -> None:
    """A CSV put in a run's data folder (`s3://<bucket>/<prefix>/<run>/data/`): the folder is
    recorded first, as `upload` does, so teardown deletes what is put there (and the job's
    output beside it), then the bucket."""
    from core.upload import record_run_folder, run_folder_of

    registry = Registry()
    location = run_folder_of(uri, {record.id for record in registry.runs()})
    if location is not None:
        record_run_folder(registry, location, context.region, context.whoami().account)


def run_csv(args: argparse.Namespace) -> int:
    """Write (and optionally upload) the CSV; warn about the row limit and the recommendation."""
    model = autopilot_model(args.base)
    if args.upload and not args.upload.startswith("s3://"):
        raise ValidationError(
            f"--upload '{args.upload}' is not an s3:// URI", hint="e.g. s3://bucket/run/data/"
        )
    rows = write_autopilot_csv(args.source, args.destination)
    notes: list[str] = []
    if rows > model.row_limit:
        notes.append(
            f"{rows:,} rows is over {model.name}'s limit of {model.row_limit:,} (training and "
            "validation together): the job would fail validation. Sample fewer rows."
        )
    if rows < RECOMMENDED_ROWS:
        notes.append(f"AWS recommends at least {RECOMMENDED_ROWS:,} rows; this has {rows:,}.")
    uploaded = None
    if args.upload:
        uri = args.upload.rstrip("/") + "/" + args.destination.name
        uri = args.upload if args.upload.endswith(".csv") else uri
        bucket, _, key = uri.removeprefix("s3://").partition("/")
        with aws_context(args) as context:
            _record_run_folder(context, uri)
            with aws_call(f"uploading the CSV to {uri}"):
                context.client("s3").put_object(
                    Bucket=bucket, Key=key, Body=args.destination.read_bytes()
                )
        uploaded = uri
    if args.json:
        print_json(
            {"csv": str(args.destination), "rows": rows, "uploaded": uploaded, "notes": notes}
        )
    else:
        print(
            f"Wrote {rows:,} rows to {args.destination}"
            + (f", uploaded to {uploaded}" if uploaded else "")
        )
        for note in notes:
            print(f"  note: {note}")
    return EXIT_BAD if rows > model.row_limit else EXIT_OK


def _request(args: argparse.Namespace, name: str, run_id: str, owner: dict[str, str]) -> Any:
    output = (args.output or output_beside(args.train)).rstrip("/") + "/"
    return check_autopilot_request(
        AutopilotRequest(
            job_name=name,
            role_arn=args.role,
            base_model=args.base,
            training_uri=args.train,
            validation_uri=args.validation,
            output_uri=output,
            hyperparameters=hyperparameter_pairs(args.hp, "epochCount=3"),
            completion=CompletionCriteria(args.max_runtime, args.max_job_runtime),
            accept_eula=args.accept_eula,
            tags={RUN_TAG: run_id, **owner},
        )
    )


def run_launch(args: argparse.Namespace) -> int:
    """Check, record the run, then start the Autopilot job once."""
    registry = Registry()
    with aws_context(args) as context:
        saved = registry.get_run(args.run_id) if args.run_id else None
        run_id = args.run_id or new_run_id()
        name = (
            (saved.run.job_name if saved else None)
            or args.name
            or default_automl_job_name(args.base)
        )
        if args.dry_run:
            api = _request(args, name, run_id, {}).to_api()
            print_json({"operation": "CreateAutoMLJobV2", "request": api})
            return EXIT_OK
        identity = context.whoami()
        owner = ownership_tags(registry.install_id(), identity.arn)
        request = _request(args, name, run_id, owner)
        run = placed(
            Run(
                run_id=run_id,
                route=Route.SAGEMAKER_AUTOPILOT,
                base_model_id=args.base,
                role_arn=args.role,
                training_uri=args.train,
                validation_uri=args.validation,
                output_uri=request.output_uri,
                hyperparameters=dict(request.hyperparameters),
                job_name=name,
            ),
            context,
            identity,
            args,
        )
        # Before the call: CreateAutoMLJobV2 takes no client token, so the saved name and run
        # id (a tag on the job) are what make a rerun re-attach instead of creating a second.
        registry.save_run(run_id, run)
        arn, reattached = start_autopilot(context, request, run, registry)
        registry.save_run(run_id, replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS))
        from core.pricing.service import PriceService

        prices = PriceService(context).instance_prices(ASSUMED_INSTANCE, context.region)
    estimate = estimate_autopilot_cost(prices, args.hours, request.completion)
    data = {
        "run_id": run_id,
        "job_name": name,
        "job_arn": arn,
        "reattached": reattached,
        "estimate_usd": estimate.expected,
        "ceiling_usd": estimate.ceiling,
        "estimate_note": estimate.note,
    }
    if args.json:
        print_json(data)
        return EXIT_OK
    verb = "Re-attached to" if reattached else "Started"
    print(f"{verb} the Autopilot job {name} (run {run_id})\n  ARN  {arn}")
    print(f"  estimate  {estimate.text()}")
    print(f"Follow it with: bedrock-tune autopilot watch {name}")
    return EXIT_OK


def _candidate_json(snapshot: AutopilotSnapshot) -> dict[str, Any] | None:
    best = snapshot.best
    if best is None:
        return None
    return {
        "name": best.name,
        "status": best.status,
        "metrics": dict(best.metrics),
        "containers": [asdict(c) for c in best.containers],
    }


def run_watch(args: argparse.Namespace) -> int:
    """Follow the job: its secondary statuses as a timeline, then the best candidate."""
    registry = Registry()
    timeline = Timeline()
    with aws_context(args) as context:

        def changed(update: PollUpdate[AutopilotSnapshot]) -> None:
            if update.error is not None:
                sys.stderr.write(f"(status check failed, retrying: {update.error.describe()})\n")
                return
            snapshot = update.value
            if snapshot is not None and update.changed and timeline.see(snapshot):
                _emit(
                    args,
                    {
                        "event": "status",
                        "status": snapshot.status,
                        "secondary_status": snapshot.secondary_status,
                    },
                )

        poller = autopilot_poller(
            lambda: describe_autopilot_job(context, args.job),
            backoff=Backoff.starting_at(args.interval),
            pacing=Pacing(sleep=sleep),
        )
        final = poller.run(changed)
        assert final is not None  # never cancelled: run returns once the job has ended
    job_ended(registry, AUTOML_JOB, final.name)  # it bills nothing more
    saved = next((r for r in registry.runs() if r.run.job_name == final.name), None)
    if saved is not None and final.status in {s.value for s in JobStatus}:
        registry.save_run(saved.id, replace(saved.run, job_status=JobStatus(final.status)))
    _emit(
        args,
        {
            "event": "end",
            "status": final.status,
            "failure_reason": final.failure_reason,
            "timeline": timeline.statuses,
            "base_model": final.base_model,
            "best_candidate": _candidate_json(final),
        },
    )
    if final.status == "Completed" and not args.json:
        print(f"Deploy it: bedrock-tune endpoint deploy --autopilot {final.name} --instance TYPE")
    return EXIT_OK if final.status == "Completed" else EXIT_BAD


def run_stop(args: argparse.Namespace) -> int:
    """Ask SageMaker to stop the job (Stopping, then Stopped)."""
    with aws_context(args) as context:
        snapshot = stop_autopilot_job(context, args.job)
    if args.json:
        print_json({"job": args.job, "status": snapshot.status})
    else:
        print(f"Stopping {args.job} (now {snapshot.status}).")
    return EXIT_OK


def _emit(args: argparse.Namespace, event: dict[str, Any]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(event, default=str) + "\n")
    elif event["event"] == "status":
        print(f"{event['status']}: {event['secondary_status']}")
    else:
        print(f"{args.job}: {event['status']}")
        if event["failure_reason"]:
            print(f"  failure  {event['failure_reason']}")
        best = event["best_candidate"]
        if best:
            print(f"  best candidate  {best['name']}")
            for key, value in best["metrics"].items():
                print(f"    {METRIC_LABELS.get(key, key):<16} {value:.4g}")
            for container in best["containers"]:
                unit = f"{container['processing_unit']} " if container["processing_unit"] else ""
                print(f"    container {unit}{container['image']}")
                print(f"      model   {container['model_data_url']}")
    sys.stdout.flush()
