"""Where the weights to import are: a local folder, an `s3://` prefix, or `hf:org/name`.

A source is parsed first (`parse_source`, no I/O), then opened as `ModelFiles`: one small
interface (a listing with sizes, whole small files, byte ranges) that the pre-import check reads,
whatever the source. A Hugging Face model is listed first (no download), refused at once when it
is gated and no token is set, then downloaded (only what an import needs: the JSON files, the
safetensors shards and the tokenizer) through an injectable `Hub`, with progress. The real hub is
`huggingface_hub` (imported when first used); tests inject a fake one.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from core.aws import AwsContext
from core.errors import (
    AccessDeniedError,
    BedrockTuneError,
    ConnectionFailedError,
    NotFoundError,
    ServiceError,
    ValidationError,
    aws_call,
)

SourceKind = Literal["folder", "s3", "hf"]
HF_PREFIX = "hf:"
HF_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/[A-Za-z0-9][A-Za-z0-9_.-]{0,95}")
"""`org/name` as the Hugging Face hub spells model ids."""
HF_TOKEN_ENV = "HF_TOKEN"

WANTED_PATTERNS: tuple[str, ...] = (
    "*.json",
    "*.safetensors",
    "tokenizer.model",
    "*.txt",
    "*.jinja",
    "*.tiktoken",
)
"""What an import needs from a model folder: configs, index, tokenizer files, weights. Other
weight formats (`.bin`, `.pt`, `.gguf`...) are listed by the check but never downloaded or
uploaded."""
SMALL_FILE = 64 * 1024 * 1024
"""The most `read` returns: configs and tokenizers are far smaller than this."""


class GatedModelError(AccessDeniedError):
    """A gated Hugging Face model asked for without a token."""

    default_title = "Gated model: a token is needed"


@dataclass(frozen=True)
class ModelSource:
    """Where the weights are, parsed but not opened."""

    kind: SourceKind
    location: str
    """The folder path, the `s3://bucket/prefix/` URI, or the hub id `org/name`."""
    revision: str | None = None
    """Hugging Face only: a branch, tag or commit (`hf:org/name@rev`)."""

    def __str__(self) -> str:
        if self.kind == "hf":
            return f"{HF_PREFIX}{self.location}" + (f"@{self.revision}" if self.revision else "")
        return self.location


def parse_source(text: str) -> ModelSource:
    """Read SOURCE as the CLI and the model-source step take it (no I/O).

    Raises:
        ValidationError: empty, a malformed `hf:` id or `s3://` URI.
    """
    value = text.strip()
    if not value:
        raise ValidationError(
            "No model source given.",
            hint="Give a local folder, an s3://bucket/prefix/ URI, or hf:org/name.",
        )
    if value.startswith(HF_PREFIX):
        repo, _, revision = value[len(HF_PREFIX) :].partition("@")
        if not HF_REPO.fullmatch(repo):
            raise ValidationError(
                f"'{value}' is not a Hugging Face model id.",
                hint="Write it as hf:org/name, e.g. hf:meta-llama/Llama-3.2-1B-Instruct "
                "(optionally @revision).",
            )
        return ModelSource("hf", repo, revision or None)
    if value.startswith("s3://"):
        bucket, _, prefix = value[5:].partition("/")
        if not bucket or not prefix.strip("/"):
            raise ValidationError(
                f"'{value}' names no folder inside a bucket.",
                hint="Point at the folder holding config.json, e.g. s3://my-bucket/models/sql/.",
            )
        return ModelSource("s3", f"s3://{bucket}/{prefix.strip('/')}/")
    return ModelSource("folder", str(Path(value).expanduser()))


class ModelFiles(Protocol):
    """The files of a model, wherever they are."""

    @property
    def where(self) -> str:
        """How to name the source in messages."""

    def listing(self) -> Mapping[str, int]:
        """Every file, by `/`-separated path relative to the model folder, with its size."""

    def read(self, name: str) -> bytes:
        """A whole (small) file."""

    def read_range(self, name: str, start: int, length: int) -> bytes:
        """`length` bytes from `start` (fewer at the end of the file)."""


def _hidden(relative: str) -> bool:
    return any(part.startswith(".") for part in relative.split("/"))


class LocalFiles:
    """A model folder on this machine (hidden folders such as `.git` and `.cache` skipped)."""

    def __init__(self, root: Path, where: str | None = None) -> None:
        self.root = root
        self._where = where or str(root)
        self._listing: dict[str, int] | None = None

    @property
    def where(self) -> str:
        return self._where

    def listing(self) -> Mapping[str, int]:
        if self._listing is None:
            found: dict[str, int] = {}
            for path in sorted(self.root.rglob("*")):
                relative = path.relative_to(self.root).as_posix()
                if not _hidden(relative) and path.is_file():
                    found[relative] = path.stat().st_size
            self._listing = found
        return self._listing

    def read(self, name: str) -> bytes:
        with (self.root / name).open("rb") as handle:
            return handle.read(SMALL_FILE)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        with (self.root / name).open("rb") as handle:
            handle.seek(start)
            return handle.read(length)


def open_folder(path: str) -> LocalFiles:
    """A local model folder.

    Raises:
        NotFoundError: no such folder (or a file, not a folder).
    """
    root = Path(path).expanduser()
    if not root.is_dir():
        what = "is a file, not a folder" if root.exists() else "does not exist"
        raise NotFoundError(
            f"The model folder {root} {what}.",
            hint="Point at the folder holding config.json and the *.safetensors weights "
            "(the folder save_pretrained wrote).",
        )
    return LocalFiles(root.resolve(), str(root))


class S3Files:
    """A model folder in S3 (read with ListObjectsV2 and ranged GetObject)."""

    def __init__(self, context: AwsContext, uri: str) -> None:
        rest = uri.removeprefix("s3://")
        self.bucket, _, prefix = rest.partition("/")
        self.prefix = prefix.strip("/") + "/"
        self.uri = f"s3://{self.bucket}/{self.prefix}"
        self._s3 = context.client("s3")
        self._listing: dict[str, int] | None = None

    @property
    def where(self) -> str:
        return self.uri

    def listing(self) -> Mapping[str, int]:
        if self._listing is None:
            found: dict[str, int] = {}
            with aws_call(f"listing {self.uri}"):
                pages = self._s3.get_paginator("list_objects_v2").paginate(
                    Bucket=self.bucket, Prefix=self.prefix
                )
                for page in pages:
                    for entry in page.get("Contents", []):
                        relative = str(entry["Key"])[len(self.prefix) :]
                        if relative and not relative.endswith("/") and not _hidden(relative):
                            found[relative] = int(entry.get("Size", 0))
            self._listing = found
        return self._listing

    def read(self, name: str) -> bytes:
        with aws_call(f"reading {self.uri}{name}"):
            body = self._s3.get_object(Bucket=self.bucket, Key=self.prefix + name)["Body"]
            data: bytes = body.read(SMALL_FILE)
            return data

    def read_range(self, name: str, start: int, length: int) -> bytes:
        size = self.listing().get(name, 0)
        if start >= size or length <= 0:
            return b""  # S3 answers InvalidRange for a range that starts past the end
        end = min(size, start + length) - 1
        with aws_call(f"reading {self.uri}{name}"):
            body = self._s3.get_object(
                Bucket=self.bucket, Key=self.prefix + name, Range=f"bytes={start}-{end}"
            )["Body"]
            data: bytes = body.read()
            return data


# ------------------------------------------------------------------------------ Hugging Face


@dataclass(frozen=True)
class HubListing:
    """A hub model's files (path -> size) and whether it is gated (licence to accept)."""

    files: dict[str, int]
    gated: bool


