"""Classify PostgreSQL statements by what they do to a schema two app versions share.

One classifier, used both at run time (phase policing) and by ``expandcontract check``, so the
two can never disagree. Statements are parsed with pglast, PostgreSQL's own parser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pglast
from pglast import ast
from pglast.enums import AlterTableType, ConstrType, DropBehavior, ObjectType
from pglast.stream import RawStream

from expandcontract.errors import ExpandContractError


class SqlParseError(ExpandContractError):
    """A statement PostgreSQL's parser rejects."""


class Effect(StrEnum):
    """What a change means for the version that does not know about it."""

    ADDITIVE = "additive"  # both versions keep working (new column, table, index, ...)
    DESTRUCTIVE = "destructive"  # breaks a version still using the old shape
    DATA = "data"  # reads or writes rows, no schema change
    VALIDATE = "validate"  # checks existing rows against a constraint added NOT VALID
    NEUTRAL = "neutral"  # session settings, transaction control, comments
    OPAQUE = "opaque"  # procedural code we cannot see into (DO blocks, CALL)


@dataclass(frozen=True)
class Change:
    """One thing a statement does. A statement can do several (``ALTER TABLE`` with many commands)."""

    kind: str
    effect: Effect
    sql: str
    table: str | None = None
    column: str | None = None
    name: str | None = None
    flags: frozenset[str] = field(default_factory=frozenset)
    # Functions a DML statement calls (lower-case, as written): policing asks the database
    # which of them are user-defined, because those can do anything. For a trigger, the
    # function it runs (as the parser resolved the name).
    calls: frozenset[str] = field(default_factory=frozenset)

    @property
    def destructive(self) -> bool:
        return self.effect is Effect.DESTRUCTIVE

    @property
    def is_ddl(self) -> bool:
        return self.effect in (Effect.ADDITIVE, Effect.DESTRUCTIVE, Effect.OPAQUE) or (
            self.kind in ("validate_constraint", "lock_table")
        )

    def describe(self) -> str:
        target = ".".join(part for part in (self.table, self.column) if part)
        return f"{self.kind.replace('_', ' ').upper()}" + (f" {target}" if target else "")


