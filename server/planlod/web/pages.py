"""Cool URIs: every IRI the dataset mints answers, as an HTML page or as RDF.

The policy (W3C "Cool URIs for the Semantic Web", section 4.3, 303 URIs forwarding to documents):

    {BASE_IRI}id/X   is served at  /id/X   (the public base maps to the server root)
    GET /id/X        -> 303 See Other to the document that fits the Accept header:
                        /doc/X for a browser (HTML), /doc/X.ttl, .jsonld, .rdf or .nt for an RDF client
    GET /doc/X       the generic document: HTML or RDF by Accept (Content-Location names the variant)
    GET /doc/X.ttl   Turtle; .jsonld JSON-LD; .rdf RDF/XML; .nt N-Triples; .html the page
    GET /resource?iri=I   the same for an IRI that is not ours but that the store describes or links
                          to (an SDG target, the city's standard area code); /resource.ttl?iri=I …

Negotiation uses the shared parser (negotiation.choose): a browser ranks text/html above every RDF
type and gets the page; `*/*` or no Accept gets Turtle (curl, scripts); `?format=ttl|jsonld|rdf|nt|html`
overrides Accept. Unknown IRIs get 404, an Accept nothing here can produce 406, an unknown format= 400,
each from the errors module in the form the client reads (HTML page, JSON or text). Every answer
carries `Vary: Accept` (and Cookie for pages, which have a language), an ETag and Last-Modified from
the dataset version (a matching If-None-Match gets 304 before any work), and `Link` headers to every
alternate. Bodies are cached per dataset version (page_cache.py). What a description contains:
see describe.py.
"""

import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import quote, urlencode

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request, url_for
from pyoxigraph import Literal, NamedNode

from .. import iris
from . import describe as rdf
from .diagram import diagram_svg, inline_svg
from .errors import abort_with
from .i18n import COOKIE, TERM_LABELS, LangText, other_lang, page_lang, ui
from .negotiation import Format, NotAcceptable, UnknownFormat, available, choose
from .outline import edition_of, load_outline
from .page_cache import cached
from .store_access import get_store

bp = Blueprint("pages", __name__)

HTML = "text/html"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
DCTERMS_TITLE = "http://purl.org/dc/terms/title"
TITLE_PREDICATES = (SKOS + "prefLabel", RDFS_LABEL, DCTERMS_TITLE)
COOKIE_MAX_AGE = 60 * 60 * 24 * 365


