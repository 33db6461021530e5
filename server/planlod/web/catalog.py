"""Metadata for portals and crawlers: a DCAT 3 catalog and a VoID description, built from the store.

URLs (the public base maps to the server root):
  /catalog                 the DCAT catalog, by content negotiation: Turtle (default), JSON-LD, RDF/XML,
                           N-Triples, or an HTML summary for browsers; /catalog.ttl .jsonld .rdf .nt
  /id/catalog              the catalog's IRI: 303 See Other to /catalog
  /.well-known/void        VoID (RFC 8615 well-known URI named in the VoID guide), negotiated the same
                           way; /.well-known/void.ttl .jsonld .rdf .nt

What the catalog says (DCAT 3, shaped for DCAT-AP 3.0.1 and ckanext-dcat's RDF harvester):
  * the catalog {base}id/catalog: title, description, publisher (foaf:Agent with foaf:name), licence,
    languages, rdfs:seeAlso the VoID document;
  * a dcat:Dataset for the whole dataset ({base}id/dataset, described in data/dataset.ttl) and one per
    plan edition ({base}id/catalog#dataset-<edition path>): titles and descriptions in ja and en,
    publisher, licence, rights, keywords, spatial and temporal coverage where the data has them,
    landing page (the edition's page);
  * a dcat:Distribution per download (downloads.py): media type, download and access URL, byte size,
    SHA-256 (spdx:checksum), and on every one the licence with a dct:title (ckanext-dcat takes the
    dataset's licence from the first distribution's dct:license, matched by URL or title) and rights;
  * a dcat:DataService for the SPARQL endpoint: endpointURL, endpointDescription (its SPARQL Service
    Description), servesDataset.
Byte sizes and checksums are those of the bytes /download serves (computed once per dataset version).

Both documents are built once per dataset version and cached with their serializations.
"""

import logging
import threading
from dataclasses import dataclass, field

from flask import Blueprint, Flask, Response, current_app, redirect, render_template, request
from pyoxigraph import BlankNode, NamedNode, RdfFormat, Triple, serialize
from pyoxigraph import Literal as OxLiteral
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, VOID, XSD

from .. import iris
from ..graph.store import DatasetStore
from . import downloads as dl
from .errors import abort_with
from .negotiation import Format, NotAcceptable, UnknownFormat, available, choose
from .store_access import get_store

bp = Blueprint("catalog", __name__)
log = logging.getLogger(__name__)

EXTENSION_KEY = "planlod.catalog"
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS_NS = "http://www.w3.org/ns/formats/"
IANA = "https://www.iana.org/assignments/media-types/"
EU_LANGUAGE = "http://publications.europa.eu/resource/authority/language/"
CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"

# The licence and its names (Creative Commons' own titles in English and Japanese).
LICENCE_TITLES = {
    CC_BY_4: ("クリエイティブ・コモンズ 表示 4.0 国際 (CC BY 4.0)",
              "Creative Commons Attribution 4.0 International (CC BY 4.0)"),
}
# Rights when the data states none (data/dataset.ttl states the dataset's, with its sources).
RIGHTS_JA = "CC BY 4.0 で提供します。再利用の際は、計画の出典である自治体と本データセットを表示してください。"
RIGHTS_EN = ("Licensed under CC BY 4.0. When you reuse it, credit the municipality the plan comes from "
             "and this dataset.")

# Syntaxes of the catalog and VoID documents: suffix -> (media type, rdflib format).
SYNTAXES = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
    "nt": ("application/n-triples", "nt"),
}
HTML = "text/html"


# The same syntaxes as offers for the shared negotiation (negotiation.choose); the server's order breaks
# ties, so `*/*` or no Accept gets Turtle, and a browser (text/html ranked highest) gets the HTML page.
OFFERS = (
    Format("ttl", "text/turtle", ("ttl", "turtle"), ("application/x-turtle",)),
    Format("jsonld", "application/ld+json", ("jsonld", "json-ld"), ("application/json",)),
    Format("rdf", "application/rdf+xml", ("rdf", "rdfxml", "xml"), ("application/xml", "text/xml")),
    Format("nt", "application/n-triples", ("nt", "ntriples", "n-triples")),
)
HTML_OFFER = Format("html", HTML, ("html",), ("application/xhtml+xml",))