# Defaults that PostgreSQL evaluates per row, forcing a table rewrite when a column is added.
VOLATILE_FUNCTIONS = frozenset(
    {
        "random",
        "gen_random_uuid",
        "uuid_generate_v4",
        "uuid_generate_v1",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
    }
)


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (dollar quoting and comments handled by the real scanner)."""
    try:
        return [s.strip() for s in pglast.split(sql) if s.strip()]
    except pglast.parser.ParseError as err:
        raise SqlParseError(f"cannot parse SQL: {err}") from err


def classify(sql: str) -> list[Change]:
    """Every change the statements in ``sql`` make, in order."""
    try:
        parsed = pglast.parse_sql(sql)
    except pglast.parser.ParseError as err:
        raise SqlParseError(f"cannot parse SQL: {err}: {sql.strip()[:200]}") from err
    changes: list[Change] = []
    for raw in parsed:
        start = raw.stmt_location or 0
        text = sql[start : start + raw.stmt_len].strip() if raw.stmt_len else sql[start:].strip()
        if raw.stmt is not None:
            changes.extend(_classify_stmt(raw.stmt, text))
    return changes


def _name(node: ast.RangeVar | None) -> str | None:
    if node is None:
        return None
    return f"{node.schemaname}.{node.relname}" if node.schemaname else node.relname


def _dotted(names: tuple | None) -> str:
    return ".".join(getattr(part, "sval", str(part)) for part in names or ())


def _classify_stmt(stmt: ast.Node, sql: str) -> list[Change]:
    handler = _HANDLERS.get(type(stmt))
    if handler is None:
        return [Change(_snake(type(stmt).__name__), Effect.NEUTRAL, sql)]
    return handler(stmt, sql)


def _snake(name: str) -> str:
    name = name.removesuffix("Stmt")
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name).lstrip("_")


def _create_table(stmt: ast.CreateStmt, sql: str) -> list[Change]:
    return [Change("create_table", Effect.ADDITIVE, sql, table=_name(stmt.relation))]


def _create_table_as(stmt: ast.CreateTableAsStmt, sql: str) -> list[Change]:
    return [
        Change(
            "create_table", Effect.ADDITIVE, sql, table=_name(stmt.into.rel if stmt.into else None)
        )
    ]


def _index(stmt: ast.IndexStmt, sql: str) -> list[Change]:
    flags = {"concurrently"} if stmt.concurrent else set()
    if stmt.unique:
        flags.add("unique")
    return [
        Change(
            "create_index",
            Effect.ADDITIVE,
            sql,
            table=_name(stmt.relation),
            name=stmt.idxname,
            flags=frozenset(flags),
        )
    ]


_DROP_KINDS: dict[ObjectType | None, str] = {
    ObjectType.OBJECT_TABLE: "drop_table",
    ObjectType.OBJECT_INDEX: "drop_index",
    ObjectType.OBJECT_SCHEMA: "drop_schema",
    ObjectType.OBJECT_VIEW: "drop_view",
    ObjectType.OBJECT_MATVIEW: "drop_view",
    ObjectType.OBJECT_TRIGGER: "drop_trigger",
    ObjectType.OBJECT_FUNCTION: "drop_function",
    ObjectType.OBJECT_SEQUENCE: "drop_sequence",
    ObjectType.OBJECT_TYPE: "drop_type",
}


def _drop(stmt: ast.DropStmt, sql: str) -> list[Change]:
    kind = _DROP_KINDS.get(stmt.removeType, "drop_other")
    flags = {"concurrently"} if stmt.concurrent else set()
    changes = []
    for obj in stmt.objects or ():
        if isinstance(obj, tuple):
            name = _dotted(obj)
        elif isinstance(obj, ast.ObjectWithArgs):
            name = _dotted(obj.objname)
        else:
            name = str(getattr(obj, "sval", obj))
        table = name if kind == "drop_table" else None
        if kind == "drop_trigger" and isinstance(obj, tuple) and len(obj) >= 2:
            table, name = _dotted(obj[:-1]), _dotted(obj[-1:])
        changes.append(
            Change(kind, Effect.DESTRUCTIVE, sql, table=table, name=name, flags=frozenset(flags))
        )
    if stmt.behavior == DropBehavior.DROP_CASCADE:
        changes.append(_cascade(sql))
    return changes


def _cascade(sql: str) -> Change:
    # CASCADE removes whatever depends on the named object (a column whose type is dropped, a
    # view, a foreign key): its own kind, so an exemption for the named object does not cover it.
    return Change("cascade", Effect.DESTRUCTIVE, sql)


def _rename(stmt: ast.RenameStmt, sql: str) -> list[Change]:
    table = _name(stmt.relation)
    if stmt.renameType == ObjectType.OBJECT_COLUMN:
        return [Change("rename_column", Effect.DESTRUCTIVE, sql, table, stmt.subname, stmt.newname)]
    if stmt.renameType == ObjectType.OBJECT_TABLE:
        return [Change("rename_table", Effect.DESTRUCTIVE, sql, table, name=stmt.newname)]
    if stmt.renameType == ObjectType.OBJECT_TABCONSTRAINT:
        return [Change("rename_constraint", Effect.NEUTRAL, sql, table, name=stmt.newname)]
    return [Change("rename_other", Effect.DESTRUCTIVE, sql, table, name=stmt.newname)]


def _is_volatile(expr: ast.Node | None) -> bool:
    if expr is None:
        return False
    if isinstance(expr, ast.FuncCall):
        return _dotted(expr.funcname).split(".")[-1].lower() in VOLATILE_FUNCTIONS
    return any(
        _is_volatile(getattr(expr, attr, None))
        for attr in ("arg", "args", "lexpr", "rexpr")
        if isinstance(getattr(expr, attr, None), ast.Node)
    )


def _add_column(table: str | None, coldef: ast.ColumnDef, sql: str) -> Change:
    flags: set[str] = set()
    for constraint in coldef.constraints or ():
        if constraint.contype == ConstrType.CONSTR_NOTNULL:
            flags.add("not_null")
        elif constraint.contype == ConstrType.CONSTR_DEFAULT:
            flags.add("default")
            if _is_volatile(constraint.raw_expr):
                flags.add("volatile_default")
        elif constraint.contype in (ConstrType.CONSTR_PRIMARY, ConstrType.CONSTR_UNIQUE):
            flags.add("unique")
        elif constraint.contype == ConstrType.CONSTR_FOREIGN:
            flags.add("foreign_key")
        elif constraint.contype == ConstrType.CONSTR_GENERATED:
            flags.add("generated")
    type_name = _dotted(coldef.typeName.names) if coldef.typeName else ""
    if type_name.split(".")[-1] in ("serial", "bigserial", "smallserial"):
        flags.update({"default", "volatile_default"})
    # A NOT NULL column without a default makes every insert of the old version fail.
    breaking = "not_null" in flags and "default" not in flags
    effect = Effect.DESTRUCTIVE if breaking else Effect.ADDITIVE
    return Change("add_column", effect, sql, table, coldef.colname, flags=frozenset(flags))


_CONSTRAINT_NAMES = {
    ConstrType.CONSTR_CHECK: "check",
    ConstrType.CONSTR_FOREIGN: "foreign_key",
    ConstrType.CONSTR_UNIQUE: "unique",
    ConstrType.CONSTR_PRIMARY: "primary_key",
    ConstrType.CONSTR_EXCLUSION: "exclusion",
}


def _alter_table(stmt: ast.AlterTableStmt, sql: str) -> list[Change]:
    table = _name(stmt.relation)
    changes: list[Change] = []
    for cmd in stmt.cmds or ():
        subtype = cmd.subtype
        if subtype == AlterTableType.AT_AddColumn:
            changes.append(_add_column(table, cmd.def_, sql))
        elif subtype == AlterTableType.AT_DropColumn:
            changes.append(Change("drop_column", Effect.DESTRUCTIVE, sql, table, cmd.name))
            if cmd.behavior == DropBehavior.DROP_CASCADE:
                changes.append(_cascade(sql))
        elif subtype == AlterTableType.AT_AlterColumnType:
            changes.append(_alter_column_type(table, cmd, sql))
        elif subtype == AlterTableType.AT_SetNotNull:
            changes.append(Change("set_not_null", Effect.DESTRUCTIVE, sql, table, cmd.name))
        elif subtype == AlterTableType.AT_DropNotNull:
            changes.append(Change("drop_not_null", Effect.ADDITIVE, sql, table, cmd.name))
        elif subtype == AlterTableType.AT_ColumnDefault:
            kind, effect = (
                ("set_default", Effect.ADDITIVE)
                if cmd.def_
                else ("drop_default", Effect.DESTRUCTIVE)
            )
            changes.append(Change(kind, effect, sql, table, cmd.name))
        elif subtype == AlterTableType.AT_AddConstraint:
            constraint = cmd.def_
            flags = {_CONSTRAINT_NAMES.get(constraint.contype, "other")}
            if constraint.skip_validation:
                flags.add("not_valid")
            if constraint.indexname:
                flags.add("using_index")
            changes.append(
                Change(
                    "add_constraint",
                    Effect.ADDITIVE,
                    sql,
                    table,
                    name=constraint.conname,
                    flags=frozenset(flags),
                )
            )
        elif subtype == AlterTableType.AT_ValidateConstraint:
            changes.append(
                Change("validate_constraint", Effect.VALIDATE, sql, table, name=cmd.name)
            )
        elif subtype == AlterTableType.AT_DropConstraint:
            changes.append(Change("drop_constraint", Effect.DESTRUCTIVE, sql, table, name=cmd.name))
            if cmd.behavior == DropBehavior.DROP_CASCADE:
                changes.append(_cascade(sql))
        elif subtype in _DISABLING:
            # A disabled sync trigger stops filling the new columns; a disabled rule or
            # trigger changes what the running release's writes do.
            changes.append(Change("disable_trigger", Effect.DESTRUCTIVE, sql, table, name=cmd.name))
        elif subtype in _ENABLING:
            changes.append(Change("alter_trigger", Effect.NEUTRAL, sql, table, name=cmd.name))
        else:
            name = subtype.name.removeprefix("AT_")
            changes.append(
                Change("alter_table_other", Effect.DESTRUCTIVE, sql, table, cmd.name, name=name)
            )
    return changes


_DISABLING = frozenset(
    {
        AlterTableType.AT_DisableTrig,
        AlterTableType.AT_DisableTrigAll,
        AlterTableType.AT_DisableTrigUser,
        AlterTableType.AT_DisableRule,
    }
)
_ENABLING = frozenset(
    {
        AlterTableType.AT_EnableTrig,
        AlterTableType.AT_EnableAlwaysTrig,
        AlterTableType.AT_EnableReplicaTrig,
        AlterTableType.AT_EnableTrigAll,
        AlterTableType.AT_EnableTrigUser,
        AlterTableType.AT_EnableRule,
        AlterTableType.AT_EnableAlwaysRule,
        AlterTableType.AT_EnableReplicaRule,
    }
)


def function_calls(node: object) -> frozenset[str]:
    """The names of every function called anywhere in ``node`` (lower-case, as written)."""
    found: set[str] = set()
    stack: list[object] = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, tuple | list):
            stack.extend(item)
        elif isinstance(item, ast.Node):
            if isinstance(item, ast.FuncCall):
                found.add(_dotted(item.funcname).lower())
            stack.extend(getattr(item, name) for name in item)
    return frozenset(found)


def _alter_column_type(table: str | None, cmd: ast.AlterTableCmd, sql: str) -> Change:
    """``name`` is the new type as SQL; the ``using`` flag marks a USING expression. Whether
    the change is safe depends on the old type too (see :mod:`expandcontract.sql.type_changes`)."""
    column_def: Any = cmd.def_
    new_type = RawStream()(column_def.typeName) if column_def.typeName else None
    flags = frozenset({"using"}) if column_def.raw_default is not None else frozenset()
    return Change(
        "alter_column_type", Effect.DESTRUCTIVE, sql, table, cmd.name, name=new_type, flags=flags
    )


def _dml(kind: str):
    def handler(stmt: ast.Node, sql: str) -> list[Change]:
        relation = getattr(stmt, "relation", None)
        flags: set[str] = set()
        effect = Effect.DATA
        if kind in ("update", "delete") and getattr(stmt, "whereClause", None) is None:
            flags.add("whole_table")
            # Every row of a table both releases use. A DELETE is a wipe, and so is an UPDATE
            # that overwrites a column with a constant (SET b = NULL). An UPDATE computing each
            # row's value from its other columns is a backfill (migrate's job; the linter says
            # when it is unbatched).
            if kind == "delete" or _overwrites_with_constant(stmt):
                effect = Effect.DESTRUCTIVE
        calls = function_calls(stmt)
        changes = [
            Change(kind, effect, sql, table=_name(relation), flags=frozenset(flags), calls=calls)
        ]
        if any(name.rsplit(".", 1)[-1] == "setval" for name in calls):
            changes.append(Change("sequence_reset", Effect.DESTRUCTIVE, sql))
        return changes

    return handler


def _overwrites_with_constant(stmt: Any) -> bool:
    """True when some ``SET col = value`` reads no column of the row (a constant, NULL, now())."""
    return any(not _reads_a_column(target.val) for target in stmt.targetList or ())


def _reads_a_column(node: Any) -> bool:
    if isinstance(node, ast.ColumnRef):
        return True
    if isinstance(node, ast.Node):
        return any(_reads_a_column(getattr(node, name)) for name in node)
    if isinstance(node, tuple | list):
        return any(_reads_a_column(item) for item in node)
    return False


def _truncate(stmt: ast.TruncateStmt, sql: str) -> list[Change]:
    return [
        Change("truncate", Effect.DESTRUCTIVE, sql, table=_name(rel))
        for rel in stmt.relations or ()
    ]


# CreateTrigStmt.timing / .events use pg_trigger.tgtype's bits.
_TRIGGER_BEFORE, _TRIGGER_INSTEAD = 2, 64
_TRIGGER_EVENTS = {"insert": 4, "delete": 8, "update": 16}


def _create_trigger(stmt: ast.CreateTrigStmt, sql: str) -> list[Change]:
    """Additive by itself; a row trigger that runs BEFORE (or INSTEAD OF) the write decides
    what happens to each row (``decides_rows``), so policing reads its function (``calls``)
    to see whether it can make the running release's writes vanish."""
    flags = {event for event, bit in _TRIGGER_EVENTS.items() if (stmt.events or 0) & bit}
    if stmt.row and (stmt.timing or 0) & (_TRIGGER_BEFORE | _TRIGGER_INSTEAD):
        flags.add("decides_rows")
    if stmt.replace:
        flags.add("or_replace")
    return [
        Change(
            "create_trigger",
            Effect.ADDITIVE,
            sql,
            _name(stmt.relation),
            name=stmt.trigname,
            flags=frozenset(flags),
            calls=frozenset({_dotted(stmt.funcname)}),
        )
    ]


