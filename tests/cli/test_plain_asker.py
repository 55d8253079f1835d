"""`TerminalAsker` over questionary: what each question hands questionary (choices, groups,
defaults, validation as you type), and that Ctrl+C is an interrupt, not a None answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
import questionary

from tui.cli.plain.ask import Heading, Option, TerminalAsker, first_enabled


@dataclass
class FakeQuestion:
    """A questionary question that answers `answer` (or raises it) and remembers its call."""

    kind: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    answer: Any

    def unsafe_ask(self) -> Any:
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


@dataclass
class FakeQuestionary:
    """questionary's prompts replaced by `FakeQuestion`s answering from `answers`."""

    answers: list[Any]
    asked: list[FakeQuestion] = field(default_factory=list)
    Choice = questionary.Choice
    Separator = questionary.Separator

    def _ask(self, kind: str, *args: Any, **kwargs: Any) -> FakeQuestion:
        self.asked.append(FakeQuestion(kind, args, kwargs, self.answers.pop(0)))
        return self.asked[-1]

    def select(self, *args: Any, **kwargs: Any) -> FakeQuestion:
        return self._ask("select", *args, **kwargs)

    def confirm(self, *args: Any, **kwargs: Any) -> FakeQuestion:
        return self._ask("confirm", *args, **kwargs)

    def text(self, *args: Any, **kwargs: Any) -> FakeQuestion:
        return self._ask("text", *args, **kwargs)

    def path(self, *args: Any, **kwargs: Any) -> FakeQuestion:
        return self._ask("path", *args, **kwargs)


def asker_with(answers: list[Any]) -> tuple[TerminalAsker, FakeQuestionary]:
    fake = FakeQuestionary(answers)
    asker = TerminalAsker()
    asker._q = fake  # type: ignore[assignment]
    return asker, fake


def test_a_select_has_its_groups_disabled_options_and_default() -> None:
    asker, fake = asker_with(["b"])
    options: list[Option | Heading] = [
        Heading("Offered here"),
        Option("A", "a"),
        Option("B", "b"),
        Heading("Not offered here"),
        Option("C", "c", disabled="not in this region"),
    ]
    assert asker.select("Which?", options, default="b", search=True) == "b"
    [asked] = fake.asked
    message, choices = asked.args
    assert message == "Which?"
    assert isinstance(choices[0], questionary.Separator)
    assert "Offered here" in str(choices[0].title)
    assert [c.value for c in choices if not isinstance(c, questionary.Separator)] == ["a", "b", "c"]
    assert choices[4].disabled == "not in this region"
    assert asked.kwargs["default"] is choices[2]  # the Choice object of the default
    assert asked.kwargs["use_search_filter"] and not asked.kwargs["use_jk_keys"]
    assert first_enabled(options) == "a"


def test_a_disabled_default_is_not_handed_over() -> None:
    asker, fake = asker_with(["a"])
    asker.select("Which?", [Option("A", "a"), Option("C", "c", "no")], default="c")
    assert fake.asked[0].kwargs["default"] is None
    assert "use_search_filter" not in fake.asked[0].kwargs


def test_validation_as_you_type_says_what_is_wrong() -> None:
    asker, fake = asker_with(["42", "/tmp"])

    def check(text: str) -> str | None:
        return None if text.isdigit() else "Type a number."

    assert asker.text("How many?", "1", check) == "42"
    validate = fake.asked[0].kwargs["validate"]
    assert validate("12") is True and validate("x") == "Type a number."
    assert asker.path("Where?", "/", folders_only=True) == "/tmp"
    assert fake.asked[1].kwargs["only_directories"] is True
    assert fake.asked[1].kwargs["validate"] is None


def test_ctrl_c_is_an_interrupt() -> None:
    asker, _ = asker_with([KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        asker.confirm("Sure?")
