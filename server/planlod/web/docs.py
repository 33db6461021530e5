"""Documentation of the ontology and the shapes at their namespace IRIs, in Japanese and English.

URLs (the public base maps to the server root, so {base}ontology#PlanElement lands on /ontology#PlanElement):
  /ontology            HTML for browsers; Turtle, JSON-LD, RDF/XML or N-Triples by content negotiation
  /ontology.ttl …      the same per format (.ttl .jsonld .rdf .nt; .html for the page)
  /ontology/0.1.0      the versioned IRI (owl:versionIRI): answers while it is the loaded version
  /shapes, /shapes.ttl …   the SHACL shapes, the same way

The pages are our own templates, not pyLODE: pyLODE 3.3.4 (the last version that imports) runs ja and
en labels together and leaves an empty anchor for a term with only a Japanese label, and it has no view
of SHACL shapes. Here every term of the namespace gets an element whose id is its local name, its labels
and definitions in both languages side by side (each with its lang attribute), and every other statement
about it (domain, range, super-classes, targets, property shapes …) with links to the terms it names.
The content is read from the store's ontology or shapes graph, so it follows the data and the base.
"""

from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, render_template, request
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDF, RDFS, SH, SKOS

from .. import iris
from . import catalog as conneg
from . import downloads as dl
from .errors import abort_with
from .store_access import get_store

bp = Blueprint("docs", __name__)
CACHE_KEY = "planlod.docs"

# Statements shown first, in this order, under these names; the rest follow by their CURIEs.
KNOWN_PREDICATES = [
    (RDF.type, "型", "type"),
    (SKOS.definition, "定義", "definition"),
    (RDFS.comment, "注釈", "comment"),
    (RDFS.subClassOf, "上位クラス", "subclass of"),
    (RDFS.subPropertyOf, "上位プロパティ", "subproperty of"),
    (RDFS.domain, "定義域", "domain"),
    (RDFS.range, "値域", "range"),
    (OWL.inverseOf, "逆プロパティ", "inverse of"),
    (SKOS.topConceptOf, "最上位概念の体系", "top concept of"),
    (SKOS.hasTopConcept, "最上位概念", "top concepts"),
    (SH.targetClass, "対象クラス", "target class"),
    (SH.targetNode, "対象ノード", "target node"),
    (SH.targetSubjectsOf, "対象（主語）", "target subjects of"),
    (SH.targetObjectsOf, "対象（目的語）", "target objects of"),
    (SH.path, "パス", "path"),
    (SH.property, "プロパティシェイプ", "property shapes"),
    (SH.message, "メッセージ", "message"),
    (SH.severity, "重大度", "severity"),
    (RDFS.isDefinedBy, "定義元", "defined by"),
]
LABEL_PREDICATES = (RDFS.label, SKOS.prefLabel, SH.name)
HIDDEN = {RDFS.label, SKOS.prefLabel, SH.name}  # shown as the term's heading instead

# Sections of each document: (rdf:type, ja heading, en heading), in page order.
ONTOLOGY_SECTIONS = [
    (OWL.Class, "クラス", "Classes"),
    (OWL.ObjectProperty, "オブジェクトプロパティ", "Object properties"),
    (OWL.DatatypeProperty, "データ型プロパティ", "Datatype properties"),
    (OWL.AnnotationProperty, "注釈プロパティ", "Annotation properties"),
    (RDF.Property, "プロパティ", "Properties"),
    (SKOS.ConceptScheme, "概念体系", "Concept schemes"),
]
SHAPES_SECTIONS = [
    (SH.NodeShape, "ノードシェイプ", "Node shapes"),
    (SH.PropertyShape, "プロパティシェイプ", "Property shapes"),
]


@dataclass
class Value:
    """One object of a statement, ready for the template."""

    text: str
    href: str = ""
    lang: str = ""
    code: bool = False  # an IRI or a literal that is code (SPARQL), shown monospaced
    items: list["Value"] = field(default_factory=list)  # a blank node's statements or a list's members
    pairs: list[tuple[str, list["Value"]]] = field(default_factory=list)


@dataclass
class Term:
    anchor: str
    iri: str
    labels: list[Value]
    rows: list[tuple[str, str, list[Value]]]  # (ja name, en name, values)


@dataclass
class Section:
    heading_ja: str
    heading_en: str
    anchor: str
    terms: list[Term]


