"""A required argument left out: asked for in a terminal, a usage error (exit 2) without one."""

from __future__ import annotations

import argparse
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pexpect
import pytest

from core.registry import Registry
from core.run import Run
from tests.conftest import REPO
from tui.cli import missing
from tui.cli.main import build_parser, main
from tui.cli.missing import Question, parse_asking


class Answers:
    """An `Ask` that answers from a table by argument name and records what it was asked."""

    def __init__(self, by_name: dict[str, str | None] | None = None) -> None:
        self.by_name = by_name or {}
        self.asked: list[Question] = []

    def __call__(self, question: Question) -> str | None:
        self.asked.append(question)
        return self.by_name[question.name]


def test_missing_flags_are_asked_in_order_and_the_answers_used() -> None:
    answers = Answers(
        {"--train": "s3://b/t.jsonl", "--output": "s3://b/out/", "--role": "arn:aws:iam::1:role/r"}
    )
    args = parse_asking(build_parser(), ["jobs", "launch", "--model", "m"], answers)
    assert [q.name for q in answers.asked] == ["--train", "--output", "--role"]
    assert answers.asked[0].prompt == "--train (s3:// URI of the training file):"
    assert (args.model, args.train, args.output) == ("m", "s3://b/t.jsonl", "s3://b/out/")
    assert args.role == "arn:aws:iam::1:role/r"
    assert args.type == "fine-tuning"  # defaults of what was not asked are untouched


def test_an_answer_goes_through_the_arguments_type(tmp_path: Path) -> None:
    train = tmp_path / "train.jsonl"  # the type checks that the file is there and readable
    train.write_text("{}\n")
    answers = Answers({"TRAIN.jsonl": str(train)})
    args = parse_asking(build_parser(), ["validate", "--model", "m"], answers)
    assert [q.name for q in answers.asked] == ["TRAIN.jsonl"]
    assert args.train == train


def test_choices_are_offered_and_a_bad_answer_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    picked = parse_asking(build_parser(), ["infra"], Answers({"action": "plan"}))
    assert picked.action == "plan"
    offered = Answers({"action": "destroy"})
    with pytest.raises(SystemExit) as caught:
        parse_asking(build_parser(), ["infra"], offered)
    assert caught.value.code == 2
    assert offered.asked[0].choices == ("plan", "apply")
    assert "invalid choice: 'destroy'" in capsys.readouterr().err


def test_nothing_is_asked_when_nothing_is_missing_or_the_subcommand_is() -> None:
    answers = Answers()
    args = parse_asking(build_parser(), ["preview", "d.jsonl"], answers)
    assert args.source == "d.jsonl" and answers.asked == []
    with pytest.raises(SystemExit) as caught:
        parse_asking(build_parser(), ["jobs"], answers)  # which action is not asked for
    assert caught.value.code == 2 and answers.asked == []


def test_giving_up_on_a_question_interrupts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    monkeypatch.setattr(missing, "ask_in_terminal", Answers({"SOURCE": None}))
    assert main(["preview"]) == 130
    assert "Interrupted." in capsys.readouterr().err


def test_main_asks_in_a_terminal(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "hi"}\n')
    monkeypatch.setattr(missing, "in_a_terminal", lambda: True)
    monkeypatch.setattr(missing, "ask_in_terminal", Answers({"SOURCE": str(data)}))
    assert main(["preview"]) == 0
    assert "prompt: hi" in capsys.readouterr().out


def test_without_a_terminal_a_missing_argument_is_a_usage_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def never(question: Question) -> str:
        raise AssertionError(f"asked for {question.name} without a terminal")

    monkeypatch.setattr(missing, "in_a_terminal", lambda: False)
    monkeypatch.setattr(missing, "ask_in_terminal", never)
    with pytest.raises(SystemExit) as caught:
        main(["jobs", "launch", "--model", "m"])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "the following arguments are required: --train, --output, --role" in err
    assert "--help" in err


