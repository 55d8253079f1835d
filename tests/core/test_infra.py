"""Infrastructure: plan / apply / verify of the bucket and the service role, with moto in two
regions, and every bad input and fault of issue 5 (taken or invalid bucket names, a role with an
unrelated trust policy, CreateRole denied, throttling, a crash between role and policy)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber
from moto import mock_aws
from moto.core.botocore_stubber import MockRawResponse

from core.aws import AwsContext
from core.errors import AccessDeniedError, ThrottledError, ValidationError
from core.infra.plan import (
    POLICY_NAME,
    PUBLIC_ACCESS_BLOCK,
    BucketTakenError,
    InfraBlockedError,
    InfraEvent,
    RoleCreationDeniedError,
    apply,
    plan,
    verify,
)
from core.infra.policies import (
    TEACHER_SID,
    has_tls_deny,
    permissions_policy,
    teacher_arns_for,
    tls_statement,
    trust_policy,
    trust_problem,
)
from core.infra.state import preflight
from core.registry import Registry
from core.sandbox.server import Sandbox
from tests.fakes import context_for, policy_document

ACCOUNT = "123456789012"
ME = f"arn:aws:iam::{ACCOUNT}:user/me"


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries happen, without sleeping on the wall clock."""
    monkeypatch.setattr(
        "botocore.retries.standard.ExponentialBackoff.delay_amount", lambda self, context: 0
    )


