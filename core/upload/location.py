"""Where a run's files go in S3 (`RunLocation`, checked against what Bedrock accepts before any
call), what an upload returns, and the upload's errors."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, replace
from typing import Literal

from core.aws import S3_URI, S3_URI_MAX
from core.data.prepared import ALL_FILES
from core.errors import BedrockTuneError, ConflictError, ValidationError
from core.infra.policies import (
    DEFAULT_PREFIX,
    bucket_name_problems,
    normalize_prefix,
    prefix_problem,
)
from core.run.types import Run

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


def run_folder_of(uri: str, run_ids: Collection[str]) -> RunLocation | None:
    """The run folder a data URI (`s3://<bucket>/<prefix>/<run>/data/...`) lies in, when `<run>`
    is one of `run_ids`; None for any other URI."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    parts = key.split("/")
    if not uri.startswith("s3://") or "data" not in parts[2:]:
        return None
    at = parts.index("data", 2)
    run_id, prefix = parts[at - 1], "/".join(parts[: at - 1])
    return RunLocation(bucket, prefix, run_id) if prefix and run_id in run_ids else None
