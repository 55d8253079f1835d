"""The token estimate rounds up: a record one character over a limit is over it."""

from __future__ import annotations

import pytest

from core.data.tokens import count_wide, estimate_tokens
from core.validate.rules import record_tokens, tokens_of


@pytest.mark.parametrize(
    ("chars", "ratio", "tokens"),
    [(0, 6.0, 0), (1, 6.0, 1), (6, 6.0, 1), (7, 6.0, 2), (12, 6.0, 2), (13, 6.0, 3), (7, 3.0, 3)],
)
def test_a_partial_token_counts_as_a_whole_one(chars: int, ratio: float, tokens: int) -> None:
    assert estimate_tokens("a" * chars, ratio) == tokens
    assert tokens_of(chars, 0, ratio) == tokens


def test_one_character_over_the_limit_is_over_it() -> None:
    # Llama 3.1 takes 16,000 tokens per record, planned at 6 characters per token.
    limit, ratio = 16_000, 6.0
    assert estimate_tokens("a" * (limit * 6), ratio) == limit
    assert estimate_tokens("a" * (limit * 6 + 1), ratio) == limit + 1
    record = {"prompt": "a" * (limit * 3), "completion": "b" * (limit * 3 + 1)}
    assert record_tokens(record, ratio) == limit + 1


def test_wide_characters_count_one_token_each() -> None:
    text = "東京は日本の首都です" + "abcdefg"
    assert count_wide(text) == 10
    assert estimate_tokens(text, 6.0) == 10 + 2
    assert tokens_of(len(text), 10, 6.0) == 12


def test_the_default_ratio_is_the_six_characters_aws_plans_with() -> None:
    assert estimate_tokens("a" * 7) == 2 == estimate_tokens("a" * 12)
    assert estimate_tokens("a" * 13) == 3
