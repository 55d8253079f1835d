"""The Autopilot and JumpStart launches ask once before anything billable is created, as the
Bedrock and Train launches do: the confirmation repeats the job, what it runs on and the form's
estimate with its source and date (an estimate not read, or not readable, is said to be unknown,
never shown as an amount); No or Escape leaves nothing in the sandbox, in the registry or in the
run; Yes launches once; a second press while the confirmation is open opens no second one."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Button, Checkbox, Input, Select

from core.aws import AwsContext
from core.pricing.service import PriceService
from core.pricing.types import InstancePrices, Price
from core.registry import Registry
from core.run import Route
from core.sagemaker import kinds
from core.sagemaker.autopilot import CompletionCriteria
from core.sandbox.server import Sandbox
from screens.autopilot import AutopilotLaunchScreen, estimate_line
from screens.autopilot_watch import AutopilotWatchScreen
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.jumpstart import JumpStartLaunchScreen, price_text
from screens.training_watch import TrainingWatchScreen
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-sagemaker-us-east-1"
BUCKET = "bt-data"
RECORDS = [{"prompt": f"Summarize: dialogue {i}", "completion": f"summary {i}"} for i in range(5)]
LLAMA_2 = "meta-textgeneration-llama-2-7b"


def words(app: BedrockTuneApp, selector: str) -> str:
    return " ".join(text_of(app, selector).split())


def confirmations(app: BedrockTuneApp) -> int:
    return sum(isinstance(screen, ConfirmScreen) for screen in app.screen_stack)


async def on_the_launch_step(
    pilot: Pilot[None], app: BedrockTuneApp, folder: Path, route: Route, model: str
) -> AwsContext:
    """The run as the infrastructure step leaves it (data uploaded, a role), on `route`'s
    launch step; the sandbox's context."""
    (folder / "train.jsonl").write_text("\n".join(json.dumps(r) for r in RECORDS) + "\n")
    await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
    context = app.aws_context()
    assert context is not None
    context.client("s3").create_bucket(Bucket=BUCKET)
    app.update_run(
        replace(
            app.wizard_run,
            route=route,
            base_model_id=model,
            training_uri=f"s3://{BUCKET}/run/data/train.jsonl",
            role_arn=ROLE,
            prepared_dir=str(folder),
        )
    )
    app.go_to_step("launch")
    screen = AutopilotLaunchScreen if route is Route.SAGEMAKER_AUTOPILOT else JumpStartLaunchScreen
    await settle(pilot, lambda: isinstance(app.screen, screen))
    return context


def app_in_sandbox() -> BedrockTuneApp:
    clock = Clock(5_000.0)
    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(automl_seconds=100, training_seconds=100, clock=clock),
    )


async def decline(pilot: Pilot[None], answer: str, step: Screen[Any]) -> None:
    """Answer the open confirmation with Esc or the button `answer`, back on `step`."""
    if answer == "escape":
        await pilot.press("escape")
    else:
        await click_button(pilot, answer)
    await settle(pilot, lambda: pilot.app.screen is step)
    await pilot.pause()


def nothing_created(app: BedrockTuneApp, context: AwsContext, kind: str) -> None:
    """No job in the sandbox, none recorded, none in the run (saved or on screen), no CSV."""
    sagemaker = context.client("sagemaker")
    assert sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"] == []
    assert sagemaker.list_training_jobs()["TrainingJobSummaries"] == []
    assert not [r for r in Registry().resources() if r.kind == kind]
    run = app.wizard_run
    assert run.job_arn is None and run.job_name is None and run.job_status is None
    saved = Registry().get_run(run.run_id or "")
    assert saved is not None and saved.run.job_name is None and saved.run.job_arn is None
    keys = context.client("s3").list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert not [k for k in keys if str(k["Key"]).endswith(".csv")]