class Renderer:
    """Turns a graph's statements into Values; knows our namespace (links become #anchors)."""

    def __init__(self, graph: Graph, namespace: str, vocabulary: Graph, base: str,
                 shapes: Graph | None = None):
        self.graph = graph
        # (graph, predicate, ja, en): backlinks shown on a term, e.g. the properties whose domain it is.
        self.incoming = [(graph, RDFS.domain, "定義域とするプロパティ", "properties with this domain"),
                         (graph, RDFS.range, "値域とするプロパティ", "properties with this range"),
                         (graph, RDFS.subClassOf, "下位クラス", "subclasses")]
        if shapes is not None:
            self.incoming.append((shapes, SH.targetClass, "検証するシェイプ", "shapes that check it"))
        self.namespace = namespace
        self.vocabulary = vocabulary  # the ontology: names of plan: predicates in other documents
        self.base = base
        self.prefixes = {ns: prefix for prefix, ns in dl.prefixes(base).items()}

    def curie(self, iri: str) -> str:
        for namespace, prefix in self.prefixes.items():
            if iri.startswith(namespace) and len(iri) > len(namespace):
                return f"{prefix}:{iri[len(namespace):]}"
        return iri

    def href(self, iri: str) -> str:
        if iri.startswith(self.namespace):
            return "#" + iri[len(self.namespace):]
        if iri.startswith(self.base):  # ours: the public base maps to the server root
            return "/" + iri[len(self.base):]
        return iri

    def value(self, term, depth: int = 0) -> Value:
        if isinstance(term, Literal):
            text = str(term)
            code = "\n" in text and ("SELECT" in text or "ASK" in text or "CONSTRUCT" in text)
            return Value(text, lang=term.language or "", code=code)
        if isinstance(term, URIRef):
            return Value(self.curie(str(term)), href=self.href(str(term)), code=True)
        if depth > 6:
            return Value("[…]")
        if (term, RDF.first, None) in self.graph:  # an RDF list: its members in order
            members = Collection(self.graph, term)
            return Value("( … )", items=[self.value(item, depth + 1) for item in members])
        pairs = []
        for predicate in sorted(set(self.graph.predicates(term))):
            pairs.append((self.curie(str(predicate)),
                          [self.value(o, depth + 1) for o in sorted(self.graph.objects(term, predicate))]))
        return Value("[ ]", pairs=pairs)

    def predicate_names(self, predicate: URIRef) -> tuple[str, str]:
        for known, ja, en in KNOWN_PREDICATES:
            if predicate == known:
                return ja, en
        labels = {lit.language: str(lit) for lit in self.vocabulary.objects(predicate, RDFS.label)
                  if isinstance(lit, Literal)}
        curie = self.curie(str(predicate))
        return labels.get("ja", curie), labels.get("en", curie)

    def term(self, subject: URIRef) -> Term:
        iri = str(subject)
        labels = [self.value(lit) for predicate in LABEL_PREDICATES
                  for lit in sorted(self.graph.objects(subject, predicate), key=_lang_order)]
        rows = []
        predicates = set(self.graph.predicates(subject)) - HIDDEN
        ordered = [p for p, _, _ in KNOWN_PREDICATES if p in predicates]
        ordered += sorted(predicates - set(ordered), key=lambda p: self.curie(str(p)))
        for predicate in ordered:
            ja, en = self.predicate_names(predicate)
            objects = sorted(self.graph.objects(subject, predicate), key=_lang_order)
            rows.append((ja, en, [self.value(o) for o in objects]))
        # Where the term is used: the statements that point at it, read backwards.
        for source, predicate, ja, en in self.incoming:
            users = sorted(s for s in source.subjects(predicate, subject) if isinstance(s, URIRef))
            if users:
                rows.append((ja, en, [self.value(u) for u in users]))
        return Term(iri[len(self.namespace):], iri, labels, rows)


def _lang_order(term):
    """Japanese first, then English, then the rest; stable within each."""
    lang = getattr(term, "language", None) or ""
    return ({"ja": 0, "en": 1}.get(lang, 2), str(term))


def document_graph(graph_iri: str) -> Graph:
    """The named graph as an rdflib Graph (blank nodes kept apart, prefixes bound)."""
    store = get_store()
    graph = Graph()
    for prefix, namespace in dl.prefixes(store.base).items():
        graph.bind(prefix, namespace, override=True)
    rows = store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri}> {{ ?s ?p ?o }} }}")
    for row in rows:
        graph.add((dl.rdflib_term(row["s"]), dl.rdflib_term(row["p"]), dl.rdflib_term(row["o"])))
    return graph


