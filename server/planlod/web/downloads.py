"""Dumps of the dataset and of each plan edition, the outline CSV, and the published JSON-LD @context.

URLs (under the server root, which the public base maps to; see README "IRIs and URLs"):
  /downloads                                        the list of every file, with size and SHA-256
  /download/planlod.{ttl,trig,nq,jsonld,rdf}        the whole dataset: every named graph
  /download/{edition}.{ttl,trig,nq,jsonld,rdf}      an edition's graph, e.g. 072044/lifelong-learning-plan/5
  /download/{edition}/outline.csv                   the edition's outline, UTF-8 with BOM (Excel)
  /download/{edition}/outline-nobom.csv             the same without BOM
  /download/{edition}/outline.csv-metadata.json     CSVW metadata for both (W3C CSV on the Web)
  /context.jsonld                                   the @context every JSON-LD file refers to by URL

Scope and syntax: TriG, N-Quads and JSON-LD keep the named graphs; Turtle and RDF/XML cannot, so
they hold the union of the graphs' triples (for an edition: its graph's triples).

Every file is built once per dataset version (the store is read-only while the process runs): kept in
the on-disk store's directory, where all workers share one build (a file lock) and a restart with the
same data finds it, or in memory for an in-memory or external store. It is served with its SHA-256 as
a strong ETag; `/downloads` and the catalog list the same bytes' sizes and checksums. Bytes are
deterministic (sorted input, blank nodes named after their surroundings, sorted JSON keys), so every
process computes the same checksums. docs/publication.md has the whole picture.
"""

import base64
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, render_template, request, send_file
from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    Literal,
    NamedNode,
    Quad,
    RdfFormat,
    Store,
    Variable,
    serialize,
)

from .. import iris, outline
from ..graph.store import DatasetStore
from .errors import abort_with
from .i18n import other_lang, page_lang, ui
from .store_access import get_store

bp = Blueprint("downloads", __name__)
log = logging.getLogger(__name__)

EXTENSION_KEY = "planlod.downloads"
WHOLE = "planlod"  # the file name of the whole-dataset dumps
DOWNLOAD_PATH = "download/"
CONTEXT_PATH = "context.jsonld"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
BLANK_NODE_ROUNDS = 4  # enough to tell apart our blank nodes (SHACL property shapes, lists)


@dataclass(frozen=True)
class Syntax:
    ext: str
    media_type: str
    name: str
    rdf_format: RdfFormat
    keeps_graphs: bool


SYNTAXES: dict[str, Syntax] = {s.ext: s for s in (
    Syntax("ttl", "text/turtle", "Turtle", RdfFormat.TURTLE, False),
    Syntax("trig", "application/trig", "TriG", RdfFormat.TRIG, True),
    Syntax("nq", "application/n-quads", "N-Quads", RdfFormat.N_QUADS, True),
    Syntax("jsonld", "application/ld+json", "JSON-LD", RdfFormat.JSON_LD, True),
    Syntax("rdf", "application/rdf+xml", "RDF/XML", RdfFormat.RDF_XML, False),
)}
CSV_MEDIA_TYPE = "text/csv"
CSVW_MEDIA_TYPE = "application/csvm+json"
OUTLINE_FILES = {  # file name -> (media type, with BOM?)
    "outline.csv": (CSV_MEDIA_TYPE, True),
    "outline-nobom.csv": (CSV_MEDIA_TYPE, False),
    "outline.csv-metadata.json": (CSVW_MEDIA_TYPE, None),
}
OUTLINE_LABELS = {"outline.csv": "CSV, UTF-8 with BOM", "outline-nobom.csv": "CSV, UTF-8",
                  "outline.csv-metadata.json": "CSVW metadata"}
# The same in Japanese (RDF syntax names are the same in both languages).
SYNTAX_JA = {"CSV, UTF-8 with BOM": "CSV（UTF-8、BOM 付き）", "CSV, UTF-8": "CSV（UTF-8、BOM なし）",
             "CSVW metadata": "CSVW メタデータ"}
# Media types whose charset a client must be told (text/*); the others are UTF-8 by definition.
TEXT_MEDIA_TYPES = {"text/turtle", CSV_MEDIA_TYPE}
STREAM_ABOVE = 8 << 20  # bytes: files from the cache directory larger than this are streamed


