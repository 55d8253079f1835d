"""core.data.prepared: the prepared folder's layout, in one place."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.data.prepared import ALL_FILES, DATA_FILES, MANIFEST, PreparedDir
from core.errors import DatasetError


def test_the_layout() -> None:
    folder = PreparedDir(Path("/data/run"))
    assert folder.train == Path("/data/run/train.jsonl")
    assert folder.validation == Path("/data/run/validation.jsonl")
    assert folder.test == Path("/data/run/test.jsonl")
    assert folder.manifest == Path("/data/run/manifest.json")
    assert DATA_FILES == ("train.jsonl", "validation.jsonl", "test.jsonl")
    assert ALL_FILES == ("train.jsonl", "validation.jsonl", "test.jsonl", "manifest.json")
    assert folder.is_train_file(Path("/data/run/train.jsonl"))
    assert not folder.is_train_file(Path("/data/run/validation.jsonl"))
    assert not folder.is_train_file(Path("/data/other/train.jsonl"))


def test_of_a_run_without_a_folder() -> None:
    assert PreparedDir.of(None) is None
    assert PreparedDir.of("") is None
    assert PreparedDir.of("/x") == PreparedDir(Path("/x"))


def test_existing_and_upload_files_in_order(tmp_path: Path) -> None:
    folder = PreparedDir(tmp_path)
    assert folder.existing() == [] and not folder.has_train()
    with pytest.raises(DatasetError, match=r"has no train\.jsonl"):
        folder.upload_files()
    for name in ("manifest.json", "test.jsonl", "train.jsonl"):
        (tmp_path / name).write_text("{}\n")
    assert folder.existing() == ["train.jsonl", "test.jsonl", "manifest.json"]
    assert [p.name for p in folder.upload_files()] == ["train.jsonl", "test.jsonl", MANIFEST]
    assert folder.validation_if_present() is None
    (tmp_path / "validation.jsonl").write_text("{}\n")
    assert folder.validation_if_present() == folder.validation
    with pytest.raises(DatasetError, match="is not a folder"):
        PreparedDir(tmp_path / "missing").upload_files()


def test_fixed_siblings_are_numbered_from_the_original_name(tmp_path: Path) -> None:
    folder = PreparedDir(tmp_path / "prepared")
    first = folder.fixed_sibling()
    assert first.path == tmp_path / "prepared-fixed"
    first.path.mkdir()
    second = folder.fixed_sibling()
    assert second.path == tmp_path / "prepared-fixed-2"
    second.path.mkdir()
    # Fixing a fixed folder again: numbered from `prepared`, never `prepared-fixed-fixed`.
    assert first.fixed_sibling().path == tmp_path / "prepared-fixed-3"
    assert second.fixed_sibling().path == tmp_path / "prepared-fixed-3"


def test_read_manifest_is_forgiving(tmp_path: Path) -> None:
    folder = PreparedDir(tmp_path)
    assert folder.read_manifest() == {}
    folder.manifest.write_text("not json")
    assert folder.read_manifest() == {}
    folder.manifest.write_text("[1, 2]")
    assert folder.read_manifest() == {}
    folder.manifest.write_text('{"counts": {"train": 3}}')
    assert folder.read_manifest() == {"counts": {"train": 3}}
