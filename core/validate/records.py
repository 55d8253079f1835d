"""The full check of one training record: every problem with its JSON path, rule id, message
and hint (`check_record`). `core/validate.py` calls it only for lines the fast checker did not
accept, so it favours clear messages over speed.

Sources of the rules: reference/bedrock.md sections 2 and 3.1, and Appendix A.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from core import format as fmt
from core.catalog.types import DataFormat
from core.data.tokens import ESTIMATE_METHOD, count_wide
from core.validate.rules import (
    CLAUDE_RESERVED,
    NEAR_LIMIT,
    NOVA2_RESERVED_NOTE,
    Emit,
    RuleSet,
    Severity,
    detect_format,
    json_kind,
    media_uri_problem,
    record_tokens,
    tokens_of,
)

_TURN_ROLES = frozenset({"user", "assistant"})
_FILL = "Every text needs content: fill it in or drop the record."
_MESSAGE = 'Each message is {"role": "user" or "assistant", "content": ...}.'
_BLOCK = 'Write {"text": "..."}.'
_SYSTEM_BLOCKS = 'Write "system": [{"text": "You are ..."}].'


@dataclass
class RecordCheck:
    """What the full check learned about one record besides its problems."""

    tokens: int | None = None
    """Estimated tokens (None when the record is too broken to count)."""
    media: str = "text"
    """`text`, `image`, `video` or `image+video`: the record's kind for dataset-wide rules."""


def check_record(record: Any, rules: RuleSet, emit: Emit) -> RecordCheck:
    """Check one parsed record against every record rule, reporting each problem through
    `emit(path, rule, message, hint, severity)`. Never raises for any JSON value."""
    return _Checker(rules, emit).check(record)


