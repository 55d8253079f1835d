"""The validator: one file per rule that breaks only that rule at a known line (per family
concerned), a valid file per family, DialogSum prepared for two families, reading edge cases,
and a fuzz test that it never raises."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
import pytest

import core.data.jsonl as jsonl_module
from core.catalog.lookup import find_model
from core.catalog.types import BaseModel, CustomizationType
from core.data.prepare import PrepareOptions, prepare
from core.data.sources import SourceSpec
from core.data.templates import PRESETS
from core.errors import DatasetError, ValidationError
from core.validate.fast import PrefixScan, scanner
from core.validate.records import check_record
from core.validate.rules import CLAUDE_RESERVED, NOVA_RESERVED, rules_for
from core.validate.validator import (
    RULES,
    DuplicateIndex,
    ValidationCancelled,
    ValidationReport,
    iter_lines,
    read_record,
    validate,
)
from tests.conftest import DIALOGSUM, needs_shared

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_LITE = "amazon.nova-lite-v1:0:300k"
NOVA_2 = "amazon.nova-2-lite-v1:0:256k"
LLAMA_31 = "meta.llama3-1-8b-instruct-v1:0:128k"
LLAMA_32_VISION = "meta.llama3-2-11b-instruct-v1:0:128k"
LLAMA_33 = "meta.llama3-3-70b-instruct-v1:0:128k"
TITAN_LITE = "amazon.titan-text-lite-v1:0:4k"
COHERE_LIGHT = "cohere.command-light-text-v14:7:4k"
FT = CustomizationType.FINE_TUNING
CPT = CustomizationType.CONTINUED_PRE_TRAINING
DISTILL = CustomizationType.DISTILLATION

Record = dict[str, Any]


# --------------------------------------------------------------------------- records


def claude(i: int, user: str | None = None, answer: str | None = None) -> Record:
    return {
        "system": "You summarize.",
        "messages": [
            {"role": "user", "content": user if user is not None else f"Question {i}?"},
            {"role": "assistant", "content": answer if answer is not None else f"Answer {i}."},
        ],
    }


def conversation(i: int, user: str | None = None, answer: str | None = None) -> Record:
    return {
        "schemaVersion": "bedrock-conversation-2024",
        "system": [{"text": "You summarize."}],
        "messages": [
            {"role": "user", "content": [{"text": user if user is not None else f"Q {i}?"}]},
            {"role": "assistant", "content": [{"text": answer or f"A {i}."}]},
        ],
    }


def prompt_completion(i: int, prompt: str | None = None, completion: str | None = None) -> Record:
    return {
        "prompt": prompt if prompt is not None else f"Question {i}?",
        "completion": completion if completion is not None else f"Answer {i}.",
    }


def pretraining(i: int, text: str | None = None) -> Record:
    return {"input": text if text is not None else f"Some text number {i}."}


def image(uri: str = "s3://my-bucket/images/cat.png", fmt: str = "png") -> Record:
    return {"image": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


def video(uri: str = "s3://my-bucket/videos/cat.mp4", fmt: str = "mp4") -> Record:
    return {"video": {"format": fmt, "source": {"s3Location": {"uri": uri}}}}


def with_media(i: int, *blocks: Record) -> Record:
    record = conversation(i)
    record["messages"][0]["content"] = [{"text": f"Look {i}"}, *blocks]
    return record


def messages(*turns: tuple[str, str], conv: bool = False) -> Record:
    if conv:
        return {
            "schemaVersion": "bedrock-conversation-2024",
            "messages": [{"role": r, "content": [{"text": t}]} for r, t in turns],
        }
    return {"messages": [{"role": r, "content": t} for r, t in turns]}


@dataclass(frozen=True)
class Family:
    model: str
    kind: CustomizationType
    record: Callable[[int], Record]
    count: int
    """Records in a valid file (inside the model's minimum)."""


FAMILIES = {
    "claude": Family(HAIKU, FT, claude, 40),
    "nova": Family(NOVA_MICRO, FT, conversation, 12),
    "nova-lite": Family(NOVA_LITE, FT, conversation, 12),
    "nova-2": Family(NOVA_2, FT, conversation, 12),
    "llama-3.1": Family(LLAMA_31, FT, prompt_completion, 120),
    "llama-3.2": Family(LLAMA_32_VISION, FT, conversation, 120),
    "llama-3.3": Family(LLAMA_33, FT, conversation, 120),
    "titan": Family(TITAN_LITE, FT, prompt_completion, 20),
    "titan-cpt": Family(TITAN_LITE, CPT, pretraining, 20),
    "cohere": Family(COHERE_LIGHT, FT, prompt_completion, 40),  # at least 32 examples
    "distillation": Family(NOVA_MICRO, DISTILL, conversation, 120),
}


def dump(value: Record | str | bytes) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    return orjson.dumps(value)


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def valid_lines(family: Family, count: int | None = None) -> list[bytes]:
    return [dump(family.record(i)) for i in range(count or family.count)]


def check(
    tmp_path: Path,
    family: str,
    changes: Mapping[int, Record | str | bytes],
    *,
    name: str = "train.jsonl",
    count: int | None = None,
    **options: Any,
) -> ValidationReport:
    """Validate a valid file of `family` with the 1-based `changes` applied."""
    spec = FAMILIES[family]
    lines = valid_lines(spec, count)
    for line_no, value in changes.items():
        if line_no > len(lines):
            lines.append(dump(value))
        else:
            lines[line_no - 1] = dump(value)
    path = write(tmp_path / name, lines)
    return validate(path, find_model(spec.model), spec.kind, **options)


def rules_of(report: ValidationReport, severity: str = "error") -> set[str]:
    return {g.rule for g in report.groups if g.severity == severity}


def group(report: ValidationReport, rule: str) -> Any:
    found = [g for g in report.groups if g.rule == rule]
    assert found, f"no {rule} in {[(g.rule, g.count) for g in report.groups]}"
    return found[0]


# --------------------------------------------------------------------------- valid files


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_valid_file_per_family_passes(tmp_path: Path, family: str) -> None:
    report = check(tmp_path, family, {})
    assert report.ok, [(g.rule, g.problems[0].message) for g in report.groups]
    assert rules_of(report) == set()
    assert rules_of(report, "warning") <= {"tokens-unchecked"}
    assert report.train.records == FAMILIES[family].count
    assert report.train.stats.records == FAMILIES[family].count
    assert report.train.stats.minimum >= 1


def test_media_records_pass_where_media_is_allowed(tmp_path: Path) -> None:
    changes: dict[int, Record | str | bytes] = {1: with_media(0, image(), image(fmt="jpeg"))}
    report = check(tmp_path, "nova-lite", changes)
    assert report.ok, [(g.rule, g.problems[0].message) for g in report.groups]
    vision = check(tmp_path, "llama-3.2", {5: with_media(4, image(fmt="webp"))})
    assert vision.ok, [(g.rule, g.problems[0].message) for g in vision.groups]
    # A Llama vision image counts at least 1,601 tokens.
    assert vision.train.stats.maximum >= 1601


def test_nova_2_reasoning_in_the_assistant_turn_is_allowed(tmp_path: Path) -> None:
    record = conversation(0)
    record["messages"][1]["content"].insert(
        0, {"reasoningContent": {"reasoningText": {"text": "Think first."}}}
    )
    assert check(tmp_path, "nova-2", {1: record}).ok


# --------------------------------------------------------------------------- one rule each

Case = tuple[str, str, dict[int, Any], str, int | None, str]
"""(id, family, changes, rule, line, path)"""

LONG = "word " * 20_000  # 100,000 characters


def _two_keys_block() -> Record:
    record = conversation(3)
    record["messages"][0]["content"] = [{"text": "hi", "image": image()["image"]}]
    return record


def _tool_block(i: int) -> Record:
    record = conversation(i)
    record["messages"][0]["content"].append({"toolUse": {"name": "x", "input": {}}})
    return record


def _reasoning_in_nova_1() -> Record:
    record = conversation(2)
    record["messages"][1]["content"].insert(
        0, {"reasoningContent": {"reasoningText": {"text": "hm"}}}
    )
    return record


def _system_text(value: Any, base: Callable[[int], Record] = claude) -> Record:
    record = base(4)
    record["system"] = value
    return record


def _drop(record: Record, *keys: str) -> Record:
    return {k: v for k, v in record.items() if k not in keys}


def _message_without_content() -> Record:
    record = conversation(2)
    del record["messages"][1]["content"]
    return record


def _conv_content(value: Any, index: int = 0) -> Record:
    record = conversation(3)
    record["messages"][index]["content"] = value
    return record


CASES: list[Case] = [
    ("bom-claude", "claude", {1: b"\xef\xbb\xbf" + dump(claude(0))}, "bom", 1, ""),
    ("bom-nova", "nova", {1: b"\xef\xbb\xbf" + dump(conversation(0))}, "bom", 1, ""),
    ("bom-llama", "llama-3.1", {1: b"\xef\xbb\xbf" + dump(prompt_completion(0))}, "bom", 1, ""),
    ("encoding-claude", "claude", {5: b'{"system": "caf\xe9", "messages": []}'}, "encoding", 5, ""),
    (
        "encoding-llama",
        "llama-3.1",
        {9: b'{"prompt": "\xff", "completion": "x"}'},
        "encoding",
        9,
        "",
    ),
    ("blank-claude", "claude", {7: b""}, "blank-line", 7, ""),
    ("blank-spaces-nova", "nova", {3: b"   "}, "blank-line", 3, ""),
    ("blank-llama", "llama-3.1", {50: b""}, "blank-line", 50, ""),
    ("json-claude", "claude", {3: b'{"system": "x", "messages": ['}, "json", 3, ""),
    ("json-nova", "nova", {2: b"{"}, "json", 2, ""),
    ("json-llama", "llama-3.1", {11: b'{"prompt": "a" "completion": "b"}'}, "json", 11, ""),
    ("json-cpt", "titan-cpt", {4: b'{"input": "a"}{"input": "b"}'}, "json", 4, ""),
    ("not-object-claude", "claude", {4: b"[1, 2]"}, "not-object", 4, ""),
    ("not-object-llama", "llama-3.1", {6: b'"just a string"'}, "not-object", 6, ""),
    ("wrong-format-claude", "claude", {2: prompt_completion(1)}, "wrong-format", 2, ""),
    ("wrong-format-nova", "nova", {2: claude(1)}, "wrong-format", 2, ""),
    ("wrong-format-llama", "llama-3.1", {2: claude(1)}, "wrong-format", 2, ""),
    ("wrong-format-cpt", "titan-cpt", {5: prompt_completion(4)}, "wrong-format", 5, ""),
    ("missing-messages-claude", "claude", {6: {"system": "x"}}, "missing-key", 6, "messages"),
    (
        "missing-content-nova",
        "nova",
        {2: _message_without_content()},
        "missing-key",
        2,
        "messages[1].content",
    ),
    (
        "missing-completion-llama",
        "llama-3.1",
        {8: {"prompt": "Q?"}},
        "missing-key",
        8,
        "completion",
    ),
    ("missing-input-cpt", "titan-cpt", {3: {"text": "x"}}, "missing-key", 3, "input"),
    ("type-claude", "claude", {5: claude(4, user=42)}, "type", 5, "messages[0].content"),  # type: ignore[arg-type]
    ("type-nova", "nova", {4: _conv_content("plain string", 1)}, "type", 4, "messages[1].content"),
    ("type-llama", "llama-3.1", {7: {"prompt": 5, "completion": "x"}}, "type", 7, "prompt"),
    ("type-cpt", "titan-cpt", {2: {"input": ["a"]}}, "type", 2, "input"),
    (
        "schema-version-nova",
        "nova",
        {4: {**conversation(3), "schemaVersion": 2}},
        "schema-version",
        4,
        "schemaVersion",
    ),
    (
        "schema-version-distillation",
        "distillation",
        {9: _drop(conversation(8), "schemaVersion")},
        "schema-version",
        9,
        "schemaVersion",
    ),
    ("system-nova", "nova", {5: _system_text("plain", conversation)}, "system", 5, "system"),
    (
        "system-llama-3.3",
        "llama-3.3",
        {30: _system_text([{"text": "a"}, {"text": "b"}], conversation)},
        "system",
        30,
        "system",
    ),
    (
        "system-distillation",
        "distillation",
        {7: _drop(conversation(6), "system")},
        "system",
        7,
        "system",
    ),
    (
        "role-claude",
        "claude",
        {5: messages(("user", "a"), ("system", "b"))},
        "role",
        5,
        "messages[1].role",
    ),
    (
        "role-nova",
        "nova",
        {6: messages(("user", "a"), ("bot", "b"), conv=True)},
        "role",
        6,
        "messages[1].role",
    ),
    (
        "first-role-claude",
        "claude",
        {8: messages(("assistant", "a"), ("user", "b"), ("assistant", "c"))},
        "first-role",
        8,
        "messages[0].role",
    ),
    (
        "first-role-nova",
        "nova",
        {2: messages(("assistant", "a"), ("user", "b"), ("assistant", "c"), conv=True)},
        "first-role",
        2,
        "messages[0].role",
    ),
    (
        "last-role-claude",
        "claude",
        {9: messages(("user", "a"), ("assistant", "b"), ("user", "c"))},
        "last-role",
        9,
        "messages[2].role",
    ),
    (
        "last-role-llama-3.3",
        "llama-3.3",
        {12: messages(("user", "a"), ("assistant", "b"), ("user", "c"), conv=True)},
        "last-role",
        12,
        "messages[2].role",
    ),
    (
        "alternation-claude",
        "claude",
        {10: messages(("user", "a"), ("user", "b"), ("assistant", "c"))},
        "alternation",
        10,
        "messages[1].role",
    ),
    (
        "alternation-nova",
        "nova",
        {3: messages(("user", "a"), ("assistant", "b"), ("assistant", "c"), conv=True)},
        "alternation",
        3,
        "messages[2].role",
    ),
    (
        "exchange-claude",
        "claude",
        {11: messages(("user", "only a question"))},
        "exchange",
        11,
        "messages",
    ),
    ("exchange-nova", "nova", {4: {"messages": []}}, "exchange", 4, "messages"),
    (
        "message-count-distillation",
        "distillation",
        {
            5: messages(
                ("user", "a"), ("assistant", "b"), ("user", "c"), ("assistant", "d"), conv=True
            )
            | {"system": [{"text": "s"}]}
        },
        "message-count",
        5,
        "messages",
    ),
    (
        "empty-text-claude",
        "claude",
        {12: claude(11, answer="  ")},
        "empty-text",
        12,
        "messages[1].content",
    ),
    (
        "empty-text-nova",
        "nova",
        {5: _conv_content([{"text": ""}])},
        "empty-text",
        5,
        "messages[0].content",
    ),
    (
        "empty-text-llama",
        "llama-3.1",
        {13: prompt_completion(12, completion="")},
        "empty-text",
        13,
        "completion",
    ),
    ("empty-text-cpt", "titan-cpt", {6: pretraining(5, " \t")}, "empty-text", 6, "input"),
    (
        "reserved-human-claude",
        "claude",
        {14: claude(13, user="Hi\nHuman: hello")},
        "reserved",
        14,
        "messages[0].content",
    ),
    (
        "reserved-assistant-claude",
        "claude",
        {15: claude(14, answer="Ok\nAssistant: bye")},
        "reserved",
        15,
        "messages[1].content",
    ),
    (
        "reserved-system-claude",
        "claude",
        {3: _system_text("Be nice\nHuman: x")},
        "reserved",
        3,
        "system",
    ),
    (
        "reserved-nova",
        "nova",
        {6: conversation(5, user="User: what now?")},
        "reserved",
        6,
        "messages[0].content[0].text",
    ),
    (
        "reserved-eos-nova-system",
        "nova",
        {7: _system_text([{"text": "stop at [EOS]"}], conversation)},
        "reserved",
        7,
        "system[0].text",
    ),
    (
        "content-block-two-keys-nova",
        "nova",
        {4: _two_keys_block()},
        "content-block",
        4,
        "messages[0].content[0]",
    ),
    (
        "content-block-tool-nova",
        "nova",
        {5: _tool_block(4)},
        "content-block",
        5,
        "messages[0].content[1]",
    ),
    (
        "content-block-reasoning-nova-1",
        "nova",
        {3: _reasoning_in_nova_1()},
        "content-block",
        3,
        "messages[1].content[0]",
    ),
    (
        "media-not-supported-nova-micro",
        "nova",
        {6: with_media(5, image())},
        "media-not-supported",
        6,
        "messages[0].content[1]",
    ),
    (
        "media-not-supported-llama-3.3",
        "llama-3.3",
        {20: with_media(19, image())},
        "media-not-supported",
        20,
        "messages[0].content[1]",
    ),
    (
        "media-count-nova-lite",
        "nova-lite",
        {3: with_media(2, *[image()] * 11)},
        "media-count",
        3,
        "messages",
    ),
    (
        "media-count-llama-vision",
        "llama-3.2",
        {9: with_media(8, image(), image())},
        "media-count",
        9,
        "messages",
    ),
    (
        "media-format-nova-lite",
        "nova-lite",
        {4: with_media(3, image(fmt="bmp"))},
        "media-format",
        4,
        "messages[0].content[1].image.format",
    ),
    (
        "media-uri-space-nova-lite",
        "nova-lite",
        {5: with_media(4, image(uri="s3://my-bucket/my cat.png"))},
        "media-uri",
        5,
        "messages[0].content[1].image.source.s3Location.uri",
    ),
    (
        "media-uri-https-llama-vision",
        "llama-3.2",
        {7: with_media(6, image(uri="https://example.com/cat.png"))},
        "media-uri",
        7,
        "messages[0].content[1].image.source.s3Location.uri",
    ),
    (
        "media-in-assistant-nova-lite",
        "nova-lite",
        {
            6: conversation(5)
            | {
                "messages": [
                    {"role": "user", "content": [{"text": "q"}]},
                    {"role": "assistant", "content": [{"text": "a"}, image()]},
                ]
            }
        },
        "media-in-assistant",
        6,
        "messages[1].content[1]",
    ),
    ("tokens-claude", "claude", {16: claude(15, user=LONG)}, "tokens", 16, ""),
    ("tokens-cjk-claude", "claude", {17: claude(16, user="漢" * 33_000)}, "tokens", 17, ""),
    (
        "tokens-llama",
        "llama-3.1",
        {18: prompt_completion(17, prompt="w" * 100_000)},
        "tokens",
        18,
        "",
    ),
    (
        "tokens-output-cohere",
        "cohere",
        {4: prompt_completion(3, completion="w" * 12_600)},
        "tokens",
        4,
        "completion",
    ),
    ("tokens-titan", "titan", {5: prompt_completion(4, prompt="w" * 30_000)}, "tokens", 5, ""),
    ("tokens-titan-cpt", "titan-cpt", {6: pretraining(5, "w" * 30_000)}, "tokens", 6, ""),
]


@pytest.mark.parametrize(
    ("family", "changes", "rule", "line", "path"),
    [c[1:] for c in CASES],
    ids=[c[0] for c in CASES],
)
def test_one_broken_rule_at_a_known_line(
    tmp_path: Path, family: str, changes: dict[int, Any], rule: str, line: int, path: str
) -> None:
    report = check(tmp_path, family, changes)
    assert not report.ok
    assert rules_of(report) == {rule}, [(g.rule, g.problems[0].message) for g in report.groups]
    found = group(report, rule)
    assert found.first_lines[0] == line
    assert found.problems[0].path == path
    assert found.problems[0].message and found.problems[0].hint
    assert rule in RULES


WARNING_CASES: list[Case] = [
    ("unknown-key-claude", "claude", {3: claude(2) | {"id": 7}}, "unknown-key", 3, "id"),
    (
        "unknown-key-llama",
        "llama-3.1",
        {4: prompt_completion(3) | {"meta": "x"}},
        "unknown-key",
        4,
        "meta",
    ),
    (
        "reserved-nova-2",
        "nova-2",
        {5: conversation(4, user="USER: hi")},
        "reserved",
        5,
        "messages[0].content[0].text",
    ),
    (
        "content-block-tool-nova-2",
        "nova-2",
        {3: _tool_block(2)},
        "content-block",
        3,
        "messages[0].content[1]",
    ),
    (
        "tokens-near-limit-claude",
        "claude",
        {6: claude(5, user="w" * 90_000)},
        "tokens-near-limit",
        6,
        "",
    ),
    ("duplicate-claude", "claude", {9: claude(2)}, "duplicate", 9, ""),
    ("duplicate-llama", "llama-3.1", {77: prompt_completion(40)}, "duplicate", 77, ""),
    ("empty-system-claude", "claude", {2: _system_text("")}, "empty-text", 2, "system"),
]


@pytest.mark.parametrize(
    ("family", "changes", "rule", "line", "path"),
    [c[1:] for c in WARNING_CASES],
    ids=[c[0] for c in WARNING_CASES],
)
def test_one_warning_at_a_known_line(
    tmp_path: Path, family: str, changes: dict[int, Any], rule: str, line: int, path: str
) -> None:
    report = check(tmp_path, family, changes)
    assert report.ok, [(g.rule, g.problems[0].message) for g in report.groups]
    assert rules_of(report, "warning") - {"tokens-unchecked"} == {rule}
    found = group(report, rule)
    assert found.severity == "warning"
    assert found.first_lines[0] == line
    assert found.problems[0].path == path


def test_duplicate_names_the_first_copy(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {9: claude(2), 10: claude(2)})
    found = group(report, "duplicate")
    assert found.count == 2 and found.first_lines == (9, 10)
    assert "line 3" in found.problems[0].message
    assert report.train.duplicates == 2


def test_distillation_extra_keys_are_errors(tmp_path: Path) -> None:
    report = check(tmp_path, "distillation", {4: conversation(3) | {"id": 1}})
    assert rules_of(report) == {"unknown-key"}


def test_reserved_words_in_a_nova_assistant_turn_are_fine(tmp_path: Path) -> None:
    assert check(tmp_path, "nova", {2: conversation(1, answer="Assistant: sure")}).ok


def test_an_escaped_backslash_before_n_is_not_a_newline(tmp_path: Path) -> None:
    # The text holds a backslash followed by "nHuman:", not a newline.
    assert check(tmp_path, "claude", {2: claude(1, user="path C:\\nHuman: x")}).ok


def test_unicode_escapes_cannot_hide_reserved_strings(tmp_path: Path) -> None:
    line = b'{"messages": [{"role": "user", "content": "a\\u000aHum\\u0061n: b"}, ' + (
        b'{"role": "assistant", "content": "c"}]}'
    )
    report = check(tmp_path, "claude", {3: line})
    assert rules_of(report) == {"reserved"} and group(report, "reserved").first_lines == (3,)


def test_a_reserved_string_right_after_a_shared_prefix_is_found(tmp_path: Path) -> None:
    # Many lines share the template prefix; the scan skips it, but not the bytes after it.
    template = "instruction:\n\nSummarize the article below.\n\ninput:\n"
    lines = {i + 1: claude(i, user=f"{template}article {i}") for i in range(200)}
    lines[150] = claude(149, user=f"{template}\nHuman: sneaky")
    lines[170] = claude(169, user=f"{template}x\nAssistant: sneaky")
    report = check(tmp_path, "claude", lines, count=200)
    assert group(report, "reserved").first_lines == (150, 170)


# --------------------------------------------------------------------------- file and dataset


def test_media_types_mixed_in_a_nova_dataset(tmp_path: Path) -> None:
    report = check(tmp_path, "nova-lite", {2: with_media(1, image()), 3: with_media(2, video())})
    assert rules_of(report) == {"media-mixed"}
    assert group(report, "media-mixed").problems[0].line is None


def test_image_and_video_in_one_nova_record(tmp_path: Path) -> None:
    report = check(tmp_path, "nova-lite", {4: with_media(3, image(), video())})
    assert "media-count" in rules_of(report)


def test_nova_2_dataset_must_be_homogeneous(tmp_path: Path) -> None:
    report = check(tmp_path, "nova-2", {2: with_media(1, image())})
    assert rules_of(report) == {"media-mixed"}


def test_nova_media_must_sit_in_the_dataset_bucket(tmp_path: Path) -> None:
    report = check(tmp_path, "nova-lite", {3: with_media(2, image())}, dataset_bucket="other")
    assert rules_of(report) == {"media-uri"}
    assert "dataset's bucket" in group(report, "media-uri").problems[0].message


def test_too_few_records(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {}, count=31)
    assert rules_of(report) == {"record-count"}
    problem = group(report, "record-count").problems[0]
    assert problem.line is None and "at least 32" in problem.message


def test_llama_minimum_counts_training_and_validation(tmp_path: Path) -> None:
    spec = FAMILIES["llama-3.1"]
    validation = write(
        tmp_path / "val.jsonl", [dump(prompt_completion(i)) for i in range(500, 530)]
    )
    short = check(tmp_path, "llama-3.1", {}, count=60, validation=validation)
    assert rules_of(short) == {"record-count"}
    assert "90 training + validation records" in group(short, "record-count").problems[0].message
    enough = check(tmp_path, "llama-3.1", {}, count=70, validation=validation)
    assert enough.ok, spec


def test_too_many_records(tmp_path: Path) -> None:
    validation = write(tmp_path / "val.jsonl", [dump(claude(i)) for i in range(20_000, 21_001)])
    report = check(tmp_path, "claude", {}, validation=validation)
    assert rules_of(report) == {"record-count"}
    assert "1,001 validation records" in group(report, "record-count").problems[0].message
    many = check(tmp_path, "claude", {}, count=10_001)
    assert "10,001 training records" in group(many, "record-count").problems[0].message


def test_validation_file_where_none_is_taken(tmp_path: Path) -> None:
    validation = write(tmp_path / "val.jsonl", [dump(conversation(100))])
    report = check(tmp_path, "nova-2", {}, validation=validation)
    assert rules_of(report) == {"validation-not-supported"}


def test_validation_record_repeating_a_training_record(tmp_path: Path) -> None:
    validation = write(tmp_path / "val.jsonl", [dump(claude(100)), dump(claude(3))])
    report = check(tmp_path, "claude", {}, validation=validation)
    assert report.ok
    [found] = [g for g in report.groups if g.rule == "duplicate"]
    assert found.file == str(validation) and found.first_lines == (2,)
    assert "line 4 of the training file (train.jsonl)" in found.problems[0].message


def test_file_too_large(tmp_path: Path) -> None:
    haiku = find_model(HAIKU)
    custom = haiku.customizations[0]
    small = replace(custom, limits=replace(custom.limits, max_train_file_bytes=1000))
    model = replace(haiku, customizations=(small,))
    path = write(tmp_path / "train.jsonl", valid_lines(FAMILIES["claude"]))
    report = validate(path, model)
    assert rules_of(report) == {"file-size"}
    assert group(report, "file-size").problems[0].line is None


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"")
    report = validate(path, find_model(HAIKU))
    assert rules_of(report) == {"file-empty"}


