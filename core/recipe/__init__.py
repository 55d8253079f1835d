"""Recipes: a run's choices as a readable, commented TOML file that can travel.

A recipe holds what to do (route, model, data source, template, sizes, seed, infrastructure
names, hyperparameters, training settings, serving, evaluation) and nothing that belongs to one
machine or account: no credentials, profile, endpoint, prepared folders, job names, client
tokens or ARNs. The account id and region inside names become the parameters `{account_id}`
and `{region}`; the role is kept by name (its ARN is derived in the account that replays the
recipe). A local dataset or model beside the recipe (in its folder or below) is written
relative to it, so the recipe and its data travel together; one elsewhere keeps its path (the
replay says when it is not there).

The [evaluation] section is the Evaluate step's choices (`Run.evaluation`); its judge must be a
catalog base model and its rubric a preset, `template`, or a [rubric] table written as TOML.

`SCHEMA` describes every key once: writing (`recipe_text`), checking (`parse_recipe`: errors name
the line, a misspelt key gets the nearest right one) and filling a run (`Recipe.run_for`) all read
it.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from core.atomic import atomic_write_text
from core.recipe.schema import (
    _ARN_ACCOUNT,
    _TABLE_FIELDS,
    _lookup,
    _store,
)
from core.recipe.schema import (
    ACCOUNT as ACCOUNT,
)
from core.recipe.schema import (
    NESTED as NESTED,
)
from core.recipe.schema import (
    RECIPE_VERSION as RECIPE_VERSION,
)
from core.recipe.schema import (
    REGION as REGION,
)
from core.recipe.schema import (
    SCHEMA as SCHEMA,
)
from core.recipe.schema import (
    TABLES as TABLES,
)
from core.recipe.schema import (
    Key as Key,
)
from core.recipe.schema import (
    Recipe as Recipe,
)
from core.recipe.schema import (
    RecipeError as RecipeError,
)
from core.run.types import Route, Run, RunDataError

# --------------------------------------------------------------------------- writing


def _portable(text: str, account_id: str | None, region: str | None) -> str:
    """`text` with the account id (and, in names, the region) made parameters."""
    if account_id:
        text = text.replace(account_id, ACCOUNT)
    if region:
        text = text.replace(region, REGION)
    return text


def _relative_to(location: str, folder: Path) -> str:
    """`location` relative to `folder` when it is a local path in it (or below), else as is."""
    if location.startswith(("s3://", "hf:")) or not Path(location).is_absolute():
        return location
    try:
        return Path(location).resolve().relative_to(folder.resolve()).as_posix()
    except ValueError:  # elsewhere on this machine: the path is kept
        return location


def recipe_from_run(run: Run, folder: Path | None = None) -> Recipe:
    """The portable part of `run` (see the module docstring for what is left out); a local
    dataset or model inside `folder` (where the recipe is written) is kept relative to it."""
    data = run.to_dict()
    if folder is not None:
        for name in ("source_location", "model_source"):
            if data.get(name):
                data[name] = _relative_to(data[name], folder)
    if run.route is Route.SAGEMAKER_IMPORT:
        # The model this route imports is the one it trains: where an earlier training wrote
        # it is that run's outcome, not a choice.
        data["model_source"] = None
    choices: dict[str, Any] = {}
    for keys in SCHEMA.values():
        for key in keys:
            if key.field and key.field != "route" and _lookup(data, key.field) is not None:
                value = _lookup(data, key.field)
                if key.field in ("bucket", "s3_prefix", "model_source", "source_location"):
                    value = _portable(
                        value, run.account_id, run.region if key.field == "bucket" else None
                    )
                _store(choices, key.field, value)
    for name in _TABLE_FIELDS.values():
        if data.get(name):
            choices[name] = {
                k: _portable(str(v), run.account_id, None) for k, v in data[name].items()
            }
    role_name = run.role_arn.rsplit("/", 1)[-1] if run.role_arn else None
    return Recipe(
        route=run.route,
        choices=choices,
        role_name=role_name,
        uses_kms_key=bool(run.kms_key_id),
        uses_vpc=bool(run.subnet_ids or run.security_group_ids),
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, str) and "\n" in value and "'''" not in value:
        # A template reads best as itself: a literal multi-line string keeps it verbatim.
        return "'''\n" + value + ("" if value.endswith("\n") else "\n") + "'''"
    return tomli_w.dumps({"v": value}).split("=", 1)[1].strip()


def _key_value(recipe: Recipe, key: Key) -> Any:
    if key.name == "version":
        return RECIPE_VERSION
    if key.name == "route":
        return recipe.route.value
    if key.name == "role_name":
        return recipe.role_name
    if key.name in ("uses_kms_key", "uses_vpc"):
        return getattr(recipe, key.name) or None
    return _lookup(recipe.choices, key.field) if key.field else None


def recipe_text(recipe: Recipe, *, title: str = "") -> str:
    """The recipe as commented TOML (`parse_recipe` reads it back to the same `Recipe`)."""
    lines = [
        "# bedrock-tune recipe" + (f": {title}" if title else ""),
        "# Check it with `bedrock-tune recipe check FILE`. {account_id} and {region} stand for the",
        "# account and region that use it; no credentials, ARNs or prepared folders are kept here.",
        "# A relative dataset path is read from this file's folder.",
    ]
    for section, keys in SCHEMA.items():
        if section in TABLES:
            table = recipe.choices.get(_TABLE_FIELDS[section]) or {}
            if table:
                lines += ["", f"[{section}]"]
                lines += [f"{tomli_w.dumps({k: v}).strip()}" for k, v in sorted(table.items())]
            continue
        body = []
        for key in keys:
            value = _key_value(recipe, key)
            if value is not None:
                body += [f"# {key.comment}", f"{key.name} = {_toml_value(value)}"]
        if body:
            lines += [""] + ([f"[{section}]"] if section else []) + body
    return "\n".join(lines) + "\n"


def save_recipe(run: Run, path: Path, *, title: str = "") -> Recipe:
    """Write `run`'s recipe to `path` (atomically) and return it."""
    recipe = recipe_from_run(run, path.expanduser().absolute().parent)
    atomic_write_text(path, recipe_text(recipe, title=title))
    return recipe


