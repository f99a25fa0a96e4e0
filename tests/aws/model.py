"""AWS's own API models as the judge of every request and answer a fake makes up.

botocore ships the service models real clients are generated from. A fake that accepts a
parameter AWS would reject, or answers with a field AWS never sends, fails here, not in
production.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore import xform_name
from botocore.exceptions import ParamValidationError
from botocore.model import OperationModel, Shape
from botocore.validate import ParamValidator


@functools.cache
def _operations(service: str) -> dict[str, OperationModel]:
    model = botocore.session.get_session().get_service_model(service)
    return {xform_name(name): model.operation_model(name) for name in model.operation_names}


def operation(service: str, method: str) -> OperationModel:
    """The model of ``client.<method>`` (``get_deployment`` → ``GetDeployment``)."""
    operations = _operations(service)
    if method not in operations:
        raise AssertionError(f"{service} has no operation {method}")
    return operations[method]


def validate_request(service: str, method: str, params: dict[str, Any]) -> None:
    """Raise botocore's own :class:`ParamValidationError` for a request AWS would reject."""
    shape = operation(service, method).input_shape
    report = ParamValidator().validate(params, shape) if shape is not None else None
    if report is not None and report.has_errors():
        raise ParamValidationError(report=report.generate_report())
    if shape is not None:
        # botocore leaves enum values to the service; AWS rejects an unknown one.
        try:
            _check(shape, params, f"{service}.{method}")
        except AssertionError as err:
            raise ParamValidationError(report=str(err)) from err


def check_response(service: str, method: str, response: dict[str, Any]) -> None:
    """Every field of a made-up answer exists in the operation's output shape."""
    shape = operation(service, method).output_shape
    if shape is not None:
        _check(shape, response, f"{service}.{method}")


def _check(shape: Shape, value: Any, path: str) -> None:
    if shape.type_name == "structure":
        if not isinstance(value, dict):
            raise AssertionError(f"{path}: expected a structure, got {type(value).__name__}")
        members = shape.members  # type: ignore[attr-defined]
        for key, item in value.items():
            if key not in members:
                raise AssertionError(f"{path}.{key}: AWS never sends this field")
            _check(members[key], item, f"{path}.{key}")
    elif shape.type_name == "list":
        if not isinstance(value, list):
            raise AssertionError(f"{path}: expected a list")
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}[{index}]")  # type: ignore[attr-defined]
    elif shape.type_name == "string" and shape.enum and value not in shape.enum:
        raise AssertionError(f"{path}: {value!r} is not one of {shape.enum}")
