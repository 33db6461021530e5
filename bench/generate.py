"""Synthetic plans for benchmarks: N municipalities × M editions, in the real plan's shape.

Every edition looks like the 第五期いわき市生涯学習推進計画 in shape (not in content): 3 levels
(基本方針 → 施策の方向性 → 施策の柱), 4 policies, 11 directions (3/3/3/2), 21 pillars (2 per direction, 1
under the last), a vision, ja and en labels on everything, pages, notations and orders, and the metadata
the shapes ask for. Its municipality has a fictitious but well-formed code (prefecture 90–99 do not
exist; the check digit is right). Each edition also gets a synthetic SDG link set: a few of its elements
linked with skos:relatedMatch to SDG 4 targets (http://metadata.un.org/sdg/4.7 …), each link reified as an
unreviewed plan:LinkAssertion, as `planlod suggest` writes them. Labels say 合成 / synthetic: nothing here
is plan content. Deterministic: the same arguments and seed give the same bytes.

Command line (output goes under bench/out/, which git ignores; never under data/):

    python bench/generate.py --municipalities 100 --editions 10 --out bench/out/synthetic-1000
        -> bench/out/synthetic-1000/plans/*.ttl and linksets/*.ttl: a data dir the loader reads
           (planlod.graph.dataset.discover(ontology, shapes, that dir))
    python bench/generate.py -n 100 -m 10 --nquads bench/out/synthetic-1000.nq
        -> one N-Quads file, each edition and each link set in its own named graph (fast to load)

Function API (other benchmarks import it: `sys.path.insert(0, "bench"); import generate`):

    generate.editions(municipalities, editions, seed=0, base=DEFAULT_BASE_IRI, links=6)
        -> list[SyntheticFile(name, kind, graph, triples)]  kind: "plans" or "linksets"
    generate.write_data_dir(files, out_dir)        one Turtle file per edition / link set
    generate.write_nquads(files, path)             one N-Quads file
    generate.quads(files)                          pyoxigraph Quads, for Store.extend
"""

import argparse
import random
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, Triple, parse, serialize

DEFAULT_BASE_IRI = "https://w3id.org/planlod/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
VOID = "http://rdfs.org/ns/void#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SDG = "http://metadata.un.org/sdg/"
CC_BY = "https://creativecommons.org/licenses/by/4.0/"
PREFIXES = {"dcterms": DCTERMS, "plan": DEFAULT_BASE_IRI + "ontology#", "prov": PROV, "rdf": RDF,
            "rdfs": RDFS, "skos": SKOS, "void": VOID, "xsd": XSD}
# The SDG targets the links point at must be in the data (the link-set shapes check it): the project's
# SDG KOS subset goes along, as a reference file, whenever there are links.
SDG_REFERENCE = Path(__file__).resolve().parents[1] / "data" / "reference" / "sdg-kos-subset.ttl"

# The real plan's shape: directions per policy, pillars per direction (4 / 11 / 21).
DIRECTIONS_PER_POLICY = (3, 3, 3, 2)
PILLARS_PER_DIRECTION = (2,) * 10 + (1,)
ROMAN = "ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ"
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳"
LEVELS = (("基本方針", "Basic policy", "BasicPolicy"),
          ("施策の方向性", "Policy direction", "PolicyDirection"),
          ("施策の柱", "Measure pillar", "MeasurePillar"))
GENERATED_AT = Literal("2026-01-01T00:00:00Z", datatype=NamedNode(XSD + "dateTime"))  # fixed: deterministic
SDG4_TARGETS = ("4.1", "4.2", "4.3", "4.4", "4.5", "4.6", "4.7", "4.a", "4.b", "4.c")


@dataclass(frozen=True)
class SyntheticFile:
    name: str  # file stem, e.g. 900001-synthetic-plan-3
    kind: str  # "plans" or "linksets": the sub-directory of the data dir
    graph: str  # the named graph (the edition's or the link set's IRI), as the loader would name it
    triples: list[Triple]


