"""The SHACL gate: validate the dataset's files against shapes/ with ontology/ (pyshacl).

API (stable: `planlod validate` and the server's start-up gate call it):

    from planlod.graph.dataset import discover
    from planlod.validation import validate_sources
    report = validate_sources(discover(ontology_dir, shapes_dir, data_dir, base), base)
    # keyword-only: engine="hybrid" (default; SHACL-SPARQL constraints in pyoxigraph) or "pyshacl"
    report.conforms        # False when any result has severity sh:Violation (warnings do not fail)
    report.results         # [ValidationResult(focus_node, path, value, severity, source_shape,
                           #                   message_ja, message_en, source_file), ...]
    print(report.text())   # the readable report `planlod validate` prints

`sources` is what `planlod.graph.dataset.discover` returns (or any list of its `Source`s): the "data"
sources are validated, the "shapes" sources are the shapes graph, the "ontology" sources are the ontology.
Parse errors surface as `planlod.graph.dataset.DatasetError` naming the file; broken shapes as ShapesError.

The union, not file by file: the data files refer to each other (a link set's links point at elements that
a plan file describes; plan.ttl names the dataset's publisher that dataset.ttl describes), so a rule such as
"a link's subject is a plan element" can only be decided on the union — the same union the store's default
graph serves. Each result still names the file that describes its focus node.

The ontology goes into the data graph itself rather than into pyshacl's `ont_graph`: pyshacl mixes only
class and property axioms from `ont_graph`, not the ontology's individuals (the plan:LevelType values that
data points at), and deep-copying them as owl:NamedIndividual costs ~50 s. The effect pyshacl's `ont_graph`
is for (rdfs:subClassOf reaching class targets, e.g. plan:Vision under plan:Ideal) is the same.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import pyshacl
from pyoxigraph import BlankNode, NamedNode, Store
from pyoxigraph import Literal as OxLiteral
from pyparsing import ParseBaseException
from pyshacl.errors import ReportableRuntimeError
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF, RDFS, SH, XSD
from rdflib.plugins.sparql import prepareQuery

from . import iris
from .config import DEFAULT_BASE_IRI
from .graph.dataset import Source, graph_of_data_file, parse_file, quads_of, turtle_files

SEVERITIES = {SH.Violation: "Violation", SH.Warning: "Warning", SH.Info: "Info"}
TARGETS = (SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode)
XSD_STRING = str(XSD.string)
# Hiragana, katakana and CJK ideographs: how a message without a language tag shows it is Japanese.
JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff]")


class ShapesError(Exception):
    """The shapes themselves cannot be used (a SHACL or SPARQL error in shapes/); the message says why."""


@dataclass(frozen=True)
class ValidationResult:
    focus_node: str
    path: str | None
    value: str | None
    severity: str  # "Violation", "Warning" or "Info"
    source_shape: str
    message_ja: str
    message_en: str
    source_file: Path | None  # the data file that describes the focus node, when one does


@dataclass
class ValidationReport:
    conforms: bool
    results: list[ValidationResult]
    graph: Graph = field(repr=False)  # the sh:ValidationReport as pyshacl made it
    base: str = DEFAULT_BASE_IRI

    @property
    def violations(self) -> list[ValidationResult]:
        return [r for r in self.results if r.severity == "Violation"]

    def fired_shapes(self) -> set[str]:
        return {r.source_shape for r in self.results}

    def text(self) -> str:
        counts = {s: sum(r.severity == s for r in self.results) for s in SEVERITIES.values()}
        summary = ", ".join(f"{n} {s.lower()}(s)" for s, n in counts.items() if n)
        lines = [("Conforms" if self.conforms else "Does not conform")
                 + (f": {summary}" if summary else ": no results")]
        for r in self.results:
            lines.append("")
            lines.append(f"{r.severity}: {self.short(r.source_shape)}")
            lines.append(f"  focus:   {self.short(r.focus_node)}"
                         + (f"  ({r.source_file})" if r.source_file else ""))
            if r.path:
                lines.append(f"  path:    {self.short(r.path)}")
            if r.value:
                lines.append(f"  value:   {self.short(r.value)}")
            lines.append(f"  ja:      {r.message_ja}")
            lines.append(f"  en:      {r.message_en}")
        return "\n".join(lines)

    def short(self, iri: str) -> str:
        for prefix, namespace in prefixes(self.base).items():
            if iri.startswith(namespace) and iri != namespace:
                return f"{prefix}:{iri[len(namespace):]}"
        return f"<{iri}>" if ":" in iri and " " not in iri else iri


def prefixes(base: str) -> dict[str, str]:
    return {"plansh": iris.shapes_ns(base), "plan": iris.ontology_ns(base),
            "skos": "http://www.w3.org/2004/02/skos/core#", "dcterms": "http://purl.org/dc/terms/",
            "rdfs": "http://www.w3.org/2000/01/rdf-schema#", "rdf": str(RDF)}


class PreparedQueryGraph(Graph):
    """An rdflib graph that parses each SPARQL text once.

    pyshacl runs a SPARQL constraint once per focus node with the same text and $this pre-bound;
    rdflib would parse and translate the text every time (~25 ms, most of a plan's validation time).
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._prepared = {}

    def query(self, query_object, *args, **kwargs):
        if isinstance(query_object, str) and not kwargs.get("initNs"):
            prepared = self._prepared.get(query_object)
            if prepared is None:
                try:
                    prepared = self._prepared[query_object] = prepareQuery(query_object)
                except ParseBaseException as error:
                    raise ShapesError(f"the shapes cannot be used: a SPARQL constraint does not parse: "
                                      f"{error.msg} at line {error.lineno}, column {error.col}") from None
            query_object = prepared
        return super().query(query_object, *args, **kwargs)


def to_rdflib(term):
    if isinstance(term, NamedNode):
        return URIRef(term.value)
    if isinstance(term, BlankNode):
        return BNode(term.value)
    if isinstance(term, OxLiteral):
        if term.language:
            return Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            return Literal(term.value)  # as rdflib's own Turtle parser gives a simple literal
        return Literal(term.value, datatype=URIRef(term.datatype.value))
    raise ValueError(f"unexpected term {term!r}")  # RDF-star triples are not part of this dataset


def add_source(graph: Graph, source: Source, base: str, subjects: dict | None = None) -> None:
    for quad in quads_of(source, base):
        subject = to_rdflib(quad.subject)
        graph.add((subject, to_rdflib(quad.predicate), to_rdflib(quad.object)))
        if subjects is not None and isinstance(subject, URIRef):
            subjects.setdefault(str(subject), source.path)


def rebase_namespaces(shapes: Graph, base: str) -> None:
    """sh:namespace values are literals, which loading does not rebase; move ours under `base`."""
    if base == DEFAULT_BASE_IRI:
        return
    for declaration, namespace in list(shapes.subject_objects(SH.namespace)):
        moved = iris.rebase(str(namespace), base)
        if moved != str(namespace):
            shapes.set((declaration, SH.namespace, Literal(moved, datatype=namespace.datatype)))


ENGINES = ("hybrid", "pyshacl")


def validate_sources(sources: Iterable[Source], base: str = DEFAULT_BASE_IRI, *,
                     engine: str = "hybrid") -> ValidationReport:
    """Validate the union of the "data" sources against the "shapes" sources, with the "ontology" sources.

    engine="hybrid" (default): pyshacl checks the core-SHACL constraints; each SHACL-SPARQL constraint
    (sh:sparql on a targeted node shape) runs once over the whole union in pyoxigraph, its target joined
    in, instead of once per focus node in rdflib. Same results (tests/test_shapes.py compares both on
    every fixture), ~3x faster on one plan and ~5x on 100 (bench/results/validate.md).
    engine="pyshacl": pyshacl for everything, the reference.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {ENGINES}")
    sources = list(sources)
    data, shapes = PreparedQueryGraph(), Graph()
    described_in: dict[str, Path] = {}
    for source in sources:
        if source.kind == "data":
            add_source(data, source, base, described_in)
        elif source.kind == "ontology":
            add_source(data, source, base)
        elif source.kind == "shapes":
            add_source(shapes, source, base)
    rebase_namespaces(shapes, base)
    sparql = SparqlConstraints(shapes) if engine == "hybrid" else None
    try:
        conforms, report_graph, _ = pyshacl.validate(
            data, shacl_graph=sparql.remaining_shapes if sparql else shapes,
            inference="none", inplace=True, allow_warnings=True)
    except ReportableRuntimeError as error:
        raise ShapesError(f"the shapes cannot be used: {error.message}") from None
    if sparql:
        store = Store()
        for source in sources:
            if source.kind in ("data", "ontology"):
                store.extend(quads_of(source, base))
        if sparql.add_results(store, report_graph):
            conforms = False
    results = sorted(read_results(report_graph, shapes, described_in),
                     key=lambda r: (r.severity != "Violation", r.focus_node, r.source_shape, r.path or ""))
    return ValidationReport(bool(conforms), results, report_graph, base)


class SparqlConstraints:
    """The shapes' SHACL-SPARQL constraints as whole-dataset SELECTs for pyoxigraph.

    A constraint is taken over when it sits on a node shape with targets and uses none of $PATH,
    $currentShape, $shapesGraph (pre-bound only per focus node): its targets become a pattern joined
    into its WHERE clause (sh:targetClass with rdfs:subClassOf*, sh:targetSubjectsOf, …) and $this
    becomes ?this, the same as pre-binding for these queries. Anything else stays with pyshacl.
    """

    PREBOUND_ONLY = ("$PATH", "$currentShape", "$shapesGraph")

    def __init__(self, shapes: Graph):
        self.queries: list[tuple[URIRef, URIRef, str]] = []  # (shape, constraint, query)
        self.shapes = shapes
        taken = set()
        for shape, constraint in shapes.subject_objects(SH.sparql):
            query = self.whole_dataset_query(shape, constraint)
            if query:
                self.queries.append((shape, constraint, query))
                taken.add((shape, SH.sparql, constraint))
        self.remaining_shapes = Graph()
        for triple in shapes:
            if triple not in taken:
                self.remaining_shapes.add(triple)

    def whole_dataset_query(self, shape, constraint) -> str | None:
        select = self.shapes.value(constraint, SH.select)
        targets = [self.target_pattern(p, o) for p in TARGETS for o in self.shapes.objects(shape, p)]
        where = re.search(r"WHERE\s*\{", str(select or ""))
        if (select is None or not targets or where is None or (shape, SH.path, None) in self.shapes
                or self.shapes.value(constraint, SH.deactivated) == Literal(True)
                or any(v in select for v in self.PREBOUND_ONLY)):
            return None
        declarations = [d for p in self.shapes.objects(constraint, SH.prefixes)
                        for d in self.shapes.objects(p, SH.declare)]
        value = self.shapes.value
        prefixes = "".join(f"PREFIX {value(d, SH.prefix)}: <{value(d, SH.namespace)}>\n"
                           for d in declarations)
        text = str(select).replace("$this", "?this")
        return (prefixes + text[:where.end()] + "\n    { " + " UNION ".join(targets) + " }\n"
                + text[where.end():])

    @staticmethod
    def target_pattern(kind, value) -> str:
        if kind == SH.targetClass:
            return f"{{ ?this <{RDF.type}>/<{RDFS.subClassOf}>* <{value}> }}"
        if kind == SH.targetSubjectsOf:
            return f"{{ ?this <{value}> ?targetObject }}"
        if kind == SH.targetObjectsOf:
            return f"{{ ?targetSubject <{value}> ?this }}"
        return f"{{ VALUES ?this {{ {to_sparql_term(value)} }} }}"

    def add_results(self, store: Store, report: Graph) -> bool:
        """Run every query; add each finding to the report as pyshacl would. True if any is a violation."""
        violated = False
        report_node = next(report.subjects(RDF.type, SH.ValidationReport))
        for shape, constraint, query in self.queries:
            severity = self.shapes.value(shape, SH.severity) or SH.Violation
            seen = set()
            try:
                rows = store.query(query, use_default_graph_as_union=True)
            except SyntaxError as error:
                raise ShapesError(f"the shapes cannot be used: the SPARQL constraint of <{shape}> does not "
                                  f"parse: {' '.join(str(error).split())}") from None
            for row in rows:
                focus, value = row["this"], solution_value(row, "value")
                if focus is None or (focus, value) in seen:
                    continue
                seen.add((focus, value))
                violated = violated or severity == SH.Violation
                result = BNode()
                report.add((report_node, SH.result, result))
                for predicate, obj in ((RDF.type, SH.ValidationResult), (SH.focusNode, to_rdflib(focus)),
                                       (SH.resultSeverity, severity), (SH.sourceShape, shape),
                                       (SH.sourceConstraint, constraint),
                                       (SH.sourceConstraintComponent, SH.SPARQLConstraintComponent)):
                    report.add((result, predicate, obj))
                if value is not None:
                    report.add((result, SH.value, to_rdflib(value)))
                for message in self.shapes.objects(constraint, SH.message):
                    text = str(message)
                    for name, node in (("value", value), ("this", focus)):
                        shown = node.value if node is not None else ""
                        text = text.replace("{?" + name + "}", shown).replace("{$" + name + "}", shown)
                    report.add((result, SH.resultMessage, Literal(text, lang=message.language)))
        if violated:
            report.set((report_node, SH.conforms, Literal(False)))
        return violated


def solution_value(row, name: str):
    try:
        return row[name]
    except KeyError:  # the query does not select this variable
        return None


def to_sparql_term(node) -> str:
    return f"<{node}>" if isinstance(node, URIRef) else node.n3()


def read_results(report: Graph, shapes: Graph, described_in: dict[str, Path]) -> Iterable[ValidationResult]:
    for node in report.subjects(RDF.type, SH.ValidationResult):
        shape = report.value(node, SH.sourceShape)
        focus = str(report.value(node, SH.focusNode))
        path, value = report.value(node, SH.resultPath), report.value(node, SH.value)
        messages = pick_messages(list(report.objects(node, SH.resultMessage)),
                                 {str(m) for m in shapes.objects(shape, SH.message)})
        yield ValidationResult(
            focus_node=focus,
            path=str(path) if isinstance(path, URIRef) else None,
            value=str(value) if value is not None and not isinstance(value, BNode) else None,
            severity=SEVERITIES.get(report.value(node, SH.resultSeverity), "Violation"),
            source_shape=str(shape),
            message_ja=messages["ja"],
            message_en=messages["en"],
            source_file=described_in.get(focus),
        )


def pick_messages(messages: list[Literal], shape_messages: set[str]) -> dict[str, str]:
    """One message per language, the most specific one.

    For SPARQL-based constraints pyshacl reports both the shape's message and the constraint's message
    with {?value} filled in, and drops their language tags; the constraint's (not the shape's) is the more
    specific, and the script tells the language.
    """
    specific = [m for m in messages if str(m) not in shape_messages]
    picked = {}
    for message in specific or messages:
        language = (message.language or ("ja" if JAPANESE.search(message) else "en")).split("-")[0]
        picked.setdefault(language, str(message))
    return {"ja": picked.get("ja", ""), "en": picked.get("en", "")}


def data_sources(paths: Iterable[Path], base: str = DEFAULT_BASE_IRI) -> list[Source]:
    """Data sources for files and directories named on the command line, graphs named as the loader does."""
    sources = []
    for path in paths:
        files = turtle_files(path) if path.is_dir() else [path]
        for file in files:
            graph = iris.rebase(graph_of_data_file(file, parse_file(file)), base)
            sources.append(Source(file, "data", graph))
    return sources


def schema_sources(ontology_dir: Path, shapes_dir: Path, base: str = DEFAULT_BASE_IRI) -> list[Source]:
    return ([Source(p, "ontology", iris.ontology_iri(base)) for p in turtle_files(ontology_dir)]
            + [Source(p, "shapes", iris.shapes_iri(base)) for p in turtle_files(shapes_dir)])


# ---- Lint queries (shapes/lint/*.rq): SELECTs that must return no rows on the loaded store ----

def lint_queries(shapes_dir: Path) -> dict[str, str]:
    """name -> query text, for every shapes/lint/*.rq."""
    paths = sorted((shapes_dir / "lint").glob("*.rq"))
    return {path.stem: path.read_text(encoding="utf-8") for path in paths}


def run_lint(store, shapes_dir: Path) -> dict[str, list[tuple[str, ...]]]:
    """Run each lint query on a loaded DatasetStore (default graph = the union); name -> offending rows.

    The queries are written for the default base; a store loaded under another base gets them rebased.
    """
    found = {}
    for name, text in lint_queries(shapes_dir).items():
        rows = store.query(text.replace(DEFAULT_BASE_IRI, store.base))
        found[name] = [tuple(term.value if term is not None else "" for term in row) for row in rows]
    return found
