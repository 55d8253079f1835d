"""An `Asker` that answers the prompt mode's questions from a script, checking each question is
the one expected and putting every typed answer through the question's own validation (as
questionary does as you type)."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from tui.cli.plain.ask import Check, Heading, Option, first_enabled

DEFAULT = object()
"""Take the question's default (Enter)."""
INTERRUPT = object()
"""Press Ctrl+C at this question."""


@dataclass(frozen=True)
class Repeat:
    """Answer every question that contains `expected` with `answer`, until one does not."""

    expected: str
    answer: Any


@dataclass
class Asked:
    """One question as it was asked."""

    kind: str
    message: str
    default: Any = None
    options: tuple[Option | Heading, ...] = ()
    refused: list[str] = field(default_factory=list)
    """What validation said about the answers typed before the one it took."""


class ScriptError(AssertionError):
    """The flow asked something the script did not expect."""


class Script:
    """Answers from `(a piece of the question, the answer)` pairs, in order. A typed answer
    that its question's validation refuses is recorded and the next pair answers again."""

    def __init__(self, answers: Sequence[tuple[str, Any] | Repeat]) -> None:
        self._answers: deque[tuple[str, Any] | Repeat] = deque(answers)
        self.asked: list[Asked] = []
        self.said: list[str] = []

    @property
    def left(self) -> list[tuple[str, Any] | Repeat]:
        """The answers not used (a Repeat at the end counts as used)."""
        return [a for a in self._answers if not isinstance(a, Repeat)]

    def text_said(self) -> str:
        """Everything shown between questions."""
        return "\n".join(self.said)

    def _answer(self, asked: Asked) -> Any:
        while self._answers:
            head = self._answers[0]
            if isinstance(head, Repeat):
                if head.expected in asked.message:
                    return head.answer
                self._answers.popleft()
                continue
            expected, answer = head
            if expected not in asked.message:
                raise ScriptError(f"asked {asked.message!r}, the script expected {expected!r}")
            self._answers.popleft()
            return answer
        raise ScriptError(f"asked {asked.message!r} after the script's last answer")

    def _ask(self, asked: Asked, check: Check | None = None) -> Any:
        self.asked.append(asked)
        while True:
            answer = self._answer(asked)
            if answer is INTERRUPT:
                raise KeyboardInterrupt
            if answer is DEFAULT:
                answer = asked.default
            if check is not None and isinstance(answer, str):
                problem = check(answer)
                if problem is not None:
                    asked.refused.append(problem)
                    continue
            return answer

    def select(
        self,
        message: str,
        options: Sequence[Option | Heading],
        default: Any = None,
        *,
        search: bool = False,
    ) -> Any:
        enabled = [o.value for o in options if isinstance(o, Option) and o.disabled is None]
        fallback = default if default in enabled else first_enabled(options)
        picked = self._ask(Asked("select", message, fallback, tuple(options)))
        if picked not in enabled:
            raise ScriptError(f"{picked!r} cannot be picked at {message!r} (offered: {enabled})")
        return picked

    def confirm(self, message: str, default: bool = False) -> bool:
        return bool(self._ask(Asked("confirm", message, default)))

    def text(self, message: str, default: str = "", check: Check | None = None) -> str:
        return str(self._ask(Asked("text", message, default), check))

    def path(
        self,
        message: str,
        default: str = "",
        check: Check | None = None,
        *,
        folders_only: bool = False,
    ) -> str:
        return str(self._ask(Asked("path", message, default), check))

    def say(self, text: str = "") -> None:
        self.said.append(text)
