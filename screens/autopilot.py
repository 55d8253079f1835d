"""The sagemaker-autopilot route's launch step: the base model (with Autopilot's lifecycle said
plainly), its EULA, the hyperparameters with their ranges, the completion criterion, the exact
CreateAutoMLJobV2 request and the cost estimate, then, once a confirmation repeating what is
created and the estimate is answered yes, the job started once.

The order that makes it safe is core's (`core.sagemaker.launching`): Autopilot's CSV is written
from the run's prepared records and put beside them; the run, with the job's name, is on disk
before CreateAutoMLJobV2 (which takes no client token); a job of that name tagged with this run
is re-attached, never created twice.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.data.prepared import TRAIN_FILE
from core.errors import BedrockTuneError, ValidationError
from core.naming import default_automl_job_name
from core.ownership import RUN_TAG
from core.pricing.types import InstancePrices
from core.run import Run
from core.sagemaker.autopilot import (
    ASSUMED_INSTANCE,
    AutopilotRequest,
    CompletionCriteria,
    check_autopilot_request,
    estimate_autopilot_cost,
)
from core.sagemaker.autopilot_models import (
    AUTOPILOT_MODELS,
    DEFAULT_BASE_MODEL,
    FEATURE_STATUS,
    HYPERPARAMETERS,
    autopilot_model,
    check_hyperparameters,
)
from core.statuses import JobStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.widgets.error_panel import ErrorPanel
from screens.workers import WorkerResult

_NAMES = {m.name for m in AUTOPILOT_MODELS}
_HYPERPARAMETER_NAMES = {spec.name for spec in HYPERPARAMETERS}


@dataclass
class AutopilotLaunched(WorkerResult):
    """The job exists (created now, or found: a rerun)."""

    run: Run
    reattached: bool


@dataclass
class RateRead(WorkerResult):
    """The rates of the instance Autopilot is assumed to train on (the estimate follows the
    form's completion criterion from them)."""

    prices: InstancePrices


def for_the_form(error: BedrockTuneError) -> BedrockTuneError:
    """`error` as a form shows it: core's checks speak of the CLI's flags."""
    if "flags" in error.hint:
        error.hint = error.hint.replace("flags", "fields")
    return error


def show_problem(widget: Static, problem: str | None) -> None:
    """Show `problem` at its field (under it, in red), or nothing (taking no line)."""
    widget.update(Text(f"✘ {problem}", style="red") if problem else "")
    widget.display = problem is not None


def hyperparameter_problem(name: str, value: str) -> str | None:
    """Why `value` is not a valid Autopilot `name` (None when it is, or left empty)."""
    if not value.strip():
        return None
    try:
        check_hyperparameters({name: value})
    except BedrockTuneError as error:
        return error.message.splitlines()[-1].removeprefix("- ")
    return None


ESTIMATE_HOURS = 2.0
"""The hours the expected cost is for (the ceiling is the completion criterion's)."""
COST_NOT_READ_YET = "Cost: not known yet (the price is still being read)."
"""What the confirmation says when it opens before the estimate is read: never a figure."""


def estimate_line(prices: InstancePrices, completion: CompletionCriteria) -> str:
    """The form's cost line for `completion`: each amount with its source and date, or
    `unknown` said first when the training rate is unknown (never $0)."""
    if completion.max_runtime_per_training_job < 1:
        # No ceiling to work out (the launch refuses it too): no amount of $0.
        return "Cost: unknown until the completion hours are a number above 0."
    estimate = estimate_autopilot_cost(prices, ESTIMATE_HOURS, completion)
    if estimate.expected is None:
        return f"Cost: unknown. {estimate.note}"
    hours = completion.max_runtime_per_training_job / 3600
    limit = (
        "by the default completion criterion"
        if completion == CompletionCriteria()
        else f"by the completion criterion ({hours:g} h per training job)"
    )
    return f"Cost: {estimate.text(limit)}"


def confirmation_text(request: AutopilotRequest, cost: str) -> str:
    """What the launch confirmation says will be created and billed: the job, its one
    candidate and time limit, the data, and `cost` exactly as the form shows it."""
    model = autopilot_model(request.base_model)
    hours = request.completion.max_runtime_per_training_job / 3600
    data = request.training_uri
    if not data.endswith(".csv"):
        data += " (as Autopilot's input,output CSV, written beside it first)"
    return (
        f"{request.job_name} fine-tunes {model.name} with SageMaker Autopilot "
        # MaxCandidates: text generation supports 1 (botocore's AutoMLJobCompletionCriteria).
        f"(CreateAutoMLJobV2): 1 candidate, at most {hours:g} h per training job (the "
        f"completion criterion).\nData: {data}\n{cost}"
    )


def output_for(run: Run) -> str | None:
    """Where the job writes: the run's output folder, else `output/` beside its data."""
    if run.output_uri:
        return run.output_uri
    if not run.training_uri:
        return None
    folder = run.training_uri.rsplit("/", 1)[0]
    folder = folder[: -len("/data")] if folder.endswith("/data") else folder
    return f"{folder}/output/"


class AutopilotLaunchScreen(StepScreen):
    """Configure and start one Autopilot fine-tuning job."""

    STEP_ID = "launch"
    STEP_TITLE = "Launch (Autopilot)"
    CSS_PATH = "styles/sagemaker_routes.tcss"

    BINDINGS = [Binding("ctrl+l", "launch", "Launch", id="launch-autopilot")]
    """Ctrl+L (or the Launch button) checks the form and asks once (Tab, Enter: launch; Esc:
    nothing is created), then starts the job; Ctrl+N moves on to the watch once it exists."""

    def __init__(self) -> None:
        super().__init__()
        self._prices: InstancePrices | None = None
        """The assumed instance's rates (None until read)."""
        self._cost: str | None = None
        """The cost line the form shows (None until the estimate is read)."""

    def compose_body(self) -> ComposeResult:
        yield Label("Fine-tune with SageMaker Autopilot", classes="step-heading")
        yield Static(FEATURE_STATUS, id="autopilot-lifecycle", classes="step-intro")
        yield Label("Base model", classes="field-label")
        yield Select(
            [
                (f"{m.name}  ({m.lifecycle}, up to {m.row_limit:,} rows)", m.name)
                for m in AUTOPILOT_MODELS
            ],
            id="autopilot-base",
            allow_blank=False,
        )
        yield Static("", id="autopilot-model-note")
        yield Checkbox("I accept the base model's licence (EULA)", id="autopilot-eula")
        yield Static("", id="autopilot-eula-problem", classes="field-problem")
        # One row per field (label beside its box): the cost below stays in view at 160x50.
        for spec in HYPERPARAMETERS:
            with Horizontal(classes="form-row"):
                yield Label(
                    f"{spec.name} ({spec.low:g}-{spec.high:g}: {spec.meaning})",
                    classes="form-label",
                )
                yield Input(placeholder="Autopilot picks", id=f"hp-{spec.name}")
            yield Static("", id=f"hp-problem-{spec.name}", classes="field-problem")
        with Horizontal(classes="form-row"):
            yield Label("Completion: hours per training job at most", classes="form-label")
            yield Input("72", id="autopilot-max-hours")
        with Horizontal(classes="form-row"):
            yield Label("Job name", classes="form-label")
            yield Input(id="autopilot-name")
        yield Static("", id="autopilot-estimate")  # the cost before the request's details
        yield Static("", id="autopilot-request")
        with Horizontal(classes="button-row"):
            yield Button("Launch", id="autopilot-launch", variant="primary")
        yield Static("", id="autopilot-launched")

    def on_mount(self) -> None:
        run = self.host.wizard_run
        base = run.base_model_id if run.base_model_id in _NAMES else DEFAULT_BASE_MODEL
        self.query_one("#autopilot-base", Select).value = base
        for name, value in run.hyperparameters.items():
            found = self.query(f"#hp-{name}")
            if found:
                found.first(Input).value = value
        name = run.job_name or default_automl_job_name(base)
        self.query_one("#autopilot-name", Input).value = name
        if run.job_arn:
            self.query_one("#autopilot-launched", Static).update(f"Launched: {run.job_arn}")
        self._refresh()
        self.estimate()

    @on(Select.Changed)
    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._refresh()

    @on(Input.Changed)
    def _check_hyperparameter(self, event: Input.Changed) -> None:
        """A hyperparameter out of its range (or not a number) is marked at its field."""
        name = (event.input.id or "").removeprefix("hp-")
        if name not in _HYPERPARAMETER_NAMES:
            return
        problem = hyperparameter_problem(name, event.value)
        event.input.set_class(problem is not None, "-invalid")
        show_problem(self.query_one(f"#hp-problem-{name}", Static), problem)

    @on(Checkbox.Changed, "#autopilot-eula")
    def _eula_ticked(self) -> None:
        show_problem(self.query_one("#autopilot-eula-problem", Static), None)

    def _hp(self, name: str) -> Input:
        return self.query_one(f"#hp-{name}", Input)

    def request(self) -> AutopilotRequest:
        """The request the form describes (not yet checked)."""
        run = self.host.wizard_run
        hours = self.query_one("#autopilot-max-hours", Input).value.strip() or "72"
        try:
            seconds = round(float(hours) * 3600)
        except ValueError:
            seconds = 0
        values = {
            spec.name: self.query_one(f"#hp-{spec.name}", Input).value.strip()
            for spec in HYPERPARAMETERS
        }
        return AutopilotRequest(
            job_name=self.query_one("#autopilot-name", Input).value.strip(),
            role_arn=run.role_arn or "",
            base_model=str(self.query_one("#autopilot-base", Select).value),
            training_uri=run.training_uri or "",
            output_uri=output_for(run) or "",
            validation_uri=None,
            hyperparameters={k: v for k, v in values.items() if v},
            completion=CompletionCriteria(max(seconds, 0)),
            accept_eula=self.query_one("#autopilot-eula", Checkbox).value,
            tags={RUN_TAG: run.run_id or ""},
        )

    def _refresh(self) -> None:
        model = autopilot_model(str(self.query_one("#autopilot-base", Select).value))
        self.query_one("#autopilot-model-note", Static).update(
            f"{model.name}: JumpStart {model.jumpstart_id}; at most {model.row_limit:,} rows "
            f"(training + validation), {model.context:,} tokens per row. {model.note}."
        )
        request = self.request()
        if self._prices is not None:
            self._show_cost(estimate_line(self._prices, request.completion))
        waiting = model.eula and not request.accept_eula
        try:
            # Before the licence is accepted the request is shown as it will be once it is.
            checked = check_autopilot_request(replace(request, accept_eula=True))
        except BedrockTuneError as error:
            self.query_one("#autopilot-request", Static).update(for_the_form(error).describe())
            return
        text = json.dumps({"operation": "CreateAutoMLJobV2", "request": checked.to_api()}, indent=2)
        shown = Syntax(text, "json", word_wrap=True)
        self.query_one("#autopilot-request", Static).update(
            Group(Text("The request, once the licence is accepted:", style="yellow"), shown)
            if waiting
            else shown
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="estimate", name="estimate")
    def estimate(self) -> RateRead:
        """The training rate of the instance Autopilot is assumed to use (may call AWS)."""
        from core.pricing.service import PriceService

        context = self.require_context()
        return RateRead(PriceService(context).instance_prices(ASSUMED_INSTANCE, context.region))

    @on(RateRead)
    def _rate_read(self, message: RateRead) -> None:
        self._prices = message.prices
        self._show_cost(estimate_line(message.prices, self.request().completion))

    def _show_cost(self, line: str) -> None:
        """Show the cost line on the form; the confirmation repeats it word for word."""
        self._cost = line
        self.query_one("#autopilot-estimate", Static).update(line)

    @on(Button.Pressed, "#autopilot-launch")
    def action_launch(self) -> None:
        """Check the request (nothing is sent when it is not valid: the field at fault is
        shown), ask once with what it creates and may cost, then start the job."""
        if self.app.screen is not self:
            return  # a press while the confirmation (or any dialog) is open over the step
        if self.query_one("#autopilot-launch", Button).disabled:
            self.notify("The job is starting.")
            return
        self.clear_error()
        request = self.request()
        model = autopilot_model(request.base_model)
        if model.eula and not request.accept_eula:
            show_problem(
                self.query_one("#autopilot-eula-problem", Static),
                "Accept the licence to launch (Space ticks the box).",
            )
            self.show_error(
                ValidationError(
                    f"{model.name} has an end-user licence (EULA) to accept first.",
                    title="Licence not accepted",
                    hint=f"Read it ({model.name} on JumpStart: {model.jumpstart_id}), then tick "
                    '"I accept the base model\'s licence". Nothing was sent.',
                )
            )
            self.query_one("#autopilot-eula", Checkbox).focus()
            return
        try:
            checked = check_autopilot_request(request)
        except BedrockTuneError as error:
            self.show_error(for_the_form(error))
            wrong = [
                field
                for spec in HYPERPARAMETERS
                if hyperparameter_problem(spec.name, (field := self._hp(spec.name)).value)
            ]
            if wrong:
                wrong[0].focus()  # its problem is shown under it
            else:
                self.query_one("#autopilot-launch", Button).focus()
                self.query_one(ErrorPanel).reveal()
            return

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return  # nothing was saved or sent
            self.query_one("#autopilot-launch", Button).disabled = True
            self.launch(checked)

        self.app.push_screen(
            ConfirmScreen(
                "Start the Autopilot job?",
                confirmation_text(checked, self._cost or COST_NOT_READ_YET),
                "Launch job",
                danger=False,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch", name="launch")
    def launch(self, request: AutopilotRequest) -> AutopilotLaunched:
        """Write and upload the CSV, save the run, then start the job once."""
        from core.sagemaker.launching import start_autopilot, upload_autopilot_csv

        context = self.require_context()
        run = self.host.wizard_run
        training = request.training_uri
        prepared = Path(run.prepared_dir or "") / TRAIN_FILE
        if not training.endswith(".csv") and run.prepared_dir and prepared.is_file():
            with tempfile.TemporaryDirectory() as scratch:
                training, _ = upload_autopilot_csv(context, prepared, training, Path(scratch))
            request = replace(request, training_uri=training)
        run = replace(
            run,
            base_model_id=request.base_model,
            training_uri=training,
            output_uri=request.output_uri,
            hyperparameters=dict(request.hyperparameters),
            job_name=request.job_name,
        )
        self.app.call_from_thread(self.host.update_run, run)
        self.host.save_run_now()  # on disk before the call: a rerun finds the job's name
        arn, reattached = start_autopilot(context, request, run, self.host.registry())
        return AutopilotLaunched(
            replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS), reattached
        )

    @on(AutopilotLaunched)
    def _launched(self, message: AutopilotLaunched) -> None:
        self.host.update_run(message.run)
        verb = "Re-attached to" if message.reattached else "Started"
        self.query_one("#autopilot-launched", Static).update(
            f"{verb} {message.run.job_name}: {message.run.job_arn}"
        )
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        self.query_one("#autopilot-launch", Button).disabled = False
        if name == "estimate":
            self._show_cost("Cost: unknown (the price could not be read).")
            return
        self.show_error(error)
        self.query_one(ErrorPanel).reveal()
