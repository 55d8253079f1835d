"""A change of place or base model resets exactly what no longer holds, and a run that launched
something moves on as a new run."""

from __future__ import annotations

from dataclasses import fields, replace

from core.catalog.lookup import find_model
from core.run import Route, Run
from core.run.changes import RunChange, change_model, change_place
from core.run.status import holds_sandbox_world, still_going
from core.statuses import CustomizationType, JobStatus, ServingKind, ServingStatus

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
LLAMA_32 = "meta.llama3-2-1b-instruct-v1:0:128k"  # us-west-2, conversation format
LLAMA_31 = "meta.llama3-1-8b-instruct-v1:0:128k"  # us-west-2, prompt-completion format
TITAN = "amazon.titan-text-express-v1:0:8k"  # us-east-1 and us-west-2
NOVA = "amazon.nova-micro-v1:0:128k"
ACCOUNT = "111122223333"
WEST_BUCKET = "bedrock-tune-111122223333-us-west-2"


def west_run(model: str = HAIKU, **changes: object) -> Run:
    """A run in us-west-2 that went as far as the launch step."""
    run = Run(
        run_id="west01",
        target="aws",
        profile="work",
        region="us-west-2",
        account_id=ACCOUNT,
        principal_arn=f"arn:aws:iam::{ACCOUNT}:user/me",
        base_model_id=model,
        source_location="data.jsonl",
        template_toml='name = "t"\n',
        prepared_dir="/data/prepared",
        train_size=500,
        validation_size=50,
        test_size=50,
        validated_ok=True,
        validated_dir="/data/prepared",
        bucket=WEST_BUCKET,
        s3_prefix="bedrock-tune",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-role",
        training_uri=f"s3://{WEST_BUCKET}/bedrock-tune/west01/data/train.jsonl",
        validation_uri=f"s3://{WEST_BUCKET}/bedrock-tune/west01/data/validation.jsonl",
        output_uri=f"s3://{WEST_BUCKET}/bedrock-tune/west01/output/",
        job_name="bt-haiku-job",
        custom_model_name="bt-haiku-model",
        hyperparameters={"epochCount": "2"},
        subnet_ids=("subnet-1",),
    )
    return replace(run, **changes)  # type: ignore[arg-type]


def to_east(run: Run, **place: object) -> RunChange:
    values: dict[str, object] = {
        "target": "aws",
        "profile": "work",
        "region": "us-east-1",
        "endpoint_url": None,
        "sandbox_id": None,
        "account_id": ACCOUNT,
        "principal_arn": f"arn:aws:iam::{ACCOUNT}:user/me",
    }
    values.update(place)
    return change_place(run, **values)  # type: ignore[arg-type]


def strings(run: Run) -> str:
    return " ".join(str(getattr(run, f.name)) for f in fields(run))


def test_a_run_without_a_place_takes_one_without_resetting_anything() -> None:
    change = to_east(Run(base_model_id=NOVA))
    assert not change.asks and change.resets == ()
    assert (change.after.region, change.after.base_model_id) == ("us-east-1", NOVA)


def test_the_same_place_with_another_profile_resets_nothing() -> None:
    run = west_run()
    change = to_east(run, region="us-west-2", profile="other")
    assert not change.asks
    assert change.after == replace(run, profile="other")


def test_moving_a_haiku_run_to_us_east_1_leaves_nothing_of_us_west_2() -> None:
    change = to_east(west_run())
    assert change.asks and not change.needs_new_run
    assert change.what == "the region from us-west-2 to us-east-1"
    assert change.reset_step_ids == ("model", "prepare", "validate", "infrastructure", "launch")
    after = change.after
    assert "us-west-2" not in strings(after)
    assert after.region == "us-east-1" and after.run_id == "west01"
    assert after.base_model_id is None  # Haiku is not customized in us-east-1
    assert (after.bucket, after.role_arn, after.training_uri, after.output_uri) == (None,) * 4
    assert (after.job_name, after.subnet_ids, after.prepared_dir) == (None, (), None)
    # The local choices that do not depend on the place stay.
    assert (after.source_location, after.template_toml) == ("data.jsonl", 'name = "t"\n')
    details = {r.step_id: r.detail for r in change.resets}
    assert details["model"] == "Claude 3 Haiku is not customized in us-east-1"
    assert WEST_BUCKET in details["infrastructure"]
    assert "uploaded files" in details["infrastructure"]
    assert "VPC" in details["launch"]


def test_a_model_offered_in_both_regions_is_kept_with_its_prepared_files() -> None:
    change = to_east(west_run(TITAN))
    assert change.reset_step_ids == ("infrastructure", "launch")
    assert change.after.base_model_id == TITAN
    assert change.after.prepared_dir == "/data/prepared" and change.after.validated_ok
    assert change.after.hyperparameters == {"epochCount": "2"}  # the model's, still right


