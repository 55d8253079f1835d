"""The pre-import check: everything Custom Model Import would refuse, found before anything is
uploaded, reported like the dataset validator (rule, file, message, fix).

It reads only what it must: `config.json`, the tokenizer and generation configs, the safetensors
index, and each shard's header (a ranged read for S3; never the weights themselves). The rules,
their sources and the limits are in `core/importing/architectures.py`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from core import format as fmt
from core.importing import architectures as arch
from core.importing.report import ImportCheckReport, ImportProblem, ModelFacts
from core.importing.safetensors import Header, SafetensorsError, read_header
from core.importing.source import ModelFiles, wanted

CONFIG = "config.json"
INDEX = "model.safetensors.index.json"
ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = ("adapter_model.safetensors", "adapter_model.bin")
GENERATION_CONFIG = "generation_config.json"
OTHER_WEIGHTS = (".bin", ".pt", ".pth", ".ckpt", ".gguf", ".h5", ".msgpack")
"""Weight formats Custom Model Import does not read (only safetensors)."""
_KEY_SEGMENT = re.compile(r"[-!_*'().a-zA-Z0-9]+")
"""What the import's S3 URI takes in each key segment (botocore bedrock `S3Uri`)."""

MERGE_SNIPPET = """\
from peft import AutoPeftModelForCausalLM
from transformers import AutoTokenizer
import torch

model = AutoPeftModelForCausalLM.from_pretrained("{adapter}", torch_dtype=torch.float16)
merged = model.merge_and_unload()  # the adapter folded into the base weights
merged.save_pretrained("{adapter}-merged", safe_serialization=True, max_shard_size="2GB")
AutoTokenizer.from_pretrained("{tokenizer}").save_pretrained("{adapter}-merged")"""
"""The merge the text-to-SQL walkthrough does before importing (peft `merge_and_unload`)."""

CONVERT_SNIPPET = """\
from transformers import AutoModelForCausalLM
model = AutoModelForCausalLM.from_pretrained("{folder}", torch_dtype="auto")
model.save_pretrained("{folder}-safetensors", safe_serialization=True, max_shard_size="2GB")"""


class _Findings:
    """Problems as the rules find them."""

    def __init__(self) -> None:
        self.problems: list[ImportProblem] = []

    def error(self, rule: str, file: str, message: str, fix: str) -> None:
        self.problems.append(ImportProblem(rule, file, message, fix))

    def warning(self, rule: str, file: str, message: str, fix: str) -> None:
        self.problems.append(ImportProblem(rule, file, message, fix, "warning"))


def _json_file(files: ModelFiles, name: str) -> Any:
    """The parsed file, or None when it is not JSON."""
    try:
        return json.loads(files.read(name))
    except (ValueError, UnicodeDecodeError):
        return None


def check_model(files: ModelFiles, *, region: str | None = None) -> ImportCheckReport:
    """Check a model's files against every Custom Model Import rule (blocking for S3: call from
    a worker). `region`: the Region the import will run in (checked when given)."""
    found = _Findings()
    listing = files.listing()
    names = set(listing)
    where = files.where
    if not names:
        found.error(
            "folder-empty",
            "",
            f"{where} holds no files.",
            "Point at the folder save_pretrained wrote (config.json, *.safetensors, tokenizer).",
        )
        return ImportCheckReport(where, tuple(found.problems), ModelFacts(), (), region)
    shards = sorted(n for n in names if n.endswith(".safetensors") and not _adapter_file(n))
    if _adapter_only(names, shards):
        _explain_adapter(files, found)
        return ImportCheckReport(where, tuple(found.problems), ModelFacts(), (), region)
    config = _read_config(files, names, found)
    facts = _architecture(config, found, region)
    weights = _weights(files, listing, shards, found)
    facts = _with_weights(facts, config, weights, found)
    _tokenizer(files, names, found)
    facts = _replace_chat_template(facts, files, names)
    _limits(facts, found)
    if facts.model_type == "gpt_oss":
        _gpt_oss(files, names, found)
    if any(_adapter_file(n) for n in names):
        found.warning(
            "adapter-files",
            ADAPTER_CONFIG if ADAPTER_CONFIG in names else "",
            "The folder holds LoRA adapter files next to the merged weights; the import uses "
            "the merged weights only.",
            "Nothing to do: the adapter files are not uploaded.",
        )
    upload = tuple(sorted(n for n in names if wanted(n) and not _adapter_file(n)))
    for name in upload:
        if not all(_KEY_SEGMENT.fullmatch(part) for part in name.split("/")):
            found.error(
                "file-name",
                name,
                f"'{name}' has characters the import's S3 URI cannot hold (spaces, '+', '=', "
                "'&'...).",
                "Rename it with letters, digits and -!_*'(). only.",
            )
    return ImportCheckReport(
        where,
        tuple(found.problems),
        facts,
        upload,
        region,
        upload_bytes=sum(listing[n] for n in upload),
    )


