"""Teardown: what it lists (from the registry and from tags, billable first), what it deletes
(only ours, in a safe order, idempotently), and what it never touches (the user's own bucket and
role, a bucket we made that holds someone else's objects, a role with policies we did not add)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.stub import Stubber
from moto import mock_aws

import core.teardown.delete as teardown
from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.errors import NotFoundError
from core.jobs.customization import get_job, new_client_request_token
from core.pricing.service import PriceService
from core.registry import Registry, ResourceRecord
from core.run import Run
from core.serving.deploy import create_deployment, create_throughput, get_serving
from core.statuses import ServingKind, ServingStatus
from core.teardown.delete import (
    TeardownEvent,
    TeardownItem,
    default_choice,
    delete,
    inventory,
    item_from_record,
    with_dependencies,
)
from core.teardown.items import split_s3_uri
from tests import fakes
from tests.fakes import MANAGED, POLICY, TRUST, Clock, buckets, roles, train_model

NOVA = "amazon.nova-micro-v1:0:128k"
ACCOUNT = "123456789012"


@pytest.fixture
def context(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        yield AwsContext.from_environment(region="us-east-1")


@pytest.fixture
def registry(tmp_path: Path) -> Registry:
    return Registry(tmp_path / "registry")


def make_bucket(context: AwsContext, name: str, *, tagged: bool, keys: tuple[str, ...]) -> None:
    s3 = context.client("s3")
    s3.create_bucket(Bucket=name)
    if tagged:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": MANAGED})
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"{}\n")


def make_role(context: AwsContext, name: str, *, tagged: bool, policies: tuple[str, ...]) -> None:
    iam = context.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Tags=MANAGED if tagged else [])
    for policy in policies:
        iam.put_role_policy(RoleName=name, PolicyName=policy, PolicyDocument=POLICY)


def record(kind: str, identifier: str, *, ours: bool = True, **details: str) -> ResourceRecord:
    return ResourceRecord(
        kind, identifier, "us-east-1", ACCOUNT, "run1", created_by_us=ours, details=dict(details)
    )


def keys_in(context: AwsContext, bucket: str) -> list[str]:
    response = context.client("s3").list_objects_v2(Bucket=bucket)
    return [o["Key"] for o in response.get("Contents", [])]


def launch_job(context: AwsContext, name: str) -> str:
    return fakes.launch_job(context, name, NOVA, "s3://bt-data/t.jsonl", "s3://bt-data/out/")


# --------------------------------------------------------------------------- S3 and IAM (moto)


def test_inventory_from_the_registry_and_a_safe_delete(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(
        context,
        "bt-ours",
        tagged=True,
        keys=("bedrock-tune/run1/data/train.jsonl", "bedrock-tune/run1/output/m.csv"),
    )
    make_role(context, "bt-role", tagged=True, policies=("bedrock-tune-data-access",))
    registry.add_resource(record("s3-bucket", "bt-ours"))
    registry.add_resource(record("s3-prefix", "s3://bt-ours/bedrock-tune/run1/"))
    registry.add_resource(record("iam-role", "bt-role", policy_name="bedrock-tune-data-access"))

    items = inventory(context, registry, discover_tags=False)
    assert [i.kind for i in items] == ["s3-prefix", "s3-bucket", "iam-role"]
    prefix, bucket, role = items
    assert "2 objects" in prefix.label and prefix.exists
    assert bucket.action == "delete" and bucket.ours_by == "registry"
    assert "bedrock-tune/" in bucket.effect
    assert role.effect == "Deletes the inline policy (bedrock-tune-data-access), then the role."

    events: list[TeardownEvent] = []
    # Given in reverse: delete() puts objects before their bucket and the policy before the role.
    result = delete(context, list(reversed(items)), registry, events.append)
    assert result.ok, result.to_json()
    assert [o.item.kind for o in result.outcomes] == ["s3-prefix", "s3-bucket", "iam-role"]
    assert [o.status for o in result.outcomes] == ["deleted", "deleted", "deleted"]
    assert "bt-ours" not in buckets(context)
    assert "bt-role" not in roles(context)
    assert registry.resources() == []
    starts = [e.item.kind for e in events if e.stage == "start"]
    assert starts == ["s3-prefix", "s3-bucket", "iam-role"]
    assert any(e.stage == "step" and "deleted 2 objects" in e.message for e in events)

    # Idempotent: deleting the same items again finds them gone and is fine.
    again = delete(context, items, registry)
    assert again.ok and {o.status for o in again.outcomes} == {"gone"}
    assert inventory(context, registry, discover_tags=False) == []


def test_what_only_the_tag_points_at_is_listed_apart_and_deleted_only_when_chosen(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(context, "bt-tagged", tagged=True, keys=("bedrock-tune/r9/data/train.jsonl",))
    make_bucket(context, "users-bucket", tagged=False, keys=("bedrock-tune/r9/x.jsonl",))
    make_role(context, "bt-tagged-role", tagged=True, policies=("bedrock-tune-data-access",))
    make_role(context, "users-role", tagged=False, policies=("bedrock-tune-data-access",))

    items = inventory(context, registry)  # the registry is empty: tags only
    assert {(i.kind, i.identifier) for i in items} == {
        ("s3-bucket", "bt-tagged"),
        ("iam-role", "bt-tagged-role"),
    }
    assert all(i.ours_by == "tag" and i.origin == "found" for i in items)
    assert default_choice(items) == []  # made elsewhere: nothing is deleted unasked
    assert default_choice(items, include_found=True) == items

    # Chosen on purpose: the role goes; the bucket holds objects in no run folder this
    # registry knows, so not one object is deleted and the bucket is kept.
    result = delete(context, items, registry)
    assert result.ok, result.to_json()
    assert {o.item.kind: o.status for o in result.outcomes} == {
        "s3-bucket": "kept",
        "iam-role": "deleted",
    }
    assert buckets(context) == {"users-bucket", "bt-tagged"}
    assert keys_in(context, "bt-tagged") == ["bedrock-tune/r9/data/train.jsonl"]
    assert keys_in(context, "users-bucket") == ["bedrock-tune/r9/x.jsonl"]
    assert roles(context) == {"users-role"}
    iam = context.client("iam")
    assert iam.list_role_policies(RoleName="users-role")["PolicyNames"] == [
        "bedrock-tune-data-access"
    ]


def test_a_bucket_we_did_not_create_is_never_deleted(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(
        context,
        "their-bucket",
        tagged=False,
        keys=("bedrock-tune/run1/data/train.jsonl", "reports/q3.csv"),
    )
    registry.add_resource(record("s3-bucket", "their-bucket", ours=False))
    registry.add_resource(record("s3-prefix", "s3://their-bucket/bedrock-tune/run1/", ours=True))

    items = inventory(context, registry, discover_tags=False)
    bucket = next(i for i in items if i.kind == "s3-bucket")
    assert bucket.action == "forget" and "never deleted" in bucket.effect
    assert bucket.label.endswith("(yours)")

    result = delete(context, items, registry)
    assert result.ok
    assert {o.item.kind: o.status for o in result.outcomes} == {
        "s3-prefix": "deleted",
        "s3-bucket": "forgotten",
    }
    assert "their-bucket" in buckets(context)
    assert keys_in(context, "their-bucket") == ["reports/q3.csv"]
    assert registry.resources() == []

    # Even an item that says "delete" for a bucket recorded as not ours only forgets it.
    registry.add_resource(record("s3-bucket", "their-bucket", ours=False))
    outcome = delete(context, [item_from_record(registry.resources()[0])], registry).outcomes[0]
    assert outcome.status == "forgotten"
    assert "their-bucket" in buckets(context)


def test_a_bucket_we_made_that_holds_someone_elses_objects_is_kept(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(
        context,
        "bt-shared",
        tagged=True,
        keys=("bedrock-tune/run1/data/train.jsonl", "notes/mine.txt"),
    )
    registry.add_resource(record("s3-bucket", "bt-shared"))
    registry.add_resource(record("s3-prefix", "s3://bt-shared/bedrock-tune/run1/"))
    items = inventory(context, registry, discover_tags=False)
    outcome = next(
        o for o in delete(context, items, registry).outcomes if o.item.kind == "s3-bucket"
    )
    assert outcome.status == "kept"
    assert "notes/mine.txt" in outcome.message
    assert keys_in(context, "bt-shared") == ["notes/mine.txt"]
    assert [r.identifier for r in registry.resources()] == ["bt-shared"]  # something is left


def test_role_not_ours_loses_only_our_inline_policy(
    context: AwsContext, registry: Registry
) -> None:
    make_role(context, "their-role", tagged=False, policies=("bedrock-tune-data-access", "theirs"))
    registry.add_resource(
        record("iam-role", "their-role", ours=False, policy_name="bedrock-tune-data-access")
    )
    [role] = inventory(context, registry, discover_tags=False)
    assert role.action == "delete-policy"
    assert "the role is yours and stays" in role.effect

    [outcome] = delete(context, [role], registry).outcomes
    assert outcome.status == "deleted"
    iam = context.client("iam")
    assert iam.list_role_policies(RoleName="their-role")["PolicyNames"] == ["theirs"]
    assert "their-role" in roles(context)
    assert registry.resources() == []


def test_our_role_with_policies_we_did_not_add_is_kept(
    context: AwsContext, registry: Registry
) -> None:
    make_role(context, "bt-busy", tagged=True, policies=("bedrock-tune-data-access",))
    iam = context.client("iam")
    managed = iam.create_policy(PolicyName="extra", PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName="bt-busy", PolicyArn=managed)
    registry.add_resource(record("iam-role", "bt-busy", policy_name="bedrock-tune-data-access"))

    [role] = inventory(context, registry, discover_tags=False)
    assert "keeps the role" in role.effect and "extra" in role.effect
    [outcome] = delete(context, [role], registry).outcomes
    assert outcome.status == "kept"
    assert "extra" in outcome.message
    assert iam.list_role_policies(RoleName="bt-busy")["PolicyNames"] == []
    assert iam.list_attached_role_policies(RoleName="bt-busy")["AttachedPolicies"]
    assert "bt-busy" in roles(context)


def test_failures_are_reported_and_the_rest_continue(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(context, "bt-a", tagged=True, keys=("bedrock-tune/r/a.jsonl",))
    make_role(context, "bt-r", tagged=True, policies=("bedrock-tune-data-access",))
    registry.add_resource(record("s3-bucket", "bt-a"))
    registry.add_resource(record("iam-role", "bt-r"))
    items = inventory(context, registry, discover_tags=False)
    s3 = context.client("s3")
    with Stubber(s3) as stub:
        stub.add_response("head_bucket", {}, {"Bucket": "bt-a"})
        stub.add_client_error(
            "list_object_versions", "AccessDenied", "no listing for you", http_status_code=403
        )
        result = delete(context, items, registry)
    by_kind = {o.item.kind: o for o in result.outcomes}
    assert by_kind["s3-bucket"].status == "failed"
    assert by_kind["s3-bucket"].error is not None
    assert by_kind["s3-bucket"].error.title == "Access denied"
    assert by_kind["iam-role"].status == "deleted"
    assert not result.ok
    assert [r.kind for r in registry.resources()] == ["s3-bucket"]


def test_a_prefix_is_emptied_in_batches(
    context: AwsContext, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert teardown.BATCH == 1000  # DeleteObjects' limit; a smaller batch keeps the test fast
    monkeypatch.setattr(teardown, "BATCH", 10)
    s3 = context.client("s3")
    make_bucket(context, "bt-many", tagged=False, keys=())
    s3.put_bucket_versioning(Bucket="bt-many", VersioningConfiguration={"Status": "Enabled"})
    for n in range(23):
        s3.put_object(Bucket="bt-many", Key=f"bedrock-tune/r/{n:05}.jsonl", Body=b"x")
    s3.put_object(Bucket="bt-many", Key="bedrock-tune/r/00000.jsonl", Body=b"second version")
    s3.delete_object(Bucket="bt-many", Key="bedrock-tune/r/00001.jsonl")  # a delete marker
    s3.put_object(Bucket="bt-many", Key="bedrock-tune/rest.txt", Body=b"not under the folder")
    upload = s3.create_multipart_upload(Bucket="bt-many", Key="bedrock-tune/r/big.jsonl")
    registry.add_resource(record("s3-prefix", "s3://bt-many/bedrock-tune/r/"))
    [prefix] = inventory(context, registry, discover_tags=False)
    events: list[TeardownEvent] = []
    [outcome] = delete(context, [prefix], registry, events.append).outcomes
    assert outcome.status == "deleted"
    assert "25 objects" in outcome.message  # 23 + one older version + one delete marker
    steps = [e.message for e in events if e.stage == "step"]
    assert [s.split(" objects")[0] for s in steps] == ["deleted 10", "deleted 20", "deleted 25"]
    versions = s3.list_object_versions(Bucket="bt-many")
    assert [v["Key"] for v in versions.get("Versions", [])] == ["bedrock-tune/rest.txt"]
    assert not versions.get("DeleteMarkers")
    uploads = s3.list_multipart_uploads(Bucket="bt-many").get("Uploads", [])
    assert upload["UploadId"] not in [u["UploadId"] for u in uploads]


def test_registry_entries_of_another_account_are_left_alone(
    context: AwsContext, registry: Registry
) -> None:
    make_bucket(context, "bt-same-name", tagged=False, keys=())
    registry.add_resource(
        ResourceRecord("s3-bucket", "bt-same-name", "us-east-1", "999999999999", "r")
    )
    warnings: list[str] = []
    assert inventory(context, registry, discover_tags=False, on_warning=warnings.append) == []
    assert "999999999999" in warnings[0]


def test_split_s3_uri_refuses_a_whole_bucket() -> None:
    assert split_s3_uri("s3://b/bedrock-tune/run1/") == ("b", "bedrock-tune/run1/")
    with pytest.raises(Exception, match="names no folder"):
        split_s3_uri("s3://b/")
    with pytest.raises(Exception, match="not an s3:// URI"):
        split_s3_uri("b/x/")


# --------------------------------------------------------------------------- Bedrock (moto)


def test_custom_models_and_running_jobs_from_runs_and_tags(
    context: AwsContext, registry: Registry
) -> None:
    context.client("s3").create_bucket(Bucket="bt-data")
    arn = launch_job(context, "tagged")
    # moto's job answers another model ARN than the model has: take the model's own.
    model = context.client("bedrock").list_custom_models()["modelSummaries"][0]["modelArn"]
    registry.save_run(
        "run1",
        Run(
            run_id="run1",
            account_id=ACCOUNT,
            region="us-east-1",
            job_name="tagged-job",
            job_arn=arn,
            custom_model_arn=model,
            custom_model_name="tagged-model",
        ),
    )
    warnings: list[str] = []
    items = inventory(context, registry, on_warning=warnings.append)
    # moto lacks provisioned throughput: said, and the rest is still listed.
    assert any("provisioned throughput" in w for w in warnings)
    assert [(i.kind, i.cost_class) for i in items] == [
        ("customization-job", "hourly"),
        ("custom-model", "storage"),
    ]
    job, custom = items
    assert job.action == "stop" and job.ours_by == "registry and tag"
    assert custom.monthly_cost == find_model(NOVA).pricing.storage_per_month
    assert custom.cost_text == f"${custom.monthly_cost:,.2f}/month (built-in, 2025-07-20)"

    result = delete(context, items, registry)
    assert result.ok, result.to_json()
    assert [o.status for o in result.outcomes] == ["stopped", "deleted"]
    assert get_job(context, "tagged-job").status == "Stopped"
    assert context.client("bedrock").list_custom_models()["modelSummaries"] == []
    saved = registry.get_run("run1")
    assert saved is not None
    assert saved.run.custom_model_arn is None and saved.run.job_status == "Stopping"


def test_an_untagged_custom_model_is_not_ours(context: AwsContext, registry: Registry) -> None:
    context.client("s3").create_bucket(Bucket="bt-data")
    launch_job(context, "someone")
    bedrock = context.client("bedrock")
    model = bedrock.list_custom_models()["modelSummaries"][0]["modelArn"]
    bedrock.untag_resource(resourceARN=model, tagKeys=["bedrock-tune:managed"])
    job = bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"][0]["jobArn"]
    bedrock.untag_resource(resourceARN=job, tagKeys=["bedrock-tune:managed"])
    assert inventory(context, registry) == []


# --------------------------------------------------------------------------- serving (sandbox)


def test_serving_is_deleted_before_the_model_it_serves(
    registry: Registry, sandbox_context: AwsContext, clock: Clock
) -> None:
    context = sandbox_context
    model = train_model(context, clock, "served", NOVA, bucket="bt-data").model_arn
    pt = create_throughput(context, model, "bt-pt", new_client_request_token())
    deployment = create_deployment(context, model, "bt-dep", new_client_request_token())
    for kind, arn in (("provisioned-throughput", pt), ("custom-model-deployment", deployment)):
        registry.add_resource(
            ResourceRecord(kind, arn, "us-east-1", ACCOUNT, "run1", billable=True)
        )
    registry.save_run(
        "run1",
        Run(
            run_id="run1",
            account_id=ACCOUNT,
            region="us-east-1",
            custom_model_arn=model,
            custom_model_name="served-model",
            serving_kind=ServingKind.PROVISIONED_THROUGHPUT,
            serving_arn=pt,
            serving_status=ServingStatus.IN_SERVICE,
        ),
    )

    items = inventory(context, registry)
    kinds = [i.kind for i in items]
    assert kinds == ["provisioned-throughput", "custom-model-deployment", "custom-model"]
    throughput, _, custom = items
    # Nova's provisioned throughput price is not in the catalog: said so, not guessed.
    assert throughput.hourly_cost is None and throughput.billable
    assert throughput.cost_text == "hourly price unknown (see `bedrock-tune prices`)"
    # Asked, the sandbox's Price List has the figure: shown with its source and date.
    live = inventory(context, registry, prices=PriceService(context))
    assert live[0].cost_text.startswith("$20.00/h (Price List API, ")
    assert live[2].cost_text.startswith("$1.95/month (Price List API, ")
    assert set(custom.depends_on) == {
        f"provisioned-throughput:{pt}",
        f"custom-model-deployment:{deployment}",
    }
    # Choosing only the model brings what serves it along; alone, delete() refuses.
    assert with_dependencies([custom], items) == items
    [refused] = delete(context, [custom], registry).outcomes
    assert refused.status == "failed" and "still uses it" in refused.message

    result = delete(context, list(reversed(items)), registry)
    assert result.ok, result.to_json()
    assert [o.item.kind for o in result.outcomes] == kinds
    with pytest.raises(NotFoundError):
        get_serving(context, "provisioned-throughput", pt)
    assert registry.resources() == []
    saved = registry.get_run("run1")
    assert saved is not None and saved.run.serving_arn is None
    assert saved.run.custom_model_arn is None
    assert inventory(context, registry) == []


def test_tagged_serving_is_found_without_the_registry(
    context: AwsContext, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto has no provisioned throughput: the listing and tag calls are stubbed."""
    pt = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/abcdefabcdef"
    theirs = f"arn:aws:bedrock:us-east-1:{ACCOUNT}:provisioned-model/123456123456"
    bedrock = context.client("bedrock")
    summary = {
        "provisionedModelName": "bt-pt",
        "provisionedModelArn": pt,
        "modelArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/x",
        "desiredModelArn": f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/x",
        "foundationModelArn": "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-micro-v1:0",
        "modelUnits": 1,
        "desiredModelUnits": 1,
        "status": "InService",
        "creationTime": "2026-01-01T00:00:00Z",
        "lastModifiedTime": "2026-01-01T00:00:00Z",
    }
    with Stubber(bedrock) as stub:
        stub.add_response("list_custom_models", {"modelSummaries": []})
        stub.add_response("list_model_customization_jobs", {"modelCustomizationJobSummaries": []})
        stub.add_response(
            "list_provisioned_model_throughputs",
            {
                "provisionedModelSummaries": [
                    summary,
                    {**summary, "provisionedModelName": "theirs", "provisionedModelArn": theirs},
                ]
            },
        )
        stub.add_response("list_custom_model_deployments", {"modelDeploymentSummaries": []})
        # Tag reads run on threads: answer both the same way, in either order, by ARN below.
        stub.add_response("list_tags_for_resource", {"tags": []})
        stub.add_response("list_tags_for_resource", {"tags": []})
        tags = {pt: [{"key": "bedrock-tune:managed", "value": "true"}], theirs: []}
        original = bedrock.list_tags_for_resource

        def by_arn(**kwargs: str) -> dict[str, object]:
            original(**kwargs)  # keep the Stubber's request validation
            return {"tags": tags[kwargs["resourceARN"]]}

        with monkeypatch.context() as patch:
            patch.setattr(bedrock, "list_tags_for_resource", by_arn)
            items = inventory(context, registry)
    [item] = items
    assert item.identifier == pt and item.ours_by == "tag" and item.billable
    assert item.label == "Provisioned throughput bt-pt"