def sections_of(graph: Graph, namespace: str, renderer: Renderer, kinds) -> list[Section]:
    """The document's terms by kind; terms of no listed kind are grouped under their own types."""
    placed: set[URIRef] = set()
    sections = []
    ours = sorted({s for s in graph.subjects() if isinstance(s, URIRef) and str(s).startswith(namespace)
                   and len(str(s)) > len(namespace)})
    for rdf_type, ja, en in kinds:
        members = [s for s in ours if (s, RDF.type, rdf_type) in graph and s not in placed]
        if members:
            placed.update(members)
            anchor = "section-" + renderer.curie(str(rdf_type)).replace(":", "-")
            sections.append(Section(ja, en, anchor, [renderer.term(s) for s in members]))
    # Individuals (e.g. the level types), grouped by their class, headed by the class's labels.
    by_type: dict[URIRef, list[URIRef]] = {}
    for subject in ours:
        if subject in placed:
            continue
        types = sorted(graph.objects(subject, RDF.type)) or [RDFS.Resource]
        by_type.setdefault(types[0], []).append(subject)
    for rdf_type, members in sorted(by_type.items()):
        labels = {lit.language: str(lit) for lit in graph.objects(rdf_type, RDFS.label)
                  if isinstance(lit, Literal)}
        curie = renderer.curie(str(rdf_type))
        anchor = "section-" + curie.replace(":", "-")
        sections.append(Section(labels.get("ja", curie), labels.get("en", curie), anchor,
                                [renderer.term(s) for s in members]))
    return sections


@dataclass(frozen=True)
class DocumentKind:
    name: str  # "ontology" or "shapes": the path, and the template's switch
    title_ja: str
    title_en: str
    sections: list


ONTOLOGY = DocumentKind("ontology", "オントロジー", "Ontology", ONTOLOGY_SECTIONS)
SHAPES = DocumentKind("shapes", "SHACL シェイプ", "SHACL shapes", SHAPES_SECTIONS)


def _cache() -> dict:
    """Graphs, serializations and rendered pages of the loaded dataset version (the store is read-only)."""
    key = dl.version_key(get_store())
    cached = current_app.extensions.get(CACHE_KEY)
    if cached is None or cached[0] != key:
        cached = current_app.extensions[CACHE_KEY] = (key, {})
    return cached[1]


def _graph(cache: dict, graph_iri: str) -> Graph:
    if ("graph", graph_iri) not in cache:
        cache[("graph", graph_iri)] = document_graph(graph_iri)
    return cache[("graph", graph_iri)]


def _respond(kind: DocumentKind, suffix: str | None):
    store = get_store()
    graph_iri = iris.ontology_iri(store.base) if kind is ONTOLOGY else iris.shapes_iri(store.base)
    chosen = conneg.negotiate(suffix, allow_html=True)
    cache = _cache()
    graph = _graph(cache, graph_iri)
    if not len(graph):
        abort_with(404, f"The store has no {kind.name} graph <{graph_iri}>.")
    if chosen != "html":
        return conneg.graph_response(graph, chosen, store.base, "/" + kind.name,
                                     cache.setdefault(("bytes", kind.name), {}))
    key = ("html", kind.name, dl.page_lang(), request.path)
    if key not in cache:
        vocabulary = graph if kind is ONTOLOGY else _graph(cache, iris.ontology_iri(store.base))
        shapes = _graph(cache, iris.shapes_iri(store.base)) if kind is ONTOLOGY else None
        renderer = Renderer(graph, graph_iri + "#", vocabulary, store.base, shapes)
        cache[key] = render_template(
            "docs.html", **dl.page_context(), kind=kind, iri=graph_iri,
            header=renderer.term(URIRef(graph_iri)),
            sections=sections_of(graph, graph_iri + "#", renderer, kind.sections),
            formats=[(s, media) for s, (media, _) in conneg.SYNTAXES.items()],
            version_iri=str(graph.value(URIRef(graph_iri), OWL.versionIRI) or ""),
            version=str(graph.value(URIRef(graph_iri), OWL.versionInfo) or ""))
    response = Response(cache[key], content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept, Cookie"
    response.headers["Link"] = ", ".join(
        f'</{kind.name}.{s}>; rel="alternate"; type="{m}"' for s, (m, _) in conneg.SYNTAXES.items())
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/ontology")
@bp.get("/ontology.<suffix>")
def ontology(suffix: str | None = None):
    return _respond(ONTOLOGY, suffix)


@bp.get("/ontology/<version>")
def ontology_version(version: str):
    """The versioned IRI answers for the loaded version only; older versions are not kept."""
    store = get_store()
    graph = _graph(_cache(), iris.ontology_iri(store.base))
    stated = graph.value(URIRef(iris.ontology_iri(store.base)), OWL.versionIRI)
    suffix = None
    for candidate in conneg.SYNTAXES:
        if version.endswith("." + candidate):
            version, suffix = version[: -len(candidate) - 1], candidate
    if stated is None or str(stated) != iris.ontology_iri(store.base) + "/" + version:
        abort_with(404, f"Ontology version {version!r} is not served here; "
                        f"the current one is {stated or 'unversioned'} (see /ontology).")
    return _respond(ONTOLOGY, suffix)


@bp.get("/shapes")
@bp.get("/shapes.<suffix>")
def shapes(suffix: str | None = None):
    return _respond(SHAPES, suffix)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

