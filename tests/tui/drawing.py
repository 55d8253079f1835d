"""When apps under test draw their screen.

A headless app renders every changed region of its screen up to 60 times a second, and throws
the result away: a headless driver writes nothing. That drawing was a third of the CPU of the
TUI tests. Under the tests, an app therefore draws its screen only when a test has waited for a
state (`settle`, `click_button`) or takes a screenshot (`export_screenshot` draws in full);
layout, sizes, regions and mouse hits are computed as before, only the throw-away drawing is
skipped.

What the drawing would catch, it still catches, at the states the tests look at: a widget
whose render raises fails the test at the next `draw`, as it would crash the app. The frames
in between were drawn at whatever moments the timer happened to fire, so no test could count
on them.

The snapshot tests draw every frame as an app does (`drawing_every_frame`): their shots are of
pixels, and without the frames between them, three shots of a screen under a dialog came out
with a stray scrollbar cell the app does not show.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from textual.app import App
from textual.screen import Screen

_real_refresh = Screen._compositor_refresh
_every_frame = False


def _refresh_without_drawing(self: Screen[object]) -> None:
    app = self.app
    if _every_frame or not app.is_headless or app.is_inline or self is not app.screen:
        _real_refresh(self)
        return
    # The changed regions wait for the next `draw`, as they would for the next frame.
    self._dirty_widgets.clear()
    app._update_mouse_over(self)


def draw_only_when_looked_at() -> None:
    """Skip the drawing of headless apps' screen updates (see the module's docstring)."""
    setattr(Screen, "_compositor_refresh", _refresh_without_drawing)  # noqa: B010


@contextmanager
def drawing_every_frame() -> Iterator[None]:
    """Within: headless apps draw every frame, as they do outside the tests."""
    global _every_frame
    _every_frame = True
    try:
        yield
    finally:
        _every_frame = False


def draw(app: App[None]) -> None:
    """Draw what changed on the app's screen since it was last drawn, as the app's next frame
    would; a widget whose render fails raises here."""
    screen = app.screen
    screen._compositor.render_update(screen_stack=app._background_screens)
