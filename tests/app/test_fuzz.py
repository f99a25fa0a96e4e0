"""API fuzzing with schemathesis against each release's /openapi.json: never a 5xx.

Bounded (a few dozen generated requests per operation) so the suite stays fast; the database
is real and migrated, so generated writes really hit PostgreSQL.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase

from tests.app.conftest import Live

EXAMPLES = 20


def fuzz(live: Live) -> int:
    """Generate requests for every operation of ``live``'s document; return how many ran."""
    schema = schemathesis.openapi.from_url(live.url + "/openapi.json")
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @hypothesis.settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy())
        def call(case: schemathesis.Case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=live.url)
            # Every check schemathesis has (no list given): server errors, status codes,
            # response schemas, content types, headers, and whether the app accepts what the
            # document allows (positive data) and rejects what it forbids (negative data).
            case.validate_response(response)

        call()
    return calls


@pytest.mark.parametrize("version", ["blue", "green"])
def test_no_5xx_for_generated_requests(upgrade, start_app, version: str) -> None:
    upgrade("migrate@head")  # both releases are healthy here
    live = start_app(version)
    seed = live.post("/api/customers", json={"name": "Seed", "email": "seed@example.test"})
    assert seed.status_code == 201
    assert fuzz(live) >= EXAMPLES * 3
