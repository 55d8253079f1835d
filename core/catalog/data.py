"""The built-in catalog of base models Amazon Bedrock can customize (`MODELS`).

What it is: the facts the ListFoundationModels API does not give - training-data format, dataset
limits, hyperparameter ranges, deployment options, prices - for each customizable base model,
in display order (active models first, legacy models last). `core.catalog` reads `MODELS`
through `builtin_models()`; at run time the region's live ListFoundationModels answer still
decides which of these models the region offers.

Source and date: `reference/bedrock.md` (the project's fact sheet), compiled in August 2026 from
the Bedrock User Guide (2026 copies of the pages, plus an older undated `custom-model-supported`
copy from between Llama 3.3's release in December 2024 and the 2026 tables), the botocore
service model (snapshot of 2026-08-07), the aws-samples validators and notebooks (2026), and one
team's field report (August 2026). Every model names its sources with a date; every price carries
the date the reference gives for it (`Pricing.as_of` is the oldest figure's date).

Rules this file keeps:
* Unknown stays unknown. A limit the reference marks uncertain is None and `Limits.notes` says
  why; a price without a reliable figure is None and `Pricing.notes` says so. Where a type
  cannot say "unknown" (an int, a bool, a hyperparameter range), the choice made is the safer
  one and a note says it is a choice.
* Every uncertainty or conflict (reference markers and [CONFLICT]) that concerns a model is in
  that model's `notes`, its `Limits.notes` or its `Pricing.notes`.
* `id` is the customization `baseModelIdentifier` (with the context suffix, e.g. `:128k`);
  `inference_id` is what Converse takes for the base model and is never the customization id.

How to update: edit the data here from a newer reference (or the live pages it cites), keep every
`Source.date` and `Pricing.as_of` true to the figure's origin, and run
`pytest tests/core/test_catalog.py`. To see what a region offers today, run
`bedrock-tune models --region <region> --json`; for current prices, query the Price List API
(`pricing.get_products(ServiceCode="AmazonBedrock", ...)`, usage types such as
`USE1-NovaMicro-Customization-Training`).
"""

from __future__ import annotations

from core.catalog.types import (
    BaseModel,
    Customization,
    CustomizationType,
    DataFormat,
    DeploymentOption,
    Hyperparameter,
    Lifecycle,
    LifecycleFact,
    LifecycleStage,
    Limits,
    NoteWhen,
    Pricing,
    Source,
    Teacher,
)

_GB = 1024**3
_MB = 1024**2
_FT = CustomizationType.FINE_TUNING
_CPT = CustomizationType.CONTINUED_PRE_TRAINING
_DISTILL = CustomizationType.DISTILLATION
_PT = DeploymentOption.PROVISIONED_THROUGHPUT
_ON_DEMAND = DeploymentOption.ON_DEMAND_DEPLOYMENT
_STORAGE_PER_MONTH = 1.95
"""$1.95 per custom model per month: the same in every source from 2024 to 2026."""

# --------------------------------------------------------------------------- sources

_UG_URL = "https://docs.aws.amazon.com/bedrock/latest/userguide/"
_SAMPLES_URL = "https://github.com/aws-samples/amazon-bedrock-samples/tree/main/custom-models/"


def _ug(page: str, date: str = "2026") -> Source:
    """A page of the Amazon Bedrock User Guide."""
    return Source(f"UG {page}", date, f"{_UG_URL}{page}.html")


def _samples(path: str) -> Source:
    """A file of the aws-samples/amazon-bedrock-samples snapshot (HEAD 85fba9d9, 2026)."""
    return Source(f"aws-samples {path}", "2026", f"{_SAMPLES_URL}{path}")


_UG_FINE_TUNING = _ug("custom-model-fine-tuning")
_UG_SUPPORTED_OLD = _ug("custom-model-supported", "2025")
"""An older, undated copy: it lists Llama 3.3 (released Dec 2024) and predates the 2026 tables."""
_UG_PREPARE = _ug("model-customization-prepare")
_UG_HP = _ug("custom-models-hp")
_UG_ON_DEMAND = _ug("deploy-custom-model-on-demand")
_UG_DISTILL = _ug("prequisites-model-distillation")
_UG_DISTILL_DATA = _ug("distillation-prepare-datasets")
_UG_PT_REGIONS = _ug("prov-thru-supported")
_UG_NOVA2_DATA = _ug("nova-2-sft-data-prep")
_NOVA_UG = Source(
    "Amazon Nova User Guide, customization",
    "2026",
    "https://docs.aws.amazon.com/nova/latest/userguide/customization.html",
)
_NOVA_VALIDATOR = _samples(
    "bedrock-fine-tuning/nova/understanding/dataset_validation/nova_ft_dataset_validator.py"
)
_CLAUDE_VALIDATOR = _samples("bedrock-fine-tuning/claude-haiku/DataValidation/data_validation.py")
_LLAMA_VALIDATOR = _samples(
    "bedrock-fine-tuning/meta-llama/dataset_validation/dataset_validation.py"
)
_DISTILL_VALIDATOR = _samples("model_distillation/dataset-validation/schema.py")
_FIELD_REPORT = Source(
    "Field report: a team's Bedrock fine-tuning incident log and cost estimator "
    "(reference/bedrock.md [INC]; repository not named)",
    "2026-08",
)
_COHERE_PR = Source(
    "cohere-ai/cohere-aws PR #89 (the ':7:4k' customization ids)",
    "2023-11-28",
    "https://github.com/cohere-ai/cohere-aws/pull/89",
)
_COHERE_DEPRECATION = Source(
    "Cohere docs: Command and Command Light deprecated",
    "2025-09-15",
    "https://docs.cohere.com/v1/docs/command-beta",
)

