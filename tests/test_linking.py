"""Cross-plan links: the plans and reference data side by side, link sets with provenance, their shapes,
and planlod.linking.links_for (both directions, as the pages show them)."""

from html.parser import HTMLParser
from pathlib import Path

import pytest
from planlod import linking
from planlod.config import DEFAULT_BASE_IRI
from planlod.graph.dataset import discover
from planlod.graph.store import DatasetStore
from planlod.validation import data_sources, schema_sources, validate_sources
from pyoxigraph import NamedNode
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS, VOID

PROJECT = Path(__file__).resolve().parents[1]
FIXTURES = Path(__file__).parent / "linksets"
BASE = DEFAULT_BASE_IRI
ID = BASE + "id/"
PLAN = BASE + "ontology#"
PLANSH = BASE + "shapes#"
IWAKI_5 = ID + "072044/lifelong-learning-plan/5"
NISHINOMIYA = ID + "282049/lifelong-learning-plan/2021"
SDG = "http://metadata.un.org/sdg/"


@pytest.fixture(scope="module")
def store() -> DatasetStore:
    return DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)


def select(store: DatasetStore, query: str) -> list[dict]:
    solutions = store.query(query)
    names = [v.value for v in solutions.variables]
    return [{n: row[n].value for n in names if row[n] is not None} for row in solutions]


# ---- Plans side by side ----

def test_each_edition_and_link_set_is_its_own_graph(store):
    graphs = set(store.graphs())
    for graph in (IWAKI_5, NISHINOMIYA, ID + "072044/lifelong-learning-plan/6",
                  ID + "072044/lifelong-learning-plan/7", ID + "072044/comprehensive-plan/2016",
                  ID + "jp/education-promotion-basic-plan/4", ID + "reference/sdg",
                  ID + "linkset/072044-lifelong-learning-plan-5--sdg",
                  ID + "linkset/072044-lifelong-learning-plan-5--282049-lifelong-learning-plan-2021"):
        assert graph in graphs


@pytest.mark.parametrize(("level", "count"), [(1, 4), (2, 13)])
def test_nishinomiya_hierarchy_has_the_counts_read(store, level, count):
    rows = select(store, f"""SELECT (COUNT(?e) AS ?n) WHERE {{
        GRAPH <{NISHINOMIYA}> {{ ?e a <{PLAN}PlanElement> ; <{PLAN}level>/<{PLAN}depth> {level} }} }}""")
    assert int(rows[0]["n"]) == count


def test_nishinomiya_measures_sit_under_their_policies(store):
    rows = select(store, f"""SELECT ?m ?label WHERE {{ GRAPH <{NISHINOMIYA}> {{
        ?m <{SKOS}broader> <{NISHINOMIYA}/policy/4> ; <{SKOS}prefLabel> ?label
        FILTER(lang(?label) = "ja") }} }}""")
    assert {r["label"] for r in rows} == {
        "市民性をはぐくむ学習支援", "生涯学習による豊かな地域づくりの推進",
        "地域の多様な主体による連携体制の構築", "地域づくりをまちづくりに広げる取組みの展開"}


def test_nishinomiya_vision_and_viewpoints(store):
    rows = select(store, f"""SELECT ?kind ?label WHERE {{
        VALUES ?kind {{ <{PLAN}hasVision> <{PLAN}hasViewpoint> }}
        <{NISHINOMIYA}> ?kind ?x . ?x <{SKOS}prefLabel> ?label FILTER(lang(?label) = "ja") }}""")
    assert {(r["kind"].rsplit("#")[1], r["label"]) for r in rows} == {
        ("hasViewpoint", "学び・人づくり・つながりづくり・地域づくりの循環の促進"),
        ("hasViewpoint", "学びを通じた持続可能なまちづくりの推進"),
        ("hasVision", "学び つながり ささえあうまち")}


def test_nishinomiya_edition_has_provenance(store):
    rows = select(store, f"""SELECT ?source ?agent ?when WHERE {{
        <{NISHINOMIYA}> <http://www.w3.org/ns/prov#wasDerivedFrom> ?source ;
            <http://www.w3.org/ns/prov#wasGeneratedBy> ?activity .
        ?activity <http://www.w3.org/ns/prov#wasAssociatedWith> ?agent ;
            <http://www.w3.org/ns/prov#endedAtTime> ?when }}""")
    assert rows and rows[0]["source"].startswith("https://www.nishi.or.jp/")
    assert rows[0]["agent"] == ID + "planlod-project"