class _Checker:
    """The full check of one record (one instance per record keeps the state simple)."""

    def __init__(self, rules: RuleSet, emit: Emit) -> None:
        self.rules = rules
        self.emit = emit
        self.chars = 0
        self.wide = 0
        self.images = 0
        self.videos = 0
        self.example = f"Write records like: {rules.data_format.example}"

    def error(self, path: str, rule: str, message: str, hint: str) -> None:
        self.emit(path, rule, message, hint, "error")

    # -------------------------------------------------------------- shared pieces

    def text(self, value: str, path: str, *, reserved: bool = True) -> None:
        """Count a text for the token estimate and look for reserved strings in it."""
        self.chars += len(value)
        if not value.isascii():
            self.wide += count_wide(value)
        if reserved and self.rules.reserved:
            self.reserved(value, path)

    def reserved(self, value: str, path: str) -> None:
        found = [s for s in self.rules.reserved if s in value]
        if not found:
            return
        rules = self.rules
        if rules.reserved == CLAUDE_RESERVED:
            hint = (
                "Claude uses these as its own turn markers and its fine-tuning rejects them. "
                "Reword them (e.g. 'Human -'), or drop the record."
            )
        else:
            hint = (
                f"{rules.model.name} fails the job when system or user text contains its "
                "reserved tokens. Reword them (e.g. 'User -'), or drop the record."
            )
            if rules.reserved_severity == "warning":
                hint += " " + NOVA2_RESERVED_NOTE
        names = ", ".join(repr(s) for s in found)
        message = f"contains the reserved {fmt.plural_noun(len(found), 'string')} {names}"
        self.emit(path, "reserved", message, hint, rules.reserved_severity)

    def required_text(self, record: dict[str, Any], key: str) -> str | None:
        if key not in record:
            self.error(key, "missing-key", f"'{key}' is missing", self.example)
            return None
        value = record[key]
        if not isinstance(value, str):
            message = f"'{key}' must be a string, not {json_kind(value)}"
            self.error(key, "type", message, self.example)
            return None
        if not value.strip():
            self.error(key, "empty-text", f"'{key}' is empty", _FILL)
        return value

    def unknown_keys(self, record: dict[str, Any], known: frozenset[str], path: str) -> None:
        what = "a message" if path else "the record"
        for key in record:
            if key in known:
                continue
            severity: Severity = "error" if self.rules.distillation else "warning"
            allowed = ", ".join(f"'{k}'" for k in sorted(known))
            why = (
                "distillation input allows no extra properties"
                if severity == "error"
                else "Bedrock may reject it"
            )
            self.emit(
                f"{path}.{key}" if path else str(key),
                "unknown-key",
                f"unexpected key '{key}' in {what}",
                f"{what.capitalize()} has only {allowed}; remove the key ({why}).",
                severity,
            )

    def tokens(self, prompt: tuple[int, int] | None = None) -> int:
        """Check the estimate against the limits and return it. `prompt` is the (chars, wide)
        of the input side when input and output have limits of their own."""
        limits = self.rules.limits
        cpt = self.rules.chars_per_token
        total = tokens_of(self.chars, self.wide, cpt) + self.images * self.rules.image_tokens
        self.limit("", total, limits.max_tokens_per_record, "per record (input + output)")
        if prompt is not None:
            chars_in, wide_in = prompt
            tokens_in = tokens_of(chars_in, wide_in, cpt)
            self.limit("prompt", tokens_in, limits.max_input_tokens, "of input")
            tokens_out = tokens_of(self.chars - chars_in, self.wide - wide_in, cpt)
            self.limit("completion", tokens_out, limits.max_output_tokens, "of output")
        return total

    def limit(self, path: str, tokens: int, limit: int | None, what: str) -> None:
        if limit is None:
            return
        name = self.rules.model.name
        if tokens > limit:
            self.error(
                path,
                "tokens",
                f"about {tokens:,} tokens; {name} takes at most {limit:,} tokens {what}",
                "Shorten or split the record, or use the 'truncate' or 'drop over-length' "
                f"fix-up. The estimate: {ESTIMATE_METHOD}.",
            )
        elif tokens > limit * NEAR_LIMIT:
            self.emit(
                path,
                "tokens-near-limit",
                f"about {tokens:,} tokens, within 10% of {name}'s limit of {limit:,} {what}",
                "The count is an estimate, so the job may still reject it: shorten it to be "
                f"safe. The estimate: {ESTIMATE_METHOD}.",
                "warning",
            )

    def media_kind(self) -> str:
        if self.images and self.videos:
            return "image+video"
        if self.images:
            return "image"
        return "video" if self.videos else "text"

    # -------------------------------------------------------------- the formats

    def check(self, record: Any) -> RecordCheck:
        if not isinstance(record, dict):
            return RecordCheck()
        rules = self.rules
        fmt = rules.data_format
        found = detect_format(record)
        if found is not None and found is not fmt.record_shape:
            message = f"this record looks like {found.label}, but {rules.label} takes {fmt.label}"
            self.error("", "wrong-format", message, self.example)
            return RecordCheck(tokens=record_tokens(record, rules.chars_per_token))
        if fmt is DataFormat.PROMPT_COMPLETION:
            self.unknown_keys(record, frozenset({"prompt", "completion"}), "")
            prompt = self.required_text(record, "prompt")
            if prompt is not None:
                self.text(prompt, "prompt")
            before = (self.chars, self.wide)
            completion = self.required_text(record, "completion")
            if completion is not None:
                self.text(completion, "completion")
            return RecordCheck(tokens=self.tokens(prompt=before))
        if fmt is DataFormat.CLAUDE_MESSAGES:
            self.claude(record)
        elif fmt.record_shape is DataFormat.CONVERSATION:
            self.conversation(record)
        else:
            self.unknown_keys(record, frozenset({"input"}), "")
            text = self.required_text(record, "input")
            if text is not None:
                self.text(text, "input")
        return RecordCheck(tokens=self.tokens(), media=self.media_kind())

    def claude(self, record: dict[str, Any]) -> None:
        self.unknown_keys(record, frozenset({"system", "messages"}), "")
        if "system" in record:
            system = record["system"]
            if not isinstance(system, str):
                message = f"'system' must be a string for Claude, not {json_kind(system)}"
                self.error("system", "type", message, 'Write "system": "You are ..." (or omit it).')
            else:
                if not system.strip():
                    hint = "Write a system prompt or remove the key."
                    self.emit("system", "empty-text", "'system' is empty", hint, "warning")
                self.text(system, "system")
        self.messages(record, self.claude_content)

    def claude_content(self, message: dict[str, Any], path: str, role: str | None) -> None:
        where = f"{path}.content"
        if "content" not in message:
            self.error(where, "missing-key", "'content' is missing", _MESSAGE)
            return
        content = message["content"]
        if not isinstance(content, str):
            self.error(
                where,
                "type",
                f"content must be a string for Claude, not {json_kind(content)}",
                'Claude takes "content": "text" (content blocks are the '
                "bedrock-conversation-2024 format of Nova and Llama 3.2/3.3).",
            )
            return
        if not content.strip():
            self.error(where, "empty-text", "the message text is empty", _FILL)
        self.text(content, where)

    def messages(
        self, record: dict[str, Any], content: Callable[[dict[str, Any], str, str | None], None]
    ) -> None:
        if "messages" not in record:
            self.error("messages", "missing-key", "'messages' is missing", self.example)
            return
        messages = record["messages"]
        if not isinstance(messages, list):
            message = f"'messages' must be a list, not {json_kind(messages)}"
            self.error("messages", "type", message, self.example)
            return
        roles: list[str | None] = []
        for index, item in enumerate(messages):
            path = f"messages[{index}]"
            if not isinstance(item, dict):
                message = f"a message must be an object, not {json_kind(item)}"
                self.error(path, "type", message, _MESSAGE)
                roles.append(None)
                continue
            self.unknown_keys(item, frozenset({"role", "content"}), path)
            role = item.get("role")
            turn = role if isinstance(role, str) and role in _TURN_ROLES else None
            if "role" not in item:
                hint = "Each message has a role: 'user' or 'assistant'."
                self.error(f"{path}.role", "missing-key", "'role' is missing", hint)
            elif turn is None:
                self.error(
                    f"{path}.role",
                    "role",
                    f"role {role!r} is not allowed; only 'user' and 'assistant' are",
                    "Put a system prompt in the top-level 'system' key, and map other roles "
                    "(human, gpt, bot...) to user / assistant.",
                )
            roles.append(turn)
            content(item, path, turn)
        self.order(roles)

    def order(self, roles: list[str | None]) -> None:
        count = len(roles)
        if self.rules.distillation:
            if not 1 <= count <= 2:
                self.error(
                    "messages",
                    "message-count",
                    f"{count} messages; distillation takes 1 or 2 (a user prompt, then an "
                    "optional assistant answer)",
                    "Keep one user prompt per record (and at most its answer).",
                )
        elif count < 2:
            self.error(
                "messages",
                "exchange",
                f"{fmt.plural(count, 'message')}; a record needs at least one user "
                "message followed by an assistant answer",
                "Add the assistant's answer (or the user's question), or drop the record.",
            )
        if not count:
            return
        if roles[0] == "assistant":
            self.error(
                "messages[0].role",
                "first-role",
                "the first message is from the assistant; it must be from the user",
                "Start with the user's message (remove or move the leading assistant turn).",
            )
        if count >= 2 and roles[-1] == "user" and not self.rules.distillation:
            self.error(
                f"messages[{count - 1}].role",
                "last-role",
                "the last message is from the user; it must be the assistant's answer",
                "End each record with the assistant's answer the model should learn.",
            )
        for index in range(1, count):
            role = roles[index]
            if role is not None and role == roles[index - 1]:
                self.error(
                    f"messages[{index}].role",
                    "alternation",
                    f"two '{role}' messages in a row (messages[{index - 1}] and "
                    f"messages[{index}]); roles must alternate",
                    "Merge the two messages, or put the missing turn between them.",
                )

    def conversation(self, record: dict[str, Any]) -> None:
        rules = self.rules
        self.unknown_keys(record, frozenset({"schemaVersion", "system", "messages"}), "")
        version = record.get("schemaVersion")
        hint = 'Write "schemaVersion": "bedrock-conversation-2024" in every record.'
        if rules.distillation and version != "bedrock-conversation-2024":
            what = "missing" if "schemaVersion" not in record else repr(version)
            message = f"schemaVersion is {what}; distillation needs 'bedrock-conversation-2024'"
            self.error("schemaVersion", "schema-version", message, hint)
        elif "schemaVersion" in record and not isinstance(version, str):
            message = f"schemaVersion must be a string, not {json_kind(version)}"
            self.error("schemaVersion", "schema-version", message, hint)
        self.system_blocks(record)
        self.messages(record, self.blocks)
        limits = rules.limits
        name = rules.model.name
        if rules.image_formats and self.images > limits.max_images_per_record:
            message = f"{self.images} images; {name} takes at most {limits.max_images_per_record}"
            self.error("messages", "media-count", message, "Split the record, or keep fewer.")
        if rules.video_formats and self.videos > limits.max_videos_per_record:
            message = f"{self.videos} videos; {name} takes at most {limits.max_videos_per_record}"
            self.error("messages", "media-count", message, "Split the record, or keep one.")
        if self.images and self.videos and rules.nova_media:
            message = "images and a video in one record; Nova takes one kind per record"
            self.error("messages", "media-count", message, "Split it into two records.")

    def system_blocks(self, record: dict[str, Any]) -> None:
        rules = self.rules
        if "system" not in record:
            if rules.exact_system_blocks:
                self.error(
                    "system",
                    "system",
                    "'system' is missing; distillation input has exactly one system item",
                    f"{_SYSTEM_BLOCKS} (the AWS sample validator requires it)",
                )
            return
        system = record["system"]
        if not isinstance(system, list):
            message = f"'system' must be a list of text blocks, not {json_kind(system)}"
            self.error("system", "system", message, _SYSTEM_BLOCKS)
            return
        limit = rules.max_system_blocks
        if limit is not None and (
            len(system) > limit or (rules.exact_system_blocks and len(system) != limit)
        ):
            exactly = "exactly" if rules.exact_system_blocks else "at most"
            message = f"{len(system)} system items; {rules.label} takes {exactly} {limit}"
            self.error("system", "system", message, "Join the system texts into one block.")
        for index, block in enumerate(system):
            path = f"system[{index}]"
            text = block.get("text") if isinstance(block, dict) else None
            if not isinstance(block, dict) or len(block) != 1 or not isinstance(text, str):
                self.error(path, "system", 'a system item must be {"text": "..."}', _SYSTEM_BLOCKS)
                continue
            if not text.strip():
                hint = "Write a system prompt or remove the item."
                self.emit(f"{path}.text", "empty-text", "the system text is empty", hint, "warning")
            self.text(text, f"{path}.text")

    def blocks(self, message: dict[str, Any], path: str, role: str | None) -> None:
        rules = self.rules
        where = f"{path}.content"
        if "content" not in message:
            self.error(where, "missing-key", "'content' is missing", _MESSAGE)
            return
        content = message["content"]
        if not isinstance(content, list):
            self.error(
                where,
                "type",
                f"content must be a list of content blocks, not {json_kind(content)}",
                'Write "content": [{"text": "..."}] (a plain string is the Claude format).',
            )
            return
        if not content:
            self.error(where, "empty-text", "the content list is empty", _BLOCK)
            return
        if rules.distillation and len(content) != 1:
            message_text = (
                f"{len(content)} content items; distillation takes exactly one text item per "
                "message"
            )
            self.error(where, "content-block", message_text, 'Write "content": [{"text": ...}].')
        has_text = has_media = broken = False
        for index, block in enumerate(content):
            block_path = f"{where}[{index}]"
            if not isinstance(block, dict):
                message_text = f"a content block must be an object, not {json_kind(block)}"
                self.error(block_path, "type", message_text, _BLOCK)
                broken = True
                continue
            if len(block) != 1:
                keys = ", ".join(repr(k) for k in block) or "no key"
                self.error(
                    block_path,
                    "content-block",
                    f"a content block has exactly one key (text, image, video...); this one "
                    f"has {keys}",
                    'Split it: [{"text": "..."}, {"image": {...}}].',
                )
                broken = True
                continue
            kind, value = next(iter(block.items()))
            if kind == "text":
                if not isinstance(value, str):
                    message_text = f"text must be a string, not {json_kind(value)}"
                    self.error(f"{block_path}.text", "type", message_text, _BLOCK)
                    broken = True
                    continue
                has_text = has_text or bool(value.strip())
                check_reserved = not rules.reserved_user_only or role != "assistant"
                self.text(value, f"{block_path}.text", reserved=check_reserved)
            elif kind in ("image", "video"):
                has_media = True
                self.media(kind, value, block_path, role)
            elif kind == "reasoningContent" and rules.allow_reasoning and role == "assistant":
                self.reasoning(value, block_path)
            elif kind in ("toolUse", "toolResult") and rules.tool_blocks_warn:
                self.emit(
                    block_path,
                    "content-block",
                    f"a {kind} block; tool sections may make a {rules.model.name} job fail",
                    "Remove tool sections from training data unless you know the job takes them.",
                    "warning",
                )
            else:
                media = rules.image_formats or rules.video_formats
                allowed = "text, image or video" if media else "text"
                where_ok = " (reasoningContent in assistant turns)" if rules.allow_reasoning else ""
                self.error(
                    block_path,
                    "content-block",
                    f"a {kind!r} block is not supported here; {rules.label} takes {allowed} "
                    f"blocks{where_ok}",
                    self.example,
                )
        if not has_text and not has_media and not broken:
            self.error(where, "empty-text", "the message has no text", _FILL)

    def reasoning(self, value: object, path: str) -> None:
        text = None
        if isinstance(value, dict) and set(value) == {"reasoningText"}:
            inner = value["reasoningText"]
            if isinstance(inner, dict) and isinstance(inner.get("text"), str):
                text = inner["text"]
        if text is None:
            self.error(
                path,
                "content-block",
                'reasoningContent must be {"reasoningText": {"text": "..."}} (only '
                "reasoningText is supported)",
                "See the Nova 2 data format in the Bedrock User Guide (nova-2-sft-data-prep).",
            )
            return
        self.text(text, f"{path}.reasoningText.text", reserved=False)

    def media(self, kind: str, value: object, path: str, role: str | None) -> None:
        rules = self.rules
        allowed = rules.image_formats if kind == "image" else rules.video_formats
        if role == "assistant":
            message = f"an {kind} in an assistant turn; only user turns may carry media"
            self.error(path, "media-in-assistant", message, f"Move the {kind} to the user's turn.")
        if not allowed:
            text_only = "is text only" if not rules.image_formats else f"takes no {kind}s"
            self.error(
                path,
                "media-not-supported",
                f"{rules.label} {text_only}, but this record has an {kind}",
                f"Remove the {kind} blocks, or choose a model that takes them "
                "(Nova Lite / Pro, Llama 3.2 11B / 90B Vision).",
            )
            return
        if kind == "image":
            self.images += 1
        else:
            self.videos += 1
        inner = value if isinstance(value, dict) else {}
        fmt = inner.get("format")
        names = ", ".join(sorted(allowed))
        if not isinstance(fmt, str) or fmt not in allowed:
            self.error(
                f"{path}.{kind}.format",
                "media-format",
                f"{kind} format {fmt!r} is not one {rules.model.name} takes ({names})",
                f'Convert the file and set "format" to one of {names}.',
            )
        source = inner.get("source")
        location = source.get("s3Location") if isinstance(source, dict) else None
        uri = location.get("uri") if isinstance(location, dict) else None
        uri_path = f"{path}.{kind}.source.s3Location.uri"
        if not isinstance(uri, str):
            embedded = isinstance(source, dict) and "bytes" in source
            self.error(
                uri_path,
                "media-uri",
                f"the {kind} has no source.s3Location.uri"
                + (" (training data cannot embed bytes)" if embedded else ""),
                'Point to the file: "source": {"s3Location": {"uri": "s3://bucket/key"}}.',
            )
            return
        problem = media_uri_problem(uri, rules)
        if problem:
            self.error(uri_path, "media-uri", problem[0], problem[1])
