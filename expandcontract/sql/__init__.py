"""SQL understanding shared by runtime phase policing and the linter."""

from expandcontract.sql.classify import Change, Effect, SqlParseError, classify, split_statements

__all__ = ["Change", "Effect", "SqlParseError", "classify", "split_statements"]
