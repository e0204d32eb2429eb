"""What /timeline and /map share: the event index, the filters they take (those of /events), the choices.

Both pages read the event index (kb.derived.eventbuild.ready). On a small store it is built in
well under a second, so a page waits for it briefly; on a big one that was just written the
page answers 503 with Retry-After (never cached) until the background build is done.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from werkzeug.exceptions import BadRequest, ServiceUnavailable

from kb.derived import eventbuild
from kb.derived.events import EventFilters
from kb.derived.memo import memo
from kb.errors import KBError
from kb.views import remoteevents

WAIT_SECONDS = 10.0  # a page waits this long for the index before answering 503
FILTERS = ("from", "to", "graph", "country", "actor", "type")  # shown on the two pages
CHOICES = 40  # datasets and countries offered in the filter lists


def _keeps_index(kb: Any) -> bool:
    """Whether the store can keep an event index (an embedded one: the test eventbuild.ready makes)."""
    reads = getattr(getattr(kb, "backend", None), "reading", None) is not None
    return reads and memo(kb, "event-index") is not None


def index_of(kb: Any) -> Any:
    """The event index of the store as it is now, waiting up to WAIT_SECONDS; 503 after that. A
    store that keeps none (a SPARQL server) is read through SPARQL for this request."""
    if not _keeps_index(kb):
        return remoteevents.read(kb)
    index = eventbuild.ready(kb)
    deadline = time.monotonic() + WAIT_SECONDS
    while index is None and time.monotonic() < deadline:
        time.sleep(0.02)
        index = eventbuild.ready(kb)
    if index is None:
        raise ServiceUnavailable("The event index of this store is being built; this page is ready in a "
                                 "few seconds.", retry_after=5)
    return index


def parse_filters(args: Any) -> EventFilters:
    """The request's event filters (as /events names them); a bad one is a 400 with its reason."""
    try:
        return EventFilters.parse(args)
    except KBError as e:
        raise BadRequest(str(e)) from None


def shown_filters(f: EventFilters) -> dict[str, str]:
    """The filters as the form shows them: every name of FILTERS, "" when unset."""
    active = f.active()
    return {name: active.get(name, "") for name in FILTERS}


def query_string(f: EventFilters, **extra: str) -> str:
    """The filters (and extra parameters) as a query string, in a stable order."""
    active = f.active()
    active.update({k: v for k, v in extra.items() if v})
    return urlencode(sorted(active.items()))


def choices(index: Any, mask: Any) -> dict[str, list[tuple[str, str, int]]]:
    """Datasets, countries and kinds among ``mask`` for the filter lists: (IRI, words, count)."""
    found = index.facets(mask, CHOICES, ("graph", "country", "type"))
    return {
        "datasets": [(v, eventbuild.graph_label(v), n) for v, n in found["graph"]],
        "countries": sorted(((v, index.label(v), n) for v, n in found["country"]), key=lambda c: c[1]),
        "kinds": sorted(((v, index.label(v), n) for v, n in found["type"]), key=lambda c: c[1]),
    }


def filter_context(index: Any, f: EventFilters) -> dict[str, Any]:
    """What _event_filters.html needs: the filters as shown, the choices, the actor's name."""
    # the lists count over the whole store: a chosen value stays offered whatever else is chosen
    return {"filters": shown_filters(f), "choices": choices(index, index.every),
            "actor_label": index.label(f.actor) if f.actor else "", "active": bool(f.active())}
