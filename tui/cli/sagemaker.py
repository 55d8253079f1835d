"""`bedrock-tune sagemaker`: train an open-weight model on SageMaker (serverless customization, or
bedrock-tune's QLoRA script on an instance), the first half of the `sagemaker-import` route.

- `sagemaker launch --base MODEL --train S3 --output S3 --role ARN`: record the run (route
  `sagemaker-import`) before the call, upload the script archive (instance mode), create the
  training job; the same command after a crash re-attaches (the job carries the run's id as a
  tag). `--dry-run --json` prints `{"operation": "CreateTrainingJob", "request": {...}}`.
- `sagemaker watch NAME`: the secondary statuses as they change and the training loss from the
  job's logs, until it ends (exit 0 Completed, 1 Failed or Stopped); then where the model is,
  ready for `bedrock-tune import launch`.
- `sagemaker stop NAME`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import replace
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core.errors import ValidationError, aws_call
from core.naming import default_job_name
from core.ownership import RUN_TAG, ownership_tags
from core.poll import Backoff, Pacing, PollUpdate
from core.pricing.service import PriceService
from core.registry import Registry, RunRecord, new_run_id
from core.run import Route, Run
from core.sagemaker.failures import explain_failure, interruptions
from core.sagemaker.launching import (
    TRAINING_JOB,
    find_launched_training,
    instance_details,
    job_ended,
    record_job,
)
from core.sagemaker.source import ARCHIVE, script_archive
from core.sagemaker.training import (
    DEFAULT_INSTANCE,
    TrainingRequest,
    check_training_request,
    estimate_instance_cost,
)
from core.sagemaker.watch import (
    TrainingSnapshot,
    describe_training_job,
    read_loss,
    training_poller,
)
from core.statuses import JobStatus
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    add_aws_options,
    add_job_actions,
    aws_context,
    hyperparameter_pairs,
    output_beside,
    print_json,
    run_to_record,
)


def register(subparsers: Any) -> None:
    """Add `sagemaker` and its actions."""
    parser = subparsers.add_parser(
        "sagemaker",
        help="train an open-weight model on SageMaker (then import it)",
        description="Train on SageMaker: serverless model customization (a Public Hub base "
        "model, SFT or DPO with LoRA) or bedrock-tune's QLoRA script on an instance, writing a "
        "merged model ready for `bedrock-tune import`.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    launch = actions.add_parser("launch", help="start a training job (once; a rerun re-attaches)")
    add_aws_options(launch, suppress=True)
    launch.add_argument(
        "--base",
        required=True,
        help="Public Hub / JumpStart model id, e.g. meta-textgeneration-llama-3-8b",
    )
    launch.add_argument("--train", required=True, help="s3:// URI of the training data")
    launch.add_argument("--validation", help="s3:// URI of the validation data")
    launch.add_argument(
        "--output", help="s3:// folder for the model (default: beside the training data)"
    )
    launch.add_argument(
        "--role",
        help="ARN of the SageMaker execution role (default: the --run-id run's, which "
        "`bedrock-tune infra apply --for sagemaker` records)",
    )
    launch.add_argument("--mode", choices=["serverless", "instance"], default="serverless")
    launch.add_argument("--technique", choices=["SFT", "DPO"], default="SFT")
    launch.add_argument("--sequence-length", help="serverless: e.g. 8K")
    launch.add_argument(
        "--accept-eula",
        action="store_true",
        help="serverless: accept the base model's end-user licence (required, asked explicitly)",
    )
    launch.add_argument(
        "--instance", default=DEFAULT_INSTANCE, help="instance type (instance mode)"
    )
    launch.add_argument("--spot", action="store_true", help="managed spot training, checkpointed")
    launch.add_argument("--image", help="training image URI (instance mode; default: HF PyTorch)")
    launch.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="a hyperparameter (repeat)"
    )
    launch.add_argument("--name", help="training job name (default: derived from the model)")
    launch.add_argument("--run-id", help="the run to launch or re-attach to")
    launch.add_argument("--hours", type=float, default=2.5, help="hours, for the estimate (2.5)")
    launch.add_argument(
        "--dry-run", action="store_true", help="print the CreateTrainingJob request; send nothing"
    )
    launch.add_argument("--json", action="store_true", help="print JSON")
    launch.set_defaults(handler=run_launch)
    add_job_actions(
        actions,
        (
            (
                "watch",
                run_watch,
                "follow a training job to its end (exit 0 Completed, 1 otherwise)",
            ),
            ("stop", run_stop, "stop a training job"),
        ),
        job_help="training job name",
        interval=30.0,
    )


def _role(args: argparse.Namespace, saved: RunRecord | None) -> str:
    """--role, else the run's SageMaker execution role."""
    role = args.role or (saved.run.role_arn if saved is not None else None)
    if not role:
        raise ValidationError(
            "Which SageMaker execution role should the training job use?",
            hint="Give --role ARN, or --run-id of a run `bedrock-tune infra apply --for "
            "sagemaker --run RUN_ID` set up.",
        )
    return role