async def test_autopilot_asks_first_no_creates_nothing_and_yes_launches_once(
    tmp_path: Path,
) -> None:
    app = app_in_sandbox()
    async with app.run_test(size=(160, 50)) as pilot:
        context = await on_the_launch_step(
            pilot, app, tmp_path, Route.SAGEMAKER_AUTOPILOT, "Llama2-7B"
        )
        screen = app.screen
        assert isinstance(screen, AutopilotLaunchScreen)
        screen.query_one("#autopilot-eula", Checkbox).value = True
        await settle(pilot, lambda: "Cost:" in text_of(app, "#autopilot-estimate"))
        estimate = words(app, "#autopilot-estimate")
        assert "(Price List API, 20" in estimate, estimate
        name = screen.query_one("#autopilot-name", Input).value

        for answer in ("escape", "#confirm-no"):  # the key, then the Cancel button
            await pilot.press("ctrl+l")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Start the Autopilot job?" in text_of(app, "#confirm-title")
            message = words(app, "#confirm-message")
            assert estimate in message, message  # word for word, with its source and date
            assert f"{name} fine-tunes Llama2-7B with SageMaker Autopilot" in message
            assert "1 candidate, at most 72 h per training job" in message
            assert "train.jsonl (as Autopilot's input,output CSV" in message
            await decline(pilot, answer, screen)
            nothing_created(app, context, kinds.AUTOML_JOB)
            assert not screen.query_one("#autopilot-launch", Button).disabled

        # A shorter completion criterion: the form's ceiling follows it, and so does the dialog.
        screen.query_one("#autopilot-max-hours", Input).value = "10"
        await settle(pilot, lambda: "(10 h per training job)" in words(app, "#autopilot-estimate"))
        estimate = words(app, "#autopilot-estimate")
        assert "at most $70.90 by the completion criterion (10 h per training job)" in estimate
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = words(app, "#confirm-message")
        assert "at most 10 h per training job" in message and estimate in message, message
        await pilot.press("ctrl+l")  # again, while it is open
        screen.action_launch()  # a press queued before it opened
        await pilot.pause()
        assert confirmations(app) == 1
        await pilot.press("tab", "enter")  # from Cancel to "Launch job"
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen), rounds=1000)
        sagemaker = context.client("sagemaker")
        jobs = sagemaker.list_auto_ml_jobs()["AutoMLJobSummaries"]
        assert [job["AutoMLJobName"] for job in jobs] == [name]
        job = sagemaker.describe_auto_ml_job_v2(AutoMLJobName=name)
        config = job["AutoMLProblemTypeConfig"]["TextGenerationJobConfig"]
        assert config["CompletionCriteria"]["MaxRuntimePerTrainingJobInSeconds"] == 36_000
        assert [r.identifier for r in Registry().resources() if r.kind == kinds.AUTOML_JOB] == [
            name
        ]
        assert app.wizard_run.job_name == name and app.wizard_run.job_arn is not None
        assert confirmations(app) == 0


async def test_jumpstart_asks_first_no_creates_nothing_and_yes_launches_once(
    tmp_path: Path,
) -> None:
    app = app_in_sandbox()
    async with app.run_test(size=(160, 50)) as pilot:
        context = await on_the_launch_step(pilot, app, tmp_path, Route.SAGEMAKER_JUMPSTART, LLAMA_2)
        screen = app.screen
        assert isinstance(screen, JumpStartLaunchScreen)
        await settle(pilot, lambda: not screen.query_one("#js-launch", Button).disabled)
        screen.query_one("#js-accept-eula", Checkbox).value = True
        await settle(pilot, lambda: "per instance-hour" in text_of(app, "#js-price"))
        price = words(app, "#js-price")
        assert price.startswith("ml.g5.12xlarge: training $") and "(Price List API, 20" in price
        name = screen.query_one("#js-name", Input).value

        for answer in ("escape", "#confirm-no"):
            await pilot.press("ctrl+l")
            await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert "Start the JumpStart training job?" in text_of(app, "#confirm-title")
            message = words(app, "#confirm-message")
            assert f"Cost: {price}" in message, message
            assert f"{name} fine-tunes" in message and f"({LLAMA_2} " in message
            assert "1 x ml.g5.12xlarge, at most 24 h" in message
            assert f"Data: s3://{BUCKET}/run/data/train.jsonl" in message
            await decline(pilot, answer, screen)
            nothing_created(app, context, kinds.TRAINING_JOB)
            assert not screen.query_one("#js-launch", Button).disabled

        await click_button(pilot, "#js-launch")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("ctrl+l")
        screen.action_launch()
        await pilot.pause()
        assert confirmations(app) == 1
        await pilot.press("tab", "enter")
        await settle(pilot, lambda: isinstance(app.screen, TrainingWatchScreen), rounds=1000)
        jobs = context.client("sagemaker").list_training_jobs()["TrainingJobSummaries"]
        assert [job["TrainingJobName"] for job in jobs] == [name]
        assert [r.identifier for r in Registry().resources() if r.kind == kinds.TRAINING_JOB] == [
            name
        ]
        assert confirmations(app) == 0


