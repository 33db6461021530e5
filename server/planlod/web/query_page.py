"""The query page: the vendored YASGUI editor, preset to this server's /sparql, with the examples as tabs.

`GET /query` serves it; the endpoint's `/sparql` handler calls `render_query_page()` when the client is a
browser (see `prefers_html`). The examples are data (`data/examples.ttl`, SHACL's sh:SPARQLExecutable as
SIB's sparql-examples use it), read from the store, so each query text exists once and other editors can
list them from the endpoint itself.
"""

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, render_template, request, url_for
from werkzeug.datastructures import MIMEAccept

from ..config import DEFAULT_BASE_IRI
from ..graph.store import DatasetStore
from .i18n import COOKIE, other_lang, page_lang, ui
from .store_access import get_store

bp = Blueprint("query_page", __name__)

# A query in a permalink is bounded like any input: far above any example, far below what hurts.
MAX_LINKED_QUERY_CHARS = 20_000
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
YASGUI_VERSION_FILE = Path(__file__).parent / "static" / "vendor" / "yasgui" / "VERSION"

# The download form's `format=` choices (the endpoint's names for its result formats).
DOWNLOAD_FORMATS = (
    ("SELECT / ASK", (("csv", "CSV"), ("tsv", "TSV"), ("json", "SPARQL JSON"), ("xml", "SPARQL XML"))),
    ("CONSTRUCT / DESCRIBE", (("ttl", "Turtle"), ("nt", "N-Triples"), ("jsonld", "JSON-LD"),
                              ("rdf", "RDF/XML"), ("trig", "TriG"), ("nq", "N-Quads"))),
)

# What a SPARQL or RDF client asks for; a browser is a client that prefers text/html to all of these.
MACHINE_TYPES = (
    "application/sparql-results+json", "application/sparql-results+xml", "text/csv",
    "text/tab-separated-values", "text/turtle", "application/n-triples", "application/rdf+xml",
    "application/ld+json", "application/trig", "application/n-quads", "application/json",
    "application/xml",
)

SH = "http://www.w3.org/ns/shacl#"
EXAMPLES_QUERY = """
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX schema: <https://schema.org/>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX spex: <https://purl.expasy.org/sparql-examples/ontology#>
SELECT ?example ?id ?position ?form ?text ?labelJa ?labelEn ?commentJa ?commentEn WHERE {
  ?example a sh:SPARQLExecutable ; dcterms:identifier ?id ; schema:position ?position .
  { ?example sh:select ?text BIND("select" AS ?form) }
  UNION { ?example sh:construct ?text BIND("construct" AS ?form) }
  UNION { ?example sh:ask ?text BIND("ask" AS ?form) }
  UNION { ?example spex:describe ?text BIND("describe" AS ?form) }
  OPTIONAL { ?example rdfs:label ?labelJa FILTER(lang(?labelJa) = "ja") }
  OPTIONAL { ?example rdfs:label ?labelEn FILTER(lang(?labelEn) = "en") }
  OPTIONAL { ?example rdfs:comment ?commentJa FILTER(lang(?commentJa) = "ja") }
  OPTIONAL { ?example rdfs:comment ?commentEn FILTER(lang(?commentEn) = "en") }
}
ORDER BY ?position ?id
"""
EXAMPLES_GRAPH_QUERY = """
PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?graph WHERE { GRAPH ?graph { ?example a sh:SPARQLExecutable } } ORDER BY ?graph LIMIT 1
"""
PREFIXES_QUERY = """
PREFIX sh: <http://www.w3.org/ns/shacl#>
SELECT DISTINCT ?prefix ?namespace WHERE {
  ?example a sh:SPARQLExecutable ; sh:prefixes/sh:declare [ sh:prefix ?prefix ; sh:namespace ?namespace ] .
}
ORDER BY ?prefix
"""


@dataclass(frozen=True)
class Example:
    iri: str
    id: str  # the permalink name: /query?example=<id>
    form: str  # select, construct, ask or describe
    text: str  # the query, with its IRIs under the configured base
    label_ja: str
    label_en: str
    comment_ja: str
    comment_en: str


def _value(row, name: str) -> str:
    term = row[name]
    return term.value if term is not None else ""


def _rebased_text(text: str, base: str) -> str:
    # The loader moves the data's IRIs under the configured base; the query texts are literals, so the
    # IRIs written in them (the plan: namespace, edition IRIs) are moved the same way here.
    return text.replace(DEFAULT_BASE_IRI, base) if base != DEFAULT_BASE_IRI else text


