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


def _prompt(item: TeardownItem) -> Text:
    text = Text(item.label, style="bold")
    if item.region not in ("", "global"):
        text.append(f"  {item.region}", style="dim")
    text.append(f"  {item.cost_text}", style=_COST_STYLE[item.cost_class])
    if item.status and item.exists and item.status not in item.label:
        text.append(f"  [{item.status}]", style="dim")
    if item.origin == "found":
        # On the first line: a selection shows only its prompt's first line.
        text.append(f"  {item.provenance or 'made by an unknown identity'}", style="italic")
    else:
        text.append(f"  ours by {item.ours_by}", style="dim italic")
    text.append(f"\n  {item.effect}", style="dim")
    if item.problem:
        text.append(f"\n  {item.problem}", style="yellow")
    return text


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
        selection: SelectionList[str] = SelectionList(id="teardown-items")
        yield selection
        yield Static(
            "Made by bedrock-tune elsewhere (found by its tag; another install or user made "
            "it). Tick only what you know is yours to delete.",
            id="teardown-found-heading",
        )
        found: SelectionList[str] = SelectionList(id="teardown-found")
        yield found
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
            listing = self.query_one(list_id, SelectionList)
            ticked = set(listing.selected)
            listing.clear_options()
            listing.add_options(
                [Selection(_prompt(i), i.key, i.key in ticked) for i in items if i.origin == origin]
            )
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
        self.delete_resources(items)

    @work(thread=True, exclusive=True, exit_on_error=False, group="teardown-delete", name="delete")
    def delete_resources(self, items: list[TeardownItem]) -> TeardownDone:
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
        return TeardownDone(delete(context, items, self.host.registry(), report, wait))

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
