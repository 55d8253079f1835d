"""The import role of route `sagemaker-import`, set up by the import step.

On that route the infrastructure step makes SageMaker's execution role (it trains); Custom Model
Import needs its own role, trusted by Bedrock's import jobs and reading only the model folders
(`<prefix>/*/model/*`, which holds the training job's output `<prefix>/<run>/output/<job>/output/
model/`). It is planned and applied with the same core as every role (`core.infra`): reused when
it exists as it should, fixed when it does not, created otherwise, and recorded in the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from core.aws import AwsContext
from core.errors import ValidationError
from core.infra.apply import apply
from core.infra.plan import plan
from core.infra.policies import DEFAULT_PREFIX, default_role_name
from core.infra.types import InfraEvent, InfraPlan
from core.registry import Registry
from core.run.types import Run


def import_role_name(run: Run) -> str:
    """The import role's name in the run's Region (`bedrock-tune-import-<region>`)."""
    return default_role_name(run.region or "", "import")


def plan_import_role(context: AwsContext, run: Run, registry: Registry) -> InfraPlan:
    """What setting up the import role would do (nothing is changed).

    Raises:
        ValidationError: the run has no bucket or identity yet.
    """
    if not run.bucket or not run.account_id or not run.region:
        raise ValidationError(
            "The run has no bucket yet.", hint="Set up the infrastructure first (Infrastructure)."
        )
    return plan(
        context,
        run.account_id,
        run.region,
        bucket=run.bucket,
        role=import_role_name(run),
        kms_key=run.kms_key_id,
        prefix=run.s3_prefix or DEFAULT_PREFIX,
        principal_arn=run.principal_arn,
        registry=registry,
        preflight_check=False,
        purpose="import",
    )


def ensure_import_role(
    context: AwsContext,
    run: Run,
    registry: Registry,
    on_event: Callable[[InfraEvent], None] | None = None,
) -> Run:
    """The run with `import_role_arn`: the import role reused, fixed or created (only the role:
    the bucket is the infrastructure step's). Idempotent. Blocking: call from a worker.

    Raises:
        ValidationError: no bucket yet; InfraBlockedError and IAM errors from `core.infra`.
    """
    shown = plan_import_role(context, run, registry)
    result = apply(context, shown, registry, run.run_id, on_event, only={"iam-role"})
    return replace(run, import_role_arn=result.role_arn)
