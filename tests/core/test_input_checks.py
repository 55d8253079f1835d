"""Core checks on what a person gives (issue 11, items 5, 6, 7 and 13): paths checked from their
stat (a FIFO never opened), file-system errors in plain words, endpoint URLs, inference settings
and numbers that must be finite."""

from __future__ import annotations

import errno
import math
import os
import socket
from pathlib import Path

import pytest

from core.aws import AwsContext, StaticCredentials, endpoint_url_problem
from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.errors import FileAccessError, ValidationError, file_error
from core.files import (
    check_output_folder,
    check_readable_file,
    output_file_problem,
    output_folder_problem,
    readable_file_problem,
)
from core.jobs.metrics import parse_metrics
from core.serving.chat import Settings, Turn, request

# --------------------------------------------------------------------------- paths


def test_readable_file_problems_come_from_the_stat(tmp_path: Path) -> None:
    (tmp_path / "file.txt").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        assert readable_file_problem(tmp_path / "sock") == "is a socket, not a regular file"
    assert readable_file_problem(tmp_path / "file.txt") is None
    assert readable_file_problem(tmp_path / "fifo") == "is a named pipe (FIFO), not a regular file"
    assert readable_file_problem(tmp_path) == "is a folder, not a regular file"
    assert readable_file_problem(Path("/dev/null")) == "is a device, not a regular file"
    assert readable_file_problem(tmp_path / "missing") == "does not exist"
    assert readable_file_problem(tmp_path / "file.txt" / "below") == "does not exist"


def test_check_readable_file_raises_the_callers_error_with_the_path(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as caught:
        check_readable_file(tmp_path, "test file", error=ValidationError, hint="Give a file.")
    assert caught.value.message == f"The test file {tmp_path} is a folder, not a regular file."
    assert caught.value.hint == "Give a file."


def test_output_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("x")
    assert output_folder_problem(tmp_path / "new" / "deeper") is None  # made like mkdir -p
    assert output_folder_problem(tmp_path) is None
    assert output_folder_problem(tmp_path / "file") == "is a file, not a folder"
    assert "is a file, not a folder" in (output_folder_problem(tmp_path / "file" / "x") or "")
    assert "under /proc" in (output_folder_problem(Path("/proc/self/fd")) or "")
    assert "under /dev" in (output_folder_problem(Path("/dev/shm/x")) or "")
    link = tmp_path / "link"
    link.symlink_to("/proc/self")
    assert "under /proc" in (output_folder_problem(link / "out") or "")  # resolved first
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    assert output_folder_problem(tmp_path / "new") == (
        f"cannot be written: the folder {tmp_path} is read-only for you"
    )
    with pytest.raises(FileAccessError, match=r"The report folder .* is read-only") as caught:
        check_output_folder(tmp_path / "new", "report folder")
    assert caught.value.hint.startswith("Choose a folder you can write to")
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("number", "hint"),
    [
        (errno.EACCES, "permissions"),
        (errno.EROFS, "read-only"),
        (errno.ENOSPC, "free some space"),
        (errno.ENOENT, "Check the path"),
        (errno.EIO, "Check the path and its permissions"),
    ],
)
def test_file_errors_name_the_path_and_what_to_do(number: int, hint: str) -> None:
    error = file_error(OSError(number, os.strerror(number), "/data/x.jsonl"), "writing")
    assert error.title == "Cannot use a file"
    assert error.message == f"writing: /data/x.jsonl: {os.strerror(number)}."
    assert hint in error.hint
    assert file_error(OSError(number, os.strerror(number))).message == f"{os.strerror(number)}."


# --------------------------------------------------------------------------- endpoint URLs


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:4566", "https://bedrock.us-east-1.amazonaws.com", "http://h:1/"]
)
def test_endpoint_urls_of_scheme_host_and_port_are_accepted(url: str) -> None:
    assert endpoint_url_problem(url) is None


