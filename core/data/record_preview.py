"""One dataset record through a template: the problems, or the exact JSON line Bedrock gets
with its size against the model's per-record limit (the template step's preview, as data)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from core.catalog.types import Customization
from core.data.templates import Problem, Template, diagnose, render, to_bedrock
from core.data.tokens import estimate_tokens


@dataclass(frozen=True)
class RecordPreview:
    """A record rendered for one model's customization."""

    problems: tuple[Problem, ...]
    """Why the template does not fit this record (then nothing else is filled in)."""
    line: str = ""
    """The exact compact JSON line Bedrock gets."""
    chars: int = 0
    """Characters of system + every message."""
    tokens: int = 0
    """Estimated tokens of those characters."""
    limit: int | None = None
    """The model's tokens per record (None: no known limit)."""

    @property
    def over_limit(self) -> bool:
        """Whether the estimate is above the model's per-record limit."""
        return self.limit is not None and self.tokens > self.limit


def preview_record(
    template: Template,
    columns: Iterable[str],
    record: Mapping[str, Any],
    customization: Customization,
) -> RecordPreview:
    """`record` through `template` in `customization`'s data format: its problems, or its
    JSON line, characters and estimated tokens against the limit."""
    problems = diagnose(template, columns, record, customization.data_format)
    limits = customization.limits
    if problems:
        return RecordPreview(tuple(problems), limit=limits.max_tokens_per_record)
    rendered = render(template, record)
    line = orjson.dumps(to_bedrock(rendered, customization.data_format)).decode()
    text_only = rendered.system + "".join(text for _, text in rendered.messages)
    return RecordPreview(
        (),
        line,
        rendered.chars,
        estimate_tokens(text_only, limits.chars_per_token),
        limits.max_tokens_per_record,
    )


def template_problems(
    template: Template, columns: Iterable[str], customization: Customization
) -> list[Problem]:
    """Why the template does not fit the dataset's columns at all (empty: it can be used)."""
    return diagnose(template, columns, fmt=customization.data_format)
