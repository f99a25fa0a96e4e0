"""The rejected addresses in the report: how many were written, where they went, how resolved.

Blue stores an address the parser rejects (it never parses); green refuses it with a 400. The
ones blue stored before the backfill finished are quarantined by it; those written after are
swept in by the contract's own check, which then refuses until the operator resolves them.
"""

from __future__ import annotations

from html import escape
from typing import Any

from expandcontract.rehearsal.load import REJECTED_SUFFIX
from expandcontract.rehearsal.timeline import Timeline

BACKFILL_PHASE = "migrate"


def rejected_writes(timeline: Timeline) -> dict[str, int]:
    """Writes that carried an address the parser rejects, by what became of them."""
    migrate = next((p for p in timeline.phases if p.name == BACKFILL_PHASE), None)
    backfilled_at = migrate.end if migrate is not None and migrate.end is not None else None
    figures = {"sent": 0, "stored_before_backfill": 0, "stored_after_backfill": 0}
    figures["refused_by_green"] = figures["read_through_green"] = 0
    for sample in timeline.snapshot():
        if not sample.kind.endswith(REJECTED_SUFFIX):
            continue
        if sample.kind.startswith("read"):
            # Shown as written (or the read is a bad read, counted as such in the table).
            ok = sample.served_by == "green" and not sample.failed and not sample.bad_read
            figures["read_through_green"] += ok
            continue
        figures["sent"] += 1
        if sample.served_by == "green" and sample.status == 400:
            figures["refused_by_green"] += 1
        elif sample.served_by == "blue" and 200 <= sample.status < 300:
            late = backfilled_at is not None and sample.at >= backfilled_at
            figures["stored_after_backfill" if late else "stored_before_backfill"] += 1
    return figures


def summary_lines(rejected: dict[str, int], quarantine: dict[str, Any] | None) -> list[str]:
    """Plain lines for the terminal summary and the page."""
    lines = [
        f"rejected addresses written: {rejected['sent']:,} (blue stored "
        f"{rejected['stored_before_backfill']:,} before the backfill finished and "
        f"{rejected['stored_after_backfill']:,} after; green refused "
        f"{rejected['refused_by_green']:,} with a 400); green showed such an address as "
        f"written (unparsed, with the reason) in {rejected['read_through_green']:,} read(s)"
    ]
    if quarantine is not None:
        lines.append(
            f"quarantine: {quarantine['quarantined_by_backfill']} row(s) by the backfill, "
            f"{quarantine['quarantined_late']} written after it passed them and swept in by the "
            f"contract's check; contract refused {len(quarantine['contract_refusals'])} time(s); "
            f"{quarantine['accepted']} accepted with `expandcontract quarantine resolve`, "
            f"{quarantine['converted_later']} converted later (rewritten with a valid address)"
        )
        lines.extend(f"  operator ran: {command}" for command in quarantine["commands"])
    return lines


def quarantine_html(rejected: dict[str, int], quarantine: dict[str, Any] | None) -> str:
    items = "".join(
        f"<li>{escape(line.strip())}</li>" for line in summary_lines(rejected, quarantine)
    )
    refusals = "".join(
        f"<li><code>{escape(text)}</code></li>"
        for text in (quarantine or {}).get("contract_refusals", [])
    )
    more = f"<p>The contract's refusals:</p><ul>{refusals}</ul>" if refusals else ""
    return f"<h2>Rejected addresses and the quarantine</h2><ul>{items}</ul>{more}"