@pytest.mark.parametrize(
    ("family", "name"),
    [("claude", "my train.jsonl"), ("nova", "train(1).jsonl"), ("llama-3.1", "train+v2.jsonl")],
)
def test_file_names_the_api_refuses(tmp_path: Path, family: str, name: str) -> None:
    report = check(tmp_path, family, {}, name=name)
    assert rules_of(report) == {"file-name"}
    assert group(report, "file-name").problems[0].line is None


def test_s3_uris_the_api_refuses(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {}, training_uri="s3://Bucket/train data.jsonl")
    assert rules_of(report) == {"file-name"}
    assert check(tmp_path, "claude", {}, training_uri="s3://my-bucket/run-1/train.jsonl").ok


def test_file_extension_is_a_warning(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {}, name="train.json")
    assert report.ok and rules_of(report, "warning") == {"file-extension"}


def test_unknown_token_limit_is_said(tmp_path: Path) -> None:
    report = check(tmp_path, "nova", {})
    assert rules_of(report, "warning") == {"tokens-unchecked"}


def test_cannot_run(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        validate(tmp_path / "missing.jsonl", find_model(HAIKU))
    with pytest.raises(DatasetError, match="is a folder"):
        validate(tmp_path, find_model(HAIKU))
    path = write(tmp_path / "t.jsonl", valid_lines(FAMILIES["claude"]))
    with pytest.raises(ValidationError, match="does not support continued"):
        validate(path, find_model(HAIKU), CPT)


def test_problems_per_rule_are_capped_but_counted(tmp_path: Path) -> None:
    changes: dict[int, Any] = dict.fromkeys(range(1, 41), b"{")
    report = check(tmp_path, "claude", changes, max_problems_per_rule=5)
    found = group(report, "json")
    assert found.count == 40 and len(found.problems) == 5
    assert found.first_lines == (1, 2, 3, 4, 5)
    assert report.count("error") >= 40


def test_statistics_and_histogram(tmp_path: Path) -> None:
    changes = {i + 1: claude(i, user="x" * (300 * (i + 1))) for i in range(40)}
    report = check(tmp_path, "claude", changes)
    stats = report.train.stats
    assert stats.records == 40 and stats.limit == 32_000
    assert stats.minimum < stats.median < stats.p95 <= stats.maximum
    assert stats.total == sum(
        -(-(len("You summarize.") + 300 * (i + 1) + len(f"Answer {i}.")) // 3) for i in range(40)
    )
    assert sum(b.count for b in stats.histogram) == 40
    assert stats.histogram[0].low == 0 and stats.histogram[-1].high == 32_000


def test_progress_and_cancel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_module, "BLOCK_BYTES", 256)
    path = write(tmp_path / "train.jsonl", valid_lines(FAMILIES["claude"]))
    seen: list[tuple[int, int | None]] = []
    report = validate(path, find_model(HAIKU), progress=lambda d, t, w: seen.append((d, t)))
    assert report.ok and seen and seen[-1][0] == seen[-1][1] == path.stat().st_size
    with pytest.raises(ValidationCancelled):
        validate(path, find_model(HAIKU), cancelled=lambda: True)


def test_read_record_at_a_problem(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {5: b"{oops"})
    problem = group(report, "json").problems[0]
    assert problem.offset is not None
    assert read_record(tmp_path / "train.jsonl", problem.offset) == b"{oops"


# --------------------------------------------------------------------------- DialogSum


@needs_shared()
@pytest.mark.parametrize(
    ("model_id", "other_id", "looks_like"),
    [
        (HAIKU, LLAMA_31, "Claude messages"),
        (LLAMA_31, HAIKU, "prompt / completion"),
    ],
)
def test_dialogsum_prepared_validates_clean_and_fails_for_the_wrong_family(
    tmp_path: Path, model_id: str, other_id: str, looks_like: str
) -> None:
    model = find_model(model_id)
    out = tmp_path / "prepared"
    prepare(
        SourceSpec(str(DIALOGSUM / "dev.jsonl")),
        PRESETS["dialogue-summary"],
        model,
        out,
        PrepareOptions(train=200, validation=20, test=10, max_chars=20_000),
    )
    report = validate(out / "train.jsonl", model, validation=out / "validation.jsonl")
    assert report.ok and report.count("error") == 0 and report.count("warning") == 0
    assert report.train.records == 200 and report.validation is not None
    other = find_model(other_id)
    wrong = validate(out / "train.jsonl", other, validation=out / "validation.jsonl")
    assert not wrong.ok and rules_of(wrong) == {"wrong-format"}
    assert wrong.headline is not None
    fmt = other.customizations[0].data_format
    assert f"looks like {looks_like}" in wrong.headline and fmt.label in wrong.headline
    assert group(wrong, "wrong-format").count == 200


# --------------------------------------------------------------------------- reading


@pytest.mark.parametrize("block", [1, 2, 3, 7, 64, 4096])
def test_iter_lines_at_any_block_size(tmp_path: Path, block: int) -> None:
    data = b"a\n\nbc\r\n" + b"x" * 100 + b"\n\xef\xbb\xbf{}\nlast"
    path = tmp_path / "f"
    path.write_bytes(data)
    with path.open("rb") as stream:
        found = list(iter_lines(stream, block_bytes=block))
    expected = data.split(b"\n")
    assert [line for line, _ in found] == expected
    offsets = [0]
    for line in expected[:-1]:
        offsets.append(offsets[-1] + len(line) + 1)
    assert [offset for _, offset in found] == offsets


def test_oversized_lines_are_not_held(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(jsonl_module, "BLOCK_BYTES", 64)
    monkeypatch.setattr(jsonl_module, "MAX_LINE_BYTES", 1000)
    lines = valid_lines(FAMILIES["claude"])
    lines[2] = b'{"system": "' + b"x" * 5000 + b'"}'
    path = write(tmp_path / "train.jsonl", lines)
    report = validate(path, find_model(HAIKU))
    assert rules_of(report) == {"record-too-large"}
    assert group(report, "record-too-large").first_lines == (3,)


def test_duplicate_index_verifies_fingerprint_collisions(tmp_path: Path) -> None:
    # Same length and same middle, different first byte: the fingerprints meet, the contents
    # differ, so only the true copy (line 3) is a duplicate.
    a = b"X" + b"M" * 400
    b = b"Y" + b"M" * 400
    assert DuplicateIndex.fingerprint(a) == DuplicateIndex.fingerprint(b)
    path = write(tmp_path / "f.jsonl", [a, b, a, b"Z"])
    with DuplicateIndex() as index:
        index.start_file(path)
        offset = 0
        for number, line in enumerate((a, b, a, b"Z"), start=1):
            index.add(line, number, offset)
            offset += len(line) + 1
        found = index.finish_file()
    assert [(d.line, d.first_line, d.first_path) for d in found] == [(3, 1, path)]


def test_prefix_scan_learns_and_still_finds_hits() -> None:
    scan = scanner(rules_for(find_model(HAIKU)))
    assert scan is not None
    prefixed = PrefixScan(scan)
    head = b'{"system": "s", "messages": [{"role": "user", "content": "template\\n\\ntext '
    for i in range(200):
        assert not prefixed(head + f'{i}"}}]}}'.encode())
    assert prefixed.prefix
    assert prefixed(head + b'x\\nHuman: y"}]}')
    assert prefixed(head.replace(b"template", b"other") + b'\\nAssistant: y"}]}')


# --------------------------------------------------------------------------- never raises


def _random_json(rng: random.Random, depth: int = 0) -> Any:
    kinds = ["str", "int", "null", "bool", "float"]
    if depth < 4:
        kinds += ["list", "dict", "dict", "messages"]
    kind = rng.choice(kinds)
    if kind == "str":
        return rng.choice(["", " ", "user", "assistant", "text", "\nHuman:", "漢字", "s3://b/k"])
    if kind == "int":
        return rng.randint(-5, 5)
    if kind == "float":
        return rng.random()
    if kind == "bool":
        return rng.random() < 0.5
    if kind == "null":
        return None
    if kind == "list":
        return [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = [
        "role",
        "content",
        "text",
        "image",
        "video",
        "system",
        "messages",
        "prompt",
        "completion",
        "input",
        "schemaVersion",
        "format",
        "source",
        "s3Location",
        "uri",
        "reasoningContent",
        "reasoningText",
        "toolUse",
    ]
    if kind == "messages":
        return {"messages": [_random_json(rng, depth + 1) for _ in range(rng.randint(0, 3))]}
    return {rng.choice(keys): _random_json(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def test_fuzz_never_raises(tmp_path: Path) -> None:
    rng = random.Random(20260807)
    valid = [dump(claude(i)) for i in range(50)] + [dump(conversation(i)) for i in range(50)]
    lines: list[bytes] = []
    for _ in range(3000):
        roll = rng.random()
        if roll < 0.25:
            lines.append(
                bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 40))).replace(b"\n", b"")
            )
        elif roll < 0.5:
            line = rng.choice(valid)
            lines.append(line[: rng.randint(0, len(line))])
        elif roll < 0.9:
            lines.append(json.dumps(_random_json(rng), ensure_ascii=rng.random() < 0.5).encode())
        else:
            lines.append(rng.choice(valid))
    path = write(tmp_path / "fuzz.jsonl", lines)
    models = [HAIKU, NOVA_MICRO, NOVA_LITE, NOVA_2, LLAMA_31, LLAMA_32_VISION, TITAN_LITE]
    for model_id in models:
        model: BaseModel = find_model(model_id)
        for kind in model.customization_types:
            report = validate(path, model, kind)
            assert report.train.lines == 3000
            assert not report.ok
    rules = [rules_for(find_model(m), k) for m in models for k in find_model(m).customization_types]
    for _ in range(2000):
        record = _random_json(rng)
        for ruleset in rng.sample(rules, 3):
            check_record(record, ruleset, lambda *a: None)


def test_the_duplicate_check_says_when_it_was_partial(tmp_path: Path) -> None:
    report = check(tmp_path, "claude", {}, count=5000, duplicate_capacity=10)
    assert not report.train.duplicates_complete
    [found] = [g for g in report.groups if g.rule == "duplicate"]
    assert found.problems[0].line is None and "first 10 records" in found.problems[0].message


@pytest.mark.parametrize(
    ("model_id", "token"),
    [(NOVA_MICRO, t) for t in NOVA_RESERVED] + [(HAIKU, t) for t in CLAUDE_RESERVED],
)
def test_the_raw_scanners_see_every_reserved_string(model_id: str, token: str) -> None:
    rules = rules_for(find_model(model_id))
    scan = scanner(rules)
    assert scan is not None
    make = claude if model_id == HAIKU else conversation
    line = dump(make(0, user=f"before {token} after"))
    assert scan(line, 0, len(line))
    clean = dump(make(0, user="before after"))
    assert not scan(clean, 0, len(clean))


def test_cohere_counts_prompt_and_completion_together(tmp_path: Path) -> None:
    # Each side is within its own limit (input 4,096, output 2,048 tokens), the pair is not:
    # Cohere takes 4,096 tokens per prompt + completion pair.
    pair = {"prompt": "p" * (3_000 * 6), "completion": "c" * (1_100 * 6)}
    report = check(tmp_path, "cohere", {3: pair})
    assert rules_of(report) == {"tokens"}
    assert group(report, "tokens").problems[0].line == 3
    report = check(tmp_path, "cohere", {}, count=31)
    assert rules_of(report) == {"record-count"}
