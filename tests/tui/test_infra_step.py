"""The infrastructure step in the sandbox, through the UI: the plan, Create with its call log,
the upload with a progress bar per file, and the run filled in for the launch step; a reused role
whose trust policy does not let Bedrock in is explained and fixed from the step."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, Input, Log, ProgressBar

from core.registry import Registry
from core.sandbox.server import Sandbox
from core.statuses import CustomizationType
from screens.base import LaunchOptions
from tests.fakes import policy_document
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

LINE = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'
BUCKET = "bedrock-tune-123456789012-us-east-1"


def prepared(folder: Path) -> Path:
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(LINE * 30)
    (folder / "validation.jsonl").write_bytes(LINE * 5)
    return folder


def log_text(app: BedrockTuneApp) -> str:
    return "\n".join(str(line) for line in app.screen.query_one("#infra-log", Log).lines)


async def test_plan_create_upload(tmp_path: Path) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id="amazon.nova-micro-v1:0:128k",
                prepared_dir=str(prepared(tmp_path / "data")),
            )
        )
        app.go_to_step("infrastructure")
        screen = app.screen
        await settle(pilot, lambda: not screen.query_one("#create", Button).disabled)
        assert screen.query_one("#bucket", Input).value == BUCKET
        plan_view = text_of(app, "#plan-view")
        assert "S3 bucket  bedrock-tune-123456789012-us-east-1  CREATE" in plan_view
        assert "IAM role   bedrock-tune-us-east-1  CREATE" in plan_view
        assert "s3:PutBucketPolicy" in plan_view
        documents = text_of(app, "#plan-json")
        assert '"arn:aws:bedrock:us-east-1:123456789012:model-customization-job/*"' in documents
        assert '"arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/*"' in documents
        assert "bedrock-tune-data-access" in documents
        assert screen.query_one("#upload", Button).disabled  # nothing to upload into yet

        await pilot.click("#create")
        await settle(pilot, lambda: app.wizard_run.role_arn is not None)
        log = log_text(app)
        assert "✓ s3:CreateBucket bedrock-tune-123456789012-us-east-1" in log
        assert "✓ iam:CreateRole bedrock-tune-us-east-1" in log
        assert "✓ iam:PutRolePolicy" in log
        assert app.wizard_run.bucket == BUCKET
        assert app.wizard_run.role_arn == "arn:aws:iam::123456789012:role/bedrock-tune-us-east-1"
        await settle(pilot, lambda: "REUSE" in text_of(app, "#plan-view"))

        upload = screen.query_one("#upload", Button)
        await settle(pilot, lambda: not upload.disabled)
        await pilot.click("#upload")
        await settle(pilot, lambda: app.wizard_run.training_uri is not None)
        run = app.wizard_run
        folder = f"s3://{BUCKET}/bedrock-tune/{run.run_id}"
        assert run.training_uri == f"{folder}/data/train.jsonl"
        assert run.validation_uri == f"{folder}/data/validation.jsonl"
        assert run.output_uri == f"{folder}/output/"
        bar = screen.query_one("#upload-bar-0", ProgressBar)
        assert bar.progress == bar.total == len(LINE) * 30
        assert "uploaded and verified" in text_of(app, "#upload-stats-0")
        context = app.aws_context()
        assert context is not None
        stored = context.client("s3").get_object(
            Bucket=BUCKET, Key=f"bedrock-tune/{run.run_id}/data/train.jsonl"
        )
        assert stored["Body"].read() == LINE * 30
        kinds = {r.kind for r in Registry().resources()}
        assert kinds == {"s3-bucket", "iam-role", "s3-prefix"}
        # The launch step is filled in from the run.
        app.go_to_step("launch")
        await settle(pilot, lambda: app.screen.query_one("#training-uri", Input).value != "")
        assert app.screen.query_one("#role-arn", Input).value == run.role_arn
        assert app.screen.query_one("#output-uri", Input).value == run.output_uri


async def test_a_reused_role_without_bedrock_trust_is_fixed_from_the_step(tmp_path: Path) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        ec2_trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ec2.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        context.client("iam").create_role(
            RoleName="team-role", AssumeRolePolicyDocument=json.dumps(ec2_trust)
        )
        app.update_run(replace(app.wizard_run, prepared_dir=str(prepared(tmp_path / "data"))))
        app.go_to_step("infrastructure")
        screen = app.screen
        await settle(pilot, lambda: not screen.query_one("#create", Button).disabled)
        screen.query_one("#role", Input).value = "team-role"
        # The plan is stale until it is made again.
        await settle(pilot, lambda: screen.query_one("#create", Button).disabled)
        assert "press Enter or Plan again" in text_of(app, "#plan-view")
        screen.query_one("#role", Input).focus()
        await pilot.press("enter")
        fix = screen.query_one("#fix-role", Button)
        await settle(pilot, lambda: bool(fix.display))
        assert str(fix.label) == "Update the trust policy"
        assert "does not let bedrock.amazonaws.com assume it" in text_of(app, "#plan-view")
        await pilot.click("#fix-role")
        await settle(pilot, lambda: "team-role  REUSE" in text_of(app, "#plan-view"))
        assert "✓ iam:UpdateAssumeRolePolicy team-role" in log_text(app)
        trust = policy_document(
            context.client("iam").get_role(RoleName="team-role")["Role"]["AssumeRolePolicyDocument"]
        )
        services = [s["Principal"]["Service"] for s in trust["Statement"]]
        assert services == ["ec2.amazonaws.com", "bedrock.amazonaws.com"]
        assert not fix.display
        [role] = [r for r in Registry().resources() if r.kind == "iam-role"]
        assert not role.created_by_us and role.details["policy_name"] == "bedrock-tune-data-access"


async def test_a_distillation_run_plans_the_teacher_permission(tmp_path: Path) -> None:
    app = BedrockTuneApp(LaunchOptions(sandbox=True), sandbox_factory=Sandbox)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id="amazon.nova-micro-v1:0:128k",
                customization_type=CustomizationType.DISTILLATION,
                prepared_dir=str(prepared(tmp_path / "data")),
            )
        )
        app.go_to_step("infrastructure")
        await settle(pilot, lambda: not app.screen.query_one("#create", Button).disabled)
        documents = " ".join(text_of(app, "#plan-json").split())
        # Every teacher the launch step may offer for this student, nothing else.
        assert '"Sid": "InvokeDistillationTeacher"' in documents
        assert "foundation-model/amazon.nova-pro-v1:0" in documents
        assert "inference-profile/us.amazon.nova-premier-v1:0" in documents
        assert "llama3-1-405b" not in documents
