"""The train step (route `sagemaker-import`): choose the open-weight base model and how SageMaker
trains it, serverless model customization (SFT or DPO with LoRA, the licence accepted explicitly)
or bedrock-tune's QLoRA script on an instance (its hourly price shown, managed spot as an option),
see what it may cost and the exact CreateTrainingJob request, then start it once.

The order that makes it safe is core's (`core.sagemaker.launching`): the run, with the job's name
(SageMaker's idempotency key) and a launch token, is on disk before anything is sent; a job of
that name tagged with the run's id is re-attached, never created twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.errors import BedrockTuneError, ConflictError, ValidationError
from core.jobs.customization import new_client_request_token
from core.sagemaker.launching import (
    WALKTHROUGH_HOURS,
    training_cost,
    training_job_name,
    training_request,
)
from core.sagemaker.training import (
    DEFAULT_INSTANCE,
    OPEN_WEIGHT_MODELS,
    QLORA_DEFAULTS,
    TRAINING_INSTANCES,
    check_training_request,
)
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from core.aws import AwsContext
    from core.pricing.types import Price
    from core.run import Run

MODES = (
    ("Serverless customization (SFT or DPO with LoRA)", "serverless"),
    ("Training job on an instance (bedrock-tune's QLoRA script)", "instance"),
)


@dataclass
class InstanceRatesRead(WorkerResult):
    """The on-demand training rate of each offered instance type (Price List, else unknown)."""

    rates: dict[str, Price]


@dataclass
class TrainingLaunched(WorkerResult):
    """The training job exists (created now, or found: a rerun)."""

    run: Run
    reattached: bool


def retrainable(run: Run) -> bool:
    """Whether the run's training job ended without a model (failed or stopped): the step
    then starts another job, under a new name."""
    return run.job_arn is not None and run.job_status in (JobStatus.FAILED, JobStatus.STOPPED)


def _defaults_text() -> Text:
    shown = ("epochs", "lora_r", "lora_alpha", "lora_dropout", "bnb_4bit_quant_type")
    return Text(
        "QLoRA as the walkthrough: 4-bit NF4 with double quantization, "
        + ", ".join(f"{k} {QLORA_DEFAULTS[k]}" for k in shown)
        + ", all linear layers, merged and saved as 2 GB safetensors shards (uncompressed).",
        style="dim",
    )


class TrainScreen(StepScreen):
    """Start the SageMaker training of the run's uploaded data, once."""

    STEP_ID = "train"
    STEP_TITLE = "Train on SageMaker"
    CSS_PATH = "styles/train.tcss"

    BINDINGS = [Binding("ctrl+l", "launch", "Launch", id="launch-training")]

    def __init__(self) -> None:
        super().__init__()
        self._rates: dict[str, Price] = {}

    def compose_body(self) -> ComposeResult:
        yield Label("Train an open-weight model on SageMaker", classes="step-heading")
        yield Static("", id="train-where")
        yield Label("Base model", classes="field-label")
        yield Select(
            [(f"{m.name} ({m.hub_id})", m.hub_id) for m in OPEN_WEIGHT_MODELS],
            value=OPEN_WEIGHT_MODELS[0].hub_id,
            allow_blank=False,
            id="train-base",
        )
        yield Label("How to train", classes="field-label")
        yield Select(MODES, value="serverless", allow_blank=False, id="train-mode")
        with Vertical(id="serverless-options"):
            with Horizontal(classes="train-row"):
                yield Label("Technique", classes="train-label")
                yield Select(
                    [("SFT (supervised)", "SFT"), ("DPO (preferences)", "DPO")],
                    value="SFT",
                    allow_blank=False,
                    id="train-technique",
                )
            with Horizontal(classes="train-row"):
                yield Label("Sequence length", classes="train-label")
                yield Input(placeholder="e.g. 8K (blank: SageMaker's)", id="train-sequence")
            yield Checkbox("I accept the base model's licence (EULA)", id="train-eula")
        with Vertical(id="instance-options"):
            with Horizontal(classes="train-row"):
                yield Label("Instance type", classes="train-label")
                yield Select(
                    [(t, t) for t in TRAINING_INSTANCES],
                    value=DEFAULT_INSTANCE,
                    allow_blank=False,
                    id="train-instance",
                )
            with Horizontal(classes="train-row"):
                yield Label("Hours (estimate)", classes="train-label")
                yield Input(str(WALKTHROUGH_HOURS), id="train-hours")
            yield Checkbox("Managed spot training, with checkpoints in S3", id="train-spot")
            yield Static(_defaults_text(), id="train-defaults")
        with Horizontal(classes="train-row"):
            yield Label("Job name", classes="train-label")
            yield Input(id="train-job-name")
        yield Static("", id="train-estimate")
        with Horizontal(classes="button-row"):
            yield Button("Launch", id="train-launch", variant="primary")
        yield Static("", id="train-request")

    def on_mount(self) -> None:
        run = self.host.wizard_run
        known = {m.hub_id for m in OPEN_WEIGHT_MODELS}
        if run.base_model_id in known:
            self.query_one("#train-base", Select).value = run.base_model_id
        self.query_one("#train-mode", Select).value = run.training_mode or "serverless"
        self.query_one("#train-technique", Select).value = run.training_technique or "SFT"
        self.query_one("#train-sequence", Input).value = run.sequence_length or ""
        self.query_one("#train-eula", Checkbox).value = bool(run.eula_accepted)
        if run.instance_type in TRAINING_INSTANCES:
            self.query_one("#train-instance", Select).value = run.instance_type
        self.query_one("#train-spot", Checkbox).value = bool(run.spot)
        self._suggest_name()
        self._refresh()
        context = self.host.aws_context()
        if context is not None and run.region:
            self.read_rates(context, run.region)

    def on_screen_resume(self) -> None:
        self._suggest_name()
        self._refresh()

    def _suggest_name(self) -> None:
        """The run's job name, or a new one when there is none or its job made no model."""
        run = self.host.wizard_run
        box = self.query_one("#train-job-name", Input)
        if retrainable(run) and box.value in ("", run.job_name):
            box.value = training_job_name(self._base())
        elif not box.value:
            box.value = run.job_name or training_job_name(self._base())

    # ------------------------------------------------------------------ the form

    def _value(self, selector: str) -> str:
        value = self.query_one(selector, Select).value
        return value if isinstance(value, str) else ""

    def _base(self) -> str:
        return self._value("#train-base")

    def _hours(self) -> float:
        try:
            hours = float(self.query_one("#train-hours", Input).value)
        except ValueError:
            return WALKTHROUGH_HOURS
        return hours if hours > 0 else WALKTHROUGH_HOURS

    def form_run(self) -> Run:
        """The run with the choices on screen (the saved ones once the job exists)."""
        run = self.host.wizard_run
        if retrainable(run):
            # Another attempt: a new job (the failed one keeps its name and stays listed).
            run = replace(run, job_arn=None, job_status=None, client_request_token=None)
        elif run.job_arn is not None:
            return run
        mode: Literal["serverless", "instance"] = (
            "instance" if self._value("#train-mode") == "instance" else "serverless"
        )
        technique: Literal["SFT", "DPO"] = (
            "DPO" if self._value("#train-technique") == "DPO" else "SFT"
        )
        return replace(
            run,
            base_model_id=self._base(),
            training_mode=mode,
            training_technique=technique,
            sequence_length=self.query_one("#train-sequence", Input).value.strip().upper() or None,
            eula_accepted=self.query_one("#train-eula", Checkbox).value,
            instance_type=self._value("#train-instance") or DEFAULT_INSTANCE,
            spot=self.query_one("#train-spot", Checkbox).value,
            job_name=self.query_one("#train-job-name", Input).value.strip() or None,
        )

    @on(Select.Changed)
    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._refresh()

    def _refresh(self) -> None:
        run = self.form_run()
        serverless = run.training_mode != "instance"
        self.query_one("#serverless-options").display = serverless
        self.query_one("#instance-options").display = not serverless
        self.query_one("#train-where", Static).update(
            Text.assemble(
                ("Data    ", "bold"),
                f"{run.training_uri or 'upload the data first (Infrastructure)'}\n",
                ("Output  ", "bold"),
                f"{run.output_uri or '-'}\n",
                ("Role    ", "bold"),
                run.role_arn or "-",
            )
        )
        cost = training_cost(
            run.training_mode or "serverless",
            run.instance_type or DEFAULT_INSTANCE,
            self._hours(),
            self._rates.get(run.instance_type or DEFAULT_INSTANCE),
            spot=bool(run.spot),
        )
        estimate = Text("Estimate  ", style="bold")
        estimate.append("\n".join(cost.lines))
        self.query_one("#train-estimate", Static).update(estimate)
        request = training_request(run).to_api()
        self.query_one("#train-request", Static).update(
            Syntax(json.dumps(request, indent=2), "json", theme="ansi_dark", word_wrap=True)
        )
        launched = run.job_arn is not None
        for widget in self.query("#step-body Select, #step-body Input, #step-body Checkbox"):
            widget.disabled = launched
        self.query_one("#train-launch", Button).disabled = launched

    # ------------------------------------------------------------------ prices

    @work(thread=True, exclusive=True, exit_on_error=False, group="rates", name="rates")
    def read_rates(self, context: AwsContext, region: str) -> InstanceRatesRead:
        """Each offered instance type's on-demand training rate (Price List, cached)."""
        from core.pricing.service import PriceService

        service = PriceService(context)
        return InstanceRatesRead(
            {t: service.instance_prices(t, region).training for t in TRAINING_INSTANCES}
        )

    @on(InstanceRatesRead)
    def _rates_read(self, message: InstanceRatesRead) -> None:
        self._rates = message.rates
        select = self.query_one("#train-instance", Select)
        chosen = select.value
        select.set_options(
            [
                (
                    f"{t}  {rate.money()}/h ({rate.provenance})"
                    if rate.is_known
                    else f"{t}  price unknown",
                    t,
                )
                for t, rate in message.rates.items()
            ]
        )
        select.value = chosen
        self._refresh()

    # ------------------------------------------------------------------ launch

    @on(Button.Pressed, "#train-launch")
    def _launch_pressed(self) -> None:
        self.action_launch()

    def action_launch(self) -> None:
        """Check, confirm with the estimate, save the run with its job name, then start it."""
        run = self.form_run()
        if run.job_arn:
            self.notify("This run's training job exists: watch it in the next step.")
            return
        try:
            context = self.require_context()
            problems = check_training_request(training_request(run))
            if problems:
                raise ValidationError(
                    "The training request is not valid:\n" + "\n".join(f"- {p}" for p in problems),
                    hint="Fix the choices above; nothing was sent.",
                )
        except BedrockTuneError as error:
            self.show_error(error)
            return
        self.clear_error()
        cost = training_cost(
            run.training_mode or "serverless",
            run.instance_type or DEFAULT_INSTANCE,
            self._hours(),
            self._rates.get(run.instance_type or DEFAULT_INSTANCE),
            spot=bool(run.spot),
        )

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            saved = self.host.wizard_run
            token = (
                saved.client_request_token
                if saved.job_name == run.job_name and saved.client_request_token
                else new_client_request_token()
            )
            # Saved before the call (the worker waits for it): a retry, or a restart after a
            # crash, finds the job by this name and the run's id instead of starting another.
            launching = replace(run, client_request_token=token)
            self.host.update_run(launching)
            self.query_one("#train-launch", Button).disabled = True
            self.launch(context, launching)

        self.app.push_screen(
            ConfirmScreen(
                "Start the training job?",
                f"{run.job_name} trains {run.base_model_id} on {run.training_uri} "
                f"({'serverless' if run.training_mode != 'instance' else run.instance_type}). "
                + " ".join(cost.lines),
                "Start training",
                danger=False,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch", name="launch")
    def launch(self, context: AwsContext, run: Run) -> TrainingLaunched:
        """Save the run, then CreateTrainingJob (or re-attach to the job it already made)."""
        from core.sagemaker.launching import launch_training

        self.host.save_run_now()
        launched = launch_training(context, run, self.host.registry())
        return TrainingLaunched(launched.run, launched.reattached)

    @on(TrainingLaunched)
    def _launched(self, message: TrainingLaunched) -> None:
        self.host.update_run(
            replace(
                self.host.wizard_run,
                job_arn=message.run.job_arn,
                job_status=message.run.job_status or JobStatus.IN_PROGRESS,
            )
        )
        verb = "Re-attached to" if message.reattached else "Started"
        self.notify(f"{verb} the training job {message.run.job_name}.", title="Training")
        self._refresh()
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "rates":
            return  # the estimate falls back to the reference's figures, which say so
        if name == "launch" and isinstance(error, ConflictError):
            # Nothing was created: the run keeps no launch token to resume by.
            self.host.update_run(replace(self.host.wizard_run, client_request_token=None))
        self._refresh()
        self.show_error(error)
