"""The `sourcedir.tar.gz` an instance training job runs: bedrock-tune's QLoRA script and its
requirements, packed the same way every time (same bytes for the same script, so an upload
of it again is skipped as identical)."""

from __future__ import annotations

import gzip
import io
import tarfile
from importlib import resources

SCRIPT_FILES = ("train_qlora.py", "requirements.txt")
ARCHIVE = "sourcedir.tar.gz"


def script_text(name: str = "train_qlora.py") -> bytes:
    """A file shipped in `core/sagemaker/scripts`."""
    return resources.files("core.sagemaker.scripts").joinpath(name).read_bytes()


def script_archive() -> bytes:
    """The tar.gz of the script and its requirements (fixed times and owners: reproducible)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in SCRIPT_FILES:
            data = script_text(name)
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            archive.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)
