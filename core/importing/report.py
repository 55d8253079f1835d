"""What the pre-import check reports: problems (rule, file, message, fix), what it learned about
the model, and the verdict, in the dataset validator's shape (`--json` included)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from core.importing import architectures as arch

Severity = Literal["error", "warning"]

RULES: dict[str, str] = {
    "folder-empty": "The source holds no files",
    "config-missing": "config.json is missing",
    "config-unreadable": "config.json is not a JSON object",
    "adapter-only": "A LoRA adapter without merged weights",
    "adapter-files": "Adapter files next to the merged weights",
    "architecture-unsupported": "An architecture Custom Model Import does not take",
    "region-unsupported": "Custom Model Import does not run in this Region for this model",
    "weights-bin-only": "Weights only in .bin (PyTorch pickle) files",
    "weights-missing": "No weights",
    "index-missing": "Several shards but no model.safetensors.index.json",
    "index-unreadable": "model.safetensors.index.json is not a weight map",
    "index-shard-missing": "The index names a shard that is not there",
    "index-shard-unlisted": "A shard the index does not name",
    "index-tensor-mismatch": "The index and the shard disagree on the tensors",
    "shard-unreadable": "A safetensors file whose header cannot be read",
    "shard-truncated": "A safetensors file shorter than its header says",
    "dtype-unsupported": "A dtype other than float16, bfloat16 or float32",
    "quantized": "Quantized weights",
    "tokenizer-missing": "Tokenizer files are missing",
    "chat-template-missing": "No chat template in tokenizer_config.json",
    "context-too-long": "max_position_embeddings over the import limit",
    "size-over-limit": "Weights over the import size limit",
    "generation-config": "generation_config.json does not have what GPT-OSS needs",
    "file-name": "A file name the import's S3 URI cannot hold",
}
"""Every rule, by id, with what it means."""


@dataclass(frozen=True)
class ImportProblem:
    """One reason the import would fail (error) or may disappoint (warning)."""

    rule: str
    file: str
    """The file it is about (empty for the model as a whole)."""
    message: str
    fix: str
    severity: Severity = "error"

    @property
    def title(self) -> str:
        """What the rule means."""
        return RULES.get(self.rule, self.rule)

    def to_json(self) -> dict[str, str]:
        """The validator's shape: rule, file, message, fix."""
        return {"rule": self.rule, "file": self.file, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class ModelFacts:
    """What the check learned about the model (None where it could not tell)."""

    model_type: str | None = None
    architecture: str | None = None
    """The `architectures` class in config.json (LlamaForCausalLM...)."""
    family: str | None = None
    """How the user guide names it (None for an unsupported architecture)."""
    apis: tuple[str, ...] = ()
    """The bedrock-runtime operations it will answer once imported."""
    dtype: str | None = None
    parameters: int | None = None
    """Counted from the shard headers."""
    weights_bytes: int = 0
    shards: int = 0
    context_length: int | None = None
    multimodal: bool = False
    chat_template: bool = False

    @property
    def converse(self) -> bool:
        """Whether chat can use Converse (else InvokeModel with the model's own body)."""
        return "Converse" in self.apis

    def to_json(self) -> dict[str, Any]:
        """Plain JSON data."""
        return {
            "model_type": self.model_type,
            "architecture": self.architecture,
            "family": self.family,
            "apis": list(self.apis),
            "dtype": self.dtype,
            "parameters": self.parameters,
            "weights_bytes": self.weights_bytes,
            "shards": self.shards,
            "context_length": self.context_length,
            "multimodal": self.multimodal,
            "chat_template": self.chat_template,
        }


@dataclass(frozen=True)
class ImportCheckReport:
    """The verdict on one model source."""

    source: str
    problems: tuple[ImportProblem, ...]
    facts: ModelFacts
    upload: tuple[str, ...] = ()
    """The files an import needs (what is uploaded from a local folder or the hub)."""
    region: str | None = None
    upload_bytes: int = 0
    """How much the upload sends."""

    @property
    def ok(self) -> bool:
        """No error (warnings allowed)."""
        return not self.errors

    @property
    def errors(self) -> tuple[ImportProblem, ...]:
        """The problems that stop the import."""
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[ImportProblem, ...]:
        """The problems that do not stop it."""
        return tuple(p for p in self.problems if p.severity == "warning")

    def to_json(self) -> dict[str, Any]:
        """The `--json` object: verdict, problems, facts, and the limits with their source."""
        return {
            "ok": self.ok,
            "source": self.source,
            "region": self.region,
            "errors": [p.to_json() for p in self.errors],
            "warnings": [p.to_json() for p in self.warnings],
            "model": self.facts.to_json(),
            "upload": {"files": list(self.upload), "bytes": self.upload_bytes},
            "limits": {
                "max_context": arch.MAX_CONTEXT,
                "max_text_weights_bytes": arch.MAX_TEXT_WEIGHTS,
                "max_multimodal_weights_bytes": arch.MAX_MULTIMODAL_WEIGHTS,
                "regions": list(arch.IMPORT_REGIONS),
                "as_of": arch.AS_OF,
                "source": arch.SOURCE,
            },
        }