def municipality_code(index: int) -> str:
    """A 6-digit code with a correct check digit, in prefectures 90–99 (none exists): fictitious but valid."""
    five = f"{90000 + index:05d}"
    if len(five) != 5:
        raise ValueError("at most 10,000 synthetic municipalities")
    total = sum(int(d) * w for d, w in zip(five, (6, 5, 4, 3, 2), strict=True))
    return five + str((11 - total % 11) % 10)


class Writer:
    """Collects triples with short helpers, so that the shape of a plan reads top-down below."""

    def __init__(self, base: str):
        self.base, self.plan, self.triples = base, base + "ontology#", []

    def iri(self, value: str) -> NamedNode:
        return NamedNode(value)

    def add(self, s: str, p: str, o) -> None:
        obj = o if isinstance(o, (NamedNode, Literal)) else NamedNode(o)
        self.triples.append(Triple(NamedNode(s), NamedNode(p), obj))

    def labels(self, s: str, p: str, ja: str, en: str) -> None:
        self.add(s, p, Literal(ja, language="ja"))
        self.add(s, p, Literal(en, language="en"))

    def integer(self, s: str, p: str, value: int) -> None:
        self.add(s, p, Literal(str(value), datatype=NamedNode(XSD + "integer")))


def edition_file(index: int, edition: int, base: str) -> tuple[SyntheticFile, list[str]]:
    """One edition of municipality `index`; also returns its elements' IRIs (for the link set)."""
    code = municipality_code(index)
    w = Writer(base)
    plan_ns = w.plan
    city = f"{base}id/{code}"
    plan = f"{city}/synthetic-plan"
    ed = f"{plan}/{edition}"
    w.add(city, RDF + "type", plan_ns + "Municipality")
    w.labels(city, RDFS + "label", f"合成市{index}", f"Synthetic City {index}")
    w.add(city, plan_ns + "localGovernmentCode", Literal(code))
    w.add(plan, RDF + "type", plan_ns + "Plan")
    plan_title = (f"合成市{index}生涯学習推進計画", f"Synthetic City {index} Lifelong Learning Plan")
    w.labels(plan, RDFS + "label", *plan_title)
    w.labels(plan, DCTERMS + "title", *plan_title)
    w.add(plan, plan_ns + "municipality", city)
    w.add(plan, plan_ns + "hasEdition", ed)

    w.add(ed, RDF + "type", plan_ns + "PlanEdition")
    w.add(ed, RDF + "type", SKOS + "ConceptScheme")
    title = (f"第{edition}期合成市{index}生涯学習推進計画（合成データ）",
             f"Synthetic City {index} Lifelong Learning Plan, edition {edition} (synthetic)")
    w.labels(ed, RDFS + "label", *title)
    w.labels(ed, DCTERMS + "title", *title)
    w.add(ed, DCTERMS + "publisher", city)
    w.add(ed, DCTERMS + "license", CC_BY)
    w.add(ed, plan_ns + "editionOf", plan)
    w.integer(ed, plan_ns + "editionNumber", edition)
    levels = [f"{ed}/level/{d}" for d in (1, 2, 3)]
    for depth, (level, (ja, en, level_type)) in enumerate(zip(levels, LEVELS, strict=True), 1):
        w.add(ed, plan_ns + "hasLevel", level)
        w.add(level, RDF + "type", plan_ns + "Level")
        w.labels(level, RDFS + "label", ja, en)
        w.integer(level, plan_ns + "depth", depth)
        w.add(level, plan_ns + "levelType", plan_ns + level_type)
        w.add(level, plan_ns + "levelOf", ed)
    vision = f"{ed}/vision"
    w.add(ed, plan_ns + "hasVision", vision)
    w.add(vision, RDF + "type", plan_ns + "Vision")
    w.add(vision, RDF + "type", SKOS + "Concept")
    w.labels(vision, SKOS + "prefLabel", f"合成市{index}の目指す姿", f"The vision of Synthetic City {index}")
    w.integer(vision, plan_ns + "page", 5)
    w.add(vision, SKOS + "inScheme", ed)

    elements, page, direction_no, pillar_groups = [], 18, 0, iter(PILLARS_PER_DIRECTION)

    def element(iri: str, depth: int, notation: str, order: int, ja: str, en: str, parent: str | None):
        w.add(iri, RDF + "type", plan_ns + "PlanElement")
        w.add(iri, RDF + "type", SKOS + "Concept")
        w.labels(iri, SKOS + "prefLabel", ja, en)
        w.add(iri, SKOS + "notation", Literal(notation))
        w.integer(iri, plan_ns + "order", order)
        w.add(iri, plan_ns + "level", levels[depth - 1])
        w.add(iri, SKOS + "inScheme", ed)
        if parent is None:
            w.add(iri, SKOS + "topConceptOf", ed)
            w.add(ed, SKOS + "hasTopConcept", iri)
        else:
            w.add(iri, SKOS + "broader", parent)
            w.add(parent, SKOS + "narrower", iri)
        elements.append(iri)

    for p, directions in enumerate(DIRECTIONS_PER_POLICY, 1):
        policy = f"{ed}/policy/{p}"
        element(policy, 1, ROMAN[p - 1], p, f"合成方針{p}", f"Synthetic policy {p}", None)
        w.labels(policy, DCTERMS + "description", f"合成方針{p}の説明（ベンチマーク用の合成データ）。",
                 f"Description of synthetic policy {p} (synthetic benchmark data).")
        w.integer(policy, plan_ns + "page", page)
        page += 1
        for _ in range(directions):
            direction_no += 1
            direction = f"{ed}/direction/{direction_no}"
            element(direction, 2, CIRCLED[direction_no - 1], direction_no, f"合成方向性{direction_no}",
                    f"Synthetic direction {direction_no}", policy)
            w.integer(direction, plan_ns + "page", page)
            page += 1
            for k in range(1, next(pillar_groups) + 1):
                element(f"{ed}/pillar/{direction_no}-{k}", 3, CIRCLED[k - 1], k,
                        f"合成の柱{direction_no}-{k}", f"Synthetic pillar {direction_no}-{k}", direction)
    return SyntheticFile(f"{code}-synthetic-plan-{edition}", "plans", ed, w.triples), elements


