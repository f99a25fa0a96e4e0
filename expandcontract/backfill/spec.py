"""What a backfill converts: the :class:`Backfill` specification."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from expandcontract.backfill.errors import BackfillSpecError

# Set (transaction-locally) on every batch: sync triggers skip the backfill's own UPDATE, which
# computes the new columns from the old ones and so has nothing to sync back.
BACKFILL_SESSION_FLAG = "expandcontract.backfilling"


@dataclass(frozen=True)
class Backfill:
    """One data conversion, run in short batches by :func:`run_backfill`.

    The target table is aliased ``t`` in every SQL fragment.

    ``name``
        Identifies the run: its persisted cursor and its quarantined rows. Keep it stable
        (for example the revision id plus a word) so a killed run resumes.
    ``table``
        The table to convert, optionally schema-qualified (``"public.customers"``).
    ``set_columns``
        Target column -> SQL expression computing its new value, e.g.
        ``{"street": "TRIM(SPLIT_PART(t.address, ',', 1))"}``.
    ``pending``
        SQL predicate, true for rows that still need converting, e.g. ``"t.street IS NULL AND
        t.address IS NOT NULL"``. Rows a sync trigger already filled are skipped through it, and
        it must turn false once a row is converted (or the row is quarantined).
    ``reject_reason``
        Optional SQL expression: when it is non-NULL for a row, the row is quarantined with
        that text as the reason instead of being converted. Its values are left as they are
        (the batch writes the row back unchanged: judging and converting it in one evaluation
        costs less than judging every row before converting it).
    ``original``
        SQL expression of the original value kept in quarantine (default: the whole row as
        JSON).
    ``source``
        Optional extra FROM item whose columns the expressions may use, such as
        ``"LATERAL my_parse(t.address) AS p"``; it is evaluated per row.
    """

    name: str
    table: str
    set_columns: dict[str, str]
    pending: str
    reject_reason: str | None = None
    original: str | None = None
    source: str | None = None
    _frozen_columns: tuple[tuple[str, str], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise BackfillSpecError("a backfill needs a non-empty name")
        if not self.table or not self.table.strip():
            raise BackfillSpecError(f"backfill {self.name!r}: no table given")
        if not self.set_columns:
            raise BackfillSpecError(f"backfill {self.name!r}: set_columns is empty")
        if not self.pending or not self.pending.strip():
            raise BackfillSpecError(
                f"backfill {self.name!r}: pending is required (a predicate true for rows that "
                "still need converting), otherwise converted rows would be converted again"
            )
        for column, expression in self.set_columns.items():
            if not expression or not str(expression).strip():
                raise BackfillSpecError(
                    f"backfill {self.name!r}: no expression given for column {column!r}"
                )
        # A dict inside a frozen dataclass can still be mutated; keep a private snapshot.
        object.__setattr__(self, "_frozen_columns", tuple(self.set_columns.items()))

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        """``(column, expression)`` pairs in the order given."""
        return self._frozen_columns

    def fingerprint(self) -> str:
        """A digest of everything that decides which rows are converted and how.

        A persisted cursor is only reused by a run whose specification has the same digest.
        """
        payload = json.dumps(
            [
                self.table,
                list(self.columns),
                self.pending,
                self.reject_reason,
                self.original,
                self.source,
            ]
        )
        return hashlib.sha256(payload.encode()).hexdigest()[:16]