def negotiate(suffix: str | None, allow_html: bool) -> str:
    """The suffix to answer with: the one in the URL, else `?format=`, else the best by Accept.

    An unknown suffix is 404 (no such document), an unknown `format=` 400, nothing acceptable 406,
    each from the errors module in the form the client reads."""
    offers = OFFERS + ((HTML_OFFER,) if allow_html else ())
    if suffix is not None:
        if suffix not in SYNTAXES and not (allow_html and suffix == "html"):
            abort_with(404, f"No such format: .{suffix} (try " + ", ".join("." + f.key for f in offers) + ")")
        return suffix
    try:
        return choose(request.headers.get("Accept"), offers, request.args.getlist("format")).key
    except NotAcceptable:
        abort_with(406, "None of the media types in the Accept header is available here. Available: "
                   + available(offers) + ".")
    except UnknownFormat as error:
        abort_with(400, str(error).replace("for this query", "here"))


def serialized(graph: Graph, suffix: str, base: str) -> bytes:
    """Written by pyoxigraph (and our JSON-LD writer), many times faster than rdflib's serializers on a
    catalog of many editions; the graph is built with rdflib only for its convenient API."""
    triples = [Triple(*(_oxigraph_term(t) for t in triple)) for triple in graph]
    if suffix == "jsonld":
        # Self-contained (context embedded): harvesters parse it without fetching anything else.
        return dl.jsonld_self_contained(triples, base)
    triples.sort(key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    rdf_format = OXIGRAPH_FORMATS[suffix]
    if rdf_format == RdfFormat.N_TRIPLES:
        return serialize(triples, format=rdf_format)
    return serialize(triples, format=rdf_format,
                     prefixes={**dl.prefixes(base), "spdx": str(SPDX), "sd": str(SD)})


OXIGRAPH_FORMATS = {"ttl": RdfFormat.TURTLE, "rdf": RdfFormat.RDF_XML, "nt": RdfFormat.N_TRIPLES}


def _oxigraph_term(term):
    if isinstance(term, URIRef):
        return NamedNode(str(term))
    if isinstance(term, BNode):
        return BlankNode(str(term))
    if term.language:
        return OxLiteral(str(term), language=term.language)
    if term.datatype is not None:
        return OxLiteral(str(term), datatype=NamedNode(str(term.datatype)))
    return OxLiteral(str(term))


def graph_response(graph: Graph, suffix: str, base: str, canonical_path: str,
                   cache: dict[str, bytes] | None = None) -> Response:
    """The graph in the chosen syntax; with `cache`, each syntax is serialized once (per dataset version)."""
    media_type = SYNTAXES[suffix][0]
    if cache is None:
        body = serialized(graph, suffix, base)
    else:
        with _build_lock:
            if suffix not in cache:
                cache[suffix] = serialized(graph, suffix, base)
            body = cache[suffix]
    content_type = media_type + ("; charset=utf-8" if media_type.startswith("text/") else "")
    response = Response(body, content_type=content_type)
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = ", ".join(
        f'<{canonical_path}.{s}>; rel="alternate"; type="{m}"' for s, (m, _) in SYNTAXES.items())
    response.add_etag()
    return response.make_conditional(request)


# ---- the catalog ----

@dataclass
class Metadata:
    catalog: Graph
    void: Graph
    catalog_bytes: dict[str, bytes] = field(default_factory=dict)  # suffix -> serialization
    void_bytes: dict[str, bytes] = field(default_factory=dict)
    pages: dict[str, str] = field(default_factory=dict)  # the HTML summary by language and path


def dataset_iri(base: str, edition: dl.Edition | None) -> URIRef:
    """The dcat:Dataset of an edition (a hash IRI in the catalog document), or the whole dataset."""
    if edition is None:
        return URIRef(iris.thing_iri("dataset", base=base))
    return URIRef(catalog_iri(base) + "#dataset-" + edition.path.replace("/", "-"))


def catalog_iri(base: str) -> str:
    return iris.thing_iri("catalog", base=base)


def distribution_iri(base: str, entry: dl.Entry) -> URIRef:
    name = entry.path[len(dl.DOWNLOAD_PATH):].replace("/", "-").replace(".", "-")
    return URIRef(catalog_iri(base) + "#distribution-" + name)


def _literals(store: DatasetStore, subject: str, predicate: str) -> list[Literal]:
    found = []
    query = f"SELECT DISTINCT ?o WHERE {{ <{subject}> <{predicate}> ?o FILTER(isLiteral(?o)) }}"
    for row in store.query(query):
        term = row["o"]
        if term.language:
            found.append(Literal(term.value, lang=term.language))
        elif term.datatype.value == dl.XSD_STRING:
            found.append(Literal(term.value))
        else:
            found.append(Literal(term.value, datatype=URIRef(term.datatype.value)))
    return sorted(found, key=lambda lit: (lit.language or "", str(lit)))


def _objects(store: DatasetStore, subject: str, predicate: str) -> list[str]:
    rows = store.query(f"SELECT DISTINCT ?o WHERE {{ <{subject}> <{predicate}> ?o FILTER(isIRI(?o)) }}")
    return sorted(row["o"].value for row in rows)


def _in_language(literals: list[Literal], lang: str) -> str:
    return next((str(lit) for lit in literals if lit.language == lang), "")


def _describe_agent(graph: Graph, store: DatasetStore, agent: str) -> URIRef:
    """A publisher as DCAT-AP wants it: a foaf:Agent with foaf:name (from the data's names or labels)."""
    node = URIRef(agent)
    graph.add((node, RDF.type, FOAF.Agent))
    names = _literals(store, agent, str(FOAF.name)) or _literals(store, agent, str(RDFS.label))
    for name in names:
        graph.add((node, FOAF.name, name))
    for label in _literals(store, agent, str(RDFS.label)):
        graph.add((node, RDFS.label, label))
    return node


def _describe_licence(graph: Graph, licence: str) -> URIRef:
    node = URIRef(licence)
    graph.add((node, RDF.type, DCTERMS.LicenseDocument))
    ja, en = LICENCE_TITLES.get(licence, ("", licence))
    if ja:
        graph.add((node, DCTERMS.title, Literal(ja, lang="ja")))
    graph.add((node, DCTERMS.title, Literal(en, lang="en")))
    return node


def _rights(graph: Graph, base: str, ja: str, en: str, key: str) -> URIRef:
    node = URIRef(catalog_iri(base) + "#rights-" + key)
    graph.add((node, RDF.type, DCTERMS.RightsStatement))
    graph.add((node, RDFS.label, Literal(ja, lang="ja")))
    graph.add((node, RDFS.label, Literal(en, lang="en")))
    return node


LEVEL_COUNTS = """
PREFIX plan: <{plan}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?depth (SAMPLE(?ja) AS ?nameJa) (SAMPLE(?en) AS ?nameEn) (COUNT(DISTINCT ?element) AS ?n) WHERE {{
  GRAPH <{edition}> {{
    <{edition}> plan:hasLevel ?level . ?level plan:depth ?depth .
    OPTIONAL {{ ?level rdfs:label ?ja FILTER(lang(?ja) = "ja") }}
    OPTIONAL {{ ?level rdfs:label ?en FILTER(lang(?en) = "en") }}
    OPTIONAL {{ ?element plan:level ?level }}
  }}
}} GROUP BY ?depth ORDER BY ?depth"""

EDITION_FACTS = """
PREFIX plan: <{plan}>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?plan ?city ?spatial ?period ?start ?end WHERE {{
  GRAPH <{edition}> {{
    OPTIONAL {{ <{edition}> plan:editionOf ?plan }}
    OPTIONAL {{ <{edition}> dcterms:spatial ?spatial }}
    OPTIONAL {{ <{edition}> dcterms:temporal ?period .
               OPTIONAL {{ ?period plan:fiscalYearStart ?start }}
               OPTIONAL {{ ?period plan:fiscalYearEnd ?end }} }}
  }}
  OPTIONAL {{ ?plan plan:municipality ?city }}
}} LIMIT 1"""


def _levels(store: DatasetStore, edition: dl.Edition) -> list[tuple[str, str, int]]:
    rows = store.query(LEVEL_COUNTS.format(plan=iris.ontology_ns(store.base), edition=edition.iri))
    return [(r["nameJa"].value if r["nameJa"] else "", r["nameEn"].value if r["nameEn"] else "",
             int(r["n"].value)) for r in rows]


def _edition_description(store: DatasetStore, edition: dl.Edition, city_ja: str, city_en: str):
    """The data's dcterms:description if it has one; else one written from the data's own counts."""
    given = _literals(store, edition.iri, str(DCTERMS.description))
    if given:
        return given
    levels = _levels(store, edition)
    where_ja = f"{city_ja}の" if city_ja else ""
    where_en = f" ({city_en})" if city_en else ""
    if levels:
        counts_ja = "、".join(f"{ja} {n}件" for ja, _, n in levels)
        counts_en = ", ".join(f"{en or ja}: {n}" for ja, en, n in levels)
        return [Literal(f"{where_ja}「{edition.title_ja}」の施策体系（{counts_ja}）と理念を、出典を明記した"
                        "Linked Open Data として記述したデータセット。", lang="ja"),
                Literal(f"The policy hierarchy ({counts_en}) and ideals of {edition.title_en}{where_en} "
                        "as linked open data, each with its source.", lang="en")]
    return [Literal(f"{where_ja}「{edition.title_ja}」の書誌情報を Linked Open Data として記述した"
                    "データセット。", lang="ja"),
            Literal(f"Bibliographic facts of {edition.title_en}{where_en} as linked open data.", lang="en")]


def _temporal(graph: Graph, node, start: str, end: str) -> None:
    """The plan period in DCAT terms; Japanese fiscal years run from 1 April to 31 March."""
    graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
    if start:
        graph.add((node, DCAT.startDate, Literal(f"{int(start):04d}-04-01", datatype=XSD.date)))
    if end:
        graph.add((node, DCAT.endDate, Literal(f"{int(end) + 1:04d}-03-31", datatype=XSD.date)))


def _distribution(graph: Graph, base: str, downloads: dl.Downloads, entry: dl.Entry, title_ja: str,
                  title_en: str, licence: URIRef, rights: URIRef) -> URIRef:
    built = downloads.built(entry)
    node = distribution_iri(base, entry)
    url = URIRef(entry.url(base))
    graph.add((node, RDF.type, DCAT.Distribution))
    graph.add((node, DCTERMS.title, Literal(f"{title_ja} — {entry.syntax_ja}", lang="ja")))
    graph.add((node, DCTERMS.title, Literal(f"{title_en} — {entry.syntax}", lang="en")))
    media = URIRef(IANA + entry.media_type)
    graph.add((media, RDF.type, DCTERMS.MediaType))
    graph.add((node, DCAT.mediaType, media))
    graph.add((node, DCAT.downloadURL, url))
    graph.add((node, DCAT.accessURL, url))
    graph.add((node, DCAT.byteSize, Literal(built.size, datatype=XSD.nonNegativeInteger)))
    checksum = URIRef(str(node) + "-sha256")
    graph.add((checksum, RDF.type, SPDX.Checksum))
    graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
    graph.add((SPDX.checksumAlgorithm_sha256, RDF.type, SPDX.ChecksumAlgorithm))
    graph.add((checksum, SPDX.checksumValue, Literal(built.sha256, datatype=XSD.hexBinary)))
    graph.add((node, SPDX.checksum, checksum))
    graph.add((node, DCTERMS.license, licence))
    graph.add((node, DCTERMS.rights, rights))
    if entry.kind == "csv":
        schema = URIRef(base + f"{dl.DOWNLOAD_PATH}{entry.edition.path}/outline.csv-metadata.json")
        graph.add((schema, RDF.type, DCTERMS.Standard))
        graph.add((node, DCTERMS.conformsTo, schema))
    elif entry.ext == "jsonld":
        graph.add((node, DCTERMS.conformsTo, _standard(graph, "https://www.w3.org/TR/json-ld11/")))
    return node


def _standard(graph: Graph, iri: str) -> URIRef:
    node = URIRef(iri)
    graph.add((node, RDF.type, DCTERMS.Standard))
    return node


def build_catalog(store: DatasetStore, downloads: dl.Downloads) -> Graph:
    base = store.base
    graph = Graph()
    for prefix, namespace in {**dl.prefixes(base), "spdx": str(SPDX), "dct": str(DCTERMS)}.items():
        graph.bind(prefix, namespace, override=True)
    catalog = URIRef(catalog_iri(base))
    whole = dataset_iri(base, None)
    service = URIRef(base + "sparql")  # the endpoint's own IRI, as data/dataset.ttl describes it
    licences = _objects(store, str(whole), str(DCTERMS.license)) or [CC_BY_4]
    licence = _describe_licence(graph, licences[0])
    stated_rights = _literals(store, str(whole), str(DCTERMS.rights))
    rights = _rights(graph, base, _in_language(stated_rights, "ja") or RIGHTS_JA,
                     _in_language(stated_rights, "en") or RIGHTS_EN, "dataset")
    publishers = _objects(store, str(whole), str(DCTERMS.publisher))
    publisher = _describe_agent(graph, store, publishers[0]) if publishers else None
    titles = _literals(store, str(whole), str(DCTERMS.title))
    descriptions = _literals(store, str(whole), str(DCTERMS.description))

    graph.add((catalog, RDF.type, DCAT.Catalog))
    for title in titles:
        graph.add((catalog, DCTERMS.title, Literal(f"{title}（カタログ）" if title.language == "ja"
                                                   else f"{title} (catalog)", lang=title.language)))
    graph.add((catalog, DCTERMS.description, Literal(
        "自治体計画 LOD のデータセット、ダウンロード、SPARQL エンドポイントの目録（DCAT）。", lang="ja")))
    graph.add((catalog, DCTERMS.description, Literal(
        "The DCAT catalog of the municipal plans LOD: its datasets, downloads and SPARQL endpoint.",
        lang="en")))
    if publisher is not None:
        graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, DCTERMS.license, licence))
    graph.add((catalog, FOAF.homepage, URIRef(base)))
    graph.add((catalog, RDFS.seeAlso, URIRef(void_url(base))))
    graph.add((catalog, DCAT.service, service))
    for code in ("JPN", "ENG"):
        language = URIRef(EU_LANGUAGE + code)
        graph.add((language, RDF.type, DCTERMS.LinguisticSystem))
        graph.add((catalog, DCTERMS.language, language))

    # The whole dataset.
    graph.add((catalog, DCAT.dataset, whole))
    graph.add((whole, RDF.type, DCAT.Dataset))
    for literal in titles + descriptions:
        graph.add((whole, DCTERMS.title if literal in titles else DCTERMS.description, literal))
    if publisher is not None:
        graph.add((whole, DCTERMS.publisher, publisher))
    graph.add((whole, DCTERMS.license, licence))
    graph.add((whole, DCTERMS.rights, rights))
    graph.add((whole, DCAT.landingPage, _document(graph, base)))
    for keyword_ja, keyword_en in (("自治体計画", "municipal plan"), ("施策体系", "policy hierarchy"),
                                   ("Linked Open Data", "linked open data")):
        graph.add((whole, DCAT.keyword, Literal(keyword_ja, lang="ja")))
        graph.add((whole, DCAT.keyword, Literal(keyword_en, lang="en")))
    title_ja, title_en = _in_language(titles, "ja"), _in_language(titles, "en")
    for entry in downloads.whole():
        graph.add((whole, DCAT.distribution,
                   _distribution(graph, base, downloads, entry, title_ja, title_en, licence, rights)))

    # One dataset per plan edition.
    plan_ns = iris.ontology_ns(base)
    for edition in downloads.editions:
        node = dataset_iri(base, edition)
        facts = next(iter(store.query(EDITION_FACTS.format(plan=plan_ns, edition=edition.iri))), None)
        city = facts["city"].value if facts is not None and facts["city"] else ""
        city_labels = _literals(store, city, str(RDFS.label)) if city else []
        city_ja, city_en = _in_language(city_labels, "ja"), _in_language(city_labels, "en")
        graph.add((catalog, DCAT.dataset, node))
        graph.add((whole, DCTERMS.hasPart, node))
        graph.add((node, DCTERMS.isPartOf, whole))
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.title, Literal(edition.title_ja or edition.iri, lang="ja")))
        title_en = edition.title_en or edition.title_ja or edition.iri
        graph.add((node, DCTERMS.title, Literal(title_en, lang="en")))
        for description in _edition_description(store, edition, city_ja, city_en):
            graph.add((node, DCTERMS.description, description))
        graph.add((node, DCTERMS.subject, URIRef(edition.iri)))  # what the dataset is about
        if publisher is not None:
            graph.add((node, DCTERMS.publisher, publisher))
        edition_licence = _describe_licence(graph, edition.license) if edition.license else licence
        graph.add((node, DCTERMS.license, edition_licence))
        given_rights = _literals(store, edition.iri, str(DCTERMS.rights))
        edition_rights = rights
        if given_rights:
            edition_rights = _rights(graph, base, _in_language(given_rights, "ja") or RIGHTS_JA,
                                     _in_language(given_rights, "en") or RIGHTS_EN,
                                     edition.path.replace("/", "-"))
        graph.add((node, DCTERMS.rights, edition_rights))
        graph.add((node, DCAT.landingPage, _document(graph, base + "doc/" + edition.path)))
        for literal in city_labels:
            if literal.language in ("ja", "en"):
                graph.add((node, DCAT.keyword, literal))
        for level_ja, level_en, _ in _levels(store, edition):
            for text, lang in ((level_ja, "ja"), (level_en, "en")):
                if text:
                    graph.add((node, DCAT.keyword, Literal(text, lang=lang)))
        if facts is not None:
            if facts["plan"]:
                for literal in _literals(store, facts["plan"].value, str(RDFS.label)):
                    if literal.language in ("ja", "en"):
                        graph.add((node, DCAT.keyword, literal))
            if facts["spatial"]:
                spatial = URIRef(facts["spatial"].value)
                graph.add((spatial, RDF.type, DCTERMS.Location))
                graph.add((node, DCTERMS.spatial, spatial))
            if facts["period"] and (facts["start"] or facts["end"]):
                period = facts["period"]
                temporal = URIRef(period.value) if isinstance(period, NamedNode) else BNode()
                _temporal(graph, temporal, facts["start"].value if facts["start"] else "",
                          facts["end"].value if facts["end"] else "")
                graph.add((node, DCTERMS.temporal, temporal))
        for entry in downloads.of_edition(edition):
            graph.add((node, DCAT.distribution,
                       _distribution(graph, base, downloads, entry, edition.title_ja or edition.iri,
                                     edition.title_en or edition.iri, edition_licence, edition_rights)))

    # The SPARQL endpoint.
    endpoint = URIRef(base + "sparql")
    graph.add((service, RDF.type, DCAT.DataService))
    graph.add((service, DCTERMS.title, Literal("SPARQL エンドポイント", lang="ja")))
    graph.add((service, DCTERMS.title, Literal("SPARQL endpoint", lang="en")))
    graph.add((service, DCTERMS.description, Literal(
        "全データ（各計画の版の名前付きグラフの和集合を既定グラフとする）への SPARQL 1.1 問い合わせ。",
        lang="ja")))
    graph.add((service, DCTERMS.description, Literal(
        "SPARQL 1.1 queries over all the data (the default graph is the union of the named graphs).",
        lang="en")))
    graph.add((service, DCAT.endpointURL, endpoint))
    graph.add((service, DCAT.endpointDescription, endpoint))  # GET /sparql answers its Service Description
    graph.add((service, DCTERMS.conformsTo, _standard(graph, "https://www.w3.org/TR/sparql11-protocol/")))
    graph.add((service, DCTERMS.license, licence))
    if publisher is not None:
        graph.add((service, DCTERMS.publisher, publisher))
    graph.add((service, DCAT.servesDataset, whole))
    for edition in downloads.editions:
        graph.add((service, DCAT.servesDataset, dataset_iri(base, edition)))
    return graph


