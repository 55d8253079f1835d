"""Encoding AWS event-stream frames (`application/vnd.amazon.eventstream`), so that the sandbox
can answer ConverseStream the way Bedrock does and botocore's own decoder reads it.

A frame: total length (4 bytes), headers length (4), CRC32 of those 8 bytes, the headers, the
payload, and a CRC32 of everything before it. Header values here are strings (type 7).
"""

from __future__ import annotations

import json
import struct
import zlib
from typing import Any


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", 7, len(raw_value))
        + raw_value
    )


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message."""
    encoded = b"".join(_header(k, v) for k, v in headers.items())
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack("!II", total, len(encoded))
    prelude += struct.pack("!I", zlib.crc32(prelude) & 0xFFFFFFFF)
    body = prelude + encoded + payload
    return body + struct.pack("!I", zlib.crc32(body) & 0xFFFFFFFF)


def event(event_type: str, data: dict[str, Any]) -> bytes:
    """An event frame of the kind a ConverseStream answer carries."""
    return frame(
        {
            ":event-type": event_type,
            ":content-type": "application/json",
            ":message-type": "event",
        },
        json.dumps(data).encode(),
    )
