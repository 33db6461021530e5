"""The SPARQL 1.1 Service Description at GET /sparql: the 3 W3C cases and what issue 4 asks it to state.

The W3C cases (w3c/rdf-tests sparql/sparql11/service-description/manifest: has-endpoint-triple,
returns-rdf, conforms-to-schema) run in-process and against a real `planlod serve`.
"""

from pathlib import Path

import pyshacl
import pytest
import rdflib
from planlod import iris
from planlod.web.service_description import describe_service
from planlod.web.store_access import get_store
from pyoxigraph import RdfFormat, serialize
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS, XSD
from servers import app_request, http_request
from sparql_results import RDF_TYPES, assert_no_traceback, graph, rows

SD = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
FORMATS = rdflib.Namespace("http://www.w3.org/ns/formats/")
PLAN = rdflib.Namespace(iris.ontology_ns())
SCHEMA = Path(__file__).parent / "fixtures" / "service-description-schema.ttl"
SYNTAXES = ("text/turtle", "application/ld+json", "application/rdf+xml")


@pytest.fixture(params=["app", "server"])
def target(request):
    """(send, endpoint URL as the client sees it) for the app in-process or a real server."""
    if request.param == "app":
        client = request.getfixturevalue("client")
        return (lambda *args: app_request(client, *args)), "http://localhost/sparql"
    server = request.getfixturevalue("live_server")
    return (lambda *args: http_request(server.url, *args)), server.sparql


def fetch_description(send, accept: str | None) -> rdflib.Graph:
    reply = send("GET", "/sparql", {"Accept": accept} if accept else {}, None)
    assert reply.status == 200, (reply.status, reply.text[:500])
    assert_no_traceback(reply.body)
    if accept:
        assert reply.media_type == accept
    return graph(reply.media_type, reply.body)


# -- the W3C cases --

def test_has_endpoint_triple(target):
    send, endpoint = target
    description = fetch_description(send, "text/turtle")
    services = set(description.subjects(RDF.type, SD.Service))
    assert len(services) == 1
    assert (services.pop(), SD.endpoint, rdflib.URIRef(endpoint)) in description


@pytest.mark.parametrize("accept", [*SYNTAXES, None])
def test_returns_rdf(target, accept):
    send, _ = target
    description = fetch_description(send, accept)
    reference = fetch_description(send, "text/turtle")
    assert len(description) > 20
    assert isomorphic(description, reference)  # every syntax says the same thing


def test_conforms_to_schema(target):
    send, _ = target
    description = fetch_description(send, "text/turtle")
    shapes = rdflib.Graph().parse(SCHEMA, format="turtle")
    conforms, _, report = pyshacl.validate(description, shacl_graph=shapes)
    assert conforms, report


def test_schema_check_can_fail():
    """The schema shapes reject a description that breaks a range (so the case above means something)."""
    broken = rdflib.Graph()
    service = rdflib.BNode()
    broken.add((service, RDF.type, SD.Service))
    broken.add((service, SD.endpoint, rdflib.Literal("not an IRI")))
    broken.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    shapes = rdflib.Graph().parse(SCHEMA, format="turtle")
    conforms, _, _ = pyshacl.validate(broken, shacl_graph=shapes)
    assert not conforms


# -- what the description states --

@pytest.fixture(scope="module")
def description(app):
    reply = app_request(app.test_client(), "GET", "/sparql", {"Accept": "text/turtle"}, None)
    assert reply.status == 200, reply.text[:500]
    return rdflib.Graph().parse(data=reply.body, format="turtle")


def service_of(description: rdflib.Graph) -> rdflib.term.Node:
    (service,) = description.subjects(RDF.type, SD.Service)
    return service


def test_states_a_read_only_sparql_11_query_service(description):
    service = service_of(description)
    assert set(description.objects(service, SD.supportedLanguage)) == {SD.SPARQL11Query}


def test_states_the_union_default_graph(description):
    service = service_of(description)
    assert SD.UnionDefaultGraph in set(description.objects(service, SD.feature))
    (dataset,) = description.objects(service, SD.defaultDataset)
    (default_graph,) = description.objects(dataset, SD.defaultGraph)
    comments = {str(c) for c in description.objects(default_graph, RDFS.comment)}
    assert any("union" in c for c in comments)


def test_lists_every_result_format_the_endpoint_serves(description):
    formats = set(description.objects(service_of(description), SD.resultFormat))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                 "Turtle", "N-Triples", "RDF_XML", "JSON-LD"):
        assert FORMATS[name] in formats


def test_graph_sizes_match_what_the_endpoint_counts(client, description):
    """Each named graph with its VoID triple count, checked against a COUNT through /sparql itself."""
    (dataset,) = description.objects(service_of(description), SD.defaultDataset)
    stated = {}
    for named in description.objects(dataset, SD.namedGraph):
        (graph_node,) = description.objects(named, SD.graph)
        (size,) = description.objects(graph_node, VOID.triples)
        assert size.datatype == XSD.integer
        stated[str(description.value(named, SD.name))] = int(size)
    query = "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
    reply = app_request(client, "POST", "/sparql",
                        {"Content-Type": "application/sparql-query",
                         "Accept": "application/sparql-results+json"}, query.encode())
    assert reply.status == 200, reply.text[:500]
    counted = {row["g"]: int(row["n"]) for row in rows(reply.media_type, reply.body)}
    assert stated == counted
    assert iris.ontology_iri() in stated
    assert iris.thing_iri("072044", "lifelong-learning-plan", 5) in stated
    (default_graph,) = description.objects(dataset, SD.defaultGraph)
    union = int(description.value(default_graph, VOID.triples))
    distinct = "SELECT (COUNT(*) AS ?n) { SELECT DISTINCT ?s ?p ?o { GRAPH ?g { ?s ?p ?o } } }"
    reply = app_request(client, "POST", "/sparql",
                        {"Content-Type": "application/sparql-query",
                         "Accept": "application/sparql-results+json"}, distinct.encode())
    assert union == int(rows(reply.media_type, reply.body)[0]["n"])
    assert max(counted.values()) <= union <= sum(counted.values())


