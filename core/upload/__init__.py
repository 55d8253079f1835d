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

from core.upload.location import (
    DEFAULT_PART_SIZE,
    SHA256_METADATA,
    RunFolder,
    RunLocation,
    UploadBusyError,
    UploadCancelled,
    UploadedFile,
    UploadIntegrityError,
    UploadResult,
    run_folder_of,
    run_location,
)
from core.upload.run import record_run_folder, upload_prepared, upload_run_files
from core.upload.transfer import part_size_for, stale_uploads
from core.upload_progress import FileProgress, State

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
    "record_run_folder",
    "run_folder_of",
    "run_location",
    "stale_uploads",
    "upload_prepared",
    "upload_run_files",
]
