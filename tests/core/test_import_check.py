"""The pre-import check: a valid folder passes, each bad folder fails with its rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from core.importing.check import check_model
from core.importing.report import ImportCheckReport
from core.importing.safetensors import SafetensorsError, encode, read_header
from core.importing.source import open_folder
from core.importing.tiny import write_tiny_model


def check(folder: Path, region: str | None = None) -> ImportCheckReport:
    return check_model(open_folder(str(folder)), region=region)


def rules(report: ImportCheckReport) -> set[str]:
    return {p.rule for p in report.errors}


@pytest.fixture
def model(tmp_path: Path) -> Path:
    return write_tiny_model(tmp_path / "model")


def edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    data.update(changes)
    path.write_text(json.dumps(data))


def test_a_valid_folder_passes_with_its_facts(model: Path) -> None:
    report = check(model, region="us-east-1")
    assert report.ok, report.problems
    assert report.problems == ()
    facts = report.facts
    assert facts.model_type == "llama"
    assert facts.architecture == "LlamaForCausalLM"
    assert facts.apis[:2] == ("Converse", "ConverseStream")
    assert facts.dtype == "bfloat16"
    assert facts.shards == 2
    assert facts.parameters == 32 * 16 * 2 + 16 + 8 * 16 * 16
    assert facts.context_length == 8192
    assert facts.chat_template
    assert "model-00002-of-00002.safetensors" in report.upload
    assert report.upload_bytes == sum((model / n).stat().st_size for n in report.upload)


def test_only_bin_weights_are_refused_with_the_conversion(model: Path) -> None:
    for shard in model.glob("*.safetensors"):
        shard.unlink()
    (model / "model.safetensors.index.json").unlink()
    (model / "pytorch_model.bin").write_bytes(b"pickle")
    report = check(model)
    assert rules(report) == {"weights-bin-only"}
    problem = report.errors[0]
    assert problem.file == "pytorch_model.bin"
    assert "safe_serialization=True" in problem.fix
    assert "pytorch_model.bin" not in report.upload


def test_an_adapter_only_folder_is_explained_with_the_merge(tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_config.json").write_text(
        json.dumps({"base_model_name_or_path": "meta-llama/Meta-Llama-3-8B", "r": 16})
    )
    (adapter / "adapter_model.safetensors").write_bytes(encode({"a": ("F16", (2, 2))}, {}))
    report = check(adapter)
    assert rules(report) == {"adapter-only"}
    problem = report.errors[0]
    assert "meta-llama/Meta-Llama-3-8B" in problem.message
    assert "merge_and_unload()" in problem.fix
    assert 'save_pretrained("ADAPTER_FOLDER-merged", safe_serialization=True' in problem.fix
    assert 'AutoTokenizer.from_pretrained("meta-llama/Meta-Llama-3-8B")' in problem.fix


def test_an_unsupported_architecture_names_the_supported_ones(model: Path) -> None:
    edit_json(model / "config.json", model_type="falcon", architectures=["FalconForCausalLM"])
    report = check(model)
    assert rules(report) == {"architecture-unsupported"}
    assert "falcon" in report.errors[0].message
    assert "Llama" in report.errors[0].fix and "2026-12" in report.errors[0].fix


def test_a_shard_missing_from_the_folder_is_named(model: Path) -> None:
    (model / "model-00002-of-00002.safetensors").unlink()
    report = check(model)
    assert rules(report) == {"index-shard-missing"}
    assert report.errors[0].file == "model-00002-of-00002.safetensors"


def test_an_index_naming_tensors_a_shard_lacks(model: Path) -> None:
    index = json.loads((model / "model.safetensors.index.json").read_text())
    index["weight_map"]["model.extra.weight"] = "model-00001-of-00002.safetensors"
    (model / "model.safetensors.index.json").write_text(json.dumps(index))
    assert rules(check(model)) == {"index-tensor-mismatch"}


def test_shards_without_an_index(model: Path) -> None:
    (model / "model.safetensors.index.json").unlink()
    assert rules(check(model)) == {"index-missing"}


def test_a_truncated_shard_is_caught_by_its_header(model: Path) -> None:
    shard = model / "model-00001-of-00002.safetensors"
    shard.write_bytes(shard.read_bytes()[:-10])
    report = check(model)
    assert rules(report) == {"shard-truncated"}


def test_a_shard_that_is_not_safetensors(model: Path) -> None:
    (model / "model-00001-of-00002.safetensors").write_bytes(b"not a header")
    assert rules(check(model)) == {"shard-unreadable"}


def test_a_context_over_the_limit(tmp_path: Path) -> None:
    model = write_tiny_model(tmp_path / "m", context_length=262_144)
    report = check(model)
    assert rules(report) == {"context-too-long"}
    assert "262,144" in report.errors[0].message
    assert rules(check(write_tiny_model(tmp_path / "ok", context_length=131_072))) == set()


def test_quantized_weights_and_dtypes(model: Path) -> None:
    edit_json(model / "config.json", quantization_config={"quant_method": "bitsandbytes"})
    assert rules(check(model)) == {"quantized"}
    edit_json(model / "config.json", quantization_config=None, torch_dtype="int8")
    assert rules(check(model)) == {"dtype-unsupported"}


def test_int8_tensors_are_quantized_weights(model: Path) -> None:
    (model / "model-00002-of-00002.safetensors").write_bytes(
        encode(
            {
                "lm_head.weight": ("I8", (32, 16)),
                "model.norm.weight": ("I8", (16,)),
                **{f"model.layers.1.self_attn.{p}.weight": ("I8", (16, 16)) for p in "qkvo"},
            },
            {},
        )
    )
    found = check(model)
    assert "quantized" in rules(found)


def test_tokenizer_files_are_required(model: Path) -> None:
    (model / "tokenizer.json").unlink()
    report = check(model)
    assert rules(report) == {"tokenizer-missing"}
    (model / "tokenizer.model").write_bytes(b"sentencepiece")
    assert check(model).ok


def test_config_missing_or_broken(model: Path) -> None:
    (model / "config.json").write_text("{not json")
    assert rules(check(model)) == {"config-unreadable"}
    (model / "config.json").unlink()
    assert rules(check(model)) == {"config-missing"}


def test_gpt_oss_needs_its_region_and_generation_config(model: Path) -> None:
    edit_json(model / "config.json", model_type="gpt_oss", architectures=["GptOssForCausalLM"])
    report = check(model, region="us-west-2")
    assert rules(report) == {"region-unsupported", "generation-config"}
    assert report.facts.apis == ("InvokeModel", "InvokeModelWithResponseStream")
    edit_json(model / "generation_config.json", eos_token_id=[200002, 199999, 200012])
    assert check(model, region="us-east-1").ok


def test_invoke_only_models_without_a_chat_template_get_a_warning(model: Path) -> None:
    edit_json(model / "config.json", model_type="qwen3", architectures=["Qwen3ForCausalLM"])
    edit_json(model / "tokenizer_config.json", chat_template=None)
    report = check(model)
    assert report.ok
    assert [w.rule for w in report.warnings] == ["chat-template-missing"]


def test_file_names_the_s3_uri_cannot_hold(model: Path) -> None:
    (model / "notes + ideas.txt").write_text("x")
    report = check(model)
    assert rules(report) == {"file-name"}


def test_an_empty_folder_and_a_missing_one(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    assert rules(check(tmp_path / "empty")) == {"folder-empty"}
    from core.errors import NotFoundError

    with pytest.raises(NotFoundError, match="does not exist"):
        open_folder(str(tmp_path / "nope"))


def test_the_json_report_has_the_validator_shape(model: Path) -> None:
    (model / "tokenizer.json").unlink()
    data = check(model).to_json()
    assert data["ok"] is False
    assert data["errors"][0].keys() == {"rule", "file", "message", "fix"}
    assert data["limits"]["max_context"] == 131_072
    assert data["limits"]["as_of"] == "2026-12"


def test_safetensors_headers_round_trip_and_reject_garbage() -> None:
    data = encode({"w": ("F32", (3, 4))}, {"format": "pt"})
    header = read_header(lambda start, length: data[start : start + length])
    assert header.expected_size == len(data)
    assert header.tensors[0].elements == 12
    with pytest.raises(SafetensorsError):
        read_header(lambda start, length: (b"\xff" * 8)[start : start + length])


def test_an_index_without_a_weight_map(model: Path) -> None:
    (model / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}}))
    report = check(model)
    assert rules(report) == {"index-unreadable"}
    assert report.errors[0].file == "model.safetensors.index.json"


def test_a_shard_the_index_does_not_name_is_a_warning(model: Path) -> None:
    (model / "model-00003-of-00002.safetensors").write_bytes(encode({"x": ("BF16", (2,))}, {}))
    report = check(model)
    assert report.ok
    assert [(w.rule, w.file) for w in report.warnings] == [
        ("index-shard-unlisted", "model-00003-of-00002.safetensors")
    ]


def test_adapter_files_beside_merged_weights_are_left_out(model: Path) -> None:
    (model / "adapter_config.json").write_text(json.dumps({"r": 16}))
    (model / "adapter_model.safetensors").write_bytes(encode({"a": ("BF16", (2, 2))}, {}))
    report = check(model)
    assert report.ok
    assert [w.rule for w in report.warnings] == ["adapter-files"]
    assert "adapter_config.json" not in report.upload
    assert "adapter_model.safetensors" not in report.upload


def test_weights_over_the_size_limit_of_their_kind(
    model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from core.importing import architectures as arch

    size = sum(p.stat().st_size for p in model.glob("*.safetensors"))
    # The limits (200 GB text, 100 GB multimodal) scaled down to the tiny model's weights.
    monkeypatch.setattr(arch, "MAX_TEXT_WEIGHTS", size + 1)
    monkeypatch.setattr(arch, "MAX_MULTIMODAL_WEIGHTS", size)
    assert check(model).ok
    edit_json(
        model / "config.json", model_type="mllama", architectures=["MllamaForConditionalGeneration"]
    )
    report = check(model)
    assert rules(report) == {"size-over-limit"}
    assert "multimodal" in report.errors[0].message
    monkeypatch.setattr(arch, "MAX_TEXT_WEIGHTS", size)
    edit_json(model / "config.json", model_type="llama", architectures=["LlamaForCausalLM"])
    assert rules(check(model)) == {"size-over-limit"}


def test_every_rule_is_named_and_explained() -> None:
    from core.importing import check as check_module
    from core.importing.report import RULES

    source = Path(check_module.__file__).read_text()
    used = set(re.findall(r'found\.(?:error|warning)\(\s*"([a-z-]+)"', source))
    assert used == set(RULES), used ^ set(RULES)
