"""A damaged registry, an endpoint URL with a path, an impossible port, and a reader that goes
away (issue 11, item 5): clear messages with exit 2 (never a traceback), nothing created, and
a quiet exit when stdout is closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.sandbox.server import Sandbox
from core.state_dir import state_dir
from tests.cli.bad_input import assert_clear, exit_code, no_hang
from tests.conftest import REPO
from tests.fakes import context_for, export_sandbox

BUCKET = "bedrock-tune-123456789012-us-east-1"


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> AwsContext:
    """The module's sandbox, emptied, reached through AWS_ENDPOINT_URL (as test_cli_infra)."""
    running_sandbox.reset()
    export_sandbox(running_sandbox, monkeypatch)
    return context_for(running_sandbox)


# --------------------------------------------------------------------------- the registry

RESOURCE = {
    "kind": "s3-bucket",
    "identifier": "b",
    "region": "us-east-1",
    "account_id": "1",
    "run_id": None,
}
DAMAGED = [
    ({"version": 2, "runs": [], "resources": {}}, "is not a bedrock-tune registry"),
    ({"version": 2}, "is not a bedrock-tune registry"),
    ({"version": 2, "runs": {}, "resources": [5]}, "resources[0] is 5, not an object"),
    ({"version": 2, "runs": {}, "resources": [{"kind": 1}]}, "resources[0].kind is 1, not text"),
    (
        {"version": 2, "runs": {}, "resources": [{**RESOURCE, "created": 5}]},
        "resources[0].created is 5, not text",
    ),
    (
        {"version": 2, "runs": {}, "resources": [{**RESOURCE, "billable": "yes"}]},
        'resources[0].billable is "yes", not true or false',
    ),
    (
        {"version": 1, "runs": {}, "resources": [{**RESOURCE, "details": []}]},
        "resources[0].details is [], not an object",
    ),
]


def damage_registry(data: object) -> Path:
    path = state_dir() / "registry.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data))
    return path


@pytest.mark.parametrize(("data", "expected"), DAMAGED)
@pytest.mark.parametrize(
    "argv", [["teardown", "--list"], ["infra", "apply"], ["upload", "{prepared}"]]
)
def test_a_registry_with_wrong_types_is_a_clear_error_and_nothing_is_created(
    sandbox: AwsContext,
    tmp_path: Path,
    data: object,
    expected: str,
    argv: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    if argv[0] == "upload":  # the bucket exists, so only the registry can stop the upload
        sandbox.client("s3").create_bucket(Bucket=BUCKET)
    prepared = tmp_path / "run-1"
    prepared.mkdir()
    (prepared / "train.jsonl").write_text('{"prompt": "q", "completion": "a"}\n')
    path = damage_registry(data)
    before = path.read_bytes()
    assert exit_code([a.format(prepared=prepared) for a in argv]) == 2
    assert_clear(capsys.readouterr().err, "Local registry problem", expected, "Move it aside")
    assert not list(path.parent.glob("*.bak"))  # a version-1 file is not even migrated
    assert path.read_bytes() == before
    assert sandbox.client("iam").list_roles()["Roles"] == []
    buckets = [b["Name"] for b in sandbox.client("s3").list_buckets()["Buckets"]]
    assert buckets == ([BUCKET] if argv[0] == "upload" else [])
    if argv[0] == "upload":
        assert sandbox.client("s3").list_objects_v2(Bucket=BUCKET).get("KeyCount", 0) == 0


def test_a_binary_registry_is_a_clear_error(
    sandbox: AwsContext, capsys: pytest.CaptureFixture[str]
) -> None:
    path = state_dir() / "registry.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\xff\xfe\x00garbage")
    assert exit_code(["teardown", "--list"]) == 2
    assert_clear(capsys.readouterr().err, "is not UTF-8 text")


# --------------------------------------------------------------------------- endpoint URL


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:4566/foo", "has a path"),
        ("http://127.0.0.1:4566/?x=1", "has a path"),
        ("ftp://127.0.0.1:4566", "not an http:// or https:// URL"),
        ("127.0.0.1:4566", "not an http:// or https:// URL"),
        ("http://user:secret@127.0.0.1:4566", "user name or password"),
        ("http://127.0.0.1:99999", "not a valid endpoint URL"),
    ],
)
def test_an_endpoint_url_that_is_not_scheme_host_port_is_refused(
    url: str, expected: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    for argv in (["whoami"], ["infra", "plan"], ["teardown", "--list"], ["upload", "."]):
        assert exit_code(argv) == 2
        assert_clear(capsys.readouterr().err, "AWS_ENDPOINT_URL", expected)
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert exit_code(["--endpoint-url", url, "whoami"]) == 2
    assert_clear(capsys.readouterr().err, "--endpoint-url", expected)


def test_a_server_that_answers_like_no_aws_is_a_clear_error(
    running_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """If something that is not AWS answers (a proxy's page), botocore cannot parse it: that
    error (not a BotoCoreError) is translated too."""
    from botocore.parsers import ResponseParserError

    from core.errors import translate_botocore_error

    error = translate_botocore_error(
        ResponseParserError("Unable to parse response (syntax error), invalid XML received."),
        context="checking the identity",
    )
    assert error.title == "Not an AWS answer"
    assert "endpoint URL" in error.hint


# --------------------------------------------------------------------------- sandbox port


@pytest.mark.parametrize("port", ["-1", "70000", "http", "65536"])
def test_an_impossible_sandbox_port_is_refused(
    port: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with no_hang():  # 70000 used to listen (on 70000 - 65536) until interrupted
        assert exit_code(["sandbox", "--port", port]) == 2
    assert_clear(capsys.readouterr().err, "--port", port)


# --------------------------------------------------------------------------- closed stdout


def test_a_closed_pipe_ends_quietly_with_141(tmp_path: Path) -> None:
    """`bedrock-tune ... | head`: no BrokenPipeError traceback; exit 141 (128 + SIGPIPE, as `cat`
    or `grep` would), so `set -o pipefail` scripts see that the output was cut.

    The output (about 1 MB) is far larger than a pipe's buffer (64 KiB), so the writer is
    still writing when `head` has gone: the broken pipe is certain, not a race."""
    data = tmp_path / "big.jsonl"
    data.write_text("".join(json.dumps({"text": c * 10_000}) + "\n" for c in "xy" * 50))
    done = subprocess.run(
        [
            "bash",
            "-c",
            'set -o pipefail; "$0" -m tui.cli preview "$1" -n 100 --json | head -c 10 > /dev/null',
            sys.executable,
            str(data),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
        timeout=120,
        check=False,
    )
    assert done.stderr == "", done.stderr  # no traceback, no "Exception ignored" at exit
    assert done.returncode == 141


def test_a_pipe_closed_before_a_short_output_ends_quietly_too(tmp_path: Path) -> None:
    """A short output sits in stdout's buffer until the end: flushing it inside the guard
    (not at interpreter exit, where it would print "Exception ignored ... BrokenPipeError")."""
    data = tmp_path / "small.jsonl"
    data.write_text(json.dumps({"text": "x"}) + "\n")
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader is gone before the first byte
    try:
        done = subprocess.run(
            [sys.executable, "-m", "tui.cli", "preview", str(data)],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO,
            env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO), "HOME": str(tmp_path)},
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == "", done.stderr
    assert done.returncode == 141