def prefixes(base: str) -> dict[str, str]:
    """The prefixes of our Turtle/TriG/RDF-XML files and of the JSON-LD @context."""
    return {
        "dcat": "http://www.w3.org/ns/dcat#",
        "dcterms": "http://purl.org/dc/terms/",
        "foaf": "http://xmlns.com/foaf/0.1/",
        "org": "http://www.w3.org/ns/org#",
        "owl": "http://www.w3.org/2002/07/owl#",
        "plan": iris.ontology_ns(base),
        "plansh": iris.shapes_ns(base),
        "prov": "http://www.w3.org/ns/prov#",
        "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
        "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
        "sh": "http://www.w3.org/ns/shacl#",
        "skos": "http://www.w3.org/2004/02/skos/core#",
        "vann": "http://purl.org/vocab/vann/",
        "void": "http://rdfs.org/ns/void#",
        "xsd": "http://www.w3.org/2001/XMLSchema#",
    }


# Properties whose values are language-tagged text: a language map ({"ja": …, "en": …}) in JSON-LD.
LANGUAGE_MAPS = {
    "label": "rdfs:label", "comment": "rdfs:comment",
    "prefLabel": "skos:prefLabel", "altLabel": "skos:altLabel", "definition": "skos:definition",
    "editorialNote": "skos:editorialNote", "title": "dcterms:title", "description": "dcterms:description",
    "heading": "plan:heading", "subtitle": "plan:subtitle", "statement": "plan:statement",
}


def jsonld_context(base: str) -> dict:
    """The published @context: prefixes, and language maps for the text properties."""
    context: dict = {"@version": 1.1}
    context.update(prefixes(base))
    for term, curie in LANGUAGE_MAPS.items():
        context[term] = {"@id": curie, "@container": "@language"}
    return context


def context_url(base: str) -> str:
    return base + CONTEXT_PATH


@dataclass(frozen=True)
class Edition:
    iri: str
    path: str  # the IRI below {base}id/, e.g. 072044/lifelong-learning-plan/5
    title_ja: str
    title_en: str
    license: str


