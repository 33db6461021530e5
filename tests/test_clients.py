"""Real SPARQL clients against a real `planlod serve`: SPARQLWrapper in each format, rdflib's SPARQLStore.

Each answer is parsed by the client and compared with the same query run in-process on the store
(the trusted path), so the expected values come from the data, not from this file.
SPARQLWrapper by default also sends `format=`/`output=`/`results=` parameters with its own values
(json, xml, csv, tsv + a media type, turtle, json-ld + media types); the endpoint must cope with those
as well as with plain content negotiation (`onlyConneg`).
"""

import csv
import io

import pytest
import rdflib
from planlod import iris
from planlod.web.store_access import get_store
from rdflib.compare import isomorphic
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from sparql_results import tsv_value
from SPARQLWrapper import (
    CSV,
    GET,
    JSON,
    JSONLD,
    N3,
    POST,
    POSTDIRECTLY,
    RDFXML,
    TSV,
    TURTLE,
    URLENCODED,
    XML,
    SPARQLWrapper,
)

EDITION = iris.thing_iri("072044", "lifelong-learning-plan", 5)
PREFIXES = "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
POLICIES = PREFIXES + f"""SELECT ?policy ?notation ?label WHERE {{
  ?policy skos:topConceptOf <{EDITION}> ; skos:notation ?notation ; skos:prefLabel ?label .
  FILTER(lang(?label) = "ja")
}} ORDER BY ?policy"""
HIERARCHY = PREFIXES + f"""CONSTRUCT {{ ?child skos:broader ?parent ; skos:prefLabel ?label }} WHERE {{
  ?child skos:inScheme <{EDITION}> ; skos:broader ?parent ; skos:prefLabel ?label .
}}"""
HAS_POLICIES = PREFIXES + f"ASK {{ ?policy skos:topConceptOf <{EDITION}> }}"


@pytest.fixture(scope="module")
def expected(app):
    """The answers computed in-process on the store, to compare each client's parse against."""
    with app.app_context():
        store = get_store()
        policies = [{k: s[k].value for k in ("policy", "notation", "label")} for s in store.query(POLICIES)]
        hierarchy = rdflib.Graph()
        for triple in store.query(HIERARCHY):
            hierarchy.add(tuple(to_rdflib(t) for t in (triple.subject, triple.predicate, triple.object)))
    assert len(policies) >= 4 and len(hierarchy) > 10  # the data has a hierarchy to compare
    return {"policies": policies, "hierarchy": hierarchy}


def to_rdflib(term):
    from pyoxigraph import Literal, NamedNode

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    return rdflib.BNode(term.value)


def wrapper(server, query: str, return_format: str, method: str = GET, only_conneg: bool = False,
            request_method: str = URLENCODED) -> SPARQLWrapper:
    sparql = SPARQLWrapper(server.sparql)
    sparql.setQuery(query)
    sparql.setReturnFormat(return_format)
    sparql.setMethod(method)
    sparql.setRequestMethod(request_method)
    sparql.setOnlyConneg(only_conneg)
    return sparql


# GET, POST form and POST direct; with SPARQLWrapper's extra format parameters and without.
TRANSPORTS = [
    pytest.param(GET, URLENCODED, False, id="get"),
    pytest.param(GET, URLENCODED, True, id="get-conneg-only"),
    pytest.param(POST, URLENCODED, False, id="post-form"),
    pytest.param(POST, POSTDIRECTLY, True, id="post-direct"),
]


@pytest.mark.parametrize(("method", "request_method", "only_conneg"), TRANSPORTS)
def test_sparqlwrapper_json(live_server, expected, method, request_method, only_conneg):
    result = wrapper(live_server, POLICIES, JSON, method, only_conneg, request_method).query()
    assert result.response.headers.get_content_type() == "application/sparql-results+json"
    bindings = result.convert()["results"]["bindings"]
    got = [{k: v["value"] for k, v in b.items()} for b in bindings]
    assert got == expected["policies"]


@pytest.mark.parametrize(("method", "request_method", "only_conneg"), TRANSPORTS)
def test_sparqlwrapper_xml(live_server, expected, method, request_method, only_conneg):
    document = wrapper(live_server, POLICIES, XML, method, only_conneg, request_method).query().convert()
    got = []
    for result in document.getElementsByTagName("result"):
        row = {}
        for binding in result.getElementsByTagName("binding"):
            node = binding.firstChild
            while node.nodeType != node.ELEMENT_NODE:
                node = node.nextSibling
            row[binding.getAttribute("name")] = "".join(c.data for c in node.childNodes)
        got.append(row)
    assert got == expected["policies"]


