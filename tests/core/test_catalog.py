"""The built-in catalog is coherent with reference/bedrock.md, and the catalog functions find,
merge and describe models."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from core.catalog.lookup import (
    build_view,
    builtin_models,
    customization_regions,
    default_model,
    fetch_live_models,
    find_model,
    lifecycle_in,
    model_json,
)
from core.catalog.types import (
    BaseModel,
    Customization,
    CustomizationType,
    DataFormat,
    DeploymentOption,
    Hyperparameter,
    Lifecycle,
    LifecycleStage,
    LiveModel,
)
from core.errors import AccessDeniedError, NotFoundError

MODELS = builtin_models()
BY_ID = {m.id: m for m in MODELS}

HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"
NOVA_MICRO = "amazon.nova-micro-v1:0:128k"
NOVA_LITE = "amazon.nova-lite-v1:0:300k"
NOVA_PRO = "amazon.nova-pro-v1:0:300k"
NOVA_2_LITE = "amazon.nova-2-lite-v1:0:256k"
LLAMA_31_8B = "meta.llama3-1-8b-instruct-v1:0:128k"
LLAMA_31_70B = "meta.llama3-1-70b-instruct-v1:0:128k"
LLAMA_32_1B = "meta.llama3-2-1b-instruct-v1:0:128k"
LLAMA_32_3B = "meta.llama3-2-3b-instruct-v1:0:128k"
LLAMA_32_11B = "meta.llama3-2-11b-instruct-v1:0:128k"
LLAMA_32_90B = "meta.llama3-2-90b-instruct-v1:0:128k"
LLAMA_33_70B = "meta.llama3-3-70b-instruct-v1:0:128k"
TITAN_EXPRESS = "amazon.titan-text-express-v1:0:8k"
TITAN_LITE = "amazon.titan-text-lite-v1:0:4k"
COMMAND_LIGHT = "cohere.command-light-text-v14:7:4k"
COMMAND = "cohere.command-text-v14:7:4k"

NOVA = {NOVA_MICRO, NOVA_LITE, NOVA_PRO, NOVA_2_LITE}
LLAMA = {
    LLAMA_31_8B,
    LLAMA_31_70B,
    LLAMA_32_1B,
    LLAMA_32_3B,
    LLAMA_32_11B,
    LLAMA_32_90B,
    LLAMA_33_70B,
}
LEGACY = {HAIKU, TITAN_EXPRESS, TITAN_LITE, COMMAND_LIGHT, COMMAND}
REQUIRED = NOVA | LLAMA | LEGACY
ON_DEMAND = {NOVA_MICRO, NOVA_LITE, NOVA_PRO, NOVA_2_LITE, LLAMA_33_70B}
DISTILLATION_STUDENTS = {
    NOVA_MICRO,
    NOVA_LITE,
    NOVA_PRO,
    LLAMA_31_8B,
    LLAMA_31_70B,
    LLAMA_32_1B,
    LLAMA_32_3B,
    LLAMA_33_70B,
}
API_HYPERPARAMETERS = {
    "epochCount",
    "batchSize",
    "learningRate",
    "learningRateWarmupSteps",
    "learningRateMultiplier",
    "earlyStoppingThreshold",
    "earlyStoppingPatience",
    "evalPercentage",
}
ISO_DATE = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")
CONTEXT_SUFFIX = re.compile(r":\d+k$")


def model(model_id: str) -> BaseModel:
    return BY_ID[model_id]


def fine_tuning(model_id: str) -> Customization:
    custom = model(model_id).customization(CustomizationType.FINE_TUNING)
    assert custom is not None, model_id
    return custom


def all_notes(m: BaseModel) -> str:
    """Every note of a model, its customizations' limits and its prices, as one text."""
    parts = [*m.notes, *m.pricing.notes]
    for custom in m.customizations:
        parts.extend(custom.limits.notes)
        parts.extend(h.note for h in custom.hyperparameters)
    return "\n".join(parts)


# --------------------------------------------------------------------------- coherence


