"""The prepared folder: what `prepare` writes and every later step reads.

    <folder>/train.jsonl        the training records (always)
    <folder>/validation.jsonl   validation records (when asked for and the model takes them)
    <folder>/test.jsonl         held-out records for chat and evaluation (when asked for)
    <folder>/manifest.json      how the files were made (source, template, sizes, seed, counts)

A fix-up never edits a prepared folder: it writes a sibling `<folder>-fixed` (then
`<folder>-fixed-2`, ...; fixing a fixed folder numbers from the original name). This module is
the one place that knows these names.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from core.errors import DatasetError
from core.files import check_readable_file

Split = Literal["train", "validation", "test"]
SPLITS: tuple[Split, ...] = ("train", "validation", "test")
"""In the order they are written and uploaded."""
MANIFEST = "manifest.json"
FIXED_SUFFIX = "-fixed"
_MAX_FIXED = 10_000


def split_file_name(split: Split) -> str:
    """`train.jsonl`, `validation.jsonl` or `test.jsonl`."""
    return f"{split}.jsonl"


DATA_FILES: tuple[str, ...] = tuple(split_file_name(s) for s in SPLITS)
"""The data files, in upload order (train first)."""
ALL_FILES: tuple[str, ...] = (*DATA_FILES, MANIFEST)
"""Every file a prepared folder can hold."""
TRAIN_FILE, VALIDATION_FILE, TEST_FILE = DATA_FILES


@dataclass(frozen=True)
class PreparedDir:
    """A prepared folder (it need not exist yet: `prepare` writes into one)."""

    path: Path

    @classmethod
    def of(cls, path: str | Path | None) -> PreparedDir | None:
        """The run's prepared folder, or None when it has none yet."""
        return None if path is None or str(path) == "" else cls(Path(path))

    def file(self, split: Split) -> Path:
        """The path of one split's file (whether or not it exists)."""
        return self.path / split_file_name(split)

    @property
    def train(self) -> Path:
        """`<folder>/train.jsonl`."""
        return self.file("train")

    @property
    def validation(self) -> Path:
        """`<folder>/validation.jsonl`."""
        return self.file("validation")

    @property
    def test(self) -> Path:
        """`<folder>/test.jsonl`."""
        return self.file("test")

    @property
    def manifest(self) -> Path:
        """`<folder>/manifest.json`."""
        return self.path / MANIFEST

    def has_train(self) -> bool:
        """Whether the training file is there (the folder is usable)."""
        return self.train.is_file()

    def validation_if_present(self) -> Path | None:
        """The validation file when there is one."""
        return self.validation if self.validation.is_file() else None

    def is_train_file(self, path: Path) -> bool:
        """Whether `path` is this folder's training file (as given, not resolved)."""
        return path == self.train

    def existing(self) -> list[str]:
        """The names of the prepared files already in the folder."""
        return [name for name in ALL_FILES if (self.path / name).exists()]

    def upload_files(self) -> list[Path]:
        """The files to upload: train.jsonl first, then whichever others are there.

        Raises:
            DatasetError: no such folder, no train.jsonl in it, or a file in it that cannot be
                read (a FIFO, a folder, no read permission): all checked before anything is
                sent.
        """
        if not self.path.is_dir():
            raise DatasetError(
                f"{self.path} is not a folder.",
                hint="Give the folder `bedrock-tune prepare --out` wrote.",
            )
        if not self.has_train():
            raise DatasetError(
                f"{self.path} has no {TRAIN_FILE}.",
                hint="Prepare the data first (`bedrock-tune prepare ... --out "
                f"{self.path}`), then upload that folder.",
            )
        files = [self.path / name for name in ALL_FILES if (self.path / name).exists()]
        for path in files:
            check_readable_file(path, "prepared file", hint="Check the file's permissions.")
        return files

    def read_manifest(self) -> dict[str, Any]:
        """The manifest, or {} when it is missing or not a JSON object."""
        try:
            loaded = json.loads(self.manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return loaded if isinstance(loaded, dict) else {}

    def fixed_sibling(self) -> PreparedDir:
        """A free folder name beside this one for its fixed copy: `<name>-fixed`, then
        `<name>-fixed-2`...; a fixed folder's own fix is numbered from the original name.

        Raises:
            DatasetError: every candidate name is taken.
        """
        base = self.path.name
        if FIXED_SUFFIX in base:
            base = base[: base.rindex(FIXED_SUFFIX)]
        for number in range(1, _MAX_FIXED):
            suffix = FIXED_SUFFIX if number == 1 else f"{FIXED_SUFFIX}-{number}"
            candidate = self.path.with_name(f"{base}{suffix}")
            if not candidate.exists():
                return PreparedDir(candidate)
        raise DatasetError(  # pragma: no cover
            f"No free folder name beside {self.path}.",
            hint="Remove old -fixed folders you no longer need.",
        )
