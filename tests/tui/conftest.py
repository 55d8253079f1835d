"""Every Pilot test here fails if a widget is touched from a worker thread (the fixture is
autouse)."""

from tests.tui.threads import widgets_on_the_event_loop

__all__ = ["widgets_on_the_event_loop"]