@dataclass(frozen=True)
class Entry:
    """One downloadable file: where it is and what it holds; its bytes are built on demand."""

    path: str  # below the server root, e.g. download/planlod.ttl
    media_type: str
    syntax: str  # what the file is, in English: "Turtle", "CSV, UTF-8 with BOM", …
    edition: Edition | None  # None: the whole dataset
    kind: str  # "rdf", "csv", "csvw"
    ext: str = ""  # for "rdf": the key of SYNTAXES

    @property
    def syntax_ja(self) -> str:
        return SYNTAX_JA.get(self.syntax, self.syntax)

    @property
    def filename(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def url(self, base: str) -> str:
        return base + self.path


@dataclass(frozen=True)
class Built:
    """A built file: its checksum and size, and its bytes in memory or in the store's cache directory."""

    sha256: str  # hex
    size: int
    body: bytes | None = None
    file: Path | None = None

    def read(self) -> bytes:
        return self.body if self.body is not None else self.file.read_bytes()


EDITIONS_QUERY = """
PREFIX plan: <{plan}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?edition (SAMPLE(?ja) AS ?titleJa) (SAMPLE(?en) AS ?titleEn) (SAMPLE(?lic) AS ?license) WHERE {{
  GRAPH ?edition {{ ?edition a plan:PlanEdition }}
  OPTIONAL {{ ?edition rdfs:label ?ja FILTER(lang(?ja) = "ja") }}
  OPTIONAL {{ ?edition rdfs:label ?en FILTER(lang(?en) = "en") }}
  OPTIONAL {{ ?edition dcterms:license ?lic }}
}} GROUP BY ?edition ORDER BY ?edition"""


def editions_of(store: DatasetStore) -> list[Edition]:
    """Every plan edition with its own graph (named by the edition, as the loader names them)."""
    id_space = store.base + "id/"
    found = []
    for row in store.query(EDITIONS_QUERY.format(plan=iris.ontology_ns(store.base))):
        iri = row["edition"].value
        if not iri.startswith(id_space):
            continue  # not minted by us: it has no download URL under our base
        found.append(Edition(
            iri, iri[len(id_space):],
            row["titleJa"].value if row["titleJa"] else "",
            row["titleEn"].value if row["titleEn"] else "",
            row["license"].value if row["license"] else "",
        ))
    return found


class Downloads:
    """The files of one dataset version; bodies are built once, on first use, under a lock."""

    def __init__(self, store: DatasetStore):
        self.store = store
        self.base = store.base
        self.editions = editions_of(store)
        self.entries: dict[str, Entry] = {}
        self._by_scope: dict[str | None, list[Entry]] = {}  # edition IRI (None: the whole) -> its files
        for ext, syntax in SYNTAXES.items():
            path = f"{DOWNLOAD_PATH}{WHOLE}.{ext}"
            self._add(Entry(path, syntax.media_type, syntax.name, None, "rdf", ext))
        for edition in self.editions:
            for ext, syntax in SYNTAXES.items():
                self._add(Entry(f"{DOWNLOAD_PATH}{edition.path}.{ext}", syntax.media_type, syntax.name,
                                edition, "rdf", ext))
            for name, (media_type, bom) in OUTLINE_FILES.items():
                kind = "csvw" if bom is None else "csv"
                label = OUTLINE_LABELS[name]
                self._add(Entry(f"{DOWNLOAD_PATH}{edition.path}/{name}", media_type, label, edition, kind))
        self._built: dict[str, Built] = {}
        self.pages: dict[str, str] = {}  # the rendered /downloads page by language
        self._lock = threading.RLock()
        # Files go to disk beside an on-disk store (shared by the server's workers, kept across restarts
        # while the data is unchanged); with an in-memory or external store they stay in memory.
        path = getattr(store, "path", None)
        self.cache_dir: Path | None = Path(path).parent / "downloads" if path else None

    def _add(self, entry: Entry) -> None:
        self.entries[entry.path] = entry
        self._by_scope.setdefault(entry.edition.iri if entry.edition else None, []).append(entry)

    def entry(self, path: str) -> Entry | None:
        return self.entries.get(path)

    def whole(self) -> list[Entry]:
        return self._by_scope.get(None, [])

    def of_edition(self, edition: Edition) -> list[Entry]:
        return self._by_scope.get(edition.iri, [])

    def built(self, entry: Entry) -> Built:
        # A finished file never changes: served without waiting for the lock, which a build (the
        # start-up warm-up's, say) may hold for seconds.
        found = self._built.get(entry.path) or self._cached(entry.path)
        if found is not None:
            return found
        with self._lock:
            found = self._built.get(entry.path) or self._cached(entry.path)
            if found is not None:
                return found
            with self._across_processes():
                found = self._cached(entry.path)  # another worker may have built it while we waited
                if found is not None:
                    return found
                if entry.kind == "rdf":  # one read of the scope's quads serves all five syntaxes
                    for ext, body in self._rdf_scope(entry.edition).items():
                        self._keep(entry.path[: -len(entry.ext)] + ext, body)
                elif entry.kind == "csv":  # one read of the outline serves both CSV files
                    rows = outline.outline_rows(self.store.query, self.base, entry.edition.iri)
                    folder = entry.path.rsplit("/", 1)[0]
                    for name, (_, bom) in OUTLINE_FILES.items():
                        if bom is not None:
                            self._keep(f"{folder}/{name}", outline.write_csv(rows, bom=bom))
                else:
                    self._keep(entry.path, self._csvw(entry.edition))
            return self._built[entry.path]

    # ---- the cache directory: beside the on-disk store, so it goes when that version of the store goes ----

    def _cached(self, path: str) -> Built | None:
        if self.cache_dir is None:
            return None
        target, checksum = self.cache_dir / path, self.cache_dir / (path + ".sha256")
        if not checksum.exists():  # written after the file: its presence means the file is complete
            return None
        found = self._built[path] = Built(checksum.read_text().strip(), target.stat().st_size, file=target)
        return found

    def _keep(self, path: str, body: bytes) -> None:
        digest = hashlib.sha256(body).hexdigest()
        if self.cache_dir is not None:
            target = self.cache_dir / path
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                checksum = target.with_name(target.name + ".sha256")
                for file, data in ((target, body), (checksum, digest.encode())):
                    partial = file.with_name(f"{file.name}.{os.getpid()}.partial")
                    partial.write_bytes(data)
                    os.replace(partial, file)
                self._built[path] = Built(digest, len(body), file=target)
                return
            except OSError as error:  # a read-only store directory: keep the files in memory instead
                log.warning("downloads: cannot write %s (%s); keeping files in memory", target, error)
                self.cache_dir = None
        self._built[path] = Built(digest, len(body), body=body)

    @contextlib.contextmanager
    def _across_processes(self):
        """gunicorn's workers share the cache directory: one builds a file while the others wait for it."""
        if self.cache_dir is None:
            yield
            return
        try:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            handle = open(self.cache_dir / ".lock", "a+b")  # noqa: SIM115  closed below
        except OSError:
            yield
            return
        with handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    # ---- building ----

    def _quads(self, edition: Edition | None) -> list[Quad]:
        """The scope's quads, sorted so that the bytes are the same in every process."""
        graph = NamedNode(edition.iri) if edition is not None else None
        if isinstance(getattr(self.store, "store", None), Store):  # embedded: read the index directly
            quads = [q for q in self.store.store.quads_for_pattern(None, None, None, graph)
                     if isinstance(q.graph_name, NamedNode)]
        else:  # an external store: through SPARQL
            if edition is None:
                query = "SELECT ?s ?p ?o ?g WHERE { GRAPH ?g { ?s ?p ?o } }"
            else:
                query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{edition.iri}> {{ ?s ?p ?o }} }}"
            quads = list({Quad(row[Variable("s")], row[Variable("p")], row[Variable("o")],
                               row[Variable("g")] if graph is None else graph)
                          for row in self.store.query(query)})
        quads = relabel_blank_nodes(quads)
        return sorted(quads, key=lambda q: (q.graph_name.value, str(q.subject), str(q.predicate),
                                            str(q.object)))

    def _rdf_scope(self, edition: Edition | None) -> dict[str, bytes]:
        """The scope in every syntax: ext -> bytes."""
        quads = self._quads(edition)
        triples = []
        seen = set()
        for quad in quads:  # the union, for the syntaxes without graphs: a triple in two graphs once
            if quad.triple not in seen:
                seen.add(quad.triple)
                triples.append(quad.triple)
        triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
        bodies = {}
        for ext, syntax in SYNTAXES.items():
            if ext == "jsonld":
                bodies[ext] = jsonld_document(quads, self.base)
            elif syntax.rdf_format == RdfFormat.N_QUADS:
                bodies[ext] = serialize(quads, format=syntax.rdf_format)
            else:
                bodies[ext] = serialize(quads if syntax.keeps_graphs else triples, format=syntax.rdf_format,
                                        prefixes=prefixes(self.base))
        return bodies

    def _csvw(self, edition: Edition) -> bytes:
        urls = [self.base + f"{DOWNLOAD_PATH}{edition.path}/{name}"
                for name, (_, bom) in OUTLINE_FILES.items() if bom is not None]
        metadata = outline.csvw_metadata(urls, self.base, edition.iri, edition.title_ja, edition.title_en,
                                         edition.license)
        return canonical_json(metadata)