def test_every_required_model_is_present_and_ids_are_unique() -> None:
    ids = [m.id for m in MODELS]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REQUIRED, REQUIRED - set(ids)


def test_active_models_come_before_legacy_ones() -> None:
    lifecycles = [m.lifecycle for m in MODELS]
    first_legacy = lifecycles.index(Lifecycle.LEGACY)
    assert all(c is Lifecycle.LEGACY for c in lifecycles[first_legacy:])
    assert {m.id for m in MODELS if m.lifecycle is Lifecycle.LEGACY} == LEGACY


def test_inference_id_is_never_the_customization_id() -> None:
    for m in MODELS:
        assert m.inference_id != m.id, m.id
        assert not CONTEXT_SUFFIX.search(m.inference_id), m.inference_id
        assert CONTEXT_SUFFIX.search(m.id), m.id  # customization ids carry the context suffix
        # The inference id names the same model: the customization id minus its suffix.
        plain = m.inference_id.removeprefix("us.")
        assert m.id.startswith(plain), (m.id, m.inference_id)


def test_every_model_has_regions_sources_customizations_and_provisioned_throughput() -> None:
    for m in MODELS:
        assert m.regions, m.id
        assert m.customizations, m.id
        assert m.sources, m.id
        for source in m.sources:
            assert source.name and ISO_DATE.match(source.date), (m.id, source)
        assert DeploymentOption.PROVISIONED_THROUGHPUT in m.deployment_options, m.id
        assert m.name and m.provider and m.family, m.id


def test_hyperparameters_are_api_names_with_defaults_in_range() -> None:
    for m in MODELS:
        for custom in m.customizations:
            names = [h.name for h in custom.hyperparameters]
            assert len(names) == len(set(names)), (m.id, names)
            for hp in custom.hyperparameters:
                assert hp.name in API_HYPERPARAMETERS, (m.id, hp.name)
                assert hp.description, (m.id, hp.name)
                assert hp.minimum <= hp.maximum, (m.id, hp.name)
                if hp.default is not None:
                    assert hp.minimum <= hp.default <= hp.maximum, (m.id, hp.name)
                    # The default, as the API would receive it, passes its own check.
                    assert hp.check(hp.default_text or "") is None, (m.id, hp.name)


def test_hyperparameter_ranges_follow_the_reference() -> None:
    def spec(model_id: str, name: str) -> tuple[float, float, float | None]:
        hp = fine_tuning(model_id).hyperparameter(name)
        assert hp is not None, (model_id, name)
        return hp.minimum, hp.maximum, hp.default

    assert spec(NOVA_PRO, "epochCount") == (1, 5, 2)
    assert spec(NOVA_PRO, "learningRateWarmupSteps") == (0, 100, 10)
    assert fine_tuning(NOVA_PRO).hyperparameter("batchSize") is None  # [CONFLICT]: UG table wins
    assert spec(HAIKU, "batchSize") == (4, 256, 32)
    assert spec(HAIKU, "learningRateMultiplier") == (0.1, 2.0, 1.0)
    assert spec(LLAMA_32_90B, "batchSize") == (1, 1, 1)
    assert spec(LLAMA_31_8B, "learningRate") == (5e-6, 0.1, 1e-4)
    assert spec(TITAN_LITE, "learningRateWarmupSteps") == (0, 250, 5)
    assert spec(COMMAND, "batchSize") == (8, 8, 8)
    assert spec(COMMAND_LIGHT, "batchSize") == (8, 32, 8)
    assert spec(COMMAND_LIGHT, "evalPercentage") == (5, 50, 20)


def test_on_demand_deployment_only_where_documented() -> None:
    have = {m.id for m in MODELS if DeploymentOption.ON_DEMAND_DEPLOYMENT in m.deployment_options}
    assert have == ON_DEMAND
    for model_id in ON_DEMAND:
        assert "2025-07-16" in all_notes(model(model_id)), model_id


