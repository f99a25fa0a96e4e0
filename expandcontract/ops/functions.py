"""SQL functions that carry one definition of a conversion, shared by sync trigger and backfill."""

from __future__ import annotations

from dataclasses import dataclass

from expandcontract.ops.sqltext import qualified


@dataclass(frozen=True)
class SqlFunction:
    """A helper function: ``name(args) RETURNS returns AS $$body$$``.

    The split-column pattern defines its parse and compose steps this way, so the trigger that
    converts live writes and the backfill that converts old rows run the very same code.
    """

    name: str
    args: str
    returns: str
    body: str
    language: str = "sql"
    volatility: str = "IMMUTABLE"

    def create_sql(self) -> str:
        return (
            f"CREATE OR REPLACE FUNCTION {qualified(self.name)}({self.args}) "
            f"RETURNS {self.returns} LANGUAGE {self.language} {self.volatility} "
            f"AS $ec_fn$\n{self.body.strip()}\n$ec_fn$"
        )

    def drop_sql(self) -> str:
        # DROP FUNCTION ignores argument names, so the declared list identifies the function.
        return f"DROP FUNCTION IF EXISTS {qualified(self.name)}({self.args})"