def jsonld_document(quads: list[Quad], base: str) -> bytes:
    """JSON-LD that refers to the published @context by URL, one named graph object per graph.

    Written here rather than by rdflib (which embeds the context, and whose Dataset serializer calls
    its own deprecated API): the compaction our context allows is simple and done directly: property
    and type IRIs as prefixed names, text properties as language maps, other literals as value
    objects with their datatype (lexical forms kept exactly), node references as {"@id": …}.
    The tests expand the result with a JSON-LD processor and compare it with the store.
    """
    compactor = _Compactor(base)
    by_graph: dict[str, list[Quad]] = {}
    for quad in quads:
        by_graph.setdefault(quad.graph_name.value, []).append(quad)
    named = [{"@id": name, "@graph": compactor.nodes(graph_quads)}
             for name, graph_quads in sorted(by_graph.items())]
    # Nodes and values come in the order of the sorted quads, so the bytes are stable without sorting.
    return canonical_json({"@context": context_url(base), "@graph": named})


def jsonld_self_contained(triples, base: str) -> bytes:
    """One default graph, the context embedded (for the catalog and VoID: read without a second fetch)."""
    quads = sorted((Quad(t.subject, t.predicate, t.object, DefaultGraph()) for t in triples),
                   key=lambda q: (str(q.subject), str(q.predicate), str(q.object)))
    return canonical_json({"@context": jsonld_context(base), "@graph": _Compactor(base).nodes(quads)})


