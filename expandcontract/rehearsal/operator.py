"""The operator's side of a refused contract: the commands the refusal names, run as a user would.

When the contract refuses because quarantined rows are unresolved, the rehearsal does what its
message says: ``expandcontract quarantine list`` to see them, then ``expandcontract quarantine
resolve`` for the rows it reviewed (accepted as they are: the original value stays in the
quarantine), then the contract again. The commands run as separate processes of this
installation's ``expandcontract``, so what is exercised is what a user types.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from expandcontract.errors import ExpandContractError

TABLE = "customers"
RESOLUTION = "accepted as is after review in the rehearsal: the original stays in the quarantine"
CLI_TIMEOUT = 120.0


class OperatorError(ExpandContractError):
    """A command the refusal names did not do what it says."""


@dataclass
class QuarantineLog:
    """What happened to the quarantine, for the report."""

    by_backfill: list[str] = field(default_factory=list)  # keys the migrate phase quarantined
    late: list[str] = field(default_factory=list)  # keys the contract's check swept in
    refusals: list[str] = field(default_factory=list)  # the contract's refusals, first line
    accepted: int = 0  # resolved with `expandcontract quarantine resolve`
    converted_later: int = 0  # rewritten with a valid address: resolved by the contract
    commands: list[str] = field(default_factory=list)  # as the operator typed them

    def to_dict(self) -> dict[str, Any]:
        return {
            "quarantined_by_backfill": len(self.by_backfill),
            "quarantined_late": len(self.late),
            "late_keys": self.late[:50],
            "contract_refusals": self.refusals,
            "accepted": self.accepted,
            "converted_later": self.converted_later,
            "commands": self.commands,
        }


def run_cli(url: str, workdir: Path, *args: str) -> tuple[str, str]:
    """Run ``expandcontract ARGS --database-url URL`` in ``workdir`` (no alembic.ini there, so
    none of the user's is read); (the command as shown, its stdout). A non-zero exit raises."""
    shown = shlex.join(["expandcontract", *args])
    command = [sys.executable, "-m", "expandcontract", *args, "--database-url", url]
    done = subprocess.run(
        command, cwd=workdir, capture_output=True, text=True, timeout=CLI_TIMEOUT, check=False
    )
    if done.returncode != 0:
        hidden = make_url(url).render_as_string(hide_password=True)
        problem = (done.stderr or done.stdout).strip().replace(url, hidden)
        raise OperatorError(f"`{shown}` exited {done.returncode}: {problem[-500:]}")
    return shown, done.stdout


def open_quarantine(url: str, workdir: Path, log: QuarantineLog) -> list[dict[str, Any]]:
    """The unresolved quarantined rows of ``customers``, as ``quarantine list`` shows them."""
    shown, out = run_cli(url, workdir, "quarantine", "list", "--table", TABLE, "--format", "json")
    log.commands.append(shown)
    try:
        rows = json.loads(out)
    except ValueError as err:
        raise OperatorError(f"`{shown}` printed no JSON list: {err}") from err
    if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
        raise OperatorError(f"`{shown}` printed JSON that is not a list of rows: {out[:200]!r}")
    return [row for row in rows if row.get("resolution") is None]


def accept(url: str, workdir: Path, keys: list[str], log: QuarantineLog) -> int:
    """Mark the reviewed rows resolved, by key (a row quarantined after the review is not
    accepted unseen); returns how many the command resolved."""
    args = ["quarantine", "resolve", TABLE]
    for key in keys:
        args += ["--key", key]
    shown, out = run_cli(url, workdir, *args, "--resolution", RESOLUTION)
    log.commands.append(shown if len(keys) <= 3 else _shorten(shown, len(keys)))
    said = re.match(r"resolved (\d+) ", out)
    if said is None:  # counting 0 here would hide a resolve that did not say what it did
        raise OperatorError(f"`{shown}` did not say how many rows it resolved: {out.strip()!r}")
    resolved = int(said.group(1))
    log.accepted += resolved
    return resolved


def _shorten(shown: str, keys: int) -> str:
    """The command with its ``--key`` list summarised (the report shows the rest)."""
    head, _, _ = shown.partition(" --key ")
    return f"{head} --key ... ({keys} keys) --resolution '{RESOLUTION}'"
