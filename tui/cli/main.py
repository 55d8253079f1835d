"""`bedrock-tune`: the TUI with no subcommand, and the headless subcommands over the same core.

Exit codes: 0 success, 1 the thing checked is bad (e.g. an invalid dataset), 2 usage or
environment error (missing file, unknown model, no credentials...), 130 interrupted, 141 the
reader of stdout went away (`bedrock-tune validate ... | head`). Errors go to stderr, never as
a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from core.errors import BedrockTuneError, file_error
from core.version import __version__
from tui.cli import missing
from tui.cli.commands import COMMANDS, MODULES
from tui.cli.common import EXIT_USAGE, add_aws_options, report_error

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE: what a shell reports for a program killed by a closed pipe (`cat`, `grep`).
Not 0, because the output was cut short (a script with `set -o pipefail` should see that);
not 1 or 2, which mean "invalid" and "usage error" here."""


class _Parser(argparse.ArgumentParser):
    """argparse with our exit code (2) and a hint to --help on usage errors; in a terminal, a
    missing required argument is asked for instead (`tui.cli.missing`)."""

    def error(self, message: str) -> NoReturn:
        missing.raise_if_asking(self, message)
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\nRun `{self.prog} --help` for help.\n")
        raise SystemExit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    """The whole command line: global options and every subcommand."""
    parser = _Parser(
        prog="bedrock-tune",
        description="Customize a foundation model on Amazon Bedrock, from dataset to chat. "
        "With no command, starts the terminal app (in the sandbox when no AWS credentials "
        "resolve).",
    )
    parser.add_argument("--version", action="version", version=f"bedrock-tune {__version__}")
    add_aws_options(parser)
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        module = importlib.import_module(f"tui.cli.{MODULES.get(name, name)}")
        module.register(subparsers)
    return parser


class _NotJustOptions(Exception):
    """The command line is more than global options (see `_tui_arguments`)."""


class _OptionsOnlyParser(argparse.ArgumentParser):
    """Parses the global options alone; gives up (instead of exiting) on anything it cannot."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise _NotJustOptions(message)


def _tui_arguments(argv: Sequence[str]) -> argparse.Namespace | None:
    """The parsed command line when it only starts the terminal app (global options, no command,
    no --help / --version), else None.

    This path builds no subcommand parsers: that would import every command module (and the
    core modules they use, ~0.1 s) before the app's first frame. Anything else goes to the full
    parser, which gives the same namespace for these options and reports every error.
    """
    if any(arg in ("-h", "--help", "--version") for arg in argv):
        return None
    parser = _OptionsOnlyParser(prog="bedrock-tune", add_help=False)
    add_aws_options(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except _NotJustOptions:
        return None
    return None if rest else args


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `bedrock-tune` console script."""
    arguments = sys.argv[1:] if argv is None else list(argv)
    args = _tui_arguments(arguments)
    try:
        if args is None:
            ask = missing.ask_in_terminal if missing.in_a_terminal() else None
            args = missing.parse_asking(build_parser(), arguments, ask)
        handler = getattr(args, "handler", None)
        if handler is None:
            from tui.launch import launch_tui

            return launch_tui(args)
        code = int(handler(args))
        sys.stdout.flush()  # a closed pipe shows here, inside the guard, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except BedrockTuneError as error:
        return report_error(error)
    except OSError as error:  # the file system said no: say which path and why
        return report_error(file_error(error))
    except KeyboardInterrupt:
        sys.stderr.write("Interrupted.\n")
        return 130


def _stdout_closed() -> int:
    """Quietly stop when whoever read our output has gone (Python's recipe in the `signal`
    documentation, "Note on SIGPIPE"): point stdout at devnull so the interpreter's last flush
    does not raise again, and exit as a program stopped by SIGPIPE would."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


if __name__ == "__main__":
    raise SystemExit(main())
