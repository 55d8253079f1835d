"""Check a request against botocore's model of the API, as AWS would before acting on it."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import botocore.session
from botocore.model import ListShape, OperationModel, ServiceModel, Shape, StructureShape
from botocore.validate import validate_parameters


@cache
def service_model(service: str) -> ServiceModel:
    """botocore's model of one service, read once per process: every `get_session()` is a new
    session with a new loader, and a service's JSON (SageMaker's is 3 MB) takes ~50 ms to parse."""
    return botocore.session.get_session().get_service_model(service)


def operation(service: str, name: str) -> OperationModel:
    """botocore's model of one operation (no client, no credentials, no network)."""
    return service_model(service).operation_model(name)


def pattern_problems(value: Any, shape: Shape, path: str = "") -> list[str]:
    """Values that break a string `pattern` of the model (botocore's validator does not check
    patterns; the service does)."""
    problems: list[str] = []
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        for key, item in value.items():
            if key in shape.members:
                problems += pattern_problems(item, shape.members[key], f"{path}.{key}")
    elif isinstance(shape, ListShape) and isinstance(value, list):
        for index, item in enumerate(value):
            problems += pattern_problems(item, shape.member, f"{path}[{index}]")
    elif shape.type_name == "string" and isinstance(value, str):
        pattern = shape.metadata.get("pattern")
        if pattern and "\\p{" in pattern:
            # Java's Unicode classes (SageMaker's tags): \p{L} letters, \p{Z} separators, \p{N}
            # digits; Python's re has none of them, so check with their nearest equivalents.
            pattern = pattern.replace("\\p{L}\\p{Z}\\p{N}", "\\w\\s")
        if pattern and not re.fullmatch(pattern, value):
            problems.append(f"{path}: {value!r} does not match {pattern}")
    return problems


def assert_valid(service: str, name: str, params: dict[str, Any]) -> None:
    """Raise when `params` is not a valid request of `service.name`: types, required members,
    lengths, ranges, unions (botocore's validator) and string patterns."""
    shape = operation(service, name).input_shape
    assert shape is not None
    validate_parameters(params, shape)  # raises ParamValidationError
    problems = pattern_problems(params, shape)
    assert not problems, problems
