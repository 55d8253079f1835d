"""The built-in catalog of customizable base models.

Every fact comes from `reference/bedrock.md` (compiled 2026 from the Bedrock User Guide (UG), the
botocore service model, the aws-samples validators and notebooks, and field reports), with the
source named per model. Where the sources disagree or are silent, the value is None and a note
says so: bedrock-tune never guesses a limit or a price.

To update: change the data here, keep `sources` and `as_of` dates true, and run the catalog tests.
The live `ListFoundationModels` answer decides availability per region at run time; this file
supplies what the API does not say (formats, limits, hyperparameter ranges, prices).
"""

from __future__ import annotations

from core.catalog import (
    BaseModel,
    Customization,
    CustomizationType,
    DataFormat,
    DeploymentOption,
    Hyperparameter,
    Lifecycle,
    Limits,
    Pricing,
    Source,
)

GB = 1024**3
MB = 1024**2
FT = CustomizationType.FINE_TUNING
CPT = CustomizationType.CONTINUED_PRE_TRAINING
DISTILL = CustomizationType.DISTILLATION
PT = DeploymentOption.PROVISIONED_THROUGHPUT
ON_DEMAND = DeploymentOption.ON_DEMAND_DEPLOYMENT

UG_HP = Source("UG custom-models-hp (hyperparameters)", "2026")
UG_PREPARE = Source("UG model-customization-prepare (formats and quotas)", "2026")
UG_FT = Source("UG custom-model-fine-tuning (supported models and regions)", "2026")
UG_SUPPORTED_OLD = Source("UG custom-model-supported (older copy, incl. CPT table)", "2024")
UG_ON_DEMAND = Source("UG deploy-custom-model-on-demand", "2026")
UG_DISTILL = Source("UG prequisites-model-distillation", "2026")
NOVA_VALIDATOR = Source(
    "aws-samples nova_ft_dataset_validator.py",
    "2026",
    "https://github.com/aws-samples/amazon-bedrock-samples",
)
CLAUDE_VALIDATOR = Source(
    "aws-samples claude-haiku DataValidation/data_validation.py",
    "2026",
    "https://github.com/aws-samples/amazon-bedrock-samples",
)
PRICING_2025 = "convo-lang bedrock-pricing.md (on-demand base prices)"
STORAGE = 1.95

# --------------------------------------------------------------------------- hyperparameters


def _int(
    name: str, low: int, high: int, default: int | None, text: str, note: str = ""
) -> Hyperparameter:
    return Hyperparameter(name, "int", low, high, default, text, note)


def _float(
    name: str, low: float, high: float, default: float | None, text: str, note: str = ""
) -> Hyperparameter:
    return Hyperparameter(name, "float", low, high, default, text, note)


EPOCHS = "passes over the training data"
LR = "learning rate"
WARMUP = "steps over which the learning rate ramps up to its value"

NOVA_HPS = (
    _int(
        "epochCount",
        1,
        5,
        2,
        EPOCHS,
        "The service caps epochs at 5; for fewer than 1K samples AWS suggests duplicating data.",
    ),
    _float("learningRate", 1e-6, 1e-4, 1e-5, LR),
    _int(
        "learningRateWarmupSteps",
        0,
        100,
        10,
        WARMUP,
        "AWS guidance: dataset size / 640 (Micro), / 160 (Lite), / 320 (Pro).",
    ),
)
NOVA_HPS_NOTE = (
    "[CONFLICT] An AWS notebook also sends batchSize and quotes older ranges (epochs 1-10); the "
    "UG table lists only epochCount, learningRate and learningRateWarmupSteps, which we follow."
)
CLAUDE_HPS = (
    _int("epochCount", 1, 10, 2, EPOCHS),
    _int("batchSize", 4, 256, 32, "records per training step"),
    _float("learningRateMultiplier", 0.1, 2.0, 1.0, "multiplier on the base learning rate"),
    _float("earlyStoppingThreshold", 0.0, 0.1, 0.001, "minimum validation-loss improvement"),
    _int("earlyStoppingPatience", 1, 10, 2, "epochs without improvement before stopping"),
)
LLAMA_HPS = (
    _int("epochCount", 1, 10, 5, EPOCHS, "The maximum is a quota and can be raised."),
    _int("batchSize", 1, 1, 1, "records per training step (fixed at 1)"),
    _float("learningRate", 5e-6, 0.1, 1e-4, LR),
)
TITAN_HPS = (
    _int("epochCount", 1, 10, 5, EPOCHS),
    _int(
        "batchSize",
        1,
        64,
        1,
        "records per training step",
        "Larger batches lower the per-record token limit (Express: 2,048 at batch 2-4).",
    ),
    _float("learningRate", 0.0, 1.0, 1e-5, LR),
    _int("learningRateWarmupSteps", 0, 250, 5, WARMUP),
)


