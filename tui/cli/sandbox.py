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
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
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
