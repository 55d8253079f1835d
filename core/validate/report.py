"""What the validator reports: problems grouped by rule, token statistics, per-file and
dataset verdicts (frozen dataclasses), and the bounded collectors that build them."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from core.catalog.types import BaseModel, DataFormat
from core.validate.rules import NEAR_LIMIT, RULES, RuleSet, Severity


@dataclass(frozen=True)
class Problem:
    """One problem: where (file, 1-based physical line, JSON path), which rule, what, what to do."""

    line: int | None
    """1-based physical line; None for a problem of the whole file or dataset."""
    path: str
    """JSON path inside the record (`messages[2].content`); empty for the whole record."""
    rule: str
    message: str
    hint: str
    severity: Severity = "error"
    file: str = ""
    """The file's path (empty for dataset-wide problems)."""
    offset: int | None = None
    """Byte offset of the line in the file (to show the record)."""


@dataclass(frozen=True)
class RuleGroup:
    """Every problem of one rule (and severity) in one file: exact count, first problems."""

    rule: str
    severity: Severity
    count: int
    problems: tuple[Problem, ...]
    file: str = ""

    @property
    def title(self) -> str:
        """What the rule means."""
        return RULES.get(self.rule, self.rule)

    @property
    def first_lines(self) -> tuple[int, ...]:
        """The lines of the kept problems (those with a line), in order."""
        return tuple(p.line for p in self.problems if p.line is not None)


@dataclass(frozen=True)
class HistogramBucket:
    """Records whose estimated tokens are in (low, high] (the first bucket includes 0)."""

    low: int
    high: int
    count: int
    over_limit: bool = False


@dataclass(frozen=True)
class TokenStats:
    """Estimated tokens per record of one file."""

    records: int
    """Records that could be counted."""
    total: int
    minimum: int
    median: int
    p95: int
    maximum: int
    limit: int | None
    near_limit: int
    """Records above 90% of the limit but not over it."""
    over_limit: int
    histogram: tuple[HistogramBucket, ...]


@dataclass(frozen=True)
class FileReport:
    """What one file holds and what is wrong with it."""

    path: Path
    role: str
    """`train` or `validation`."""
    size_bytes: int
    lines: int
    records: int
    """Non-blank lines (Bedrock counts each as a record)."""
    stats: TokenStats
    groups: tuple[RuleGroup, ...]
    duplicates: int
    duplicates_complete: bool
    """False when the file had more distinct records than the duplicate index holds."""
    media: dict[str, int] = field(default_factory=dict)
    """Records by media kind (`text`, `image`, `video`, `image+video`)."""
    looks_like: DataFormat | None = None
    """The format most wrong-format records have (None when there are none)."""


@dataclass(frozen=True)
class ValidationReport:
    """The verdict on a dataset for one model and customization type."""

    rules: RuleSet
    train: FileReport
    validation: FileReport | None
    dataset: tuple[RuleGroup, ...]
    """Problems of the dataset as a whole (record counts of both files, mixed media...)."""

    @property
    def model(self) -> BaseModel:
        """The model checked against."""
        return self.rules.model

    @property
    def files(self) -> tuple[FileReport, ...]:
        """The training file, then the validation file if there is one."""
        return (self.train,) if self.validation is None else (self.train, self.validation)

    @property
    def groups(self) -> tuple[RuleGroup, ...]:
        """Every group: dataset-wide first, then each file's, errors before warnings."""
        found = [*self.dataset, *(g for f in self.files for g in f.groups)]
        return tuple(sorted(found, key=lambda g: g.severity != "error"))

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return not any(g.severity == "error" for g in self.groups)

    def count(self, severity: Severity) -> int:
        """How many problems of `severity` there are (exact, not capped)."""
        return sum(g.count for g in self.groups if g.severity == severity)

    def problems(self, severity: Severity) -> list[Problem]:
        """The kept problems of `severity` (the first of each group)."""
        return [p for g in self.groups if g.severity == severity for p in g.problems]

    @property
    def headline(self) -> str | None:
        """For a file in another family's format: what it looks like and what the model needs."""
        for report in self.files:
            if report.looks_like is not None:
                fmt = self.rules.data_format
                return (
                    f"{report.path.name} looks like {report.looks_like.label}; "
                    f"{self.rules.label} needs {fmt.label}, e.g. {fmt.example}"
                )
        return None


