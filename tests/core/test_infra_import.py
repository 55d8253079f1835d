"""The Custom Model Import role: its own name, trusted by this account's import jobs only, reading
only the uploaded model folders (and the s3:// model sources given), made and verified with moto."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from moto import mock_aws

from core.aws import AwsContext
from core.infra.plan import apply, plan, verify
from core.infra.policies import (
    import_permissions_policy,
    trust_policy,
    trust_problem,
)
from core.registry import Registry

ACCOUNT = "123456789012"


@pytest.fixture
def east(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext.from_environment(region="us-east-1")


def test_the_import_role_is_planned_made_and_verified(east: AwsContext) -> None:
    registry = Registry()
    shown = plan(
        east,
        ACCOUNT,
        "us-east-1",
        purpose="import",
        model_sources=("s3://team-models/sql-llama/",),
        preflight_check=False,
        registry=registry,
    )
    assert shown.role.name == "bedrock-tune-import-us-east-1"
    trust = shown.role.documents["trust policy"]
    condition = trust["Statement"][0]["Condition"]
    assert condition["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert condition["ArnEquals"]["aws:SourceArn"] == (
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:model-import-job/*"
    )
    policy = shown.role.documents["permissions policy"]
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert actions == {"s3:GetObject", "s3:ListBucket"}  # reads only, writes nothing
    resources = [r for s in policy["Statement"] for r in s["Resource"]]
    bucket = f"bedrock-tune-{ACCOUNT}-us-east-1"
    assert f"arn:aws:s3:::{bucket}/bedrock-tune/*/model/*" in resources
    assert "arn:aws:s3:::team-models/sql-llama/*" in resources
    assert "*" not in resources
    result = apply(east, shown, registry, None)
    assert result.role_arn.endswith(":role/bedrock-tune-import-us-east-1")
    checked = verify(
        east,
        ACCOUNT,
        "us-east-1",
        bucket=result.bucket,
        role=result.role_name,
        purpose="import",
        model_sources=("s3://team-models/sql-llama/",),
    )
    assert checked.ok, checked.failures()
    role = east.client("iam").get_role(RoleName=result.role_name)["Role"]
    assert "Custom Model Import" in role["Description"]
    # Planned again: nothing to do. The customization role is another role, untouched.
    again = plan(
        east,
        ACCOUNT,
        "us-east-1",
        purpose="import",
        model_sources=("s3://team-models/sql-llama/",),
        preflight_check=False,
        registry=registry,
    )
    assert again.role.action == "reuse" and again.bucket.action == "reuse"
    assert plan(east, ACCOUNT, "us-east-1", preflight_check=False).role.action == "create"


def test_a_customization_trust_does_not_let_imports_assume_the_role() -> None:
    customization = trust_policy(ACCOUNT, "us-east-1")
    why = trust_problem(customization, ACCOUNT, "us-east-1", "import")
    assert why is not None and "import jobs" in why
    assert (
        trust_problem(trust_policy(ACCOUNT, "us-east-1", "import"), ACCOUNT, "us-east-1", "import")
        is None
    )


def test_an_existing_role_gets_the_import_trust_added(east: AwsContext) -> None:
    iam = east.client("iam")
    iam.create_role(
        RoleName="bedrock-tune-import-us-east-1",
        AssumeRolePolicyDocument=json.dumps(trust_policy(ACCOUNT, "us-east-1")),
    )
    shown = plan(east, ACCOUNT, "us-east-1", purpose="import", preflight_check=False)
    operations = [c.operation for c in shown.role.changes]
    assert "iam:UpdateAssumeRolePolicy" in operations
    assert "import jobs" in shown.role.changes[0].summary
    sids = [s["Sid"] for s in shown.role.documents["trust policy"]["Statement"]]
    assert sids == ["BedrockTuneModelCustomization", "BedrockTuneModelImport"]


def test_a_kms_key_is_only_decrypted() -> None:
    key = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555"
    policy = import_permissions_policy("b", "bedrock-tune", "us-east-1", key)
    kms = [s for s in policy["Statement"] if s["Resource"] == [key]]
    assert kms and kms[0]["Action"] == ["kms:Decrypt", "kms:DescribeKey"]