def _validation(args: argparse.Namespace, saved: RunRecord | None) -> str | None:
    """--validation, else the run's uploaded validation file when --train is the run's."""
    if args.validation or saved is None or saved.run.training_uri != args.train:
        return str(args.validation) if args.validation else None
    return saved.run.validation_uri


def _request(
    args: argparse.Namespace,
    saved: RunRecord | None,
    role: str,
    region: str,
    name: str,
    run_id: str,
    owner: Mapping[str, str] | None = None,
) -> TrainingRequest:
    output = (args.output or output_beside(args.train)).rstrip("/") + "/"
    request = TrainingRequest(
        job_name=name,
        role_arn=role,
        base_model=args.base,
        training_uri=args.train,
        validation_uri=_validation(args, saved),
        output_uri=output,
        region=region,
        mode=args.mode,
        technique=args.technique,
        sequence_length=args.sequence_length,
        accept_eula=args.accept_eula,
        instance_type=args.instance,
        spot=args.spot,
        image_uri=args.image,
        script_uri=f"{output}code/{ARCHIVE}" if args.mode == "instance" else None,
        hyperparameters=hyperparameter_pairs(args.hp, "epochs=1"),
        tags={RUN_TAG: run_id, **(owner or {})},
    )
    problems = check_training_request(request)
    if problems:
        raise ValidationError(
            "The training request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Fix the flags above; nothing was sent.",
        )
    return request


def _upload_script(context: Any, uri: str) -> None:
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    with aws_call(f"uploading the training script to {uri}"):
        context.client("s3").put_object(Bucket=bucket, Key=key, Body=script_archive())


def run_launch(args: argparse.Namespace) -> int:
    """Record the run, then start the training job once."""
    registry = Registry()
    with aws_context(args) as context:
        saved = registry.get_run(args.run_id) if args.run_id else None
        run_id = args.run_id or new_run_id()
        name = (saved.run.job_name if saved else None) or args.name or default_job_name(args.base)
        role = _role(args, saved)
        if args.dry_run:
            api = _request(args, saved, role, context.region, name, run_id).to_api()
            print_json({"operation": "CreateTrainingJob", "request": api})
            return EXIT_OK
        identity = context.whoami()
        # This install's id and the launching identity, as on everything bedrock-tune creates.
        owner = ownership_tags(registry.install_id(), identity.arn)
        request = _request(args, saved, role, context.region, name, run_id, owner)
        api = request.to_api()
        # The run `infra apply --for sagemaker` and `upload` recorded (its bucket, prepared
        # files, role) carries on with the training; else a new run.
        recorded = run_to_record(registry, run_id, Run(), context, identity, args)
        run = replace(
            recorded,
            route=Route.SAGEMAKER_IMPORT,
            base_model_id=args.base,
            role_arn=role,
            training_uri=args.train,
            validation_uri=request.validation_uri,
            output_uri=request.output_uri,
            hyperparameters=dict(request.hyperparameters),
            job_name=name,
            training_mode=args.mode,
            training_technique=args.technique,
            sequence_length=args.sequence_length,
            eula_accepted=args.accept_eula if args.mode == "serverless" else None,
            instance_type=args.instance if args.mode == "instance" else None,
            spot=args.spot if args.mode == "instance" else None,
        )
        registry.save_run(run_id, run)  # before the call: a rerun finds the name and run id
        existing = find_launched_training(context, name, run_id)
        if existing is None:
            if request.script_uri:
                _upload_script(context, request.script_uri)
            with aws_call(f"creating the training job {name}"):
                arn = context.client("sagemaker").create_training_job(**api)["TrainingJobArn"]
        else:
            arn = existing.arn
        # Teardown stops it; its instances let the header price it while it runs.
        instances = instance_details(api)
        record_job(registry, TRAINING_JOB, name, context, run, mode=args.mode, **instances)
        run = replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS)
        registry.save_run(run_id, run)
        prices = (
            PriceService(context).instance_prices(args.instance, context.region)
            if args.mode == "instance"
            else None
        )
    estimate = estimate_instance_cost(args.instance, 1, args.hours, prices, spot=args.spot)
    data = {
        "run_id": run_id,
        "job_name": name,
        "job_arn": arn,
        "mode": args.mode,
        "reattached": existing is not None,
        "estimate_usd": estimate.total if args.mode == "instance" else None,
        "estimate_note": estimate.note
        if args.mode == "instance"
        else "serverless prices are not in the reference",
        "spot": prices.spot.to_json() if prices is not None and args.spot else None,
    }
    if args.json:
        print_json(data)
    else:
        verb = "Re-attached to" if existing else "Started"
        print(f"{verb} the training job {name} (run {run_id})\n  ARN  {arn}")
        if args.mode == "instance":
            print(f"  estimate  {estimate.text()}")
        print(f"Follow it with: bedrock-tune sagemaker watch {name}")
    return EXIT_OK


