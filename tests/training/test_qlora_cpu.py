"""One real run of the QLoRA script (`core/sagemaker/scripts/train_qlora.py`, the same `main` a
SageMaker instance job runs) on a tiny randomly initialised Llama, on CPU: the records load, LoRA
trains and logs a loss the watch step can read, the adapter is merged, and the saved folder passes
bedrock-tune's own import check. Only 4-bit quantization (bitsandbytes, GPU) is left out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

from core.importing.check import check_model
from core.importing.source import open_source, parse_source
from core.sagemaker.scripts import train_qlora
from core.sagemaker.watch import LOSS

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} {% endfor %}{{ eos_token }}"
)
RECORDS = [
    ("How many heads are older than 56?", "SELECT COUNT(*) FROM head WHERE age > 56"),
    ("List the names of all departments.", "SELECT name FROM department"),
    ("What is the largest budget?", "SELECT MAX(budget) FROM department"),
    ("Which states have a head born there?", "SELECT DISTINCT born_state FROM head"),
]
SYSTEM = "You translate questions into SQL for the tables given."


def _tiny_llama(folder: Path, words: list[str]) -> None:
    """A 2-layer Llama with random weights and a word-level tokenizer over `words`."""
    special = ["<unk>", "<pad>", "<s>", "</s>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {token: index for index, token in enumerate(special + sorted(set(words)))}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend,
        unk_token="<unk>",
        pad_token="<pad>",
        bos_token="<s>",
        eos_token="</s>",
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(folder)
    torch.manual_seed(0)
    config = LlamaConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=256,
        pad_token_id=vocab["<pad>"],
        bos_token_id=vocab["<s>"],
        eos_token_id=vocab["</s>"],
    )
    LlamaForCausalLM(config).save_pretrained(folder, safe_serialization=True)


def test_the_script_trains_merges_and_saves_a_model_the_import_check_passes(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    base, train, model, checkpoints = (tmp_path / n for n in ("base", "train", "model", "ckpt"))
    train.mkdir()
    lines = [
        {
            "system": [{"text": SYSTEM}],
            "messages": [
                {"role": "user", "content": [{"text": question}]},
                {"role": "assistant", "content": [{"text": answer}]},
            ],
        }
        for question, answer in RECORDS * 4
    ]
    (train / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in lines))
    words = " ".join(f"{SYSTEM} {q} {a}" for q, a in RECORDS).split()
    _tiny_llama(base, words)

    train_qlora.main(
        [
            f"--model_id={base}",
            f"--train_dir={train}",
            f"--model_dir={model}",
            f"--checkpoint_dir={checkpoints}",
            "--epochs=1",
            "--load_in_4bit=false",
            "--packing=false",
            "--max_seq_length=64",
            "--per_device_train_batch_size=2",
            "--gradient_accumulation_steps=1",
            "--logging_steps=1",
        ]
    )

    # The trainer logged losses in the line shape the watch step reads from CloudWatch Logs.
    logged = capfd.readouterr()
    losses = [float(m.group(1)) for m in LOSS.finditer(logged.out + logged.err)]
    assert losses and all(loss > 0 for loss in losses)
    # The adapter was trained and saved, then merged into full weights (no adapter left).
    assert (checkpoints / "adapter" / "adapter_config.json").is_file()
    saved = {p.name for p in model.iterdir()}
    assert "adapter_config.json" not in saved
    assert any(name.endswith(".safetensors") for name in saved)
    merged = LlamaForCausalLM.from_pretrained(model)
    original = LlamaForCausalLM.from_pretrained(base)
    changed = [
        name
        for name, tensor in merged.state_dict().items()
        if not torch.equal(tensor, original.state_dict()[name])
    ]
    assert any("proj" in name for name in changed)  # the LoRA deltas are in the weights
    # What SageMaker uploads passes the check that comes before Custom Model Import.
    report = check_model(open_source(parse_source(str(model))), region="us-east-1")
    assert report.ok, [f"{p.rule}: {p.message}" for p in report.errors]
