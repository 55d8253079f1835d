"""Uploading a run's files once, under the run's lock (the package's docstring says how)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from core.aws import AwsContext, bucket_owner
from core.data.prepared import ALL_FILES, TEST_FILE, TRAIN_FILE, VALIDATION_FILE, PreparedDir
from core.errors import NotFoundError, aws_call
from core.faults import write_point
from core.infra.policies import (
    DEFAULT_PREFIX,
)
from core.locks import HolderLock, LockBusyError
from core.registry import PREFIX, Registry, ResourceRecord
from core.state_dir import state_dir
from core.swap import recover
from core.upload.location import (
    DEFAULT_PART_SIZE,
    RunFolder,
    RunLocation,
    UploadBusyError,
    UploadCancelled,
    UploadedFile,
    UploadResult,
    run_location,
)
from core.upload.transfer import (
    Target,
    abort_stale_uploads,
    upload_file,
)
from core.upload_progress import FileProgress

if TYPE_CHECKING:
    pass


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
    bucket = location.bucket
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
        record_run_folder(registry, location, region or context.region, account_id)
        write_point("upload.recorded")
    target = Target(s3, bucket, owner, cancelled, part_size, max(1, concurrency))
    abort_stale_uploads(target, f"{location.folder_key}{folder}/", locked_at)
    uploaded: list[UploadedFile] = []
    for path, name in files:
        if cancelled():
            raise UploadCancelled(
                f"Cancelled before {name}; "
                + (f"{len(uploaded)} file(s) are up." if uploaded else "nothing was sent."),
                hint="Upload again to finish: files already up are skipped.",
            )
        key = location.key_in(folder, name)
        uploaded.append(upload_file(target, path, key, location, on_progress, clock))
        write_point(f"upload.verified-{path.name}")
    return tuple(uploaded)


def record_run_folder(
    registry: Registry, location: RunLocation, region: str, account_id: str
) -> None:
    """Record the run's S3 folder as made by bedrock-tune (before anything is put there), so
    teardown deletes the objects in it and then the bucket."""
    registry.add_resource(
        ResourceRecord(
            kind=PREFIX,
            identifier=location.folder_uri,
            region=region,
            account_id=account_id,
            run_id=location.run_id,
            billable=False,
            created_by_us=True,
            details={
                "bucket": location.bucket,
                "prefix": location.folder_key,
                "output_uri": location.output_uri,
            },
        )
    )
