"""One upload of a run at a time: a second upload while the first is alive is refused and never
aborts the first's multipart upload; an upload killed (SIGKILL) at any write point is finished by
the next run, with nothing lost, nothing duplicated, and the registry matching S3."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from core.aws import AwsContext
from core.registry import Registry
from core.sandbox.server import Sandbox, sandbox_environment
from core.upload import (
    DEFAULT_PART_SIZE,
    SHA256_METADATA,
    FileProgress,
    UploadBusyError,
    stale_uploads,
    upload_prepared,
)
from tests.kills import cli_killed_at
from tui.cli.main import main

BUCKET = "bt-upload-locks"
LINE = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'


@pytest.fixture
def context(aws_keys: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsContext]:
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield AwsContext.from_environment(region="us-east-1")


def folder(root: Path, train_lines: int) -> Path:
    root.mkdir()
    (root / "train.jsonl").write_bytes(LINE * train_lines)
    (root / "validation.jsonl").write_bytes(LINE * 10)
    (root / "manifest.json").write_text('{"counts": {}}')
    return root


def uploads_in(s3: Any, bucket: str) -> list[str]:
    return [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_a_second_upload_of_a_running_run_is_refused_and_the_first_finishes(
    context: AwsContext, tmp_path: Path
) -> None:
    prepared = folder(tmp_path / "prepared", 80)
    in_flight, release = threading.Event(), threading.Event()

    def hold_after_the_first_part(update: FileProgress) -> None:
        first_part_up = update.name == "train.jsonl" and update.state == "uploading" and update.done
        if first_part_up and not in_flight.is_set():
            in_flight.set()
            release.wait(30)

    outcome: dict[str, Any] = {}

    def first() -> None:
        try:
            outcome["result"] = upload_prepared(
                context,
                prepared,
                BUCKET,
                "run1",
                part_size=1024,
                concurrency=1,
                on_progress=hold_after_the_first_part,
            )
        except BaseException as error:  # reported by the assertion below
            outcome["error"] = error

    thread = threading.Thread(target=first)
    thread.start()
    try:
        assert in_flight.wait(30)
        s3 = context.client("s3")
        live = uploads_in(s3, BUCKET)
        assert len(live) == 1
        with pytest.raises(UploadBusyError) as refused:
            upload_prepared(context, prepared, BUCKET, "run1", part_size=1024)
        assert "Another bedrock-tune upload to s3://bt-upload-locks/bedrock-tune/run1/" in str(
            refused.value.message
        )
        assert "process" in refused.value.message and "Wait for it" in refused.value.hint
        assert uploads_in(s3, BUCKET) == live  # the first's upload was not aborted
        # Another run is not held up by it.
        other = upload_prepared(context, prepared, BUCKET, "run2", part_size=1 << 20)
        assert other.training_uri.endswith("/run2/data/train.jsonl")
    finally:
        release.set()
        thread.join(30)
    assert "error" not in outcome, outcome.get("error")
    key = "bedrock-tune/run1/data/train.jsonl"
    body = context.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read()
    assert body == (prepared / "train.jsonl").read_bytes()
    assert uploads_in(context.client("s3"), BUCKET) == []


def test_only_uploads_started_before_the_lock_are_stale() -> None:
    locked = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    uploads: list[dict[str, Any]] = [
        {"Key": "a", "UploadId": "dead", "Initiated": locked - timedelta(minutes=3)},
        {"Key": "b", "UploadId": "naive", "Initiated": datetime(2026, 5, 1, 11, 59)},
        {"Key": "c", "UploadId": "after", "Initiated": locked + timedelta(seconds=5)},
        {"Key": "d", "UploadId": "unknown"},
    ]
    assert stale_uploads(uploads, locked) == [("a", "dead"), ("b", "naive")]


# --------------------------------------------------------------------------- kill -9 (sandbox)

KILL_POINTS = [
    "upload.recorded",
    "upload.part-sent",
    "upload.completed",
    "upload.verified-train.jsonl",
    "upload.put",
]
"""After the registry entry, mid-multipart, after CompleteMultipartUpload (before the read-back),
after the first file is verified, and after a single PutObject."""


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsContext]:
    with Sandbox() as running:
        for key, value in sandbox_environment(running).items():
            monkeypatch.setenv(key, value)
        context = AwsContext.for_endpoint(running.endpoint_url, running.credentials)
        context.client("s3").create_bucket(Bucket=BUCKET)
        yield context


@pytest.mark.parametrize("point", KILL_POINTS)
def test_an_upload_killed_at_any_write_point_is_finished_by_the_next_run(
    sandbox: AwsContext, tmp_path: Path, point: str
) -> None:
    # train.jsonl is over one part: it goes up in two parts (8 MiB + the rest).
    lines = DEFAULT_PART_SIZE // len(LINE) + 2000
    prepared = folder(tmp_path / "prepared", lines)
    args = ["upload", str(prepared), "--bucket", BUCKET, "--run", "r1"]
    cli_killed_at(point, args, cwd=tmp_path)
    s3 = sandbox.client("s3")

    assert main(args) == 0
    for name in ("train.jsonl", "validation.jsonl", "manifest.json"):
        data = (prepared / name).read_bytes()
        key = f"bedrock-tune/r1/data/{name}"
        assert s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == data
        head = s3.head_object(Bucket=BUCKET, Key=key)
        assert head["Metadata"][SHA256_METADATA] == hashlib.sha256(data).hexdigest()
    assert uploads_in(s3, BUCKET) == []  # the killed run's parts were aborted, not left
    [record] = Registry().resources()
    assert (record.kind, record.identifier) == ("s3-prefix", f"s3://{BUCKET}/bedrock-tune/r1/")
    # Run again: everything is already there and identical; nothing is sent twice.
    puts: list[str] = []
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    again = upload_prepared(
        sandbox,
        prepared,
        BUCKET,
        "r1",
        registry=Registry(),
        on_progress=lambda u: puts.append(u.state),
    )
    assert all(f.skipped for f in again.files) and "uploading" not in puts
    assert {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]} == keys
    assert len(Registry().resources()) == 1
