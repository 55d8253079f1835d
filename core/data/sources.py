"""Opening a dataset: a Hugging Face hub id, a local JSONL / JSON / CSV / Parquet file, or a
`save_to_disk` folder. Previews read only the head (streaming from the hub; the first lines of a
local file; the first record batch of an Arrow file), so they take the same time for 1 MB or 1 GB.

Errors say what is wrong, where (file, line) and what to do. `datasets` and `pyarrow` are
imported inside functions: importing this module is cheap.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson

from core.errors import DatasetError
from core.files import check_readable_file

SourceKind = Literal["jsonl", "json", "csv", "parquet", "disk", "hub"]
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*(/[\w.-]+)?")
_SUFFIXES: dict[str, SourceKind] = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
COUNT_LIMIT_BYTES = 64 * 1024 * 1024
"""Local text files up to this size get an exact row count; larger ones are not counted."""


@dataclass(frozen=True)
class SourceSpec:
    """Where a dataset is: a path or hub id, plus the hub config and the split."""

    location: str
    config: str | None = None
    split: str | None = None

    def describe(self) -> str:
        """`location` with its config and split, for messages and manifests."""
        extra = [x for x in (self.config, self.split) if x]
        return self.location + (f" ({', '.join(extra)})" if extra else "")


@dataclass(frozen=True)
class Column:
    """A column and its type as a person would read it (`string`, `int64`, `list<...>`)."""

    name: str
    type: str


@dataclass(frozen=True)
class Preview:
    """The head of a dataset."""

    spec: SourceSpec
    kind: SourceKind
    columns: tuple[Column, ...]
    rows: tuple[dict[str, Any], ...]
    num_rows: int | None
    """Known row count, or None when counting would mean reading everything."""
    note: str = ""

    @property
    def column_names(self) -> tuple[str, ...]:
        """The column names, in order."""
        return tuple(c.name for c in self.columns)


def looks_local(location: str) -> bool:
    """Whether `location` is meant as a local path rather than a Hugging Face id: it starts
    like a path (`/`, `.`, `~`), has a file suffix (`data.jsonl`), or is there on disk."""
    return (
        location.startswith((".", "/", "~"))
        or bool(Path(location).suffix)
        or Path(location).expanduser().exists()
    )


def detect_kind(spec: SourceSpec) -> SourceKind:
    """Decide what the location is; raise a clear error when it is nothing we can open."""
    path = Path(spec.location).expanduser()
    if path.is_dir():
        if _disk_split_dir(path, spec.split) is not None:
            return "disk"
        raise DatasetError(
            f"{path} is a folder, but not a dataset saved with `save_to_disk` (no "
            "dataset_info.json / state.json / dataset_dict.json in it).",
            hint="Give a JSONL, JSON, CSV or Parquet file, a `save_to_disk` folder, or a "
            "Hugging Face dataset id.",
        )
    if path.exists():
        # Refused from its stat, never opened: a FIFO would block the read forever.
        check_readable_file(
            path,
            "dataset file",
            hint="Give a readable JSONL, JSON, CSV or Parquet file (check its permissions), "
            "a `save_to_disk` folder, or a Hugging Face dataset id.",
        )
        kind = _SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise DatasetError(
                f"{path}: unknown file type '{path.suffix or '(none)'}'.",
                hint="Use .jsonl, .json, .csv or .parquet.",
            )
        return kind
    if not looks_local(spec.location) and _HUB_ID.fullmatch(spec.location):
        return "hub"
    raise DatasetError(
        f"{spec.location}: no such file or folder.",
        hint="Check the path (relative paths start from the current folder), or give a "
        "Hugging Face dataset id such as `cnn_dailymail`.",
    )


def preview(spec: SourceSpec, n: int = 20) -> Preview:
    """The columns, the first `n` records and the row count when it is cheap to know."""
    kind = detect_kind(spec)
    if kind == "jsonl":
        return _preview_jsonl(spec, n)
    if kind == "json":
        rows = _load_json(Path(spec.location).expanduser())
        return Preview(spec, kind, _columns_of(rows[:n]), tuple(rows[:n]), len(rows))
    if kind == "csv":
        return _preview_csv(spec, n)
    if kind == "hub":
        return _preview_hub(spec, n)
    table_kind: SourceKind = kind
    table = open_table(spec)
    head = table.slice(0, n).to_pylist()
    columns = tuple(Column(f.name, str(f.type)) for f in table.schema)
    return Preview(spec, table_kind, columns, tuple(head), table.num_rows)


# --------------------------------------------------------------------------- JSONL / JSON / CSV


def _parse_json_line(raw: bytes, path: Path, number: int) -> dict[str, Any]:
    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise DatasetError(
            f"{path}, line {number}: not valid JSON ({error}).",
            hint="Each line of a JSONL file must be one complete JSON object. Fix or remove "
            "that line.",
        ) from None
    if not isinstance(record, dict):
        raise DatasetError(
            f"{path}, line {number}: a JSON {type(record).__name__}, not an object.",
            hint='Each line must be an object such as {"text": "..."}.',
        )
    return record


def iter_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, record) for every non-blank line; a broken line raises with its number."""
    with path.open("rb") as stream:
        for number, raw in enumerate(stream, 1):
            if number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                continue
            yield number, _parse_json_line(raw, path, number)