# Price sources, exactly as reference/bedrock.md section 9 names them.
_PRICE_BASE_ON_DEMAND = "convo-lang packages/convo-lang-bedrock/bedrock-pricing.md"
_PRICE_BASE_DATE = "2025-07-20"
_PRICE_FIELD_REPORT = "field report (reference/bedrock.md [INC])"
_PRICE_STORAGE = "reference/bedrock.md section 9 (storage: all sources 2024-2026)"
_PRICE_COHERE = "becloudready/beautiful-jekyll _posts/2024-03-13-aws-bedrock-pricing.md"

# --------------------------------------------------------------------------- hyperparameters


def _int(
    name: str,
    low: int,
    high: int,
    default: int | None,
    text: str,
    note: str = "",
    note_when: NoteWhen = "always",
) -> Hyperparameter:
    return Hyperparameter(name, "int", low, high, default, text, note, note_when)


def _float(
    name: str,
    low: float,
    high: float,
    default: float | None,
    text: str,
    note: str = "",
    note_when: NoteWhen = "always",
) -> Hyperparameter:
    return Hyperparameter(name, "float", low, high, default, text, note, note_when)


_EPOCHS = "Passes over the training data (training cost grows with it)."
_BATCH = "Records per training step."
_LR = "Learning rate."
_WARMUP = "Steps over which the learning rate ramps up to its value."
_ES_THRESHOLD = "Minimum validation-loss improvement that counts as progress."
_ES_PATIENCE = "Evaluations without progress before training stops early."

_NOVA_HPS: tuple[Hyperparameter, ...] = (
    _int(
        "epochCount",
        1,
        5,
        2,
        _EPOCHS,
        "The service caps epochs at 5; with fewer than 1K samples AWS suggests duplicating the "
        "data to raise the effective epochs.",
    ),
    _float("learningRate", 1e-6, 1e-4, 1e-5, _LR),
    _int(
        "learningRateWarmupSteps",
        0,
        100,
        10,
        _WARMUP,
        "AWS guidance: dataset size / 640 (Micro), / 160 (Lite), / 320 (Pro).",
    ),
)
_NOVA2_GUESS = (
    "Nova 2 Lite has no documented range on Bedrock: this is the Nova Micro/Lite/Pro range, and "
    "the default is what one public tool sends. AWS may accept other values."
)
_NOVA2_HPS: tuple[Hyperparameter, ...] = (
    _int("epochCount", 1, 5, 2, _EPOCHS, _NOVA2_GUESS),
    _float("learningRate", 1e-6, 1e-4, 1e-5, _LR, _NOVA2_GUESS),
)
_CLAUDE_HPS: tuple[Hyperparameter, ...] = (
    _int("epochCount", 1, 10, 2, _EPOCHS),
    _int("batchSize", 4, 256, 32, _BATCH),
    _float("learningRateMultiplier", 0.1, 2.0, 1.0, "Multiplier on the base learning rate."),
    _float(
        "earlyStoppingThreshold",
        0.0,
        0.1,
        0.001,
        _ES_THRESHOLD,
        "Early stopping needs validation data.",
        "without-validation",
    ),
    _int("earlyStoppingPatience", 1, 10, 2, _ES_PATIENCE),
)
_LLAMA_HPS: tuple[Hyperparameter, ...] = (
    _int("epochCount", 1, 10, 5, _EPOCHS, "The maximum of 10 is an adjustable quota."),
    _int("batchSize", 1, 1, 1, _BATCH, "Fixed at 1 for Llama."),
    _float("learningRate", 5e-6, 0.1, 1e-4, _LR),
)
_TITAN_HPS: tuple[Hyperparameter, ...] = (
    _int("epochCount", 1, 10, 5, _EPOCHS),
    _int(
        "batchSize",
        1,
        64,
        1,
        _BATCH,
        "Larger batches lower the per-record token limit: Express 4,096 at batch 1 and 2,048 "
        "at 2-4; Lite 4,096 at 1-2 and 2,048 at 3-6. The limit above those sizes is not in the "
        "sources.",
    ),
    _float("learningRate", 0.0, 1.0, 1e-5, _LR),
    _int("learningRateWarmupSteps", 0, 250, 5, _WARMUP),
)


def _cohere_hps(max_batch: int) -> tuple[Hyperparameter, ...]:
    """Command takes batchSize 8 only; Command Light 8-32."""
    return (
        _int("epochCount", 1, 100, 1, _EPOCHS),
        _int("batchSize", 8, max_batch, 8, _BATCH),
        _float(
            "learningRate",
            5e-6,
            0.1,
            1e-5,
            _LR,
            "The docs advise leaving it unset when you supply validation data.",
            "with-validation",
        ),
        _float("earlyStoppingThreshold", 0.0, 0.1, 0.01, _ES_THRESHOLD),
        _int("earlyStoppingPatience", 1, 10, 6, _ES_PATIENCE),
        _float(
            "evalPercentage",
            5.0,
            50.0,
            20.0,
            "Share (%) of the training data held out for evaluation.",
            "Used only when there is no validation file.",
        ),
    )


# --------------------------------------------------------------------------- limits

_NOVA_LIMIT_NOTES = (
    "Tokens per record: no source seen (the Nova User Guide's constraint table could not be "
    "retrieved), so bedrock-tune cannot check them; check the live Nova docs.",
    "Maximum validation records and file sizes: not in the sources.",
    "8-20,000 records is the AWS sample validator's range; a field report saw a 'training + "
    "validation records' quota of 20,000. AWS recommends at least 100 samples per task.",
)


def _nova_limits(images: int, videos: int) -> Limits:
    """Nova Micro / Lite / Pro fine-tuning (reference/bedrock.md sections 2.4 and 3.1)."""
    if images or videos:
        media = (
            f"At most {images} images or {videos} video per record, never both in one record; "
            "never mix media types in one dataset; media must sit in the dataset's bucket; only "
            "user turns may carry media."
        )
    else:
        media = "Nova Micro is text only: records with images or video fail."
    return Limits(
        min_records=8,
        max_train_records=20_000,
        max_total_records=20_000,
        chars_per_token=6.0,
        max_images_per_record=images,
        max_videos_per_record=videos,
        notes=(*_NOVA_LIMIT_NOTES, media),
    )


