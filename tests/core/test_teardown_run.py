"""After teardown the run forgets what was deleted, so no step stays ticked on something gone."""

from __future__ import annotations

from core.run import Run
from core.run.routes import step
from core.teardown.items import BUCKET, PREFIX, ROLE, TeardownItem, run_without

ROLE_ARN = "arn:aws:iam::123456789012:role/bt-role"
RUN = Run(
    run_id="run1",
    region="us-east-1",
    account_id="123456789012",
    base_model_id="amazon.nova-micro-v1:0:128k",
    prepared_dir="/p",
    bucket="bt-data",
    role_arn=ROLE_ARN,
    training_uri="s3://bt-data/bedrock-tune/run1/data/train.jsonl",
    validation_uri="s3://bt-data/bedrock-tune/run1/data/validation.jsonl",
    output_uri="s3://bt-data/bedrock-tune/run1/output/",
    test_uri="s3://elsewhere/test.jsonl",
)


def item(kind: str, identifier: str) -> TeardownItem:
    return TeardownItem(kind, identifier, "us-east-1", identifier, "delete", "Deletes it.")


def infrastructure_done(run: Run) -> bool:
    return step("infrastructure").done(run)


def test_deleting_the_run_folder_forgets_the_uploads_and_unticks_infrastructure() -> None:
    assert infrastructure_done(RUN)
    after = run_without(item(PREFIX, "s3://bt-data/bedrock-tune/run1/"), RUN)
    assert (after.training_uri, after.validation_uri, after.output_uri) == (None, None, None)
    assert after.test_uri == RUN.test_uri  # not in that folder
    assert after.bucket == "bt-data" and after.role_arn == ROLE_ARN
    assert not infrastructure_done(after)


def test_deleting_the_bucket_forgets_it_and_everything_in_it() -> None:
    after = run_without(item(BUCKET, "bt-data"), RUN)
    assert after.bucket is None and after.training_uri is None and after.output_uri is None
    assert after.test_uri == RUN.test_uri
    assert not infrastructure_done(after)
    assert run_without(item(BUCKET, "bt-data-2"), RUN) == RUN  # another bucket: nothing


def test_deleting_the_role_forgets_it() -> None:
    assert run_without(item(ROLE, "bt-role"), RUN).role_arn is None
    assert run_without(item(ROLE, "other-role"), RUN) == RUN