def init_app(app: Flask) -> None:
    """Registers the resource pages with the home page and the diagram, which share their helpers."""
    from . import diagram, home

    app.register_blueprint(bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(diagram.bp)
    app.jinja_env.globals["page_url"] = local_url
    app.jinja_env.globals["term_url"] = term_url
    # The version is taken right after the store loaded, so it names what is in the store.
    with app.app_context():
        rdf.current_version()


def version() -> rdf.DatasetVersion:
    return rdf.current_version()


# ---- IRIs and the paths that serve them ----

def base() -> str:
    return get_store().base


def iri_for_id_path(path: str) -> str:
    """{base}id/<path>; a path that makes no valid IRI (a space, <, >, {, …) is a 404: no such thing."""
    return checked_iri(base() + "id/" + path, 404)


MAX_IRI_CHARS = 2000


def checked_iri(iri: str, status: int) -> str:
    """`iri` if it is an absolute IRI the store could hold; otherwise a clear error with `status`."""
    if len(iri) > MAX_IRI_CHARS:
        abort_with(status, f"The IRI is longer than {MAX_IRI_CHARS} characters.")
    try:
        NamedNode(iri)
    except ValueError as error:
        abort_with(status, f"Not a valid absolute IRI ({error}): {iri[:200]!r}")
    return iri


def local_url(iri: str, lang: str | None = None) -> str:
    """Where this server shows `iri`: /doc/… for our things, the docs for terms, /resource otherwise."""
    query = f"?lang={lang}" if lang and lang != "ja" else ""
    b = base()
    if iri.startswith(b + "id/"):
        return "/doc/" + quote(iri[len(b) + 3:], safe="/-_.~") + query
    if iri.startswith(b):  # ontology and shapes terms: their documentation pages (hash IRIs land on anchors)
        return "/" + iri[len(b):]
    params = {"iri": iri} | ({"lang": lang} if lang and lang != "ja" else {})
    return "/resource?" + urlencode(params)


def term_url(iri: str) -> str:
    """Where a property name links: our terms to their documentation, others to their own IRI."""
    return local_url(iri) if iri.startswith(base()) else iri


def absolute_page_url(iri: str, lang: str | None = None) -> str:
    return request.host_url.rstrip("/") + local_url(iri, lang)


def document_url(iri: str, suffix: str | None) -> str:
    """The document for `iri` in one format (suffix from describe.FORMATS, "html", or None for generic)."""
    b = base()
    if iri.startswith(b + "id/"):
        path = "/doc/" + quote(iri[len(b) + 3:], safe="/-_.~")
        return path + (f".{suffix}" if suffix else "")
    return ("/resource" + (f".{suffix}" if suffix else "")) + "?" + urlencode({"iri": iri})


# ---- content negotiation (the shared parser in negotiation.py) ----

# The server's order breaks ties: `*/*` or no Accept gets Turtle (curl and scripts want data); a browser
# ranks text/html above everything here, so it gets the page.
DOCUMENT_FORMATS = (
    Format("ttl", "text/turtle", ("ttl", "turtle"), ("application/x-turtle",)),
    Format("jsonld", "application/ld+json", ("jsonld", "json-ld"), ("application/json",)),
    Format("rdf", "application/rdf+xml", ("rdf", "rdfxml", "xml"), ("application/xml", "text/xml")),
    Format("nt", "application/n-triples", ("nt", "ntriples", "n-triples"), ("text/plain",)),
    Format("html", "text/html", ("html",), ("application/xhtml+xml",)),
)


def negotiate() -> str:
    """The suffix of the variant the client prefers (`?format=ttl` overrides Accept); 406/400 otherwise."""
    try:
        return choose(request.headers.get("Accept"), DOCUMENT_FORMATS, request.args.getlist("format")).key
    except NotAcceptable:
        abort_with(406, "None of the media types in the Accept header is available for this resource. "
                        "Available: " + available(DOCUMENT_FORMATS) + ".")
    except UnknownFormat as error:
        abort_with(400, str(error).replace("for this query", "for this resource"))


def not_found(iri: str):
    hint = ""
    nearest = nearest_described(iri)
    if nearest:
        hint = f" The nearest IRI above it that is: <{nearest}>, at {local_url(nearest)}."
    abort_with(404, f"<{iri}> is not described in this dataset. このIRIはデータセットにありません。{hint}"
                    " The home page (/) lists the plans; /query searches them.")


def nearest_described(iri: str) -> str | None:
    """The longest IRI above `iri` (dropping path segments) that the store describes, under our /id/."""
    root = base() + "id/"
    candidate = iri
    while "/" in candidate[len(root):]:
        candidate = candidate.rsplit("/", 1)[0]
        if _is_described(candidate):
            return candidate
    return None


# ---- routes ----

@bp.get("/id/<path:path>")
def thing(path: str):
    iri = iri_for_id_path(path)
    if not _is_described(iri):
        not_found(iri)
    suffix = negotiate()
    target = document_url(iri, None if suffix == "html" else suffix)
    if suffix == "html" and request.args.get("lang"):
        target += "?" + urlencode({"lang": request.args["lang"]})
    response = redirect(target, code=303)
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = _link_header(iri)
    return response


@bp.get("/doc/<path:path>")
def document(path: str):
    suffix = None
    for candidate in (*rdf.FORMATS, "html"):
        if path.endswith("." + candidate):
            path, suffix = path[: -len(candidate) - 1], candidate
            break
    return _serve(iri_for_id_path(path), suffix)


@bp.get("/resource", defaults={"suffix": None})
@bp.get("/resource.<suffix>")
def resource(suffix: str | None):
    iri = request.args.get("iri", "").strip()
    if not iri:
        abort_with(400, "Give the IRI to show: /resource?iri=https://… "
                               "/ 表示する IRI を iri= で指定してください。")
    if suffix is not None and suffix not in rdf.FORMATS and suffix != "html":
        abort_with(404, f"No format .{suffix}; use one of .{', .'.join(rdf.FORMATS)} or .html")
    checked_iri(iri, 400)  # the client named something that is not an IRI
    if iri.startswith(base() + "id/"):
        # Ours: send the client to the canonical document.
        return redirect(document_url(iri, suffix), code=301)
    return _serve(iri, suffix)


def _is_described(iri: str) -> bool:
    node = NamedNode(iri)
    store = get_store().store
    return (next(iter(store.quads_for_pattern(node, None, None, None)), None) is not None
            or next(iter(store.quads_for_pattern(None, None, node, None)), None) is not None)


def _serve(iri: str, suffix: str | None):
    negotiated = suffix is None
    if negotiated:
        suffix = negotiate()
    lang = page_lang() if suffix == "html" else None
    current = version()
    etag = f"{current.tag}-{suffix}" + (f"-{lang}" if lang else "")
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        def make() -> bytes:
            description = rdf.describe(get_store(), iri)
            if not description.exists:
                not_found(iri)
            if suffix == "html":
                return render_page(description, lang).encode("utf-8")
            return rdf.serialize_description(description, suffix, base())

        body = cached(("doc", current.tag, iri, suffix, lang), make)
        response = Response(body, mimetype=HTML if suffix == "html" else rdf.FORMATS[suffix][0])
    response.set_etag(etag)
    response.last_modified = current.modified
    response.headers["Vary"] = "Accept, Cookie" if negotiated else "Cookie" if suffix == "html" else "Accept"
    response.headers["Link"] = _link_header(iri)
    if negotiated:
        response.headers["Content-Location"] = document_url(iri, suffix)
    if suffix == "html" and request.args.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=COOKIE_MAX_AGE, samesite="Lax")
    if response.status_code == 200:
        response = response.make_conditional(request)
    return response