@pytest.fixture
def east(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext.from_environment(region="us-east-1")


@pytest.fixture(scope="module")
def running_sandbox() -> Iterator[Sandbox]:
    with Sandbox() as running:
        yield running


@pytest.fixture
def sandbox(running_sandbox: Sandbox) -> AwsContext:
    """moto's server over HTTP (emptied for each test): an injected error answer keeps the
    request from reaching it (in-process moto would still act on it), so what retries see is
    what AWS would do."""
    running_sandbox.reset()
    return context_for(running_sandbox)


def plan_for(context: AwsContext, **options: Any) -> Any:
    return plan(context, ACCOUNT, context.region, principal_arn=ME, **options)


def inject(
    client: Any, operation: str, code: str, *, status: int = 400, times: int = 1
) -> list[int]:
    """Answer the first `times` sends of `operation` with an AWS error instead of sending them.

    The hook sits inside botocore's retry loop, so retries see it too. Use it with the sandbox:
    in-process moto answers from the same hook and would act on the request anyway.
    """
    sent: list[int] = []
    service = client.meta.service_model.service_name

    def answer(request: Any, **_: Any) -> AWSResponse | None:
        sent.append(1)
        if len(sent) > times:
            return None
        if service == "s3":
            body = f"<Error><Code>{code}</Code><Message>injected {code}</Message></Error>"
        else:
            body = (
                f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
                f"<Message>injected {code}</Message></Error><RequestId>1</RequestId>"
                "</ErrorResponse>"
            )
        return AWSResponse(request.url, status, HTTPHeaders(), MockRawResponse(body))

    client.meta.events.register_first(f"before-send.{service}.{operation}", answer)
    return sent


def s3_resources(document: dict[str, Any]) -> list[str]:
    resources: list[str] = []
    for statement in document["Statement"]:
        found = statement.get("Resource", [])
        resources.extend([found] if isinstance(found, str) else found)
    return resources


# --------------------------------------------------------------------------- the happy path


@pytest.mark.parametrize("region", ["us-east-1", "us-west-2"])
def test_apply_twice_gives_the_same_resources_as_stated(aws_keys: None, region: str) -> None:
    with mock_aws():
        context = AwsContext.from_environment(region=region)
        registry = Registry()
        first = plan_for(context)
        assert (first.bucket.action, first.role.action) == ("create", "create")
        assert first.bucket.name == f"bedrock-tune-{ACCOUNT}-{region}"
        events: list[InfraEvent] = []
        result = apply(context, first, registry, "run-1", events.append)
        assert result.created == (f"s3-bucket:{first.bucket.name}", f"iam-role:{first.role.name}")
        calls = [e.operation for e in events if e.status == "ok"]
        assert calls[0] == "s3:CreateBucket" and "iam:PutRolePolicy" in calls
        assert [e.status for e in events[:2]] == ["start", "ok"]  # logged as it happens

        second = plan_for(context)
        assert (second.bucket.action, second.role.action) == ("reuse", "reuse")
        assert second.changes == ()
        again: list[InfraEvent] = []
        repeat = apply(context, second, registry, "run-2", again.append)
        assert again == [] and repeat.created == ()
        assert repeat.role_arn == result.role_arn
        # The same plan applied twice (a retry) creates nothing twice and raises nothing.
        apply(context, first, registry, "run-1")

        s3 = boto3.client("s3", region_name=region)
        assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == [first.bucket.name]
        location = s3.get_bucket_location(Bucket=first.bucket.name)["LocationConstraint"]
        assert location == (None if region == "us-east-1" else region)
        roles = boto3.client("iam").list_roles()["Roles"]
        assert [r["RoleName"] for r in roles] == [first.role.name]
        records = {(r.kind, r.identifier): r for r in registry.resources()}
        assert set(records) == {("s3-bucket", first.bucket.name), ("iam-role", first.role.name)}
        assert all(r.created_by_us and r.run_id == "run-1" for r in records.values())
        assert records[("iam-role", first.role.name)].details["policy_name"] == POLICY_NAME
        assert verify(context, ACCOUNT, region, bucket=first.bucket.name, role=first.role.name).ok

        # The bucket: private, encrypted, TLS only, tagged.
        made = first
        name = made.bucket.name
        block = s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"]
        assert block == PUBLIC_ACCESS_BLOCK and all(block.values())
        [rule] = s3.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"]
        assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
        policy = json.loads(s3.get_bucket_policy(Bucket=name)["Policy"])
        [deny] = policy["Statement"]
        assert deny["Effect"] == "Deny" and deny["Principal"] == "*" and deny["Action"] == "s3:*"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert set(deny["Resource"]) == {f"arn:aws:s3:::{name}", f"arn:aws:s3:::{name}/*"}
        tags = s3.get_bucket_tagging(Bucket=name)["TagSet"]
        assert {"Key": "bedrock-tune:managed", "Value": "true"} in tags

        # The role: trusted by Bedrock jobs of this account and region only; least privilege.
        iam = boto3.client("iam")
        role = iam.get_role(RoleName=made.role.name)["Role"]
        [statement] = policy_document(role["AssumeRolePolicyDocument"])["Statement"]
        assert statement["Principal"] == {"Service": "bedrock.amazonaws.com"}
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {
            "StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnEquals": {
                "aws:SourceArn": [
                    f"arn:aws:bedrock:{region}:{ACCOUNT}:model-customization-job/*",
                    f"arn:aws:bedrock:{region}:{ACCOUNT}:model-invocation-job/*",
                ]
            },
        }
        assert {"Key": "bedrock-tune:managed", "Value": "true"} in role["Tags"]
        document = policy_document(
            iam.get_role_policy(RoleName=made.role.name, PolicyName=POLICY_NAME)["PolicyDocument"]
        )
        resources = s3_resources(document)
        assert "*" not in resources
        bucket_arn = f"arn:aws:s3:::{made.bucket.name}"
        assert all(r == bucket_arn or r.startswith(f"{bucket_arn}/") for r in resources)
        by_sid = {s["Sid"]: s for s in document["Statement"]}
        assert by_sid["ReadTrainingData"]["Action"] == ["s3:GetObject"]
        assert by_sid["ReadTrainingData"]["Resource"] == [f"{bucket_arn}/bedrock-tune/*/data/*"]
        assert "s3:PutObject" in by_sid["WriteJobOutput"]["Action"]
        assert by_sid["WriteJobOutput"]["Resource"] == [f"{bucket_arn}/bedrock-tune/*/output/*"]
        # Listing follows AWS's sample policy: the bucket, unconditioned (see policies.py).
        assert by_sid["ListDataBucket"] == {
            "Sid": "ListDataBucket",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
        }
        assert not any(a.startswith("bedrock:") for s in document["Statement"] for a in s["Action"])
        # Only reading is allowed on the data, only the output is writable.
        writes = [s for s in document["Statement"] if "s3:PutObject" in s["Action"]]
        assert all("/output/" in r for s in writes for r in s["Resource"])


PREMIER_PROFILE = "us.amazon.nova-premier-v1:0"


def test_teacher_resources_for_a_model_and_a_cross_region_profile() -> None:
    assert teacher_arns_for("amazon.nova-pro-v1:0", ACCOUNT, "us-east-1") == [
        "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    ]
    # Through a profile: the profile here, and the model in every Region it routes to.
    assert teacher_arns_for(PREMIER_PROFILE, ACCOUNT, "us-east-1") == [
        f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PREMIER_PROFILE}",
        "arn:aws:bedrock:*::foundation-model/amazon.nova-premier-v1:0",
    ]
    profile_arn = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:inference-profile/{PREMIER_PROFILE}"
    assert teacher_arns_for(profile_arn, ACCOUNT, "us-east-1")[0] == profile_arn


def test_a_distillation_teacher_is_invocable_and_is_kept_for_later_runs(east: AwsContext) -> None:
    registry = Registry()
    first = plan_for(east, teachers=[PREMIER_PROFILE])
    document = first.role.documents["permissions policy"]
    [teacher] = [s for s in document["Statement"] if s["Sid"] == TEACHER_SID]
    assert teacher["Action"] == ["bedrock:InvokeModel"]
    assert teacher["Resource"] == sorted(teacher_arns_for(PREMIER_PROFILE, ACCOUNT, "us-east-1"))
    made = apply(east, first, registry, "run-1")
    assert verify(east, ACCOUNT, "us-east-1", bucket=made.bucket, role=made.role_name).ok
    # A later fine-tuning run shares the role: the teacher of a job that may still be running
    # stays allowed, so nothing changes.
    later = plan_for(east)
    assert later.role.action == "reuse"
    # Another teacher is added beside it.
    other = plan_for(east, teachers=["amazon.nova-pro-v1:0"])
    assert other.role.action == "update"
    [both] = [
        s
        for s in other.role.documents["permissions policy"]["Statement"]
        if s["Sid"] == TEACHER_SID
    ]
    assert set(teacher["Resource"]) < set(both["Resource"])
    assert "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0" in both["Resource"]


def test_plan_shows_the_exact_json_without_changing_anything(east: AwsContext) -> None:
    shown = plan_for(east, prefix="team-a/tune/")
    assert shown.prefix == "team-a/tune"
    assert shown.role.documents["trust policy"] == trust_policy(ACCOUNT, "us-east-1")
    assert shown.role.documents["permissions policy"] == permissions_policy(
        shown.bucket.name, "team-a/tune", "us-east-1"
    )
    assert json.loads(json.dumps(shown.to_dict()))["bucket"]["action"] == "create"
    assert boto3.client("s3").list_buckets()["Buckets"] == []
    assert boto3.client("iam").list_roles()["Roles"] == []


def test_kms_key_encrypts_the_bucket_and_only_that_key_is_usable(east: AwsContext) -> None:
    kms = boto3.client("kms", region_name="us-east-1")
    key = kms.create_key()["KeyMetadata"]
    kms.create_alias(AliasName="alias/tune-data", TargetKeyId=key["KeyId"])
    made = plan_for(east, kms_key="alias/tune-data")
    assert made.kms_key_arn == key["Arn"] and made.ready
    apply(east, made, Registry(), "run-1")
    [rule] = boto3.client("s3").get_bucket_encryption(Bucket=made.bucket.name)[
        "ServerSideEncryptionConfiguration"
    ]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": key["Arn"],
    }
    document = policy_document(
        boto3.client("iam").get_role_policy(RoleName=made.role.name, PolicyName=POLICY_NAME)[
            "PolicyDocument"
        ]
    )
    kms_resources = [
        r
        for s in document["Statement"]
        if any(a.startswith("kms:") for a in s["Action"])
        for r in s["Resource"]
    ]
    assert set(kms_resources) == {key["Arn"]}
    assert "*" not in s3_resources(document)


