"""What the snapshot tests start from: the data files, the app in the sandbox on a fixed clock,
a prepared run, resources with long names billing from several price sources, and typing into
a field like a user."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.pilot import Pilot

from core import format as fmt
from core.catalog.lookup import find_model
from core.data.prepare import PrepareOptions, prepare
from core.data.sources import SourceSpec
from core.data.templates import PRESETS, template_to_toml
from core.jobs.customization import new_client_request_token
from core.pricing.builtin import builtin_prices
from core.pricing.service import PriceService
from core.registry import (
    BUCKET,
    DEPLOYMENT,
    JOB,
    MODEL,
    PREFIX,
    ROLE,
    THROUGHPUT,
    Registry,
)
from core.run.types import Route
from core.sagemaker.deploying import deploy_once
from core.sagemaker.endpoints import Container, EndpointPlan, ModelSource
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.serving.deploy import create_deployment, create_throughput
from screens.base import LaunchOptions
from tests.fakes import MANAGED, POLICY, TRUST, Clock, launch_job, sandbox_record, train_model
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
"""Nova Micro: offered in the sandbox's us-east-1, deployed on demand."""
JOB_SECONDS = 10.0
READY_SECONDS = 30.0


def write_dialogs(folder: Path, rows: int = 80) -> None:
    """`dialogs.jsonl` (dialogue / summary records) and `bad.jsonl` (not what Nova reads)."""
    lines = [
        {"dialogue": f"#Person1#: Hello {i}.\n#Person2#: Hi {i}.", "summary": f"They greet {i}."}
        for i in range(rows)
    ]
    (folder / "dialogs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    bad = [{"prompt": f"question {i}", "completion": f"answer {i}"} for i in range(40)]
    (folder / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad) + "{oops\n")


def sandbox_app(clock: Clock, port: int) -> BedrockTuneApp:
    """The app in its own sandbox on `port`, whose jobs and deployments play out on
    `clock`."""
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(
            port=port, job_seconds=JOB_SECONDS, ready_seconds=READY_SECONDS, clock=clock
        ),
    )


def prepare_run(app: BedrockTuneApp, folder: Path) -> None:
    """The run as the first steps leave it: Nova Micro, dialogs.jsonl through the
    dialogue-summary template, prepared (40 / 8 / 8) into `folder/prepared` and validated."""
    write_dialogs(folder)
    template = PRESETS["dialogue-summary"]
    out = folder / "prepared"
    source = SourceSpec(str(folder / "dialogs.jsonl"))
    prepare(source, template, find_model(NOVA), out, PrepareOptions(train=40, validation=8, test=8))
    app.update_run(
        replace(
            app.wizard_run,
            base_model_id=NOVA,
            source_location=source.location,
            template_toml=template_to_toml(template),
            train_size=40,
            validation_size=8,
            test_size=8,
            prepared_dir=str(out),
            validated_ok=True,
            validated_dir=str(out),
        )
    )


async def retype(pilot: Pilot[None], selector: str, text: str) -> None:
    """Click the field, empty it and type `text`, as a user would."""
    await pilot.click(selector)
    await pilot.press("end", "ctrl+u", *text)


# ---------------------------------------------------------------------- long names, many prices

TITAN = "amazon.titan-text-lite-v1:0:4k"
"""A base model whose provisioned throughput has a built-in hourly price."""
LONG = "narrow-rows-with-a-rather-long-name"
"""The start of every long name below (their ends tell them apart)."""
LONG_BUCKET = f"bt-{LONG}-data-2025"
LONG_ROLE = f"bedrock-tune-{LONG}-role"
LONG_ENDPOINT = f"bt-{LONG}-endpoint"


def billing_world(app: BedrockTuneApp, clock: Clock) -> list[str]:
    """What bills from two price sources, every kind of teardown row, all with long names:
    a provisioned throughput bought on the built-in price (the Price List did not answer then),
    a SageMaker endpoint priced from the Price List, an on-demand deployment, a custom model
    (storage), a running customization job, an S3 bucket and run folder, and an IAM role.

    Returns the price figures a teardown row must show (each also in the header's total)."""
    context = app.aws_context()
    assert context is not None
    registry = Registry()
    s3, iam = context.client("s3"), context.client("iam")
    trained = train_model(context, clock, f"{LONG}-served", TITAN, bucket=LONG_BUCKET)
    s3.put_bucket_tagging(Bucket=LONG_BUCKET, Tagging={"TagSet": MANAGED})
    folder = f"s3://{LONG_BUCKET}/bedrock-tune/{LONG}-run/"
    s3.put_object(Bucket=LONG_BUCKET, Key=f"bedrock-tune/{LONG}-run/data/t.jsonl", Body=b"{}\n")
    iam.create_role(RoleName=LONG_ROLE, AssumeRolePolicyDocument=TRUST, Tags=MANAGED)
    iam.put_role_policy(
        RoleName=LONG_ROLE, PolicyName="bedrock-tune-data-access", PolicyDocument=POLICY
    )
    role = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/{LONG_ROLE}"
    model = find_model(TITAN)
    built_in = builtin_prices(model, "us-east-1").provisioned
    assert built_in.amount is not None
    throughput = create_throughput(
        context, trained.model_arn, f"bt-{LONG}-throughput", new_client_request_token()
    )
    deployment = create_deployment(
        context, trained.model_arn, f"bt-{LONG}-deployment", new_client_request_token()
    )
    source = ModelSource(
        "training-job", f"{LONG}-sm", role, (Container("sandbox/tgi", f"{folder}m.tar.gz"),)
    )
    endpoint_price = PriceService(context).instance_prices("ml.g5.2xlarge", "us-east-1").endpoint
    assert endpoint_price.amount is not None and endpoint_price.source == "price-list-api"
    run = replace(app.wizard_run, route=Route.SAGEMAKER_JUMPSTART)
    plan = EndpointPlan(LONG_ENDPOINT, source, "ml.g5.2xlarge")
    deploy_once(context, registry, plan, "run1", run, endpoint_price)
    clock.t += 2 * READY_SECONDS  # everything in service
    running = launch_job(  # still training
        context,
        f"{LONG}-running",
        TITAN,
        f"s3://{LONG_BUCKET}/{LONG}-served/train.jsonl",
        f"{folder}output/",
        role,
    )
    for kind, identifier, extra in (
        (BUCKET, LONG_BUCKET, {}),
        (PREFIX, folder, {}),
        (ROLE, LONG_ROLE, {}),
        (JOB, running, {}),
        (MODEL, trained.model_arn, {}),
        (
            THROUGHPUT,
            throughput,
            {
                "billable": True,
                "details": {
                    "base_model_id": TITAN,
                    "per_hour": built_in.amount,
                    "price_source": built_in.source,
                    "price_as_of": built_in.as_of,
                },
            },
        ),
        (DEPLOYMENT, deployment, {"billable": True, "details": {"per_hour": 0.0}}),
    ):
        registry.add_resource(sandbox_record(kind, identifier, **extra))
    return [fmt.money(built_in.amount) + "/h", fmt.money(endpoint_price.amount) + "/h"]
