"""The state figures in the report: a terminal table, an HTML table, and the loss reasons."""

from __future__ import annotations

from html import escape
from typing import Any

from rich import box
from rich.table import Table

RELEASES = ("blue", "green")
LOSS_KEYS = ("sessions_lost", "messages_unreadable", "cache_wrong_shape", "objects_unreadable")


def _lost(value: int | None) -> str:
    return "-" if value is None else str(value)  # None: not measured (no Redis, no moto)


def _rows(state: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(what, checked, lost, how it was checked) per kind of state."""
    consumed = state.get("messages_consumed") or {}
    # "blue->green": blue produced, green's consumer read it. Unversioned (naive) messages
    # carry no producer, so they cannot be counted as crossings.
    pairs = [(k.split("->"), n) for k, n in consumed.items()]
    crossed = sum(
        n for (producer, reader), n in pairs if producer in RELEASES and producer != reader
    )
    share = state.get("flag_share")
    share_text = "-" if share is None else f"{share:.0%} on (target {state['flag_percentage']} %)"
    return [
        ("sessions", str(state["sessions_checked"]), _lost(state["sessions_lost"]),
         "signed in on one release, continued on the other (sessions_lost)"),
        ("cache", str(state["cache_checked"]), _lost(state["cache_wrong_shape"]),
         "read through one release, then the other (cache_wrong_shape)"),
        ("messages", f"{sum(consumed.values())} ({crossed} crossed)",
         _lost(state["messages_unreadable"]),
         f"consumed by either release (messages_unreadable; "
         f"{state['messages_dead_lettered']} dead-lettered)"),
        ("objects", str(state["objects_checked"]), _lost(state["objects_unreadable"]),
         "export by one release read by the other (objects_unreadable)"),
        ("flags", str(state["flag_checked"]), str(state["flag_mismatches"]),
         f"same answer on both releases and in the v1 response; {share_text}"),
    ]  # fmt: skip


def state_reasons(state: dict[str, Any] | None) -> list[str]:
    """Why the state did not survive the story (empty when it did)."""
    if not state:
        return []
    reasons = [f"{state[key]} {key.replace('_', ' ')}" for key in LOSS_KEYS if state.get(key)]
    if state.get("messages_dead_lettered"):
        reasons.append(f"{state['messages_dead_lettered']} message(s) dead-lettered")
    if state.get("flag_mismatches"):
        reasons.append(f"{state['flag_mismatches']} flag answer(s) differed between releases")
    return reasons


def state_table(state: dict[str, Any], *, compact: bool = False) -> Table:
    table = Table(
        title="State beyond the database",
        title_justify="left",
        box=box.SIMPLE_HEAD if compact else box.HEAVY_HEAD,
    )
    for name, justify in (("state", "left"), ("checked", "right"), ("lost", "right"),
                          ("how", "left")):  # fmt: skip
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for row in _rows(state):
        table.add_row(*row, style="red" if row[2] not in ("0", "-") else None)
    return table


def state_html(state: dict[str, Any] | None) -> str:
    if not state:
        return ""
    rows = "".join(
        f"<tr{' class=bad' if lost not in ('0', '-') else ''}><td>{escape(what)}</td><td>{escape(checked)}"
        f"</td><td>{escape(lost)}</td><td style=text-align:left>{escape(how)}</td></tr>"
        for what, checked, lost, how in _rows(state)
    )
    note = f'<p class="muted">{escape(state["note"])}</p>' if state.get("note") else ""
    examples = "".join(f"<li>{escape(e)}</li>" for e in state.get("examples", []))
    return (
        "<h2>State beyond the database</h2>"
        "<table><thead><tr><th>state</th><th>checked</th><th>lost</th>"
        f"<th style=text-align:left>how</th></tr></thead><tbody>{rows}</tbody></table>"
        f"{note}{f'<ul>{examples}</ul>' if examples else ''}"
    )
