"""The AWS Price List Query API (`pricing:GetProducts`): which endpoint to ask, every page of
an answer, and its items parsed.

Facts (botocore's `pricing` 2017-10-15 model and endpoints data; the AWS SDK docs):
* The API is served from a few regions only: us-east-1 and ap-south-1 (the SDK docs), and
  eu-central-1 (botocore's endpoints data). The region priced is a filter (`regionCode`),
  not the endpoint.
* GetProducts pages with NextToken (MaxResults up to 100). Each `PriceList` entry is one
  product as a JSON document *in a string*: `product.attributes` (usagetype, regionCode,
  model, servicename, instanceType...) and `terms.OnDemand.<offer>.priceDimensions.<rate>`
  with `unit` and `pricePerUnit.USD` (a decimal string).
* AWS publishes $0.0000 rows; they are dropped here, never read as a free price.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from core.aws import AwsContext
from core.errors import ServiceError, aws_call
from core.version import __version__

ENDPOINT_REGIONS = ("us-east-1", "eu-central-1", "ap-south-1")
"""Where the Price List Query API answers."""
PAGE_SIZE = 100
"""GetProducts' largest page."""
MAX_PAGES = 60
"""A runaway guard: a whole region of AmazonBedrock is about 11 pages of 100 (2026)."""
FORMAT_VERSION = "aws_v1"


def endpoint_region(region: str) -> str:
    """The Price List endpoint nearest to `region` (the answer is the same from each)."""
    if region.startswith(("eu-", "me-", "af-", "il-")):
        return "eu-central-1"
    if region.startswith("ap-"):
        return "ap-south-1"
    return "us-east-1"


def pricing_client(context: AwsContext, endpoint: str) -> Any:
    """A `pricing` client for `endpoint`, with the context's identity and endpoint URL.

    Prices are optional (the built-in figures stand in), so this client fails fast: two
    attempts and short timeouts, instead of the eight attempts other clients make.
    """
    from botocore.config import Config

    config = Config(
        retries={"mode": "standard", "total_max_attempts": 2},
        connect_timeout=3,
        read_timeout=20,
        user_agent_extra=f"bedrock-tune/{__version__}",
    )
    with aws_call("creating the Price List client", profile=context.profile):
        return context.session().client(
            "pricing", region_name=endpoint, endpoint_url=context.endpoint_url, config=config
        )


def term(field: str, value: str) -> dict[str, str]:
    """A GetProducts TERM_MATCH filter."""
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


@dataclass(frozen=True)
class PriceListItem:
    """One on-demand price dimension of one Price List product."""

    service_code: str
    sku: str
    attributes: Mapping[str, str]
    unit: str
    usd: float
    description: str = ""

    @property
    def usage_type(self) -> str:
        """`USE1-NovaMicro-Customization-Training`, `USE1-Train:ml.g5.2xlarge`..."""
        return self.attributes.get("usagetype", "")

    @property
    def region_code(self) -> str:
        """The region the product is priced in (`regionCode`), '' when absent."""
        return self.attributes.get("regionCode", "")


def parse_item(raw: str | Mapping[str, Any], service_code: str) -> list[PriceListItem]:
    """The on-demand price dimensions of one PriceList entry (a JSON string, or already
    parsed). Entries that are not JSON, have no on-demand terms, or whose USD price is missing,
    unreadable or zero give nothing: a price that cannot be read is never taken as $0."""
    try:
        document = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return []
    if not isinstance(document, Mapping):
        return []
    product = document.get("product") or {}
    attributes = {str(k): str(v) for k, v in (product.get("attributes") or {}).items()}
    sku = str(product.get("sku", ""))
    items = []
    for term_data in ((document.get("terms") or {}).get("OnDemand") or {}).values():
        for dimension in (term_data.get("priceDimensions") or {}).values():
            usd = _usd(dimension.get("pricePerUnit") or {})
            if usd is None:
                continue
            items.append(
                PriceListItem(
                    service_code=str(document.get("serviceCode") or service_code),
                    sku=sku,
                    attributes=attributes,
                    unit=str(dimension.get("unit", "")),
                    usd=usd,
                    description=str(dimension.get("description", "")),
                )
            )
    return items


def _usd(price: Mapping[str, Any]) -> float | None:
    try:
        value = float(price["USD"])
    except (KeyError, TypeError, ValueError):
        return None
    return value if value > 0 else None


def fetch_items(
    client: Any,
    service_code: str,
    filters: Iterable[Mapping[str, str]],
    *,
    max_pages: int = MAX_PAGES,
) -> list[PriceListItem]:
    """Every page of GetProducts for `service_code` and `filters`, parsed.

    Raises:
        AccessDeniedError, ConnectionFailedError, ThrottledError...: the call failed.
        ServiceError: more than `max_pages` pages (the API keeps paginating).
    """
    items: list[PriceListItem] = []
    pages = 0
    with aws_call(f"reading the {service_code} price list"):
        paginator = client.get_paginator("get_products")
        for page in paginator.paginate(
            ServiceCode=service_code,
            Filters=list(filters),
            FormatVersion=FORMAT_VERSION,
            PaginationConfig={"PageSize": PAGE_SIZE},
        ):
            pages += 1
            if pages > max_pages:
                raise ServiceError(
                    f"The {service_code} price list was still paginating after {max_pages} pages.",
                    hint="Try again later; the built-in prices are used meanwhile.",
                )
            for raw in page.get("PriceList", []):
                items.extend(parse_item(raw, service_code))
    return items
