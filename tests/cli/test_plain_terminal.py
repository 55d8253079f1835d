"""`bedrock-tune new --plain` in a real pseudo-terminal (pexpect driving questionary): a whole
run in a sandbox (jobs take seconds), from the dataset to a completed job, a deployment, a chat
and a saved recipe; Ctrl+C at a question; and no terminal at all."""

from __future__ import annotations

import io
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from core.registry import Registry
from core.run import Route, Run
from core.sandbox.server import Sandbox, sandbox_environment
from core.statuses import JobStatus, ServingStatus
from tests.conftest import DIALOGSUM, REPO, needs_shared
from tui.cli import missing
from tui.cli.main import main

NOVA = "amazon.nova-micro-v1:0:128k"
CLEAR_LINE = "\x15"
"""Ctrl+U: clears the default a text question starts with."""


@pytest.fixture
def quick_sandbox() -> Iterator[Sandbox]:
    """A sandbox of the test's own on the real clock, where a job takes 3 seconds."""
    with Sandbox(job_seconds=3.0, ready_seconds=1.0) as running:
        yield running


def terminal_env(tmp_path: Path, sandbox: Sandbox | None) -> dict[str, str]:
    """A clean environment: its own HOME, state and data folders, no AWS profile; the sandbox's
    endpoint and keys when given."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "TERM": "xterm",
        "PROMPT_TOOLKIT_NO_CPR": "1",
        "BEDROCK_TUNE_STATE_DIR": str(tmp_path / "state"),
        "BEDROCK_TUNE_DATA_DIR": str(tmp_path / "data"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if sandbox is not None:
        env.update(sandbox_environment(sandbox))
    return env


def spawn(tmp_path: Path, sandbox: Sandbox | None, *args: str) -> pexpect.spawn[str]:
    return pexpect.spawn(
        sys.executable,
        ["-m", "tui.cli.main", "new", "--plain", *args],
        cwd=str(REPO),
        env=terminal_env(tmp_path, sandbox),
        encoding="utf-8",
        dimensions=(40, 200),
        timeout=60,
    )


def type_over(child: pexpect.spawn[str], question: str, text: str) -> None:
    """Answer a text question, replacing its default."""
    child.expect_exact(question)
    child.send(CLEAR_LINE + text + "\r")


@needs_shared()
def test_a_whole_run_in_a_terminal(quick_sandbox: Sandbox, tmp_path: Path) -> None:
    prepared = tmp_path / "prepared"
    recipe = tmp_path / "recipe.toml"
    child = spawn(tmp_path, quick_sandbox, "--poll-interval", "0.2")
    try:
        child.expect_exact("Where should bedrock-tune work?")
        child.send("\r")  # the environment: the sandbox's endpoint and keys
        child.expect_exact("Which region?")
        child.send("\r")
        child.expect_exact("✔ Ready: working in the sandbox, us-east-1")
        child.expect_exact("How do you want to customize")
        child.send("\r")  # fine-tuning
        child.expect_exact("Which model?")
        child.send("Nova Micro\r")
        child.expect_exact("Use Nova Micro (fine tuning)?")
        child.send("y")
        child.expect_exact("Dataset:")
        child.send(str(DIALOGSUM / "dev.jsonl") + "\r")
        child.expect_exact("(jsonl, 500 rows, 4 columns)")
        child.expect_exact("Use this dataset?")
        child.send("y")
        child.expect_exact('"schemaVersion":"bedrock-conversation-2024"')
        child.expect_exact("The template:")
        child.send("\r")  # use the preset guessed for dialogue / summary
        type_over(child, "Training records:", "40")
        type_over(child, "Validation records", "8")
        type_over(child, "Test records", "8")
        type_over(child, "Longest record kept", "")
        type_over(child, "Seed", "7")
        child.expect_exact("Remove duplicate records?")
        child.send("y")
        type_over(child, "Output folder:", str(prepared))
        child.expect_exact("✔ Valid for Nova Micro")
        child.expect_exact("S3 bucket:")
        child.send("\r")
        child.expect_exact("Service role:")
        child.send("\r")
        child.expect_exact("[create]")
        child.expect_exact("Create them now?")
        child.send("y")
        child.expect_exact("✔ Uploaded.")
        for question in ("Job name:", "Custom model name:", "epochCount", "learningRate (", "Warm"):
            child.expect_exact(question)
            child.send("\r")
        child.expect_exact("Estimated cost")
        child.expect_exact("Start the customization job?")
        child.send("y")
        child.expect_exact("✔ Launched")
        child.expect_exact("Training: Completed")
        child.expect_exact("How should the custom model be served?")
        child.send("\r")  # on demand: nothing bills by the hour
        child.expect_exact("Create the on-demand deployment? It costs")
        child.send("y")
        child.expect_exact("is ready.")
        child.expect_exact("you>")
        child.send("Summarize: #Person1#: Hi. #Person2#: Hello.\r")
        child.expect_exact("model> ")
        child.expect_exact("you>")
        child.send("\r")
        child.expect_exact("Tear down now?")
        child.send("n")
        type_over(child, "Save the recipe of this run as:", str(recipe))
        child.expect_exact("✔ Saved the recipe of run")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    [record] = Registry(tmp_path / "state").runs()
    run = record.run
    assert run.target == "sandbox" and run.base_model_id == NOVA
    assert run.job_status is JobStatus.COMPLETED
    assert run.serving_status is ServingStatus.ACTIVE and run.chatted_with == run.serving_arn
    assert tomllib.loads(recipe.read_text())["model"]["base_model_id"] == NOVA


@needs_shared()
def test_ctrl_c_at_a_question_ends_cleanly(quick_sandbox: Sandbox, tmp_path: Path) -> None:
    child = spawn(tmp_path, quick_sandbox)
    shown = child.logfile_read = io.StringIO()
    try:
        child.expect_exact("Where should bedrock-tune work?")
        child.send("\r")
        child.expect_exact("Which region?")
        child.send("\r")
        child.expect_exact("How do you want to customize")
        child.send("\r")
        child.expect_exact("Which model?")
        child.send("Nova Micro\r")
        child.expect_exact("Use Nova Micro")
        child.send("y")
        child.expect_exact("Dataset:")
        child.send("/no/such/data.jsonl")  # checked as typed: said under the question
        child.expect_exact("There is no file or folder at /no/such/data.jsonl.")
        child.send("\x03")  # Ctrl+C
        child.expect_exact("Interrupted.")
        child.expect_exact("Resume it with `bedrock-tune new --plain --resume ")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 130
    assert "Traceback" not in shown.getvalue()
    [record] = Registry(tmp_path / "state").runs()
    assert record.run.base_model_id == NOVA and record.run.source_location is None


def test_without_a_terminal_new_plain_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "new", "--plain"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=terminal_env(tmp_path, None),
        timeout=60,
    )
    assert done.returncode == 2
    assert "new --plain asks questions, but its input or output is not a terminal" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_new_without_plain_starts_the_app(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[bool] = []

    def launch_tui(args: object) -> int:
        started.append(True)
        return 0

    monkeypatch.setattr("tui.launch.launch_tui", launch_tui)
    assert main(["new"]) == 0
    assert started == [True]


def test_resume_needs_plain_and_a_known_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["new", "--resume", "abc"]) == 2
    assert "--resume and --recipe go with --plain" in capsys.readouterr().err
    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    assert main(["new", "--plain", "--resume", "nope"]) == 2
    err = capsys.readouterr().err
    assert "There is no run 'nope' in the registry" in err and "Traceback" not in err


def test_resume_walks_the_bedrock_route_only(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    Registry().save_run("imp1", Run(run_id="imp1", route=Route.IMPORT_ONLY, model_source="x"))
    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    assert main(["new", "--plain", "--resume", "imp1"]) == 2
    err = capsys.readouterr().err
    assert "the prompt mode walks 'Customize on Bedrock' only" in err
