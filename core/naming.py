"""Default names for what a run creates: the customization job, its custom model, and the
deployment or provisioned throughput serving it. The app and the CLI both use these, so a run
gets the same names whichever started it.

Every name fits its API shape (botocore's Bedrock model): at most 63 characters; a job name is
`[a-zA-Z0-9](-*[a-zA-Z0-9+\\-.])*`; custom model, deployment and throughput names are
`([0-9a-zA-Z][_-]?)+` (no dots, no two separators in a row).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

PREFIX = "bt-"
"""Every name bedrock-tune makes up starts so (the user sees at once what made it)."""
MAX_NAME = 63
_STAMP = "%Y%m%d-%H%M%S"
_STAMP_LENGTH = len("-20260101-120000")
_NOT_ALLOWED = re.compile(r"[^0-9A-Za-z_-]+")
_SEPARATORS = re.compile(r"([_-])[_-]+")


def model_stem(model_id: str) -> str:
    """The readable part of a base model id: `amazon.nova-micro-v1:0:128k` -> `nova-micro-v1`."""
    name = model_id.split(":")[0].split(".", 1)[-1]
    # Hyphens only: job names take no `_`, custom model names no `.`.
    return _resource_name(name.replace("_", "-")) or "model"


def _resource_name(text: str) -> str:
    """`text` in the `([0-9a-zA-Z][_-]?)+` shape: other characters become `-`, runs of separators
    shrink to one, and it starts with a letter or digit."""
    cleaned = _SEPARATORS.sub(r"\1", _NOT_ALLOWED.sub("-", text))
    return cleaned.lstrip("_-")


def _fit(name: str) -> str:
    return name[:MAX_NAME]


def default_job_name(model_id: str, now: datetime | None = None) -> str:
    """`bt-<model>-<yyyymmdd-hhmmss>`: valid for the API and unique enough per second."""
    stem = model_stem(model_id)[: MAX_NAME - len(PREFIX) - _STAMP_LENGTH].rstrip("_-")
    return f"{PREFIX}{stem}-{(now or datetime.now(UTC)):{_STAMP}}"


AUTOML_MAX_NAME = 32
"""botocore's `AutoMLJobName`: at most 32 characters."""


def default_automl_job_name(model_name: str, now: datetime | None = None) -> str:
    """`bt-<model>-<yyyymmdd-hhmmss>` in 32 characters (an Autopilot job name), the time whole:
    the model's part is what gets shortened."""
    room = AUTOML_MAX_NAME - len(PREFIX) - _STAMP_LENGTH
    stem = model_stem(model_name).lower()[:room].rstrip("_-") or "model"
    return f"{PREFIX}{stem}-{(now or datetime.now(UTC)):{_STAMP}}"


def default_custom_model_name(job_name: str) -> str:
    """`<job name>-model`, in the custom model name's shape (at most 63 characters)."""
    base = _resource_name(job_name)[: MAX_NAME - len("-model")].rstrip("_-") or "bt"
    return f"{base}-model"


def default_serving_name(custom_model: str) -> str:
    """`bt-<custom model name>` for its deployment or throughput (`custom_model` may be the
    model's ARN: its last part is used); never `bt-bt-...`."""
    name = _resource_name(custom_model.rsplit("/", 1)[-1]) or "model"
    if not name.startswith(PREFIX):
        name = PREFIX + name
    return _fit(name).rstrip("_-")


def default_imported_model_name(source: str) -> str:
    """`bt-<last part of the source>` for an imported model (`hf:org/sql-llama` ->
    `bt-sql-llama`, `/models/out/` -> `bt-out`), in the model name's shape."""
    tail = source.rstrip("/").rsplit("/", 1)[-1].split("@", 1)[0].removeprefix("hf:")
    name = _resource_name(tail.replace(".", "-")) or "model"
    if not name.startswith(PREFIX):
        name = PREFIX + name
    return _fit(name).rstrip("_-")


def default_import_job_name(model_name: str, now: datetime | None = None) -> str:
    """`<model name>-import-<yyyymmdd-hhmmss>` (at most 63 characters), valid for the API."""
    suffix = f"-import-{(now or datetime.now(UTC)):{_STAMP}}"
    stem = _resource_name(model_name.replace("_", "-"))[: MAX_NAME - len(suffix)].rstrip("_-")
    return f"{stem or 'bt'}{suffix}"
