"""What an export does, described once for every format: the parameters and the calls.

`export_plan(run)` reads a run (from the registry, or filled from a recipe) and returns the
parameters a script takes and the steps it makes, with every request built by the same functions
the app calls (`core.infra.policies` for the bucket's settings and the role's documents,
`core.jobs.launching.job_request` for the job, `core.serving.deploy` for serving). The boto3, AWS
CLI, IAM and CloudFormation renderers only turn this description into text, so they cannot drift
from one another or from the app.

Values that differ between accounts or between two runs of a script are parameters, written into
requests as `{name}` placeholders: the account id (asked of STS when the script runs), the
partition, the bucket and role names, the job and custom model names, the client request tokens.
Names and tokens get fresh defaults each time a script runs, so running it twice makes a second
job instead of re-attaching to the first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from core.aws import partition_of
from core.catalog.lookup import find_model
from core.data.prepared import TEST_FILE, TRAIN_FILE, VALIDATION_FILE
from core.errors import BedrockTuneError
from core.export.types import (
    Call,
    ExportError,
    ExportPlan,
    Infrastructure,
    JsonText,
    Param,
    Pause,
    Step,
    Upload,
    WaitForJob,
)
from core.infra.policies import (
    DEFAULT_PREFIX,
    POLICY_NAME,
    PUBLIC_ACCESS_BLOCK,
    default_bucket_name,
    default_role_name,
    encryption_rule,
    merge_statement,
    normalize_prefix,
    permissions_policy,
    role_description,
    teacher_arns_for,
    tls_statement,
    trust_policy,
)
from core.jobs.launching import job_request
from core.naming import MAX_NAME, PREFIX, model_stem
from core.ownership import CREATOR_TAG, MANAGED_TAG
from core.run.types import Route, Run
from core.serving.deploy import deployment_request, throughput_request
from core.statuses import CustomizationType, ServingKind
from core.upload import RunLocation

__all__ = ["ExportError", "ExportPlan", "export_plan"]


def _partitioned(value: Any) -> Any:
    """`value` with every ARN's partition made the `{partition}` parameter.

    The policy functions derive the partition from the region; called with the `{region}`
    placeholder they give `aws`, which is put back as a parameter here."""
    if isinstance(value, str):
        return (
            "arn:{partition}:" + value[len("arn:aws:") :] if value.startswith("arn:aws:") else value
        )
    if isinstance(value, dict):
        return {k: _partitioned(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_partitioned(v) for v in value]
    return value


def _portable(text: str, run: Run) -> str:
    """`text` with the run's account id and region made parameters (as recipes do)."""
    if run.account_id:
        text = text.replace(run.account_id, "{account_id}")
    if run.region:
        text = text.replace(run.region, "{region}")
    return text


def _check(run: Run) -> tuple[str, str]:
    """The run's base model and region, or ExportError saying what is missing."""
    if run.route is not Route.BEDROCK_CUSTOMIZATION:
        raise ExportError(
            f"Export covers runs that customize a model on Bedrock; this run's route is "
            f"'{run.route.label}'.",
            hint="Export a run or recipe of the route 'Customize on Bedrock'.",
        )
    if not run.base_model_id:
        raise ExportError(
            "The run has no base model yet, so there is no job to export.",
            hint="Choose the model first (the model step, or [model] base_model_id in a recipe).",
        )
    if run.subnet_ids or run.security_group_ids:
        raise ExportError(
            "The run's job ran in a VPC; its subnets and security groups belong to one account "
            "and are not exported.",
            hint="Export a run without a VPC, then add vpcConfig to the job request by hand.",
        )
    region = run.region
    if region is None:
        try:
            model = find_model(run.base_model_id)
        except BedrockTuneError:
            model = None
        if model is None or not model.regions:
            raise ExportError(
                f"The run has no region, and bedrock-tune does not know where "
                f"'{run.base_model_id}' can be customized.",
                hint="Set the region (the credentials step, or [infrastructure] region).",
            )
        region = model.regions[0]
    return run.base_model_id, region


