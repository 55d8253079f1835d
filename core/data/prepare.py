"""Preparation: render, filter, dedupe, sample and split a dataset into the JSONL files Bedrock
takes, plus a manifest saying how they were made. Deterministic for a seed; bounded memory.

The files are written as one set (core/swap.py): into a folder beside the output folder, which
then replaces it, so the output folder always holds one whole set, old or new, even after a
kill. No split is ever written empty: when fewer records pass the filters than were asked for,
the sizes shrink in proportion (said in a note and in the manifest); when too few pass for the
model's minimum, preparing fails.

Two paths give the same kind of result:

* Arrow-backed sources (a `save_to_disk` folder, Parquet) are memory-mapped. The length filter
  is computed from the columns' offsets (byte lengths, with an exact character count only for
  the few rows where bytes and characters could disagree), so picking 1,000 records from
  287,113 renders about 1,000 records, not 287,113.
* Every other source (JSONL, JSON, CSV, the hub) is streamed once, with seeded reservoir
  sampling: memory grows with the sample, not the dataset.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import random
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from core import format as fmt
from core.catalog.types import BaseModel, CustomizationType, DataFormat, Limits
from core.data.prepared import ALL_FILES, MANIFEST, PreparedDir, Split, split_file_name
from core.data.sources import SourceSpec, detect_kind, iter_records, open_table
from core.data.templates import Template, bedrock_line, check_syntax, render
from core.data.tokens import estimate_tokens
from core.errors import BedrockTuneError, DatasetError, TemplateError, ValidationError
from core.faults import write_point
from core.files import check_output_folder
from core.swap import FolderSwap, check_swappable, recover
from core.version import __version__

Progress = Callable[[int, int | None, str], None]
"""progress(done, total or None, what) is called as the work goes on."""


class PrepareCancelled(BedrockTuneError):
    """The user cancelled; nothing was written."""

    default_title = "Preparation cancelled"


@dataclass(frozen=True)
class PrepareOptions:
    """Sizes, filters and the seed."""

    train: int = 1000
    validation: int = 0
    test: int = 0
    max_chars: int | None = None
    """Characters of system + user + assistant together (as the seed walkthrough counts)."""
    max_tokens: int | None = None
    """Estimated tokens per record (core/tokens.py)."""
    dedupe: bool = True
    seed: int = 42
    overwrite: bool = False

    @property
    def wanted(self) -> int:
        """How many records to pick in all."""
        return self.train + self.validation + self.test


@dataclass(frozen=True)
class PrepareResult:
    """What was written."""

    out_dir: Path
    counts: dict[str, int]
    dropped: dict[str, int]
    examined: int
    files: tuple[str, ...]
    manifest: dict[str, Any] = field(repr=False)
    notes: tuple[str, ...] = ()
    """What the user should know about the result (sizes shrunk to fit the data)."""


def default_sizes(limits: Limits, validation_supported: bool = True) -> tuple[int, int, int]:
    """Train / validation / test sizes inside the model's limits (1,000 / 100 / 100 at most)."""
    train = min(1000, limits.max_train_records or 1000)
    if limits.max_total_records is not None:
        train = min(train, limits.max_total_records - (100 if validation_supported else 0))
    validation = 0
    if validation_supported and limits.validation_data_supported:
        validation = min(100, limits.max_validation_records or 100)
    return train, validation, 100


def sizes_or_defaults(
    limits: Limits, train: int | None, validation: int | None, test: int | None
) -> tuple[int, int, int]:
    """The sizes given, with `default_sizes` for those left out (a recipe may state only some:
    the app, the prompt mode and replay read it alike)."""
    default_train, default_validation, default_test = default_sizes(limits)
    return (
        default_train if train is None else train,
        default_validation if validation is None else validation,
        default_test if test is None else test,
    )


def chars_limit_or_default(
    limits: Limits, train: int | None, max_chars: int | None, max_tokens: int | None
) -> int | None:
    """The longest record kept, in characters: the one given; none (no limit, or the token
    limit alone) when sizes or a token limit are given without it, as a run prepared without a
    limit (and its recipe) says; the model's own when nothing is given at all."""
    if max_chars is not None or max_tokens is not None or train is not None:
        return max_chars
    return limits.max_chars_per_record


