"""The SPARQL 1.1 Service Description that `GET /sparql` (no query) answers with.

What it states (https://www.w3.org/TR/sparql11-service-description/):
  sd:endpoint            the URL the client reached, so the description matches the request
  sd:supportedLanguage   sd:SPARQL11Query only: the endpoint is read-only, updates are refused
  sd:resultFormat        every format the endpoint serializes (W3C formats namespace)
  sd:feature             sd:UnionDefaultGraph (the default graph is the union of the named graphs);
                         sd:BasicFederatedQuery only when SERVICE has an allow-list
  sd:defaultDataset      the default graph and each named graph, with VoID triple counts
  limits                 time, query size, body size, result rows, rate: no standard SD term
                         exists, so these are plan: terms (values as data) plus an rdfs:comment
                         in ja and en that says the same in prose.

`describe_service` builds the triples; `service_description_response` negotiates the syntax
(Turtle, JSON-LD, RDF/XML, N-Triples) and answers 406 listing them when none is acceptable.
"""

import weakref
from collections.abc import Mapping

from flask import Response, request
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import NotAcceptable

from .. import iris
from ..graph.store import DatasetStore
from . import federation

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
VOID = "http://rdfs.org/ns/void#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
ENTAILMENT_SIMPLE = "http://www.w3.org/ns/entailment/Simple"

# What /sparql can answer in, as W3C format IRIs (results for SELECT/ASK, RDF for CONSTRUCT/DESCRIBE).
RESULT_FORMATS = (
    "SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
    "Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads",
)

# The syntaxes of the description itself; the first is the default for `*/*` or no Accept.
SYNTAXES = {
    "text/turtle": RdfFormat.TURTLE,
    "application/ld+json": RdfFormat.JSON_LD,
    "application/rdf+xml": RdfFormat.RDF_XML,
    "application/n-triples": RdfFormat.N_TRIPLES,
}

PREFIXES = {
    "formats": FORMATS,
    "plan": iris.ontology_ns(),
    "rdfs": RDFS,
    "sd": SD,
    "void": VOID,
    "xsd": XSD,
}

# Each limit once: its setting, the plan: term and datatype that state it as data, and the same limit in
# prose (en, ja; `{}` is the value). Terms are defined in ontology/plan.ttl.
LIMITS = (
    ("QUERY_TIMEOUT", "queryTimeLimit", "decimal",
     "a query is stopped after {} s", "問合せは {} 秒で打ち切る"),
    ("QUERY_MEMORY_MB", "queryMemoryLimit", "integer",
     "a query may use {} MiB of memory", "問合せが使えるメモリは {} MiB まで"),
    ("MAX_QUERY_LENGTH", "queryLengthLimit", "integer",
     "query text up to {} characters", "問合せ文は {} 文字まで"),
    ("MAX_CONTENT_LENGTH", "requestBodyLimit", "integer",  # Flask's setting
     "request bodies up to {} bytes (else 413)", "リクエスト本文は {} バイトまで（超えると 413）"),
    ("MAX_RESULT_ROWS", "resultRowLimit", "integer",
     "results are cut after {} rows, and the response says so", "結果は {} 行で打ち切り、その旨を応答に示す"),
)

UNION_COUNT_MAX_QUADS = 200_000

_graph_sizes: "weakref.WeakKeyDictionary[DatasetStore, tuple[int, dict[str, int]]]" = \
    weakref.WeakKeyDictionary()


def graph_sizes(store: DatasetStore) -> tuple[int | None, dict[str, int]]:
    """Triples in the union default graph (None when too costly to count) and in each named graph.

    Computed once per loaded store (the data is read-only). The per-graph counts are one grouped scan;
    the union's own count needs a DISTINCT over every quad (a triple two graphs hold counts once),
    about 2 s at 500,000 quads here, so it is left out above UNION_COUNT_MAX_QUADS.
    """
    if store not in _graph_sizes:
        per_graph = {g: 0 for g in store.graphs()}
        for row in store.query("SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"):
            per_graph[row["g"].value] = int(row["n"].value)
        union = None
        if sum(per_graph.values()) <= UNION_COUNT_MAX_QUADS:
            rows = store.query("SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o "
                               "{ GRAPH ?g { ?s ?p ?o } } }")
            union = int(next(iter(rows))["n"].value)
        _graph_sizes[store] = (union, per_graph)
    return _graph_sizes[store]


def _iri(value: str) -> NamedNode:
    return NamedNode(value)


def _typed(value, datatype: str) -> Literal:
    return Literal(str(value), datatype=NamedNode(XSD + datatype))


def stated_limits(config: Mapping, base: str) -> list[tuple[str, Literal]]:
    """The limits in force, as (plan: term IRI, value); a setting that is off (None or 0) is left out."""
    plan = iris.ontology_ns(base)
    stated = []
    for setting, term, datatype, _, _ in LIMITS:
        value = config.get(setting)
        if value:
            stated.append((plan + term, _typed(value, datatype)))
    if config.get("RATELIMIT_ENABLED") and config.get("RATELIMIT_DEFAULT"):
        stated.append((plan + "rateLimit", Literal(str(config["RATELIMIT_DEFAULT"]))))
    return stated


