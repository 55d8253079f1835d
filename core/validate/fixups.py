"""Fix-ups: write a *new* file without the records Bedrock would reject (never the source).

Four fix-ups, each streamed with bounded memory and written atomically:

* `drop-invalid`: drop every line with an error (broken JSON, blank lines, schema, roles,
  reserved strings, over-length...), and remove a byte-order mark;
* `drop-over-length`: drop only the records over the model's token limit;
* `truncate-over-length`: shorten the user / prompt / input texts of over-length records to
  90% of the limit (the margin the validator asks for); a record whose fixed parts alone are too
  long is dropped;
* `remove-duplicates`: keep the first copy of each record (and, for a validation file, drop
  records that are also in the training file).

For a prepared folder, `fix_prepared` writes a new folder beside it (`<name>-fixed`) with the
fixed train / validation files, the other files copied and the manifest extended, so every
later step that reads `<prepared dir>/train.jsonl` picks up the fixed data.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from core.atomic import AtomicFiles
from core.data.prepared import MANIFEST, SPLITS, PreparedDir, Split
from core.data.tokens import count_wide
from core.validate.fast import PrefixScan, fast_checker, scanner
from core.validate.records import check_record
from core.validate.rules import NEAR_LIMIT, RuleSet, Severity, tokens_of
from core.validate.validator import (
    BOM,
    DuplicateIndex,
    Progress,
    ValidationCancelled,
    ValidationReport,
    iter_lines,
)

_FIXED_SPLITS: tuple[Split, ...] = ("train", "validation")
"""The splits a fix-up rewrites; the others are copied unchanged (the manifest is rewritten)."""


class Fix(StrEnum):
    """The fix-ups the validation step offers."""

    DROP_INVALID = "drop-invalid"
    DROP_OVER_LENGTH = "drop-over-length"
    TRUNCATE_OVER_LENGTH = "truncate-over-length"
    REMOVE_DUPLICATES = "remove-duplicates"

    @property
    def label(self) -> str:
        """A button label."""
        return _LABELS[self]


_LABELS = {
    Fix.DROP_INVALID: "Drop invalid records",
    Fix.DROP_OVER_LENGTH: "Drop over-length records",
    Fix.TRUNCATE_OVER_LENGTH: "Truncate over-length records",
    Fix.REMOVE_DUPLICATES: "Remove duplicates",
}


def offered_fixes(report: ValidationReport) -> list[Fix]:
    """The fix-ups that would change something in the files `report` is about, in `Fix`'s
    order: dropping invalid records when a record has an error, dropping or truncating
    over-length records when some are too long, removing duplicates when some repeat."""
    rules = {group.rule for group in report.groups}
    record_errors = any(g.severity == "error" and g.first_lines for g in report.groups)
    offered = {
        Fix.DROP_INVALID: record_errors,
        Fix.DROP_OVER_LENGTH: "tokens" in rules,
        Fix.TRUNCATE_OVER_LENGTH: "tokens" in rules,
        Fix.REMOVE_DUPLICATES: "duplicate" in rules,
    }
    return [fix for fix in Fix if offered[fix]]


@dataclass(frozen=True)
class FixResult:
    """What one fix-up did to one file."""

    fix: Fix
    source: Path
    path: Path
    """The new file."""
    records: int
    """Lines read (blank ones included)."""
    kept: int
    dropped: int
    truncated: int
    removed_bom: bool = False

    @property
    def changed(self) -> int:
        """Records dropped or shortened."""
        return self.dropped + self.truncated

    @property
    def summary(self) -> str:
        """`dropped 3 of 120 records` (and what else changed)."""
        parts = []
        if self.truncated:
            parts.append(f"truncated {self.truncated:,}")
        if self.dropped or not self.truncated:
            parts.append(f"dropped {self.dropped:,}")
        text = f"{self.source.name}: {' and '.join(parts)} of {self.records:,} lines"
        if self.removed_bom:
            text += ", removed the byte-order mark"
        return f"{text} -> {self.path.name} ({self.kept:,} records)"


@dataclass(frozen=True)
class PreparedFix:
    """A fix-up applied to a prepared folder: the new folder and what changed in each file."""

    source: Path
    directory: Path
    fix: Fix
    results: tuple[FixResult, ...]

    @property
    def changed(self) -> int:
        """Records dropped or shortened in all files."""
        return sum(r.changed for r in self.results)


def fixed_path(source: Path) -> Path:
    """A free name beside `source`: `train.fixed.jsonl`, then `train.fixed-2.jsonl`..."""
    stem = source.name.removesuffix(".jsonl")
    for number in range(1, 10_000):
        suffix = "fixed" if number == 1 else f"fixed-{number}"
        candidate = source.with_name(f"{stem}.{suffix}.jsonl")
        if not candidate.exists():
            return candidate
    raise ValidationCancelled(f"No free file name beside {source}.")  # pragma: no cover


# --------------------------------------------------------------------------- one record


class _Verdict:
    """The full check of one record, reduced to what the fix-ups need."""

    def __init__(self, record: Any, rules: RuleSet) -> None:
        self.errors: list[tuple[str, str]] = []

        def emit(path: str, rule: str, message: str, hint: str, severity: Severity) -> None:
            if severity == "error":
                self.errors.append((rule, path))

        self.tokens = check_record(record, rules, emit).tokens

    @property
    def over_length(self) -> bool:
        return any(rule == "tokens" for rule, _ in self.errors)


def _slots(record: dict[str, Any]) -> list[tuple[Any, Any, str]]:
    """(container, key, side) of every text a truncation may shorten: user / prompt / input
    texts (side `input`), and the completion (side `output`, for an output limit only)."""
    slots: list[tuple[Any, Any, str]] = []
    for key, side in (("prompt", "input"), ("input", "input"), ("completion", "output")):
        if isinstance(record.get(key), str):
            slots.append((record, key, side))
    for message in record.get("messages") or ():
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            slots.append((message, "content", "input"))
        elif isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and isinstance(block.get("text"), str):
                    slots.append((block, "text", "input"))
    return slots


def truncate_record(record: dict[str, Any], rules: RuleSet) -> dict[str, Any] | None:
    """A copy of `record` whose user / prompt / input texts are cut (from the end) so that its
    estimated tokens are at most 90% of each limit; None when that is not possible."""
    limits = rules.limits
    cpt = rules.chars_per_token
    fixed: dict[str, Any] = orjson.loads(orjson.dumps(record))
    slots = _slots(fixed)
    for _ in range(64):
        over: list[tuple[str, int]] = []  # (side to cut, tokens to remove)
        total = _Verdict(fixed, rules).tokens or 0
        if limits.max_tokens_per_record and total > limits.max_tokens_per_record * NEAR_LIMIT:
            over.append(("input", total - int(limits.max_tokens_per_record * NEAR_LIMIT)))
        for side, key, limit in (
            ("input", "prompt", limits.max_input_tokens),
            ("output", "completion", limits.max_output_tokens),
        ):
            text = fixed.get(key)
            if limit and isinstance(text, str):
                tokens = tokens_of(len(text), count_wide(text), cpt)
                if tokens > limit * NEAR_LIMIT:
                    over.insert(0, (side, tokens - int(limit * NEAR_LIMIT)))
        if not over:
            return fixed
        side, excess = over[0]
        candidates = [s for s in slots if s[2] == side and len(s[0][s[1]]) > 1]
        if not candidates:
            return None
        container, key, _ = max(candidates, key=lambda s: len(s[0][s[1]]))
        text = container[key]
        cut = int(excess * cpt) + 2  # removing k characters removes at least k / cpt tokens
        container[key] = text[: max(1, len(text) - cut)].rstrip() or text[:1]
    return None  # pragma: no cover - each round removes at least one character


# --------------------------------------------------------------------------- one file


def apply_fix(
    source: Path,
    fix: Fix,
    rules: RuleSet,
    *,
    out: Path | None = None,
    reference: Path | None = None,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> FixResult:
    """Write `source` with `fix` applied to `out` (default: a free `<stem>.fixed.jsonl`
    beside it). The source is never modified; `out` appears only when complete.

    Args:
        reference: for `remove-duplicates`, a file whose records also count as earlier copies
            (the training file, when fixing a validation file).

    Raises:
        ValidationCancelled: `cancelled()` became true (nothing was written).
    """
    target = out if out is not None else fixed_path(source)
    if target.resolve() == source.resolve():
        raise ValueError("a fix-up never writes over its source")
    total = source.stat().st_size

    step = max(total // 100, 1)
    reported = [-step]

    def on_block(done: int) -> None:
        if progress is not None and (done - reported[0] >= step or done >= total):
            reported[0] = done
            progress(done, total, f"{fix.label.lower()} in {source.name}")
        if cancelled():
            raise ValidationCancelled("Fix-up cancelled; nothing was written.")

    drop_lines: set[int] = set()
    if fix is Fix.REMOVE_DUPLICATES:
        drop_lines = _duplicate_lines(source, reference, cancelled)
    fast = fast_checker(rules)
    raw_scan = scanner(rules)
    candidate_of = PrefixScan(raw_scan) if raw_scan is not None else None
    records = kept = dropped = truncated = 0
    removed_bom = False
    with AtomicFiles(target.parent) as files, source.open("rb", buffering=0) as stream:
        output = files.open(target.name)
        for line, _offset in iter_lines(stream, on_block):
            records += 1
            if records == 1 and line is not None and line.startswith(BOM):
                line = line[len(BOM) :]
                removed_bom = True
            keep: bytes | None = line
            if fix is Fix.REMOVE_DUPLICATES:
                keep = None if records in drop_lines else line
            elif line is None or not line.strip():
                keep = None if fix is Fix.DROP_INVALID else line
            else:
                keep = _fixed_line(line, fix, rules, fast, candidate_of)
                if keep is not None and keep is not line:
                    truncated += 1
            if keep is None:
                dropped += 1
                continue
            kept += 1
            output.write(keep)
            output.write(b"\n")
    return FixResult(fix, source, target, records, kept, dropped, truncated, removed_bom)


def _fixed_line(
    line: bytes,
    fix: Fix,
    rules: RuleSet,
    fast: Callable[[Any], int],
    candidate_of: PrefixScan | None,
) -> bytes | None:
    """The line to write for `fix` (the same object when unchanged), or None to drop it."""
    try:
        record = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None if fix is Fix.DROP_INVALID else line
    if not isinstance(record, dict):
        return None if fix is Fix.DROP_INVALID else line
    if (candidate_of is None or not candidate_of(line)) and fast(record) >= 0:
        return line  # the common valid record
    verdict = _Verdict(record, rules)
    if fix is Fix.DROP_INVALID:
        return None if verdict.errors else line
    if not verdict.over_length:
        return line
    if fix is Fix.DROP_OVER_LENGTH:
        return None
    shorter = truncate_record(record, rules)
    return None if shorter is None else orjson.dumps(shorter)


def _duplicate_lines(
    source: Path, reference: Path | None, cancelled: Callable[[], bool]
) -> set[int]:
    """Line numbers of `source` that repeat an earlier line (of `reference` or of itself)."""

    def on_block(done: int) -> None:
        if cancelled():
            raise ValidationCancelled("Fix-up cancelled; nothing was written.")

    with DuplicateIndex() as index:
        for path in (reference, source):
            if path is None:
                continue
            index.start_file(path)
            with path.open("rb", buffering=0) as stream:
                for line_no, (line, offset) in enumerate(iter_lines(stream, on_block), 1):
                    if line is not None and line.strip():
                        index.add(line, line_no, offset)
            found = index.finish_file()
    return {d.line for d in found}


# --------------------------------------------------------------------------- a prepared folder


def fix_prepared(
    prepared_dir: Path,
    fix: Fix,
    rules: RuleSet,
    *,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> PreparedFix:
    """Apply `fix` to the train and validation files of `prepared_dir`, writing a new folder
    beside it (`<name>-fixed`, `<name>-fixed-2`...). The folder appears only when complete.

    Raises:
        ValidationCancelled: cancelled (nothing was written).
    """
    folder = PreparedDir(prepared_dir)
    target = folder.fixed_sibling().path
    temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=prepared_dir.parent))
    try:
        results = []
        for split in SPLITS:
            source = folder.file(split)
            if not source.is_file():
                continue
            out = temp / source.name
            if split not in _FIXED_SPLITS:
                shutil.copy2(source, out)
                continue
            reference = folder.train if split == "validation" and folder.has_train() else None
            results.append(
                apply_fix(
                    source,
                    fix,
                    rules,
                    out=out,
                    reference=reference,
                    progress=progress,
                    cancelled=cancelled,
                )
            )
        _write_manifest(folder, temp, fix, results)
        target = _rename_free(temp, target, folder)
    except BaseException:
        shutil.rmtree(temp, ignore_errors=True)
        raise
    moved = tuple(replace(r, path=target / r.path.name) for r in results)
    return PreparedFix(prepared_dir, target, fix, moved)


def _write_manifest(source: PreparedDir, temp: Path, fix: Fix, results: list[FixResult]) -> None:
    manifest = source.read_manifest()
    manifest["fixed_from"] = str(source.path)
    manifest["fixups"] = [
        *manifest.get("fixups", []),
        {
            "fix": fix.value,
            "files": {
                r.source.name: {
                    "records": r.records,
                    "kept": r.kept,
                    "dropped": r.dropped,
                    "truncated": r.truncated,
                }
                for r in results
            },
        },
    ]
    counts = dict(manifest.get("counts") or {})
    for result in results:
        counts[result.source.name.removesuffix(".jsonl")] = result.kept
    manifest["counts"] = counts
    with AtomicFiles(temp) as files:
        files.open(MANIFEST).write(
            json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8")
        )


def _rename_free(temp: Path, target: Path, source: PreparedDir) -> Path:
    """Rename the finished temporary folder to `target` (or the next free name)."""
    for _ in range(100):
        try:
            temp.rename(target)
            return target
        except OSError:
            if not target.exists():
                raise
            target = source.fixed_sibling().path
    raise ValidationCancelled(f"No free folder name beside {source.path}.")  # pragma: no cover