def fit_sizes(
    available: int,
    sizes: tuple[int, int, int],
    min_records: int | None = None,
    *,
    counted: str = "passed the filters",
) -> tuple[tuple[int, int, int], str | None]:
    """Train / validation / test sizes that `available` records can fill, and a note when they
    had to shrink (None when `sizes` fit as asked). `counted` says where the records were
    counted, for the messages ("passed the filters", "in the dataset").

    Shrinking keeps the proportions; every split asked for keeps at least one record (no split
    is ever empty), and training + validation keep the model's minimum (test gives way first).

    Raises:
        DatasetError: too few records for the model's minimum (plus one per other split asked).
    """
    train, validation, test = sizes
    wanted = train + validation + test
    if available >= wanted:
        return sizes, None
    minimum = max(min_records or 0, 1 + (1 if validation else 0))
    needed = minimum + (1 if test else 0)
    if available < needed:
        what = "training + validation" if validation else "training"
        wants = f"at least {fmt.plural(minimum, f'{what} record')}"
        if test:
            wants += " and 1 test record"
        raise DatasetError(
            f"Only {fmt.plural(available, 'record')} {counted}; {wants} are needed "
            f"({needed:,} in all).",
            hint="Use a larger dataset, raise the length limit, or keep duplicates"
            + (" (or set test to 0)" if test else "")
            + ".",
        )
    scale = available / wanted
    new_validation = max(1, math.floor(validation * scale)) if validation else 0
    new_test = max(1, math.floor(test * scale)) if test else 0
    new_train = available - new_validation - new_test
    short = minimum - (new_train + new_validation)
    if short > 0:  # the model's minimum first: the test set gives way (down to one record)
        new_test -= short
        new_train += short
    if new_train < 1:  # validation gives way to keep one training record
        new_validation -= 1 - new_train
        new_train = 1
    fitted = (new_train, new_validation, new_test)
    shown = ", ".join(
        f"{n:,} {label}"
        for n, label in zip(fitted, ("train", "validation", "test"), strict=True)
        if n
    )
    note = (
        f"Only {fmt.plural(available, 'record')} {counted} ({wanted:,} asked): the sizes shrank "
        f"in proportion to {shown}."
    )
    return fitted, note


def check_sizes(model: BaseModel, kind: CustomizationType, options: PrepareOptions) -> list[str]:
    """Every way the sizes break the model's limits (empty when they fit)."""
    custom = model.customization(kind)
    if custom is None:
        return [f"{model.name} does not support {kind.label.lower()}"]
    limits = custom.limits
    problems = []
    if min(options.train, options.validation, options.test) < 0:
        problems.append("sizes cannot be negative")
    if options.train <= 0:
        problems.append("the training set needs at least one record")
    if limits.min_records and 0 < options.train + options.validation < limits.min_records:
        problems.append(
            f"{model.name} needs at least {limits.min_records:,} records; "
            f"{options.train + options.validation:,} asked"
        )
    if limits.max_train_records and options.train > limits.max_train_records:
        problems.append(
            f"{model.name} takes at most {limits.max_train_records:,} training records; "
            f"{options.train:,} asked"
        )
    if options.validation and not limits.validation_data_supported:
        problems.append(f"{model.name} does not accept validation data for this customization")
    if limits.max_validation_records and options.validation > limits.max_validation_records:
        problems.append(
            f"{model.name} takes at most {limits.max_validation_records:,} validation records; "
            f"{options.validation:,} asked"
        )
    total = options.train + options.validation
    if limits.max_total_records and total > limits.max_total_records:
        problems.append(
            f"{model.name} takes at most {limits.max_total_records:,} training + validation "
            f"records; {total:,} asked"
        )
    return problems


# --------------------------------------------------------------------------- the work


@dataclass
class _Tally:
    dropped: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    examined: int = 0

    def drop(self, reason: str, where: str, detail: str = "") -> None:
        self.dropped[reason] += 1
        self.examples.setdefault(reason, f"{where}: {detail}" if detail else where)


