"""The teardown step in the sandbox: what bedrock-tune made is listed (billable first, with its
cost), ticked, confirmed once (the confirmation lists exactly what goes, including what must go
first), deleted with a live log; the registry ends empty and the header's billing counter at 0,
while the user's own bucket and role are untouched."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from textual.widgets import Button, RichLog, SelectionList

from core.aws import AwsContext
from core.jobs.customization import get_job, new_client_request_token
from core.ownership import ownership_tags
from core.registry import Registry
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.serving.deploy import create_throughput
from core.statuses import ServingKind, ServingStatus
from screens.base import LaunchOptions
from screens.confirm import ConfirmScreen
from screens.quit_guard import QuitGuardScreen
from tests.fakes import MANAGED, POLICY, TRUST, Clock, launch_job
from tests.fakes import sandbox_record as record
from tests.tui.helpers import click_button, settle, text_of
from tui.app import BedrockTuneApp

if TYPE_CHECKING:
    from types_boto3_iam.type_defs import TagTypeDef

TITAN = "amazon.titan-text-lite-v1:0:4k"
"""A model whose provisioned throughput price is in the catalog."""
RECORD = b'{"prompt": "What is the refund window?", "completion": "Thirty days."}\n'


def log_text(app: BedrockTuneApp) -> str:
    return "\n".join(line.text for line in app.screen.query_one("#teardown-log", RichLog).lines)


def sidebar_status(app: BedrockTuneApp, step_id: str) -> str:
    """What the sidebar shows for a step (done, current, ready, blocked)."""
    return {s.id: s.status for s in app.step_states(app.current_step)}[step_id]


def serve(context: AwsContext, job: str, clock: Clock) -> tuple[str, str]:
    """Let the job complete, then buy provisioned throughput for its model: (model, PT)."""
    clock.t += 20
    model = get_job(context, job).output_model_arn
    assert model
    pt = create_throughput(context, model, "bt-ui-pt", new_client_request_token())
    clock.t += 31
    return model, pt


async def test_teardown_lists_confirms_deletes_and_clears_the_billing_counter() -> None:
    clock = Clock()
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=10, ready_seconds=30, clock=clock),
    )
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        s3, iam = context.client("s3"), context.client("iam")
        s3.create_bucket(Bucket="bt-ui")
        s3.put_bucket_tagging(Bucket="bt-ui", Tagging={"TagSet": MANAGED})
        s3.put_object(Bucket="bt-ui", Key="bedrock-tune/run1/data/t.jsonl", Body=RECORD)
        iam.create_role(RoleName="bt-ui-role", AssumeRolePolicyDocument=TRUST, Tags=MANAGED)
        iam.put_role_policy(
            RoleName="bt-ui-role", PolicyName="bedrock-tune-data-access", PolicyDocument=POLICY
        )
        s3.create_bucket(Bucket="users-own")
        iam.create_role(RoleName="users-own-role", AssumeRolePolicyDocument=TRUST)
        job = launch_job(
            context,
            "ui-td",
            TITAN,
            "s3://bt-ui/bedrock-tune/run1/data/t.jsonl",
            "s3://bt-ui/bedrock-tune/run1/output/",
            f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bt-ui-role",
        )
        model, pt = serve(context, job, clock)
        registry = Registry()
        registry.add_resource(record("s3-bucket", "bt-ui"))
        registry.add_resource(record("s3-prefix", "s3://bt-ui/bedrock-tune/run1/"))
        registry.add_resource(record("iam-role", "bt-ui-role"))
        registry.add_resource(record("provisioned-throughput", pt, billable=True))
        app.update_run(
            replace(
                app.wizard_run,
                base_model_id=TITAN,
                prepared_dir="/prepared",
                bucket="bt-ui",
                role_arn=f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/bt-ui-role",
                training_uri="s3://bt-ui/bedrock-tune/run1/data/t.jsonl",
                output_uri="s3://bt-ui/bedrock-tune/run1/output/",
                custom_model_arn=model,
                serving_kind=ServingKind.PROVISIONED_THROUGHPUT,
                serving_arn=pt,
                serving_status=ServingStatus.IN_SERVICE,
            )
        )
        assert sidebar_status(app, "infrastructure") == "done"

        app.go_to_step("teardown")
        await settle(pilot, lambda: bool(app.screen.query("#teardown-items")))
        listing = app.screen.query_one("#teardown-items", SelectionList)
        await settle(pilot, lambda: listing.option_count == 5)
        prompts = [str(listing.get_option_at_index(n).prompt) for n in range(5)]
        assert prompts[0].startswith("Provisioned throughput bt-ui-pt")
        assert "$7.10/h" in prompts[0]  # the catalog's price for one model unit
        assert prompts[1].startswith("Custom model ui-td-model") and "/month" in prompts[1]
        assert not any("users-own" in p for p in prompts)
        assert "1 billing" in text_of(app, "#teardown-summary")
        assert "1 billable," in str(app.screen.query_one("#header-billing").render())
        delete_button = app.screen.query_one("#teardown-delete", Button)
        assert delete_button.disabled

        # Ticking only the model brings its throughput into the confirmation; Cancel keeps all.
        listing.select(f"custom-model:{model}")
        await settle(pilot, lambda: not delete_button.disabled)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = text_of(app, "#confirm-message")
        assert "Provisioned throughput bt-ui-pt" in message
        assert "(added: it uses what you ticked)" in message
        assert "S3 bucket" not in message
        await pilot.click("#confirm-no")
        await settle(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
        assert len(Registry().resources()) == 4

        # Everything: confirmed once, deleted in order with a live log.
        await pilot.click("#teardown-select-all-button")
        await settle(pilot, lambda: len(listing.selected) == 5)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        message = text_of(app, "#confirm-message")
        for label in ("bt-ui-pt", "ui-td-model", "s3://bt-ui/bedrock-tune/run1/", "bt-ui-role"):
            assert label in message
        await pilot.click("#confirm-yes")
        await settle(pilot, lambda: "Done." in log_text(app))
        await settle(pilot)
        assert Registry().resources() == []
        log = log_text(app)
        assert log.index("bt-ui-pt") < log.index("ui-td-model") < log.index("the role bt-ui-role")
        assert "✔ Deleted the bucket bt-ui." in log
        # One line per resource, its outcome: nothing said twice.
        lines = log.splitlines()
        assert len(lines) == len(set(lines))
        assert sum("bt-ui-pt" in line for line in lines) == 1
        billing = app.screen.query_one("#header-billing")
        assert not billing.has_class("-on")
        assert "0 billable, nothing bills" in str(billing.render())
        assert app.wizard_run.serving_arn is None and app.wizard_run.custom_model_arn is None
        # The bucket, the role and the uploads are gone: Infrastructure is not ticked any more.
        run = app.wizard_run
        assert (run.bucket, run.role_arn, run.training_uri, run.output_uri) == (None,) * 4
        assert sidebar_status(app, "infrastructure") == "ready"
        assert listing.option_count == 0
        assert "Nothing bedrock-tune made is left" in text_of(app, "#teardown-summary")
        assert {b["Name"] for b in s3.list_buckets()["Buckets"]} == {"users-own"}
        assert {r["RoleName"] for r in iam.list_roles()["Roles"]} == {"users-own-role"}


async def test_the_quit_guard_deletes_through_teardown() -> None:
    clock = Clock()
    sandboxes: list[Sandbox] = []

    def factory() -> Sandbox:
        sandboxes.append(Sandbox(job_seconds=10, ready_seconds=30, clock=clock))
        return sandboxes[-1]

    app = BedrockTuneApp(LaunchOptions(sandbox=True, poll_interval=0.05), sandbox_factory=factory)
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        context.client("s3").create_bucket(Bucket="bt-quit")
        context.client("s3").put_object(Bucket="bt-quit", Key="t.jsonl", Body=RECORD)
        job = launch_job(
            context,
            "quit",
            TITAN,
            "s3://bt-quit/t.jsonl",
            "s3://bt-quit/out/",
            f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:role/r",
        )
        _, pt = serve(context, job, clock)
        Registry().add_resource(record("provisioned-throughput", pt, billable=True))
        # A throughput someone already deleted elsewhere: gone counts as deleted.
        Registry().add_resource(
            record(
                "provisioned-throughput",
                f"arn:aws:bedrock:us-east-1:{SANDBOX_ACCOUNT_ID}:provisioned-model/000000000000",
                billable=True,
            )
        )
        await pilot.press("ctrl+q")
        await settle(pilot, lambda: isinstance(app.screen, QuitGuardScreen))
        await pilot.click("#delete")
        await settle(pilot, lambda: Registry().resources() == [])
    assert app.return_code == 0
    assert sandboxes[0].inference.list_throughputs() == (200, {"provisionedModelSummaries": []})


async def test_what_bedrock_tune_made_elsewhere_is_listed_apart_and_never_ticked_for_you() -> None:
    app = BedrockTuneApp(
        LaunchOptions(sandbox=True, poll_interval=0.05),
        sandbox_factory=lambda: Sandbox(job_seconds=10, ready_seconds=30, clock=Clock()),
    )
    async with app.run_test(size=(160, 60)) as pilot:
        await settle(pilot, lambda: app.wizard_run.account_id is not None, rounds=1000)
        context = app.aws_context()
        assert context is not None
        s3, iam = context.client("s3"), context.client("iam")
        bob = f"arn:aws:iam::{SANDBOX_ACCOUNT_ID}:user/bob"
        tags: list[TagTypeDef] = [
            {"Key": k, "Value": v} for k, v in ownership_tags("0" * 32, bob).items()
        ]
        iam.create_role(RoleName="bobs-role", AssumeRolePolicyDocument=TRUST, Tags=tags)
        s3.create_bucket(Bucket="bt-mine")
        Registry().add_resource(record("s3-bucket", "bt-mine"))

        app.go_to_step("teardown")
        await settle(pilot, lambda: bool(app.screen.query("#teardown-found")))
        ours = app.screen.query_one("#teardown-items", SelectionList)
        found = app.screen.query_one("#teardown-found", SelectionList)
        await settle(pilot, lambda: found.option_count == 1 and ours.option_count == 1)
        assert found.display and "Made by bedrock-tune elsewhere" in text_of(
            app, "#teardown-found-heading"
        )
        prompt = str(found.get_option_at_index(0).prompt)
        assert prompt.startswith("IAM role bobs-role") and f"made by {bob} on 20" in prompt
        assert "made by bedrock-tune elsewhere (listed apart)" in text_of(app, "#teardown-summary")
        assert found.selected == [] and ours.selected == []

        # Select all: everything of this install, nothing of Bob's.
        await pilot.click("#teardown-select-all-button")
        await settle(pilot, lambda: len(ours.selected) == 1)
        assert found.selected == []
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "bobs-role" not in text_of(app, "#confirm-message")
        await click_button(pilot, "#confirm-yes")
        await settle(pilot, lambda: "Done." in log_text(app))
        await settle(pilot, lambda: ours.option_count == 0)
        assert "bobs-role" in {r["RoleName"] for r in iam.list_roles()["Roles"]}

        # Ticked on purpose, it goes (the confirmation says whose it is).
        found.select("iam-role:bobs-role")
        await settle(pilot, lambda: not app.screen.query_one("#teardown-delete", Button).disabled)
        await click_button(pilot, "#teardown-delete")
        await settle(pilot, lambda: isinstance(app.screen, ConfirmScreen))
        assert "(made by bedrock-tune elsewhere)" in text_of(app, "#confirm-message")
        await click_button(pilot, "#confirm-yes")
        await settle(
            pilot, lambda: "bobs-role" not in {r["RoleName"] for r in iam.list_roles()["Roles"]}
        )
        await settle(pilot, lambda: not found.display)
