"""The links of a resource, both directions, each with its provenance.

Links live in link sets (void:Linkset), one named graph each, apart from the plans: they are data to be
reviewed, not facts of a plan. In a link set graph the link triple is stated
(`elem skos:relatedMatch sdg:4.7`) and a plan:LinkAssertion node reifies it (rdf:subject/predicate/object)
with who asserted it (prov:wasAttributedTo), when (prov:generatedAtTime), on what basis (plan:basis,
plan:basisKind) and whether a person reviewed it (plan:reviewStatus).
Pages (`links_for`) and the outline CSV (`links_of`) read them here.
"""

from dataclasses import asdict, dataclass, field

from pyoxigraph import NamedNode

from .graph.store import DatasetStore
from .iris import iri_ref

SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
PROV = "http://www.w3.org/ns/prov#"
VOID = "http://rdfs.org/ns/void#"
DCTERMS = "http://purl.org/dc/terms/"

# Predicates that make a link in a link set (SKOS mapping properties by strength, identity, area code).
MAPPING_PREDICATES = tuple(SKOS + p for p in
                           ("exactMatch", "closeMatch", "relatedMatch", "broadMatch", "narrowMatch"))


# The vocabularies' own labels are English only; these say the strength meant, in both languages.
PREDICATE_LABELS = {
    SKOS + "exactMatch": {"ja": "完全に一致", "en": "exact match"},
    SKOS + "closeMatch": {"ja": "ほぼ一致", "en": "close match"},
    SKOS + "relatedMatch": {"ja": "関連", "en": "related match"},
    SKOS + "broadMatch": {"ja": "より広い概念", "en": "broad match"},
    SKOS + "narrowMatch": {"ja": "より狭い概念", "en": "narrow match"},
    OWL + "sameAs": {"ja": "同一", "en": "same as"},
}


def link_predicates(base: str) -> tuple[str, ...]:
    return MAPPING_PREDICATES + (OWL + "sameAs", base + "ontology#standardAreaCode")


@dataclass
class Link:
    """One link seen from `iri`: `direction` is "out" when `iri` is its subject, "in" when its object."""

    direction: str
    subject: str
    predicate: str
    object: str
    other: str  # the IRI at the other end
    linkset: str
    linkset_label: dict[str, str] = field(default_factory=dict)
    predicate_label: dict[str, str] = field(default_factory=dict)
    other_label: dict[str, str] = field(default_factory=dict)  # skos:prefLabel, else rdfs:label, by language
    other_short_label: dict[str, str] = field(default_factory=dict)  # rdfs:label (e.g. 「ターゲット 4.7」)
    other_notation: str = ""
    other_scheme: str = ""  # the concept scheme (plan edition, SDG KOS) the other end belongs to
    other_scheme_label: dict[str, str] = field(default_factory=dict)
    assertion: str = ""  # the plan:LinkAssertion node, "" when the link has no provenance
    attributed_to: str = ""
    attributed_label: dict[str, str] = field(default_factory=dict)
    generated_at: str = ""
    basis: dict[str, str] = field(default_factory=dict)
    basis_kind: str = ""
    basis_kind_label: dict[str, str] = field(default_factory=dict)
    review_status: str = ""
    review_status_label: dict[str, str] = field(default_factory=dict)
    score: float | None = None

    @property
    def reviewed(self) -> bool:
        return self.review_status.endswith("#Reviewed")


def _text_by_lang(store: DatasetStore, iri: str, predicates: tuple[str, ...],
                  texts: dict[tuple, dict[str, str]] | None = None) -> dict[str, str]:
    """The first literal per language of the first predicate that has any (a stable choice: sorted).
    `texts` keeps answers across the links of one call (many share a link set, an agent, a status)."""
    if not iri:
        return {}
    if texts is not None and (iri, predicates) in texts:
        return dict(texts[(iri, predicates)])
    # DISTINCT in the store: a term stated in every link set (the agent that made them) has its label
    # once per graph, 2,000 quads at 1,000 plans, which took 30 ms to walk here one by one. One query per
    # predicate, each a constant: with the predicates as VALUES the store took 7 ms instead of 0.7.
    answer: dict[str, str] = {}
    for predicate in predicates:
        found: dict[str, list[str]] = {}
        for row in store.query(f"SELECT DISTINCT ?l WHERE {{ {iri_ref(iri)} {iri_ref(predicate)} ?l "
                               "FILTER(isLiteral(?l)) }"):
            found.setdefault(row["l"].language or "", []).append(row["l"].value)
        if found:
            answer = {lang: sorted(values)[0] for lang, values in sorted(found.items())}
            break
    if texts is not None:
        texts[(iri, predicates)] = answer
    return dict(answer)


Texts = dict[tuple, dict[str, str]]  # (IRI, predicates) -> text by language, kept for one call


def _labels(store: DatasetStore, iri: str, texts: Texts | None = None) -> dict[str, str]:
    return _text_by_lang(store, iri, (SKOS + "prefLabel", RDFS + "label", SKOS + "altLabel"), texts)


def _first_iri(store: DatasetStore, iri: str, predicate: str) -> str:
    values = sorted(q.object.value for q in store.store.quads_for_pattern(
        NamedNode(iri), NamedNode(predicate), None, None) if isinstance(q.object, NamedNode))
    return values[0] if values else ""


def _ends(direction: str, iri: str) -> tuple[str, str]:
    """A link's two ends in a query: the resource asked about at one, a variable at the other."""
    return (iri_ref(iri), "?o") if direction == "out" else ("?s", iri_ref(iri))