_NOVA2_LIMITS = Limits(
    chars_per_token=6.0,
    max_images_per_record=10,
    max_videos_per_record=1,
    validation_data_supported=False,
    notes=(
        "A validation set is not supported during Nova 2 Lite SFT (UG nova-2-sft-data-prep).",
        "Record counts, tokens per record and file sizes: not in the sources (the 8-20,000 "
        "record range of the sample validator covers Nova Micro/Lite/Pro only).",
        "The image and video caps (10 images or 1 video per record) are the Nova Micro/Lite/Pro "
        "rules; the Nova 2 docs only say the dataset must be homogeneous (text, text + image, "
        "or text + video).",
        "Image formats png/jpeg/gif; video mov/mkv/mp4.",
    ),
)


def _llama_limits(
    max_tokens: int,
    *,
    separate_input_output: bool = False,
    train_and_validation_caps: bool = True,
    images: int = 0,
    extra: tuple[str, ...] = (),
) -> Limits:
    """Llama 3.x fine-tuning (reference/bedrock.md section 3.1)."""
    notes = (
        "At least 100 records (training + validation); the 10,000-record total is an adjustable "
        "quota.",
        "File size limits: not in the sources.",
        *extra,
    )
    return Limits(
        min_records=100,
        max_train_records=10_000 if train_and_validation_caps else None,
        max_validation_records=1_000 if train_and_validation_caps else None,
        max_total_records=10_000,
        max_tokens_per_record=max_tokens,
        max_input_tokens=16_000 if separate_input_output else None,
        max_output_tokens=16_000 if separate_input_output else None,
        chars_per_token=6.0,
        max_images_per_record=images,
        notes=notes,
    )


_LLAMA_VISION_NOTE = (
    "Images: gif/jpeg/png/webp, at most 10 MB and 10-8192 px per side; each image counts "
    "min(2, max(H//560, 1)) x min(2, max(W//560, 1)) x 1,601 tokens (1,601-6,404). The number "
    "of images per record is not in the sources: bedrock-tune allows 1 (the AWS sample validator "
    "lists 'multiple images in a single row' among its errors). The validator also allows at "
    "most one system element."
)


def _titan_limits(batch_one_note: str) -> Limits:
    """Titan Text G1 Express / Lite: the per-record limit encoded is the batch-size-1 one."""
    return Limits(
        max_tokens_per_record=4_096,
        chars_per_token=6.0,
        max_train_file_bytes=1 * _GB,
        max_validation_file_bytes=100 * _MB,
        notes=(
            batch_one_note,
            "Minimum records: not in the sources. Maximum records are account quotas (e.g. "
            "L-3B82104D for Titan Text G1 Lite) whose defaults the sources do not give.",
        ),
    )


_TITAN_EXPRESS_TOKENS = (
    "4,096 tokens per record (input + output) is the limit at batch size 1; at batch size 2-4 "
    "it is 2,048. Limits cannot vary with batch size, so raise batchSize only with records of "
    "at most 2,048 tokens."
)
_TITAN_LITE_TOKENS = (
    "4,096 tokens per record (input + output) is the limit at batch size 1-2; at batch size "
    "3-6 it is 2,048. Limits cannot vary with batch size, so keep batchSize at 2 or less, or "
    "records at 2,048 tokens or less."
)
_TITAN_CPT_NOTE = (
    "A continued pre-training job failed with 'Maximum input token count 4919 exceeds limit of "
    "4096'; chunks of at most about 5,000 characters worked (amazon-bedrock-workshop #224). The "
    "UG hyperparameter table does not separate fine-tuning from continued pre-training."
)


def _cohere_limits() -> Limits:
    return Limits(
        min_records=32,
        max_train_records=10_000,
        max_validation_records=1_000,
        max_tokens_per_record=4_096,
        max_input_tokens=4_096,
        max_output_tokens=2_048,
        chars_per_token=6.0,
        notes=(
            "A prompt + completion pair takes at most 4,096 tokens (Cohere's tokenizer), and a "
            "job needs at least 32 examples (Cohere docs, Fine-tuning Cohere Models on Amazon "
            "Bedrock); Cohere drops longer examples rather than failing the job.",
            "Input at most 4,096 tokens and output at most 2,048 (the Bedrock quota table).",
            "File sizes: not in the sources.",
        ),
    )


_DISTILL_LIMITS = Limits(
    min_records=100,
    max_train_file_bytes=1 * _GB,
    chars_per_token=6.0,
    validation_data_supported=False,
    notes=(
        "Input is prompts in bedrock-conversation-2024 (schemaVersion must be exactly that), "
        "text only, single turn: one system item, 1-2 messages (user, then an optional "
        "assistant answer for labeled pairs). Alternatively, invocation logs.",
        "At least 100 valid prompts; the files total at most 1 GB (AWS sample validator).",
        "No distillation hyperparameters are documented: the teacher model and "
        "maxResponseLengthForInference go in customizationConfig.distillationConfig instead.",
        "Whether a validation file is accepted is not in the sources; bedrock-tune does not "
        "offer one.",
    ),
)


