"""Security headers, the safe_href filter, escaping and error pages without tracebacks."""

from __future__ import annotations

import json

import pytest

from kb.errors import KBError
from webui import create_app
from webui.negotiation import negotiate, parse_accept, prefers_html, quality
from webui.security import content_security_policy, safe_href

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy",
           "X-Frame-Options")


def _csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in policy.split(";"))


def _plain_get_routes(app) -> list[str]:
    return sorted(
        rule.rule for rule in app.url_map.iter_rules()
        if "GET" in rule.methods and not rule.arguments and rule.endpoint != "static"
    )


def test_every_page_has_the_security_headers(app, client):
    routes = _plain_get_routes(app)
    assert "/sparql" in routes and "/export" in routes
    for route in [*routes, "/no/such/page", "/static/vendor/MANIFEST.json"]:
        r = client.get(route, headers={"Accept": BROWSER})
        r.close()  # static files are streamed
        for header in HEADERS:
            assert header in r.headers, (route, header)
        csp = _csp(r)
        assert csp["script-src"] == "'self'", route
        assert csp["object-src"] == "'none'" and csp["frame-ancestors"] == "'none'"
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"


def test_csp_never_loosens_scripts():
    for loose in (False, True):
        policy = content_security_policy(loose)
        script = next(p for p in policy.split(";") if p.strip().startswith("script-src"))
        assert "unsafe" not in script
    assert "'unsafe-inline'" in content_security_policy(True).split("style-src")[1].split(";")[0]
    assert "unsafe" not in content_security_policy(False)


def test_inline_styles_only_where_configured(app, client):
    timeline = client.get("/timeline", headers={"Accept": BROWSER})
    assert "'unsafe-inline'" in _csp(timeline)["style-src"]
    assert _csp(timeline)["script-src"] == "'self'"
    for route in ("/", "/export", "/query"):
        style = _csp(client.get(route, headers={"Accept": BROWSER}))["style-src"]
        assert "unsafe" not in style and style.startswith("'self'")


@pytest.mark.parametrize("value", [
    "https://w3id.org/conflict-kb/id/hezbollah", "http://example.org/a?b=c#d",
])
def test_safe_href_allows_http_iris(value):
    assert safe_href(value) == value


@pytest.mark.parametrize("value", [
    "javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<b>x</b>", "ftp://x.org/a",
    "urn:isbn:123", "/relative/path", "//evil.example/x", "http://", "http://a b.org/",
    'https://x.org/"onmouseover="alert(1)', "https://x.org/<script>", "", None,
    " https://x.org/", "https://x.org/\nx", "mailto:a@b.org",
])
def test_safe_href_rejects_everything_else(value):
    assert safe_href(value) is None


def test_filters_registered_and_autoescape_on(app):
    env = app.jinja_env
    assert "safe_href" in env.filters
    with app.test_request_context():
        tmpl = env.from_string("<a href='{{ v|safe_href }}'>{{ v }}</a>")
        html = tmpl.render(v="https://x.org/<b>")
    assert "<b>" not in html and "&lt;b&gt;" in html
    assert "href='None'" in html


def test_user_input_is_escaped_in_error_pages(client):
    payload = "<script>alert(1)</script>"
    # An unknown format= now falls back to Accept; a bad graph IRI is still echoed in a 400.
    r = client.get("/sparql", query_string={"query": "ASK {}", "default-graph-uri": payload},
                   headers={"Accept": BROWSER})
    assert r.status_code == 400
    assert r.mimetype == "text/html"
    page = r.data.decode()
    assert payload not in page
    assert "&lt;script&gt;" in page


@pytest.mark.parametrize(("accept", "mimetype"), [
    (BROWSER, "text/html"), ("application/json", "application/json"),
    ("*/*", "text/plain"), (None, "text/plain"),
])
def test_error_pages_match_the_client(client, accept, mimetype):
    headers = {"Accept": accept} if accept else {}
    r = client.get("/no/such/page", headers=headers)
    assert r.status_code == 404
    assert r.mimetype == mimetype
    body = r.data.decode()
    if mimetype == "application/json":
        assert json.loads(body)["error"]["status"] == 404
    assert "Traceback" not in body


def test_unexpected_errors_give_500_without_traceback(mini_kb):
    app = create_app({"KB": mini_kb})

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals /etc/passwd")

    @app.route("/kb-error")
    def kb_error():
        raise KBError("a readable one-line message")

    client = app.test_client()
    for accept in (BROWSER, "application/json", "*/*"):
        r = client.get("/boom", headers={"Accept": accept})
        assert r.status_code == 500
        body = r.data.decode()
        assert "secret internals" not in body and "Traceback" not in body
        assert "Content-Security-Policy" in r.headers
    r = client.get("/kb-error")
    assert r.status_code == 400
    assert "a readable one-line message" in r.data.decode()


def test_accept_parsing():
    ranges = parse_accept("text/*;q=0.3, text/html;q=0.7, text/html;level=1, */*;q=0.5")
    assert quality(ranges, "text/html") == 1.0
    assert quality(ranges, "text/plain") == 0.3
    assert quality(ranges, "image/png") == 0.5
    assert quality(parse_accept("text/csv;q=abc"), "text/csv") == 0.0
    assert negotiate("text/turtle;q=0.2, application/ld+json", "graph").name == "jsonld"
    assert negotiate("application/json", "select").name == "json"
    assert negotiate("application/json", "graph").name == "jsonld"
    assert negotiate(None, "graph").name == "turtle"
    assert negotiate("image/png", "select") is None
    assert prefers_html(BROWSER)
    assert not prefers_html("*/*") and not prefers_html(None)
    assert not prefers_html("text/turtle, text/html;q=0.5")
