"""Changing the region or the base model says which steps it resets and asks first (or starts a
new run); a new run (Ctrl+T, or the command palette) keeps the old one in the registry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from textual.widgets import DataTable, Input, Select

from core.registry import Registry
from core.run import Run
from core.sandbox.server import Sandbox
from core.statuses import JobStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.run_change import RunChangeScreen
from tests.fakes import Clock
from tests.tui.helpers import settle, text_of
from tui.app import BedrockTuneApp

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA = "amazon.nova-micro-v1:0:128k"
TITAN = "amazon.titan-text-express-v1:0:8k"  # customized in both regions
LLAMA_31 = "meta.llama3-1-8b-instruct-v1:0:128k"
LLAMA_32 = "meta.llama3-2-1b-instruct-v1:0:128k"
ACCOUNT = "123456789012"
WEST = "s3://bedrock-tune-123456789012-us-west-2/bedrock-tune"


def app_in_us_west_2() -> BedrockTuneApp:
    clock = Clock(1_000.0)
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, region="us-west-2", poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=100, clock=clock),
    )


def haiku_in_us_west_2(run: Run, prepared: Path, **launched: object) -> Run:
    prepared.mkdir(exist_ok=True)
    (prepared / "train.jsonl").write_text('{"system": "s", "messages": []}\n')
    return replace(
        run,
        base_model_id=HAIKU,
        source_location="data.jsonl",
        template_toml='name = "t"\n',
        prepared_dir=str(prepared),
        bucket="bedrock-tune-123456789012-us-west-2",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-role",
        training_uri=f"{WEST}/{run.run_id}/data/train.jsonl",
        output_uri=f"{WEST}/{run.run_id}/output/",
        job_name="bt-haiku-west",
        **launched,  # type: ignore[arg-type]
    )


def launch_fields(app: BedrockTuneApp) -> str:
    """Everything the launch step shows in its inputs and summary, as one text."""
    values = [i.value for i in app.screen.query(Input)]
    return " ".join([*values, text_of(app, "#launch-model"), text_of(app, "#request-json")])


async def choose_region(app: BedrockTuneApp, pilot: object, region: str) -> None:
    """Pick `region` in the credentials step's list with the keyboard."""
    from textual.pilot import Pilot

    assert isinstance(pilot, Pilot)
    select = app.screen.query_one("#region", Select)
    select.focus()
    await pilot.press("enter")  # opens the list
    await settle(pilot, lambda: select.expanded)
    options = [value for _, value in select._options if value is not Select.BLANK]
    moves = options.index(region) - options.index(select.value)
    await pilot.press(*(["down"] * moves if moves > 0 else ["up"] * -moves), "enter")


