"""Upload: keys checked before any call, progress per file, skip-if-identical, multipart, checksums
read back, and an upload interrupted midway (cancelled, failed, or killed) that leaves no partial
object and finishes when run again."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from moto import mock_aws

from core import format as fmt
from core.aws import AwsContext
from core.errors import DatasetError, NotFoundError, ServiceError, ValidationError
from core.registry import Registry
from core.upload import (
    SHA256_METADATA,
    FileProgress,
    UploadCancelled,
    UploadIntegrityError,
    part_size_for,
    run_location,
    upload_prepared,
)

if TYPE_CHECKING:
    from types_boto3_s3.type_defs import MultipartUploadTypeDef

BUCKET = "bt-upload-data"
LINE = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'


@pytest.fixture
def context(aws_keys: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsContext]:
    # Real S3 wants parts of 5 MiB; small parts keep these tests small and fast.
    monkeypatch.setattr("moto.s3.models.S3_UPLOAD_PART_MIN_SIZE", 1)
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
        yield AwsContext.from_environment(region="us-east-1")


@pytest.fixture
def prepared(tmp_path: Path) -> Path:
    folder = tmp_path / "prepared"
    folder.mkdir()
    (folder / "train.jsonl").write_bytes(LINE * 80)
    (folder / "validation.jsonl").write_bytes(LINE * 10)
    (folder / "test.jsonl").write_bytes(LINE * 5)
    (folder / "manifest.json").write_text('{"counts": {"train": 80}}')
    return folder


def body(key: str) -> bytes:
    return bytes(boto3.client("s3").get_object(Bucket=BUCKET, Key=key)["Body"].read())


def pending_uploads() -> list[MultipartUploadTypeDef]:
    return list(boto3.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", []))


def count_calls(context: AwsContext, operation: str) -> list[int]:
    calls: list[int] = []
    context.client("s3").meta.events.register(
        f"before-call.s3.{operation}", lambda **_: calls.append(1)
    )
    return calls


class Ticks:
    """A clock that moves one second each time it is read."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


def test_upload_puts_every_file_in_the_run_folder_and_returns_the_uris(
    context: AwsContext, prepared: Path
) -> None:
    seen: list[FileProgress] = []
    registry = Registry()
    result = upload_prepared(
        context, prepared, BUCKET, "run1", registry=registry, on_progress=seen.append
    )
    assert result.training_uri == f"s3://{BUCKET}/bedrock-tune/run1/data/train.jsonl"
    assert result.validation_uri == f"s3://{BUCKET}/bedrock-tune/run1/data/validation.jsonl"
    assert result.test_uri == f"s3://{BUCKET}/bedrock-tune/run1/data/test.jsonl"
    assert result.output_uri == f"s3://{BUCKET}/bedrock-tune/run1/output/"
    assert result.run_fields()["bucket"] == BUCKET
    assert [f.name for f in result.files] == [
        "train.jsonl",
        "validation.jsonl",
        "test.jsonl",
        "manifest.json",
    ]
    for uploaded in result.files:
        assert body(uploaded.key) == (prepared / uploaded.name).read_bytes()
        head = boto3.client("s3").head_object(Bucket=BUCKET, Key=uploaded.key)
        expected = hashlib.sha256((prepared / uploaded.name).read_bytes()).hexdigest()
        assert head["Metadata"][SHA256_METADATA] == expected == uploaded.sha256
    [record] = registry.resources()
    assert (record.kind, record.identifier) == ("s3-prefix", f"s3://{BUCKET}/bedrock-tune/run1/")
    assert record.created_by_us and record.run_id == "run1"
    train = [p for p in seen if p.name == "train.jsonl"]
    assert train[0].state == "checking"
    assert train[-1].state == "done" and train[-1].done == train[-1].total == len(LINE) * 80


def test_an_identical_object_is_skipped_and_a_changed_one_replaced(
    context: AwsContext, prepared: Path
) -> None:
    upload_prepared(context, prepared, BUCKET, "run1")
    puts = count_calls(context, "PutObject")
    again = upload_prepared(context, prepared, BUCKET, "run1")
    assert all(f.skipped for f in again.files) and puts == []
    (prepared / "test.jsonl").write_bytes(LINE * 6)
    changed = upload_prepared(context, prepared, BUCKET, "run1")
    assert [f.name for f in changed.files if not f.skipped] == ["test.jsonl"]
    assert body("bedrock-tune/run1/data/test.jsonl") == LINE * 6


