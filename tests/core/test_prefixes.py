"""Key prefixes and run ids (issue 11, item 12): they end up in IAM policy resources and
conditions, so they match a strict pattern (no wildcard, no `.`/`..` part, no leading slash) and
the policy can never grant more than `<bucket>/<prefix>/*/data/*` and `.../output/*`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import ValidationError
from core.infra.plan import plan
from core.infra.policies import normalize_prefix, permissions_policy, prefix_problem
from core.upload import run_location, upload_prepared

ACCOUNT = "123456789012"
BUCKET = "bedrock-tune-123456789012-us-east-1"


class NoCalls:
    """A context that fails the test if anything asks it for a client."""

    region = "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError(f"a {service} client was asked for before the prefix was checked")


WIDENING = ["*", "?", "a*", "team/*", "team/?x", "*/data"]
NOT_A_FOLDER = ["..", "a/../b", ".", "./a", "a/./b", "a/.."]
MALFORMED = ["/a", "/", "", "a//b", "my data", "a+b", "a=b", "a&b", "${aws:username}"]


@pytest.mark.parametrize("prefix", WIDENING + NOT_A_FOLDER + MALFORMED)
def test_a_prefix_outside_the_pattern_is_refused_before_any_call(prefix: str) -> None:
    assert prefix_problem(prefix) is not None
    with pytest.raises(ValidationError, match="key prefix") as caught:
        plan(NoCalls(), ACCOUNT, "us-east-1", prefix=prefix)  # type: ignore[arg-type]
    assert caught.value.hint.startswith("For example bedrock-tune")
    with pytest.raises(ValidationError):
        permissions_policy(BUCKET, prefix, "us-east-1")


@pytest.mark.parametrize("prefix", WIDENING)
def test_a_wildcard_is_named_as_widening_the_policy(prefix: str) -> None:
    with pytest.raises(ValidationError, match=r"wildcard .* would widen the IAM policy"):
        normalize_prefix(prefix)


@pytest.mark.parametrize(
    ("prefix", "normalized"),
    [("bedrock-tune", "bedrock-tune"), ("team-a/tune/", "team-a/tune"), ("a.b/(c)_d!'e", None)],
)
def test_the_policy_grants_only_under_an_accepted_prefix(
    prefix: str, normalized: str | None
) -> None:
    clean = normalize_prefix(prefix)
    assert clean == (normalized or prefix)
    document = permissions_policy(BUCKET, clean, "us-east-1")
    resources = [r for s in document["Statement"] for r in s["Resource"]]
    bucket_arn = f"arn:aws:s3:::{BUCKET}"
    assert sorted(resources) == sorted(
        [f"{bucket_arn}/{clean}/*/data/*", f"{bucket_arn}/{clean}/*/output/*", bucket_arn]
    )
    assert "*" not in clean and "?" not in clean  # the only wildcards are the layout's


def test_a_trailing_slash_is_normalized_before_the_policy() -> None:
    with pytest.raises(ValidationError, match="trailing slash"):
        permissions_policy(BUCKET, "team/", "us-east-1")


@pytest.mark.parametrize("run_id", ["*", "run*", "..", ".", "a/b", "run?"])
def test_a_run_id_that_is_not_one_plain_folder_is_refused_before_any_call(
    run_id: str, tmp_path: Path
) -> None:
    (tmp_path / "train.jsonl").write_text('{"prompt": "q", "completion": "a"}\n')
    with pytest.raises(ValidationError):
        run_location(BUCKET, run_id)
    with pytest.raises(ValidationError):
        upload_prepared(NoCalls(), tmp_path, BUCKET, run_id)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("prefix", "reason"),
    [
        ("/team", "starts with '/'; S3 keys do not"),
        ("team//a", "has an empty part ('//')"),
        ("team/../a", "has a '..' part"),
        ("team/*", "has a wildcard in '*'"),
        ("team/a b", "is not one Bedrock accepts (part 'a b')"),
        ("", "is empty"),
    ],
)
def test_the_reason_names_what_is_wrong(prefix: str, reason: str) -> None:
    assert (prefix_problem(prefix) or "").startswith(f"The key prefix '{prefix}' {reason}")