_PAIRING_NOTE = (
    "Pairs follow reference/bedrock.md section 1 (Nova Pro: teacher and student; Nova Premier: "
    "teacher only, through an inference profile; Llama 3.1 405B: teacher of the Llama "
    "students). The UG's pairing table itself was not readable in the sources, so check it "
    "if a job refuses the pair."
)
NOVA_PRO_TEACHER = Teacher(
    "amazon.nova-pro-v1:0", "Nova Pro", _UG_DISTILL, note=f"In us-east-1. {_PAIRING_NOTE}"
)
NOVA_PREMIER_TEACHER = Teacher(
    "us.amazon.nova-premier-v1:0",
    "Nova Premier (US cross-Region inference profile)",
    _UG_DISTILL,
    cross_region=True,
    note="Nova Premier is offered as a teacher through an inference profile only; the role "
    f"needs bedrock:InvokeModel on the profile and on the model in its Regions. {_PAIRING_NOTE}",
)
LLAMA_405B_TEACHER = Teacher(
    "meta.llama3-1-405b-instruct-v1:0",
    "Llama 3.1 405B Instruct",
    _UG_DISTILL,
    note=f"In us-west-2. {_PAIRING_NOTE}",
)


def _distillation(*teachers: Teacher) -> Customization:
    return Customization(
        _DISTILL, DataFormat.DISTILLATION_PROMPTS, (), _DISTILL_LIMITS, teachers=teachers
    )


# --------------------------------------------------------------------------- shared notes

_NOVA_HPS_CONFLICT = (
    "[CONFLICT] Nova hyperparameters: the UG table lists only epochCount, learningRate and "
    "learningRateWarmupSteps; an AWS notebook also sends batchSize and quotes older ranges "
    "(epochs 1-10, batch 1-64). bedrock-tune follows the UG table."
)
_NOVA_TOKENS_UNKNOWN = (
    "Per-record token limit unknown: the Nova constraint table was not in the sources."
)
_US_PROFILE_NOTE = (
    "Base-model chat uses the us. cross-Region inference profile: the reference allows the "
    "plain id or a profile, and the profile also works where the base model is profile-only "
    "(the plain id then fails with 'on-demand throughput isn't supported')."
)
_ON_DEMAND_NOTE = (
    "On-demand custom model deployment needs a model customized on or after 2025-07-16."
)
_LEGACY_INFERENCE_NOTE = (
    "Base-model chat uses the plain id: the reference names no inference profile for it, and "
    "the retired base model may no longer answer."
)
_DISTILL_STUDENT_NOTE = (
    "Distillation student: {teacher}. Distillation runs in this model's customization Region."
)


def _student(teacher: str) -> str:
    return _DISTILL_STUDENT_NOTE.format(teacher=teacher)


# --------------------------------------------------------------------------- prices

_NOVA_PT_NOTE = (
    "Provisioned throughput: a field report saw about $60.50/h idle for a Nova no-commitment "
    "provisioned throughput (2026-08), but not for which model, so no per-model rate is given."
)
_CUSTOM_ON_DEMAND_PRICE_NOTE = (
    "On-demand prices are the base model's per 1K input / output tokens. A custom model "
    "deployment is said to bill the same rates (secondary sources): verify on the pricing page."
)
_PT_ONLY_PRICE_NOTE = (
    "On-demand prices are the base model's; a custom model of this base runs on provisioned "
    "throughput, whose hourly rate (the base model's) is not in the sources."
)
_DISTILL_PRICE_NOTE = (
    "Distillation also bills the teacher's on-demand inference for the synthetic data "
    "(the reference states this from memory)."
)
_NO_TRAINING_PRICE = (
    "No reliable training price per 1K tokens in the sources: use the Price List API."
)


def _base_on_demand(
    input_per_1k: float, output_per_1k: float, *notes: str, training: float | None = None
) -> Pricing:
    """A price with the 2025-07-20 base on-demand rates (and storage)."""
    return Pricing(
        training_per_1k_tokens=training,
        storage_per_month=_STORAGE_PER_MONTH,
        on_demand_input_per_1k=input_per_1k,
        on_demand_output_per_1k=output_per_1k,
        as_of=_PRICE_BASE_DATE,
        source=_PRICE_BASE_ON_DEMAND,
        notes=notes,
    )


def _storage_only(*notes: str) -> Pricing:
    """No figure but storage: every other price is None."""
    return Pricing(
        training_per_1k_tokens=None,
        storage_per_month=_STORAGE_PER_MONTH,
        as_of="2026-08",
        source=_PRICE_STORAGE,
        notes=notes,
    )


# --------------------------------------------------------------------------- lifecycle

_UG_HAIKU_CARD = Source(
    "UG model-card-anthropic-claude-3-haiku (the zh_tw copy, newer than the English one seen; "
    "reference/bedrock.md 'Beyond Bedrock's own customization', checked 2026-12)",
    "2026-12",
    f"{_UG_URL}model-card-anthropic-claude-3-haiku.html",
)
_HAIKU_LIFECYCLE = (
    LifecycleFact(
        LifecycleStage.END_OF_LIFE,
        _UG_HAIKU_CARD,
        end_of_life="2026-09-10",
        note="Model EOL date 2026-09-10 on the card; requests now fail with "
        "ResourceNotFoundException 'This model version has reached the end of its life'. The "
        "date it became legacy is not on the card.",
    ),
    LifecycleFact(
        LifecycleStage.LEGACY,
        _UG_HAIKU_CARD,
        regions=("ap-northeast-2",),
        note="The card says it is still in its Legacy phase in ap-northeast-2 (Seoul); the "
        "end-of-life date there is not given.",
    ),
    LifecycleFact(
        LifecycleStage.LEGACY,
        _UG_HAIKU_CARD,
        regions=("ca-central-1", "eu-central-2", "sa-east-1"),
        note="The card says it remains available in these regions and lists its lifecycle as "
        "Legacy (specific regions); whether they share the 2026-09-10 date is not said.",
    ),
)
_INSTEAD_OF_HAIKU = (
    "amazon.nova-2-lite-v1:0:256k",
    "amazon.nova-lite-v1:0:300k",
    "meta.llama3-3-70b-instruct-v1:0:128k",
)
"""bedrock-tune's suggestion, not AWS's: messages-style data carries over to these."""