@dataclass(frozen=True)
class DownloadProgress:
    """How far a download is."""

    done_bytes: int
    total_bytes: int


class Hub(Protocol):
    """What bedrock-tune needs of the Hugging Face hub."""

    def stored_token(self) -> str | None:
        """The token saved by `hf auth login`, if any."""

    def listing(self, repo_id: str, revision: str | None, token: str | None) -> HubListing:
        """The model's files (no download)."""

    def download(
        self,
        repo_id: str,
        revision: str | None,
        token: str | None,
        patterns: list[str],
        on_progress: Callable[[DownloadProgress], None],
    ) -> Path:
        """Download the files matching `patterns`; the folder holding them."""


class HubFiles:
    """A downloaded hub model: the hub's listing (so files not downloaded, such as `.bin`
    weights, are still seen) read from the download folder."""

    def __init__(self, source: ModelSource, listing: Mapping[str, int], folder: Path) -> None:
        self._where = str(source)
        self._listing = dict(listing)
        self._local = LocalFiles(folder)
        self.folder = folder

    @property
    def where(self) -> str:
        return self._where

    def listing(self) -> Mapping[str, int]:
        return self._listing

    def read(self, name: str) -> bytes:
        return self._local.read(name)

    def read_range(self, name: str, start: int, length: int) -> bytes:
        return self._local.read_range(name, start, length)


