"""Round trip: every Turtle file of the dataset (data, ontology, shapes), serialized to JSON-LD, RDF/XML,
N-Triples and Turtle and parsed back, is the same graph (isomorphic, blank nodes included)."""

import warnings

import pytest
from rdflib import Graph
from rdflib.compare import isomorphic, to_isomorphic
from shape_cases import PROJECT

FILES = sorted([*(PROJECT / "data").rglob("*.ttl"), *(PROJECT / "ontology").glob("*.ttl"),
                *(PROJECT / "shapes").glob("*.ttl")])
FORMATS = ["json-ld", "xml", "nt", "turtle"]


@pytest.fixture(scope="module", params=FILES, ids=lambda p: str(p.relative_to(PROJECT)))
def original(request):
    graph = Graph().parse(request.param, format="turtle")
    assert len(graph) > 0
    return graph


@pytest.mark.parametrize("rdf_format", FORMATS)
def test_round_trip_is_isomorphic(original, rdf_format):
    text = original.serialize(format=rdf_format)
    back = Graph()
    with warnings.catch_warnings():
        # rdflib 7.6's JSON-LD parser uses its own deprecated ConjunctiveGraph internally; that warning
        # is about rdflib, not the document, so it is silenced for this one parse only.
        if rdf_format == "json-ld":
            warnings.filterwarnings("ignore", "ConjunctiveGraph is deprecated", DeprecationWarning)
        back.parse(data=text, format=rdf_format)
    assert len(back) == len(original)
    if not isomorphic(back, original):
        missing = to_isomorphic(original) - to_isomorphic(back)
        pytest.fail(f"{rdf_format}: {len(missing)} triples differ, e.g. {sorted(missing)[:3]}")


def test_the_plan_is_among_the_files():
    assert PROJECT / "data" / "plan.ttl" in FILES