def _cohere_hps(max_batch: int) -> tuple[Hyperparameter, ...]:
    return (
        _int("epochCount", 1, 100, 1, EPOCHS),
        _int("batchSize", 8, max_batch, 8, "records per training step"),
        _float(
            "learningRate",
            5e-6,
            0.1,
            1e-5,
            LR,
            "The docs advise leaving it unset when you supply validation data.",
        ),
        _float("earlyStoppingThreshold", 0.0, 0.1, 0.01, "minimum validation-loss improvement"),
        _int("earlyStoppingPatience", 1, 10, 6, "evaluations without improvement before stopping"),
        _float(
            "evalPercentage",
            5.0,
            50.0,
            20.0,
            "share of the training data held out for evaluation when there is no validation file",
        ),
    )


# --------------------------------------------------------------------------- limits

NOVA_LIMITS_NOTES = (
    "Per-record token limit: no source seen (the Nova User Guide's constraint table could not "
    "be retrieved); bedrock-tune does not check tokens per record for Nova.",
    "Maximum validation records and file sizes: not in the sources.",
    "Field report: a 'training + validation records' quota of 20,000.",
)


def _nova_limits(images: int, videos: int, *, validation: bool = True) -> Limits:
    return Limits(
        min_records=8,
        max_train_records=20_000,
        max_total_records=20_000,
        chars_per_token=6.0,
        max_images_per_record=images,
        max_videos_per_record=videos,
        validation_data_supported=validation,
        notes=NOVA_LIMITS_NOTES,
    )


def _llama_limits(max_tokens: int, *, images: int = 0, note: str = "") -> Limits:
    notes = (
        "The minimum of 100 records applies to training + validation.",
        "The 10,000-record maximum is an adjustable quota.",
        "File size limits: not in the sources.",
    )
    return Limits(
        min_records=100,
        max_train_records=10_000,
        max_validation_records=1_000,
        max_total_records=10_000,
        max_tokens_per_record=max_tokens,
        max_input_tokens=16_000,
        max_output_tokens=16_000,
        chars_per_token=6.0,
        max_images_per_record=images,
        notes=(*notes, note) if note else notes,
    )


DISTILL_LIMITS = Limits(
    min_records=100,
    max_train_file_bytes=1 * GB,
    chars_per_token=6.0,
    notes=(
        "Distillation takes prompts (the assistant turn is optional), text only, single turn; "
        "the sample validator wants at least 100 valid prompts and files of at most 1 GB.",
    ),
)
DISTILL_NOTE = (
    "Distillation hyperparameters are not in the UG table; the teacher model and "
    "maxResponseLengthForInference go in customizationConfig instead."
)


def _distillation() -> Customization:
    return Customization(DISTILL, DataFormat.CONVERSATION, (), DISTILL_LIMITS)


def _titan_limits(batch_one_tokens: int, note: str) -> Limits:
    return Limits(
        max_tokens_per_record=batch_one_tokens,
        chars_per_token=6.0,
        max_train_file_bytes=1 * GB,
        max_validation_file_bytes=100 * MB,
        notes=(
            note,
            "Record counts are account quotas (e.g. L-3B82104D for Titan Text G1 Lite); the "
            "sources give no default values.",
        ),
    )


# --------------------------------------------------------------------------- the models