def _document(graph: Graph, url: str) -> URIRef:
    node = URIRef(url)
    graph.add((node, RDF.type, FOAF.Document))
    return node


# ---- VoID ----

def void_url(base: str) -> str:
    return base + ".well-known/void"


def _namespace(iri: str) -> str:
    cut = max(iri.rfind("#"), iri.rfind("/"))
    return iri[:cut + 1]


def _count(store: DatasetStore, query: str) -> int:
    row = next(iter(store.query(query)), None)
    return int(row["n"].value) if row is not None and row["n"] is not None else 0


def _per_graph(store: DatasetStore, pattern: str, counted: str) -> dict[str, int]:
    query = f"SELECT ?g (COUNT(DISTINCT {counted}) AS ?n) WHERE {{ GRAPH ?g {{ {pattern} }} }} GROUP BY ?g"
    return {row["g"].value: int(row["n"].value) for row in store.query(query)}


LINKSETS = """
PREFIX void: <http://rdfs.org/ns/void#>
SELECT ?ls WHERE { GRAPH ?ls { ?ls a void:Linkset } } ORDER BY ?ls"""


def graph_subset(base: str, graph: str, editions: dict[str, dl.Edition]) -> URIRef:
    """The void:Dataset that one named graph is: an edition's dcat:Dataset, else the graph's own IRI."""
    if graph in editions:
        return dataset_iri(base, editions[graph])
    return URIRef(graph)


