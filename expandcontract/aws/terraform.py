"""Reading ``terraform output -json`` files, so CI needs no hand-copied ARNs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from expandcontract.aws.errors import AwsConfigurationError


def read_outputs(path: str | Path) -> dict[str, Any]:
    """The output values of a ``terraform output -json`` file: ``{name: value}``.

    The file maps each output name to ``{"value": ..., "type": ..., "sensitive": ...}``.
    """
    file = Path(path)
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise AwsConfigurationError(
            f"terraform outputs file {file} not found: create it with "
            "`terraform output -json > outputs.json`"
        ) from err
    except json.JSONDecodeError as err:
        raise AwsConfigurationError(f"{file} is not valid JSON: {err}") from err
    if not isinstance(document, dict):
        raise AwsConfigurationError(f"{file} is not a `terraform output -json` object")
    values: dict[str, Any] = {}
    for name, output in document.items():
        if not isinstance(output, dict) or "value" not in output:
            raise AwsConfigurationError(
                f'{file}: output {name!r} has no "value"; is this `terraform output -json`?'
            )
        values[name] = output["value"]
    return values
