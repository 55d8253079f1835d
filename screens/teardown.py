"""Teardown: everything bedrock-tune made, billable first with its cost, each with a checkbox.
"Delete selected" asks once, listing exactly what will be deleted (and what must go first), then
a worker deletes in a safe order with a live log; the header's billing counter follows.

What this install made is in the first list ("Select all" ticks it all). What bedrock-tune made
elsewhere (only its tag points at it) is in a second list, with who made it and when: never
ticked for the user, not even by "Select all"."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, Label, RichLog, SelectionList, Static
from textual.widgets.selection_list import Selection
from textual.worker import get_current_worker

from core import format as fmt
from core.billing import summarize_items
from core.pricing.service import PriceService
from core.teardown.delete import (
    StopWait,
    TeardownEvent,
    TeardownItem,
    TeardownResult,
    delete,
    inventory,
    run_without,
    with_dependencies,
)
from core.teardown.items import short_name
from core.teardown.stopping import running_writer_warning, running_writers
from screens.base import StepScreen
from screens.confirm import ConfirmScreen
from screens.workers import WorkerResult

_COST_STYLE = {"hourly": "bold red", "storage": "yellow", "free": "dim"}
_SUCCESS = frozenset({"deleted", "stopped", "gone"})
"""Outcomes whose message says it all ("Deleted the bucket b.")."""
_STATUS_MARKS = {
    "deleted": "✔",
    "stopped": "✔",
    "gone": "✔",
    "forgotten": "•",
    "kept": "•",
    "failed": "✘",
    "skipped": "✘",
}
_STATUS_STYLE = {
    "deleted": "green",
    "stopped": "green",
    "gone": "green",
    "forgotten": "cyan",
    "kept": "yellow",
    "failed": "bold red",
    "skipped": "red",
}


@dataclass
class InventoryListed(WorkerResult):
    """What bedrock-tune made, and what could not be checked."""

    items: tuple[TeardownItem, ...]
    warnings: tuple[str, ...]


@dataclass
class TeardownDone(WorkerResult):
    """The deletion ended: what was deleted, kept or failed."""

    result: TeardownResult


def prompt_of(item: TeardownItem, width: int = 0) -> Text:
    """The item's row: its label, region, cost with its source, status and who made it.

    In `width` columns (0: any), when that does not fit, the cost comes right after the label
    and gives up its source, then its words (its figures stay), then the label gives way in
    its middle (keeping its distinctive end); the region, status and who made it follow where
    they fit whole."""
    text = Text(item.label, style="bold")
    for part, style in _details(item, with_cost=True):
        text.append(part, style=style)
    if width <= 0 or text.cell_len <= width:
        return text
    label, price = item.label, item.short_cost_text
    fitting = [
        cost
        for cost in (item.cost_text, item.unsourced_cost_text)
        if len(label) + 2 + len(cost) <= width
    ]
    if fitting:
        price = fitting[0]
    elif len(label) + 2 + len(price) > width:
        label = _short_label(item, max(width - len(price) - 2, _MIN_LABEL))
    text = Text(label, style="bold")
    text.append(f"  {price}", style=_COST_STYLE[item.cost_class])
    # No part is cut: a cut would end in "…" over the price's last character when the part
    # starts right after it.
    for part, style in _details(item, with_cost=False):
        if text.cell_len + len(part) <= width:
            text.append(part, style=style)
    return text


_MIN_LABEL = 12
"""The fewest columns a shortened label keeps (its kind and the end of its name)."""
_MIN_NAME = 10
"""The fewest columns a shortened name keeps beside its kind's words."""


def _short_label(item: TeardownItem, width: int) -> str:
    """The item's label in `width` columns: its name shortened in the middle, the words
    around it ("Provisioned throughput", "(3 objects, 1.2 KB)") whole when there is room."""
    label = item.label
    if len(label) <= width:
        return label
    for name in (item.name, item.identifier, short_name(item.identifier)):
        if name and name in label:
            before, _, after = label.partition(name)
            room = width - len(before) - len(after)
            if room >= _MIN_NAME:
                return before + fmt.shorten_middle(name, room) + after
    return fmt.shorten_middle(label, width)