def limits_comment(config: Mapping) -> list[Literal]:
    """The same limits in prose, for readers who do not know the plan: terms."""
    parts_en, parts_ja = [], []
    for setting, _, _, english, japanese in LIMITS:
        if config.get(setting):
            parts_en.append(english.format(config[setting]))
            parts_ja.append(japanese.format(config[setting]))
    if config.get("RATELIMIT_ENABLED") and config.get("RATELIMIT_DEFAULT"):
        parts_en.append(f"each client at most {config['RATELIMIT_DEFAULT']} (else 429 with Retry-After)")
        parts_ja.append(f"クライアントごとに {config['RATELIMIT_DEFAULT']} まで"
                        "（超えると 429 と Retry-After）")
    if not parts_en:
        return []
    return [Literal("Limits: " + "; ".join(parts_en) + ".", language="en"),
            Literal("制限：" + "、".join(parts_ja) + "。", language="ja")]


def describe_service(store: DatasetStore, config: Mapping, endpoint_url: str) -> list[Triple]:
    """The Service Description of the endpoint at `endpoint_url`, as triples."""
    a = _iri(RDF + "type")
    service = BlankNode()
    triples = [
        Triple(service, a, _iri(SD + "Service")),
        Triple(service, _iri(SD + "endpoint"), _iri(endpoint_url)),
        Triple(service, _iri(SD + "supportedLanguage"), _iri(SD + "SPARQL11Query")),
        Triple(service, _iri(SD + "feature"), _iri(SD + "UnionDefaultGraph")),
        Triple(service, _iri(SD + "defaultEntailmentRegime"), _iri(ENTAILMENT_SIMPLE)),
        Triple(service, _iri(RDFS + "label"), Literal("planlod SPARQL エンドポイント", language="ja")),
        Triple(service, _iri(RDFS + "label"), Literal("planlod SPARQL endpoint", language="en")),
        Triple(service, _iri(RDFS + "comment"), Literal(
            "読み取り専用の SPARQL 1.1 問合せサービス。更新は受け付けない。既定グラフはすべての名前付き"
            "グラフの和（union）である。", language="ja")),
        Triple(service, _iri(RDFS + "comment"), Literal(
            "A read-only SPARQL 1.1 query service; updates are refused. The default graph is the "
            "union of all named graphs.", language="en")),
    ]
    for name in RESULT_FORMATS:
        triples.append(Triple(service, _iri(SD + "resultFormat"), _iri(FORMATS + name)))
    allowed = sorted(federation.parse_allowlist(config.get("SERVICE_ALLOWLIST")))
    if allowed:
        triples.append(Triple(service, _iri(SD + "feature"), _iri(SD + "BasicFederatedQuery")))
        for endpoint in allowed:
            triples.append(Triple(service, _iri(iris.ontology_ns(store.base) + "federationAllowedEndpoint"),
                                  _iri(endpoint)))
    for term, value in stated_limits(config, store.base):
        triples.append(Triple(service, _iri(term), value))
    for comment in limits_comment(config):
        triples.append(Triple(service, _iri(RDFS + "comment"), comment))
    triples += describe_dataset(store, service)
    return triples


def describe_dataset(store: DatasetStore, service: BlankNode) -> list[Triple]:
    a = _iri(RDF + "type")
    union_size, sizes = graph_sizes(store)
    dataset_iri = iris.thing_iri("dataset", base=store.base)
    # The dataset file names the whole dataset; when it is loaded, the description speaks of that IRI.
    dataset = _iri(dataset_iri) if dataset_iri in sizes else BlankNode()
    default_graph = BlankNode()
    triples = [
        Triple(service, _iri(SD + "defaultDataset"), dataset),
        Triple(dataset, a, _iri(SD + "Dataset")),
        Triple(dataset, _iri(SD + "defaultGraph"), default_graph),
        Triple(default_graph, a, _iri(SD + "Graph")),
        Triple(default_graph, _iri(RDFS + "comment"),
               Literal("すべての名前付きグラフの和", language="ja")),
        Triple(default_graph, _iri(RDFS + "comment"),
               Literal("The union of all the named graphs", language="en")),
    ]
    if union_size is not None:
        triples.append(Triple(default_graph, _iri(VOID + "triples"), _typed(union_size, "integer")))
    for name, size in sorted(sizes.items()):
        named, graph = BlankNode(), BlankNode()
        triples += [
            Triple(dataset, _iri(SD + "namedGraph"), named),
            Triple(named, a, _iri(SD + "NamedGraph")),
            Triple(named, _iri(SD + "name"), _iri(name)),
            Triple(named, _iri(SD + "graph"), graph),
            Triple(graph, a, _iri(SD + "Graph")),
            Triple(graph, _iri(VOID + "triples"), _typed(size, "integer")),
        ]
    return triples


def negotiate(accept: MIMEAccept) -> str:
    """The syntax to answer in: the client's best by q-value; Turtle when it states no preference."""
    if not accept:
        return next(iter(SYNTAXES))
    best = accept.best_match(list(SYNTAXES))
    if best is None:
        raise NotAcceptable(
            "The service description is available as " + ", ".join(SYNTAXES) + ".")
    return best


def service_description_response(store: DatasetStore, config: Mapping, endpoint_url: str | None = None,
                                 accept: MIMEAccept | None = None) -> Response:
    """The description as a response in the negotiated syntax (raises NotAcceptable: 406)."""
    media_type = negotiate(request.accept_mimetypes if accept is None else accept)
    # The endpoint is the URL reached without its query string: what a client would POST queries to.
    triples = describe_service(store, config, endpoint_url or request.base_url)
    body = serialize(triples, format=SYNTAXES[media_type],
                     prefixes={**PREFIXES, "plan": iris.ontology_ns(store.base)})
    content_type = media_type if media_type == "application/ld+json" else media_type + "; charset=utf-8"
    return Response(body, content_type=content_type, headers={"Vary": "Accept"})
