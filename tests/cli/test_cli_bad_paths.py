"""Bad paths on the command line (issue 11, items 5 and 6): unreadable, binary, folder or FIFO
inputs, and outputs that cannot be written. Each is a clear message on stderr with exit 2 (never
a traceback, never a hang), and nothing is written."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.registry import Registry
from core.sandbox.server import Sandbox
from tests.cli.bad_input import assert_clear, deny_access, exit_code, files_under, no_hang

MODEL = "amazon.nova-micro-v1:0:128k"
RECORD = {"dialogue": "#Person1#: Hi.\n#Person2#: Hello.", "summary": "They greet."}
TEMPLATE = 'user = "Summarize: {dialogue}"\nassistant = "{summary}"\n'


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A folder with a dataset, a template, a binary file, a folder and a FIFO."""
    folder = tmp_path / "work"
    folder.mkdir()
    # 40 different records: enough for the model's minimum once duplicates are dropped.
    rows = [{**RECORD, "summary": f"They greet ({n})."} for n in range(40)]
    (folder / "data.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    (folder / "template.toml").write_text(TEMPLATE)
    (folder / "binary.toml").write_bytes(b"\x7fELF\x02\x01\x01\x00\xd0\xff\xfe" * 20)
    (folder / "a-folder").mkdir()
    os.mkfifo(folder / "fifo")
    return folder


def prepare(
    work: Path,
    *,
    source: str = "data.jsonl",
    template: str = "template.toml",
    out: str | None = None,
) -> list[str]:
    return [
        "prepare",
        str(work / source),
        "--template",
        template if template.startswith("preset:") else str(work / template),
        "--model",
        MODEL,
        "--out",
        out if out is not None else str(work / "out"),
        "--train",
        "20",
        "--validation",
        "0",
        "--test",
        "5",
    ]


def test_the_fixture_prepares_when_nothing_is_wrong(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert exit_code(prepare(work)) == 0
    assert (work / "out" / "train.jsonl").is_file()


# --------------------------------------------------------------------------- templates


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("binary.toml", "is not UTF-8 text"),
        ("a-folder", "is a folder, not a regular file"),
        ("fifo", "is a named pipe (FIFO), not a regular file"),
        ("missing.toml", "does not exist"),
    ],
)
def test_a_template_that_is_not_a_text_file_is_refused(
    work: Path, template: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with no_hang():
        assert exit_code(prepare(work, template=template)) == 2
    assert_clear(capsys.readouterr().err, expected, str(work / template))
    assert not (work / "out").exists()


def test_an_unreadable_template_is_refused(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "template.toml").chmod(0)
    deny_access(monkeypatch, work / "template.toml", os.R_OK)
    assert exit_code(prepare(work)) == 2
    assert_clear(capsys.readouterr().err, "cannot be read: permission denied")
    assert not (work / "out").exists()


@pytest.mark.parametrize(
    ("template", "expected"), [("binary.toml", "not UTF-8"), ("a-folder", "is a folder")]
)
def test_chat_refuses_a_binary_or_folder_template_before_any_call(
    work: Path, template: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["chat", "model-id", "--template", str(work / template), "--prompt", "hi"]
    assert exit_code(argv) == 2
    assert_clear(capsys.readouterr().err, expected)


# --------------------------------------------------------------------------- datasets


def test_an_unreadable_source_is_refused(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "data.jsonl").chmod(0)
    deny_access(monkeypatch, work / "data.jsonl", os.R_OK)
    assert exit_code(prepare(work)) == 2
    assert_clear(capsys.readouterr().err, "cannot be read: permission denied", "data.jsonl")
    assert not (work / "out").exists()


def test_a_read_error_the_checks_did_not_foresee_is_still_a_clear_message(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An ACL or a race can make a file unreadable after the checks: the top-level guard turns
    the OSError into the file, the reason and a hint."""
    real_open = Path.open
    source = work / "data.jsonl"

    def refusing_open(self: Path, *args: object, **kwargs: object) -> object:
        if self == source:
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(Path, "open", refusing_open)
    assert exit_code(prepare(work)) == 2
    assert_clear(
        capsys.readouterr().err, "Cannot use a file", f"{source}: Permission denied", "permissions"
    )
    assert not (work / "out").exists()


def test_a_fifo_source_is_refused_without_opening_it(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with no_hang():
        assert exit_code(prepare(work, source="fifo")) == 2
    assert_clear(capsys.readouterr().err, "is a named pipe (FIFO), not a regular file")


@pytest.mark.parametrize("flag", [None, "--validation-file"])
def test_validate_refuses_a_fifo_or_folder(
    work: Path, flag: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    train = work / "data.jsonl"
    for bad, expected in (("fifo", "named pipe (FIFO)"), ("a-folder", "is a folder")):
        argv = ["validate", str(work / bad) if flag is None else str(train), "--model", MODEL]
        if flag is not None:
            argv += [flag, str(work / bad)]
        with no_hang():
            assert exit_code(argv) == 2
        assert_clear(capsys.readouterr().err, expected)


# --------------------------------------------------------------------------- outputs


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("{work}/data.jsonl", "is a file, not a folder"),
        ("{work}/data.jsonl/inside", "is a file, not a folder"),
        ("/proc/bedrock-tune-out", "is under /proc"),
        ("/proc/self", "is under /proc"),
        ("/sys/bedrock-tune-out", "is under /sys"),
    ],
)
def test_an_output_folder_that_cannot_be_one_is_refused(
    work: Path, out: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = files_under(work)
    assert exit_code(prepare(work, out=out.format(work=work))) == 2
    assert_clear(capsys.readouterr().err, expected)
    assert files_under(work) == before


def test_an_output_folder_in_a_read_only_folder_is_refused(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = work / "locked"
    locked.mkdir(mode=0o555)
    deny_access(monkeypatch, locked, os.W_OK)
    assert exit_code(prepare(work, out=str(locked / "out"))) == 2
    assert_clear(capsys.readouterr().err, "is read-only for you", str(locked))
    assert files_under(locked) == []


def test_a_write_error_the_checks_did_not_foresee_leaves_nothing(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A disk that fills up (or turns read-only) while writing: a clear message, exit 2, and
    no file, not even a temporary one."""
    written: list[int] = []

    def full_disk(fd: int) -> None:
        written.append(fd)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)  # core.atomic's fsync before the rename
    assert exit_code(prepare(work)) == 2
    assert_clear(capsys.readouterr().err, "No space left on device", "free some space")
    assert written  # the write was reached
    assert files_under(work / "out") == []


# --------------------------------------------------------------------------- evaluate


def test_evaluate_refuses_a_folder_or_fifo_as_test_file(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for bad, expected in (("a-folder", "is a folder"), ("fifo", "named pipe (FIFO)")):
        with no_hang():
            assert exit_code(["evaluate", "--model", "m", "--test", str(work / bad)]) == 2
        assert_clear(capsys.readouterr().err, expected)


def test_evaluate_refuses_an_existing_file_as_out(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    test = work / "test.jsonl"
    test.write_text(json.dumps({"prompt": "q", "completion": "a"}) + "\n")
    argv = ["evaluate", "--model", "m", "--test", str(test), "--out", str(work / "data.jsonl")]
    assert exit_code(argv) == 2
    assert_clear(capsys.readouterr().err, "is a file, not a folder")


def test_evaluate_refuses_a_test_folder_that_cannot_take_the_report(
    work: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without --out the report goes beside --test: that folder is checked before any call."""
    test = work / "test.jsonl"
    test.write_text(json.dumps({"prompt": "q", "completion": "a"}) + "\n")
    deny_access(monkeypatch, work, os.W_OK)
    assert exit_code(["evaluate", "--model", "m", "--test", str(test)]) == 2
    assert_clear(capsys.readouterr().err, "is read-only for you")
    assert not (work / "evaluation.json").exists()


# --------------------------------------------------------------------------- upload


def test_upload_of_a_folder_with_an_unreadable_file_sends_nothing(
    exported_sandbox: Sandbox,
    sandbox_context: AwsContext,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exit_code(["infra", "apply"]) == 0
    prepared = work / "run-1"
    prepared.mkdir()
    (prepared / "train.jsonl").write_text(json.dumps({"prompt": "q", "completion": "a"}) + "\n")
    (prepared / "test.jsonl").write_text("{}\n")
    (prepared / "test.jsonl").chmod(0)
    deny_access(monkeypatch, prepared / "test.jsonl", os.R_OK)
    registered = Registry().resources()
    capsys.readouterr()
    assert exit_code(["upload", str(prepared)]) == 2
    assert_clear(capsys.readouterr().err, "test.jsonl", "cannot be read: permission denied")
    bucket = "bedrock-tune-123456789012-us-east-1"
    assert sandbox_context.client("s3").list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
    assert Registry().resources() == registered  # no run folder recorded either


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("{work}/a-folder", "is a folder, not a file"),
        ("{work}/fifo", "is a named pipe (FIFO), not a file"),
        ("{work}/missing/report.html", "its folder"),
        ("/proc/report.html", "is under /proc"),
    ],
)
def test_compare_refuses_an_html_path_it_cannot_write(
    work: Path, html: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with no_hang():
        assert exit_code(["compare", "run-1", "--html", html.format(work=work)]) == 2
    assert_clear(capsys.readouterr().err, "argument --html", expected)
