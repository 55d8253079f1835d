"""`bedrock-tune sandbox`: a standalone local AWS (moto + our Bedrock emulation) on loopback."""

from __future__ import annotations

import argparse
import shlex
import sys
from typing import Any

from tui.cli.common import EXIT_OK, finite_float, int_in_range


def register(subparsers: Any) -> None:
    """Add the `sandbox` parser."""
    parser = subparsers.add_parser(
        "sandbox",
        help="run a local sandbox AWS that other processes can use",
        description="Run the sandbox (a local AWS: S3, IAM, STS, Bedrock, SageMaker) on "
        "127.0.0.1 until Ctrl+C. Point any AWS SDK or CLI at it with the printed environment.",
    )
    parser.add_argument(
        "--port",
        type=int_in_range(0, 65535),
        default=4566,
        help="port to listen on, 0 for any free one (default 4566)",
    )
    parser.add_argument(
        "--job-seconds",
        type=finite_float(0),
        default=60.0,
        help="how long a customization job takes in the sandbox (default 60)",
    )
    shared = parser.add_mutually_exclusive_group()
    shared.add_argument(
        "--status",
        action="store_true",
        help="say whether the app's shared sandbox (the one it starts in the background, which "
        "outlives it for resume) is running, and where",
    )
    shared.add_argument(
        "--stop",
        action="store_true",
        help="stop the app's shared sandbox now (its jobs and files go with it)",
    )
    parser.set_defaults(handler=run)


def shared_sandbox(stop: bool) -> int:
    """`--status` / `--stop`: the app's shared background sandbox."""
    from core.sandbox.background import SandboxHome
    from core.state_dir import state_dir

    home = SandboxHome(state_dir())
    info = home.running()
    if info is None:
        print("No shared sandbox is running.")
        return EXIT_OK
    if stop:
        home.stop()
        print(f"Stopped the shared sandbox at {info.endpoint_url} (process {info.pid}).")
        return EXIT_OK
    print(
        f"The shared sandbox runs at {info.endpoint_url} (process {info.pid}, since "
        f"{info.started}). It stops on its own once no app uses it and no saved run needs it; "
        "`bedrock-tune sandbox --stop` stops it now."
    )
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted (or report on / stop the app's shared sandbox)."""
    if args.status or args.stop:
        return shared_sandbox(stop=args.stop)
    from core.sandbox.server import Sandbox, run_forever, sandbox_environment

    def ready(sandbox: Sandbox) -> None:
        env = sandbox_environment(sandbox)
        print(f"bedrock-tune sandbox listening on {sandbox.endpoint_url} (Ctrl+C stops it)")
        print("Use it from another terminal with:\n")
        for key, value in env.items():
            print(f"  export {key}={shlex.quote(value)}")
        print("\nthen e.g. `bedrock-tune whoami` or `aws sts get-caller-identity`.")
        sys.stdout.flush()

    try:
        run_forever(args.port, on_ready=ready, job_seconds=args.job_seconds)
    except KeyboardInterrupt:
        print("\nSandbox stopped.")
    return EXIT_OK
