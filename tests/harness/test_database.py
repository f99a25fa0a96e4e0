from __future__ import annotations

import sqlalchemy as sa


def test_each_test_gets_an_empty_database(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        tables = conn.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        ).scalar()
        conn.execute(sa.text("CREATE TABLE marker (id int)"))
    assert tables == 0


def test_databases_are_isolated(engine: sa.Engine) -> None:
    # The table created by the previous test must not be visible here.
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT to_regclass('marker')")).scalar() is None
