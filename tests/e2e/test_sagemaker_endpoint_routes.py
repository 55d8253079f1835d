"""The sagemaker-autopilot and sagemaker-jumpstart routes in the sandbox, through the UI like a user
(issue 14's acceptance): the route chosen in the model step, the DialogSum records templated with
the dialogue-summary preset, prepared, validated and uploaded with the SageMaker role; the job
launched once after a confirmation that repeats its estimate (Autopilot: its input/output CSV
written and uploaded; JumpStart: a model of the Public Hub, its EULA accepted explicitly, an
instance type with its price) and watched to Completed; the model deployed on an endpoint after a
confirmation that repeats its hourly price, InService, asked in the chat (the sandbox says it is
the sandbox); then teardown leaves nothing billable, in the registry or in the sandbox.

The sandbox runs on an injected clock: the test moves it forward instead of waiting."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot
from textual.widgets import Checkbox, Input, RichLog, Select, SelectionList, Static

from core.registry import Registry, ResourceRecord
from core.run import Route
from core.run.routes import ROUTE_STEPS
from core.sagemaker import kinds
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus
from screens.autopilot import AutopilotLaunchScreen
from screens.autopilot_watch import AutopilotWatchScreen
from screens.base import LaunchOptions
from screens.chat import PromptArea, Transcript
from screens.confirm import ConfirmScreen
from screens.endpoint import EndpointScreen
from screens.jumpstart import JumpStartLaunchScreen
from screens.training_watch import TrainingWatchScreen
from screens.widgets.step_sidebar import StepSidebar
from tests.conftest import DIALOGSUM, needs_shared
from tests.fakes import Clock
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"
ROLE = f"bedrock-tune-sagemaker-{REGION}"
JOB_SECONDS = 100.0
ENDPOINT_SECONDS = 10.0
SIZES = {"train": 40, "validation": 8, "test": 8}
ENDPOINT_RATE = "$1.515 per hour"
"""ml.g5.2xlarge's endpoint rate in the sandbox's copy of the Price List."""

pytestmark = needs_shared()


def words(app: BedrockTuneApp, selector: str) -> str:
    return " ".join(text_of(app, selector).split())


async def next_step(pilot: Pilot[None], expected: str) -> None:
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    await pilot.press("ctrl+n")
    await settle(pilot, lambda: app.current_step == expected)


def endpoint_records() -> list[ResourceRecord]:
    """The endpoint, endpoint config and model the registry records."""
    serving = {kinds.ENDPOINT, kinds.ENDPOINT_CONFIG, kinds.MODEL}
    return [r for r in Registry().resources() if r.kind in serving]


def app_on(clock: Clock) -> BedrockTuneApp:
    def sandbox_factory() -> Sandbox:
        return Sandbox(
            automl_seconds=JOB_SECONDS,
            training_seconds=JOB_SECONDS,
            ready_seconds=ENDPOINT_SECONDS,
            clock=clock,
        )

    return BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=sandbox_factory
    )


async def choose_route(pilot: Pilot[None], choose: str, route: Route, model: str) -> None:
    """From the credentials step: the route's button (`#id`) or key in the model step."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
    await click_button(pilot, "#continue")
    await settle(pilot, lambda: app.current_step == "model")
    assert app.screen.query_one("#sagemaker-endpoint-group").display  # offered: every step built
    if choose.startswith("#"):
        await click_button(pilot, choose)
    else:
        await pilot.press(choose)
    await settle(pilot, lambda: app.current_step == "dataset")
    run = app.wizard_run
    assert run.route is route and run.base_model_id == model
    sidebar = app.screen.query_one(StepSidebar)
    ids = [str(sidebar.get_option_at_index(i).id) for i in range(sidebar.option_count)]
    assert ids == list(ROUTE_STEPS[route])


