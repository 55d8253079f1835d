"""The export as a self-contained Python script that needs boto3 only."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any

from botocore import xform_name

from core.export.text import about, comment, default_text, settable
from core.export.types import (
    SAFE_VALUE,
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

LONG = 72
"""Longer string literals are split over lines (the script stays within 100 columns)."""

_HELPERS = '''

def call(client, operation, request, reuse_on=()):
    """Make one call. Returns (response, made): made is False when the call failed with one of
    `reuse_on`, which means the resource exists already and is yours (it is reused)."""
    try:
        return getattr(client, operation)(**request), True
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in reuse_on:
            print(f"{operation}: {code}, reusing it", file=sys.stderr)
            return {}, False
        raise


def upload(s3, bucket, key, path):
    """Put one file; S3 checks the SHA-256 botocore sends with it."""
    with path.open("rb") as body:
        s3.put_object(Bucket=bucket, Key=key, Body=body, ChecksumAlgorithm="SHA256")
    print(f"uploaded {path.name} to s3://{bucket}/{key}", file=sys.stderr)


def wait_for_job(bedrock, job, interval):
    """Poll the job until it ends; returns its custom model's ARN (exits when it failed)."""
    while True:
        answer = bedrock.get_model_customization_job(jobIdentifier=job)
        status = answer["status"]
        if status == "Completed":
            return answer["outputModelArn"]
        if status in ("Failed", "Stopping", "Stopped"):
            message = answer.get("failureMessage", "")
            sys.exit(f"The job {job} ended {status}: {message}")
        print(f"{job}: {status}", file=sys.stderr)
        time.sleep(interval)