def test_an_endpoint_url_with_a_path_is_refused_wherever_it_comes_from(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566/foo")
    with pytest.raises(ValidationError, match=r"AWS_ENDPOINT_URL: .* has a path") as caught:
        AwsContext.from_environment()
    assert caught.value.title == "Invalid endpoint URL"
    with pytest.raises(ValidationError, match=r"the endpoint URL: .* has a path"):
        AwsContext.from_environment(endpoint_url="http://h:1/x")
    with pytest.raises(ValidationError, match="has a path"):
        AwsContext.for_endpoint("http://h:1/x", StaticCredentials("a", "b"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert AwsContext.from_environment().endpoint_url == "http://127.0.0.1:4566"


# --------------------------------------------------------------------------- inference settings


@pytest.mark.parametrize(
    ("settings", "problem"),
    [
        (Settings(512, math.nan, 0.9), "temperature must be a number from 0 to 1, not nan"),
        (Settings(512, math.inf, 0.9), "temperature must be a number from 0 to 1, not inf"),
        (Settings(512, 0.7, 2.0), "top p must be a number from 0 to 1, not 2.0"),
        (Settings(512, -0.1, 0.9), "temperature must be a number from 0 to 1, not -0.1"),
        (Settings(0, 0.7, 0.9), "max tokens must be 1 or more, not 0"),
    ],
)
def test_settings_outside_inference_configuration_are_refused(
    settings: Settings, problem: str
) -> None:
    """botocore's bedrock-runtime `InferenceConfiguration`: maxTokens min 1, temperature and
    topP min 0 max 1."""
    assert settings.problems() == [problem]
    with pytest.raises(ValidationError, match="Invalid inference settings"):
        request("m", "", [Turn("user", "hi")], settings)


def test_edges_of_the_ranges_are_accepted() -> None:
    for settings in (Settings(1, 0.0, 0.0), Settings(4096, 1.0, 1.0), Settings(1, 0, 1)):
        assert settings.problems() == []


def test_an_empty_user_message_is_refused_before_the_request_is_built() -> None:
    with pytest.raises(ValidationError, match="Message 2 of the conversation is empty") as caught:
        request("m", "", [Turn("user", "hi"), Turn("user", " \n\t")], Settings())
    assert caught.value.title == "Empty prompt"
    body = request("m", "", [Turn("user", "hi")], Settings())
    assert body["messages"] == [{"role": "user", "content": [{"text": "hi"}]}]


# --------------------------------------------------------------------------- finite numbers


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "NaN", "1e999"])
def test_a_non_finite_hyperparameter_is_refused(value: str) -> None:
    custom = find_model("amazon.nova-micro-v1:0:128k").customization(CustomizationType.FINE_TUNING)
    assert custom is not None
    spec = custom.hyperparameter("learningRate")
    assert spec is not None
    assert spec.check(value) == f"learningRate must be a finite number, not '{value}'"
    assert spec.check("0.00001") is None


def test_metrics_rows_with_non_finite_numbers_are_skipped() -> None:
    text = (
        "step_number,epoch_number,training_loss,perplexity\n"
        "1,0,2.5,12.1\n"
        "2,0,nan,nan\n"
        "inf,0,1.0,2.0\n"
        "3,0,1.5,inf\n"
    )
    points = parse_metrics(text)
    assert [(p.step, p.loss, p.perplexity) for p in points] == [(1, 2.5, 12.1), (3, 1.5, None)]


def test_output_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "old.html").write_text("x")
    os.mkfifo(tmp_path / "fifo")
    assert output_file_problem(tmp_path / "new.html") is None
    assert output_file_problem(tmp_path / "old.html") == "already exists"
    assert output_file_problem(tmp_path / "old.html", overwrite=True) is None
    assert output_file_problem(tmp_path) == "is a folder, not a file"
    assert output_file_problem(tmp_path / "fifo", overwrite=True) == (
        "is a named pipe (FIFO), not a file"
    )
    assert "its folder" in (output_file_problem(tmp_path / "no" / "x.html") or "")
    assert "under /proc" in (output_file_problem(Path("/proc/self/environ")) or "")
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: False)
    assert "read-only for you" in (output_file_problem(tmp_path / "new.html") or "")
