"""The sagemaker-jumpstart route's launch step: the JumpStart text-generation models that can be
fine-tuned (read from the SageMaker Public Hub), the chosen model's spec (training image,
script, artefacts, default hyperparameters), the instance type with its price, the EULA shown
and accepted explicitly, hyperparameter overrides checked against the spec, the exact
CreateTrainingJob request, then, once a confirmation repeating what is created and its price is
answered yes, the job started once.

The order that makes it safe is core's (`core.sagemaker.launching`): the run, with the job's
name, is on disk before CreateTrainingJob (which takes no client token); a job of that name
tagged with this run is re-attached, never created twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace

from rich.console import Group
from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from core.errors import BedrockTuneError, ValidationError
from core.naming import default_job_name
from core.ownership import RUN_TAG
from core.pricing.types import InstancePrices, total_text
from core.run import Run
from core.sagemaker.hub import HubModel, HubModelSpec
from core.sagemaker.jumpstart import JumpStartRequest, check_jumpstart_request
from core.statuses import JobStatus
from screens.autopilot import for_the_form, output_for, show_problem
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.widgets.error_panel import ErrorPanel
from screens.workers import WorkerResult


@dataclass
class HubModelsRead(WorkerResult):
    """The Public Hub's fine-tunable text models."""

    models: list[HubModel]


@dataclass
class SpecRead(WorkerResult):
    """One model's spec."""

    spec: HubModelSpec


@dataclass
class PriceRead(WorkerResult):
    """An instance type's rates."""

    prices: InstancePrices


@dataclass
class JumpStartLaunched(WorkerResult):
    """The job exists (created now, or found: a rerun)."""

    run: Run
    reattached: bool


def overrides(text: str) -> dict[str, str]:
    """`name=value name=value` as a dict (a ValidationError for a part that is not one)."""
    values: dict[str, str] = {}
    for part in text.split():
        name, sep, value = part.partition("=")
        if not sep or not name or not value:
            raise ValidationError(
                f"'{part}' is not NAME=VALUE", hint="e.g. epoch=1 instruction_tuned=True"
            )
        values[name] = value
    return values


ESTIMATE_HOURS = 2.5
"""The hours the form's estimate is for (the text-to-SQL walkthrough's run, reference)."""
PRICE_NOT_READ = "Price unknown (it could not be read)."


def price_text(prices: InstancePrices) -> str:
    """The form's price line: the training rate with its source and date, and what the
    estimated hours cost at it (the rate said unknown, never $0, when it is)."""
    training = prices.training
    cost = (
        f", about {total_text(training, ESTIMATE_HOURS, f'for {ESTIMATE_HOURS:g} h')}"
        if training.is_known
        else ""
    )
    return f"{prices.instance_type}: training {training.text()}{cost}"


def confirmation_text(request: JumpStartRequest, price: str | None) -> str:
    """What the launch confirmation says will be created and billed: the training job, its
    instance type and count, its time limit, the data, and `price` exactly as the form shows
    it (None: not read yet, said so)."""
    api = request.to_api()
    resources = api["ResourceConfig"]
    hours = api["StoppingCondition"]["MaxRuntimeInSeconds"] / 3600
    spec = request.spec
    return (
        f"{request.job_name} fine-tunes {spec.display_name or spec.model_id} "
        f"({spec.model_id} {spec.version}) with a SageMaker training job "
        f"(CreateTrainingJob): {resources['InstanceCount']} x {resources['InstanceType']}, "
        f"at most {hours:g} h (its stopping condition), billed per instance-hour while it "
        f"runs.\nData: {request.training_uri}\nCost: "
        + (price or f"not known yet (the price of {request.instance_type} is still being read).")
    )


def spec_text(spec: HubModelSpec) -> Text:
    """What the job will run and its defaults."""
    text = Text()
    text.append(f"{spec.display_name or spec.model_id} {spec.version}\n", style="bold")
    text.append(f"image     {spec.training_image}\nscript    {spec.training_script}\n")
    text.append(f"artifacts {spec.training_artifact}\n")
    for h in spec.hyperparameters:
        bounds = ""
        if h.options:
            bounds = f" one of {', '.join(h.options)}"
        elif h.low is not None or h.high is not None:
            low = "" if h.low is None else f"{h.low:g}"
            high = "" if h.high is None else f"{h.high:g}"
            bounds = f" ({low}..{high})"
        text.append(f"  {h.name} = {h.default}{bounds}\n", style="dim")
    return text


