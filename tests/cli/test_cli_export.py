"""`bedrock-tune export`: the boto3 and AWS CLI scripts run against a sandbox and create the job
the app would create; the CloudFormation template passes cfn-lint; the IAM documents are the ones
core/infra/policies.py builds; bad input gets a clear error and exit 2."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from core.aws import AwsContext
from core.export import export_text
from core.infra.policies import merge_statement, permissions_policy, tls_statement, trust_policy
from core.jobs.launching import job_request
from core.ownership import CREATOR_TAG, MANAGED_TAG, tag_value
from core.registry import Registry
from core.run import Run
from core.sandbox.server import Sandbox, sandbox_environment
from core.statuses import ServingKind
from tests.cli.bad_input import assert_clear, exit_code
from tests.fakes import Clock, SandboxSetup, context_for
from tui.cli.main import main

ACCOUNT = "123456789012"
MODEL = "amazon.nova-micro-v1:0:128k"
HYPERPARAMETERS = {"epochCount": "2", "learningRate": "0.00001"}
CFN_LINT = Path(sys.executable).parent / "cfn-lint"


class TickingClock(Clock):
    """A clock that moves one second each time the sandbox reads it: a job created by a script
    (another process, which cannot move the test's clock) completes after a few polls."""

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture
def clock() -> Clock:
    return TickingClock(1_000.0)


@pytest.fixture
def sandbox_setup() -> SandboxSetup:
    """A job takes a few reads of the clock; a deployment is ready at once."""
    return SandboxSetup(job_seconds=4.0, ready_seconds=0.0)


def _run(**changes: Any) -> Run:
    run = Run(
        run_id="r1",
        target="aws",
        region="us-east-1",
        account_id=ACCOUNT,
        principal_arn=f"arn:aws:iam::{ACCOUNT}:user/me",
        base_model_id=MODEL,
        train_size=2,
        validation_size=1,
        bucket=f"bedrock-tune-{ACCOUNT}-us-east-1",
        s3_prefix="bedrock-tune",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-us-east-1",
        validation_uri=f"s3://bedrock-tune-{ACCOUNT}-us-east-1/bedrock-tune/r1/data/validation.jsonl",
        hyperparameters=HYPERPARAMETERS,
        tags={"team": "search"},
        job_name="bt-old-job",
        client_request_token="0123456789abcdef",
        serving_kind=ServingKind.CUSTOM_MODEL_DEPLOYMENT,
    )
    return Run(**{**run.__dict__, **changes})


def _data(folder: Path) -> Path:
    folder.mkdir()
    line = json.dumps({"schemaVersion": "bedrock-conversation-2024", "messages": []})
    (folder / "train.jsonl").write_text(line + "\n" + line + "\n")
    (folder / "validation.jsonl").write_text(line + "\n")
    return folder


def _aws_folder() -> str:
    """The folder of the `aws` program itself (the one installed with the dev dependencies
    first): a pyenv shim in front of it costs half a second per command (the script makes a
    dozen)."""
    beside = Path(sys.executable).parent
    if (beside / "aws").exists():
        return str(beside)
    found = shutil.which("aws") or ""
    if shutil.which("pyenv") and "shims" in found:
        real = subprocess.run(["pyenv", "which", "aws"], capture_output=True, text=True)
        if real.returncode == 0 and real.stdout.strip():
            return str(Path(real.stdout.strip()).parent)
    return str(Path(found).parent)


def _environment(sandbox: Sandbox, home: Path) -> dict[str, str]:
    """What a user's shell holds after `bedrock-tune sandbox`: the endpoint and fake keys."""
    keep = {k: v for k, v in os.environ.items() if k in ("PYENV_ROOT", "LANG")}
    path = os.pathsep.join([_aws_folder(), os.environ.get("PATH", "")])
    return {**keep, "PATH": path, "HOME": str(home), **sandbox_environment(sandbox)}


def _jobs(context: AwsContext) -> list[dict[str, Any]]:
    bedrock = context.client("bedrock")
    names = [
        j["jobName"]
        for j in bedrock.list_model_customization_jobs()["modelCustomizationJobSummaries"]
    ]
    return [dict(bedrock.get_model_customization_job(jobIdentifier=n)) for n in names]


CREATOR = "arn:aws:sts::123456789012:user/moto"
"""Who the sandbox says runs the scripts (STS GetCallerIdentity)."""
OWNED = {MANAGED_TAG[0]: MANAGED_TAG[1], CREATOR_TAG: tag_value(CREATOR)}
"""The app's ownership tags but the install's: a script's resources are not this install's."""


def _tags(pairs: Sequence[Mapping[str, object]]) -> dict[str, str]:
    """Tags as a mapping, from Bedrock's `key`/`value` or S3's and IAM's `Key`/`Value`."""
    return {str(p.get("key", p.get("Key"))): str(p.get("value", p.get("Value"))) for p in pairs}


def _as_app_would(job: dict[str, Any], context: AwsContext) -> None:
    """The job has the base model, type, hyperparameters and tags the app's request has (the
    run's own, bedrock-tune's and the creator's; no install id and no run id)."""
    wanted = job_request(_run()).to_api()
    assert job["baseModelArn"].endswith(MODEL) or job.get("baseModelIdentifier") == MODEL
    assert job["hyperParameters"] == wanted["hyperParameters"] == HYPERPARAMETERS
    assert job["customizationType"] == wanted["customizationType"]
    assert job["jobName"] != "bt-old-job"  # a fresh name, not the run's
    assert job["clientRequestToken"] != "0123456789abcdef"
    tags = context.client("bedrock").list_tags_for_resource(resourceARN=job["jobArn"])["tags"]
    assert _tags(tags) == {**_run().tags, **OWNED}


def _owned(context: AwsContext, bucket: str, role: str) -> None:
    """The bucket and the role carry bedrock-tune's tag and the creator's, as the app's do."""
    bucket_tags = context.client("s3").get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert _tags(bucket_tags) == OWNED
    assert _tags(context.client("iam").list_role_tags(RoleName=role)["Tags"]) == OWNED


def test_the_boto3_script_creates_the_job_and_a_second_run_a_second_job(
    sandbox: Sandbox, tmp_path: Path, isolated_aws: Path
) -> None:
    script = tmp_path / "export.py"
    script.write_text(export_text(_run(), "boto3"))
    data = _data(tmp_path / "prepared")
    env = _environment(sandbox, isolated_aws)
    command = [sys.executable, str(script), "--data-dir", str(data), "--role-wait-seconds", "0"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [*command, "--serve", "--poll-seconds", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    assert "BucketAlreadyOwnedByYou, reusing it" in second.stderr or "reusing" in second.stderr

    context = context_for(sandbox)
    jobs = _jobs(context)
    assert len(jobs) == 2  # the second run made a second job, it did not re-attach
    for job in jobs:
        _as_app_would(job, context)
        assert job["trainingDataConfig"]["s3Uri"].startswith(
            f"s3://bedrock-tune-{ACCOUNT}-us-east-1/bedrock-tune/{job['jobName']}/data/"
        )
        assert job["roleArn"] == f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-us-east-1"
    # The bucket has the app's safety settings; the role has its policy.
    s3 = context.client("s3")
    bucket = f"bedrock-tune-{ACCOUNT}-us-east-1"
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == merge_statement(
        None, tls_statement(bucket, "us-east-1")
    )
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    _owned(context, bucket, "bedrock-tune-us-east-1")
    iam = context.client("iam")
    role = iam.get_role(RoleName="bedrock-tune-us-east-1")["Role"]
    assert role["AssumeRolePolicyDocument"] == trust_policy(ACCOUNT, "us-east-1")
    # --serve waited for the job and deployed its model, as the run did.
    deployments = context.client("bedrock").list_custom_model_deployments()
    assert len(deployments["modelDeploymentSummaries"]) == 1


def test_the_cli_script_creates_the_job(
    sandbox: Sandbox, tmp_path: Path, isolated_aws: Path
) -> None:
    script = tmp_path / "export.sh"
    west = _run(
        region="us-west-2",
        bucket=f"bedrock-tune-{ACCOUNT}-us-west-2",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/bedrock-tune-us-west-2",
    )
    script.write_text(export_text(west, "cli"))
    data = _data(tmp_path / "prepared")
    env = {
        **_environment(sandbox, isolated_aws),
        "DATA_DIR": str(data),
        "ROLE_WAIT_SECONDS": "0",
        "SERVE": "1",  # wait for the job, then deploy its model as the run did
        "POLL_SECONDS": "0",
        "AWS_REGION": "us-west-2",
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    done = subprocess.run(
        ["bash", str(script)], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "CreateModelCustomizationJob: arn:aws:bedrock:us-west-2" in done.stdout

    context = context_for(sandbox, "us-west-2")
    (job,) = _jobs(context)
    _as_app_would(job, context)
    bucket = f"bedrock-tune-{ACCOUNT}-us-west-2"  # the default name, in this region
    assert job["outputDataConfig"]["s3Uri"] == (
        f"s3://{bucket}/bedrock-tune/{job['jobName']}/output/"
    )
    s3 = context.client("s3")
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == "us-west-2"
    _owned(context, bucket, "bedrock-tune-us-west-2")
    folder = f"bedrock-tune/{job['jobName']}/data/"
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=folder)["Contents"]}
    assert keys == {
        f"bedrock-tune/{job['jobName']}/data/train.jsonl",
        f"bedrock-tune/{job['jobName']}/data/validation.jsonl",
    }
    (deployment,) = context.client("bedrock").list_custom_model_deployments()[
        "modelDeploymentSummaries"
    ]
    assert f"CreateCustomModelDeployment: {deployment['customModelDeploymentArn']}" in done.stdout
    policy = context.client("iam").get_role_policy(
        RoleName="bedrock-tune-us-west-2", PolicyName="bedrock-tune-data-access"
    )
    assert policy["PolicyDocument"] == permissions_policy(bucket, "bedrock-tune", "us-west-2")


def test_the_cloudformation_template_passes_cfn_lint(tmp_path: Path) -> None:
    template = tmp_path / "stack.yaml"
    template.write_text(export_text(_run(kms_key_id="alias/mine"), "cloudformation"))
    done = subprocess.run(
        [str(CFN_LINT), str(template)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert ACCOUNT not in template.read_text()


def _filled(value: Any, values: dict[str, str]) -> Any:
    if isinstance(value, str):
        for name, text in values.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, dict):
        return {k: _filled(v, values) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, values) for v in value]
    return value


@pytest.mark.parametrize("region", ["us-east-1", "cn-north-1"])
def test_the_iam_documents_are_the_ones_the_app_builds(region: str) -> None:
    exported = json.loads(export_text(_run(kms_key_id="alias/mine"), "iam"))
    text = json.dumps(exported)
    assert ACCOUNT not in text
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    values = {
        "account_id": "210987654321",
        "region": region,
        "partition": partition,
        "bucket": "some-bucket",
        "kms_key_arn": f"arn:{partition}:kms:{region}:210987654321:key/k",
    }
    documents = _filled(exported, values)
    assert documents["trust_policy"]["document"] == trust_policy("210987654321", region)
    assert documents["permissions_policy"]["document"] == permissions_policy(
        "some-bucket", "bedrock-tune", region, values["kms_key_arn"]
    )
    assert documents["bucket_policy"]["document"] == merge_statement(
        None, tls_statement("some-bucket", region)
    )
    assert documents["permissions_policy"]["policy_name"] == "bedrock-tune-data-access"


def test_export_writes_the_file_from_a_run_id_or_a_recipe(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    Registry().save_run("r1", _run())
    out = tmp_path / "r1.sh"
    assert main(["export", "r1", "--as", "cli", "--out", str(out)]) == 0
    assert out.read_text().startswith("#!/usr/bin/env bash")
    assert os.access(out, os.X_OK)
    assert main(["export", "r1", "--as", "cli", "--out", str(out)]) == 2  # not replaced
    assert "pass --force" in capsys.readouterr().err

    recipe = tmp_path / "r1.toml"
    assert main(["recipe", "save", "r1", str(recipe)]) == 0
    capsys.readouterr()
    assert main(["export", str(recipe), "--as", "boto3"]) == 0
    script = capsys.readouterr().out
    assert script.startswith("#!/usr/bin/env python3")
    assert ACCOUNT not in script
    assert '"epochCount": "2"' in script
    compile(script, "export.py", "exec")


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["export", "nope", "--as", "iam"], "neither a recipe file nor a run"),
        (["export", "r1", "--as", "yaml"], "invalid choice"),
        (["export", "missing.toml", "--as", "iam"], "Cannot read the recipe"),
        (["export", "imp", "--as", "boto3"], "Customize on Bedrock"),
        (["export", "empty", "--as", "cli"], "no base model"),
    ],
)
def test_bad_input_is_a_clear_error(
    argv: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from core.run.types import Route

    registry = Registry()
    registry.save_run("r1", _run())
    registry.save_run("imp", Run(run_id="imp", route=Route.IMPORT_ONLY, region="us-east-1"))
    registry.save_run("empty", Run(run_id="empty", region="us-east-1"))
    assert exit_code(argv) == 2
    assert_clear(capsys.readouterr().err, expected)
