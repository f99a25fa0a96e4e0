"""Shared by the rehearsal tests: the small rehearsal's options and a database census."""

from __future__ import annotations

import re

import sqlalchemy as sa

# Small and quick, but the whole story: every phase, a soak, steps of 50 %.
SMALL = ["--rows", "500", "--rps", "40", "--steps", "50", "--step-seconds", "0.4", "--soak", "1s"]


_SCRATCH = re.compile(r"scratch database (expandcontract_rehearsal_\w+)")


def scratch_name(output: str) -> str:
    """The scratch database a rehearsal says it created."""
    match = _SCRATCH.search(output)
    assert match, "the rehearsal did not name its scratch database:\n" + output
    return match.group(1)


def scratch_databases(server_url: str) -> set[str]:
    """The rehearsal scratch databases that exist on the server now."""
    engine = sa.create_engine(server_url, poolclass=sa.NullPool)
    try:
        with engine.connect() as connection:
            return set(
                connection.execute(
                    sa.text(
                        "SELECT datname FROM pg_database "
                        "WHERE datname LIKE 'expandcontract_rehearsal_%'"
                    )
                ).scalars()
            )
    finally:
        engine.dispose()
