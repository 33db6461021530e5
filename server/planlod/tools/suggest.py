"""Link suggestions between two plan editions (or a plan and the SDG targets) by Japanese text similarity,
and the review step that promotes what a person accepted.

Similarity: character 2- and 3-grams of the Japanese titles (and descriptions), weighted by TF-IDF over
both sides, compared by cosine. Pure Python: no tokenizer, no model download. Japanese has no spaces, and plan
titles share words as character runs (学習機会, 連携, 地域づくり), which n-grams catch without a dictionary.

    planlod suggest PLAN_A PLAN_B -> REVIEW.csv (a person fills `decision`) + a candidate link set
    planlod accept REVIEW.csv     -> the rows marked yes, added to the reviewed link set with provenance
"""

import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pyoxigraph import NamedNode, Variable
from rdflib import Graph, URIRef

from ..graph.store import DatasetStore
from . import linksets
from .linksets import LinkRow, LinksetError, LinksetInfo

SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
SDG_SCHEME = "http://metadata.un.org/sdg"
SDG_TARGET_SET = "sdg"  # the command-line name of the SDG targets as a target set

# Brackets, punctuation and spaces carry no meaning for similarity; 「」 are everywhere in plan titles.
_NOISE = re.compile(r"[\s「」『』（）()【】〈〉・、。，．,.:：;；!！?？〜~ー―\-/／\"'“”]+")


@dataclass(frozen=True)
class Item:
    iri: str
    notation: str
    label: str  # the Japanese title
    text: str  # what is compared: title (+ description)


def normalise(text: str) -> str:
    return _NOISE.sub("", unicodedata.normalize("NFKC", text))


def ngrams(text: str, sizes: tuple[int, ...] = (2, 3)) -> Counter:
    text = normalise(text)
    grams: Counter = Counter()
    for n in sizes:
        grams.update(text[i:i + n] for i in range(len(text) - n + 1))
    return grams


def tfidf_vectors(items_a: list[Item], items_b: list[Item]) -> tuple[list[dict], list[dict]]:
    """TF-IDF over the union of both sides, so n-grams common to everything (学習, 充実) weigh little."""
    counts = [ngrams(item.text) for item in items_a + items_b]
    df: Counter = Counter()
    for grams in counts:
        df.update(grams.keys())
    total = len(counts)
    vectors = []
    for grams in counts:
        vector = {g: (1 + math.log(c)) * math.log((1 + total) / (1 + df[g])) for g, c in grams.items()}
        norm = math.sqrt(sum(w * w for w in vector.values())) or 1.0
        vectors.append({g: w / norm for g, w in vector.items()})
    return vectors[:len(items_a)], vectors[len(items_a):]


def cosine(a: dict, b: dict) -> float:
    if len(a) > len(b):
        a, b = b, a
    return sum(w * b.get(g, 0.0) for g, w in a.items())


def rank(items_a: list[Item], items_b: list[Item]) -> list[tuple[float, Item, Item]]:
    """Every pair with a positive score, best first; ties broken by IRIs so the order is stable."""
    vectors_a, vectors_b = tfidf_vectors(items_a, items_b)
    pairs = []
    for a, va in zip(items_a, vectors_a, strict=True):
        for b, vb in zip(items_b, vectors_b, strict=True):
            score = cosine(va, vb)
            if score > 0:
                pairs.append((score, a, b))
    pairs.sort(key=lambda t: (-t[0], t[1].iri, t[2].iri))
    return pairs


def _bind(**values) -> dict:
    return {Variable(k): v for k, v in values.items()}


def resolve_edition(store: DatasetStore, name: str) -> str:
    """An edition IRI, or its path under {base}id/ (072044/lifelong-learning-plan/5), or `sdg`."""
    if name == SDG_TARGET_SET:
        return SDG_SCHEME
    return name if name.startswith(("http://", "https://")) else store.base + "id/" + name.strip("/")


def items_of(store: DatasetStore, scheme: str, with_description: bool = True) -> list[Item]:
    """The plan elements of an edition, or the SDG targets, with their Japanese text."""
    plan = store.base + "ontology#"
    if scheme == SDG_SCHEME:
        kind = "?s a <http://metadata.un.org/sdg/ontology#Target>"
    else:
        kind = f"?s a <{plan}PlanElement>"
    query = f"""SELECT ?scheme ?s ?notation ?label ?description WHERE {{
      ?s <{SKOS}inScheme> ?scheme . {kind} .
      ?s <{SKOS}prefLabel> ?label . FILTER(langMatches(lang(?label), "ja"))
      OPTIONAL {{ ?s <{SKOS}notation> ?notation }}
      OPTIONAL {{ ?s <{DCTERMS}description> ?description . FILTER(langMatches(lang(?description), "ja")) }}
    }}"""
    items = {}
    for row in store.query(query, substitutions=_bind(scheme=NamedNode(scheme))):
        iri = row["s"].value
        if iri in items:
            continue
        label = row["label"].value
        description = row["description"].value if row["description"] and with_description else ""
        items[iri] = Item(iri, row["notation"].value if row["notation"] else "", label,
                          label + (" " + description if description else ""))
    return sorted(items.values(), key=lambda item: item.iri)