def _details(item: TeardownItem, *, with_cost: bool) -> list[tuple[str, str]]:
    """What follows the label on its row, each part with its style: region, cost (when
    `with_cost`), status, who made it. (A selection shows only the first line of its prompt:
    nothing goes below it.)"""
    parts = []
    if item.region not in ("", "global"):
        parts.append((f"  {item.region}", "dim"))
    if with_cost:
        parts.append((f"  {item.cost_text}", _COST_STYLE[item.cost_class]))
    if item.status and item.exists and item.status not in item.label:
        parts.append((f"  [{item.status}]", "dim"))
    if item.origin == "found":
        parts.append((f"  {item.provenance or 'made by an unknown identity'}", "italic"))
    else:
        parts.append((f"  ours by {item.ours_by}", "dim italic"))
    return parts


class TeardownList(SelectionList[str]):
    """A checklist of teardown items whose rows fit its width: each keeps its price in view
    (refitted when the terminal is resized)."""

    def __init__(self, *, widget_id: str) -> None:
        super().__init__(id=widget_id)
        self._listed: list[TeardownItem] = []

    def show_items(self, items: Sequence[TeardownItem]) -> None:
        """List `items` (the ticks of those listed before stay)."""
        ticked = set(self.selected)
        self._listed = list(items)
        self.clear_options()
        width = self.prompt_width()
        self.add_options([Selection(prompt_of(i, width), i.key, i.key in ticked) for i in items])

    def prompt_width(self) -> int:
        """The columns a row's text has (0 before the list is laid out)."""
        padding = self.get_component_styles("option-list--option").padding.width
        width = self.scrollable_content_region.width - self._get_left_gutter_width() - padding
        return max(width, 0)

    def on_resize(self) -> None:
        width = self.prompt_width()
        for index, item in enumerate(self._listed):
            self.replace_option_prompt_at_index(index, prompt_of(item, width))


def summary_of(items: Sequence[TeardownItem]) -> str:
    """One line: how much of it bills, by the hour and by the month."""
    if not items:
        return "Nothing bedrock-tune made is left here."
    billing = summarize_items(items)
    parts = [fmt.plural(len(items), "resource")]
    if billing.count:
        parts.append(f"{billing.count} billing ({billing.hourly_text()})")
    if billing.storing:
        parts.append(f"{billing.storing} storing ({billing.monthly_text()})")
    return ", ".join(parts) + "."


