"""Step 1: where bedrock-tune works: an AWS profile (or the environment, or the sandbox) and a
region where Bedrock model customization is offered. Choosing one checks the identity with STS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Label, OptionList, Select, Static
from textual.widgets.option_list import Option, OptionDoesNotExist

from core.credentials import (
    ENVIRONMENT_ID,
    SANDBOX_ID,
    Discovery,
    profile_source_id,
    region_models,
    region_options,
)
from screens.base import LaunchOptions, StepScreen
from screens.run_change import RunChangeChoice, RunChangeScreen
from screens.workers import WorkerResult

if TYPE_CHECKING:
    # core.aws is imported where it is used (in the workers, after the first frame).
    from core.aws import AwsContext, Identity
    from core.run import Target

SourceKind = Literal["profile", "environment", "sandbox"]


@dataclass(frozen=True)
class Checked:
    """A successful identity check."""

    context: AwsContext
    identity: Identity
    kind: SourceKind
    profile: str | None


@dataclass
class CredentialsDiscovered(WorkerResult):
    """The AWS configuration was read."""

    discovery: Discovery


@dataclass
class IdentityChecked(WorkerResult):
    """STS confirmed who the chosen credentials are."""

    checked: Checked


def discover_credentials(launch: LaunchOptions) -> Discovery:
    """Read the AWS config files and decide what to preselect (`core.credentials`)."""
    from core.credentials import discover_credentials as discover

    return discover(
        profile=launch.profile,
        region=launch.region,
        endpoint_url=launch.endpoint_url,
        sandbox=launch.sandbox,
    )


def _option_id(profile: str) -> str:
    return profile_source_id(profile)


class CredentialsScreen(StepScreen):
    """Choose AWS credentials and region, and see who you are."""

    STEP_ID = "credentials"
    STEP_TITLE = "Credentials and region"
    CSS_PATH = "styles/credentials.tcss"

    BINDINGS = [
        Binding("ctrl+n", "next_step", "Continue", id="next-step"),
        Binding("c", "check", "Check identity", id="check-identity"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._discovery: Discovery | None = None
        self._checked: Checked | None = None
        self._last_check: tuple[tuple[SourceKind, str | None], str] | None = None

    def compose_body(self) -> ComposeResult:
        yield Label("Where should bedrock-tune work?", classes="step-heading")
        yield Static(
            "Pick an AWS profile from your configuration, or the sandbox: a local AWS on this "
            "machine that needs no account. bedrock-tune checks who you are (STS) before it "
            "does anything.",
            classes="step-intro",
        )
        # The choices, the identity and the buttons come right after the first frame
        # (`_mount_controls`): they are empty until the configuration is read, and their
        # widgets would cost the first frame a tenth of a second.
        yield Static("Looking for AWS credentials...", id="credentials-status")

    def on_mount(self) -> None:
        # (StepScreen.on_mount runs too: Textual calls the handler of every class in the MRO.)
        # After the first paint: discovery imports botocore, which would hold the GIL and delay
        # the first frame.
        self.call_after_refresh(self._mount_controls)

    async def _mount_controls(self) -> None:
        """The sources and the regions, the identity and the buttons, then the discovery
        that fills them."""
        status = self.query_one("#credentials-status")
        if not status.is_attached:
            return  # the app closed before its first frame was out
        await status.parent.mount(  # type: ignore[union-attr]
            Horizontal(
                Vertical(
                    Label("Credentials", classes="field-label"),
                    OptionList(id="sources"),
                    id="sources-column",
                ),
                Vertical(
                    Label("Region", classes="field-label"),
                    Select[str]([], id="region", allow_blank=True, prompt="Choose a region"),
                    Static("", id="region-models"),
                    id="region-column",
                ),
                id="credentials-columns",
            ),
            before=status,
        )
        self.query_one("#sources", OptionList).focus()
        await status.parent.mount(  # type: ignore[union-attr]
            Static("", id="identity"),
            Horizontal(
                Button("Check identity", id="check", variant="default"),
                Button("Continue", id="continue", variant="primary", disabled=True),
                id="credentials-actions",
                classes="button-row step-actions",
            ),
            after=status,
        )
        self.discover()

    # ------------------------------------------------------------------ discovery

    @work(thread=True, exclusive=True, exit_on_error=False, group="discover", name="discover")
    def discover(self) -> CredentialsDiscovered:
        """Read the AWS config files and decide what to preselect."""
        return CredentialsDiscovered(discover_credentials(self.host.launch))

    @on(CredentialsDiscovered)
    def _credentials_discovered(self, message: CredentialsDiscovered) -> None:
        self._show_discovery(message.discovery)

    def _show_discovery(self, found: Discovery) -> None:
        self._discovery = found
        sources = self.query_one("#sources", OptionList)
        sources.clear_options()
        if found.environment_keys:
            sources.add_option(
                Option(self._source_label("Environment", "AWS_* variables"), id=ENVIRONMENT_ID)
            )
        known = {_option_id(p.name) for p in found.profiles}
        if found.preselect.startswith("profile:") and found.preselect not in known:
            # A --profile / AWS_PROFILE that the config does not have: list it so that the
            # check runs and explains what is wrong.
            missing = found.preselect.split(":", 1)[1]
            sources.add_option(
                Option(self._source_label(missing, "not in your AWS config"), id=found.preselect)
            )
        for profile in found.profiles:
            detail = profile.description + (f", {profile.region}" if profile.region else "")
            sources.add_option(
                Option(self._source_label(profile.name, detail), id=_option_id(profile.name))
            )
        if not found.profiles and not found.environment_keys:
            sources.add_option(
                Option(
                    Text("No profiles in ~/.aws/config or ~/.aws/credentials", style="dim"),
                    disabled=True,
                )
            )
        sources.add_option(
            Option(
                self._source_label("Sandbox", "local AWS on this machine, no account"),
                id=SANDBOX_ID,
            )
        )
        select = self.query_one("#region", Select)
        select.set_options(region_options(found.region))
        select.value = found.region
        try:
            sources.highlighted = sources.get_option_index(found.preselect)
        except OptionDoesNotExist:
            sources.highlighted = 0
        if found.reason:
            self.notify(found.reason, title="Sandbox", timeout=10)
        self.action_check()

    @staticmethod
    def _source_label(name: str, detail: str) -> Text:
        label = Text(name, style="bold")
        label.append(f"\n  {detail}", style="dim")
        return label

    # ------------------------------------------------------------------ identity check

    def _choice(self) -> tuple[SourceKind, str | None] | None:
        sources = self.query_one("#sources", OptionList)
        if sources.highlighted is None:
            return None
        option = sources.get_option_at_index(sources.highlighted)
        if option.id == SANDBOX_ID:
            return "sandbox", None
        if option.id == ENVIRONMENT_ID:
            return "environment", None
        if option.id and option.id.startswith("profile:"):
            return "profile", option.id.split(":", 1)[1]
        return None

    def _region(self) -> str | None:
        value = self.query_one("#region", Select).value
        return value if isinstance(value, str) else None

    @on(OptionList.OptionSelected, "#sources")
    def _source_chosen(self) -> None:
        # Enter on a source checks it; Enter again on the source just confirmed goes on.
        if self._ready_choice() is not None and self._ready_choice() == self._choice():
            self.action_continue()
        else:
            self.action_check(force=False)

    def _ready_choice(self) -> tuple[SourceKind, str | None] | None:
        """The source whose identity is confirmed in a supported region (None while there is
        none)."""
        ready = self._checked is not None and not self.query("#continue").first(Button).disabled
        if self._checked is None or not ready:
            return None
        return self._checked.kind, self._checked.profile

    @on(Select.Changed, "#region")
    def _region_changed(self, event: Select.Changed) -> None:
        region = self._region()
        if region:
            self.query_one("#region-models", Static).update(
                Text(f"Customizable here: {region_models(region)}", style="dim")
            )
        if self._discovery is not None:
            self.action_check(force=False)

    def action_check(self, force: bool = True) -> None:
        """Check the identity of the highlighted source in the chosen region."""
        choice = self._choice()
        region = self._region()
        if choice is None or region is None:
            return
        if not force and (choice, region) == self._last_check:
            return  # the same check is running or done (e.g. a Select.Changed echo)
        self._last_check = (choice, region)
        self._checked = None
        self.query_one("#continue", Button).disabled = True
        self.clear_error()
        kind, profile = choice
        what = {"sandbox": "the sandbox", "environment": "the environment's credentials"}.get(
            kind, f"profile '{profile}'"
        )
        self.query_one("#credentials-status", Static).update(
            f"Checking the identity of {what} in {region}..."
        )
        self.query_one("#identity", Static).update("")
        endpoint = self._discovery.endpoint_url if self._discovery else None
        self.check_identity(kind, profile, region, endpoint)

    @work(thread=True, exclusive=True, exit_on_error=False, group="check", name="check")
    def check_identity(
        self, kind: SourceKind, profile: str | None, region: str, endpoint: str | None
    ) -> IdentityChecked:
        """Build the context for the choice and ask STS who it is."""
        from core.aws import AwsContext

        if kind == "sandbox":
            # The shared sandbox: found if it runs, else started; it outlives the app.
            sandbox = self.host.start_sandbox()
            context = AwsContext.for_endpoint(sandbox.endpoint_url, sandbox.credentials, region)
        else:
            context = AwsContext.from_environment(
                profile if kind == "profile" else None, region, endpoint
            )
        identity = context.whoami()
        return IdentityChecked(Checked(context, identity, kind, profile))

    def worker_failed(self, name: str, error: BaseException) -> None:
        status = self.query_one("#credentials-status", Static)
        if name == "check":
            status.update(Text("The identity check failed.", style="bold red"))
        else:
            status.update(Text("Could not read your AWS configuration.", style="bold red"))
        self.show_error(error)

    @on(IdentityChecked)
    def _show_identity(self, message: IdentityChecked) -> None:
        from core.catalog.lookup import check_region
        from core.errors import RegionNotSupportedError

        checked = self._checked = message.checked
        identity = checked.identity
        region = checked.context.region
        table = Text()
        table.append("Account   ", style="bold")
        table.append(f"{identity.account}\n")
        table.append("Identity  ", style="bold")
        table.append(f"{identity.arn}\n")
        table.append("User id   ", style="bold")
        table.append(f"{identity.user_id}\n")
        table.append("Region    ", style="bold")
        table.append(region)
        self.query_one("#identity", Static).update(table)
        status = self.query_one("#credentials-status", Static)
        try:
            check_region(region)
        except RegionNotSupportedError as error:
            status.update(
                Text("Identity confirmed, but this region will not work.", style="bold yellow")
            )
            self.show_error(error, warning=True)
            return
        target: Target = "sandbox" if checked.kind == "sandbox" else "aws"
        change = self.host.place_change(
            checked.context, target=target, profile=checked.profile, identity=identity
        )
        if not change.asks:
            self._adopt(checked, new_run=False)
            return
        status.update(Text(f"Identity confirmed. Change {change.what}?", style="bold yellow"))

        def chosen(choice: RunChangeChoice | None) -> None:
            if choice is None:
                self._keep_run_place()
            else:
                self._adopt(checked, new_run=choice == "new")

        self.app.push_screen(RunChangeScreen(change), chosen)

    def _adopt(self, checked: Checked, *, new_run: bool) -> None:
        """Work there from now on (the App resets what no longer holds, or starts a new run)."""
        from core.resume import target_of

        context = checked.context
        # A standalone `bedrock-tune sandbox` reached through AWS_ENDPOINT_URL is the sandbox too.
        sandboxed = target_of(context.endpoint_url, sandbox=checked.kind == "sandbox") == "sandbox"
        where = "the sandbox" if sandboxed else f"AWS account {checked.identity.account}"
        address = f" ({context.endpoint_url})" if sandboxed else ""
        self.query_one("#credentials-status", Static).update(
            Text(f"✔ Ready: working in {where}, {context.region}{address}.", style="bold green")
        )
        self.query_one("#continue", Button).disabled = False
        self.host.set_aws_context(
            context,
            target="sandbox" if checked.kind == "sandbox" else "aws",
            profile=checked.profile,
            identity=checked.identity,
            new_run=new_run,
        )

    def _keep_run_place(self) -> None:
        """The change was declined: show the run's own place again and check it."""
        run = self.host.wizard_run
        sources = self.query_one("#sources", OptionList)
        wanted = {"sandbox": SANDBOX_ID}.get(run.target or "", "")
        if not wanted:
            wanted = _option_id(run.profile) if run.profile else ENVIRONMENT_ID
        try:
            sources.highlighted = sources.get_option_index(wanted)
        except OptionDoesNotExist:
            pass
        if run.region is not None:
            self.query_one("#region", Select).value = run.region
        self.action_check()

    # ------------------------------------------------------------------ buttons

    @on(Button.Pressed, "#check")
    def _check_pressed(self) -> None:
        self.action_check()

    @on(Button.Pressed, "#continue")
    def _continue_pressed(self) -> None:
        self.action_continue()

    def accept(self) -> bool:
        self.action_continue()
        return True

    def action_continue(self) -> None:
        """Go on to the next step once the identity is confirmed."""
        if self._ready_choice() is None:
            self.notify("Check an identity in a supported region first.", severity="warning")
            return
        self.host.next_step(self.STEP_ID)
