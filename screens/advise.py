""" "Fine-tune or RAG?": a short guide dialog. The same questions as `bedrock-tune advise`, the
answer updated as they are answered (pure logic and the built-in prices: nothing is sent to AWS,
so nothing here needs a worker)."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Label, Static

from core.advise import DEFAULT_MODEL, QUESTIONS, Advice, advise, goal_from_answers
from core.errors import BedrockTuneError
from core.pricing.types import Price


def _price(price: Price) -> str:
    return f"{price.money()} {price.unit}" if price.is_known else "unknown"


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
    lines += ["", f"Next: {advice.next_step}"]
    return "\n".join(lines)


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

    def __init__(self, model_id: str | None = None) -> None:
        super().__init__()
        self._model_id = model_id or DEFAULT_MODEL

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
        try:
            advice = advise(goal_from_answers(self._answers()), model_id=self._model_id)
        except ValueError as error:
            shown.update(f"[b]Check the answers:[/b] {error}")
            return
        except BedrockTuneError as error:
            shown.update(error.describe())
            return
        shown.update(advice_lines(advice))

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