class TeardownScreen(StepScreen):
    """List what bedrock-tune made; delete what the user ticks."""

    STEP_ID = "teardown"
    STEP_TITLE = "Teardown"
    CSS_PATH = "styles/teardown.tcss"
    BINDINGS = [
        Binding("delete", "delete_selected", "Delete selected", id="teardown-delete-selected"),
        Binding("ctrl+a", "select_all", "Select all", id="teardown-select-all"),
        Binding("ctrl+r", "refresh_list", "Refresh", id="teardown-refresh"),
    ]
    """Space ticks the highlighted resource, Ctrl+A ticks them all, Delete deletes the ticked
    ones (after one confirmation)."""

    def __init__(self) -> None:
        super().__init__()
        self._items: list[TeardownItem] = []
        self._deleting = False

    def compose_body(self) -> ComposeResult:
        yield Label("Everything bedrock-tune made", classes="step-heading")
        yield Static(
            "What this install made, from the local registry and its install id in the tags. "
            "What bills by the hour comes first, then what costs storage, then what is free. "
            "Nothing else in your account is touched: a bucket or role bedrock-tune did not "
            "create is never deleted, and objects only in the run folders the registry records.",
            classes="step-intro",
        )
        yield Static("", id="teardown-summary")
        yield Static("", id="teardown-warnings")
        yield TeardownList(widget_id="teardown-items")
        yield Static(
            "Made by bedrock-tune elsewhere (found by its tag; another install or user made "
            "it). Tick only what you know is yours to delete.",
            id="teardown-found-heading",
        )
        yield TeardownList(widget_id="teardown-found")
        with Horizontal(classes="button-row step-actions"):
            yield Button("Refresh", id="teardown-refresh-button")
            yield Button("Select all", id="teardown-select-all-button")
            yield Button("Delete selected", id="teardown-delete", variant="error", disabled=True)
        yield Static("", id="teardown-progress")
        yield RichLog(id="teardown-log", wrap=True, markup=False, highlight=False)

    @on(events.ScreenResume)
    def _relist(self) -> None:
        """List afresh on every visit (something may have been deployed or deleted meanwhile).

        The ticks survive a new list. The first resume comes before the body is mounted, so
        the list follows the next refresh; while deleting, it follows the end of the deletion.
        (StepScreen's own resume handler redraws the chrome.)
        """
        if not self._deleting:
            self.call_after_refresh(self.action_refresh_list)

    # ------------------------------------------------------------------ listing

    def action_refresh_list(self) -> None:
        """List again what bedrock-tune made."""
        if self.host.aws_context() is None:
            self.query_one("#teardown-summary", Static).update("Check your credentials first.")
            return
        self.clear_error()
        self.query_one("#teardown-summary", Static).update("Looking for what bedrock-tune made...")
        self.query_one("#teardown-delete", Button).disabled = True
        self.list_resources()

    @work(thread=True, exclusive=True, exit_on_error=False, group="teardown-list", name="inventory")
    def list_resources(self) -> InventoryListed:
        """The inventory (AWS calls: a worker thread)."""
        context = self.require_context()
        warnings: list[str] = []
        items = inventory(
            context,
            self.host.registry(),
            on_warning=warnings.append,
            prices=PriceService(context),
        )
        return InventoryListed(tuple(items), tuple(warnings))

    @on(InventoryListed)
    def _show(self, message: InventoryListed) -> None:
        items, warnings = list(message.items), message.warnings
        self._items = items
        for list_id, origin in (("#teardown-items", "ours"), ("#teardown-found", "found")):
            listed = [i for i in items if i.origin == origin]
            self.query_one(list_id, TeardownList).show_items(listed)
        found = sum(1 for i in items if i.origin == "found")
        self.query_one("#teardown-found-heading").display = bool(found)
        self.query_one("#teardown-found").display = bool(found)
        summary = summary_of(items)
        if found:
            summary += f" {found} of them made by bedrock-tune elsewhere (listed apart)."
        self.query_one("#teardown-summary", Static).update(summary)
        # The warnings of this listing replace the last one's (the log is for deletions: a
        # warning written there again on every listing would repeat).
        self.query_one("#teardown-warnings", Static).update(
            Text("\n".join(f"Warning: {w}" for w in warnings), style="yellow")
        )
        self._enable_delete()

    def action_select_all(self) -> None:
        """Tick everything this install made (what was made elsewhere stays as it is)."""
        self.query_one("#teardown-items", SelectionList).select_all()

    @on(Button.Pressed, "#teardown-refresh-button")
    def _refresh_pressed(self) -> None:
        self.action_refresh_list()

    @on(Button.Pressed, "#teardown-select-all-button")
    def _select_all_pressed(self) -> None:
        self.action_select_all()

    @on(SelectionList.SelectedChanged)
    def _selection_changed(self) -> None:
        self._enable_delete()

    def _ticked(self) -> set[str]:
        """The keys ticked in both lists."""
        return {
            key
            for list_id in ("#teardown-items", "#teardown-found")
            for key in self.query_one(list_id, SelectionList).selected
        }

    def _enable_delete(self) -> None:
        self.query_one("#teardown-delete", Button).disabled = not self._ticked()

    # ------------------------------------------------------------------ deleting

    def chosen(self) -> list[TeardownItem]:
        """The ticked items plus what must go before them (a model's deployments)."""
        keys = self._ticked()
        return with_dependencies([i for i in self._items if i.key in keys], self._items)

    @on(Button.Pressed, "#teardown-delete")
    def action_delete_selected(self) -> None:
        """Delete the ticked resources (and what must go before them), after one confirmation."""
        if self._deleting:
            return
        items = self.chosen()
        if not items:
            self.notify("Tick what to delete first (Space, or Ctrl+A for all).", severity="warning")
            return
        ticked = self._ticked()
        lines = []
        for item in items:
            added = "" if item.key in ticked else " (added: it uses what you ticked)"
            if item.origin == "found":
                added += " (made by bedrock-tune elsewhere)"
            lines.append(f"- {item.label} ({item.cost_text}){added}\n  {item.effect}")
        count = fmt.plural(len(items), "resource")
        # A job kept running that writes into a chosen folder or bucket: said before deciding.
        for job, target in running_writers(self._items, items):
            lines.append(f"Warning: {running_writer_warning(job, target)}")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._start_delete(items)

        self.app.push_screen(
            ConfirmScreen(
                f"Delete {count}?",
                "\n".join(lines) + "\n\nDeleting cannot be undone.",
                "Delete",
            ),
            confirmed,
        )

    def _start_delete(self, items: list[TeardownItem]) -> None:
        self.clear_error()
        self._deleting = True
        self.query_one("#teardown-delete", Button).disabled = True
        self.query_one("#teardown-log", RichLog).write(
            Text(f"Deleting {fmt.plural(len(items), 'resource')}...", style="bold")
        )
        # Everything listed goes too (read here, on the event loop): a job of ours already
        # Stopping but unticked is still waited for, as it may write into a ticked folder.
        self.delete_resources(items, list(self._items))

    @work(thread=True, exclusive=True, exit_on_error=False, group="teardown-delete", name="delete")
    def delete_resources(
        self, items: list[TeardownItem], listed: list[TeardownItem]
    ) -> TeardownDone:
        """Delete in a safe order, logging each step as it happens."""
        context = self.require_context()
        worker = get_current_worker()

        def report(event: TeardownEvent) -> None:
            self.app.call_from_thread(self._log_event, event)

        # A stopped SageMaker job may still write its output: teardown waits for it (each
        # poll shown on the progress line) before it empties the run folders; leaving the app
        # cancels the wait at once.
        wait = StopWait.polling_from(
            self.host.launch.poll_interval, cancelled=lambda: worker.is_cancelled
        )
        return TeardownDone(
            delete(context, items, self.host.registry(), report, wait, listed=listed)
        )

    def _log_event(self, event: TeardownEvent) -> None:
        # What is under way shows on one line that each event replaces; the log keeps one line
        # per resource, its outcome (which names it): start and step lines there would say
        # everything twice.
        progress = self.query_one("#teardown-progress", Static)
        if event.stage == "start":
            progress.update(Text(event.message, style="bold"))
        elif event.stage == "step":
            progress.update(Text(f"{event.item.label}: {event.message}", style="dim"))
        else:
            status = event.status or ""
            mark = _STATUS_MARKS.get(status, "•")
            said = event.message if status in _SUCCESS else f"{status}: {event.message}"
            self.query_one("#teardown-log", RichLog).write(
                Text(f"{mark} {said}", style=_STATUS_STYLE.get(status, ""))
            )

    @on(TeardownDone)
    def _deleted(self, message: TeardownDone) -> None:
        result = message.result
        self._deleting = False
        run = self.host.wizard_run
        for outcome in result.outcomes:
            if outcome.done:
                run = run_without(outcome.item, run)
        if run != self.host.wizard_run:
            self.host.update_run(run)  # the run forgets what no longer exists
        self.query_one("#teardown-progress", Static).update("")
        log = self.query_one("#teardown-log", RichLog)
        failed = result.failed
        if failed:
            log.write(Text(f"{len(failed)} could not be deleted (see above).", style="bold red"))
            first = failed[0].error
            if first is not None:
                self.show_error(first)
        else:
            log.write(Text("Done.", style="bold green"))
        self.refresh_chrome()  # the header's billing counter
        self.action_refresh_list()

    def worker_failed(self, name: str, error: BaseException) -> None:
        if name == "delete":
            self._deleting = False
            self.query_one("#teardown-progress", Static).update("")
        if name == "inventory":
            self.query_one("#teardown-summary", Static).update("Could not list the resources.")
        self._enable_delete()
        self.show_error(error)
