"""The `?` help: what the current step does, the steps there are, and the keys."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

KEYS = """
| key | does |
| --- | --- |
| `?` / `F1` | this help |
| `Tab` / `Shift+Tab` | move between fields |
| `Enter` | choose / press |
| `Ctrl+N` | accept this step and go on (uses what it shows: a dataset, a model, a template) |
| the footer | this step's own keys (`Ctrl+R` prepare / validate / run, `Ctrl+L` launch...) |
| `Ctrl+P` | command palette: go to any step, change theme |
| `Ctrl+T` | new run (the current one stays in the registry) |
| `F2` / `F3` | save this run as a recipe / open a recipe as a new run |
| `Ctrl+G` | on Infrastructure and Launch: the run as code (boto3, AWS CLI, IAM, CloudFormation) |
| `Ctrl+Q` | quit |
| `Esc` | close a dialog |
"""


class HelpScreen(ModalScreen[None]):
    """A dialog with help for one step."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 80%; max-width: 100; height: 80%;
        border: round $accent; background: $surface; padding: 1 2;
    }
    """
    BINDINGS = [
        Binding("escape", "dismiss", "Close", id="close-help"),
        Binding("question_mark", "dismiss", "Close", show=False),
        Binding("q", "dismiss", "Close", show=False),
    ]

    def __init__(self, step_title: str, step_description: str, steps: Sequence[str]) -> None:
        super().__init__()
        self._text = (
            f"# {step_title}\n\n{step_description}\n\n## Steps\n\n"
            + "\n".join(f"{i}. {title}" for i, title in enumerate(steps, 1))
            + "\n\n## Keys\n"
            + KEYS
            + "\nPress `Esc` to close."
        )

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(self._text)

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