def build_void(store: DatasetStore, downloads: dl.Downloads) -> Graph:
    base = store.base
    uri_space = base + "id/"
    graph = Graph()
    for prefix, namespace in {**dl.prefixes(base), "sd": str(SD), "dct": str(DCTERMS)}.items():
        graph.bind(prefix, namespace, override=True)
    root = dataset_iri(base, None)
    editions = {edition.iri: edition for edition in downloads.editions}
    graph.add((root, RDF.type, VOID.Dataset))
    for literal in _literals(store, str(root), str(DCTERMS.title)):
        graph.add((root, DCTERMS.title, literal))
    for licence in _objects(store, str(root), str(DCTERMS.license)):
        graph.add((root, DCTERMS.license, URIRef(licence)))
    graph.add((root, VOID.sparqlEndpoint, URIRef(base + "sparql")))
    graph.add((root, VOID.uriSpace, Literal(uri_space)))
    graph.add((root, VOID.rootResource, URIRef(uri_space + "dataset")))
    graph.add((root, RDFS.seeAlso, URIRef(catalog_iri(base))))
    for entry in downloads.whole():
        graph.add((root, VOID.dataDump, URIRef(entry.url(base))))
    for name in ("Turtle", "TriG", "N-Quads", "JSON-LD", "RDF_XML"):
        graph.add((root, VOID.feature, URIRef(FORMATS_NS + name)))

    distinct = "SELECT DISTINCT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }"
    graph.add((root, VOID.triples, Literal(_count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {distinct} }}"))))
    entity_filter = f'FILTER(isIRI(?s) && STRSTARTS(STR(?s), "{uri_space}"))'
    graph.add((root, VOID.entities, Literal(_count(
        store, f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {entity_filter} }}"))))
    graph.add((root, VOID.classes, Literal(_count(
        store, "SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH ?g { ?s a ?c } }"))))
    graph.add((root, VOID.properties, Literal(_count(
        store, "SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))))
    graph.add((root, VOID.distinctSubjects, Literal(_count(
        store, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))))
    graph.add((root, VOID.distinctObjects, Literal(_count(
        store, "SELECT (COUNT(DISTINCT ?o) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"))))

    # Vocabularies: the namespaces of every property and class in use.
    used = {row["t"].value for row in store.query(
        "SELECT DISTINCT ?t WHERE { { GRAPH ?g { ?s ?t ?o } } UNION { GRAPH ?g { ?s a ?t } } }")}
    for namespace in sorted({_namespace(iri) for iri in used}):
        graph.add((root, VOID.vocabulary, URIRef(namespace)))

    # Class partitions (entities per class) over the whole dataset.
    for row in store.query("SELECT ?c (COUNT(DISTINCT ?s) AS ?n) WHERE { GRAPH ?g { ?s a ?c } } "
                           "GROUP BY ?c ORDER BY ?c"):
        partition = URIRef(str(root) + "#class-" + _slug(row["c"].value))
        graph.add((root, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(row["c"].value)))
        graph.add((partition, VOID.entities, Literal(int(row["n"].value))))

    # One subset per named graph, with its own counts.
    triples = _per_graph(store, "?s ?p ?o", "*")
    entities = _per_graph(store, f"?s ?p ?o {entity_filter}", "?s")
    classes = _per_graph(store, "?s a ?c", "?c")
    linksets = {row["ls"].value for row in store.query(LINKSETS)}
    for name in sorted(triples):
        subset = graph_subset(base, name, editions)
        if subset == root:  # data/dataset.ttl's own graph: a part of the dataset, not the dataset
            subset = URIRef(str(root) + "#graph")
        graph.add((root, VOID.subset, subset))
        graph.add((subset, SD.name, URIRef(name)))
        if name in linksets:
            continue  # void:triples of a link set counts its links: see _describe_linkset
        graph.add((subset, RDF.type, VOID.Dataset))
        graph.add((subset, VOID.triples, Literal(triples[name])))
        graph.add((subset, VOID.entities, Literal(entities.get(name, 0))))
        graph.add((subset, VOID.classes, Literal(classes.get(name, 0))))
        if name in editions:
            graph.add((subset, VOID.rootResource, URIRef(name)))
            for entry in downloads.of_edition(editions[name]):
                if entry.kind == "rdf":
                    graph.add((subset, VOID.dataDump, URIRef(entry.url(base))))
    for linkset in sorted(linksets):
        _describe_linkset(graph, store, linkset, base, editions)
    return graph


def _slug(iri: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in iri.split("//", 1)[-1]).strip("-")


VOID_NS = str(VOID)


def _describe_linkset(graph: Graph, store: DatasetStore, linkset: str, base: str,
                      editions: dict[str, dl.Edition]) -> None:
    """A link set with its links counted from the store, and what it does not state worked out.

    A link is a triple of the link set's graph whose object is an IRI and whose subject the link set
    does not type: the subjects it types (the link set itself, reified link assertions) are its own
    bookkeeping, while linked resources are typed in the graphs that describe them.
    """
    node = URIRef(linkset)
    graph.add((node, RDF.type, VOID.Linkset))
    stated: dict[str, list] = {}
    for row in store.query(f"SELECT ?p ?o WHERE {{ GRAPH <{linkset}> {{ <{linkset}> ?p ?o }} }}"):
        stated.setdefault(row["p"].value, []).append(row["o"])
        if row["p"].value in (str(RDFS.label), str(DCTERMS.title)) and row["o"].language:
            graph.add((node, URIRef(row["p"].value), Literal(row["o"].value, lang=row["o"].language)))
    links = (f"GRAPH <{linkset}> {{ ?s ?p ?o FILTER(isIRI(?o) && ?p != <{RDF.type}>) "
             f"FILTER NOT EXISTS {{ ?s a ?bookkeeping }} }}")
    predicates = [t.value for t in stated.get(VOID_NS + "linkPredicate", [])] or sorted(
        row["p"].value for row in store.query(f"SELECT DISTINCT ?p WHERE {{ {links} }}"))
    for predicate in predicates:
        graph.add((node, VOID.linkPredicate, URIRef(predicate)))
    values = " ".join(f"<{p}>" for p in predicates)
    count = _count(store, f"SELECT (COUNT(*) AS ?n) WHERE {{ {links} VALUES ?p {{ {values} }} }}") \
        if predicates else 0
    graph.add((node, VOID.triples, Literal(count)))
    for side, variable in (("subjectsTarget", "?s"), ("objectsTarget", "?o")):
        targets = [t.value for t in stated.get(VOID_NS + side, [])]
        if not targets:  # the datasets (graphs other than link sets) that describe the linked resources
            targets = sorted(graph_subset(base, row["g"].value, editions) for row in store.query(
                f"SELECT DISTINCT ?g WHERE {{ {links} GRAPH ?g {{ {variable} ?x ?y }} "
                f"FILTER NOT EXISTS {{ GRAPH ?g {{ ?g a <{VOID.Linkset}> }} }} }}"))
        for target in targets:
            graph.add((node, VOID[side], URIRef(target)))


# ---- caching and routes ----

_build_lock = threading.RLock()


def get_metadata() -> Metadata:
    """The catalog and VoID graphs of the loaded dataset; rebuilt only when the store's version changes."""
    downloads = dl.get_downloads()
    with _build_lock:
        cached = current_app.extensions.get(EXTENSION_KEY)
        if cached is None or cached[0] is not downloads:
            store = get_store()
            cached = (downloads, Metadata(build_catalog(store, downloads), build_void(store, downloads)))
            current_app.extensions[EXTENSION_KEY] = cached
    return cached[1]


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    if app.config.get("WARM_METADATA", not app.testing):
        threading.Thread(target=_warm, args=(app,), name="planlod-metadata-warm", daemon=True).start()


def _warm(app: Flask) -> None:
    """Build every download and the catalog and VoID right after start, in the background, so that the
    first visitor of /downloads or /catalog does not wait for the once-per-version build (a request
    that comes earlier waits for the same build under its lock rather than starting another)."""
    try:
        with app.app_context():
            dl.build_all(dl.get_downloads())
            get_metadata()
    except Exception:  # the request that needs them builds them again, and reports the error
        log.exception("building downloads and catalog in the background failed")


@bp.get("/catalog")
@bp.get("/catalog.<suffix>")
def catalog(suffix: str | None = None):
    chosen = negotiate(suffix, allow_html=True)
    metadata = get_metadata()
    base = get_store().base
    if chosen == "html":  # rendered once per language and dataset version
        key = f"{dl.page_lang()} {request.path}"  # the language switch links to this same path
        with _build_lock:
            page = metadata.pages.get(key)
            if page is None:
                page = metadata.pages[key] = render_template(
                    "catalog.html", **dl.page_context(), **catalog_view(metadata.catalog, base))
        response = Response(page, content_type="text/html; charset=utf-8")
        response.headers["Vary"] = "Accept, Cookie"
        return response
    return graph_response(metadata.catalog, chosen, base, "/catalog", metadata.catalog_bytes)


@bp.get("/id/catalog")
def catalog_id():
    response = redirect("/catalog", code=303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/.well-known/void")
@bp.get("/.well-known/void.<suffix>")
def void(suffix: str | None = None):
    chosen = negotiate(suffix, allow_html=False)
    metadata = get_metadata()
    return graph_response(metadata.void, chosen, get_store().base, "/.well-known/void", metadata.void_bytes)


def catalog_view(graph: Graph, base: str) -> dict:
    """What the HTML summary shows: each dataset with its titles and its distributions' links."""
    lang = dl.page_lang()

    def text(subject, predicate) -> str:
        values = list(graph.objects(subject, predicate))
        fallback = values[0] if values else ""
        chosen = next((v for v in values if getattr(v, "language", None) == lang), fallback)
        return str(chosen)

    def local(url: str) -> str:
        return "/" + url[len(base):] if url.startswith(base) else url

    order = {entry.url(base): i for i, entry in enumerate(dl.get_downloads().entries.values())}
    datasets = []
    for dataset in sorted(graph.objects(URIRef(catalog_iri(base)), DCAT.dataset)):
        files = []
        def place(distribution) -> int:  # the order of /downloads: RDF syntaxes, then the outline files
            return order.get(str(graph.value(distribution, DCAT.downloadURL)), 0)

        for distribution in sorted(graph.objects(dataset, DCAT.distribution), key=place):
            url = str(graph.value(distribution, DCAT.downloadURL))
            files.append({"title": text(distribution, DCTERMS.title), "href": local(url),
                          "size": int(graph.value(distribution, DCAT.byteSize))})
        datasets.append({"iri": str(dataset), "title": text(dataset, DCTERMS.title),
                         "description": text(dataset, DCTERMS.description), "files": files})
    catalog_node = URIRef(catalog_iri(base))
    return {"title": text(catalog_node, DCTERMS.title),
            "description": text(catalog_node, DCTERMS.description), "datasets": datasets,
            "formats": [(s, media) for s, (media, _) in SYNTAXES.items()]}
