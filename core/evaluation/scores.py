"""Scores for comparing a model's answer with a reference: ROUGE-1, ROUGE-2, ROUGE-L and exact
match.

ROUGE follows the reference implementation's defaults (Google's `rouge-score` with
`use_stemmer=False`): lower-case, every run of characters other than a-z and 0-9 is a separator,
F-measure of n-gram overlap (ROUGE-N) or of the longest common subsequence (ROUGE-L). It is a
few dozen lines, so it lives here rather than as a dependency (rouge-score pulls in nltk).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_SEPARATORS = re.compile(r"[^a-z0-9]+")


def tokenize(text: str) -> list[str]:
    """Lower-case alphanumeric tokens."""
    return [t for t in _SEPARATORS.split(text.lower()) if t]


@dataclass(frozen=True)
class Score:
    """Precision, recall and F-measure of one comparison."""

    precision: float
    recall: float
    f1: float


def _score(overlap: int, candidate: int, reference: int) -> Score:
    precision = overlap / candidate if candidate else 0.0
    recall = overlap / reference if reference else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return Score(precision, recall, f1)


def rouge_n(candidate: str, reference: str, n: int) -> Score:
    """ROUGE-N: clipped n-gram overlap."""

    def grams(tokens: list[str]) -> Counter[tuple[str, ...]]:
        return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))

    mine, theirs = grams(tokenize(candidate)), grams(tokenize(reference))
    overlap = sum((mine & theirs).values())
    return _score(overlap, sum(mine.values()), sum(theirs.values()))


def _lcs(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if x == y else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str) -> Score:
    """ROUGE-L: longest common subsequence of tokens."""
    mine, theirs = tokenize(candidate), tokenize(reference)
    return _score(_lcs(mine, theirs), len(mine), len(theirs))


def exact_match(candidate: str, reference: str) -> bool:
    """Equal after trimming and collapsing white space (case-sensitive)."""
    return " ".join(candidate.split()) == " ".join(reference.split())


@dataclass(frozen=True)
class Comparison:
    """Every score of one answer against its reference."""

    rouge1: float
    rouge2: float
    rouge_l: float
    exact: bool


def compare(candidate: str, reference: str) -> Comparison:
    """ROUGE-1/2/L F-measures and exact match."""
    return Comparison(
        rouge_n(candidate, reference, 1).f1,
        rouge_n(candidate, reference, 2).f1,
        rouge_l(candidate, reference).f1,
        exact_match(candidate, reference),
    )
