"""The loss curves a job writes: found by listing its output prefix, parsed from CSV.

Bedrock writes `step_wise_training_metrics.csv` and `validation_metrics.csv` under
`<output>/model-customization-job-<jobId>/`; the validation file's folder differs between the
docs and the AWS notebooks (reference/bedrock.md §4.4), so we list the prefix and pick files by
name rather than by path. The files appear only once training runs (or at the end).
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from core.aws import AwsContext
from core.errors import aws_call
from core.jobs.customization import job_id_of

TRAINING_FILE = "step_wise_training_metrics.csv"
VALIDATION_FILE = "validation_metrics.csv"


@dataclass(frozen=True)
class MetricPoint:
    """One row of a metrics file."""

    step: int
    epoch: int
    loss: float
    perplexity: float | None


@dataclass(frozen=True)
class MetricFiles:
    """Where the job's metrics files are (None until they exist)."""

    training_key: str | None
    validation_key: str | None
    bucket: str


@dataclass(frozen=True)
class Metrics:
    """The loss curves read so far."""

    training: tuple[MetricPoint, ...] = ()
    validation: tuple[MetricPoint, ...] = ()


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> (`bucket`, `some/prefix/`)."""
    rest = uri.removeprefix("s3://")
    bucket, _, prefix = rest.partition("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return bucket, prefix


def find_metric_files(context: AwsContext, output_uri: str, job_arn: str) -> MetricFiles:
    """List the job's output folder and find its metrics files by name."""
    bucket, prefix = split_s3_uri(output_uri)
    folder = f"{prefix}model-customization-job-{job_id_of(job_arn)}/"
    training: str | None = None
    validation: str | None = None
    client = context.client("s3")
    with aws_call(f"listing the job's output in s3://{bucket}/{folder}"):
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=folder):
            for item in page.get("Contents", []):
                key = str(item["Key"])
                name = key.rsplit("/", 1)[-1]
                if name == TRAINING_FILE:
                    training = key
                elif name == VALIDATION_FILE:
                    validation = key
    return MetricFiles(training, validation, bucket)


def parse_metrics(text: str) -> tuple[MetricPoint, ...]:
    """Parse a metrics CSV (`step_number, epoch_number, training_loss|validation_loss,
    perplexity`); rows that do not parse are skipped (a file may be read while being written).

    Non-finite numbers (`nan`, `inf`: a diverged run) are not numbers a chart or JSON can hold:
    a row with one as step, epoch or loss is skipped, a non-finite perplexity becomes None.
    """
    points: list[MetricPoint] = []
    for row in csv.DictReader(io.StringIO(text)):
        loss_text = row.get("training_loss") or row.get("validation_loss")
        try:
            numbers = [
                float(row.get("step_number") or "0"),
                float(row.get("epoch_number") or "0"),
                float(loss_text or ""),
            ]
        except ValueError:
            continue
        if not all(math.isfinite(n) for n in numbers):
            continue
        step, epoch, loss = int(numbers[0]), int(numbers[1]), numbers[2]
        perplexity_text = row.get("perplexity")
        try:
            perplexity = float(perplexity_text) if perplexity_text else None
        except ValueError:
            perplexity = None
        if perplexity is not None and not math.isfinite(perplexity):
            perplexity = None
        points.append(MetricPoint(step, epoch, loss, perplexity))
    return tuple(points)


def read_metrics(context: AwsContext, files: MetricFiles) -> Metrics:
    """Download and parse whichever metrics files exist."""
    client = context.client("s3")

    def read(key: str | None) -> tuple[MetricPoint, ...]:
        if key is None:
            return ()
        with aws_call(f"reading s3://{files.bucket}/{key}"):
            body = client.get_object(Bucket=files.bucket, Key=key)["Body"].read()
        return parse_metrics(body.decode("utf-8", errors="replace"))

    return Metrics(read(files.training_key), read(files.validation_key))