def _create_function(stmt: ast.CreateFunctionStmt, sql: str) -> list[Change]:
    flags = frozenset({"or_replace"}) if stmt.replace else frozenset()
    return [
        Change("create_function", Effect.ADDITIVE, sql, name=_dotted(stmt.funcname), flags=flags)
    ]


def _simple(kind: str, effect: Effect):
    def handler(stmt: ast.Node, sql: str) -> list[Change]:
        return [Change(kind, effect, sql)]

    return handler


def _option_flags(options: tuple | None, known: frozenset[str]) -> frozenset[str]:
    names = {getattr(option, "defname", None) for option in options or ()}
    return frozenset(name for name in names if name in known)


def _vacuum(stmt: ast.VacuumStmt, sql: str) -> list[Change]:
    # VACUUM FULL rewrites the table under an ACCESS EXCLUSIVE lock; the linter wants to know.
    return [Change("vacuum", Effect.NEUTRAL, sql, flags=_option_flags(stmt.options, _FULL))]


def _reindex(stmt: ast.ReindexStmt, sql: str) -> list[Change]:
    flags = _option_flags(stmt.params, _CONCURRENTLY)
    return [Change("reindex", Effect.NEUTRAL, sql, name=stmt.name, flags=flags)]


_FULL = frozenset({"full"})
_CONCURRENTLY = frozenset({"concurrently"})


