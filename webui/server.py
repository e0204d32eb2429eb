"""Run the web UI: waitress in production, Flask's dev server only with debug."""

from __future__ import annotations

import contextlib
import logging
import resource
import signal
import threading
from typing import TYPE_CHECKING, Any

from flask import Flask

from kb.derived import bitmaps as claimbitmaps
from kb.derived import claimindex, eventbuild, remoteindex
from webui import connections, create_app

if TYPE_CHECKING:
    from kb import KnowledgeBase

log = logging.getLogger("ckb.server")
_CHEAP_THREADS = 8  # waitress threads heavy queries can never take
# One reading ahead at a time: the claim index keeper calls _derived_ready on every poll (1 s),
# and at 10M on Virtuoso each reading's first query takes 8 s alone; started anew each second,
# they piled up on the server until a 4 ms registry read waited 60 s.
_remote_reading = threading.Lock()


def _derived_ready(kb: KnowledgeBase) -> None:
    """Read the claim bitmaps and the event index (kb.derived) in the background, if not held."""
    claimbitmaps.ready(kb)
    eventbuild.ready(kb)
    if remoteindex.is_remote(kb) and _remote_reading.acquire(blocking=False):
        # a SPARQL server's KB keeps its pages' state apart (kb.views.remoteevents)
        threading.Thread(target=_remote_ready, args=(kb,), daemon=True, name="ckb-remote-ready").start()


def _remote_ready(kb: KnowledgeBase) -> None:
    """Read a SPARQL server's event index, class counts and dated relations into memory (from the
    files 'ckb --endpoint … index' keeps, else from the server), before the first page asks."""
    from kb.derived import classcounts
    from kb.views import remoteevents
    from kb.views.timeline import dated_relations

    try:
        # Each on its own: one that fails (a time limit under load) leaves the others read ahead.
        for step in (lambda: classcounts.read(kb, wait=0),
                     lambda: dated_relations(kb, timeout=remoteevents.READ_TIMEOUT),
                     lambda: remoteevents.read(kb, wait=remoteevents.READ_TIMEOUT)):
            try:
                step()
            except Exception as err:  # the pages read them again, and say why if they cannot
                log.info("remote pages' derived state not read ahead: %s", err)
    finally:
        _remote_reading.release()


def serve(
    kb: KnowledgeBase,
    host: str = "127.0.0.1",
    port: int = 5000,
    debug: bool = False,
    **config: Any,
) -> None:
    """Serve ``kb`` over HTTP until interrupted; ``config`` keys go to create_app."""
    app = create_app({"KB": kb, **config})
    keeper = None
    if app.config.get("CLAIM_INDEX") and claimindex.supported(kb):
        # after writes, pages are quick again once the index is rebuilt and read into bitmaps
        keeper = claimindex.Keeper(kb, then=_derived_ready).start()
    _derived_ready(kb)  # a current index is read into bitmaps now, not on the first request
    try:
        _run(app, host, port, debug)
    finally:
        warmer = app.extensions.get("ckb.warmer")
        if warmer is not None:
            # Let the page being built finish before the caller closes the store under it.
            warmer.stop(wait=float(app.config.get("QUERY_TIMEOUT") or getattr(kb, "timeout", 10.0)) + 5)
        if keeper is not None:
            keeper.stop()  # a build under way ends when the store closes (its write waits for none)


def _run(app: Flask, host: str, port: int, debug: bool) -> None:
    url = f"http://{'[' + host + ']' if ':' in host else host}:{port}/"
    if debug:
        # The reloader would start a second process with a second store: keep it off.
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    if threading.current_thread() is threading.main_thread():
        # SIGTERM (systemd, docker, kill) ends the server the way Ctrl-C does, so the
        # caller's cleanup runs: query workers stopped, temporary dumps removed.
        signal.signal(signal.SIGTERM, _stop)
    _more_descriptors()
    # Waitress, with per-address connection caps and request read limits (webui.connections).
    server = connections.create_server(app, exempt=frozenset(app.config.get("TRUSTED_PROXIES") or ()),
                                       host=host, port=port, **waitress_options(app))
    print(f"conflict-kb serving on {url} (SPARQL endpoint: {url}sparql)", flush=True)
    server.run()


def _more_descriptors() -> None:
    # Every open connection is a descriptor: lift the soft limit (often 1024) to what the total
    # connection limit needs, within the hard limit.
    with contextlib.suppress(ValueError, OSError):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = connections.TOTAL + 1024
        if soft != resource.RLIM_INFINITY and soft < want:
            resource.setrlimit(resource.RLIMIT_NOFILE,
                               (want if hard == resource.RLIM_INFINITY else min(want, hard), hard))


def waitress_options(app: Flask) -> dict[str, Any]:
    """The waitress settings ``ckb serve`` runs ``app`` with."""
    admission = app.extensions.get("ckb.admission")
    heavy = getattr(admission, "heavy_threads", 0)
    return {
        # Enough threads that requests wait in webui.admission (which sees their deadline and
        # their lane), never in waitress's own queue; a waiting thread only sleeps. Heavy
        # queries hold at most ``heavy`` of them (running or queued; beyond: 503 at once), so
        # at least _CHEAP_THREADS always remain for cheap work, whatever THREADS says.
        "threads": max(int(app.config.get("THREADS") or 32), heavy + _CHEAP_THREADS),
        # Above Flask's limit, so Flask answers 413 with its own page; waitress only stops
        # bodies far beyond it before they are buffered.
        # An upload to /import (only with an update token) may be larger, up to IMPORT_MAX_BYTES;
        # Flask still holds every other view to MAX_CONTENT_LENGTH.
        "max_request_body_size": max(4 * int(app.config["MAX_CONTENT_LENGTH"]), _upload_limit(app)),
        "ident": "conflict-kb",
        # Waitress drops X-Forwarded-For by default; webui.admission reads it itself, and only
        # from the proxies named in TRUSTED_PROXIES.
        "clear_untrusted_proxy_headers": not app.config.get("TRUSTED_PROXIES"),
    }


def _upload_limit(app: Flask) -> int:
    """The body size /import needs (its form's overhead included), or 0 on a read-only server."""
    if not app.config.get("UPDATE_TOKEN"):
        return 0
    return int(app.config.get("IMPORT_MAX_BYTES") or 0) + 64 * 1024


def _stop(signum: int, frame: object) -> None:
    raise KeyboardInterrupt