class _Filter:
    """Render one record and decide whether it is kept (with the reason when not)."""

    def __init__(
        self, template: Template, fmt: DataFormat, options: PrepareOptions, chars_per_token: float
    ) -> None:
        self.template = template
        self.fmt = fmt
        self.options = options
        self.chars_per_token = chars_per_token
        self.seen: set[bytes] = set()

    def __call__(self, where: str, record: dict[str, Any], tally: _Tally) -> bytes | None:
        tally.examined += 1
        try:
            rendered = render(self.template, record)
        except TemplateError as error:
            reason = (
                "not-text"
                if "not text" in error.message
                else ("null-value" if "null" in error.message else "missing-column")
            )
            tally.drop(reason, where, error.message)
            return None
        # Prompt-only formats (distillation) take a record without its answer.
        required = [
            text
            for role, text in rendered.messages
            if not (role == "assistant" and self.fmt.answer_optional)
        ]
        if not rendered.messages or any(not text.strip() for text in required):
            tally.drop("empty", where)
            return None
        if self.options.max_chars is not None and rendered.chars > self.options.max_chars:
            tally.drop("too-long", where, f"{rendered.chars:,} characters")
            return None
        if self.options.max_tokens is not None:
            text = rendered.system + "".join(t for _, t in rendered.messages)
            tokens = estimate_tokens(text, self.chars_per_token)
            if tokens > self.options.max_tokens:
                tally.drop("too-long", where, f"about {tokens:,} tokens")
                return None
        line = bedrock_line(rendered, self.fmt)
        if self.options.dedupe:
            digest = hashlib.blake2b(line, digest_size=8).digest()
            if digest in self.seen:
                tally.drop("duplicate", where)
                return None
            self.seen.add(digest)
        return line


def _static_chars(template: Template) -> tuple[int, Counter[str]] | None:
    """Characters of the template's fixed text and how often each column appears, or None when
    the length is not a sum of column lengths (optional blocks, chat columns)."""
    if template.messages_column or any("[[" in t for t in template.texts().values()):
        return None
    from core.data.templates import _PLACEHOLDER

    counts: Counter[str] = Counter()
    static = 0
    for text in template.texts().values():
        last = 0
        for match in _PLACEHOLDER.finditer(text):
            static += match.start() - last
            last = match.end()
            if match.group(1) is None:
                static += 1  # {{ or }} renders one brace
            else:
                counts[match.group(1).strip()] += 1
        static += len(text) - last
    return static, counts


class _RowReader:
    """Fetch rows by index from a memory-mapped table without copying whole columns.

    `Table.take` on a chunked table first concatenates every chunk of a column (a copy of the
    whole column: gigabytes for a news corpus); taking from each record batch copies only the
    rows asked for.
    """

    def __init__(self, table: Any) -> None:
        import numpy as np

        self._batches = table.to_batches()
        self._starts = np.cumsum([0] + [b.num_rows for b in self._batches])

    def rows(self, indices: Any) -> list[dict[str, Any]]:
        """The records at `indices`, in that order."""
        import numpy as np
        import pyarrow as pa

        indices = np.asarray(indices, dtype=np.int64)
        batch_of = np.searchsorted(self._starts, indices, side="right") - 1
        found: dict[int, dict[str, Any]] = {}
        for batch_index in np.unique(batch_of):
            wanted = indices[batch_of == batch_index]
            local = wanted - self._starts[batch_index]
            taken = self._batches[int(batch_index)].take(pa.array(local)).to_pylist()
            found.update(zip(wanted.tolist(), taken, strict=True))
        return [found[int(i)] for i in indices]


