"""`prepare --force` replaces the prepared set as a whole: killed (SIGKILL) at any write point and
run again, the folder holds one whole set (never train from one seed beside test from another),
the user's own files in it survive, and no temporary folder is left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import faults
from core.catalog.lookup import find_model
from core.data.prepare import PrepareOptions, prepare
from core.data.prepared import ALL_FILES
from core.data.sources import SourceSpec
from core.data.templates import Template
from core.errors import FileAccessError, ValidationError
from core.swap import FolderSwap, recover
from tests.kills import cli_killed_at
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"
SIZES = {"train": 30, "validation": 5, "test": 5}
POINTS = [
    "prepare.wrote-train.jsonl",
    "prepare.wrote-test.jsonl",
    "prepare.staged",
    "prepare.ready",
    "prepare.carried",
    "prepare.set-aside",
    "prepare.swapped-in",
]
"""Every write point of a prepare that replaces a set: while writing, then each rename."""


def dataset(path: Path) -> Path:
    path.write_text("".join(json.dumps({"q": f"q{i}", "a": f"a{i}"}) + "\n" for i in range(60)))
    return path


def cli_args(source: Path, out: Path, seed: int) -> list[str]:
    template = source.parent / "t.toml"
    template.write_text('user = "{q}"\nassistant = "{a}"\n')
    sizes = [f"--{name}={size}" for name, size in SIZES.items()]
    return [
        "prepare",
        str(source),
        "--template",
        str(template),
        "--model",
        NOVA,
        "--out",
        str(out),
        *sizes,
        "--seed",
        str(seed),
        "--force",
    ]


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def set_of(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if name in ALL_FILES}


def leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if ".bt-swap-" in p.name)


@pytest.fixture
def world(tmp_path: Path) -> tuple[Path, Path, dict[str, bytes], dict[str, bytes]]:
    """(source, out, the old set, the new set): out holds the seed-1 set and the user's files;
    the seed-2 set is what a --force run with seed 2 must leave."""
    source = dataset(tmp_path / "d.jsonl")
    out = tmp_path / "work" / "out"
    assert main(cli_args(source, out, seed=1)) == 0
    (out / "notes.txt").write_text("mine")
    (out / "evaluation.json").write_text("{}")
    reference = tmp_path / "reference"
    assert main(cli_args(source, reference, seed=2)) == 0
    old, new = set_of(snapshot(out)), set_of(snapshot(reference))
    assert old["train.jsonl"] != new["train.jsonl"]
    return source, out, old, new


def same_set(got: dict[str, bytes], expected: dict[str, bytes]) -> bool:
    """Equal data files, and the same manifest but for its creation time."""
    if set(got) != set(expected):
        return False
    for name in got:
        if name == "manifest.json":
            a, b = json.loads(got[name]), json.loads(expected[name])
            a.pop("created"), b.pop("created")
            a["source"], b["source"] = a["source"]["location"], b["source"]["location"]
            if a != b:
                return False
        elif got[name] != expected[name]:
            return False
    return True


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_any_write_point_leaves_one_whole_set_and_a_rerun_finishes(
    world: tuple[Path, Path, dict[str, bytes], dict[str, bytes]], point: str, tmp_path: Path
) -> None:
    source, out, old, new = world
    cli_killed_at(point, cli_args(source, out, seed=2), cwd=tmp_path)
    # Right after the kill: the folder (when it is there) holds all of one set, old or new.
    if out.exists():
        now = set_of(snapshot(out))
        assert same_set(now, old) or same_set(now, new), f"a mixed set after a kill at {point}"
        if same_set(now, new):  # the new folder came in with the user's files already in it
            assert (out / "notes.txt").read_text() == "mine"
    assert leftovers(out.parent), "a kill mid-swap leaves its folders for the next run"

    assert main(cli_args(source, out, seed=2)) == 0
    after = snapshot(out)
    assert same_set(set_of(after), new)
    assert after["notes.txt"] == b"mine" and after["evaluation.json"] == b"{}"
    assert leftovers(out.parent) == []  # the dead run's folders were cleaned
    train = set((out / "train.jsonl").read_text().splitlines())
    test = set((out / "test.jsonl").read_text().splitlines())
    assert not train & test  # no test record leaked into train
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["options"]["seed"] == 2
    assert manifest["counts"] == {
        n: len(out.joinpath(f"{n}.jsonl").read_text().splitlines()) for n in SIZES
    }


def test_a_reader_finishes_a_swap_a_kill_left_with_the_folder_set_aside(
    world: tuple[Path, Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    """Killed between "set aside" and "swapped in", the folder is missing: the next reader
    (here recover, which upload calls) puts the complete new set in place."""
    source, out, _, new = world
    cli_killed_at("prepare.set-aside", cli_args(source, out, seed=2), cwd=tmp_path)
    assert not out.exists()
    recover(out, ALL_FILES)
    assert same_set(set_of(snapshot(out)), new)
    assert (out / "notes.txt").read_text() == "mine"
    assert leftovers(out.parent) == []


class Interrupted(BaseException):
    """What the in-process fault hook raises (like a KeyboardInterrupt at that point)."""


@pytest.mark.parametrize("point", POINTS)
def test_an_interruption_in_process_restores_the_old_set(
    world: tuple[Path, Path, dict[str, bytes], dict[str, bytes]], point: str
) -> None:
    source, out, old, new = world

    def hook(reached: str) -> None:
        if reached == point:
            raise Interrupted(point)

    faults.set_hook(hook)
    try:
        with pytest.raises(Interrupted):
            main(cli_args(source, out, seed=2))
    finally:
        faults.set_hook(None)
    after = snapshot(out)
    # Interrupted once the new folder is in place, the swap is complete; before, it is undone.
    assert same_set(set_of(after), new if point == "prepare.swapped-in" else old)
    assert after["notes.txt"] == b"mine"
    assert leftovers(out.parent) == []


def test_folders_of_a_live_process_are_never_touched(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "train.jsonl").write_text("old\n")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        busy = tmp_path / f".out.bt-swap-{sleeper.pid}-0123abcd.partial"
        busy.mkdir()
        (busy / "train.jsonl").write_text("being written\n")
        recover(out, ALL_FILES)
        assert (busy / "train.jsonl").read_text() == "being written\n"
    finally:
        sleeper.kill()
        sleeper.wait()
    recover(out, ALL_FILES)  # now it is dead: its folder goes
    assert not busy.exists()
    assert (out / "train.jsonl").read_text() == "old\n"


def test_a_dead_runs_folder_gives_back_what_is_not_ours(tmp_path: Path) -> None:
    """A stale folder holding the user's file (moved there mid-swap) gives it back; only the
    set's files are deleted, and a same-named file of the user's is never overwritten."""
    pid = 2**22 + 12345  # above the default pid_max: no such process
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.csv").write_text("newer")
    stale = tmp_path / f".out.bt-swap-{pid}-89abcdef.ready"
    stale.mkdir()
    (stale / "train.jsonl").write_text("x\n")
    (stale / ".manifest.json.abc.tmp").write_text("")
    (stale / "notes.txt").write_text("mine")
    (stale / "report.csv").write_text("older")
    (stale / "sub").mkdir()
    (stale / "sub" / "deep.txt").write_text("deep")
    recover(out, ALL_FILES)
    assert not stale.exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "sub" / "deep.txt").read_text() == "deep"
    assert (out / "report.csv").read_text() == "newer"
    [kept] = out.glob("report.csv.recovered-*")
    assert kept.read_text() == "older"
    assert not (out / "train.jsonl").exists()


def test_a_folder_that_cannot_be_swapped_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = SourceSpec(str(dataset(tmp_path / "d.jsonl")))
    model = find_model(NOVA)
    template = Template(user="{q}", assistant="{a}")
    options = PrepareOptions(train=10)
    (tmp_path / "file").write_text("x")
    with pytest.raises(FileAccessError, match="is a file, not a folder"):
        prepare(source, template, model, tmp_path / "file", options)
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    with pytest.raises(ValidationError, match="is the current folder") as caught:
        prepare(source, template, model, Path(), options)
    assert "prepared" in caught.value.hint
    assert list(here.iterdir()) == []
    # A folder whose parent cannot be written cannot be swapped: said before any work. (The
    # tests may run as root, whom permissions do not stop: the check is asked directly.)
    locked = tmp_path / "locked"
    (locked / "out").mkdir(parents=True)
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode: Path(path) != locked and real_access(path, mode)
    )
    with pytest.raises(ValidationError, match=r"parent folder .* is read-only"):
        prepare(source, template, model, locked / "out", options)
    assert list((locked / "out").iterdir()) == []


def test_a_link_to_the_folder_keeps_working(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (real / "mine.txt").write_text("mine")
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    with FolderSwap(link, ALL_FILES) as staging:
        (staging / "train.jsonl").write_text("new\n")
    assert link.is_symlink() and (link / "train.jsonl").read_text() == "new\n"
    assert (link / "mine.txt").read_text() == "mine"
    assert os.path.realpath(link) == str(real.resolve())