# --------------------------------------------------------------------------- reading


def _line_of(text: str, section: str, key: str | None) -> int | None:
    """The line (1-based) of `key` in `[section]` (or of the section header when key is None)."""
    current = ""
    quote: str | None = None  # inside a multi-line string (a template, a rubric): no keys there
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if quote is not None:
            if stripped.count(quote) % 2:
                quote = None
            continue
        opened = next((q for q in ("'''", '"""') if line.count(q) % 2), None)
        if opened is not None:
            quote = opened
        header = re.fullmatch(r"\[\s*([^\]]+?)\s*\]\s*(#.*)?", stripped)
        if header:
            current = header.group(1)
            if key is None and current == section:
                return number
            continue
        if (
            key is not None
            and current == section
            and re.match(rf"[\"']?{re.escape(key)}[\"']?\s*=", stripped)
        ):
            return number
    return None


def _error(
    where: str, text: str, section: str, key: str | None, message: str, hint: str
) -> RecipeError:
    line = _line_of(text, section, key)
    at = f"{where}, line {line}" if line else where
    return RecipeError(f"{at}: {message}", hint=hint)


def _suggest(wrong: str, right: list[str]) -> str:
    close = difflib.get_close_matches(wrong, right, n=1, cutoff=0.6)
    if close:
        return f"Did you mean `{close[0]}`?"
    return "Known here: " + ", ".join(right) + "."


