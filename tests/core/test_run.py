"""The run: typed fields that round-trip through JSON, its status, the route table, and saving
its versions in order from threads."""

from __future__ import annotations

import json
import threading
from dataclasses import fields, replace
from pathlib import Path

import pytest

from core.registry import Registry, RunRecord
from core.run import EvaluationChoices, Route, Run, RunDataError
from core.run.routes import (
    ROUTE_STEPS,
    STEPS,
    landing_step,
    next_step,
    routes_offered,
    servable,
    steps_of,
)
from core.run.saver import RunSaver
from core.run.status import RunStatus, has_choices, run_status
from core.statuses import CustomizationType, ImportStatus, JobStatus, ServingKind, ServingStatus
from tests.conftest import SHARED

FULL = Run(
    run_id="r1",
    route=Route.BEDROCK_CUSTOMIZATION,
    target="sandbox",
    profile="dev",
    region="us-west-2",
    endpoint_url="http://127.0.0.1:4566",
    sandbox_id="0123456789ab",
    account_id="123456789012",
    principal_arn="arn:aws:iam::123456789012:user/me",
    base_model_id="amazon.nova-micro-v1:0:128k",
    customization_type=CustomizationType.DISTILLATION,
    model_source="s3://b/weights/",
    model_checked_ok=False,
    source_location="/data/x.jsonl",
    source_config="default",
    source_split="train",
    template_toml='system = "s"\n',
    train_size=500,
    validation_size=50,
    test_size=20,
    max_chars=20000,
    max_tokens=4000,
    dedupe=False,
    seed=7,
    prepared_dir="/data/p",
    validated_ok=True,
    validated_dir="/data/p",
    bucket="b",
    s3_prefix="bedrock-tune",
    role_arn="arn:aws:iam::123456789012:role/r",
    kms_key_id="alias/k",
    training_uri="s3://b/bedrock-tune/r1/data/train.jsonl",
    validation_uri="s3://b/bedrock-tune/r1/data/validation.jsonl",
    test_uri="s3://b/bedrock-tune/r1/data/test.jsonl",
    output_uri="s3://b/bedrock-tune/r1/output/",
    job_name="bt-job",
    custom_model_name="bt-job-model",
    client_request_token="tok",
    hyperparameters={"epochCount": "2", "learningRate": "0.0001"},
    tags={"team": "ml"},
    subnet_ids=("subnet-1", "subnet-2"),
    security_group_ids=("sg-1",),
    job_arn="arn:job",
    job_status=JobStatus.COMPLETED,
    custom_model_arn="arn:model",
    teacher_model_id="us.amazon.nova-premier-v1:0",
    max_response_length=1000,
    model_uri="s3://b/bedrock-tune/r1/model/",
    model_architecture="llama",
    import_job_name="bt-import",
    imported_model_name="bt-imported",
    import_token="itok",
    training_mode="instance",
    training_technique="DPO",
    sequence_length="8K",
    eula_accepted=True,
    instance_type="ml.g5.2xlarge",
    spot=True,
    model_artifacts="s3://b/p/r1/output/j/output/model/",
    import_role_arn="arn:aws:iam::123456789012:role/imp",
    import_job_arn="arn:import-job",
    import_status=ImportStatus.FAILED,
    custom_model_units=2,
    serving_kind=ServingKind.PROVISIONED_THROUGHPUT,
    serving_arn="arn:pt",
    serving_status=ServingStatus.IN_SERVICE,
    chatted_with="arn:pt",
    endpoint_name="bt-endpoint",
    endpoint_source="training-job:bt-job",
    endpoint_instance_type="ml.g5.2xlarge",
    evaluation=EvaluationChoices(
        records=7,
        compare_base=False,
        sql=True,
        judge_model="us.amazon.nova-pro-v1:0",
        rubric="preset:text-to-sql",
        pairwise=False,
        batch="on",
        batch_threshold=10,
        seed=5,
    ),
    recipe_digest="0123456789abcdef",
)


def test_every_field_round_trips_through_json_with_its_type() -> None:
    assert all(getattr(FULL, f.name) != f.default for f in fields(Run) if f.name != "route")
    data = json.loads(json.dumps(FULL.to_dict()))
    assert data["job_status"] == "Completed" and data["serving_kind"] == "provisioned-throughput"
    assert data["subnet_ids"] == ["subnet-1", "subnet-2"]
    back = Run.from_dict(data)
    assert back == FULL
    assert type(back.job_status) is JobStatus and type(back.serving_status) is ServingStatus
    assert type(back.customization_type) is CustomizationType and type(back.route) is Route
    assert type(back.import_status) is ImportStatus
    assert back.subnet_ids == ("subnet-1", "subnet-2")
    assert type(back.evaluation) is EvaluationChoices and back.evaluation.batch == "on"


