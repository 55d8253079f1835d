"""Jobs: request checks, launch (token reuse), status, stop, list, re-attach by tags; the
watcher's backoff, fault tolerance and stall warning; metrics discovery; failure explanations."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from moto import mock_aws

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.catalog.types import CustomizationType
from core.errors import (
    ConflictError,
    ConnectionFailedError,
    ExpiredCredentialsError,
    ThrottledError,
    ValidationError,
)
from core.jobs.customization import (
    JobRequest,
    JobSnapshot,
    JobStatus,
    check_request,
    get_job,
    job_id_of,
    launch,
    list_jobs,
    managed_job_arns,
    new_client_request_token,
    snapshot_from,
    stop_job,
)
from core.jobs.failures import explain_failure
from core.jobs.metrics import find_metric_files, parse_metrics, read_metrics
from core.jobs.watch import JobWatcher, WatchUpdate
from tests.api_model import assert_valid
from tests.fakes import Clock

NOVA = "amazon.nova-micro-v1:0:128k"
JOB_ARN = (
    "arn:aws:bedrock:us-east-1:123456789012:model-customization-job/"
    "amazon.nova-micro-v1:0:128k/abcdef123456"
)


@pytest.fixture
def context(aws_keys: None) -> Iterator[AwsContext]:
    with mock_aws():
        boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="data-bucket")
        yield AwsContext.from_environment(region="us-east-1")


def request(**changes: object) -> JobRequest:
    base = JobRequest(
        job_name="bt-job-1",
        custom_model_name="bt-model-1",
        base_model_id=NOVA,
        role_arn="arn:aws:iam::123456789012:role/bedrock-tune-role",
        training_uri="s3://data-bucket/runs/r1/train.jsonl",
        output_uri="s3://data-bucket/runs/r1/output/",
        client_request_token=new_client_request_token(),
        hyperparameters={"epochCount": "2", "learningRate": "0.00001"},
        tags={"bedrock-tune:run": "r1"},
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_request_shape_is_the_api_shape() -> None:
    api = request(validation_uri="s3://data-bucket/runs/r1/validation.jsonl").to_api()
    assert api["baseModelIdentifier"] == NOVA
    assert api["customizationType"] == "FINE_TUNING"
    assert api["hyperParameters"] == {"epochCount": "2", "learningRate": "0.00001"}
    assert all(isinstance(v, str) for v in api["hyperParameters"].values())
    assert api["validationDataConfig"] == {
        "validators": [{"s3Uri": "s3://data-bucket/runs/r1/validation.jsonl"}]
    }
    assert {"key": "bedrock-tune:managed", "value": "true"} in api["jobTags"]
    assert api["jobTags"] == api["customModelTags"]
    assert "vpcConfig" not in api
    # botocore validates the shape against the real service model.
    client = boto3.client(
        "bedrock", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b"
    )
    client.meta.events.register("before-send.bedrock.*", lambda **_: _stop())
    with pytest.raises(_Stop):
        client.create_model_customization_job(**api)


class _Stop(Exception):
    pass


def _stop() -> None:
    raise _Stop


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"job_name": "bad name"}, "job name"),
        ({"custom_model_name": "model.v1"}, "custom model name"),
        ({"training_uri": "s3://data-bucket/my file.jsonl"}, "training data URI"),
        ({"output_uri": "s3://Data_Bucket/out/"}, "output URI"),
        ({"role_arn": "arn:aws:iam::123:user/x"}, "role ARN"),
        ({"hyperparameters": {"epochCount": "9"}}, "epochCount must be between 1 and 5"),
        ({"hyperparameters": {"batchSize": "8"}}, "no hyperparameter 'batchSize'"),
        ({"customization_type": CustomizationType.CONTINUED_PRE_TRAINING}, "does not support"),
        ({"tags": {"team": "ml&ai"}}, "tag 'team=ml&ai'"),
        ({"subnet_ids": ("subnet-1",)}, "both subnets and security groups"),
    ],
)
def test_bad_requests_are_refused_before_any_call(changes: dict[str, object], needle: str) -> None:
    problems = check_request(request(**changes), find_model(NOVA))
    assert any(needle in p for p in problems), problems


def test_a_good_request_has_no_problems() -> None:
    assert check_request(request(), find_model(NOVA)) == []


PREMIER = "us.amazon.nova-premier-v1:0"
DISTILL = CustomizationType.DISTILLATION


def distillation(**changes: object) -> JobRequest:
    settings: dict[str, object] = {
        "customization_type": DISTILL,
        "hyperparameters": {},
        "teacher_model_id": PREMIER,
        "max_response_length": 1000,
    }
    return request(**{**settings, **changes})


def test_a_distillation_request_carries_its_teacher() -> None:
    job = distillation()
    assert check_request(job, find_model(NOVA)) == []
    api = job.to_api()
    assert api["customizationType"] == "DISTILLATION"
    assert api["customizationConfig"] == {
        "distillationConfig": {
            "teacherModelConfig": {
                "teacherModelIdentifier": PREMIER,
                "maxResponseLengthForInference": 1000,
            }
        }
    }
    assert_valid("bedrock", "CreateModelCustomizationJob", api)
    # Without a length, Bedrock's default applies: the key is left out.
    unset = distillation(max_response_length=None).to_api()
    assert unset["customizationConfig"]["distillationConfig"]["teacherModelConfig"] == {
        "teacherModelIdentifier": PREMIER
    }
    assert "customizationConfig" not in request().to_api()


@pytest.mark.parametrize("kind", list(CustomizationType))
def test_every_customization_type_makes_a_request_the_api_model_accepts(
    kind: CustomizationType,
) -> None:
    model_id = {
        CustomizationType.FINE_TUNING: NOVA,
        CustomizationType.CONTINUED_PRE_TRAINING: "amazon.titan-text-express-v1:0:8k",
        CustomizationType.DISTILLATION: "meta.llama3-1-8b-instruct-v1:0:128k",
    }[kind]
    job = request(
        base_model_id=model_id,
        customization_type=kind,
        hyperparameters={},
        teacher_model_id="meta.llama3-1-405b-instruct-v1:0" if kind is DISTILL else None,
        validation_uri=None if kind is DISTILL else "s3://data-bucket/runs/r1/validation.jsonl",
    )
    assert check_request(job, find_model(model_id)) == []
    assert_valid("bedrock", "CreateModelCustomizationJob", job.to_api())


@pytest.mark.parametrize(
    ("changes", "needle"),
    [
        ({"teacher_model_id": None}, "distillation needs a teacher model"),
        ({"teacher_model_id": "  "}, "distillation needs a teacher model"),
        ({"teacher_model_id": "meta.llama3-1-405b-instruct-v1:0"}, "not a teacher"),
        ({"teacher_model_id": "amazon.nova-micro-v1:0"}, "choose one of: amazon.nova-pro-v1:0"),
        ({"max_response_length": 0}, "maximum response length"),
        ({"max_response_length": 2**31}, "maximum response length"),
    ],
)
def test_bad_distillation_settings_are_refused(changes: dict[str, object], needle: str) -> None:
    problems = check_request(distillation(**changes), find_model(NOVA))
    assert any(needle in p for p in problems), problems


def test_a_teacher_only_goes_with_distillation() -> None:
    problems = check_request(request(teacher_model_id=PREMIER), find_model(NOVA))
    assert any("distillation only" in p for p in problems)
    assert "customizationConfig" not in request(teacher_model_id=PREMIER).to_api()


def test_a_teacher_by_inference_profile_arn_is_accepted() -> None:
    arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{PREMIER}"
    job = distillation(teacher_model_id=arn)
    assert check_request(job, find_model(NOVA)) == []
    assert_valid("bedrock", "CreateModelCustomizationJob", job.to_api())


def test_launch_refuses_out_of_range_hyperparameters_without_calling(context: AwsContext) -> None:
    with pytest.raises(ValidationError) as caught:
        launch(context, request(hyperparameters={"epochCount": "0"}), find_model(NOVA))
    assert "epochCount" in caught.value.message
    assert list(list_jobs(context)) == []


def test_launch_twice_with_the_same_token_is_one_job(context: AwsContext) -> None:
    job = request()
    first = launch(context, job, find_model(NOVA))
    second = launch(context, job, find_model(NOVA))
    assert first == second
    assert [j.arn for j in list_jobs(context)] == [first]


def test_same_name_other_token_is_a_conflict(context: AwsContext) -> None:
    launch(context, request(), find_model(NOVA))
    with pytest.raises(ConflictError) as caught:
        launch(context, request(), find_model(NOVA))
    assert "another job name" in caught.value.hint
    assert "bt-job-1" in caught.value.message


def test_status_stop_and_reattach_by_tags(context: AwsContext) -> None:
    arn = launch(context, request(), find_model(NOVA))
    snapshot = get_job(context, "bt-job-1")
    assert snapshot.arn == arn and snapshot.status is JobStatus.IN_PROGRESS
    assert snapshot.failure_message is None  # only failed jobs carry one
    assert snapshot.output_uri == "s3://data-bucket/runs/r1/output/"
    launch(
        context,
        request(job_name="other", custom_model_name="other-model", tags={}),
        find_model(NOVA),
    )
    untagged = boto3.client("bedrock", region_name="us-east-1")
    untagged.create_model_customization_job(
        jobName="not-ours",
        customModelName="x",
        roleArn="arn:aws:iam::123456789012:role/r",
        baseModelIdentifier=NOVA,
        trainingDataConfig={"s3Uri": "s3://data-bucket/t.jsonl"},
        outputDataConfig={"s3Uri": "s3://data-bucket/o/"},
    )
    assert managed_job_arns(context, run_id="r1") == [arn]
    assert len(managed_job_arns(context)) == 2
    stop_job(context, "bt-job-1")
    assert get_job(context, "bt-job-1").status is JobStatus.STOPPED


def _snapshot(status: str, phases: dict[str, str], **extra: object) -> JobSnapshot:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    details = {
        k: {"status": v, "creationTime": now, "lastModifiedTime": now} for k, v in phases.items()
    }
    return snapshot_from(
        {
            "jobArn": JOB_ARN,
            "jobName": "j",
            "status": status,
            "statusDetails": details,
            "outputDataConfig": {"s3Uri": "s3://b/out/"},
            **extra,
        }
    )


def test_snapshot_reads_phases_in_order() -> None:
    snap = _snapshot(
        "InProgress", {"validationDetails": "Completed", "trainingDetails": "InProgress"}
    )
    assert [p.label for p in snap.phases] == ["Validation", "Data processing", "Training"]
    assert [p.status for p in snap.phases] == ["Completed", "", "InProgress"]
    assert job_id_of(snap.arn) == "abcdef123456"
    assert job_id_of("plain-name") == "plain-name"


def test_watcher_backs_off_while_unchanged_and_survives_faults() -> None:
    clock = Clock()
    same = _snapshot("InProgress", {"validationDetails": "InProgress"})
    answers: list[JobSnapshot | Exception] = [
        same,
        same,
        same,
        ThrottledError("slow"),
        ConnectionFailedError("cut"),
        same,
    ]

    def fetch() -> JobSnapshot:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    watcher = JobWatcher(
        fetch, min_interval=10, max_interval=60, backoff=2, clock=clock, sleep=clock.sleep
    )
    first = watcher.poll_once()
    assert first.changed and watcher.interval == 10
    watcher.poll_once()
    assert watcher.interval == 20
    watcher.poll_once()
    assert watcher.interval == 40
    clock.t += 30
    throttled = watcher.poll_once()
    assert isinstance(throttled.error, ThrottledError) and throttled.snapshot is same
    assert throttled.seconds_since_success == 30
    assert watcher.interval == 60
    cut = watcher.poll_once()
    assert isinstance(cut.error, ConnectionFailedError) and not cut.needs_reauth
    assert watcher.poll_once().error is None


def test_watcher_asks_for_reauth_then_resumes() -> None:
    state: dict[str, object] = {"fail": True}
    done = _snapshot(
        "Completed", {"validationDetails": "Completed", "trainingDetails": "Completed"}
    )

    def fetch() -> JobSnapshot:
        if state["fail"]:
            raise ExpiredCredentialsError("expired")
        return done

    clock = Clock()
    updates: list[WatchUpdate] = []

    def on_update(update: WatchUpdate) -> None:
        updates.append(update)
        state["fail"] = False  # the user re-authenticated

    watcher = JobWatcher(fetch, clock=clock, sleep=clock.sleep)
    final = watcher.watch(on_update)
    assert updates[0].needs_reauth
    assert final is done
    assert sum(clock.slept) == watcher.max_interval  # waited one long interval, no wall clock


def test_watch_stops_when_cancelled() -> None:
    clock = Clock()
    running = _snapshot("InProgress", {})
    calls = {"n": 0}

    def fetch() -> JobSnapshot:
        calls["n"] += 1
        return running

    watcher = JobWatcher(fetch, clock=clock, sleep=clock.sleep)
    assert watcher.watch(lambda u: None, cancelled=lambda: calls["n"] >= 3) is None
    assert calls["n"] == 3


def test_stall_warning_after_validation_without_training() -> None:
    snap = _snapshot(
        "InProgress", {"validationDetails": "Completed", "trainingDetails": "NotStarted"}
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    early = JobWatcher(lambda: snap, now=lambda: start + timedelta(hours=1), stall_after=6 * 3600)
    assert early.poll_once().stalled_for is None
    late = JobWatcher(lambda: snap, now=lambda: start + timedelta(hours=7), stall_after=6 * 3600)
    assert late.poll_once().stalled_for == 7 * 3600


def test_metrics_are_found_by_listing_not_by_path(context: AwsContext) -> None:
    s3 = boto3.client("s3", region_name="us-east-1")
    arn = JOB_ARN
    folder = "runs/r1/output/model-customization-job-abcdef123456/"
    s3.put_object(
        Bucket="data-bucket",
        Key=folder + "training_artifacts/step_wise_training_metrics.csv",
        Body=b"step_number,epoch_number,training_loss,perplexity\n0,0,2.5,12.1\n1,0,2.0,7.4\nbroken\n",
    )
    s3.put_object(
        Bucket="data-bucket",
        Key=folder
        + "validation_artifacts/post_fine_tuning_validation/validation/validation_metrics.csv",
        Body=b"step_number,epoch_number,validation_loss,perplexity\n1,0,2.2,9.0\n",
    )
    files = find_metric_files(context, "s3://data-bucket/runs/r1/output", arn)
    assert files.training_key and files.training_key.endswith("step_wise_training_metrics.csv")
    assert files.validation_key and "validation_metrics.csv" in files.validation_key
    metrics = read_metrics(context, files)
    assert [p.loss for p in metrics.training] == [2.5, 2.0]
    assert metrics.validation[0].loss == 2.2 and metrics.validation[0].perplexity == 9.0


def test_metrics_parse_tolerates_partial_files() -> None:
    assert parse_metrics("step_number,epoch_number,training_loss\n3,1,0.5\n4,1,") == (
        parse_metrics("step_number,epoch_number,training_loss\n3,1,0.5\n")
    )


@pytest.mark.parametrize(
    ("message", "needle"),
    [
        (
            "Could not validate GetObject permissions to access Amazon S3 bucket: b at key t",
            "s3:GetObject",
        ),
        (
            "Unable to parse Amazon S3 file: train.jsonl. Data files must conform to JSONL format.",
            "JSONL",
        ),
        ("Maximum input token count 4919 exceeds limit of 4096", "longer"),
        ("Could not assume provided IAM role. Check the trust policy.", "trust policy"),
        ("Encountered an internal error when processing the request.", "service side"),
    ],
)
def test_known_failures_are_explained(message: str, needle: str) -> None:
    explanation = explain_failure(message)
    assert explanation is not None and needle in explanation.cause
    assert explanation.fix


def test_unknown_failures_are_not_guessed() -> None:
    assert explain_failure("Something new went wrong") is None
    assert explain_failure(None) is None
