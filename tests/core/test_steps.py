"""The step table: when a step counts as done."""

from __future__ import annotations

from dataclasses import replace

from core.run import Run
from core.run.routes import step


def test_validate_is_done_only_for_the_folder_that_was_validated() -> None:
    done = step("validate").done
    passed = Run(prepared_dir="/runs/a", validated_ok=True, validated_dir="/runs/a")
    assert done(passed)
    # Preparing again (a new folder) makes the old verdict stale.
    assert not done(replace(passed, prepared_dir="/runs/b"))
    # A verdict that names no folder is about nothing this run prepared.
    assert not done(replace(passed, validated_dir=None))
    assert not done(replace(passed, validated_ok=False))
    assert not done(replace(passed, validated_ok=None))


def test_chat_and_evaluate_wait_for_what_the_route_serves() -> None:
    from core.run import Route

    place = Run(target="sandbox", region="us-east-1", account_id="123456789012")
    for name in ("chat", "evaluate"):
        blocked = step(name).blocked
        assert blocked(place) == "deploy the model first"
        for route in (Route.IMPORT_ONLY, Route.SAGEMAKER_IMPORT):
            # No deploy step on these routes: the imported model serves as soon as it exists.
            assert blocked(replace(place, route=route)) == "import the model first"
            imported = replace(place, route=route, custom_model_arn="arn:imported-model/x")
            assert blocked(imported) is None