def _adapter_file(name: str) -> bool:
    return name.rsplit("/", 1)[-1] in (ADAPTER_CONFIG, *ADAPTER_WEIGHTS)


def _adapter_only(names: set[str], shards: list[str]) -> bool:
    return ADAPTER_CONFIG in names and not shards


def _explain_adapter(files: ModelFiles, found: _Findings) -> None:
    adapter = _json_file(files, ADAPTER_CONFIG)
    base = adapter.get("base_model_name_or_path") if isinstance(adapter, dict) else None
    base_text = f" on {base}" if base else ""
    tokenizer = "ADAPTER_FOLDER" if "tokenizer_config.json" in files.listing() else base or "BASE"
    snippet = MERGE_SNIPPET.format(adapter="ADAPTER_FOLDER", tokenizer=tokenizer)
    found.error(
        "adapter-only",
        ADAPTER_CONFIG,
        f"{files.where} is a LoRA adapter{base_text} (adapter_config.json and adapter weights), "
        "not a model: Custom Model Import needs the full weights with the adapter merged in.",
        "Merge the adapter into its base model and import the merged folder (needs the base "
        "model's weights and enough memory to hold them):\n" + snippet,
    )


def _read_config(files: ModelFiles, names: set[str], found: _Findings) -> dict[str, Any]:
    if CONFIG not in names:
        found.error(
            "config-missing",
            CONFIG,
            f"{files.where} has no config.json, so Bedrock cannot tell the architecture.",
            "Save the model with save_pretrained(folder), which writes config.json beside the "
            "weights.",
        )
        return {}
    config = _json_file(files, CONFIG)
    if not isinstance(config, dict):
        found.error(
            "config-unreadable",
            CONFIG,
            "config.json is not a JSON object.",
            "Write it again with model.config.save_pretrained(folder).",
        )
        return {}
    return config


def _architecture(config: dict[str, Any], found: _Findings, region: str | None) -> ModelFacts:
    if not config:
        return ModelFacts()
    model_type = config.get("model_type")
    classes = tuple(str(c) for c in config.get("architectures") or [])
    model_type = str(model_type) if model_type else None
    chosen = arch.architecture_of(model_type, classes)
    if chosen is None:
        found.error(
            "architecture-unsupported",
            CONFIG,
            f"model_type '{model_type}' ({', '.join(classes) or 'no architectures'}) is not an "
            "architecture Custom Model Import takes.",
            f"Import one of: {arch.supported_names()} (as of {arch.AS_OF}; {arch.SOURCE}). "
            "Embedding models are not supported.",
        )
        return ModelFacts(model_type, classes[0] if classes else None)
    if region is not None and region not in chosen.regions:
        found.error(
            "region-unsupported",
            CONFIG,
            f"{chosen.family} imports run in {', '.join(chosen.regions)}, not {region}.",
            f"Switch the run to {chosen.regions[0]}.",
        )
    text_config = config.get("text_config") if isinstance(config.get("text_config"), dict) else {}
    context = config.get("max_position_embeddings") or config.get("n_positions")
    context = context or (text_config or {}).get("max_position_embeddings")
    return ModelFacts(
        model_type=chosen.model_type,
        architecture=classes[0] if classes else chosen.classes[0],
        family=chosen.family,
        apis=chosen.apis,
        dtype=str(config.get("torch_dtype") or config.get("dtype") or "") or None,
        context_length=int(context) if isinstance(context, int) else None,
        multimodal=chosen.multimodal,
    )


@dataclass
class _Weights:
    headers: dict[str, Header] = field(default_factory=dict)
    total_bytes: int = 0