async def test_switching_a_haiku_run_to_us_east_1_asks_and_leaves_no_us_west_2_paths(
    tmp_path: Path,
) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        assert app.wizard_run.region == "us-west-2"
        run_id = app.wizard_run.run_id
        app.update_run(haiku_in_us_west_2(app.wizard_run, tmp_path / "prepared"))
        app.go_to_step("launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
        assert WEST in launch_fields(app)  # the launch step has been shown with us-west-2 paths
        app.go_to_step("credentials")
        await settle(pilot, lambda: app.current_step == "credentials")
        await choose_region(app, pilot, "us-east-1")
        await settle(pilot, lambda: isinstance(app.screen, RunChangeScreen))
        asked = text_of(app, "#change-resets")
        assert "Change the region from us-west-2 to us-east-1?" in str(
            app.screen.query_one(".step-heading").render()
        )
        for line in (
            "Base model: Claude 3 Haiku is not customized in us-east-1",
            "Infrastructure: bucket bedrock-tune-123456789012-us-west-2, role bedrock-tune-role",
            "Launch: job name bt-haiku-west",
        ):
            assert line in asked
        await pilot.press("enter")  # "Reset these steps" has the focus
        await settle(pilot, lambda: app.wizard_run.region == "us-east-1")
        run = app.wizard_run
        assert run.run_id == run_id  # the same run, its later steps reset
        assert (run.base_model_id, run.bucket, run.training_uri, run.output_uri) == (None,) * 4
        assert "us-west-2" not in str(run.to_dict())
        # Choose a model offered in us-east-1: the launch step starts from the run, empty.
        app.update_run(replace(run, base_model_id=NOVA, prepared_dir=str(tmp_path / "prepared")))
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
        shown = launch_fields(app)
        assert "us-west-2" not in shown and "in us-east-1" in shown
    assert Registry().get_run(run_id or "").run.region == "us-east-1"  # type: ignore[union-attr]


async def test_a_model_of_both_regions_stays_but_the_launch_step_forgets_us_west_2(
    tmp_path: Path,
) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        app.update_run(
            replace(haiku_in_us_west_2(app.wizard_run, tmp_path / "prepared"), base_model_id=TITAN)
        )
        app.go_to_step("launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
        assert WEST in launch_fields(app)
        app.go_to_step("credentials")
        await settle(pilot, lambda: app.current_step == "credentials")
        await choose_region(app, pilot, "us-east-1")
        await settle(pilot, lambda: isinstance(app.screen, RunChangeScreen))
        assert "Base model" not in text_of(app, "#change-resets")
        await pilot.press("enter")
        await settle(pilot, lambda: app.wizard_run.region == "us-east-1")
        assert app.wizard_run.base_model_id == TITAN
        app.go_to_step("launch")
        await settle(pilot, lambda: app.current_step == "launch")
        await settle(pilot, lambda: app.screen.query("#hp-epochCount").first() is not None)
        shown = launch_fields(app)
        assert "us-west-2" not in shown and "in us-east-1" in shown


async def test_declining_the_change_keeps_the_run_where_it_was(tmp_path: Path) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        before = haiku_in_us_west_2(app.wizard_run, tmp_path / "prepared")
        app.update_run(before)
        await choose_region(app, pilot, "us-east-1")
        await settle(pilot, lambda: isinstance(app.screen, RunChangeScreen))
        await pilot.press("escape")  # keep as it was
        await settle(pilot, lambda: "Ready" in text_of(app, "#credentials-status"))
        await settle(pilot)
        assert app.wizard_run == before
        assert app.screen.query_one("#region", Select).value == "us-west-2"
        context = app.aws_context()
        assert context is not None and context.region == "us-west-2"


async def test_a_launched_run_moves_to_the_new_region_as_a_new_run(tmp_path: Path) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        old = haiku_in_us_west_2(
            app.wizard_run,
            tmp_path / "prepared",
            job_arn=f"arn:aws:bedrock:us-west-2:{ACCOUNT}:model-customization-job/x",
            job_status=JobStatus.IN_PROGRESS,
        )
        app.update_run(old)
        await choose_region(app, pilot, "us-east-1")
        await settle(pilot, lambda: isinstance(app.screen, RunChangeScreen))
        assert "starts a new run" in text_of(app, "#change-resets")
        assert not app.screen.query("#change-reset")  # resetting is not offered
        await pilot.press("enter")  # "Start a new run" has the focus
        await settle(pilot, lambda: app.wizard_run.run_id != old.run_id)
        new = app.wizard_run
        assert new.region == "us-east-1" and new.job_arn is None
        assert new.source_location == "data.jsonl"  # the data choices carry over
        assert "us-west-2" not in str(new.to_dict())
        app.save_run_now()
    kept = Registry().get_run(old.run_id or "")
    assert kept is not None and kept.run == old  # the old run, as it was


async def test_another_base_model_says_what_it_resets(tmp_path: Path) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        start = replace(
            haiku_in_us_west_2(app.wizard_run, tmp_path / "prepared"), base_model_id=LLAMA_31
        )
        app.update_run(start)
        app.go_to_step("model")
        await settle(pilot, lambda: app.current_step == "model")
        models = app.screen.query_one("#models", DataTable)
        await settle(
            pilot, lambda: models.row_count > 0 and "offered" in text_of(app, "#models-status")
        )
        models.focus()
        moves = models.get_row_index(LLAMA_32) - models.cursor_row
        await pilot.press(*(["down"] * moves if moves >= 0 else ["up"] * -moves))
        await settle(pilot, lambda: "Llama 3.2 1B" in text_of(app, "#model-detail"))
        await pilot.press("u")  # use this model
        await settle(pilot, lambda: isinstance(app.screen, RunChangeScreen))
        asked = text_of(app, "#change-resets")
        assert "Prepare: the files in" in asked and "needs bedrock-conversation-2024" in asked
        assert "Infrastructure: the uploaded files" in asked
        await pilot.press("enter")
        await settle(pilot, lambda: app.wizard_run.base_model_id == LLAMA_32)
        run = app.wizard_run
        assert (run.prepared_dir, run.training_uri, run.job_name) == (None, None, None)
        assert run.bucket == start.bucket  # still right for the new model
        assert run.run_id == start.run_id
        await settle(pilot, lambda: app.current_step == "dataset")


async def test_new_run_keeps_the_old_run_in_the_registry(tmp_path: Path) -> None:
    app = app_in_us_west_2()
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        old = haiku_in_us_west_2(app.wizard_run, tmp_path / "prepared")
        app.update_run(old)
        app.go_to_step("prepare")
        await settle(pilot, lambda: app.current_step == "prepare")
        bindings = {b.binding.key: b.binding for b in app.screen.active_bindings.values()}
        assert bindings["ctrl+t"].description == "New run" and bindings["ctrl+t"].show
        commands = [c.title for c in app.get_system_commands(app.screen)]
        assert "New run" in commands
        await pilot.press("ctrl+t")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert f"Run {old.run_id} stays" in text_of(app, "#confirm-message")
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: app.wizard_run.run_id != old.run_id)
        new = app.wizard_run
        assert app.current_step == "model"
        assert (new.region, new.account_id, new.target) == ("us-west-2", ACCOUNT, "sandbox")
        assert (new.base_model_id, new.prepared_dir, new.bucket) == (None, None, None)
        app.update_run(replace(new, base_model_id=NOVA, source_location="other.jsonl"))
        app.save_run_now()
        await settle(pilot)
    runs = {r.id: r.run for r in Registry().runs()}
    assert runs[old.run_id or ""] == old
    assert runs[new.run_id or ""].source_location == "other.jsonl"
