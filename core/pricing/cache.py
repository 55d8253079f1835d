"""A cache of the Price List's answers in the state dir, so the API is asked about once a day.

One file per kind and region, e.g. `<state dir>/prices/bedrock-us-east-1.json`:
`{"version", "region", "read_at" (ISO time), "entries": {...}}`. Only what the API answered is
cached, never a fallback. An unreadable or stale file is ignored (and replaced on the next
successful read); files are written atomically.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.atomic import atomic_write_text
from core.state_dir import state_dir

VERSION = 2
"""2 adds the custom model unit rates of imported models to the Bedrock answer (an older
file is ignored and read again)."""
DEFAULT_MAX_AGE = timedelta(days=1)


def utc_now() -> datetime:
    """The current time (the default clock)."""
    return datetime.now(UTC)


def default_directory() -> Path:
    """`<state dir>/prices`."""
    return state_dir() / "prices"


@dataclass(frozen=True)
class CachedAnswer:
    """What the Price List answered for one region, and when."""

    region: str
    read_at: datetime
    entries: Mapping[str, Any]

    @property
    def as_of(self) -> str:
        """The day it was read (UTC), the date every figure from it carries."""
        return self.read_at.astimezone(UTC).date().isoformat()


class PriceCache:
    """Read and write cached answers (`kind` is e.g. `bedrock` or `sagemaker`)."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        max_age: timedelta = DEFAULT_MAX_AGE,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.directory = directory or default_directory()
        self.max_age = max_age
        # Looked up on each call (not bound here), so a test can fix `utc_now` for every cache.
        self.clock = clock or (lambda: utc_now())

    def path(self, kind: str, region: str) -> Path:
        """Where the answer for `kind` in `region` is kept."""
        return self.directory / f"{kind}-{region}.json"

    def load(self, kind: str, region: str) -> CachedAnswer | None:
        """The cached answer when there is a fresh one, else None."""
        try:
            data = json.loads(self.path(kind, region).read_text(encoding="utf-8"))
            read_at = datetime.fromisoformat(str(data["read_at"]))
            entries = data["entries"]
            if data.get("version") != VERSION or data.get("region") != region:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if read_at.tzinfo is None or not isinstance(entries, dict):
            return None
        age = self.clock() - read_at
        if age < timedelta(0) or age > self.max_age:
            return None
        return CachedAnswer(region, read_at, entries)

    def store(self, kind: str, region: str, entries: Mapping[str, Any]) -> CachedAnswer:
        """Keep a fresh answer (read now); returns it. A cache that cannot be written is not
        an error: the answer is still returned and used."""
        answer = CachedAnswer(region, self.clock(), dict(entries))
        document = {
            "version": VERSION,
            "region": region,
            "read_at": answer.read_at.isoformat(timespec="seconds"),
            "entries": answer.entries,
        }
        try:
            atomic_write_text(self.path(kind, region), json.dumps(document, indent=1))
        except OSError:
            pass  # read-only state dir: the API is asked again next time
        return answer