def _link_header(iri: str) -> str:
    links = [f'<{document_url(iri, suffix)}>; rel="alternate"; type="{media}"'
             for suffix, (media, _) in rdf.FORMATS.items()]
    links.append(f'<{document_url(iri, "html")}>; rel="alternate"; type="text/html"')
    links.append(f'<{iri}>; rel="describes"' if request.path.startswith("/doc/") else
                 f'<{document_url(iri, None)}>; rel="describedby"')
    return ", ".join(links)


# ---- the HTML page ----

@dataclass
class Value:
    text: str
    lang: str = ""  # the language tag of a literal (or of the label of a linked resource)
    href: str | None = None
    iri: str | None = None  # for links: the IRI itself
    datatype: str = ""


@dataclass
class Row:
    predicate: str
    label: str
    values: list[Value] = field(default_factory=list)


@dataclass
class Crumb:
    label: str
    lang: str
    href: str


class Labels:
    """Labels of the IRIs on one page, from the description's label triples and the store."""

    def __init__(self, description: rdf.Description, lang: str):
        self.lang = lang
        self.by_iri: dict[str, LangText] = defaultdict(LangText)
        for triple in [*description.labels, *description.outgoing]:
            if str(triple.predicate.value) in TITLE_PREDICATES and isinstance(triple.object, Literal):
                self.by_iri[triple.subject.value].add(triple.object)

    def of(self, iri: str) -> tuple[str, str]:
        """(label, its language tag); a known vocabulary name; else the IRI's last segment."""
        if iri in self.by_iri:
            text, tag = self.by_iri[iri].get_with_lang(self.lang)
            if text:
                return text, tag
        if iri in TERM_LABELS:
            ja, en = TERM_LABELS[iri]
            return (ja, "ja") if self.lang == "ja" else (en, "en")
        fetched = _store_labels(iri)
        if fetched:
            self.by_iri[iri] = fetched
            return fetched.get_with_lang(self.lang)
        return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri, ""


def _store_labels(iri: str) -> LangText:
    text = LangText()
    for predicate in TITLE_PREDICATES:
        for quad in get_store().store.quads_for_pattern(NamedNode(iri), NamedNode(predicate), None, None):
            text.add(quad.object)
    return text


def _value_of(term, labels: Labels, lang: str) -> Value:
    if isinstance(term, Literal):
        datatype = term.datatype.value if term.datatype and not term.language else ""
        if datatype.endswith("#string"):
            datatype = ""
        return Value(term.value, term.language or "", datatype=datatype.rsplit("#", 1)[-1])
    if isinstance(term, NamedNode):
        text, tag = labels.of(term.value)
        return Value(text, tag, href=local_url(term.value, lang), iri=term.value)
    return Value("[]")


LANG_ORDER = {"ja": 0, "en": 1}