def _weights(
    files: ModelFiles, listing: Mapping[str, int], shards: list[str], found: _Findings
) -> _Weights:
    weights = _Weights(total_bytes=sum(listing[s] for s in shards))
    if not shards:
        others = sorted(n for n in listing if n.endswith(OTHER_WEIGHTS) and not _adapter_file(n))
        if others:
            found.error(
                "weights-bin-only",
                others[0],
                f"The weights are only in {', '.join(others[:3])}"
                + (" ..." if len(others) > 3 else "")
                + ": Custom Model Import reads safetensors only.",
                "Save them as safetensors (2 GB shards, as the walkthrough does):\n"
                + CONVERT_SNIPPET.format(folder="MODEL_FOLDER"),
            )
        else:
            found.error(
                "weights-missing",
                "",
                f"{files.where} has no *.safetensors weights.",
                "Save the model with save_pretrained(folder, safe_serialization=True).",
            )
        return weights
    for shard in shards:
        try:
            header = read_header(partial(files.read_range, shard))
        except SafetensorsError as error:
            found.error(
                "shard-unreadable",
                shard,
                f"{shard} is not a readable safetensors file: {error}.",
                "Save the weights again with save_pretrained(folder, safe_serialization=True).",
            )
            continue
        weights.headers[shard] = header
        if listing[shard] < header.expected_size:
            found.error(
                "shard-truncated",
                shard,
                f"{shard} has {fmt.size(listing[shard])}, its header needs "
                f"{fmt.size(header.expected_size)}: the file was cut short (an interrupted copy "
                "or download?).",
                "Copy or download the file again.",
            )
    _index(files, listing, shards, weights, found)
    return weights


def _index(
    files: ModelFiles,
    listing: Mapping[str, int],
    shards: list[str],
    weights: _Weights,
    found: _Findings,
) -> None:
    if INDEX not in listing:
        if len(shards) > 1:
            found.error(
                "index-missing",
                INDEX,
                f"{len(shards)} safetensors shards but no {INDEX} to say which tensor is where.",
                "Save again with save_pretrained(folder, safe_serialization=True, "
                "max_shard_size='2GB'), which writes the index with the shards.",
            )
        return
    index = _json_file(files, INDEX)
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not weight_map:
        found.error(
            "index-unreadable",
            INDEX,
            f"{INDEX} has no weight_map.",
            "Save the weights again with save_pretrained; it writes the index.",
        )
        return
    folder = INDEX.rpartition("/")[0]
    named: dict[str, set[str]] = {}
    for tensor, shard in weight_map.items():
        path = f"{folder}/{shard}" if folder else str(shard)
        named.setdefault(path, set()).add(str(tensor))
    for shard in sorted(set(named) - set(listing)):
        found.error(
            "index-shard-missing",
            shard,
            f"{INDEX} puts {fmt.plural(len(named[shard]), 'tensor')} in {shard}, which is not "
            "in the folder.",
            "Copy the missing shard (all model-0000N-of-0000M.safetensors files belong "
            "together), or save the model again.",
        )
    for shard in sorted(set(shards) - set(named)):
        found.warning(
            "index-shard-unlisted",
            shard,
            f"{shard} is not named in {INDEX}: the import ignores it (a leftover from an "
            "earlier save?).",
            "Delete it, or save the model again into an empty folder.",
        )
    for shard, tensors in sorted(named.items()):
        header = weights.headers.get(shard)
        if header is None:
            continue
        missing = sorted(tensors - header.names)
        if missing:
            found.error(
                "index-tensor-mismatch",
                shard,
                f"{INDEX} says {shard} holds {missing[0]}"
                + (f" and {len(missing) - 1} more" if len(missing) > 1 else "")
                + ", but the shard does not.",
                "The index and the shards come from different saves: save the model again "
                "into an empty folder.",
            )


