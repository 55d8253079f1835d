"""Helpers every subcommand shares: AWS options, the AWS context, JSON and error output."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from core.aws import AwsContext
from core.errors import BedrockTuneError

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
    """Print `data` as indented JSON on stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def report_error(error: BedrockTuneError) -> int:
    """Print an error (title, message, hint) to stderr and return the usage/environment code."""
    sys.stderr.write(error.describe() + "\n")
    return EXIT_USAGE
