"""Step 2: the base model to customize, and how (fine-tuning, continued pre-training,
distillation): every model with its availability in the region, limits, hyperparameters and
prices, from the live ListFoundationModels answer merged with the built-in catalog.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Button, DataTable, Label, Select, Static

from core import format as fmt
from core.catalog.lookup import default_model, instead_text, load_view
from core.catalog.types import BaseModel, CatalogView, CustomizationType, ModelAvailability
from core.pricing.builtin import builtin_prices
from core.pricing.types import ModelPrices
from core.run import Route
from screens.base import StepScreen
from screens.model_detail import describe_model
from screens.pricing import PRICES_WORKER, RegionPricesRead, lookup_region_prices
from screens.run_change import RunChangeChoice, RunChangeScreen
from screens.workers import WorkerResult

if TYPE_CHECKING:
    from collections.abc import Callable

    from core.aws import AwsContext
    from core.run.changes import RunChange

_SHORT = {
    CustomizationType.FINE_TUNING: "FT",
    CustomizationType.CONTINUED_PRE_TRAINING: "CPT",
    CustomizationType.DISTILLATION: "distill",
}


@dataclass
class ModelsLoaded(WorkerResult):
    """The region's models, merged with the catalog, for one customization type."""

    view: CatalogView


def _short_source(prices: ModelPrices) -> str:
    """`Price List 2026-12-02` or `built-in 2025-07-20`, for the table."""
    label = "Price List" if prices.source == "price-list-api" else "built-in"
    return f"{label} {prices.as_of}"


