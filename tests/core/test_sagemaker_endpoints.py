"""SageMaker real-time endpoints in the sandbox: a trained model deployed once (killed midway and
run again, nothing twice), polled Creating -> InService, asked (streamed too), deleted; an
endpoint failing with its FailureReason, an instance type without quota, a payload the container
refuses; and the requests as botocore's model validates them (an Autopilot best candidate read
through a Stubber)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.stub import Stubber
from botocore.validate import ParamValidator

from core.aws import AwsContext, StaticCredentials
from core.errors import ConflictError, QuotaExceededError, ValidationError
from core.poll import Pacing
from core.pricing.service import PriceService
from core.pricing.types import Price
from core.registry import Registry
from core.run.types import Route, Run
from core.sagemaker import kinds
from core.sagemaker.deploying import delete_endpoint, deploy_once
from core.sagemaker.endpoints import (
    Container,
    EndpointPlan,
    ModelSource,
    describe_endpoint,
    endpoint_poller,
    source_from_autopilot,
    source_from_training_job,
)
from core.sagemaker.hub import describe_hub_model
from core.sagemaker.images import tgi_image
from core.sagemaker.jumpstart import JumpStartRequest
from core.sagemaker.training import TrainingRequest
from core.sandbox.server import SANDBOX_ACCOUNT_ID
from core.serving.chat import Answer, Settings, Turn
from core.serving.endpoint import invoke_endpoint, invoke_endpoint_stream, invoke_json
from tests.api_model import operation as api_operation
from tests.fakes import Clock, Killed, die, hook_aws_calls

ROLE = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bedrock-tune-sagemaker-us-east-1"
SM_ARN = f"arn:aws:sagemaker:us-east-1:{SANDBOX_ACCOUNT_ID}"
OUT = "s3://bt-out/bedrock-tune/r1/output"


def trained(context: AwsContext, clock: Clock, name: str = "bt-jumpstart-job") -> str:
    """A training job that has completed in the sandbox (its model written to the output)."""
    s3 = context.client("s3")
    s3.create_bucket(Bucket="bt-out")
    request = TrainingRequest(
        job_name=name,
        role_arn=ROLE,
        base_model="meta-textgeneration-llama-3-8b",
        training_uri="s3://bt-out/bedrock-tune/r1/data/train.jsonl",
        output_uri=f"{OUT}/",
        region="us-east-1",
        mode="instance",
        script_uri=f"{OUT}/code/sourcedir.tar.gz",
        image_uri="sandbox/training",
    )
    context.client("sagemaker").create_training_job(**request.to_api())
    clock.t += 120
    return name


def hourly(context: AwsContext, instance: str = "ml.g5.2xlarge") -> Price:
    return PriceService(context).instance_prices(instance, context.region).endpoint


def placed_run() -> Run:
    return Run(
        run_id="r1",
        route=Route.SAGEMAKER_JUMPSTART,
        target="sandbox",
        region="us-east-1",
        account_id=SANDBOX_ACCOUNT_ID,
        job_name="bt-jumpstart-job",
    )


def deploy(
    context: AwsContext, source: ModelSource, instance: str = "ml.g5.2xlarge", name: str = "bt-ep"
) -> Any:
    registry = Registry()
    registry.save_run("r1", placed_run())
    plan = EndpointPlan(name, source, instance)
    return deploy_once(context, registry, plan, "r1", placed_run(), hourly(context, instance))


def test_a_trained_model_is_deployed_polled_asked_and_deleted(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    assert source.containers[0].model_data == f"{OUT}/bt-jumpstart-job/output/model/"
    assert source.role_arn == ROLE
    deployed = deploy(sandbox_context, source)
    saved = Registry().get_run("r1")
    assert saved is not None and saved.run.endpoint_name == "bt-ep"
    assert saved.run.serving_arn == deployed.endpoint_arn and saved.status.value == "deploying"
    records = {r.kind: r for r in Registry().resources()}
    endpoint = records[kinds.ENDPOINT]
    assert endpoint.billable and not endpoint.details.get("pending")
    assert endpoint.details["per_hour"] == pytest.approx(1.515)  # the sandbox's Price List
    assert endpoint.details["price_source"] == "price-list-api"
    assert not records[kinds.MODEL].billable and not records[kinds.ENDPOINT_CONFIG].billable
    seen: list[str] = []
    poller = endpoint_poller(
        lambda: describe_endpoint(sandbox_context, "bt-ep"), pacing=Pacing(sleep=clock.sleep)
    )
    final = poller.run(lambda u: seen.append(u.value.status) if u.value and u.changed else None)
    assert final is not None and final.ready
    assert seen == ["Creating", "InService"]
    asked = [Turn("user", "Summarize: #Person1# asks for the bill.")]
    answer = invoke_endpoint(sandbox_context, "bt-ep", "Be brief.", asked)
    assert "sandbox" in answer.text and "bill." in answer.text
    pieces = list(invoke_endpoint_stream(sandbox_context, "bt-ep", "Be brief.", asked))
    final_answer = pieces[-1]
    assert isinstance(final_answer, Answer) and not final_answer.cut
    assert "".join(p for p in pieces[:-1] if isinstance(p, str)) == final_answer.text
    assert final_answer.text == answer.text and len(pieces) > 10  # streamed word by word
    said = delete_endpoint(sandbox_context, Registry(), "bt-ep")
    assert said[0].startswith("Deleted the endpoint bt-ep")
    assert Registry().resources() == []
    after = Registry().get_run("r1")
    assert after is not None and after.run.serving_arn is None and after.run.endpoint_name is None
    client = sandbox_context.client("sagemaker")
    assert client.list_endpoints()["Endpoints"] == [] and client.list_models()["Models"] == []


KILLS = {
    # Killed after SageMaker made X, before X was recorded as made: what came before is
    # recorded with its ARN, X and what follows as pending (teardown sees all three).
    "CreateModel": {kinds.MODEL: True, kinds.ENDPOINT_CONFIG: True, kinds.ENDPOINT: True},
    "CreateEndpointConfig": {kinds.MODEL: None, kinds.ENDPOINT_CONFIG: True, kinds.ENDPOINT: True},
    "CreateEndpoint": {kinds.MODEL: None, kinds.ENDPOINT_CONFIG: None, kinds.ENDPOINT: True},
}


@pytest.mark.parametrize("killed_after", sorted(KILLS))
def test_a_deploy_killed_midway_and_run_again_creates_nothing_twice(
    sandbox_context: AwsContext, clock: Clock, monkeypatch: pytest.MonkeyPatch, killed_after: str
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    hook_aws_calls(monkeypatch, f"after-call.sagemaker.{killed_after}", die)
    with pytest.raises(Killed):
        deploy(sandbox_context, source)
    pending = {r.kind: r.details.get("pending") for r in Registry().resources()}
    assert pending == KILLS[killed_after]
    endpoint = next(r for r in Registry().resources() if r.kind == kinds.ENDPOINT)
    assert endpoint.billable  # counted as billing from before CreateEndpoint is sent
    monkeypatch.undo()
    first = deploy(sandbox_context, source)
    again = deploy(sandbox_context, source)  # the same command once more: re-attaches
    assert first.reattached == (killed_after == "CreateEndpoint") and again.reattached
    assert again.endpoint_arn == first.endpoint_arn
    client = sandbox_context.client("sagemaker")
    assert len(client.list_models()["Models"]) == 1
    assert len(client.list_endpoint_configs()["EndpointConfigs"]) == 1
    assert len(client.list_endpoints()["Endpoints"]) == 1
    assert not any(r.details.get("pending") for r in Registry().resources())


def test_a_name_someone_else_took_stops_the_deploy(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    sandbox_context.client("sagemaker").create_model(
        ModelName="bt-ep-model", ExecutionRoleArn=ROLE, PrimaryContainer={"Image": "theirs"}
    )
    with pytest.raises(ConflictError, match="someone else"):
        deploy(sandbox_context, source)
    assert sandbox_context.client("sagemaker").list_endpoints()["Endpoints"] == []
    # Nothing of it is recorded as ours (teardown would delete their model), nothing bills.
    assert Registry().resources() == []


def test_a_name_another_run_recorded_writes_nothing(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    deploy(sandbox_context, source)
    before = Registry().resources()
    registry = Registry()
    registry.save_run("r2", replace(placed_run(), run_id="r2"))
    plan = EndpointPlan("bt-ep", source, "ml.g5.2xlarge")
    with pytest.raises(ConflictError, match="belongs to bedrock-tune run r1"):
        deploy_once(sandbox_context, registry, plan, "r2", placed_run(), hourly(sandbox_context))
    assert Registry().resources() == before
    saved = registry.get_run("r2")
    assert saved is not None and saved.run.endpoint_name is None


def test_an_endpoint_failing_to_start_says_why(sandbox_context: AwsContext, clock: Clock) -> None:
    missing = ModelSource(
        "training-job",
        "gone",
        ROLE,
        (Container("sandbox/tgi", "s3://no-such-bucket/model.tar.gz"),),
    )
    deploy(sandbox_context, missing)
    poller = endpoint_poller(
        lambda: describe_endpoint(sandbox_context, "bt-ep"), pacing=Pacing(sleep=clock.sleep)
    )
    final = poller.run()
    assert final is not None and final.status == "Failed"
    assert final.failure_reason and "s3://no-such-bucket/model.tar.gz" in final.failure_reason


def test_an_instance_type_without_quota_says_which_quota_and_creates_nothing_billable(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    with pytest.raises(QuotaExceededError) as raised:
        deploy(sandbox_context, source, "ml.p5.48xlarge")
    error = raised.value
    assert "'ml.p5.48xlarge for endpoint usage' is 0 instances" in error.message
    assert "Service Quotas" in error.hint and "--instance" in error.hint
    assert [r for r in Registry().resources() if r.billable] == []
    assert sandbox_context.client("sagemaker").list_endpoints()["Endpoints"] == []
    # Another instance type then works, reusing the model (its config is replaced).
    deployed = deploy(sandbox_context, source, "ml.g5.2xlarge")
    config = sandbox_context.client("sagemaker").describe_endpoint_config(
        EndpointConfigName="bt-ep-config"
    )
    assert config["ProductionVariants"][0]["InstanceType"] == "ml.g5.2xlarge"
    assert deployed.endpoint_arn


def test_a_payload_the_container_refuses_is_explained(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    deploy(sandbox_context, source)
    clock.t += 60
    with pytest.raises(ValidationError) as raised:
        invoke_json(sandbox_context, "bt-ep", {"prompt": "hi"})
    error = raised.value
    assert error.title == "Payload refused by the model"
    assert "(422)" in error.message and "missing field `inputs`" in error.message
    assert '"inputs"' in error.hint and "/aws/sagemaker/Endpoints/bt-ep" in error.hint


def test_asking_an_endpoint_still_creating_or_unknown_is_not_found(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    from core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no SageMaker endpoint 'nope'"):
        invoke_endpoint(sandbox_context, "nope", "", [Turn("user", "hi")])


def test_an_endpoint_another_install_made_is_left_alone(
    sandbox_context: AwsContext, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    deploy(sandbox_context, source)
    for record in Registry().resources():  # this install forgets it: another install's now
        Registry().remove_resource(record.kind, record.identifier)
    sagemaker = sandbox_context.client("sagemaker")
    arn = sagemaker.describe_endpoint(EndpointName="bt-ep")["EndpointArn"]
    tags = {t["Key"]: t["Value"] for t in sagemaker.list_tags(ResourceArn=arn)["Tags"]}
    assert tags["bedrock-tune:install"] == Registry().install_id()
    monkeypatch.setattr(Registry, "install_id", lambda self: "0" * 32)  # another install
    with pytest.raises(ConflictError, match="not made by this bedrock-tune install"):
        delete_endpoint(sandbox_context, Registry(), "bt-ep")
    assert len(sagemaker.list_endpoints()["Endpoints"]) == 1


def _shape(operation: str) -> Any:
    return api_operation("sagemaker", operation).input_shape


def test_the_requests_are_valid_for_botocore_and_an_autopilot_candidate_is_read() -> None:
    context = AwsContext.for_endpoint(
        "http://127.0.0.1:9", StaticCredentials("a", "b"), "us-east-1"
    )
    client = context.client("sagemaker")
    best = {
        "CandidateName": "bt-autopilot-best",
        "ObjectiveStatus": "Succeeded",
        "CandidateSteps": [
            {
                "CandidateStepType": "AWS::SageMaker::TrainingJob",
                "CandidateStepArn": f"{SM_ARN}:training-job/t",
                "CandidateStepName": "t",
            }
        ],
        "CandidateStatus": "Completed",
        "CreationTime": datetime(2026, 12, 2, tzinfo=UTC),
        "LastModifiedTime": datetime(2026, 12, 2, tzinfo=UTC),
        "InferenceContainers": [
            {
                "Image": "763104351884.dkr.ecr.us-east-1.amazonaws.com/tgi:latest",
                "ModelDataUrl": "s3://bt-out/autopilot/model.tar.gz",
                "Environment": {"HF_MODEL_ID": "/opt/ml/model"},
            }
        ],
    }
    with Stubber(client) as stubber:
        stubber.add_response(
            "describe_auto_ml_job_v2",
            {
                "AutoMLJobName": "bt-autopilot",
                "AutoMLJobArn": f"arn:aws:sagemaker:us-east-1:{SANDBOX_ACCOUNT_ID}:automl-job/x",
                "AutoMLJobInputDataConfig": [
                    {"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/"}}}
                ],
                "OutputDataConfig": {"S3OutputPath": "s3://bt-out/autopilot/"},
                "RoleArn": ROLE,
                "CreationTime": datetime(2026, 12, 2, tzinfo=UTC),
                "LastModifiedTime": datetime(2026, 12, 2, tzinfo=UTC),
                "AutoMLJobStatus": "Completed",
                "AutoMLJobSecondaryStatus": "Completed",
                "AutoMLProblemTypeConfig": {
                    "TextGenerationJobConfig": {"BaseModelName": "Falcon7BInstruct"}
                },
                "BestCandidate": best,
            },
            {"AutoMLJobName": "bt-autopilot"},
        )
        source = source_from_autopilot(context, "bt-autopilot")
    assert source.kind == "autopilot" and source.candidate == "bt-autopilot-best"
    assert source.base_model == "Falcon7BInstruct" and source.role_arn == ROLE
    plan = EndpointPlan("bt-autopilot", source, "ml.g5.12xlarge", tags={"team": "ml"})
    folder = EndpointPlan(
        "bt-folder",
        ModelSource("training-job", "j", ROLE, (Container("img", "s3://b/model/"),)),
        "ml.g5.2xlarge",
    )
    for operation, request in (
        ("CreateModel", plan.model_request()),
        ("CreateModel", folder.model_request()),
        ("CreateEndpointConfig", plan.config_request()),
        ("CreateEndpoint", plan.endpoint_request()),
    ):
        report = ParamValidator().validate(request, _shape(operation))
        assert not report.has_errors(), report.generate_report()
    source_data = folder.model_request()["PrimaryContainer"]["ModelDataSource"]["S3DataSource"]
    assert source_data["CompressionType"] == "None"  # a folder is served as it is
    assert plan.model_request()["PrimaryContainer"]["ModelDataUrl"].endswith("model.tar.gz")


def test_a_job_still_training_has_nothing_to_deploy(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    name = trained(sandbox_context, clock, "bt-early")
    clock.t -= 100  # back to while it trains
    with pytest.raises(ValidationError, match="InProgress"):
        source_from_training_job(sandbox_context, name)


def test_settings_reach_the_payload() -> None:
    from core.serving.endpoint import payload, prompt_of

    body = payload(prompt_of("Sys", [Turn("user", "Q")]), Settings(64, 0.0, 1.0), stream=True)
    assert body["inputs"] == "Sys\n\nQ" and body["stream"] is True
    assert body["parameters"]["max_new_tokens"] == 64 and body["parameters"]["do_sample"] is False
    history = [Turn("user", "A"), Turn("assistant", "B"), Turn("user", "C")]
    assert prompt_of("", history) == "User: A\nAssistant: B\nUser: C\nAssistant:"


def test_a_jumpstart_model_is_served_by_its_public_hub_image(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    sandbox_context.client("s3").create_bucket(Bucket="bt-out")
    spec = describe_hub_model(sandbox_context, "meta-textgeneration-llama-2-7b")
    assert spec.hosting_image and "sandbox-tgi-inference" in spec.hosting_image
    request = JumpStartRequest(
        job_name="bt-js",
        role_arn=ROLE,
        spec=spec,
        training_uri="s3://bt-out/bedrock-tune/r1/data/",
        output_uri=f"{OUT}/",
        instance_type="ml.g5.12xlarge",
        accept_eula=True,
    )
    sandbox_context.client("sagemaker").create_training_job(**request.to_api())
    clock.t += 120
    source = source_from_training_job(sandbox_context, "bt-js")
    assert source.containers[0].image == spec.hosting_image
    assert "Public Hub entry of meta-textgeneration-llama-2-7b" in source.image_origin
    given = source_from_training_job(sandbox_context, "bt-js", image="acct/mine:1")
    assert given.containers[0].image == "acct/mine:1" and "given" in given.image_origin
    # A job that names no JumpStart model is served by the TGI image, said to be uncertain.
    other = source_from_training_job(sandbox_context, trained(sandbox_context, clock))
    assert other.containers[0].image == tgi_image("us-east-1")
    assert "TGI" in other.image_origin and "⚠" in other.image_origin
