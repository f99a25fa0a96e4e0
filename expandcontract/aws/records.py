"""The ledger as the AWS commands see it: open a connection, read or append, commit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

from alembic.config import Config

from expandcontract.aws.clients import Echo
from expandcontract.ledger import Event, Ledger

T = TypeVar("T")


class Records:
    """Ledger reads and writes on the target database; writes are only printed in a dry run."""

    def __init__(
        self,
        config: Config | None = None,
        url: str | None = None,
        *,
        dry_run: bool = False,
        echo: Echo = print,
    ) -> None:
        self.config = config
        self.url = url
        self.dry_run = dry_run
        self.echo = echo

    def read(self, query: Callable[[Ledger], T]) -> T:
        from expandcontract.api import connect

        with connect(self.config, self.url) as connection:
            result = query(Ledger(connection))
            connection.rollback()
            return result

    def record(
        self, event: Event, *, release: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        if self.dry_run:
            self.echo(f"  [dry-run] would record {event} release={release} {details or {}}")
            return
        self._write(lambda ledger: ledger.record(event, release=release, details=details))
        self.echo(f"  recorded {event}" + (f" for release {release}" if release else ""))

    def record_stable(self, release: str, *, soak: timedelta, stable_at: datetime) -> None:
        if self.dry_run:
            self.echo(f"  [dry-run] would mark release {release} stable since {stable_at}")
            return
        self._write(lambda ledger: ledger.record_stable(release, soak=soak, stable_at=stable_at))
        self.echo(
            f"  release {release} marked stable since {stable_at.isoformat(timespec='seconds')}; "
            f"contract allowed from {(stable_at + soak).isoformat(timespec='seconds')}"
        )

    def _write(self, action: Callable[[Ledger], Any]) -> None:
        from expandcontract.api import connect

        with connect(self.config, self.url) as connection:
            ledger = Ledger(connection)
            ledger.ensure()
            action(ledger)
            connection.commit()