NOVA_PRICE_NOTE = (
    "No-commitment provisioned throughput for Nova was seen at about $60.50/h idle (field report "
    "2026-08, model unspecified): not used as a per-model price."
)

MODELS: tuple[BaseModel, ...] = (
    BaseModel(
        id="anthropic.claude-3-haiku-20240307-v1:0:200k",
        name="Claude 3 Haiku",
        provider="Anthropic",
        family="claude-3-haiku",
        inference_id="anthropic.claude-3-haiku-20240307-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                FT,
                DataFormat.CLAUDE_MESSAGES,
                CLAUDE_HPS,
                Limits(
                    min_records=32,
                    max_train_records=10_000,
                    max_validation_records=1_000,
                    max_total_records=10_000,
                    max_tokens_per_record=32_000,
                    chars_per_token=3.0,
                    max_train_file_bytes=10 * GB,
                    max_validation_file_bytes=1 * GB,
                    notes=(
                        "Tokens are estimated at 3 characters per token, as the AWS Claude sample "
                        "validator does (conservative; AWS plans other models with 6).",
                        "The 10,000-record total is an adjustable quota.",
                    ),
                ),
            ),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.00025,
            on_demand_output_per_1k=0.00125,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=(
                "No reliable 2025-26 training price or provisioned-throughput rate was found for "
                "Claude 3 Haiku; check the Bedrock pricing page or the Price List API.",
            ),
        ),
        sources=(UG_FT, UG_PREPARE, UG_HP, CLAUDE_VALIDATOR),
        notes=(
            "Customization runs in us-west-2 only; provisioned throughput is also sold in "
            "us-east-1, eu-west-3 and ap-southeast-2 after a model copy.",
            "Distillation is not available for Anthropic models.",
        ),
    ),
    BaseModel(
        id="amazon.nova-micro-v1:0:128k",
        name="Nova Micro",
        provider="Amazon",
        family="nova",
        inference_id="us.amazon.nova-micro-v1:0",
        regions=("us-east-1",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, NOVA_HPS, _nova_limits(0, 0)),
            _distillation(),
        ),
        deployment_options=(ON_DEMAND, PT),
        pricing=Pricing(
            training_per_1k_tokens=0.001,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.000035,
            on_demand_output_per_1k=0.00014,
            as_of="2026-08 (training); 2025-07-20 (inference)",
            source="field report (training); " + PRICING_2025,
            notes=(NOVA_PRICE_NOTE,),
        ),
        sources=(UG_FT, NOVA_VALIDATOR, UG_HP, UG_ON_DEMAND, UG_DISTILL),
        notes=("Text only: Nova Micro accepts no images or video.", NOVA_HPS_NOTE),
    ),
    BaseModel(
        id="amazon.nova-lite-v1:0:300k",
        name="Nova Lite",
        provider="Amazon",
        family="nova",
        inference_id="us.amazon.nova-lite-v1:0",
        regions=("us-east-1",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, NOVA_HPS, _nova_limits(10, 1)),
            _distillation(),
        ),
        deployment_options=(ON_DEMAND, PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.00006,
            on_demand_output_per_1k=0.00024,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=("Training price not in the sources.", NOVA_PRICE_NOTE),
        ),
        sources=(UG_FT, NOVA_VALIDATOR, UG_HP, UG_ON_DEMAND, UG_DISTILL),
        notes=(
            "At most 10 images or 1 video per record, never both; never mix media types in a "
            "dataset; media must sit in the dataset's bucket.",
            NOVA_HPS_NOTE,
        ),
    ),
    BaseModel(
        id="amazon.nova-pro-v1:0:300k",
        name="Nova Pro",
        provider="Amazon",
        family="nova",
        inference_id="us.amazon.nova-pro-v1:0",
        regions=("us-east-1",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, NOVA_HPS, _nova_limits(10, 1)),
            _distillation(),
        ),
        deployment_options=(ON_DEMAND, PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.0008,
            on_demand_output_per_1k=0.0032,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=("Training price not in the sources.", NOVA_PRICE_NOTE),
        ),
        sources=(UG_FT, NOVA_VALIDATOR, UG_HP, UG_ON_DEMAND, UG_DISTILL),
        notes=(
            "Also a distillation teacher (amazon.nova-pro-v1:0).",
            "At most 10 images or 1 video per record, never both.",
            NOVA_HPS_NOTE,
        ),
    ),
    BaseModel(
        id="amazon.nova-2-lite-v1:0:256k",
        name="Nova 2 Lite",
        provider="Amazon",
        family="nova-2",
        inference_id="us.amazon.nova-2-lite-v1:0",
        regions=("us-east-1",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                FT,
                DataFormat.CONVERSATION,
                (
                    _int(
                        "epochCount",
                        1,
                        5,
                        2,
                        EPOCHS,
                        "No documented range for Nova 2 Lite; the Nova range is assumed.",
                    ),
                    _float(
                        "learningRate",
                        1e-6,
                        1e-4,
                        1e-5,
                        LR,
                        "No documented range for Nova 2 Lite; the Nova range is assumed.",
                    ),
                ),
                _nova_limits(10, 1, validation=False),
            ),
        ),
        deployment_options=(ON_DEMAND, PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=Pricing(
            training_per_1k_tokens=0.00378,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.0003,
            on_demand_output_per_1k=0.0025,
            as_of="2026-08",
            source="field report test fixture (uncertain)",
            notes=("The on-demand inference prices come from a test fixture: verify them.",),
        ),
        sources=(UG_FT, Source("UG nova-2-sft-data-prep", "2026"), UG_ON_DEMAND),
        notes=(
            "No documented hyperparameter table for Nova 2 Lite on Bedrock; one public tool "
            "defaults to epochCount 2 and learningRate 0.00001.",
            "A validation set is not supported during SFT; tool sections may make the job fail; "
            "the dataset must be homogeneous (text, text+image or text+video).",
            "Assistant turns may carry reasoningContent (reasoningText only).",
        ),
    ),
    BaseModel(
        id="meta.llama3-1-8b-instruct-v1:0:128k",
        name="Llama 3.1 8B Instruct",
        provider="Meta",
        family="llama-3.1",
        inference_id="us.meta.llama3-1-8b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.PROMPT_COMPLETION, LLAMA_HPS, _llama_limits(16_000)),
            _distillation(),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.00022,
            on_demand_output_per_1k=0.00022,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=("No reliable training price in the sources; use the Price List API.",),
        ),
        sources=(UG_FT, UG_PREPARE, UG_HP, UG_DISTILL),
        notes=(
            "Base inference uses the us. cross-region profile; whether the plain id answers "
            "on demand in every region is not confirmed by the sources.",
        ),
    ),
    BaseModel(
        id="meta.llama3-1-70b-instruct-v1:0:128k",
        name="Llama 3.1 70B Instruct",
        provider="Meta",
        family="llama-3.1",
        inference_id="us.meta.llama3-1-70b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.PROMPT_COMPLETION, LLAMA_HPS, _llama_limits(16_000)),
            _distillation(),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.00072,
            on_demand_output_per_1k=0.00072,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=("No reliable training price in the sources; use the Price List API.",),
        ),
        sources=(UG_FT, UG_PREPARE, UG_HP, UG_DISTILL),
    ),
    BaseModel(
        id="meta.llama3-2-1b-instruct-v1:0:128k",
        name="Llama 3.2 1B Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-1b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, LLAMA_HPS, _llama_limits(16_000)),
            _distillation(),
        ),
        deployment_options=(PT,),
        pricing=Pricing(training_per_1k_tokens=None, storage_per_month=STORAGE),
        sources=(UG_FT, UG_PREPARE, UG_HP, UG_DISTILL),
        notes=("Prices for Llama 3.2 customization are not in the sources.",),
    ),
    BaseModel(
        id="meta.llama3-2-3b-instruct-v1:0:128k",
        name="Llama 3.2 3B Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-3b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, LLAMA_HPS, _llama_limits(16_000)),
            _distillation(),
        ),
        deployment_options=(PT,),
        pricing=Pricing(training_per_1k_tokens=None, storage_per_month=STORAGE),
        sources=(UG_FT, UG_PREPARE, UG_HP, UG_DISTILL),
        notes=("Prices for Llama 3.2 customization are not in the sources.",),
    ),
    BaseModel(
        id="meta.llama3-2-11b-instruct-v1:0:128k",
        name="Llama 3.2 11B Vision Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-11b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                FT,
                DataFormat.CONVERSATION,
                LLAMA_HPS,
                _llama_limits(
                    16_000,
                    images=10,
                    note="Images: gif/jpeg/png/webp, at most 10 MB, 10-8192 px per side; each "
                    "counts 1,601-6,404 tokens. The 10-images-per-record cap is Nova's; the "
                    "sources give none for Llama.",
                ),
            ),
        ),
        deployment_options=(PT,),
        input_modalities=("TEXT", "IMAGE"),
        pricing=Pricing(training_per_1k_tokens=None, storage_per_month=STORAGE),
        sources=(UG_FT, UG_PREPARE, UG_HP),
        notes=("The sample validator allows at most one system element.",),
    ),
    BaseModel(
        id="meta.llama3-2-90b-instruct-v1:0:128k",
        name="Llama 3.2 90B Vision Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-90b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                FT,
                DataFormat.CONVERSATION,
                LLAMA_HPS,
                _llama_limits(
                    10_000,
                    images=10,
                    note="Input + output must stay within 10,000 tokens for the 90B model.",
                ),
            ),
        ),
        deployment_options=(PT,),
        input_modalities=("TEXT", "IMAGE"),
        pricing=Pricing(training_per_1k_tokens=None, storage_per_month=STORAGE),
        sources=(UG_FT, UG_PREPARE, UG_HP),
    ),
    BaseModel(
        id="meta.llama3-3-70b-instruct-v1:0:128k",
        name="Llama 3.3 70B Instruct",
        provider="Meta",
        family="llama-3.3",
        inference_id="us.meta.llama3-3-70b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(FT, DataFormat.CONVERSATION, LLAMA_HPS, _llama_limits(16_000)),
            _distillation(),
        ),
        deployment_options=(ON_DEMAND, PT),
        pricing=Pricing(
            training_per_1k_tokens=None,
            storage_per_month=STORAGE,
            on_demand_input_per_1k=0.00072,
            on_demand_output_per_1k=0.00072,
            as_of="2025-07-20",
            source=PRICING_2025,
            notes=(
                "A field report paid $0.1759 for 189 records x 2 epochs (2026-08); no per-token "
                "training price is published in the sources.",
            ),
        ),
        sources=(UG_SUPPORTED_OLD, UG_PREPARE, UG_ON_DEMAND, Source("field report", "2026-08")),
        notes=(
            "[CONFLICT] Listed in the older supported-models table, the 2026 quota table and the "
            "on-demand deployment page, but not in the (truncated) 2026 fine-tuning table; a "
            "field report fine-tuned it in us-west-2 in Aug 2026.",
            "On-demand deployment needs a model customized on or after 2025-07-16.",
        ),
    ),
    BaseModel(
        id="amazon.titan-text-express-v1:0:8k",
        name="Titan Text G1 Express",
        provider="Amazon",
        family="titan-text",
        inference_id="amazon.titan-text-express-v1",
        regions=("us-east-1", "us-west-2"),
        lifecycle=Lifecycle.LEGACY,
        customizations=(
            Customization(
                FT,
                DataFormat.PROMPT_COMPLETION,
                TITAN_HPS,
                _titan_limits(4_096, "4,096 tokens per record at batch size 1; 2,048 at 2-4."),
            ),
            Customization(
                CPT,
                DataFormat.CONTINUED_PRETRAINING,
                TITAN_HPS,
                _titan_limits(
                    4_096,
                    "4,096 tokens per record at batch size 1 (a job failed at 4,919; chunks of "
                    "at most about 5,000 characters worked).",
                ),
            ),
        ),
        deployment_options=(PT,),
        pricing=Pricing(training_per_1k_tokens=None, storage_per_month=STORAGE),
        sources=(UG_SUPPORTED_OLD, UG_PREPARE, UG_HP),
        notes=(
            "[CONFLICT] Retired: absent from the 2026 fine-tuning table and (field report, Aug "
            "2026) from ListFoundationModels in us-east-1 and us-west-2. Kept for existing "
            "users and the seed walkthroughs; prefer Nova or Llama.",
        ),
    ),
    BaseModel(
        id="amazon.titan-text-lite-v1:0:4k",
        name="Titan Text G1 Lite",
        provider="Amazon",
        family="titan-text",
        inference_id="amazon.titan-text-lite-v1",
        regions=("us-east-1", "us-west-2"),
        lifecycle=Lifecycle.LEGACY,
        customizations=(
            Customization(
                FT,
                DataFormat.PROMPT_COMPLETION,
                TITAN_HPS,
                _titan_limits(4_096, "4,096 tokens per record at batch size 1-2; 2,048 at 3-6."),
            ),
            Customization(
                CPT,
                DataFormat.CONTINUED_PRETRAINING,
                TITAN_HPS,
                _titan_limits(4_096, "4,096 tokens per record at batch size 1-2; 2,048 at 3-6."),
            ),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.0004,
            storage_per_month=STORAGE,
            provisioned_per_hour=7.10,
            as_of="~2024",
            source="GitHub notes on the pricing page",
            notes=("Prices from about 2024; the model is retired.",),
        ),
        sources=(UG_SUPPORTED_OLD, UG_PREPARE, UG_HP),
        notes=(
            "[CONFLICT] Retired: absent from the 2026 fine-tuning table and (field report, Aug "
            "2026) from ListFoundationModels. Kept for the seed walkthroughs.",
        ),
    ),
    BaseModel(
        id="cohere.command-light-text-v14:7:4k",
        name="Command Light",
        provider="Cohere",
        family="cohere-command",
        inference_id="cohere.command-light-text-v14",
        regions=("us-east-1", "us-west-2"),
        lifecycle=Lifecycle.LEGACY,
        customizations=(
            Customization(
                FT,
                DataFormat.PROMPT_COMPLETION,
                _cohere_hps(32),
                Limits(
                    max_train_records=10_000,
                    max_validation_records=1_000,
                    max_tokens_per_record=4_096 + 2_048,
                    max_input_tokens=4_096,
                    max_output_tokens=2_048,
                    chars_per_token=6.0,
                    notes=("Minimum records and file sizes: not in the sources.",),
                ),
            ),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.001,
            storage_per_month=STORAGE,
            provisioned_per_hour=8.56,
            as_of="2024-03",
            source="becloudready pricing post",
        ),
        sources=(UG_SUPPORTED_OLD, UG_HP, Source("cohere-ai/cohere-aws PR #89", "2024")),
        notes=(
            "Deprecated by Cohere on 2025-09-15 and gone from the 2026 Bedrock tables; regions "
            "are uncertain. The customization id needs the ':7:4k' suffix.",
        ),
    ),
    BaseModel(
        id="cohere.command-text-v14:7:4k",
        name="Command",
        provider="Cohere",
        family="cohere-command",
        inference_id="cohere.command-text-v14",
        regions=("us-east-1", "us-west-2"),
        lifecycle=Lifecycle.LEGACY,
        customizations=(
            Customization(
                FT,
                DataFormat.PROMPT_COMPLETION,
                _cohere_hps(8),
                Limits(
                    max_train_records=10_000,
                    max_validation_records=1_000,
                    max_tokens_per_record=4_096 + 2_048,
                    max_input_tokens=4_096,
                    max_output_tokens=2_048,
                    chars_per_token=6.0,
                    notes=("Minimum records and file sizes: not in the sources.",),
                ),
            ),
        ),
        deployment_options=(PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.004,
            storage_per_month=STORAGE,
            provisioned_per_hour=49.50,
            as_of="2024-03",
            source="becloudready pricing post",
        ),
        sources=(UG_SUPPORTED_OLD, UG_HP, Source("cohere-ai/cohere-aws PR #89", "2024")),
        notes=(
            "Deprecated by Cohere on 2025-09-15 and gone from the 2026 Bedrock tables; regions "
            "are uncertain.",
        ),
    ),
)