def _alter_enum(stmt: ast.AlterEnumStmt, sql: str) -> list[Change]:
    # Adding a value is additive; renaming one breaks the release that still writes the old one.
    if stmt.oldVal:
        return [Change("rename_enum_value", Effect.DESTRUCTIVE, sql, name=_dotted(stmt.typeName))]
    return [Change("alter_type", Effect.ADDITIVE, sql)]


def _grant(stmt: ast.GrantStmt, sql: str) -> list[Change]:
    # A REVOKE can take away what the running release needs to read or write.
    if stmt.is_grant:
        return [Change("grant", Effect.NEUTRAL, sql)]
    return [Change("revoke", Effect.DESTRUCTIVE, sql)]


def _alter_sequence(stmt: ast.AlterSeqStmt, sql: str) -> list[Change]:
    # Restarting a sequence hands out keys that already exist: the next inserts collide.
    restart = _option_flags(stmt.options, frozenset({"restart"}))
    kind, effect = (
        ("sequence_reset", Effect.DESTRUCTIVE) if restart else ("alter_sequence", Effect.NEUTRAL)
    )
    return [Change(kind, effect, sql, name=_name(stmt.sequence))]


def _set_schema(stmt: ast.AlterObjectSchemaStmt, sql: str) -> list[Change]:
    table = _name(stmt.relation) if stmt.relation is not None else None
    return [Change("set_schema", Effect.DESTRUCTIVE, sql, table=table, name=stmt.newschema)]