class Collector:
    """Problems grouped by (rule, severity): exact counts, the first `cap` kept."""

    def __init__(self, cap: int, file: str) -> None:
        self.cap = cap
        self.file = file
        self.counts: dict[tuple[str, Severity], int] = {}
        self.kept: dict[tuple[str, Severity], list[Problem]] = {}

    def add(
        self,
        line: int | None,
        path: str,
        rule: str,
        message: str,
        hint: str,
        severity: Severity,
        offset: int | None = None,
    ) -> None:
        """Count one problem (and keep it when its group has fewer than `cap`)."""
        key = (rule, severity)
        count = self.counts.get(key, 0)
        self.counts[key] = count + 1
        if count < self.cap:
            problem = Problem(line, path, rule, message, hint, severity, self.file, offset)
            self.kept.setdefault(key, []).append(problem)

    def groups(self) -> tuple[RuleGroup, ...]:
        """The groups, in the order their rules were first met."""
        return tuple(
            RuleGroup(rule, severity, count, tuple(self.kept.get((rule, severity), ())), self.file)
            for (rule, severity), count in self.counts.items()
        )


class Histogram:
    """Tokens per record: exact counts below 65,536, three significant digits above."""

    EXACT = 1 << 16

    def __init__(self) -> None:
        self.counts = [0] * self.EXACT
        self.large: dict[int, int] = {}
        self.large_min = 0
        self.large_max = 0

    def add_large(self, tokens: int) -> None:
        """Count a record of 65,536 tokens or more (smaller ones go straight into `counts`)."""
        digits = len(str(tokens)) - 3
        key = tokens - tokens % 10**digits
        self.large[key] = self.large.get(key, 0) + 1
        self.large_max = max(self.large_max, tokens)
        self.large_min = tokens if not self.large_min else min(self.large_min, tokens)

    def between(self, low: int, high: int) -> int:
        """Records with low <= tokens <= high."""
        exact = (
            sum(self.counts[max(low, 0) : min(high, self.EXACT - 1) + 1]) if low < self.EXACT else 0
        )
        return exact + sum(c for k, c in self.large.items() if low <= k <= high)

    def stats(self, total: int, limit: int | None) -> TokenStats:
        """The statistics, with `total` counted exactly by the caller."""
        records = sum(self.counts) + sum(self.large.values())
        if not records:
            return TokenStats(0, 0, 0, 0, 0, 0, limit, 0, 0, ())
        nonzero = [i for i, c in enumerate(self.counts) if c]
        minimum = nonzero[0] if nonzero else self.large_min
        maximum = self.large_max if self.large else nonzero[-1]
        near = over = 0
        if limit is not None:
            over = self.between(limit + 1, maximum)
            near = self.between(int(limit * NEAR_LIMIT) + 1, limit)
        return TokenStats(
            records=records,
            total=total,
            minimum=minimum,
            median=self.percentile(0.5, records),
            p95=self.percentile(0.95, records),
            maximum=maximum,
            limit=limit,
            near_limit=near,
            over_limit=over,
            histogram=self.buckets(limit, maximum),
        )

    def percentile(self, share: float, records: int) -> int:
        """The nearest-rank percentile (`share` 0.5 is the median)."""
        rank = max(1, math.ceil(share * records))
        seen = 0
        for tokens, count in enumerate(self.counts):
            seen += count
            if seen >= rank:
                return tokens
        for tokens in sorted(self.large):
            seen += self.large[tokens]
            if seen >= rank:
                return tokens
        return self.large_max

    def buckets(self, limit: int | None, maximum: int) -> tuple[HistogramBucket, ...]:
        """Ten buckets up to the limit (or the largest record), and one over the limit."""
        top = limit if limit is not None else max(maximum, 10)
        edges = [round(top * i / 10) for i in range(11)]
        found = [
            HistogramBucket(edges[i], edges[i + 1], self.between(edges[i] + (i > 0), edges[i + 1]))
            for i in range(10)
        ]
        if limit is not None and maximum > limit:
            found.append(HistogramBucket(limit, maximum, self.between(limit + 1, maximum), True))
        return tuple(found)
