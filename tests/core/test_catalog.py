"""The built-in catalog is coherent, and the catalog functions find, merge and describe models."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from core.catalog import (
    CustomizationType,
    DataFormat,
    DeploymentOption,
    LiveModel,
    build_view,
    builtin_models,
    customization_regions,
    fetch_live_models,
    find_model,
    model_json,
)
from core.errors import NotFoundError

MODELS = builtin_models()
ON_DEMAND = {
    "amazon.nova-micro-v1:0:128k",
    "amazon.nova-lite-v1:0:300k",
    "amazon.nova-pro-v1:0:300k",
    "amazon.nova-2-lite-v1:0:256k",
    "meta.llama3-3-70b-instruct-v1:0:128k",
}


def test_ids_are_unique_and_never_the_inference_id() -> None:
    ids = [m.id for m in MODELS]
    assert len(ids) == len(set(ids))
    for model in MODELS:
        assert model.inference_id != model.id, model.id
        assert not model.inference_id.endswith(("k", ":128k")) or ":" not in model.inference_id


def test_every_model_has_regions_sources_and_a_customization() -> None:
    for model in MODELS:
        assert model.regions, model.id
        assert model.customizations, model.id
        assert model.sources and all(s.date for s in model.sources), model.id
        assert DeploymentOption.PROVISIONED_THROUGHPUT in model.deployment_options


def test_hyperparameter_defaults_lie_in_their_ranges() -> None:
    for model in MODELS:
        for custom in model.customizations:
            for hp in custom.hyperparameters:
                assert hp.minimum <= hp.maximum, (model.id, hp.name)
                if hp.default is not None:
                    assert hp.minimum <= hp.default <= hp.maximum, (model.id, hp.name)
                    assert hp.check(hp.default_text or "") is None


def test_on_demand_deployment_only_where_documented() -> None:
    have = {m.id for m in MODELS if DeploymentOption.ON_DEMAND_DEPLOYMENT in m.deployment_options}
    assert have == ON_DEMAND


def test_regions_follow_the_reference() -> None:
    for model in MODELS:
        if model.family.startswith("nova"):
            assert model.regions == ("us-east-1",)
        if model.family.startswith(("llama", "claude")):
            assert model.regions == ("us-west-2",)
    assert customization_regions() == ("us-east-1", "us-west-2")


def test_formats_per_family() -> None:
    def fmt(model_id: str) -> DataFormat:
        custom = find_model(model_id).customization(CustomizationType.FINE_TUNING)
        assert custom is not None
        return custom.data_format

    assert fmt("anthropic.claude-3-haiku-20240307-v1:0:200k") is DataFormat.CLAUDE_MESSAGES
    assert fmt("amazon.nova-lite-v1:0:300k") is DataFormat.CONVERSATION
    assert fmt("meta.llama3-2-3b-instruct-v1:0:128k") is DataFormat.CONVERSATION
    assert fmt("meta.llama3-1-8b-instruct-v1:0:128k") is DataFormat.PROMPT_COMPLETION
    assert fmt("cohere.command-light-text-v14:7:4k") is DataFormat.PROMPT_COMPLETION
    titan = find_model("amazon.titan-text-lite-v1:0:4k").customization(
        CustomizationType.CONTINUED_PRE_TRAINING
    )
    assert titan is not None and titan.data_format is DataFormat.CONTINUED_PRETRAINING


def test_uncertain_facts_are_said_not_guessed() -> None:
    nova = find_model("amazon.nova-micro-v1:0:128k").customization(CustomizationType.FINE_TUNING)
    assert nova is not None
    assert nova.limits.max_tokens_per_record is None
    assert any("no source" in note for note in nova.limits.notes)
    haiku = find_model("anthropic.claude-3-haiku-20240307-v1:0:200k")
    assert haiku.pricing.training_per_1k_tokens is None and haiku.pricing.notes


@pytest.mark.parametrize(
    "key",
    [
        "amazon.nova-micro-v1:0:128k",
        "us.amazon.nova-micro-v1:0",
        "amazon.nova-micro-v1:0",
        "nova micro",
    ],
)
def test_find_model_by_any_name(key: str) -> None:
    assert find_model(key).id == "amazon.nova-micro-v1:0:128k"


def test_find_model_suggests_near_misses() -> None:
    with pytest.raises(NotFoundError) as caught:
        find_model("amazon.nova-micro-v1:0:300k")
    assert caught.value.hint.startswith("Did you mean")
    assert "amazon.nova-micro-v1:0:128k" in caught.value.hint


def test_view_without_live_list_uses_catalog_regions() -> None:
    view = build_view("us-west-2", None)
    nova = view.get("amazon.nova-micro-v1:0:128k")
    assert nova is not None and not nova.available and nova.basis == "catalog"
    assert "us-east-1" in nova.reason
    haiku = view.get("anthropic.claude-3-haiku-20240307-v1:0:200k")
    assert haiku is not None and haiku.available


def test_view_with_live_list_marks_unlisted_and_unknown() -> None:
    live = [
        LiveModel(
            "anthropic.claude-3-haiku-20240307-v1:0:200k",
            "Claude 3 Haiku",
            "Anthropic",
            ("FINE_TUNING",),
            ("PROVISIONED",),
            "ACTIVE",
        ),
        LiveModel("new.model-v1:0", "New", "X", ("FINE_TUNING",), ("PROVISIONED",), "ACTIVE"),
    ]
    view = build_view("us-west-2", live, customization_type=CustomizationType.FINE_TUNING)
    haiku = view.get("anthropic.claude-3-haiku-20240307-v1:0:200k")
    llama = view.get("meta.llama3-1-8b-instruct-v1:0:128k")
    assert haiku is not None and haiku.available and haiku.basis == "live"
    assert llama is not None and not llama.available and "not offered" in llama.reason
    assert [m.model_id for m in view.unknown_live] == ["new.model-v1:0"]
    assert all(e.model.supports(CustomizationType.FINE_TUNING) for e in view.models)


def test_fetch_live_models_merges_the_per_type_answers(aws_keys: None) -> None:
    client = boto3.client("bedrock", region_name="us-west-2")
    summary = {
        "modelArn": "arn:aws:bedrock:us-west-2::foundation-model/m:0",
        "modelId": "meta.llama3-1-8b-instruct-v1:0:128k",
        "modelName": "Llama 3.1 8B Instruct",
        "providerName": "Meta",
        "customizationsSupported": ["FINE_TUNING"],
        "inferenceTypesSupported": ["PROVISIONED"],
        "modelLifecycle": {"status": "ACTIVE"},
    }
    with Stubber(client) as stub:
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary]},
            {"byCustomizationType": "FINE_TUNING"},
        )
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": []},
            {"byCustomizationType": "CONTINUED_PRE_TRAINING"},
        )
        distill = {**summary, "customizationsSupported": ["DISTILLATION"]}
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [distill]},
            {"byCustomizationType": "DISTILLATION"},
        )
        live = fetch_live_models(client)
    assert len(live) == 1
    assert live[0].customizations == ("FINE_TUNING", "DISTILLATION")


def test_model_json_has_what_scripts_need() -> None:
    entry = build_view("us-east-1", None).get("amazon.titan-text-express-v1:0:8k")
    assert entry is not None
    data = model_json(entry)
    for key in ("id", "name", "provider", "customization_types", "available", "regions"):
        assert key in data
    assert data["customization_types"] == ["fine-tuning", "continued-pre-training"]
    first = data["customizations"][0]
    assert first["limits"]["max_tokens_per_record"] == 4096
    assert {h["name"] for h in first["hyperparameters"]} >= {"epochCount", "learningRate"}
