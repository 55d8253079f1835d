"""What Custom Model Import takes, as data: architectures, files, dtypes, limits, regions, which API
each architecture answers, and what an imported model costs. Every fact names its source and date.

Sources (all read through reference/bedrock.md, "Beyond Bedrock's own customization" and §7,
checked 2026-12 against the Bedrock user guide and botocore 1.44):
- UG `model-customization-import-model`: the architectures, the required files, the limits, the
  Regions;
- UG `invoke-imported-model`: which architectures answer Converse / ConverseStream (the rest
  answer InvokeModel only), the OpenAI-style bodies, `ModelNotReadyException` on a cold copy;
- UG `model-import-iam-role`: the service role's trust (`aws:SourceAccount`, and `aws:SourceArn`
  `...:model-import-job/*`) and S3 read permissions;
- the text-to-SQL walkthrough (issue 13): merge the LoRA adapter with `merge_and_unload()` and save
  safetensors shards.

The Hugging Face `model_type` and class names (`LlamaForCausalLM`...) are how transformers writes
the architectures the user guide names into `config.json`: that mapping is ours.
"""

from __future__ import annotations

from dataclasses import dataclass

AS_OF = "2026-12"
"""When the facts below were last checked against their sources."""
SOURCE = (
    "Amazon Bedrock User Guide: model-customization-import-model, invoke-imported-model, "
    "model-import-iam-role (via reference/bedrock.md §7, checked 2026-12)"
)

IMPORT_REGIONS: tuple[str, ...] = ("eu-central-1", "us-east-1", "us-east-2", "us-west-2")
"""Regions where Custom Model Import runs (reference §7)."""

MAX_CONTEXT = 131_072
"""The longest `max_position_embeddings` accepted. ⚠ The reference says "max context < 128K", yet
its own example imports Llama 3.1 8B with a 128K (131,072-token) context: 131,072 is allowed."""
MAX_TEXT_WEIGHTS = 200 * 10**9
"""Weights of a text model must be under 200 GB (reference §7)."""
MAX_MULTIMODAL_WEIGHTS = 100 * 10**9
"""Weights of a multimodal model must be under 100 GB (reference §7)."""

SUPPORTED_DTYPES: dict[str, str] = {
    "float16": "F16",
    "bfloat16": "BF16",
    "float32": "F32",
}
"""`torch_dtype` values (and their safetensors dtype codes) of full-precision weights. ⚠ The
reference lists no dtypes; quantized weights (int8/int4, bitsandbytes, GPTQ, AWQ) are refused here
because the walkthrough merges the QLoRA adapter into 16-bit weights before importing."""

TRAINED_WITH = "transformers 4.51.3"
"""The transformers version the user guide says to train (and save) with."""

GPT_OSS_EOS = (200002, 199999, 200012)
"""The `eos_token_id` list GPT-OSS imports need in `generation_config.json` (reference §7)."""

TOKENIZER_CONFIG = "tokenizer_config.json"
TOKENIZER_FILES: tuple[str, ...] = ("tokenizer.json", "tokenizer.model")
"""At least one of these holds the vocabulary. ⚠ The reference lists both as required, but
Llama 3 models ship only `tokenizer.json` and import fine (the walkthrough), so one is enough."""


@dataclass(frozen=True)
class Architecture:
    """One architecture Custom Model Import takes."""

    model_type: str
    """`config.json`'s `model_type`."""
    classes: tuple[str, ...]
    """`config.json`'s `architectures` entries transformers writes for it."""
    family: str
    """How the user guide names it."""
    converse: bool
    """Whether it answers Converse / ConverseStream (else InvokeModel only)."""
    multimodal: bool = False
    regions: tuple[str, ...] = IMPORT_REGIONS
    note: str = ""

    @property
    def apis(self) -> tuple[str, ...]:
        """The bedrock-runtime operations an imported model of this architecture answers."""
        invoke = ("InvokeModel", "InvokeModelWithResponseStream")
        return ("Converse", "ConverseStream", *invoke) if self.converse else invoke


ARCHITECTURES: tuple[Architecture, ...] = (
    Architecture(
        "llama",
        ("LlamaForCausalLM",),
        "Llama 2 / 3 / 3.1 / 3.2 / 3.3",
        converse=True,
        note="Bedrock overrides Llama 3 rope_scaling (original_max_position_embeddings 8192, "
        "factor 8, high_freq_factor 4, low_freq_factor 1).",
    ),
    Architecture(
        "mllama",
        ("MllamaForConditionalGeneration",),
        "Llama 3.2 vision (Mllama)",
        converse=True,
        multimodal=True,
    ),
    Architecture("mistral", ("MistralForCausalLM",), "Mistral", converse=True),
    Architecture("mixtral", ("MixtralForCausalLM",), "Mixtral", converse=True),
    Architecture("t5", ("T5ForConditionalGeneration",), "Flan-T5", converse=True),
    Architecture("gpt_bigcode", ("GPTBigCodeForCausalLM",), "GPTBigCode", converse=True),
    Architecture(
        "qwen2",
        ("Qwen2ForCausalLM",),
        "Qwen2 / Qwen2.5",
        converse=False,
        note="Qwen2 and Qwen2.5 share model_type qwen2; the user guide says Qwen2.5 does not "
        "answer Converse, so InvokeModel is assumed for both. ⚠",
    ),
    Architecture(
        "qwen2_vl",
        ("Qwen2VLForConditionalGeneration",),
        "Qwen2-VL",
        converse=False,
        multimodal=True,
    ),
    Architecture(
        "qwen2_5_vl",
        ("Qwen2_5_VLForConditionalGeneration",),
        "Qwen2.5-VL",
        converse=False,
        multimodal=True,
    ),
    Architecture("qwen3", ("Qwen3ForCausalLM",), "Qwen3", converse=False),
    Architecture("qwen3_moe", ("Qwen3MoeForCausalLM",), "Qwen3 MoE", converse=False),
    Architecture(
        "gpt_oss",
        ("GptOssForCausalLM",),
        "GPT-OSS 20B / 120B",
        converse=False,
        regions=("us-east-1",),
        note="Answers InvokeModel with OpenAI-style bodies; needs generation_config.json with "
        "eos_token_id [200002, 199999, 200012].",
    ),
)
"""Every architecture Custom Model Import takes (reference §7, 2026-12). Embedding models are
not supported."""

_BY_TYPE = {a.model_type: a for a in ARCHITECTURES}
_BY_CLASS = {c: a for a in ARCHITECTURES for c in a.classes}


def architecture_of(model_type: str | None, classes: tuple[str, ...] = ()) -> Architecture | None:
    """The supported architecture a `config.json` describes (by `model_type`, else by one of its
    `architectures` classes), or None."""
    if model_type and model_type in _BY_TYPE:
        return _BY_TYPE[model_type]
    return next((_BY_CLASS[c] for c in classes if c in _BY_CLASS), None)


def supported_names() -> str:
    """`Llama 2 / 3 ... (llama), Mistral (mistral), ...` for messages."""
    return ", ".join(f"{a.family} ({a.model_type})" for a in ARCHITECTURES)


# ------------------------------------------------------------------------------------ prices