def _with_weights(
    facts: ModelFacts, config: dict[str, Any], weights: _Weights, found: _Findings
) -> ModelFacts:
    seen: dict[str, int] = {}
    dtypes: set[str] = set()
    for header in weights.headers.values():
        dtypes |= header.dtypes
        for tensor in header.tensors:
            seen.setdefault(tensor.name, tensor.elements)
    parameters = sum(seen.values()) if seen else None
    if config.get("quantization_config"):
        method = (config["quantization_config"] or {}).get("quant_method", "quantization")
        found.error(
            "quantized",
            CONFIG,
            f"config.json has a quantization_config ({method}): the weights are quantized.",
            "Import full-precision weights: load the base model in float16 or bfloat16, merge "
            "the adapter into it (merge_and_unload) and save that, as the walkthrough does "
            "with its 4-bit QLoRA training.",
        )
    supported = set(arch.SUPPORTED_DTYPES.values())
    odd = sorted(dtypes - supported)
    if odd and not config.get("quantization_config"):
        found.error(
            "quantized",
            next(iter(weights.headers), ""),
            f"The shards hold {', '.join(odd)} tensors; Custom Model Import takes float16, "
            "bfloat16 or float32 weights.",
            "Save the model in float16 or bfloat16 (model.to(torch.bfloat16) then "
            "save_pretrained).",
        )
    if facts.dtype and facts.dtype not in arch.SUPPORTED_DTYPES:
        found.error(
            "dtype-unsupported",
            CONFIG,
            f"config.json says torch_dtype '{facts.dtype}'; Custom Model Import takes "
            f"{', '.join(arch.SUPPORTED_DTYPES)}.",
            "Save the model in bfloat16 or float16.",
        )
    return replace(
        facts, parameters=parameters, weights_bytes=weights.total_bytes, shards=len(weights.headers)
    )


def _tokenizer(files: ModelFiles, names: set[str], found: _Findings) -> None:
    missing = []
    if arch.TOKENIZER_CONFIG not in names:
        missing.append(arch.TOKENIZER_CONFIG)
    if not any(t in names for t in arch.TOKENIZER_FILES):
        missing.append(" or ".join(arch.TOKENIZER_FILES))
    if missing:
        found.error(
            "tokenizer-missing",
            missing[0],
            f"{files.where} has no {' and no '.join(missing)}: Bedrock needs the tokenizer "
            "beside the weights.",
            "Save the tokenizer into the same folder: "
            "AutoTokenizer.from_pretrained(BASE).save_pretrained(folder).",
        )


def _replace_chat_template(facts: ModelFacts, files: ModelFiles, names: set[str]) -> ModelFacts:
    has = "chat_template.jinja" in names
    if not has and arch.TOKENIZER_CONFIG in names:
        tokenizer = _json_file(files, arch.TOKENIZER_CONFIG)
        has = isinstance(tokenizer, dict) and bool(tokenizer.get("chat_template"))
    return replace(facts, chat_template=has)


def _limits(facts: ModelFacts, found: _Findings) -> None:
    if facts.context_length is not None and facts.context_length > arch.MAX_CONTEXT:
        found.error(
            "context-too-long",
            CONFIG,
            f"max_position_embeddings is {facts.context_length:,}; Custom Model Import takes at "
            f"most {arch.MAX_CONTEXT:,} (128K) tokens.",
            f"Set max_position_embeddings to {arch.MAX_CONTEXT:,} or less in config.json (the "
            "model then answers within that context).",
        )
    limit = arch.MAX_MULTIMODAL_WEIGHTS if facts.multimodal else arch.MAX_TEXT_WEIGHTS
    if facts.weights_bytes >= limit:
        kind = "multimodal" if facts.multimodal else "text"
        found.error(
            "size-over-limit",
            "",
            f"The weights take {fmt.size(facts.weights_bytes)}; a {kind} model must be under "
            f"{fmt.size(limit)}.",
            "Import a smaller model (fewer parameters, or 16-bit instead of 32-bit weights).",
        )
    if facts.family is not None and not facts.converse and not facts.chat_template:
        found.warning(
            "chat-template-missing",
            arch.TOKENIZER_CONFIG,
            f"{facts.family} answers InvokeModel only, and without a chat template in "
            "tokenizer_config.json the OpenAI chat body (messages) cannot be used.",
            "Save the tokenizer of the instruct model you tuned (its tokenizer_config.json "
            "holds chat_template), or send plain prompts.",
        )


def _gpt_oss(files: ModelFiles, names: set[str], found: _Findings) -> None:
    config = _json_file(files, GENERATION_CONFIG) if GENERATION_CONFIG in names else None
    eos = config.get("eos_token_id") if isinstance(config, dict) else None
    if not isinstance(eos, list) or set(eos) != set(arch.GPT_OSS_EOS):
        found.error(
            "generation-config",
            GENERATION_CONFIG,
            "GPT-OSS imports need generation_config.json with eos_token_id "
            f"{list(arch.GPT_OSS_EOS)}; it has {eos!r}.",
            f'Set "eos_token_id": {list(arch.GPT_OSS_EOS)} in generation_config.json.',
        )
