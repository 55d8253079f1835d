"""bedrock-tune's QLoRA training script, run by SageMaker in the Hugging Face PyTorch training
container: the text-to-SQL walkthrough's recipe, ending in a model Custom Model Import takes.

1. Read the `train` (and optional `validation`) channel: JSONL records in any format bedrock-tune
   prepares (`{"messages": [...]}` with string or block content and an optional `system`,
   `bedrock-conversation-2024`, or `{"prompt", "completion"}`), as chat messages.
2. Load the base model (`--model_id`, a Hugging Face id; `HF_TOKEN` from the environment for a
   gated model) in 4-bit NF4 with double quantization, add LoRA (r=16, alpha=8, dropout 0.05, all
   linear layers), and train with TRL's SFTTrainer (packing), checkpointing to
   /opt/ml/checkpoints (kept by managed spot training across interruptions: a restarted job
   resumes from the last checkpoint).
3. Reload the base model in 16-bit, merge the adapter (`merge_and_unload`), and save it with the
   tokenizer to /opt/ml/model as safetensors shards of `--max_shard_size` (2 GB): SageMaker copies
   that folder, uncompressed, to the job's output, ready to import.

The data and argument handling (`parse_args`, `to_messages`, `load_records`) import nothing
heavy, so bedrock-tune tests them without torch. Progress goes to the log (CloudWatch Logs), one
line per logging step with the loss.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LOG = logging.getLogger("train_qlora")
CHECKPOINTS = "/opt/ml/checkpoints"
Message = dict[str, str]


def _flag(value: str) -> bool:
    lowered = str(value).strip().lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"'{value}' is not true or false")


def build_parser(env: Mapping[str, str] | None = None) -> argparse.ArgumentParser:
    """The script's arguments: its hyperparameters, then the channels and folders SageMaker's
    environment (`env`, by default this process's) gives."""
    env = os.environ if env is None else env
    parser = argparse.ArgumentParser(description="QLoRA fine-tuning, merged for import")
    parser.add_argument("--model_id", required=True, help="Hugging Face id of the base model")
    parser.add_argument("--epochs", type=float, default=2)
    parser.add_argument("--learning_rate", type=float, default=2e-4)
    parser.add_argument("--per_device_train_batch_size", type=int, default=1)
    parser.add_argument("--gradient_accumulation_steps", type=int, default=4)
    parser.add_argument("--max_seq_length", type=int, default=2048)
    parser.add_argument("--lora_r", type=int, default=16)
    parser.add_argument("--lora_alpha", type=int, default=8)
    parser.add_argument("--lora_dropout", type=float, default=0.05)
    parser.add_argument("--load_in_4bit", type=_flag, default=True)
    parser.add_argument("--bnb_4bit_quant_type", choices=["nf4", "fp4"], default="nf4")
    parser.add_argument("--bnb_4bit_use_double_quant", type=_flag, default=True)
    parser.add_argument("--packing", type=_flag, default=True)
    parser.add_argument("--merge_weights", type=_flag, default=True)
    parser.add_argument("--max_shard_size", default="2GB")
    parser.add_argument("--logging_steps", type=int, default=10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--train_dir", default=env.get("SM_CHANNEL_TRAIN", "/opt/ml/input/data/train")
    )
    parser.add_argument("--validation_dir", default=env.get("SM_CHANNEL_VALIDATION"))
    parser.add_argument("--model_dir", default=env.get("SM_MODEL_DIR", "/opt/ml/model"))
    parser.add_argument("--checkpoint_dir", default=CHECKPOINTS)
    return parser


SAGEMAKER_ARGUMENTS = frozenset({"train_dir", "validation_dir", "model_dir", "checkpoint_dir"})
"""Arguments SageMaker's environment fills (the channels and folders), not hyperparameters."""


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The hyperparameters, as SageMaker passes them (`--name value`), with the channels and
    the model folder from SageMaker's environment."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.epochs <= 0 or args.lora_r <= 0 or not 0 <= args.lora_dropout < 1:
        parser.error("epochs and lora_r must be positive, lora_dropout in [0, 1)")
    return args


def _text(content: Any) -> str:
    """A message's text: a string, or the text of its content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(b.get("text", "")) for b in content if isinstance(b, dict))
    return ""


def to_messages(record: dict[str, Any]) -> list[Message]:
    """A prepared record as chat messages (system first when there is one).

    Raises:
        ValueError: a record in no format the script knows (the line is reported by the caller).
    """
    if "prompt" in record and "completion" in record:
        return [
            {"role": "user", "content": str(record["prompt"])},
            {"role": "assistant", "content": str(record["completion"])},
        ]
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        raise ValueError("neither messages nor prompt / completion")
    out: list[Message] = []
    system = record.get("system")
    if isinstance(system, str) and system:
        out.append({"role": "system", "content": system})
    elif isinstance(system, list) and system:
        out.append({"role": "system", "content": _text(system)})
    for message in messages:
        if not isinstance(message, dict) or message.get("role") not in (
            "system",
            "user",
            "assistant",
        ):
            raise ValueError("a message without a system, user or assistant role")
        out.append({"role": str(message["role"]), "content": _text(message.get("content"))})
    if out[-1]["role"] != "assistant":
        raise ValueError("the last message is not the assistant's answer")
    return out


def load_records(folder: str | Path) -> list[list[Message]]:
    """Every record of every `.jsonl` file in a channel folder, as chat messages.

    Raises:
        ValueError: no JSONL file, or a bad line (file and line named).
    """
    files = sorted(Path(folder).glob("*.jsonl"))
    if not files:
        raise ValueError(f"no .jsonl file in {folder}")
    records: list[list[Message]] = []
    for path in files:
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    records.append(to_messages(json.loads(line)))
                except ValueError as error:
                    raise ValueError(f"{path.name} line {number}: {error}") from None
    return records


def main(argv: Sequence[str] | None = None) -> None:  # pragma: no cover - runs in SageMaker
    """Train, merge and save (inside the training container, with a GPU; on CPU without
    4-bit, as `make test-training` checks it)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    import torch
    from datasets import Dataset
    from peft import LoraConfig, PeftModel
    from transformers import (
        AutoModelForCausalLM,
        AutoTokenizer,
        BitsAndBytesConfig,
        TrainerCallback,
    )
    from trl import SFTConfig, SFTTrainer

    class PrintLoss(TrainerCallback):  # type: ignore[misc]
        """One line per logging step on stdout (CloudWatch Logs), in the shape bedrock-tune's
        watch reads (`{'loss': 1.23, ..., 'epoch': 0.5}`), whatever progress bar is on."""

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **_: Any) -> None:
            if logs and "loss" in logs:
                line = {k: float(v) if hasattr(v, "item") else v for k, v in logs.items()}
                sys.stdout.write(f"{line}\n")
                sys.stdout.flush()

    token = os.environ.get("HF_TOKEN")
    tokenizer = AutoTokenizer.from_pretrained(args.model_id, token=token)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token

    def dataset(folder: str) -> Any:
        texts = [tokenizer.apply_chat_template(m, tokenize=False) for m in load_records(folder)]
        return Dataset.from_dict({"text": texts})

    train = dataset(args.train_dir)
    validation = dataset(args.validation_dir) if args.validation_dir else None
    LOG.info("records: %d train, %d validation", len(train), len(validation or []))
    # 4-bit needs bitsandbytes and a GPU; `--load_in_4bit false` trains the plain LoRA (the
    # CPU check of `make test-training`).
    quantization = (
        BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type=args.bnb_4bit_quant_type,
            bnb_4bit_use_double_quant=args.bnb_4bit_use_double_quant,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        if args.load_in_4bit
        else None
    )
    gpu = torch.cuda.is_available()
    model = AutoModelForCausalLM.from_pretrained(
        args.model_id,
        quantization_config=quantization,
        torch_dtype=torch.bfloat16 if gpu else torch.float32,
        token=token,
    )
    lora = LoraConfig(
        r=args.lora_r,
        lora_alpha=args.lora_alpha,
        lora_dropout=args.lora_dropout,
        target_modules="all-linear",
        task_type="CAUSAL_LM",
    )
    # TRL renamed `max_seq_length` to `max_length` (0.16) and dropped the old name later: pass
    # the one this TRL knows.
    fields = set(getattr(SFTConfig, "__dataclass_fields__", {}))
    length = "max_length" if "max_length" in fields else "max_seq_length"
    config = SFTConfig(
        output_dir=args.checkpoint_dir,
        num_train_epochs=args.epochs,
        learning_rate=args.learning_rate,
        per_device_train_batch_size=args.per_device_train_batch_size,
        gradient_accumulation_steps=args.gradient_accumulation_steps,
        gradient_checkpointing=gpu,
        bf16=gpu,
        logging_steps=args.logging_steps,
        save_strategy="steps",
        save_steps=100,
        save_total_limit=2,
        seed=args.seed,
        packing=args.packing,
        dataset_text_field="text",
        report_to=[],
        **{length: args.max_seq_length},
    )
    trainer = SFTTrainer(
        model=model,
        args=config,
        train_dataset=train,
        eval_dataset=validation,
        peft_config=lora,
        processing_class=tokenizer,
        callbacks=[PrintLoss()],
    )
    resume = any(Path(args.checkpoint_dir).glob("checkpoint-*"))  # a spot restart
    trainer.train(resume_from_checkpoint=resume or None)
    adapter = Path(args.checkpoint_dir) / "adapter"
    trainer.model.save_pretrained(adapter)
    del model, trainer
    if gpu:
        torch.cuda.empty_cache()
    base = AutoModelForCausalLM.from_pretrained(
        args.model_id,
        torch_dtype=torch.float16 if gpu else torch.float32,
        low_cpu_mem_usage=True,
        token=token,
    )
    merged = PeftModel.from_pretrained(base, adapter).merge_and_unload()
    merged.save_pretrained(
        args.model_dir, safe_serialization=True, max_shard_size=args.max_shard_size
    )
    tokenizer.save_pretrained(args.model_dir)
    LOG.info("merged model saved to %s", args.model_dir)


if __name__ == "__main__":  # pragma: no cover
    main()
