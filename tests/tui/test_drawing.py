"""Apps under test draw their screen when a test looks at it (tests/tui/drawing.py): a widget
whose render fails still fails the test that reaches the state, and the snapshot tests' apps
draw every frame."""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static

from tests.tui import drawing
from tests.tui.helpers import settle


class _Fragile(Static):
    """Renders until it is told to break."""

    broken = False

    def render(self) -> str:
        if self.broken:
            raise RuntimeError("this widget cannot render")
        return "fine"


class _App(App[None]):
    def compose(self) -> ComposeResult:
        yield _Fragile(id="fragile")


async def test_a_render_that_fails_fails_the_test_at_the_state_it_waited_for() -> None:
    app = _App()
    with pytest.raises(RuntimeError, match="cannot render"):
        async with app.run_test() as pilot:
            await settle(pilot)
            fragile = app.query_one(_Fragile)
            fragile.broken = True
            fragile.refresh()
            await settle(pilot, lambda: fragile.broken)


async def test_frames_are_drawn_only_when_looked_at_except_in_drawing_every_frame() -> None:
    drawn: list[int] = []
    real = _Fragile.render

    def counted(self: _Fragile) -> str:
        drawn.append(1)
        return real(self)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_Fragile, "render", counted)
        async with _App().run_test() as pilot:
            fragile = pilot.app.query_one(_Fragile)
            await settle(pilot)
            drawn.clear()
            for _ in range(3):
                fragile.refresh()
                await pilot.pause(0.05)
            assert drawn == []  # three changed frames, no one looking
            await settle(pilot)
            assert drawn == [1]  # the state a test waited for is drawn
            with drawing.drawing_every_frame():
                drawn.clear()
                for _ in range(3):
                    fragile.refresh()
                    await pilot.pause(0.05)
                assert len(drawn) == 3
