"""Security headers on every response, and the `safe_href` Jinja filter."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from flask import Flask, Response, request

# Only the app's own files run or style the page; nothing is fetched from elsewhere.
_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "font-src": "'self' data:",
    "connect-src": "'self'",
    "worker-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}

# Characters that never appear in an IRI (RFC 3987) and would break out of an attribute.
_BAD_IRI_CHARS = re.compile(r"[\x00-\x20<>\"{}|\\^`\x7f]")


# Cytoscape injects one fixed <style> (".__________cytoscape_container { position: relative; }");
# allowing exactly that text by its hash keeps style-src otherwise strict.
_CYTOSCAPE_STYLE = "'sha256-pgvDUBa4IjFA2yuSJ2cqcyxmNYJMborsd0ORcRv9vw8='"


def content_security_policy(style_unsafe_inline: bool = False) -> str:
    """Return the CSP header value; ``style_unsafe_inline`` loosens style-src only."""
    directives = dict(_CSP)
    # With 'unsafe-inline' the hash must go: browsers ignore 'unsafe-inline' next to a hash.
    directives["style-src"] = "'self' 'unsafe-inline'" if style_unsafe_inline else (
        f"'self' {_CYTOSCAPE_STYLE}")
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def safe_href(value: object) -> str | None:
    """Return ``value`` if it is an absolute http(s) IRI fit for an href, else None."""
    if value is None:
        return None
    text = str(value)
    if not text or _BAD_IRI_CHARS.search(text):
        return None
    try:
        parts = urlsplit(text)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return text


def init_app(app: Flask) -> None:
    """Register the header hook and the `safe_href` filter and test on ``app``."""
    loose_everywhere = bool(app.config.get("CSP_STYLE_UNSAFE_INLINE"))
    strict, loose = content_security_policy(loose_everywhere), content_security_policy(True)
    loose_endpoints = frozenset(app.config.get("CSP_INLINE_STYLE_ENDPOINTS") or ())
    app.jinja_env.autoescape = True
    app.add_template_filter(safe_href, "safe_href")
    app.add_template_test(lambda v: safe_href(v) is not None, "http_iri")

    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        # Pages whose vendored widget writes style attributes (vis-timeline) get inline
        # styles; scripts stay 'self' on every page.
        policy = loose if request.endpoint in loose_endpoints else strict
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        if "frame-ancestors 'none'" in headers["Content-Security-Policy"]:
            # a page that set its own frame-ancestors (the reconciliation preview) may be framed
            headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response
