"""Green (v2) schema usage: the address split into street, city, state and zip columns.

Green does not use ``address`` at all, which is what lets the contract drop it once green is
stable. ``metadata`` is what green's ``/health`` checks and what
``expandcontract mark-stable green --metadata app.models_v2:metadata`` records.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(255), nullable=False),
    sa.Column("email", sa.String(255), nullable=False, unique=True),
    sa.Column("street_address", sa.String(255), nullable=True),
    sa.Column("city", sa.String(100), nullable=True),
    sa.Column("state", sa.String(2), nullable=True),
    sa.Column("zip_code", sa.String(10), nullable=True),
    sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
    sa.Column(
        "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    ),
)
