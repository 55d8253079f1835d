"""Serve the model a SageMaker route trained (an Autopilot job's best candidate, or a JumpStart
training job's output) on a real-time endpoint: the instance type with its hourly price, a
confirmation that repeats it, then creation (recorded before anything is sent, re-attached on
resume), polled to InService or to its FailureReason. Chat comes next."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Input, Label, Static
from textual.worker import get_current_worker

from core.errors import BedrockTuneError, ValidationError
from core.poll import Backoff, PollUpdate
from core.pricing.service import PriceService
from core.pricing.types import Price
from core.run.types import Route, Run
from core.sagemaker import kinds
from core.sagemaker.deploying import deploy_once, endpoint_cost_text
from core.sagemaker.endpoints import (
    INSTANCE_TYPE,
    EndpointPlan,
    EndpointSnapshot,
    ModelSource,
    SourceKind,
    default_endpoint_name,
    describe_endpoint,
    endpoint_poller,
    model_source,
)
from core.statuses import from_endpoint_status
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.widgets.error_panel import ErrorPanel
from screens.workers import WorkerResult

DEFAULT_INSTANCE = "ml.g5.2xlarge"
"""One A10G GPU: the smallest of the instance types the reference's walkthroughs serve 7-8B
models on (⚠ a larger model may need ml.g5.12xlarge)."""


@dataclass
class EndpointPriced(WorkerResult):
    """The hourly price of an instance type for an endpoint (from the Price List, or unknown)."""

    instance_type: str
    price: Price


@dataclass
class SourceRead(WorkerResult):
    """What the endpoint will serve: the job's model and its image."""

    source: ModelSource


@dataclass
class EndpointCreated(WorkerResult):
    """The endpoint exists (it bills from now); the run records it."""

    run: Run