def parse_recipe(text: str, where: str = "recipe") -> Recipe:
    """Check a recipe's TOML text and return it.

    Raises:
        RecipeError: bad TOML (with its line), an unknown or misspelt key (with the nearest
            right one), a wrong type or choice, a missing or newer version; always with the line.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise RecipeError(
            f"{where}: not valid TOML: {error}", hint="Fix the TOML at that line and column."
        ) from None
    version = data.get("version")
    if version is None:
        raise RecipeError(
            f"{where}: no `version`.", hint=f"Add `version = {RECIPE_VERSION}` at the top."
        )
    if not isinstance(version, int) or isinstance(version, bool) or version != RECIPE_VERSION:
        newer = isinstance(version, int) and version > RECIPE_VERSION
        raise _error(
            where,
            text,
            "",
            "version",
            f"version {version!r} is not one this bedrock-tune reads (it reads {RECIPE_VERSION}).",
            "Upgrade bedrock-tune, or save the recipe again."
            if newer
            else f"Write `version = {RECIPE_VERSION}` (the only recipe version there is).",
        )
    choices: dict[str, Any] = {}
    extra: dict[str, Any] = {}
    sections = [s for s in SCHEMA if s]
    for name, value in data.items():
        if isinstance(value, dict):
            if name not in SCHEMA:
                raise _error(
                    where, text, name, None, f"unknown section [{name}].", _suggest(name, sections)
                )
            _read_section(where, text, name, value, choices, extra)
        else:
            _read_key(where, text, "", name, value, choices, extra)
    route = Route(data.get("route", Route.BEDROCK_CUSTOMIZATION.value))
    recipe = Recipe(
        route=route,
        choices=choices,
        role_name=extra.get("role_name"),
        uses_kms_key=bool(extra.get("uses_kms_key")),
        uses_vpc=bool(extra.get("uses_vpc")),
    )
    try:
        recipe.run_for("000000000000")
    except RunDataError as error:  # a combination the run itself refuses
        raise RecipeError(f"{where}: {error}", hint="Save the recipe again from a run.") from None
    _check_evaluation(where, text, recipe)
    return recipe


def _check_evaluation(where: str, text: str, recipe: Recipe) -> None:
    """The [evaluation] values the catalog and the rubrics must accept: a judge that is a
    catalog base model, a rubric that can be read (and only with a judge)."""
    from core.errors import NotFoundError, ValidationError
    from core.evaluation.choices import resolve_rubric
    from core.evaluation.judge import resolve_judge

    table = recipe.choices.get("evaluation")
    if not isinstance(table, Mapping):
        return
    judge, rubric = table.get("judge_model"), table.get("rubric")
    if judge is not None:
        try:
            resolve_judge(judge)
        except NotFoundError as error:
            raise _error(
                where,
                text,
                "evaluation",
                "judge_model",
                f"[evaluation] judge_model = {judge!r} is not a base model of the catalog.",
                "Name one as `bedrock-tune models` lists it (e.g. 'Nova Pro'). " + error.hint,
            ) from None
    if rubric is not None and judge is None:
        raise _error(
            where,
            text,
            "evaluation",
            "rubric",
            "[evaluation] rubric is set but there is no judge_model to grade by it.",
            "Add judge_model, or remove rubric.",
        )
    if judge is not None:
        try:
            resolve_rubric(rubric, recipe.choices.get("template_toml"), "[evaluation] rubric")
        except ValidationError as error:
            raise _error(
                where, text, "evaluation", "rubric", error.message, error.hint or ""
            ) from None


def _read_section(
    where: str,
    text: str,
    section: str,
    table: dict[str, Any],
    choices: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    if section in TABLES:
        for key, value in table.items():
            if not isinstance(value, (str, int, float, bool)):
                raise _error(
                    where,
                    text,
                    section,
                    key,
                    f"[{section}] {key} must be a plain value.",
                    'Write it as `key = "value"`.',
                )
        choices[_TABLE_FIELDS[section]] = {k: str(v) for k, v in table.items()}
        return
    if section in NESTED:
        choices.setdefault(section, {})  # an empty table still asks for it (with defaults)
    for key, value in table.items():
        _read_key(where, text, section, key, value, choices, extra)


def _read_key(
    where: str,
    text: str,
    section: str,
    name: str,
    value: Any,
    choices: dict[str, Any],
    extra: dict[str, Any],
) -> None:
    keys = {key.name: key for key in SCHEMA[section]}
    label = f"[{section}] {name}" if section else name
    if name not in keys:
        place = f"[{section}]" if section else "the top level"
        raise _error(
            where,
            text,
            section,
            name,
            f"unknown key `{name}` in {place}.",
            _suggest(name, list(keys)),
        )
    key = keys[name]
    if not isinstance(value, key.kind) or (key.kind is int and isinstance(value, bool)):
        raise _error(
            where,
            text,
            section,
            name,
            f"{label} must be {key.kind.__name__}, not {type(value).__name__} ({value!r}).",
            f"{key.comment}.",
        )
    if key.choices and value not in key.choices:
        raise _error(
            where,
            text,
            section,
            name,
            f"{label} = {value!r} is not one of {', '.join(key.choices)}.",
            _suggest(str(value), list(key.choices)),
        )
    if isinstance(value, int) and not isinstance(value, bool) and value < key.minimum:
        least = "negative" if key.minimum == 0 else f"less than {key.minimum}"
        raise _error(where, text, section, name, f"{label} cannot be {least}.", f"{key.comment}.")
    if _ARN_ACCOUNT.search(str(value)):
        raise _error(
            where,
            text,
            section,
            name,
            f"{label} holds an ARN with an account id.",
            "Use {account_id} in its place, or a name: recipes travel between accounts.",
        )
    if key.field and key.field != "route":
        _store(choices, key.field, value)
    elif not key.field:
        extra[name] = value


@dataclass(frozen=True)
class RecipeFile:
    """A checked recipe with the text it was read from, so that a later check (a model no
    longer in the catalog, a dataset that is not there) can name the recipe's line too."""

    where: str
    """How the recipe is named in errors (its path)."""
    text: str
    recipe: Recipe

    @property
    def folder(self) -> Path:
        """The folder the recipe was read from."""
        return Path(self.where).expanduser().resolve().parent

    def error(self, section: str, key: str | None, message: str, hint: str) -> RecipeError:
        """A RecipeError about `key` of `[section]` ("" for the top level), with its line."""
        return _error(self.where, self.text, section, key, message, hint)

    def field_error(self, field: str, message: str, hint: str) -> RecipeError:
        """A RecipeError about the key that fills the run's `field`, with its line."""
        for section, keys in SCHEMA.items():
            for key in keys:
                if key.field == field:
                    return self.error(section, key.name, message, hint)
        table = next((s for s, f in _TABLE_FIELDS.items() if f == field), None)
        if table is not None:
            return self.error(table, None, message, hint)
        return RecipeError(f"{self.where}: {message}", hint=hint)


def read_recipe(path: Path) -> RecipeFile:
    """Read and check the recipe at `path`, keeping its text for errors about its lines.

    Raises:
        RecipeError: the file cannot be read, or `parse_recipe` refuses it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise RecipeError(
            f"Cannot read the recipe {path}: {error}", hint="Check the path."
        ) from None
    return RecipeFile(str(path), text, parse_recipe(text, str(path)))


def load_recipe(path: Path) -> Recipe:
    """Read and check the recipe at `path`.

    Raises:
        RecipeError: the file cannot be read, or `parse_recipe` refuses it.
    """
    return read_recipe(path).recipe


def recipe_digest(recipe: Recipe) -> str:
    """A short digest of what `recipe` asks for (its comments and layout aside): a run that
    replays it carries the digest, and a rerun of the same recipe finds that run again.

    The [evaluation] section is left out: changing how the model is evaluated evaluates the
    same run's model again, it does not train a new one."""
    data = {
        "route": recipe.route.value,
        "choices": {k: v for k, v in recipe.choices.items() if k != "evaluation"},
        "role_name": recipe.role_name,
        "uses_kms_key": recipe.uses_kms_key,
        "uses_vpc": recipe.uses_vpc,
    }
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
