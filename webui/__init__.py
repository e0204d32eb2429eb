"""The conflict-kb web UI: a Flask app factory over one KnowledgeBase."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from flask import Flask, current_app

if TYPE_CHECKING:
    from kb import KnowledgeBase

# Every blueprint of the app, as "module" (exposing `bp`). Page blueprints go here too;
# the order matters only for routes that would otherwise clash.
BLUEPRINTS: list[str] = [
    "webui.sparql", "webui.graphstore",
    "webui.downloads",
    "webui.home", "webui.query", "webui.entity", "webui.ontology_pages", "webui.timeline", "webui.reader",
    "webui.map", "webui.events",
    "webui.claims", "webui.sources", "webui.actors",
    "webui.reconcile", "webui.importing", "webui.annotate", "webui.complete",
]

DEFAULT_CONFIG: dict[str, Any] = {
    "KB": None,  # a ready KnowledgeBase; otherwise one is opened from CKB_STORE / CKB_MEMORY
    "CKB_STORE": None,  # path of an on-disk store
    "CKB_MEMORY": True,  # in-memory store when no CKB_STORE is given
    "UPDATE_TOKEN": None,  # None = read-only endpoint
    "ANNOTATION_DIR": None,  # the reader's annotation sheets (None: beside an on-disk store; webui.annotate)
    "BASE_IRI": None,  # base for relative IRIs in queries and updates (None: the /sparql URL)
    "QUERY_TIMEOUT": None,  # seconds per query (None: the kb's own), enforced by its worker
    "ROW_LIMIT": None,  # rows per answer (None: the kb's own); more -> truncated flag
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # request body limit (413 above it)
    "IMPORT_MAX_BYTES": 64 * 1024 * 1024,  # an upload to /import (webui.importing; 413 above it)
    "MAX_QUERY_LENGTH": 100_000,  # characters per query or update (413 above it)
    "QUERY_BUDGET": 60.0,  # seconds of query time per client per minute (429 beyond it)
    "FAST_QUERY_LIMIT": 0.5,  # a SPARQL query's slice in the interactive lane before it counts as heavy
    "HEAVY_QUEUE": 4,  # heavy queries that may wait for a heavy worker (503 at once beyond)
    "HEAVY_PER_CLIENT": 1,  # heavy queries one client may have at a time (429 beyond)
    "TRUSTED_PROXIES": (),  # addresses whose X-Forwarded-For names the client
    "PAGE_CACHE_BYTES": 64 * 1024 * 1024,  # rendered browsing pages kept per store generation (0: off)
    "CLAIM_INDEX": False,  # ckb serve: rebuild a stale claim index in the background (kb.derived.claimindex)
    "WARM_PAGES": (),  # paths rendered ahead after start and after each write (ckb serve: webui.warm.LANDING)
    "CSP_STYLE_UNSAFE_INLINE": False,  # True: allow inline styles on every page
    # Endpoints whose vendored widgets write style attributes (vis-timeline): inline styles
    # allowed there only. Scripts are never loosened.
    "CSP_INLINE_STYLE_ENDPOINTS": ("timeline.index",),
}


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app; ``config`` overrides DEFAULT_CONFIG."""
    app = Flask(__name__)
    app.config.from_mapping(DEFAULT_CONFIG)
    if config:
        app.config.from_mapping(config)
    app.json.sort_keys = False  # keep result order (variables, rows) as the kb gives it

    kb = app.config["KB"]
    if kb is None:
        kb = _open_kb(app)
    if app.config["UPDATE_TOKEN"] and not getattr(kb, "update_token", None):
        # The kb checks the token again on update(); give it the one this app serves with.
        kb.update_token = app.config["UPDATE_TOKEN"]
    app.extensions["ckb"] = kb
    from webui import admission

    admission.init_app(app, kb)
    from webui import pagecache

    pagecache.init_app(app, kb)

    from webui import errors, security  # local: they import webui.get_kb indirectly

    security.init_app(app)
    errors.init_app(app)
    for module_name in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp)
    from webui import warm

    warm.init_app(app, kb)  # last: it renders pages through the finished app
    return app


def _open_kb(app: Flask) -> KnowledgeBase:
    """Open (and fill, if empty) the store the config names."""
    from kb import KnowledgeBase

    path = app.config["CKB_STORE"]
    options = {"update_token": app.config["UPDATE_TOKEN"]}
    if app.config["QUERY_TIMEOUT"]:
        options["timeout"] = float(app.config["QUERY_TIMEOUT"])
    if app.config["ROW_LIMIT"]:
        options["row_limit"] = int(app.config["ROW_LIMIT"])
    kb = KnowledgeBase.open(path, memory=path is None and bool(app.config["CKB_MEMORY"]), **options)
    kb.ensure_loaded()
    return kb


def get_kb() -> KnowledgeBase:
    """Return the KnowledgeBase of the current app."""
    return current_app.extensions["ckb"]