class ModelScreen(StepScreen):
    """Choose the base model and the customization type."""

    STEP_ID = "model"
    STEP_TITLE = "Base model"
    CSS_PATH = "styles/model.tcss"

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Use model", id="next-step"),
        Binding("u", "use", "Use this model", id="use-model", show=False),
        Binding("r", "reload", "Reload list", id="reload-models"),
        Binding("f", "advise", "Fine-tune or RAG?", id="advise"),
        Binding("i", "import_own", "Import my own", id="import-own-key", show=False),
        Binding("s", "train_sagemaker", "Train on SageMaker", id="train-sagemaker-key", show=False),
        Binding("a", "autopilot", "Autopilot route", id="autopilot-route", show=False),
        Binding("j", "jumpstart", "JumpStart route", id="jumpstart-route", show=False),
    ]
    """Enter on the list, `u` or Ctrl+N choose the highlighted model; `i`, `s`, `a` and `j` take
    the other routes, whose buttons are below the list (off a small screen)."""

    def __init__(self) -> None:
        super().__init__()
        self._view: CatalogView | None = None
        self._selected: ModelAvailability | None = None
        self._prices: dict[str, ModelPrices] = {}
        """The region's prices by model id (the Price List's once it answered)."""
        self._price_note = ""

    def compose_body(self) -> ComposeResult:
        yield Label("Which model do you want to customize?", classes="step-heading")
        yield Static("", id="other-routes", classes="step-intro")
        yield Label("Customize a Bedrock model", classes="field-label model-group")
        with Horizontal(id="model-controls"):
            yield Label("Customization", classes="inline-label")
            yield Select[str](
                [(t.label, t.value) for t in CustomizationType],
                value=CustomizationType.FINE_TUNING.value,
                allow_blank=False,
                id="customization-type",
            )
        yield Static("Loading the models this region offers...", id="models-status")
        with Horizontal(id="model-columns", classes="columns"):
            with Vertical(id="models-column"):
                table: DataTable[str | Text] = DataTable(
                    id="models", cursor_type="row", zebra_stripes=True
                )
                yield table
            with VerticalScroll(id="model-detail-column"):
                yield Static("", id="model-detail")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Use this model", id="use", variant="primary", disabled=True)
        with Vertical(id="import-group"):
            yield Label("Or import my own (open-weight models)", classes="field-label model-group")
            yield Static(
                "A model you tuned elsewhere (Llama, Mistral, Mixtral, Qwen, Flan-T5, GPTBigCode, "
                "GPT-OSS) from a local folder, an s3:// folder or a Hugging Face id, checked and "
                "imported with Custom Model Import, then served on demand.",
                classes="step-intro",
            )
            with Horizontal(classes="button-row"):
                yield Button("Import my own model", id="import-own")
        with Vertical(id="sagemaker-group"):
            yield Label(
                "Or train an open-weight model on SageMaker", classes="field-label model-group"
            )
            yield Static(
                "Fine-tune an open-weight model (Llama 3 8B as in the text-to-SQL walkthrough, "
                "Mistral 7B) with SageMaker serverless customization or bedrock-tune's QLoRA "
                "script on an instance, then import it with Custom Model Import and call it on "
                "demand. The Train step chooses the model and how.",
                classes="step-intro",
            )
            with Horizontal(classes="button-row"):
                yield Button("Train on SageMaker", id="train-sagemaker")
        with Vertical(id="sagemaker-endpoint-group"):
            yield Label(
                "Or fine-tune on SageMaker and serve on a SageMaker endpoint",
                classes="field-label model-group",
            )
            yield Static(
                "Autopilot fine-tunes one of its base models (Falcon, Llama 2, Mistral 7B, Dolly, "
                "Flan-T5, MPT: a 2023-era list AWS no longer extends) from an input/output CSV; "
                "JumpStart fine-tunes a model of the SageMaker Public Hub (Llama 2 7B first) on "
                "an instance you choose. Either is then served on a real-time endpoint, billed "
                "every hour until you delete it.",
                classes="step-intro",
            )
            with Horizontal(classes="button-row"):
                yield Button("Autopilot (a)", id="train-autopilot")
                yield Button("JumpStart (j)", id="train-jumpstart")

    def on_mount(self) -> None:
        # Offered only when every step of the route is built (`routes_offered`).
        self.query_one("#import-group").display = Route.IMPORT_ONLY in self.host.offered_routes
        offered = Route.SAGEMAKER_IMPORT in self.host.offered_routes
        self.query_one("#sagemaker-group").display = offered
        others = [
            text
            for route, text in (
                (Route.IMPORT_ONLY, "import a model of your own (i)"),
                (Route.SAGEMAKER_IMPORT, "train an open-weight model on SageMaker (s)"),
                (Route.SAGEMAKER_AUTOPILOT, "fine-tune with SageMaker Autopilot (a)"),
                (Route.SAGEMAKER_JUMPSTART, "fine-tune a JumpStart model (j)"),
            )
            if route in self.host.offered_routes
        ]
        hint = self.query_one("#other-routes", Static)
        hint.update(f"Below Bedrock's own models: {', or '.join(others)}." if others else "")
        hint.display = bool(others)
        offered_routes = self.host.offered_routes
        self.query_one("#train-autopilot").display = Route.SAGEMAKER_AUTOPILOT in offered_routes
        self.query_one("#train-jumpstart").display = Route.SAGEMAKER_JUMPSTART in offered_routes
        self.query_one("#sagemaker-endpoint-group").display = (
            Route.SAGEMAKER_AUTOPILOT in offered_routes
            or Route.SAGEMAKER_JUMPSTART in offered_routes
        )
        table = self.query_one("#models", DataTable)
        table.add_columns(
            "", "Model", "Provider", "Types", "Tokens/record", "Training /1K", "Price source"
        )
        table.focus()
        self.action_reload()

    def on_screen_resume(self) -> None:
        run = self.host.wizard_run
        if self._view is not None and run.region != self._view.region:
            self.action_reload()

    def _kind(self) -> CustomizationType:
        value = self.query_one("#customization-type", Select).value
        return CustomizationType(value) if isinstance(value, str) else CustomizationType.FINE_TUNING

    def action_reload(self) -> None:
        """Ask AWS again which models the region offers."""
        context = self.host.aws_context()
        region = self.host.wizard_run.region
        if context is None or region is None:
            return
        self.query_one("#models-status", Static).update(f"Loading the models {region} offers...")
        self.load_models(context, region, self._kind())

    @work(thread=True, exclusive=True, exit_on_error=False, group="models", name="models")
    def load_models(
        self, context: AwsContext, region: str, kind: CustomizationType
    ) -> ModelsLoaded:
        """Merge the region's live list with the catalog (falls back to the catalog)."""
        return ModelsLoaded(load_view(context, region, kind))

    @on(ModelsLoaded)
    def _models_loaded(self, message: ModelsLoaded) -> None:
        self._show_view(message.view)
        lookup_region_prices(self, message.view.region)

    @on(RegionPricesRead)
    def _prices_read(self, message: RegionPricesRead) -> None:
        self._prices = {row.model_id: row for row in message.prices.rows}
        self._price_note = message.prices.note
        if self._view is not None and self._view.region == message.prices.region:
            self._show_view(self._view)

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name != PRICES_WORKER:  # prices keep the built-in figures, which say so
            super().worker_failed(name, error)

    def _prices_of(self, entry: ModelAvailability) -> ModelPrices:
        return self._prices.get(entry.model.id) or builtin_prices(entry.model, entry.region)

    def _show_view(self, view: CatalogView) -> None:
        self._view = view
        status = self.query_one("#models-status", Static)
        if view.live_checked:
            text = Text(
                f"{sum(e.available for e in view.models)} of {len(view.models)} models are "
                f"offered in {view.region} (live list)."
            )
            if view.unknown_live:
                text.append(
                    f"\n{len(view.unknown_live)} more offered there are not in bedrock-tune's "
                    "catalog yet: " + ", ".join(m.model_id for m in view.unknown_live),
                    style="dim",
                )
        else:
            text = Text(
                f"Availability in {view.region} from the built-in catalog; the live list failed:\n",
                style="yellow",
            )
            text.append(view.live_error, style="dim")
        first_active = default_model(view)
        if first_active is None and view.models:
            text.append(
                f"\nNo active model offers {self._kind().label.lower()} in {view.region}: the "
                "models below are legacy or at their end of life. Choose one only on purpose.",
                style="yellow",
            )
        if self._price_note:
            text.append(f"\n{self._price_note}", style="yellow")
        status.update(text)
        table = self.query_one("#models", DataTable)
        table.clear()
        ordered = sorted(view.models, key=lambda e: (not e.available, not e.lifecycle.active))
        # Highlight the run's model, else the first active one: never a legacy or end-of-life
        # model by default.
        chosen = self.host.wizard_run.base_model_id or (
            first_active.model.id if first_active else None
        )
        cursor = 0
        for index, entry in enumerate(ordered):
            model = entry.model
            custom = model.customization(self._kind())
            limit = custom.limits.max_tokens_per_record if custom else None
            prices = self._prices_of(entry)
            style = "" if entry.available else "dim"
            name = model.name + (f" ({entry.lifecycle.tag})" if entry.lifecycle.tag else "")
            table.add_row(
                Text("✔", style="green") if entry.available else Text("✘", style="red"),
                Text(name, style=style),
                Text(model.provider, style=style),
                Text(", ".join(_SHORT[t] for t in model.customization_types), style=style),
                Text("unknown" if limit is None else f"{limit:,}", style=style),
                Text(fmt.money(prices.training.amount, unknown="unknown"), style=style),
                Text(_short_source(prices), style="dim"),
                key=model.id,
            )
            if model.id == chosen:
                cursor = index
        if ordered:
            table.move_cursor(row=cursor)
            self._select(ordered[cursor])

    @on(DataTable.RowHighlighted, "#models")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self._view is None or event.row_key.value is None:
            return
        entry = self._view.get(event.row_key.value)
        if entry is not None:
            self._select(entry)

    @on(DataTable.RowSelected, "#models")
    def _row_selected(self) -> None:
        self.action_use()

    def _select(self, entry: ModelAvailability) -> None:
        if self._selected is not entry:
            # Another model's details start at their top, not where the last one was left.
            self.query_one("#model-detail-column", VerticalScroll).scroll_home(animate=False)
        self._selected = entry
        kind = self._kind()
        self.query_one("#model-detail", Static).update(
            describe_model(entry, kind, self._prices_of(entry))
        )
        usable = entry.available and entry.model.supports(kind)
        self.query_one("#use", Button).disabled = not usable

    @on(Select.Changed, "#customization-type")
    def _kind_changed(self) -> None:
        self.action_reload()

    @on(Button.Pressed, "#use")
    def _use_pressed(self) -> None:
        self.action_use()

    def action_advise(self) -> None:
        """Open the "fine-tune or RAG?" guide, priced for the highlighted model."""
        from screens.advise import AdviseScreen

        model_id = self._selected.model.id if self._selected else None
        region = self._view.region if self._view is not None else None
        self.app.push_screen(AdviseScreen(model_id, self.host.aws_context(), region))

    def action_import_own(self) -> None:
        """`i`: the import-only route (when it is offered)."""
        if Route.IMPORT_ONLY in self.host.offered_routes:
            self._import_own()

    def action_train_sagemaker(self) -> None:
        """`s`: the sagemaker-import route (when it is offered)."""
        if Route.SAGEMAKER_IMPORT in self.host.offered_routes:
            self._train_on_sagemaker()

    @on(Button.Pressed, "#import-own")
    def _import_own(self) -> None:
        """Take the import-only route: its next step asks where the model is."""
        from core.run.changes import change_route

        change = change_route(self.host.wizard_run, Route.IMPORT_ONLY)
        if not change.asks:
            self.host.apply_change(change)
            self.host.go_to_step("model-source")
            return

        def answered(choice: RunChangeChoice | None) -> None:
            if choice is not None:
                self.host.apply_change(change, new_run=True)
                self.host.go_to_step("model-source")

        self.app.push_screen(RunChangeScreen(change), answered)

    @on(Button.Pressed, "#train-sagemaker")
    def _train_on_sagemaker(self) -> None:
        """Take the sagemaker-import route with the walkthrough's model (the Train step can
        choose another); the dataset steps come next."""
        from core.catalog.open_weight import open_weight_models

        models = {m.id: m for m in open_weight_models()}
        model = models.get(self.host.wizard_run.base_model_id or "") or open_weight_models()[0]
        self._take_sagemaker_route(model, Route.SAGEMAKER_IMPORT, "trained on SageMaker")

    def action_autopilot(self) -> None:
        """`a`: the Autopilot route (when it is offered)."""
        if Route.SAGEMAKER_AUTOPILOT in self.host.offered_routes:
            self._train_with_autopilot()

    def action_jumpstart(self) -> None:
        """`j`: the JumpStart route (when it is offered)."""
        if Route.SAGEMAKER_JUMPSTART in self.host.offered_routes:
            self._train_with_jumpstart()

    @on(Button.Pressed, "#train-autopilot")
    def _train_with_autopilot(self) -> None:
        """Take the sagemaker-autopilot route with the run's Autopilot base model, else
        Autopilot's default (its launch step can choose another)."""
        from core.catalog.sagemaker_models import DEFAULT_AUTOPILOT_BASE, autopilot_catalog_models

        models = {m.id: m for m in autopilot_catalog_models()}
        model = models.get(self.host.wizard_run.base_model_id or "")
        model = model or models[DEFAULT_AUTOPILOT_BASE]
        self._take_sagemaker_route(model, Route.SAGEMAKER_AUTOPILOT, "fine-tuned by Autopilot")

    @on(Button.Pressed, "#train-jumpstart")
    def _train_with_jumpstart(self) -> None:
        """Take the sagemaker-jumpstart route with the walkthrough's model (its launch step
        lists the Public Hub's models)."""
        from core.catalog.sagemaker_models import DEFAULT_JUMPSTART_MODEL, jumpstart_catalog_model

        model = jumpstart_catalog_model(DEFAULT_JUMPSTART_MODEL)
        self._take_sagemaker_route(model, Route.SAGEMAKER_JUMPSTART, "fine-tuned with JumpStart")

    def _take_sagemaker_route(self, model: BaseModel, route: Route, how: str) -> None:
        """Choose `model` on the SageMaker `route` (asking first when that resets what the run
        made); the dataset steps come next."""
        from core.run.changes import change_model

        run = self.host.wizard_run
        change = change_model(run, model, CustomizationType.FINE_TUNING, route)

        def chosen() -> None:
            self.notify(f"{model.name}, {how}.", title="Base model")
            self.host.next_step(self.STEP_ID)

        self._make_change(change, chosen)

    def _make_change(self, change: RunChange, then: Callable[[], None]) -> None:
        """Make the change of model (asking first when it resets what the run made, or start a
        new run with it), then call `then`; nothing when the user backs out."""
        if not change.asks:
            self.host.apply_change(change)
            then()
            return

        def answered(choice: RunChangeChoice | None) -> None:
            if choice is not None:
                self.host.apply_change(change, new_run=choice == "new")
                then()

        self.app.push_screen(RunChangeScreen(change), answered)

    def accept(self) -> bool:
        self.action_use()
        return True

    def action_use(self) -> None:
        """Choose the highlighted model for this run."""
        entry = self._selected
        if entry is None:
            self.notify("The models are still loading.", severity="warning")
            return
        kind = self._kind()
        if not entry.available:
            self.notify(
                f"{entry.model.name} is {entry.reason}. Change the region in the Credentials step.",
                severity="warning",
                timeout=8,
            )
            return
        if not entry.model.supports(kind):
            self.notify(
                f"{entry.model.name} does not support {kind.label.lower()}.", severity="warning"
            )
            return
        from core.run.changes import change_model

        # The Bedrock models are the route offered here.
        change = change_model(self.host.wizard_run, entry.model, kind, Route.BEDROCK_CUSTOMIZATION)

        def chosen() -> None:
            self.notify(f"{entry.model.name} ({kind.label.lower()}) chosen.", title="Base model")
            if not entry.lifecycle.active:
                alternatives = instead_text(entry.lifecycle)
                self.notify(
                    f"{entry.model.name} is {entry.lifecycle.describe(entry.region)}."
                    + (f" Consider {alternatives}." if alternatives else ""),
                    severity="warning",
                    timeout=10,
                )
            self.host.next_step(self.STEP_ID)

        self._make_change(change, chosen)
