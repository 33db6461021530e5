"""Strict content negotiation for /sparql results: Accept with q-values and wildcards, or `format=`.

    fmt = choose(request.headers.get("Accept"), RESULT_FORMATS, request.args.get("format"))
    fmt.content_type   # e.g. "application/sparql-results+json; charset=utf-8"

Rules (RFC 9110 §12.5.1):
- Each offer takes the q of the most specific range that matches it (type/subtype over type/* over
  */*; a range with parameters other than q must match the offer's parameters, so
  `text/csv;header=absent` does not match). q=0 means "not this".
- The highest q wins; ties go to the server's order (the first offer is the default for `*/*` or no
  Accept at all).
- Nothing acceptable: `NotAcceptable` (406), whose message lists every media type and `format=` name.
- `format=` overrides Accept. Its values (the parameter may repeat, and a value may be a comma list:
  SPARQLWrapper sends `format=tsv&format=text/tab-separated-values`) are short names or media types;
  the first one we have wins. When none is known: `UnknownFormat` (400) — the client named something
  precise, so guessing would be wrong.
"""

from dataclasses import dataclass

UTF8 = "; charset=utf-8"


@dataclass(frozen=True)
class Format:
    key: str  # what the query worker calls it
    media_type: str
    names: tuple[str, ...]  # accepted `format=` values (besides the media type)
    aliases: tuple[str, ...] = ()  # other media types clients send for it
    textual: bool = True  # gets "; charset=utf-8"

    @property
    def content_type(self) -> str:
        return self.media_type + (UTF8 if self.textual else "")

    def media_types(self) -> tuple[str, ...]:
        return (self.media_type, *self.aliases)


RESULT_FORMATS = (
    Format("json", "application/sparql-results+json", ("json", "srj"), ("application/json",)),
    Format("xml", "application/sparql-results+xml", ("xml", "srx"), ("application/xml", "text/xml")),
    Format("csv", "text/csv", ("csv",)),
    Format("tsv", "text/tab-separated-values", ("tsv",)),
)
GRAPH_FORMATS = (
    # Turtle is a subset of N3, so a client asking for N3 (SPARQLWrapper's format=n3) can read Turtle.
    Format("turtle", "text/turtle", ("turtle", "ttl", "n3"),
           ("application/x-turtle", "application/turtle", "text/n3", "text/rdf+n3", "application/n3")),
    Format("ntriples", "application/n-triples", ("ntriples", "nt", "n-triples"), ("text/plain",)),
    Format("rdfxml", "application/rdf+xml", ("rdfxml", "rdf", "rdf+xml", "xml"), ("application/xml",)),
    # JSON-LD's media type has no charset parameter (it is always UTF-8: JSON-LD 1.1 §C).
    Format("jsonld", "application/ld+json", ("jsonld", "json-ld", "json"),
           ("application/json", "application/x-json+ld"),
           textual=False),
    Format("trig", "application/trig", ("trig",)),
    Format("nquads", "application/n-quads", ("nquads", "nq", "n-quads")),
)


class NegotiationError(Exception):
    def __init__(self, message: str, offers: tuple[Format, ...]):
        super().__init__(message)
        self.offers = offers


class NotAcceptable(NegotiationError):
    """406: nothing the client accepts is on offer."""


class UnknownFormat(NegotiationError):
    """400: `format=` names no format we have for this kind of result."""


@dataclass(frozen=True)
class MediaRange:
    type: str
    subtype: str
    params: tuple[tuple[str, str], ...]
    q: float

    def matches(self, media_type: str) -> int:
        """Specificity of the match (3 exact, 2 type/*, 1 */*), or 0 when it does not match."""
        kind, _, sub = media_type.partition("/")
        if self.params:
            return 0  # our offers carry no parameters, so a range that requires one never matches
        if self.type == "*" and self.subtype == "*":
            return 1
        if self.type == kind and self.subtype == "*":
            return 2
        if self.type == kind and self.subtype == sub:
            return 3
        return 0


def parse_accept(header: str | None) -> list[MediaRange]:
    """The ranges of an Accept header; malformed entries are skipped (as RFC 9110 lets a server do)."""
    ranges = []
    for part in (header or "").split(","):
        pieces = [p.strip() for p in part.split(";")]
        media = pieces[0].lower()
        if "/" not in media:
            continue
        kind, _, sub = media.partition("/")
        if not kind or not sub or (kind == "*" and sub != "*"):
            continue
        q = 1.0
        params = []
        for param in pieces[1:]:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    q = 0.0
                break  # what follows q are accept-extensions, not media type parameters
            if name and name != "charset":  # a charset is ours to choose: always UTF-8
                params.append((name, value.lower()))
        ranges.append(MediaRange(kind, sub, tuple(params), q))
    return ranges


def quality(ranges: list[MediaRange], media_type: str) -> float:
    best_specificity, best_q = 0, 0.0
    for media_range in ranges:
        specificity = media_range.matches(media_type)
        if specificity > best_specificity:
            best_specificity, best_q = specificity, media_range.q
        elif specificity == best_specificity and specificity and media_range.q > best_q:
            best_q = media_range.q
    return best_q


def exact_quality(ranges: list[MediaRange], media_type: str) -> float:
    return max((r.q for r in ranges if r.matches(media_type) == 3), default=0.0)


def available(offers: tuple[Format, ...]) -> str:
    return ", ".join(f"{f.media_type} (format={f.names[0]})" for f in offers)


def choose(accept: str | None, offers: tuple[Format, ...], format_params: list[str] | None = None) -> Format:
    wanted = [w.strip().lower() for value in format_params or [] for w in value.split(",") if w.strip()]
    if wanted:
        for name in wanted:
            for offer in offers:
                if name in offer.names or name in offer.media_types():
                    return offer
        shown = ", ".join(repr(w[:40]) for w in wanted[:3])
        raise UnknownFormat(f"No format named {shown} is available for this query. Available: "
                            + available(offers) + ".", offers)
    ranges = parse_accept(accept)
    if not ranges:
        return offers[0]
    best, best_q = None, 0.0
    for offer in offers:
        # Aliases (application/json for SPARQL JSON, text/plain for N-Triples) count only when named
        # exactly: `text/*` means text/csv before it means text/xml.
        q = max([quality(ranges, offer.media_type)]
                + [exact_quality(ranges, alias) for alias in offer.aliases])
        if q > best_q:
            best, best_q = offer, q
    if best is None:
        raise NotAcceptable("None of the media types in the Accept header is available for this query. "
                            "Available: " + available(offers) + ".", offers)
    return best


# What SPARQL and RDF clients ask for; a browser is a client that ranks text/html above all of them.
MACHINE_TYPES = tuple(t for f in RESULT_FORMATS + GRAPH_FORMATS for t in f.media_types()) + (
    "application/json", "application/xml", "text/plain", "application/problem+json")


def prefers_html(accept: str | None) -> bool:
    """True for a browser: text/html ranks strictly above every SPARQL/RDF type (`*/*` alone does not)."""
    ranges = parse_accept(accept)
    html = quality(ranges, "text/html")
    return html > 0 and all(html > quality(ranges, t) for t in MACHINE_TYPES)
