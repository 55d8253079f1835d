"""Small text helpers the export formats share: comments wrapped to width, the header lines."""

from __future__ import annotations

import textwrap

from core.export.types import ExportPlan, Param
from core.version import __version__

WIDTH = 96


def comment(text: str, prefix: str = "# ", indent: str = "", hanging: str = "") -> list[str]:
    """`text` as comment lines of at most WIDTH characters (lines after the first indented by
    `hanging` more)."""
    return textwrap.wrap(
        text,
        WIDTH - len(indent),
        initial_indent=indent + prefix,
        subsequent_indent=indent + prefix + hanging,
        break_on_hyphens=False,
    )


def about(plan: ExportPlan, source: str) -> list[str]:
    """What the file is, in a few sentences (each format comments it its own way)."""
    return [
        f"{plan.title}: exported by bedrock-tune {__version__} from {source}.",
        "It does what the run did: a bucket with bedrock-tune's safety settings, the prepared "
        "files uploaded, the service role and its policy, and the customization job with the "
        "run's base model and hyperparameters"
        + (", then (when asked) serving the model as the run did." if plan.serving else "."),
        "Nothing in it is secret or belongs to one account: the account id is asked of STS when "
        "it runs, and names and client request tokens are fresh each run, so running it twice "
        "makes a second job instead of re-attaching to the first.",
    ]


def settable(plan: ExportPlan) -> list[Param]:
    """The parameters a person may set."""
    return [p for p in plan.params if p.settable]


def default_text(param: Param) -> str:
    """How a parameter's default is described in help."""
    if param.source == "flag":
        return "off"
    if param.random_bytes:
        return f"{param.random_bytes * 2} fresh random hex digits"
    if param.default is None:
        return "none: required"
    return param.default
