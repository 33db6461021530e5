"""/sparql in-process (web/sparql.py, negotiation.py, errors.py, federation.py, result_cache.py).

Every answer is parsed (json, csv, xml, rdflib) and compared with what the store itself answers
in-process for the same query, so a test fails on a wrong value, not only on a wrong status.
"""

import csv
import io
import json
import re
import warnings
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest
import rdflib
from planlod import iris
from planlod.graph.query_text import analyse
from planlod.web import federation
from planlod.web.app import create_app
from planlod.web.negotiation import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    NotAcceptable,
    UnknownFormat,
    choose,
    prefers_html,
)
from planlod.web.store_access import POOL_KEY, get_store
from pyoxigraph import RdfFormat
from rdflib.compare import isomorphic

EDITION = iris.thing_iri("072044", "lifelong-learning-plan", 5)
ONTOLOGY = iris.ontology_iri()
PREFIXES = """PREFIX plan: <https://w3id.org/planlod/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# The 5th edition's elements with their printed notation and Japanese label, in a stable order.
ELEMENTS = PREFIXES + f"""SELECT ?element ?notation ?label WHERE {{
  GRAPH <{EDITION}> {{
    ?element a plan:PlanElement ; skos:notation ?notation ; skos:prefLabel ?label .
    FILTER(LANG(?label) = "ja")
  }}
}} ORDER BY ?element"""
HIERARCHY = PREFIXES + f"""CONSTRUCT {{ ?narrower skos:broader ?broader ; skos:prefLabel ?label }} WHERE {{
  GRAPH <{EDITION}> {{ ?narrower skos:broader ?broader ; skos:prefLabel ?label }}
}}"""
RS = "{http://www.w3.org/2005/sparql-results#}"
DIRECT = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


# ---- helpers: what the store says, and parsing what came back ----

def store_rows(app, query: str) -> list[dict[str, str]]:
    with app.app_context():
        solutions = get_store().query(query)
        names = [v.value for v in solutions.variables]
        return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


def store_graph(app, query: str) -> rdflib.Graph:
    with app.app_context():
        return parse_rdf(get_store().query(query).serialize(format=RdfFormat.N_TRIPLES), "nt")


def parse_rdf(body: bytes, rdflib_format: str) -> rdflib.Graph:
    graph = rdflib.Graph()
    with warnings.catch_warnings():
        # rdflib 7.6 warns about its own deprecated ConjunctiveGraph/default_context while parsing
        # JSON-LD, TriG and N-Quads; that is about rdflib's internals, not about our bytes.
        warnings.simplefilter("ignore", DeprecationWarning)
        if rdflib_format in ("trig", "nquads"):
            dataset = rdflib.Dataset()
            dataset.parse(data=body, format=rdflib_format)
            for s, p, o, _ in dataset.quads((None, None, None, None)):
                graph.add((s, p, o))
        else:
            graph.parse(data=body, format=rdflib_format)
    return graph


def tsv_term(cell: str) -> str:
    if cell.startswith("<") and cell.endswith(">"):
        return cell[1:-1]
    if cell.startswith('"'):
        return json.loads(cell[:cell.rindex('"') + 1])
    return cell


def parse_rows(media_type: str, body: bytes) -> list[dict[str, str]]:
    if media_type == "application/sparql-results+json":
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(body)["results"]["bindings"]]
    if media_type == "application/sparql-results+xml":
        return [{b.get("name"): "".join(b.itertext()) for b in r.findall(f"{RS}binding")}
                for r in ET.fromstring(body).iter(f"{RS}result")]
    if media_type == "text/csv":
        return [{k: v for k, v in row.items() if v != ""}
                for row in csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))]
    if media_type == "text/tab-separated-values":
        lines = body.decode("utf-8").split("\n")
        header = [h[1:] for h in lines[0].split("\t")]
        return [{h: tsv_term(c) for h, c in zip(header, line.split("\t"), strict=True) if c}
                for line in lines[1:] if line]
    raise AssertionError(media_type)


def media_type(response) -> str:
    return response.mimetype


def assert_error(response, status: int) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:300])
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and 'File "' not in text
    return text


@pytest.fixture(scope="module")
def elements(app):
    rows = store_rows(app, ELEMENTS)
    assert len(rows) == 36  # 4 基本方針 + 11 施策の方向 + 21 主な取組 (data/plan.ttl)
    return rows


# ---- methods ----

@pytest.mark.parametrize("method", ["GET", "POST form", "POST direct", "POST form, dataset in URL"])
def test_every_protocol_operation_answers_the_same(client, elements, method):
    headers = {"Accept": "application/sparql-results+json"}
    if method == "GET":
        response = client.get("/sparql", query_string={"query": ELEMENTS}, headers=headers)
    elif method == "POST form":
        response = client.post("/sparql", data={"query": ELEMENTS}, headers=headers)
    elif method == "POST direct":
        response = client.post("/sparql", data=ELEMENTS.encode(), headers={**headers, "Content-Type": DIRECT})
    else:
        # The query names its graph with GRAPH, so the protocol dataset must list it as a named graph.
        response = client.post("/sparql?named-graph-uri=" + quote(EDITION, safe=""),
                               data={"query": ELEMENTS}, headers=headers)
    assert response.status_code == 200
    assert parse_rows(media_type(response), response.data) == elements


# ---- result formats ----

@pytest.mark.parametrize(("accept", "expected"), [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("application/json", "application/sparql-results+json"),
    (None, "application/sparql-results+json"),
])
def test_select_in_every_results_format(client, elements, accept, expected):
    headers = {"Accept": accept} if accept else {}
    response = client.get("/sparql", query_string={"query": ELEMENTS}, headers=headers)
    assert response.status_code == 200
    assert media_type(response) == expected
    assert response.mimetype_params.get("charset") == "utf-8"
    assert parse_rows(expected, response.data) == elements


@pytest.mark.parametrize("fmt", ["csv", "tsv"])
def test_csv_and_tsv_follow_the_results_spec_and_bom_is_opt_in(client, fmt):
    plain = client.get("/sparql", query_string={"query": ELEMENTS, "format": fmt}).data
    assert not plain.startswith(b"\xef\xbb\xbf")
    if fmt == "csv":
        assert plain.count(b"\r\n") == plain.count(b"\n") == 37  # header + 36 rows, every one CRLF
    else:
        assert plain.split(b"\n")[0] == b"?element\t?notation\t?label"
    with_bom = client.get("/sparql", query_string={"query": ELEMENTS, "format": fmt, "bom": "1"})
    assert with_bom.data == b"\xef\xbb\xbf" + plain
    assert with_bom.headers["ETag"] != client.get("/sparql", query_string={
        "query": ELEMENTS, "format": fmt}).headers["ETag"]


def test_ask_in_json_and_xml(client):
    query = f"ASK {{ GRAPH <{EDITION}> {{ <{EDITION}> ?p ?o }} }}"
    as_json = client.get("/sparql", query_string={"query": query})
    assert json.loads(as_json.data)["boolean"] is True
    as_xml = client.get("/sparql", query_string={"query": query},
                        headers={"Accept": "application/sparql-results+xml"})
    assert ET.fromstring(as_xml.data).find(f"{RS}boolean").text == "true"
    false = client.get("/sparql", query_string={"query": "ASK { <urn:x:none> ?p ?o }"})
    assert json.loads(false.data)["boolean"] is False


@pytest.mark.parametrize(("accept", "expected", "parser"), [
    ("text/turtle", "text/turtle", "turtle"),
    ("application/n-triples", "application/n-triples", "nt"),
    ("application/rdf+xml", "application/rdf+xml", "xml"),
    ("application/ld+json", "application/ld+json", "json-ld"),
    ("application/trig", "application/trig", "trig"),
    ("application/n-quads", "application/n-quads", "nquads"),
    ("*/*", "text/turtle", "turtle"),
])
def test_construct_in_every_rdf_format(app, client, accept, expected, parser):
    response = client.get("/sparql", query_string={"query": HIERARCHY}, headers={"Accept": accept})
    assert response.status_code == 200
    assert media_type(response) == expected
    got = parse_rdf(response.data, parser)
    want = store_graph(app, HIERARCHY)
    assert len(want) > 60
    assert isomorphic(got, want)


def test_describe_is_rdf_about_the_resource(client):
    response = client.get("/sparql", query_string={"query": f"DESCRIBE <{EDITION}/policy/1>"},
                          headers={"Accept": "application/n-triples"})
    graph = parse_rdf(response.data, "nt")
    assert (rdflib.URIRef(EDITION + "/policy/1"), rdflib.SKOS.notation, rdflib.Literal("Ⅰ")) in graph


def test_relative_iris_in_a_query_resolve_against_the_endpoint(client):
    response = client.post("/sparql", data=b"CONSTRUCT { <s> <p> 1 } WHERE {}",
                           headers={"Content-Type": DIRECT, "Accept": "application/n-triples"})
    (s, p, o), = list(parse_rdf(response.data, "nt"))
    assert str(s) == "http://localhost/s" and o.toPython() == 1


# ---- content negotiation ----

@pytest.mark.parametrize(("accept", "expected"), [
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv;q=0.9, application/sparql-results+xml;q=0.8", "text/csv"),
    ("text/*", "text/csv"),
    ("text/*;q=0.5, text/tab-separated-values", "text/tab-separated-values"),
    ("application/*", "application/sparql-results+json"),
    ("*/*;q=0.1, text/csv;q=0", "application/sparql-results+json"),
    ("text/csv;header=absent, application/sparql-results+xml;q=0.1", "application/sparql-results+xml"),
    ("text/turtle, application/sparql-results+json;q=0.2", "application/sparql-results+json"),
])
def test_accept_q_values_and_wildcards(client, accept, expected):
    response = client.get("/sparql", query_string={"query": "SELECT (1 AS ?x) {}"},
                          headers={"Accept": accept})
    assert response.status_code == 200
    assert media_type(response) == expected
    assert response.headers["Vary"] == "Accept"


@pytest.mark.parametrize(("query", "accept"), [
    ("SELECT (1 AS ?x) {}", "image/png"),
    ("SELECT (1 AS ?x) {}", "text/csv;q=0, application/sparql-results+json;q=0"),
    ("CONSTRUCT WHERE { ?s ?p ?o } LIMIT 1", "image/png, application/sparql-results+xml;q=0"),
])
def test_nothing_acceptable_is_406_listing_the_formats(client, query, accept):
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": accept})
    text = assert_error(response, 406)
    offers = GRAPH_FORMATS if query.startswith("CONSTRUCT") else RESULT_FORMATS
    for offer in offers:
        assert offer.media_type in text


def test_a_select_accept_on_a_construct_gets_turtle(client):
    # rdflib's SPARQLStore sends its SELECT Accept with every query: a SPARQL client, not a 406 case.
    response = client.get("/sparql", query_string={"query": HIERARCHY},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200 and media_type(response) == "text/turtle"


@pytest.mark.parametrize(("query", "formats", "expected"), [
    (ELEMENTS, ["csv"], "text/csv"),
    (ELEMENTS, ["tsv", "text/tab-separated-values"], "text/tab-separated-values"),  # SPARQLWrapper repeats
    (ELEMENTS, ["text/csv"], "text/csv"),
    (HIERARCHY, ["json-ld", "application/ld+json,application/x-json+ld"], "application/ld+json"),
    (HIERARCHY, ["nt"], "application/n-triples"),
    (HIERARCHY, ["n3"], "text/turtle"),  # Turtle is N3; SPARQLWrapper asks with format=n3
    (HIERARCHY, ["", "ttl"], "text/turtle"),
])
def test_format_parameter_overrides_accept(client, query, formats, expected):
    response = client.get("/sparql", query_string=[("query", query)] + [("format", f) for f in formats],
                          headers={"Accept": "application/sparql-results+xml, application/rdf+xml"})
    assert response.status_code == 200
    assert media_type(response) == expected


@pytest.mark.parametrize(("query", "fmt"), [(ELEMENTS, "turtle"), (HIERARCHY, "csv"), (ELEMENTS, "png")])
def test_a_format_the_query_cannot_have_is_400(client, query, fmt):
    assert_error(client.get("/sparql", query_string={"query": query, "format": fmt}), 400)


@pytest.mark.parametrize(("accept", "expected"), [
    (None, "application/sparql-results+json"),
    ("", "application/sparql-results+json"),
    ("garbage", "application/sparql-results+json"),
    ("application/sparql-results+xml;q=abc, text/csv;q=0.5", "text/csv"),
])
def test_negotiation_unit_cases(accept, expected):
    assert choose(accept, RESULT_FORMATS).media_type == expected


@pytest.mark.parametrize(("accept", "is_browser"), [
    (BROWSER, True),
    ("application/xhtml+xml,text/html;q=0.9,*/*;q=0.8", True),
    ("*/*", False),  # curl
    (None, False),
    ("application/sparql-results+json,*/*;q=0.9", False),  # YASGUI's own requests
    ("text/html;q=0.5,application/sparql-results+xml;q=0.5", False),  # a tie is not a preference
    ("text/*", False),
])
def test_who_is_a_browser(accept, is_browser):
    assert prefers_html(accept) is is_browser


def test_negotiation_errors_are_typed():
    with pytest.raises(NotAcceptable):
        choose("image/png", RESULT_FORMATS)
    with pytest.raises(UnknownFormat):
        choose("*/*", RESULT_FORMATS, ["nope"])


# ---- the dataset: protocol parameters and FROM ----

def count(client, query: str, target: str = "/sparql") -> list[dict[str, str]]:
    response = client.post(target, data=query.encode(),
                           headers={"Content-Type": DIRECT, "Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return parse_rows(media_type(response), response.data)


@pytest.mark.parametrize(("case", "query", "target", "expected"), [
    # default graph: the union of every graph, so the ontology's own triples are in it
    ("union", f"ASK {{ <{ONTOLOGY}> ?p ?o }}", "/sparql", True),
    ("default-graph-uri narrows it", f"ASK {{ <{ONTOLOGY}> ?p ?o }}",
     "/sparql?default-graph-uri=" + quote(EDITION, safe=""), False),
    ("default-graph-uri keeps its own", f"ASK {{ <{EDITION}> ?p ?o }}",
     "/sparql?default-graph-uri=" + quote(EDITION, safe=""), True),
    ("only default-graph-uri: no named graphs", "ASK { GRAPH ?g { ?s ?p ?o } }",
     "/sparql?default-graph-uri=" + quote(EDITION, safe=""), False),
    ("only named-graph-uri: empty default graph", "ASK { ?s ?p ?o }",
     "/sparql?named-graph-uri=" + quote(EDITION, safe=""), False),
    ("named-graph-uri lists the graphs", f"ASK {{ GRAPH <{EDITION}> {{ ?s ?p ?o }} }}",
     "/sparql?named-graph-uri=" + quote(EDITION, safe=""), True),
    ("FROM narrows the default graph", f"ASK FROM <{EDITION}> {{ <{ONTOLOGY}> ?p ?o }}", "/sparql", False),
    ("FROM NAMED alone: empty default graph", f"ASK FROM NAMED <{EDITION}> {{ ?s ?p ?o }}", "/sparql", False),
    ("protocol wins over FROM", f"ASK FROM <{EDITION}> {{ <{ONTOLOGY}> ?p ?o }}",
     "/sparql?default-graph-uri=" + quote(ONTOLOGY, safe=""), True),
    ("protocol wins over FROM NAMED", f"ASK FROM NAMED <{EDITION}> {{ GRAPH <{EDITION}> {{ ?s ?p ?o }} }}",
     "/sparql?named-graph-uri=" + quote(ONTOLOGY, safe=""), False),
    ("an unknown graph is empty, not fetched", "ASK FROM <http://127.0.0.1:9/x> { ?s ?p ?o }", "/sparql",
     False),
])
def test_dataset(client, case, query, target, expected):
    response = client.post(target, data=query.encode(),
                           headers={"Content-Type": DIRECT, "Accept": "application/sparql-results+json"})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert json.loads(response.data)["boolean"] is expected, case


# ---- errors: status, and the form the client asked for ----

ERRORS = [
    # (case, method, target, headers, body, status)
    ("two query parameters", "GET", "/sparql?query=ASK%7B%7D&query=ASK%7B%7D", {}, None, 400),
    ("empty query", "GET", "/sparql?query=", {}, None, 400),
    ("blank query", "POST", "/sparql", {"Content-Type": DIRECT}, b"  \n", 400),
    ("form without query", "POST", "/sparql", {"Content-Type": FORM}, b"format=json", 400),
    ("syntax error", "GET", "/sparql?query=SELECT%20*%20WHERE%20%7B", {}, None, 400),
    ("bad %-encoding", "GET", "/sparql?query=ASK%zz", {}, None, 400),
    ("lone %", "GET", "/sparql?query=%", {}, None, 400),
    ("invalid UTF-8 in URL", "GET", "/sparql?query=ASK%20%7B%FF%7D", {}, None, 400),
    ("overlong UTF-8", "GET", "/sparql?query=ASK%20%7B%C0%AF%7D", {}, None, 400),
    ("NUL in URL", "GET", "/sparql?query=ASK%20%7B%00%7D", {}, None, 400),
    ("invalid UTF-8 body", "POST", "/sparql", {"Content-Type": DIRECT}, b"ASK {\xff}", 400),
    ("NUL in body", "POST", "/sparql", {"Content-Type": DIRECT}, b"ASK {\x00}", 400),
    ("graph not an IRI", "GET", "/sparql?query=ASK%7B%7D&default-graph-uri=not%20an%20iri", {}, None, 400),
    ("relative graph", "GET", "/sparql?query=ASK%7B%7D&named-graph-uri=graph", {}, None, 400),
    ("query in body and URL", "POST", "/sparql?query=ASK%7B%7D", {"Content-Type": DIRECT}, b"ASK {}", 400),
    ("no content type", "POST", "/sparql", {}, b"query=ASK%7B%7D", 415),
    ("text/plain", "POST", "/sparql", {"Content-Type": "text/plain"}, b"ASK {}", 415),
    ("multipart", "POST", "/sparql", {"Content-Type": "multipart/form-data; boundary=x"}, b"--x--", 415),
    ("UTF-16 charset", "POST", "/sparql", {"Content-Type": DIRECT + "; charset=UTF-16"},
     "ASK {}".encode("utf-16"), 415),
    ("Latin-1 charset", "POST", "/sparql", {"Content-Type": FORM + "; charset=ISO-8859-1"}, b"query=ASK",
     415),
    ("update by POST", "POST", "/sparql", {"Content-Type": "application/sparql-update"}, b"CLEAR ALL", 403),
    ("update by form", "POST", "/sparql", {"Content-Type": FORM}, b"update=CLEAR%20ALL", 403),
    ("update by GET", "GET", "/sparql?update=CLEAR%20ALL", {}, None, 403),
    ("update as a query", "POST", "/sparql", {"Content-Type": DIRECT},
     b"PREFIX ex: <http://example.org/>\nINSERT DATA { ex:a ex:b ex:c }", 403),
    ("LOAD as a query", "GET", "/sparql?query=LOAD%20%3Chttp%3A%2F%2F127.0.0.1%3A9%2F%3E", {}, None, 403),
    ("PUT", "PUT", "/sparql?query=ASK%7B%7D", {}, None, 405),
    ("DELETE", "DELETE", "/sparql", {}, None, 405),
]


@pytest.mark.parametrize(("case", "method", "target", "headers", "body", "status"), ERRORS,
                         ids=[e[0] for e in ERRORS])
def test_bad_requests_get_the_right_status(client, case, method, target, headers, body, status):
    path, _, query_string = target.partition("?")
    response = client.open(path, method=method, query_string=query_string, headers=headers, data=body)
    text = assert_error(response, status)
    assert text.startswith(f"{status} ")  # text/plain for a client that states no preference
    if status == 405:
        assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


@pytest.mark.parametrize(("opener", "closer"), [("(", ")"), ("{ ", " }"), ("[ <urn:p> ", " ]")])
def test_deep_nesting_is_refused_before_it_runs(client, opener, closer):
    depth = 300
    query = "SELECT * WHERE { FILTER(" + opener * depth + "1" + closer * depth + ") }"
    text = assert_error(client.post("/sparql", data={"query": query}), 400)
    assert "levels deep" in text and "256" in text
    assert analyse(query).nesting == depth + 2


def test_syntax_error_names_line_and_column(client):
    response = client.get("/sparql", query_string={"query": "SELECT *\nWHERE {\n  ?s ?p\n}"})
    text = assert_error(response, 400)
    assert re.search(r"line 4, column \d+", text), text


def test_the_store_is_unchanged_after_updates_are_refused(app, client):
    before = store_rows(app, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
    client.post("/sparql", data=b"CLEAR ALL", headers={"Content-Type": "application/sparql-update"})
    client.post("/sparql", data={"update": "DROP ALL"})
    assert store_rows(app, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }") == before


@pytest.mark.parametrize(("accept", "form"), [
    ("application/sparql-results+json", "json"),
    ("application/json", "json"),
    ("text/csv", "text"),
    ("text/plain", "text"),
    (BROWSER, "html"),
])
def test_errors_answer_in_the_clients_form(client, accept, form):
    # POSTed: a browser's GET with a query gets the query page with that query in it, not an error.
    response = client.post("/sparql", data={"query": "ASK {"}, headers={"Accept": accept})
    assert_error(response, 400)
    if form == "json":
        assert response.mimetype == "application/json"
        error = json.loads(response.data)["error"]
        assert error["status"] == 400 and "line 1, column 6" in error["message"]
    elif form == "html":
        assert response.mimetype == "text/html"
        assert b"<h1>400 Bad Request</h1>" in response.data and b"line 1, column 6" in response.data
    else:
        assert response.mimetype == "text/plain"
    assert response.headers["Cache-Control"] == "no-store"


def test_unknown_page_is_answered_by_the_errors_module(client):
    response = client.get("/no-such-page-anywhere", headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert json.loads(response.data)["error"]["status"] == 404


# ---- SERVICE and the address rules ----

@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { SERVICE SILENT <http://example.org/sparql> { ?s ?p ?o } }",
    "PREFIX e: <http://169.254.169.254/>\nSELECT * WHERE { SERVICE e:latest { ?s ?p ?o } }",
    "SELECT * WHERE { VALUES ?e { <http://example.org/> } SERVICE ?e { ?s ?p ?o } }",
    "select * { optional { service <http://[::1]:9/> { ?s ?p ?o } } }",
])
def test_service_is_refused_when_nothing_is_allow_listed(client, query):
    text = assert_error(client.get("/sparql", query_string={"query": query}), 403)
    assert "SERVICE" in text


PUBLIC = "93.184.215.14"  # a global unicast address (no connection is made: the resolver is a table)


@pytest.mark.parametrize(("iri", "addresses", "allowed"), [
    ("http://peer.example/sparql", [PUBLIC], True),
    ("HTTP://Peer.Example:80/sparql", [PUBLIC], True),  # normalised like the allow-list entry
    ("http://peer.example/sparql", ["127.0.0.1"], False),  # a name that resolves to loopback
    ("http://peer.example/sparql", [PUBLIC, "10.0.0.5"], False),  # any bad address refuses
    ("http://peer.example/sparql", ["169.254.169.254"], False),  # cloud metadata
    ("http://peer.example/sparql", ["100.100.100.200"], False),  # shared address space (a metadata one)
    ("http://peer.example/sparql", ["::ffff:127.0.0.1"], False),  # loopback as IPv4-mapped IPv6
    ("http://peer.example/sparql", ["fe80::1%eth0"], False),
    ("http://peer.example/sparql", ["fd00:ec2::254"], False),
    ("http://peer.example/other", [PUBLIC], False),  # not on the list
    ("ftp://peer.example/sparql", [PUBLIC], False),
    ("http://user:pw@peer.example/sparql", [PUBLIC], False),
    (None, [PUBLIC], False),
])
def test_service_address_rules(iri, addresses, allowed):
    allowlist = federation.parse_allowlist("http://peer.example/sparql, ftp://peer.example/sparql")
    resolver = lambda host, port: addresses  # noqa: E731
    if allowed:
        federation.check_endpoint(iri, allowlist, resolver)
    else:
        with pytest.raises(federation.EndpointRefused):
            federation.check_endpoint(iri, allowlist, resolver)


def test_loopback_is_allowed_only_by_the_test_setting():
    allowlist = federation.parse_allowlist("http://127.0.0.1:7000/sparql")
    with pytest.raises(federation.EndpointRefused):
        federation.check_endpoint("http://127.0.0.1:7000/sparql", allowlist)
    federation.check_endpoint("http://127.0.0.1:7000/sparql", allowlist, allow_loopback=True)
    with pytest.raises(federation.EndpointRefused):
        federation.check_endpoint("http://10.1.2.3:7000/sparql", federation.parse_allowlist(
            "http://10.1.2.3:7000/sparql"), allow_loopback=True)


@pytest.mark.parametrize(("query", "targets"), [
    ("SELECT * { SERVICE <http://a.example/s> {} }", ["http://a.example/s"]),
    ("BASE <http://a.example/> SELECT * { SERVICE <s> {} }", ["http://a.example/s"]),
    ("PREFIX p: <http://a.example/>\nSELECT * { SERVICE p:s {} }", ["http://a.example/s"]),
    ("SELECT * { SERVICE <http://a.example/\\u0073> {} }", ["http://a.example/s"]),
    ('SELECT * { ?s ?p "SERVICE <http://a.example/>" } # SERVICE <http://b.example/>', []),
    ("SELECT * { ?s <http://a.example/SERVICE> ?o }", []),
    ("SELECT * { SERVICE ?x {} }", [None]),
])
def test_service_targets_are_read_past_strings_comments_and_iris(query, targets):
    assert analyse(query).service_targets == targets


# ---- limits ----

@pytest.fixture(scope="module")
def limited_app():
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "MAX_RESULT_ROWS": 5,
                      "MAX_QUERY_LENGTH": 2000, "MAX_CONTENT_LENGTH": 4000, "RESULT_CACHE_SIZE": 0})
    yield app
    pool = app.extensions.get(POOL_KEY)
    if pool is not None:
        pool.close()


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_a_long_result_is_cut_and_says_so(limited_app, elements, fmt):
    response = limited_app.test_client().get("/sparql", query_string={"query": ELEMENTS, "format": fmt})
    assert response.status_code == 200
    assert response.headers["X-Result-Truncated"] == "true"
    assert response.headers["X-Result-Row-Limit"] == "5"
    assert "cut at 5 rows" in response.headers["Warning"]
    assert parse_rows(media_type(response), response.data) == elements[:5]


def test_a_cut_construct_keeps_whole_triples(limited_app, app):
    response = limited_app.test_client().get("/sparql", query_string={"query": HIERARCHY, "format": "ttl"})
    assert response.headers["X-Result-Truncated"] == "true"
    got = parse_rdf(response.data, "turtle")
    assert len(got) == 5 and set(got) <= set(store_graph(app, HIERARCHY))


def test_a_construct_limit_does_not_bound_its_triples(limited_app):
    # LIMIT 3 solutions of two triples each: 6 triples, one over the cap of 5.
    query = PREFIXES + f"""CONSTRUCT {{ ?e skos:notation ?n ; skos:inScheme <{EDITION}> }}
    WHERE {{ GRAPH <{EDITION}> {{ ?e a plan:PlanElement ; skos:notation ?n }} }} LIMIT 3"""
    response = limited_app.test_client().get("/sparql", query_string={"query": query, "format": "nt"})
    assert response.headers["X-Result-Truncated"] == "true"
    assert len(parse_rdf(response.data, "nt")) == 5


def test_a_result_within_the_limit_is_not_marked(limited_app):
    response = limited_app.test_client().get("/sparql", query_string={"query": ELEMENTS + " LIMIT 5"})
    assert "X-Result-Truncated" not in response.headers
    assert len(parse_rows(media_type(response), response.data)) == 5
    small = limited_app.test_client().get("/sparql", query_string={"query": "SELECT (1 AS ?x) {}"})
    assert "X-Result-Truncated" not in small.headers


@pytest.mark.parametrize(("method", "status"), [("GET", 414), ("POST", 413)])
def test_a_long_query_is_refused(limited_app, method, status):
    query = "ASK {}" + " " * 2000
    client = limited_app.test_client()
    if method == "GET":
        response = client.get("/sparql", query_string={"query": query})
    else:
        response = client.post("/sparql", data=query.encode(), headers={"Content-Type": DIRECT})
    assert "2000" in assert_error(response, status)


def test_a_large_body_is_413(limited_app):
    response = limited_app.test_client().post("/sparql", data=b"#" * 5000, headers={"Content-Type": DIRECT})
    assert "5000" in assert_error(response, 413)


# ---- caching ----

def test_etag_gives_304_and_depends_on_the_request(client):
    first = client.get("/sparql", query_string={"query": ELEMENTS})
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public, max-age=")
    again = client.get("/sparql", query_string={"query": ELEMENTS}, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    others = {
        client.get("/sparql", query_string={"query": ELEMENTS, "format": "csv"}).headers["ETag"],
        client.get("/sparql", query_string={"query": ELEMENTS + " "}).headers["ETag"],
        client.get("/sparql", query_string={"query": ELEMENTS, "default-graph-uri": EDITION}).headers["ETag"],
    }
    assert etag not in others and len(others) == 3
    stale = client.get("/sparql", query_string={"query": ELEMENTS}, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200


def test_post_with_a_matching_etag_is_412(client):
    etag = client.post("/sparql", data={"query": ELEMENTS}).headers["ETag"]
    response = client.post("/sparql", data={"query": ELEMENTS}, headers={"If-None-Match": etag})
    assert_error(response, 412)


def test_repeated_queries_come_from_the_cache(app, client):
    query = ELEMENTS + " # cache probe"
    cache = app.extensions["planlod.result_cache"] if "planlod.result_cache" in app.extensions else None
    first = client.get("/sparql", query_string={"query": query})
    cache = app.extensions["planlod.result_cache"]
    hits = cache.hits
    second = client.get("/sparql", query_string={"query": query})
    assert cache.hits == hits + 1
    assert second.data == first.data


def test_errors_are_not_cached(client):
    for _ in range(2):
        assert_error(client.get("/sparql", query_string={"query": "ASK {"}), 400)


# ---- the same URL for browsers, the description and CORS ----

def test_a_browser_gets_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    with_query = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Accept": BROWSER})
    assert with_query.mimetype == "text/html" and b"ASK {}" in with_query.data


def test_a_browser_download_gets_the_file(client, elements):
    response = client.get("/sparql", query_string={"query": ELEMENTS, "format": "csv"},
                          headers={"Accept": BROWSER})
    assert media_type(response) == "text/csv"
    assert parse_rows("text/csv", response.data) == elements


def test_no_query_is_the_service_description(client):
    response = client.get("/sparql", headers={"Accept": "text/turtle"})
    graph = parse_rdf(response.data, "turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef("http://localhost/sparql")) in graph


def test_cors(client):
    preflight = client.options("/sparql", headers={"Origin": "https://example.org",
                                                   "Access-Control-Request-Method": "POST",
                                                   "Access-Control-Request-Headers": "Content-Type"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in preflight.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in preflight.headers["Access-Control-Allow-Headers"]
    response = client.get("/sparql", query_string={"query": "ASK {}"}, headers={"Origin": "https://example.org"})
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "ETag" in response.headers["Access-Control-Expose-Headers"]
    error = client.get("/sparql", query_string={"query": "ASK {"}, headers={"Origin": "https://example.org"})
    assert error.headers["Access-Control-Allow-Origin"] == "*"
