"""The external store (graph/remote_store.py) against a real Oxigraph server holding the same dataset.

The embedded store and the Oxigraph server are loaded from the same files (`planlod load-external`'s dump);
every query here is asked of both and the parsed answers compared.
"""

import contextlib
import http.server
import multiprocessing
import re
import threading
import time
from pathlib import Path

import pytest
import rdflib
from external_stores import oxigraph_load, running_oxigraph
from planlod.graph.external_load import write_nquads
from planlod.graph.remote_store import (
    RemoteStore,
    RemoteStoreConfigError,
    RemoteStoreError,
    RemoteStoreTimeout,
)
from planlod.web.app import create_app
from planlod.web.store_access import get_store
from pyoxigraph import (
    BlankNode,
    Literal,
    NamedNode,
    QueryBoolean,
    QuerySolutions,
    QueryTriples,
    RdfFormat,
    Variable,
    parse,
)
from servers import free_port, http_request, running_server
from sparql_results import BOOLEAN_TYPES, RDF_TYPES, assert_no_traceback, boolean, rows

PLAN = "PREFIX plan: <https://w3id.org/planlod/ontology#>\nPREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"

# Queries whose answers must be the same on both stores: (name, query).
SAME_ANSWERS = [
    ("elements with labels",
     PLAN + "SELECT ?e ?label WHERE { ?e a plan:PlanElement ; skos:prefLabel ?label }"),
    ("hierarchy", PLAN + "SELECT ?child ?parent WHERE { ?child skos:broader ?parent }"),
    ("count per class", "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"),
    ("graphs", "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"),
    ("per-graph counts", "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"),
    ("japanese text search", PLAN + 'SELECT ?e WHERE { ?e skos:prefLabel ?l FILTER(CONTAINS(?l, "学習")) }'),
    ("optional and unbound",
     PLAN + "SELECT ?e ?page WHERE { ?e a plan:PlanElement OPTIONAL { ?e plan:page ?page } }"),
    ("ask true", PLAN + "ASK { ?e a plan:PlanElement }"),
    ("ask false", "ASK { <urn:x:nothing> ?p ?o }"),
    ("construct", PLAN + "CONSTRUCT { ?e skos:broader ?p } WHERE { ?e skos:broader ?p }"),
    ("describe-like construct", PLAN + "CONSTRUCT { ?e ?p ?o } WHERE { ?e a plan:PlanEdition ; ?p ?o }"),
]


def answer(results) -> object:
    """A comparable form of a pyoxigraph result: a bool, a set of triples, or a multiset of rows."""
    if isinstance(results, QueryBoolean):
        return bool(results)
    if isinstance(results, QueryTriples):
        return sorted(str(triple) for triple in results if not _has_blank(triple))
    assert isinstance(results, QuerySolutions)
    names = [variable.value for variable in results.variables]
    return sorted(tuple(str(row[name]) if row[name] is not None else "" for name in names)
                  for row in results)


def _has_blank(triple) -> bool:
    return isinstance(triple.subject, BlankNode) or isinstance(triple.object, BlankNode)


@pytest.fixture(scope="module")
def embedded(app):
    with app.app_context():
        return get_store()


@pytest.fixture(scope="module")
def store_dir(embedded, tmp_path_factory) -> Path:
    """The embedded store's exact dataset, loaded into an Oxigraph store directory."""
    directory = tmp_path_factory.mktemp("oxigraph")
    dump = directory / "dataset.nq"
    write_nquads(embedded.sources, embedded.base, dump)
    oxigraph_load(dump, directory / "store")
    return directory / "store"


@pytest.fixture(scope="module")
def oxigraph(store_dir):
    with running_oxigraph(store_dir) as server:
        yield server


@pytest.fixture(scope="module")
def remote(oxigraph, embedded):
    with RemoteStore.connect(oxigraph.query_url, embedded.base, timeout=30) as store:
        yield store


@pytest.mark.parametrize("name,query", SAME_ANSWERS, ids=[name for name, _ in SAME_ANSWERS])
def test_same_answers_as_embedded(name, query, embedded, remote):
    expected = answer(embedded.query(query))
    # Each query must find something in the real dataset, or the comparison proves nothing (ASK false aside).
    assert expected or expected is False, f"{name}: nothing to compare"
    assert answer(remote.query(query)) == expected


