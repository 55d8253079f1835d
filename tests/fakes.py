"""Small fakes and documents several test modules share: a hand-driven clock, the managed tag,
a role trust policy and an inline S3 policy like the ones bedrock-tune writes."""

from __future__ import annotations

import json


class Clock:
    """A clock the test moves by hand (`clock.t += 20`): nothing waits on the wall clock."""

    def __init__(self, start: float = 0.0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t


MANAGED = [{"Key": "bedrock-tune:managed", "Value": "true"}]
"""The tag bedrock-tune puts on what it creates, in the S3 / IAM tag shape."""

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "bedrock.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
"""A trust policy that lets Bedrock assume the role (without bedrock-tune's conditions)."""

POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}
        ],
    }
)
"""An inline S3 read policy."""
