"""The wizard's stepper: every built step with done / current / possible / blocked (and why)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

StepStatus = Literal["done", "current", "ready", "blocked"]

_MARKS: dict[StepStatus, tuple[str, str]] = {
    "done": ("✔", "green"),
    "current": ("▶", "bold"),
    "ready": ("○", ""),
    "blocked": ("·", "dim"),
}


@dataclass(frozen=True)
class StepState:
    """How one step looks in the sidebar."""

    id: str
    title: str
    status: StepStatus
    reason: str = ""
    """Why the step is not possible yet (shown under a blocked step)."""


class StepSidebar(OptionList):
    """The list of steps. Choosing one posts `StepSidebar.StepChosen`; the screen decides."""

    DEFAULT_CSS = """
    StepSidebar { width: 30; height: 100%; }
    """

    @dataclass
    class StepChosen(Message):
        """The user picked a step in the sidebar."""

        step_id: str

    _shown: tuple[StepState, ...] = ()
    _compact = False
    """Narrow (under `COMPACT_WIDTH` columns): one line per step, the reasons left out."""

    COMPACT_WIDTH = 26

    def show_steps(self, steps: Sequence[StepState]) -> None:
        """Replace the list with `steps`, keeping the highlight on the current one (nothing to
        do, and nothing to redraw, when they are the steps already shown)."""
        current = next((i for i, step in enumerate(steps) if step.status == "current"), 0)
        if tuple(steps) == self._shown and self.option_count == len(steps):
            if steps:
                self.highlighted = current
            return
        self._shown = tuple(steps)
        self.clear_options()
        options: list[Option] = []
        said = ""
        for step in steps:
            mark, style = _MARKS[step.status]
            # Textual's own Content, not Rich Text: the sidebar is in the first frame, and
            # Content renders without a Rich console pass per option (several ms each).
            parts: list[tuple[str, str]] = [
                (f"{mark} ", style),
                (step.title, "bold" if step.status == "current" else style),
            ]
            # A reason is said once: the steps after "Dataset / choose a base model first"
            # that wait for the same thing do not repeat it.
            if step.status == "blocked" and step.reason and step.reason != said:
                said = step.reason
                if not self._compact:
                    parts.append((f"\n  {step.reason}", "dim italic"))
            label = Content.assemble(*parts)
            options.append(Option(label, id=step.id, disabled=step.status == "blocked"))
        self.add_options(options)  # at once: the list is laid out again once, not per step
        if steps:
            self.highlighted = current

    def on_resize(self, event: events.Resize) -> None:
        compact = event.size.width < self.COMPACT_WIDTH
        if compact != self._compact:
            self._compact = compact
            shown, self._shown = self._shown, ()
            self.show_steps(shown)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            self.post_message(self.StepChosen(event.option.id))