class _Compactor:
    def __init__(self, base: str):
        # Longest namespace first, so that a prefix never shadows a longer one it contains.
        self.namespaces = sorted(((ns, prefix) for prefix, ns in prefixes(base).items()),
                                 key=lambda item: -len(item[0]))
        curies = {curie: term for term, curie in LANGUAGE_MAPS.items()}
        self.language_maps = {self.expand(curie): term for curie, term in curies.items()}

    def expand(self, curie: str) -> str:
        prefix, local = curie.split(":", 1)
        return next(ns for ns, p in self.namespaces if p == prefix) + local

    def compact(self, iri: str) -> str:
        for namespace, prefix in self.namespaces:
            local = iri[len(namespace):]
            # "p://…" would read as an absolute IRI, so such a local part keeps the full IRI
            if iri.startswith(namespace) and local and not local.startswith("/"):
                return f"{prefix}:{local}"
        return iri

    def reference(self, term) -> str:
        return "_:" + term.value if isinstance(term, BlankNode) else term.value

    def value(self, term):
        if not isinstance(term, Literal):
            return {"@id": self.reference(term)}
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD_STRING:
            return term.value
        return {"@value": term.value, "@type": self.compact(term.datatype.value)}

    def nodes(self, quads: list[Quad]) -> list[dict]:
        subjects: dict[str, dict] = {}
        for quad in quads:
            node = subjects.setdefault(self.reference(quad.subject), {})
            predicate, obj = quad.predicate.value, quad.object
            if predicate == RDF_TYPE and isinstance(obj, NamedNode):
                key, item = "@type", self.compact(obj.value)
            elif predicate in self.language_maps and isinstance(obj, Literal) and obj.language:
                language_map = node.setdefault(self.language_maps[predicate], {})
                language_map.setdefault(obj.language, []).append(obj.value)
                continue
            else:
                key, item = self.compact(predicate), self.value(obj)
            node.setdefault(key, []).append(item)
        documents = []
        for reference, properties in subjects.items():
            document = {"@id": reference}
            for key, values in properties.items():
                if isinstance(values, dict):  # a language map: a single value needs no array
                    document[key] = {lang: v[0] if len(v) == 1 else v for lang, v in values.items()}
                else:
                    document[key] = values[0] if len(values) == 1 else values
            documents.append(document)
        return documents


def relabel_blank_nodes(quads: list[Quad]) -> list[Quad]:
    """Blank nodes renamed after their surroundings, so that every load of the same files names them alike.

    The store gives blank nodes fresh random labels on each load; labels derived from a few rounds of
    hashing each node's triples (colour refinement) make the dumps' bytes and checksums reproducible.
    """
    blanks = {t for q in quads for t in (q.subject, q.object) if isinstance(t, BlankNode)}
    if not blanks:
        return quads
    colour = dict.fromkeys(blanks, "")

    def key(term) -> str:
        return "_:" + colour[term] if isinstance(term, BlankNode) else str(term)

    for _ in range(BLANK_NODE_ROUNDS):
        signature: dict[BlankNode, list[str]] = {b: [] for b in blanks}
        for q in quads:
            if isinstance(q.subject, BlankNode):
                signature[q.subject].append(f"> {q.predicate} {key(q.object)} {q.graph_name}")
            if isinstance(q.object, BlankNode):
                signature[q.object].append(f"< {key(q.subject)} {q.predicate} {q.graph_name}")
        colour = {b: hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()[:24]
                  for b, lines in signature.items()}
    labels: dict[BlankNode, BlankNode] = {}
    used: dict[str, int] = {}
    for b in sorted(blanks, key=lambda b: colour[b]):
        n = used.get(colour[b], 0)
        used[colour[b]] = n + 1
        labels[b] = BlankNode(f"b{colour[b]}" + (f"x{n}" if n else ""))

    def relabel(term):
        return labels[term] if isinstance(term, BlankNode) else term

    return [Quad(relabel(q.subject), q.predicate, relabel(q.object), q.graph_name) for q in quads]