def suggest(store: DatasetStore, plan_a: str, plan_b: str, top: int = 50,
            min_score: float = 0.0) -> list[LinkRow]:
    scheme_a, scheme_b = resolve_edition(store, plan_a), resolve_edition(store, plan_b)
    items_a, items_b = items_of(store, scheme_a), items_of(store, scheme_b)
    problems = [f"{name}: 計画要素が見つかりません / no plan elements found for <{scheme}>"
                for name, scheme, items in ((plan_a, scheme_a, items_a), (plan_b, scheme_b, items_b))
                if not items]
    if problems:
        raise LinksetError(problems)
    rows = []
    for score, a, b in rank(items_a, items_b):
        if score < min_score or len(rows) >= top:
            break
        rows.append(LinkRow(subject=a.iri, predicate="skos:relatedMatch", object=b.iri,
                            subject_notation=a.notation, subject_label=a.label,
                            object_notation=b.notation, object_label=b.label, score=score))
    return rows


def graph_of(store: DatasetStore, iri: str) -> str:
    """The named graph that describes `iri` (its edition, or the SDG reference set)."""
    for quad in store.store.quads_for_pattern(NamedNode(iri), None, None, None):
        if isinstance(quad.graph_name, NamedNode):
            return quad.graph_name.value
    return ""


def _title(store: DatasetStore, graph: str, lang: str) -> str:
    for predicate in (SKOS + "prefLabel", DCTERMS + "title", "http://www.w3.org/2000/01/rdf-schema#label"):
        for quad in store.store.quads_for_pattern(NamedNode(graph), NamedNode(predicate), None, None):
            if getattr(quad.object, "language", None) == lang:
                return quad.object.value
    return graph


def linkset_info(store: DatasetStore, name: str, rows: list[LinkRow], reviewed: bool) -> LinksetInfo:
    subject_graphs = sorted({graph_of(store, row.subject) for row in rows})
    object_graphs = sorted({graph_of(store, row.object) or linksets.external_scheme(row.object)
                            for row in rows})
    # A link set whose subjects come from several graphs targets the dataset as a whole.
    subjects = subject_graphs[0] if len(subject_graphs) == 1 else store.base + "id/dataset"
    objects = object_graphs[0]
    a_ja, b_ja = _title(store, subjects, "ja"), _title(store, objects, "ja")
    a_en, b_en = _title(store, subjects, "en"), _title(store, objects, "en")
    state_ja, state_en = ("", "") if reviewed else ("（未確認の候補）", " (unreviewed candidates)")
    return LinksetInfo(linksets.linkset_iri(name), f"{a_ja} と {b_ja} のリンク{state_ja}",
                       f"Links from {a_en} to {b_en}{state_en}", subjects, object_graphs, reviewed)


def write_suggestions(store: DatasetStore, rows: list[LinkRow], out_dir: Path, name: str,
                      when: datetime | None = None) -> tuple[Path, Path]:
    """The review CSV and the candidate link set (every link unreviewed, attributed to the tool)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    review = out_dir / f"{name}.review.csv"
    candidates = out_dir / f"{name}-candidates.ttl"
    linksets.write_review_csv(rows, review)
    info = linkset_info(store, name + "-candidates", rows, reviewed=False)
    graph = linksets.new_linkset(info)
    when = when or linksets.now()
    for row in rows:
        linksets.add_link(graph, info.iri, row, reviewed=False, agent=linksets.SUGGEST_AGENT, when=when)
    candidates.write_text(linksets.serialize(graph, f"""
