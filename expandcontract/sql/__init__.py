"""SQL understanding shared by runtime phase policing and the linter."""

from expandcontract.sql.classify import Change, Effect, SqlParseError, classify, split_statements
from expandcontract.sql.removals import UNSEEN_KINDS, Removed, removes

__all__ = [
    "UNSEEN_KINDS",
    "Change",
    "Effect",
    "Removed",
    "SqlParseError",
    "classify",
    "removes",
    "split_statements",
]
