"""ROUGE and exact match, checked against hand-computed examples."""

from __future__ import annotations

import pytest

from core.evaluation.scores import compare, exact_match, rouge_l, rouge_n, tokenize


def test_tokenize_like_rouge_score() -> None:
    assert tokenize("The cat, the HAT! 42x") == ["the", "cat", "the", "hat", "42x"]


def test_hand_computed_example() -> None:
    # candidate: the cat sat on the mat (6 tokens); reference: the cat is on the mat (6 tokens)
    candidate, reference = "The cat sat on the mat.", "the cat is on the mat"
    one = rouge_n(candidate, reference, 1)
    # overlap: the x2, cat, on, mat = 5 -> P = R = 5/6
    assert one.precision == pytest.approx(5 / 6) and one.f1 == pytest.approx(5 / 6)
    two = rouge_n(candidate, reference, 2)
    # bigrams: (the cat) (cat sat) (sat on) (on the) (the mat) vs (the cat) (cat is) (is on)
    # (on the) (the mat): overlap 3 of 5 each
    assert two.f1 == pytest.approx(3 / 5)
    # LCS: the cat on the mat = 5 -> 5/6
    assert rouge_l(candidate, reference).f1 == pytest.approx(5 / 6)


def test_clipped_counts_and_empty_text() -> None:
    assert rouge_n("the the the", "the", 1).precision == pytest.approx(1 / 3)
    assert rouge_n("", "anything", 1).f1 == 0.0
    assert compare("a b", "a b").rouge2 == 1.0


def test_exact_match_ignores_only_white_space() -> None:
    assert exact_match(" SELECT 1\n", "SELECT  1")
    assert not exact_match("select 1", "SELECT 1")
