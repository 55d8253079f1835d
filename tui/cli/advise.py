"""`bedrock-tune advise`: "fine-tune or RAG?" from questions about the goal and, with
`--dataset`, a look at the data. Each question is a flag; in a terminal the unanswered ones are
asked (questionary), without one they take their defaults and the answer says which. Costs come
from the pricing service: the Price List API (pricing:GetProducts, read-only, cached a day) when
there are credentials to ask it, else the built-in figures; each figure says its source and date.
Nothing else is sent to AWS."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

from core.advise import (
    DEFAULT_MODEL,
    QUESTIONS,
    Advice,
    Question,
    advise,
    goal_from_answers,
    model_prices,
)
from core.advise import look_at_dataset as read_dataset
from core.data.sources import SourceSpec
from core.errors import ValidationError
from core.pricing.service import PriceService
from core.pricing.types import Price
from tui.cli import missing
from tui.cli.common import EXIT_OK, add_aws_options, aws_context, print_json

AskGoal = Callable[[Question], bool | int | None]
"""Asks one goal question; None when the person gave up."""


def _flag(question: Question) -> str:
    return "--" + question.name.replace("_", "-")


def _count(text: str) -> int:
    """argparse type of a count flag: a whole number, 0 or more."""
    try:
        value = int(text.replace("_", "").replace(",", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is negative; give 0 or more")
    return value


def register(subparsers: Any) -> None:
    """Add the `advise` parser: one flag per question, plus the dataset and the model."""
    parser = subparsers.add_parser(
        "advise",
        help='"fine-tune or RAG?": a recommendation with reasons and the costs of each path',
        description="Answers whether fine-tuning, retrieval (RAG with Amazon Bedrock Knowledge "
        "Bases), both or neither fits your goal, with the reasons, what each path costs (from "
        "the AWS Price List API when it can be asked, else bedrock-tune's built-in prices; each "
        "figure with its source and date) and the next step. Questions not given as flags are "
        "asked in a terminal; without one they take their defaults and the answer lists them. "
        "Only the Price List (pricing:GetProducts, read-only) is asked anything.",
    )
    add_aws_options(parser, suppress=True)
    goal = parser.add_argument_group("the goal (each question as a flag)")
    for question in QUESTIONS:
        if question.kind == "yes-no":
            goal.add_argument(
                _flag(question),
                dest=question.name,
                action=argparse.BooleanOptionalAction,
                default=None,
                help=f"{question.text} ({question.help}; default: "
                f"{'yes' if question.default else 'no'})",
            )
        else:
            goal.add_argument(
                _flag(question),
                dest=question.name,
                type=_count,
                default=None,
                metavar="N",
                help=f"{question.text} ({question.help}; default: {question.default})",
            )
    parser.add_argument(
        "--dataset",
        metavar="SOURCE",
        help="a dataset to look at (.jsonl/.json/.csv/parquet path, a saved dataset or a hub "
        "id): size, answer length, how much answers depend on facts in the prompt",
    )
    parser.add_argument("--config", help="the hub dataset's config")
    parser.add_argument("--split", help="the dataset's split")
    parser.add_argument(
        "--model", default=DEFAULT_MODEL, help=f"base model to price (default: {DEFAULT_MODEL})"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print JSON: {recommendation, reasons, costs, next_step, assumptions, defaulted, "
        "dataset, notes}",
    )
    parser.set_defaults(handler=run)


def ask_in_terminal(question: Question) -> bool | int | None:
    """Ask one goal question with questionary: a yes/no confirm or a whole number."""
    import questionary  # only when asking: it costs ~0.1 s to import

    if question.kind == "yes-no":
        confirmed: bool | None = questionary.confirm(
            question.text, default=bool(question.default)
        ).ask()
        return confirmed

    def valid(text: str) -> bool | str:
        try:
            _count(text)
        except argparse.ArgumentTypeError as error:
            return str(error)
        return True

    typed: str | None = questionary.text(
        question.text, default=str(question.default), validate=valid
    ).ask()
    return None if typed is None else _count(typed)


def answers_from(args: argparse.Namespace, ask: AskGoal | None) -> dict[str, bool | int | None]:
    """The flags' answers; with `ask`, each unanswered question is asked.

    Raises:
        KeyboardInterrupt: the person gave up on a question.
    """
    answers: dict[str, bool | int | None] = {}
    for question in QUESTIONS:
        value = getattr(args, question.name)
        if value is None and ask is not None:
            value = ask(question)
            if value is None:
                raise KeyboardInterrupt
        answers[question.name] = value
    return answers


def run(args: argparse.Namespace, ask: AskGoal | None = None) -> int:
    """Ask what is missing (in a terminal), advise, print."""
    if ask is None and missing.in_a_terminal():
        ask = ask_in_terminal
    goal = goal_from_answers(answers_from(args, ask))
    if (args.config or args.split) and not args.dataset:
        raise ValidationError(
            "--config and --split describe a dataset, but no --dataset was given.",
            hint="Add --dataset SOURCE, or leave out --config/--split.",
        )
    look = read_dataset(SourceSpec(args.dataset, args.config, args.split)) if args.dataset else None
    region = getattr(args, "region", None)  # default: the model's first region
    with aws_context(args) as context:
        service = PriceService(context if context.has_credentials() else None)
        prices = model_prices(args.model, region, service)
    advice = advise(goal, look, model_id=args.model, region=region, prices=prices)
    if args.json:
        print_json(advice.to_json())
    else:
        sys.stdout.write(advice_text(advice))
    return EXIT_OK


def _price_line(name: str, price: Price) -> str:
    label = name.replace("_", " ")
    return f"    {label}: {price.text()}"


def advice_text(advice: Advice) -> str:
    """The advice as a person reads it in a terminal."""
    lines = [f"Recommendation: {advice.recommendation}", "", "Why:"]
    lines += [f"  - {reason}" for reason in advice.reasons]
    if advice.dataset is not None:
        look = advice.dataset
        lines += ["", f"Dataset {look.source}: {look.records} records read, {look.pairs} pairs"]
        if look.grounded_share is not None:
            lines.append(
                f"  median answer {look.median_answer_tokens} tokens; "
                f"{look.grounded_share:.0%} of answers come from their prompt"
            )
    lines += ["", "Costs (estimates):"]
    for path, prices in advice.costs.items():
        lines.append(f"  {path}:")
        lines += [_price_line(name, price) for name, price in prices.items()]
    lines += ["", "Assuming: " + "; ".join(advice.assumptions) + "."]
    lines += [f"Note: {note}" for note in advice.notes]
    if advice.defaulted:
        flags = ", ".join("--" + name.replace("_", "-") for name in advice.defaulted)
        lines.append(f"Not answered, defaults used: {flags}.")
    lines += ["", f"Next: {advice.next_step}", ""]
    return "\n".join(lines)
