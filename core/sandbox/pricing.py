"""The sandbox's Price List: GetProducts answered from a small price file
(`core/sandbox/price_list.json`) shaped like the real API's answer.

What it emulates: TERM_MATCH filters on `ServiceCode` or any product attribute (regionCode,
usagetype, servicename, instanceType...), pages of MaxResults (at most 100) with an opaque
NextToken, and the real errors for a missing ServiceCode, another filter type or a bad token.
Each PriceList entry is returned as the JSON string the file holds, as the API does. The other
Price List operations (DescribeServices, GetAttributeValues...) are not emulated.
"""

from __future__ import annotations

import base64
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

PRICE_FILE = Path(__file__).with_name("price_list.json")
MAX_RESULTS = 100
GET_PRODUCTS = "AWSPriceListService.GetProducts"

Answer = tuple[int, Any]
"""(HTTP status, body) or, for an error, (status, (error type, message))."""


@lru_cache(maxsize=1)
def _products() -> dict[str, list[tuple[dict[str, str], str]]]:
    """Per service code: (the product's attributes, the entry as the JSON string served)."""
    data = json.loads(PRICE_FILE.read_text(encoding="utf-8"))
    products: dict[str, list[tuple[dict[str, str], str]]] = {}
    for service, entries in data["products"].items():
        products[service] = [(json.loads(raw)["product"]["attributes"], raw) for raw in entries]
    return products


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str) -> int | None:
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError):
        return None
    return offset if isinstance(offset, int) and offset >= 0 else None


def _matches(attributes: dict[str, str], service: str, field: str, value: str) -> bool:
    if field == "ServiceCode":
        return value == service
    return attributes.get(field) == value


def get_products(body: dict[str, Any]) -> Answer:
    """Answer one GetProducts request body."""
    service = body.get("ServiceCode")
    if not isinstance(service, str) or not service:
        return 400, ("InvalidParameterException", "ServiceCode is required.")
    filters = body.get("Filters") or []
    for entry in filters:
        if not isinstance(entry, dict) or entry.get("Type") != "TERM_MATCH":
            return 400, (
                "InvalidParameterException",
                "The sandbox's Price List only answers TERM_MATCH filters.",
            )
    size = body.get("MaxResults") or MAX_RESULTS
    if not isinstance(size, int) or not 1 <= size <= MAX_RESULTS:
        return 400, ("InvalidParameterException", f"MaxResults must be 1 to {MAX_RESULTS}.")
    start = 0
    if body.get("NextToken"):
        offset = _offset(str(body["NextToken"]))
        if offset is None:
            return 400, ("InvalidNextTokenException", "The pagination token is invalid.")
        start = offset
    matching = [
        raw
        for attributes, raw in _products().get(service, [])
        if all(
            _matches(attributes, service, str(f.get("Field")), str(f.get("Value"))) for f in filters
        )
    ]
    page: dict[str, Any] = {"FormatVersion": "aws_v1", "PriceList": matching[start : start + size]}
    if start + size < len(matching):
        page["NextToken"] = _token(start + size)
    return 200, page


def answer(target: str, body: bytes) -> Answer:
    """Answer a Price List request (its X-Amz-Target and JSON body)."""
    if target != GET_PRODUCTS:
        operation = target.rsplit(".", 1)[-1] or "this operation"
        return 400, (
            "InvalidParameterException",
            f"The sandbox's Price List answers GetProducts only, not {operation}.",
        )
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return 400, ("InvalidParameterException", "The request body is not a JSON object.")
    return get_products(request)