def _count_lines(path: Path) -> int | None:
    size = path.stat().st_size
    if size > COUNT_LIMIT_BYTES:
        return None
    count = 0
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            count += block.count(b"\n")
    with path.open("rb") as stream:
        stream.seek(max(0, size - 1))
        if size and stream.read(1) != b"\n":
            count += 1
    return count


def _empty_file(path: Path) -> DatasetError:
    return DatasetError(
        f"{path} is empty.", hint="Choose a file that holds records (one JSON object per line)."
    )


def _preview_jsonl(spec: SourceSpec, n: int) -> Preview:
    path = Path(spec.location).expanduser()
    if path.stat().st_size == 0:
        raise _empty_file(path)
    rows: list[dict[str, Any]] = []
    for _, record in iter_jsonl(path):
        rows.append(record)
        if len(rows) >= n:
            break
    if not rows:
        raise DatasetError(f"{path} holds only blank lines.", hint="Choose a file with records.")
    count = _count_lines(path)
    note = "" if count is not None else "row count not computed for a file this large"
    return Preview(spec, "jsonl", _columns_of(rows), tuple(rows), count, note)


def _load_json(path: Path) -> list[dict[str, Any]]:
    raw = path.read_bytes()
    if not raw.strip():
        raise _empty_file(path)
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise DatasetError(
            f"{path}: not valid JSON ({error}).",
            hint='A .json file must hold a list of objects (or {"data": [...]}); for one '
            "object per line use the .jsonl extension.",
        ) from None
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        data = lists[0] if len(lists) == 1 else data
    if not isinstance(data, list) or not all(isinstance(r, dict) for r in data):
        raise DatasetError(
            f"{path}: expected a list of objects.",
            hint='Shape it as [{"column": "value"}, ...].',
        )
    return data


