"""The export as a CloudFormation template (YAML) for the bucket and the role.

The same documents as the scripts send; a placeholder becomes a pseudo parameter
(`${AWS::AccountId}`), a template parameter or a resource reference inside `Fn::Sub`. The
template makes no job: jobs are not CloudFormation resources (run the exported script for it).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from core.export.text import about, comment
from core.export.types import ExportPlan, placeholders, split_text

_SUBSTITUTES = {
    "account_id": "AWS::AccountId",
    "region": "AWS::Region",
    "partition": "AWS::Partition",
    "bucket": "DataBucket",
    "kms_key_arn": "KmsKeyArn",
}
_PLAIN_KEY = re.compile(r"[A-Za-z][A-Za-z0-9_:./-]*")


def _sub(text: str) -> Any:
    """`text`, or `{"Fn::Sub": ...}` when it holds placeholders."""
    pieces = split_text(text)
    if not any(is_param for _, is_param in pieces):
        return text
    if len(pieces) == 1:
        return {"Ref": _SUBSTITUTES[pieces[0][0]]}
    return {
        "Fn::Sub": "".join(
            "${" + _SUBSTITUTES[piece] + "}" if is_param else piece.replace("${", "${!")
            for piece, is_param in pieces
        )
    }


def _cfn(value: Any) -> Any:
    if isinstance(value, str):
        return _sub(value)
    if isinstance(value, Mapping):
        return {k: _cfn(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cfn(v) for v in value]
    return value


def _name_or_default(parameter: str, default: str) -> Any:
    """The parameter when it is set, else the run's default name (placeholders filled in)."""
    return {"Fn::If": [f"Has{parameter}", {"Ref": parameter}, _sub(default)]}


def _yaml(value: Any, indent: int) -> list[str]:
    """A small YAML writer: every scalar is JSON (valid YAML), mappings and lists in block
    style, so the comments can sit beside what they explain."""
    pad = " " * indent
    lines: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            shown = key if _PLAIN_KEY.fullmatch(key) else json.dumps(key)
            if isinstance(item, Mapping | list | tuple) and item:
                lines.append(f"{pad}{shown}:")
                lines += _yaml(item, indent + 2)
            else:
                lines.append(f"{pad}{shown}: {_scalar(item)}")
        return lines
    for item in value:
        if isinstance(item, Mapping | list | tuple) and item:
            nested = _yaml(item, indent + 2)
            lines.append(f"{pad}- {nested[0].lstrip()}")
            lines += nested[1:]
        else:
            lines.append(f"{pad}- {_scalar(item)}")
    return lines


def _scalar(value: Any) -> str:
    if isinstance(value, Mapping | list | tuple):
        return "{}" if isinstance(value, Mapping) else "[]"
    return json.dumps(value)


def cloudformation_template(plan: ExportPlan, source: str) -> str:
    """The bucket, its policy and the role as a CloudFormation template (YAML)."""
    infra = plan.infrastructure
    kms = "kms_key_arn" in {p.name for p in plan.params}
    parameters: dict[str, Any] = {
        "BucketName": {
            "Type": "String",
            "Default": "",
            "Description": f"The S3 bucket (empty: {plan.param('bucket').default})",
        },
        "RoleName": {
            "Type": "String",
            "Default": "",
            "Description": "The IAM role Bedrock assumes (empty: "
            f"{plan.param('role_name').default})",
        },
    }
    if kms:
        parameters["KmsKeyArn"] = {
            "Type": "String",
            "Description": "The KMS key the data is encrypted with, in this account",
        }
    conditions = {
        f"Has{name}": {"Fn::Not": [{"Fn::Equals": [{"Ref": name}, ""]}]}
        for name in ("BucketName", "RoleName")
    }
    rule = dict(infra.encryption)
    # CloudFormation names the API's ApplyServerSideEncryptionByDefault differently.
    rule["ServerSideEncryptionByDefault"] = rule.pop("ApplyServerSideEncryptionByDefault")
    # A template cannot ask who deploys it: the creator's tag is left to the stack's own record
    # (CloudTrail), and only values without parameters are tags here.
    tags = [{"Key": k, "Value": v} for k, v in infra.tags.items() if not placeholders(v)]
    resources: list[tuple[str, str, dict[str, Any]]] = [
        (
            "DataBucket",
            "The bucket for the training data and the job's output, in the job's region, with "
            "Block Public Access fully on and default encryption. Kept when the stack is deleted: "
            "it holds your data and your job's output.",
            {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Retain",
                "UpdateReplacePolicy": "Retain",
                "Properties": {
                    "BucketName": _name_or_default(
                        "BucketName", plan.param("bucket").default or ""
                    ),
                    "PublicAccessBlockConfiguration": dict(infra.public_access_block),
                    "BucketEncryption": {"ServerSideEncryptionConfiguration": [_cfn(rule)]},
                    "Tags": tags,
                },
            },
        ),
        (
            "DataBucketPolicy",
            "Deny every request to the bucket not made over TLS.",
            {
                "Type": "AWS::S3::BucketPolicy",
                "Properties": {
                    "Bucket": {"Ref": "DataBucket"},
                    "PolicyDocument": _cfn(infra.bucket_policy),
                },
            },
        ),
        (
            "BedrockRole",
            "The service role Bedrock assumes to read the data and write the output: trusted "
            "only by this account's customization jobs in this region, allowed only the run "
            "folders under the prefix.",
            {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": _name_or_default("RoleName", plan.param("role_name").default or ""),
                    "Description": infra.role_description,
                    "AssumeRolePolicyDocument": _cfn(infra.trust_policy),
                    "Policies": [
                        {
                            "PolicyName": infra.policy_name,
                            "PolicyDocument": _cfn(infra.permissions_policy),
                        }
                    ],
                    "Tags": tags,
                },
            },
        ),
    ]
    outputs = {
        "BucketName": {
            "Description": "The bucket (the exported script's --bucket / BUCKET)",
            "Value": {"Ref": "DataBucket"},
        },
        "RoleArn": {
            "Description": "The role's ARN (its name is the script's --role-name / ROLE_NAME)",
            "Value": {"Fn::GetAtt": ["BedrockRole", "Arn"]},
        },
    }
    lines = [*comment(about(plan, source)[0])]
    lines += comment(
        "This template makes the bucket and the role; the upload and the job are not "
        "CloudFormation resources: run the exported boto3 or AWS CLI script for them."
    )
    lines += [
        'AWSTemplateFormatVersion: "2010-09-09"',
        f"Description: {json.dumps('bedrock-tune: bucket and service role for ' + plan.title)}",
        "Parameters:",
        *_yaml(parameters, 2),
        "Conditions:",
        *_yaml(conditions, 2),
        "Resources:",
    ]
    for name, why, body in resources:
        lines += comment(why, indent="  ")
        lines.append(f"  {name}:")
        lines += _yaml(body, 4)
    lines += ["Outputs:", *_yaml(outputs, 2)]
    return "\n".join(lines) + "\n"