def export_plan(run: Run, *, title: str = "") -> ExportPlan:
    """The parameters and steps that do what `run` did (see the module docstring).

    Raises:
        ExportError: the run is not a Bedrock customization run with a base model, or it used
            a VPC.
    """
    base_model_id, region = _check(run)
    shown_model = _portable(base_model_id, run)
    prefix = normalize_prefix(run.s3_prefix or DEFAULT_PREFIX)
    # The run's names, with its account and region made parameters; bedrock-tune's defaults
    # (the same functions, given the placeholders) when the run has none yet.
    bucket_default = (
        _portable(run.bucket, run)
        if run.bucket
        else default_bucket_name("{account_id}", "{region}")
    )
    role_default = (
        _portable(run.role_arn.rsplit("/", 1)[-1], run)
        if run.role_arn
        else default_role_name("{region}")
    )
    stem = model_stem(base_model_id)[: MAX_NAME - len(PREFIX) - len("-20260101-120000-abcdef")]
    kms = bool(run.kms_key_id)
    distilling = run.customization_type is CustomizationType.DISTILLATION
    params = [
        Param(
            "region",
            "the region the job runs in (the base model must be customizable there)",
            default=region,
        ),
        Param(
            "account_id",
            "the account the credentials belong to, asked of STS: it goes into the bucket name, "
            "the role's trust policy and ARNs, so no account id is written in this file",
            "account",
        ),
        Param(
            "created_by",
            "the identity running the script, asked of STS, as a tag value: the bucket, role, "
            "job and model are tagged with it, as the app tags what it makes",
            "caller",
        ),
        Param(
            "partition", "the ARN partition of the region (aws, aws-cn, aws-us-gov)", "partition"
        ),
        Param("stamp", "the time the script started (UTC), for fresh names", "stamp"),
        Param(
            "suffix", "random hex, so two runs in the same second differ", "random", random_bytes=3
        ),
        Param(
            "data_dir",
            "the folder holding the prepared files (bedrock-tune prepare)",
            default=".",
            path=True,
        ),
        Param("bucket", "the S3 bucket (made when missing)", default=bucket_default),
        Param(
            "role_name", "the IAM role Bedrock assumes (made when missing)", default=role_default
        ),
        Param(
            "role_arn",
            "the role's ARN",
            "derived",
            default="arn:{partition}:iam::{account_id}:role/{role_name}",
        ),
        Param(
            "job_name",
            "the customization job's name (fresh each run)",
            default=f"{PREFIX}{stem}-{{stamp}}-{{suffix}}",
        ),
        Param("custom_model_name", "the custom model's name", default="{job_name}-model"),
        Param(
            "run_folder",
            "the run's folder under the prefix: data/ and output/ go there",
            default="{job_name}",
        ),
        Param(
            "client_request_token", "the job's idempotency token (fresh each run)", random_bytes=16
        ),
        Param(
            "role_wait_seconds",
            "seconds to wait after making the role, for IAM to show it to Bedrock",
            default="10",
            seconds=True,
        ),
    ]
    if kms:
        params.append(
            Param(
                "kms_key_arn",
                "the KMS key the run encrypted with, in this account (the run's "
                "key is not exported)",
            )
        )
    if run.serving_kind is not None:
        params += [
            Param(
                "serve",
                f"also serve the model by a {run.serving_kind.label} once the job "
                "completes (billed)",
                "flag",
            ),
            Param(
                "poll_seconds",
                "seconds between job status checks while waiting to serve",
                default="60",
                seconds=True,
            ),
            Param(
                "serving_name", "the name of what serves the model", default="{custom_model_name}"
            ),
            Param(
                "serving_token",
                "the serving request's idempotency token (fresh each run)",
                random_bytes=16,
            ),
        ]
    kms_arn = "{kms_key_arn}" if kms else None
    location = RunLocation("{bucket}", prefix, "{run_folder}")
    files = [TRAIN_FILE]
    if run.validation_uri or run.validation_size:
        files.append(VALIDATION_FILE)
    if run.test_uri or run.test_size:
        files.append(TEST_FILE)
    teachers = (
        teacher_arns_for(run.teacher_model_id, "{account_id}", "{region}")
        if distilling and run.teacher_model_id
        else []
    )
    assert partition_of("{region}") == "aws"  # what `_partitioned` turns into {partition}
    infrastructure = Infrastructure(
        public_access_block=dict(PUBLIC_ACCESS_BLOCK),
        encryption=_partitioned(dict(encryption_rule(kms_arn))),
        bucket_policy=_partitioned(merge_statement(None, tls_statement("{bucket}", "{region}"))),
        trust_policy=_partitioned(trust_policy("{account_id}", "{region}")),
        permissions_policy=_partitioned(
            permissions_policy("{bucket}", prefix, "{region}", kms_arn, teachers)
        ),
        policy_name=POLICY_NAME,
        role_description=role_description("customization"),
        # The app's ownership tags but this install's id: what the script makes is not this
        # install's (it may run elsewhere), so teardown here asks before deleting it.
        tags={MANAGED_TAG[0]: MANAGED_TAG[1], CREATOR_TAG: "{created_by}"},
    )
    job_run = replace(
        run,
        run_id=None,  # no run tag: the script's job is not this run's (resume would claim it)
        job_name="{job_name}",
        custom_model_name="{custom_model_name}",
        role_arn="{role_arn}",
        training_uri=location.data_uri(TRAIN_FILE),
        validation_uri=location.data_uri(VALIDATION_FILE) if VALIDATION_FILE in files else None,
        output_uri=location.output_uri,
        client_request_token="{client_request_token}",
        kms_key_id=kms_arn,
        tags={**{k: _portable(v, run) for k, v in run.tags.items()}, CREATOR_TAG: "{created_by}"},
        # A custom model to tune further, or a teacher profile, is named by an ARN of the run's
        # account: made portable like the names.
        base_model_id=shown_model,
        teacher_model_id=_portable(run.teacher_model_id, run) if run.teacher_model_id else None,
    )
    steps = _steps(infrastructure, location, tuple(files), job_run, run.serving_kind)
    return ExportPlan(
        title=title or f"{run.customization_type.label} of {shown_model}",
        base_model_id=shown_model,
        params=tuple(params),
        steps=steps,
        files=tuple(files),
        infrastructure=infrastructure,
        serving=run.serving_kind,
    )


