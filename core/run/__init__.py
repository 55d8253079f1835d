"""The run: the one object that flows through a route's steps, and what is decided from it.

`core.run` itself exports only the plain data (`Run`, `Route`, `Target`) and imports nothing heavy,
because the App imports it before its first frame. The modules beside it decide things from a
run: `status` (where a run stands), `routes` (the steps of each route), `resume` (what to
re-attach after a restart), `launching` (a job launched once, whatever crashes), `saver` (runs
written to the registry in order from any thread).
"""

from core.run.types import Route, Run, RunDataError, Target

__all__ = ["Route", "Run", "RunDataError", "Target"]
