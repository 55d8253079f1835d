"""Where bedrock-tune works: the credential sources this machine offers (the environment's keys,
the AWS profiles, the sandbox), which one to preselect and why, and the regions to offer.

The credentials step of the app and the prompt mode (`bedrock-tune new --plain`) both ask from
this one answer. Reading it touches the AWS config files and the credential chain's own
look-ups, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # Imported where used: the app's first frame imports this module for its ids alone.
    from core.aws import ProfileInfo

SANDBOX_ID = "source:sandbox"
ENVIRONMENT_ID = "source:environment"
NO_CREDENTIALS_REASON = (
    "No AWS credentials were found on this machine, so bedrock-tune started in the "
    "sandbox: a local AWS that needs no account. Add credentials with `aws configure` "
    "(or `aws configure sso`) to work with your own account."
)


def profile_source_id(profile: str) -> str:
    """The source id of an AWS profile."""
    return f"profile:{profile}"


@dataclass(frozen=True)
class Discovery:
    """What the machine offers: profiles, environment keys, and what to preselect."""

    profiles: tuple[ProfileInfo, ...]
    environment_keys: bool
    endpoint_url: str | None
    preselect: str
    """The source id to select first (`SANDBOX_ID`, `ENVIRONMENT_ID` or a profile's)."""
    region: str
    start_in_sandbox: bool
    reason: str
    """Why the preselection was made (shown as a notice; empty when it needs no word)."""


def discover_credentials(
    *,
    profile: str | None = None,
    region: str | None = None,
    endpoint_url: str | None = None,
    sandbox: bool = False,
) -> Discovery:
    """Read the AWS config files and decide what to preselect: the sandbox when asked for, a
    named profile, the environment's keys, the default profile, other credentials the chain
    finds (a container or instance role), else the sandbox, saying why."""
    from core.aws import (
        AwsContext,
        default_profile_name,
        discover_profiles,
        environment_has_keys,
    )

    profiles = tuple(discover_profiles())
    env_keys = environment_has_keys()
    context = AwsContext.from_environment(profile, region, endpoint_url)
    chosen_region = context.region
    if sandbox:
        return Discovery(profiles, env_keys, endpoint_url, SANDBOX_ID, chosen_region, True, "")
    if profile:
        source = profile_source_id(profile)
        return Discovery(profiles, env_keys, endpoint_url, source, chosen_region, False, "")
    if env_keys:
        return Discovery(profiles, env_keys, endpoint_url, ENVIRONMENT_ID, chosen_region, False, "")
    default = default_profile_name(list(profiles))
    if default is not None:
        source = profile_source_id(default)
        return Discovery(profiles, env_keys, endpoint_url, source, chosen_region, False, "")
    if context.has_credentials():
        # Credentials from the chain that are neither profiles nor env keys (container or
        # instance roles): use them as "the environment".
        return Discovery(profiles, True, endpoint_url, ENVIRONMENT_ID, chosen_region, False, "")
    return Discovery(
        profiles, env_keys, endpoint_url, SANDBOX_ID, chosen_region, True, NO_CREDENTIALS_REASON
    )


def region_options(region: str) -> list[tuple[str, str]]:
    """(label, region) for every region with model customization, plus `region` when it has
    none (labelled so)."""
    from core.catalog.lookup import customization_regions

    regions = list(customization_regions())
    if region not in regions:
        regions.append(region)
    return [
        (r if r in customization_regions() else f"{r} (no model customization)", r) for r in regions
    ]


def region_models(region: str) -> str:
    """The names of the active models customizable in `region` ("legacy models only" when
    none is)."""
    from core.catalog.lookup import builtin_models

    names = [m.name for m in builtin_models() if region in m.regions and m.lifecycle == "ACTIVE"]
    return ", ".join(names) if names else "legacy models only"