@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_csv(live_server, expected, only_conneg):
    result = wrapper(live_server, POLICIES, CSV, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() == "text/csv"
    body = result.convert()
    assert not body.startswith(b"\xef\xbb\xbf")  # no BOM unless asked for
    assert b"\r\n" in body and body.count(b"\n") == body.count(b"\r\n")  # CRLF line ends
    got = list(csv.DictReader(io.StringIO(body.decode("utf-8"), newline="")))
    assert got == expected["policies"]


@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_tsv(live_server, expected, only_conneg):
    result = wrapper(live_server, POLICIES, TSV, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() == "text/tab-separated-values"
    lines = result.convert().decode("utf-8").splitlines()
    assert lines[0].split("\t") == ["?policy", "?notation", "?label"]
    got = [dict(zip(("policy", "notation", "label"), map(tsv_value, line.split("\t")), strict=True))
           for line in lines[1:]]
    assert got == expected["policies"]
    assert all(line.split("\t")[2].endswith('"@ja') for line in lines[1:])  # TSV keeps the language tag


@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_turtle(live_server, expected, only_conneg):
    result = wrapper(live_server, HIERARCHY, TURTLE, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() == "text/turtle"
    got = rdflib.Graph().parse(data=result.convert(), format="turtle")
    assert isomorphic(got, expected["hierarchy"])


# SPARQLWrapper 2.0 parses JSON-LD into rdflib's ConjunctiveGraph, which rdflib 7.6 deprecates.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_json_ld(live_server, expected, only_conneg):
    result = wrapper(live_server, HIERARCHY, JSONLD, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() == "application/ld+json"
    got = result.convert()  # SPARQLWrapper parses JSON-LD into an rdflib graph
    assert isomorphic(rdflib.Graph() + got, expected["hierarchy"])


# SPARQLWrapper 2.0 parses RDF/XML into rdflib's ConjunctiveGraph, which rdflib 7.6 deprecates.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_rdf_xml(live_server, expected, only_conneg):
    result = wrapper(live_server, HIERARCHY, RDFXML, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() == "application/rdf+xml"
    assert isomorphic(rdflib.Graph() + result.convert(), expected["hierarchy"])


@pytest.mark.parametrize("only_conneg", [False, True])
def test_sparqlwrapper_n3_gets_turtle(live_server, expected, only_conneg):
    """SPARQLWrapper's N3 sends format=n3 and an Accept with Turtle and N3 types; Turtle is an N3 subset.

    (Parsed as Turtle here: rdflib 7.6's own N3 parser trips its deprecations.)
    """
    result = wrapper(live_server, HIERARCHY, N3, only_conneg=only_conneg).query()
    assert result.response.headers.get_content_type() in ("text/turtle", "text/n3")
    got = rdflib.Graph().parse(data=result.convert(), format="turtle")
    assert isomorphic(got, expected["hierarchy"])


@pytest.mark.parametrize("return_format", [JSON, XML])
def test_sparqlwrapper_ask(live_server, return_format):
    converted = wrapper(live_server, HAS_POLICIES, return_format).query().convert()
    if return_format == JSON:
        assert converted["boolean"] is True
    else:
        assert converted.getElementsByTagName("boolean")[0].firstChild.data == "true"


# -- rdflib's SPARQLStore: a remote endpoint behind the rdflib Graph API --

@pytest.fixture
def remote_graph(live_server):
    return rdflib.Graph(store=SPARQLStore(live_server.sparql, returnFormat="json"))


def test_sparqlstore_select(remote_graph, expected):
    got = [{k: str(row[k]) for k in ("policy", "notation", "label")} for row in remote_graph.query(POLICIES)]
    assert got == expected["policies"]


def test_sparqlstore_ask_and_construct(remote_graph, expected):
    assert remote_graph.query(HAS_POLICIES).askAnswer is True
    constructed = remote_graph.query(HIERARCHY).graph
    assert isomorphic(constructed, expected["hierarchy"])


def test_sparqlstore_triple_patterns(remote_graph, expected):
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    tops = {str(s) for s in remote_graph.subjects(skos.topConceptOf, rdflib.URIRef(EDITION))}
    assert tops == {row["policy"] for row in expected["policies"]}
    assert len(remote_graph) > 0
