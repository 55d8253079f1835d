"""Opening datasets: every kind of source, and every bad input with a clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.data.sources import SourceSpec, detect_kind, iter_records, preview
from core.errors import DatasetError
from tests.conftest import DIALOGSUM, needs_shared


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_jsonl_head_columns_and_count(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "d.jsonl", [{"q": f"question {i}", "n": i} for i in range(50)])
    shown = preview(SourceSpec(str(path)), 5)
    assert shown.kind == "jsonl" and shown.num_rows == 50
    assert [c.name for c in shown.columns] == ["q", "n"]
    assert [c.type for c in shown.columns] == ["string", "int64"]
    assert len(shown.rows) == 5 and shown.rows[0]["q"] == "question 0"


def test_csv_json_and_parquet(tmp_path: Path) -> None:
    (tmp_path / "d.csv").write_text('q,a\n"hello, you",hi\nx,y\n')
    shown = preview(SourceSpec(str(tmp_path / "d.csv")))
    assert shown.rows[0] == {"q": "hello, you", "a": "hi"}
    (tmp_path / "d.json").write_text(json.dumps({"data": [{"q": "1"}, {"q": "2"}]}))
    assert preview(SourceSpec(str(tmp_path / "d.json"))).num_rows == 2
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(
        pa.table({"q": ["a", "b", "c"], "tags": [["x"], [], None]}), tmp_path / "d.parquet"
    )
    shown = preview(SourceSpec(str(tmp_path / "d.parquet")), 2)
    assert shown.num_rows == 3 and shown.rows[1] == {"q": "b", "tags": []}
    assert shown.columns[1].type.startswith("list")


def test_save_to_disk_folder_and_splits(tmp_path: Path) -> None:
    import datasets

    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"a": ["x", "y", "z"]}),
            "test": datasets.Dataset.from_dict({"a": ["t"]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "ds"))
    assert detect_kind(SourceSpec(str(tmp_path / "ds"))) == "disk"
    assert preview(SourceSpec(str(tmp_path / "ds"))).num_rows == 3
    assert preview(SourceSpec(str(tmp_path / "ds"), split="test")).rows == ({"a": "t"},)
    with pytest.raises(DatasetError) as caught:
        preview(SourceSpec(str(tmp_path / "ds"), split="validation"))
    assert "train, test" in caught.value.hint
    assert [r for _, r in iter_records(SourceSpec(str(tmp_path / "ds")))][2] == {"a": "z"}


@needs_shared()
def test_dialogsum_preview() -> None:
    shown = preview(SourceSpec(str(DIALOGSUM / "dev.jsonl")))
    assert shown.num_rows == 500
    assert {"dialogue", "summary"} <= set(shown.column_names)


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(DatasetError) as caught:
        preview(SourceSpec(str(tmp_path / "nope.jsonl")))
    assert "no such file" in caught.value.message


def test_directory_that_is_not_a_dataset(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DatasetError) as caught:
        preview(SourceSpec(str(tmp_path)))
    assert "not a dataset saved with `save_to_disk`" in caught.value.message


@pytest.mark.parametrize("name", ["empty.jsonl", "empty.csv", "empty.json"])
def test_empty_file(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("")
    with pytest.raises(DatasetError) as caught:
        preview(SourceSpec(str(tmp_path / name)))
    assert "is empty" in caught.value.message


def test_broken_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "broken.jsonl"
    path.write_text('{"a": "1"}\n{"a": "2"}\n{"a": "3"\n')
    with pytest.raises(DatasetError) as caught:
        list(iter_records(SourceSpec(str(path))))
    assert f"{path}, line 3" in caught.value.message
    assert "one complete JSON object" in caught.value.hint


def test_ragged_csv_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("q,a\n1,2\n3,4,5\n")
    with pytest.raises(DatasetError) as caught:
        list(iter_records(SourceSpec(str(path))))
    assert "line 3: 3 fields where the header has 2" in caught.value.message


@pytest.mark.parametrize(
    ("raised", "needle", "hint"),
    [
        ("not-found", "no Hugging Face dataset", "huggingface.co"),
        ("gated", "needs an access token", "HF_TOKEN"),
        ("offline", "Cannot reach the Hugging Face hub", "local file"),
    ],
)
def test_hub_failures_are_explained(
    monkeypatch: pytest.MonkeyPatch, raised: str, needle: str, hint: str
) -> None:
    import datasets
    from datasets.exceptions import DatasetNotFoundError
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError

    def fake_load(*args: Any, **kwargs: Any) -> Any:
        assert kwargs.get("streaming") is True  # the hub path streams
        if raised == "not-found":
            raise DatasetNotFoundError("Dataset 'nope/nope' doesn't exist on the Hub")
        if raised == "gated":
            # Built without an HTTP response, as only the type and text matter here.
            gated = GatedRepoError.__new__(GatedRepoError)
            Exception.__init__(gated, "401 Client Error: access to this dataset is restricted")
            raise gated
        raise LocalEntryNotFoundError("offline")

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    with pytest.raises(DatasetError) as caught:
        preview(SourceSpec("org/some-dataset", split="train"))
    assert needle in caught.value.message
    assert hint in caught.value.hint


def test_hub_streaming_preview(monkeypatch: pytest.MonkeyPatch) -> None:
    import datasets

    stream = datasets.Dataset.from_dict({"article": ["a", "b", "c"], "highlights": ["1", "2", "3"]})
    iterable = stream.to_iterable_dataset()
    calls: list[tuple[Any, ...]] = []

    def fake_load(name: str, config: str | None, **kwargs: Any) -> Any:
        calls.append((name, config, kwargs["split"]))
        return iterable

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    shown = preview(SourceSpec("cnn_dailymail", "3.0.0", "train"), 2)
    assert calls == [("cnn_dailymail", "3.0.0", "train")]
    assert shown.kind == "hub" and len(shown.rows) == 2
    assert shown.column_names == ("article", "highlights")