_COHERE_BEDROCK_FT = Source(
    "Cohere docs: Fine-tuning Cohere Models on Amazon Bedrock",
    "2025-09-15",
    "https://docs.cohere.com/docs/fine-tuning-cohere-models-on-amazon-bedrock",
)
_COHERE_LIFECYCLE = (
    LifecycleFact(
        LifecycleStage.LEGACY,
        _COHERE_BEDROCK_FT,
        legacy_since="2025-09-15",
        note="Cohere deprecated its fine-tuning on 2025-09-15; Command and Command Light are "
        "gone from the 2026 Bedrock customization tables. No Bedrock end-of-life date was found "
        "in the sources (the Bedrock lifecycle tables were not readable in full).",
    ),
)
_INSTEAD_OF_PROMPT_COMPLETION = (
    "meta.llama3-1-8b-instruct-v1:0:128k",
    "amazon.nova-micro-v1:0:128k",
)
"""bedrock-tune's suggestion: Llama 3.1 takes the same prompt / completion records."""

_TITAN_LIFECYCLE = (
    LifecycleFact(
        LifecycleStage.LEGACY,
        _FIELD_REPORT,
        note="Retired from customization per the 2026 tables and a field report (missing from "
        "ListFoundationModels in us-east-1 and us-west-2, Aug 2026); no end-of-life date is in "
        "the sources.",
    ),
)


# --------------------------------------------------------------------------- the models

_NOVA_SOURCES = (_UG_FINE_TUNING, _UG_PREPARE, _UG_HP, _NOVA_UG, _NOVA_VALIDATOR, _UG_ON_DEMAND)
_LLAMA_SOURCES = (_UG_FINE_TUNING, _UG_PREPARE, _UG_HP, _LLAMA_VALIDATOR, _UG_PT_REGIONS)

