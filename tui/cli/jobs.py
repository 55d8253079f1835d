"""`bedrock-tune jobs`: launch, list, show, watch and stop model customization jobs.

`jobs launch` builds a run from its flags and records it in the registry, with its client
request token, before the job is created, exactly as the launch step does: the TUI offers the
run for resume, `bedrock-tune runs` lists it, and the same command run again after a crash (the
same run id, the same job name, or the same request) re-attaches instead of starting a second
job.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from core import format as fmt
from core.aws import AwsContext
from core.catalog.lookup import end_of_life_problem, find_model, instead_text, lifecycle_in
from core.catalog.types import BaseModel, CustomizationType
from core.errors import ValidationError
from core.jobs.customization import (
    JobSnapshot,
    JobStatus,
    NameTakenError,
    ensure_valid,
    get_job,
    list_jobs,
    stop_job,
    teachers_text,
)
from core.jobs.failures import explain_failure
from core.jobs.launching import job_request, launch_saved_run, resolve_launch
from core.jobs.metrics import Metrics, find_metric_files, read_metrics
from core.jobs.watch import JobWatcher, WatchUpdate
from core.registry import Registry
from core.run import Route, Run
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    add_aws_options,
    add_job_actions,
    aws_context,
    placed,
    print_json,
)


def register(subparsers: Any) -> None:
    """Add `jobs` and its sub-commands."""
    parser = subparsers.add_parser(
        "jobs",
        help="launch, list, show, watch and stop customization jobs",
        description="Model customization jobs in the region.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)

    launch_parser = actions.add_parser("launch", help="start a customization job")
    add_aws_options(launch_parser, suppress=True)
    launch_parser.add_argument("--model", required=True, help="base model customization id")
    launch_parser.add_argument("--train", required=True, help="s3:// URI of the training file")
    launch_parser.add_argument("--validation", help="s3:// URI of the validation file")
    launch_parser.add_argument("--output", required=True, help="s3:// URI of the output folder")
    launch_parser.add_argument("--role", required=True, help="ARN of the service role")
    launch_parser.add_argument(
        "--type",
        default="fine-tuning",
        choices=[t.cli_name for t in CustomizationType],
        help="customization type (default fine-tuning)",
    )
    launch_parser.add_argument(
        "--hp",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a hyperparameter (repeat); unset ones take the model's defaults",
    )
    launch_parser.add_argument("--name", help="job name (default: derived from the model)")
    launch_parser.add_argument("--model-name", help="custom model name (default: from the job)")
    launch_parser.add_argument(
        "--run-id",
        help="the run to launch, or to re-attach to after a crash (default: a new run, or the "
        "saved run this same command started)",
    )
    launch_parser.add_argument(
        "--token", help="client request token (default: a new one, saved with the run)"
    )
    launch_parser.add_argument(
        "--teacher",
        metavar="MODEL_ID",
        help="distillation: the teacher model (a model id or inference profile the catalog "
        "pairs with --model; `bedrock-tune models --type distillation --json` lists them)",
    )
    launch_parser.add_argument(
        "--max-response-length",
        type=int,
        metavar="TOKENS",
        help="distillation: the most tokens asked of the teacher per answer "
        "(maxResponseLengthForInference; default: Bedrock's)",
    )
    launch_parser.add_argument(
        "--dry-run",
        action="store_true",
        help='check the request and print it as {"operation": ..., "request": ...} without '
        "sending it",
    )
    launch_parser.add_argument("--json", action="store_true", help="print JSON")
    launch_parser.set_defaults(handler=run_launch)

    list_parser = actions.add_parser("list", help="every customization job in the region")
    add_aws_options(list_parser, suppress=True)
    list_parser.add_argument("--status", choices=[s.value for s in JobStatus])
    list_parser.add_argument("--json", action="store_true", help="print JSON")
    list_parser.set_defaults(handler=run_list)

    add_job_actions(
        actions,
        (
            ("show", run_show, "one job's status, phases and failure"),
            ("watch", run_watch, "follow a job until it ends (exit 0 Completed, 1 Failed/Stopped)"),
            ("stop", run_stop, "stop a running job"),
        ),
        job_help="job name or ARN",
        interval=15.0,
    )


def _hyperparameters(pairs: list[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name or not value:
            raise ValidationError(
                f"--hp '{pair}' is not NAME=VALUE", hint="For example: --hp epochCount=2"
            )
        values[name.strip()] = value.strip()
    return values


def _wanted_run(args: argparse.Namespace, model: BaseModel) -> Run:
    """What the `jobs launch` options ask for, before it is resolved against saved runs and
    before the place (identity, endpoint) is known."""
    kind = CustomizationType.parse(args.type)
    if kind is CustomizationType.DISTILLATION and not (args.teacher or "").strip():
        raise ValidationError(
            "--type distillation needs --teacher MODEL_ID: the model whose answers "
            f"{model.name} learns from.",
            hint=f"Teachers for {model.name}: {teachers_text(model)}.",
        )
    return Run(
        run_id=args.run_id,
        route=Route.BEDROCK_CUSTOMIZATION,
        base_model_id=model.id,
        customization_type=kind,
        role_arn=args.role,
        training_uri=args.train,
        validation_uri=args.validation,
        output_uri=args.output,
        hyperparameters=_hyperparameters(args.hp),
        job_name=args.name,
        custom_model_name=args.model_name,
        client_request_token=args.token,
        teacher_model_id=args.teacher.strip() if args.teacher else None,
        max_response_length=args.max_response_length,
    )


def _lifecycle_gate(model: BaseModel, region: str | None) -> None:
    """Refuse a model at its end of life; say so on stderr for a legacy one."""
    problem = end_of_life_problem(model, region)
    if problem:
        raise ValidationError(problem + ".", hint="Nothing was sent to AWS.")
    status = lifecycle_in(model, region or model.regions[0])
    if not status.active:
        alternatives = instead_text(status)
        sys.stderr.write(
            f"Note: {model.name} is {status.describe(region or model.regions[0])}"
            + (f"; consider {alternatives}" if alternatives else "")
            + ".\n"
        )


def _dry_run(args: argparse.Namespace, model: BaseModel, wanted: Run) -> int:
    """Check the request and print it as it would be sent; nothing reaches AWS and nothing is
    recorded (saved runs are only read, so a repeated command shows its saved names)."""
    # No AWS context (nothing may be sent): the region, for the lifecycle, comes from the
    # options or the environment, else the model's customization regions are checked.
    region = (
        getattr(args, "region", None)
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
    )
    _lifecycle_gate(model, region)
    run = resolve_launch(Registry().runs(), replace(wanted, region=region))
    request = job_request(run)
    ensure_valid(request, model)
    document = {"operation": "CreateModelCustomizationJob", "request": request.to_api()}
    if not args.json:
        print("Dry run: this request was checked and not sent.")
    print_json(document)
    return EXIT_OK


def run_launch(args: argparse.Namespace) -> int:
    """Record the run (with its token), then create the job, or re-attach to the job the same
    command already created. Nothing is recorded or sent when a check fails; with --dry-run
    nothing is recorded or sent at all."""
    model = find_model(args.model)
    requested = _wanted_run(args, model)
    if args.dry_run:
        return _dry_run(args, model, requested)
    # Every check of the request that needs no AWS comes first: a bad value sends nothing, not
    # even the identity call (names and token here are stand-ins; the saved run's win below).
    ensure_valid(job_request(resolve_launch([], requested)), model)
    registry = Registry()
    with aws_context(args) as context:
        _lifecycle_gate(model, context.region)
        identity = context.whoami()
        wanted = placed(requested, context, identity, args)
        run = resolve_launch(registry.runs(), wanted)
        ensure_valid(job_request(run), model)
        assert run.run_id is not None  # resolve_launch always names the run
        before = registry.get_run(run.run_id)
        registry.save_run(run.run_id, run)  # before the call: a rerun finds the token
        try:
            launched = launch_saved_run(context, run, model, registry)
        except NameTakenError:
            # Nothing was created: the registry goes back to what it was, so no half-launched
            # run is left to resume.
            if before is None:
                registry.forget_run(run.run_id)
            else:
                registry.save_run(run.run_id, before.run)
            raise
        registry.save_run(run.run_id, launched.run)
    done = launched.run
    if args.json:
        print_json(
            {
                "run_id": done.run_id,
                "job_arn": done.job_arn,
                "job_name": done.job_name,
                "client_request_token": done.client_request_token,
                "reattached": launched.reattached,
            }
        )
    else:
        verb = "Re-attached to" if launched.reattached else "Launched"
        print(f"{verb} {done.job_name} (run {done.run_id})\n  ARN    {done.job_arn}")
        print(f"  token  {done.client_request_token}")
        if launched.reattached:
            print("  The job already existed (this command had launched it): no second job.")
        print(f"Follow it with: bedrock-tune jobs watch {done.job_name}")
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    """List the region's jobs, newest first."""
    status = JobStatus(args.status) if args.status else None
    with aws_context(args) as context:
        jobs = list(list_jobs(context, status))
    if args.json:
        print_json(
            [
                {
                    "arn": j.arn,
                    "name": j.name,
                    "status": j.status.value,
                    "base_model_arn": j.base_model_arn,
                    "custom_model_arn": j.custom_model_arn,
                    "created": j.created,
                    "ended": j.ended,
                }
                for j in jobs
            ]
        )
        return EXIT_OK
    if not jobs:
        print("No customization jobs in this region.")
    for job in jobs:
        created = f"{job.created:%Y-%m-%d %H:%M}" if job.created else ""
        print(f"{job.status.value:<11} {created:<17} {job.name}")
    return EXIT_OK


