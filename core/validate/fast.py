"""The fast path of the validator: checkers that accept a record of the common valid shape
with a few type tests and length sums, and scanners that find lines that may hold a reserved
string in their raw bytes.

A fast checker (`fast_checker(rules)`) returns the record's estimated tokens, or -1 whenever
anything is unusual; then the full check (`core/validate_records.py`) looks and names every
problem. Reserved strings are not searched text by text: `scanner(rules)` marks candidate
lines from their raw JSON bytes (see `_scan_claude`), and `PrefixScan` skips the prefix that
lines rendered from one template share.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from core.catalog.types import DataFormat
from core.data.tokens import count_wide
from core.validate.rules import CLAUDE_RESERVED, NEAR_LIMIT, NOVA_RESERVED, RuleSet

_NEXT_ROLE = {"user": "assistant", "assistant": "user"}


# --------------------------------------------------------------------------- fast paths


def fast_checker(rules: RuleSet) -> Callable[[Any], int]:
    """A function giving a record's estimated tokens when it has the common valid shape and is
    not near a limit, or -1 (the full checker must look). It never reports anything itself."""
    cpt = rules.chars_per_token
    limits = rules.limits
    near = _near(limits.max_tokens_per_record)
    fmt = rules.data_format
    if fmt is DataFormat.CLAUDE_MESSAGES:
        return _fast_claude(cpt, near)
    if fmt is DataFormat.CONVERSATION and not rules.distillation:
        return _fast_conversation(cpt, near, rules.max_system_blocks)
    if fmt is DataFormat.PROMPT_COMPLETION:
        return _fast_prompt_completion(
            cpt, near, _near(limits.max_input_tokens), _near(limits.max_output_tokens)
        )
    if fmt is DataFormat.CONTINUED_PRETRAINING:
        return _fast_pretraining(cpt, near)
    return lambda record: -1


def _near(limit: int | None) -> float:
    return float("inf") if limit is None else limit * NEAR_LIMIT


def _fast_claude(cpt: float, near: float) -> Callable[[Any], int]:
    def fast(record: Any) -> int:
        if type(record) is not dict:
            return -1
        messages = record.get("messages")
        if type(messages) is not list:
            return -1
        size = len(record)
        chars = wide = 0
        if size == 2:
            system = record.get("system")
            if type(system) is not str or not system or system.isspace():
                return -1
            chars = len(system)
            if not system.isascii():
                wide = count_wide(system)
        elif size != 1:
            return -1
        if len(messages) == 2:  # the common single exchange, unrolled
            user, answer = messages
            if type(user) is not dict or type(answer) is not dict:
                return -1
            question = user.get("content")
            reply = answer.get("content")
            if (
                len(user) != 2
                or len(answer) != 2
                or type(question) is not str
                or type(reply) is not str
                or user.get("role") != "user"
                or answer.get("role") != "assistant"
                or not question
                or not reply
                or question.isspace()
                or reply.isspace()
            ):
                return -1
            chars += len(question) + len(reply)
            if not question.isascii():
                wide += count_wide(question)
            if not reply.isascii():
                wide += count_wide(reply)
        else:
            if len(messages) < 2:
                return -1
            expected = "user"
            for message in messages:
                if type(message) is not dict or len(message) != 2:
                    return -1
                content = message.get("content")
                if (
                    type(content) is not str
                    or message.get("role") != expected
                    or not content
                    or content.isspace()
                ):
                    return -1
                chars += len(content)
                if not content.isascii():
                    wide += count_wide(content)
                expected = _NEXT_ROLE[expected]
            if expected != "user":
                return -1
        tokens = int(wide + (chars - wide) / cpt + 0.999999)
        return -1 if tokens > near else tokens

    return fast


def _fast_conversation(cpt: float, near: float, max_system: int | None) -> Callable[[Any], int]:
    def fast(record: Any) -> int:
        if type(record) is not dict:
            return -1
        messages = record.get("messages")
        if type(messages) is not list or len(messages) < 2:
            return -1
        expected_keys = 1
        version = record.get("schemaVersion")
        if version is not None:
            if type(version) is not str:
                return -1
            expected_keys += 1
        chars = wide = 0
        system = record.get("system")
        if system is not None:
            expected_keys += 1
            if type(system) is not list or (max_system is not None and len(system) > max_system):
                return -1
            for block in system:
                if type(block) is not dict or len(block) != 1:
                    return -1
                text = block.get("text")
                if type(text) is not str or not text or text.isspace():
                    return -1
                chars += len(text)
                if not text.isascii():
                    wide += count_wide(text)
        if len(record) != expected_keys:
            return -1
        expected = "user"
        for message in messages:
            if type(message) is not dict or len(message) != 2 or message.get("role") != expected:
                return -1
            content = message.get("content")
            if type(content) is not list or not content:
                return -1
            has_text = False
            for block in content:
                if type(block) is not dict or len(block) != 1:
                    return -1
                text = block.get("text")
                if type(text) is not str:
                    return -1
                if text and not has_text and not text.isspace():
                    has_text = True
                chars += len(text)
                if not text.isascii():
                    wide += count_wide(text)
            if not has_text:
                return -1
            expected = _NEXT_ROLE[expected]
        if expected != "user":
            return -1
        tokens = max(1, int(wide + (chars - wide) / cpt + 0.999999))
        return -1 if tokens > near else tokens

    return fast


def _fast_prompt_completion(
    cpt: float, near: float, near_in: float, near_out: float
) -> Callable[[Any], int]:
    def fast(record: Any) -> int:
        if type(record) is not dict or len(record) != 2:
            return -1
        prompt = record.get("prompt")
        completion = record.get("completion")
        if type(prompt) is not str or type(completion) is not str:
            return -1
        if not prompt or prompt.isspace() or not completion or completion.isspace():
            return -1
        wide_in = 0 if prompt.isascii() else count_wide(prompt)
        wide_out = 0 if completion.isascii() else count_wide(completion)
        chars_in = len(prompt)
        chars_out = len(completion)
        if wide_in + (chars_in - wide_in) / cpt > near_in:
            return -1
        if wide_out + (chars_out - wide_out) / cpt > near_out:
            return -1
        wide = wide_in + wide_out
        tokens = max(1, int(wide + (chars_in + chars_out - wide) / cpt + 0.999999))
        return -1 if tokens > near else tokens

    return fast


def _fast_pretraining(cpt: float, near: float) -> Callable[[Any], int]:
    def fast(record: Any) -> int:
        if type(record) is not dict or len(record) != 1:
            return -1
        text = record.get("input")
        if type(text) is not str or not text or text.isspace():
            return -1
        wide = 0 if text.isascii() else count_wide(text)
        tokens = max(1, int(wide + (len(text) - wide) / cpt + 0.999999))
        return -1 if tokens > near else tokens

    return fast


# --------------------------------------------------------------------------- raw-byte scanners

Scanner = Callable[[bytes, int, int], bool]
"""scanner(line, start, end) -> whether line[start:end] may hold a reserved string."""

_CLAUDE_RAW = (b"\\nHuman:", b"\\nAssistant:", b"\\u00")
_NOVA_COLON = re.compile(
    b":(?:"
    + b"|".join(
        b"(?<=" + re.escape(token.encode()) + b")" for token in NOVA_RESERVED if token[-1] == ":"
    )
    + b")"
)
"""A colon preceded by one of Nova's reserved words. Starting with a literal lets `re` run its
fast loop to the next colon (an alternation of words would be tried at every byte: 20x
slower)."""
_NOVA_TAG = re.compile(rb"<(?:image|video)>")
"""With "[EOS]", the reserved tokens that do not end in a colon (a test checks the list)."""
_LONGEST_HIT = 16
"""No raw hit of either scanner is longer than this many bytes."""


def _scan_claude(line: bytes, start: int, end: int) -> bool:
    # In a JSON line a newline inside a string is the escape `\n`, so "\nHuman:" can only be
    # there as `\nHuman:`, or behind a `\u00XX` escape (a writer may escape any ASCII
    # character). Every escape starts with a backslash, and memchr finds backslashes far faster
    # than a substring search scans text, so this jumps from escape to escape. `start` must be
    # the start of an escape or outside any escape.
    find = line.find
    end -= 2  # a hit is at least 4 bytes long
    at = find(b"\\", start, end)
    while at >= 0:
        # The third byte of every hit is H, A or 0: one index test rules out most escapes.
        if line[at + 2] in b"HA0" and line.startswith(_CLAUDE_RAW, at):
            return True
        at = find(b"\\", at + 2, end)
    return False


def _scan_nova(line: bytes, start: int, end: int) -> bool:
    if _NOVA_COLON.search(line, start, end) or line.find(b"[EOS]", start, end) >= 0:
        return True
    tag = line.find(b"<", start, end)  # memchr: "<" is rare in text and absent from JSON syntax
    if tag >= 0 and _NOVA_TAG.search(line, tag, end):
        return True
    # A `\u00XX` escape may hide an ASCII letter of a reserved word: such lines are candidates.
    at = line.find(b"\\", start, end)
    while at >= 0:
        if line.startswith(b"\\u00", at):
            return True
        at = line.find(b"\\", at + 2, end)
    return False


def scanner(rules: RuleSet) -> Scanner | None:
    """The raw-byte scanner for the model's reserved strings (None when it reserves none).

    A hit only makes its line a candidate: the full checker then searches the decoded texts
    (for Nova, only system and user texts). Lines without a hit cannot contain a reserved
    string, so the fast path needs no per-text search.
    """
    if rules.reserved == CLAUDE_RESERVED:
        return _scan_claude
    if rules.reserved == NOVA_RESERVED:
        return _scan_nova
    return None


def _resume_point(line: bytes, cut: int) -> int:
    """The first position at or after `cut` that is not inside a JSON escape (scanning from
    there keeps escapes aligned)."""
    at = line.find(b"\\", 0, cut)
    while at >= 0:
        end = at + (6 if line[at + 1 : at + 2] == b"u" else 2)
        if end > cut:
            return end
        at = line.find(b"\\", end, cut)
    return cut


class PrefixScan:
    """A scanner that skips the prefix lines share.

    Records rendered from one template start alike (the system prompt, the instruction), so
    once two clean lines agree on a prefix, later lines that start with it (one memcmp) are
    scanned only from 16 bytes before its end: a hit is at most 16 bytes long, so one that
    starts earlier lies inside the prefix, where it was already found absent. The scan resumes
    outside any escape, so that escapes stay aligned.
    """

    _RELEARN_EVERY = 64

    def __init__(self, scan: Scanner) -> None:
        self.scan = scan
        self.prefix = b""
        self.start = 0
        self.previous: bytes | None = None
        self.misses = 0

    def __call__(self, line: bytes) -> bool:
        """Whether `line` may hold a reserved string."""
        prefix = self.prefix
        if prefix and line.startswith(prefix):
            return self.scan(line, self.start, len(line))
        hit = self.scan(line, 0, len(line))
        if not hit:
            self.misses += 1
            previous = self.previous
            if previous is not None and self.misses % self._RELEARN_EVERY == 2:
                self.learn(previous, line)
            self.previous = line
        return hit

    def learn(self, first: bytes, second: bytes) -> None:
        """Adopt the prefix two clean lines share (if it is long enough to pay)."""
        low, high = 0, min(len(first), len(second))
        while low < high:  # the longest common prefix, by memcmp bisection
            middle = (low + high + 1) // 2
            if first[:middle] == second[:middle]:
                low = middle
            else:
                high = middle - 1
        cut = low - _LONGEST_HIT
        if cut < 32:
            return
        self.prefix = first[:low]
        self.start = _resume_point(first, cut)
        self.misses = 0
