"""A SageMaker job that still runs, which the user keeps, writing into a run folder or bucket the
user chose to delete: teardown does not wait for a running job, so the user is told before
deciding (`running_writers`) that the job will fail when it saves its output and bills until
then. A job that is chosen (stopped, then waited for) or already Stopping (waited for) is not
named, nor is one that writes elsewhere."""

from __future__ import annotations

from dataclasses import replace

from core.aws import AwsContext
from core.sagemaker import kinds
from core.teardown.delete import default_choice, inventory
from core.teardown.stopping import running_writer_warning, running_writers
from tests.core.test_teardown_stop_registry import JOB, launched_only
from tests.fakes import Clock


def test_a_kept_running_job_is_named_for_each_chosen_place_it_writes_into(
    sandbox_context: AwsContext, clock: Clock
) -> None:
    registry = launched_only(context := sandbox_context, clock)
    items = inventory(context, registry)
    job = next(i for i in items if i.kind == kinds.TRAINING_JOB)
    assert (job.identifier, job.status) == (JOB, "InProgress")
    assert job.output.startswith("s3://bt-td/r/")
    s3 = [i for i in default_choice(items) if i.kind != kinds.TRAINING_JOB]
    assert {i.kind for i in s3} == {"s3-prefix", "s3-bucket"}

    warned = running_writers(items, s3)
    assert sorted((j.identifier, t.kind) for j, t in warned) == [
        (JOB, "s3-bucket"),
        (JOB, "s3-prefix"),
    ]
    text = running_writer_warning(*warned[0])
    assert job.label in text and "still running" in text and "bills until then" in text
    assert "Stop the job too" in text

    assert running_writers(items, [*s3, job]) == []  # chosen: stopped, then waited for
    assert running_writers([replace(job, status="Stopping")], s3) == []  # waited for
    assert running_writers([replace(job, status="Completed")], s3) == []  # writes nothing more
    elsewhere = replace(job, output="s3://another-bucket/out/")
    assert running_writers([elsewhere], s3) == []
    bucket_only = [i for i in s3 if i.kind == "s3-bucket"]
    assert [t.kind for _, t in running_writers(items, bucket_only)] == ["s3-bucket"]
