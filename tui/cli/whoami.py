"""`bedrock-tune whoami`: which account, identity and region the credentials resolve to."""

from __future__ import annotations

import argparse
from typing import Any

from core.catalog.lookup import check_region
from core.errors import RegionNotSupportedError
from tui.cli.common import EXIT_OK, add_aws_options, aws_context, print_json


def register(subparsers: Any) -> None:
    """Add the `whoami` parser."""
    parser = subparsers.add_parser(
        "whoami",
        help="check the AWS identity (STS) and region",
        description="Check who the AWS credentials belong to (STS GetCallerIdentity) and "
        "whether the region offers Bedrock model customization.",
    )
    add_aws_options(parser, suppress=True)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Print the identity; errors (no credentials, expired SSO...) exit 2 with a hint."""
    with aws_context(args) as context:
        identity = context.whoami()
        region_note = ""
        try:
            check_region(context.region)
            supported = True
        except RegionNotSupportedError as error:
            supported = False
            region_note = error.describe()
        if args.json:
            print_json(
                {
                    "account": identity.account,
                    "arn": identity.arn,
                    "user_id": identity.user_id,
                    "region": context.region,
                    "profile": context.profile,
                    "endpoint_url": context.endpoint_url,
                    "customization_supported": supported,
                }
            )
        else:
            print(f"Account   {identity.account}")
            print(f"Identity  {identity.arn}")
            print(f"User id   {identity.user_id}")
            print(f"Region    {context.region}")
            if context.profile:
                print(f"Profile   {context.profile}")
            if context.endpoint_url:
                print(f"Endpoint  {context.endpoint_url}")
            if region_note:
                print(f"\n{region_note}")
    return EXIT_OK
