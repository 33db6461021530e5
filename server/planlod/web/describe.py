"""What the server says about one resource, and the RDF formats it says it in.

The description of a resource is CBD-like — a Symmetric Concise Bounded Description (W3C member
submission "CBD", section on SCBD) with labels added:
  * every triple whose subject is the resource, and (the CBD rule) the triples of any blank node
    reached that way, recursively;
  * every triple whose object is the resource (its incoming links), up to INCOMING_LIMIT — a class
    such as skos:Concept would otherwise drag the whole dataset in;
  * the rdfs:label / skos:prefLabel of every IRI those triples touch, so a client can show names
    without a second request.
Triples are read from the union of all named graphs (the same triple in two graphs counts once).
"""

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import current_app
from pyoxigraph import BlankNode, Literal, NamedNode, RdfFormat, Triple, serialize

from ..graph.store import DatasetStore
from .store_access import get_store

RDF_TYPE = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
SKOS_PREF_LABEL = NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel")
LABEL_PREDICATES = (SKOS_PREF_LABEL, RDFS_LABEL)
INCOMING_LIMIT = 1000
BLANK_NODE_DEPTH = 8  # deeper blank-node chains than this are not in our data; a bound stops cycles

# suffix -> (media type, pyoxigraph format); the order is the order of preference for `*/*`.
FORMATS = {
    "ttl": ("text/turtle", RdfFormat.TURTLE),
    "jsonld": ("application/ld+json", RdfFormat.JSON_LD),
    "rdf": ("application/rdf+xml", RdfFormat.RDF_XML),
    "nt": ("application/n-triples", RdfFormat.N_TRIPLES),
}
FORMAT_NAMES = {"ttl": "Turtle", "jsonld": "JSON-LD", "rdf": "RDF/XML", "nt": "N-Triples"}
PREFIXES = {
    "dcterms": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "void": "http://rdfs.org/ns/void#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


@dataclass
class Description:
    iri: str
    outgoing: list[Triple] = field(default_factory=list)  # subject = the resource (plus blank-node closure)
    incoming: list[Triple] = field(default_factory=list)  # object = the resource
    labels: list[Triple] = field(default_factory=list)  # labels of the IRIs the above touch
    incoming_truncated: bool = False

    @property
    def exists(self) -> bool:
        return bool(self.outgoing or self.incoming)

    def triples(self) -> list[Triple]:
        seen: set[Triple] = set()
        ordered = []
        for triple in [*self.outgoing, *self.incoming, *self.labels]:
            if triple not in seen:
                seen.add(triple)
                ordered.append(triple)
        return ordered


def _distinct_triples(store: DatasetStore, subject=None, predicate=None, obj=None, limit=None):
    seen: set[Triple] = set()
    for quad in store.store.quads_for_pattern(subject, predicate, obj, None):
        triple = quad.triple
        if triple not in seen:
            seen.add(triple)
            yield triple
            if limit is not None and len(seen) >= limit:
                return


def describe(store: DatasetStore, iri: str) -> Description:
    node = NamedNode(iri)
    description = Description(iri)
    frontier = [node]
    visited: set = set()
    for _ in range(BLANK_NODE_DEPTH):
        next_frontier = []
        for subject in frontier:
            if subject in visited:
                continue
            visited.add(subject)
            for triple in _distinct_triples(store, subject=subject):
                description.outgoing.append(triple)
                if isinstance(triple.object, BlankNode):
                    next_frontier.append(triple.object)
        frontier = next_frontier
        if not frontier:
            break
    description.incoming = list(_distinct_triples(store, obj=node, limit=INCOMING_LIMIT + 1))
    if len(description.incoming) > INCOMING_LIMIT:
        description.incoming = description.incoming[:INCOMING_LIMIT]
        description.incoming_truncated = True
    neighbours = {t.object for t in description.outgoing if isinstance(t.object, NamedNode)}
    neighbours |= {t.predicate for t in description.outgoing}
    neighbours |= {t.subject for t in description.incoming if isinstance(t.subject, NamedNode)}
    neighbours |= {t.predicate for t in description.incoming}
    neighbours.discard(node)
    for neighbour in sorted(neighbours, key=lambda n: n.value):
        for predicate in LABEL_PREDICATES:
            description.labels.extend(_distinct_triples(store, subject=neighbour, predicate=predicate))
    return description


def serialize_description(description: Description, suffix: str, base: str) -> bytes:
    media_type, rdf_format = FORMATS[suffix]
    prefixes = None
    if rdf_format in (RdfFormat.TURTLE, RdfFormat.RDF_XML):
        prefixes = {**PREFIXES, "plan": base + "ontology#"}
    if prefixes is None:
        return serialize(description.triples(), format=rdf_format)
    return serialize(description.triples(), format=rdf_format, prefixes=prefixes)


def literal_lang(term) -> str | None:
    return term.language if isinstance(term, Literal) else None


@dataclass(frozen=True)
class DatasetVersion:
    """Identifies the loaded dataset: ETags derive from it, caches are keyed by it."""

    tag: str
    modified: datetime


VERSION_KEY = "planlod.pages.version"


def current_version() -> DatasetVersion:
    """The version of the store this app serves.

    The embedded store is read-only, so its files are hashed once per process; an external store
    (no files here, content that can change under us) is asked every time, which is cheap.
    """
    store = get_store()
    if not store.sources:
        return dataset_version(store)
    cached = current_app.extensions.get(VERSION_KEY)
    if cached is None:
        cached = current_app.extensions[VERSION_KEY] = dataset_version(store)
    return cached


def dataset_version(store: DatasetStore) -> DatasetVersion:
    """Hash of every source file's bytes and graph (and the base): equal files give an equal version."""
    if not store.sources and getattr(store, "version", None):
        # An external store (graph/remote_store.py) has no files here; it versions itself by its content.
        return DatasetVersion(store.version, store.modified.replace(microsecond=0))
    digest = hashlib.sha256(store.base.encode())
    newest = 0.0
    for source in store.sources:
        digest.update(source.graph.encode() + b"\0" + source.path.read_bytes())
        newest = max(newest, source.path.stat().st_mtime)
    modified = datetime.fromtimestamp(int(newest), UTC)
    return DatasetVersion(digest.hexdigest()[:20], modified)
