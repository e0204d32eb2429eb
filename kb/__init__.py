"""conflict-kb: armed actors, their backers and alliances, clashes, and the claims behind them."""

from .api import KnowledgeBase, ReasonReport, default_store_path
from .errors import ForbiddenQuery, KBError, ParseError, QuerySyntaxError, QueryTimeout
from .results import QueryResult

__version__ = "0.1.0"

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