def linkset_file(edition: SyntheticFile, elements: list[str], rng: random.Random, base: str,
                 links: int) -> SyntheticFile:
    """Some of the edition's elements linked to SDG 4 targets, each link with its plan:LinkAssertion."""
    w = Writer(base)
    plan_ns = w.plan
    name = f"{edition.name}--sdg"
    linkset = f"{base}id/linkset/{name}"
    w.add(linkset, RDF + "type", VOID + "Linkset")
    title = (f"{edition.name} から SDG への合成リンク", f"Synthetic SDG links of {edition.name}")
    w.labels(linkset, RDFS + "label", *title)
    w.labels(linkset, DCTERMS + "title", *title)
    w.add(linkset, DCTERMS + "license", CC_BY)
    w.add(linkset, VOID + "subjectsTarget", edition.graph)
    w.add(linkset, VOID + "objectsTarget", f"{base}id/reference/sdg")
    w.add(linkset, VOID + "linkPredicate", SKOS + "relatedMatch")
    w.add(linkset, plan_ns + "reviewStatus", plan_ns + "Unreviewed")
    agent = f"{base}id/synthetic-generator"
    w.add(agent, RDF + "type", PROV + "SoftwareAgent")
    w.labels(agent, RDFS + "label", "合成データ生成器 (bench/generate.py)",
             "Synthetic data generator (bench/generate.py)")
    chosen = sorted(rng.sample(range(len(elements)), links))
    for n, i in enumerate(chosen, 1):
        subject, target = elements[i], SDG + rng.choice(SDG4_TARGETS)
        w.add(subject, SKOS + "relatedMatch", target)
        assertion = f"{linkset}/link/{n}"
        w.add(assertion, RDF + "type", plan_ns + "LinkAssertion")
        w.add(assertion, DCTERMS + "isPartOf", linkset)
        w.add(assertion, RDF + "subject", subject)
        w.add(assertion, RDF + "predicate", SKOS + "relatedMatch")
        w.add(assertion, RDF + "object", target)
        w.labels(assertion, plan_ns + "basis", "ベンチマーク用の合成リンク",
                 "A synthetic link for benchmarks")
        w.add(assertion, PROV + "wasAttributedTo", agent)
        w.add(assertion, PROV + "generatedAtTime", GENERATED_AT)
        w.add(assertion, plan_ns + "basisKind", plan_ns + "TextSimilarity")
        score = Literal(f"{rng.random():.3f}", datatype=NamedNode(XSD + "decimal"))
        w.add(assertion, plan_ns + "similarityScore", score)
        w.add(assertion, plan_ns + "reviewStatus", plan_ns + "Unreviewed")
    w.integer(linkset, VOID + "triples", len(chosen))
    return SyntheticFile(name, "linksets", linkset, w.triples)


