""" "Fine-tune or RAG?": a short guide dialog. The same questions as `bedrock-tune advise`, the
answer updated as they are answered. The model's prices are read once in a worker (the Price
List API may be asked, with the run's AWS context; else the built-in figures stand in), then
every answer is pure logic on the event loop. Every figure shows its source and date."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static
from textual.worker import Worker

from core.advise import DEFAULT_MODEL, QUESTIONS, Advice, advise, goal_from_answers, model_prices
from core.errors import BedrockTuneError
from core.pricing.types import ModelPrices, Price
from screens.workers import WorkerResult, post_worker_result

if TYPE_CHECKING:
    from core.aws import AwsContext


def _price(price: Price) -> str:
    """`$0.40 one job (Price List API, 2026-12-02)`, or `unknown` (what to do is listed)."""
    if not price.is_known:
        return "unknown"
    return f"{price.money()} {price.unit} ({price.provenance})"


def advice_lines(advice: Advice) -> str:
    """The advice in a few lines: recommendation, why, costs in short, next step."""
    lines = [f"Recommendation: {advice.recommendation.upper()}", ""]
    lines += [f"• {reason}" for reason in advice.reasons]
    lines.append("")
    for path, prices in advice.costs.items():
        shown = ", ".join(f"{name.replace('_', ' ')} {_price(p)}" for name, p in prices.items())
        lines.append(f"{path}: {shown}")
    unknown = {p.todo for prices in advice.costs.values() for p in prices.values() if p.todo}
    lines += [f"(unknown: {todo})" for todo in sorted(unknown)]
    lines += [f"({note})" for note in advice.notes]
    lines += ["", f"Next: {advice.next_step}"]
    return "\n".join(lines)


@dataclass
class AdvicePricesRead(WorkerResult):
    """The model's prices (the Price List's or the built-in figures), or why there are none."""

    prices: ModelPrices | None
    error: BedrockTuneError | None = None


class AdviseScreen(ModalScreen[None]):
    """Questions about the goal on top, the recommendation below, updated on every answer."""

    DEFAULT_CSS = """
    AdviseScreen { align: center middle; }
    AdviseScreen > VerticalScroll {
        width: 100%; max-width: 110; height: 100%; max-height: 40;
        border: round $accent; background: $surface; padding: 0 1;
    }
    AdviseScreen .advise-count { height: auto; }
    AdviseScreen .advise-count Label { width: 1fr; padding: 1 0 0 0; }
    AdviseScreen .advise-count Input { width: 16; }
    AdviseScreen #advice { margin-top: 1; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="close-advise")]

    def __init__(
        self,
        model_id: str | None = None,
        context: AwsContext | None = None,
        region: str | None = None,
    ) -> None:
        """`context` (the run's, if any) is used to ask the Price List for `model_id`'s prices in
        `region` (default: the model's first region); without it the cached or built-in figures
        are used."""
        super().__init__()
        self._model_id = model_id or DEFAULT_MODEL
        self._aws = context
        self._region = region
        self._prices: ModelPrices | None = None
        self._price_error: BedrockTuneError | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Label("[b]Fine-tune or RAG?[/b]  Answer what applies; Esc closes.")
            for question in QUESTIONS:
                if question.kind == "yes-no":
                    yield Checkbox(question.text, bool(question.default), id=f"q-{question.name}")
                else:
                    with Horizontal(classes="advise-count"):
                        yield Label(question.text)
                        yield Input(str(question.default), type="integer", id=f"q-{question.name}")
            yield Static(id="advice")

    def on_mount(self) -> None:
        self.query_one("#advice", Static).update("Reading the prices…")
        self.read_prices(self._model_id, self._region, self._aws)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def read_prices(
        self, model_id: str, region: str | None, context: AwsContext | None
    ) -> AdvicePricesRead:
        """The model's prices, off the event loop (the Price List API may be asked)."""
        from core.pricing.service import PriceService

        usable = context if context is not None and context.has_credentials() else None
        try:
            return AdvicePricesRead(model_prices(model_id, region, PriceService(usable)))
        except BedrockTuneError as error:
            return AdvicePricesRead(None, error)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        post_worker_result(event)

    @on(AdvicePricesRead)
    def _prices_read(self, message: AdvicePricesRead) -> None:
        self._prices, self._price_error = message.prices, message.error
        self._show()

    @on(Checkbox.Changed)
    @on(Input.Changed)
    def _answered(self) -> None:
        self._show()

    def _answers(self) -> dict[str, bool | int | None]:
        answers: dict[str, bool | int | None] = {}
        for question in QUESTIONS:
            if question.kind == "yes-no":
                answers[question.name] = self.query_one(f"#q-{question.name}", Checkbox).value
            else:
                text = self.query_one(f"#q-{question.name}", Input).value.strip()
                # An empty or partly typed number (`-`) counts as not answered yet.
                answers[question.name] = int(text) if text.lstrip("-").isdigit() else None
        return answers

    def _show(self) -> None:
        shown = self.query_one("#advice", Static)
        if self._price_error is not None:
            shown.update(self._price_error.describe())
            return
        if self._prices is None:
            return  # still reading them: shown once they are read
        try:
            advice = advise(
                goal_from_answers(self._answers()), model_id=self._model_id, prices=self._prices
            )
        except ValueError as error:
            shown.update(f"[b]Check the answers:[/b] {error}")
            return
        except BedrockTuneError as error:
            shown.update(error.describe())
            return
        shown.update(advice_lines(advice))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