def rdflib_term(term):
    import rdflib

    if isinstance(term, NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD_STRING:
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def canonical_json(document) -> bytes:
    """Stable bytes: keys sorted, arrays as built (their order is the sorted input's). Compact, because
    only json's C encoder is fast enough for dumps of many editions, and it does not indent."""
    return (json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n").encode()


def version_key(store: DatasetStore):
    return getattr(store, "version", None) or id(store)


def build_all(downloads: "Downloads") -> "Downloads":
    """Every file built (into the cache directory beside an on-disk store). Needs no Flask app, so
    `planlod serve` can run it in its prepare step, before the workers start: they then only read."""
    for entry in list(downloads.entries.values()):
        downloads.built(entry)
    return downloads


_downloads_lock = threading.Lock()


def get_downloads() -> Downloads:
    """The files of the loaded dataset; rebuilt only when the store's version changes."""
    store = get_store()
    key = version_key(store)
    with _downloads_lock:  # the background warm-up (catalog.py) and a request may ask at once
        cached = current_app.extensions.get(EXTENSION_KEY)
        if cached is None or cached[0] != key:
            cached = (key, Downloads(store))
            current_app.extensions[EXTENSION_KEY] = cached
    return cached[1]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)


def _file_response(entry: Entry, built: Built) -> Response:
    media_type = entry.media_type
    if media_type in TEXT_MEDIA_TYPES:
        media_type += "; charset=utf-8"
        if entry.kind == "csv":
            media_type += "; header=present"  # RFC 7111
    if built.file is not None and built.size > STREAM_ABOVE:  # big dumps: streamed, not read into memory
        response = send_file(built.file, mimetype=media_type, conditional=False, etag=False, max_age=300)
    else:
        response = Response(built.read(), content_type=media_type)
    response.set_etag(built.sha256)
    # RFC 9530: lets a client check the bytes it got against the checksum we list.
    digest = base64.b64encode(bytes.fromhex(built.sha256)).decode()
    response.headers["Repr-Digest"] = f"sha-256=:{digest}:"
    response.headers["Content-Disposition"] = f'inline; filename="{entry.filename}"'
    response.headers["Cache-Control"] = "public, max-age=300"
    if entry.kind == "csv":
        metadata = f"/{DOWNLOAD_PATH}{entry.edition.path}/outline.csv-metadata.json"
        response.headers["Link"] = f'<{metadata}>; rel="describedby"; type="{CSVW_MEDIA_TYPE}"'
    if entry.ext == "jsonld":
        response.headers["Link"] = f'</{CONTEXT_PATH}>; rel="http://www.w3.org/ns/json-ld#context"'
    # Ranges let a client resume a large dump.
    return response.make_conditional(request, accept_ranges=True, complete_length=built.size)


@bp.get("/download/<path:name>")
def download(name: str):
    downloads = get_downloads()
    entry = downloads.entry(DOWNLOAD_PATH + name)
    if entry is None:
        abort_with(404, f"No download named {name[:200]!r}; /downloads lists them all.")
    return _file_response(entry, downloads.built(entry))


@bp.get("/context.jsonld")
def context():
    base = get_store().base
    body = canonical_json({"@context": jsonld_context(base)})
    response = Response(body, content_type="application/ld+json")
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.headers["Access-Control-Allow-Origin"] = "*"  # JSON-LD processors in browsers fetch it
    return response.make_conditional(request)


def listing(downloads: Downloads) -> list[dict]:
    """Groups of files for the page: the whole dataset, then each edition."""
    def rows(entries: Iterable[Entry]) -> list[dict]:
        return [{"entry": e, "built": downloads.built(e)} for e in entries]

    groups = [{"edition": None, "files": rows(downloads.whole())}]
    groups += [{"edition": edition, "files": rows(downloads.of_edition(edition))}
               for edition in downloads.editions]
    return groups


def page_context() -> dict:
    """What the site layout (base.html) needs: the page language, its UI words, the language switch."""
    lang = page_lang()
    return {"lang": lang, "ja": lang == "ja", "t": ui(lang),
            "switch_href": f"{request.path}?lang={other_lang(lang)}"}


def html_response(template: str, **values) -> Response:
    response = Response(render_template(template, **page_context(), **values))
    response.headers["Vary"] = "Accept, Cookie"  # the language may come from the cookie
    return response


@bp.get("/downloads")
def downloads_page():
    downloads = get_downloads()
    lang = page_lang()
    with downloads._lock:  # rendered once per language and dataset version: thousands of rows at scale
        page = downloads.pages.get(lang)
        if page is None:
            page = downloads.pages[lang] = render_template(
                "downloads.html", **page_context(), groups=listing(downloads),
                context_path="/" + CONTEXT_PATH)
    response = Response(page, content_type="text/html; charset=utf-8")
    response.headers["Vary"] = "Accept, Cookie"  # the language may come from the cookie
    return response