def _csv_reader(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8-sig", newline="") as stream:
        reader = csv.reader(stream)
        try:
            header = next(reader)
        except StopIteration:
            raise _empty_file(path) from None
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise DatasetError(
                    f"{path}, line {reader.line_num}: {len(row)} fields where the header has "
                    f"{len(header)}.",
                    hint="Quote fields that contain commas or line breaks, and give every row "
                    "as many fields as the header.",
                )
            yield reader.line_num, dict(zip(header, row, strict=True))


def _preview_csv(spec: SourceSpec, n: int) -> Preview:
    path = Path(spec.location).expanduser()
    if path.stat().st_size == 0:
        raise _empty_file(path)
    rows = []
    for _, record in _csv_reader(path):
        rows.append(record)
        if len(rows) >= n:
            break
    columns = _columns_of(rows)
    if not columns:
        with path.open(encoding="utf-8-sig", newline="") as stream:
            header = next(csv.reader(stream), [])
        columns = tuple(Column(h, "string") for h in header)
    return Preview(spec, "csv", columns, tuple(rows), None, "row count not computed for CSV")


def _type_name(value: Any) -> str:
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "double"
    if isinstance(value, list):
        inner = sorted({_type_name(v) for v in value[:20]})
        return f"list<{'|'.join(inner) or 'null'}>"
    if isinstance(value, dict):
        return "struct"
    return "null" if value is None else type(value).__name__


def _columns_of(rows: list[dict[str, Any]]) -> tuple[Column, ...]:
    names: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            names.setdefault(key, set()).add(_type_name(value))
    result = []
    for name, kinds in names.items():
        concrete = sorted(kinds - {"null"})
        label = "|".join(concrete) if concrete else "null"
        if "null" in kinds and concrete:
            label += " (nullable)"
        result.append(Column(name, label))
    return tuple(result)


# --------------------------------------------------------------------------- Arrow sources


def _disk_split_dir(path: Path, split: str | None) -> Path | None:
    """The folder of one split of a `save_to_disk` dataset (a Dataset or a DatasetDict)."""
    if (path / "state.json").is_file():
        return path
    manifest = path / "dataset_dict.json"
    if manifest.is_file():
        try:
            splits = json.loads(manifest.read_text())["splits"]
        except (ValueError, KeyError):
            return None
        chosen = split or ("train" if "train" in splits else splits[0])
        if chosen not in splits:
            raise DatasetError(
                f"{path} has no split '{chosen}'.", hint=f"Choose one of: {', '.join(splits)}."
            )
        folder = path / chosen
        return folder if (folder / "state.json").is_file() else None
    return None


def open_table(spec: SourceSpec) -> Any:
    """A `pyarrow.Table` over a Parquet file or a `save_to_disk` split, memory-mapped.

    Nothing is copied into memory: columns are read as they are touched.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(spec.location).expanduser()
    kind = detect_kind(spec)
    if kind == "parquet":
        try:
            return pq.read_table(path, memory_map=True)
        except (pa.ArrowInvalid, OSError) as error:
            raise DatasetError(
                f"{path}: not a readable Parquet file ({error}).",
                hint="Re-export it, or convert it to JSONL.",
            ) from None
    if kind != "disk":
        raise DatasetError(f"{path} is not an Arrow-backed dataset.", hint="Use iter_records.")
    folder = _disk_split_dir(path, spec.split)
    assert folder is not None
    state = json.loads((folder / "state.json").read_text())
    files = [folder / f["filename"] for f in state.get("_data_files", [])]
    if not files:
        raise DatasetError(f"{folder}/state.json lists no data files.", hint="Save it again.")
    tables = []
    for file in files:
        try:
            source = pa.memory_map(str(file), "r")
            tables.append(pa.ipc.open_stream(source).read_all())
        except (pa.ArrowInvalid, OSError) as error:
            raise DatasetError(
                f"{file}: not a readable Arrow file ({error}).", hint="Save the dataset again."
            ) from None
    return pa.concat_tables(tables) if len(tables) > 1 else tables[0]


# --------------------------------------------------------------------------- the hub


def _hub_error(spec: SourceSpec, error: BaseException) -> DatasetError:
    from datasets.exceptions import DatasetNotFoundError
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError

    name = spec.location
    text = str(error)
    if isinstance(error, GatedRepoError) or "401" in text or "gated" in text.lower():
        return DatasetError(
            f"The Hugging Face dataset '{name}' needs an access token (it is gated or private).",
            hint="Accept its terms on huggingface.co, create a token, and set HF_TOKEN "
            "(export HF_TOKEN=hf_...), then try again.",
        )
    if isinstance(error, DatasetNotFoundError) or "doesn't exist" in text:
        return DatasetError(
            f"There is no Hugging Face dataset '{name}' (or it is private).",
            hint="Check the id on huggingface.co (e.g. `cnn_dailymail` or `databricks/"
            "databricks-dolly-15k`); for a private one set HF_TOKEN.",
        )
    offline = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("HF_DATASETS_OFFLINE")
    if isinstance(error, LocalEntryNotFoundError | ConnectionError | TimeoutError) or offline:
        return DatasetError(
            f"Cannot reach the Hugging Face hub to open '{name}' (no network, or offline mode).",
            hint="Connect to the internet (and unset HF_HUB_OFFLINE), or download the dataset "
            "elsewhere and open the local file or `save_to_disk` folder instead.",
        )
    if isinstance(error, ValueError) and ("config" in text.lower() or "split" in text.lower()):
        return DatasetError(
            f"'{name}': {text.splitlines()[0]}",
            hint="Choose a config and split the dataset has (its page on huggingface.co lists "
            "them).",
        )
    return DatasetError(f"Opening '{name}' from the hub failed: {text}", hint="See the message.")


def _hub_stream(spec: SourceSpec) -> Any:
    import datasets

    try:
        return datasets.load_dataset(
            spec.location, spec.config, split=spec.split or "train", streaming=True
        )
    except Exception as error:
        raise _hub_error(spec, error) from error


def _preview_hub(spec: SourceSpec, n: int) -> Preview:
    stream = _hub_stream(spec)
    try:
        rows = list(stream.take(n))
    except Exception as error:
        raise _hub_error(spec, error) from error
    features = getattr(stream, "features", None)
    if features:
        columns = tuple(Column(name, _feature_type(f)) for name, f in features.items())
    else:
        columns = _columns_of(rows)
    total = None
    info = getattr(stream, "info", None)
    splits = getattr(info, "splits", None) or {}
    split = splits.get(spec.split or "train") if hasattr(splits, "get") else None
    if split is not None:
        total = getattr(split, "num_examples", None)
    return Preview(spec, "hub", columns, tuple(rows), total)


def _feature_type(feature: Any) -> str:
    dtype = getattr(feature, "dtype", None)
    return str(dtype) if dtype else type(feature).__name__


# --------------------------------------------------------------------------- every record


def iter_records(spec: SourceSpec) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every record with where it comes from (`line 12`, `row 3`) for error messages."""
    kind = detect_kind(spec)
    path = Path(spec.location).expanduser()
    if kind == "jsonl":
        if path.stat().st_size == 0:
            raise _empty_file(path)
        for number, record in iter_jsonl(path):
            yield f"line {number}", record
    elif kind == "json":
        for index, record in enumerate(_load_json(path)):
            yield f"record {index}", record
    elif kind == "csv":
        for number, record in _csv_reader(path):
            yield f"line {number}", record
    elif kind == "hub":
        stream = _hub_stream(spec)
        try:
            for index, record in enumerate(stream):
                yield f"row {index}", record
        except Exception as error:
            raise _hub_error(spec, error) from error
    else:
        table = open_table(spec)
        offset = 0
        for batch in table.to_batches(max_chunksize=2048):
            for index, record in enumerate(batch.to_pylist()):
                yield f"row {offset + index}", record
            offset += batch.num_rows
