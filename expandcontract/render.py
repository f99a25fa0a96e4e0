"""Render a revision's SQL offline (PostgreSQL dialect), without a database."""

from __future__ import annotations

import io

from alembic import op as alembic_op
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from alembic.script import Script

from expandcontract.errors import ExpandContractError
from expandcontract.phases import phase_of
from expandcontract.runtime.state import RunState, attach


class RenderError(ExpandContractError):
    """A revision that cannot be rendered without a database (it queries through get_bind())."""


def offline_context(buffer: io.StringIO) -> MigrationContext:
    return MigrationContext.configure(
        dialect_name="postgresql",
        opts={"as_sql": True, "output_buffer": buffer, "literal_binds": True},
    )


def render_sql(revision: Script, direction: str = "upgrade") -> str:
    """The SQL ``revision.upgrade()`` (or ``downgrade()``) emits, as one script."""
    buffer = io.StringIO()
    context = offline_context(buffer)
    attach(context, RunState(offline=True, rendering=True)).enter(
        revision.revision, phase_of(revision), revision.module, is_upgrade=direction == "upgrade"
    )
    function = getattr(revision.module, direction, None)
    if function is None:
        raise RenderError(f"revision {revision.revision} has no {direction}()")
    previous = getattr(alembic_op, "_proxy", None)
    try:
        with Operations.context(context):
            function()
    except ExpandContractError:
        raise
    except Exception as err:
        raise RenderError(
            f"revision {revision.revision} cannot be rendered offline: {type(err).__name__}: {err}"
        ) from err
    finally:
        # Operations.context() clears the module-level ``op`` proxy; a run may be using it.
        alembic_op._proxy = previous  # type: ignore[attr-defined]
    return buffer.getvalue()