def wanted(name: str) -> bool:
    """Whether an import needs the file `name` (see `WANTED_PATTERNS`)."""
    base = name.rsplit("/", 1)[-1]
    return not _hidden(name) and any(fnmatch.fnmatchcase(base, p) for p in WANTED_PATTERNS)


def hub_token(hub: Hub, environ: Mapping[str, str] | None = None) -> str | None:
    """`HF_TOKEN` from the environment, else the token `hf auth login` saved."""
    env = os.environ if environ is None else environ
    return env.get(HF_TOKEN_ENV) or hub.stored_token()


def fetch_from_hub(
    source: ModelSource,
    hub: Hub,
    *,
    environ: Mapping[str, str] | None = None,
    on_progress: Callable[[DownloadProgress], None] | None = None,
) -> HubFiles:
    """List, then download what an import needs of a hub model (blocking: call from a worker).

    Raises:
        GatedModelError: the model is gated and no token is set (nothing is downloaded).
        NotFoundError, AccessDeniedError, ConnectionFailedError, ServiceError: from the hub.
    """
    token = hub_token(hub, environ)
    listing = hub.listing(source.location, source.revision, token)
    if listing.gated and not token:
        raise GatedModelError(
            f"{source} is gated: the hub serves its files only to accounts that accepted its "
            "licence.",
            hint=f"Accept the licence on https://huggingface.co/{source.location}, create a read "
            f"token there (Settings, Access Tokens), and set it: export {HF_TOKEN_ENV}=hf_...",
        )
    needed = [name for name in listing.files if wanted(name)]
    total = sum(listing.files[name] for name in needed)
    report = on_progress or (lambda _progress: None)
    report(DownloadProgress(0, total))
    folder = hub.download(source.location, source.revision, token, needed, report)
    report(DownloadProgress(total, total))
    return HubFiles(source, listing.files, folder)


def open_source(
    source: ModelSource,
    *,
    context: AwsContext | None = None,
    hub: Hub | None = None,
    environ: Mapping[str, str] | None = None,
    on_progress: Callable[[DownloadProgress], None] | None = None,
) -> ModelFiles:
    """The source's files (blocking for S3 and the hub: call from a worker).

    Raises:
        BedrockTuneError: a folder that does not exist, an S3 prefix without an AWS context, a
            gated model without a token, or what the hub or S3 answered.
    """
    if source.kind == "folder":
        return open_folder(source.location)
    if source.kind == "s3":
        if context is None:
            raise BedrockTuneError(
                f"Reading {source} needs AWS credentials.",
                hint="Choose a profile (or the sandbox) first, or check a local folder.",
            )
        return S3Files(context, source.location)
    return fetch_from_hub(source, hub or HuggingFaceHub(), environ=environ, on_progress=on_progress)


