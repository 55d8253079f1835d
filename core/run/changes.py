"""What changing the place (account, region, sandbox) or the base model does to the later steps.

Some choices hold only for one place or one model: a bucket, a role, uploaded files and VPC
settings live in one account and region; prepared files are in one model's format; a
validation verdict and hyperparameters are one model's. Keeping them after a change is how a
launch for Claude 3 Haiku "in us-east-1" came to point at us-west-2 S3 paths. `change_place` and
`change_model` say which steps a change resets, so the app can ask first, and give the run with
those steps reset. What was launched (a job, a deployment) belongs to its place and model for
good: such a change starts a new run, and the old run stays in the registry as it is.

Pure functions of the run and the catalog: no AWS, no files.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from core.catalog.types import BaseModel, CustomizationType
from core.errors import NotFoundError
from core.run.routes import STEPS, steps_of
from core.run.status import launched
from core.run.types import Route, Run, Target


@dataclass(frozen=True)
class StepReset:
    """One step whose choices a change undoes, and what of it goes."""

    step_id: str
    title: str
    detail: str


@dataclass(frozen=True)
class RunChange:
    """A change to a run, what it resets, and the two ways to make it."""

    what: str
    """The change in words ("the region from us-west-2 to us-east-1")."""
    after: Run
    """This run with the change made and the steps it invalidates reset (same run id); only
    meaningful when `needs_new_run` is False."""
    fresh: Run
    """The change as a new run (no run id yet): the same place and the choices that still
    hold, nothing created or launched."""
    resets: tuple[StepReset, ...]
    before: Run
    """The run as it was."""
    changed: bool
    """Whether anything that later steps depend on changes."""

    @property
    def needs_new_run(self) -> bool:
        """Something was launched for the old choice: it stays with the old run."""
        before = self.before
        started = launched(before) or before.import_token is not None
        return self.changed and (started or before.serving_arn is not None)

    @property
    def asks(self) -> bool:
        """Whether the change undoes anything (the app asks first)."""
        return bool(self.resets) or self.needs_new_run

    @property
    def reset_step_ids(self) -> tuple[str, ...]:
        """The ids of the steps reset."""
        return tuple(r.step_id for r in self.resets)


def _model_or_none(model_id: str | None) -> BaseModel | None:
    if model_id is None:
        return None
    try:
        from core.catalog.lookup import find_model

        return find_model(model_id)
    except NotFoundError:
        return None


def _reset(step_id: str, parts: Iterable[str]) -> StepReset | None:
    shown = [p for p in parts if p]
    if not shown:
        return None
    return StepReset(step_id, STEPS[step_id].title, ", ".join(shown))


def _in_route_order(route: Route, resets: Iterable[StepReset | None]) -> tuple[StepReset, ...]:
    order = {s.id: i for i, s in enumerate(steps_of(route))}
    kept = [r for r in resets if r is not None and r.step_id in order]
    return tuple(sorted(kept, key=lambda r: order[r.step_id]))


def _new_run_of(run: Run) -> Run:
    """`run` as the start of a new run: no id, nothing created, launched or served."""
    return replace(
        run,
        run_id=None,
        client_request_token=None,
        job_arn=None,
        job_status=None,
        custom_model_arn=None,
        serving_kind=None,
        serving_arn=None,
        serving_status=None,
        endpoint_name=None,
        import_token=None,
        import_job_arn=None,
        import_status=None,
        model_uri=None,
        custom_model_units=None,
    )


def _infrastructure_cleared(run: Run) -> tuple[Run, StepReset | None]:
    uploaded = run.training_uri or run.validation_uri or run.test_uri
    reset = _reset(
        "infrastructure",
        (
            f"bucket {run.bucket}" if run.bucket else "",
            f"role {run.role_arn.rsplit('/', 1)[-1]}" if run.role_arn else "",
            f"KMS key {run.kms_key_id}" if run.kms_key_id else "",
            "the uploaded files" if uploaded else "",
            f"output folder {run.output_uri}" if run.output_uri and not run.bucket else "",
        ),
    )
    cleared = replace(
        run,
        bucket=None,
        s3_prefix=None,
        role_arn=None,
        kms_key_id=None,
        training_uri=None,
        validation_uri=None,
        test_uri=None,
        output_uri=None,
    )
    return cleared, reset


def _launch_cleared(run: Run, *, place: bool) -> tuple[Run, StepReset | None]:
    """The launch settings reset: names and hyperparameters (and VPC settings for a place)."""
    vpc = place and bool(run.subnet_ids or run.security_group_ids)
    reset = _reset(
        "launch",
        (
            f"job name {run.job_name}" if run.job_name else "",
            "hyperparameters" if run.hyperparameters and not place else "",
            "VPC subnets and security groups" if vpc else "",
        ),
    )
    cleared = replace(
        run,
        job_name=None,
        custom_model_name=None,
        client_request_token=None,
        hyperparameters={} if not place else run.hyperparameters,
        subnet_ids=() if place else run.subnet_ids,
        security_group_ids=() if place else run.security_group_ids,
    )
    return cleared, reset


def _prepared_cleared(run: Run, why: str) -> tuple[Run, list[StepReset | None]]:
    """The prepared files, their verdict and their uploads reset (`why`: what is wrong with
    the files, as the end of a sentence about them)."""
    files = f"the files in {run.prepared_dir} {why}" if run.prepared_dir else ""
    resets = [
        _reset("prepare", (files,)),
        _reset("validate", ("its verdict" if run.validated_ok is not None else "",)),
        _reset(
            "infrastructure",
            ("the uploaded files" if run.training_uri or run.validation_uri else "",),
        ),
    ]
    cleared = replace(
        run,
        prepared_dir=None,
        train_size=None,
        validation_size=None,
        test_size=None,
        max_chars=None,
        max_tokens=None,
        validated_ok=None,
        validated_dir=None,
        training_uri=None,
        validation_uri=None,
        test_uri=None,
    )
    return cleared, resets


def _place_words(target: Target | None, account: str | None, region: str | None) -> str:
    if target == "sandbox":
        return f"the sandbox, {region}"
    return f"AWS account {account}, {region}"


def change_place(
    run: Run,
    *,
    target: Target,
    profile: str | None,
    region: str,
    endpoint_url: str | None,
    sandbox_id: str | None,
    account_id: str,
    principal_arn: str | None,
) -> RunChange:
    """Move `run` to another place (or confirm the one it has).

    A run that has no place yet, or keeps its account, region, target, endpoint and sandbox,
    resets nothing (a profile or principal change alone does not matter). A move resets the
    infrastructure (bucket, role, key, uploads live in the old place) and the launch settings;
    the base model too when it is not customized in the new region, and with it the prepared
    files and their verdict (they were made for its format and limits).
    """
    moved = run.identity_checked and (
        run.target,
        run.account_id,
        run.region,
        run.endpoint_url,
        run.sandbox_id,
    ) != (target, account_id, region, endpoint_url, sandbox_id)
    placed = replace(
        run,
        target=target,
        profile=profile,
        region=region,
        endpoint_url=endpoint_url,
        sandbox_id=sandbox_id,
        account_id=account_id,
        principal_arn=principal_arn,
    )
    what = (
        f"from {_place_words(run.target, run.account_id, run.region)} "
        f"to {_place_words(target, account_id, region)}"
    )
    if run.region != region:
        what = f"the region from {run.region} to {region}"
    if not moved:
        return RunChange(what, placed, _new_run_of(placed), (), run, changed=False)
    after, infrastructure = _infrastructure_cleared(placed)
    after, launch = _launch_cleared(after, place=True)
    resets: list[StepReset | None] = [infrastructure, launch]
    model = _model_or_none(run.base_model_id)
    if model is not None and region not in model.regions:
        resets.append(_reset("model", (f"{model.name} is not customized in {region}",)))
        after, data = _prepared_cleared(after, f"were made for {model.name}")
        resets += data
        after = replace(after, base_model_id=None, hyperparameters={})
    fresh = _new_run_of(after)
    return RunChange(what, after, fresh, _merge(run.route, resets), run, changed=True)


def _merge(route: Route, resets: Iterable[StepReset | None]) -> tuple[StepReset, ...]:
    """One entry per step (details joined), in the route's order."""
    merged: dict[str, StepReset] = {}
    for reset in resets:
        if reset is None:
            continue
        known = merged.get(reset.step_id)
        if known is None:
            merged[reset.step_id] = reset
        elif reset.detail not in known.detail:
            merged[reset.step_id] = replace(known, detail=f"{known.detail}, {reset.detail}")
    return _in_route_order(route, merged.values())