def _rows(triples, key, other, labels: Labels, lang: str) -> list[Row]:
    grouped: dict[str, Row] = {}
    for triple in triples:
        predicate = triple.predicate.value
        row = grouped.get(predicate)
        if row is None:
            row = grouped[predicate] = Row(predicate, labels.of(predicate)[0])
        row.values.append(_value_of(getattr(triple, other), labels, lang))
    for row in grouped.values():
        # The page's language first, then the other, then untagged values; links by label.
        row.values.sort(key=lambda v: (v.lang != lang, LANG_ORDER.get(v.lang, 2), v.text))
    return sorted(grouped.values(), key=lambda r: (r.predicate != rdf.RDF_TYPE.value, r.label))


def _first(description: rdf.Description, predicate: str):
    for triple in description.outgoing:
        if triple.subject.value == description.iri and triple.predicate.value == predicate:
            return triple.object
    return None


def _objects(description: rdf.Description, predicate: str) -> list[str]:
    return [t.object.value for t in description.outgoing
            if t.subject.value == description.iri and t.predicate.value == predicate
            and isinstance(t.object, NamedNode)]


def breadcrumbs(iri: str, lang: str) -> list[Crumb]:
    """Up the hierarchy: municipality › plan › edition › … › parent (the page itself not included)."""
    store = get_store().store
    plan = base() + "ontology#"
    chain: list[str] = []
    current = iri
    seen = {iri}

    def first_object(subject: str, predicate: str) -> str | None:
        for quad in store.quads_for_pattern(NamedNode(subject), NamedNode(predicate), None, None):
            if isinstance(quad.object, NamedNode):
                return quad.object.value
        return None

    for _ in range(12):  # deeper than any plan; a bound stops a cycle in bad data
        parent = (first_object(current, SKOS + "broader") or first_object(current, SKOS + "inScheme")
                  or first_object(current, plan + "levelOf") or first_object(current, plan + "editionOf")
                  or first_object(current, plan + "municipality"))
        if parent is None or parent in seen:
            break
        chain.append(parent)
        seen.add(parent)
        current = parent
    crumbs = []
    for ancestor in reversed(chain):
        text, tag = _store_labels(ancestor).get_with_lang(lang)
        crumbs.append(Crumb(text or ancestor, tag, local_url(ancestor, lang)))
    return crumbs


def children(description: rdf.Description, lang: str) -> list[dict]:
    """The elements directly below, in plan:order: narrower, top concepts, editions."""
    plan = base() + "ontology#"
    found = set(_objects(description, SKOS + "narrower")) | set(_objects(description, SKOS + "hasTopConcept"))
    found |= set(_objects(description, plan + "hasEdition"))
    found |= {t.subject.value for t in description.incoming
              if t.predicate.value == SKOS + "broader" and isinstance(t.subject, NamedNode)}
    store = get_store().store
    items = []
    for child in found:
        node = NamedNode(child)

        def literal(predicate: str, node=node):
            for quad in store.quads_for_pattern(node, NamedNode(predicate), None, None):
                return quad.object.value
            return None

        order = literal(plan + "order") or literal(plan + "editionNumber")
        label, tag = _store_labels(child).get_with_lang(lang)
        items.append({"iri": child, "href": local_url(child, lang), "label": label or child, "lang": tag,
                      "notation": literal(SKOS + "notation") or "",
                      "order": int(order) if order and order.isdigit() else 10**9})
    return sorted(items, key=lambda item: (item["order"], item["iri"]))


def ready_queries(iri: str) -> dict[str, str]:
    describe_query = f"DESCRIBE <{iri}>"
    select_query = (f"SELECT ?property ?value WHERE {{\n  <{iri}> ?property ?value .\n}}\n"
                    "ORDER BY ?property ?value")
    return {"describe": url_for("query_page.query_page", query=describe_query),
            "select": url_for("query_page.query_page", query=select_query),
            "describe_text": describe_query}


def other_plan_links(description: rdf.Description, own_edition: str | None) -> dict[str, list[str]]:
    """Incoming links stored in another plan edition's graph: the other plans that cite this one."""
    plan_graphs = edition_graphs()
    rows: dict[str, list[str]] = defaultdict(list)
    quads = get_store().store.quads_for_pattern(None, None, NamedNode(description.iri), None)
    for quad in itertools.islice(quads, rdf.INCOMING_LIMIT):  # a class has thousands: as many as shown
        graph = quad.graph_name.value if isinstance(quad.graph_name, NamedNode) else None
        if graph in plan_graphs and graph != own_edition and isinstance(quad.subject, NamedNode):
            rows[quad.predicate.value].append(quad.subject.value)
    return rows


