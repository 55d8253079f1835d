"""Request shapes of every Custom Model Import call, validated by botocore against the real API
model (a Stubber answers; botocore's parameter validation runs before it, and the Stubber checks
each answer against the output shape)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from botocore.stub import Stubber

from core.aws import AwsContext
from core.errors import ValidationError
from core.importing.jobs import (
    ImportRequest,
    check_import_request,
    create_import_job,
    delete_imported_model,
    get_import_job,
    get_imported_model,
    list_import_jobs,
    list_imported_models,
    resource_tags,
)
from core.importing.launching import import_request
from core.run import Route, Run
from core.statuses import ImportStatus

JOB_ARN = "arn:aws:bedrock:us-east-1:123456789012:model-import-job/abcdefghijkl"
MODEL_ARN = "arn:aws:bedrock:us-east-1:123456789012:imported-model/mnopqrstuvwx"
ROLE = "arn:aws:iam::123456789012:role/bedrock-tune-import-us-east-1"
NOW = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture
def stub(aws_keys: None) -> Iterator[tuple[AwsContext, Stubber]]:
    context = AwsContext.from_environment(region="us-east-1")
    with Stubber(context.client("bedrock")) as stubber:
        yield context, stubber
        stubber.assert_no_pending_responses()


def request() -> ImportRequest:
    return ImportRequest(
        job_name="bt-sql-import-20261201-000000",
        model_name="bt-sql",
        role_arn=ROLE,
        model_uri="s3://bt-bucket/bedrock-tune/r1/model/",
        client_request_token="tok-1",
        tags={"bedrock-tune:run": "r1"},
        kms_key_id="alias/models",
        subnet_ids=("subnet-1",),
        security_group_ids=("sg-1",),
    )


def test_create_model_import_job(stub: tuple[AwsContext, Stubber]) -> None:
    context, stubber = stub
    expected = {
        "jobName": "bt-sql-import-20261201-000000",
        "importedModelName": "bt-sql",
        "roleArn": ROLE,
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://bt-bucket/bedrock-tune/r1/model/"}},
        "clientRequestToken": "tok-1",
        "jobTags": [
            {"key": "bedrock-tune:managed", "value": "true"},
            {"key": "bedrock-tune:run", "value": "r1"},
        ],
        "importedModelTags": [
            {"key": "bedrock-tune:managed", "value": "true"},
            {"key": "bedrock-tune:run", "value": "r1"},
        ],
        "importedModelKmsKeyId": "alias/models",
        "vpcConfig": {"subnetIds": ["subnet-1"], "securityGroupIds": ["sg-1"]},
    }
    stubber.add_response("create_model_import_job", {"jobArn": JOB_ARN}, expected)
    assert create_import_job(context, request()) == JOB_ARN


def test_a_bad_request_is_refused_before_any_call(stub: tuple[AwsContext, Stubber]) -> None:
    context, _ = stub
    bad = ImportRequest("bad name", "bad.model", "not-a-role", "s3://B/x", "tok_1")
    problems = check_import_request(bad)
    assert len(problems) == 5
    with pytest.raises(ValidationError) as refused:
        create_import_job(context, bad)  # the Stubber has no answer: a call would fail
    assert "nothing was sent" in refused.value.hint


def test_get_and_list_import_jobs(stub: tuple[AwsContext, Stubber]) -> None:
    context, stubber = stub
    job = {
        "jobArn": JOB_ARN,
        "jobName": "bt-sql-import",
        "importedModelName": "bt-sql",
        "importedModelArn": MODEL_ARN,
        "roleArn": ROLE,
        "modelDataSource": {"s3DataSource": {"s3Uri": "s3://bt-bucket/m/"}},
        "status": "Completed",
        "creationTime": NOW,
        "lastModifiedTime": NOW,
        "endTime": NOW,
    }
    stubber.add_response("get_model_import_job", job, {"jobIdentifier": JOB_ARN})
    found = get_import_job(context, JOB_ARN)
    assert found.status is ImportStatus.COMPLETED and found.model_arn == MODEL_ARN
    assert found.model_uri == "s3://bt-bucket/m/" and found.ended == NOW
    summary = {k: job[k] for k in ("jobArn", "jobName", "status", "creationTime")}
    stubber.add_response(
        "list_model_import_jobs",
        {"modelImportJobSummaries": [summary], "nextToken": "p2"},
        {"sortBy": "CreationTime", "sortOrder": "Descending", "statusEquals": "InProgress"},
    )
    stubber.add_response(
        "list_model_import_jobs",
        {"modelImportJobSummaries": [summary]},
        {
            "sortBy": "CreationTime",
            "sortOrder": "Descending",
            "statusEquals": "InProgress",
            "nextToken": "p2",
        },
    )
    assert len(list(list_import_jobs(context, ImportStatus.IN_PROGRESS))) == 2


def test_get_list_and_delete_imported_models(stub: tuple[AwsContext, Stubber]) -> None:
    context, stubber = stub
    stubber.add_response(
        "get_imported_model",
        {
            "modelArn": MODEL_ARN,
            "modelName": "bt-sql",
            "jobArn": JOB_ARN,
            "modelArchitecture": "llama",
            "instructSupported": True,
            "customModelUnits": {
                "customModelUnitsPerModelCopy": 2,
                "customModelUnitsVersion": "v1.0",
            },
            "creationTime": NOW,
        },
        {"modelIdentifier": "bt-sql"},
    )
    model = get_imported_model(context, "bt-sql")
    assert (model.units, model.architecture, model.instruct) == (2, "llama", True)
    stubber.add_response(
        "list_imported_models",
        {"modelSummaries": [{"modelArn": MODEL_ARN, "modelName": "bt-sql", "creationTime": NOW}]},
        {"sortBy": "CreationTime", "sortOrder": "Descending"},
    )
    assert [m.name for m in list_imported_models(context)] == ["bt-sql"]
    stubber.add_response("delete_imported_model", {}, {"modelIdentifier": MODEL_ARN})
    delete_imported_model(context, MODEL_ARN)
    stubber.add_response(
        "list_tags_for_resource",
        {"tags": [{"key": "bedrock-tune:run", "value": "r1"}]},
        {"resourceARN": JOB_ARN},
    )
    assert resource_tags(context, JOB_ARN) == {"bedrock-tune:run": "r1"}


def test_the_run_describes_the_request() -> None:
    run = Run(
        run_id="r1",
        route=Route.IMPORT_ONLY,
        role_arn=ROLE,
        model_uri="s3://bt-bucket/bedrock-tune/r1/model/",
        import_job_name="bt-sql-import",
        imported_model_name="bt-sql",
        import_token="tok-1",
        tags={"team": "ml"},
    )
    api = import_request(run).to_api()
    assert api["jobTags"][-1] == {"key": "bedrock-tune:run", "value": "r1"}
    assert {"key": "team", "value": "ml"} in api["importedModelTags"]
    assert "vpcConfig" not in api and "importedModelKmsKeyId" not in api
    assert check_import_request(import_request(run)) == []
