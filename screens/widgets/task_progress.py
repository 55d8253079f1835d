"""A progress bar for one piece of work: hidden until the work starts (an idle Textual
ProgressBar has no total and animates "--%" as if something were running)."""

from __future__ import annotations

from textual.widgets import ProgressBar


class TaskProgress(ProgressBar):
    """Hidden while idle; `start()` shows it (indeterminate until the first total is known),
    `finish()` fills it, `hide()` puts it away after a cancel or a failure."""

    DEFAULT_CSS = """
    TaskProgress { display: none; }
    TaskProgress.-shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:  # noqa: A002 (Textual's name)
        super().__init__(total=1, show_eta=False, id=id)

    def start(self) -> None:
        """Show the bar for work whose size is not known yet."""
        self.update(total=None, progress=0)
        self.add_class("-shown")

    def finish(self) -> None:
        """Show the work as complete."""
        self.update(total=1, progress=1)
        self.add_class("-shown")

    def hide(self) -> None:
        """Put the bar away (the work was cancelled or failed)."""
        self.remove_class("-shown")
        self.update(total=1, progress=0)
