"""core.format: sizes, money, durations and plurals, with their edge cases."""

from __future__ import annotations

import pytest

from core.format import duration, money, plural, plural_noun, shorten_middle, shorten_words, size


@pytest.mark.parametrize(
    ("count", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (950, "950 B"),
        (1023, "1,023 B"),
        (1024, "1.0 KB"),
        (1229, "1.2 KB"),
        (1024 * 1024 - 1, "1.0 MB"),  # 1023.999 KB would round to "1024.0 KB"
        (40 * 1024**2, "40.0 MB"),
        (5 << 30, "5.0 GB"),
        (3 * 1024**4, "3.0 TB"),
        (2048 * 1024**5, "2,048.0 PB"),  # past the largest unit: thousands separators
        (-5, "0 B"),
    ],
)
def test_size(count: float, text: str) -> None:
    assert size(count) == text


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0.00"),
        (0.0, "$0.00"),
        (7.1, "$7.10"),
        (21.18, "$21.18"),
        (0.5, "$0.50"),
        (1234.5, "$1,234.50"),
        (1_000_000, "$1,000,000.00"),
        (999.999, "$1,000.00"),
        (0.001, "$0.001"),
        (0.0008, "$0.0008"),
        (0.000035, "$0.000035"),
        (0.00000035, "$0.00000035"),
        (0.0099999, "$0.01"),
        (0.123456, "$0.1235"),
        (1e-9, "$0.000000001"),
        (1e-12, "less than $0.000000001"),
        (-2.5, "-$2.50"),
    ],
)
def test_money(amount: float, text: str) -> None:
    assert money(amount) == text


def test_money_never_uses_scientific_notation() -> None:
    for exponent in range(-9, 10):
        for mantissa in (1.0, 3.5, 9.99):
            text = money(mantissa * 10.0**exponent)
            assert "e" not in text.lower(), text
            assert text.startswith("$")


def test_money_unknown_is_never_zero() -> None:
    assert money(None) == "price unknown"
    assert money(None, unknown="hourly price unknown") == "hourly price unknown"


def test_money_significant_digits() -> None:
    assert money(0.000123456, significant=2) == "$0.00012"
    assert money(12.3456, significant=6) == "$12.3456"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (-3, "0 s"),
        (0.4, "0 s"),
        (45, "45 s"),
        (59.6, "1 min"),
        (60, "1 min"),
        (125, "2 min 5 s"),
        (3600, "1 h"),
        (7500, "2 h 5 min"),
        (7199, "1 h 59 min"),
        (25 * 3600, "1 d 1 h"),
        (86_400 + 5, "1 d"),
        (74 * 3600 + 59, "3 d 2 h"),
        (1000 * 86_400, "1,000 d"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


@pytest.mark.parametrize(
    ("count", "text"),
    [(0, "0 jobs"), (1, "1 job"), (2, "2 jobs"), (-1, "-1 jobs"), (1200, "1,200 jobs")],
)
def test_plural(count: int, text: str) -> None:
    assert plural(count, "job") == text


def test_plural_irregular_and_noun_only() -> None:
    assert plural(1, "entry", "entries") == "1 entry"
    assert plural(3, "entry", "entries") == "3 entries"
    assert plural_noun(1, "line") == "line"
    assert plural_noun(2, "line") == "lines"


def test_a_long_name_is_shortened_in_its_middle_keeping_both_ends() -> None:
    assert shorten_middle("bt-short", 8) == "bt-short"
    name = "bt-narrow-rows-with-a-rather-long-name-throughput"
    short = shorten_middle(name, 20)
    assert short == "bt-narr…e-throughput" and len(short) == 20
    assert shorten_middle(name, 2) == "…t"
    assert (shorten_middle(name, 1), shorten_middle(name, 0)) == ("…", "")


def test_a_title_is_cut_after_a_whole_word() -> None:
    assert shorten_words("Launch", 6) == "Launch"
    assert shorten_words("Launch the job", 10) == "Launch…"
    assert shorten_words("Launch the job", 11) == "Launch the…"
    assert shorten_words("Launch the job", 6) == ""
