"""Reading a `.safetensors` file's header without torch or the safetensors package.

The format (huggingface/safetensors, "Format"): 8 bytes, a little-endian unsigned 64-bit header
length N; then N bytes of JSON mapping each tensor name to `{"dtype", "shape", "data_offsets":
[begin, end]}` (offsets into the data that follows), plus an optional `__metadata__` object of
strings. The file is exactly 8 + N + the largest `end` bytes long, which is how a truncated shard
is recognised.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass

MAX_HEADER = 100 * 1024 * 1024
"""The format caps the header at 100 MB; a larger length means the file is not safetensors."""


class SafetensorsError(ValueError):
    """The bytes are not a safetensors header (the message says why)."""


@dataclass(frozen=True)
class Tensor:
    """One tensor as the header describes it."""

    name: str
    dtype: str
    """`F16`, `BF16`, `F32`, `I8`, `U8`, `F8_E4M3`..."""
    shape: tuple[int, ...]
    end: int
    """Where its data ends, from the start of the data section."""

    @property
    def elements(self) -> int:
        """How many numbers it holds."""
        return math.prod(self.shape)


@dataclass(frozen=True)
class Header:
    """A safetensors file's header."""

    tensors: tuple[Tensor, ...]
    header_bytes: int
    metadata: dict[str, str]

    @property
    def expected_size(self) -> int:
        """How long the file must be."""
        return 8 + self.header_bytes + max((t.end for t in self.tensors), default=0)

    @property
    def dtypes(self) -> set[str]:
        """Every dtype of its tensors."""
        return {t.dtype for t in self.tensors}

    @property
    def names(self) -> set[str]:
        """Every tensor name."""
        return {t.name for t in self.tensors}


def read_header(read_range: Callable[[int, int], bytes]) -> Header:
    """Parse the header of a file read with `read_range(start, length)`.

    Raises:
        SafetensorsError: too short, a header length out of range, or not the JSON the format
            describes.
    """
    head = read_range(0, 8)
    if len(head) < 8:
        raise SafetensorsError("shorter than the 8-byte header length")
    (length,) = struct.unpack("<Q", head)
    if length < 2 or length > MAX_HEADER:
        raise SafetensorsError(f"header length {length:,} is not plausible")
    raw = read_range(8, length)
    if len(raw) < length:
        raise SafetensorsError(f"header cut short ({len(raw):,} of {length:,} bytes)")
    try:
        data = json.loads(raw)
    except ValueError as error:
        raise SafetensorsError(f"header is not JSON ({error})") from None
    if not isinstance(data, dict):
        raise SafetensorsError("header is not a JSON object")
    tensors: list[Tensor] = []
    metadata: dict[str, str] = {}
    for name, entry in data.items():
        if name == "__metadata__":
            if isinstance(entry, dict):
                metadata = {str(k): str(v) for k, v in entry.items()}
            continue
        tensors.append(_tensor(name, entry))
    return Header(tuple(tensors), length, metadata)


def _tensor(name: str, entry: object) -> Tensor:
    if not isinstance(entry, dict):
        raise SafetensorsError(f"tensor {name} is not described by an object")
    dtype, shape, offsets = entry.get("dtype"), entry.get("shape"), entry.get("data_offsets")
    if not isinstance(dtype, str) or not isinstance(shape, list) or not isinstance(offsets, list):
        raise SafetensorsError(f"tensor {name} lacks dtype, shape or data_offsets")
    if len(offsets) != 2 or not all(isinstance(o, int) and o >= 0 for o in offsets):
        raise SafetensorsError(f"tensor {name} has bad data_offsets {offsets}")
    if not all(isinstance(d, int) and d >= 0 for d in shape):
        raise SafetensorsError(f"tensor {name} has a bad shape {shape}")
    begin, end = offsets
    if end < begin:
        raise SafetensorsError(f"tensor {name} ends before it begins")
    return Tensor(name, dtype, tuple(shape), end)


def encode(
    tensors: Mapping[str, tuple[str, tuple[int, ...]]], metadata: Mapping[str, str]
) -> bytes:
    """A complete safetensors file of zero-filled tensors (`name -> (dtype, shape)`): what the
    sandbox and the tests write as a small but valid model."""
    sizes = {"F16": 2, "BF16": 2, "F32": 4, "I8": 1, "U8": 1, "F8_E4M3": 1}
    header: dict[str, object] = {"__metadata__": dict(metadata)}
    offset = 0
    for name, (dtype, shape) in tensors.items():
        length = math.prod(shape) * sizes[dtype]
        offsets = [offset, offset + length]
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": offsets}
        offset += length
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)  # the format pads the header to 8 bytes
    return struct.pack("<Q", len(raw)) + raw + bytes(offset)