def test_unknown_keys_are_ignored_and_missing_ones_take_defaults() -> None:
    run = Run.from_dict({"region": "us-east-1", "from_a_newer_version": 1})
    assert run == Run(region="us-east-1")


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("job_status", "Sleeping", "not one of: InProgress"),
        ("route", "teleport", "not one of: bedrock-customization"),
        ("target", "mars", "not one of: aws, sandbox"),
        ("train_size", "100", "not an integer"),
        ("train_size", True, "not an integer"),
        ("dedupe", "yes", "not true or false"),
        ("hyperparameters", {"epochCount": 2}, "not an object of strings"),
        ("subnet_ids", "subnet-1", "not a list of strings"),
        ("region", 5, "not a string"),
        ("customization_type", None, "has no value"),
    ],
)
def test_wrong_types_are_refused_with_the_field_named(key: str, value: object, said: str) -> None:
    with pytest.raises(RunDataError) as caught:
        Run.from_dict({key: value})
    assert key in caught.value.message and said in caught.value.message


def test_the_status_of_a_run() -> None:
    assert run_status(Run()) is RunStatus.NEW
    launching = Run(job_name="j", client_request_token="t")
    assert run_status(launching) is RunStatus.LAUNCHING
    running = replace(launching, job_arn="arn:j")
    assert run_status(running) is RunStatus.TRAINING
    assert run_status(replace(running, job_status=JobStatus.STOPPING)) is RunStatus.STOPPING
    trained = replace(running, job_status=JobStatus.COMPLETED)
    assert run_status(trained) is RunStatus.TRAINED
    assert run_status(replace(running, job_status=JobStatus.FAILED)) is RunStatus.FAILED
    assert run_status(replace(running, job_status=JobStatus.STOPPED)) is RunStatus.STOPPED
    deploying = replace(trained, serving_arn="arn:pt")
    assert run_status(deploying) is RunStatus.DEPLOYING
    assert run_status(replace(deploying, serving_status=ServingStatus.ACTIVE)) is RunStatus.SERVING
    failed = replace(deploying, serving_status=ServingStatus.FAILED)
    assert run_status(failed) is RunStatus.FAILED


# ---------------------------------------------------------------------- the route table

DESIGN = SHARED / "DESIGN.md"


def _design_routes() -> dict[str, list[str]]:
    """The route table of DESIGN.md section 1 ("### Routes"), as route -> step ids."""
    text = DESIGN.read_text()
    section = text[text.index("### Routes") :]
    section = section[: section.index("\n## ")]
    table: dict[str, list[str]] = {}
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        names, _, _, steps = (c.strip() for c in line.strip().strip("|").split("|"))
        ids = [s.strip().replace(" ", "-") for s in steps.split(",")]
        for name in names.replace("`", "").split(","):
            table[name.strip()] = ids
    return table


@pytest.mark.skipif(not DESIGN.is_file(), reason="needs ../shared/DESIGN.md beside the checkout")
def test_each_route_has_the_steps_of_the_design_in_its_order() -> None:
    design = _design_routes()
    assert set(design) == {r.value for r in Route}
    for route in Route:
        assert list(ROUTE_STEPS[route]) == design[route.value], route


def test_every_step_of_every_route_is_defined_and_the_bedrock_route_is_the_one_built() -> None:
    assert {s for ids in ROUTE_STEPS.values() for s in ids} == set(STEPS)
    bedrock = set(ROUTE_STEPS[Route.BEDROCK_CUSTOMIZATION])
    assert routes_offered(bedrock) == (Route.BEDROCK_CUSTOMIZATION,)
    assert routes_offered(bedrock - {"deploy"}) == ()
    everything = set(STEPS)
    assert routes_offered(everything) == tuple(Route)
    assert Route.SAGEMAKER_IMPORT not in routes_offered(bedrock | {"train", "import"})


def test_next_step_follows_the_run_s_route() -> None:
    following = next_step(Route.BEDROCK_CUSTOMIZATION, "infrastructure")
    assert following is not None and following.id == "launch"
    following = next_step(Route.SAGEMAKER_IMPORT, "infrastructure")
    assert following is not None and following.id == "train"
    following = next_step(Route.IMPORT_ONLY, "credentials")
    assert following is not None and following.id == "model-source"
    assert next_step(Route.BEDROCK_CUSTOMIZATION, "teardown") is None
    assert next_step(Route.BEDROCK_CUSTOMIZATION, "import") is None  # not on this route


