"""Fixtures for the infrastructure tests: a parsed view of the Terraform in infra/terraform.

The suite runs with --import-mode=importlib, so helpers other modules need are methods of the
objects these fixtures return, not importable functions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hcl2
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
INFRA = REPO_ROOT / "infra"
TERRAFORM_DIR = INFRA / "terraform"
TF_FILES = sorted(TERRAFORM_DIR.glob("*.tf"))


def unquote(value: str) -> str:
    """python-hcl2 keeps the quotes of string literals; strip one pair and their escapes."""
    if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return value[1:-1].replace('\\"', '"').replace("\\\\", "\\")
    return value


def normalize(node: Any) -> Any:
    """Plain Python values: unquoted keys and strings, parser bookkeeping keys dropped."""
    if isinstance(node, dict):
        return {
            unquote(key): normalize(value)
            for key, value in node.items()
            if not (key.startswith("__") and key.endswith("__"))
        }
    if isinstance(node, list):
        return [normalize(item) for item in node]
    if isinstance(node, str):
        return unquote(node)
    return node


def load_tf(path: Path) -> dict[str, Any]:
    """Parse one .tf file with python-hcl2 and normalise it."""
    with path.open() as handle:
        return normalize(hcl2.load(handle))


@dataclass
class Terraform:
    """Merged view of every .tf file in infra/terraform."""

    files: dict[str, dict[str, Any]]
    resources: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    data: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for parsed in self.files.values():
            for kind, target in (("resource", self.resources), ("data", self.data)):
                for block in parsed.get(kind, []):
                    for type_name, named in block.items():
                        for name, body in named.items():
                            target.setdefault(type_name, {})[name] = body
            for block in parsed.get("variable", []):
                self.variables.update(block)
            for block in parsed.get("output", []):
                self.outputs.update(block)
            for block in parsed.get("locals", []):
                self.locals.update(block)
            self.settings.extend(parsed.get("terraform", []))

    def resource(self, type_name: str, name: str) -> dict[str, Any]:
        """The body of one resource; fails the test with a clear message when missing."""
        try:
            return self.resources[type_name][name]
        except KeyError:
            pytest.fail(f"resource {type_name}.{name} is not defined in infra/terraform")

    def all_of(self, type_name: str) -> dict[str, dict[str, Any]]:
        """Every resource of one type, by name."""
        return self.resources.get(type_name, {})

    @staticmethod
    def block(body: dict[str, Any], name: str) -> dict[str, Any]:
        """The single nested block ``name`` of a resource body."""
        blocks = body.get(name)
        assert isinstance(blocks, list) and len(blocks) == 1, f"expected one {name!r} block"
        return blocks[0]


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    """The parsed Terraform configuration."""
    assert TF_FILES, f"no .tf files under {TERRAFORM_DIR}"
    return Terraform({path.name: load_tf(path) for path in TF_FILES})