def test_a_missing_kms_key_blocks_the_plan(east: AwsContext) -> None:
    missing = plan_for(east, kms_key="alias/none-such")
    assert not missing.ready
    assert "does not exist in us-east-1" in missing.blockers[0]
    elsewhere = plan_for(
        east, kms_key="arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    )
    assert "is in eu-west-1" in elsewhere.blockers[0]
    with pytest.raises(InfraBlockedError, match="Nothing was created"):
        apply(east, missing, Registry(), "run-1")
    assert boto3.client("s3").list_buckets()["Buckets"] == []


# --------------------------------------------------------------------------- bad bucket names


class NoCalls:
    """A context that fails the test if anything asks it for a client."""

    region = "us-east-1"

    def client(self, service: str, region: str | None = None) -> Any:
        raise AssertionError(f"a {service} client was asked for before the names were checked")


@pytest.mark.parametrize(
    ("name", "rule"),
    [
        ("My_Bucket", "only lower-case letters, digits"),
        ("ab", "3 to 63"),
        ("a" * 64, "3 to 63"),
        ("-starts-with-dash", "begin and end with a lower-case letter or a digit"),
        ("two..dots", "two dots in a row"),
        ("192.168.5.4", "IP address"),
        ("xn--punycode", "reserved by AWS"),
        ("data-s3alias", "reserved by AWS"),
    ],
)
def test_an_invalid_bucket_name_is_refused_before_any_call(name: str, rule: str) -> None:
    with pytest.raises(ValidationError, match="not a valid S3 bucket name") as caught:
        plan(NoCalls(), ACCOUNT, "us-east-1", bucket=name)  # type: ignore[arg-type]
    assert rule in caught.value.message
    assert "3-63 lower-case letters" in caught.value.hint


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"role": "has space"}, "not a valid IAM role name"),
        ({"role": "r" * 65}, "not a valid IAM role name"),
        ({"prefix": "my data"}, "not one Bedrock accepts"),
        ({"prefix": "a+b"}, "not one Bedrock accepts"),
        ({"kms_key": "my key"}, "not a KMS key id"),
    ],
)
def test_other_bad_names_are_refused_before_any_call(options: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        plan(NoCalls(), ACCOUNT, "us-east-1", **options)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- existing resources


def test_a_bucket_name_taken_by_another_account_blocks_the_plan(
    east: AwsContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MOTO_ACCOUNT_ID", "111111111111")
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="popular-name")
    monkeypatch.delenv("MOTO_ACCOUNT_ID")
    taken = plan_for(east, bucket="popular-name")
    assert not taken.ready
    assert "taken by another AWS account" in taken.blockers[0]
    assert "choose another name" in taken.blockers[0]
    with pytest.raises(InfraBlockedError):
        apply(east, taken, Registry(), "run-1")
    assert boto3.client("iam").list_roles()["Roles"] == []  # nothing at all was made
    assert Registry().resources() == []


def test_bucket_already_exists_at_create_time_is_a_clear_error(east: AwsContext) -> None:
    """The name was free when planned and taken before apply (Stubber: BucketAlreadyExists)."""
    free = plan_for(east, bucket="race-lost-bucket")
    with Stubber(east.client("s3")) as stub:
        stub.add_client_error("create_bucket", "BucketAlreadyExists", http_status_code=409)
        with pytest.raises(BucketTakenError, match="taken by another AWS account") as caught:
            apply(east, free, Registry(), "run-1")
    assert "Choose another name" in caught.value.hint
    assert Registry().resources() == []


def test_a_bucket_in_another_region_is_explained(east: AwsContext) -> None:
    boto3.client("s3", region_name="us-west-2").create_bucket(
        Bucket="west-data", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    elsewhere = plan_for(east, bucket="west-data")
    assert "is in us-west-2, but the job runs in us-east-1" in elsewhere.blockers[0]


def test_a_users_bucket_is_fixed_without_losing_its_policy_or_being_claimed(
    east: AwsContext,
) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="team-data")
    theirs = {
        "Sid": "TheirAuditRead",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/audit"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::team-data/*",
    }
    s3.put_bucket_policy(
        Bucket="team-data", Policy=json.dumps({"Version": "2012-10-17", "Statement": [theirs]})
    )
    found = plan_for(east, bucket="team-data")
    assert found.bucket.action == "update" and not found.bucket.created_by_us
    assert "does not deny requests made without TLS" in " ".join(found.bucket.problems)
    registry = Registry()
    apply(east, found, registry, "run-1")
    policy = json.loads(s3.get_bucket_policy(Bucket="team-data")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == [
        "TheirAuditRead",
        "BedrockTuneDenyInsecureTransport",
    ]
    with pytest.raises(Exception, match="NoSuchTagSet"):
        s3.get_bucket_tagging(Bucket="team-data")  # not marked as ours
    [bucket] = [r for r in registry.resources() if r.kind == "s3-bucket"]
    assert not bucket.created_by_us
    assert plan_for(east, bucket="team-data").bucket.action == "reuse"


def test_a_role_with_an_unrelated_trust_policy_is_updated_not_replaced(east: AwsContext) -> None:
    iam = boto3.client("iam")
    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="shared-role", AssumeRolePolicyDocument=json.dumps(ec2_trust))
    found = plan_for(east, role="shared-role")
    assert found.role.action == "update" and not found.role.created_by_us
    problems = " ".join(found.role.problems)
    assert "does not let bedrock.amazonaws.com assume it" in problems
    assert "no S3 access" in problems
    operations = [c.operation for c in found.role.changes]
    assert operations == ["iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy"]
    shown = found.role.documents["trust policy"]["Statement"]
    assert [s["Principal"]["Service"] for s in shown] == [
        "ec2.amazonaws.com",
        "bedrock.amazonaws.com",
    ]
    registry = Registry()
    apply(east, found, registry, "run-1")
    trust = policy_document(
        iam.get_role(RoleName="shared-role")["Role"]["AssumeRolePolicyDocument"]
    )
    assert trust == found.role.documents["trust policy"]  # EC2 still trusted, Bedrock added
    assert trust_problem(trust, ACCOUNT, "us-east-1") is None
    [role] = [r for r in registry.resources() if r.kind == "iam-role"]
    assert not role.created_by_us and role.details["policy_name"] == POLICY_NAME
    assert plan_for(east, role="shared-role").role.action == "reuse"


def test_trust_conditions_for_another_account_or_region_are_not_enough() -> None:
    other_account = trust_policy("999999999999", "us-east-1")
    assert "only for account(s) 999999999999" in str(
        trust_problem(other_account, ACCOUNT, "us-east-1")
    )
    other_region = trust_policy(ACCOUNT, "us-west-2")
    assert "only for arn:aws:bedrock:us-west-2" in str(
        trust_problem(other_region, ACCOUNT, "us-east-1")
    )
    assert trust_problem(trust_policy(ACCOUNT, "us-east-1"), ACCOUNT, "us-east-1") is None
    assert trust_problem(None, ACCOUNT, "us-east-1") is not None


def test_verify_reads_back_drift_and_the_plan_offers_the_fix(east: AwsContext) -> None:
    made = plan_for(east)
    apply(east, made, Registry(), "run-1")
    boto3.client("s3").delete_bucket_policy(Bucket=made.bucket.name)
    boto3.client("iam").delete_role_policy(RoleName=made.role.name, PolicyName=POLICY_NAME)
    checked = verify(east, ACCOUNT, "us-east-1", bucket=made.bucket.name, role=made.role.name)
    assert not checked.ok
    assert {c.name for c in checked.failures()} == {
        "bucket policy denies non-TLS requests",
        f"inline policy {POLICY_NAME}",
    }
    fix = plan_for(east)
    assert fix.bucket.action == "update" and fix.role.action == "update"
    assert [c.operation for c in fix.changes] == ["s3:PutBucketPolicy", "iam:PutRolePolicy"]
    apply(east, fix, Registry(), "run-1")
    assert verify(east, ACCOUNT, "us-east-1", bucket=made.bucket.name, role=made.role.name).ok


# --------------------------------------------------------------------------- faults


def test_access_denied_on_create_role_gives_the_json_an_administrator_needs(
    east: AwsContext,
) -> None:
    wanted = plan_for(east)
    with Stubber(east.client("iam")) as stub:
        stub.add_client_error(
            "create_role",
            "AccessDenied",
            f"User: {ME} is not authorized to perform: iam:CreateRole",
            http_status_code=403,
        )
        with pytest.raises(RoleCreationDeniedError) as caught:
            apply(east, wanted, Registry(), "run-1", only={"iam-role"})
    error = caught.value
    assert "An administrator must create it" in error.message
    assert json.dumps(trust_policy(ACCOUNT, "us-east-1"), indent=2) in error.message
    assert f"inline permissions policy named '{POLICY_NAME}'" in error.message
    assert '"arn:aws:s3:::bedrock-tune-123456789012-us-east-1/bedrock-tune/*/data/*"' in (
        error.message
    )
    assert error.permissions_policy == wanted.role.documents["permissions policy"]
    assert "administrator" in error.hint
    assert Registry().resources() == []


def test_a_denied_call_names_the_missing_action(sandbox: AwsContext) -> None:
    wanted = plan_for(sandbox)
    inject(sandbox.client("s3", region="us-east-1"), "PutBucketPolicy", "AccessDenied", status=403)
    with pytest.raises(AccessDeniedError) as caught:
        apply(sandbox, wanted, Registry(), "run-1")
    assert "s3:PutBucketPolicy" in caught.value.hint
    # What was made before the denial is recorded, so teardown can remove it.
    [bucket] = Registry().resources()
    assert bucket.kind == "s3-bucket" and bucket.created_by_us


def test_throttling_during_creation_is_retried(sandbox: AwsContext) -> None:
    wanted = plan_for(sandbox)
    sent = inject(sandbox.client("iam"), "CreateRole", "Throttling", times=2)
    result = apply(sandbox, wanted, Registry(), "run-1")
    assert len(sent) == 3  # two throttled sends, then the one moto answered
    assert result.created[-1] == f"iam-role:{wanted.role.name}"
    assert len(sandbox.client("iam").list_roles()["Roles"]) == 1


def test_throttling_that_never_ends_is_a_clear_error(sandbox: AwsContext) -> None:
    wanted = plan_for(sandbox)
    sent = inject(
        sandbox.client("s3", region="us-east-1"), "CreateBucket", "SlowDown", status=503, times=99
    )
    with pytest.raises(ThrottledError, match="s3:CreateBucket") as caught:
        apply(sandbox, wanted, Registry(), "run-1")
    assert len(sent) == 9  # the first try and the 8 retries AwsContext configures
    assert "already retried with backoff" in caught.value.hint


def test_a_crash_between_role_and_policy_is_completed_by_the_next_apply(
    east: AwsContext,
) -> None:
    registry = Registry()
    wanted = plan_for(east)

    def crash(**_: Any) -> None:
        raise RuntimeError("the process died here")

    east.client("iam").meta.events.register_first("before-send.iam.PutRolePolicy", crash)
    with pytest.raises(RuntimeError):
        apply(east, wanted, registry, "run-1")
    east.client("iam").meta.events.unregister("before-send.iam.PutRolePolicy", crash)
    [role] = [r for r in registry.resources() if r.kind == "iam-role"]
    assert role.created_by_us  # recorded before the policy: teardown knows it

    resumed = plan_for(east, registry=registry)
    assert resumed.bucket.action == "reuse"
    assert resumed.role.action == "update" and resumed.role.created_by_us
    assert [c.operation for c in resumed.role.changes] == ["iam:PutRolePolicy"]
    events: list[InfraEvent] = []
    result = apply(east, resumed, registry, "run-1", events.append)
    assert result.created == ()
    assert [e.operation for e in events if e.status == "ok"] == ["iam:PutRolePolicy"]
    assert len(boto3.client("iam").list_roles()["Roles"]) == 1
    assert verify(east, ACCOUNT, "us-east-1", bucket=wanted.bucket.name, role=wanted.role.name).ok


# --------------------------------------------------------------------------- preflight


def stubbed_iam() -> tuple[AwsContext, Stubber]:
    context = AwsContext.from_environment(region="us-east-1")
    return context, Stubber(context.client("iam"))


def test_preflight_names_what_the_simulator_denies(aws_keys: None) -> None:
    context, stub = stubbed_iam()
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-us-east-1"
    stub.add_response(
        "simulate_principal_policy",
        {
            "EvaluationResults": [
                {"EvalActionName": "iam:CreateRole", "EvalDecision": "implicitDeny"},
                {"EvalActionName": "iam:PassRole", "EvalDecision": "allowed"},
            ]
        },
        {
            "PolicySourceArn": ME,
            "ActionNames": ["iam:CreateRole", "iam:PassRole"],
            "ResourceArns": [role_arn],
        },
    )
    with stub:
        checked = preflight(context, ME, [(["iam:PassRole", "iam:CreateRole"], role_arn)])
    assert checked.checked and checked.denied == ("iam:CreateRole",)


def test_preflight_maps_an_sso_session_to_its_role(aws_keys: None) -> None:
    context, stub = stubbed_iam()
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_ML_abc/me@example.com"
    full = f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_ML_abc"
    stub.add_response(
        "get_role",
        {
            "Role": {
                "Path": "/aws-reserved/sso.amazonaws.com/",
                "RoleName": "AWSReservedSSO_ML_abc",
                "RoleId": "AROAEXAMPLEEXAMPLE1",
                "Arn": full,
                "CreateDate": "2026-01-01T00:00:00Z",
            }
        },
        {"RoleName": "AWSReservedSSO_ML_abc"},
    )
    stub.add_response(
        "simulate_principal_policy",
        {"EvaluationResults": [{"EvalActionName": "s3:PutObject", "EvalDecision": "allowed"}]},
        {
            "PolicySourceArn": full,
            "ActionNames": ["s3:PutObject"],
            "ResourceArns": ["arn:aws:s3:::b/*"],
        },
    )
    with stub:
        checked = preflight(context, session, [(["s3:PutObject"], "arn:aws:s3:::b/*")])
    assert checked.checked and checked.denied == ()


def test_preflight_that_may_not_be_asked_does_not_fail_the_plan(aws_keys: None) -> None:
    context, stub = stubbed_iam()
    stub.add_client_error("simulate_principal_policy", "AccessDenied", http_status_code=403)
    with stub:
        checked = preflight(context, ME, [(["s3:PutObject"], "arn:aws:s3:::b/*")])
    assert not checked.checked and "could not be asked" in checked.note
    root = preflight(context, f"arn:aws:iam::{ACCOUNT}:root", [])
    assert not root.checked and "not an IAM user or role" in root.note


# --------------------------------------------------------------------------- the TLS check


def _deny(action: Any, condition: dict[str, Any] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Deny",
        "Principal": "*",
        "Action": action,
        "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


@pytest.mark.parametrize(
    ("policy", "denies_plain_http"),
    [
        ({"Statement": [tls_statement("b", "us-east-1")]}, True),
        (_deny("*", {"Bool": {"aws:SecureTransport": "false"}}), True),
        (_deny(["s3:*"], {"Bool": {"aws:SecureTransport": ["false"]}}), True),
        # A Deny of s3:* that is about something else does not make the bucket TLS-only.
        (_deny("s3:*", None), False),
        (_deny("s3:*", {"IpAddress": {"aws:SourceIp": "203.0.113.0/24"}}), False),
        (_deny("s3:*", {"Bool": {"aws:SecureTransport": "true"}}), False),
        # Denying one action over plain HTTP leaves the others open.
        (_deny("s3:GetObject", {"Bool": {"aws:SecureTransport": "false"}}), False),
        (
            {"Statement": [{**tls_statement("b", "us-east-1"), "Effect": "Allow"}]},
            False,
        ),
        (None, False),
    ],
)
def test_only_a_deny_of_everything_without_tls_counts_as_tls_only(
    policy: dict[str, Any] | None, denies_plain_http: bool
) -> None:
    assert has_tls_deny(policy) is denies_plain_http