def change_route(run: Run, route: Route) -> RunChange:
    """Take `route` for `run` (the model step's "import my own", or back to Bedrock's models).

    Nothing is reset while nothing was launched (the steps of the new route read what applies
    to them); a run that launched something keeps it and the new route starts a new run.
    """
    chosen = replace(run, route=route)
    changed = run.route is not route
    return RunChange(
        f"the route to {route.label.lower()}", chosen, _new_run_of(chosen), (), run, changed
    )


def change_model(
    run: Run, model: BaseModel, customization_type: CustomizationType, route: Route
) -> RunChange:
    """Choose `model` (customized by `customization_type`, on `route`) for `run`.

    The first choice, or the same one again, resets nothing. Another model, type or route
    resets what was made for the old one: the validation verdict and the launch settings
    always; the prepared and uploaded files too when the new one needs another data format.
    """
    chosen = replace(
        run, base_model_id=model.id, customization_type=customization_type, route=route
    )
    old = _model_or_none(run.base_model_id)
    what = f"the base model to {model.name} ({customization_type.label.lower()})"
    same = (run.base_model_id, run.customization_type, run.route) == (
        model.id,
        customization_type,
        route,
    )
    if run.base_model_id is None or same:
        return RunChange(what, chosen, _new_run_of(chosen), (), run, changed=False)
    if old is not None:
        what = f"the base model from {old.name} to {model.name}"
    old_custom = old.customization(run.customization_type) if old is not None else None
    new_custom = model.customization(customization_type)
    old_format = old_custom.data_format if old_custom is not None else None
    new_format = new_custom.data_format if new_custom is not None else None
    resets: list[StepReset | None] = []
    after = chosen
    if old_format != new_format or run.route != route:
        why = f"are in {old_format.value if old_format else 'another format'}"
        if new_format is not None:
            why += f"; {model.name} needs {new_format.value}"
        after, data = _prepared_cleared(after, why)
        resets += data
    else:
        name = old.name if old is not None else run.base_model_id
        resets.append(
            _reset("validate", (f"its verdict for {name}" if run.validated_ok is not None else "",))
        )
        after = replace(after, validated_ok=None, validated_dir=None)
    after, launch = _launch_cleared(after, place=False)
    resets.append(launch)
    return RunChange(what, after, _new_run_of(after), _merge(route, resets), run, changed=True)
