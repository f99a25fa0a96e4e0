"""Fixtures for the backfill tests."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa

from tests.backfill.backfill_support import create_customers


@pytest.fixture
def customers(engine: sa.Engine) -> Callable[..., None]:
    """Call with a row count (and optionally a table name, primary_key=False)."""

    def make(rows: int, table: str = "customers", primary_key: bool = True) -> None:
        create_customers(engine, rows, table, primary_key)

    return make
