"""`bedrock-tune chat`: talk to a deployed custom model (or a base model), optionally next to the
base model, with the training template's system prompt."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.templates import load_template
from core.errors import NotFoundError, ValidationError
from core.serving.chat import Answer, Settings, Turn, converse_stream, folds_system
from core.serving.endpoint import PREFIX, endpoint_of, invoke_endpoint_stream
from tui.cli.common import (
    EXIT_OK,
    add_aws_options,
    aws_context,
    finite_float,
    positive_int,
    template_reference,
)


def register(subparsers: Any) -> None:
    """Add the `chat` parser."""
    parser = subparsers.add_parser(
        "chat",
        help="chat with a deployed model (streamed), optionally compared with the base model",
        description="Send messages and stream the answer. MODEL is a provisioned throughput or "
        "deployment ARN or a base model's inference id (Converse), or endpoint:NAME for a "
        "SageMaker endpoint (InvokeEndpointWithResponseStream, the system prompt in front of "
        "the message as in training).",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("model", metavar="MODEL_OR_DEPLOYMENT")
    parser.add_argument("--compare", metavar="BASE_ID", help="also ask this base model")
    parser.add_argument(
        "--template",
        type=template_reference,
        help="use this template's system prompt (TOML or preset:)",
    )
    parser.add_argument(
        "--system",
        help="a system prompt (overrides --template); for models trained on prompt/completion "
        "(known from --compare) it goes in front of the message, as in training",
    )
    parser.add_argument("--prompt", help="ask once and exit (else an interactive chat)")
    parser.add_argument(
        "--max-tokens", type=positive_int, default=512, help="answer length cap (default 512)"
    )
    parser.add_argument(
        "--temperature", type=finite_float(0, 1), default=0.7, help="0 to 1 (default 0.7)"
    )
    parser.add_argument(
        "--top-p", type=finite_float(0, 1), default=0.9, help="0 to 1 (default 0.9)"
    )
    parser.set_defaults(handler=run)


def _fold_system(base_id: str | None) -> bool:
    """Whether models of `base_id`'s family are trained with the system prompt inside the
    prompt (prompt/completion), so chat asks them the same way. Unknown: keep it separate."""
    if not base_id:
        return False
    try:
        customization = find_model(base_id).customization(CustomizationType.FINE_TUNING)
    except NotFoundError:
        return False
    return folds_system(customization.data_format if customization else None)


def _ask(
    context: AwsContext,
    model: str,
    system: str,
    turns: list[Turn],
    settings: Settings,
    label: str,
    fold: bool,
) -> Answer:
    sys.stdout.write(f"{label}: ")
    final = Answer("", None, None, None, "")
    endpoint = endpoint_of(model)
    stream = (
        invoke_endpoint_stream(context, endpoint, system, turns, settings)
        if endpoint is not None
        else converse_stream(context, model, system, turns, settings, fold_system=fold)
    )
    for piece in stream:
        if isinstance(piece, Answer):
            final = piece
        else:
            sys.stdout.write(piece)
            sys.stdout.flush()
    cut = "  [the stream was cut: partial answer]" if final.cut else ""
    tokens = f"{final.input_tokens} in / {final.output_tokens} out" if final.output_tokens else ""
    latency = f"{final.latency_ms} ms" if final.latency_ms else ""
    details = ", ".join(d for d in (tokens, latency) if d)  # an endpoint reports no tokens
    sys.stdout.write(f"{cut}\n  ({details})\n" if details else f"{cut}\n")
    return final


def run(args: argparse.Namespace) -> int:
    """One question with --prompt, else a loop until an empty line or Ctrl+D."""
    if args.prompt is not None and not args.prompt.strip():
        raise ValidationError(
            "--prompt is empty.", title="Empty prompt", hint="Give a question: --prompt 'Hi'."
        )
    system = args.system or (load_template(args.template).system if args.template else "")
    settings = Settings(args.max_tokens, args.temperature, args.top_p)
    settings.check()
    # An endpoint's model was trained on prompt/completion pairs: ask the base model alike.
    fold = args.model.startswith(PREFIX) or _fold_system(args.compare)
    with aws_context(args) as context:
        history: list[Turn] = []
        while True:
            if args.prompt is not None:
                question = args.prompt
            else:
                try:
                    question = input("you> ").strip()
                except EOFError:
                    break
                if not question:
                    break
            history.append(Turn("user", question))
            answer = _ask(context, args.model, system, history, settings, "model", fold)
            if args.compare:
                turns = [Turn("user", question)]
                _ask(context, args.compare, system, turns, settings, "base", fold)
            history.append(Turn("assistant", answer.text))
            if args.prompt is not None:
                break
    return EXIT_OK
