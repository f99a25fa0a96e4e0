"""Server-side enforcement: the guard also lives in the database.

With the ledger, the hook installs a PostgreSQL event trigger that refuses destructive DDL
unless this session holds an *approval* only the guard writes (a row in
``expandcontract.approvals``, which nobody but the migration owner may write):

- ``sql_drop``: anything dropped outside the system schemas and temporary objects (tables,
  columns, schemas, types, defaults, constraints, triggers, functions, indexes, rules, and
  whatever a ``CASCADE`` takes with them);
- ``ALTER TABLE``: a renamed or moved table, a renamed column, a changed column type, a new
  NOT NULL, a disabled trigger (the catalog is compared before and after the command, so it
  works the same from psql, a DO block, a function or a raw cursor);
- ``CREATE RULE`` (a rule can make the app's writes vanish) and any DDL on the ledger schema;
- a row trigger that runs BEFORE (or INSTEAD OF) a write and can return NULL, created or with
  its function replaced (``guard_row_trigger``: the app's writes would vanish).

An approval is either for the whole session (the guard allowed a contract revision, or the
revision is legacy) or for one exact statement text (a reasoned exemption in expand/migrate,
or expandcontract's own housekeeping). It is keyed by the backend's pid and start time, so it
dies with the session. Creating an event trigger needs a superuser (``rds_superuser`` on RDS
and Aurora); without one the hook says so once and keeps the client-side guard.

The package: ``ddl`` holds what is installed (the approvals table, the event trigger functions,
the event triggers), ``install`` installs or upgrades it and reads its version and state, and
``approvals`` writes and withdraws the approvals the guard grants.
"""

from expandcontract.enforcement.approvals import (
    grant,
    grant_sql,
    revoke,
    revoke_sql,
    statement_digest,
    user_functions,
)
from expandcontract.enforcement.ddl import APPROVALS, APPROVALS_DDL, TRIGGER_NAMES, enforcement_ddl
from expandcontract.enforcement.install import (
    Enforcement,
    enforcement_status,
    expected_version,
    install,
    installed_version,
)

__all__ = [
    "APPROVALS",
    "APPROVALS_DDL",
    "TRIGGER_NAMES",
    "Enforcement",
    "enforcement_ddl",
    "enforcement_status",
    "expected_version",
    "grant",
    "grant_sql",
    "install",
    "installed_version",
    "revoke",
    "revoke_sql",
    "statement_digest",
    "user_functions",
]
