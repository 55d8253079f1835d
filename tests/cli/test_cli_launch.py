"""`bedrock-tune` with no command starts the app without building the subcommand parsers."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tui.launch
from tui.cli.main import _tui_arguments, build_parser, main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--sandbox"],
        ["--profile", "dev", "--region", "us-west-2"],
        ["--endpoint-url=http://127.0.0.1:5000", "--sandbox"],
        ["--prof", "dev"],  # an abbreviation, as the full parser allows
    ],
)
def test_options_alone_parse_as_the_full_parser_does(argv: list[str]) -> None:
    fast = _tui_arguments(argv)
    assert fast is not None
    assert vars(fast) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize(
    "argv",
    [
        ["models"],
        ["--region", "us-east-1", "whoami"],
        ["--help"],
        ["-h"],
        ["--version"],
        ["--region"],  # missing value: the full parser reports it
        ["--bogus"],
        ["--sandbox=yes"],
    ],
)
def test_anything_else_goes_to_the_full_parser(argv: list[str]) -> None:
    assert _tui_arguments(argv) is None


def test_main_without_a_command_launches_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    launched: list[argparse.Namespace] = []

    def launch(args: argparse.Namespace) -> int:
        launched.append(args)
        return 0

    monkeypatch.setattr(tui.launch, "launch_tui", launch)
    assert main(["--region", "us-west-2"]) == 0
    assert [vars(a) for a in launched] == [
        {"profile": None, "region": "us-west-2", "endpoint_url": None, "sandbox": False}
    ]


def test_launching_the_app_imports_no_command_module() -> None:
    code = (
        "import json, sys, tui.launch\n"
        "tui.launch.launch_tui = lambda args: 0\n"
        "from tui.cli.main import main\n"
        "assert main(['--sandbox']) == 0\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True
    )
    loaded = json.loads(done.stdout)
    infrastructure = {
        "tui.cli",
        "tui.cli.main",
        "tui.cli.common",
        "tui.cli.commands",
        "tui.cli.missing",
    }
    commands = [m for m in loaded if m.startswith("tui.cli.") and m not in infrastructure]
    assert not commands
