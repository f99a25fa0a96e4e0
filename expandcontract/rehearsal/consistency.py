"""The end-of-run check: every customer written during the run, read back through green."""

from __future__ import annotations

import json
import urllib.request
from typing import Any

from expandcontract.rehearsal.addresses import parts_of
from expandcontract.rehearsal.customers import CustomerRegistry
from expandcontract.rehearsal.report import Consistency

PAGE = 100


def read_all_through(base_url: str) -> dict[int, dict[str, Any]]:
    """Every customer as the release at ``base_url`` shows it (its paginated list endpoint)."""
    customers: dict[int, dict[str, Any]] = {}
    offset: int | None = 0
    while offset is not None:
        url = f"{base_url}/api/customers?limit={PAGE}&offset={offset}"
        with urllib.request.urlopen(url, timeout=30) as response:
            page = json.loads(response.read())
        for customer in page["customers"]:
            customers[int(customer["id"])] = customer
        offset = page.get("next_offset")
    return customers


def check_written_customers(green_url: str, registry: CustomerRegistry) -> Consistency:
    """Compare what green serves with what the load generator last wrote, customer by customer."""
    result = Consistency()
    try:
        seen = read_all_through(green_url)
    except (OSError, ValueError, KeyError) as err:  # URLError is an OSError
        result.error = f"could not read the customers through green: {err}"
        return result
    for expected in registry.written():
        result.checked += 1
        actual = seen.get(expected.id)
        if actual is None:
            result.mismatches.append(f"customer {expected.id}: missing")
            continue
        if actual.get("name") != expected.name or actual.get("email") != expected.email:
            result.mismatches.append(f"customer {expected.id}: name or email differ")
            continue
        address = parts_of(actual.get("address"))
        if address != expected.address:
            shown = "empty" if address is None else repr(address.flat)
            result.mismatches.append(
                f"customer {expected.id}: address {shown}, written {expected.flat!r}"
            )
    return result


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