async def dialogsum_prepared_and_uploaded(pilot: Pilot[None], prepared: Path) -> None:
    """The dataset, template, prepare, validate and infrastructure steps, as a user goes."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    app.screen.query_one("#source", Input).value = str(DIALOGSUM / "dev.jsonl")
    await pilot.press("enter")
    await settle(pilot, lambda: "500 rows" in text_of(app, "#dataset-summary"), rounds=1000)
    await click_button(pilot, "#use")
    await settle(pilot, lambda: app.current_step == "template")
    await settle(pilot, lambda: "#Person1#" in words(app, "#rendered"))
    assert app.screen.query_one("#preset", Select).value == "dialogue-summary"
    await click_button(pilot, "#use")
    await settle(pilot, lambda: app.current_step == "prepare")
    screen = app.screen
    await settle(pilot, lambda: screen.query_one("#train", Input).value != "")
    for field, size in SIZES.items():
        screen.query_one(f"#{field}", Input).value = str(size)
    screen.query_one("#out-dir", Input).value = str(prepared)
    await settle(pilot, lambda: text_of(app, "#size-problems").strip() == "")
    await click_button(pilot, "#prepare")
    await settle(pilot, lambda: app.wizard_run.prepared_dir is not None, rounds=1000)
    await next_step(pilot, "validate")
    await click_button(pilot, "#validate")
    await settle(pilot, lambda: app.wizard_run.validated_ok is not None, rounds=1000)
    assert app.wizard_run.validated_ok is True, text_of(app, "#validate-status")
    estimate = words(app, "#validate-summary")  # SageMaker's billing, not Bedrock's
    assert "per instance-hour" in estimate and "provisioned throughput" not in estimate
    await next_step(pilot, "infrastructure")

    screen = app.screen
    await settle(pilot, lambda: "CREATE" in text_of(app, "#plan-view"))
    assert screen.query_one("#role", Input).value == ROLE  # SageMaker's role, not Bedrock's
    assert "sagemaker.amazonaws.com" in words(app, "#plan-json")
    await click_button(pilot, "#create")
    await settle(pilot, lambda: app.wizard_run.role_arn is not None, rounds=1000)
    await click_button(pilot, "#upload")
    await settle(pilot, lambda: app.wizard_run.training_uri is not None, rounds=1000)
    await next_step(pilot, "launch")


async def deploy_chat_and_tear_down(pilot: Pilot[None], clock: Clock, source: str) -> None:
    """The endpoint step (the price confirmed), the chat, then teardown: nothing billable."""
    app = pilot.app
    assert isinstance(app, BedrockTuneApp)
    assert isinstance(app.screen, EndpointScreen)
    assert source in words(app, "#endpoint-source")
    await settle(pilot, lambda: ENDPOINT_RATE in text_of(app, "#endpoint-price"))
    assert "Price List" in words(app, "#endpoint-price")  # with its source and date
    assert endpoint_records() == []
    await pilot.press("d")
    await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    assert f"1 x ml.g5.2xlarge bills {ENDPOINT_RATE}" in words(app, "#confirm-message")
    assert "every hour" in words(app, "#confirm-message")
    assert endpoint_records() == []  # nothing before the yes
    await click_button(pilot, "#confirm-yes")
    await settle(pilot, lambda: app.wizard_run.serving_arn is not None, rounds=1000)
    assert [r.kind for r in endpoint_records() if r.billable] == [kinds.ENDPOINT]
    await settle(pilot, lambda: "Creating" in text_of(app, "#endpoint-status"), rounds=1000)
    clock.t += ENDPOINT_SECONDS + 1
    await settle(pilot, lambda: "InService" in text_of(app, "#endpoint-status"), rounds=1000)
    name = app.wizard_run.endpoint_name
    assert name and app.wizard_run.serving_status == "InService"
    assert "$1.515/h" in app.billing_summary().headline()  # counted in the header
    await next_step(pilot, "chat")

    message = app.screen.query_one("#message", PromptArea)
    message.text = "#Person1#: Shall we book a table for two? #Person2#: Yes, at eight."
    message.focus()
    await pilot.press("enter")
    transcript = app.screen.query_one("#tuned", Transcript)

    def said() -> str:
        return " ".join(str(w.content) for w in transcript.query(Static))

    await settle(pilot, lambda: f"[sandbox: SageMaker endpoint {name}]" in said(), rounds=1000)
    assert "book a table" in said()
    assert app.wizard_run.chatted_with == f"endpoint:{name}"

    sidebar = app.screen.query_one(StepSidebar)
    sidebar.focus()
    await pilot.press("end", "enter")
    await settle(pilot, lambda: app.current_step == "teardown")
    listing = app.screen.query_one(SelectionList)
    await settle(
        pilot,
        lambda: listing.option_count > 0 and "resource" in text_of(app, "#teardown-summary"),
        rounds=1000,
    )
    summary = words(app, "#teardown-summary")
    assert "$1.515/h" in summary or ENDPOINT_RATE in summary, summary  # the hourly cost first
    await click_button(pilot, "#teardown-select-all-button")
    await settle(pilot, lambda: len(listing.selected) == listing.option_count)
    await click_button(pilot, "#teardown-delete")
    await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
    await click_button(pilot, "#confirm-yes")
    log = app.screen.query_one("#teardown-log", RichLog)
    await settle(pilot, lambda: "Done." in "\n".join(x.text for x in log.lines), rounds=2000)

    assert Registry().resources() == []  # nothing recorded, so nothing billable
    assert app.billable() == [] and app.billing_summary().count == 0  # the header's counter
    context = app.aws_context()
    assert context is not None
    sagemaker = context.client("sagemaker")
    assert sagemaker.list_endpoints()["Endpoints"] == []
    assert sagemaker.list_endpoint_configs()["EndpointConfigs"] == []
    assert sagemaker.list_models()["Models"] == []
    assert context.client("s3").list_buckets()["Buckets"] == []
    assert context.client("iam").list_roles()["Roles"] == []


async def test_autopilot_from_dialogsum_to_an_endpoint_reply_and_back(tmp_path: Path) -> None:
    clock = Clock(1_750_000_000.0)
    app = app_on(clock)
    async with app.run_test(size=(170, 60)) as pilot:
        await choose_route(pilot, "#train-autopilot", Route.SAGEMAKER_AUTOPILOT, "Falcon7BInstruct")
        await dialogsum_prepared_and_uploaded(pilot, tmp_path / "prepared")

        # ---------------------------------------------------------------- launch Autopilot
        assert isinstance(app.screen, AutopilotLaunchScreen)
        screen = app.screen
        assert "legacy" in words(app, "#autopilot-lifecycle")
        assert screen.query_one("#autopilot-base", Select).value == "Falcon7BInstruct"
        screen.query_one("#hp-epochCount", Input).value = "2"
        await settle(pilot, lambda: '"epochCount": "2"' in words(app, "#autopilot-request"))
        await settle(pilot, lambda: "Cost:" in text_of(app, "#autopilot-estimate"))
        estimate = words(app, "#autopilot-estimate")
        await pilot.press("ctrl+l")  # the footer's Launch: it asks once, with the estimate
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert estimate in words(app, "#confirm-message")
        await pilot.press("tab", "enter")  # from Cancel to "Launch job"
        await settle(pilot, lambda: isinstance(app.screen, AutopilotWatchScreen), rounds=1000)
        run = app.wizard_run
        assert run.job_arn is not None and run.job_name
        folder = run.training_uri.rsplit("/", 1)[0] if run.training_uri else ""
        assert run.training_uri == f"{folder}/autopilot-train.csv"
        context = app.aws_context()
        assert context is not None
        bucket, _, key = (run.training_uri or "").removeprefix("s3://").partition("/")
        assert bucket == BUCKET
        csv = context.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read().decode()
        assert csv.startswith("input,output\n") and "#Person1#" in csv
        saved = Registry().get_run(run.run_id or "")
        assert saved is not None and saved.run.job_name == run.job_name
        assert [r.identifier for r in Registry().resources() if r.kind == kinds.AUTOML_JOB] == [
            run.job_name
        ]

        # ---------------------------------------------------------------- watch to Completed
        await settle(pilot, lambda: "Starting" in text_of(app, "#autopilot-timeline"))
        clock.t += JOB_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "ROUGE-1" in text_of(app, "#autopilot-candidate"))
        candidate = words(app, "#autopilot-candidate")
        assert "Best candidate" in candidate and "perplexity" in candidate
        assert "Completed" in text_of(app, "#autopilot-timeline")
        await settle(pilot, lambda: app.billing_summary().count == 0)  # an ended job bills not
        await click_button(pilot, "#autopilot-next")
        await settle(pilot, lambda: app.current_step == "endpoint")
        # Served by the best candidate's own inference container.
        await settle(pilot, lambda: "best candidate" in words(app, "#endpoint-source"))

        await deploy_chat_and_tear_down(pilot, clock, f"Autopilot job {run.job_name}")


async def test_jumpstart_from_dialogsum_to_an_endpoint_reply_and_back(tmp_path: Path) -> None:
    clock = Clock(1_750_000_000.0)
    app = app_on(clock)
    async with app.run_test(size=(170, 60)) as pilot:
        llama = "meta-textgeneration-llama-2-7b"
        await choose_route(pilot, "j", Route.SAGEMAKER_JUMPSTART, llama)  # its key
        await dialogsum_prepared_and_uploaded(pilot, tmp_path / "prepared")

        # ---------------------------------------------------------------- launch JumpStart
        assert isinstance(app.screen, JumpStartLaunchScreen)
        screen = app.screen
        models = screen.query_one("#js-model", Select)
        await settle(pilot, lambda: models.value == llama, rounds=1000)
        offered = [str(value) for _, value in models._options if value is not Select.BLANK]
        assert "huggingface-llm-mistral-7b" in offered  # the Public Hub's list
        assert "huggingface-sentencesimilarity-all-minilm-l6-v2" not in offered
        await settle(pilot, lambda: "llamaEula.txt" in text_of(app, "#js-eula"))
        assert screen.query_one("#js-instance", Select).value == "ml.g5.12xlarge"
        await settle(pilot, lambda: "per instance-hour" in text_of(app, "#js-price"))
        assert "ml.g5.12xlarge" in words(app, "#js-price")
        await click_button(pilot, "#js-launch")  # the licence is not accepted yet
        await settle(pilot, lambda: "licence (EULA) to accept" in words(app, "#error-panel"))
        assert "Accept the licence" in words(app, "#js-eula-problem")
        assert app.wizard_run.job_arn is None  # nothing was sent
        assert not [r for r in Registry().resources() if r.kind == kinds.TRAINING_JOB]
        screen.query_one("#js-accept-eula", Checkbox).value = True
        screen.query_one("#js-hp", Input).value = "epoch=1 instruction_tuned=True"
        await settle(pilot, lambda: '"AcceptEula": true' in words(app, "#js-request"))
        price = words(app, "#js-price")
        await click_button(pilot, "#js-launch")  # it asks once, with the instance's price
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert price in words(app, "#confirm-message")
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: isinstance(app.screen, TrainingWatchScreen), rounds=1000)
        run = app.wizard_run
        assert run.job_arn is not None and run.job_name
        assert [r.identifier for r in Registry().resources() if r.kind == kinds.TRAINING_JOB] == [
            run.job_name
        ]

        # ---------------------------------------------------------------- watch to Completed
        await settle(pilot, lambda: "InProgress" in text_of(app, "#training-status"))
        clock.t += JOB_SECONDS + 1
        await settle(pilot, lambda: app.wizard_run.job_status is JobStatus.COMPLETED, rounds=1000)
        await settle(pilot, lambda: "tuned model is at" in text_of(app, "#training-result"))
        assert "Uploading" in text_of(app, "#training-timeline")
        await settle(pilot, lambda: app.billing_summary().count == 0)  # an ended job bills not
        await click_button(pilot, "#training-next")
        await settle(pilot, lambda: app.current_step == "endpoint")
        # Served by the image the model's Public Hub entry gives (not a guessed default).
        await settle(pilot, lambda: "Public Hub entry" in words(app, "#endpoint-source"))
        assert "sandbox-tgi-inference" in words(app, "#endpoint-source")

        await deploy_chat_and_tear_down(pilot, clock, f"Training job {run.job_name}")
