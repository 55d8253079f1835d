"""Upload the prepared files to `s3://<bucket>/<prefix>/<run>/data/<file>` (and, for the import
routes, a model's files to `.../<run>/model/<path>`: `upload_run_files`).

Every key is checked against the S3 URI pattern CreateModelCustomizationJob accepts before
anything is sent. A file goes up in one PutObject when it is small and in a multipart upload
otherwise; every request carries Content-MD5 and a SHA-256 checksum that S3 verifies, and the
object's SHA-256 is stored in its metadata (`x-amz-meta-bedrock-tune-sha256`) and read back
after the upload, with its size and ETag. An object that is already there with the same size and
SHA-256 is skipped.

No partial object is ever visible: a single PutObject is atomic, and a multipart upload only
becomes an object when it is completed, which happens after its last part. On cancel or failure
the multipart upload is aborted. The run's URIs are returned only when every file is up and
verified, so nothing reads a half-uploaded run.

One upload of a run at a time: an upload holds a lock file for its run under the state folder
(core/locks.py), which the kernel releases when the process ends, even by kill -9. A second
upload of the same run while the first is alive is refused (`UploadBusyError`), never allowed to
disturb it. Holding the lock is also what proves a multipart upload stale: one that S3 lists as
started before the lock was taken belongs to a process that no longer holds it (it died), so it
is aborted and the run finishes; one started after that is nobody's on this machine and is left
alone.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from core.aws import S3_URI, S3_URI_MAX, AwsContext, BucketOwner, bucket_owner
from core.data.prepared import ALL_FILES, TEST_FILE, TRAIN_FILE, VALIDATION_FILE, PreparedDir
from core.errors import BedrockTuneError, ConflictError, NotFoundError, ValidationError, aws_call
from core.faults import write_point
from core.infra.policies import (
    DEFAULT_PREFIX,
    bucket_name_problems,
    normalize_prefix,
    prefix_problem,
)
from core.locks import HolderLock, LockBusyError
from core.registry import PREFIX, Registry, ResourceRecord
from core.run.types import Run
from core.state_dir import state_dir
from core.swap import recover
from core.upload_progress import FileProgress, Meter, State

__all__ = [
    "DEFAULT_PART_SIZE",
    "SHA256_METADATA",
    "FileProgress",
    "RunFolder",
    "RunLocation",
    "State",
    "UploadBusyError",
    "UploadCancelled",
    "UploadIntegrityError",
    "UploadResult",
    "UploadedFile",
    "part_size_for",
    "run_location",
    "stale_uploads",
    "upload_prepared",
    "upload_run_files",
]

if TYPE_CHECKING:
    from types_boto3_s3 import S3Client
    from types_boto3_s3.type_defs import CompletedPartTypeDef, HeadObjectOutputTypeDef

MIB = 1024 * 1024
DEFAULT_PART_SIZE = 8 * MIB
"""Files larger than this go up in parts of (at least) this size."""
MAX_PARTS = 10_000
"""S3's limit on the parts of one multipart upload."""
SHA256_METADATA = "bedrock-tune-sha256"
"""User metadata holding the object's SHA-256 (hex): how an identical object is recognised."""
RunFolder = Literal["data", "model"]
"""The run's folders files are uploaded to (the job's output goes to `output/`)."""


class UploadCancelled(BedrockTuneError):
    """The upload was cancelled; files not finished were not left behind in any form."""

    default_title = "Upload cancelled"


class UploadBusyError(ConflictError):
    """Another live process is uploading the same run (nothing was sent)."""

    default_title = "Upload already running"


class UploadIntegrityError(BedrockTuneError):
    """An uploaded object did not read back as the file (it was deleted again)."""

    default_title = "Upload corrupted"