def load_examples(store: DatasetStore) -> list[Example]:
    """The example queries stored in the dataset, in their stated order (one per example)."""
    examples: dict[str, Example] = {}
    for row in store.query(EXAMPLES_QUERY):
        iri = _value(row, "example")
        if iri in examples:
            continue  # an example with two query texts is the data's error; the shapes report it
        examples[iri] = Example(
            iri=iri, id=_value(row, "id"), form=_value(row, "form"),
            text=_rebased_text(_value(row, "text"), store.base),
            label_ja=_value(row, "labelJa"), label_en=_value(row, "labelEn"),
            comment_ja=_value(row, "commentJa"), comment_en=_value(row, "commentEn"))
    return list(examples.values())


def load_prefixes(store: DatasetStore) -> dict[str, str]:
    """The prefixes the examples declare (sh:prefixes/sh:declare): the project's prefixes for new tabs."""
    return {_value(row, "prefix"): _rebased_text(_value(row, "namespace"), store.base)
            for row in store.query(PREFIXES_QUERY)}


def prefers_html(accept: MIMEAccept) -> bool:
    """True for a browser: text/html ranks above every SPARQL/RDF type (`*/*` alone is a machine client)."""
    html = accept.quality("text/html")
    return html > 0 and all(html > accept.quality(t) for t in MACHINE_TYPES)


def _new_tab_query(prefixes: dict[str, str]) -> str:
    """What a new tab starts with: the project's prefixes and a small query to edit."""
    lines = [f"PREFIX {prefix}: <{namespace}>" for prefix, namespace in prefixes.items()]
    lines += ["", "SELECT ?element ?label WHERE {", "  ?element a plan:PlanElement ; skos:prefLabel ?label .",
              "}", "LIMIT 20"]
    return "\n".join(lines)


def yasgui_version() -> str:
    for line in YASGUI_VERSION_FILE.read_text(encoding="utf-8").splitlines():
        if line.startswith("version:"):
            return line.split(":", 1)[1].strip()
    return ""


def render_query_page(query: str | None = None, example: str | None = None) -> Response:
    """The page, with `query` opened in a tab of its own or the example named `example` selected.

    The /sparql handler calls this for browsers: `render_query_page(request.args.get("query"))`.
    Bad permalinks raise HTTPException (404 unknown example, 414 query too long) for the error handlers.
    """
    store = get_store()
    examples = load_examples(store)
    if example is not None and example not in {e.id for e in examples}:
        abort(404, description=f"「{example}」という名前の例はありません。"
                               f"No example named {example!r}; the examples are listed at /query.")
    if query is not None and len(query) > MAX_LINKED_QUERY_CHARS:
        abort(414, description=f"The query in the link is longer than {MAX_LINKED_QUERY_CHARS} characters.")
    lang = page_lang()
    ja = lang == "ja"
    prefixes = load_prefixes(store)
    endpoint = request.url_root + "sparql"
    selected = example if example is not None else (
        None if query is not None or not examples else examples[0].id)
    page_config = {
        "endpoint": endpoint,
        "queryPagePath": url_for("query_page.query_page"),
        "prefixes": prefixes,
        "newTabQuery": _new_tab_query(prefixes),
        "newTabName": "クエリ" if ja else "Query",
        "linkedTabName": "リンクのクエリ" if ja else "Linked query",
        "examples": [{"id": e.id, "name": (e.label_ja if ja else e.label_en) or e.id, "query": e.text,
                      "form": e.form} for e in examples],
        "selected": selected,
        "linkedQuery": query,
    }
    # Without JavaScript the download form is the editor: it starts with the query the page opens.
    initial_query = query if query is not None else next(
        (e.text for e in examples if e.id == selected), page_config["newTabQuery"])
    graphs = [row["graph"].value for row in store.query(EXAMPLES_GRAPH_QUERY)]
    html = render_template(
        "query.html", lang=lang, ja=ja, t=ui(lang), switch_href=_switch_href(lang),
        examples=examples, endpoint=endpoint, page_config=page_config, selected=selected,
        initial_query=initial_query, download_formats=DOWNLOAD_FORMATS, yasgui_version=yasgui_version(),
        examples_graph=graphs[0] if graphs else "")
    response = Response(html, mimetype="text/html")
    response.headers["Vary"] = "Accept, Cookie"  # browsers get this page; the language may be the cookie's
    if request.args.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=LANG_COOKIE_MAX_AGE, samesite="Lax")
    return response


def _switch_href(lang: str) -> str:
    """This page (same example or query) in the other language."""
    args = {k: v for k, v in request.args.items() if k != "lang"}
    args["lang"] = other_lang(lang)
    return request.path + "?" + urlencode(args)


@bp.get("/query")
def query_page():
    return render_query_page(query=request.args.get("query"), example=request.args.get("example"))
