"""`bedrock-tune infra plan|apply`: the S3 bucket and the IAM service role a customization job
needs, shown (each marked create / reuse / update, with the exact policy JSON) before they are
made, and made idempotently.

A verified `apply` is recorded in the registry as the TUI's infrastructure step records it: the
run `--run` names, or a new run, gets the bucket, prefix, role and key (and what apply made is
recorded as that run's). `bedrock-tune runs` lists it; `upload --run` continues it."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from core.infra.plan import (
    DEFAULT_PREFIX,
    POLICY_NAME,
    InfraEvent,
    InfraPlan,
    ResourcePlan,
    apply,
    plan,
    verify,
)
from core.registry import Registry
from core.run import Route, Run
from tui.cli.common import (
    EXIT_BAD,
    EXIT_OK,
    add_aws_options,
    aws_context,
    print_json,
    run_to_record,
    s3_prefix,
)

ROUTE_OF_PURPOSE = {
    "customization": Route.BEDROCK_CUSTOMIZATION,
    "import": Route.IMPORT_ONLY,
    "sagemaker": Route.SAGEMAKER_IMPORT,
}
"""The route of a new run, by the role's purpose."""


def register(subparsers: Any) -> None:
    """Add the `infra` parser."""
    parser = subparsers.add_parser(
        "infra",
        help="plan or create the S3 bucket and the IAM service role",
        description="`plan` shows what bedrock-tune would create, reuse or update, with the "
        "exact JSON of every policy, and changes nothing. `apply` makes it so; running it again "
        "creates nothing twice. Exit code 1 when something cannot be set up as planned.",
    )
    parser.add_argument("action", choices=["plan", "apply"], help="show the plan, or apply it")
    add_aws_options(parser, suppress=True)
    parser.add_argument("--bucket", help="bucket name (default bedrock-tune-<account>-<region>)")
    parser.add_argument(
        "--role",
        help="service role name (default bedrock-tune-<region>, bedrock-tune-import-<region>)",
    )
    parser.add_argument("--kms-key", help="KMS key id, ARN or alias for SSE-KMS (default SSE-S3)")
    parser.add_argument(
        "--prefix",
        default=DEFAULT_PREFIX,
        type=s3_prefix,
        help=f"key prefix of run folders ({DEFAULT_PREFIX})",
    )
    parser.add_argument(
        "--teacher",
        action="append",
        default=[],
        metavar="MODEL_ID",
        help="a distillation teacher the role may invoke (repeat; a cross-Region inference "
        "profile adds the model in every Region)",
    )
    parser.add_argument(
        "--for",
        dest="purpose",
        choices=["customization", "import", "sagemaker"],
        default="customization",
        help="the role's purpose: customization jobs (default), Custom Model Import (role "
        "bedrock-tune-import-<region>, reading the uploaded model folders) or SageMaker training "
        "jobs (role bedrock-tune-sagemaker-<region>)",
    )
    parser.add_argument(
        "--model-source",
        action="append",
        default=[],
        metavar="S3_URI",
        help="with --for import: an s3:// model folder outside the bucket the role may read "
        "(repeat)",
    )
    parser.add_argument(
        "--run",
        metavar="RUN_ID",
        help="the run apply records the bucket and role in (default: a new run)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Plan, and with `apply`, create and verify."""
    with aws_context(args) as context:
        identity = context.whoami()
        registry = Registry()
        fresh = Run(route=ROUTE_OF_PURPOSE[args.purpose])
        recorded = run_to_record(registry, args.run, fresh, context, identity, args)
        shown = plan(
            context,
            identity.account,
            context.region,
            bucket=args.bucket or recorded.bucket,
            role=args.role,
            kms_key=args.kms_key,
            prefix=args.prefix,
            principal_arn=identity.arn,
            registry=registry,
            teachers=[t.strip() for t in args.teacher if t.strip()],
            purpose=args.purpose,
            model_sources=tuple(args.model_source),
        )
        if args.action == "plan" or not shown.ready:
            if args.json:
                print_json(shown.to_dict())
            else:
                (sys.stdout if args.action == "plan" else sys.stderr).write(describe_plan(shown))
            return EXIT_OK if shown.ready else EXIT_BAD

        def logged(event: InfraEvent) -> None:
            if event.status != "start":
                sys.stderr.write(event.describe() + "\n")

        assert recorded.run_id is not None  # run_to_record always names the run
        result = apply(context, shown, registry, recorded.run_id, logged)
        checked = verify(
            context,
            identity.account,
            context.region,
            bucket=result.bucket,
            role=result.role_name,
            kms_key_arn=shown.data_key_arn,
            prefix=shown.prefix,
            purpose=args.purpose,
            model_sources=tuple(args.model_source),
        )
        if checked.ok:  # as the TUI: the run takes the infrastructure once it reads back right
            # A run that trains on SageMaker keeps its execution role; the import's is beside it.
            beside = args.purpose == "import" and recorded.route is Route.SAGEMAKER_IMPORT
            registry.save_run(
                recorded.run_id,
                replace(
                    recorded,
                    bucket=result.bucket,
                    s3_prefix=shown.prefix,
                    role_arn=recorded.role_arn if beside else result.role_arn,
                    import_role_arn=result.role_arn if beside else recorded.import_role_arn,
                    kms_key_id=result.kms_key_arn,
                ),
            )
    summary = {
        "run_id": recorded.run_id,
        "bucket": result.bucket,
        "region": result.region,
        "role_name": result.role_name,
        "role_arn": result.role_arn,
        "policy_name": result.policy_name,
        "kms_key_arn": result.kms_key_arn,
        "prefix": shown.prefix,
        "created": list(result.created),
        "verified": checked.ok,
        "failed_checks": [f"{c.name}: {c.detail}".rstrip(": ") for c in checked.failures()],
    }
    if args.json:
        print_json(summary)
    else:
        sys.stdout.write(
            f"Run     {recorded.run_id}"
            + (" (recorded; upload with --run)\n" if checked.ok else "\n")
            + f"Bucket  s3://{result.bucket}/{shown.prefix}/ ({result.region})\n"
            f"Role    {result.role_arn}\n"
            + (f"Created {', '.join(result.created)}\n" if result.created else "Created nothing\n")
            + ("Verified: everything is as planned.\n" if checked.ok else "")
        )
        for failure in checked.failures():
            sys.stderr.write(f"✗ {failure.name} {failure.detail}\n")
    return EXIT_OK if checked.ok else EXIT_BAD


def _resource(resource: ResourcePlan, label: str) -> list[str]:
    lines = [f"{label} {resource.name}  [{resource.action}]"]
    lines += [f"  ! {problem}" for problem in resource.problems]
    lines += [f"  - {change.operation}: {change.summary}" for change in resource.changes]
    for title, document in resource.documents.items():
        shown = title if title != "permissions policy" else f"{title} (inline, {POLICY_NAME})"
        lines.append(f"  {shown}:")
        lines += [f"    {line}" for line in json.dumps(document, indent=2).splitlines()]
    return lines


def describe_plan(shown: InfraPlan) -> str:
    """The plan as text: each resource, its action, problems, calls and JSON documents."""
    lines = [
        f"Account {shown.account_id}, region {shown.region}, run folders under {shown.prefix}/",
        "",
    ]
    lines += _resource(shown.bucket, "S3 bucket")
    lines.append("")
    lines += _resource(shown.role, "IAM role")
    lines.append("")
    preflight = shown.preflight
    if preflight.checked:
        lines.append(
            "Your permissions: "
            + (
                "the policy simulator says you may not " + ", ".join(preflight.denied)
                if preflight.denied
                else "the policy simulator allows every call."
            )
        )
    else:
        lines.append(f"Your permissions were not checked: {preflight.note}.")
    lines += [f"Note: {note}" for note in shown.notes]
    lines += [f"✗ {blocker}" for blocker in shown.blockers]
    if shown.ready:
        lines.append(
            "Nothing to do." if not shown.changes else "Run `bedrock-tune infra apply` to do it."
        )
    return "\n".join(lines) + "\n"
