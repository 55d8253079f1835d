"""The header: app name, the step, what bills, and where we are working (account, region,
SANDBOX).

It fits one line at any width. What a user needs at a glance stays: the SANDBOX badge, the
account and region, and what bills with its hourly total. When the full line is too wide, it
gives way in this order: the price sources and dates (kept in the counter's tooltip, the quit
guard and the Teardown step), the words "account" and "region", the app's name, then the
counter's long wording. The step's title gives way first of all: it gets the room left, cut
after a whole word (the sidebar shows it too).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Label

from core import format as fmt

if TYPE_CHECKING:  # the first frame waits for no registry module
    from core.billing import BillingSummary


_PADDING = 2
"""Each label's padding (one column on either side)."""
_TITLE = "bedrock-tune"
_BADGE = "SANDBOX"


@dataclass(frozen=True)
class HeaderTexts:
    """What the header's labels say at one width."""

    title: bool
    """Whether the app's name shows."""
    billing: str
    where: str
    step: str = ""
    """The step's title in the room left (cut after a whole word, or left out)."""


def where_text(account: str | None, region: str | None, *, short: bool = False) -> str:
    """`account 123456789012 | region us-east-1`; `short`: `123456789012 | us-east-1` (twelve
    digits and a region name say what they are)."""
    if short:
        return f"{account or 'no account'} | {region or 'no region'}"
    parts = [f"account {account}" if account else "account: not checked"]
    parts.append(f"region {region}" if region else "region: not chosen")
    return " | ".join(parts)


def fit_header(
    width: int,
    billing: BillingSummary | None,
    account: str | None,
    region: str | None,
    sandbox: bool,
    step_title: str = "",
) -> HeaderTexts:
    """The fullest header that fits `width` columns (the last, shortest one when none does;
    the full one before the header has a width).

    The counter keeps its figures at every width: the count, the hourly total, an unknown
    price, what bills per token or per window; only their sources and wording shorten.
    """
    billing_on = billing is not None and billing.count > 0
    full, short = where_text(account, region), where_text(account, region, short=True)
    counters = (
        (billing.counter(), billing.counter(sources=False), billing.counter(terse=True))
        if billing is not None
        else ("", "", "")
    )
    candidates = (
        HeaderTexts(True, counters[0], full),
        HeaderTexts(True, counters[1], full),
        HeaderTexts(True, counters[1], short),
        HeaderTexts(False, counters[1], short),
        HeaderTexts(False, counters[2], short),
    )
    # The step's title (1fr) keeps its padding even when it has no room for text.
    fixed = _PADDING + (len(_BADGE) + _PADDING if sandbox else 0)
    for texts in candidates:
        needed = fixed + len(texts.where) + _PADDING
        needed += len(_TITLE) + _PADDING if texts.title else 0
        needed += len(texts.billing) + _PADDING if billing_on else 0
        if width <= 0:
            return replace(texts, step=step_title)
        if needed <= width:
            return replace(texts, step=fmt.shorten_words(step_title, width - needed))
    return candidates[-1]


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
        self._account: str | None = None
        self._region: str | None = None

    def compose(self) -> ComposeResult:
        yield Label(_TITLE, id="header-title")
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
            Label("", id="header-billing"), Label(_BADGE, id="header-badge"), before=-1
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
        self._account, self._region, self._sandbox = account, region, sandbox
        self._show_badges()

    def on_resize(self) -> None:
        self._show_badges()

    def _show_badges(self) -> None:
        texts = fit_header(
            self.size.width,
            self._billing,
            self._account,
            self._region,
            self._sandbox,
            self._step_title,
        )
        self.query_one("#header-title", Label).display = texts.title
        self.query_one("#header-step", Label).update(texts.step)
        where = self.query_one("#header-where", Label)
        where.update(texts.where)
        full = where_text(self._account, self._region)
        where.tooltip = full if texts.where != full else None
        for badge in self.query("#header-badge").results(Label):
            badge.set_class(self._sandbox, "-on")
        for label in self.query("#header-billing").results(Label):
            if self._billing is not None:
                label.update(texts.billing)
                # The sources and dates a narrow header leaves out, on hover.
                counter = self._billing.counter()
                label.tooltip = counter if texts.billing != counter else None
            label.set_class(self._billing is not None and self._billing.count > 0, "-on")