def _arrow_candidates(
    table: Any, template: Template, options: PrepareOptions, tally: _Tally
) -> Any:
    """Row indices that may pass the filters, computed from column offsets."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    shape = _static_chars(template)
    missing = [c for c in template.required_columns() if c not in table.column_names]
    if missing:
        raise TemplateError(
            f"The template names column(s) {', '.join(missing)}, which the dataset does not have.",
            hint=f"Available columns: {', '.join(table.column_names)}.",
        )
    if shape is None:
        return np.arange(table.num_rows)
    static, counts = shape
    valid = np.ones(table.num_rows, dtype=bool)
    total_bytes = np.full(table.num_rows, static, dtype=np.int64)
    for name, times in counts.items():
        column = table.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            tally.dropped["not-text"] += table.num_rows
            tally.examples.setdefault("not-text", f"column '{name}' is {column.type}")
            return np.arange(0)
        lengths = pc.binary_length(column)
        nulls = pc.is_null(lengths).to_numpy(zero_copy_only=False)
        valid &= ~nulls
        total_bytes += times * pc.fill_null(lengths, 0).to_numpy(zero_copy_only=False)
    dropped_null = int((~valid).sum())
    if dropped_null:
        tally.dropped["null-value"] += dropped_null
        tally.examples.setdefault("null-value", f"row {int(np.argmin(valid))}")
    if options.max_chars is None:
        return np.nonzero(valid)[0]
    sure = valid & (total_bytes <= options.max_chars)
    maybe = np.nonzero(valid & (total_bytes > options.max_chars))[0]
    keep = [np.nonzero(sure)[0]]
    if len(maybe):
        # Bytes over the limit: only non-ASCII text can still fit in characters. Count those
        # rows' characters exactly (a small subset for mostly-ASCII corpora).
        subset = _RowReader(table).rows(maybe)
        chars = np.full(len(maybe), static, dtype=np.int64)
        for name, times in counts.items():
            chars += times * np.array([len(r.get(name) or "") for r in subset], dtype=np.int64)
        fits = chars <= options.max_chars
        keep.append(maybe[fits])
        too_long = int((~fits).sum())
        if too_long:
            tally.dropped["too-long"] += too_long
            tally.examples.setdefault("too-long", f"row {int(maybe[~fits][0])}")
    return np.sort(np.concatenate(keep))


def _pick_arrow(
    spec: SourceSpec,
    accept: _Filter,
    options: PrepareOptions,
    tally: _Tally,
    progress: Progress | None,
    cancelled: Callable[[], bool],
) -> list[bytes]:
    import numpy as np

    table = open_table(spec)
    candidates = _arrow_candidates(table, accept.template, options, tally)
    order = np.random.default_rng(options.seed).permutation(candidates)
    reader = _RowReader(table)
    chosen: list[bytes] = []
    position = 0
    while len(chosen) < options.wanted and position < len(order):
        if cancelled():
            raise PrepareCancelled("Cancelled; nothing was written.")
        need = options.wanted - len(chosen)
        chunk = order[position : position + max(64, need + need // 4)]
        position += len(chunk)
        for index, record in zip(chunk, reader.rows(chunk), strict=True):
            line = accept(f"row {int(index)}", record, tally)
            if line is not None:
                chosen.append(line)
                if len(chosen) == options.wanted:
                    break
        if progress:
            progress(len(chosen), options.wanted, "rendering the sampled records")
    return chosen


def _pick_stream(
    records: Iterator[tuple[str, dict[str, Any]]],
    accept: _Filter,
    options: PrepareOptions,
    tally: _Tally,
    progress: Progress | None,
    cancelled: Callable[[], bool],
) -> list[bytes]:
    rng = random.Random(options.seed)
    reservoir: list[bytes] = []
    accepted = 0
    for where, record in records:
        line = accept(where, record, tally)
        if tally.examined % 2000 == 0:
            if cancelled():
                raise PrepareCancelled("Cancelled; nothing was written.")
            if progress:
                progress(tally.examined, None, "reading and rendering records")
        if line is None:
            continue
        if accepted < options.wanted:
            reservoir.append(line)
        else:
            slot = rng.randrange(accepted + 1)
            if slot < options.wanted:
                reservoir[slot] = line
        accepted += 1
    rng.shuffle(reservoir)
    return reservoir


def prepare(
    spec: SourceSpec,
    template: Template,
    model: BaseModel,
    out_dir: Path,
    options: PrepareOptions,
    *,
    kind: CustomizationType = CustomizationType.FINE_TUNING,
    progress: Progress | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> PrepareResult:
    """Write train / validation / test JSONL files and manifest.json into `out_dir`.

    Raises:
        ValidationError: sizes outside the model's limits, or prepared files already in
            `out_dir` (unless `options.overwrite`).
        FileAccessError: `out_dir` is not a folder that can be written (a file, read-only,
            under /proc).
        DatasetError / TemplateError: the source cannot be read or does not fit the template.
        PrepareCancelled: `cancelled()` became true; nothing was written.
    """
    check_syntax(template)
    check_output_folder(out_dir)
    problems = check_sizes(model, kind, options)
    if problems:
        raise ValidationError(
            "The sizes do not fit the model:\n" + "\n".join(f"- {p}" for p in problems),
            hint="Lower the sizes (sizes may be 0 for validation and test).",
        )
    recover(out_dir, ALL_FILES)  # finish or undo a swap a killed run left half-done
    present = PreparedDir(out_dir).existing()
    if present and not options.overwrite:
        raise ValidationError(
            f"{out_dir} already holds prepared files ({', '.join(present)}).",
            hint="Choose another output folder, or overwrite them on purpose (--force).",
        )
    check_swappable(out_dir)  # before the work, not after it
    custom = model.customization(kind)
    assert custom is not None
    accept = _Filter(template, custom.data_format, options, custom.limits.chars_per_token)
    tally = _Tally()
    source_kind = detect_kind(spec)
    if source_kind in ("disk", "parquet"):
        lines = _pick_arrow(spec, accept, options, tally, progress, cancelled)
    else:
        lines = _pick_stream(iter_records(spec), accept, options, tally, progress, cancelled)
    if not lines:
        reasons = ", ".join(f"{n} {r}" for r, n in tally.dropped.most_common()) or "none read"
        example = next(iter(tally.examples.values()), "")
        raise DatasetError(
            f"No record of {spec.describe()} passed the filters (dropped: {reasons}).",
            hint=(f"For example {example.rstrip('.')}. " if example else "")
            + "Check the template's columns and the length limit.",
        )
    requested = (options.train, options.validation, options.test)
    (train, validation, test), note = fit_sizes(len(lines), requested, custom.limits.min_records)
    notes = (note,) if note else ()
    splits: dict[Split, list[bytes]] = {
        "train": lines[:train],
        "validation": lines[train : train + validation],
        "test": lines[train + validation : train + validation + test],
    }
    counts: dict[str, int] = {split: len(part) for split, part in splits.items()}
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "bedrock_tune_version": __version__,
        "source": asdict(spec),
        "template": {k: v for k, v in asdict(template).items() if v not in (None, {}, "")},
        "model": model.id,
        "customization_type": kind.value,
        "format": custom.data_format.value,
        "options": asdict(options),
        "counts": counts,
        "requested": {
            "train": options.train,
            "validation": options.validation,
            "test": options.test,
        },
        "notes": list(notes),
        "examined": tally.examined,
        "dropped": dict(tally.dropped),
        "dropped_examples": tally.examples,
    }
    if cancelled():
        raise PrepareCancelled("Cancelled; nothing was written.")
    written = _write_set(out_dir, splits, manifest)
    return PrepareResult(
        out_dir, counts, dict(tally.dropped), tally.examined, written, manifest, notes
    )


def _write_set(
    out_dir: Path, splits: dict[Split, list[bytes]], manifest: dict[str, Any]
) -> tuple[str, ...]:
    """Write the non-empty splits and the manifest as one set (core/swap.py); their names."""
    written: list[str] = []
    with FolderSwap(out_dir, ALL_FILES, point="prepare") as staging:
        for split, part in splits.items():
            if not part:
                continue  # never an empty split file
            name = split_file_name(split)
            with (staging / name).open("wb") as stream:
                for line in part:
                    stream.write(line)
                    stream.write(b"\n")
                stream.flush()
                os.fsync(stream.fileno())
            written.append(name)
            write_point(f"prepare.wrote-{name}")
        with (staging / MANIFEST).open("wb") as stream:
            stream.write(json.dumps(manifest, indent=2, ensure_ascii=False).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        written.append(MANIFEST)
    return tuple(written)
