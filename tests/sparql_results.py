"""Parse what a SPARQL endpoint answered, by its media type, so tests assert on values, not bytes."""

import csv
import io
import json
import warnings
import xml.etree.ElementTree as ET

import rdflib

RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"

BOOLEAN_TYPES = ("application/sparql-results+json", "application/sparql-results+xml")
TABULAR_TYPES = BOOLEAN_TYPES + ("text/csv", "text/tab-separated-values")
RDF_TYPES = {
    "text/turtle": "turtle",
    "application/n-triples": "nt",
    "application/rdf+xml": "xml",
    "application/ld+json": "json-ld",
    "application/trig": "trig",
    "application/n-quads": "nquads",
}

TRACEBACK_MARKERS = ("Traceback", 'File "')


def boolean(media_type: str, body: bytes) -> bool:
    if media_type == "application/sparql-results+json":
        value = json.loads(body)["boolean"]
        assert isinstance(value, bool), value
        return value
    if media_type == "application/sparql-results+xml":
        text = ET.fromstring(body).find(f"{RESULTS_NS}boolean").text.strip()
        assert text in ("true", "false"), text
        return text == "true"
    raise AssertionError(f"{media_type!r} is not a boolean result format")


def rows(media_type: str, body: bytes) -> list[dict[str, str]]:
    """Each solution as {variable: lexical value}; unbound variables are left out."""
    if media_type == "application/sparql-results+json":
        return [{k: v["value"] for k, v in b.items()} for b in json.loads(body)["results"]["bindings"]]
    if media_type == "application/sparql-results+xml":
        solutions = []
        for result in ET.fromstring(body).iter(f"{RESULTS_NS}result"):
            row = {}
            for binding in result.findall(f"{RESULTS_NS}binding"):
                row[binding.get("name")] = "".join(binding.itertext()).strip()
            solutions.append(row)
        return solutions
    if media_type == "text/csv":
        reader = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))
        return [{k: v for k, v in r.items() if v != ""} for r in reader]
    if media_type == "text/tab-separated-values":
        lines = body.decode("utf-8").split("\n")
        header = [h.lstrip("?") for h in lines[0].rstrip("\r").split("\t")]
        solutions = []
        for line in lines[1:]:
            if line.rstrip("\r") == "":
                continue
            cells = line.rstrip("\r").split("\t")
            solutions.append({h: tsv_value(c) for h, c in zip(header, cells, strict=True) if c != ""})
        return solutions
    raise AssertionError(f"{media_type!r} is not a tabular result format")


def tsv_value(cell: str) -> str:
    """TSV writes terms in Turtle syntax: <iri>, "lexical"@lang, "lexical"^^<dt>, or a bare number."""
    if cell.startswith("<") and cell.endswith(">"):
        return cell[1:-1]
    if cell.startswith('"'):
        end = cell.rindex('"')
        return cell[1:end].replace('\\"', '"').replace("\\t", "\t").replace("\\n", "\n").replace("\\\\", "\\")
    return cell


QUAD_FORMATS = ("trig", "nquads")


def graph(media_type: str, body: bytes) -> rdflib.Graph:
    """The triples (or, for TriG/N-Quads, a Dataset of the quads) the body holds."""
    assert media_type in RDF_TYPES, f"{media_type!r} is not an RDF format"
    syntax = RDF_TYPES[media_type]
    result = rdflib.Dataset() if syntax in QUAD_FORMATS else rdflib.Graph()
    with warnings.catch_warnings():
        # rdflib 7.6's own Dataset and JSON-LD parsers use its deprecated ConjunctiveGraph internally.
        warnings.simplefilter("ignore", DeprecationWarning)
        result.parse(data=body, format=syntax)
    return result


def assert_no_traceback(body: bytes) -> None:
    text = body.decode("utf-8", errors="replace")
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"response body shows a traceback: {text[:500]}"
