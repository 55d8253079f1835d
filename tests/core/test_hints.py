"""Hint texts read as sentences (issue 11, item 10): no "For example ." with an empty example,
no sentence ending in "..". Every error built while a battery of bad inputs runs through core
is recorded (whatever its class, including errors later wrapped in others) and scanned."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from botocore import exceptions as bx
from botocore.exceptions import ClientError

from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.data.prepare import PrepareOptions, prepare
from core.data.sources import SourceSpec, preview
from core.data.templates import Template, load_template, render
from core.errors import BedrockTuneError, file_error, translate_botocore_error
from core.evaluation.evaluate import load_test_records
from core.infra.plan import plan
from core.jobs.customization import JobRequest, launch
from core.registry import Registry
from core.serving.chat import Settings
from core.upload import run_location
from core.validate.validator import validate

DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(\s|$)")
"""Two full stops ending a sentence (an ellipsis "..." is fine)."""
MODEL = "amazon.nova-micro-v1:0:128k"


def garbled(text: str) -> list[str]:
    """What is wrong with a message or hint text."""
    found = []
    if "For example ." in text or "For example , " in text:
        found.append("an empty example")
    if DOUBLE_STOP.search(text):
        found.append("a sentence ending in '..'")
    return found


def test_the_scanner_sees_both_patterns() -> None:
    assert garbled("For example . Check the columns.") == ["an empty example"]
    assert garbled("line 3: the column is missing.. Check it.") == ["a sentence ending in '..'"]
    assert garbled("Wait... then retry.") == []


@pytest.fixture
def built(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[BedrockTuneError]]:
    """Every BedrockTuneError constructed while the test runs."""
    errors: list[BedrockTuneError] = []
    original = BedrockTuneError.__init__

    def recording(self: BedrockTuneError, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        errors.append(self)

    monkeypatch.setattr(BedrockTuneError, "__init__", recording)
    yield errors


class NoCalls:
    region = "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError("no AWS call expected")


def _client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "CreateModelCustomizationJob")


def battery(tmp_path: Path) -> list[Callable[[], object]]:
    """Bad inputs across core: each call raises one of our errors."""
    model = find_model(MODEL)
    header_only = tmp_path / "empty.csv"
    header_only.write_text("dialogue,summary\n")
    no_column = tmp_path / "other.jsonl"
    no_column.write_text(json.dumps({"text": "x"}) + "\n")
    broken = tmp_path / "broken.jsonl"
    broken.write_text('{"a": 1}\n{"a": \n')
    template = Template(user="{dialogue}", assistant="{summary}")
    options = PrepareOptions(train=10, validation=0, test=0)
    registry = tmp_path / "state"
    registry.mkdir()
    (registry / "registry.json").write_text('{"version": 1, "runs": [], "resources": []}')
    bad_toml = tmp_path / "bad.toml"
    bad_toml.write_text("user = \n")
    request = JobRequest(
        job_name="bad name!",
        custom_model_name="m",
        base_model_id=model.id,
        role_arn="not-an-arn",
        training_uri="s3://b/t.jsonl",
        validation_uri=None,
        output_uri="http://x",
        client_request_token="t",
        customization_type=CustomizationType.FINE_TUNING,
        hyperparameters={"epochCount": "99", "learningRate": "nan"},
    )
    calls: list[Callable[[], object]] = [
        # the two generators of the issue: an empty example, and an example ending in "."
        lambda: prepare(SourceSpec(str(header_only)), template, model, tmp_path / "o1", options),
        lambda: prepare(SourceSpec(str(no_column)), template, model, tmp_path / "o2", options),
        lambda: preview(SourceSpec(str(tmp_path / "missing.jsonl"))),
        lambda: preview(SourceSpec(str(broken)), 5),
        lambda: preview(SourceSpec(str(tmp_path / "file.xyz"))),
        lambda: render(Template(user="{x}", assistant="{y}"), {"x": 1}),
        lambda: render(Template(user="[[{x}", assistant="{y}"), {"x": "1", "y": "2"}),
        lambda: load_template("preset:nope"),
        lambda: load_template(str(bad_toml)),
        lambda: load_template(str(tmp_path)),
        lambda: load_test_records(tmp_path / "missing.jsonl"),
        lambda: validate(tmp_path / "missing.jsonl", model, CustomizationType.FINE_TUNING),
        lambda: plan(NoCalls(), "1", "us-east-1", bucket="Bad_Bucket"),  # type: ignore[arg-type]
        lambda: plan(NoCalls(), "1", "us-east-1", prefix="*"),  # type: ignore[arg-type]
        lambda: plan(NoCalls(), "1", "us-east-1", kms_key="k k"),  # type: ignore[arg-type]
        lambda: run_location("bucket-1", "a b"),
        lambda: Registry(registry).check(),
        lambda: Settings(0, float("nan"), 2).check(),
        lambda: launch(NoCalls(), request, model),  # type: ignore[arg-type]
        lambda: find_model("gpt-9"),
    ]
    for code in (
        "ThrottlingException",
        "ExpiredToken",
        "InvalidClientTokenId",
        "AccessDeniedException",
        "ResourceNotFoundException",
        "ServiceQuotaExceededException",
        "ValidationException",
        "ConflictException",
        "InternalServerException",
    ):
        calls.append(partial(_translated, _client_error(code, "The request failed.")))
    for raw in (
        bx.NoCredentialsError(),
        bx.ProfileNotFound(profile="dev"),
        bx.EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
        bx.ReadTimeoutError(endpoint_url="http://127.0.0.1:1"),
    ):
        calls.append(partial(_translated, raw))
    calls.append(lambda: _raise(file_error(PermissionError(13, "Permission denied", "/x."))))
    return calls


def _raise(error: BedrockTuneError) -> None:
    raise error


def _translated(raw: Exception) -> None:
    raise translate_botocore_error(raw, context="doing", profile="dev")


def test_no_error_built_on_bad_input_has_a_garbled_hint(
    tmp_path: Path, built: list[BedrockTuneError]
) -> None:
    for call in battery(tmp_path):
        with pytest.raises(BedrockTuneError):
            call()
    classes = {type(e).__name__ for e in built}
    assert len(classes) >= 12, classes  # the scan covers many error classes, not one
    problems = [
        f"{type(e).__name__}: {what} in {text!r}"
        for e in built
        for text in (e.message, e.hint)
        for what in garbled(text)
    ]
    assert problems == []


def test_the_empty_example_of_prepare_is_left_out(tmp_path: Path) -> None:
    """A dataset with no record at all has no example to give: the hint goes straight on."""
    header_only = tmp_path / "empty.csv"
    header_only.write_text("dialogue,summary\n")
    template = Template(user="{dialogue}", assistant="{summary}")
    options = PrepareOptions(train=10, validation=0, test=0)
    with pytest.raises(BedrockTuneError) as caught:
        prepare(SourceSpec(str(header_only)), template, find_model(MODEL), tmp_path / "o", options)
    assert caught.value.hint == "Check the template's columns and the length limit."
