"""No dead end: blue writes an address the parser rejects after the backfill ran.

The reference project, driven through the CLI as an operator would: ``status`` must not call
the contract allowed while its operations would refuse; the contract sweeps the row into
quarantine and its refusal names the row and the commands; following that advice lets the
contract through, with nothing lost silently.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from expandcontract.cli import main

REPO = Path(__file__).resolve().parents[2]
BAD = "1 Infinite Loop, Cupertino, California, 95014"  # blue accepts it; the parser does not


@pytest.fixture
def cli(database_url: str):
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(
            main, [*args, "-c", str(REPO / "alembic.ini"), "--database-url", database_url]
        )
        return result.exit_code, result.output

    return run


def _status(cli) -> dict:
    code, out = cli("status", "--format", "json")
    assert code == 0, out
    return json.loads(out)


def _blue_writes(engine: sa.Engine, address: str) -> int:
    with engine.begin() as conn:
        return conn.execute(
            sa.text(
                "INSERT INTO customers (name, email, address) VALUES ('Late', :email, :a) "
                "RETURNING id"
            ),
            {"a": address, "email": f"late{abs(hash(address))}@example.test"},
        ).scalar_one()


@pytest.mark.parametrize("way_out", ["accept", "fix"])
def test_a_late_unparseable_write_is_quarantined_named_and_resolvable(
    cli, engine: sa.Engine, way_out: str
) -> None:
    for phase in ("expand", "migrate"):
        code, out = cli("upgrade", phase)
        assert code == 0, out
    bad = _blue_writes(engine, BAD)  # after the backfill: the trigger leaves the parts NULL
    good = _blue_writes(engine, "2 Main St, Boise, ID, 83702")
    code, out = cli("mark-stable", "green", "--soak", "0s")
    assert code == 0, out

    status = _status(cli)
    assert status["contract_allowed"] is False
    assert any(str(bad) in reason and "state" in reason for reason in status["reasons"])

    code, out = cli("upgrade", "contract")
    assert code != 0
    with engine.connect() as conn:
        assert "address" in [c["name"] for c in sa.inspect(conn).get_columns("customers")]
        quarantined = conn.execute(
            sa.text(
                "SELECT primary_key, original_value FROM expandcontract_quarantine "
                "WHERE resolved_at IS NULL"
            )
        ).all()
    assert quarantined == [(str(bad), BAD)], "the contract's check quarantined the late row"
    # The refusal names the row and the commands that resolve it.
    assert f"key {bad} (" in out
    listed = re.search(r"`(expandcontract quarantine list[^`]*)`", out)
    resolve = re.search(r"`(expandcontract quarantine resolve[^`]*)`", out)
    assert listed and resolve, out

    code, shown = cli(*listed.group(1).split()[1:])
    assert code == 0 and str(bad) in shown and "California" in shown
    if way_out == "accept":
        command = resolve.group(1).replace("...", "accepted: customer asked to keep it")
        code, out = cli(*shlex.split(command)[1:])
        assert code == 0, out
    else:
        with engine.begin() as conn:  # blue's user corrects it; the trigger converts it
            conn.execute(
                sa.text("UPDATE customers SET address = :a WHERE id = :id"),
                {"a": "1 Infinite Loop, Cupertino, CA, 95014", "id": bad},
            )
    assert _status(cli)["contract_allowed"] is True

    code, out = cli("upgrade", "contract")
    assert code == 0, out
    with engine.connect() as conn:
        assert "address" not in [c["name"] for c in sa.inspect(conn).get_columns("customers")]
        row = conn.execute(
            sa.text("SELECT city, state FROM customers WHERE id = :id"), {"id": good}
        ).one()
        assert tuple(row) == ("Boise", "ID")
        fixed = conn.execute(
            sa.text("SELECT city, state FROM customers WHERE id = :id"), {"id": bad}
        ).one()
        kept = conn.execute(
            sa.text("SELECT original_value, resolution FROM expandcontract_quarantine")
        ).one()
    if way_out == "fix":
        assert tuple(fixed) == ("Cupertino", "CA")
        assert kept.resolution.startswith("converted later")
    else:
        assert tuple(fixed) == (None, None)
        assert kept == (BAD, "accepted: customer asked to keep it")  # the original is kept