def snapshot_json(snapshot: JobSnapshot) -> dict[str, Any]:
    """A job snapshot as JSON data."""
    explanation = explain_failure(snapshot.failure_message)
    return {
        "arn": snapshot.arn,
        "name": snapshot.name,
        "status": snapshot.status.value,
        "phases": {p.label: p.status or None for p in snapshot.phases},
        "failure_message": snapshot.failure_message,
        "failure_cause": explanation.cause if explanation else None,
        "failure_fix": explanation.fix if explanation else None,
        "output_uri": snapshot.output_uri,
        "custom_model_name": snapshot.output_model_name,
        "custom_model_arn": snapshot.output_model_arn,
        "hyperparameters": dict(snapshot.hyperparameters),
        "created": snapshot.created,
        "ended": snapshot.ended,
    }


def _print_snapshot(snapshot: JobSnapshot) -> None:
    print(f"{snapshot.name}: {snapshot.status.value}")
    for phase in snapshot.phases:
        print(f"  {phase.label:<16} {phase.status or '-'}")
    if snapshot.output_model_arn:
        print(f"  custom model     {snapshot.output_model_arn}")
    if snapshot.failure_message:
        print(f"  failure          {snapshot.failure_message}")
        explanation = explain_failure(snapshot.failure_message)
        if explanation:
            print(f"  cause            {explanation.cause}")
            print(f"  fix              {explanation.fix}")