class HuggingFaceHub:
    """The real hub, through `huggingface_hub` (imported on first use)."""

    def stored_token(self) -> str | None:
        from huggingface_hub import get_token

        return get_token()

    def listing(self, repo_id: str, revision: str | None, token: str | None) -> HubListing:
        from huggingface_hub import HfApi

        with _hub_errors(repo_id, token):
            info = HfApi().model_info(
                repo_id, revision=revision, files_metadata=True, token=token or False
            )
        files = {s.rfilename: int(s.size or 0) for s in info.siblings or []}
        return HubListing(files, bool(info.gated))

    def download(
        self,
        repo_id: str,
        revision: str | None,
        token: str | None,
        patterns: list[str],
        on_progress: Callable[[DownloadProgress], None],
    ) -> Path:
        from huggingface_hub import snapshot_download

        with _hub_errors(repo_id, token):
            folder = snapshot_download(
                repo_id,
                revision=revision,
                token=token or False,
                allow_patterns=patterns,
                tqdm_class=_progress_bar(on_progress),
            )
        return Path(str(folder))


def _progress_bar(on_progress: Callable[[DownloadProgress], None]) -> Any:
    """A tqdm class that reports the bytes bars of `snapshot_download` to `on_progress`."""
    from tqdm.auto import tqdm

    class Reporter(tqdm):  # type: ignore[misc]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # A disabled bar draws nothing and counts nothing: count here instead.
            self.bytes_bar = kwargs.get("unit") == "B"
            self.bytes_done = 0
            kwargs["disable"] = True
            super().__init__(*args, **kwargs)

        def update(self, n: float | None = 1) -> bool | None:
            shown: bool | None = super().update(n)
            self.bytes_done += int(n or 0)
            total = int(getattr(self, "total", 0) or 0)  # snapshot_download grows it as it goes
            if self.bytes_bar and total:
                on_progress(DownloadProgress(self.bytes_done, total))
            return shown

    return Reporter


class _hub_errors:
    """Translate huggingface_hub's errors into ours (a context manager)."""

    def __init__(self, repo_id: str, token: str | None) -> None:
        self.repo_id = repo_id
        self.token = token

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _: Any
    ) -> None:
        if error is None or not isinstance(error, Exception):
            return
        from huggingface_hub.errors import (
            GatedRepoError,
            HfHubHTTPError,
            RepositoryNotFoundError,
            RevisionNotFoundError,
        )

        page = f"https://huggingface.co/{self.repo_id}"
        if isinstance(error, GatedRepoError):
            raise GatedModelError(
                f"hf:{self.repo_id} is gated and the hub refused the token"
                + ("" if self.token else " (none is set)")
                + ".",
                hint=f"Accept the licence on {page} with the account the token belongs to, "
                f"then set it: export {HF_TOKEN_ENV}=hf_...",
            ) from error
        if isinstance(error, RepositoryNotFoundError | RevisionNotFoundError):
            raise NotFoundError(
                f"The hub has no model hf:{self.repo_id} (or the revision), or it is private.",
                hint=f"Check the id on {page}; for a private model set {HF_TOKEN_ENV}.",
            ) from error
        if isinstance(error, HfHubHTTPError):
            raise ServiceError(
                f"The Hugging Face hub answered an error for hf:{self.repo_id}: {error}",
                hint="Try again later.",
            ) from error
        if isinstance(error, OSError):
            raise ConnectionFailedError(
                f"Could not reach the Hugging Face hub for hf:{self.repo_id}: {error}",
                hint="Check the network (and HF_ENDPOINT / proxy settings), or download the "
                "model yourself and check the local folder.",
            ) from error


def local_root(files: ModelFiles) -> Path | None:
    """The folder on this machine the files are read from (None for S3: nothing to upload)."""
    if isinstance(files, HubFiles):
        return files.folder
    if isinstance(files, LocalFiles):
        return files.root
    return None