def test_large_files_go_up_in_parts_with_checksums_and_progress(
    context: AwsContext, prepared: Path
) -> None:
    seen: list[FileProgress] = []
    parts = count_calls(context, "UploadPart")
    result = upload_prepared(
        context,
        prepared,
        BUCKET,
        "run1",
        part_size=1024,
        on_progress=seen.append,
        clock=Ticks(),
    )
    train = next(f for f in result.files if f.name == "train.jsonl")
    size = len(LINE) * 80
    assert train.multipart and len(parts) >= size // 1024
    assert body(train.key) == (prepared / "train.jsonl").read_bytes()
    etag = boto3.client("s3").head_object(Bucket=BUCKET, Key=train.key)["ETag"]
    assert etag.endswith(f'-{-(-size // 1024)}"')  # S3's multipart ETag: md5-of-md5s-<parts>
    moving = [p for p in seen if p.name == "train.jsonl" and p.state == "uploading" and p.done]
    assert moving and all(p.rate and p.rate > 0 for p in moving)
    assert moving[-1].seconds_left == 0
    assert all(p.seconds_left is not None and p.seconds_left > 0 for p in moving[:-1])
    assert pending_uploads() == []


def test_part_size_grows_when_ten_thousand_parts_are_not_enough() -> None:
    assert part_size_for(1000, 8 * 1024 * 1024) == 8 * 1024 * 1024
    assert part_size_for(200 * 1024**3) * 10_000 >= 200 * 1024**3


class NoCalls:
    region = "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError("AWS was called before the keys were checked")


@pytest.mark.parametrize(
    ("bucket", "run_id", "prefix", "message"),
    [
        (BUCKET, "run 1", "bedrock-tune", "not an S3 URI CreateModelCustomizationJob accepts"),
        (BUCKET, "a+b", "bedrock-tune", "no spaces, '+', '=' or '&'"),
        (BUCKET, "run1", "my data", "not one Bedrock accepts"),
        ("Bad_Bucket", "run1", "bedrock-tune", "not a valid S3 bucket name"),
    ],
)
def test_keys_are_checked_against_the_bedrock_pattern_before_any_call(
    prepared: Path, bucket: str, run_id: str, prefix: str, message: str
) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        upload_prepared(NoCalls(), prepared, bucket, run_id, prefix=prefix)  # type: ignore[arg-type]


def test_run_location_layout() -> None:
    where = run_location(BUCKET, "abc123", "team/tune/")
    assert where.folder_uri == f"s3://{BUCKET}/team/tune/abc123/"
    assert where.data_uri("train.jsonl") == f"s3://{BUCKET}/team/tune/abc123/data/train.jsonl"
    assert where.output_uri.startswith(where.folder_uri)


def test_a_folder_without_train_jsonl_or_a_missing_bucket_is_explained(
    context: AwsContext, prepared: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DatasetError, match=r"has no train\.jsonl") as caught:
        upload_prepared(context, empty, BUCKET, "run1")
    assert "Prepare the data first" in caught.value.hint
    with pytest.raises(NotFoundError, match="does not exist") as missing:
        upload_prepared(context, prepared, "no-such-bucket-here", "run1")
    assert "infra apply" in missing.value.hint


def test_a_cancelled_upload_leaves_no_partial_object_and_a_rerun_finishes(
    context: AwsContext, prepared: Path
) -> None:
    stop = {"now": False}

    def progress(update: FileProgress) -> None:
        if update.name == "train.jsonl" and update.state == "uploading" and update.done:
            stop["now"] = True  # cancel once the first part is up

    with pytest.raises(UploadCancelled, match="no partial object exists"):
        upload_prepared(
            context,
            prepared,
            BUCKET,
            "run1",
            part_size=1024,
            concurrency=1,
            on_progress=progress,
            cancelled=lambda: stop["now"],
        )
    s3 = boto3.client("s3")
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=BUCKET, Key="bedrock-tune/run1/data/train.jsonl")
    assert pending_uploads() == []  # aborted: no parts left behind
    result = upload_prepared(context, prepared, BUCKET, "run1", part_size=1024)
    assert body(result.files[0].key) == (prepared / "train.jsonl").read_bytes()


def test_a_part_that_fails_aborts_the_upload(context: AwsContext, prepared: Path) -> None:
    sent: list[int] = []

    def fail_third(**_: Any) -> None:
        sent.append(1)
        if len(sent) == 3:
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "injected"}}, "UploadPart"
            )

    context.client("s3").meta.events.register_first("before-send.s3.UploadPart", fail_third)
    with pytest.raises(ServiceError, match="uploading part 3"):
        upload_prepared(context, prepared, BUCKET, "run1", part_size=1024, concurrency=1)
    with pytest.raises(ClientError, match="404"):
        boto3.client("s3").head_object(Bucket=BUCKET, Key="bedrock-tune/run1/data/train.jsonl")
    assert pending_uploads() == []


