"""Who made a resource: this install, another bedrock-tune, or someone else.

Every resource bedrock-tune creates carries three tags:
- `bedrock-tune:managed=true`: made by some bedrock-tune (how teardown finds it without a
  registry);
- `bedrock-tune:install=<id>`: made by *this* install. The id is random, created once and kept
  beside the registry (`install-id`, mode 0600), so a second user, machine or HOME has another;
- `bedrock-tune:created-by=<principal ARN>`: the identity that made it, for the person deciding
  whether a resource found by the tag alone is theirs to delete.

Tag values are at most 256 characters from `[a-zA-Z0-9 ._:/=+@-]` (the strictest of Bedrock,
IAM and S3: botocore's `TagValue` models), while an ARN may have up to 2,048 and IAM names may
hold `,`. `tag_value` keeps an ARN as it is when it fits, and otherwise replaces what is refused
by `_` and shortens it to its first 239 characters, `+`, and 16 hex digits of its SHA-256.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.errors import BedrockTuneError

MANAGED_TAG = ("bedrock-tune:managed", "true")
"""On everything bedrock-tune creates (teardown finds it by this when the registry is gone)."""
RUN_TAG = "bedrock-tune:run"
"""Tag holding the run id (resume re-attaches by it when the registry is gone)."""
INSTALL_TAG = "bedrock-tune:install"
"""The id of the install that created it."""
CREATOR_TAG = "bedrock-tune:created-by"
"""The principal ARN that created it (shortened when over the tag value limit)."""
INSTALL_FILE = "install-id"
TAG_VALUE_MAX = 256
TAG_VALUE_REFUSED = r"[^a-zA-Z0-9 ._:/=+@-]"
"""What a tag value may not hold, as a regular expression (exported scripts apply it too)."""
_REFUSED = re.compile(TAG_VALUE_REFUSED)
_INSTALL_ID = re.compile(r"[0-9a-f]{32}")


class InstallIdError(BedrockTuneError):
    """The install id file cannot be read or holds something else."""

    default_title = "Local state problem"


def install_id(directory: Path) -> str:
    """This install's id: read from `directory/install-id`, created there once when missing.

    Created with O_EXCL (two processes starting at once agree on one id) and mode 0600. An
    empty file (a crash while it was written) is replaced.

    Raises:
        InstallIdError: the file holds something else than an id, or cannot be read.
    """
    path = directory / INSTALL_FILE
    for _ in range(3):
        found = _read_id(path)
        if found is not None:
            return found
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileNotFoundError):
            if path.stat().st_size == 0:
                path.unlink()  # left empty by a crash
        fresh = secrets.token_hex(16)
        try:
            handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another process made it a moment ago: read theirs
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(fresh + "\n")
            out.flush()
            os.fsync(out.fileno())
        return fresh
    raise InstallIdError(f"Could not create {path}.", hint="Check the state folder's permissions.")


def _read_id(path: Path) -> str | None:
    """The id in `path`; None when there is no file or it is empty."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as error:
        raise InstallIdError(
            f"Cannot read {path}: {error.strerror}.",
            hint="Check the state folder's permissions (or BEDROCK_TUNE_STATE_DIR).",
        ) from error
    if not text:
        return None
    if not _INSTALL_ID.fullmatch(text):
        raise InstallIdError(
            f"{path} does not hold a bedrock-tune install id.",
            hint="Move it aside: a new id is made, and teardown then treats what the old id "
            "tagged as made elsewhere.",
        )
    return text


def tag_value(text: str) -> str:
    """`text` as a tag value every service accepts (see the module docstring)."""
    cleaned = _REFUSED.sub("_", text)
    if len(cleaned) <= TAG_VALUE_MAX:
        return cleaned
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{cleaned[: TAG_VALUE_MAX - 17]}+{digest}"


def ownership_tags(install: str | None, creator_arn: str | None) -> dict[str, str]:
    """The tags a new resource gets (as a plain mapping; each service has its own shape)."""
    tags = {MANAGED_TAG[0]: MANAGED_TAG[1]}
    if install:
        tags[INSTALL_TAG] = install
    if creator_arn:
        tags[CREATOR_TAG] = tag_value(creator_arn)
    return tags


@dataclass(frozen=True)
class Origin:
    """What a resource's tags say about who made it."""

    managed: bool
    """Tagged `bedrock-tune:managed=true`."""
    install: str | None
    creator: str | None

    def made_by(self, install: str | None) -> bool:
        """Made by the install `install` (False when either is unknown)."""
        return self.managed and install is not None and self.install == install


def origin_of(tags: Mapping[str, str]) -> Origin:
    """Read the ownership tags."""
    return Origin(
        managed=tags.get(MANAGED_TAG[0]) == MANAGED_TAG[1],
        install=tags.get(INSTALL_TAG) or None,
        creator=tags.get(CREATOR_TAG) or None,
    )
