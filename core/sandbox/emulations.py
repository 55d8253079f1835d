"""What the sandbox answers itself instead of moto: the one list of it is `EMULATIONS`.

Each entry is an operation (service, method, path) with a handler and a one-line description;
the WSGI layer in `core/sandbox/server.py` tries them in order and passes everything else to
moto. What moto 5.2 lacks or gets wrong, and so what is here (DESIGN.md §5):

* before any of it, the front door (`core/sandbox/gate.py`): loopback `Host` with the sandbox's
  port only, no CORS headers, unsigned requests refused with each service's AWS error.
* bedrock `ListFoundationModels` / `GetFoundationModel`: answered from bedrock-tune's catalog; a
  model is listed in a region only where the catalog says it can be customized.
* bedrock `GetModelCustomizationJob` / `StopModelCustomizationJob` by ARN: moto routes the job
  identifier with `[^/]+`, so an ARN (which holds slashes) never matches; we rewrite it to the
  job name, which is what moto keys jobs by.
* customization jobs play out (`core/sandbox/jobs.py`): phases advance, the job completes in
  `job_seconds` (or fails in validation on a bad training file) and only then writes its
  metrics files, a stop goes Stopping for `stop_seconds` then Stopped (only a running job can
  be stopped), and GetCustomModel reports `modelStatus`.
* provisioned throughput and custom model deployments (`core/sandbox/inference.py`): Creating,
  then InService / Active; the two no-commitment PT quota; their List operations paged with
  maxResults / nextToken; ARNs in the answers (`foundationModelArn` is a foundation-model ARN).
* bedrock-runtime Converse, ConverseStream and InvokeModel (`core/sandbox/inference.py`,
  `core/sandbox/invoke.py`): honest answers (a custom model answers with its most similar
  training record, a base model says it is the sandbox), and Bedrock's errors for a model id it
  does not know, a customization id, a bare custom model, or a model not ready yet.
  InvokeModelWithResponseStream is not emulated (moto answers 500 NotImplemented).
* the Price List's GetProducts (`core/sandbox/pricing.py`): answered from a small price file
  shaped like the real API's answer (moto has no Price List).
* bedrock batch inference (`core/sandbox/batch.py`): Create / Get / List / Stop
  ModelInvocationJob; a job goes Submitted, Validating, Scheduled, InProgress, then writes its
  `.jsonl.out` and `manifest.json.out` as Bedrock does, with one record failed on purpose.
* Custom Model Import (`core/sandbox/imports.py`, handlers in `core/sandbox/
  import_emulations.py`, registered into this same table): import jobs that run bedrock-tune's
  pre-import check on the S3 folder and complete or fail by it, imported models with their
  architecture and custom model units, List operations paged, DeleteImportedModel, their tags,
  the imported-models quota, and Converse / InvokeModel on an imported model (a cold start
  answers ModelNotReadyException once, then the sandbox's honest answer).
* SageMaker models, endpoint configs and real-time endpoints (`core/sandbox/endpoints.py`,
  handlers in `core/sandbox/endpoint_emulations.py`, registered by `server.py`): an endpoint
  is Creating, then InService (or Failed with SageMaker's FailureReason when its model data's
  bucket is missing or the instance type has no capacity here), CreateEndpoint refused with
  ResourceLimitExceeded on an instance type without quota, and InvokeEndpoint /
  InvokeEndpointWithResponseStream answering as the sandbox (it says so), with the
  container's ModelError for a body it cannot read.
* SageMaker training jobs (`core/sandbox/training.py`) play out instead of completing at once:
  Starting, Downloading, Training, Uploading, Completed in `SecondaryStatusTransitions`, loss
  lines in CloudWatch Logs while they train, and a small valid Hugging Face model written to
  the output when they complete. Their faults (`core/sandbox/training_faults.py`): an instance
  type without quota is refused (ResourceLimitExceeded), one without capacity fails starting,
  a managed spot job is interrupted once and resumes from its checkpoint.
* SageMaker Autopilot (AutoML v2) jobs (`core/sandbox/automl.py`) play out: Starting,
  TrainingModels, Completed with a best candidate (metrics, inference containers); a CSV
  without the input/output columns fails the job.
* the SageMaker Public Hub (`core/sandbox/hub.py`): ListHubContents / DescribeHubContent of the
  sandbox's JumpStart models.
* s3 bucket policies are kept beside moto, which ignores a statement's Condition and would let
  a TLS-only policy (Deny when `aws:SecureTransport` is false) deny every object call.

moto is imported inside handlers: importing this module is cheap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from core.sandbox.table import (
    PassThrough,
    Reply,
    Sandbox,
    SandboxRequest,
    emulates,
    not_found,
    validation_error,
)

# --------------------------------------------------------------------------- bedrock emulations


def _foundation_model(model: Any, region: str) -> dict[str, Any]:
    modalities = [m for m in model.input_modalities if m in {"TEXT", "IMAGE", "EMBEDDING"}]
    return {
        "modelArn": f"arn:aws:bedrock:{region}::foundation-model/{model.id}",
        "modelId": model.id,
        "modelName": model.name,
        "providerName": model.provider,
        "inputModalities": modalities,
        "outputModalities": ["TEXT"],
        "responseStreamingSupported": True,
        "customizationsSupported": [t.value for t in model.customization_types],
        # Customization ids are served through provisioned throughput; base inference uses the
        # plain id or an inference profile.
        "inferenceTypesSupported": ["PROVISIONED"],
        "modelLifecycle": {"status": model.lifecycle.value},
    }


@emulates("bedrock", "GET", r"/foundation-models/?", "ListFoundationModels from the catalog")
def _list_foundation_models(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.catalog.lookup import builtin_models

    kind = request.param("byCustomizationType")
    provider = request.param("byProvider")
    inference = request.param("byInferenceType")
    output = request.param("byOutputModality")
    summaries = []
    for model in builtin_models():
        if request.region not in model.regions:
            continue
        if kind and kind not in {t.value for t in model.customization_types}:
            continue
        if provider and provider.lower() != model.provider.lower():
            continue
        if inference and inference != "PROVISIONED":
            continue
        if output and output != "TEXT":
            continue
        summaries.append(_foundation_model(model, request.region))
    return Reply(200, {"modelSummaries": summaries})


@emulates(
    "bedrock", "GET", r"/foundation-models/(?P<model>[^/]+)", "GetFoundationModel from the catalog"
)
def _get_foundation_model(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.catalog.lookup import builtin_models

    wanted = unquote(request.match.group("model"))
    for model in builtin_models():
        if wanted in (model.id, f"arn:aws:bedrock:{request.region}::foundation-model/{model.id}"):
            if request.region not in model.regions:
                break
            return Reply(200, {"modelDetails": _foundation_model(model, request.region)})
    return not_found(f"The model {wanted} does not exist in {request.region}.")


@emulates("bedrock", "POST", r"/model-customization-jobs/?", "created jobs start playing out")
def _job_created(request: SandboxRequest, sandbox: Sandbox) -> PassThrough:
    def started(body: dict[str, Any]) -> dict[str, Any]:
        name = str(body.get("jobArn", "")).rsplit("/", 1)[-1]
        sandbox.jobs.job_created(sandbox.account_id, request.region, name)
        return body

    return PassThrough(after=started)


@emulates(
    "bedrock",
    "(GET|POST)",
    r"/model-customization-jobs/(?P<job>arn:aws[^/]*:bedrock:[^/]*:[0-9]*:"
    r"model-customization-job/.+?|[^/]+)(?P<stop>/stop)?",
    "jobs by ARN (moto only matches names); phases, failure and model name on Get; Stop goes "
    "Stopping, then Stopped",
)
def _job(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough:
    name = unquote(request.match.group("job")).rsplit("/", 1)[-1]
    if request.match.group("stop"):
        if request.method != "POST":
            return PassThrough(f"/model-customization-jobs/{name}/stop")
        refused = sandbox.jobs.request_stop(sandbox.account_id, request.region, name)
        if refused:
            return validation_error(refused)
        if sandbox.jobs.is_simulated(sandbox.account_id, request.region, name):
            return Reply(200, {})
        return PassThrough(f"/model-customization-jobs/{name}/stop")  # moto: not found

    def decorate(body: dict[str, Any]) -> dict[str, Any]:
        return sandbox.jobs.decorate_job(sandbox.account_id, request.region, body)

    return PassThrough(
        f"/model-customization-jobs/{name}", decorate if request.method == "GET" else None
    )


@emulates("bedrock", "GET", r"/custom-models/(?P<model>.+)", "modelStatus on GetCustomModel")
def _custom_model(request: SandboxRequest, sandbox: Sandbox) -> PassThrough:
    def decorate(body: dict[str, Any]) -> dict[str, Any]:
        return sandbox.jobs.decorate_model(sandbox.account_id, request.region, body)

    wanted = unquote(request.match.group("model"))
    path = None
    if wanted.startswith("arn:"):
        # moto's route takes no slashes either; it looks models up by name or ARN.
        path = f"/custom-models/{wanted.rsplit('/', 1)[-1]}"
    return PassThrough(path, decorate)


def _answer(result: tuple[int, Any]) -> Reply:
    status, body = result
    if status >= 400:
        error_type, message = body
        return Reply(status, {"message": message}, error_type)
    return Reply(status, body)


def _json_body(request: SandboxRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


@emulates("bedrock", "POST", r"/provisioned-model-throughput/?", "CreateProvisionedModelThroughput")
def _create_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    body = _json_body(request)
    model = str(body.get("modelId", ""))
    # AWS answers with ARNs whatever the request named the model by: `modelArn` is the custom
    # model's ARN, and `foundationModelArn` the foundation-model ARN of its base (for a base
    # model, both are the foundation model's).
    arns = sandbox.jobs.custom_model_arns(sandbox.account_id, request.region, model)
    if arns is None:
        foundation = _foundation_model_arn(model, request.region)
        if foundation is None:
            return not_found(f"The model {model} was not found.")
        arns = (foundation, foundation)
    model_arn, foundation_arn = arns
    return _answer(
        sandbox.inference.create_throughput(
            request.region, sandbox.account_id, body, model_arn, foundation_arn
        )
    )


_FOUNDATION_MODEL_ARN = re.compile(
    r"arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}::foundation-model/\S+"
)
"""botocore's `FoundationModelArn` pattern, loosened at the end."""