def test_another_account_or_sandbox_is_another_place() -> None:
    assert to_east(west_run(TITAN), region="us-west-2", account_id="999988887777").asks
    sandbox = west_run(TITAN, target="sandbox", endpoint_url="http://127.0.0.1:5", sandbox_id="a")
    again = to_east(
        sandbox, region="us-west-2", target="sandbox", endpoint_url="http://127.0.0.1:5"
    )
    assert again.asks  # the same address, but another sandbox (sandbox_id None != "a")
    same = to_east(
        sandbox,
        region="us-west-2",
        target="sandbox",
        endpoint_url="http://127.0.0.1:5",
        sandbox_id="a",
    )
    assert not same.asks


def test_a_launched_run_moves_on_as_a_new_run() -> None:
    run = west_run(job_arn="arn:aws:bedrock:us-west-2:1:model-customization-job/x")
    change = to_east(run)
    assert change.needs_new_run and change.asks
    fresh = change.fresh
    assert fresh.run_id is None and fresh.job_arn is None and fresh.region == "us-east-1"
    assert "us-west-2" not in strings(fresh)
    assert fresh.source_location == "data.jsonl"
    # Only a token (the launch was on its way) is a launch too.
    assert to_east(west_run(client_request_token="t")).needs_new_run


def test_the_first_model_or_the_same_one_resets_nothing() -> None:
    nova = find_model(NOVA)
    first = change_model(Run(), nova, CustomizationType.FINE_TUNING, Route.BEDROCK_CUSTOMIZATION)
    assert not first.asks and first.after.base_model_id == NOVA
    run = west_run(LLAMA_32)
    same = change_model(
        run, find_model(LLAMA_32), CustomizationType.FINE_TUNING, Route.BEDROCK_CUSTOMIZATION
    )
    assert not same.asks and same.after == run


def test_another_model_of_the_same_format_resets_the_verdict_and_the_launch() -> None:
    run = west_run(LLAMA_32)
    change = change_model(
        run,
        find_model("meta.llama3-2-3b-instruct-v1:0:128k"),
        CustomizationType.FINE_TUNING,
        Route.BEDROCK_CUSTOMIZATION,
    )
    assert change.reset_step_ids == ("validate", "launch")
    after = change.after
    assert after.prepared_dir == "/data/prepared" and after.training_uri == run.training_uri
    assert (after.validated_ok, after.hyperparameters, after.job_name) == (None, {}, None)
    assert after.subnet_ids == ("subnet-1",)  # the place's, still right


def test_another_format_resets_the_prepared_and_uploaded_files() -> None:
    run = west_run(LLAMA_32)
    change = change_model(
        run, find_model(LLAMA_31), CustomizationType.FINE_TUNING, Route.BEDROCK_CUSTOMIZATION
    )
    assert change.reset_step_ids == ("prepare", "validate", "infrastructure", "launch")
    after = change.after
    assert (after.prepared_dir, after.train_size, after.training_uri) == (None, None, None)
    assert after.bucket == WEST_BUCKET and after.role_arn == run.role_arn  # still good
    assert {r.step_id: r.detail for r in change.resets}["prepare"] == (
        "the files in /data/prepared are in bedrock-conversation-2024; Llama 3.1 8B Instruct "
        "needs prompt-completion"
    )


def test_changing_the_model_of_a_launched_run_needs_a_new_run() -> None:
    run = west_run(LLAMA_32, job_arn="arn:aws:bedrock:us-west-2:1:model-customization-job/x")
    change = change_model(
        run, find_model(LLAMA_31), CustomizationType.FINE_TUNING, Route.BEDROCK_CUSTOMIZATION
    )
    assert change.needs_new_run
    assert change.fresh.base_model_id == LLAMA_31 and change.fresh.job_arn is None


def test_what_keeps_going_after_quitting() -> None:
    assert still_going(west_run()) == []
    training = west_run(job_arn="arn:job", job_status=JobStatus.IN_PROGRESS)
    assert still_going(training) == [
        "The customization job bt-haiku-job (InProgress) keeps running in AWS (us-west-2)."
    ]
    sandboxed = replace(training, target="sandbox", route=Route.IMPORT_ONLY)
    assert still_going(sandboxed) == [
        "The model import job bt-haiku-job (InProgress) keeps running in the sandbox, which "
        "keeps running in the background."
    ]
    serving = west_run(
        job_arn="arn:job",
        job_status=JobStatus.COMPLETED,
        serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
        serving_arn="arn:dep",
        serving_status=ServingStatus.CREATING,
    )
    assert still_going(serving) == [
        "The custom model deployment keeps being created in AWS (us-west-2)."
    ]


def test_what_a_sandbox_stays_up_for() -> None:
    assert not holds_sandbox_world(west_run())
    assert holds_sandbox_world(west_run(job_arn="arn:job"))
    done = west_run(job_arn="arn:job", job_status=JobStatus.COMPLETED)
    assert holds_sandbox_world(replace(done, custom_model_arn="arn:model"))
    assert not holds_sandbox_world(done)