@pytest.mark.parametrize("edition", ["072044/lifelong-learning-plan/6", "072044/lifelong-learning-plan/7",
                                     "072044/comprehensive-plan/2016", "jp/education-promotion-basic-plan/4"])
def test_partial_editions_say_so_and_what_is_missing(store, edition):
    rows = select(store, f"""SELECT ?partial ?note WHERE {{
        <{ID}{edition}> <{PLAN}isPartial> ?partial ; <{SKOS}editorialNote> ?note
        FILTER(lang(?note) = "en") }}""")
    assert rows and rows[0]["partial"] == "true" and len(rows[0]["note"]) > 40


def test_seventh_edition_has_no_elements_but_records_what_was_read(store):
    rows = select(store, f"""SELECT ?e WHERE {{
        ?e <{SKOS}inScheme> <{ID}072044/lifelong-learning-plan/7> }}""")
    assert rows == []
    note = select(store, f"""SELECT ?note WHERE {{ <{ID}072044/lifelong-learning-plan/7> <{SKOS}editorialNote>
        ?note FILTER(lang(?note) = "ja") }}""")[0]["note"]
    assert all(word in note for word in ("「つどう」", "「まなぶ」", "「むすぶ」", "11"))


def test_editions_of_the_iwaki_plan_are_chained(store):
    rows = select(store, f"""SELECT ?a ?b WHERE {{ ?a <{PLAN}nextEdition> ?b }}""")
    chain = {(r["a"], r["b"]) for r in rows}
    assert (IWAKI_5, ID + "072044/lifelong-learning-plan/6") in chain
    assert (ID + "072044/lifelong-learning-plan/6", ID + "072044/lifelong-learning-plan/7") in chain
    replaced = select(store, f"""SELECT ?new WHERE {{ ?new <http://purl.org/dc/terms/replaces>
        <{ID}072044/lifelong-learning-plan/6> }}""")
    assert [r["new"] for r in replaced] == [ID + "072044/lifelong-learning-plan/7"]


@pytest.mark.parametrize("target", ["4", "4.7", "4.a", "11"])
def test_sdg_concepts_have_japanese_labels(store, target):
    rows = select(store, f"""SELECT ?label WHERE {{ <{SDG}{target}> ?p ?label .
        FILTER(?p IN (<{SKOS}prefLabel>, <http://www.w3.org/2000/01/rdf-schema#label>)
               && lang(?label) = "ja") }}""")
    assert rows


# ---- Link sets: every link reified, attributed, dated, with a basis ----

LINKSET_FILES = sorted((PROJECT / "data" / "linksets").glob("*.ttl"))


@pytest.mark.parametrize("path", LINKSET_FILES, ids=lambda p: p.stem)
def test_every_link_in_a_link_set_has_its_assertion(path):
    graph = Graph().parse(path)
    mapping = {SKOS.exactMatch, SKOS.closeMatch, SKOS.relatedMatch, SKOS.broadMatch, SKOS.narrowMatch,
               URIRef("http://www.w3.org/2002/07/owl#sameAs"), URIRef(PLAN + "standardAreaCode")}
    links = {(s, p, o) for s, p, o in graph if p in mapping}
    assertions = {(graph.value(a, RDF.subject), graph.value(a, RDF.predicate), graph.value(a, RDF.object))
                  for a in graph.subjects(RDF.type, URIRef(PLAN + "LinkAssertion"))}
    assert links and links == assertions
    (linkset,) = graph.subjects(RDF.type, VOID.Linkset)
    assert int(graph.value(linkset, VOID.triples)) == len(links)


def test_exact_match_is_not_used_where_the_relation_is_thematic():
    # No link between different plans' elements or to SDGs is an identity: none is exactMatch.
    for path in LINKSET_FILES:
        assert not list(Graph().parse(path).triples((None, SKOS.exactMatch, None)))


# ---- Shapes for link sets ----

