"""`bedrock-tune endpoint`: serve a model trained on SageMaker (an Autopilot job's best candidate,
or a JumpStart or other training job's output) on a real-time endpoint, and delete it.

- `endpoint deploy (--autopilot NAME | --training-job NAME) --instance TYPE --yes`: the hourly
  price of the instance type is said first; without --yes a person at a terminal confirms it,
  a script (no terminal) gets exit 2. The run and the endpoint are recorded before anything is
  created; the same command after a crash re-attaches. Waits until InService (exit 0) or Failed
  (exit 1, with SageMaker's FailureReason).
- `endpoint delete NAME`: the endpoint (billing stops), then its config and model, when this
  install made them.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core.errors import ConflictError
from core.poll import Pacing, PollUpdate
from core.pricing.service import PriceService
from core.pricing.types import total_text
from core.registry import Registry, new_run_id
from core.run import Route, Run
from core.sagemaker.deploying import (
    delete_endpoint,
    deploy_once,
    endpoint_cost_text,
    run_for_source,
)
from core.sagemaker.endpoints import (
    EndpointPlan,
    EndpointSnapshot,
    SourceKind,
    default_endpoint_name,
    describe_endpoint,
    endpoint_poller,
    model_source,
)
from core.statuses import from_endpoint_status
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    EXIT_USAGE,
    add_aws_options,
    aws_context,
    placed,
    print_json,
)
from tui.cli.missing import in_a_terminal


def register(subparsers: Any) -> None:
    """Add `endpoint` and its actions."""
    parser = subparsers.add_parser(
        "endpoint",
        help="serve a SageMaker-trained model on a real-time endpoint (billed per hour)",
        description="Deploy an Autopilot job's best candidate or a training job's model on a "
        "SageMaker real-time endpoint (billed every hour until deleted), or delete one.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    deploy = actions.add_parser(
        "deploy", help="create the endpoint once (a rerun re-attaches) and wait until InService"
    )
    add_aws_options(deploy, suppress=True)
    source = deploy.add_mutually_exclusive_group(required=True)
    source.add_argument("--autopilot", metavar="NAME", help="an Autopilot (AutoML v2) job")
    source.add_argument("--training-job", metavar="NAME", help="a completed training job")
    deploy.add_argument("--instance", required=True, metavar="TYPE", help="e.g. ml.g5.2xlarge")
    deploy.add_argument("--name", help="endpoint name (default: bt-<job name>)")
    deploy.add_argument(
        "--image",
        help="training job only: the serving image (default: the one the Public Hub entry of "
        "its JumpStart model gives, else Hugging Face TGI)",
    )
    deploy.add_argument("--yes", action="store_true", help="confirm the hourly price")
    deploy.add_argument("--no-wait", action="store_true", help="do not wait until InService")
    deploy.add_argument("--json", action="store_true", help="print JSON")
    deploy.set_defaults(handler=run_deploy)
    delete = actions.add_parser("delete", help="delete an endpoint (billing stops)")
    add_aws_options(delete, suppress=True)
    delete.add_argument("endpoint", metavar="NAME", help="endpoint name")
    delete.add_argument("--json", action="store_true", help="print JSON")
    delete.set_defaults(handler=run_delete)


def _confirmed(text: str) -> bool:
    """Ask a person at a terminal to confirm `text` (False when they decline)."""
    import questionary  # only when asking: it costs ~0.1 s to import

    answer: bool | None = questionary.confirm(f"{text}. Deploy?", default=False).ask()
    return bool(answer)


def _report(update: PollUpdate[EndpointSnapshot]) -> None:
    """Each new status, and each failed poll, on stderr (stdout stays the result)."""
    if update.error is not None:
        sys.stderr.write(f"(status check failed, retrying: {update.error.describe()})\n")
    elif update.changed and update.value is not None:
        sys.stderr.write(f"{update.value.name}: {update.value.status}\n")


def run_deploy(args: argparse.Namespace) -> int:
    """Say the price, confirm it, record the run, create the endpoint once, wait."""
    registry = Registry()
    registry.check()  # a billable resource must be recordable before it is created
    kind: SourceKind = "autopilot" if args.autopilot else "training-job"
    job = args.autopilot or args.training_job
    with aws_context(args) as context:
        source = model_source(context, kind, job, args.image)
        if source.image_origin:
            images = ", ".join(c.image for c in source.containers)
            sys.stderr.write(f"Serving image: {images} ({source.image_origin})\n")
        prices = PriceService(context).instance_prices(args.instance, context.region)
        for note in prices.notes:
            sys.stderr.write(f"Note: {note}\n")
        text = endpoint_cost_text(prices.endpoint, args.instance)
        if not args.yes:
            if not in_a_terminal():
                sys.stderr.write(f"{text}.\nRun again with --yes to confirm.\n")
                return EXIT_USAGE
            if not _confirmed(text):
                sys.stderr.write("Nothing was created.\n")
                return EXIT_BAD
        found = run_for_source(registry, source.key, source.name)
        name = (
            args.name
            or (found.run.endpoint_name if found else None)
            or default_endpoint_name(source.name)
        )
        if found and found.run.endpoint_name and found.run.endpoint_name != name:
            raise ConflictError(
                f"Run {found.id} already serves {source.label} on the endpoint "
                f"{found.run.endpoint_name}.",
                hint=f"Delete it first (bedrock-tune endpoint delete {found.run.endpoint_name}), "
                "or deploy without --name to re-attach to it.",
            )
        route = Route.SAGEMAKER_AUTOPILOT if kind == "autopilot" else Route.SAGEMAKER_JUMPSTART
        run_id = found.id if found else new_run_id()
        identity = context.whoami()
        base = found.run if found else Run(run_id=run_id, route=route, job_name=source.name)
        run = placed(replace(base, run_id=run_id), context, identity, args)
        plan = EndpointPlan(name, source, args.instance)
        deployed = deploy_once(
            context, registry, plan, run_id, run, prices.endpoint, creator_arn=identity.arn
        )
        snapshot = describe_endpoint(context, name)
        if not args.no_wait and not snapshot.settled:
            poller = endpoint_poller(
                lambda: describe_endpoint(context, name), pacing=Pacing(sleep=sleep)
            )
            settled = poller.run(_report)
            assert settled is not None  # never cancelled: run returns once it is settled
            snapshot = settled
    registry.save_run(
        run_id, replace(deployed.run, serving_status=from_endpoint_status(snapshot.status))
    )
    failed = snapshot.status in ("Failed", "UpdateRollbackFailed", "OutOfService")
    if args.json:
        print_json(
            {
                "run_id": run_id,
                "endpoint": name,
                "arn": deployed.endpoint_arn,
                "status": snapshot.status,
                "failure_reason": snapshot.failure_reason,
                "instance_type": args.instance,
                "per_hour": prices.endpoint.amount,
                "price_source": prices.endpoint.provenance if prices.endpoint.is_known else None,
                "source": source.key,
                "images": [c.image for c in source.containers],
                "reattached": deployed.reattached,
            }
        )
    else:
        verb = "Re-attached to" if deployed.reattached else "Deployed"
        print(f"{verb} {source.label} on the endpoint {name} (run {run_id})")
        print(f"  ARN     {deployed.endpoint_arn}\n  status  {snapshot.status}")
        print(f"  cost    {total_text(prices.endpoint, 1, f'per hour on 1 x {args.instance}')}")
        if failed:
            print(f"  failure {snapshot.failure_reason}")
        elif snapshot.ready:
            print(f"Chat with it: bedrock-tune chat endpoint:{name}")
        print(f"Stop billing: bedrock-tune endpoint delete {name}")
    if failed:
        sys.stderr.write(
            f"The endpoint {name} failed to start: {snapshot.failure_reason}\nHint: fix the "
            f"cause above, then delete it (bedrock-tune endpoint delete {name}) and deploy "
            "again.\n"
        )
        return EXIT_BAD
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    """Delete the endpoint (and its config and model) this install made."""
    with aws_context(args) as context:
        said = delete_endpoint(context, Registry(), args.endpoint)
    if args.json:
        print_json({"endpoint": args.endpoint, "done": said})
    else:
        print("\n".join(said))
    return EXIT_OK