def test_regions_follow_the_reference() -> None:
    for model_id in NOVA:
        assert model(model_id).regions == ("us-east-1",), model_id
    for model_id in LLAMA | {HAIKU}:
        assert model(model_id).regions == ("us-west-2",), model_id
    for model_id in LEGACY - {HAIKU}:
        assert set(model(model_id).regions) == {"us-east-1", "us-west-2"}, model_id
    assert customization_regions() == ("us-east-1", "us-west-2")


def test_llama_3_2_names_are_the_user_guides() -> None:
    # UG custom-model-fine-tuning / custom-model-supported: "Llama 3.2 11B Instruct", "Llama 3.2
    # 90B Instruct" (no "Vision"), the names ListFoundationModels and the console show.
    names = {m.id: m.name for m in MODELS if m.family == "llama-3.2"}
    assert names == {
        "meta.llama3-2-1b-instruct-v1:0:128k": "Llama 3.2 1B Instruct",
        "meta.llama3-2-3b-instruct-v1:0:128k": "Llama 3.2 3B Instruct",
        "meta.llama3-2-11b-instruct-v1:0:128k": "Llama 3.2 11B Instruct",
        "meta.llama3-2-90b-instruct-v1:0:128k": "Llama 3.2 90B Instruct",
    }


def test_data_formats_per_family() -> None:
    assert fine_tuning(HAIKU).data_format is DataFormat.CLAUDE_MESSAGES
    for model_id in NOVA | LLAMA - {LLAMA_31_8B, LLAMA_31_70B}:
        assert fine_tuning(model_id).data_format is DataFormat.CONVERSATION, model_id
    for model_id in {LLAMA_31_8B, LLAMA_31_70B} | LEGACY - {HAIKU}:
        assert fine_tuning(model_id).data_format is DataFormat.PROMPT_COMPLETION, model_id


def test_continued_pre_training_is_titan_only() -> None:
    cpt = {m.id for m in MODELS if m.supports(CustomizationType.CONTINUED_PRE_TRAINING)}
    assert cpt == {TITAN_EXPRESS, TITAN_LITE}
    for model_id in cpt:
        custom = model(model_id).customization(CustomizationType.CONTINUED_PRE_TRAINING)
        assert custom is not None
        assert custom.data_format is DataFormat.CONTINUED_PRETRAINING


def test_distillation_students_follow_the_reference() -> None:
    students = {m.id for m in MODELS if m.supports(CustomizationType.DISTILLATION)}
    assert students == DISTILLATION_STUDENTS
    for model_id in students:
        custom = model(model_id).customization(CustomizationType.DISTILLATION)
        assert custom is not None
        assert custom.data_format is DataFormat.DISTILLATION_PROMPTS
        assert custom.data_format.record_shape is DataFormat.CONVERSATION
        assert custom.limits.min_records == 100
        assert custom.hyperparameters == ()
        assert any("hyperparameters" in note for note in custom.limits.notes), model_id
        assert custom.teachers, model_id
    assert "not available for Anthropic" in all_notes(model(HAIKU))


def test_teachers_per_student_follow_the_reference() -> None:
    def teachers(model_id: str) -> set[str]:
        custom = model(model_id).customization(CustomizationType.DISTILLATION)
        assert custom is not None
        return {t.id for t in custom.teachers}

    premier = "us.amazon.nova-premier-v1:0"
    assert teachers(NOVA_MICRO) == teachers(NOVA_LITE) == {"amazon.nova-pro-v1:0", premier}
    assert teachers(NOVA_PRO) == {premier}  # a model does not teach itself
    for model_id in DISTILLATION_STUDENTS - NOVA:
        assert teachers(model_id) == {"meta.llama3-1-405b-instruct-v1:0"}, model_id
    custom = model(NOVA_MICRO).customization(CustomizationType.DISTILLATION)
    assert custom is not None
    nova_premier = custom.teacher(premier)
    assert nova_premier is not None and nova_premier.cross_region and nova_premier.source.date
    profile_arn = f"arn:aws:bedrock:us-east-1:123456789012:inference-profile/{premier}"
    assert custom.teacher(profile_arn) is nova_premier
    pro_arn = "arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-pro-v1:0"
    assert custom.teacher(pro_arn) is not None
    assert custom.teacher("meta.llama3-1-405b-instruct-v1:0") is None


