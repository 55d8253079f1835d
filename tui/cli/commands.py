"""The CLI's subcommands: one module each, listed in `COMMANDS` in help order.

A command module exposes `register(subparsers)`, which adds its parser and sets
`handler=run` with `parser.set_defaults`, and `run(args) -> int` (the exit code: 0 success,
1 the thing checked is bad, 2 usage or environment error). Shared helpers live in `common.py`.
"""

COMMANDS: tuple[str, ...] = (
    "new",
    "whoami",
    "models",
    "prices",
    "advise",
    "sandbox",
    "preview",
    "prepare",
    "validate",
    "infra",
    "upload",
    "jobs",
    "import",
    "sagemaker",
    "autopilot",
    "jumpstart",
    "deploy",
    "endpoint",
    "chat",
    "evaluate",
    "compare",
    "teardown",
    "runs",
    "recipe",
    "export",
    "replay",
)

MODULES: dict[str, str] = {"import": "imports"}
"""The module of a command whose name is not a valid module name (`import` is a keyword)."""
