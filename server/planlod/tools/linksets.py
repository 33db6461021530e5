"""Link sets as Turtle files: review CSV rows in; out, a void:Linkset with one reified, attributed link a row.

Both `planlod suggest` (candidates, unreviewed) and `planlod accept` (reviewed rows promoted) write through
here, so every link in data/linksets/ carries the same provenance: who (prov:wasAttributedTo), when
(prov:generatedAtTime), on what basis (plan:basis, plan:basisKind) and whether a person reviewed it.
"""

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, OWL, PROV, SKOS, VOID

from ..config import DEFAULT_BASE_IRI

PLAN = Namespace(DEFAULT_BASE_IRI + "ontology#")
PROJECT_AGENT = URIRef(DEFAULT_BASE_IRI + "id/planlod-project")
SUGGEST_AGENT = URIRef(DEFAULT_BASE_IRI + "id/agent/planlod-suggest")

# Short names a reviewer may write in the predicate column, and the strength each means.
PREDICATES = {
    "skos:exactMatch": SKOS.exactMatch,
    "skos:closeMatch": SKOS.closeMatch,
    "skos:relatedMatch": SKOS.relatedMatch,
    "skos:broadMatch": SKOS.broadMatch,
    "skos:narrowMatch": SKOS.narrowMatch,
    "owl:sameAs": OWL.sameAs,
    "plan:standardAreaCode": PLAN.standardAreaCode,
}
SHORT_NAME = {str(iri): name for name, iri in PREDICATES.items()}

# Outside namespaces a link may point into, besides this dataset's own IRIs (shapes/linksets.ttl agrees).
KNOWN_EXTERNAL_SCHEMES = (
    "http://metadata.un.org/sdg/",  # UN SDG KOS goals and targets
    "http://data.e-stat.go.jp/lod/sac/",  # e-Stat standard area codes
    "http://ja.dbpedia.org/resource/",  # DBpedia Japanese
)

REVIEW_COLUMNS = ("subject", "subject_notation", "subject_label", "predicate", "object", "object_notation",
                  "object_label", "score", "decision", "basis_ja", "basis_en")
YES = {"yes", "y", "true", "1", "はい", "○", "〇"}


class LinksetError(Exception):
    """A review CSV or link set that cannot be used; `problems` lists each with its row (ja / en)."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class LinkRow:
    subject: str
    predicate: str  # a short name from PREDICATES
    object: str
    subject_notation: str = ""
    subject_label: str = ""
    object_notation: str = ""
    object_label: str = ""
    score: float | None = None
    decision: str = ""
    basis_ja: str = ""
    basis_en: str = ""

    @property
    def accepted(self) -> bool:
        return self.decision.strip().lower() in YES

    def as_csv_row(self) -> dict[str, str]:
        row = {name: getattr(self, name) for name in REVIEW_COLUMNS}
        row["score"] = "" if self.score is None else f"{self.score:.4f}"
        return row


def write_review_csv(rows: Iterable[LinkRow], path: Path) -> None:
    # UTF-8 with BOM so that Excel opens the Japanese text correctly; the reader accepts both.
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=REVIEW_COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow(row.as_csv_row())


def read_review_csv(path: Path) -> list[LinkRow]:
    """The rows of a review CSV; raises LinksetError listing every bad row (row 1 is the header)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as error:
        raise LinksetError([f"{path}: 読めません / cannot read: {error.strerror or error}"]) from None
    except UnicodeDecodeError:
        raise LinksetError([f"{path}: UTF-8 ではありません / not UTF-8"]) from None
    reader = csv.DictReader(io.StringIO(text))
    header = reader.fieldnames or []
    missing = [c for c in ("subject", "predicate", "object", "decision") if c not in header]
    if missing:
        raise LinksetError([f"{path}: 列がありません / missing columns: {', '.join(missing)}"])
    rows, problems = [], []
    for number, raw in enumerate(reader, start=2):
        values = {k: (raw.get(k) or "").strip() for k in REVIEW_COLUMNS}
        if values["predicate"] not in PREDICATES:
            problems.append(f"{number}行目: 述語 {values['predicate']!r} は使えません / row {number}: "
                            f"predicate {values['predicate']!r} is not one of {', '.join(PREDICATES)}")
        for end in ("subject", "object"):
            if not values[end].startswith(("http://", "https://")):
                problems.append(f"{number}行目: {end} が IRI ではありません / "
                                f"row {number}: {end} is not an IRI")
        score = None
        if values["score"]:
            try:
                score = float(values["score"])
            except ValueError:
                problems.append(f"{number}行目: score が数値ではありません / "
                                f"row {number}: score is not a number")
        rows.append(LinkRow(score=score, **{k: v for k, v in values.items() if k != "score"}))
    if problems:
        raise LinksetError(problems)
    return rows


@dataclass
class LinksetInfo:
    iri: str
    title_ja: str
    title_en: str
    subjects_target: str
    objects_target: list[str]
    reviewed: bool


def external_scheme(iri: str) -> str:
    return next((ns for ns in KNOWN_EXTERNAL_SCHEMES if iri.startswith(ns)), "")


def linkset_iri(name: str) -> str:
    return DEFAULT_BASE_IRI + "id/linkset/" + name


