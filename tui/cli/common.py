"""Helpers every subcommand shares: AWS options, the AWS context, argument types that check
every input before anything runs, JSON and error output."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.aws import AwsContext, endpoint_url_problem
from core.errors import BedrockTuneError
from core.files import output_file_problem, output_folder_problem, readable_file_problem
from core.infra.policies import DEFAULT_PREFIX, prefix_problem

if TYPE_CHECKING:
    from core.aws import Identity
    from core.registry import Registry
    from core.run import Run

EXIT_OK = 0
EXIT_BAD = 1
EXIT_USAGE = 2


def add_aws_options(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    """Add --profile, --region, --endpoint-url and --sandbox to `parser`.

    Subcommand parsers use `suppress=True` so that a value given before the subcommand
    (`bedrock-tune --region us-west-2 models`) is not reset by the subparser's default.
    """
    default: Any = argparse.SUPPRESS if suppress else None
    group = parser.add_argument_group("AWS")
    group.add_argument("--profile", default=default, help="AWS profile (default: AWS_PROFILE)")
    group.add_argument(
        "--region", default=default, help="AWS region (default: AWS_REGION or the profile's)"
    )
    group.add_argument(
        "--endpoint-url",
        default=default,
        type=endpoint_url,
        help="send every AWS call here (default: AWS_ENDPOINT_URL), e.g. a bedrock-tune sandbox",
    )
    group.add_argument(
        "--sandbox",
        action="store_true",
        default=argparse.SUPPRESS if suppress else False,
        help="use a local sandbox AWS started for this command (no account needed)",
    )


@contextmanager
def aws_context(args: argparse.Namespace) -> Iterator[AwsContext]:
    """The AWS context the options ask for; with --sandbox, a sandbox that lives as long."""
    region = getattr(args, "region", None)
    if getattr(args, "sandbox", False):
        from core.sandbox.server import Sandbox

        with Sandbox() as sandbox:
            yield AwsContext.for_endpoint(
                sandbox.endpoint_url, sandbox.credentials, region or sandbox.region
            )
        return
    yield AwsContext.from_environment(
        profile=getattr(args, "profile", None),
        region=region,
        endpoint_url=getattr(args, "endpoint_url", None),
    )


def print_json(data: Any) -> None:
    """Print `data` as indented JSON on stdout.

    `allow_nan=False`: JSON has no NaN or Infinity. Every number is checked where it is read,
    so this only turns a slip into an error instead of output no JSON parser accepts.
    """
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, default=str, allow_nan=False)
    except ValueError as error:  # NaN or Infinity somewhere: never print what is not JSON
        raise BedrockTuneError(
            f"The output holds a number JSON cannot carry ({error}).",
            title="Output error",
            hint="This is a bug in bedrock-tune: please report it with the command you ran.",
        ) from None
    sys.stdout.write(text + "\n")


def report_error(error: BedrockTuneError) -> int:
    """Print an error (title, message, hint) to stderr and return the usage/environment code."""
    with suppress(OSError):  # stderr closed too: the exit code still tells
        sys.stderr.write(error.describe() + "\n")
    return EXIT_USAGE


# --------------------------------------------------------------------------- argument types
# argparse calls these with the text of an option; an ArgumentTypeError becomes
# "bedrock-tune <command>: error: argument --x: <message>" on stderr and exit 2, before the
# command runs (so nothing is read, sent or written).


def readable_file(text: str) -> Path:
    """An existing, readable regular file (never a folder, FIFO or device: opening a FIFO
    would block)."""
    path = Path(text).expanduser()
    problem = readable_file_problem(path)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text} {problem}. Give the path of a readable file.")
    return path


def template_reference(text: str) -> str:
    """`preset:<name>` (checked when the template is loaded), or a readable template file."""
    if text.startswith("preset:"):
        return text
    readable_file(text)
    return text


def output_folder(text: str) -> Path:
    """A folder files can be written into (created with its parents when missing)."""
    path = Path(text).expanduser()
    problem = output_folder_problem(path)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{text} {problem}. Choose a folder you can write to.")
    return path


def output_file(*, overwrite: bool) -> Callable[[str], Path]:
    """A file that can be written: its folder exists and is writable, it is no folder, FIFO or
    device, and (unless `overwrite`) it does not exist yet."""

    def parse(text: str) -> Path:
        path = Path(text).expanduser()
        problem = output_file_problem(path, overwrite=overwrite)
        if problem is not None:
            raise argparse.ArgumentTypeError(f"{text} {problem}. Choose a file you can write.")
        return path

    return parse


def endpoint_url(text: str) -> str:
    """An http(s) URL with a host and at most a port (AWS and the sandbox take no path)."""
    problem = endpoint_url_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem}. For example http://127.0.0.1:4566")
    return text


def s3_prefix(text: str) -> str:
    """A key prefix of run folders: no wildcard, no `.`/`..` part, no leading slash (it ends
    up in the IAM policy, where a wildcard would widen the grant)."""
    problem = prefix_problem(text)
    if problem is not None:
        raise argparse.ArgumentTypeError(f"{problem}. For example {DEFAULT_PREFIX}")
    return text


def int_in_range(low: int | None = None, high: int | None = None) -> Callable[[str], int]:
    """A whole number in [low, high] (either bound may be open)."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a whole number") from None
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{value} is out of range: {_range(low, high)}")
        return value

    return parse


