"""The one call ``env.py`` makes: :func:`run_migrations`.

It configures Alembic with everything expandcontract needs and runs the migrations:

- one runner at a time (advisory lock), in the project's own transaction mode (one transaction
  for the whole run unless env.py passes ``transaction_per_migration=True``);
- a short ``lock_timeout`` so DDL never queues the app behind a long transaction;
- the contract guard in front of every route that applies a contract revision (the list of
  steps Alembic is about to run is inspected, so revision ids and relative targets are all
  covered), and in front of downgrades of schema the stable release uses;
- ``upgrade head`` / ``heads`` (and ``flask db upgrade``) run as the deploy command: expand and
  migrate, then contract only when the guard allows it, otherwise reported pending;
- a run that starts on a database without an Alembic version table applies every phase;
- runtime phase policing of every statement executed; legacy revisions (at or before the
  adopted baseline) run exactly as before;
- ledger records of every revision applied;
- the ledger and our bookkeeping tables kept out of autogenerate.

PostgreSQL-only features are skipped on SQLite with one line each; other databases are refused.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.environment import EnvironmentContext
from alembic.runtime.migration import MigrationContext, MigrationInfo
from alembic.script import Script, ScriptDirectory
from sqlalchemy.engine import Connection

from expandcontract import enforcement
from expandcontract.autogen import phase_directives
from expandcontract.config import OWN_TABLE_PREFIX, Settings, load_settings
from expandcontract.deploy import (
    DeployReport,
    contract_revisions,
    is_deploy_target,
    judge_held_contract,
    split_contract,
)
from expandcontract.errors import ConfigurationError, ExpandContractError
from expandcontract.guard import ContractGuard, additions, offline
from expandcontract.ledger import QUALIFIED, Event, Ledger, ledger_ddl
from expandcontract.ops import REGISTRY as _OPERATIONS  # noqa: F401  registers op.expand_* ...
from expandcontract.phases import Phase, annotate, is_legacy, phase_of
from expandcontract.runtime import ddl, policing
from expandcontract.runtime.connect import check_reachable, choose_url, create_engine
from expandcontract.runtime.dialects import (
    POSTGRESQL,
    dialect_of,
    require_supported,
    require_sync_connection,
    run_session,
    sync_url,
)
from expandcontract.runtime.state import RunState, attach, run_state

# Set by commands that need the connection env.py would migrate, not a migration (status,
# mark-stable): called with (connection, where its URL came from) instead of running.
PROBE_KEY = "expandcontract.probe"
REPORT_KEY = "expandcontract.deploy_report"


def run_migrations(
    context: EnvironmentContext,
    *,
    connection: Connection | None = None,
    url: str | None = None,
    target_metadata: Any = None,
    **configure_kwargs: Any,
) -> None:
    """Run Alembic's migrations with the contract guard, policing, locking and the ledger.

    Call it from ``env.py`` instead of ``context.configure()`` + ``context.run_migrations()``::

        from alembic import context
        import expandcontract

        expandcontract.run_migrations(context, target_metadata=None)

    Without ``connection`` or ``url`` the database URL comes from ``--database-url`` (CLI),
    ``$DATABASE_URL`` or ``sqlalchemy.url`` in alembic.ini. Extra keyword arguments go to
    ``context.configure()``.
    """
    try:
        _run_migrations(context, connection, url, target_metadata, configure_kwargs)
    except ExpandContractError as err:
        # `flask db` turns every CommandError into exit 1; a refusal keeps its own code.
        if err.exit_code != 1 and _under_flask_db(context):
            print(f"Error: {err}", file=sys.stderr)
            raise SystemExit(err.exit_code) from err
        raise


def _under_flask_db(context: EnvironmentContext) -> bool:
    """Run by ``flask db`` (Flask-Migrate), not by our CLI or plain ``alembic``?

    Flask-Migrate's config class is its own in some versions and Alembic's in others, so the
    test is whether Flask-Migrate is loaded and our CLI is not the caller.
    """
    if context.config.attributes.get("expandcontract.cli"):
        return False
    return "flask_migrate" in sys.modules


def _run_migrations(
    context: EnvironmentContext,
    connection: Connection | None,
    url: str | None,
    target_metadata: Any,
    configure_kwargs: dict[str, Any],
) -> None:
    run = _Run.from_context(context)
    # Import every revision module now: before the migration lock (a module that hangs does
    # not hold it) and before Alembic's `op` is set up (SQL at import time fails, not runs).
    run.load_revisions()
    configure_kwargs["include_object"] = _exclude_own_tables(configure_kwargs.get("include_object"))
    # Autogenerate writes additive changes to expand and destructive ones to contract.
    configure_kwargs["process_revision_directives"] = phase_directives(
        context.script, configure_kwargs.get("process_revision_directives")
    )
    user_callback = configure_kwargs.pop("on_version_apply", None)
    if context.is_offline_mode():
        configure_kwargs["transaction_per_migration"] = False  # one script, one transaction
        configure_kwargs.setdefault("literal_binds", True)
        try:
            offline_url, _ = choose_url(context.config, env_url=url)
        except ConfigurationError:
            offline_url = None  # SQL generation needs no database, only the dialect
        if offline_url:
            offline_url, _ = sync_url(offline_url)
            require_supported(dialect_of(offline_url))
        context.configure(
            url=offline_url,
            dialect_name=None if offline_url else POSTGRESQL,
            target_metadata=target_metadata,
            on_version_apply=_callbacks(run.record_offline, user_callback),
            **configure_kwargs,
        )
        run.install(context.get_context(), offline_mode=True)
        with context.begin_transaction():
            context.run_migrations()
            run.finish_offline(context.get_context())
        return
    if connection is not None:
        require_sync_connection(connection)
    chosen, run.url_source = choose_url(
        context.config, env_url=url, env_connection=connection is not None
    )
    configure_kwargs["on_version_apply"] = _callbacks(run.record_online, user_callback)
    if chosen is None:
        assert connection is not None
        run.online(context, connection, target_metadata, configure_kwargs)
        return
    chosen, note = sync_url(chosen)
    require_supported(dialect_of(chosen))
    if note:
        print(f"expandcontract: {note}", file=sys.stderr)
    engine = create_engine(chosen)
    check_reachable(engine)
    try:
        with engine.connect() as conn:
            run.online(context, conn, target_metadata, configure_kwargs)
    finally:
        engine.dispose()


def _callbacks(ours: Callable[..., None], theirs: Any) -> Callable[..., None]:
    """Our ledger callback, then the project's own ``on_version_apply`` callback(s)."""
    if theirs is None:
        return ours
    chained = [ours, *(theirs if isinstance(theirs, list | tuple) else [theirs])]

    def call_all(**kwargs: Any) -> None:
        for callback in chained:
            callback(**kwargs)

    return call_all