def assertion_iri(linkset: str, subject: str, predicate: str, obj: str) -> URIRef:
    """Stable across runs and row orders: named by the link itself."""
    digest = hashlib.sha1(f"{subject} {predicate} {obj}".encode()).hexdigest()[:12]
    return URIRef(f"{linkset}/link/{digest}")


def new_linkset(info: LinksetInfo) -> Graph:
    graph = _graph()
    ls = URIRef(info.iri)
    graph.add((ls, RDF.type, VOID.Linkset))
    graph.add((ls, RDFS.label, Literal(info.title_ja, lang="ja")))
    graph.add((ls, RDFS.label, Literal(info.title_en, lang="en")))
    graph.add((ls, DCTERMS.title, Literal(info.title_ja, lang="ja")))
    graph.add((ls, DCTERMS.title, Literal(info.title_en, lang="en")))
    graph.add((ls, VOID.subjectsTarget, URIRef(info.subjects_target)))
    for target in info.objects_target:
        graph.add((ls, VOID.objectsTarget, URIRef(target)))
    graph.add((ls, DCTERMS.license, URIRef("https://creativecommons.org/licenses/by/4.0/")))
    graph.add((ls, PLAN.reviewStatus, PLAN.Reviewed if info.reviewed else PLAN.Unreviewed))
    graph.add((ls, SKOS.editorialNote, Literal(
        "リンクはレビューされるべきデータであり、計画の内容そのものではない。"
        "各リンクの表明者・日時・根拠は plan:LinkAssertion に記す。",
        lang="ja")))
    graph.add((ls, SKOS.editorialNote, Literal(
        "Links are data to be reviewed, not facts of the plan. Each link's asserter, time and basis are "
        "given on its plan:LinkAssertion.", lang="en")))
    if not info.reviewed:
        graph.add((SUGGEST_AGENT, RDF.type, PROV.SoftwareAgent))
        graph.add((SUGGEST_AGENT, RDFS.label, Literal("planlod suggest（リンク候補の提案）", lang="ja")))
        graph.add((SUGGEST_AGENT, RDFS.label, Literal("planlod suggest (link candidates)", lang="en")))
    return graph


def _graph() -> Graph:
    graph = Graph()
    for prefix, ns in (("dcterms", DCTERMS), ("owl", OWL), ("plan", PLAN), ("prov", PROV), ("rdfs", RDFS),
                       ("skos", SKOS), ("void", VOID), ("xsd", XSD)):
        graph.bind(prefix, ns)
    return graph


def add_link(graph: Graph, linkset: str, row: LinkRow, *, reviewed: bool, agent: URIRef,
             when: datetime) -> bool:
    """Add the link triple and its assertion; False (nothing added) when the link set already has it."""
    s, p, o = URIRef(row.subject), PREDICATES[row.predicate], URIRef(row.object)
    node = assertion_iri(linkset, row.subject, str(p), row.object)
    if (s, p, o) in graph and (node, RDF.type, PLAN.LinkAssertion) in graph:
        return False
    graph.add((s, p, o))
    graph.add((node, RDF.type, PLAN.LinkAssertion))
    graph.add((node, RDF.subject, s))
    graph.add((node, RDF.predicate, p))
    graph.add((node, RDF.object, o))
    graph.add((node, DCTERMS.isPartOf, URIRef(linkset)))
    graph.add((node, PROV.wasAttributedTo, agent))
    stamp = Literal(when.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    graph.add((node, PROV.generatedAtTime, stamp))
    graph.add((node, PLAN.reviewStatus, PLAN.Reviewed if reviewed else PLAN.Unreviewed))
    if row.score is not None:
        graph.add((node, PLAN.similarityScore, Literal(f"{row.score:.4f}", datatype=XSD.decimal)))
    if reviewed:
        graph.add((node, PLAN.basisKind, PLAN.EditorialJudgement))
        proposed_ja = (f"文字 n-gram 類似度 {row.score:.3f} で提案された候補を、"
                       if row.score is not None else "")
        proposed_en = (f"Proposed by character n-gram similarity {row.score:.3f}; "
                       if row.score is not None else "")
        basis_ja = row.basis_ja or proposed_ja + "確認者が関連ありと判断した（編集者の判断）。"
        basis_en = row.basis_en or proposed_en + "the reviewer judged them related (the editors' judgement)."
    else:
        graph.add((node, PLAN.basisKind, PLAN.TextSimilarity))
        basis_ja = f"文字 n-gram 類似度 {row.score:.3f} による機械的な候補。未確認。"
        basis_en = f"A machine candidate by character n-gram similarity {row.score:.3f}; not reviewed."
    graph.add((node, PLAN.basis, Literal(basis_ja, lang="ja")))
    graph.add((node, PLAN.basis, Literal(basis_en, lang="en")))
    return True


def count_links(graph: Graph) -> int:
    return sum(1 for _ in graph.subjects(RDF.type, PLAN.LinkAssertion))


def serialize(graph: Graph, header: str) -> str:
    """Turtle with a header comment; void:triples is refreshed so the count always matches the links."""
    for ls in graph.subjects(RDF.type, VOID.Linkset):
        graph.set((ls, VOID.triples, Literal(count_links(graph))))
    body = graph.serialize(format="turtle")
    comment = "".join(f"# {line}".rstrip() + "\n" for line in header.strip().splitlines())
    return comment + "\n" + body


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
