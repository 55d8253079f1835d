"""The export as a bash script of AWS CLI commands (v1 or v2).

Each request is the same JSON the boto3 script sends, passed with `--cli-input-json` from a
here-document whose `${NAME}`s the shell fills in; parameters are environment variables.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from botocore import xform_name

from core.export.text import about, comment, default_text, settable
from core.export.types import (
    STAMP_FORMAT,
    Call,
    ExportPlan,
    JsonText,
    Param,
    Pause,
    Upload,
    WaitForJob,
    split_text,
)
from core.ownership import TAG_VALUE_MAX, TAG_VALUE_REFUSED

_CLI_SERVICE = {"s3": "s3api"}
"""The AWS CLI's name of a service where it differs from boto3's."""

_HELPERS = r"""
# Stop before any call when a parameter holds what no name or id holds.
check() {
  case "$2" in
    "" | *[!A-Za-z0-9._:/+=@-]*)
      echo "$1 '$2': use letters, digits and ._:/+=@- only" >&2
      exit 2 ;;
  esac
}

# Stop before any call when a number of seconds is not a whole number.
check_seconds() {
  case "$2" in
    "" | *[!0-9]*)
      echo "$1 '$2': use a whole number of seconds" >&2
      exit 2 ;;
  esac
}

# Fresh random bytes as hex (tokens and name suffixes).
random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# Run an AWS CLI command given after the error code: return 0 when it made the resource, 1 when
# it failed with that code, which means the resource exists already and is yours (reused).
made() {
  local code="$1" out
  shift
  if out="$("$@" 2>&1)"; then
    return 0
  fi
  case "$out" in
    *"($code)"*)
      echo "$2 $3: $code, reusing it" >&2
      return 1 ;;
  esac
  printf '%s\n' "$out" >&2
  exit 1
}
"""

_BASH_REFUSED = TAG_VALUE_REFUSED.replace("/", "\\/")
"""The refused characters as a bash pattern (a `/` would end the pattern of `${x//p/r}`)."""
_TAG_VALUE = f"""
# Text as a tag value every service accepts (bedrock-tune's rule): refused characters become _,
# and a value over {TAG_VALUE_MAX} characters keeps its start and a digest of it.
tag_value() {{
  local cleaned="${{1//{_BASH_REFUSED}/_}}" digest
  if [ "${{#cleaned}}" -le {TAG_VALUE_MAX} ]; then
    printf '%s' "$cleaned"
  else
    digest="$(printf '%s' "$1" | {{ sha256sum 2>/dev/null || shasum -a 256; }})"
    printf '%s+%s' "${{cleaned:0:{TAG_VALUE_MAX - 17}}}" "${{digest:0:16}}"
  fi
}}
"""


def _var(name: str) -> str:
    return name.upper()


def _text(text: str, *, quoted: bool) -> str:
    """`text` for an unquoted here-document (or, `quoted`, inside double quotes), with its
    parameters as `${NAME}` and every other character taken literally."""
    out = []
    for piece, is_param in split_text(text):
        if is_param:
            out.append("${" + _var(piece) + "}")
            continue
        piece = piece.replace("\\", "\\\\").replace("$", "\\$").replace("`", "\\`")
        out.append(piece.replace('"', '\\"') if quoted else piece)
    return "".join(out)


def _json(value: Any) -> str:
    """A request value as JSON text (policy documents as JSON strings inside it)."""

    def plain(item: Any) -> Any:
        if isinstance(item, JsonText):
            return json.dumps(plain(item.document))
        if isinstance(item, Mapping):
            return {k: plain(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [plain(v) for v in item]
        return item

    return json.dumps(plain(value), indent=2)


def _here(variable: str, value: Any, indent: str) -> list[str]:
    """`variable="$(cat <<JSON ... JSON)"`: the value as JSON with its parameters filled in."""
    body = _text(_json(value), quoted=False).splitlines()
    return [f'{indent}{variable}="$(cat <<JSON', *body, "JSON", f'{indent})"']


def _resolve(param: Param) -> list[str]:
    var = _var(param.name)
    out = comment(f"{var}: {param.help}.")
    if param.source == "account":
        out.append(
            f'{var}="$(aws sts get-caller-identity --region "$REGION" --query Account '
            '--output text)"'
        )
    elif param.source == "caller":
        out.append(
            f'{var}="$(tag_value "$(aws sts get-caller-identity --region "$REGION" --query Arn '
            '--output text)")"'
        )
    elif param.source == "partition":
        out.append(
            f'case "$REGION" in cn-*) {var}=aws-cn ;; us-gov-*) {var}=aws-us-gov ;; '
            f"*) {var}=aws ;; esac"
        )
    elif param.source == "stamp":
        out.append(f'{var}="$(date -u +{STAMP_FORMAT})"')
    elif param.source == "random":
        out.append(f'{var}="$(random_hex {param.random_bytes})"')
    elif param.source == "flag":
        out.append(f'{var}="${{{var}:-0}}"')
    elif param.source == "derived":
        out.append(f'{var}="{_text(param.default or "", quoted=True)}"')
    else:
        if param.random_bytes:
            out.append(f'{var}="${{{var}:-$(random_hex {param.random_bytes})}}"')
        elif param.default is not None:
            out.append(f'{var}="${{{var}:-{_text(param.default, quoted=True)}}}"')
        else:
            out.append(f'{var}="${{{var}:?set {var}: {param.help}}}"')
        if param.seconds:
            out.append(f'check_seconds {var} "${var}"')
        elif not param.path:
            out.append(f'check {var} "${var}"')
    return out


def _condition(flag: str) -> str:
    return f'[ "${_var(flag)}" = 1 ]'


def _call(step: Call, indent: str) -> list[str]:
    command = (
        f"aws {_CLI_SERVICE.get(step.service, step.service)} {xform_name(step.operation, '-')} "
        '--region "$REGION" --cli-input-json "$request"'
    )
    out = comment(step.why, indent=indent)
    out += _here("request", step.request, indent)
    if step.outside_us_east_1:
        out.append(f"{indent}extra=()")
        out.append(f'{indent}if [ "$REGION" != us-east-1 ]; then')
        for key, value in step.outside_us_east_1.items():
            out += _here("member", value, indent + "  ")
            out.append(f'{indent}  extra+=(--{xform_name(key, "-")} "$member")')
        out.append(f"{indent}fi")
        command += ' ${extra[@]+"${extra[@]}"}'
    if step.created:
        flag = _var(step.created)
        code = step.reuse_on[0]
        out.append(f"{indent}if made {code} {command}; then {flag}=1; else {flag}=0; fi")
    elif step.result or step.show:
        member = (step.result or ("", step.show or ""))[1]
        variable = _var(step.result[0]) if step.result else "ANSWER"
        out.append(f'{indent}{variable}="$({command} --query {member} --output text)"')
        if step.show:
            out.append(f'{indent}echo "{step.operation}: ${variable}"')
    else:
        out.append(f"{indent}{command} >/dev/null")
    return out


def _wait(step: WaitForJob, indent: str) -> list[str]:
    get = (
        'aws bedrock get-model-customization-job --region "$REGION" --job-identifier '
        f'"{_text(step.job, quoted=True)}"'
    )
    return [
        *comment(step.why, indent=indent),
        f"{indent}while :; do",
        f'{indent}  STATUS="$({get} --query status --output text)"',
        f'{indent}  case "$STATUS" in',
        f"{indent}    Completed) break ;;",
        f'{indent}    Failed | Stopping | Stopped) echo "The job ended $STATUS" >&2; exit 1 ;;',
        f"{indent}  esac",
        f'{indent}  echo "job: $STATUS" >&2',
        f'{indent}  sleep "${_var(step.interval)}"',
        f"{indent}done",
        f'{indent}{_var(step.result)}="$({get} --query outputModelArn --output text)"',
    ]


def _step(step: Call | Upload | Pause | WaitForJob) -> list[str]:
    condition = None if isinstance(step, Upload) else step.only_if
    indent = "  " if condition else ""
    out: list[str] = [""]
    if condition:
        out.append(f"if {_condition(condition)}; then")
    if isinstance(step, Call):
        out += _call(step, indent)
    elif isinstance(step, Upload):
        out += comment(step.why)
        out.append(
            f'aws s3api put-object --region "$REGION" --bucket "$BUCKET" '
            f'--key "{_text(step.key, quoted=True)}" --body "$DATA_DIR/{step.file}" '
            "--checksum-algorithm SHA256 >/dev/null"
        )
        out.append(f'echo "uploaded {step.file}" >&2')
    elif isinstance(step, Pause):
        out += comment(step.why, indent=indent)
        out.append(f'{indent}sleep "${_var(step.seconds)}"')
    else:
        out += _wait(step, indent)
    if condition:
        out.append("fi")
    return out


def cli_script(plan: ExportPlan, source: str) -> str:
    """The plan as a bash script of AWS CLI commands; parameters are environment variables."""
    lines = ["#!/usr/bin/env bash", *comment(about(plan, source)[0])]
    for paragraph in about(plan, source)[1:]:
        lines += ["#", *comment(paragraph)]
    lines += [
        "#",
        *comment(
            "Run it with the credentials of the account to use (AWS_PROFILE, and AWS_ENDPOINT_URL "
            "as for any AWS CLI command). Every parameter below is an environment variable:"
        ),
    ]
    for param in settable(plan):
        lines += comment(
            f"{_var(param.name)}: {param.help} (default: {default_text(param)}).",
            prefix="#   ",
            hanging="  ",
        )
    lines += ["", "set -euo pipefail", *_HELPERS.splitlines(), *_TAG_VALUE.splitlines(), ""]
    for param in plan.params:
        lines += _resolve(param)
    created = [s.created for s in plan.steps if isinstance(s, Call) and s.created]
    lines += [
        "",
        f"for file in {' '.join(plan.files)}; do",
        '  if [ ! -f "$DATA_DIR/$file" ]; then',
        '    echo "$DATA_DIR has no $file: set DATA_DIR to the folder bedrock-tune prepare '
        'wrote" >&2',
        "    exit 2",
        "  fi",
        "done",
        'echo "job $JOB_NAME in $REGION, account $ACCOUNT_ID" >&2',
        *[f"{_var(flag)}=0" for flag in created],
    ]
    for step in plan.steps:
        lines += _step(step)
    return "\n".join(lines) + "\n"
