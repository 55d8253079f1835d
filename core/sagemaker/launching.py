"""Starting a SageMaker job once, for the CLI and the TUI alike.

Neither CreateAutoMLJobV2 nor CreateTrainingJob takes a client token. What makes a retry safe is
the order the callers keep: the run, with the job's name, is saved before the call; the job
carries the run's id as a tag (`bedrock-tune:run`). Starting again finds the job of that name:
this run's is re-attached, another's (or one bedrock-tune did not make) is left alone with a
clear error, and nothing is created twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.aws import AwsContext
from core.errors import ConflictError, NotFoundError, ValidationError, aws_call
from core.ownership import RUN_TAG
from core.sagemaker.autopilot import AutopilotRequest, find_autopilot_job
from core.sagemaker.autopilot_data import write_autopilot_csv
from core.sagemaker.watch import describe_training_job

AUTOPILOT_CSV = "autopilot-train.csv"
"""The CSV's name beside the run's prepared JSONL in S3."""


def _owner(context: AwsContext, arn: str) -> str | None:
    with aws_call("reading the job's tags"):
        tags = context.client("sagemaker").list_tags(ResourceArn=arn).get("Tags", [])
    return {t.get("Key"): t.get("Value") for t in tags}.get(RUN_TAG)


def _claim(context: AwsContext, kind: str, name: str, arn: str, run_id: str) -> None:
    owner = _owner(context, arn)
    if owner != run_id:
        raise ConflictError(
            f"The {kind} name '{name}' is taken by "
            + (f"bedrock-tune run {owner}." if owner else "a job bedrock-tune did not launch."),
            hint="Choose another name; the other job is left alone.",
        )


def start_autopilot(
    context: AwsContext, request: AutopilotRequest, run_id: str
) -> tuple[str, bool]:
    """(the job's ARN, whether it existed already): create the Autopilot job unless this run
    made it before (the run must be saved first)."""
    found = find_autopilot_job(context, request.job_name)
    if found is not None:
        _claim(context, "Autopilot job", request.job_name, found.arn, run_id)
        return found.arn, True
    with aws_call(f"creating the Autopilot job {request.job_name}"):
        answer = context.client("sagemaker").create_auto_ml_job_v2(**request.to_api())
    return str(answer["AutoMLJobArn"]), False


def start_training_job(context: AwsContext, api: dict[str, Any], run_id: str) -> tuple[str, bool]:
    """(the job's ARN, whether it existed already): CreateTrainingJob with `api` unless this run
    made the job of that name before (the run must be saved first)."""
    name = str(api["TrainingJobName"])
    try:
        found = describe_training_job(context, name)
    except (NotFoundError, ValidationError):  # SageMaker says ValidationException for no job
        found = None
    if found is not None:
        _claim(context, "training job", name, found.arn, run_id)
        return found.arn, True
    with aws_call(f"creating the training job {name}"):
        answer = context.client("sagemaker").create_training_job(**api)
    return str(answer["TrainingJobArn"]), False


def upload_autopilot_csv(
    context: AwsContext, prepared_jsonl: Path, data_uri: str, scratch: Path
) -> tuple[str, int]:
    """Write Autopilot's CSV from the prepared training records and put it beside them in S3
    (`<data_uri folder>/autopilot-train.csv`); its URI and row count."""
    folder = data_uri if data_uri.endswith("/") else data_uri.rsplit("/", 1)[0] + "/"
    uri = folder + AUTOPILOT_CSV
    local = scratch / AUTOPILOT_CSV
    rows = write_autopilot_csv(prepared_jsonl, local)
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    with aws_call(f"uploading the Autopilot CSV to {uri}"):
        context.client("s3").put_object(Bucket=bucket, Key=key, Body=local.read_bytes())
    return uri, rows