def test_steps_are_possible_and_done_from_the_run_alone() -> None:
    blank = Run()
    assert [s.id for s in steps_of(Route.BEDROCK_CUSTOMIZATION) if s.blocked(blank) is None] == [
        "credentials"
    ]
    checked = Run(account_id="1", region="us-east-1")
    watch, deploy, chat = STEPS["watch"], STEPS["deploy"], STEPS["chat"]
    assert STEPS["model"].blocked(checked) is None
    assert STEPS["dataset"].blocked(checked) == "choose a base model first"
    assert not watch.done(replace(checked, job_status=JobStatus.IN_PROGRESS))
    assert watch.done(replace(checked, job_status=JobStatus.COMPLETED))
    assert deploy.blocked(checked) == "a completed customization job first"
    served = replace(checked, custom_model_arn="arn:m", serving_status=ServingStatus.IN_SERVICE)
    assert deploy.done(served) and chat.blocked(served) is None
    assert chat.blocked(replace(served, serving_status=ServingStatus.CREATING)) is not None
    # An imported model is called on demand: no deployment needed on the import routes.
    imported = replace(checked, route=Route.IMPORT_ONLY, custom_model_arn="arn:imported")
    assert servable(imported) and chat.blocked(imported) is None
    assert not servable(replace(imported, route=Route.BEDROCK_CUSTOMIZATION))
    assert STEPS["infrastructure"].blocked(replace(checked, route=Route.IMPORT_ONLY)) == (
        "choose the model to import first"
    )


def test_the_chat_is_done_once_the_model_served_now_has_answered() -> None:
    chat = STEPS["chat"]
    served = Run(
        account_id="1",
        region="us-east-1",
        custom_model_arn="arn:model",
        serving_arn="arn:deployment",
        serving_status=ServingStatus.ACTIVE,
    )
    assert not chat.done(served)
    assert chat.done(replace(served, chatted_with="arn:deployment"))
    # Deployed again since: the new deployment has not answered yet.
    assert not chat.done(replace(served, chatted_with="arn:old-deployment"))
    # An imported model answers by its own ARN.
    imported = replace(served, route=Route.IMPORT_ONLY, serving_arn=None)
    assert chat.done(replace(imported, chatted_with="arn:model"))


def test_a_reattached_run_lands_on_the_step_that_follows_what_is_still_going() -> None:
    running = Run(job_name="j", client_request_token="t", job_arn="arn:j")
    assert landing_step(running) == "watch"
    assert landing_step(replace(running, route=Route.SAGEMAKER_AUTOPILOT)) == "watch"
    never_created = replace(running, job_arn=None)
    assert landing_step(never_created) == "launch"
    assert landing_step(replace(never_created, route=Route.SAGEMAKER_IMPORT)) == "train"
    deploying = replace(running, job_status=JobStatus.COMPLETED, serving_arn="arn:pt")
    assert landing_step(deploying) == "deploy"
    assert landing_step(replace(deploying, route=Route.SAGEMAKER_JUMPSTART)) == "endpoint"


# ---------------------------------------------------------------------- saving in order


class SlowRegistry(Registry):
    """A registry whose write of a chosen version waits until the test lets it through."""

    def __init__(self, directory: Path, slow: str) -> None:
        super().__init__(directory)
        self.slow = slow
        self.entered = threading.Event()
        self.gate = threading.Event()

    def save_run(self, run_id: str, run: Run) -> RunRecord:
        if run.job_name == self.slow:
            self.entered.set()
            assert self.gate.wait(5)
        return super().save_run(run_id, run)


def test_an_earlier_version_written_late_is_skipped(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    saver = RunSaver(lambda: registry)
    first = Run(run_id="r", job_name="first")
    second = replace(first, job_name="second")
    tickets = saver.submit(first), saver.submit(second)
    assert saver.write(tickets[1], second)  # the later thread happened to run first
    assert not saver.write(tickets[0], first)  # the earlier one, late, is skipped
    saved = registry.get_run("r")
    assert saved is not None and saved.run.job_name == "second"


def test_a_later_version_waits_for_a_slow_earlier_write_and_wins(tmp_path: Path) -> None:
    registry = SlowRegistry(tmp_path, slow="first")
    saver = RunSaver(lambda: registry)
    first = Run(run_id="r", job_name="first")
    second = replace(first, job_name="second")
    tickets = saver.submit(first), saver.submit(second)
    slow = threading.Thread(target=saver.write, args=(tickets[0], first))
    slow.start()
    assert registry.entered.wait(5)  # the earlier write is inside the registry...
    later = threading.Thread(target=saver.write, args=(tickets[1], second))
    later.start()  # ...the later one queues behind it
    registry.gate.set()
    slow.join(5)
    later.join(5)
    saved = registry.get_run("r")
    assert saved is not None and saved.run.job_name == "second"


def test_flush_writes_the_newest_version_now(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    saver = RunSaver(lambda: registry)
    saver.submit(Run(run_id="r", job_name="a"))
    saver.submit(Run(run_id="r", job_name="b", client_request_token="tok"))
    saver.flush()
    saved = registry.get_run("r")
    assert saved is not None and saved.run.client_request_token == "tok"
    assert not saver.write(1, Run(run_id="r", job_name="a"))  # the queued older one is stale


def test_a_run_that_only_knows_where_it_works_has_no_choices() -> None:
    place = Run(run_id="r", target="aws", profile="p", region="us-east-1", account_id="1")
    assert not has_choices(place)
    assert has_choices(replace(place, base_model_id="m"))
    assert has_choices(replace(place, hyperparameters={"epochCount": "2"}))
