"""The launch step offers the teacher when the run distills, and the job request carries it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.containers import Vertical
from textual.widgets import Button, Input, Select

from core.catalog.types import CustomizationType
from core.sandbox.server import Sandbox
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

PROMPTS = (
    b'{"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "Be brief."}], '
    b'"messages": [{"role": "user", "content": [{"text": "What is 2 + 2?"}]}]}\n'
) * 100
NOVA = "amazon.nova-micro-v1:0:128k"
PREMIER = "us.amazon.nova-premier-v1:0"


async def test_distillation_needs_a_teacher_and_launches_with_it(tmp_path: Path) -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=lambda: Sandbox()
    )
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-data")
        context.client("s3").put_object(Bucket="bt-data", Key="run/train.jsonl", Body=PROMPTS)
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=NOVA,
                customization_type=CustomizationType.DISTILLATION,
                training_uri="s3://bt-data/run/train.jsonl",
                output_uri="s3://bt-data/run/output/",
                role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
            )
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: "Base model" in text_of(app, "#launch-model"))
        screen = app.screen
        assert screen.query_one("#distillation", Vertical).display
        teacher = screen.query_one("#teacher", Select)
        offered = {value for _, value in teacher._options if isinstance(value, str)}
        assert offered == {"amazon.nova-pro-v1:0", PREMIER}
        assert not isinstance(teacher.value, str)  # no teacher chosen for the user
        await settle(pilot, lambda: "needs a teacher model" in text_of(app, "#summary"))
        assert screen.query_one("#launch", Button).disabled
        assert "customizationConfig" not in text_of(app, "#request-json")

        teacher.value = PREMIER
        screen.query_one("#max-response-length", Input).value = "1000"
        await settle(pilot, lambda: "teacherModelIdentifier" in text_of(app, "#request-json"))
        request = text_of(app, "#request-json")
        assert PREMIER in request and '"maxResponseLengthForInference": 1000' in request
        assert "inference profile" in text_of(app, "#teacher-note")
        assert not screen.query_one("#launch", Button).disabled
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.job_arn is not None)
        run = app.wizard_run
        assert (run.teacher_model_id, run.max_response_length) == (PREMIER, 1000)
        [job] = context.client("bedrock").list_model_customization_jobs()[
            "modelCustomizationJobSummaries"
        ]
        assert job["jobName"] == run.job_name


async def test_fine_tuning_shows_no_teacher() -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=lambda: Sandbox()
    )
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(replace(app.wizard_run, base_model_id=NOVA))
        app.go_to_step("launch")
        await settle(pilot, lambda: "Base model" in text_of(app, "#launch-model"))
        assert not app.screen.query_one("#distillation", Vertical).display
        assert "teacher" not in text_of(app, "#summary").lower()