class EndpointScreen(StepScreen):
    """Choose the instance type, confirm its hourly price, and wait until InService."""

    STEP_ID = "endpoint"
    STEP_TITLE = "Endpoint"

    BINDINGS = [Binding("d", "deploy", "Deploy", id="deploy-endpoint")]
    """`d` (or Enter in the instance type) deploys after the price is confirmed; Ctrl+N goes on
    to the chat once the endpoint is in service."""

    def __init__(self) -> None:
        super().__init__()
        self._price: EndpointPriced | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Serve the model on a SageMaker real-time endpoint", classes="step-heading")
        yield Static("", id="endpoint-source")
        yield Label("Instance type", classes="field-label")
        yield Input(DEFAULT_INSTANCE, id="instance")
        yield Static("", id="endpoint-price")
        yield Static("", id="endpoint-status")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Deploy", id="deploy", variant="primary")

    def on_mount(self) -> None:
        self._load()

    def on_screen_resume(self) -> None:
        self._load()

    def _source_kind(self) -> SourceKind:
        """An Autopilot run serves its best candidate; a JumpStart run its training job's model."""
        autopilot = self.host.wizard_run.route is Route.SAGEMAKER_AUTOPILOT
        return "autopilot" if autopilot else "training-job"

    def _load(self) -> None:
        run = self.host.wizard_run
        what = "Autopilot job" if self._source_kind() == "autopilot" else "Training job"
        self.query_one("#endpoint-source", Static).update(
            Text.assemble((f"{what} ", "bold"), run.job_name or "none yet")
        )
        if run.endpoint_instance_type:
            self.query_one("#instance", Input).value = run.endpoint_instance_type
        if run.job_name and self.host.aws_context() is not None:
            self.read_source(self._source_kind(), run.job_name)
        self._look_up_price()
        if run.serving_arn and run.endpoint_name:
            self.query_one("#deploy", Button).disabled = True
            self.watch_endpoint(run.endpoint_name)
        elif run.endpoint_name and self._interrupted(run.endpoint_name):
            # Confirmed and started when bedrock-tune stopped: deploying again re-attaches to
            # what it made (nothing is created twice) and creates what is missing.
            self._start(run.endpoint_instance_type or DEFAULT_INSTANCE)

    @work(thread=True, exclusive=True, exit_on_error=False, group="source", name="source")
    def read_source(self, kind: SourceKind, job_name: str) -> SourceRead:
        """The job's model and the image that will serve it (read, nothing made)."""
        return SourceRead(model_source(self.require_context(), kind, job_name))

    @on(SourceRead)
    def _source_read(self, message: SourceRead) -> None:
        source = message.source
        text = Text.assemble((source.label[0].upper() + source.label[1:], "bold"))
        for container in source.containers:
            text.append(f"\nServed by {container.image}", style="dim")
            text.append(f"\n  model {container.model_data or '-'}", style="dim")
        if source.image_origin:
            text.append(f"\nImage: {source.image_origin}", style="dim")
        self.query_one("#endpoint-source", Static).update(text)

    def _interrupted(self, name: str) -> bool:
        """Whether a deploy of this endpoint was under way (its entry still pending): not after
        a refusal (no quota...), which removed it, so nothing is retried unasked."""
        return any(
            r.kind == kinds.ENDPOINT and r.identifier == name and r.details.get("pending")
            for r in self.host.registry().resources()
        )

    def _instance(self) -> str:
        return self.query_one("#instance", Input).value.strip()

    @on(Input.Changed, "#instance")
    def _look_up_price(self) -> None:
        instance = self._instance()
        if INSTANCE_TYPE.fullmatch(instance) and self.host.aws_context() is not None:
            self.query_one("#endpoint-price", Static).update("Reading its hourly price...")
            self.price_of(instance)

    @work(thread=True, exclusive=True, exit_on_error=False, group="price", name="endpoint-price")
    def price_of(self, instance: str) -> EndpointPriced:
        """The endpoint rate of `instance` in the run's region (the Price List, cached)."""
        context = self.require_context()
        prices = PriceService(context).instance_prices(instance, context.region)
        return EndpointPriced(instance, prices.endpoint)

    @on(EndpointPriced)
    def _priced(self, message: EndpointPriced) -> None:
        if message.instance_type != self._instance():
            return  # typed on since: a newer look-up follows
        self._price = message
        self.query_one("#endpoint-price", Static).update(
            endpoint_cost_text(message.price, message.instance_type)
        )

    @on(Input.Submitted, "#instance")
    @on(Button.Pressed, "#deploy")
    def action_deploy(self) -> None:
        """Deploy after a confirmation that repeats the hourly price."""
        run = self.host.wizard_run
        instance = self._instance()
        if self.query_one("#deploy", Button).disabled:
            self.notify("This run's model is already served (or being deployed).")
            return
        if not run.job_name:
            self.notify("Train the model first (launch and watch).", severity="warning")
            return
        if not INSTANCE_TYPE.fullmatch(instance):
            self.show_error(
                ValidationError(
                    f"'{instance}' is not an instance type.",
                    hint="An ml. instance type, e.g. ml.g5.2xlarge (1 GPU) or ml.g5.12xlarge.",
                )
            )
            return
        if self._price is None or self._price.instance_type != instance:
            self.notify("Reading the price first; press Deploy again in a moment.")
            self._look_up_price()
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(instance)

        self.app.push_screen(
            ConfirmScreen(
                "Create the endpoint?", endpoint_cost_text(self._price.price, instance), "Deploy it"
            ),
            confirmed,
        )

    def _start(self, instance: str) -> None:
        self.clear_error()
        self.query_one("#deploy", Button).disabled = True
        self.query_one("#endpoint-status", Static).update("Creating the endpoint...")
        self.create(instance)

    @work(thread=True, exclusive=True, exit_on_error=False, group="deploy", name="create")
    def create(self, instance: str) -> EndpointCreated:
        """Create the endpoint once (`core.sagemaker.deploying`): recorded before anything is
        sent; an interrupted deploy of this run is re-attached to."""
        context = self.require_context()
        run = self.host.wizard_run
        if run.run_id is None or run.job_name is None:
            raise BedrockTuneError("The run has no trained model yet.", hint="Launch it first.")
        source = model_source(context, self._source_kind(), run.job_name)
        price = PriceService(context).instance_prices(instance, context.region).endpoint
        name = run.endpoint_name or default_endpoint_name(source.name)
        deployed = deploy_once(
            context,
            self.host.registry(),
            EndpointPlan(name, source, instance),
            run.run_id,
            run,
            price,
            creator_arn=run.principal_arn,
        )
        return EndpointCreated(deployed.run)

    @on(EndpointCreated)
    def _created(self, message: EndpointCreated) -> None:
        self.host.update_run(message.run)
        if message.run.endpoint_name:
            self.watch_endpoint(message.run.endpoint_name)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="poll-endpoint")
    def watch_endpoint(self, name: str) -> None:
        """Poll until InService (or failed), backing off while nothing changes; a cancel stops
        it within 0.1 s."""
        worker = get_current_worker()
        poller = endpoint_poller(
            lambda: describe_endpoint(self.require_context(), name),
            backoff=Backoff.starting_at(self.host.launch.poll_interval, jitter=0.1),
        )
        poller.run(
            lambda update: self.app.call_from_thread(self._show, update),
            cancelled=lambda: worker.is_cancelled,
        )

    def _show(self, update: PollUpdate[EndpointSnapshot]) -> None:
        if update.error is not None:
            self.show_error(update.error, warning=not update.needs_reauth)
        else:
            self.clear_error()
        snapshot = update.value
        if snapshot is None:
            return
        style = "bold green" if snapshot.ready else "yellow"
        text = Text(f"{snapshot.name}: {snapshot.status}", style=style)
        if snapshot.failure_reason:
            text = Text(f"{snapshot.name}: {snapshot.status}", style="bold red")
            text.append(f"\n{snapshot.failure_reason}", style="red")
            text.append(
                "\nFix the cause, delete the endpoint (the Teardown step), then deploy again.",
                style="dim",
            )
        elif snapshot.ready:
            text.append("\nChat with it in the next step (Ctrl+N).", style="dim")
        self.query_one("#endpoint-status", Static).update(text)
        status = from_endpoint_status(snapshot.status)
        run = self.host.wizard_run
        if snapshot.settled and run.serving_status != status:
            self.host.update_run(replace(run, serving_status=status))
            if snapshot.ready:
                self.app.bell()
                self.notify(f"{snapshot.name} is in service.", title="Endpoint")

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "endpoint-price":
            self.query_one("#endpoint-price", Static).update(
                f"The price could not be read: {error}"
            )
            return
        if name == "source":  # said where it matters: Deploy reads the source again
            self.query_one("#endpoint-source", Static).update(
                Text(f"The trained model could not be read: {error}", style="yellow")
            )
            return
        if name == "create":
            # A failed creation may be tried again: what was made is found and reused.
            self.query_one("#deploy", Button).disabled = False
            self.query_one("#endpoint-status", Static).update("")
        self.show_error(error)
        self.query_one(ErrorPanel).reveal()
