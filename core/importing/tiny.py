"""A tiny but valid Hugging Face model folder (a randomly sized, zero-filled Llama): what the
sandbox writes where a real training job would put its merged model, and what tests import.

It has everything Custom Model Import asks for: `config.json`, two safetensors shards with their
`model.safetensors.index.json`, `tokenizer.json`, `tokenizer_config.json` (with a chat template)
and `generation_config.json`. It weighs a few kilobytes and answers nothing: the sandbox is
honest about that.
"""

from __future__ import annotations

import json
from pathlib import Path

from core.importing.safetensors import encode

HIDDEN = 16
LAYERS = 2
VOCAB = 32
CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}<|assistant|>"
)


def tiny_model_files(context_length: int = 8192) -> dict[str, bytes]:
    """The files of the tiny model, by name."""
    config = {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": HIDDEN,
        "intermediate_size": HIDDEN * 2,
        "num_attention_heads": 2,
        "num_hidden_layers": LAYERS,
        "num_key_value_heads": 2,
        "max_position_embeddings": context_length,
        "vocab_size": VOCAB,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.51.3",
    }
    first = {"model.embed_tokens.weight": ("BF16", (VOCAB, HIDDEN))}
    second = {"lm_head.weight": ("BF16", (VOCAB, HIDDEN)), "model.norm.weight": ("BF16", (HIDDEN,))}
    for layer in range(LAYERS):
        target = first if layer == 0 else second
        for part in ("q_proj", "k_proj", "v_proj", "o_proj"):
            target[f"model.layers.{layer}.self_attn.{part}.weight"] = ("BF16", (HIDDEN, HIDDEN))
    shards = {
        "model-00001-of-00002.safetensors": encode(first, {"format": "pt"}),
        "model-00002-of-00002.safetensors": encode(second, {"format": "pt"}),
    }
    weight_map = {
        tensor: shard
        for shard, tensors in (
            ("model-00001-of-00002.safetensors", first),
            ("model-00002-of-00002.safetensors", second),
        )
        for tensor in tensors
    }
    index = {
        "metadata": {"total_size": sum(len(b) for b in shards.values())},
        "weight_map": weight_map,
    }
    tokenizer = {
        "version": "1.0",
        "model": {
            "type": "WordLevel",
            "vocab": {f"t{i}": i for i in range(VOCAB)},
            "unk_token": "t0",
        },
    }
    tokenizer_config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "t1",
        "eos_token": "t2",
        "chat_template": CHAT_TEMPLATE,
    }
    files = {
        "config.json": _json(config),
        "model.safetensors.index.json": _json(index),
        "tokenizer.json": _json(tokenizer),
        "tokenizer_config.json": _json(tokenizer_config),
        "generation_config.json": _json({"bos_token_id": 1, "eos_token_id": 2}),
    }
    return {**files, **shards}


def write_tiny_model(folder: Path, context_length: int = 8192) -> Path:
    """Write the tiny model into `folder` (created); returns `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in tiny_model_files(context_length).items():
        (folder / name).write_bytes(data)
    return folder


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2) + "\n").encode()