def test_result_types_are_pyoxigraphs(remote):
    assert isinstance(remote.query("SELECT * WHERE { ?s ?p ?o } LIMIT 1"), QuerySolutions)
    assert isinstance(remote.query("ASK { ?s ?p ?o }"), QueryBoolean)
    triples = remote.query("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 3")
    assert isinstance(triples, QueryTriples)
    assert len(triples.serialize(format=RdfFormat.N_TRIPLES).splitlines()) == 3


def test_graphs_and_counts_match(embedded, remote):
    assert remote.graphs() == embedded.graphs()
    assert len(remote) == len(remote.store) == len(embedded.store)


SKOS = "http://www.w3.org/2004/02/skos/core#"
EDITION = "https://w3id.org/planlod/id/072044/lifelong-learning-plan/5"
PATTERNS = [  # (name, subject, predicate, object, graph) as quads_for_pattern takes them
    ("subject", NamedNode(EDITION + "/policy/1"), None, None, None),
    ("subject and predicate", NamedNode(EDITION + "/policy/1"), NamedNode(SKOS + "prefLabel"), None, None),
    ("object", None, None, NamedNode(EDITION + "/policy/1"), None),
    ("literal object", None, None, Literal("基本方針", language="ja"), None),
    ("in one graph", None, NamedNode(SKOS + "broader"), None, NamedNode(EDITION)),
    ("whole quad", NamedNode(EDITION + "/policy/1"), NamedNode(SKOS + "inScheme"), NamedNode(EDITION),
     NamedNode(EDITION)),
]


@pytest.mark.parametrize("name,s,p,o,g", PATTERNS, ids=[row[0] for row in PATTERNS])
def test_quads_for_pattern_as_the_embedded_store(name, s, p, o, g, embedded, remote):
    expected = sorted(str(quad) for quad in embedded.store.quads_for_pattern(s, p, o, g))
    assert expected, f"{name}: nothing to compare"
    assert sorted(str(quad) for quad in remote.store.quads_for_pattern(s, p, o, g)) == expected


def test_quads_for_pattern_with_a_blank_node_matches_nothing_remotely(remote):
    assert list(remote.store.quads_for_pattern(BlankNode(), None, None, None)) == []


def test_default_graph_option_narrows_the_dataset(embedded, remote):
    ontology = NamedNode(embedded.base + "ontology")
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    on_ontology = answer(remote.query(query, default_graph=[ontology]))
    assert on_ontology == answer(embedded.query(query, default_graph=[ontology]))
    assert on_ontology != answer(remote.query(query))


def test_version_is_stable_for_the_same_content(oxigraph, embedded, remote):
    with RemoteStore.connect(oxigraph.query_url, embedded.base) as again:
        assert again.version == remote.version and len(remote.version) == 16


def test_syntax_error_names_line_and_column(remote):
    with pytest.raises(SyntaxError, match=r"2:\d+"):
        remote.query("SELECT ?s\nWHERE { ?s ?p }")


def test_syntax_error_column_is_the_users_despite_an_added_base(embedded, remote):
    query = "SELECT * WHERE { ?s ?p }"
    with pytest.raises(SyntaxError) as on_embedded:
        embedded.query(query, base_iri="http://example.org/sparql")
    with pytest.raises(SyntaxError) as on_remote:
        remote.query(query, base_iri="http://example.org/sparql")
    position = re.compile(r"1:\d+")
    assert position.search(str(on_remote.value)).group() == position.search(str(on_embedded.value)).group()


def test_keeps_working_after_errors(remote):
    for _ in range(3):
        with pytest.raises(SyntaxError):
            remote.query("SELECT")
        assert bool(remote.query("ASK { ?s ?p ?o }"))


def test_options_the_protocol_cannot_carry_are_refused(remote):
    with pytest.raises(TypeError, match="custom_functions"):
        remote.query("ASK {}", custom_functions={NamedNode("urn:f"): len})


SUBSTITUTED = [  # (name, query); ?x is bound to the 5th edition's policy 1 by substitution
    ("subject", PLAN + "SELECT ?x ?p ?o WHERE { ?x ?p ?o }"),
    ("object, optional",
     PLAN + "SELECT ?x ?c ?l WHERE { ?c skos:broader ?x OPTIONAL { ?c skos:prefLabel ?l } }"),
    ("with a string that looks like code",
     PLAN + 'SELECT ?x ?l WHERE { ?x skos:prefLabel ?l FILTER(?l != "GROUP BY { VALUES") }'),
]