def _graphs_typed(rdf_type: str, key: str) -> set[str]:
    """The named graphs named by a thing of `rdf_type` (stated in the graph itself); once per version."""
    cache_key = (key, version().tag)
    found = current_app.extensions.get(cache_key)
    if found is None:
        store = get_store()
        type_node = NamedNode(rdf_type)
        found = set()
        for graph in store.graphs():
            node = NamedNode(graph)
            typed = store.store.quads_for_pattern(node, rdf.RDF_TYPE, type_node, node)
            if next(iter(typed), None) is not None:
                found.add(graph)
        current_app.extensions[cache_key] = found
    return found


def edition_graphs() -> set[str]:
    return _graphs_typed(base() + "ontology#PlanEdition", "planlod.pages.editions")


def linkset_graphs() -> set[str]:
    """The named graphs that hold link sets: their triples are links to review, not plan content."""
    return _graphs_typed("http://rdfs.org/ns/void#Linkset", "planlod.pages.linksets")


def is_plan_content(triple, linksets: set[str]) -> bool:
    """True when some graph other than a link set states the triple."""
    if not linksets:
        return True
    for quad in get_store().store.quads_for_pattern(triple.subject, triple.predicate, triple.object, None):
        if not isinstance(quad.graph_name, NamedNode) or quad.graph_name.value not in linksets:
            return True
    return False


def cross_links(iri: str) -> list[dict]:
    """Links from the cross-plan linking module (planlod.linking.links_for), with their provenance. Asked
    for every page: with the IRI in its queries' text, a resource without links costs two index lookups
    (0.1 ms at 1,001 plans), as little as the check that used to come first."""
    from .. import linking

    return linking.links_for(get_store(), iri)


def render_page(description: rdf.Description, lang: str) -> str:
    iri = description.iri
    labels = Labels(description, lang)
    title, title_lang = labels.of(iri)
    linksets = linkset_graphs()
    own = [t for t in description.outgoing if t.subject.value == iri and is_plan_content(t, linksets)]
    plan = base() + "ontology#"
    types = [_value_of(NamedNode(t), labels, lang) for t in _objects(description, rdf.RDF_TYPE.value)]
    level_iri = _first(description, plan + "level")
    level = labels.of(level_iri.value) if isinstance(level_iri, NamedNode) else None
    notation = _first(description, SKOS + "notation")
    page_ref = _first(description, plan + "page")
    edition = edition_of(get_store(), iri)
    other = other_plan_links(description, edition)
    other_subjects = {s for subjects in other.values() for s in subjects}
    incoming_local = [t for t in description.incoming
                      if t.subject.value not in other_subjects and is_plan_content(t, linksets)]
    diagram = None
    if edition == iri:
        svg = diagram_svg(iri, lang, local_url)
        if svg:
            diagram = {"svg": inline_svg(svg, ui(lang)["diagram"]), "outline": load_outline(get_store(), iri),
                       "href": "/diagram/" + iri[len(base()) + 3:] + ".svg"
                               + ("?lang=en" if lang == "en" else "")}
    formats = [{"name": rdf.FORMAT_NAMES[s], "media": m, "href": document_url(iri, s)}
               for s, (m, _) in rdf.FORMATS.items()]
    other_rows = [Row(p, labels.of(p)[0], [_value_of(NamedNode(s), labels, lang) for s in subjects])
                  for p, subjects in other.items()]
    return render_template(
        "resource.html", lang=lang, t=ui(lang), switch_lang=other_lang(lang),
        switch_href=_switch_href(iri, lang), iri=iri, title=title, title_lang=title_lang, types=types,
        level=level, notation=notation.value if notation else None,
        page_ref=page_ref.value if page_ref else None,
        crumbs=breadcrumbs(iri, lang), children=children(description, lang),
        rows=_rows(own, "subject", "object", labels, lang),
        incoming=_rows(incoming_local, "object", "subject", labels, lang),
        incoming_other=other_rows, incoming_truncated=description.incoming_truncated,
        incoming_limit=rdf.INCOMING_LIMIT, formats=formats, queries=ready_queries(iri),
        links=cross_links(iri), diagram=diagram, is_ours=iris.is_ours(iri, base()),
        external_href=iri if iri.startswith(("http://", "https://")) else None)


def _switch_href(iri: str, lang: str) -> str:
    """This page in the other language; canonical (no stray arguments), so the page can be cached."""
    url = document_url(iri, None)
    return url + ("&" if "?" in url else "?") + urlencode({"lang": other_lang(lang)})