Candidate links (UNREVIEWED), proposed by `planlod suggest` by character n-gram similarity.
Licence: CC BY 4.0. These are machine candidates, not facts of either plan: review {review.name}
(mark `decision` yes) and run `planlod accept` to promote the accepted rows."""), encoding="utf-8")
    return review, candidates


def accept(store: DatasetStore, review_csv: Path, linkset_path: Path, agent: str | None = None,
           when: datetime | None = None, title: tuple[str, str] | None = None) -> int:
    """Add the rows marked yes to the reviewed link set at `linkset_path` (created if absent).

    Every problem is reported at once (LinksetError) and nothing is written when there is one.
    Returns how many links were added (rows already in the link set are not added twice).
    """
    rows = linksets.read_review_csv(review_csv)
    accepted = [(number, row) for number, row in enumerate(rows, start=2) if row.accepted]
    problems = []
    for number, row in accepted:
        for end in ("subject", "object"):
            iri = getattr(row, end)
            if not graph_of(store, iri) and not (end == "object" and linksets.external_scheme(iri)):
                problems.append(f"{number}行目: {end} <{iri}> はデータセットにも既知の外部体系にも"
                                f"ありません / row {number}: {end} <{iri}> is neither in the dataset "
                                "nor in a known scheme")
    if not accepted:
        problems.append(f"{review_csv}: decision が yes の行がありません / no row is marked yes")
    if problems:
        raise LinksetError(problems)
    name = linkset_path.name.removesuffix(".ttl")
    if linkset_path.exists():
        graph = Graph().parse(linkset_path, format="turtle")
        iri = linksets.linkset_iri(name)
        if (URIRef(iri), None, None) not in graph:
            raise LinksetError([f"{linkset_path}: <{iri}> を記述していません / does not describe <{iri}>"])
    else:
        info = linkset_info(store, name, [row for _, row in accepted], reviewed=True)
        if title:
            info.title_ja, info.title_en = title
        graph, iri = linksets.new_linkset(info), info.iri
    who = URIRef(agent) if agent else linksets.PROJECT_AGENT
    when = when or linksets.now()
    added = sum(linksets.add_link(graph, iri, row, reviewed=True, agent=who, when=when)
                for _, row in accepted)
    linkset_path.parent.mkdir(parents=True, exist_ok=True)
    linkset_path.write_text(linksets.serialize(graph, f"""
Link set {name}
Reviewed links, each reified as a plan:LinkAssertion saying who asserted it, when and on what basis.
Licence: CC BY 4.0. Links are data to be reviewed, not facts of the plans.
Written by `planlod accept` from {review_csv.name}."""), encoding="utf-8")
    return added


# ---- Command line: `planlod suggest`, `planlod accept` ----

def load_store(args) -> DatasetStore:
    from ..config import DEFAULTS
    return DatasetStore.load(Path(DEFAULTS["ONTOLOGY_DIR"]), Path(DEFAULTS["SHAPES_DIR"]),
                             Path(args.data_dir or DEFAULTS["DATA_DIR"]), DEFAULTS["BASE_IRI"])


def _report(error: LinksetError) -> int:
    import sys
    for problem in error.problems:
        print(problem, file=sys.stderr)
    return 2


def run_suggest(args) -> int:
    store = load_store(args)
    name = args.name or "--".join(
        resolve_edition(store, p).removeprefix(store.base + "id/").replace("/", "-")
        if p != SDG_TARGET_SET else SDG_TARGET_SET for p in (args.plan_a, args.plan_b))
    try:
        rows = suggest(store, args.plan_a, args.plan_b, top=args.top, min_score=args.min_score)
    except LinksetError as error:
        return _report(error)
    review, candidates = write_suggestions(store, rows, Path(args.out), name)
    print(f"{len(rows)} candidates -> {review} , {candidates}")
    return 0


def run_accept(args) -> int:
    store = load_store(args)
    review = Path(args.review_csv)
    target = Path(args.linkset) if args.linkset else (
        Path(args.data_dir or store_data_dir()) / "linksets" / (review.name.split(".")[0] + ".ttl"))
    try:
        added = accept(store, review, target, agent=args.agent,
                       title=(args.title_ja, args.title_en) if args.title_ja and args.title_en else None)
    except LinksetError as error:
        return _report(error)
    print(f"{added} links added -> {target}")
    return 0


def store_data_dir() -> str:
    from ..config import DEFAULTS
    return DEFAULTS["DATA_DIR"]


def register(subparsers) -> None:
    p = subparsers.add_parser("suggest", help="candidate links between two plans, or a plan and `sdg`")
    p.add_argument("plan_a", help="edition IRI or path under id/, e.g. 072044/lifelong-learning-plan/5")
    p.add_argument("plan_b", help="another edition, or `sdg` for the SDG targets")
    p.add_argument("--top", type=int, default=50, help="at most this many candidates (default 50)")
    p.add_argument("--min-score", type=float, default=0.0, help="leave out pairs scoring below this")
    p.add_argument("--out", default="suggestions", help="directory for the review CSV and candidate link set")
    p.add_argument("--name", help="base name of the output files (default: from the two plans)")
    p.add_argument("--data-dir", help="the dataset's data directory (default: the checkout's data/)")
    p.set_defaults(handler=run_suggest)
    a = subparsers.add_parser("accept", help="promote the rows of a review CSV marked yes into a link set")
    a.add_argument("review_csv")
    a.add_argument("--linkset", help="the link set file (default: data/linksets/<review name>.ttl)")
    a.add_argument("--agent", help="IRI of who reviewed (default: the planlod project)")
    a.add_argument("--title-ja", help="title of a new link set in Japanese (default: from the two plans)")
    a.add_argument("--title-en", help="title of a new link set in English")
    a.add_argument("--data-dir", help="the dataset's data directory (default: the checkout's data/)")
    a.set_defaults(handler=run_accept)