@pytest.mark.parametrize("name,query", SUBSTITUTED, ids=[name for name, _ in SUBSTITUTED])
def test_substitutions_as_the_embedded_store(name, query, embedded, remote):
    bound = {Variable("x"): NamedNode(EDITION + "/policy/1")}
    expected = answer(embedded.query(query, substitutions=bound))
    assert expected, f"{name}: nothing to compare"
    assert answer(remote.query(query, substitutions=bound)) == expected


@pytest.mark.parametrize("query", [
    "SELECT (COUNT(*) AS ?n) WHERE { ?x ?p ?o }",
    "SELECT ?x WHERE { { SELECT ?x WHERE { ?x ?p ?o } } }",
    "SELECT ?x WHERE { ?x ?p ?o } VALUES ?p { <urn:p> }",
])
def test_substitutions_that_could_answer_differently_are_refused(remote, query):
    with pytest.raises(TypeError, match="substitutions"):
        remote.query(query, substitutions={Variable("x"): NamedNode(EDITION)})


def _count_elements(remote: RemoteStore, results) -> None:
    results.put(len(list(remote.query(PLAN + "SELECT ?e WHERE { ?e a plan:PlanElement }"))))


# Forking is the point here (gunicorn forks its workers the same way); Python 3.12+ warns about it.
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_processes_do_not_share_the_parents_connection(remote):
    """gunicorn forks workers after the app (and its store connection) exists: each must use its own."""
    expected = len(list(remote.query(PLAN + "SELECT ?e WHERE { ?e a plan:PlanElement }")))  # opens one
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    children = [context.Process(target=_count_elements, args=(remote, results)) for _ in range(4)]
    for child in children:
        child.start()
    for _ in range(20):  # the parent keeps using its connection meanwhile
        _count_elements(remote, results)
    for child in children:
        child.join(timeout=60)
        assert child.exitcode == 0
    counts = [results.get(timeout=10) for _ in range(24)]
    assert counts == [expected] * 24


def test_unreachable_store_at_start_names_the_setting():
    url = f"http://127.0.0.1:{free_port()}/query"
    with pytest.raises(RemoteStoreError, match=f"STORE={url}: .*unreachable"):
        RemoteStore.connect(url, "https://w3id.org/planlod/", timeout=5)


def test_store_gone_after_start_is_a_5xx_that_does_not_reveal_its_address(store_dir):
    with running_oxigraph(store_dir) as server:
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE": server.query_url})
    with app.app_context():
        store = get_store()
        with pytest.raises(RemoteStoreError, match="unreachable") as raised:
            store.query("ASK { ?s ?p ?o }")
        assert server.url.split("//")[1] not in str(raised.value)
    response = app.test_client().post("/sparql", data={"query": "ASK { ?s ?p ?o }"},
                                      headers={"Accept": "application/sparql-results+json"})
    assert response.status_code >= 500
    assert_no_traceback(response.get_data())
    assert server.url.split("//")[1] not in response.get_data(as_text=True)
    store.close()


@pytest.mark.parametrize("url", ["ftp://example.org/sparql", "not a url", "http:///query"])
def test_store_setting_must_be_an_http_url(url):
    with pytest.raises(RemoteStoreConfigError):
        RemoteStore(url, "https://w3id.org/planlod/")


def test_store_without_union_default_graph_is_refused_with_the_fix(store_dir):
    with running_oxigraph(store_dir, union_default_graph=False) as server:
        with pytest.raises(RemoteStoreConfigError, match="--union-default-graph"):
            RemoteStore.connect(server.query_url, "https://w3id.org/planlod/")


