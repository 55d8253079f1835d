"""The validator: every rule Bedrock applies to a training dataset, checked before upload.

`validate()` streams the training file (and the validation file, if any) once, in binary
blocks, so memory stays bounded whatever the file size (`core/jsonl.py`). Each line is parsed
with orjson; a record of the common valid shape is accepted by a fast checker (a few type tests
and length sums, `core/validate_fast.py`), and only unusual lines get the full check that names
every problem with its line, JSON path, rule, message and hint (`core/validate_records.py`).
Reserved strings are found by a scan of the raw bytes, not a search per text.

Problems are grouped by rule with exact counts; only the first `max_problems_per_rule` of each
group are kept (`core/validate_report.py`). Token statistics come from a histogram (exact below
65,536 tokens per record). Duplicates are found with a cheap fingerprint per record, verified
by re-reading the lines whose fingerprints meet.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson

from core import format as fmt
from core.catalog.types import BaseModel, CustomizationType, DataFormat
from core.data.jsonl import BOM, MAX_LINE_BYTES, Duplicate, DuplicateIndex, iter_lines, read_record
from core.data.tokens import ESTIMATE_METHOD
from core.errors import BedrockTuneError, DatasetError
from core.files import check_readable_file
from core.validate.fast import PrefixScan, Scanner, fast_checker, scanner
from core.validate.records import check_record
from core.validate.report import (
    Collector,
    FileReport,
    Histogram,
    HistogramBucket,
    Problem,
    RuleGroup,
    TokenStats,
    ValidationReport,
)
from core.validate.rules import (
    RULES,
    RuleSet,
    Severity,
    detect_format,
    file_name_problem,
    rules_for,
    s3_uri_problem,
)

__all__ = [
    "BOM",
    "ESTIMATE_METHOD",
    "RULES",
    "Duplicate",
    "DuplicateIndex",
    "FileReport",
    "HistogramBucket",
    "Problem",
    "Progress",
    "RuleGroup",
    "TokenStats",
    "ValidationCancelled",
    "ValidationReport",
    "iter_lines",
    "read_record",
    "rules_for",
    "validate",
]

DEFAULT_MAX_PROBLEMS = 100
Progress = Callable[[int, int | None, str], None]
"""progress(bytes done, bytes in all, what) is called after each block."""


class ValidationCancelled(BedrockTuneError):
    """The user cancelled the validation (or a fix-up); nothing was written."""

    default_title = "Validation cancelled"


# --------------------------------------------------------------------------- one file


def _no_hits(line: bytes, start: int, end: int) -> bool:
    return False


class _FileScan:
    """One pass over one file."""

    def __init__(
        self,
        path: Path,
        role: str,
        rules: RuleSet,
        index: DuplicateIndex,
        cap: int,
        on_block: Callable[[int], None],
    ) -> None:
        self.path = path
        self.role = role
        self.rules = rules
        self.index = index
        self.problems = Collector(cap, str(path))
        self.on_block = on_block
        self.histogram = Histogram()
        self.blank = 0
        self.duplicates = 0
        self.media: Counter[str] = Counter()
        self.formats: Counter[DataFormat] = Counter()

    def run(self) -> FileReport:
        rules = self.rules
        fast = fast_checker(rules)
        raw_scan = scanner(rules)
        candidate_of = PrefixScan(raw_scan) if raw_scan is not None else None
        raw: Scanner = candidate_of.scan if candidate_of is not None else _no_hits
        prefix, scan_from = b"", 0
        counts = self.histogram.counts
        exact = Histogram.EXACT
        index = self.index
        index.start_file(self.path)
        remember = index.fingerprints.append
        remember_offset = index.offsets.append
        remember_line = index.lines.append
        capacity = index.capacity
        remembering = len(index.fingerprints) < capacity
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        line_no = total = fast_records = 0
        with self.path.open("rb", buffering=0) as stream:
            for line, offset in iter_lines(stream, self.on_block):
                line_no += 1
                if line is None:
                    self.oversized(line_no, offset)
                    continue
                try:
                    record = loads(line)
                except decode_error:
                    record = self.broken(line, line_no, offset)
                    if record is None:
                        continue
                    tokens = -1
                else:
                    # A line that may hold a reserved string skips the fast path.
                    if candidate_of is None:
                        tokens = fast(record)
                    elif prefix and line.startswith(prefix):
                        tokens = -1 if raw(line, scan_from, len(line)) else fast(record)
                    else:
                        tokens = -1 if candidate_of(line) else fast(record)
                        prefix, scan_from = candidate_of.prefix, candidate_of.start
                if tokens < 0:
                    tokens = self.full(record, line_no, offset)
                    if tokens < 0:
                        continue
                else:
                    fast_records += 1
                total += tokens
                if tokens < exact:
                    counts[tokens] += 1
                else:
                    self.histogram.add_large(tokens)
                if remembering:  # DuplicateIndex.add, inlined for speed
                    middle = len(line) >> 1
                    remember(hash(line[middle - 32 : middle + 32]) ^ middle)
                    remember_offset(offset)
                    remember_line(line_no)
                    if not line_no & 4095 and len(index.fingerprints) >= capacity:
                        remembering = index.complete = False
        for duplicate in index.finish_file():
            self.duplicate(duplicate)
        if not index.complete:
            self.problems.add(
                None,
                "",
                "duplicate",
                f"duplicates were looked for among the first {index.capacity:,} records only",
                "The file has far more records than any model takes; split it first.",
                "warning",
            )
        self.media["text"] += fast_records
        looks_like = self.formats.most_common(1)[0][0] if self.formats else None
        return FileReport(
            path=self.path,
            role=self.role,
            size_bytes=self.path.stat().st_size,
            lines=line_no,
            records=line_no - self.blank,
            stats=self.histogram.stats(total, rules.limits.max_tokens_per_record),
            groups=self.problems.groups(),
            duplicates=self.duplicates,
            duplicates_complete=index.complete,
            media=dict(self.media),
            looks_like=looks_like,
        )

    def full(self, record: object, line_no: int, offset: int) -> int:
        add = self.problems.add
        rules_seen: list[str] = []

        def emit(path: str, rule: str, message: str, hint: str, severity: Severity) -> None:
            rules_seen.append(rule)
            add(line_no, path, rule, message, hint, severity, offset)

        if not isinstance(record, dict):
            emit(
                "",
                "not-object",
                f"the line is a JSON {_json_kind(record)}, not an object",
                f"Each line must be one JSON object, e.g. {self.rules.data_format.example}",
                "error",
            )
            return -1
        result = check_record(record, self.rules, emit)
        if "wrong-format" in rules_seen:
            found = detect_format(record)
            if found is not None:
                self.formats[found] += 1
        self.media[result.media] += 1
        return -1 if result.tokens is None else result.tokens

    def broken(self, line: bytes, line_no: int, offset: int) -> object | None:
        """Report a line orjson could not parse; return its record when it parses after all
        (a byte-order mark before the first record)."""
        add = self.problems.add
        if line_no == 1 and line.startswith(BOM):
            add(
                1,
                "",
                "bom",
                "the file starts with a UTF-8 byte-order mark",
                "Save the file as UTF-8 without BOM (Bedrock refuses it: 'Unable to parse "
                "Amazon S3 file'); the 'drop invalid records' fix-up removes it.",
                "error",
                offset,
            )
            line = line[len(BOM) :]
            try:
                record: object = orjson.loads(line)
                return record
            except orjson.JSONDecodeError:
                pass
        if not line.strip():
            self.blank += 1
            add(
                line_no,
                "",
                "blank-line",
                "the line is empty" if not line.rstrip(b"\r") else "the line holds only spaces",
                "Remove empty lines: Bedrock reads every line as a record.",
                "error",
                offset,
            )
            return None
        try:
            line.decode("utf-8")
        except UnicodeDecodeError as error:
            add(
                line_no,
                "",
                "encoding",
                f"byte 0x{line[error.start]:02x} at column {error.start + 1} is not UTF-8",
                "Save the file as UTF-8 (convert it from its encoding, e.g. with iconv).",
                "error",
                offset,
            )
            return None
        try:
            orjson.loads(line)
        except orjson.JSONDecodeError as error:
            message = f"not valid JSON: {error.msg} at column {error.colno}"
        else:  # pragma: no cover - orjson failed once and succeeded now
            message = "not valid JSON"
        stripped = line.strip()
        if stripped in (b"{", b"[", b"}", b"]", b"},", b"],") or stripped.startswith(b'"'):
            hint = (
                "This looks like pretty-printed JSON: write one compact JSON object per line "
                "(JSON Lines), not an object spread over several lines."
            )
        else:
            hint = (
                "Each line must be one complete JSON object. Check the quotes, commas and "
                "brackets near that column, and that no record is split across lines."
            )
        add(line_no, "", "json", message, hint, "error", offset)
        return None

    def oversized(self, line_no: int, offset: int) -> None:
        self.problems.add(
            line_no,
            "",
            "record-too-large",
            f"the line is longer than {MAX_LINE_BYTES >> 20} MB; no model takes a record that "
            "large",
            "Split the text into records that fit the model's token limit, or drop the line.",
            "error",
            offset,
        )

    def duplicate(self, found: Duplicate) -> None:
        self.duplicates += 1
        if found.first_path == self.path:
            message = f"the same record as line {found.first_line}"
        else:
            message = (
                f"the same record as line {found.first_line} of the training file "
                f"({found.first_path.name})"
            )
        self.problems.add(
            found.line,
            "",
            "duplicate",
            message,
            "A repeated record weighs more in training, and a validation record that repeats a "
            "training one flatters the validation loss. The 'remove duplicates' fix-up keeps "
            "the first copy.",
            "warning",
            found.offset,
        )


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "array"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if value is None:
        return "null"
    return "number"


# --------------------------------------------------------------------------- the dataset


def _check_path(path: Path, what: str) -> int:
    if not path.exists():
        raise DatasetError(
            f"The {what} {path} does not exist (no such file).",
            hint="Check the path (prepare the files first with `bedrock-tune prepare`).",
        )
    if path.is_dir():
        raise DatasetError(
            f"The {what} {path} is a folder, not a JSONL file.",
            hint="Give the path of the .jsonl file inside it (e.g. train.jsonl).",
        )
    # A FIFO, socket or device is refused from its stat: opening a FIFO would block forever.
    check_readable_file(path, what, hint="Give a JSONL file (check its permissions).")
    try:
        with path.open("rb"):
            pass
    except OSError as error:
        raise DatasetError(
            f"The {what} {path} cannot be read: {error.strerror}.",
            hint="Check the file's permissions.",
        ) from None
    return path.stat().st_size


def validate(
    train: Path,
    model: BaseModel,
    kind: CustomizationType = CustomizationType.FINE_TUNING,
    *,
    validation: Path | None = None,
    training_uri: str | None = None,
    validation_uri: str | None = None,
    dataset_bucket: str | None = None,
    max_problems_per_rule: int = DEFAULT_MAX_PROBLEMS,
    duplicate_capacity: int = 500_000,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> ValidationReport:
    """Check a training file (and optionally a validation file) against every rule of `model`.

    Args:
        train: the training JSONL file.
        model: the base model (its family and limits decide the rules).
        kind: the customization type (it decides the data format).
        validation: the validation JSONL file, if any.
        training_uri / validation_uri: S3 URIs the files will have, checked when given.
        dataset_bucket: the bucket of the dataset (Nova media must sit in it), when known.
        max_problems_per_rule: problems kept per rule and file (counts stay exact).
        duplicate_capacity: distinct records remembered for the duplicate check.
        progress: called after each block with (bytes done, bytes in all, what).
        cancelled: polled after each block; when it returns True the check stops.

    Raises:
        DatasetError: a file is missing, a folder, or unreadable.
        ValidationError: the model does not support `kind`.
        ValidationCancelled: `cancelled()` became true.
    """
    rules = rules_for(model, kind, dataset_bucket=dataset_bucket)
    sizes = {"train": _check_path(train, "training file")}
    if validation is not None:
        sizes["validation"] = _check_path(validation, "validation file")
    total_bytes = sum(sizes.values())
    reports: dict[str, FileReport] = {}
    done_before = 0
    step = max(total_bytes // 100, 1)
    reported = [-step]
    with DuplicateIndex(duplicate_capacity) as index:
        for role, path in (("train", train), ("validation", validation)):
            if path is None:
                continue
            what = f"checking {path.name}"

            def on_block(done: int, before: int = done_before, what: str = what) -> None:
                # Reported about every 1% (a screen redraws on each call), always at the end.
                if progress is not None:
                    now = before + done
                    if now - reported[0] >= step or now >= total_bytes:
                        reported[0] = now
                        progress(now, total_bytes, what)
                if cancelled():
                    raise ValidationCancelled("Validation cancelled; nothing was changed.")

            scan = _FileScan(path, role, rules, index, max_problems_per_rule, on_block)
            _file_checks(scan, rules, sizes[role])
            reports[role] = scan.run()
            done_before += sizes[role]
    dataset = Collector(max_problems_per_rule, "")
    _dataset_checks(dataset, rules, reports, training_uri, validation_uri)
    return ValidationReport(rules, reports["train"], reports.get("validation"), dataset.groups())


def _file_checks(scan: _FileScan, rules: RuleSet, size: int) -> None:
    """The checks of a file as a whole that need no reading: name, extension, size."""
    add = scan.problems.add
    path = scan.path
    problem = file_name_problem(path.name, rules)
    if problem:
        add(None, "", "file-name", problem[0], problem[1], "error")
    if path.suffix.lower() != ".jsonl":
        add(
            None,
            "",
            "file-extension",
            f"{path.name} does not end in .jsonl",
            "Bedrock expects JSON Lines files named *.jsonl; rename it before uploading.",
            "warning",
        )
    limits = rules.limits
    limit = (
        limits.max_train_file_bytes if scan.role == "train" else limits.max_validation_file_bytes
    )
    if limit is not None and size > limit:
        add(
            None,
            "",
            "file-size",
            f"{path.name} is {fmt.size(size)}; {rules.label} takes at most {fmt.size(limit)} of "
            f"{'training' if scan.role == 'train' else 'validation'} data",
            "Use fewer or shorter records.",
            "error",
        )


def _dataset_checks(
    dataset: Collector,
    rules: RuleSet,
    reports: dict[str, FileReport],
    training_uri: str | None,
    validation_uri: str | None,
) -> None:
    """Record counts, validation support, media across files, URIs, unknown limits."""
    limits = rules.limits
    name = rules.label
    train = reports["train"]
    validation = reports.get("validation")
    add = dataset.add
    for uri in (training_uri, validation_uri):
        problem = s3_uri_problem(uri) if uri else None
        if problem:
            add(
                None, "", "file-name", problem, "Use a key of letters, digits and -!_*'().", "error"
            )
    if train.records == 0:
        add(
            None,
            "",
            "file-empty",
            f"{train.path.name} holds no record",
            "Prepare the data again, or point to the right file.",
            "error",
        )
    if validation is not None and validation.records == 0:
        add(
            None,
            "",
            "file-empty",
            f"{validation.path.name} holds no record",
            "Leave the validation file out, or fill it.",
            "error",
        )
    val_records = validation.records if validation is not None else 0
    if validation is not None and not limits.validation_data_supported:
        add(
            None,
            "",
            "validation-not-supported",
            f"{name} takes no validation file",
            "Leave the validation file out (merge its records into training if you want them).",
            "error",
        )
    counted = train.records + (val_records if rules.min_counts_sum else 0)
    if limits.min_records is not None and train.records and counted < limits.min_records:
        what = "training + validation records" if rules.min_counts_sum else "training records"
        add(
            None,
            "",
            "record-count",
            f"{counted:,} {what}; {name} needs at least {limits.min_records:,}",
            "Add records (AWS recommends at least 100 per task).",
            "error",
        )
    for records, limit, what in (
        (train.records, limits.max_train_records, "training records"),
        (val_records, limits.max_validation_records, "validation records"),
        (train.records + val_records, limits.max_total_records, "training + validation records"),
    ):
        if limit is not None and records > limit:
            add(
                None,
                "",
                "record-count",
                f"{records:,} {what}; {name} takes at most {limit:,}",
                "Use fewer records (the total is often an adjustable Service Quotas quota).",
                "error",
            )
    kinds: Counter[str] = Counter()
    for report in reports.values():
        kinds.update({k: v for k, v in report.media.items() if v})
    media = {k for k in kinds if k != "text"}
    if (
        rules.no_mixed_media
        and ("image" in media or "image+video" in media)
        and ("video" in media or "image+video" in media)
    ):
        add(
            None,
            "",
            "media-mixed",
            f"the dataset mixes image records ({kinds['image']:,}) and video records "
            f"({kinds['video']:,}); {rules.model.name} takes one media type per dataset",
            "Train on images and on video in separate jobs.",
            "error",
        )
    elif rules.homogeneous_media and len(kinds) > 1:
        shown = ", ".join(f"{v:,} {k}" for k, v in sorted(kinds.items()))
        add(
            None,
            "",
            "media-mixed",
            f"the dataset mixes record kinds ({shown}); {rules.model.name} needs all text, all "
            "text + image, or all text + video",
            "Keep one kind of record per dataset.",
            "error",
        )
    if limits.max_tokens_per_record is None:
        reason = next((n for n in limits.notes if "oken" in n), "no source gives it")
        add(
            None,
            "",
            "tokens-unchecked",
            f"{rules.model.name}'s per-record token limit is unknown, so record lengths are not "
            "checked",
            f"{reason} Keep records short, and check the live documentation.",
            "warning",
        )