@dataclass(frozen=True)
class RunLocation:
    """Where a run's files live: `s3://<bucket>/<prefix>/<run>/{data,output}/`."""

    bucket: str
    prefix: str
    run_id: str

    @property
    def folder_key(self) -> str:
        """`<prefix>/<run>/`: the run's folder (data and output sit under it)."""
        return f"{self.prefix}/{self.run_id}/"

    @property
    def folder_uri(self) -> str:
        """`s3://<bucket>/<prefix>/<run>/` (what the registry records)."""
        return f"s3://{self.bucket}/{self.folder_key}"

    @property
    def output_uri(self) -> str:
        """Where the job writes its output."""
        return f"{self.folder_uri}output/"

    def data_key(self, name: str) -> str:
        """The key of a data file."""
        return f"{self.folder_key}data/{name}"

    def data_uri(self, name: str) -> str:
        """The S3 URI of a data file."""
        return f"s3://{self.bucket}/{self.data_key(name)}"

    def key_in(self, folder: RunFolder, name: str) -> str:
        """The key of `name` (a `/`-separated relative path) in one of the run's folders."""
        return f"{self.folder_key}{folder}/{name}"

    @property
    def model_uri(self) -> str:
        """Where a model to import is uploaded (the folder CreateModelImportJob reads)."""
        return f"{self.folder_uri}model/"


@dataclass(frozen=True)
class UploadedFile:
    """One file, as it is in S3 now."""

    name: str
    key: str
    uri: str
    size: int
    sha256: str
    skipped: bool
    """Already there, identical: nothing was sent."""
    multipart: bool


@dataclass(frozen=True)
class UploadResult:
    """The run's data in S3, every file verified."""

    location: RunLocation
    files: tuple[UploadedFile, ...]
    training_uri: str
    validation_uri: str | None
    test_uri: str | None
    output_uri: str

    def applied_to(self, run: Run) -> Run:
        """The run with this upload's bucket, prefix and URIs."""
        return replace(
            run,
            bucket=self.location.bucket,
            s3_prefix=self.location.prefix,
            training_uri=self.training_uri,
            validation_uri=self.validation_uri,
            test_uri=self.test_uri,
            output_uri=self.output_uri,
        )

    def run_fields(self) -> dict[str, str | None]:
        """The bucket and URIs this upload gives the run, by run field name (for JSON)."""
        return {
            "bucket": self.location.bucket,
            "training_uri": self.training_uri,
            "validation_uri": self.validation_uri,
            "test_uri": self.test_uri,
            "output_uri": self.output_uri,
        }


def run_location(bucket: str, run_id: str, prefix: str = DEFAULT_PREFIX) -> RunLocation:
    """The run's folder, with every URI checked against what Bedrock accepts (before any call).

    Raises:
        ValidationError: a bad bucket name, prefix or run id, with the rule.
    """
    problems = bucket_name_problems(bucket)
    if problems:
        raise ValidationError(
            f"'{bucket}' is not a valid S3 bucket name: " + "; ".join(problems) + ".",
            title="Invalid bucket name",
            hint="Use the bucket `bedrock-tune infra apply` made (or plan one with infra plan).",
        )
    location = RunLocation(bucket, normalize_prefix(prefix), run_id)
    uris = [location.output_uri, location.model_uri, *(location.data_uri(n) for n in ALL_FILES)]
    for uri in uris:
        if S3_URI.fullmatch(uri) is None or len(uri) > S3_URI_MAX:
            raise ValidationError(
                f"{uri} is not an S3 URI CreateModelCustomizationJob accepts: keys take letters, "
                "digits and -!_*'(). in each '/'-separated part (no spaces, '+', '=' or '&'), "
                "1,024 characters at most.",
                title="Invalid S3 location",
                hint=f"Choose a run id and prefix made of those characters (run id '{run_id}').",
            )
    # The run id is one more folder under the prefix: the same strict rule (no wildcard, no
    # `.` or `..`, no slash) keeps it from naming another run's folder or the prefix itself.
    run_problem = prefix_problem(run_id, "run id")
    if run_problem is not None or "/" in run_id:
        raise ValidationError(
            (run_problem or f"The run id '{run_id}' has a '/'; it names one folder") + ".",
            title="Invalid run id",
            hint="Use letters, digits and -_ (for example the prepared folder's name).",
        )
    return location


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def _sha256_of(path: Path, cancelled: Callable[[], bool]) -> str:
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
class _Target:
    s3: S3Client
    bucket: str
    owner: BucketOwner
    cancelled: Callable[[], bool]
    part_size: int
    concurrency: int


