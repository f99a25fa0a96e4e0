"""Can the live schema serve a release? The check a service calls from its health endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class CompatibilityReport:
    """The result of :func:`check_compatibility`; ``compatible`` is the one bit a health check needs."""

    missing_tables: list[str] = field(default_factory=list)
    missing_columns: list[str] = field(default_factory=list)
    blocking_columns: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not (self.missing_tables or self.missing_columns or self.blocking_columns)

    @property
    def problems(self) -> list[str]:
        return (
            [f"missing table {t}" for t in self.missing_tables]
            + [f"missing column {c}" for c in self.missing_columns]
            + [
                f"column {c} is NOT NULL without default and unknown to this release"
                for c in self.blocking_columns
            ]
        )

    def to_dict(self) -> dict[str, object]:
        return {
            "compatible": self.compatible,
            "missing_tables": self.missing_tables,
            "missing_columns": self.missing_columns,
            "blocking_columns": self.blocking_columns,
        }


def check_compatibility(connection: Connection, metadata: sa.MetaData) -> CompatibilityReport:
    """Compare the live schema with what ``metadata`` (one release's models) needs.

    A release is compatible when every table and column it maps exists, and no column it does
    not know about would make its inserts fail (NOT NULL without a default).
    """
    inspector = sa.inspect(connection)
    missing_tables: list[str] = []
    missing_columns: list[str] = []
    blocking: list[str] = []
    for table in metadata.sorted_tables:
        if not inspector.has_table(table.name, schema=table.schema):
            missing_tables.append(table.fullname)
            continue
        live = {col["name"]: col for col in inspector.get_columns(table.name, schema=table.schema)}
        known = {column.name for column in table.columns}
        missing_columns.extend(f"{table.fullname}.{name}" for name in sorted(known - set(live)))
        for name, col in sorted(live.items()):
            if name in known:
                continue
            if (
                not col.get("nullable", True)
                and col.get("default") is None
                and not col.get("identity")
                and not col.get("computed")
            ):
                blocking.append(f"{table.fullname}.{name}")
    return CompatibilityReport(missing_tables, missing_columns, blocking)
