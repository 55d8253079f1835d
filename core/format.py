"""How numbers read to a person: sizes, money, durations and counted nouns.

One place for every human-facing number, so the app and the CLI say the same thing the same way.
Money is never written in scientific notation (`$0.000035`, not `3.5e-05`), and an unknown price
is said to be unknown rather than shown as `$0.00`.
"""

from __future__ import annotations

import math

_SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")
_SMALLEST_PRICE = 1e-9
"""Below this a non-zero amount is written as "less than" it (its digits would be noise)."""

UNKNOWN_PRICE = "price unknown"


def size(count: float) -> str:
    """Bytes as `950 B`, `1.2 KB`, `40.0 MB`, `1.1 GB`, `2.0 TB` (powers of 1024).

    Whole bytes below 1 KB; one decimal above. A value that would round up to 1024 of a unit
    is written in the next unit (`1.0 MB`, never `1024.0 KB`).
    """
    value = float(max(count, 0))
    if value < 1024:
        return f"{value:,.0f} B"
    for unit in _SIZE_UNITS[1:]:
        value /= 1024
        if round(value, 1) < 1024 or unit == _SIZE_UNITS[-1]:
            return f"{value:,.1f} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def money(amount: float | None, *, unknown: str = UNKNOWN_PRICE, significant: int = 4) -> str:
    """Dollars: `$1,234.50`, `$7.10`, `$0.00`, `$0.0008`, `$0.000035`; `unknown` for None.

    At least two decimals, and as many more as it takes to show `significant` significant
    digits of a small amount (trailing zeros beyond the cents are dropped), so tiny per-token
    prices keep their digits and are never written in scientific notation.
    """
    if amount is None:
        return unknown
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    if value == 0:
        return "$0.00"
    if value < _SMALLEST_PRICE:
        return f"{sign}less than ${_SMALLEST_PRICE:.9f}"
    magnitude = math.floor(math.log10(value))
    decimals = max(2, significant - 1 - magnitude)
    text = f"{value:,.{decimals}f}"
    whole, _, fraction = text.partition(".")
    fraction = fraction[:2] + fraction[2:].rstrip("0")
    return f"{sign}${whole}.{fraction}"


def duration(seconds: float) -> str:
    """`45 s`, `2 min 5 s`, `2 h 5 min`, `3 d 4 h`: the two largest units, rounded to a second.

    A unit that is zero after the largest is left out (`2 h`, not `2 h 0 min`); negative
    durations read as `0 s`.
    """
    total = max(0, round(seconds))
    if total < 60:
        return f"{total} s"
    days, rest = divmod(total, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (secs, "s")]
    first = next(i for i, (value, _) in enumerate(parts) if value)
    shown = [f"{value:,} {unit}" for value, unit in parts[first : first + 2] if value]
    return " ".join(shown)


def plural_noun(count: int, noun: str, many: str | None = None) -> str:
    """`noun` for a count of exactly one, else its plural (`many`, by default `noun` + "s")."""
    return noun if count == 1 else (many or f"{noun}s")


def plural(count: int, noun: str, many: str | None = None) -> str:
    """The count and its noun: `1 job`, `2 jobs`, `0 jobs`, `1,200 records`, `2 entries`."""
    return f"{count:,} {plural_noun(count, noun, many)}"


ELLIPSIS = "…"


def shorten_middle(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut in the middle: `Provisioned thr…20250601-pt`.

    Names made by bedrock-tune differ at their end (a run's date, `-pt`, `-model`) and say what
    they are at their start, so both ends are kept and the middle gives way; the end keeps the
    larger share. Text that fits is returned as it is; a width below 2 keeps only the ellipsis.
    """
    if len(text) <= width:
        return text
    if width < 2:
        return ELLIPSIS[:width]
    kept = width - 1
    head = kept * 2 // 5
    return f"{text[:head]}{ELLIPSIS}{text[len(text) - (kept - head) :]}"


def shorten_words(text: str, width: int) -> str:
    """`text` in at most `width` characters, cut after its last whole word that fits, with an
    ellipsis: `Launch the job` in 10 is `Launch…`; '' when not even its first word fits."""
    if len(text) <= width:
        return text
    words = text.split()
    while words and len(" ".join(words)) + len(ELLIPSIS) > width:
        words.pop()
    return " ".join(words) + ELLIPSIS if words else ""