INVALID = {
    "link-without-assertion": {"LinkProvenanceShape"},
    "link-to-unknown-scheme": {"LinkTargetShape"},
    "link-to-undefined-sdg-target": {"LinkTargetShape"},
    "assertion-without-attribution": {"LinkAssertionShape-attributedTo"},
    "assertion-without-time": {"LinkAssertionShape-generatedAt"},
    "assertion-without-ja-basis": {"LinkAssertionShape-basisJa"},
    "assertion-without-en-basis": {"LinkAssertionShape-basisEn"},
    "assertion-unknown-basis-kind": {"LinkAssertionShape-basisKind"},
    "assertion-without-review-status": {"LinkAssertionShape-reviewStatus"},
    "assertion-of-unstated-link": {"AssertedLinkShape"},
    "assertion-predicate-not-mapping": {"LinkAssertionShape-predicate"},
    "assertion-outside-linkset": {"LinkAssertionShape-linkset"},
    "reviewed-by-similarity-only": {"ReviewedBasisShape"},
    "reviewed-linkset-with-unreviewed-link": {"ReviewedLinksetShape"},
    "linkset-without-ja-title": {"LinksetShape-titleJa"},
    "linkset-without-review-status": {"LinksetShape-reviewStatus"},
    "linkset-without-objects-target": {"LinksetShape-objectsTarget"},
    "area-code-malformed": {"AreaCodeShape-iri"},
}


def validate_fixture(path: Path):
    """The fixture with the plan and SDG data its links point at, against all shapes."""
    context = [PROJECT / "data" / "plan.ttl", PROJECT / "data" / "reference" / "sdg-kos-subset.ttl"]
    return validate_sources(schema_sources(PROJECT / "ontology", PROJECT / "shapes")
                            + data_sources(context + [path]))


# The link set's own description is checked as warnings: VoID can work it out from the links.
WARNINGS = {"linkset-without-ja-title", "linkset-without-review-status", "linkset-without-objects-target"}


def test_every_invalid_fixture_is_listed():
    assert {p.stem for p in (FIXTURES / "invalid").glob("*.ttl")} == set(INVALID)


@pytest.mark.parametrize(("name", "shapes"), sorted(INVALID.items()))
def test_invalid_link_set_fires_its_shape(name, shapes):
    path = FIXTURES / "invalid" / f"{name}.ttl"
    assert path.read_text(encoding="utf-8").startswith("# Invalid:")
    report = validate_fixture(path)
    assert report.conforms == (name in WARNINGS)
    assert {r.source_shape for r in report.results} == {PLANSH + s for s in shapes}
    assert {r.severity for r in report.results} == {"Warning" if name in WARNINGS else "Violation"}
    assert all(r.message_ja and r.message_en for r in report.results)


def test_valid_link_set_conforms():
    report = validate_fixture(FIXTURES / "valid" / "reviewed-linkset.ttl")
    assert report.conforms and report.results == [], report.text()


