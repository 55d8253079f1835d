"""Model sources: parsing SOURCE, a Hugging Face model through an injected hub (no network),
and an S3 prefix read with ranged GETs."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.errors import NotFoundError, ValidationError
from core.importing.check import check_model
from core.importing.source import (
    DownloadProgress,
    GatedModelError,
    HubListing,
    ModelSource,
    S3Files,
    open_source,
    parse_source,
)
from core.importing.tiny import tiny_model_files, write_tiny_model
from core.sandbox.server import Sandbox


def test_sources_are_parsed_without_io(tmp_path: Path) -> None:
    assert parse_source("hf:meta-llama/Llama-3.2-1B@main") == ModelSource(
        "hf", "meta-llama/Llama-3.2-1B", "main"
    )
    assert str(parse_source("hf:org/name")) == "hf:org/name"
    assert parse_source("s3://b/models/sql") == ModelSource("s3", "s3://b/models/sql/")
    assert parse_source(f" {tmp_path} ").kind == "folder"
    for bad in ("", "hf:no-slash", "hf:a/b/c", "s3://bucket-only", "s3://b/"):
        with pytest.raises(ValidationError):
            parse_source(bad)


class FakeHub:
    """A hub that serves files from a dict: what the tests give it, never the network."""

    def __init__(self, files: dict[str, bytes], *, gated: bool = False) -> None:
        self.files = files
        self.gated = gated
        self.downloaded: list[str] = []
        self.tokens: list[str | None] = []

    def stored_token(self) -> str | None:
        return None

    def listing(self, repo_id: str, revision: str | None, token: str | None) -> HubListing:
        if repo_id != "acme/sql-llama":
            raise NotFoundError(f"no hf:{repo_id}")
        return HubListing({n: len(b) for n, b in self.files.items()}, self.gated)

    def download(
        self,
        repo_id: str,
        revision: str | None,
        token: str | None,
        patterns: list[str],
        on_progress: Callable[[DownloadProgress], None],
    ) -> Path:
        self.tokens.append(token)
        folder = Path(self._root) / repo_id.replace("/", "--")
        folder.mkdir(parents=True, exist_ok=True)
        done = 0
        total = sum(len(self.files[n]) for n in patterns)
        for name in patterns:
            (folder / name).write_bytes(self.files[name])
            self.downloaded.append(name)
            done += len(self.files[name])
            on_progress(DownloadProgress(done, total))
        return folder

    _root = ""


@pytest.fixture
def hub(tmp_path: Path) -> FakeHub:
    made = FakeHub(tiny_model_files())
    made._root = str(tmp_path / "cache")
    return made


def test_a_hub_model_is_downloaded_with_progress_and_checked(hub: FakeHub) -> None:
    seen: list[DownloadProgress] = []
    files = open_source(
        parse_source("hf:acme/sql-llama"), hub=hub, environ={}, on_progress=seen.append
    )
    report = check_model(files)
    assert report.ok, report.problems
    assert report.source == "hf:acme/sql-llama"
    assert seen[0].done_bytes == 0 and seen[-1].done_bytes == seen[-1].total_bytes > 0
    assert sorted(hub.downloaded) == sorted(tiny_model_files())


def test_bin_weights_on_the_hub_are_seen_but_never_downloaded(hub: FakeHub) -> None:
    hub.files = {n: b for n, b in hub.files.items() if not n.startswith("model")}
    hub.files["pytorch_model.bin"] = b"pickle" * 100
    report = check_model(open_source(parse_source("hf:acme/sql-llama"), hub=hub, environ={}))
    assert [p.rule for p in report.errors] == ["weights-bin-only"]
    assert "pytorch_model.bin" not in hub.downloaded


def test_a_gated_model_without_a_token_is_refused_before_any_download(hub: FakeHub) -> None:
    hub.gated = True
    with pytest.raises(GatedModelError) as refused:
        open_source(parse_source("hf:acme/sql-llama"), hub=hub, environ={})
    assert "gated" in refused.value.message
    assert "HF_TOKEN" in refused.value.hint
    assert "https://huggingface.co/acme/sql-llama" in refused.value.hint
    assert hub.downloaded == []
    # With a token, the same model downloads (and the token is the one used).
    open_source(parse_source("hf:acme/sql-llama"), hub=hub, environ={"HF_TOKEN": "hf_x"})
    assert hub.tokens == ["hf_x"]


def test_an_unknown_hub_model(hub: FakeHub) -> None:
    with pytest.raises(NotFoundError):
        open_source(parse_source("hf:acme/nothing"), hub=hub, environ={})


def test_an_s3_prefix_is_checked_with_ranged_reads(tmp_path: Path) -> None:
    with Sandbox() as sandbox:
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, "us-east-1")
        s3 = context.client("s3")
        s3.create_bucket(Bucket="weights")
        folder = write_tiny_model(tmp_path / "m")
        for path in folder.iterdir():
            s3.put_object(Bucket="weights", Key=f"models/sql/{path.name}", Body=path.read_bytes())
        files = open_source(parse_source("s3://weights/models/sql"), context=context)
        assert isinstance(files, S3Files)
        report = check_model(files)
        assert report.ok and report.facts.parameters == 3088
        assert files.read_range("config.json", 10**6, 8) == b""  # past the end: nothing, no error
        s3.delete_object(Bucket="weights", Key="models/sql/model-00002-of-00002.safetensors")
        shutil.rmtree(folder)
        again = check_model(open_source(parse_source("s3://weights/models/sql"), context=context))
        assert [p.rule for p in again.errors] == ["index-shard-missing"]
    with pytest.raises(Exception, match="needs AWS credentials"):
        open_source(parse_source("s3://weights/models/sql"))


class _Response:
    """What huggingface_hub's HTTP errors read from a response."""

    headers: dict[str, str] = {}
    request = None
    status_code = 401


def test_the_real_hubs_errors_read_as_ours() -> None:
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    from core.importing.source import _hub_errors

    with (
        pytest.raises(GatedModelError, match=r"none is set") as gated,
        _hub_errors("acme/sql-llama", None),
    ):
        raise GatedRepoError("401", response=_Response())  # type: ignore[arg-type]
    assert "HF_TOKEN" in gated.value.hint
    with (
        pytest.raises(NotFoundError, match="or it is private"),
        _hub_errors("acme/sql-llama", "hf_x"),
    ):
        raise RepositoryNotFoundError("404", response=_Response())  # type: ignore[arg-type]


def test_the_real_hubs_byte_bars_report_progress() -> None:
    from core.importing.source import _progress_bar

    seen: list[DownloadProgress] = []
    bar = _progress_bar(seen.append)(total=100, unit="B")
    bar.update(40)
    bar.update(60)
    assert seen == [DownloadProgress(40, 100), DownloadProgress(100, 100)]


def test_a_byte_bar_whose_total_grows() -> None:
    from core.importing.source import _progress_bar

    seen: list[DownloadProgress] = []
    bar = _progress_bar(seen.append)(total=0, unit="B")
    bar.total = 50
    bar.update(50)
    assert seen == [DownloadProgress(50, 50)]