def upload_prepared(
    context: AwsContext,
    directory: Path,
    bucket: str,
    run_id: str,
    *,
    prefix: str = DEFAULT_PREFIX,
    region: str | None = None,
    account_id: str = "",
    registry: Registry | None = None,
    on_progress: Callable[[FileProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = 4,
    lock_dir: Path | None = None,
) -> UploadResult:
    """Upload a prepared folder to the run's data folder and return the run's URIs.

    Args:
        context: where to call AWS.
        directory: the folder prepare wrote (train.jsonl, optional validation / test, manifest).
        bucket, run_id, prefix: the run's folder is `s3://<bucket>/<prefix>/<run_id>/`.
        region: the bucket's region (default: the context's).
        account_id: the bucket owner we expect (sent as ExpectedBucketOwner when given).
        registry: records the run's folder (kind `s3-prefix`) before the first byte is sent.
        on_progress: called with each file's progress (from worker threads).
        cancelled: polled between parts; when it turns true the upload stops, the unfinished
            file is aborted, and UploadCancelled is raised.
        clock: seconds, for the rate and the time left.
        part_size: files larger than this go up in parts of this size (S3: at least 5 MiB).
        concurrency: parts in flight at once.
        lock_dir: where the run's upload lock lives (default `<state dir>/locks`).

    Raises:
        ValidationError: a bad bucket name, prefix or run id (nothing is sent).
        UploadBusyError: another live process is uploading the same run (nothing is sent).
        DatasetError: the folder has no train.jsonl.
        NotFoundError: the bucket does not exist.
        UploadCancelled, UploadIntegrityError: see above.
        RegistryError: the registry cannot be read or is damaged (nothing is sent).
    """
    location = run_location(bucket, run_id, prefix)
    recover(directory, ALL_FILES)  # a prepare killed mid-swap: finish it before reading
    files = PreparedDir(directory).upload_files()
    uploaded = upload_run_files(
        context,
        location,
        "data",
        [(path, path.name) for path in files],
        region=region,
        account_id=account_id,
        registry=registry,
        on_progress=on_progress,
        cancelled=cancelled,
        clock=clock,
        part_size=part_size,
        concurrency=concurrency,
        lock_dir=lock_dir,
    )
    names = {f.name for f in uploaded}
    return UploadResult(
        location=location,
        files=tuple(uploaded),
        training_uri=location.data_uri(TRAIN_FILE),
        validation_uri=location.data_uri(VALIDATION_FILE) if VALIDATION_FILE in names else None,
        test_uri=location.data_uri(TEST_FILE) if TEST_FILE in names else None,
        output_uri=location.output_uri,
    )


def upload_run_files(
    context: AwsContext,
    location: RunLocation,
    folder: RunFolder,
    files: Sequence[tuple[Path, str]],
    *,
    region: str | None = None,
    account_id: str = "",
    registry: Registry | None = None,
    on_progress: Callable[[FileProgress], None] | None = None,
    cancelled: Callable[[], bool] = lambda: False,
    clock: Callable[[], float] = time.monotonic,
    part_size: int = DEFAULT_PART_SIZE,
    concurrency: int = 4,
    lock_dir: Path | None = None,
) -> tuple[UploadedFile, ...]:
    """Upload `files` (local path, `/`-separated name) into the run's `folder`, each verified,
    holding the run's upload lock; see `upload_prepared` for the arguments and the errors."""
    if registry is not None:
        registry.check()  # before any call: the run's folder must be recordable
    lock_path = (lock_dir or state_dir() / "locks") / f"upload-{_digest(location.folder_uri)}.lock"
    try:
        with HolderLock(lock_path, f"upload to {location.folder_uri}") as lock:
            assert lock.acquired_at is not None
            return _upload_locked(
                context,
                location,
                folder,
                files,
                region=region,
                account_id=account_id,
                registry=registry,
                on_progress=on_progress,
                cancelled=cancelled,
                clock=clock,
                part_size=part_size,
                concurrency=concurrency,
                locked_at=lock.acquired_at,
            )
    except LockBusyError as busy:
        holder = busy.holder.describe() if busy.holder else "another process"
        raise UploadBusyError(
            f"Another bedrock-tune upload to {location.folder_uri} is running ({holder}); "
            "nothing was sent, so it is not disturbed.",
            hint="Wait for it to finish (then uploading again skips what it put up), or stop "
            "that process first.",
        ) from None


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _upload_locked(
    context: AwsContext,
    location: RunLocation,
    folder: RunFolder,
    files: Sequence[tuple[Path, str]],
    *,
    region: str | None,
    account_id: str,
    registry: Registry | None,
    on_progress: Callable[[FileProgress], None] | None,
    cancelled: Callable[[], bool],
    clock: Callable[[], float],
    part_size: int,
    concurrency: int,
    locked_at: datetime,
) -> tuple[UploadedFile, ...]:
    """`upload_run_files` once the run's lock is held."""
    bucket, run_id = location.bucket, location.run_id
    s3 = context.client("s3", region=region or context.region)
    owner = bucket_owner(account_id)
    try:
        with aws_call(f"looking for the bucket {bucket}"):
            s3.head_bucket(Bucket=bucket, **owner)
    except NotFoundError as error:
        raise NotFoundError(
            f"The bucket {bucket} does not exist.",
            hint="Create it first: the Infrastructure step, or `bedrock-tune infra apply`.",
        ) from error
    if registry is not None:
        registry.add_resource(
            ResourceRecord(
                kind=PREFIX,
                identifier=location.folder_uri,
                region=region or context.region,
                account_id=account_id,
                run_id=run_id,
                billable=False,
                created_by_us=True,
                details={
                    "bucket": bucket,
                    "prefix": location.folder_key,
                    "output_uri": location.output_uri,
                },
            )
        )
        write_point("upload.recorded")
    target = _Target(s3, bucket, owner, cancelled, part_size, max(1, concurrency))
    _abort_stale_uploads(target, f"{location.folder_key}{folder}/", locked_at)
    uploaded: list[UploadedFile] = []
    for path, name in files:
        if cancelled():
            raise UploadCancelled(
                f"Cancelled before {name}; "
                + (f"{len(uploaded)} file(s) are up." if uploaded else "nothing was sent."),
                hint="Upload again to finish: files already up are skipped.",
            )
        key = location.key_in(folder, name)
        uploaded.append(_upload_file(target, path, key, location, on_progress, clock))
        write_point(f"upload.verified-{path.name}")
    return tuple(uploaded)


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


def _abort_stale_uploads(target: _Target, key_prefix: str, locked_at: datetime) -> None:
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


def _upload_file(
    target: _Target,
    path: Path,
    key: str,
    location: RunLocation,
    on_progress: Callable[[FileProgress], None] | None,
    clock: Callable[[], float],
) -> UploadedFile:
    size = path.stat().st_size
    meter = Meter(path.name, size, clock, on_progress)
    meter.state("checking", 0)
    sha256 = _sha256_of(path, target.cancelled)
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


def _head(target: _Target, key: str) -> HeadObjectOutputTypeDef | None:
    try:
        with aws_call(f"checking s3://{target.bucket}/{key}"):
            return target.s3.head_object(Bucket=target.bucket, Key=key, **target.owner)
    except NotFoundError:
        return None


def _content_type(path: Path) -> str:
    types = {".jsonl": "application/jsonl", ".json": "application/json"}
    return types.get(path.suffix, "application/octet-stream")


def _single(target: _Target, path: Path, key: str, sha256: str, meter: Meter) -> str:
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
    target: _Target, path: Path, key: str, size: int, chunk: int, sha256: str, meter: Meter
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


def _verify(target: _Target, key: str, size: int, sha256: str, etag: str) -> None:
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
