"""The prompt mode's flow (`bedrock-tune new --plain`) with questionary's answers injected: a
whole run in the sandbox on the test's clock, Ctrl+C at a question, stopping, resuming, the
sandbox when no credentials resolve, and validation as you type."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from core.aws import AwsContext
from core.catalog.lookup import find_model, load_view
from core.catalog.types import CustomizationType
from core.jobs.launching import launch_saved_run
from core.pricing.service import PriceService
from core.registry import Registry
from core.replay.checks import prepare_options
from core.run import Run
from core.sandbox.server import SANDBOX_ACCOUNT_ID, Sandbox
from core.statuses import JobStatus, ServingKind, ServingStatus
from core.validate.fixups import Fix
from tests.cli.plain_script import DEFAULT, INTERRUPT, Repeat, Script
from tests.conftest import DIALOGSUM, needs_shared
from tests.fakes import Clock
from tui.cli.plain import job, prepare
from tui.cli.plain.ask import Heading, Option
from tui.cli.plain.data import source_problem, template_step
from tui.cli.plain.finish import teardown_step
from tui.cli.plain.flow import EXIT_INTERRUPTED, EXIT_OK, EXIT_STOPPED, run_walk
from tui.cli.plain.infra import infrastructure_step
from tui.cli.plain.job import launch_step
from tui.cli.plain.model import describe_model, model_options, prices_of
from tui.cli.plain.prepare import validate_step
from tui.cli.plain.session import PlainOptions, Session, StopFlow
from tui.cli.plain.where import credentials_step

NOVA = "amazon.nova-micro-v1:0:128k"
REGION = "us-east-1"
BUCKET = f"bedrock-tune-{SANDBOX_ACCOUNT_ID}-{REGION}"


def session_for(script: Script, clock: Clock, *, run: Run | None = None, **options: Any) -> Session:
    """A session on the test's clock (the watch and the deployment poll it, not wall time)."""
    return Session(
        script,
        Registry(),
        PlainOptions(poll_interval=1.0, **options),
        run=run or Run(),
        sleep=clock.sleep,
        clock=clock,
    )


def up_to_dataset(source: Path) -> list[tuple[str, Any] | Repeat]:
    """Answers from where to work to the dataset used."""
    return [
        ("Where should bedrock-tune work?", DEFAULT),
        ("Which region?", REGION),
        ("How do you want to customize", DEFAULT),
        ("Which model?", NOVA),
        ("Use Nova Micro", True),
        ("Dataset:", str(source)),
        ("Use this dataset?", True),
    ]


def prepare_answers(prepared: Path) -> list[tuple[str, Any] | Repeat]:
    return [
        ("The template:", "use"),
        ("Training records:", "40"),
        ("Validation records", "8"),
        ("Test records", "8"),
        ("Longest record kept", DEFAULT),
        ("Seed", "7"),
        ("Remove duplicate records?", True),
        ("Output folder:", str(prepared)),
    ]


