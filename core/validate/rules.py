"""What each model accepts, as the validator needs it: the rule ids (`RULES`), the rule set of
a model and customization type (`rules_for`), and the small helpers the checkers share (token
estimate, format detection, file-name and S3-URI checks).

The validator itself is `core/validate.py`; the fast checkers and reserved-string scanners are
in `core/validate_fast.py`, the full record check in `core/validate_records.py`. Sources of the
rules: reference/bedrock.md sections 2, 3.1 and Appendix A.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from core.aws import S3_URI, S3_URI_MAX
from core.catalog.types import BaseModel, CustomizationType, DataFormat, Limits
from core.data.tokens import count_wide
from core.errors import ValidationError

Severity = Literal["error", "warning"]
Emit = Callable[[str, str, str, str, Severity], None]
"""emit(path, rule, message, hint, severity): report one problem of the record being checked."""

RULES: dict[str, str] = {
    "file-name": "a file name or S3 URI the API would refuse",
    "file-extension": "the file does not end in .jsonl",
    "file-size": "the file is larger than the model allows",
    "file-empty": "the file holds no record",
    "record-count": "too few or too many records (training, validation, or both together)",
    "validation-not-supported": "the model takes no validation file",
    "bom": "a UTF-8 byte-order mark at the start of the file",
    "encoding": "bytes that are not UTF-8",
    "blank-line": "an empty or whitespace-only line",
    "json": "a line that is not one complete JSON value",
    "not-object": "a line that is JSON but not an object",
    "record-too-large": "a line too large to be a record at all",
    "wrong-format": "a record in another model family's format",
    "missing-key": "a required key is missing",
    "type": "a value of the wrong type",
    "unknown-key": "a key the format does not have",
    "schema-version": "a missing or wrong schemaVersion",
    "system": "a system prompt of the wrong shape",
    "role": "a role other than user or assistant",
    "first-role": "the first message is not from the user",
    "last-role": "the last message is not from the assistant",
    "alternation": "two messages in a row from the same role",
    "exchange": "no user message followed by an assistant answer",
    "message-count": "more or fewer messages than the customization allows",
    "empty-text": "an empty text",
    "reserved": "a string the model reserves for itself",
    "content-block": "a content block of an unsupported kind or shape",
    "media-not-supported": "an image or video where the model takes none",
    "media-count": "too many images or videos in one record, or both kinds together",
    "media-format": "an image or video format the model does not take",
    "media-uri": "a media location that is not an allowed s3:// URI",
    "media-in-assistant": "an image or video in an assistant turn",
    "media-mixed": "records with different kinds of media in one dataset",
    "tokens": "a record over the model's token limit (estimated)",
    "tokens-near-limit": "a record within 10% of the model's token limit (estimated)",
    "tokens-unchecked": "the model's token limit is unknown, so lengths are not checked",
    "duplicate": "a record that repeats an earlier one",
}
"""Every rule id the validator reports, with what it means."""

CLAUDE_RESERVED = ("\nHuman:", "\nAssistant:")
"""Claude's turn markers (AWS Claude sample validator, reference/bedrock.md section 2.3)."""
NOVA_RESERVED = (
    "System:",
    "SYSTEM:",
    "User:",
    "USER:",
    "Bot:",
    "BOT:",
    "Assistant:",
    "ASSISTANT:",
    "Thought:",
    "[EOS]",
    "<image>",
    "<video>",
)
"""Tokens Nova reserves (AWS Nova sample validator list, reference/bedrock.md section 2.4). The
docs say a prompt that starts with or contains them fails the job; the list is the validator's,
and it covers system and user text only."""
NOVA2_RESERVED_NOTE = (
    "The list is the Nova (Micro/Lite/Pro) validator's; the sources do not say whether Nova 2 "
    "reserves the same tokens, so this is a warning, not an error."
)

_KEY_CHARS = re.compile(r"[-!_*'().a-zA-Z0-9]")
_NOVA_MEDIA_URI = re.compile(r"s3://[\w\-/.]+", re.ASCII)
_NOVA_NAME_CHARS = re.compile(r"[A-Za-z0-9_\-./]")
NOVA_FAMILIES = frozenset({"nova", "nova-2"})

NEAR_LIMIT = 0.9
"""A record above this share of the limit gets a warning: the count is an estimate."""