def test_the_dataset_with_its_link_sets_conforms():
    report = validate_sources(discover(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data"))
    assert report.conforms, report.text()


# ---- links_for: both directions, with provenance ----

def test_an_sdg_target_lists_the_plan_elements_that_link_to_it(store):
    links = linking.links_for(store, SDG + "4.7")
    subjects = {link["other"] for link in links}
    assert {IWAKI_5 + "/direction/6", IWAKI_5 + "/pillar/6-2", NISHINOMIYA + "/measure/1-3",
            NISHINOMIYA + "/measure/4-1", NISHINOMIYA + "/viewpoint/2"} <= subjects
    assert {link["direction"] for link in links} == {"in"}
    direction_6 = next(link for link in links if link["other"] == IWAKI_5 + "/direction/6")
    assert direction_6["other_label"]["ja"] == "多文化共生社会に向けての学習の推進"
    assert direction_6["other_scheme_label"]["ja"] == "第五期いわき市生涯学習推進計画"


def test_a_plan_element_lists_its_links_with_provenance(store):
    links = linking.links_for(store, IWAKI_5 + "/direction/10")
    by_other = {link["other"]: link for link in links}
    national = by_other[ID + "jp/education-promotion-basic-plan/4/goal/9"]
    assert national["predicate"] == str(SKOS.closeMatch)
    assert national["predicate_label"]["ja"] == "ほぼ一致"
    assert national["attributed_to"] == ID + "planlod-project"
    assert national["generated_at"].startswith("20")
    assert national["basis_kind"] == PLAN + "EditorialJudgement"
    assert "編集者の判断" in national["basis"]["ja"] and "judgement" in national["basis"]["en"]
    assert national["reviewed"] is True
    assert national["other_label"]["ja"] == "学校・家庭・地域の連携・協働の推進による地域の教育力の向上"
    assert by_other[NISHINOMIYA + "/measure/4-3"]["direction"] == "out"


def test_links_between_plans_show_from_both_ends(store):
    out = {link["other"] for link in linking.links_for(store, IWAKI_5 + "/pillar/11-1")}
    back = {link["other"] for link in linking.links_for(store, NISHINOMIYA + "/measure/4-3")}
    assert NISHINOMIYA + "/measure/4-3" in out
    assert IWAKI_5 + "/pillar/11-1" in back


def test_the_city_links_to_its_identifiers(store):
    links = {link["other"]: link for link in linking.links_for(store, ID + "282049")}
    assert "http://data.e-stat.go.jp/lod/sac/C28204" in links
    assert links["http://ja.dbpedia.org/resource/西宮市"]["predicate"] == "http://www.w3.org/2002/07/owl#sameAs"


def test_a_resource_without_links_has_none(store):
    assert linking.links_for(store, IWAKI_5 + "/level/1") == []
    assert linking.links_for(store, "http://example.org/nothing") == []


@pytest.mark.parametrize("iri", [
    SDG + "4.5> ?p ?o } UNION { ?s ?p ?o",  # would close the IRI and widen the pattern
    SDG + "4.5>} #",
    SDG + '4.5"',
    SDG + "4.5 x",
])
def test_an_iri_that_could_change_the_query_is_refused(store, iri):
    # The IRI is written into the query text: only what pyoxigraph accepts as an IRI gets there.
    with pytest.raises(ValueError):
        linking.links_for(store, iri)


def test_links_follow_a_configured_base():
    base = "http://127.0.0.1:8080/"
    rebased = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", base)
    links = linking.links_for(rebased, SDG + "4.5")
    assert base + "id/072044/lifelong-learning-plan/5/pillar/4-2" in {link["other"] for link in links}
    assert all(link["assertion"].startswith(base) for link in links)
    assert next(iter(rebased.store.quads_for_pattern(NamedNode(SDG + "4.5"), None, None, None)), None)


# ---- The pages show the links (pages.py reads links_for) ----

class LinkCollector(HTMLParser):
    """The hrefs inside the page's cross-links section."""

    def __init__(self):
        super().__init__()
        self.depth, self.hrefs = 0, []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "section" and "cross-links" in (attributes.get("class") or ""):
            self.depth = 1
        elif self.depth and tag == "section":
            self.depth += 1
        elif self.depth and tag == "a":
            self.hrefs.append(attributes.get("href"))

    def handle_endtag(self, tag):
        if self.depth and tag == "section":
            self.depth -= 1


def test_an_sdg_target_page_lists_the_elements_that_link_to_it(client):
    response = client.get("/resource", query_string={"iri": SDG + "4.7"}, headers={"Accept": "text/html"})
    assert response.status_code == 200
    collector = LinkCollector()
    collector.feed(response.get_data(as_text=True))
    assert {"/doc/072044/lifelong-learning-plan/5/direction/6",
            "/doc/282049/lifelong-learning-plan/2021/measure/4-1",
            "/doc/linkset/072044-lifelong-learning-plan-5--sdg"} <= set(collector.hrefs)


# ---- The same links through an external store (a real Oxigraph server) ----

@pytest.fixture(scope="module")
def remote(store, tmp_path_factory):
    from external_stores import oxigraph_load, running_oxigraph
    from planlod.graph.external_load import write_nquads
    from planlod.graph.remote_store import RemoteStore
    directory = tmp_path_factory.mktemp("oxigraph-links")
    dump = directory / "dataset.nq"
    write_nquads(store.sources, store.base, dump)
    oxigraph_load(dump, directory / "store")
    with running_oxigraph(directory / "store") as server, \
            RemoteStore.connect(server.query_url, store.base, timeout=30) as remote_store:
        yield remote_store


@pytest.mark.parametrize("iri", [SDG + "4.7", IWAKI_5 + "/direction/10", ID + "282049"])
def test_links_are_the_same_through_an_external_store(store, remote, iri):
    embedded, external = linking.links_for(store, iri), linking.links_for(remote, iri)
    assert embedded and external == embedded
