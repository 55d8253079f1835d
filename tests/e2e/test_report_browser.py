"""The HTML report in a real headless Chromium: an evaluation run in the sandbox (a custom
model trained there, served by an on-demand deployment, against its base model), its page
rendered to a PNG, and the charts' colours found in the pixels (so the inline SVG really drew).

Set BEDROCK_TUNE_DOCS_SCREENSHOT=1 to also refresh docs/evaluation-report.png for the README.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model
from core.evaluation.evaluate import Options, evaluate
from core.evaluation.html import PALETTE, WIN
from core.evaluation.records import TestRecord
from core.evaluation.report import save_report
from core.jobs.customization import JobRequest, get_job, launch, new_client_request_token
from core.sandbox.server import Sandbox
from core.serving.deploy import create_deployment
from tests.fakes import Clock

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
NOVA = "amazon.nova-micro-v1:0:128k"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "evaluation-report.png"
PAIRS = [
    ("How long is the refund window?", "You can return any item within thirty days of delivery."),
    ("Do you ship to Canada?", "Yes, we ship to Canada; delivery takes five to eight days."),
    ("How do I reset my password?", "Use the Forgot password link on the sign-in page."),
    ("Can I change my order?", "You can change an order until it ships, from Your orders."),
    ("Is there a warranty?", "Every device has a two-year warranty covering defects."),
    ("How do I contact support?", "Write to support through the Help page; we answer in a day."),
    (
        "Do you offer gift cards?",
        "Gift cards from ten to two hundred dollars are on the Gifts page.",
    ),
    ("Where is my parcel?", "Track your parcel from the link in your shipping email."),
]

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Chromium (Debian: apt-get install -y chromium) to render the report",
)


def png_pixels(data: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """(width, height, RGB pixels) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    position, idat, header = 8, b"", b""
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        chunk = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        if chunk == b"IHDR":
            header = body
        elif chunk == b"IDAT":
            idat += body
        position += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6) and header[12] == 0
    step = 3 if color == 2 else 4
    raw, stride = zlib.decompress(idat), width * step
    previous = bytearray(stride)
    pixels: list[tuple[int, int, int]] = []
    offset = 0
    for _ in range(height):
        kind, line = raw[offset], bytearray(raw[offset + 1 : offset + 1 + stride])
        offset += 1 + stride
        for i in range(stride):
            left = line[i - step] if i >= step else 0
            up, corner = previous[i], previous[i - step] if i >= step else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                guess = left + up - corner
                nearest = min(
                    (abs(guess - left), 0, left),
                    (abs(guess - up), 1, up),
                    (abs(guess - corner), 2, corner),
                )[2]
                line[i] = (line[i] + nearest) & 255
        pixels += [(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, step)]
        previous = line
    return width, height, pixels


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


@pytest.fixture
def report_page(tmp_path: Path) -> Path:
    clock = Clock()
    with Sandbox(job_seconds=10, ready_seconds=5, clock=clock) as sandbox:
        context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials)
        s3 = context.client("s3")
        s3.create_bucket(Bucket="bt-report")
        train = "".join(json.dumps({"prompt": q, "completion": a}) + "\n" for q, a in PAIRS)
        s3.put_object(Bucket="bt-report", Key="train.jsonl", Body=train.encode())
        job = launch(
            context,
            JobRequest(
                job_name="report-job",
                custom_model_name="report-model",
                base_model_id=NOVA,
                role_arn="arn:aws:iam::123456789012:role/r",
                training_uri="s3://bt-report/train.jsonl",
                output_uri="s3://bt-report/out/",
                client_request_token=new_client_request_token(),
            ),
            find_model(NOVA),
        )
        clock.t += 20
        model = get_job(context, job).output_model_arn
        assert model
        deployment = create_deployment(context, model, "report-dep", new_client_request_token())
        clock.t += 10
        records = [
            TestRecord(i + 1, "", f"Please tell me: {q.lower()}", a)
            for i, (q, a) in enumerate(PAIRS)
        ]
        report = evaluate(
            context,
            records,
            deployment,
            find_model(NOVA).inference_id,
            options=Options(tuned_base_id=NOVA),
        )
    saved = save_report(report, tmp_path, title="Support answers: tuned Nova Micro vs its base")
    return saved.html


def test_the_report_renders_in_headless_chromium(report_page: Path, tmp_path: Path) -> None:
    assert CHROMIUM is not None
    shot = tmp_path / "report.png"
    common = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    # No network is needed: every asset is inline (file:// only, no proxy, no fetch).
    subprocess.run(
        [*common, "--window-size=900,1150", f"--screenshot={shot}", report_page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
    )
    dom = subprocess.run(
        [*common, "--dump-dom", report_page.as_uri()],
        check=True,
        capture_output=True,
        timeout=120,
        text=True,
    ).stdout
    assert "<svg" in dom and "tuned model beats base model" in dom
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (900, 1150)
    colors = Counter(pixels)
    # The bars of both models and the wins segment were drawn (hundreds of pixels each).
    for color in (PALETTE[0], PALETTE[1], WIN):
        assert colors[_rgb(color)] > 300, f"{color} was not drawn"
    assert len(colors) > 20  # text and charts, not a blank page
    if os.environ.get("BEDROCK_TUNE_DOCS_SCREENSHOT"):
        DOCS.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, DOCS)