def finite_float(low: float | None = None, high: float | None = None) -> Callable[[str], float]:
    """A finite number in [low, high]: never nan or inf (JSON has neither, AWS takes neither)."""

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a number") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(
                f"'{text}' is not a finite number: {_range(low, high)}"
            )
        if (low is not None and value < low) or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"{text} is out of range: {_range(low, high)}")
        return value

    return parse


def _range(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"give a number from {low:g} to {high:g}"
    if low is not None:
        return f"give a number of {low:g} or more"
    if high is not None:
        return f"give a number of {high:g} or less"
    return "give a number such as 0.5"


Handler = Callable[[argparse.Namespace], int]
"""What a subcommand runs: the parsed arguments in, the exit code out."""


def add_job_actions(
    actions: Any,
    actions_and_help: tuple[tuple[str, Handler, str], ...],
    *,
    job_help: str,
    interval: float,
) -> None:
    """Add the actions that take one job by name (`watch NAME [--interval S]`, `stop NAME`,
    `show NAME`), each with the AWS options and `--json`."""
    for name, handler, text in actions_and_help:
        sub = actions.add_parser(name, help=text)
        add_aws_options(sub, suppress=True)
        sub.add_argument("job", metavar="NAME", help=job_help)
        sub.add_argument("--json", action="store_true", help="print JSON")
        if name == "watch":
            sub.add_argument(
                "--interval",
                type=positive_float,
                default=interval,
                help=f"first poll interval in seconds ({interval:g})",
            )
        sub.set_defaults(handler=handler)


def positive_float(text: str) -> float:
    """A finite number above 0 (durations, intervals)."""
    value = finite_float(0)(text)
    if value == 0:
        raise argparse.ArgumentTypeError(f"{text} is out of range: give a number above 0")
    return value


positive_int = int_in_range(1)
"""A whole number of 1 or more (counts, concurrency, token limits)."""
non_negative_int = int_in_range(0)
"""A whole number of 0 or more (split sizes, where 0 means none)."""


def hyperparameter_pairs(pairs: list[str], example: str) -> dict[str, str]:
    """`--hp NAME=VALUE` options as a dict (a ValidationError for one that is not NAME=VALUE;
    `example` shows one that is)."""
    from core.errors import ValidationError

    values: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValidationError(f"--hp '{pair}' is not NAME=VALUE", hint=f"e.g. --hp {example}")
        values[name.strip()] = value.strip()
    return values


def output_beside(train_uri: str) -> str:
    """Where a SageMaker job writes when --output is not given: `output/` beside the run's
    `data/` folder (bedrock-tune's run layout), else beside the training data."""
    folder = train_uri[:-1] if train_uri.endswith("/") else train_uri.rsplit("/", 1)[0]
    if folder.endswith("/data"):
        folder = folder[: -len("/data")]
    return f"{folder}/output/"


def placed(run: Run, context: AwsContext, identity: Identity, args: argparse.Namespace) -> Run:
    """`run` with where the command works: the target (the sandbox or AWS), profile, region,
    endpoint, and the checked identity, as the TUI's credentials step records them."""
    from dataclasses import replace

    from core.resume import target_of

    return replace(
        run,
        target=target_of(context.endpoint_url, sandbox=bool(getattr(args, "sandbox", False))),
        profile=context.profile,
        region=context.region,
        endpoint_url=context.endpoint_url,
        account_id=identity.account,
        principal_arn=identity.arn,
    )


def run_to_record(
    registry: Registry,
    run_id: str | None,
    fresh: Run,
    context: AwsContext,
    identity: Identity,
    args: argparse.Namespace,
) -> Run:
    """The run a command records its work in, placed where the command works (`placed`): the
    saved run `run_id` names, else `fresh` under `run_id` (or a new id). Not saved here.

    Raises:
        ValidationError: `run_id` is not a run id, or the saved run works in another place
            (region, endpoint or account): its resources are there.
    """
    from dataclasses import replace

    from core.errors import ValidationError
    from core.jobs.launching import RUN_ID
    from core.registry import new_run_id

    if run_id is not None and not RUN_ID.fullmatch(run_id):
        raise ValidationError(
            f"run id '{run_id}' is not 1-64 letters, digits and '-' (it becomes a tag value).",
            hint="Use the id `bedrock-tune runs` shows, or a name such as my-run-1.",
        )
    saved = registry.get_run(run_id) if run_id is not None else None
    if saved is None:
        return placed(replace(fresh, run_id=run_id or new_run_id()), context, identity, args)
    here = placed(saved.run, context, identity, args)
    was = saved.run
    if was.region is not None and (was.region, was.endpoint_url) != (
        here.region,
        here.endpoint_url,
    ):
        where = f"{was.region}" + (f" at {was.endpoint_url}" if was.endpoint_url else "")
        raise ValidationError(
            f"Run {saved.id} works in {where}, not where this command works ({here.region}"
            + (f" at {here.endpoint_url}" if here.endpoint_url else "")
            + ").",
            title="Not the same place",
            hint="Give the run's region and endpoint (see `bedrock-tune runs`), or another run id.",
        )
    if was.account_id is not None and was.account_id != here.account_id:
        raise ValidationError(
            f"Run {saved.id} works in account {was.account_id}, these credentials are "
            f"account {here.account_id}.",
            title="Not the same place",
            hint="Use the credentials of the run's account, or another run id.",
        )
    return here
