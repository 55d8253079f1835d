"""The whole wizard with the keyboard only (no clicks, no widget set by the test): each step's
primary action on its key, and Ctrl+N accepting the step when that is possible."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, SelectionList

from core.sandbox.server import Sandbox
from screens.base import LaunchOptions, StepScreen
from screens.chat import PromptArea, Transcript
from screens.confirm import ConfirmScreen
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

NOVA = "amazon.nova-micro-v1:0:128k"
JOB_SECONDS = 10.0
READY_SECONDS = 30.0


def footer_keys(app: BedrockTuneApp) -> dict[str, str]:
    """The keys the footer shows for the current screen: key -> description."""
    return {
        key: active.binding.description
        for key, active in app.screen.active_bindings.items()
        if active.binding.show
    }


async def clear_and_type(app: BedrockTuneApp, pilot: Pilot[None], selector: str, text: str) -> None:
    """Tab to the field and replace its text, with keys only."""
    field = app.screen.query_one(selector, Input)
    for _ in range(30):
        if field.has_focus:
            break
        await pilot.press("tab")
    assert field.has_focus, f"Tab never reached {selector}"
    await pilot.press("end", "ctrl+u", *text)


async def test_every_step_on_its_own_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    rows = [
        {"dialogue": f"#Person1#: Hello {i}.\n#Person2#: Hi {i}.", "summary": f"They greet {i}."}
        for i in range(60)
    ]
    (tmp_path / "dialogs.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    clock = Clock(1_750_000_000.0)

    def sandbox_factory() -> Sandbox:
        return Sandbox(job_seconds=JOB_SECONDS, ready_seconds=READY_SECONDS, clock=clock)

    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=sandbox_factory
    )
    async with app.run_test(size=(160, 50)) as pilot:
        # Credentials: Ctrl+N continues once the identity is confirmed.
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        assert footer_keys(app)["ctrl+n"] == "Continue"
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "model")

        # Model: Enter on the highlighted row uses it.
        models = app.screen.query_one("#models", DataTable)
        await settle(pilot, lambda: models.row_count > 0 and models.has_focus)
        await pilot.press("home", *["down"] * models.get_row_index(NOVA), "enter")
        await settle(pilot, lambda: app.current_step == "dataset")
        assert app.wizard_run.base_model_id == NOVA

        # Dataset: Ctrl+N with nothing opened stays; Enter opens; Ctrl+N uses it.
        assert footer_keys(app)["ctrl+n"] == "Use dataset"
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_step == "dataset"
        await pilot.press(*"dialogs.jsonl", "enter")
        await settle(pilot, lambda: app.screen.query_one("#records", DataTable).row_count > 0)
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "template")
        assert app.wizard_run.source_location == "dialogs.jsonl"

        # Template: F8 / F7 move between records; Ctrl+N uses the template.
        await settle(pilot, lambda: "record 1 of 50" in text_of(app, "#record-position"))
        assert "ctrl+left_square_bracket" not in footer_keys(app)  # Esc in a terminal
        await pilot.press("f8")
        await settle(pilot, lambda: "record 2 of 50" in text_of(app, "#record-position"))
        await pilot.press("f7")
        await settle(pilot, lambda: "record 1 of 50" in text_of(app, "#record-position"))
        await pilot.press("ctrl+n")
        await settle(pilot, lambda: app.current_step == "prepare")
        assert app.wizard_run.template_toml is not None

        # Prepare: Ctrl+N before preparing says why it cannot go on; Ctrl+R prepares.
        await settle(pilot, lambda: app.screen.query_one("#train", Input).value != "")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_step == "prepare"
        for selector, size in (("#train", "40"), ("#validation", "8"), ("#test", "8")):
            await clear_and_type(app, pilot, selector, size)
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: app.wizard_run.prepared_dir is not None, rounds=1000)
        await pilot.press("ctrl+n")

        # Validate: runs by itself on fresh files, and again on Ctrl+R.
        await settle(pilot, lambda: app.current_step == "validate")
        await settle(pilot, lambda: app.wizard_run.validated_ok is True, rounds=1000)
        app.update_run(replace(app.wizard_run, validated_ok=None))
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: app.wizard_run.validated_ok is True, rounds=1000)
        await pilot.press("ctrl+n")

        # Infrastructure: Ctrl+R creates what the plan shows, then (the footer says so) uploads.
        await settle(pilot, lambda: app.current_step == "infrastructure")
        await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
        assert footer_keys(app)["ctrl+r"] == "Create"
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: app.wizard_run.role_arn is not None, rounds=1000)
        await settle(pilot, lambda: footer_keys(app)["ctrl+r"] == "Upload")
        assert app.wizard_run.training_uri is None
        await pilot.press("ctrl+r")
        await settle(pilot, lambda: app.wizard_run.training_uri is not None, rounds=1000)
        await pilot.press("ctrl+n")

        # Launch: Ctrl+L asks once; Tab to "Launch job", Enter.
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: "Estimated cost" in text_of(app, "#summary"))
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("tab", "enter")
        await settle(pilot, lambda: app.current_step == "watch")
        assert app.wizard_run.job_arn is not None

        # Watch: Ctrl+N waits for the job; it moves on once the job completed.
        await settle(pilot, lambda: "InProgress" in text_of(app, "#job-status"))
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.current_step == "watch"
        clock.t += JOB_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.custom_model_arn is not None, rounds=1000)
        await pilot.press("ctrl+n")

        # Deploy: `d` deploys the highlighted option (on demand: nothing billed while idle).
        await settle(pilot, lambda: app.current_step == "deploy")
        await pilot.press("d")
        await settle(pilot, lambda: app.wizard_run.serving_arn is not None)
        clock.t += READY_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.serving_status == "Active", rounds=1000)
        await pilot.press("ctrl+n")

        # Chat: Ctrl+J starts a new line, Enter sends; the first answer marks the step done.
        await settle(pilot, lambda: app.current_step == "chat")
        box = app.screen.query_one("#message", PromptArea)
        assert box.has_focus
        await pilot.press(*"Hello", "ctrl+j", *"there", "enter")
        transcript = app.screen.query_one("#tuned", Transcript)
        await settle(
            pilot, lambda: "tokens" in " ".join(str(w.render()) for w in transcript.children)
        )
        assert "you: Hello\nthere" in str(transcript.children[0].render())
        assert box.text == ""
        await settle(pilot, lambda: app.wizard_run.chatted_with == app.wizard_run.serving_arn)
        await pilot.press("ctrl+o")  # the next test record goes in the box, whole
        await settle(pilot, lambda: box.text.startswith("Summarize the following"))
        assert "\n" in box.text
        await pilot.press("ctrl+n")

        # Evaluate: Enter in the Records field (or Ctrl+R) runs it.
        await settle(pilot, lambda: app.current_step == "evaluate")
        states = {s.id: s.status for s in app.step_states("evaluate")}
        assert states["chat"] == "done"
        await clear_and_type(app, pilot, "#count", "3")
        await pilot.press("enter")
        await settle(pilot, lambda: "Report saved" in text_of(app, "#eval-summary"), rounds=1000)
        await pilot.press("ctrl+n")

        # Teardown: Ctrl+A ticks everything, Delete asks once, then deletes.
        await settle(pilot, lambda: app.current_step == "teardown")
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count > 0)
        await pilot.press("ctrl+a")
        await settle(pilot, lambda: len(listing.selected) == listing.option_count)
        await pilot.press("delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("tab", "enter")
        await settle(
            pilot,
            lambda: "Nothing bedrock-tune made" in text_of(app, "#teardown-summary"),
            rounds=1000,
        )
        assert isinstance(app.screen, StepScreen)