class JumpStartLaunchScreen(StepScreen):
    """Configure and start one JumpStart fine-tuning job."""

    STEP_ID = "launch"
    STEP_TITLE = "Launch (JumpStart)"
    CSS_PATH = "styles/sagemaker_routes.tcss"

    BINDINGS = [Binding("ctrl+l", "launch", "Launch", id="launch-jumpstart")]
    """Ctrl+L (or the Launch button) checks the form and asks once (Tab, Enter: launch; Esc:
    nothing is created), then starts the job; Ctrl+N moves on to the watch once it exists."""

    def __init__(self) -> None:
        super().__init__()
        self._spec: HubModelSpec | None = None
        self._pricing = ""
        """The instance type whose price is being read."""
        self._price: tuple[str, str] | None = None
        """The instance type and the price line the form shows for it."""

    def compose_body(self) -> ComposeResult:
        yield Label("Fine-tune a JumpStart model", classes="step-heading")
        yield Label("Model (SageMaker Public Hub)", classes="field-label")
        yield Select([], id="js-model", prompt="reading the Public Hub…")
        # The licence right under the model (on screen at 80x24); what the job runs below.
        yield Static("", id="js-eula")
        yield Checkbox("I accept the model's licence (EULA)", id="js-accept-eula")
        yield Static("", id="js-eula-problem", classes="field-problem")
        yield Label("Instance type", classes="field-label")
        yield Select([], id="js-instance", prompt="choose a model first")
        yield Static("", id="js-price")
        yield Label("Hyperparameters to change (NAME=VALUE ...)", classes="field-label")
        yield Input(placeholder="e.g. epoch=1 instruction_tuned=True", id="js-hp")
        yield Label("Job name", classes="field-label")
        yield Input(id="js-name")
        yield Static("", id="js-spec")
        yield Static("", id="js-request")
        with Horizontal(classes="button-row"):
            yield Button("Launch", id="js-launch", variant="primary", disabled=True)
        yield Static("", id="js-launched")

    def on_mount(self) -> None:
        run = self.host.wizard_run
        if run.job_arn:
            self.query_one("#js-launched", Static).update(f"Launched: {run.job_arn}")
        self.read_models()

    @work(thread=True, exclusive=True, exit_on_error=False, group="hub", name="hub")
    def read_models(self) -> HubModelsRead:
        """The fine-tunable text models of the Public Hub."""
        from core.sagemaker.hub import fine_tunable_text_models

        return HubModelsRead(fine_tunable_text_models(self.require_context()))

    @on(HubModelsRead)
    def _models_read(self, message: HubModelsRead) -> None:
        select = self.query_one("#js-model", Select)
        select.set_options(
            (f"{m.display_name}  ({m.model_id})", m.model_id) for m in message.models
        )
        wanted = self.host.wizard_run.base_model_id
        if wanted in {m.model_id for m in message.models}:
            select.value = wanted

    @on(Select.Changed, "#js-model")
    def _model_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.read_spec(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="spec", name="spec")
    def read_spec(self, model_id: str) -> SpecRead:
        """The model's spec (DescribeHubContent)."""
        from core.sagemaker.hub import describe_hub_model

        return SpecRead(describe_hub_model(self.require_context(), model_id))

    @on(SpecRead)
    def _spec_read(self, message: SpecRead) -> None:
        spec = self._spec = message.spec
        self.query_one("#js-spec", Static).update(spec_text(spec))
        instance = self.query_one("#js-instance", Select)
        instance.set_options((t, t) for t in spec.instance_types)
        if spec.default_instance in spec.instance_types:
            instance.value = spec.default_instance
        eula = (
            f"This model has a licence to accept: {spec.eula_uri or 'see the model card'}"
            if spec.needs_eula
            else "This model has no licence to accept here."
        )
        self.query_one("#js-eula", Static).update(eula)
        self.query_one("#js-accept-eula", Checkbox).display = spec.needs_eula
        name = self.query_one("#js-name", Input)
        name.value = self.host.wizard_run.job_name or default_job_name(spec.model_id)
        self.query_one("#js-launch", Button).disabled = False
        self._refresh()

    @on(Select.Changed, "#js-instance")
    def _instance_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self._pricing = event.value
            # Not the previous instance's price while this one's is read.
            self.query_one("#js-price", Static).update(f"{event.value}: reading its price…")
            self.read_price(event.value)
        self._refresh()

    @work(thread=True, exclusive=True, exit_on_error=False, group="price", name="price")
    def read_price(self, instance_type: str) -> PriceRead:
        """The instance type's training rate (may call AWS)."""
        from core.pricing.service import PriceService

        context = self.require_context()
        return PriceRead(PriceService(context).instance_prices(instance_type, context.region))

    @on(PriceRead)
    def _price_read(self, message: PriceRead) -> None:
        self._show_price(message.prices.instance_type, price_text(message.prices))

    def _show_price(self, instance_type: str, line: str) -> None:
        """Show `instance_type`'s price line; the confirmation repeats it word for word."""
        self._price = (instance_type, line)
        self.query_one("#js-price", Static).update(line)

    @on(Input.Changed)
    @on(Checkbox.Changed)
    def _changed(self) -> None:
        self._refresh()

    @on(Checkbox.Changed, "#js-accept-eula")
    def _eula_ticked(self) -> None:
        show_problem(self.query_one("#js-eula-problem", Static), None)

    def request(self) -> JumpStartRequest | None:
        """The request the form describes (None before a spec is read)."""
        if self._spec is None:
            return None
        run = self.host.wizard_run
        instance = self.query_one("#js-instance", Select).value
        return JumpStartRequest(
            job_name=self.query_one("#js-name", Input).value.strip(),
            role_arn=run.role_arn or "",
            spec=self._spec,
            training_uri=run.training_uri or "",
            output_uri=output_for(run) or "",
            instance_type=instance if isinstance(instance, str) else "",
            accept_eula=self.query_one("#js-accept-eula", Checkbox).value,
            hyperparameters=overrides(self.query_one("#js-hp", Input).value),
            tags={RUN_TAG: run.run_id or ""},
        )

    def _refresh(self) -> None:
        shown = self.query_one("#js-request", Static)
        try:
            request = self.request()
            if request is None:
                return
            waiting = request.spec.needs_eula and not request.accept_eula
            # Before the licence is accepted the request is shown as it will be once it is.
            check_jumpstart_request(replace(request, accept_eula=True))
        except BedrockTuneError as error:
            shown.update(for_the_form(error).describe())
            return
        request = replace(request, accept_eula=True)
        text = json.dumps({"operation": "CreateTrainingJob", "request": request.to_api()}, indent=2)
        syntax = Syntax(text, "json", word_wrap=True)
        shown.update(
            Group(Text("The request, once the licence is accepted:", style="yellow"), syntax)
            if waiting
            else syntax
        )

    @on(Button.Pressed, "#js-launch")
    def action_launch(self) -> None:
        """Check the request (nothing is sent when it is not valid: the field at fault is
        shown), ask once with what it creates and its price, then start the job."""
        if self.app.screen is not self:
            return  # a press while the confirmation (or any dialog) is open over the step
        spec = self._spec
        if spec is None:
            self.notify("Choose a model first (its spec is being read).", severity="warning")
            return
        if self.query_one("#js-launch", Button).disabled:
            self.notify("The job is starting.")
            return
        self.clear_error()
        if spec.needs_eula and not self.query_one("#js-accept-eula", Checkbox).value:
            show_problem(
                self.query_one("#js-eula-problem", Static),
                "Accept the licence to launch (Space ticks the box).",
            )
            self.show_error(
                ValidationError(
                    f"{spec.display_name or spec.model_id} has an end-user licence (EULA) to "
                    "accept first.",
                    title="Licence not accepted",
                    hint=f'Read it ({spec.eula_uri or "see the model card"}), then tick "I '
                    "accept the model's licence\". Nothing was sent.",
                )
            )
            self.query_one("#js-accept-eula", Checkbox).focus()
            return
        try:
            request = self.request()
            if request is None:
                return
            check_jumpstart_request(request)
        except BedrockTuneError as error:
            self.show_error(for_the_form(error))
            self.query_one("#js-launch", Button).focus()
            self.query_one(ErrorPanel).reveal()
            return
        checked = request
        # The price line of the instance chosen (one still being read for it is not shown).
        price = self._price[1] if self._price and self._price[0] == checked.instance_type else None

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return  # nothing was saved or sent
            self.query_one("#js-launch", Button).disabled = True
            self.launch(checked)

        self.app.push_screen(
            ConfirmScreen(
                "Start the JumpStart training job?",
                confirmation_text(checked, price),
                "Launch job",
                danger=False,
            ),
            confirmed,
        )

    @work(thread=True, exclusive=True, exit_on_error=False, group="launch", name="launch")
    def launch(self, request: JumpStartRequest) -> JumpStartLaunched:
        """Save the run, then start the training job once."""
        from core.sagemaker.launching import start_training_job

        context = self.require_context()
        run = replace(
            self.host.wizard_run,
            base_model_id=request.spec.model_id,
            output_uri=request.output_uri,
            hyperparameters=dict(request.hyperparameters),
            job_name=request.job_name,
        )
        self.app.call_from_thread(self.host.update_run, run)
        self.host.save_run_now()  # on disk before the call: a rerun finds the job's name
        arn, reattached = start_training_job(context, request.to_api(), run, self.host.registry())
        return JumpStartLaunched(
            replace(run, job_arn=arn, job_status=JobStatus.IN_PROGRESS), reattached
        )

    @on(JumpStartLaunched)
    def _launched(self, message: JumpStartLaunched) -> None:
        self.host.update_run(message.run)
        verb = "Re-attached to" if message.reattached else "Started"
        self.query_one("#js-launched", Static).update(
            f"{verb} {message.run.job_name}: {message.run.job_arn}"
        )
        self.host.next_step(self.STEP_ID)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "launch":
            self.query_one("#js-launch", Button).disabled = False
        if name == "price":
            self._show_price(self._pricing, PRICE_NOT_READ)
            return
        self.show_error(error)
        self.query_one(ErrorPanel).reveal()  # a Public Hub that cannot be read, a refusal