def test_a_large_store_states_per_graph_counts_without_the_costly_union_count(app, monkeypatch):
    from planlod.web import service_description

    monkeypatch.setattr(service_description, "UNION_COUNT_MAX_QUADS", 10)
    with app.app_context():
        store = get_store()
        monkeypatch.delitem(service_description._graph_sizes, store, raising=False)
        triples = describe_service(store, {}, "http://example.org/sparql")
    service_description._graph_sizes.pop(store, None)  # the next test counts again, in full
    described = rdflib.Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    (dataset,) = described.objects(service_of(described), SD.defaultDataset)
    (default_graph,) = described.objects(dataset, SD.defaultGraph)
    assert described.value(default_graph, VOID.triples) is None
    assert any("union" in str(c) for c in described.objects(default_graph, RDFS.comment))
    named = list(described.objects(dataset, SD.namedGraph))
    assert named and all(described.value(described.value(n, SD.graph), VOID.triples) for n in named)


LIMITS = {"QUERY_TIMEOUT": 7, "QUERY_MEMORY_MB": 333, "MAX_QUERY_LENGTH": 5000, "MAX_CONTENT_LENGTH": 65536,
          "MAX_RESULT_ROWS": 1234, "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "9 per minute"}


@pytest.mark.parametrize(("setting", "term", "value"), [
    ("QUERY_TIMEOUT", "queryTimeLimit", 7),
    ("QUERY_MEMORY_MB", "queryMemoryLimit", 333),
    ("MAX_QUERY_LENGTH", "queryLengthLimit", 5000),
    ("MAX_CONTENT_LENGTH", "requestBodyLimit", 65536),
    ("MAX_RESULT_ROWS", "resultRowLimit", 1234),
    ("RATELIMIT_DEFAULT", "rateLimit", "9 per minute"),
])
def test_states_each_limit_as_data(app, setting, term, value):
    with app.app_context():
        triples = describe_service(get_store(), LIMITS, "http://example.org/sparql")
    described = rdflib.Graph()
    described.parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    (service,) = described.subjects(RDF.type, SD.Service)
    (stated,) = described.objects(service, PLAN[term])
    assert stated.toPython() == value
    prose = {str(c) for c in described.objects(service, RDFS.comment) if c.language == "en"}
    assert any(str(value) in c for c in prose), prose


def test_a_limit_that_is_off_is_not_stated(app):
    with app.app_context():
        off = {"RATELIMIT_ENABLED": False, "RATELIMIT_DEFAULT": "9 per minute"}
        triples = describe_service(get_store(), off, "http://example.org/sparql")
    assert not [t for t in triples if t.predicate.value.startswith(iris.ontology_ns())]


@pytest.mark.parametrize(("allowlist", "federated"), [
    ("", set()),
    ("https://example.org/sparql, https://query.example.net/sparql",
     {"https://example.org/sparql", "https://query.example.net/sparql"}),
])
def test_federation_is_stated_only_when_allow_listed(app, allowlist, federated):
    with app.app_context():
        triples = describe_service(get_store(), {"SERVICE_ALLOWLIST": allowlist}, "http://example.org/sparql")
    described = rdflib.Graph().parse(data=serialize(triples, format=RdfFormat.N_TRIPLES), format="nt")
    service = service_of(described)
    assert (SD.BasicFederatedQuery in set(described.objects(service, SD.feature))) == bool(federated)
    assert {str(o) for o in described.objects(service, PLAN.federationAllowedEndpoint)} == federated


def test_the_served_description_states_the_configured_limits(app, description):
    service = service_of(description)
    timeout = app.config.get("QUERY_TIMEOUT")
    assert timeout, "the endpoint runs with a query time limit"
    assert float(description.value(service, PLAN.queryTimeLimit)) == float(timeout)


# -- content negotiation --

@pytest.mark.parametrize(("accept", "expected"), [
    ("application/rdf+xml;q=0.5, application/ld+json", "application/ld+json"),
    ("application/ld+json;q=0.2, text/turtle;q=0.9", "text/turtle"),
    ("text/*", "text/turtle"),
    ("*/*", "text/turtle"),
    ("application/rdf+xml", "application/rdf+xml"),
])
def test_negotiates_the_syntax_by_q_value(client, accept, expected):
    reply = app_request(client, "GET", "/sparql", {"Accept": accept}, None)
    assert reply.status == 200
    assert reply.media_type == expected
    assert "accept" in reply.headers.get("vary", "").lower()
    assert len(graph(expected, reply.body)) > 20


def test_an_unavailable_syntax_is_406_naming_the_available_ones(client):
    reply = app_request(client, "GET", "/sparql", {"Accept": "image/png"}, None)
    assert reply.status == 406
    assert_no_traceback(reply.body)
    for media_type in SYNTAXES:
        assert media_type in reply.text


def test_rdf_types_table_knows_every_syntax():
    assert set(SYNTAXES) <= set(RDF_TYPES)
