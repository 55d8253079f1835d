"""The export's one description of the steps: every parameter is worked out before it is used,
nothing of the run's account travels, and KMS, distillation and the refusals come out right in
every format."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.export import FORMATS, export_text
from core.export.boto3_script import _TAG_VALUE as boto3_tag_value
from core.export.cli_script import _TAG_VALUE as cli_tag_value
from core.export.steps import export_plan
from core.export.types import Call, ExportError, JsonText, Pause, Upload, WaitForJob
from core.export.types import placeholders as names_in
from core.infra.policies import TEACHER_SID
from core.ownership import CREATOR_TAG, INSTALL_TAG, MANAGED_TAG, RUN_TAG, tag_value
from core.run import Run
from core.run.types import Route
from core.statuses import CustomizationType

ACCOUNT = "123456789012"
NOVA = "amazon.nova-micro-v1:0:128k"


def _texts(value: Any) -> list[str]:
    if isinstance(value, JsonText):
        return _texts(value.document)
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in [k, *_texts(v)]]
    if isinstance(value, list | tuple):
        return [t for v in value for t in _texts(v)]
    return []


def _run(**changes: Any) -> Run:
    base = Run(
        run_id="r1",
        region="us-east-1",
        account_id=ACCOUNT,
        base_model_id=NOVA,
        bucket=f"team-{ACCOUNT}-data",
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/tuner",
        hyperparameters={"epochCount": "2"},
        tags={"owner": f"arn:aws:iam::{ACCOUNT}:user/me"},
    )
    return Run(**{**base.__dict__, **changes})


def test_every_parameter_is_worked_out_before_a_step_or_a_later_parameter_uses_it() -> None:
    plan = export_plan(_run(kms_key_id="alias/k", serving_kind=None))
    known: set[str] = set()
    for param in plan.params:
        for name in names_in(param.default or ""):
            assert name in known, f"{param.name} uses {name} before it is known"
        known.add(param.name)
    for step in plan.steps:
        if isinstance(step, Call):
            texts = _texts(step.request) + _texts(step.outside_us_east_1)
        elif isinstance(step, Upload):
            texts = [step.key]
        elif isinstance(step, WaitForJob):
            texts = [step.job]
        else:
            assert isinstance(step, Pause)
            texts = []
        for text in texts:
            for name in names_in(text):
                assert name in known, f"{step} uses {name}, which no parameter gives"
        if isinstance(step, Call) and step.created:
            known.add(step.created)


def test_a_custom_base_model_is_named_in_the_account_and_partition_the_script_runs_in() -> None:
    plan = export_plan(
        _run(base_model_id=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova/abc")
    )
    job = next(s for s in plan.steps if isinstance(s, Call) and s.operation.endswith("Job"))
    assert job.request["baseModelIdentifier"] == (
        "arn:{partition}:bedrock:{region}:{account_id}:custom-model/amazon.nova/abc"
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_nothing_of_the_run_s_account_travels(fmt: str) -> None:
    run = _run(
        base_model_id=f"arn:aws:bedrock:us-east-1:{ACCOUNT}:custom-model/amazon.nova/abc",
        client_request_token="secret-token-of-the-run",
        job_name="the-run-s-job",
    )
    text = export_text(run, fmt)  # type: ignore[arg-type]
    assert ACCOUNT not in text
    assert "secret-token-of-the-run" not in text
    assert "the-run-s-job" not in text


def test_a_kms_run_asks_for_the_key_and_uses_it_everywhere() -> None:
    script = export_text(_run(kms_key_id=f"arn:aws:kms:us-east-1:{ACCOUNT}:key/k"), "boto3")
    assert '"--kms-key-arn",\n        required=True,' in script
    assert '"SSEAlgorithm": "aws:kms"' in script
    assert '"customModelKmsKeyId": kms_key_arn' in script
    documents = json.loads(export_text(_run(kms_key_id="alias/k"), "iam"))
    statements = documents["permissions_policy"]["document"]["Statement"]
    assert {"Sid": "UseDataKey"}.items() <= statements[-2].items()
    assert statements[-2]["Resource"] == ["{kms_key_arn}"]
    shell = export_text(_run(kms_key_id="alias/k"), "cli")
    assert 'KMS_KEY_ARN="${KMS_KEY_ARN:?set KMS_KEY_ARN' in shell


def test_a_distillation_run_lets_the_role_invoke_its_teacher() -> None:
    run = _run(
        customization_type=CustomizationType.DISTILLATION,
        teacher_model_id="us.amazon.nova-premier-v1:0",
        max_response_length=1000,
    )
    plan = export_plan(run)
    teacher = next(
        s for s in plan.infrastructure.permissions_policy["Statement"] if s["Sid"] == TEACHER_SID
    )
    assert teacher["Resource"] == [
        "arn:{partition}:bedrock:*::foundation-model/amazon.nova-premier-v1:0",
        "arn:{partition}:bedrock:{region}:{account_id}:inference-profile/us.amazon.nova-premier-v1:0",
    ]
    job = next(s for s in plan.steps if isinstance(s, Call) and s.operation.endswith("Job"))
    config = job.request["customizationConfig"]["distillationConfig"]["teacherModelConfig"]
    assert config == {
        "teacherModelIdentifier": "us.amazon.nova-premier-v1:0",
        "maxResponseLengthForInference": 1000,
    }


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"route": Route.IMPORT_ONLY}, "customize a model on Bedrock"),
        ({"base_model_id": None}, "no base model"),
        ({"subnet_ids": ("subnet-1",)}, "VPC"),
        ({"region": None, "base_model_id": "not.a-model"}, "no region"),
    ],
)
def test_what_cannot_be_exported_says_why(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ExportError, match=expected):
        export_plan(_run(**changes))


def test_the_boto3_script_refuses_a_bad_value_before_any_call() -> None:
    namespace: dict[str, Any] = {"__name__": "exported"}  # its main() does not run
    exec(compile(export_text(_run(serving_kind=None), "boto3"), "export.py", "exec"), namespace)
    check = namespace["check"]
    check("bucket", "bedrock-tune-1-us-east-1")
    check("role_wait_seconds", "10", namespace["NUMBER"])
    with pytest.raises(SystemExit, match="role_wait_seconds 'ten': use a whole number only"):
        check("role_wait_seconds", "ten", namespace["NUMBER"])
    with pytest.raises(SystemExit, match="bucket 'my bucket': use letters, digits"):
        check("bucket", "my bucket")


def test_the_cli_script_refuses_a_bad_value_before_any_call(tmp_path: Path) -> None:
    script = tmp_path / "export.sh"
    script.write_text(export_text(_run(), "cli"))
    # No `aws` on the PATH: a refusal that came after a call would fail differently.
    done = subprocess.run(
        ["bash", str(script)],
        env={"PATH": "/usr/bin:/bin", "REGION": "us east 1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "REGION 'us east 1': use letters, digits and ._:/+=@- only" in done.stderr


CALLERS = [
    "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com",
    "arn:aws:sts::123456789012:assumed-role/Ops,Team/bob+ci=1",  # `,` is refused in tags
    "arn:aws:sts::123456789012:assumed-role/" + "r" * 64 + "/" + "s,é" * 90,  # over 256
]


@pytest.mark.parametrize("caller", CALLERS)
def test_both_scripts_tag_with_the_creator_as_the_app_does(caller: str) -> None:
    """The scripts make the creator's tag value with the app's rule (`tag_value`), in Python
    and in bash, so a resource a script made reads like one the app made."""
    namespace: dict[str, Any] = {"re": re, "hashlib": hashlib}
    exec(boto3_tag_value, namespace)  # the function as the boto3 script holds it
    assert namespace["tag_value"](caller) == tag_value(caller)
    done = subprocess.run(
        ["bash", "-c", f'{cli_tag_value}\ntag_value "$1"', "bash", caller],
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == tag_value(caller)


def test_what_the_scripts_make_is_tagged_as_bedrock_tune_s_and_the_creator_s() -> None:
    plan = export_plan(_run())
    owned = {MANAGED_TAG[0]: MANAGED_TAG[1], CREATOR_TAG: "{created_by}"}
    assert plan.infrastructure.tags == owned
    [job] = [
        s for s in plan.steps if isinstance(s, Call) and s.operation.startswith("CreateModelC")
    ]
    tags = {t["key"]: t["value"] for t in job.request["jobTags"]}
    assert owned.items() <= tags.items() and "owner" in tags  # with the run's own tags
    assert INSTALL_TAG not in tags and RUN_TAG not in tags  # not this install's, not this run's
    # CloudFormation cannot ask who deploys it: the managed tag alone.
    template = export_text(_run(), "cloudformation")
    assert "bedrock-tune:managed" in template and CREATOR_TAG not in template