@pytest.fixture
def price_held(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Every instance price read waits until the returned event is set (set at the end)."""
    release = threading.Event()
    real = PriceService.instance_prices

    def held(self: PriceService, instance_type: str, region: str) -> InstancePrices:
        release.wait(timeout=60)
        return real(self, instance_type, region)

    monkeypatch.setattr(PriceService, "instance_prices", held)
    yield release
    release.set()


def price_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(self: PriceService, instance_type: str, region: str) -> InstancePrices:
        raise RuntimeError("the Price List could not be read")

    monkeypatch.setattr(PriceService, "instance_prices", refused)


@pytest.mark.parametrize("route", [Route.SAGEMAKER_AUTOPILOT, Route.SAGEMAKER_JUMPSTART])
async def test_a_price_not_read_yet_is_said_unknown(
    tmp_path: Path, route: Route, price_held: threading.Event
) -> None:
    app = app_in_sandbox()
    async with app.run_test(size=(160, 50)) as pilot:
        model = "Llama2-7B" if route is Route.SAGEMAKER_AUTOPILOT else LLAMA_2
        await on_the_launch_step(pilot, app, tmp_path, route, model)
        await tick_the_licence(pilot, app)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = words(app, "#confirm-message")
        assert "Cost: not known yet" in message and "still being read" in message, message
        assert "$" not in message
        await pilot.press("escape")
        price_held.set()


async def test_the_price_of_the_instance_chosen_before_it_is_read_is_not_shown(
    tmp_path: Path, price_held: threading.Event
) -> None:
    price_held.set()  # the default instance's price is read
    app = app_in_sandbox()
    async with app.run_test(size=(160, 50)) as pilot:
        await on_the_launch_step(pilot, app, tmp_path, Route.SAGEMAKER_JUMPSTART, LLAMA_2)
        await tick_the_licence(pilot, app)
        await settle(pilot, lambda: "per instance-hour" in text_of(app, "#js-price"))
        price_held.clear()  # another instance's price is still being read
        app.screen.query_one("#js-instance", Select).value = "ml.g5.24xlarge"
        await settle(pilot, lambda: "reading its price" in text_of(app, "#js-price"))
        assert "ml.g5.12xlarge" not in text_of(app, "#js-price")
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = words(app, "#confirm-message")
        assert "1 x ml.g5.24xlarge" in message and "ml.g5.12xlarge" not in message, message
        assert "Cost: not known yet (the price of ml.g5.24xlarge" in message
        assert "$" not in message
        await pilot.press("escape")
        price_held.set()
        # The sandbox's Price List has no rate for it: unknown, said so on the form and asked so.
        await settle(pilot, lambda: "ml.g5.24xlarge: training unknown: " in words(app, "#js-price"))
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = words(app, "#confirm-message")
        assert "Cost: ml.g5.24xlarge: training unknown: the Price List has no" in message, message
        assert "$" not in message


@pytest.mark.parametrize(
    ("route", "said"),
    [
        (Route.SAGEMAKER_AUTOPILOT, "Cost: unknown (the price could not be read)."),
        (Route.SAGEMAKER_JUMPSTART, "Cost: Price unknown (it could not be read)."),
    ],
)
async def test_a_price_that_cannot_be_read_is_said_unknown(
    tmp_path: Path, route: Route, said: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    price_fails(monkeypatch)
    app = app_in_sandbox()
    async with app.run_test(size=(160, 50)) as pilot:
        model = "Llama2-7B" if route is Route.SAGEMAKER_AUTOPILOT else LLAMA_2
        await on_the_launch_step(pilot, app, tmp_path, route, model)
        shown = "#autopilot-estimate" if route is Route.SAGEMAKER_AUTOPILOT else "#js-price"
        await settle(pilot, lambda: "unknown" in text_of(app, shown))
        await tick_the_licence(pilot, app)
        await pilot.press("ctrl+l")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = words(app, "#confirm-message")
        assert said in message and "$" not in message, message


async def tick_the_licence(pilot: Pilot[None], app: BedrockTuneApp) -> None:
    """Accept the model's licence (JumpStart's once its spec is read)."""
    screen = app.screen
    if isinstance(screen, JumpStartLaunchScreen):
        await settle(pilot, lambda: not screen.query_one("#js-launch", Button).disabled)
        screen.query_one("#js-accept-eula", Checkbox).value = True
    else:
        screen.query_one("#autopilot-eula", Checkbox).value = True
    await pilot.pause()


def unknown_prices() -> InstancePrices:
    todo = "check aws.amazon.com/sagemaker/pricing"
    unknown = Price.unknown("per instance-hour", todo)
    return InstancePrices("ml.g5.12xlarge", "us-east-1", unknown, unknown, unknown)


def test_an_unknown_rate_is_said_unknown_on_the_form_and_so_in_the_confirmation() -> None:
    autopilot = estimate_line(unknown_prices(), CompletionCriteria())
    assert autopilot.startswith("Cost: unknown. ") and "$" not in autopilot
    jumpstart = price_text(unknown_prices())
    assert jumpstart.startswith("ml.g5.12xlarge: training unknown: check") and "$" not in jumpstart


def test_a_known_rate_is_said_with_its_source_and_date() -> None:
    rate = Price.known(7.09, "per instance-hour", "price-list-api", "2026-12-02")
    prices = replace(unknown_prices(), training=rate)
    autopilot = estimate_line(prices, CompletionCriteria())
    assert autopilot.startswith(
        "Cost: About $14.18 for 2 h, at most $510.48 by the default completion criterion "
        "(Price List API, 2026-12-02)"
    )
    shorter = estimate_line(prices, CompletionCriteria(10 * 3600))
    assert shorter.startswith(
        "Cost: About $14.18 for 2 h, at most $70.90 by the completion criterion (10 h per "
        "training job) (Price List API, 2026-12-02)"
    )
    # No completion hours (not a number, or 0): no ceiling of $0, and the launch refuses it.
    none = estimate_line(prices, CompletionCriteria(0))
    assert none.startswith("Cost: unknown until") and "$" not in none
    assert price_text(prices) == (
        "ml.g5.12xlarge: training $7.09 per instance-hour (Price List API, 2026-12-02), "
        "about $17.73 for 2.5 h (Price List API, 2026-12-02)"
    )