class _Run:
    """The state of one ``run_migrations`` call."""

    def __init__(
        self,
        script: ScriptDirectory,
        settings: Settings,
        force_reason: str | None,
    ) -> None:
        self.script = script
        self.settings = settings
        self.force_reason = force_reason
        self.state = RunState()
        self.ledger: Ledger | None = None
        self.destination: Any = None
        self.url_source = ""
        self.fresh = False
        self.report = DeployReport()
        self.config_attributes: dict[str, Any] = {}
        self.offline_guard: str | None = None  # the guard block, repeated after every COMMIT
        self.offline_approvals = 0  # statement approvals written into the offline script

    @classmethod
    def from_context(cls, context: EnvironmentContext) -> _Run:
        config = context.config
        settings = config.attributes.get("expandcontract.settings")
        if settings is None:
            base = Path(config.config_file_name).parent if config.config_file_name else None
            settings = load_settings(base)
        x_args = context.get_x_argument(as_dictionary=True)
        force = config.attributes.get("expandcontract.force_reason") or x_args.get("force_reason")
        run = cls(context.script, settings, force)
        # env.py passes the ``alembic.context`` proxy module; the options live on its target.
        environment = getattr(context, "_proxy", None) or context
        run.destination = getattr(environment, "context_opts", {}).get("destination_rev")
        run.config_attributes = config.attributes
        return run

    def load_revisions(self) -> None:
        try:
            revisions = list(self.script.walk_revisions())
        except Exception as err:
            if isinstance(err, ConfigurationError):
                raise
            raise ConfigurationError(
                f"cannot import the revisions: {type(err).__name__}: {err} (a revision module "
                "must not run SQL when it is imported: move it into upgrade())"
            ) from err
        annotate(self.script)  # phases from each file's own labels, legacy revisions aside
        legacy = frozenset(rev.revision for rev in revisions if is_legacy(rev))
        self.state.extras[policing.LEGACY] = legacy
        self.state.extras[policing.APPROVED] = set()

    # -- online ---------------------------------------------------------------------------

    def online(
        self,
        context: EnvironmentContext,
        connection: Connection,
        target_metadata: Any,
        configure_kwargs: dict[str, Any],
    ) -> None:
        dialect = connection.dialect.name
        require_supported(dialect)
        probe = self.config_attributes.get(PROBE_KEY)
        if probe is not None:
            probe(connection, self.url_source)
            return
        if connection.in_transaction():
            connection.commit()
        with run_session(connection, self.settings) as postgresql:
            self.fresh = not sa.inspect(connection).has_table(
                configure_kwargs.get("version_table", "alembic_version"),
                schema=configure_kwargs.get("version_table_schema"),
            )
            self.report.fresh_database = self.fresh
            self.ledger = Ledger(connection)
            self.ledger.ensure()
            self.ledger.check_protected()
            self._install_enforcement(connection)
            connection.commit()
            context.configure(
                connection=connection, target_metadata=target_metadata, **configure_kwargs
            )
            migration_context = context.get_context()
            self.install(migration_context, offline_mode=False)
            listener = policing.before_cursor_execute(self.state)
            if postgresql:
                ddl.install(migration_context, self.settings)  # short lock waits, retried
                sa.event.listen(connection, "before_cursor_execute", listener)
            try:
                with context.begin_transaction():
                    context.run_migrations()
            except BaseException as err:
                if connection.in_transaction():
                    connection.rollback()  # the failed revision (or run); committed ones are kept
                masked = err.__context__
                if isinstance(err, sa.exc.InvalidRequestError) and isinstance(
                    masked, ExpandContractError
                ):
                    # A refusal inside an autocommit block: closing the run's transaction then
                    # fails too ("inactive"); the refusal is what the user must see.
                    raise masked from None
                raise
            else:
                if connection.in_transaction():
                    connection.commit()
            finally:
                if postgresql:
                    sa.event.remove(connection, "before_cursor_execute", listener)
                self.state.current = None
                if postgresql:
                    self._revoke_approvals(connection)
            self._finish_report()

    def _revoke_approvals(self, connection: Connection) -> None:
        """Approvals end with the run, whatever happened (a dead connection has none left)."""
        if not self.state.extras.get(policing.ENFORCED):
            return
        with contextlib.suppress(sa.exc.DBAPIError):
            if connection.in_transaction():
                connection.rollback()
            connection.exec_driver_sql(enforcement.revoke_sql())
            connection.commit()

    def _install_enforcement(self, connection: Connection) -> None:
        if connection.dialect.name != POSTGRESQL:
            return
        status = enforcement.install(connection)
        self.state.extras[policing.ENFORCED] = True  # the approvals table exists either way
        self.state.extras[policing.USER_FUNCTIONS] = enforcement.user_functions
        if status.upgraded_from:
            sys.stderr.write(
                f"expandcontract: server-side guard upgraded from version {status.upgraded_from} "
                f"to {status.installed}\n"
            )
        elif not status.enabled or not status.current:
            sys.stderr.write(f"expandcontract: server-side guard {status.describe()}\n")

    def _finish_report(self) -> None:
        self.config_attributes[REPORT_KEY] = self.report
        if not self.config_attributes.get("expandcontract.cli"):
            self.report.print_pending()  # plain alembic / flask db: say why contract waits

    # -- shared ---------------------------------------------------------------------------

    def install(self, migration_context: MigrationContext, offline_mode: bool) -> None:
        self.state.offline = offline_mode
        attach(migration_context, self.state)
        if offline_mode:
            self._police_offline(migration_context)
        original = migration_context._migrations_fn
        if original is None:
            return
        migration_context._migrations_fn = self._guarded(original)

    def _guarded(self, original: Callable[..., Iterable[Any]]) -> Callable[..., Iterator[Any]]:
        # command.upgrade's step function is named "upgrade": a deploy target there means
        # "bring the database up to date", which we plan ourselves (Alembic's "head" fails on
        # the three phase heads, and a soaking contract must not fail the deploy).
        deploy = getattr(original, "__name__", "") == "upgrade" and is_deploy_target(
            self.destination
        )

        def steps_fn(heads: Any, migration_context: MigrationContext) -> Iterator[Any]:
            if deploy:
                steps = list(self.script._upgrade_revs("heads", heads))
                # Offline, the script's guard block decides when it runs (all or nothing).
                now, held = (steps, []) if self.state.offline else split_contract(steps)
            else:
                now, held = list(original(heads, migration_context)), []
            contract = contract_revisions(now)
            legacy = self.state.extras.get(policing.LEGACY, frozenset())
            reverting = [
                step.revision
                for step in now
                if isinstance(getattr(step, "revision", None), Script)
                and not step.is_upgrade
                and step.revision.revision not in legacy
            ]
            self.state.extras[policing.DOWNGRADE_ADDS] = {
                rev.revision: additions(rev) for rev in reverting
            }
            if self.state.offline:
                self._emit_offline_preamble(migration_context, now, contract)
            elif not self.fresh:
                self._guard_online(migration_context, contract, reverting)
            yield from self._tracked(now, migration_context, contract)
            if held and not self.state.offline and self._contract_may_run(held):
                yield from self._tracked(held, migration_context, contract_revisions(held))

        return steps_fn

    def _tracked(
        self, steps: list[Any], migration_context: MigrationContext, contract: list[Script]
    ) -> Iterator[Any]:
        per_step = migration_context.opts.get("transaction_per_migration")
        for step in steps:
            rev = getattr(step, "revision", None)
            if isinstance(rev, Script):
                if rev in contract and per_step and not self.state.offline:
                    self._record_started(rev.revision)
                self.state.enter(rev.revision, phase_of(rev), rev.module, step.is_upgrade)
                if step.is_upgrade:
                    self.report.applied.append(rev.revision)
            else:
                self.state.current = None
            yield step
        self.state.current = None

    def _contract_may_run(self, held: list[Any]) -> bool:
        """Deploy mode, after expand and migrate ran: may the held contract steps run now?"""
        if self.fresh:
            return True  # no release can be using a schema that did not exist
        assert self.ledger is not None
        guard = ContractGuard(self.script, self.ledger, self.settings)
        self.state.internal += 1
        try:
            allowed = judge_held_contract(guard, held, self.force_reason, self.report)
            if allowed:
                self.state.extras[policing.APPROVED].update(
                    rev.revision for rev in contract_revisions(held)
                )
            return allowed
        finally:
            self.state.internal -= 1

    def _guard_online(
        self, migration_context: MigrationContext, contract: list[Script], reverting: list[Script]
    ) -> None:
        if not contract and not reverting:
            return
        assert self.ledger is not None
        guarded_reverting = [rev for rev in reverting if phase_of(rev) is not Phase.CONTRACT]
        connection = self.ledger.connection
        guard = ContractGuard(self.script, self.ledger, self.settings)
        self.state.internal += 1
        try:
            for verdict in (
                guard.evaluate(contract) if contract else None,
                guard.evaluate_downgrade(guarded_reverting) if guarded_reverting else None,
            ):
                if verdict is None:
                    continue
                try:
                    guard.enforce(verdict, self.force_reason)
                    self.report.forced |= not verdict.allowed  # enforce let it through: forced
                finally:
                    # The refusal or forced override is recorded even though nothing runs.
                    connection.commit()
        finally:
            self.state.internal -= 1
        # Allowed (or forced): the server-side guard may let these steps through.
        self.state.extras[policing.APPROVED].update(rev.revision for rev in [*contract, *reverting])

    def _record_started(self, revision: str) -> None:
        """A trace of the attempt, committed before the step (see :mod:`expandcontract.ops.resume`)."""
        assert self.ledger is not None
        self.state.current = None
        self.state.internal += 1
        try:
            self.ledger.record(Event.CONTRACT_STARTED, revision=revision, phase=str(Phase.CONTRACT))
            self.ledger.connection.commit()
        finally:
            self.state.internal -= 1

    def _emit_offline_preamble(
        self, migration_context: MigrationContext, steps: list[Any], contract: list[Script]
    ) -> None:
        if not steps:
            return
        # psql's defaults run on after an error: the script stops at the first one instead.
        migration_context.impl.static_output(offline.STOP_ON_ERROR)
        # The script runs in one transaction: SET LOCAL keeps the short lock wait to it.
        _emit(migration_context, f"SET LOCAL lock_timeout = {self.settings.lock_timeout_ms}")
        for statement in [*ledger_ddl(), *enforcement.APPROVALS_DDL]:
            _emit(migration_context, statement)
        if not contract:
            return
        ids = [rev.revision for rev in contract]
        if self.force_reason:
            _emit(
                migration_context,
                offline.ledger_insert(
                    QUALIFIED,
                    Event.CONTRACT_FORCED,
                    details={"revisions": ids, "reason": self.force_reason},
                ),
            )
        else:
            guard = ContractGuard(self.script, None, self.settings)
            self.offline_guard = offline.guard_block(guard.offline_plan(contract))
            _emit(migration_context, self.offline_guard)
            self._repeat_guard_after_commits(migration_context)
        _emit(migration_context, enforcement.grant_sql(",".join(ids), "offline script"))

    def _repeat_guard_after_commits(self, migration_context: MigrationContext) -> None:
        """Re-check the guard after every COMMIT/BEGIN the script contains (autocommit steps)."""
        impl = migration_context.impl
        guard = self.offline_guard
        assert guard is not None
        for name in ("emit_commit", "emit_begin"):
            emitted = getattr(impl, name)

            def emit_then_guard(emitted: Callable[[], None] = emitted) -> None:
                emitted()
                _emit(migration_context, guard)

            setattr(impl, name, emit_then_guard)

    def _police_offline(self, migration_context: MigrationContext) -> None:
        """Offline, policing judges every statement as it is written into the script.

        A destructive statement nobody exempted stops the rendering, as it stops an online run;
        one that passed only thanks to its revision's reasoned exemption (or a legacy step's
        destructive statement) is preceded by its approval, keyed to the exact text psql will
        send, so the server-side guard lets that statement, and no other, through.
        """
        impl = migration_context.impl
        written = impl.static_output

        def police_then_write(text: str) -> None:
            step = self.state.current
            for statement, sent in offline.psql_statements(text):
                if step is not None and policing.offline_approval(self.state, statement):
                    approval = enforcement.grant_sql(
                        step.revision, policing.approval_reason(step), sent
                    )
                    written(approval + impl.command_terminator)
                    self.offline_approvals += 1
            written(text)

        impl.static_output = police_then_write  # type: ignore[method-assign]

    def finish_offline(self, migration_context: MigrationContext) -> None:
        """The script's approvals end with it."""
        if self.offline_guard is not None or self.force_reason or self.offline_approvals:
            _emit(migration_context, enforcement.revoke_sql())

    # -- ledger records -------------------------------------------------------------------

    def _events(self, step: MigrationInfo) -> list[tuple[Event, dict[str, Any]]]:
        if not step.is_migration:
            return []
        events = []
        for rev_id in step.up_revision_ids:  # on a downgrade: the revisions being removed
            revision = self.script.get_revision(rev_id)
            phase = phase_of(revision) if revision is not None else None
            fields: dict[str, Any] = {"revision": rev_id, "phase": str(phase) if phase else None}
            if self.fresh:
                fields["details"] = {"fresh_database": True}
            if step.is_upgrade:
                events.append((Event.PHASE_APPLIED, fields))
                if phase is Phase.CONTRACT:
                    events.append((Event.CONTRACT_APPLIED, fields))
            else:
                events.append((Event.PHASE_REVERTED, fields))
        return events

    def record_online(self, ctx: MigrationContext, step: MigrationInfo, *_: Any, **__: Any) -> None:
        assert self.ledger is not None
        self.state.internal += 1
        try:
            for event, fields in self._events(step):
                self.ledger.record(event, **fields)
            if self.state.extras.pop(policing.GRANTED, None) is not None:
                # The step's session approval ends with the step, in its transaction.
                ctx.connection.exec_driver_sql(enforcement.revoke_sql())  # type: ignore[union-attr]
        finally:
            self.state.internal -= 1

    def record_offline(
        self, ctx: MigrationContext, step: MigrationInfo, *_: Any, **__: Any
    ) -> None:
        for event, fields in self._events(step):
            _emit(ctx, offline.ledger_insert(QUALIFIED, event, **fields))


def _emit(migration_context: MigrationContext, statement: str) -> None:
    """Write one of our own statements to the offline script verbatim (no parameter escaping
    of ``%``); offline policing does not judge it (it is not the revision's)."""
    impl = migration_context.impl
    state = run_state(migration_context)
    if state is not None:
        state.internal += 1
    try:
        impl.static_output(statement.strip() + impl.command_terminator)
    finally:
        if state is not None:
            state.internal -= 1


def _exclude_own_tables(
    user_filter: Callable[..., bool] | None,
) -> Callable[..., bool]:
    """Keep the ledger and our bookkeeping tables out of autogenerate."""

    def include_object(
        obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
    ) -> bool:
        table_name = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", "")
        if (table_name or "").startswith(OWN_TABLE_PREFIX):
            return False
        return user_filter(obj, name, type_, reflected, compare_to) if user_filter else True

    return include_object
