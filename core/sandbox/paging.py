"""Paging the sandbox's lists as AWS pages them: `maxResults` (1-1000, else the sandbox's page
size) items from where an opaque `nextToken` points, and the token of the next page while more
remain. One implementation for every emulated List operation."""

from __future__ import annotations

import base64
from typing import Any

Answer = tuple[int, Any]
"""(HTTP status, body) or, for an error, (status, (error code, message))."""


def offset_token(offset: int) -> str:
    """An opaque page token (AWS's are opaque too: clients only send them back)."""
    return base64.urlsafe_b64encode(f"sandbox-page:{offset}".encode()).decode()


def token_offset(token: str) -> int | None:
    """The offset a token of `offset_token` points at (None for a token it did not make)."""
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
    except ValueError:
        return None
    prefix, _, number = text.partition(":")
    return int(number) if prefix == "sandbox-page" and number.isdigit() else None


def page(
    items: list[Any],
    key: str,
    *,
    page_size: int,
    max_results: str | None,
    next_token: str | None,
) -> Answer:
    """One page of `items` under `key`, or the ValidationException AWS gives for a bad
    `maxResults` or `nextToken`."""
    size = page_size
    if max_results is not None:
        if not max_results.isdigit() or not 1 <= int(max_results) <= 1000:
            return 400, ("ValidationException", "maxResults must be between 1 and 1000.")
        size = int(max_results)
    start = 0
    if next_token is not None:
        offset = token_offset(next_token)
        if offset is None or offset > len(items):
            return 400, ("ValidationException", f"The nextToken {next_token} is not valid.")
        start = offset
    end = start + size
    body: dict[str, Any] = {key: items[start:end]}
    if end < len(items):
        body["nextToken"] = offset_token(end)
    return 200, body
