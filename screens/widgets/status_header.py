"""The header: app name, the step, and where we are working (account, region, SANDBOX)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

if TYPE_CHECKING:  # the first frame waits for no registry module
    from core.billing import BillingSummary


class StatusHeader(Horizontal):
    """A one-line header that always shows account, region and a loud sandbox badge."""

    DEFAULT_CSS = """
    StatusHeader {
        height: 1;
        dock: top;
        background: $panel;
        color: $foreground;
    }
    StatusHeader > Label { padding: 0 1; }
    StatusHeader #header-title { text-style: bold; color: $accent; }
    StatusHeader #header-step { width: 1fr; color: $text-muted; }
    StatusHeader #header-badge { display: none; background: $warning; color: $background;
        text-style: bold; }
    StatusHeader #header-badge.-on { display: block; }
    StatusHeader #header-billing { display: none; background: $error; color: $text;
        text-style: bold; }
    StatusHeader #header-billing.-on { display: block; }
    """

    def __init__(self, step_title: str) -> None:
        super().__init__()
        self._step_title = step_title
        self._sandbox = False
        self._billing: BillingSummary | None = None

    def compose(self) -> ComposeResult:
        yield Label("bedrock-tune", id="header-title")
        yield Label(self._step_title, id="header-step")
        # The billing counter and the SANDBOX badge are mounted right after the first frame:
        # neither shows in it (nothing is known yet), and each widget costs it milliseconds.
        yield Label("", id="header-where")

    def on_mount(self) -> None:
        self.call_after_refresh(self._mount_badges)

    async def _mount_badges(self) -> None:
        if not self.is_attached:
            return
        await self.mount(
            Label("", id="header-billing"), Label("SANDBOX", id="header-badge"), before=-1
        )
        self._show_badges()

    def show_billing(self, billing: BillingSummary) -> None:
        """Show how many resources are billing and what they cost (hidden when none).

        An unknown hourly price is said to be unknown, never added as $0.
        """
        self._billing = billing
        self._show_badges()

    def show_where(self, account: str | None, region: str | None, sandbox: bool) -> None:
        """Update the account / region text and the sandbox badge."""
        parts = [f"account {account}" if account else "account: not checked"]
        parts.append(f"region {region}" if region else "region: not chosen")
        self.query_one("#header-where", Label).update(" | ".join(parts))
        self._sandbox = sandbox
        self._show_badges()

    def _show_badges(self) -> None:
        for badge in self.query("#header-badge").results(Label):
            badge.set_class(self._sandbox, "-on")
        for label in self.query("#header-billing").results(Label):
            if self._billing is not None:
                label.update(self._billing.counter())
            label.set_class(self._billing is not None and self._billing.count > 0, "-on")