'''


_TAG_VALUE = f'''def tag_value(text):
    """`text` as a tag value every service accepts (bedrock-tune's rule): refused characters
    become _, and a value over {TAG_VALUE_MAX} characters keeps its start and a digest of it."""
    cleaned = re.sub(r"{TAG_VALUE_REFUSED}", "_", text)
    if len(cleaned) <= {TAG_VALUE_MAX}:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return cleaned[:{TAG_VALUE_MAX - 17}] + "+" + digest'''


def _literal(text: str, indent: int) -> str:
    """A string literal; a long one as adjacent literals in parentheses, one line each."""
    if len(text) <= LONG:
        return json.dumps(text)
    pad = " " * (indent + 4)
    chunks = textwrap.wrap(text, LONG, drop_whitespace=False, break_on_hyphens=False)
    return "(\n" + "".join(f"{pad}{json.dumps(c)}\n" for c in chunks) + " " * indent + ")"


def _string(text: str, indent: int = 0) -> str:
    """A Python expression for `text`: a plain literal, or an f-string with its parameters."""
    pieces = split_text(text)
    if not any(is_param for _, is_param in pieces):
        return _literal(text, indent)
    if len(pieces) == 1:
        return pieces[0][0]  # the parameter itself
    body = "".join(
        "{" + piece + "}"
        if is_param
        else json.dumps(piece)[1:-1].replace("{", "{{").replace("}", "}}")
        for piece, is_param in pieces
    )
    return f'f"{body}"'


def _value(value: Any, indent: int) -> str:
    """A Python expression for a request value, indented as code at `indent` spaces."""
    pad = " " * (indent + 4)
    if isinstance(value, JsonText):
        return f"json.dumps({_value(value.document, indent)})"
    if isinstance(value, str):
        return _string(value, indent)
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int):
        return str(value)
    if value is None:
        return "None"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = [f"{pad}{json.dumps(str(k))}: {_value(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + " " * indent + "}"
    if isinstance(value, list | tuple):
        if not value:
            return "[]"
        items = [f"{pad}{_value(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + "\n" + " " * indent + "]"
    raise TypeError(f"cannot write {type(value).__name__} into a script")


def _arguments(plan: ExportPlan) -> list[str]:
    lines = [
        "def parse_args():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
    ]
    for param in settable(plan):
        flag = "--" + param.name.replace("_", "-")
        help_text = _literal(f"{param.help} (default: {default_text(param)})", 8)
        lines += ["    parser.add_argument(", f'        "{flag}",']
        if param.source == "flag":
            lines.append('        action="store_true",')
        elif param.default is None and not param.random_bytes:
            lines.append("        required=True,")
        lines += [f"        help={help_text},", "    )"]
    lines.append("    return parser.parse_args()")
    return lines


def _resolve(param: Param) -> list[str]:
    """Lines that give the parameter its value inside main()."""
    name = param.name
    out = [*comment(f"{name}: {param.help}.", indent="    ")]
    if param.source == "account":
        out.append(f'    {name} = session.client("sts").get_caller_identity()["Account"]')
    elif param.source == "caller":
        out.append(f'    {name} = tag_value(session.client("sts").get_caller_identity()["Arn"])')
    elif param.source == "partition":
        out.append(f"    {name} = session.get_partition_for_region(region)")
    elif param.source == "stamp":
        out.append(f'    {name} = datetime.now(timezone.utc).strftime("{STAMP_FORMAT}")')
    elif param.source == "random":
        out.append(f"    {name} = secrets.token_hex({param.random_bytes})")
    elif param.source == "flag":
        out.append(f"    {name} = args.{name}")
    elif param.source == "derived":
        out.append(f"    {name} = {_string(param.default or '')}")
    else:
        if param.random_bytes:
            fallback = f"secrets.token_hex({param.random_bytes})"
        elif param.default is not None:
            fallback = _string(param.default)
        else:
            fallback = None
        out.append(f"    {name} = args.{name}" + (f" or {fallback}" if fallback else ""))
        if param.seconds:
            out.append(f'    check("{name}", {name}, NUMBER)')
        elif not param.path:
            out.append(f'    check("{name}", {name})')
    if name == "region":
        out.append("    session = boto3.Session(region_name=region)")
    return out


def _call(step: Call, indent: int) -> list[str]:
    pad = " " * indent
    client = step.service
    out = comment(step.why, indent=pad)
    out.append(f"{pad}request = {_value(step.request, indent)}")
    if step.outside_us_east_1:
        out.append(f'{pad}if region != "us-east-1":')
        for key, value in step.outside_us_east_1.items():
            out.append(f'{pad}    request["{key}"] = {_value(value, indent + 4)}')
    made = step.created or "_"
    reuse = "(" + "".join(f'"{code}", ' for code in step.reuse_on).rstrip(" ") + ")"
    reuse_arg = f", {reuse}" if step.reuse_on else ""
    method = xform_name(step.operation)
    out.append(f'{pad}response, {made} = call({client}, "{method}", request{reuse_arg})')
    shown = f"response['{step.show}']"
    if step.result:
        out.append(f'{pad}{step.result[0]} = response["{step.result[1]}"]')
        if step.result[1] == step.show:
            shown = step.result[0]
    if step.show:
        out.append(f'{pad}print(f"{step.operation}: {{{shown}}}")')
    return out


def _body(plan: ExportPlan) -> list[str]:
    out: list[str] = []
    created = [s.created for s in plan.steps if isinstance(s, Call) and s.created]
    for flag in created:
        out.append(f"    {flag} = False")
    for step in plan.steps:
        out.append("")
        indent = 4
        condition = step.only_if if not isinstance(step, Upload) else None
        if condition:
            out.append(f"    if {condition}:")
            indent = 8
        pad = " " * indent
        if isinstance(step, Call):
            out += _call(step, indent)
        elif isinstance(step, Upload):
            out += comment(step.why, indent=pad)
            out.append(f'{pad}upload(s3, bucket, {_string(step.key)}, folder / "{step.file}")')
        elif isinstance(step, Pause):
            out += comment(step.why, indent=pad)
            out.append(f"{pad}time.sleep(float({step.seconds}))")
        elif isinstance(step, WaitForJob):
            out += comment(step.why, indent=pad)
            out.append(
                f"{pad}{step.result} = wait_for_job(bedrock, {_string(step.job)}, "
                f"float({step.interval}))"
            )
    return out


def boto3_script(plan: ExportPlan, source: str) -> str:
    """The plan as a Python script (boto3 only): `python3 FILE --help` lists its parameters."""
    doc = about(plan, source)
    lines = [
        "#!/usr/bin/env python3",
        '"""' + doc[0],
        "",
        *[line for paragraph in doc[1:] for line in ([*comment(paragraph, ""), ""])],
        "Run it with the credentials of the account to use (AWS_PROFILE, AWS_REGION and",
        "AWS_ENDPOINT_URL are read as by any AWS SDK); `--help` lists the parameters.",
        '"""',
        "",
        "import argparse",
        "import hashlib",
        "import json",
        "import re",
        "import secrets",
        "import sys",
        "import time",
        "from datetime import datetime, timezone",
        "from pathlib import Path",
        "",
        "import boto3",
        "from botocore.exceptions import BotoCoreError, ClientError",
        "",
        f"FILES = {tuple(plan.files)!r}".replace("'", '"'),
        f'SAFE = re.compile(r"{SAFE_VALUE}")',
        "",
        "",
        'NUMBER = re.compile(r"[0-9]+")',
        "",
        "",
        *_TAG_VALUE.splitlines(),
        "",
        "",
        "def check(name, value, pattern=SAFE):",
        '    """Stop before any call when a parameter holds what no name or id holds."""',
        "    if not pattern.fullmatch(value):",
        '        what = "a whole number" if pattern is NUMBER else "letters, digits and ._:/+=@-"',
        '        sys.exit(f"{name} {value!r}: use {what} only")',
        "",
        "",
        *_arguments(plan),
        *_HELPERS.splitlines(),
        "",
        "",
        "def main():",
        "    args = parse_args()",
    ]
    for param in plan.params:
        lines += _resolve(param)
    lines += [
        "    folder = Path(data_dir)",
        "    missing = [name for name in FILES if not (folder / name).is_file()]",
        "    if missing:",
        "        sys.exit(",
        "            f\"{folder} has no {', '.join(missing)}: \"",
        '            "pass --data-dir, the folder bedrock-tune prepare wrote"',
        "        )",
        '    s3 = session.client("s3")',
        '    iam = session.client("iam")',
        '    bedrock = session.client("bedrock")',
        '    print(f"job {job_name} in {region}, account {account_id}", file=sys.stderr)',
    ]
    lines += _body(plan)
    lines += [
        "    return 0",
        "",
        "",
        'if __name__ == "__main__":',
        "    try:",
        "        sys.exit(main())",
        "    except (ClientError, BotoCoreError) as error:  # AWS said no: its words, no traceback",
        '        sys.exit(f"{type(error).__name__}: {error}")',
    ]
    return "\n".join(lines) + "\n"