@needs_shared()
def test_a_whole_run_from_dataset_to_recipe(
    exported_sandbox: Sandbox,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    prepared = tmp_path / "prepared"
    recipe = tmp_path / "recipe.toml"
    script = Script(
        [
            *up_to_dataset(DIALOGSUM / "dev.jsonl"),
            *prepare_answers(prepared),
            ("S3 bucket:", DEFAULT),
            ("Service role:", DEFAULT),
            ("Create them now?", True),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            ("epochCount", "9"),  # out of range: refused as typed...
            ("epochCount", "1"),  # ...and typed again
            ("learningRate (", DEFAULT),
            ("learningRateWarmupSteps", DEFAULT),
            ("Start the customization job?", True),
            ("How should the custom model be served?", ServingKind.CUSTOM_MODEL_DEPLOYMENT.value),
            ("Create the on-demand deployment?", True),
            ("you>", "Summarize: #Person1#: Hi. #Person2#: Hello."),
            ("you>", ""),
            ("Tear down now?", False),
            ("Save the recipe", str(recipe)),
        ]
    )
    session = session_for(script, clock)
    on_disk_at_launch: list[str | None] = []

    def launch_checking_the_registry(context: Any, run: Run, *rest: Any) -> Any:
        record = Registry().get_run(run.run_id or "")
        on_disk_at_launch.append(record.run.client_request_token if record else None)
        return launch_saved_run(context, run, *rest)

    monkeypatch.setattr(job, "launch_saved_run", launch_checking_the_registry)

    assert run_walk(session) == EXIT_OK

    assert script.left == []
    # The token was in the registry before CreateModelCustomizationJob was sent.
    assert on_disk_at_launch == [session.run.client_request_token]
    assert session.run.client_request_token is not None
    said = script.text_said()
    # The dataset's records as text, the template's JSON line, the report, the plan, the cost.
    assert "dev.jsonl  (jsonl, 500 rows, 4 columns)" in said and "Record 0:" in said
    assert '{"schemaVersion":"bedrock-conversation-2024"' in said
    assert "✔ Valid for Nova Micro" in said and "train.jsonl  40 records" in said
    assert f"S3 bucket {BUCKET}  [create]" in said and f"✓ s3:CreateBucket {BUCKET}" in said
    assert "Estimated cost" in said and "Training data  40 records" in said
    assert "Training: Completed" in said and "training loss" in said
    [epochs] = [a for a in script.asked if a.message.startswith("epochCount")]
    assert epochs.refused and "1" in epochs.refused[0] and "5" in epochs.refused[0]
    # The models in the app's groups, the ones the region does not offer not pickable.
    [models] = [a for a in script.asked if a.message.startswith("Which model?")]
    headings = [o.title for o in models.options if isinstance(o, Heading)]
    assert headings[0] == f"Offered in {REGION}"
    assert any(isinstance(o, Option) and o.disabled for o in models.options)
    assert "model> " in capsys.readouterr().out

    # The same run, in the registry, as the app records it.
    record = Registry().get_run(session.run.run_id or "")
    assert record is not None
    run = record.run
    assert (run.target, run.base_model_id, run.bucket) == ("sandbox", NOVA, BUCKET)
    assert run.job_status is JobStatus.COMPLETED and run.custom_model_arn
    assert run.hyperparameters == {"epochCount": "1"}
    assert run.validated_ok is True and run.prepared_dir == str(prepared)
    assert run.serving_status is ServingStatus.ACTIVE and run.chatted_with == run.serving_arn
    for name, size in (("train", 40), ("validation", 8), ("test", 8)):
        assert len((prepared / f"{name}.jsonl").read_text().splitlines()) == size
    saved = tomllib.loads(recipe.read_text())
    assert saved["model"]["base_model_id"] == NOVA
    assert SANDBOX_ACCOUNT_ID not in recipe.read_text()


@needs_shared()
def test_ctrl_c_at_a_question_saves_the_run_and_says_how_to_resume(
    exported_sandbox: Sandbox,
    clock: Clock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = Script([*up_to_dataset(DIALOGSUM / "dev.jsonl"), ("The template:", INTERRUPT)])
    session = session_for(script, clock)

    assert run_walk(session) == EXIT_INTERRUPTED

    run_id = session.run.run_id
    assert run_id is not None
    err = capsys.readouterr().err
    assert f"bedrock-tune new --plain --resume {run_id}" in err
    assert "Traceback" not in err
    record = Registry().get_run(run_id)
    assert record is not None
    assert record.run.source_location == str(DIALOGSUM / "dev.jsonl")
    assert record.run.template_toml is None


@needs_shared()
def test_resume_goes_on_from_the_first_step_not_done(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    first = Script([*up_to_dataset(DIALOGSUM / "dev.jsonl"), ("The template:", INTERRUPT)])
    stopped = session_for(first, clock)
    run_walk(stopped)
    saved = Registry().get_run(stopped.run.run_id or "")
    assert saved is not None

    prepared = tmp_path / "prepared"
    again = Script([*prepare_answers(prepared), ("S3 bucket:", INTERRUPT)])
    resumed = session_for(again, clock, run=saved.run, resume=saved.id)

    assert run_walk(resumed) == EXIT_INTERRUPTED

    # No question about where, the model or the dataset: the template is the first one.
    assert again.asked[0].message.startswith("The template:")
    assert "✔ Dataset: done already." in again.text_said()
    record = Registry().get_run(saved.id)
    assert record is not None and record.run.prepared_dir == str(prepared)
    assert record.run.validated_ok is True
    assert record.run.run_id == saved.id


@needs_shared()
def test_stopping_at_the_launch_keeps_the_run_unlaunched(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = Script(
        [
            *up_to_dataset(DIALOGSUM / "dev.jsonl"),
            *prepare_answers(tmp_path / "prepared"),
            ("S3 bucket:", DEFAULT),
            ("Service role:", DEFAULT),
            ("Create them now?", True),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            Repeat("(", DEFAULT),  # every hyperparameter at its default
            ("Start the customization job?", False),
            ("Change the job's settings?", False),
        ]
    )
    session = session_for(script, clock)

    assert run_walk(session) == EXIT_STOPPED

    assert "Stopped." in capsys.readouterr().err
    record = Registry().get_run(session.run.run_id or "")
    assert record is not None
    assert record.run.job_arn is None and record.run.client_request_token is None
    assert record.run.training_uri is not None


def test_without_credentials_the_sandbox_is_offered_first(
    clock: Clock, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started: list[Sandbox] = []

    def factory() -> Sandbox:
        started.append(Sandbox(clock=clock))
        return started[-1]

    script = Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", DEFAULT),
            ("How do you want to customize", INTERRUPT),
        ]
    )
    session = session_for(script, clock)
    session.sandbox_factory = factory
    try:
        assert run_walk(session) == EXIT_INTERRUPTED
    finally:
        for sandbox in started:
            sandbox.stop()
    said = script.text_said()
    assert "No AWS credentials were found on this machine" in said
    assert script.asked[0].default == "source:sandbox"
    assert "✔ Ready: working in the sandbox" in said
    assert session.run.target == "sandbox" and session.run.sandbox_id is not None
    assert session.run.account_id == SANDBOX_ACCOUNT_ID
    # Only a place was chosen: nothing worth recording, nothing to resume.
    assert Registry().runs() == []
    assert "Nothing was recorded yet" in capsys.readouterr().err


def test_a_dataset_path_that_is_not_there_is_refused_as_typed(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    data = tmp_path / "d.jsonl"
    data.write_text('{"q": "a", "a": "b"}\n')
    script = Script(
        [
            *up_to_dataset(tmp_path / "missing.jsonl")[:5],
            ("Dataset:", str(tmp_path / "missing.jsonl")),
            ("Dataset:", str(data)),
            ("Use this dataset?", INTERRUPT),
        ]
    )
    assert run_walk(session_for(script, clock)) == EXIT_INTERRUPTED
    [dataset] = [a for a in script.asked if a.message.startswith("Dataset:")]
    assert dataset.refused == [f"There is no file or folder at {tmp_path / 'missing.jsonl'}."]
    assert "Columns:\n  q" in script.text_said()


def test_a_file_name_that_is_not_there_is_refused_not_taken_for_a_hub_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # The same rule as the dataset step of the app and replay: a name with a file suffix is a
    # local file, so a typo in it is refused as typed instead of asking for a hub config.
    assert source_problem("nothere.jsonl") == "There is no file or folder at nothere.jsonl."
    assert source_problem("knkarthick/dialogsum") is None
    (tmp_path / "here.jsonl").write_text("{}\n")
    assert source_problem("here.jsonl") is None


def nova_records(count: int) -> list[str]:
    """`count` different training records in Nova's conversation format."""
    return [
        json.dumps(
            {
                "schemaVersion": "bedrock-conversation-2024",
                "messages": [
                    {"role": "user", "content": [{"text": f"Question {n}?"}]},
                    {"role": "assistant", "content": [{"text": f"Answer {n}."}]},
                ],
            }
        )
        for n in range(count)
    ]


def placed_session(script: Script, clock: Clock, **fields: Any) -> Session:
    """A session whose credentials step is done (the exported sandbox), with `fields` set."""
    session = session_for(script, clock)
    credentials_step(session)
    session.update(replace(session.run, base_model_id=NOVA, **fields))
    return session


def test_a_fix_up_is_offered_and_the_run_uses_its_new_folder(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "train.jsonl").write_text("\n".join([*nova_records(10), "{not json"]) + "\n")
    script = Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", REGION),
            ("What now?", Fix.DROP_INVALID),
        ]
    )
    session = placed_session(script, clock, prepared_dir=str(prepared))

    validate_step(session)

    said = script.text_said()
    assert "✘ Not valid for Nova Micro" in said and "✔ Valid for Nova Micro" in said
    [what_now] = [a for a in script.asked if a.message == "What now?"]
    offered = [o.value for o in what_now.options if isinstance(o, Option)]
    assert offered == [Fix.DROP_INVALID, "go", "stop"]
    fixed = Path(session.run.prepared_dir or "")
    assert fixed != prepared and fixed.name.startswith("prepared-fixed")
    assert len((fixed / "train.jsonl").read_text().splitlines()) == 10
    assert (prepared / "train.jsonl").read_text().endswith("{not json\n")  # the source stays
    assert session.run.validated_ok is True and session.run.validated_dir == str(fixed)


def test_teardown_deletes_what_was_made_once_confirmed(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    prepared = tmp_path / "prepared"
    prepared.mkdir()
    (prepared / "train.jsonl").write_text("\n".join(nova_records(10)) + "\n")
    script = Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", REGION),
            ("S3 bucket:", DEFAULT),
            ("Service role:", DEFAULT),
            ("Create them now?", True),
            ("Tear down now?", True),
            Repeat("?", True),  # yes to each deletion
        ]
    )
    session = placed_session(script, clock, prepared_dir=str(prepared))
    infrastructure_step(session)
    assert session.run.bucket == BUCKET and session.run.training_uri is not None

    teardown_step(session)

    s3 = session.require_context().client("s3")
    assert BUCKET not in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    after = session.run
    assert after.bucket is None and after.role_arn is None and after.training_uri is None
    record = Registry().get_run(session.run.run_id or "")
    assert record is not None and record.run.bucket is None


@needs_shared()
def test_ctrl_c_while_watching_leaves_a_run_the_app_re_attaches_to(
    exported_sandbox: Sandbox,
    clock: Clock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = Script(
        [
            *up_to_dataset(DIALOGSUM / "dev.jsonl"),
            *prepare_answers(tmp_path / "prepared"),
            ("S3 bucket:", DEFAULT),
            ("Service role:", DEFAULT),
            ("Create them now?", True),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            Repeat("(", DEFAULT),
            ("Start the customization job?", True),
        ]
    )
    session = session_for(script, clock)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    session.sleep = interrupted  # Ctrl+C while the watch waits for its next poll

    assert run_walk(session) == EXIT_INTERRUPTED

    record = Registry().get_run(session.run.run_id or "")
    assert record is not None and record.run.job_arn is not None
    assert record.resumable  # the app's start offers to re-attach to it
    err = capsys.readouterr().err
    assert "The app (`bedrock-tune`) also offers to re-attach to it." in err


def test_a_template_written_here_is_checked_as_typed_and_previewed(
    clock: Clock, tmp_path: Path
) -> None:
    data = tmp_path / "qa.jsonl"
    data.write_text(
        '{"question": "Capital of France?", "answer": "Paris."}\n'
        '{"question": "Two plus two?", "answer": "Four."}\n'
    )
    script = Script(
        [
            ("The template:", "next"),
            ("The template:", "write"),
            ("System prompt:", "Answer in one word."),
            ("User text:", "{query}"),  # no such column: refused as typed
            ("User text:", "Q: {question}"),
            ("Assistant text", "{answer}"),
            ("The template:", "use"),
        ]
    )
    session = session_for(
        script,
        clock,
        run=Run(run_id="r1", base_model_id=NOVA, source_location=str(data)),
    )

    template_step(session)

    said = script.text_said()
    assert "Record 1 of 2: ✔ the template fits this record" in said
    assert "Record 2 of 2: ✔" in said and "Two plus two?" in said
    [user] = [a for a in script.asked if a.message == "User text:"]
    assert user.refused == ["{query} names no column; available: question, answer"]
    saved = tomllib.loads(session.run.template_toml or "")
    assert (saved["system"], saved["user"], saved["assistant"]) == (
        "Answer in one word.",
        "Q: {question}",
        "{answer}",
    )
    assert '"text":"Q: Capital of France?"' in said or '"text":"Q: Two plus two?"' in said


@needs_shared()
def test_not_deploying_skips_the_chat_and_still_saves_the_recipe(
    exported_sandbox: Sandbox, clock: Clock, tmp_path: Path
) -> None:
    recipe = tmp_path / "recipe.toml"
    script = Script(
        [
            *up_to_dataset(DIALOGSUM / "dev.jsonl"),
            *prepare_answers(tmp_path / "prepared"),
            ("S3 bucket:", DEFAULT),
            ("Service role:", DEFAULT),
            ("Create them now?", True),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            Repeat("(", DEFAULT),
            ("Start the customization job?", True),
            ("How should the custom model be served?", "skip"),
            ("Tear down now?", False),
            ("Save the recipe", str(recipe)),
        ]
    )
    session = session_for(script, clock)

    assert run_walk(session) == EXIT_OK

    assert "Skipped: deploy the model first." in script.text_said()
    assert not any(a.message == "you>" for a in script.asked)
    assert session.run.serving_arn is None and session.run.custom_model_arn is not None
    assert recipe.is_file()


def test_a_request_missing_what_earlier_steps_give_is_not_launched(
    exported_sandbox: Sandbox, clock: Clock
) -> None:
    script = Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", REGION),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            Repeat("(", DEFAULT),
            ("Change the job's settings?", False),
        ]
    )
    session = placed_session(script, clock)  # no upload: no training data, role or output

    with pytest.raises(StopFlow):
        launch_step(session)

    assert "Not ready to launch:" in script.text_said()
    assert not any(a.message.startswith("Start the customization job?") for a in script.asked)
    assert session.run.client_request_token is None and session.run.job_arn is None


def test_distillation_asks_for_the_teacher_the_catalog_pairs_with_the_model(
    exported_sandbox: Sandbox, clock: Clock
) -> None:
    script = Script(
        [
            ("Where should bedrock-tune work?", DEFAULT),
            ("Which region?", REGION),
            ("Job name:", DEFAULT),
            ("Custom model name:", DEFAULT),
            Repeat("(", DEFAULT),
            ("Teacher model:", DEFAULT),
            ("Change the job's settings?", False),
        ]
    )
    session = placed_session(script, clock, customization_type=CustomizationType.DISTILLATION)

    with pytest.raises(StopFlow):
        launch_step(session)

    [teacher] = [a for a in script.asked if a.message == "Teacher model:"]
    offered = [o.value for o in teacher.options if isinstance(o, Option)]
    customization = find_model(NOVA).customization(CustomizationType.DISTILLATION)
    assert customization is not None
    assert offered == [t.id for t in customization.teachers] and offered
    assert f"Teacher        {offered[0]}" in script.text_said()


def test_a_recipe_that_states_some_sizes_is_asked_with_the_others_replay_uses(
    clock: Clock,
) -> None:
    """Sizes a recipe leaves out are proposed as the model's defaults, as replay prepares."""
    script = Script(
        [
            ("Training records:", DEFAULT),
            ("Validation records", DEFAULT),
            ("Test records", DEFAULT),
            ("Longest record kept", DEFAULT),
            ("Seed", INTERRUPT),
        ]
    )
    session = session_for(script, clock)
    session.update(replace(session.run, base_model_id=NOVA, train_size=40))
    custom = find_model(NOVA).customization(CustomizationType.FINE_TUNING)
    assert custom is not None
    with pytest.raises(KeyboardInterrupt):
        prepare._ask_options(session, find_model(NOVA), None)
    asked = {a.message.split(" ")[0]: a.default for a in script.asked}
    replayed = prepare_options(custom, session.run)
    assert (asked["Training"], asked["Validation"], asked["Test"]) == (
        "40",
        str(replayed.validation),
        str(replayed.test),
    )
    assert replayed.validation > 0 and replayed.test > 0  # the defaults, not 0
    assert asked["Longest"] == "" and replayed.max_chars is None  # no limit in either


HAIKU = "anthropic.claude-3-haiku-20240307-v1:0:200k"


def test_the_model_list_shows_the_price_lists_figures_with_their_source(
    sandbox_context: AwsContext,
) -> None:
    # Claude 3 Haiku has no built-in training price; the sandbox's Price List has one.
    view = load_view(sandbox_context, "us-west-2", CustomizationType.FINE_TUNING)
    service = PriceService(sandbox_context)
    options = model_options(view, CustomizationType.FINE_TUNING, service)
    haiku = next(o for o in options if isinstance(o, Option) and o.value == HAIKU)
    assert "training $" in haiku.title and "/1K (Price List API, " in haiku.title
    entry = view.get(HAIKU)
    assert entry is not None
    details = describe_model(entry, CustomizationType.FINE_TUNING, prices_of(service, entry))
    assert "    training: $" in details and "(Price List API, " in details