def run_show(args: argparse.Namespace) -> int:
    """Print one job."""
    with aws_context(args) as context:
        snapshot = get_job(context, args.job)
    if args.json:
        print_json(snapshot_json(snapshot))
    else:
        _print_snapshot(snapshot)
    return EXIT_OK


def run_stop(args: argparse.Namespace) -> int:
    """Stop a job."""
    with aws_context(args) as context:
        stop_job(context, args.job)
        snapshot = get_job(context, args.job)
    if args.json:
        print_json(snapshot_json(snapshot))
    else:
        print(f"Stopping {snapshot.name} (now {snapshot.status.value}).")
    return EXIT_OK


def _metrics_reader(context: AwsContext) -> Callable[[JobSnapshot], Metrics]:
    def read(snapshot: JobSnapshot) -> Metrics:
        files = find_metric_files(context, snapshot.output_uri, snapshot.arn)
        return read_metrics(context, files)

    return read


def run_watch(args: argparse.Namespace) -> int:
    """Follow a job, printing phase changes and new loss points, until it ends."""
    with aws_context(args) as context:
        seen_phases: dict[str, str] = {}
        seen_points = {"training": 0, "validation": 0}

        def on_update(update: WatchUpdate) -> None:
            if update.error is not None:
                sys.stderr.write(f"(poll failed, retrying: {update.error.describe()})\n")
                return
            snapshot = update.snapshot
            if snapshot is None:
                return
            for phase in snapshot.phases:
                if phase.status and seen_phases.get(phase.label) != phase.status:
                    seen_phases[phase.label] = phase.status
                    _emit(args, {"event": "phase", "phase": phase.label, "status": phase.status})
            if update.metrics is not None:
                for kind in ("training", "validation"):
                    points = getattr(update.metrics, kind)
                    for point in points[seen_points[kind] :]:
                        _emit(
                            args,
                            {
                                "event": f"{kind}_loss",
                                "step": point.step,
                                "epoch": point.epoch,
                                "loss": point.loss,
                            },
                        )
                    seen_points[kind] = len(points)
            if update.stalled_for:
                hours = update.stalled_for / 3600
                _emit(
                    args,
                    {
                        "event": "stalled",
                        "hours": round(hours, 1),
                        "message": "training has not started since validation finished",
                    },
                )

        watcher = JobWatcher(
            lambda: get_job(context, args.job),
            fetch_metrics=_metrics_reader(context),
            min_interval=args.interval,
        )
        final = watcher.watch(on_update)
    if final is None:
        return EXIT_BAD
    if args.json:
        _emit(args, {"event": "end", **snapshot_json(final)})
    else:
        _print_snapshot(final)
    return EXIT_OK if final.status is JobStatus.COMPLETED else EXIT_BAD


def _emit(args: argparse.Namespace, event: dict[str, Any]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(event, default=str) + "\n")
    elif event["event"] == "phase":
        print(f"{event['phase']}: {event['status']}")
    elif event["event"].endswith("_loss"):
        kind = event["event"].removesuffix("_loss")
        print(f"{kind} loss  step {event['step']:>5}  epoch {event['epoch']}  {event['loss']:.4f}")
    elif event["event"] == "stalled":
        print(f"Warning: {event['message']} ({fmt.duration(event['hours'] * 3600)}).")
    sys.stdout.flush()