MODELS: tuple[BaseModel, ...] = (
    # ------------------------------------------------------------------ Amazon Nova (us-east-1)
    BaseModel(
        id="amazon.nova-micro-v1:0:128k",
        name="Nova Micro",
        provider="Amazon",
        family="nova",
        inference_id="us.amazon.nova-micro-v1:0",
        regions=("us-east-1",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(_FT, DataFormat.CONVERSATION, _NOVA_HPS, _nova_limits(0, 0)),
            _distillation(NOVA_PRO_TEACHER, NOVA_PREMIER_TEACHER),
        ),
        deployment_options=(_ON_DEMAND, _PT),
        input_modalities=("TEXT",),
        pricing=Pricing(
            training_per_1k_tokens=0.001,
            storage_per_month=_STORAGE_PER_MONTH,
            on_demand_input_per_1k=0.000035,
            on_demand_output_per_1k=0.00014,
            as_of=_PRICE_BASE_DATE,
            source=f"{_PRICE_FIELD_REPORT} (training, 2026-08); {_PRICE_BASE_ON_DEMAND} "
            f"(on-demand, {_PRICE_BASE_DATE})",
            notes=(_CUSTOM_ON_DEMAND_PRICE_NOTE, _NOVA_PT_NOTE, _DISTILL_PRICE_NOTE),
        ),
        sources=(*_NOVA_SOURCES, _UG_DISTILL, _FIELD_REPORT),
        notes=(
            "Text only: Nova Micro accepts no images or video.",
            _NOVA_TOKENS_UNKNOWN,
            _NOVA_HPS_CONFLICT,
            _student("teacher Nova Pro (amazon.nova-pro-v1:0) or Nova Premier"),
            _US_PROFILE_NOTE,
            _ON_DEMAND_NOTE,
        ),
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
            Customization(_FT, DataFormat.CONVERSATION, _NOVA_HPS, _nova_limits(10, 1)),
            _distillation(NOVA_PRO_TEACHER, NOVA_PREMIER_TEACHER),
        ),
        deployment_options=(_ON_DEMAND, _PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=_base_on_demand(
            0.00006,
            0.00024,
            _NO_TRAINING_PRICE,
            _CUSTOM_ON_DEMAND_PRICE_NOTE,
            _NOVA_PT_NOTE,
            _DISTILL_PRICE_NOTE,
        ),
        sources=(*_NOVA_SOURCES, _UG_DISTILL),
        notes=(
            "Records may carry images (jpeg/png/gif/webp) or a video (mov/mkv/mp4/webm), not both.",
            _NOVA_TOKENS_UNKNOWN,
            _NOVA_HPS_CONFLICT,
            _student("teacher Nova Pro (amazon.nova-pro-v1:0) or Nova Premier"),
            _US_PROFILE_NOTE,
            _ON_DEMAND_NOTE,
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
            Customization(_FT, DataFormat.CONVERSATION, _NOVA_HPS, _nova_limits(10, 1)),
            _distillation(NOVA_PREMIER_TEACHER),
        ),
        deployment_options=(_ON_DEMAND, _PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=_base_on_demand(
            0.0008,
            0.0032,
            _NO_TRAINING_PRICE,
            _CUSTOM_ON_DEMAND_PRICE_NOTE,
            _NOVA_PT_NOTE,
            _DISTILL_PRICE_NOTE,
        ),
        sources=(*_NOVA_SOURCES, _UG_DISTILL),
        notes=(
            "Records may carry up to 10 images or 1 video, not both.",
            _NOVA_TOKENS_UNKNOWN,
            _NOVA_HPS_CONFLICT,
            _student("teacher Nova Premier"),
            "Nova Pro is also a distillation teacher (as amazon.nova-pro-v1:0).",
            _US_PROFILE_NOTE,
            _ON_DEMAND_NOTE,
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
        customizations=(Customization(_FT, DataFormat.CONVERSATION, _NOVA2_HPS, _NOVA2_LIMITS),),
        deployment_options=(_ON_DEMAND, _PT),
        input_modalities=("TEXT", "IMAGE", "VIDEO"),
        pricing=Pricing(
            training_per_1k_tokens=0.00378,
            storage_per_month=_STORAGE_PER_MONTH,
            on_demand_input_per_1k=0.0003,
            on_demand_output_per_1k=0.0025,
            as_of="2026-08",
            source=f"{_PRICE_FIELD_REPORT}, test fixture",
            notes=(
                "All three per-token prices come from a field report's test fixture; the "
                "on-demand pair is marked uncertain in the reference: verify them.",
                _CUSTOM_ON_DEMAND_PRICE_NOTE,
            ),
        ),
        sources=(_UG_FINE_TUNING, _UG_NOVA2_DATA, _UG_ON_DEMAND, _UG_PT_REGIONS, _FIELD_REPORT),
        notes=(
            "Hyperparameters undocumented: no Bedrock table was found for Nova 2 Lite. "
            "bedrock-tune offers epochCount and learningRate with the Nova range and the "
            "defaults one public tool sends (epochCount 2, learningRate 0.00001; it also sends "
            "batchSize 1, which Nova's UG table does not list, so it is not offered).",
            "Validation data is not supported during SFT.",
            "Tool sections in the data may make the job fail; the dataset must be homogeneous "
            "(text, text + image or text + video).",
            "Assistant turns may carry reasoningContent (reasoningText only).",
            "Also supports reinforcement fine-tuning, which bedrock-tune does not offer.",
            _US_PROFILE_NOTE,
            _ON_DEMAND_NOTE,
        ),
    ),
    # ------------------------------------------------------------------ Meta Llama (us-west-2)
    BaseModel(
        id="meta.llama3-1-8b-instruct-v1:0:128k",
        name="Llama 3.1 8B Instruct",
        provider="Meta",
        family="llama-3.1",
        inference_id="us.meta.llama3-1-8b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                _FT,
                DataFormat.PROMPT_COMPLETION,
                _LLAMA_HPS,
                _llama_limits(16_000, separate_input_output=True),
            ),
            _distillation(LLAMA_405B_TEACHER),
        ),
        deployment_options=(_PT,),
        pricing=_base_on_demand(
            0.00022, 0.00022, _NO_TRAINING_PRICE, _PT_ONLY_PRICE_NOTE, _DISTILL_PRICE_NOTE
        ),
        sources=(*_LLAMA_SOURCES, _UG_DISTILL),
        notes=(
            "Prompt/completion data: prompt and completion together at most 16,000 tokens.",
            _student("teacher Llama 3.1 405B (meta.llama3-1-405b-instruct-v1:0)"),
            _US_PROFILE_NOTE,
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
            Customization(
                _FT,
                DataFormat.PROMPT_COMPLETION,
                _LLAMA_HPS,
                _llama_limits(16_000, separate_input_output=True),
            ),
            _distillation(LLAMA_405B_TEACHER),
        ),
        deployment_options=(_PT,),
        pricing=_base_on_demand(
            0.00072, 0.00072, _NO_TRAINING_PRICE, _PT_ONLY_PRICE_NOTE, _DISTILL_PRICE_NOTE
        ),
        sources=(*_LLAMA_SOURCES, _UG_DISTILL),
        notes=(
            "Prompt/completion data: prompt and completion together at most 16,000 tokens.",
            _student("teacher Llama 3.1 405B (meta.llama3-1-405b-instruct-v1:0)"),
            _US_PROFILE_NOTE,
        ),
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
            Customization(_FT, DataFormat.CONVERSATION, _LLAMA_HPS, _llama_limits(16_000)),
            _distillation(LLAMA_405B_TEACHER),
        ),
        deployment_options=(_PT,),
        pricing=_storage_only(
            "No training, on-demand or provisioned-throughput price for Llama 3.2 in the "
            "sources: use the Price List API.",
            _DISTILL_PRICE_NOTE,
        ),
        sources=(*_LLAMA_SOURCES, _UG_DISTILL),
        notes=(
            "Only the input + output sum (16,000 tokens) is documented for Llama 3.2.",
            _student("teacher Llama 3.1 405B (meta.llama3-1-405b-instruct-v1:0)"),
            _US_PROFILE_NOTE,
        ),
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
            Customization(_FT, DataFormat.CONVERSATION, _LLAMA_HPS, _llama_limits(16_000)),
            _distillation(LLAMA_405B_TEACHER),
        ),
        deployment_options=(_PT,),
        pricing=_storage_only(
            "No training, on-demand or provisioned-throughput price for Llama 3.2 in the "
            "sources: use the Price List API.",
            _DISTILL_PRICE_NOTE,
        ),
        sources=(*_LLAMA_SOURCES, _UG_DISTILL),
        notes=(
            "Only the input + output sum (16,000 tokens) is documented for Llama 3.2.",
            _student("teacher Llama 3.1 405B (meta.llama3-1-405b-instruct-v1:0)"),
            _US_PROFILE_NOTE,
        ),
    ),
    BaseModel(
        id="meta.llama3-2-11b-instruct-v1:0:128k",
        # The name as the Bedrock user guide's fine-tuning table gives it ("Meta | Llama 3.2 11B
        # Instruct | meta.llama3-2-11b-instruct-v1:0:128k | us-west-2"; UG
        # custom-model-fine-tuning and custom-model-supported, read 2026): no "Vision" in it,
        # although the model takes images.
        name="Llama 3.2 11B Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-11b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                _FT,
                DataFormat.CONVERSATION,
                _LLAMA_HPS,
                _llama_limits(16_000, images=1, extra=(_LLAMA_VISION_NOTE,)),
            ),
        ),
        deployment_options=(_PT,),
        input_modalities=("TEXT", "IMAGE"),
        pricing=_storage_only(
            "No training, on-demand or provisioned-throughput price for Llama 3.2 in the "
            "sources: use the Price List API."
        ),
        sources=_LLAMA_SOURCES,
        notes=(
            "Vision model: user turns may carry images; assistant turns may not.",
            "The images-per-record cap is not in the sources (bedrock-tune allows 1).",
            "Not a distillation student.",
            _US_PROFILE_NOTE,
        ),
    ),
    BaseModel(
        id="meta.llama3-2-90b-instruct-v1:0:128k",
        # As the same user guide table names it ("Meta | Llama 3.2 90B Instruct"; UG
        # custom-model-supported, read 2026).
        name="Llama 3.2 90B Instruct",
        provider="Meta",
        family="llama-3.2",
        inference_id="us.meta.llama3-2-90b-instruct-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.ACTIVE,
        customizations=(
            Customization(
                _FT,
                DataFormat.CONVERSATION,
                _LLAMA_HPS,
                _llama_limits(
                    10_000,
                    images=1,
                    extra=(
                        "Input + output at most 10,000 tokens for the 90B model (16,000 for "
                        "the smaller Llama 3.2 models).",
                        _LLAMA_VISION_NOTE,
                    ),
                ),
            ),
        ),
        deployment_options=(_PT,),
        input_modalities=("TEXT", "IMAGE"),
        pricing=_storage_only(
            "No training, on-demand or provisioned-throughput price for Llama 3.2 in the "
            "sources: use the Price List API."
        ),
        sources=_LLAMA_SOURCES,
        notes=(
            "Vision model: user turns may carry images; assistant turns may not.",
            "The images-per-record cap is not in the sources (bedrock-tune allows 1).",
            "Not a distillation student.",
            _US_PROFILE_NOTE,
        ),
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
            Customization(
                _FT,
                DataFormat.CONVERSATION,
                _LLAMA_HPS,
                _llama_limits(
                    16_000,
                    train_and_validation_caps=False,
                    extra=(
                        "The quota table gives only the 10,000-record total for Llama 3.3; "
                        "separate training and validation caps are not in the sources.",
                    ),
                ),
            ),
            _distillation(LLAMA_405B_TEACHER),
        ),
        deployment_options=(_ON_DEMAND, _PT),
        pricing=_base_on_demand(
            0.00072,
            0.00072,
            "A field report paid $0.1759 for a whole job of 189 records x 2 epochs (2026-08); "
            "no per-token training price is in the sources.",
            _CUSTOM_ON_DEMAND_PRICE_NOTE,
            _DISTILL_PRICE_NOTE,
        ),
        sources=(
            _UG_SUPPORTED_OLD,
            _UG_PREPARE,
            _UG_HP,
            _UG_ON_DEMAND,
            _UG_DISTILL,
            _FIELD_REPORT,
        ),
        notes=(
            "[CONFLICT] Fine-tuning support: listed in the older supported-models table, the "
            "2026 quota table and the on-demand deployment page, but not in the (truncated) "
            "copy of the 2026 fine-tuning table; a field report fine-tuned it in us-west-2 in "
            "Aug 2026. The live model list decides.",
            "The UG hyperparameter table covers Llama 3.1 and 3.2; the same ranges are used for "
            "3.3 (a field report's job echoed the defaults batchSize 1 and learningRate 1e-4).",
            _student("teacher Llama 3.1 405B (meta.llama3-1-405b-instruct-v1:0)"),
            _US_PROFILE_NOTE,
            _ON_DEMAND_NOTE,
        ),
    ),
    # ------------------------------------------------------------------ legacy and end of life
    # Claude 3 Haiku (us-west-2): end of life there since 2026-09-10.
    BaseModel(
        id="anthropic.claude-3-haiku-20240307-v1:0:200k",
        name="Claude 3 Haiku",
        provider="Anthropic",
        family="claude-3-haiku",
        inference_id="us.anthropic.claude-3-haiku-20240307-v1:0",
        regions=("us-west-2",),
        lifecycle=Lifecycle.LEGACY,
        lifecycle_facts=_HAIKU_LIFECYCLE,
        instead=_INSTEAD_OF_HAIKU,
        customizations=(
            Customization(
                _FT,
                DataFormat.CLAUDE_MESSAGES,
                _CLAUDE_HPS,
                Limits(
                    min_records=32,
                    max_train_records=10_000,
                    max_validation_records=1_000,
                    max_total_records=10_000,
                    max_tokens_per_record=32_000,
                    chars_per_token=3.0,
                    max_train_file_bytes=10 * _GB,
                    max_validation_file_bytes=1 * _GB,
                    notes=(
                        "Tokens are estimated at 3 characters per token, the ratio of the AWS "
                        "Claude sample validator. AWS documents no ratio for Claude (its ~6 "
                        "chars/token is stated for the prompt/completion, Llama and Titan "
                        "limits) and CountTokens does not cover Claude 3 Haiku. With 6, a "
                        "record of 192,000 characters would pass the 32,000-token check; with "
                        "3, the check may warn about a record that fits, which costs a look, "
                        "not a failed job.",
                        "The 10,000-record total (training + validation) is an adjustable quota.",
                        "Reserved strings '\\nHuman:' and '\\nAssistant:' must not appear.",
                    ),
                ),
            ),
        ),
        deployment_options=(_PT,),
        input_modalities=("TEXT",),
        pricing=_base_on_demand(
            0.00025,
            0.00125,
            "No reliable 2025-26 training price per 1K tokens or provisioned-throughput rate "
            "was found for Claude 3 Haiku: use the Price List API.",
            _PT_ONLY_PRICE_NOTE,
        ),
        sources=(
            _UG_FINE_TUNING,
            _UG_PREPARE,
            _UG_HP,
            _CLAUDE_VALIDATOR,
            _UG_PT_REGIONS,
            _UG_DISTILL,
        ),
        notes=(
            "End of life: Bedrock's model card says Claude 3 Haiku reached its end of life on "
            "2026-09-10 in most regions (requests fail with 'This model version has reached the "
            "end of its life'), including us-west-2, the only region where it was customized. "
            "No newer Anthropic model is customizable on Bedrock in the sources.",
            "Customization runs in us-west-2 only. Provisioned throughput for the custom model "
            "is also sold in us-east-1, eu-west-3 and ap-southeast-2 after a CreateModelCopyJob.",
            "Distillation is not available for Anthropic models (no confirmed timeline).",
            "Jobs whose data looks inconsistent with Anthropic's license terms are flagged and "
            "fail.",
            "Base-model chat: the reference does not say whether Claude 3 Haiku needs an "
            "inference profile; bedrock-tune uses the us. profile as the safer choice (it works "
            "from any US source Region; the plain id is also accepted as input).",
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
        lifecycle_facts=_TITAN_LIFECYCLE,
        instead=_INSTEAD_OF_PROMPT_COMPLETION,
        customizations=(
            Customization(
                _FT, DataFormat.PROMPT_COMPLETION, _TITAN_HPS, _titan_limits(_TITAN_EXPRESS_TOKENS)
            ),
            Customization(
                _CPT,
                DataFormat.CONTINUED_PRETRAINING,
                _TITAN_HPS,
                _titan_limits(f"{_TITAN_EXPRESS_TOKENS} {_TITAN_CPT_NOTE}"),
            ),
        ),
        deployment_options=(_PT,),
        pricing=_storage_only("No Titan Text G1 Express price in the sources."),
        sources=(_UG_SUPPORTED_OLD, _UG_PREPARE, _UG_HP, _FIELD_REPORT),
        notes=(
            "[CONFLICT] Retired: the older supported-models page lists fine-tuning and continued "
            "pre-training in us-east-1 and us-west-2, but the 2026 fine-tuning table does not, "
            "and a field report (Aug 2026) found it missing from ListFoundationModels in both "
            "Regions while Price List SKUs remain. Kept for existing users and the seed "
            "walkthroughs; prefer Nova or Llama.",
            _LEGACY_INFERENCE_NOTE,
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
        lifecycle_facts=_TITAN_LIFECYCLE,
        instead=_INSTEAD_OF_PROMPT_COMPLETION,
        customizations=(
            Customization(
                _FT, DataFormat.PROMPT_COMPLETION, _TITAN_HPS, _titan_limits(_TITAN_LITE_TOKENS)
            ),
            Customization(
                _CPT,
                DataFormat.CONTINUED_PRETRAINING,
                _TITAN_HPS,
                _titan_limits(f"{_TITAN_LITE_TOKENS} {_TITAN_CPT_NOTE}"),
            ),
        ),
        deployment_options=(_PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.0004,
            storage_per_month=_STORAGE_PER_MONTH,
            provisioned_per_hour=7.10,
            as_of="2024",
            source="GitHub notes on the Bedrock pricing page (reference/bedrock.md section 9)",
            notes=("Approximate prices from about 2024; the model is retired.",),
        ),
        sources=(_UG_SUPPORTED_OLD, _UG_PREPARE, _UG_HP, _FIELD_REPORT),
        notes=(
            "[CONFLICT] Retired: the older supported-models page lists fine-tuning and continued "
            "pre-training in us-east-1 and us-west-2, but the 2026 fine-tuning table does not, "
            "and a field report (Aug 2026) found it missing from ListFoundationModels in both "
            "Regions while Price List SKUs remain. Kept for existing users and the seed "
            "walkthroughs; prefer Nova or Llama.",
            _LEGACY_INFERENCE_NOTE,
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
        lifecycle_facts=_COHERE_LIFECYCLE,
        instead=_INSTEAD_OF_PROMPT_COMPLETION,
        customizations=(
            Customization(_FT, DataFormat.PROMPT_COMPLETION, _cohere_hps(32), _cohere_limits()),
        ),
        deployment_options=(_PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.001,
            storage_per_month=_STORAGE_PER_MONTH,
            provisioned_per_hour=8.56,
            as_of="2024-03",
            source=_PRICE_COHERE,
            notes=("Prices from March 2024; the model is deprecated.",),
        ),
        sources=(_UG_SUPPORTED_OLD, _UG_HP, _COHERE_PR, _COHERE_DEPRECATION, _COHERE_BEDROCK_FT),
        notes=(
            "Deprecated by Cohere on 2025-09-15 and gone from the 2026 Bedrock tables.",
            "The Regions (us-east-1, us-west-2) are uncertain in the sources.",
            "The customization id needs the ':7:4k' suffix; the plain id is rejected.",
            _LEGACY_INFERENCE_NOTE,
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
        lifecycle_facts=_COHERE_LIFECYCLE,
        instead=_INSTEAD_OF_PROMPT_COMPLETION,
        customizations=(
            Customization(_FT, DataFormat.PROMPT_COMPLETION, _cohere_hps(8), _cohere_limits()),
        ),
        deployment_options=(_PT,),
        pricing=Pricing(
            training_per_1k_tokens=0.004,
            storage_per_month=_STORAGE_PER_MONTH,
            provisioned_per_hour=49.50,
            as_of="2024-03",
            source=_PRICE_COHERE,
            notes=("Prices from March 2024; the model is deprecated.",),
        ),
        sources=(_UG_SUPPORTED_OLD, _UG_HP, _COHERE_PR, _COHERE_DEPRECATION, _COHERE_BEDROCK_FT),
        notes=(
            "Deprecated by Cohere on 2025-09-15 and gone from the 2026 Bedrock tables.",
            "The Regions (us-east-1, us-west-2) are uncertain in the sources.",
            "The customization id needs the ':7:4k' suffix; the plain id is rejected.",
            _LEGACY_INFERENCE_NOTE,
        ),
    ),
)
