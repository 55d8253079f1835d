"""Start the TUI from parsed command-line arguments."""

from __future__ import annotations

import argparse

from screens.base import LaunchOptions


def launch_tui(args: argparse.Namespace) -> int:
    """Run the app until the user quits; return the exit code."""
    from tui.app import BedrockTuneApp

    options = LaunchOptions(
        profile=getattr(args, "profile", None),
        region=getattr(args, "region", None),
        endpoint_url=getattr(args, "endpoint_url", None),
        sandbox=bool(getattr(args, "sandbox", False)),
    )
    BedrockTuneApp(options).run()
    return 0