def test_item_from_record_keeps_the_registry_facts() -> None:
    role = item_from_record(
        ResourceRecord("iam-role", "r", "us-east-1", ACCOUNT, None, details={"policy_name": "p"})
    )
    assert role.policy_names == ("p",)
    pt = item_from_record(
        ResourceRecord(
            "provisioned-throughput", "arn:x/pt", "us-east-1", ACCOUNT, None, billable=True
        )
    )
    assert pt.billable and pt.action == "delete"
    assert isinstance(pt, TeardownItem)


def test_a_role_recorded_as_reused_stays_whatever_its_tags_say(
    context: AwsContext, registry: Registry
) -> None:
    """Another install tagged the role as bedrock-tune's; this install recorded it as reused:
    only our policy goes, the role stays."""
    make_role(context, "shared-bt-role", tagged=True, policies=("bedrock-tune-data-access",))
    registry.add_resource(
        record("iam-role", "shared-bt-role", ours=False, policy_name="bedrock-tune-data-access")
    )
    [role] = inventory(context, registry)
    assert role.origin == "ours" and not role.created_by_us
    assert role.action == "delete-policy"
    [outcome] = delete(context, [role], registry).outcomes
    assert outcome.status == "deleted"
    assert "shared-bt-role" in roles(context)
    assert context.client("iam").list_role_policies(RoleName="shared-bt-role")["PolicyNames"] == []
