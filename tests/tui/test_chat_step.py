"""The chat step in compare mode, in the sandbox: both answers stream in, side by side."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from textual.widgets import Button, DataTable, Static

from core.jobs.customization import new_client_request_token
from core.sandbox.server import Sandbox
from core.serving.deploy import create_deployment
from core.statuses import ServingKind, ServingStatus
from screens.base import LaunchOptions
from screens.chat import PromptArea, Transcript
from tests.fakes import Clock, train_model
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"


def transcript_text(app: BedrockTuneApp, side: str) -> str:
    transcript = app.screen.query_one(f"#{side}", Transcript)
    return " ".join(str(w.content) for w in transcript.query(Static))


async def test_compare_mode_chat(tmp_path: Path) -> None:
    test = tmp_path / "test.jsonl"
    test.write_text(
        json.dumps({"prompt": "How long is the refund window?", "completion": "Thirty days."})
        + "\n"
    )
    clock = Clock()
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True),
        sandbox_factory=lambda: Sandbox(job_seconds=10, ready_seconds=5, clock=clock),
    )
    async with app.run_test(size=(170, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        body = test.read_bytes()
        model = train_model(
            context, clock, "chat-ui", NOVA, bucket="bt-chat-ui", body=body
        ).model_arn
        deployment = create_deployment(context, model, "chat-ui-dep", new_client_request_token())
        clock.t += 10
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=NOVA,
                custom_model_arn=model,
                serving_arn=deployment,
                serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
                serving_status=ServingStatus.ACTIVE,
                prepared_dir=str(tmp_path),
                template_toml='system = "Answer like support."\nuser = "{q}"\nassistant = "{a}"\n',
            )
        )
        app.go_to_step("chat")
        await settle(pilot, lambda: app.current_step == "chat")
        assert "us.amazon.nova-micro-v1:0" in text_of(app, "#chat-models")  # never the :128k id
        await pilot.click("#load-test")
        await settle(pilot, lambda: "Thirty days." in text_of(app, "#reference"))
        assert app.screen.query_one("#message", PromptArea).text == "How long is the refund window?"
        app.screen.query_one("#message", PromptArea).focus()
        await pilot.press("enter")
        await settle(
            pilot,
            lambda: (
                "tokens" in transcript_text(app, "tuned")
                and "tokens" in transcript_text(app, "base")
            ),
        )
        assert "Thirty days." in transcript_text(app, "tuned")
        assert "[sandbox: base model us.amazon.nova-micro-v1:0]" in transcript_text(app, "base")

        # Evaluate the same deployment on the test split, against the base model.
        app.go_to_step("evaluate")
        await settle(pilot, lambda: app.current_step == "evaluate")
        app.screen.query_one("#run", Button).press()
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"))
        assert "Tuned" in text_of(app, "#eval-summary") and "Base" in text_of(app, "#eval-summary")
        assert app.screen.query_one("#eval-rows", DataTable).row_count == 1
        assert (tmp_path / "evaluation.json").is_file()
