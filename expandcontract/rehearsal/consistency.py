"""The end-of-run check: every customer written during the run, read back through green.

It streams: green's customers come page by page in id order (keyset, ``?after=``) and are
merged with the written customers sorted by id, so memory stays constant however big the
table is and each page costs the same.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

from expandcontract.rehearsal.addresses import parts_of
from expandcontract.rehearsal.customers import CustomerRegistry, Expected
from expandcontract.rehearsal.report import Consistency

PAGE = 100


def stream_through(base_url: str, page: int = PAGE) -> Iterator[dict[str, Any]]:
    """Every customer as the release at ``base_url`` shows it, in id order, a page at a time."""
    after: int | None = 0
    while after is not None:
        url = f"{base_url}/api/customers?limit={page}&after={after}"
        with urllib.request.urlopen(url, timeout=30) as response:
            body = json.loads(response.read())
        yield from body["customers"]
        after = body.get("next_after")


def check_written_customers(green_url: str, registry: CustomerRegistry) -> Consistency:
    """Compare what green serves with what the load generator last wrote, customer by customer."""
    result = Consistency()
    wanted = iter(sorted(registry.written(), key=lambda e: e.id))
    expected = next(wanted, None)
    try:
        for actual in stream_through(green_url):
            while expected is not None and expected.id < int(actual["id"]):
                result.checked += 1
                result.mismatches.append(f"customer {expected.id}: missing")
                expected = next(wanted, None)
            if expected is None:
                break  # the rest were not written during the run
            if expected.id == int(actual["id"]):
                result.checked += 1
                _compare(expected, actual, result)
                expected = next(wanted, None)
    except (OSError, ValueError, KeyError) as err:  # URLError is an OSError
        result.error = f"could not read the customers through green: {err}"
        return result
    while expected is not None:
        result.checked += 1
        result.mismatches.append(f"customer {expected.id}: missing")
        expected = next(wanted, None)
    return result


def _compare(expected: Expected, actual: dict[str, Any], result: Consistency) -> None:
    if actual.get("name") != expected.name or actual.get("email") != expected.email:
        result.mismatches.append(f"customer {expected.id}: name or email differ")
        return
    address = parts_of(actual.get("address"))
    if address != expected.address:
        shown = "empty" if address is None else repr(address.flat)
        result.mismatches.append(
            f"customer {expected.id}: address {shown}, written {expected.flat!r}"
        )


def quarantined_rows(url: str) -> list[dict[str, Any]]:
    """The quarantine, resolved entries included (for the report)."""
    from expandcontract.api import connect
    from expandcontract.backfill import list_quarantine

    with connect(url=url) as connection:
        rows = list_quarantine(connection, "customers", include_resolved=True)
    return [
        {
            "id": row.primary_key,
            "value": row.original_value,
            "reason": row.reason,
            "resolution": row.resolution,
        }
        for row in rows
    ]
