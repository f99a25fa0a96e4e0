"""The approvals the guard grants: for the whole session, or for one exact statement text."""

from __future__ import annotations

import hashlib
from typing import Any

from expandcontract.enforcement.ddl import APPROVALS


def statement_digest(statement: str) -> str:
    """The md5 the server computes from ``current_query()`` for this exact statement text."""
    return hashlib.md5(statement.encode("utf-8")).hexdigest()  # noqa: S324  not for secrecy


def _grant(digest: str, revision: str, reason: str) -> str:
    """This session's approval, with the three values as SQL (literals or placeholders)."""
    return (
        f"INSERT INTO {APPROVALS} (pid, backend_start, statement_md5, revision, reason) "
        f"SELECT pid, backend_start, {digest}, {revision}, {reason} FROM pg_stat_activity "
        "WHERE pid = pg_backend_pid()"
    )


GRANT = _grant("%s", "%s", "%s")
REVOKE = f"DELETE FROM {APPROVALS} WHERE pid = pg_backend_pid()"


def grant(
    dbapi_connection: Any, *, revision: str | None, reason: str, statement: str | None
) -> None:
    """Approve this session (``statement=None``) or one exact statement, on a DBAPI connection.

    A DBAPI connection, because the guard grants from inside SQLAlchemy's execute event.
    """
    digest = statement_digest(statement) if statement is not None else None
    with dbapi_connection.cursor() as cursor:
        cursor.execute(GRANT, (digest, revision, reason))


def revoke(dbapi_connection: Any) -> None:
    """Withdraw every approval of this session."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute(REVOKE)


def revoke_sql() -> str:
    return REVOKE


def grant_sql(revision: str, reason: str, sent: str | None = None) -> str:
    """An offline script's approval: of its own psql session (``sent=None``, written after the
    guard block), or of one exact statement (``sent``, as psql sends it).

    A statement's approval is written into the script just before the statement, so it is in
    the statement's transaction; only a statement policing judged (exempted with a reason, or
    removing what its own upgrade added) gets one, and it matches that text alone.
    """

    def literal(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    digest = literal(statement_digest(sent)) if sent is not None else "NULL"
    return _grant(digest, literal(revision), literal(reason))


_USER_FUNCTIONS = """
SELECT DISTINCT n.nspname || '.' || p.proname, p.proname
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')
   AND (p.proname = ANY(%s) OR n.nspname || '.' || p.proname = ANY(%s))"""


def user_functions(dbapi_connection: Any, names: list[str]) -> list[str]:
    """Which of ``names`` are functions a user wrote (not built in, not from an extension)."""
    if dbapi_connection is None or not names:
        return []
    with dbapi_connection.cursor() as cursor:
        cursor.execute(_USER_FUNCTIONS, (names, names))
        found = {name for row in cursor.fetchall() for name in row}
    return [name for name in names if name in found]