# --------------------------------------------------------------------------- per-model facts


def test_claude_3_haiku_limits() -> None:
    limits = fine_tuning(HAIKU).limits
    assert (limits.min_records, limits.max_train_records, limits.max_validation_records) == (
        32,
        10_000,
        1_000,
    )
    assert limits.max_tokens_per_record == 32_000
    assert limits.chars_per_token == 3.0
    assert limits.max_chars_per_record == 96_000
    assert limits.max_train_file_bytes == 10 * 1024**3
    assert limits.max_validation_file_bytes == 1024**3
    assert any("3 characters per token" in note for note in limits.notes)
    assert model(HAIKU).deployment_options == (DeploymentOption.PROVISIONED_THROUGHPUT,)


def test_nova_media_and_validation_rules() -> None:
    micro = fine_tuning(NOVA_MICRO).limits
    assert (micro.max_images_per_record, micro.max_videos_per_record) == (0, 0)
    assert model(NOVA_MICRO).input_modalities == ("TEXT",)
    for model_id in (NOVA_LITE, NOVA_PRO):
        limits = fine_tuning(model_id).limits
        assert (limits.max_images_per_record, limits.max_videos_per_record) == (10, 1)
        assert (limits.min_records, limits.max_train_records) == (8, 20_000)
        assert "IMAGE" in model(model_id).input_modalities
    nova2 = fine_tuning(NOVA_2_LITE)
    assert nova2.limits.validation_data_supported is False
    assert nova2.limits.min_records is None  # the 8-20,000 range is Nova Micro/Lite/Pro's
    assert "undocumented" in all_notes(model(NOVA_2_LITE))
    assert all(h.note for h in nova2.hyperparameters)  # every assumed range says so


def test_uncertain_limits_stay_unknown() -> None:
    for model_id in NOVA:
        limits = fine_tuning(model_id).limits
        assert limits.max_tokens_per_record is None, model_id
        assert limits.max_chars_per_record is None, model_id
        assert limits.max_validation_records is None, model_id
        assert limits.max_train_file_bytes is None, model_id
        assert any("not in the sources" in note for note in limits.notes), model_id
    for model_id in LLAMA:
        assert fine_tuning(model_id).limits.max_train_file_bytes is None, model_id
    llama33 = fine_tuning(LLAMA_33_70B).limits
    assert (llama33.max_train_records, llama33.max_validation_records) == (None, None)
    assert llama33.max_total_records == 10_000
    for model_id in (TITAN_EXPRESS, TITAN_LITE):
        assert fine_tuning(model_id).limits.min_records is None, model_id


def test_llama_token_limits() -> None:
    llama31 = fine_tuning(LLAMA_31_8B).limits
    assert (llama31.max_tokens_per_record, llama31.max_input_tokens) == (16_000, 16_000)
    assert fine_tuning(LLAMA_32_3B).limits.max_tokens_per_record == 16_000
    assert fine_tuning(LLAMA_32_3B).limits.max_input_tokens is None  # only the sum is documented
    assert fine_tuning(LLAMA_32_90B).limits.max_tokens_per_record == 10_000
    for model_id in (LLAMA_32_11B, LLAMA_32_90B):
        assert fine_tuning(model_id).limits.max_images_per_record > 0, model_id
        assert "IMAGE" in model(model_id).input_modalities
    for model_id in LLAMA - {LLAMA_32_11B, LLAMA_32_90B}:
        assert fine_tuning(model_id).limits.max_images_per_record == 0, model_id


def test_conflicts_are_noted() -> None:
    assert "[CONFLICT]" in all_notes(model(LLAMA_33_70B))
    for model_id in (TITAN_EXPRESS, TITAN_LITE):
        notes = all_notes(model(model_id))
        assert "[CONFLICT]" in notes and "Retired" in notes, model_id
    for model_id in (NOVA_MICRO, NOVA_LITE, NOVA_PRO):
        assert "[CONFLICT]" in all_notes(model(model_id)), model_id
    for model_id in (COMMAND, COMMAND_LIGHT):
        assert "2025-09-15" in all_notes(model(model_id)), model_id


