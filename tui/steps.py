"""Which screen shows each step. What the steps are, their order per route, and when each is done
or possible is core's table (`core.run.routes`); this module only maps step ids to screens.

A route may show its own screen for a shared step (`ROUTE_SCREEN_CLASSES`: Autopilot's launch is
not Bedrock's); the App picks it by the run's route when the step's screen is made.

A step without a screen here is not built yet: a route with such a step is not offered to users
(`core.run.routes.routes_offered`). Screens are imported when first shown, so the first frame does
not wait for the modules of the other steps.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import cast

from textual.screen import Screen

ScreenFactory = Callable[[], Screen[None]]

SCREEN_CLASSES: Mapping[str, str] = {
    "credentials": "screens.credentials:CredentialsScreen",
    "model": "screens.model:ModelScreen",
    "model-source": "screens.model_source:ModelSourceScreen",
    "import-check": "screens.import_check:ImportCheckScreen",
    "import": "screens.import_model:ImportScreen",
    "dataset": "screens.dataset:DatasetScreen",
    "template": "screens.template:TemplateScreen",
    "prepare": "screens.prepare:PrepareScreen",
    "validate": "screens.validate:ValidateScreen",
    "infrastructure": "screens.infrastructure:InfrastructureScreen",
    "launch": "screens.launch:LaunchScreen",
    "train": "screens.train:TrainScreen",
    "watch": "screens.watch:WatchScreen",
    "deploy": "screens.deploy:DeployScreen",
    "endpoint": "screens.endpoint:EndpointScreen",
    "chat": "screens.chat:ChatScreen",
    "evaluate": "screens.evaluate:EvaluateScreen",
    "teardown": "screens.teardown:TeardownScreen",
}
"""Step id -> `module:Class` of its screen, for every step that is built."""

ROUTE_SCREEN_CLASSES: Mapping[tuple[str, str], str] = {
    ("launch", "sagemaker-autopilot"): "screens.autopilot:AutopilotLaunchScreen",
    ("watch", "sagemaker-autopilot"): "screens.autopilot_watch:AutopilotWatchScreen",
    ("launch", "sagemaker-jumpstart"): "screens.jumpstart:JumpStartLaunchScreen",
    ("watch", "sagemaker-jumpstart"): "screens.training_watch:TrainingWatchScreen",
    ("watch", "sagemaker-import"): "screens.training_watch:TrainingWatchScreen",
}
"""(step id, route) -> `module:Class` of the route's own screen for a step every route shares."""


def lazy_screen(path: str) -> ScreenFactory:
    """A factory that imports `module:Class` on first use and makes the screen."""
    module_name, _, class_name = path.partition(":")

    def make() -> Screen[None]:
        screen_class = getattr(importlib.import_module(module_name), class_name)
        return cast(Screen[None], screen_class())

    return make


SCREENS: Mapping[str, ScreenFactory] = {
    step_id: lazy_screen(path) for step_id, path in SCREEN_CLASSES.items()
}
"""Step id -> screen factory: the App's default."""

ROUTE_SCREENS: Mapping[tuple[str, str], ScreenFactory] = {
    key: lazy_screen(path) for key, path in ROUTE_SCREEN_CLASSES.items()
}
"""(step id, route) -> screen factory of a route's own screen: the App's default."""