def test_a_real_pipe_is_not_a_terminal() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tui.cli.main", "preview"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert done.returncode == 2
    assert "the following arguments are required: SOURCE" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_a_real_terminal_is_asked_with_questionary(tmp_path: Path) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "hi from the terminal"}\n')
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tui.cli.main", "preview"],
        cwd=str(REPO),
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm"},
        encoding="utf-8",
        dimensions=(24, 120),
        timeout=30,
    )
    try:
        child.expect_exact("SOURCE (a path or a Hugging Face dataset id):")
        child.sendline(str(data))
        child.expect_exact("prompt: hi from the terminal")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0


def _commands(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every (sub)command's words and its parser, the leaves and the ones with actions."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*path, name), sub
                yield from _commands(sub, (*path, name))


class _Asked(Exception):
    """Raised by the test's `Ask` at the first question."""


def test_every_command_asks_for_its_required_arguments_in_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each command (including any added later) with a required argument asks for the first
    one when run in a terminal, and is a usage error without one."""
    checked = []
    for words, sub in _commands(build_parser()):
        required = [
            a for a in sub._actions if a.required and not isinstance(a, argparse._SubParsersAction)
        ]
        if not required:
            continue
        asked: list[str] = []

        def ask(question: Question, asked: list[str] = asked) -> str:
            asked.append(question.name)
            raise _Asked

        with pytest.raises(_Asked):
            parse_asking(build_parser(), list(words), ask)
        assert asked == [missing.question_for(required[0]).name], words
        with pytest.raises(SystemExit) as caught:
            parse_asking(build_parser(), list(words), None)
        assert caught.value.code == 2, words
        checked.append(" ".join(words))
    capsys.readouterr()
    # The commands known to need arguments are among those checked.
    assert {"jobs launch", "recipe save", "validate", "chat", "preview"} <= set(checked)


def test_a_recent_command_asks_for_each_of_its_arguments_in_a_real_terminal(
    tmp_path: Path,
) -> None:
    """`recipe save` (RUN_ID and FILE left out) asks for both, then saves."""
    state = tmp_path / "state"
    Registry(state).save_run(
        "run1", Run(run_id="run1", base_model_id="amazon.nova-micro-v1:0:128k")
    )
    recipe = tmp_path / "r.toml"
    child = pexpect.spawn(
        sys.executable,
        ["-m", "tui.cli.main", "recipe", "save"],
        cwd=str(REPO),
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "TERM": "xterm",
            "PROMPT_TOOLKIT_NO_CPR": "1",
            "BEDROCK_TUNE_STATE_DIR": str(state),
        },
        encoding="utf-8",
        dimensions=(24, 120),
        timeout=30,
    )
    try:
        child.expect_exact("RUN_ID (the run's id")
        child.send("run1\r")
        child.expect_exact("FILE (the .toml file to write)")
        child.send(f"{recipe}\r")
        child.expect_exact(f"Saved the recipe of run run1 to {recipe}.")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "amazon.nova-micro-v1:0:128k" in recipe.read_text()


def test_a_required_choice_of_flags_is_asked_which_then_its_value() -> None:
    """`endpoint deploy --instance T` without --autopilot or --training-job asks which of the
    two, then that flag's value; without a terminal it stays a usage error."""
    questions: list[Question] = []
    answers = iter(["--training-job", "bt-dolly"])

    def ask(question: Question) -> str:
        questions.append(question)
        return next(answers)

    words = ["endpoint", "deploy", "--instance", "ml.g5.2xlarge"]
    args = parse_asking(build_parser(), words, ask)
    assert questions[0].choices == ("--autopilot", "--training-job")
    assert questions[1].name == "--training-job"
    assert args.training_job == "bt-dolly" and args.autopilot is None
    assert args.instance == "ml.g5.2xlarge"
    given = parse_asking(build_parser(), [*words, "--autopilot", "ap-1"], ask)
    assert given.autopilot == "ap-1" and len(questions) == 2  # nothing more asked
    with pytest.raises(SystemExit) as caught:
        parse_asking(build_parser(), words, None)
    assert caught.value.code == 2
