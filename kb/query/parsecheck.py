"""The parse check inside a worker: each query text parsed once, within a CPU-time budget.

The checker (``kb.query.guard``, rdflib's SPARQL grammar) is pure Python and costs about 0.5 s
to import, so only workers (and the fork server's template) load it; a query it cannot read
is put to Oxigraph, whose syntax error points more precisely.
"""

from __future__ import annotations

import gc
import signal
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import pyoxigraph as ox

from kb.errors import ForbiddenQuery, QuerySyntaxError, QueryTimeout

if TYPE_CHECKING:  # the checker (rdflib's SPARQL grammar) loads in workers only: see load_checker()
    from kb.query import guard

CHECK_LIMIT = 2.0  # seconds the parse check may take (at most half the job's limit): then 400, not 503


class _CheckTooSlow(Exception):
    """The parse check ran out of its time budget."""


def _stop_check(signum: int, frame: object) -> None:
    raise _CheckTooSlow


class Analyses:
    """Parse results by query text: a repeated query is checked once per worker."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self.cache: OrderedDict[tuple[str, bool], guard.Analysis] = OrderedDict()

    def get(self, text: str, update: bool, timeout: float) -> guard.Analysis:
        """The analysis of ``text``, computed within its share of the job's time limit."""
        key = (text, update)
        found = self.cache.get(key)
        if found is not None:
            self.cache.move_to_end(key)
            return found
        budget = min(CHECK_LIMIT, timeout / 2) if timeout else CHECK_LIMIT
        load_checker()  # imported outside the alarm: an import cut short leaves broken modules
        # The parser is pure Python, so a Python signal handler can stop it mid-parse. The
        # budget is CPU time (ITIMER_VIRTUAL): a busy machine slows the parse's wall clock, not
        # its cost, and must not turn a good query into a 400. Wall time stays bounded by the
        # parent, which kills the worker at the job's deadline.
        # An exception raised by a signal handler while the collector runs a finalizer is
        # swallowed ("Exception ignored in ..."), and the parse would run on unbounded: the
        # collector pauses while the alarm is armed, and the alarm repeats until disarmed.
        collecting = gc.isenabled()
        gc.disable()
        previous = signal.signal(signal.SIGVTALRM, _stop_check)
        signal.setitimer(signal.ITIMER_VIRTUAL, budget, min(budget, 0.05))
        try:
            try:
                found = _analyse(text, update)
            finally:
                signal.setitimer(signal.ITIMER_VIRTUAL, 0)
        except _CheckTooSlow:
            if budget < CHECK_LIMIT:
                # The job's own time limit cut the check short (a request that waited for a
                # worker has little left): it ran out of time, which is a 503, not a bad query.
                raise QueryTimeout(timeout) from None
            kind = "update" if update else "query"
            raise ForbiddenQuery(f"the {kind} took longer than {budget:g} s of CPU time to check; "
                                 "shorten or simplify it") from None
        finally:
            signal.signal(signal.SIGVTALRM, previous)
            if collecting:
                gc.enable()
        self.cache[key] = found
        if len(self.cache) > self.size:
            self.cache.popitem(last=False)
        return found


def load_checker() -> Any:
    """The query checker module; importing it costs ~0.5 s, so the server process never does."""
    from kb.query import guard

    return guard


def _analyse(text: str, update: bool) -> guard.Analysis:
    try:
        return load_checker().analyse(text, update)
    except QuerySyntaxError:
        if load_checker().may_reach_network(text):
            # The probe would evaluate what the checker could not read: text that could spell
            # SERVICE or LOAD ("2SERVICE", which the engine reads as 2 and SERVICE) never runs,
            # fence or no fence (--no-sandbox). The checker's own message is the answer.
            raise
        # Oxigraph is the authority on syntax and points at the error more precisely: if it
        # refuses too, its SyntaxError is the answer. The probe store is empty and thrown
        # away, and the text cannot name a service or a document to load.
        probe = ox.Store()
        if update:
            probe.update(text)
        else:
            probe.query(text)
        raise
