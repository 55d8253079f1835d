"""The run: the one object that flows through the pipeline.

A run holds the choices made so far (where to work, which base model, later the dataset,
template, sizes, hyperparameters, resource names) and what exists because of them (later: S3
URIs, role ARN, job ARN...). Screens read it and replace it with an updated copy; the CLI builds
the same object from flags; the registry will persist it. Because it is plain data,
`to_dict` / `from_dict` round-trip it through JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Literal

Target = Literal["aws", "sandbox"]


@dataclass(frozen=True)
class Run:
    """The choices and results of one customization run (immutable; use `evolve`)."""

    run_id: str | None = None
    """Set when the run is first saved in the registry; jobs carry it as a tag."""

    # Where: the credentials step.
    target: Target | None = None
    """`aws` for the user's own account, `sandbox` for the local one; None until chosen."""
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    account_id: str | None = None
    principal_arn: str | None = None

    # What: the model step.
    base_model_id: str | None = None
    """The customization id (`baseModelIdentifier`) of the chosen base model."""
    customization_type: str = "FINE_TUNING"

    # The data: the dataset, template and prepare steps.
    source_location: str | None = None
    """A path or a Hugging Face dataset id."""
    source_config: str | None = None
    source_split: str | None = None
    template_toml: str | None = None
    """The template as TOML text (plain data, so the run stays JSON)."""
    prepared_dir: str | None = None
    """The folder holding train.jsonl / validation.jsonl / test.jsonl and manifest.json."""
    validated_ok: bool | None = None
    """Whether the last validation of the prepared files passed (None: not validated yet)."""
    validated_dir: str | None = None
    """The prepared folder that verdict is about (preparing again makes it stale)."""

    # Infrastructure and upload.
    bucket: str | None = None
    role_arn: str | None = None
    kms_key_id: str | None = None
    training_uri: str | None = None
    validation_uri: str | None = None
    test_uri: str | None = None
    output_uri: str | None = None

    # The job: the launch and watch steps.
    job_name: str | None = None
    client_request_token: str | None = None
    """Stored before CreateModelCustomizationJob is called, so a retry can never start a second
    job."""
    job_arn: str | None = None
    custom_model_name: str | None = None
    custom_model_arn: str | None = None
    job_status: str | None = None

    # Serving: the deploy and chat steps.
    serving_kind: str | None = None
    """`provisioned-throughput` or `custom-model-deployment`."""
    serving_arn: str | None = None
    serving_status: str | None = None

    def evolve(self, **changes: Any) -> Run:
        """A copy with `changes` applied."""
        return replace(self, **changes)

    @property
    def identity_checked(self) -> bool:
        """Whether the credentials step has confirmed an identity."""
        return self.account_id is not None and self.region is not None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Run:
        """Rebuild from `to_dict` output, ignoring keys this version does not know."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