@dataclass(frozen=True)
class RuleSet:
    """What one model and customization type accept, as the validator needs it."""

    model: BaseModel
    kind: CustomizationType
    data_format: DataFormat
    limits: Limits
    reserved: tuple[str, ...] = ()
    reserved_user_only: bool = False
    """Nova: reserved tokens matter in system and user text only."""
    reserved_severity: Severity = "error"
    image_formats: frozenset[str] = frozenset()
    video_formats: frozenset[str] = frozenset()
    image_tokens: int = 0
    """Tokens each image adds to the estimate (Llama vision: at least 1,601)."""
    nova_media: bool = False
    """Media URIs follow Nova's stricter rule (`s3://` and only `[\\w\\-/.]`)."""
    max_system_blocks: int | None = None
    exact_system_blocks: bool = False
    distillation: bool = False
    allow_reasoning: bool = False
    tool_blocks_warn: bool = False
    homogeneous_media: bool = False
    """Nova 2: the whole dataset is text, text + image, or text + video."""
    no_mixed_media: bool = False
    """Nova: never images and video in the same dataset."""
    strict_file_names: bool = False
    min_counts_sum: bool = False
    """The minimum record count applies to training + validation (Llama)."""
    dataset_bucket: str | None = None
    """The bucket the dataset will sit in (Nova media must be in it), when known."""
    notes: tuple[str, ...] = field(default=())

    @property
    def chars_per_token(self) -> float:
        """The model's planning ratio of characters per token."""
        return self.limits.chars_per_token

    @property
    def label(self) -> str:
        """`Claude 3 Haiku (fine-tuning)`."""
        return f"{self.model.name} ({self.kind.label.lower()})"


def rules_for(
    model: BaseModel,
    kind: CustomizationType = CustomizationType.FINE_TUNING,
    *,
    dataset_bucket: str | None = None,
) -> RuleSet:
    """The rules for `model` customized with `kind`.

    Raises:
        ValidationError: the model does not support `kind`.
    """
    custom = model.customization(kind)
    if custom is None:
        supported = ", ".join(t.cli_name for t in model.customization_types) or "nothing"
        raise ValidationError(
            f"{model.name} does not support {kind.label.lower()}.",
            hint=f"It supports: {supported}. Run `bedrock-tune models` to compare models.",
        )
    limits = custom.limits
    options: dict[str, Any] = {
        "strict_file_names": model.family in NOVA_FAMILIES,
        "min_counts_sum": model.family.startswith("llama"),
        "dataset_bucket": dataset_bucket,
    }
    fmt = custom.data_format
    if fmt is DataFormat.CLAUDE_MESSAGES:
        options["reserved"] = CLAUDE_RESERVED
    elif fmt is DataFormat.DISTILLATION_PROMPTS:
        options.update(distillation=True, exact_system_blocks=True, max_system_blocks=1)
    elif fmt is DataFormat.CONVERSATION and model.family == "nova":
        options.update(
            reserved=NOVA_RESERVED,
            reserved_user_only=True,
            nova_media=True,
            no_mixed_media=True,
            image_formats=frozenset({"jpeg", "png", "gif", "webp"})
            if limits.max_images_per_record
            else frozenset(),
            video_formats=frozenset({"mov", "mkv", "mp4", "webm"})
            if limits.max_videos_per_record
            else frozenset(),
        )
    elif fmt is DataFormat.CONVERSATION and model.family == "nova-2":
        options.update(
            reserved=NOVA_RESERVED,
            reserved_user_only=True,
            reserved_severity="warning",
            nova_media=True,
            homogeneous_media=True,
            allow_reasoning=True,
            tool_blocks_warn=True,
            image_formats=frozenset({"png", "jpeg", "gif"}),
            video_formats=frozenset({"mov", "mkv", "mp4"}),
            notes=(NOVA2_RESERVED_NOTE,),
        )
    elif fmt is DataFormat.CONVERSATION and model.family.startswith("llama"):
        options.update(max_system_blocks=1)
        if limits.max_images_per_record:
            # Each image costs 1,601-6,404 tokens by its size, which a local check cannot see
            # without downloading it: the minimum is counted (reference/bedrock.md section 2.5).
            options.update(
                image_formats=frozenset({"gif", "jpeg", "png", "webp"}), image_tokens=1601
            )
    return RuleSet(model=model, kind=kind, data_format=fmt, limits=limits, **options)


# --------------------------------------------------------------------------- helpers