def test_titan_encodes_the_batch_size_1_token_limit() -> None:
    for model_id in (TITAN_EXPRESS, TITAN_LITE):
        for custom in model(model_id).customizations:
            assert custom.limits.max_tokens_per_record == 4_096, model_id
            assert any("batch size" in note for note in custom.limits.notes), model_id
            assert custom.limits.max_validation_file_bytes == 100 * 1024**2


def test_prices_are_dated_and_unknown_ones_explained() -> None:
    for m in MODELS:
        price = m.pricing
        assert price.storage_per_month == 1.95, m.id
        assert ISO_DATE.match(price.as_of) and price.source, m.id
        if price.training_per_1k_tokens is None:
            assert price.notes, m.id
    assert model(NOVA_MICRO).pricing.training_per_1k_tokens == 0.001
    assert model(NOVA_2_LITE).pricing.training_per_1k_tokens == 0.00378
    assert model(HAIKU).pricing.training_per_1k_tokens is None
    assert model(HAIKU).pricing.on_demand_input_per_1k == 0.00025
    assert model(COMMAND).pricing.provisioned_per_hour == 49.50
    assert model(NOVA_PRO).pricing.provisioned_per_hour is None  # the $60.50 is model-unspecified


# --------------------------------------------------------------------------- Hyperparameter.check


def test_hyperparameter_check_accepts_in_range_strings() -> None:
    epochs = Hyperparameter("epochCount", "int", 1, 5, 2, "passes")
    rate = Hyperparameter("learningRate", "float", 1e-6, 1e-4, 1e-5, "rate")
    assert epochs.check("3") is None
    assert epochs.check(" 5 ") is None
    assert rate.check("0.00005") is None
    assert rate.check("1e-4") is None
    assert rate.format(1e-5) == "1e-05" and rate.check(rate.format(1e-5)) is None


def test_hyperparameter_check_rejects_with_a_message() -> None:
    epochs = Hyperparameter("epochCount", "int", 1, 5, 2, "passes")
    rate = Hyperparameter("learningRate", "float", 1e-6, 1e-4, 1e-5, "rate")
    assert epochs.check("0") == "epochCount must be between 1 and 5, not 0"
    assert "between 1 and 5" in (epochs.check("6") or "")
    assert epochs.check("two") == "epochCount must be a whole number, not 'two'"
    assert "whole number" in (epochs.check("2.5") or "")
    assert rate.check("abc") == "learningRate must be a number, not 'abc'"
    assert "between 1e-06 and 0.0001" in (rate.check("0.5") or "")


# --------------------------------------------------------------------------- find_model


@pytest.mark.parametrize(
    "key",
    [
        NOVA_MICRO,  # customization id
        "us.amazon.nova-micro-v1:0",  # inference id
        "amazon.nova-micro-v1:0",  # plain id
        "Nova Micro",  # name
        "nova micro",  # name, any case
    ],
)
def test_find_model_by_any_name(key: str) -> None:
    assert find_model(key).id == NOVA_MICRO


def test_find_model_by_every_catalog_key() -> None:
    for m in MODELS:
        assert find_model(m.id) is m
        assert find_model(m.inference_id) is m
        assert find_model(m.name.upper()) is m


def test_find_model_suggests_near_misses() -> None:
    with pytest.raises(NotFoundError) as caught:
        find_model("amazon.nova-micro-v1:0:300k")
    assert caught.value.hint.startswith("Did you mean")
    assert NOVA_MICRO in caught.value.hint
    assert "amazon.nova-micro-v1:0:300k" in caught.value.message


def test_find_model_without_a_near_miss_gives_no_suggestion() -> None:
    with pytest.raises(NotFoundError) as caught:
        find_model("zzzz")
    assert "Did you mean" not in caught.value.hint


# --------------------------------------------------------------------------- build_view


