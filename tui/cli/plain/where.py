"""Prompt mode, the credentials step: an AWS profile, the environment's keys or the sandbox
(preselected when no credentials resolve), a region, and the identity checked with STS. On
`--resume`, the run's own place is checked again instead."""

from __future__ import annotations

from dataclasses import replace

from core.aws import AwsContext, Identity
from core.catalog.lookup import check_region
from core.credentials import (
    ENVIRONMENT_ID,
    SANDBOX_ID,
    discover_credentials,
    profile_source_id,
    region_models,
    region_options,
)
from core.errors import BedrockTuneError
from core.registry import new_run_id
from core.resume import target_of
from tui.cli.plain.ask import Option
from tui.cli.plain.session import Session


def _context_for(session: Session, source: str, region: str, endpoint: str | None) -> AwsContext:
    if source == SANDBOX_ID:
        sandbox = session.shared_sandbox().start()  # found if it runs, else started
        return AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, region)
    profile = source.split(":", 1)[1] if source.startswith("profile:") else None
    return AwsContext.from_environment(profile, region, endpoint)


def describe_identity(identity: Identity, region: str) -> str:
    """The identity as the app's credentials step shows it."""
    return (
        f"  Account   {identity.account}\n  Identity  {identity.arn}\n"
        f"  User id   {identity.user_id}\n  Region    {region}"
    )


def credentials_step(session: Session) -> None:
    """Ask where to work until an identity is confirmed in a region with customization; the
    run records the place (a new run id)."""
    ask, options = session.ask, session.options
    found = discover_credentials(
        profile=options.profile,
        region=options.region,
        endpoint_url=options.endpoint_url,
        sandbox=options.sandbox,
    )
    if found.reason:
        ask.say(found.reason)
    sources: list[Option] = []
    if found.environment_keys:
        where = f" at {found.endpoint_url}" if found.endpoint_url else ""
        sources.append(Option(f"Environment (AWS_* variables{where})", ENVIRONMENT_ID))
    known = {profile_source_id(p.name) for p in found.profiles}
    if found.preselect.startswith("profile:") and found.preselect not in known:
        missing = found.preselect.split(":", 1)[1]
        sources.append(Option(f"{missing} (not in your AWS config)", found.preselect))
    for profile in found.profiles:
        detail = profile.description + (f", {profile.region}" if profile.region else "")
        sources.append(Option(f"{profile.name} ({detail})", profile_source_id(profile.name)))
    sources.append(Option("Sandbox (a local AWS on this machine, no account)", SANDBOX_ID))
    source, region = found.preselect, found.region
    while True:
        source = ask.select("Where should bedrock-tune work?", sources, default=source)
        regions = [Option(label, value) for label, value in region_options(region)]
        region = ask.select("Which region?", regions, default=region)
        ask.say(f"Customizable in {region}: {region_models(region)}")
        ask.say("Checking the identity...")
        try:
            context = _context_for(session, source, region, found.endpoint_url)
            identity = context.whoami()
        except BedrockTuneError as error:
            ask.say(f"The identity check failed.\n{error.describe()}")
            continue
        ask.say(describe_identity(identity, region))
        try:
            check_region(region)
        except BedrockTuneError as error:
            ask.say(f"Identity confirmed, but this region will not work.\n{error.describe()}")
            continue
        break
    sandboxed = source == SANDBOX_ID
    held = session.shared_sandbox().current() if sandboxed else None
    target = target_of(context.endpoint_url, sandbox=sandboxed)
    session.context = context
    session.update(
        replace(
            session.run,
            run_id=session.run.run_id or new_run_id(),
            target=target,
            profile=source.split(":", 1)[1] if source.startswith("profile:") else None,
            region=region,
            endpoint_url=context.endpoint_url,
            sandbox_id=held.instance_id if held is not None else None,
            account_id=identity.account,
            principal_arn=identity.arn,
        )
    )
    where = "the sandbox" if target == "sandbox" else f"AWS account {identity.account}"
    ask.say(f"✔ Ready: working in {where}, {region}.")


def reconnect(session: Session) -> None:
    """On `--resume`: the run's own place, its identity checked again (the same account)."""
    run = session.run
    if run.region is None or run.account_id is None:
        credentials_step(session)  # the run never got a place: choose one now
        return
    if run.sandbox_id is not None:
        info = session.shared_sandbox().join(run.sandbox_id)
        if info is None:
            raise BedrockTuneError(
                f"The sandbox run {run.run_id} worked in has stopped, and its jobs and files "
                "went with it.",
                title="Sandbox gone",
                hint="Start a new run: `bedrock-tune new --plain`.",
            )
        context = AwsContext.for_endpoint(info.endpoint_url, info.credentials, run.region)
    else:
        context = AwsContext.from_environment(run.profile, run.region, run.endpoint_url)
    identity = context.whoami()
    if identity.account != run.account_id:
        raise BedrockTuneError(
            f"Run {run.run_id} works in account {run.account_id}, but these credentials are "
            f"account {identity.account}.",
            title="Another account",
            hint="Use the profile the run was made with (--profile), or start a new run.",
        )
    session.context = context
    session.ask.say(describe_identity(identity, run.region))
    session.ask.say(f"✔ Back in {run.region} with run {run.run_id}.")