def tokens_of(chars: int, wide: int, chars_per_token: float) -> int:
    """The estimate of `core.data.tokens.estimate_tokens` from a text's length and wide
    characters."""
    if chars <= 0:
        return 0
    return max(1, int(wide + (chars - wide) / chars_per_token + 0.999999))


def json_kind(value: object) -> str:
    """A value's JSON type, for messages (`a string`, `an object`...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def detect_format(record: object) -> DataFormat | None:
    """Which format a record's shape belongs to (None when it fits none)."""
    if not isinstance(record, dict):
        return None
    messages = record.get("messages")
    if isinstance(messages, list):
        contents = [m.get("content") for m in messages if isinstance(m, dict)]
        if (
            "schemaVersion" in record
            or isinstance(record.get("system"), list)
            or any(isinstance(c, list) for c in contents)
        ):
            return DataFormat.CONVERSATION
        if isinstance(record.get("system"), str) or any(isinstance(c, str) for c in contents):
            return DataFormat.CLAUDE_MESSAGES
        return None
    if "prompt" in record or "completion" in record:
        return DataFormat.PROMPT_COMPLETION
    if "input" in record:
        return DataFormat.CONTINUED_PRETRAINING
    return None


_NON_TEXT_KEYS = frozenset({"schemaVersion", "role", "format", "uri", "bucketOwner"})


def _texts(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() if k not in _NON_TEXT_KEYS for t in _texts(v)]
    if isinstance(value, list):
        return [t for item in value for t in _texts(item)]
    return []


def record_tokens(record: object, chars_per_token: float) -> int:
    """Estimated tokens of every text in a record of any format (system, contents, prompt,
    completion, input), as the validator counts them."""
    texts = _texts(record)
    chars = sum(len(t) for t in texts)
    wide = sum(count_wide(t) for t in texts)
    return tokens_of(chars, wide, chars_per_token)


# --------------------------------------------------------------------------- names and URIs


def media_uri_problem(uri: str, rules: RuleSet) -> tuple[str, str] | None:
    """(message, hint) when a media URI breaks the model's rules, else None."""
    if rules.nova_media:
        if not _NOVA_MEDIA_URI.fullmatch(uri):
            return (
                f"{uri!r} must start with s3:// and hold only letters, digits, _, -, / and .",
                "Rename the object (no spaces, +, = or other symbols) and update the record.",
            )
    elif not S3_URI.fullmatch(uri) or len(uri) > S3_URI_MAX:
        return (
            f"{uri!r} is not an S3 URI the API accepts",
            "Use s3://bucket/key with a lower-case bucket and a key of letters, digits and "
            "-!_*'().",
        )
    if rules.dataset_bucket and uri[5:].split("/", 1)[0] != rules.dataset_bucket:
        return (
            f"{uri!r} is not in the dataset's bucket ({rules.dataset_bucket})",
            "Media must sit in the same bucket as the training data (and the service role "
            "must be able to read it).",
        )
    return None


def file_name_problem(name: str, rules: RuleSet) -> tuple[str, str] | None:
    """(message, hint) when a local file name would become an S3 key the API refuses."""
    bad = sorted({c for c in name if not _KEY_CHARS.fullmatch(c)})
    if bad:
        shown = ", ".join("space" if c == " " else repr(c) for c in bad)
        return (
            f"the file name {name!r} has characters the API's S3 URI pattern refuses ({shown})",
            "Rename the file (letters, digits and -!_*'(). only) before uploading it.",
        )
    if rules.strict_file_names:
        bad = sorted({c for c in name if not _NOVA_NAME_CHARS.fullmatch(c)})
        if bad:
            shown = ", ".join(repr(c) for c in bad)
            return (
                f"the file name {name!r} has characters Nova does not allow in dataset names "
                f"({shown})",
                "Rename it with letters, digits, _, -, and . only.",
            )
    return None


def s3_uri_problem(uri: str) -> str | None:
    """Why the API would refuse `uri` as a training / validation / output S3 URI (or None)."""
    if len(uri) > S3_URI_MAX:
        return f"{uri!r} is longer than {S3_URI_MAX} characters"
    if not S3_URI.fullmatch(uri):
        return (
            f"{uri!r} does not match the API's S3 URI pattern (s3://bucket/key; the key may "
            "hold only letters, digits and -!_*'(). between slashes)"
        )
    return None