def editions(municipalities: int, editions_each: int, seed: int = 0, base: str = DEFAULT_BASE_IRI,
             links: int = 6) -> list[SyntheticFile]:
    """Every edition (and, with links > 0, its SDG link set) of the synthetic dataset, in a stable order."""
    rng = random.Random(seed)
    files = []
    for index in range(1, municipalities + 1):
        for edition in range(1, editions_each + 1):
            plan_file, elements = edition_file(index, edition, base)
            files.append(plan_file)
            if links:
                files.append(linkset_file(plan_file, elements, rng, base, links))
    if links:
        files.append(sdg_reference(base))
    return files


def sdg_reference(base: str) -> SyntheticFile:
    """The project's SDG KOS subset (real reference data, copied as is) so that link targets resolve."""
    triples = [t.triple for t in parse(path=str(SDG_REFERENCE), format=RdfFormat.TURTLE)]
    if base != DEFAULT_BASE_IRI:
        triples = [Triple(*(NamedNode(base + x.value[len(DEFAULT_BASE_IRI):])
                            if isinstance(x, NamedNode) and x.value.startswith(DEFAULT_BASE_IRI) else x
                            for x in (t.subject, t.predicate, t.object))) for t in triples]
    return SyntheticFile("sdg-kos-subset", "reference", f"{base}id/reference/sdg", triples)


def quads(files: Iterable[SyntheticFile]) -> Iterator[Quad]:
    for file in files:
        graph = NamedNode(file.graph)
        for t in file.triples:
            yield Quad(t.subject, t.predicate, t.object, graph)


def write_data_dir(files: Iterable[SyntheticFile], out_dir: Path) -> Path:
    header = b"# Synthetic benchmark data (bench/generate.py): not a real plan, never data/.\n\n"
    for file in files:
        path = out_dir / file.kind / f"{file.name}.ttl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(header + serialize(file.triples, format=RdfFormat.TURTLE, prefixes=PREFIXES))
    return out_dir


def write_nquads(files: Iterable[SyntheticFile], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    serialize(quads(files), str(path), format=RdfFormat.N_QUADS)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--municipalities", type=int, default=1)
    parser.add_argument("-m", "--editions", type=int, default=1, help="editions per municipality")
    parser.add_argument("--links", type=int, default=6, help="SDG links per edition (0: no link sets)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--base", default=DEFAULT_BASE_IRI)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--out", type=Path, help="write a data dir (plans/, linksets/) here")
    target.add_argument("--nquads", type=Path, help="write one N-Quads file here")
    args = parser.parse_args(argv)
    if not 1 <= args.municipalities <= 10000 or args.editions < 1 or not 0 <= args.links <= 36:
        parser.error("need 1..10000 municipalities, at least 1 edition, 0..36 links")
    files = editions(args.municipalities, args.editions, args.seed, args.base, args.links)
    written = write_data_dir(files, args.out) if args.out else write_nquads(files, args.nquads)
    print(f"{len(files)} graphs, {sum(len(f.triples) for f in files)} triples -> {written}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
