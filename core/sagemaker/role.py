"""The SageMaker execution role's inline policy, least privilege: read the run folders' data,
write the run folders' output (the model, checkpoints), write the training job's logs, and use
the KMS key when there is one. Its trust (`sagemaker.amazonaws.com` for this account, with
`aws:SourceAccount`) is `core.infra.policies.trust_policy(..., "sagemaker")`; `core.infra.plan`
plans and applies it with `purpose="sagemaker"`.

⚠ Not granted, on purpose: ECR pulls (SageMaker pulls its own Deep Learning Containers) and
`cloudwatch:PutMetricData` (the metrics come from the logs). A job refused for one of them says
which action it lacked; add it then.
"""

from __future__ import annotations

from typing import Any

from core.aws import partition_of

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
"""Where SageMaker writes training job logs (one stream per instance: `<job>/algo-1-<time>`)."""
ENDPOINT_LOG_GROUP = "/aws/sagemaker/Endpoints"
"""Where an endpoint's containers log (`/aws/sagemaker/Endpoints/<endpoint>`)."""


def execution_policy(
    bucket: str, prefix: str, region: str, account_id: str, kms_key_arn: str | None = None
) -> dict[str, Any]:
    """The execution role's inline policy (no `*` resource)."""
    partition = partition_of(region)
    bucket_arn = f"arn:{partition}:s3:::{bucket}"
    logs = f"arn:{partition}:logs:{region}:{account_id}:log-group:{LOG_GROUP}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadTrainingData",
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [f"{bucket_arn}/{prefix}/*/data/*"],
        },
        {
            "Sid": "WriteModelAndCheckpoints",
            "Effect": "Allow",
            "Action": ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": [f"{bucket_arn}/{prefix}/*/output/*"],
        },
        {
            "Sid": "ListRunFolders",
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [bucket_arn],
            "Condition": {"StringLike": {"s3:prefix": [f"{prefix}/*"]}},
        },
        {
            "Sid": "WriteTrainingLogs",
            "Effect": "Allow",
            "Action": [
                "logs:CreateLogGroup",
                "logs:CreateLogStream",
                "logs:PutLogEvents",
                "logs:DescribeLogStreams",
            ],
            "Resource": [logs, f"{logs}:log-stream:*"],
        },
    ]
    endpoint_logs = f"arn:{partition}:logs:{region}:{account_id}:log-group:{ENDPOINT_LOG_GROUP}"
    statements.append(
        {
            # A real-time endpoint's containers log with the same role (the endpoint step).
            "Sid": "WriteEndpointLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [f"{endpoint_logs}/*", f"{endpoint_logs}/*:log-stream:*"],
        }
    )
    if kms_key_arn:
        statements.append(
            {
                "Sid": "UseDataKey",
                "Effect": "Allow",
                "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
                "Resource": [kms_key_arn],
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}
