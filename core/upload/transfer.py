"""Sending one file to S3 and proving it arrived: a single PutObject or a multipart upload
(parts in parallel, each with Content-MD5 and a SHA-256 checksum S3 verifies), the object's
SHA-256 in its metadata read back with its size and ETag, an identical object skipped, and the
multipart uploads a killed run left behind aborted."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.aws import BucketOwner
from core.errors import NotFoundError, aws_call
from core.faults import write_point
from core.upload_progress import FileProgress, Meter

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import CompletedPartTypeDef, HeadObjectOutputTypeDef

from core.upload.location import (
    DEFAULT_PART_SIZE,
    MAX_PARTS,
    MIB,
    SHA256_METADATA,
    RunLocation,
    UploadCancelled,
    UploadedFile,
    UploadIntegrityError,
)


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def sha256_of(path: Path, cancelled: Callable[[], bool]) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(4 * MIB):
            if cancelled():
                raise UploadCancelled(f"Cancelled while checking {path.name}; nothing was sent.")
            digest.update(chunk)
    return digest.hexdigest()


def part_size_for(size: int, wanted: int = DEFAULT_PART_SIZE) -> int:
    """The part size for a file of `size` bytes: `wanted`, larger when 10,000 parts are not
    enough."""
    return max(wanted, math.ceil(size / MAX_PARTS))


@dataclass
class Target:
    s3: S3Client
    bucket: str
    owner: BucketOwner
    cancelled: Callable[[], bool]
    part_size: int
    concurrency: int


def stale_uploads(
    uploads: Iterable[Mapping[str, Any]], locked_at: datetime
) -> list[tuple[str, str]]:
    """(key, upload id) of the multipart uploads provably left by a dead process: started
    before this process took the run's lock (whoever started them no longer holds it)."""
    stale = []
    for upload in uploads:
        started = upload.get("Initiated")
        if isinstance(started, datetime) and started.tzinfo is None:
            started = started.replace(tzinfo=locked_at.tzinfo)  # S3 answers in UTC
        if isinstance(started, datetime) and started <= locked_at:
            stale.append((str(upload["Key"]), str(upload["UploadId"])))
    return stale


def abort_stale_uploads(target: Target, key_prefix: str, locked_at: datetime) -> None:
    """Abort the multipart uploads a killed run left under the run's data folder."""
    with aws_call(f"listing unfinished uploads in s3://{target.bucket}/{key_prefix}"):
        pages = target.s3.get_paginator("list_multipart_uploads").paginate(
            Bucket=target.bucket, Prefix=key_prefix, **target.owner
        )
        uploads = [dict(u) for page in pages for u in page.get("Uploads", [])]
    for key, upload_id in stale_uploads(uploads, locked_at):
        with aws_call(f"aborting an unfinished upload of {key}"):
            target.s3.abort_multipart_upload(
                Bucket=target.bucket, Key=key, UploadId=upload_id, **target.owner
            )


def upload_file(
    target: Target,
    path: Path,
    key: str,
    location: RunLocation,
    on_progress: Callable[[FileProgress], None] | None,
    clock: Callable[[], float],
) -> UploadedFile:
    size = path.stat().st_size
    meter = Meter(path.name, size, clock, on_progress)
    meter.state("checking", 0)
    sha256 = sha256_of(path, target.cancelled)
    uri = f"s3://{target.bucket}/{key}"
    existing = _head(target, key)
    if (
        existing is not None
        and existing.get("ContentLength") == size
        and existing.get("Metadata", {}).get(SHA256_METADATA) == sha256
    ):
        meter.state("skipped", size)
        return UploadedFile(path.name, key, uri, size, sha256, skipped=True, multipart=False)
    meter.state("uploading", 0)
    chunk = part_size_for(size, target.part_size)
    if size > chunk:
        etag = _multipart(target, path, key, size, chunk, sha256, meter)
    else:
        etag = _single(target, path, key, sha256, meter)
    _verify(target, key, size, sha256, etag)
    meter.state("done", size)
    return UploadedFile(path.name, key, uri, size, sha256, skipped=False, multipart=size > chunk)


def _head(target: Target, key: str) -> HeadObjectOutputTypeDef | None:
    try:
        with aws_call(f"checking s3://{target.bucket}/{key}"):
            return target.s3.head_object(Bucket=target.bucket, Key=key, **target.owner)
    except NotFoundError:
        return None


def _content_type(path: Path) -> str:
    types = {".jsonl": "application/jsonl", ".json": "application/json"}
    return types.get(path.suffix, "application/octet-stream")


