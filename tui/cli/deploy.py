"""`bedrock-tune deploy` / `undeploy`: serve a custom model, with a cost guard, and stop it."""

from __future__ import annotations

import argparse
import sys
from time import sleep  # module-level: tests swap in a fake clock's sleep
from typing import Any

from core.aws import AwsContext
from core.errors import NotFoundError, ValidationError, aws_call
from core.naming import default_serving_name
from core.poll import Pacing, PollUpdate
from core.pricing.service import PriceService
from core.registry import Registry, ResourceRecord
from core.serving.deploy import (
    Kind,
    Serving,
    delete_serving,
    deployment_options,
    get_serving,
    list_serving,
    serving_poller,
)
from core.serving.once import create_once, new_intent, saved_intent
from tui.cli.common import EXIT_BAD, EXIT_OK, add_aws_options, aws_context, print_json


def register(subparsers: Any) -> None:
    """Add `deploy` and `undeploy`."""
    parser = subparsers.add_parser(
        "deploy",
        help="serve a custom model (on-demand deployment or provisioned throughput)",
        description="Serve a completed custom model: an on-demand deployment where the model "
        "supports it (no idle cost), else no-commitment provisioned throughput (1 model unit, "
        "billed every hour until you undeploy it).",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("model", metavar="MODEL", help="custom model name or ARN")
    how = parser.add_mutually_exclusive_group()
    how.add_argument("--provisioned", action="store_true", help="provisioned throughput")
    how.add_argument("--on-demand", action="store_true", help="on-demand deployment")
    parser.add_argument("--name", help="name of the deployment or throughput")
    parser.add_argument("--yes", action="store_true", help="confirm the hourly cost")
    parser.add_argument("--no-wait", action="store_true", help="do not wait until it is ready")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run_deploy)

    undeploy = subparsers.add_parser(
        "undeploy", help="delete a deployment or provisioned throughput (billing stops)"
    )
    add_aws_options(undeploy, suppress=True)
    undeploy.add_argument("name", metavar="NAME", help="name or ARN")
    undeploy.set_defaults(handler=run_undeploy)


def _custom_model(context: AwsContext, model: str) -> tuple[str, str]:
    """(ARN, base model id) of a custom model, checking that it is Active."""
    with aws_call(f"reading the custom model {model}"):
        found = context.client("bedrock").get_custom_model(modelIdentifier=model)
    status = found.get("modelStatus", "Active")
    if status != "Active":
        raise ValidationError(
            f"The custom model {model} is {status}, not Active.",
            hint="Wait until its customization job has completed (bedrock-tune jobs watch).",
        )
    base = str(found.get("baseModelArn", "")).rsplit("/", 1)[-1]
    return str(found["modelArn"]), base


def _report_progress(update: PollUpdate[Serving]) -> None:
    """Each new status, and each failed poll, on stderr (stdout stays the result)."""
    if update.error is not None:
        sys.stderr.write(f"(status check failed, retrying: {update.error.describe()})\n")
    elif update.changed and update.value is not None:
        sys.stderr.write(f"{update.value.name}: {update.value.status}\n")


def run_deploy(args: argparse.Namespace) -> int:
    """Create the deployment or throughput, record it as billable, and wait until ready."""
    from core.catalog.lookup import find_model

    registry = Registry()
    registry.check()  # a billable resource must be recordable before it is created
    with aws_context(args) as context:
        model_arn, base = _custom_model(context, args.model)
        base_model = find_model(base)
        answer = PriceService(context).region_prices(context.region, [base_model])
        if answer.note:
            sys.stderr.write(f"Note: {answer.note}\n")
        plans = {p.kind: p for p in deployment_options(base_model, answer.rows[0])}
        kind: Kind
        if args.provisioned:
            kind = "provisioned-throughput"
        elif args.on_demand:
            if "custom-model-deployment" not in plans:
                raise ValidationError(
                    f"{base} does not support on-demand custom model deployment.",
                    hint="Use --provisioned (billed per hour until you undeploy).",
                )
            kind = "custom-model-deployment"
        else:
            kind = next(iter(plans))
        plan = plans[kind]
        if kind == "provisioned-throughput" and not args.yes:
            sys.stderr.write(
                f"Provisioned throughput bills {plan.cost_text}, used or not, until you "
                "undeploy it.\nRun again with --yes to confirm.\n"
            )
            return EXIT_BAD
        name = args.name or default_serving_name(args.model)
        # A repeat of an interrupted (or finished) deploy sends the saved token again and so
        # re-attaches to what the first one made instead of buying a second one.
        intent = saved_intent(registry, kind, name, context.region) or new_intent(
            kind, name, model_arn
        )
        if intent.model_arn != model_arn:
            intent = new_intent(kind, name, model_arn)  # another model: the name check decides
        arn = create_once(
            context,
            registry,
            intent,
            ResourceRecord(
                kind,
                "",
                context.region,
                "",
                None,
                billable=True,
                details={"base_model_id": base_model.id, **plan.billing_details()},
            ),
            creator_arn=context.whoami().arn,
        )
        if args.no_wait:
            serving = get_serving(context, kind, arn)
        else:
            poller = serving_poller(
                lambda: get_serving(context, kind, arn), pacing=Pacing(sleep=sleep)
            )
            settled = poller.run(_report_progress)
            assert settled is not None  # never cancelled: run returns once it is settled
            serving = settled
    if args.json:
        print_json({"kind": kind, "arn": arn, "name": name, "status": serving.status})
    else:
        print(f"{plan.label}: {name}\n  ARN     {arn}\n  status  {serving.status}")
        print(f"Chat with it: bedrock-tune chat {arn}   Stop billing: bedrock-tune undeploy {name}")
    return EXIT_OK


def run_undeploy(args: argparse.Namespace) -> int:
    """Delete by name or ARN, and forget it in the registry."""
    with aws_context(args) as context:
        target = next((s for s in list_serving(context) if args.name in (s.name, s.arn)), None)
        if target is None:
            raise NotFoundError(
                f"No deployment or provisioned throughput '{args.name}' in {context.region}.",
                hint="List them with `bedrock-tune teardown` or in the Bedrock console.",
            )
        delete_serving(context, target.kind, target.arn)
        Registry().remove_resource(target.kind, target.arn)
    print(f"Deleted {target.name}; it no longer bills.")
    return EXIT_OK