def test_http_timeout_gives_up_and_the_store_still_answers(store_dir):
    """Its own short-lived server: Oxigraph 0.5.13 keeps computing a cartesian product after the client
    has gone (see docs/external-store.md), so that one is stopped right after."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
    with running_oxigraph(store_dir) as server:
        with RemoteStore.connect(server.query_url, "https://w3id.org/planlod/") as store:
            started = time.monotonic()
            with pytest.raises(RemoteStoreTimeout, match="1 s"):
                store.query(runaway, timeout=1)
            assert time.monotonic() - started < 5
            assert bool(store.query("ASK { ?s ?p ?o }", timeout=30))


def test_sparql_time_limit_on_the_external_store_is_an_http_timeout(store_dir):
    """/sparql answers 503 at QUERY_TIMEOUT and says the answer was not awaited (it cannot say stopped)."""
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"?s{i} ?p{i} ?o{i} ." for i in range(6)) + " }"
    with running_oxigraph(store_dir) as server:
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE": server.query_url,
                          "QUERY_TIMEOUT": 1})
        started = time.monotonic()
        response = app.test_client().post("/sparql", data={"query": runaway},
                                          headers={"Accept": "application/sparql-results+json"})
        assert time.monotonic() - started < 10
        assert response.status_code == 503
        message = response.get_json()["error"]["message"]
        assert "1 s" in message and "not awaited" in message
        with app.app_context():
            get_store().close()


def test_an_answer_over_the_size_cap_is_refused_not_held(oxigraph):
    """STORE_MAX_RESPONSE_BYTES bounds what one query makes a worker hold (the row cap applies after)."""
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE": oxigraph.query_url,
                      "STORE_MAX_RESPONSE_BYTES": 10_000, "RESULT_CACHE_SIZE": 0})
    client = app.test_client()
    headers = {"Accept": "application/sparql-results+json"}
    small = client.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers=headers)
    assert small.status_code == 200 and small.get_json()["boolean"] is True
    big = client.post("/sparql", data={"query": "SELECT * WHERE { ?s ?p ?o }"}, headers=headers)
    assert big.status_code >= 500
    assert_no_traceback(big.get_data())
    assert "10,000 bytes" in big.get_json()["error"]["message"]
    with app.app_context():
        get_store().close()


class _TruncatingHandler(http.server.BaseHTTPRequestHandler):
    """A SPARQL endpoint that stops halfway through its JSON, as a store cut off by its own timeout does."""

    def do_POST(self):  # noqa: N802 (http.server's naming)
        self.rfile.read(int(self.headers["Content-Length"]))
        body = b'{"head":{"vars":["s"]},"results":{"bindings":[{"s":{"type":"uri","value":"http://ex'
        self.send_response(200)
        self.send_header("Content-Type", "application/sparql-results+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def truncating_endpoint():
    server = http.server.HTTPServer(("127.0.0.1", 0), _TruncatingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/query"
    finally:
        server.shutdown()
        server.server_close()


def test_truncated_answer_is_a_store_error_not_a_syntax_error():
    with truncating_endpoint() as url:
        with RemoteStore(url, "https://w3id.org/planlod/") as store, \
                pytest.raises(RemoteStoreError, match="truncated"):
            store.query("SELECT ?s WHERE { ?s ?p ?o }")


# -- the app on the external store: pages, downloads and health read it through the protocol --

@pytest.fixture(scope="module")
def external_client(oxigraph):
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE": oxigraph.query_url})
    with app.app_context():
        store = get_store()
    assert isinstance(store, RemoteStore)
    yield app.test_client()
    store.close()


def test_healthz_on_the_external_store(external_client, client):
    external, embedded = external_client.get("/healthz"), client.get("/healthz")
    assert external.status_code == embedded.status_code == 200
    assert external.get_json()["triples"] == embedded.get_json()["triples"] > 0


@pytest.mark.parametrize("path", [
    "/doc/072044/lifelong-learning-plan/5/policy/1.ttl",
    "/doc/072044/lifelong-learning-plan/5.ttl",
    "/doc/282049/lifelong-learning-plan/2021/measure/1-1.ttl",
])
def test_resource_page_rdf_is_the_same(external_client, client, path):
    external, embedded = external_client.get(path), client.get(path)
    assert external.status_code == embedded.status_code == 200
    ours = rdflib.Graph().parse(data=embedded.get_data(as_text=True), format="turtle")
    theirs = rdflib.Graph().parse(data=external.get_data(as_text=True), format="turtle")
    assert len(ours) > 0 and set(theirs) == set(ours)


def test_resource_page_html_on_the_external_store(external_client):
    response = external_client.get("/doc/072044/lifelong-learning-plan/5/policy/1",
                                   headers={"Accept": "text/html"})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "生涯学習" in response.get_data(as_text=True)


def test_unknown_resource_is_404_on_the_external_store(external_client):
    assert external_client.get("/doc/072044/no-such-plan.ttl").status_code == 404


@pytest.mark.parametrize("name", ["planlod.nq", "072044/lifelong-learning-plan/5.ttl",
                                  "072044/lifelong-learning-plan/5/outline.csv"])
def test_download_is_byte_for_byte_the_same(external_client, client, name):
    external, embedded = external_client.get("/download/" + name), client.get("/download/" + name)
    assert external.status_code == embedded.status_code == 200
    assert len(embedded.get_data()) > 0 and external.get_data() == embedded.get_data()


def test_etag_follows_the_external_stores_version(external_client):
    first = external_client.get("/doc/072044/lifelong-learning-plan/5/policy/1.ttl")
    assert first.headers.get("ETag")
    again = external_client.get("/doc/072044/lifelong-learning-plan/5/policy/1.ttl",
                                headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# -- /sparql on the external store --

SPARQL_CASES = [  # (name, query, Accept)
    ("select json", PLAN + "SELECT ?e ?l WHERE { ?e a plan:PlanElement ; skos:prefLabel ?l }",
     "application/sparql-results+json"),
    ("ask xml", PLAN + "ASK { ?e a plan:PlanEdition }", "application/sparql-results+xml"),
    ("construct turtle", PLAN + "CONSTRUCT { ?e skos:broader ?p } WHERE { ?e skos:broader ?p }",
     "text/turtle"),
    ("select csv", PLAN + "SELECT ?e WHERE { ?e a plan:Level }", "text/csv"),
]


@pytest.mark.parametrize("name,query,accept", SPARQL_CASES, ids=[case[0] for case in SPARQL_CASES])
def test_sparql_endpoint_answers_as_on_the_embedded_store(external_client, client, name, query, accept):
    headers = {"Accept": accept}
    external = external_client.post("/sparql", data={"query": query}, headers=headers)
    embedded = client.post("/sparql", data={"query": query}, headers=headers)
    assert external.status_code == embedded.status_code == 200, external.get_data(as_text=True)[:300]
    assert external.mimetype == embedded.mimetype
    media_type = external.mimetype
    if media_type in BOOLEAN_TYPES and "ASK" in query:
        assert boolean(media_type, external.get_data()) == boolean(media_type, embedded.get_data()) is True
    elif media_type in RDF_TYPES:
        ours = rdflib.Graph().parse(data=embedded.get_data(), format=RDF_TYPES[media_type])
        assert len(ours) > 0
        assert set(rdflib.Graph().parse(data=external.get_data(), format=RDF_TYPES[media_type])) == set(ours)
    else:
        expected = sorted(sorted(row.items()) for row in rows(media_type, embedded.get_data()))
        assert expected
        assert sorted(sorted(row.items()) for row in rows(media_type, external.get_data())) == expected


@pytest.mark.parametrize("query", ["SELECT ?s\nWHERE { ?s ?p }", "SELECT * WHERE { ?s ?p }"])
def test_sparql_syntax_error_is_the_same_400_on_the_external_store(external_client, client, query):
    """Same status and message, line and column included (also on line 1, where the BASE is added)."""
    headers = {"Accept": "application/sparql-results+json"}
    external = external_client.post("/sparql", data={"query": query}, headers=headers)
    embedded = client.post("/sparql", data={"query": query}, headers=headers)
    assert external.status_code == embedded.status_code == 400
    assert_no_traceback(external.get_data())
    message = external.get_json()["error"]["message"]
    assert re.search(r"line \d+, column \d+", message)
    assert message == embedded.get_json()["error"]["message"]


def test_real_server_on_the_external_store(oxigraph):
    """`planlod serve` (gunicorn, forked workers) with PLANLOD_STORE: endpoint, a page and a download."""
    with running_server({"PLANLOD_STORE": oxigraph.query_url}) as server:
        query = PLAN + "SELECT (COUNT(?e) AS ?n) WHERE { ?e a plan:PlanElement }"
        reply = http_request(server.url, "POST", "/sparql",
                             {"Content-Type": "application/sparql-query",
                              "Accept": "application/sparql-results+json"}, query.encode())
        assert reply.status == 200 and int(rows(reply.media_type, reply.body)[0]["n"]) > 0
        page = http_request(server.url, "GET", "/doc/072044/lifelong-learning-plan/5/policy/1.ttl")
        assert page.status == 200 and len(rdflib.Graph().parse(data=page.body, format="turtle")) > 0
        dump = http_request(server.url, "GET", "/download/072044/lifelong-learning-plan/5.nq")
        assert dump.status == 200
        quads = list(parse(dump.body, format=RdfFormat.N_QUADS))
        assert quads and {quad.graph_name.value for quad in quads} == {EDITION}