def test_view_without_live_list_uses_catalog_regions() -> None:
    view = build_view("us-west-2", None)
    assert not view.live_checked
    nova = view.get(NOVA_MICRO)
    assert nova is not None and not nova.available and nova.basis == "catalog"
    assert "us-east-1" in nova.reason
    llama = view.get(LLAMA_31_8B)
    assert llama is not None and llama.available and llama.basis == "catalog"
    # Claude 3 Haiku is customized in us-west-2 only, and it is at its end of life there.
    haiku = view.get(HAIKU)
    assert haiku is not None and not haiku.available and haiku.basis == "catalog"
    assert "end of life in us-west-2 since 2026-09-10" in haiku.reason
    assert "Nova 2 Lite (us-east-1)" in haiku.reason
    assert len(view.models) == len(MODELS)


def live(model_id: str, kinds: tuple[str, ...] = ("FINE_TUNING",)) -> LiveModel:
    return LiveModel(model_id, model_id, "X", kinds, ("PROVISIONED",), "ACTIVE")


def test_view_with_live_list_marks_unlisted_and_reports_unknown() -> None:
    listed = [live(LLAMA_33_70B), live("new.model-v1:0:32k")]
    view = build_view("us-west-2", listed, customization_type=CustomizationType.FINE_TUNING)
    assert view.live_checked
    llama_33 = view.get(LLAMA_33_70B)
    assert llama_33 is not None and llama_33.available and llama_33.basis == "live"
    assert llama_33.live is not None and llama_33.lifecycle.stage is LifecycleStage.ACTIVE
    assert llama_33.lifecycle.basis == "live"
    llama = view.get(LLAMA_31_8B)
    assert llama is not None and not llama.available and llama.basis == "live"
    assert "not offered" in llama.reason and "us-west-2" in llama.reason
    assert [m.model_id for m in view.unknown_live] == ["new.model-v1:0:32k"]
    assert all(e.model.supports(CustomizationType.FINE_TUNING) for e in view.models)


def test_view_filtered_by_distillation_lists_the_students() -> None:
    view = build_view("us-east-1", None, customization_type=CustomizationType.DISTILLATION)
    assert {e.model.id for e in view.models} == DISTILLATION_STUDENTS
    available = {e.model.id for e in view.models if e.available}
    assert available == {NOVA_MICRO, NOVA_LITE, NOVA_PRO}


# --------------------------------------------------------------------------- fetch_live_models


def summary(model_id: str, kinds: list[str]) -> dict[str, Any]:
    return {
        "modelArn": f"arn:aws:bedrock:us-west-2::foundation-model/{model_id}",
        "modelId": model_id,
        "modelName": model_id,
        "providerName": "Meta",
        "customizationsSupported": kinds,
        "inferenceTypesSupported": ["PROVISIONED"],
        "modelLifecycle": {"status": "ACTIVE"},
    }


