"""Asking for a required argument the command line left out, when a person is at a terminal.

`bedrock-tune jobs launch --model X` run in a terminal asks for `--train`, `--output` and
`--role` (questionary), then goes on as if they had been typed. Without a terminal (a script, CI,
a pipe) nothing is asked: the usual usage error, exit 2.

How: the parser is tried as it is. When a (sub)parser reports missing required arguments, those
arguments of that parser alone are made optional with a marker default, the command line is
parsed again, and each marker left in the result is replaced by the answer to a question. The
answer goes through argparse's own conversion and checks (type, choices), so a bad answer is the
same usage error a bad flag would be.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from gettext import gettext

# argparse reports missing required arguments with this message (translated through gettext,
# as argparse does), followed by their names.
_REQUIRED_PREFIX = gettext("the following arguments are required: %s").split("%s", 1)[0]
# ...and a required choice of one among several flags (a required mutually exclusive group).
_ONE_OF_PREFIX = gettext("one of the arguments %s is required").split("%s", 1)[0]

_ASKING: ContextVar[bool] = ContextVar("bedrock_tune_asking_for_missing", default=False)


@dataclass(frozen=True)
class Question:
    """One missing argument, as the person is asked for it."""

    name: str
    """How the command line names it: `--train`, or a positional's metavar (`SOURCE`)."""
    help: str
    choices: tuple[str, ...] = ()
    """The allowed values when argparse has `choices` (asked as a list to pick from)."""
    several: bool = False
    """Whether it takes several values (typed on one line, separated by spaces)."""

    @property
    def prompt(self) -> str:
        """The question's text: the name, then the help when there is one."""
        return f"{self.name} ({self.help}):" if self.help else f"{self.name}:"


Ask = Callable[[Question], str | None]
"""Asks one question; None when the person gave up (Ctrl-C, Escape)."""


class MissingArguments(Exception):
    """A parser found required arguments missing while asking is on (see `parse_asking`)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message


def raise_if_asking(parser: argparse.ArgumentParser, message: str) -> None:
    """Called first by the parser's `error`: while asking is on, a missing-arguments error
    becomes `MissingArguments` instead of a usage message."""
    if _ASKING.get() and message.startswith((_REQUIRED_PREFIX, _ONE_OF_PREFIX)):
        raise MissingArguments(parser, message)


@dataclass(frozen=True)
class _Missing:
    """The default of a relaxed argument: it was not on the command line."""

    action: argparse.Action


def parse_asking(
    parser: argparse.ArgumentParser, argv: Sequence[str], ask: Ask | None
) -> argparse.Namespace:
    """`parser.parse_args(argv)`, asking `ask` for required arguments that are missing.

    With `ask=None` this is exactly `parse_args` (the usage error, exit 2). A missing choice of
    subcommand (`bedrock-tune jobs` alone) is not asked: it stays a usage error.

    Raises:
        KeyboardInterrupt: the person gave up on a question.
        SystemExit(2): any usage error, including an answer argparse refuses.
    """
    if ask is None:
        return parser.parse_args(argv)
    try:
        with _asking():
            return parser.parse_args(argv)
    except MissingArguments as missing:
        incomplete, message = missing.parser, missing.message
    relaxed = [
        action
        for action in incomplete._actions
        if action.required and not isinstance(action, argparse._SubParsersAction)
    ]
    groups = [g for g in incomplete._mutually_exclusive_groups if g.required]
    if not relaxed and not groups:
        incomplete.error(message)
    for action in relaxed:
        action.required = False
        action.default = _Missing(action)
    for group in groups:
        group.required = False
    args = parser.parse_args(argv)
    for dest, value in vars(args).items():
        if isinstance(value, _Missing):
            setattr(args, dest, _answer(incomplete, value.action, ask))
    for group in groups:
        if not any(_given(action, argv) for action in group._group_actions):
            action = _pick_one(group, ask)
            setattr(args, action.dest, _answer(incomplete, action, ask))
    return args


def _given(action: argparse.Action, argv: Sequence[str]) -> bool:
    """Whether one of `action`'s flags is on the command line (`--x V` or `--x=V`)."""
    return any(
        word == flag or word.startswith(f"{flag}=")
        for word in argv
        for flag in action.option_strings
    )


def _pick_one(group: argparse._MutuallyExclusiveGroup, ask: Ask) -> argparse.Action:
    """Ask which flag of a required group of alternatives to give (then its value is asked)."""
    flags = {question_for(a).name: a for a in group._group_actions if a.help != argparse.SUPPRESS}
    helps = "; ".join(f"{name}: {a.help}" for name, a in flags.items() if a.help)
    picked = ask(Question(f"one of {' / '.join(flags)}", helps, tuple(flags)))
    if picked is None:
        raise KeyboardInterrupt
    return flags[picked]


@contextmanager
def _asking() -> Iterator[None]:
    token = _ASKING.set(True)
    try:
        yield
    finally:
        _ASKING.reset(token)


def question_for(action: argparse.Action) -> Question:
    """The question that asks for `action`'s value."""
    if action.option_strings:
        name = max(action.option_strings, key=len)  # `--output`, not `-o`
    else:
        name = str(action.metavar or action.dest)
    help_text = action.help if action.help and action.help != argparse.SUPPRESS else ""
    choices = tuple(str(c) for c in action.choices) if action.choices else ()
    several = action.nargs not in (None, argparse.OPTIONAL)
    return Question(name, help_text, choices, several)


def _answer(parser: argparse.ArgumentParser, action: argparse.Action, ask: Ask) -> object:
    question = question_for(action)
    text = ask(question)
    if text is None:
        raise KeyboardInterrupt
    values = shlex.split(text) if question.several else [text.strip()]
    # argparse's own conversion and checks (type, choices, nargs): a bad answer is reported as
    # `argument --x: invalid choice ...`, exit 2, exactly as the same value on the command line.
    try:
        return parser._get_values(action, values)
    except argparse.ArgumentError as error:
        parser.error(str(error))


def in_a_terminal() -> bool:
    """Whether a person can answer: both stdin and stdout are terminals."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def ask_in_terminal(question: Question) -> str | None:
    """Ask with questionary: a list to pick from for choices, else a line that may not be
    empty."""
    import questionary  # only when asking: it costs ~0.1 s to import

    if question.choices:
        picked: str | None = questionary.select(
            question.prompt, choices=list(question.choices)
        ).ask()
        return picked
    typed: str | None = questionary.text(
        question.prompt, validate=lambda text: bool(text.strip()) or "A value is needed."
    ).ask()
    return typed
