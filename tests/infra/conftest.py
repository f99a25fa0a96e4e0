"""Fixtures for the infrastructure tests."""

from __future__ import annotations

import pytest
from infra_support import TERRAFORM_DIR, TF_FILES, Terraform, load_tf


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    """The parsed Terraform configuration."""
    assert TF_FILES, f"no .tf files under {TERRAFORM_DIR}"
    return Terraform({path.name: load_tf(path) for path in TF_FILES})