def _foundation_model_arn(model: str, region: str) -> str | None:
    """The foundation-model ARN for a catalog model id or such an ARN; None for anything else."""
    from core.catalog.lookup import builtin_models

    if _FOUNDATION_MODEL_ARN.fullmatch(model):
        return model
    if any(model == m.id for m in builtin_models()):
        return f"arn:aws:bedrock:{region}::foundation-model/{model}"
    return None


@emulates(
    "bedrock",
    "GET",
    r"/provisioned-model-throughputs/?",
    "ListProvisionedModelThroughputs, paginated",
)
def _list_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(
        sandbox.inference.list_throughputs(request.param("maxResults"), request.param("nextToken"))
    )


@emulates("bedrock", "(GET|DELETE)", r"/provisioned-model-throughput/(?P<id>.+)", "Get/Delete a PT")
def _one_pt(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    key = unquote(request.match.group("id"))
    if request.method == "DELETE":
        return _answer(sandbox.inference.delete("pt", key))
    return _answer(sandbox.inference.get_throughput(key))


_DEPLOYMENTS = r"/model-customization/custom-model-deployments"


@emulates("bedrock", "POST", _DEPLOYMENTS + "/?", "CreateCustomModelDeployment")
def _create_deployment(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    body = _json_body(request)
    model = str(body.get("modelArn", ""))
    status = sandbox.jobs.custom_model_status(sandbox.account_id, request.region, model)
    if status is None:
        return not_found(f"The custom model {model} was not found.")
    if status != "Active":
        return validation_error(f"The custom model {model} is not Active (it is {status}).")
    return _answer(sandbox.inference.create_deployment(request.region, sandbox.account_id, body))


@emulates("bedrock", "GET", _DEPLOYMENTS + "/?", "ListCustomModelDeployments, paginated")
def _list_deployments(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(
        sandbox.inference.list_deployments(request.param("maxResults"), request.param("nextToken"))
    )


@emulates("bedrock", "(GET|DELETE)", _DEPLOYMENTS + r"/(?P<id>.+)", "Get/Delete a deployment")
def _one_deployment(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    key = unquote(request.match.group("id"))
    if request.method == "DELETE":
        return _answer(sandbox.inference.delete("deployment", key))
    return _answer(sandbox.inference.get_deployment(key))


INVALID_MODEL = "The provided model identifier is invalid."
"""Bedrock's ValidationException message for a model id it does not know, from Converse,
ConverseStream and InvokeModel alike (quoted in many public reports, e.g. aws-samples/
amazon-bedrock-workshop#315 and GoogleCloudPlatform/kubectl-ai#515). InvokeModel has also been
seen answering ResourceNotFoundException "Could not resolve the foundation model from the
provided model identifier." (truera/trulens#779); the sandbox gives the first."""
_GEO_PREFIXES = ("us.", "eu.", "apac.", "global.")


def _base_model(model_id: str) -> Any:
    """The catalog model a base-model inference id names (the plain id, an inference profile,
    or either's ARN), or None."""
    from core.catalog.lookup import builtin_models

    key = model_id
    if key.startswith("arn:") and (":foundation-model/" in key or ":inference-profile/" in key):
        key = key.rsplit("/", 1)[-1]
    for model in builtin_models():
        plain = model.inference_id
        if plain.startswith(_GEO_PREFIXES):
            plain = plain.split(".", 1)[1]
        if key == plain or key in {prefix + plain for prefix in _GEO_PREFIXES}:
            return model
    return None


@dataclass(frozen=True)
class _Target:
    """What answers a Converse or InvokeModel call."""

    family: str
    """The catalog family of the model (or of the custom model's base)."""
    records: list[dict[str, Any]] | None
    """A custom model's training records (it answers from them); None for a base model."""


def _inference_target(request: SandboxRequest, sandbox: Sandbox) -> Reply | _Target:
    """The model `request` asks, or Bedrock's error for it."""
    from core.catalog.lookup import builtin_models

    model_id = unquote(request.match.group("model"))
    if any(model_id == m.id for m in builtin_models()):
        # As Bedrock does: a customization id is not an inference id.
        return not_found("Model not found.")
    if ":custom-model/" in model_id:
        return validation_error(
            "A custom model cannot be invoked directly: buy provisioned throughput or create a "
            "custom model deployment, and use its ARN as the model id."
        )
    served, why_not = sandbox.inference.served_model(model_id)
    if why_not:
        return Reply(429, {"message": why_not}, "ModelNotReadyException")
    if served is not None:
        arns = sandbox.jobs.custom_model_arns(sandbox.account_id, request.region, served)
        base = _base_model_of(arns[1]) if arns else None
        records = sandbox.jobs.training_records(sandbox.account_id, request.region, served)
        return _Target(base.family if base is not None else "", records)
    if ":provisioned-model/" in model_id or ":custom-model-deployment/" in model_id:
        return not_found(f"{model_id} was not found.")
    base = _base_model(model_id)
    if base is None:
        return validation_error(INVALID_MODEL)
    return _Target(base.family, None)


def _base_model_of(foundation_model_arn: str) -> Any:
    """The catalog model of a custom model's base (its foundation-model ARN), or None."""
    from core.catalog.lookup import builtin_models

    wanted = foundation_model_arn.rsplit("foundation-model/", 1)[-1]
    return next((m for m in builtin_models() if m.id == wanted), None) or _base_model(wanted)


@emulates(
    "bedrock",
    "POST",
    r"/model/(?P<model>.+)/converse(?P<stream>-stream)?",
    "Converse / ConverseStream (honest sandbox answers; Bedrock's errors for unknown models)",
)
def _converse(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.sandbox.import_emulations import IMPORTED_MODEL, converse_imported

    model_id = unquote(request.match.group("model"))
    if IMPORTED_MODEL in model_id:
        reply = converse_imported(model_id, request, sandbox)
        if request.match.group("stream") and reply.status == 200:
            return Reply(200, _stream_events(reply.body), stream=True)
        return reply
    target = _inference_target(request, sandbox)
    if isinstance(target, Reply):
        return target
    model_id = unquote(request.match.group("model"))
    reply = _answer(sandbox.inference.converse(model_id, _json_body(request), target.records))
    if request.match.group("stream") and reply.status == 200:
        return Reply(200, _stream_events(reply.body), stream=True)
    return reply


@emulates(
    "bedrock",
    "POST",
    r"/model/(?P<model>.+)/invoke",
    "InvokeModel in the model family's body shape (moto answers {} for any model)",
)
def _invoke(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.sandbox.import_emulations import IMPORTED_MODEL, invoke_imported
    from core.sandbox.invoke import MALFORMED, read_request, response

    if IMPORTED_MODEL in unquote(request.match.group("model")):
        return invoke_imported(unquote(request.match.group("model")), request, sandbox)
    target = _inference_target(request, sandbox)
    if isinstance(target, Reply):
        return target
    asked = read_request(target.family, request.body)
    if asked is None:
        return validation_error(MALFORMED)
    question, limit = asked
    model_id = unquote(request.match.group("model"))
    answer, cut = sandbox.inference.answer(model_id, question, target.records, limit)
    tokens_in, tokens_out = max(1, len(question) // 4), max(1, len(answer) // 4)
    return Reply(200, response(target.family, answer, cut, tokens_in, tokens_out))


def _stream_events(body: dict[str, Any]) -> bytes:
    """A Converse answer as ConverseStream events, a few words per delta."""
    from core.serving.eventstream import event

    text = body["output"]["message"]["content"][0]["text"]
    words = text.split(" ")
    frames = [event("messageStart", {"role": "assistant"})]
    for start in range(0, len(words), 3):
        piece = " ".join(words[start : start + 3]) + (" " if start + 3 < len(words) else "")
        frames.append(
            event("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": 0})
        )
    frames.append(event("contentBlockStop", {"contentBlockIndex": 0}))
    frames.append(event("messageStop", {"stopReason": body["stopReason"]}))
    frames.append(event("metadata", {"usage": body["usage"], "metrics": body["metrics"]}))
    return b"".join(frames)


# --------------------------------------------------------------------------- price list


@emulates("pricing", "POST", r"/?", "Price List GetProducts from a small price file")
def _price_list(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    from core.sandbox.pricing import answer

    status, body = answer(request.target, request.body)
    if status >= 400:
        # JSON-protocol clients read the error code from `__type`.
        error_type, message = body
        return Reply(status, {"__type": error_type, "message": message}, error_type)
    return Reply(status, body)


# --------------------------------------------------------------------------- batch inference


@emulates("bedrock", "POST", r"/model-invocation-job/?", "CreateModelInvocationJob")
def _create_batch_job(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(sandbox.batch.create(request.region, sandbox.account_id, _json_body(request)))


@emulates(
    "bedrock", "GET", r"/model-invocation-jobs/?", "ListModelInvocationJobs, filtered and paged"
)
def _list_batch_jobs(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(
        sandbox.batch.list(
            request.param("statusEquals"),
            request.param("nameContains"),
            request.param("maxResults"),
            request.param("nextToken"),
        )
    )


@emulates(
    "bedrock",
    "POST",
    r"/model-invocation-job/(?P<job>.+)/stop",
    "StopModelInvocationJob: Stopping, then Stopped",
)
def _stop_batch_job(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(sandbox.batch.stop(request.match.group("job")))


@emulates(
    "bedrock",
    "GET",
    r"/model-invocation-job/(?P<job>.+)",
    "GetModelInvocationJob (by ARN or id): progression by the clock, output written at the end",
)
def _get_batch_job(request: SandboxRequest, sandbox: Sandbox) -> Reply:
    return _answer(sandbox.batch.get(request.match.group("job")))


# --------------------------------------------------------------------------- s3 emulations


def _moto_bucket(sandbox: Sandbox, name: str) -> Any:
    from moto.s3.models import s3_backends

    return s3_backends[sandbox.account_id]["global"].buckets.get(name)


@emulates(
    "s3",
    "(PUT|GET|DELETE)",
    r"/(?P<bucket>[^/]+)/?",
    "Put/Get/DeleteBucketPolicy (kept beside moto, which would misread conditions)",
)
def _bucket_policy(request: SandboxRequest, sandbox: Sandbox) -> Reply | PassThrough | None:
    """moto 5.2 ignores a statement's Condition and then denies every object call the statement
    names, so bedrock-tune's TLS-only policy (Deny when aws:SecureTransport is false) would lock
    every object of the bucket. The sandbox keeps the policy on moto's bucket under another
    attribute, answers for it, and leaves moto's own policy (what it enforces) empty."""
    if "policy" not in request.query:
        return None
    bucket = _moto_bucket(sandbox, request.match.group("bucket"))
    if bucket is None:
        return None  # moto answers NoSuchBucket
    if request.method == "PUT":
        try:
            bucket.sandbox_policy = json.loads(request.body)
        except ValueError:
            return None  # moto answers MalformedPolicy
        return Reply(204, {})
    if request.method == "DELETE":
        bucket.sandbox_policy = None
        return None
    stored = getattr(bucket, "sandbox_policy", None)
    return Reply(200, stored) if stored is not None else None


# The Custom Model Import and SageMaker operations register themselves into EMULATIONS (after
# the ones above: none of their paths overlaps). SageMaker's operations all share `POST /`: each
# handler answers its own operations and returns None for the others.
from core.sandbox import automl, hub, import_emulations, sagemaker_emulations  # noqa: E402, F401
