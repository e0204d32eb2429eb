"""Content negotiation: one table of formats, Accept parsing with q-values, ?format=."""

from __future__ import annotations

from dataclasses import dataclass

# Result kinds: "select"/"ask" (SPARQL results), "graph" (CONSTRUCT/DESCRIBE, one graph),
# "dataset" (several named graphs), "page" (HTML for people).
RESULTS = frozenset({"select", "ask"})
GRAPH = frozenset({"graph", "dataset"})


@dataclass(frozen=True)
class Format:
    """One serialisation: the name kb understands, its media type and file extension."""

    name: str  # passed to QueryResult.serialize / kb.export.rdf
    media_type: str
    ext: str
    kinds: frozenset[str]
    label: str
    w3c: str | None = None  # http://www.w3.org/ns/formats/ IRI (service description)
    aliases: tuple[str, ...] = ()  # other media types and ?format= names that mean this
    text: bool = True  # add "; charset=utf-8"


_W3C = "http://www.w3.org/ns/formats/"

# The one table. Order = server preference when the client does not care.
FORMATS: tuple[Format, ...] = (
    Format("json", "application/sparql-results+json", "srj", RESULTS, "SPARQL JSON",
           _W3C + "SPARQL_Results_JSON", ("application/json", "srj"), text=False),
    Format("xml", "application/sparql-results+xml", "srx", RESULTS, "SPARQL XML",
           _W3C + "SPARQL_Results_XML", ("application/xml", "text/xml", "srx")),
    # SPARQL 1.1 CSV defines no form for an ASK answer (TSV does).
    Format("csv", "text/csv", "csv", frozenset({"select"}), "CSV", _W3C + "SPARQL_Results_CSV"),
    Format("tsv", "text/tab-separated-values", "tsv", RESULTS, "TSV",
           _W3C + "SPARQL_Results_TSV"),
    Format("turtle", "text/turtle", "ttl", GRAPH, "Turtle", _W3C + "Turtle",
           ("application/x-turtle", "ttl")),
    Format("nt", "application/n-triples", "nt", GRAPH, "N-Triples", _W3C + "N-Triples",
           ("ntriples", "n-triples")),
    Format("jsonld", "application/ld+json", "jsonld", GRAPH, "JSON-LD", _W3C + "JSON-LD",
           ("application/json", "json-ld")),
    Format("xml", "application/rdf+xml", "rdf", GRAPH, "RDF/XML", _W3C + "RDF_XML",
           ("application/xml", "text/xml", "rdfxml", "owl")),
    Format("nq", "application/n-quads", "nq", frozenset({"dataset"}), "N-Quads",
           _W3C + "N-Quads", ("nquads", "n-quads")),
    Format("trig", "application/trig", "trig", frozenset({"dataset"}), "TriG", _W3C + "TriG"),
    Format("html", "text/html", "html", frozenset({"page"}), "HTML",
           aliases=("application/xhtml+xml",)),
)


def formats_for(kind: str) -> list[Format]:
    """Return the formats that can carry a result of ``kind``, in preference order."""
    return [f for f in FORMATS if kind in f.kinds]


def content_type(fmt: Format) -> str:
    """Return the Content-Type header value for ``fmt``."""
    return f"{fmt.media_type}; charset=utf-8" if fmt.text else fmt.media_type


def by_ext(ext: str, kind: str) -> Format | None:
    """Return the format of file extension ``ext`` (or its name) for ``kind``."""
    ext = ext.lower()
    for fmt in formats_for(kind):
        if ext in (fmt.ext, fmt.name):
            return fmt
    return None


def by_name(name: str, kind: str) -> Format | None:
    """Resolve a ?format= value (name, extension, media type or alias) for ``kind``."""
    wanted = name.strip().lower().split(";")[0].strip()
    for fmt in formats_for(kind):
        if wanted in (fmt.name, fmt.ext, fmt.media_type, *fmt.aliases):
            return fmt
    return None


@dataclass(frozen=True)
class _Range:
    type: str
    subtype: str
    q: float
    order: int

    def matches(self, media_type: str) -> int:
        """Return the specificity (3 exact, 2 type/*, 1 */*) of a match, 0 for none."""
        main, _, sub = media_type.partition("/")
        if self.type == "*":
            return 1
        if self.type != main:
            return 0
        if self.subtype == "*":
            return 2
        return 3 if self.subtype == sub else 0


def parse_accept(header: str | None) -> list[_Range]:
    """Parse an Accept header into media ranges; a missing header accepts anything."""
    if not header or not header.strip():
        return [_Range("*", "*", 1.0, 0)]
    ranges = []
    for order, item in enumerate(header.split(",")):
        media, *params = (part.strip() for part in item.split(";"))
        if "/" not in media:
            if media == "*":  # some clients send a bare "*"
                media = "*/*"
            else:
                continue
        q = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0  # a malformed weight counts as "not acceptable"
        main, _, sub = media.lower().partition("/")
        ranges.append(_Range(main, sub or "*", q, order))
    return ranges


def quality(ranges: list[_Range], media_type: str) -> float:
    """Return the q-value the client gives ``media_type`` (most specific range wins)."""
    best_spec, best_q = 0, 0.0
    for rng in ranges:
        spec = rng.matches(media_type)
        if spec > best_spec:
            best_spec, best_q = spec, rng.q
        elif spec == best_spec and spec and rng.q > best_q:
            best_q = rng.q
    return best_q


def _format_quality(ranges: list[_Range], fmt: Format) -> float:
    """Return the best q over a format's media type and its media-type aliases."""
    types = [fmt.media_type, *(a for a in fmt.aliases if "/" in a)]
    # An alias only counts when named explicitly, so */* picks the canonical type.
    explicit = [quality([r for r in ranges if r.matches(t) == 3], t) for t in types[1:]]
    return max([quality(ranges, fmt.media_type), *explicit])


def negotiate(accept: str | None, kind: str, override: str | None = None) -> Format | None:
    """Pick the format for ``kind``: a ?format= that names one wins, else the client's best q."""
    # Clients add ?format= on their own (SPARQLWrapper sends format=n3, rdf+xml, or json on a
    # CONSTRUCT); a value naming no format for this kind falls back to the Accept header.
    fmt = by_name(override, kind) if override else None
    if fmt is not None:
        return fmt
    ranges = parse_accept(accept)
    best, best_q = None, 0.0
    for fmt in formats_for(kind):
        q = _format_quality(ranges, fmt)
        if q > best_q:  # strict: ties go to the server's order
            best, best_q = fmt, q
    return best


def prefers_html(accept: str | None) -> bool:
    """True when the client ranks text/html above every machine format (a browser)."""
    ranges = parse_accept(accept)
    html_q = quality(ranges, "text/html")
    if html_q <= 0 or not accept:
        return False
    others = [_format_quality(ranges, f) for f in FORMATS if "page" not in f.kinds]
    # A browser's "*/*;q=0.8" must not beat its explicit text/html.
    return html_q >= max(others, default=0.0) and quality(
        [r for r in ranges if r.type != "*"], "text/html"
    ) > 0


def acceptable_types(kind: str) -> list[str]:
    """Return the media types available for ``kind`` (for a 406 message)."""
    return [f.media_type for f in formats_for(kind)]
