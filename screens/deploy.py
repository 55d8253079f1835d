"""Deploy the custom model: the options the model has, each with its cost and time to be ready;
provisioned throughput only after a confirmation that repeats its hourly price. Creation is
polled like a job; every billable resource goes into the registry at once."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from core.catalog.lookup import find_model
from core.catalog.types import BaseModel
from core.errors import BedrockTuneError
from core.naming import default_serving_name
from core.poll import PollUpdate
from core.pricing.service import PriceService
from core.pricing.types import ModelPrices
from core.registry import ResourceRecord
from core.serving.deploy import (
    DeploymentPlan,
    Kind,
    Serving,
    deployment_options,
    get_serving,
    serving_poller,
)
from core.serving.once import ServingIntent, create_once, new_intent, saved_for_run
from core.statuses import ServingKind, ServingStatus
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.pricing import PRICES_WORKER, PricesRead, lookup_prices
from screens.workers import WorkerResult


@dataclass
class ServingCreated(WorkerResult):
    """A provisioned throughput or an on-demand deployment was created (it bills from now)."""

    kind: Kind
    arn: str
    billing: dict[str, Any]
    """What the registry records: the base model, the hourly price and its source and date."""


class DeployScreen(StepScreen):
    """Choose how to serve the model, confirm, and wait until it is ready."""

    STEP_ID = "deploy"
    STEP_TITLE = "Deploy"

    BINDINGS = [Binding("d", "deploy", "Deploy", id="deploy-model")]
    """`d`, or Enter on an option, deploys it (provisioned throughput asks first)."""

    def __init__(self) -> None:
        super().__init__()
        self._plans: list[DeploymentPlan] = []
        self._prices: ModelPrices | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("How should the custom model be served?", classes="step-heading")
        yield Static("", id="deploy-model")
        yield OptionList(id="plans")
        yield Static("", id="deploy-status")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Deploy", id="deploy", variant="primary")

    def on_mount(self) -> None:
        self._load()

    def on_screen_resume(self) -> None:
        self._load()

    def _load(self) -> None:
        run = self.host.wizard_run
        if not run.base_model_id or not run.custom_model_arn:
            return
        model = find_model(run.base_model_id)
        region = run.region or model.regions[0]
        if self._prices is None or (self._prices.model_id, self._prices.region) != (
            model.id,
            region,
        ):
            self._prices = None  # the built-in figures (said so) until the Price List answers
            lookup_prices(self, model, region)
        self.query_one("#deploy-model", Static).update(
            Text.assemble(("Custom model ", "bold"), run.custom_model_arn)
        )
        self._show_plans(model)
        if run.serving_arn:
            self.query_one("#deploy", Button).disabled = True
            self.watch_serving(
                run.serving_kind or ServingKind.PROVISIONED_THROUGHPUT, run.serving_arn
            )
            return
        saved = saved_for_run(self.host.registry(), run.run_id) if run.run_id else None
        if saved is not None:
            # A create was confirmed and sent (or about to be) when bedrock-tune stopped: send
            # it again with its saved token, which re-attaches to what it made (never a second).
            plan = next((p for p in self._plans if p.kind == saved.kind), None)
            if plan is not None:
                self._start(plan, saved)

    def _show_plans(self, model: BaseModel) -> None:
        """List the options with their prices (keeping the highlighted one)."""
        self._plans = deployment_options(model, self._prices)
        plans = self.query_one("#plans", OptionList)
        highlighted = plans.highlighted or 0
        plans.clear_options()
        for plan in self._plans:
            label = Text(plan.label, style="bold")
            label.append(
                f"\n  {plan.cost_text}; ready in {plan.ready_in}\n  {plan.note}", style="dim"
            )
            plans.add_option(Option(label, id=plan.kind))
        plans.highlighted = min(highlighted, len(self._plans) - 1)

    @on(PricesRead)
    def _prices_read(self, message: PricesRead) -> None:
        self._prices = message.prices
        if self.host.wizard_run.base_model_id == message.prices.model_id:
            self._show_plans(find_model(message.prices.model_id))

    def _plan(self) -> DeploymentPlan | None:
        plans = self.query_one("#plans", OptionList)
        if plans.highlighted is None or not self._plans:
            return None
        return self._plans[plans.highlighted]

    @on(OptionList.OptionSelected, "#plans")
    @on(Button.Pressed, "#deploy")
    def action_deploy(self) -> None:
        """Deploy the highlighted option (after a confirmation of its price when it bills by
        the hour)."""
        plan = self._plan()
        if plan is None:
            self.notify("No custom model to deploy yet.", severity="warning")
            return
        if self.query_one("#deploy", Button).disabled:
            self.notify("This run's model is already deployed (or being deployed).")
            return
        if plan.kind == "custom-model-deployment":
            self._start(plan)
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start(plan)

        self.app.push_screen(
            ConfirmScreen(
                "Buy provisioned throughput?",
                f"It bills {plan.cost_text}, whether you use it or not, until you delete it "
                "(the Teardown step, or `bedrock-tune undeploy`).",
                "Buy it",
            ),
            confirmed,
        )

    def _start(self, plan: DeploymentPlan, saved: ServingIntent | None = None) -> None:
        self.clear_error()
        self.query_one("#deploy", Button).disabled = True
        self.query_one("#deploy-status", Static).update(f"Creating the {plan.label.lower()}...")
        self.create(plan, saved)

    @work(thread=True, exclusive=True, exit_on_error=False, group="deploy", name="create")
    def create(self, plan: DeploymentPlan, saved: ServingIntent | None = None) -> ServingCreated:
        """Create it once (`core.serving.once`): the registry holds it, billable, with the hourly
        price and its source (read again here, so a press before the prices arrived still
        records the Price List's figure) from before the request is sent; `saved` re-attaches
        to what an interrupted create made."""
        context = self.host.aws_context()
        run = self.host.wizard_run
        if context is None or run.custom_model_arn is None or run.base_model_id is None:
            raise BedrockTuneError("No AWS context or model.", hint="Finish the earlier steps.")
        model = find_model(run.base_model_id)
        prices = PriceService(context).model_prices(model, run.region or model.regions[0])
        priced = next(p for p in deployment_options(model, prices) if p.kind == plan.kind)
        name = default_serving_name(run.custom_model_name or run.custom_model_arn)
        intent = saved or new_intent(plan.kind, name, run.custom_model_arn)
        record = ResourceRecord(
            plan.kind,
            "",
            run.region or "",
            run.account_id or "",
            run.run_id,
            billable=True,
            details={"base_model_id": model.id, **priced.billing_details()},
        )
        arn = create_once(
            context, self.host.registry(), intent, record, creator_arn=run.principal_arn
        )
        return ServingCreated(plan.kind, arn, record.details)

    @work(thread=True, exclusive=True, exit_on_error=False, group="watch", name="poll-serving")
    def watch_serving(self, kind: str, arn: str) -> None:
        """Poll until ready (or failed), backing off while nothing changes; a throttle or a
        dropped connection is shown and polling goes on; a cancel stops it within 0.1 s."""
        worker = get_current_worker()
        poller = serving_poller(
            lambda: get_serving(self.require_context(), cast(Kind, kind), arn),
            first=self.host.launch.poll_interval,
        )
        poller.run(
            lambda update: self.app.call_from_thread(self._show, update),
            cancelled=lambda: worker.is_cancelled,
        )

    def _show(self, update: PollUpdate[Serving]) -> None:
        if update.error is not None:
            self.show_error(update.error, warning=not update.needs_reauth)
        else:
            self.clear_error()
        serving = update.value
        if serving is None:
            return
        style = "bold green" if serving.ready else "yellow"
        text = Text(f"{serving.name}: {serving.status}", style=style)
        if serving.failure_message:
            text.append(f"\n{serving.failure_message}", style="red")
        self.query_one("#deploy-status", Static).update(text)
        if serving.ready and self.host.wizard_run.serving_status != serving.status:
            self.host.update_run(
                replace(self.host.wizard_run, serving_status=ServingStatus(serving.status))
            )
            self.app.bell()
            self.notify(f"{serving.name} is ready.", title="Deploy")

    @on(ServingCreated)
    def _serving_created(self, message: ServingCreated) -> None:
        # The registry holds it already (create_once); a kill before this run update is
        # repaired on resume, which finds the entry by the run's id.
        kind, arn = message.kind, message.arn
        run = self.host.wizard_run
        self.host.update_run(
            replace(
                run,
                serving_kind=ServingKind(kind),
                serving_arn=arn,
                serving_status=ServingStatus.CREATING,
            )
        )
        self.watch_serving(kind, arn)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == PRICES_WORKER:
            return  # the options keep the built-in figures, which say so
        if name == "create":
            # Only a failed creation may be tried again: when polling fails, the resource
            # exists and a second press would buy a second one.
            self.query_one("#deploy", Button).disabled = False
        self.show_error(error)
