"""The SageMaker operations the sandbox answers, registered in the one table
(`core.sandbox.emulations.EMULATIONS`); the state lives in `core/sandbox/training.py`.
SageMaker speaks JSON over `POST /`, the operation named by the `X-Amz-Target` header."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from core.sandbox.table import PassThrough, Reply, SandboxRequest, emulates, json_error

if TYPE_CHECKING:
    from core.sandbox.table import Sandbox

SERVERLESS_STAND_IN: dict[str, Any] = {
    "AlgorithmSpecification": {
        "TrainingImage": "sandbox/serverless-model-customization",
        "TrainingInputMode": "File",
    },
    "ResourceConfig": {"InstanceCount": 1, "InstanceType": "ml.g5.12xlarge", "VolumeSizeInGB": 1},
}
"""What moto is given for a serverless job (it needs an algorithm and resources to store one)."""


@emulates(
    "sagemaker",
    "POST",
    r"/",
    "Create/Describe/List/StopTrainingJob: training jobs play out (moto completes them at once), "
    "a stop goes Stopping, then Stopped",
)
def _training(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough | None:
    from core.sandbox.training import parse_body

    operation = request.target.rpartition(".")[2]
    if operation == "CreateTrainingJob":
        from core.sandbox.training_faults import quota_refusal

        body = parse_body(request.body)
        refused = quota_refusal(body)
        if refused is not None:  # SageMaker refuses before creating anything
            return json_error("ResourceLimitExceeded", refused)

        def started(answer: dict[str, Any]) -> dict[str, Any]:
            sandbox.training.job_created(sandbox.account_id, request.region, body)
            return answer

        reshaped = None
        if "ServerlessJobConfig" in body and "AlgorithmSpecification" not in body:
            # moto cannot store a job without an algorithm (serverless jobs have none): it gets
            # a stand-in one; DescribeTrainingJob still answers as the job is.
            reshaped = json.dumps({**body, **SERVERLESS_STAND_IN}).encode()
        return PassThrough(after=started, body=reshaped)
    if operation == "DescribeTrainingJob":

        def decorate(answer: dict[str, Any]) -> dict[str, Any]:
            return sandbox.training.decorate(sandbox.account_id, request.region, answer)

        return PassThrough(after=decorate)
    if operation == "ListTrainingJobs":
        # moto filters by its own status (Completed at once): it lists every job, and the
        # played-out status filters them (teardown finds Stopping jobs this way).
        asked = parse_body(request.body)
        wanted = asked.pop("StatusEquals", None)

        def played_out(answer: dict[str, Any]) -> dict[str, Any]:
            return sandbox.training.listed(sandbox.account_id, request.region, answer, wanted)

        return PassThrough(after=played_out, body=json.dumps(asked).encode())
    if operation == "StopTrainingJob":  # moto does not implement it
        name = str(parse_body(request.body).get("TrainingJobName", ""))
        refused = sandbox.training.stop(sandbox.account_id, request.region, name)
        if refused:
            return json_error("ValidationException", refused)
        return Reply(200, {})
    return None