def _tag_set(tags: Mapping[str, str], key: str = "Key", value: str = "Value") -> list[Any]:
    return [{key: k, value: v} for k, v in tags.items()]


def _steps(
    infra: Infrastructure,
    location: RunLocation,
    files: tuple[str, ...],
    job_run: Run,
    serving: ServingKind | None,
) -> tuple[Step, ...]:
    steps: list[Step] = [
        Call(
            "s3",
            "CreateBucket",
            {"Bucket": "{bucket}"},
            "The bucket for the training data and the job's output, in the job's region "
            "(Bedrock reads data only from its own region). One you own already is reused.",
            reuse_on=("BucketAlreadyOwnedByYou",),
            created="bucket_created",
            outside_us_east_1={"CreateBucketConfiguration": {"LocationConstraint": "{region}"}},
        ),
        Call(
            "s3",
            "PutBucketTagging",
            {"Bucket": "{bucket}", "Tagging": {"TagSet": _tag_set(infra.tags)}},
            "Tag the new bucket as made by bedrock-tune (teardown finds it by this tag). A bucket "
            "that existed keeps its tags.",
            only_if="bucket_created",
        ),
        Call(
            "s3",
            "PutPublicAccessBlock",
            {"Bucket": "{bucket}", "PublicAccessBlockConfiguration": infra.public_access_block},
            "Turn Block Public Access fully on: training data is never public.",
        ),
        Call(
            "s3",
            "PutBucketEncryption",
            {
                "Bucket": "{bucket}",
                "ServerSideEncryptionConfiguration": {"Rules": [infra.encryption]},
            },
            "Default encryption of every object at rest (SSE-S3, or SSE-KMS with your key). A "
            "bucket that existed keeps its own.",
            only_if="bucket_created",
        ),
        Call(
            "s3",
            "PutBucketPolicy",
            {"Bucket": "{bucket}", "Policy": JsonText(infra.bucket_policy)},
            "Deny every request not made over TLS. A bucket that existed keeps its policy "
            "(check that it denies plain HTTP: `bedrock-tune infra plan` does).",
            only_if="bucket_created",
        ),
        Call(
            "iam",
            "CreateRole",
            {
                "RoleName": "{role_name}",
                "AssumeRolePolicyDocument": JsonText(infra.trust_policy),
                "Description": infra.role_description,
                "Tags": _tag_set(infra.tags),
            },
            "The service role Bedrock assumes to read the data and write the output. Its trust "
            "lets only this account's customization jobs in this region assume it (the confused "
            "deputy conditions). A role of that name that exists is reused as it is.",
            reuse_on=("EntityAlreadyExists",),
            created="role_created",
        ),
        Call(
            "iam",
            "PutRolePolicy",
            {
                "RoleName": "{role_name}",
                "PolicyName": infra.policy_name,
                "PolicyDocument": JsonText(infra.permissions_policy),
            },
            "The role's only permissions: read the data folders and write the output folders "
            "under the prefix (and use the KMS key when there is one). Put again on a reused role.",
        ),
        Pause(
            "role_wait_seconds",
            "A new role takes a few seconds before Bedrock is able to assume it.",
            only_if="role_created",
        ),
    ]
    for name in files:
        steps.append(
            Upload(
                name,
                location.data_key(name),
                f"Upload {name} into the run's data folder, where the role may read it; S3 checks "
                "the SHA-256 sent with it.",
            )
        )
    request = _partitioned(job_request(job_run).to_api())
    steps.append(
        Call(
            "bedrock",
            "CreateModelCustomizationJob",
            request,
            "Start the customization job with the run's base model and hyperparameters (the "
            "others take the model's defaults). The client request token makes a retry of this "
            "one call safe; a new run of the script has a new token and new names, so it makes a "
            "second job instead of re-attaching to the first.",
            result=("job_arn", "jobArn"),
            show="jobArn",
        )
    )
    if serving is not None:
        steps.append(
            WaitForJob(
                "{job_name}",
                "poll_seconds",
                "custom_model_arn",
                "Serving needs the custom model, which exists once the job has completed (an "
                "hour or more). Bedrock has no waiter for jobs, so this polls.",
                only_if="serve",
            )
        )
        if serving is ServingKind.PROVISIONED_THROUGHPUT:
            operation = "CreateProvisionedModelThroughput"
            body = throughput_request("{custom_model_arn}", "{serving_name}", "{serving_token}")
            why = (
                "Serve the model as the run did: no-commitment provisioned throughput, 1 model "
                "unit. It is billed every hour until you delete it, used or not."
            )
            shown = "provisionedModelArn"
        else:
            operation = "CreateCustomModelDeployment"
            body = deployment_request("{custom_model_arn}", "{serving_name}", "{serving_token}")
            why = "Serve the model as the run did: an on-demand deployment, billed per token."
            shown = "customModelDeploymentArn"
        steps.append(Call("bedrock", operation, body, why, only_if="serve", show=shown))
    return tuple(steps)
