"""The questions of the prompt mode, behind one small interface.

`Asker` is what every step asks through: a select, a confirmation, a line of text, a path (with
completion), each with validation as you type, and `say` for what is shown between questions.
`TerminalAsker` asks with questionary in the terminal; the flow's unit tests inject answers
instead. Ctrl+C at any question raises KeyboardInterrupt (the flow saves the run and says how
to resume); questionary is imported only here.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

Check = Callable[[str], str | None]
"""Validation as you type: what is wrong with the text (None when it is fine)."""


@dataclass(frozen=True)
class Option:
    """One answer of a select."""

    title: str
    value: Any
    disabled: str | None = None
    """Why it cannot be picked (shown beside it); None when it can."""


@dataclass(frozen=True)
class Heading:
    """A group's title between the options of a select (not an answer)."""

    title: str


class Asker(Protocol):
    """Asks the person at the terminal (or, in tests, a script of answers)."""

    def select(
        self,
        message: str,
        options: Sequence[Option | Heading],
        default: Any = None,
        *,
        search: bool = False,
    ) -> Any:
        """The value of the option picked (`search`: typing filters the options)."""

    def confirm(self, message: str, default: bool = False) -> bool:
        """Yes or no."""

    def text(self, message: str, default: str = "", check: Check | None = None) -> str:
        """A line of text that passes `check`."""

    def path(
        self,
        message: str,
        default: str = "",
        check: Check | None = None,
        *,
        folders_only: bool = False,
    ) -> str:
        """A path, with completion, that passes `check`."""

    def say(self, text: str = "") -> None:
        """Show text between questions."""


def first_enabled(options: Sequence[Option | Heading]) -> Any:
    """The value of the first option that can be picked (None when none can)."""
    return next(
        (o.value for o in options if isinstance(o, Option) and o.disabled is None),
        None,
    )


class TerminalAsker:
    """`Asker` with questionary, in the terminal."""

    def __init__(self) -> None:
        import questionary  # only when asking: it costs ~0.1 s to import

        self._q = questionary

    def _validator(self, check: Check | None) -> Callable[[str], bool | str] | None:
        if check is None:
            return None

        def validate(text: str) -> bool | str:
            problem = check(text)
            return True if problem is None else problem

        return validate

    def select(
        self,
        message: str,
        options: Sequence[Option | Heading],
        default: Any = None,
        *,
        search: bool = False,
    ) -> Any:
        choices: list[Any] = []
        chosen: Any = None
        for option in options:
            if isinstance(option, Heading):
                choices.append(self._q.Separator(f"── {option.title} ──"))
                continue
            choice = self._q.Choice(option.title, option.value, disabled=option.disabled)
            choices.append(choice)
            if option.value == default and option.disabled is None:
                chosen = choice
        extra: dict[str, Any] = {"use_search_filter": True, "use_jk_keys": False} if search else {}
        return self._q.select(message, choices, default=chosen, **extra).unsafe_ask()

    def confirm(self, message: str, default: bool = False) -> bool:
        return bool(self._q.confirm(message, default=default).unsafe_ask())

    def text(self, message: str, default: str = "", check: Check | None = None) -> str:
        answer = self._q.text(message, default=default, validate=self._validator(check))
        return str(answer.unsafe_ask())

    def path(
        self,
        message: str,
        default: str = "",
        check: Check | None = None,
        *,
        folders_only: bool = False,
    ) -> str:
        answer = self._q.path(
            message,
            default=default,
            validate=self._validator(check),
            only_directories=folders_only,
        )
        return str(answer.unsafe_ask())

    def say(self, text: str = "") -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