def test_an_upload_left_by_a_killed_process_is_never_used_and_the_rerun_finishes(
    context: AwsContext, prepared: Path
) -> None:
    s3 = boto3.client("s3")
    key = "bedrock-tune/run1/data/train.jsonl"
    stale = s3.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=stale, PartNumber=1, Body=b"half a file")
    with pytest.raises(ClientError, match="404"):
        s3.head_object(Bucket=BUCKET, Key=key)  # parts alone are no object
    result = upload_prepared(context, prepared, BUCKET, "run1", part_size=1024)
    assert body(key) == (prepared / "train.jsonl").read_bytes()
    assert not result.files[0].skipped
    assert pending_uploads() == []  # the stale upload was aborted


def test_an_object_that_does_not_read_back_is_deleted(aws_keys: None, tmp_path: Path) -> None:
    (tmp_path / "train.jsonl").write_bytes(LINE)
    context = AwsContext.from_environment(region="us-east-1")
    key = "bedrock-tune/run1/data/train.jsonl"
    md5 = base64.b64encode(hashlib.md5(LINE, usedforsecurity=False).digest()).decode()
    sha = hashlib.sha256(LINE).hexdigest()
    with Stubber(context.client("s3")) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": BUCKET})
        stub.add_response("list_multipart_uploads", {}, {"Bucket": BUCKET, "Prefix": ANY})
        stub.add_client_error("head_object", "404", http_status_code=404)
        stub.add_response(
            "put_object",
            {"ETag": f'"{hashlib.md5(LINE, usedforsecurity=False).hexdigest()}"'},
            {
                "Bucket": BUCKET,
                "Key": key,
                "Body": LINE,
                "ContentMD5": md5,  # S3 refuses the body if it does not match
                "ChecksumSHA256": base64.b64encode(bytes.fromhex(sha)).decode(),
                "ContentType": "application/jsonl",
                "Metadata": {SHA256_METADATA: sha},
            },
        )
        stub.add_response(
            "head_object",
            {"ContentLength": len(LINE), "Metadata": {SHA256_METADATA: "0" * 64}, "ETag": '"x"'},
            {"Bucket": BUCKET, "Key": key},
        )
        stub.add_response("delete_object", {}, {"Bucket": BUCKET, "Key": key})
        with pytest.raises(UploadIntegrityError, match="SHA-256 differs") as caught:
            upload_prepared(context, tmp_path, BUCKET, "run1")
        stub.assert_no_pending_responses()
    assert "deleted so it cannot be used" in caught.value.hint


def test_progress_is_described_with_rate_and_time_left() -> None:
    moving = FileProgress("train.jsonl", 3 << 20, 12 << 20, 1.5 * (1 << 20), 6.0, "uploading")
    assert moving.describe() == "3.0 MB / 12.0 MB  1.5 MB/s  6 s left"
    assert FileProgress("t", 950, 950, None, None, "done").describe() == (
        "950 B, uploaded and verified"
    )
    assert "identical: skipped" in FileProgress("t", 0, 5 << 30, None, None, "skipped").describe()
    assert fmt.size(5 << 30) == "5.0 GB"


@pytest.mark.parametrize("size", [len(LINE), len(LINE) * 80], ids=["single", "multipart"])
def test_an_object_whose_etag_differs_from_what_was_sent_is_deleted(
    context: AwsContext, tmp_path: Path, size: int
) -> None:
    # Size and SHA-256 metadata read back right, but the ETag (the MD5 S3 computed of what it
    # received) does not match what was sent: the object is not the file.
    (tmp_path / "train.jsonl").write_bytes((LINE * 80)[:size])
    key = "bedrock-tune/run1/data/train.jsonl"

    def wrong_etag(parsed: dict[str, Any], **_: Any) -> None:
        if "ETag" in parsed:
            parsed["ETag"] = '"0123456789abcdef0123456789abcdef"'

    context.client("s3").meta.events.register("after-call.s3.HeadObject", wrong_etag)
    with pytest.raises(UploadIntegrityError, match="ETag does not match"):
        upload_prepared(context, tmp_path, BUCKET, "run1", part_size=1024)
    listed = boto3.client("s3").list_objects_v2(Bucket=BUCKET, Prefix=key)
    assert listed.get("KeyCount") == 0  # deleted, so no job can train on it
