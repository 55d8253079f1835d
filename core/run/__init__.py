"""The run: the one object that flows through a route's steps, and what is decided from it.

`core.run` itself exports only the plain data (`Run`, `Route`, `Target`) and imports nothing heavy,
because the App imports it before its first frame. The modules beside it decide things from a
run: `status` (where a run stands), `routes` (the steps of each route), `changes` (what a
change of place or model resets), `saver` (runs written to the registry in order from any thread).

The package sits low in core: it imports only the catalog and the API statuses, so the registry
and every service can carry a run. What acts on runs sits above them: `core.jobs.launching` (a
job launched once, whatever crashes) and `core.resume` (what to re-attach after a restart).
"""

from core.run.types import EvaluationChoices, Route, Run, RunDataError, Target

__all__ = ["EvaluationChoices", "Route", "Run", "RunDataError", "Target"]