def _single(target: Target, path: Path, key: str, sha256: str, meter: Meter) -> str:
    data = path.read_bytes()
    md5 = hashlib.md5(data, usedforsecurity=False)  # Content-MD5: what S3 checks on receipt
    with aws_call(f"uploading {path.name} to s3://{target.bucket}/{key}"):
        target.s3.put_object(
            Bucket=target.bucket,
            Key=key,
            Body=data,
            ContentMD5=_b64(md5.digest()),
            ChecksumSHA256=_b64(bytes.fromhex(sha256)),
            ContentType=_content_type(path),
            Metadata={SHA256_METADATA: sha256},
            **target.owner,
        )
    write_point("upload.put")
    meter.advance(len(data))
    return md5.hexdigest()


def _multipart(
    target: Target, path: Path, key: str, size: int, chunk: int, sha256: str, meter: Meter
) -> str:
    with aws_call(f"starting the upload of {path.name}"):
        upload_id = target.s3.create_multipart_upload(
            Bucket=target.bucket,
            Key=key,
            ChecksumAlgorithm="SHA256",
            ContentType=_content_type(path),
            Metadata={SHA256_METADATA: sha256},
            **target.owner,
        )["UploadId"]
    count = math.ceil(size / chunk)
    parts: dict[int, CompletedPartTypeDef] = {}
    md5s: dict[int, bytes] = {}

    def send(number: int) -> None:
        with path.open("rb") as handle:
            handle.seek((number - 1) * chunk)
            data = handle.read(chunk)
        md5 = hashlib.md5(data, usedforsecurity=False).digest()
        checksum = _b64(hashlib.sha256(data).digest())
        with aws_call(f"uploading part {number} of {count} of {path.name}"):
            answer = target.s3.upload_part(
                Bucket=target.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=data,
                ContentMD5=_b64(md5),
                ChecksumSHA256=checksum,
                **target.owner,
            )
        parts[number] = {"ETag": answer["ETag"], "PartNumber": number, "ChecksumSHA256": checksum}
        md5s[number] = md5
        write_point("upload.part-sent")
        meter.advance(len(data))

    try:
        with ThreadPoolExecutor(max_workers=target.concurrency) as pool:
            pending: set[Future[None]] = set()
            for number in range(1, count + 1):
                if target.cancelled():
                    raise UploadCancelled(
                        f"Cancelled while uploading {path.name}; its unfinished upload was "
                        "aborted, so no partial object exists.",
                        hint="Upload again to finish: files already up are skipped.",
                    )
                if len(pending) >= target.concurrency:
                    done, pending = wait(pending, return_when=FIRST_EXCEPTION)
                    for future in done:
                        future.result()
                pending.add(pool.submit(send, number))
            for future in pending:
                future.result()
        with aws_call(f"completing the upload of {path.name}"):
            target.s3.complete_multipart_upload(
                Bucket=target.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [parts[n] for n in sorted(parts)]},
                **target.owner,
            )
        write_point("upload.completed")
    except BaseException:
        # Never leave parts behind: without CompleteMultipartUpload there is no object.
        with contextlib.suppress(Exception):
            target.s3.abort_multipart_upload(
                Bucket=target.bucket, Key=key, UploadId=upload_id, **target.owner
            )
        raise
    joined = b"".join(md5s[n] for n in sorted(md5s))
    return f"{hashlib.md5(joined, usedforsecurity=False).hexdigest()}-{count}"  # S3's ETag rule


def _verify(target: Target, key: str, size: int, sha256: str, etag: str) -> None:
    """Read the object's size, SHA-256 metadata and ETag back; delete it when they differ."""
    found = _head(target, key)
    problems: list[str] = []
    if found is None:
        problems.append("it is not there")
    else:
        if found.get("ContentLength") != size:
            problems.append(f"it has {found.get('ContentLength')} bytes, the file {size}")
        if found.get("Metadata", {}).get(SHA256_METADATA) != sha256:
            problems.append("its SHA-256 differs from the file's")
        kms = str(found.get("ServerSideEncryption", "")).startswith("aws:kms")
        if not kms and str(found.get("ETag", "")).strip('"') != etag:
            # With SSE-KMS the ETag is not an MD5; elsewhere it must match what we sent.
            problems.append("its ETag does not match the MD5 of what was sent")
    if not problems:
        return
    if found is not None:
        with contextlib.suppress(Exception):
            target.s3.delete_object(Bucket=target.bucket, Key=key, **target.owner)
    raise UploadIntegrityError(
        f"s3://{target.bucket}/{key} did not read back as the file: " + "; ".join(problems) + ".",
        hint="It was deleted so it cannot be used. Upload again; if it keeps failing, check the "
        "network or proxy between you and S3.",
    )
