"""The check that fails a Pilot test when a widget is touched from a worker thread."""

from __future__ import annotations

from textual import work
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.tui.helpers import text_of


class _Touchy(App[None]):
    """A thread worker that updates a widget the wrong way, then the right way."""

    def compose(self) -> ComposeResult:
        yield Static("", id="out")

    @work(thread=True)
    def wrong(self) -> None:
        self.query_one("#out", Static).update("from the thread")

    @work(thread=True)
    def right(self) -> None:
        self.call_from_thread(self._show, "from the loop")

    def _show(self, text: str) -> None:
        self.query_one("#out", Static).update(text)


async def test_the_check_catches_a_widget_touched_from_a_thread(
    widgets_on_the_event_loop: list[str],
) -> None:
    app = _Touchy()
    async with app.run_test() as pilot:
        await app.right().wait()
        await pilot.pause()
        assert widgets_on_the_event_loop == []
        assert text_of(app, "#out").strip() == "from the loop"
        await app.wrong().wait()
        await pilot.pause()
    assert widgets_on_the_event_loop, "the off-thread query was not noticed"
    assert "DOMNode.query_one" in widgets_on_the_event_loop[0]
    assert "in wrong" in widgets_on_the_event_loop[0]
    widgets_on_the_event_loop.clear()  # caught on purpose: the fixture's own check passes