def _lock(stmt: ast.LockStmt, sql: str) -> list[Change]:
    return [
        Change("lock_table", Effect.NEUTRAL, sql, table=_name(rel)) for rel in stmt.relations or ()
    ]


_HANDLERS = {
    ast.CreateStmt: _create_table,
    ast.CreateTableAsStmt: _create_table_as,
    ast.IndexStmt: _index,
    ast.DropStmt: _drop,
    ast.RenameStmt: _rename,
    ast.AlterTableStmt: _alter_table,
    ast.UpdateStmt: _dml("update"),
    ast.DeleteStmt: _dml("delete"),
    ast.InsertStmt: _dml("insert"),
    ast.SelectStmt: _dml("select"),
    ast.CopyStmt: _dml("copy"),
    ast.TruncateStmt: _truncate,
    ast.CreateTrigStmt: _create_trigger,
    ast.CreateFunctionStmt: _create_function,
    ast.ViewStmt: _simple("create_view", Effect.ADDITIVE),
    ast.CreateSchemaStmt: _simple("create_schema", Effect.ADDITIVE),
    ast.CreateSeqStmt: _simple("create_sequence", Effect.ADDITIVE),
    ast.CreateEnumStmt: _simple("create_type", Effect.ADDITIVE),
    ast.CompositeTypeStmt: _simple("create_type", Effect.ADDITIVE),
    ast.CreateExtensionStmt: _simple("create_extension", Effect.ADDITIVE),
    ast.AlterEnumStmt: _alter_enum,
    # SET SCHEMA moves the object away from the name the old release uses.
    ast.AlterObjectSchemaStmt: _set_schema,
    ast.DropOwnedStmt: _simple("drop_owned", Effect.DESTRUCTIVE),
    ast.GrantStmt: _grant,
    ast.CommentStmt: _simple("comment", Effect.NEUTRAL),
    ast.VariableSetStmt: _simple("set", Effect.NEUTRAL),
    ast.TransactionStmt: _simple("transaction", Effect.NEUTRAL),
    ast.DoStmt: _simple("do_block", Effect.OPAQUE),
    ast.CallStmt: _simple("call", Effect.OPAQUE),
    # A rule can turn the running release's writes into nothing (DO INSTEAD NOTHING).
    ast.RuleStmt: _simple("create_rule", Effect.DESTRUCTIVE),
    ast.AlterSeqStmt: _alter_sequence,
    # The app's role losing LOGIN, a password or a membership takes the release down.
    ast.AlterRoleStmt: _simple("alter_role", Effect.DESTRUCTIVE),
    ast.AlterRoleSetStmt: _simple("alter_role", Effect.DESTRUCTIVE),
    ast.DropRoleStmt: _simple("alter_role", Effect.DESTRUCTIVE),
    ast.CreateRoleStmt: _simple("create_role", Effect.NEUTRAL),
    ast.LockStmt: _lock,
    ast.VacuumStmt: _vacuum,
    ast.ReindexStmt: _reindex,
}
