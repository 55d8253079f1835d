"""Numbers on the command line (issue 11, items 7 and 13): counts below 1, settings outside the
ranges Converse takes, nan and inf. Each is refused before any call, with exit 2; and an
evaluation where every record failed exits 1."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from core.aws import AwsContext
from core.errors import ValidationError
from core.registry import Registry
from core.sandbox.server import Sandbox
from tests.cli.bad_input import assert_clear, exit_code, no_hang

MODEL = "amazon.nova-micro-v1:0:128k"


@pytest.fixture
def no_calls(monkeypatch: pytest.MonkeyPatch, aws_keys: None) -> list[str]:
    """Record any Converse call instead of making it (there must be none)."""
    calls: list[str] = []

    def client(self: object, service: str, region: str | None = None) -> Any:
        calls.append(service)
        raise AssertionError(f"AWS ({service}) was called")

    monkeypatch.setattr(AwsContext, "client", client)
    return calls


@pytest.fixture
def test_file(tmp_path: Path) -> Path:
    path = tmp_path / "test.jsonl"
    path.write_text(
        "".join(json.dumps({"prompt": f"q{i}", "completion": f"a{i}"}) + "\n" for i in range(5))
    )
    return path


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["-n", "0"], "-n must be at least 1"),
        (["-n", "-1"], "-n must be at least 1"),
        (["-n", "two"], "argument -n: invalid int value: 'two'"),
        (["--concurrency", "0"], "argument --concurrency: 0 is out of range"),
        (["--concurrency", "-3"], "argument --concurrency: -3 is out of range"),
    ],
)
def test_evaluate_counts_below_one_are_refused(
    test_file: Path,
    argv: list[str],
    expected: str,
    no_calls: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert exit_code(["evaluate", "--model", "m", "--test", str(test_file), *argv]) == 2
    assert_clear(capsys.readouterr().err, expected)
    assert no_calls == []
    assert not (test_file.parent / "evaluation.json").exists()


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["--temperature", "nan"], "'nan' is not a finite number: give a number from 0 to 1"),
        (["--temperature", "inf"], "'inf' is not a finite number"),
        (["--temperature", "1.5"], "1.5 is out of range: give a number from 0 to 1"),
        (["--top-p", "2"], "argument --top-p: 2 is out of range"),
        (["--top-p", "-0.1"], "argument --top-p: -0.1 is out of range"),
        (["--max-tokens", "0"], "argument --max-tokens: 0 is out of range"),
        (["--prompt", ""], "--prompt is empty"),
        (["--prompt", "   "], "--prompt is empty"),
    ],
)
def test_chat_settings_outside_the_converse_ranges_are_refused(
    argv: list[str], expected: str, no_calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The ranges are botocore's bedrock-runtime `InferenceConfiguration`: maxTokens >= 1,
    temperature and topP in [0, 1]; a blank text block is refused by Converse too."""
    base = ["chat", "model-id", "--prompt", "hi"]
    assert exit_code([*base, *argv]) == 2
    assert_clear(capsys.readouterr().err, expected)
    assert no_calls == []


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["validate", "{train}", "--model", MODEL, "--price-per-1k", "inf"], "'inf' is not a"),
        (["validate", "{train}", "--model", MODEL, "--price-per-1k", "nan"], "'nan' is not a"),
        (["validate", "{train}", "--model", MODEL, "--price-per-1k", "1e999"], "not a finite"),
        (["validate", "{train}", "--model", MODEL, "--price-per-1k", "-1"], "-1 is out of range"),
        (["jobs", "watch", "job", "--interval", "nan"], "'nan' is not a finite number"),
        (["jobs", "watch", "job", "--interval", "0"], "give a number above 0"),
        (["sandbox", "--job-seconds", "inf"], "'inf' is not a finite number"),
        (["preview", "{train}", "-n", "0"], "argument -n: 0 is out of range"),
        (["evaluate", "--test", "{train}", "--batch-threshold", "0"], "--batch-threshold: 0"),
        (
            [
                "prepare",
                "{train}",
                "--template",
                "preset:dialogue-summary",
                "--model",
                MODEL,
                "--out",
                "{out}",
                "--train",
                "0",
            ],
            "argument --train: 0 is out of range",
        ),
        (
            [
                "prepare",
                "{train}",
                "--template",
                "preset:dialogue-summary",
                "--model",
                MODEL,
                "--out",
                "{out}",
                "--test",
                "-5",
            ],
            "argument --test: -5 is out of range",
        ),
        (
            [
                "prepare",
                "{train}",
                "--template",
                "preset:dialogue-summary",
                "--model",
                MODEL,
                "--out",
                "{out}",
                "--max-chars",
                "0",
            ],
            "argument --max-chars: 0 is out of range",
        ),
    ],
)
def test_non_finite_and_out_of_range_numbers_are_refused(
    tmp_path: Path, argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    train = tmp_path / "train.jsonl"
    train.write_text('{"prompt": "q", "completion": "a"}\n')
    out = tmp_path / "out"
    with no_hang():  # `sandbox --job-seconds inf` used to start serving, forever
        assert exit_code([a.format(train=train, out=out) for a in argv]) == 2
    captured = capsys.readouterr()
    assert_clear(captured.err, expected)
    assert "Infinity" not in captured.out and "NaN" not in captured.out
    assert not out.exists()


def test_a_nan_hyperparameter_is_refused_before_the_job_is_sent(
    exported_sandbox: Sandbox, sandbox_context: AwsContext, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "jobs", "launch", "--model", MODEL, "--train", "s3://bucket-1/t/train.jsonl",
        "--output", "s3://bucket-1/o/", "--role", "arn:aws:iam::123456789012:role/r",
    ]  # fmt: skip
    for value in ("nan", "inf", "-inf"):
        assert exit_code([*argv, "--hp", f"learningRate={value}"]) == 2
        expected = f"learningRate must be a finite number, not '{value}'"
        assert_clear(capsys.readouterr().err, expected)
    jobs = sandbox_context.client("bedrock").list_model_customization_jobs()
    assert jobs["modelCustomizationJobSummaries"] == []
    assert Registry().runs() == []  # nothing recorded either


# --------------------------------------------------------------------------- all failed


def test_an_evaluation_where_every_record_failed_exits_1(
    test_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    aws_keys: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import core.evaluation.evaluate

    def refused(*args: object, **kwargs: object) -> object:
        raise ValidationError("The model identifier is invalid.")

    monkeypatch.setattr(core.evaluation.evaluate, "converse", refused)
    assert exit_code(["evaluate", "--model", "m", "--test", str(test_file)]) == 1
    err = capsys.readouterr().err
    assert "Every record failed on the tuned model (5 of 5)" in err
    assert "Hint:" in err
    assert exit_code(["evaluate", "--model", "m", "--test", str(test_file), "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["tuned"]["error"] for r in report["rows"]] == ["The model identifier is invalid."] * 5


def test_an_evaluation_where_some_records_answered_exits_0(
    test_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    aws_keys: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import core.evaluation.evaluate
    from core.serving.chat import Answer

    def first_fails(
        context: object, model: str, system: str, turns: Any, settings: Any, **kw: Any
    ) -> Answer:
        if turns[0].text == "q0":
            raise ValidationError("throttled for good")
        return Answer("a1", 1, 1, 1, "end_turn")

    monkeypatch.setattr(core.evaluation.evaluate, "converse", first_fails)
    assert exit_code(["evaluate", "--model", "m", "--test", str(test_file)]) == 0
    assert "1 record failed on the tuned model" in capsys.readouterr().out


def test_json_output_never_carries_nan_or_infinity(capsys: pytest.CaptureFixture[str]) -> None:
    """The last line of defence: a non-finite number that slipped through every check is an
    error on stderr (exit 2 at the top), never `NaN` on stdout."""
    from core.errors import BedrockTuneError
    from tui.cli.common import print_json

    for value in (math.nan, math.inf, -math.inf):
        with pytest.raises(BedrockTuneError, match="a number JSON cannot carry"):
            print_json({"price": value})
    assert capsys.readouterr().out == ""
    print_json({"price": 1.5})
    assert json.loads(capsys.readouterr().out) == {"price": 1.5}