def _links_query(store: DatasetStore, direction: str, iri: str) -> str:
    s, o = _ends(direction, iri)
    predicates = " ".join(f"<{p}>" for p in link_predicates(store.base))
    return f"""SELECT ?g ?s ?o ?p WHERE {{
      VALUES ?p {{ {predicates} }}
      GRAPH ?g {{ ?g a <{VOID}Linkset> . {s} ?p {o} }}
    }}"""


def _assertions_query(store: DatasetStore, direction: str, iri: str) -> str:
    # Apart from the links, and led by the known end: as an OPTIONAL beside them, the store built the
    # whole right side first (every assertion of every link set: 70 ms for a resource with no links).
    s, o = _ends(direction, iri)
    known = (f"?a <{RDF}subject> {s} ; <{RDF}predicate> ?p ; <{RDF}object> {o} ." if direction == "out"
             else f"?a <{RDF}object> {o} ; <{RDF}subject> {s} ; <{RDF}predicate> ?p .")
    plan = store.base + "ontology#"
    return f"""SELECT ?g ?s ?o ?p ?a ?who ?when ?basis ?kind ?status ?score WHERE {{
      GRAPH ?g {{
        {known}
        OPTIONAL {{ ?a <{PROV}wasAttributedTo> ?who }}
        OPTIONAL {{ ?a <{PROV}generatedAtTime> ?when }}
        OPTIONAL {{ ?a <{plan}basis> ?basis }}
        OPTIONAL {{ ?a <{plan}basisKind> ?kind }}
        OPTIONAL {{ ?a <{plan}reviewStatus> ?status }}
        OPTIONAL {{ ?a <{plan}similarityScore> ?score }}
      }}
    }}"""


def links_of(store: DatasetStore, iri: str) -> list[Link]:
    """Every link that has `iri` at one end, outgoing first, then by link set, predicate and other end."""
    links: dict[tuple, Link] = {}

    def ends(direction: str, row) -> tuple[str, str]:
        return (iri, row["o"].value) if direction == "out" else (row["s"].value, iri)

    for direction in ("out", "in"):
        found = 0
        for row in store.query(_links_query(store, direction, iri)):
            g, p = row["g"].value, row["p"].value
            s, o = ends(direction, row)
            key = (direction, g, s, p, o)
            if key not in links:
                links[key] = Link(direction, s, p, o, o if direction == "out" else s, g)
                found += 1
        if not found:
            continue  # most resources: no link, so no provenance to look for
        for row in store.query(_assertions_query(store, direction, iri)):
            s, o = ends(direction, row)
            link = links.get((direction, row["g"].value, s, row["p"].value, o))
            if link is None:
                continue  # an assertion about a triple its link set does not state: not a link
            if not link.assertion:  # the first assertion of a link gives its provenance
                link.assertion = row["a"].value
                link.attributed_to = row["who"].value if row["who"] else ""
                link.generated_at = row["when"].value if row["when"] else ""
                link.basis_kind = row["kind"].value if row["kind"] else ""
                link.review_status = row["status"].value if row["status"] else ""
                link.score = float(row["score"].value) if row["score"] else None
            if link.assertion == row["a"].value and row["basis"] is not None:
                basis = row["basis"]
                link.basis.setdefault(getattr(basis, "language", "") or "", basis.value)
    texts: Texts = {}  # the link sets, agents and statuses most links share
    for link in links.values():
        _describe(store, link, texts)
    return sorted(links.values(), key=lambda lk: (lk.direction != "out", lk.linkset, lk.predicate, lk.other))


def _describe(store: DatasetStore, link: Link, texts: Texts | None = None) -> None:
    """Labels for the ends and the provenance, from the union of all graphs."""
    link.linkset_label = _text_by_lang(store, link.linkset, (DCTERMS + "title", RDFS + "label"), texts)
    link.predicate_label = (_text_by_lang(store, link.predicate, (RDFS + "label",), texts)
                            or dict(PREDICATE_LABELS.get(link.predicate, {})))
    link.other_label = _labels(store, link.other)
    link.other_short_label = _text_by_lang(store, link.other, (RDFS + "label",))
    notation = next(iter(store.store.quads_for_pattern(
        NamedNode(link.other), NamedNode(SKOS + "notation"), None, None)), None)
    link.other_notation = notation.object.value if notation else ""
    link.other_scheme = _first_iri(store, link.other, SKOS + "inScheme") or _first_iri(
        store, link.other, SKOS + "topConceptOf")
    link.other_scheme_label = _labels(store, link.other_scheme, texts)
    link.attributed_label = _labels(store, link.attributed_to, texts)
    link.basis_kind_label = _labels(store, link.basis_kind, texts)
    link.review_status_label = _labels(store, link.review_status, texts)


def links_for(store: DatasetStore, iri: str) -> list[dict]:
    """`links_of` as plain dicts (for templates and JSON); keys are the `Link` field names plus `reviewed`."""
    return [{**asdict(link), "reviewed": link.reviewed} for link in links_of(store, iri)]


def link_summary(link: Link, lang: str = "ja") -> str:
    """One line for a CSV cell or a log: strength, the other end, and where the link comes from."""
    def pick(texts: dict[str, str]) -> str:
        return texts.get(lang) or texts.get("ja") or texts.get("en") or next(iter(texts.values()), "")
    arrow = "→" if link.direction == "out" else "←"
    name = pick(link.other_short_label) or pick(link.other_label)
    other = " ".join(t for t in (link.other_notation, name) if t)
    status = pick(link.review_status_label) or ("未確認" if lang == "ja" else "unreviewed")
    return (f"{arrow} {pick(link.predicate_label) or link.predicate} {other} <{link.other}> "
            f"[{status}; {pick(link.basis_kind_label)}; {link.linkset}]")