@pytest.fixture
def bedrock(monkeypatch: pytest.MonkeyPatch) -> Any:
    """A real boto3 bedrock client in us-west-2 with fake credentials (for a Stubber)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", "testing")
    return boto3.client("bedrock", region_name="us-west-2")


def test_fetch_live_models_merges_the_per_type_answers(bedrock: Any) -> None:
    with Stubber(bedrock) as stub:
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary(LLAMA_31_8B, ["FINE_TUNING"]), summary(HAIKU, [])]},
            {"byCustomizationType": "FINE_TUNING"},
        )
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": []},
            {"byCustomizationType": "CONTINUED_PRE_TRAINING"},
        )
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary(LLAMA_31_8B, ["DISTILLATION"])]},
            {"byCustomizationType": "DISTILLATION"},
        )
        found = fetch_live_models(bedrock)
        stub.assert_no_pending_responses()
    by_id = {m.model_id: m for m in found}
    assert set(by_id) == {LLAMA_31_8B, HAIKU}
    assert by_id[LLAMA_31_8B].customizations == ("FINE_TUNING", "DISTILLATION")
    assert by_id[LLAMA_31_8B].inference_types == ("PROVISIONED",)
    view = build_view("us-west-2", found)
    entry = view.get(LLAMA_31_8B)
    assert entry is not None and entry.available and entry.basis == "live"


def test_fetch_live_models_for_one_type_makes_one_call(bedrock: Any) -> None:
    with Stubber(bedrock) as stub:
        stub.add_response(
            "list_foundation_models",
            {"modelSummaries": [summary(LLAMA_33_70B, ["DISTILLATION"])]},
            {"byCustomizationType": "DISTILLATION"},
        )
        found = fetch_live_models(bedrock, CustomizationType.DISTILLATION)
        stub.assert_no_pending_responses()
    assert [m.model_id for m in found] == [LLAMA_33_70B]


def test_fetch_live_models_translates_aws_errors(bedrock: Any) -> None:
    with Stubber(bedrock) as stub:
        stub.add_client_error(
            "list_foundation_models",
            service_error_code="AccessDeniedException",
            service_message="not authorized to perform: bedrock:ListFoundationModels",
            http_status_code=403,
        )
        with pytest.raises(AccessDeniedError) as caught:
            fetch_live_models(bedrock, CustomizationType.FINE_TUNING)
    assert "us-west-2" in caught.value.message
    assert "bedrock:ListFoundationModels" in caught.value.hint


# --------------------------------------------------------------------------- model_json


def test_model_json_has_what_scripts_need() -> None:
    entry = build_view("us-east-1", None).get(TITAN_EXPRESS)
    assert entry is not None
    data = model_json(entry)
    assert data["id"] == TITAN_EXPRESS
    assert data["name"] == "Titan Text G1 Express"
    assert data["provider"] == "Amazon"
    assert data["customization_types"] == ["fine-tuning", "continued-pre-training"]
    assert data["available"] is True
    assert data["regions"] == ["us-east-1", "us-west-2"]
    assert data["lifecycle"] == "legacy"
    assert data["end_of_life"] is None  # no source gives one
    assert data["instead"] and data["lifecycle_source"]
    first = data["customizations"][0]
    assert first["data_format"] == "prompt-completion"
    assert first["limits"]["max_tokens_per_record"] == 4096
    assert first["limits"]["max_chars_per_record"] == 4096 * 6
    assert isinstance(first["limits"]["notes"], list) and first["limits"]["notes"]
    epochs = next(h for h in first["hyperparameters"] if h["name"] == "epochCount")
    assert (epochs["type"], epochs["min"], epochs["max"], epochs["default"]) == ("int", 1, 10, 5)
    assert all(s["date"] for s in data["sources"])


def test_model_json_of_an_unavailable_model() -> None:
    entry = build_view("us-west-2", None).get(NOVA_2_LITE)
    assert entry is not None
    data = model_json(entry)
    assert data["available"] is False
    assert "us-east-1" in data["availability_reason"]
    assert data["deployment_options"] == ["on-demand-deployment", "provisioned-throughput"]
    assert data["customizations"][0]["limits"]["validation_data_supported"] is False
    assert data["pricing"]["training_per_1k_tokens"] == 0.00378


# --------------------------------------------------------------------------- lifecycle

BEFORE_HAIKU_EOL = date(2026, 9, 9)


def test_claude_3_haiku_is_end_of_life_where_it_was_customized() -> None:
    haiku = BY_ID[HAIKU]
    assert haiku.lifecycle is Lifecycle.LEGACY
    status = lifecycle_in(haiku, "us-west-2", today=BEFORE_HAIKU_EOL)
    # The card states the end of life as a fact: it holds whatever the date.
    assert status.stage is LifecycleStage.END_OF_LIFE and status.end_of_life == "2026-09-10"
    assert "model-card-anthropic-claude-3-haiku" in status.source
    assert set(status.instead) <= set(BY_ID)
    assert status.instead and all(BY_ID[i].lifecycle is Lifecycle.ACTIVE for i in status.instead)
    # Where the card says it lingers, it is legacy, with no date invented.
    seoul = lifecycle_in(haiku, "ap-northeast-2")
    assert seoul.stage is LifecycleStage.LEGACY and seoul.end_of_life is None and seoul.note


def test_cohere_fine_tuning_is_deprecated_with_its_limits() -> None:
    for model_id in (COMMAND, COMMAND_LIGHT):
        model = BY_ID[model_id]
        status = lifecycle_in(model, "us-east-1")
        assert status.stage is LifecycleStage.LEGACY
        assert status.legacy_since == "2025-09-15" and status.end_of_life is None
        assert "docs.cohere.com" in " ".join(s.url for s in model.sources)
        limits = model.customizations[0].limits
        assert limits.min_records == 32
        assert limits.max_tokens_per_record == 4096  # prompt + completion together
    assert LLAMA_31_8B in BY_ID[COMMAND].instead  # the same prompt / completion records


def test_every_lifecycle_date_has_a_dated_source() -> None:
    for model in MODELS:
        for fact in model.lifecycle_facts:
            assert fact.source.name and fact.source.date, model.id
            for value in (fact.end_of_life, fact.legacy_since):
                if value is not None:
                    date.fromisoformat(value)
        for other in model.instead:
            assert other in BY_ID and other != model.id
        if model.lifecycle is Lifecycle.LEGACY:
            assert model.lifecycle_facts and model.instead, model.id


def test_the_live_status_and_dates_win_and_a_passed_date_is_end_of_life() -> None:
    llama = BY_ID[LLAMA_31_8B]
    summary = {
        "modelId": LLAMA_31_8B,
        "modelLifecycle": {
            "status": "LEGACY",
            "legacyTime": datetime(2026, 6, 1, tzinfo=UTC),
            "endOfLifeTime": datetime(2027, 1, 15, tzinfo=UTC),
        },
    }
    listed = LiveModel.from_summary(summary)
    assert (listed.legacy_since, listed.end_of_life) == ("2026-06-01", "2027-01-15")
    status = lifecycle_in(llama, "us-west-2", listed, today=date(2026, 12, 1))
    assert (status.stage, status.basis) == (LifecycleStage.LEGACY, "live")
    assert status.end_of_life == "2027-01-15"
    gone = lifecycle_in(llama, "us-west-2", listed, today=date(2027, 1, 15))
    assert gone.stage is LifecycleStage.END_OF_LIFE
    view = build_view("us-west-2", [listed], today=date(2027, 1, 15))
    entry = view.get(LLAMA_31_8B)
    assert entry is not None and not entry.available and "end of life" in entry.reason
    # An active answer is active, even where the catalog has a fact.
    haiku_live = LiveModel(HAIKU, "Claude 3 Haiku", "Anthropic", ("FINE_TUNING",), (), "ACTIVE")
    assert lifecycle_in(BY_ID[HAIKU], "ap-northeast-2", haiku_live).active


def test_the_default_model_is_never_legacy_or_end_of_life() -> None:
    for region in customization_regions():
        for kind in CustomizationType:
            view = build_view(region, None, customization_type=kind)
            chosen = default_model(view)
            if chosen is not None:
                assert chosen.available and chosen.lifecycle.active, (region, kind)
    # Only legacy models in the view: no default at all.
    cpt = build_view("us-east-1", None, customization_type=CustomizationType.CONTINUED_PRE_TRAINING)
    assert cpt.models and default_model(cpt) is None


def test_models_json_carries_lifecycle_and_end_of_life() -> None:
    view = build_view("us-west-2", None, today=BEFORE_HAIKU_EOL)
    haiku = model_json(view.get(HAIKU))  # type: ignore[arg-type]
    assert (haiku["lifecycle"], haiku["end_of_life"]) == ("end-of-life", "2026-09-10")
    llama = model_json(view.get(LLAMA_31_8B))  # type: ignore[arg-type]
    assert (llama["lifecycle"], llama["end_of_life"]) == ("active", None)
    command = model_json(build_view("us-east-1", None).get(COMMAND))  # type: ignore[arg-type]
    assert (command["lifecycle"], command["end_of_life"]) == ("legacy", None)
