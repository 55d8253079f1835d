"""Recorded GetProducts pages (tests/fixtures/pricing) served through botocore's Stubber.

Each fixture file holds the pages of one GetProducts query (`service_code`, `region`, `pages`)
and says in `_source` where its shape and figures come from.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from botocore.stub import Stubber

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "pricing"
READ_AT = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
"""The fixed clock tests read the Price List at: figures are dated 2026-12-02."""


def pricing_stub() -> tuple[Any, Stubber]:
    """A `pricing` client (never reaching AWS) and its activated Stubber."""
    client = boto3.client(
        "pricing",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def fixture(name: str) -> dict[str, Any]:
    """A fixture file's content."""
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data


def expect_pages(
    stubber: Stubber, name: str, filters: Sequence[tuple[str, str]] | None = None
) -> int:
    """Queue every page of fixture `name` as the answers to one paginated GetProducts query
    (with exactly these parameters, NextToken followed); returns the number of pages."""
    data = fixture(name)
    region = data["region"]
    wanted = [{"Type": "TERM_MATCH", "Field": f, "Value": v} for f, v in filters or ()]
    if not wanted:
        wanted = [{"Type": "TERM_MATCH", "Field": "regionCode", "Value": region}]
    token = None
    for page in data["pages"]:
        params: dict[str, Any] = {
            "ServiceCode": data["service_code"],
            "Filters": wanted,
            "FormatVersion": "aws_v1",
            "MaxResults": 100,
        }
        if token:
            params["NextToken"] = token
        stubber.add_response("get_products", page, params)
        token = page.get("NextToken")
    return len(data["pages"])


def expect_region(stubber: Stubber, region: str) -> None:
    """Queue the whole read of `region`: AmazonBedrock, then Claude 3 Haiku's Marketplace
    listing where the catalog offers it (us-west-2)."""
    expect_pages(stubber, f"bedrock-{region}.json")
    if region == "us-west-2":
        expect_pages(
            stubber,
            "foundation-models-us-west-2-claude-3-haiku.json",
            [("regionCode", region), ("servicename", "Claude 3 Haiku (Amazon Bedrock Edition)")],
        )
