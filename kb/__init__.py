"""conflict-kb: armed actors, their backers and alliances, clashes, and the claims behind them."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Public name -> the module that defines it. Imported on first use (PEP 562), so a query
# worker, which imports kb.query.worker only, starts without loading rdflib and pySHACL.
_EXPORTS = {
    "KnowledgeBase": "api",
    "ReasonReport": "reasoning.facade",
    "default_store_path": "api",
    "ForbiddenQuery": "errors",
    "KBError": "errors",
    "ParseError": "errors",
    "QuerySyntaxError": "errors",
    "QueryTimeout": "errors",
    "QueryResult": "query.results",
}

__all__ = [
    "ForbiddenQuery",
    "KBError",
    "KnowledgeBase",
    "ParseError",
    "QueryResult",
    "QuerySyntaxError",
    "QueryTimeout",
    "ReasonReport",
    "__version__",
    "default_store_path",
]

if TYPE_CHECKING:
    from .api import KnowledgeBase, default_store_path
    from .errors import ForbiddenQuery, KBError, ParseError, QuerySyntaxError, QueryTimeout
    from .query.results import QueryResult
    from .reasoning.facade import ReasonReport


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'kb' has no attribute {name!r}")
