"""`bedrock-tune jumpstart`: fine-tune a JumpStart model on SageMaker, the training half of the
`sagemaker-jumpstart` route.

- `jumpstart models`: the text-generation models of the SageMaker Public Hub that can be
  fine-tuned (read with boto3 alone: ListHubContents).
- `jumpstart launch --model-id ID --train S3 --instance TYPE --accept-eula --role ARN`: read the
  model's spec (DescribeHubContent), check the EULA is accepted explicitly, the instance is one
  it trains on and the hyperparameters fit its spec, record the run (route
  `sagemaker-jumpstart`) before the call, create the training job; a rerun re-attaches.
  `--dry-run --json` prints `{"operation": "CreateTrainingJob", "request": {...}}`.
- `jumpstart watch NAME` / `jumpstart stop NAME`: the same as `sagemaker watch` / `stop`
  (statuses as a timeline, the loss from the logs, failures explained).
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from typing import Any

from core.naming import default_job_name
from core.ownership import RUN_TAG, ownership_tags
from core.pricing.types import total_text
from core.registry import Registry, new_run_id
from core.run import Route, Run
from core.sagemaker.hub import describe_hub_model, fine_tunable_text_models
from core.sagemaker.jumpstart import JumpStartRequest, check_jumpstart_request
from core.sagemaker.launching import start_training_job
from core.statuses import JobStatus
from tui.cli import sagemaker as shared
from tui.cli.common import (
    EXIT_OK,
    add_aws_options,
    add_job_actions,
    aws_context,
    hyperparameter_pairs,
    output_beside,
    placed,
    positive_float,
    print_json,
)


def register(subparsers: Any) -> None:
    """Add `jumpstart` and its actions."""
    parser = subparsers.add_parser(
        "jumpstart",
        help="fine-tune a JumpStart model on SageMaker (served on an endpoint)",
        description="Fine-tune a SageMaker JumpStart text-generation model: its training image, "
        "script and defaults from the SageMaker Public Hub, the EULA accepted explicitly.",
    )
    actions = parser.add_subparsers(title="actions", metavar="ACTION", required=True)
    models = actions.add_parser("models", help="JumpStart text models that can be fine-tuned")
    add_aws_options(models, suppress=True)
    models.add_argument("--json", action="store_true", help="print JSON")
    models.set_defaults(handler=run_models)

    launch = actions.add_parser("launch", help="start a training job (once; a rerun re-attaches)")
    add_aws_options(launch, suppress=True)
    launch.add_argument("--model-id", required=True, help="JumpStart model id")
    launch.add_argument("--train", required=True, help="s3:// URI of the training data")
    launch.add_argument("--instance", help="instance type (default: the model's)")
    launch.add_argument(
        "--accept-eula",
        action="store_true",
        help="accept the model's end-user licence agreement (required for gated models)",
    )
    launch.add_argument("--role", required=True, help="ARN of the SageMaker execution role")
    launch.add_argument(
        "--output", help="s3:// folder for the model (default: beside the training data)"
    )
    launch.add_argument(
        "--hp", action="append", default=[], metavar="NAME=VALUE", help="a hyperparameter (repeat)"
    )
    launch.add_argument("--name", help="training job name (default: derived from the model)")
    launch.add_argument("--run-id", help="the run to launch or re-attach to")
    launch.add_argument(
        "--hours", type=positive_float, default=2.5, help="hours, for the estimate (2.5)"
    )
    launch.add_argument(
        "--dry-run", action="store_true", help="print the CreateTrainingJob request; send nothing"
    )
    launch.add_argument("--json", action="store_true", help="print JSON")
    launch.set_defaults(handler=run_launch)

    add_job_actions(
        actions,
        (
            ("watch", shared.run_watch, "follow a training job to its end (exit 0 Completed)"),
            ("stop", shared.run_stop, "stop a training job"),
        ),
        job_help="training job name",
        interval=30.0,
    )


def run_models(args: argparse.Namespace) -> int:
    """The fine-tunable text-generation models of the Public Hub."""
    with aws_context(args) as context:
        models = fine_tunable_text_models(context)
        region = context.region
    if args.json:
        print_json(
            {
                "region": region,
                "models": [
                    {
                        "model_id": m.model_id,
                        "version": m.version,
                        "name": m.display_name,
                        "arn": m.arn,
                        "import_family": m.import_family,
                    }
                    for m in models
                ],
            }
        )
        return EXIT_OK
    if not models:
        print(f"The SageMaker Public Hub lists no fine-tunable text models in {region}.")
    for m in models:
        print(f"{m.model_id:<48} {m.version:<8} {m.display_name}")
    return EXIT_OK


def run_launch(args: argparse.Namespace) -> int:
    """Read the model's spec, check, record the run, then start the training job once."""
    registry = Registry()
    with aws_context(args) as context:
        spec = describe_hub_model(context, args.model_id)
        saved = registry.get_run(args.run_id) if args.run_id else None
        run_id = args.run_id or new_run_id()
        name = (
            (saved.run.job_name if saved else None) or args.name or default_job_name(args.model_id)
        )
        instance = args.instance or spec.default_instance or ""

        def request(owner: dict[str, str]) -> JumpStartRequest:
            made = JumpStartRequest(
                job_name=name,
                role_arn=args.role,
                spec=spec,
                training_uri=args.train,
                output_uri=(args.output or output_beside(args.train)).rstrip("/") + "/",
                instance_type=instance,
                accept_eula=args.accept_eula,
                hyperparameters=hyperparameter_pairs(args.hp, "epoch=1"),
                tags={RUN_TAG: run_id, **owner},
            )
            check_jumpstart_request(made)
            return made

        if args.dry_run:
            print_json({"operation": "CreateTrainingJob", "request": request({}).to_api()})
            return EXIT_OK
        identity = context.whoami()
        made = request(ownership_tags(registry.install_id(), identity.arn))
        run = placed(
            Run(
                run_id=run_id,
                route=Route.SAGEMAKER_JUMPSTART,
                base_model_id=args.model_id,
                role_arn=args.role,
                training_uri=args.train,
                output_uri=made.output_uri,
                hyperparameters=dict(made.hyperparameters),
                job_name=name,
            ),
            context,
            identity,
            args,
        )
        # Before the call: CreateTrainingJob takes no client token; the saved name and the run
        # id tag make a rerun re-attach instead of creating a second job.
        registry.save_run(run_id, run)
        arn, reattached = start_training_job(context, made.to_api(), run, registry)
        registry.save_run(run_id, replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS))
        from core.pricing.service import PriceService

        prices = PriceService(context).instance_prices(instance, context.region)
    rate = prices.training.amount if prices.training.is_known else None
    data = {
        "run_id": run_id,
        "job_name": name,
        "job_arn": arn,
        "model_id": args.model_id,
        "instance": instance,
        "reattached": reattached,
        "per_hour_usd": rate,
        "estimate_usd": rate * args.hours if rate is not None else None,
        "estimate_note": prices.training.text(),
    }
    if args.json:
        print_json(data)
        return EXIT_OK
    verb = "Re-attached to" if reattached else "Started"
    print(f"{verb} the training job {name} (run {run_id})\n  ARN  {arn}")
    hours = f"for {args.hours:g} h on {instance}"
    print(f"  estimate  {total_text(prices.training, args.hours, hours)}")
    print(f"  rate      {prices.training.text()}")
    print(f"Follow it with: bedrock-tune jumpstart watch {name}")
    return EXIT_OK