def run_watch(args: argparse.Namespace) -> int:
    """Follow the job: secondary statuses and loss as they come; then where the model is."""
    registry = Registry()
    tokens: dict[str, str] = {}
    with aws_context(args) as context:

        def changed(update: PollUpdate[TrainingSnapshot]) -> None:
            if update.error is not None:
                sys.stderr.write(f"(status check failed, retrying: {update.error.describe()})\n")
                return
            snapshot = update.value
            if snapshot is None:
                return
            if update.changed:
                _emit(
                    args,
                    {
                        "event": "status",
                        "status": snapshot.status,
                        "secondary_status": snapshot.secondary_status,
                        "message": snapshot.timeline[-1].message if snapshot.timeline else "",
                    },
                )
            read = read_loss(context, args.job, tokens)
            tokens.update(read.tokens)
            for point in read.points:
                _emit(args, {"event": "loss", "loss": point.loss, "epoch": point.epoch})

        poller = training_poller(
            lambda: describe_training_job(context, args.job),
            backoff=Backoff.starting_at(args.interval),
            pacing=Pacing(sleep=sleep),
        )
        final = poller.run(changed)
        assert final is not None  # never cancelled: run returns once the job has ended
    job_ended(registry, TRAINING_JOB, final.name)  # it bills nothing more
    saved = next((r for r in registry.runs() if r.run.job_name == final.name), None)
    if saved is not None and final.status in {s.value for s in JobStatus}:
        registry.save_run(saved.id, replace(saved.run, job_status=JobStatus(final.status)))
    end = {
        "event": "end",
        "status": final.status,
        "failure_reason": final.failure_reason,
        "model": final.model_artifacts,
        "timeline": [t.status for t in final.timeline],
        "billable_seconds": final.billable_seconds,
        "training_seconds": final.training_seconds,
        "interruptions": interruptions(final),
        "hint": explain_failure(final),
    }
    _emit(args, end)
    if final.status == "Completed" and final.model_artifacts and not args.json:
        print(
            f"Import it: bedrock-tune import launch {final.model_artifacts} --name <name> "
            "--role <import role ARN>"
        )
    return EXIT_OK if final.status == "Completed" else EXIT_BAD


def run_stop(args: argparse.Namespace) -> int:
    """Ask SageMaker to stop the job (it goes Stopping, then Stopped)."""
    with aws_context(args) as context:
        with aws_call(f"stopping the training job {args.job}"):
            context.client("sagemaker").stop_training_job(TrainingJobName=args.job)
        snapshot = describe_training_job(context, args.job)
    if args.json:
        print_json({"job": args.job, "status": snapshot.status})
    else:
        print(f"Stopping {args.job} (now {snapshot.status}).")
    return EXIT_OK


def _emit(args: argparse.Namespace, event: dict[str, Any]) -> None:
    if args.json:
        sys.stdout.write(json.dumps(event, default=str) + "\n")
    elif event["event"] == "status":
        message = f" ({event['message']})" if event.get("message") else ""
        print(f"{event['status']}: {event['secondary_status']}{message}")
    elif event["event"] == "loss":
        epoch = f" epoch {event['epoch']}" if event["epoch"] is not None else ""
        print(f"loss {event['loss']:.4f}{epoch}")
    elif event["event"] == "end":
        print(f"{args.job}: {event['status']}")
        if event["failure_reason"]:
            print(f"  failure  {event['failure_reason']}")
        if event.get("hint"):
            print(f"  what to do  {event['hint']}")
        if event.get("interruptions"):
            saved = event.get("billable_seconds"), event.get("training_seconds")
            spot = f", billed {saved[0]} s of {saved[1]} s" if all(saved) else ""
            times = event["interruptions"]
            print(f"  spot     interrupted {times}x, resumed from the checkpoint{spot}")
        if event["model"]:
            print(f"  model    {event['model']}")
    sys.stdout.flush()
