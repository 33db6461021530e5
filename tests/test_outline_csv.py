"""The outline CSV writer (planlod.outline): rows in reading order for any number of levels, the
bilingual header, BOM handling, header parsing for importers, and the CSVW description."""

import csv
import io

import pytest
from planlod import outline
from planlod.config import DEFAULT_BASE_IRI
from planlod.web.store_access import get_store
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, parse

BASE = DEFAULT_BASE_IRI
PLAN = BASE + "ontology#"
EDITION_5 = BASE + "id/072044/lifelong-learning-plan/5"

# A made-up four-level edition (test data, not a real plan): depth 4 must come out like the others.
FOUR_LEVELS = """
@prefix plan: <https://w3id.org/planlod/ontology#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix e: <https://w3id.org/planlod/id/999999/test-plan/1/> .

<https://w3id.org/planlod/id/999999/test-plan/1> a plan:PlanEdition ;
    plan:hasLevel e:level\\/1, e:level\\/2, e:level\\/3, e:level\\/4 .
e:level\\/1 rdfs:label "基本目標"@ja, "Goal"@en ; plan:depth 1 .
e:level\\/2 rdfs:label "政策"@ja, "Policy"@en ; plan:depth 2 .
e:level\\/3 rdfs:label "施策"@ja, "Measure"@en ; plan:depth 3 .
e:level\\/4 rdfs:label "事業"@ja, "Project"@en ; plan:depth 4 .
"""


def element(path: str, depth: int, order: int, parent: str | None, page: int | None = None) -> str:
    edition = "<https://w3id.org/planlod/id/999999/test-plan/1>"
    lines = [f"<https://w3id.org/planlod/id/999999/test-plan/1/{path}> a plan:PlanElement ;",
             f'  skos:inScheme {edition} ; plan:order {order} ; skos:notation "{order}" ;',
             f"  plan:level <https://w3id.org/planlod/id/999999/test-plan/1/level/{depth}> ;",
             f'  skos:prefLabel "要素{path}"@ja, "element {path}"@en']
    if parent:
        lines.append(f"  ; skos:broader <https://w3id.org/planlod/id/999999/test-plan/1/{parent}>")
    if page:
        lines.append(f"  ; plan:page {page}")
    return "\n".join(lines) + " .\n"


@pytest.fixture(scope="module")
def four_level_store():
    # Listed out of order on purpose: the writer must sort by tree and plan:order, not file order.
    body = FOUR_LEVELS + "".join([
        element("g/2", 1, 2, None),
        element("g/1", 1, 1, None, page=3),
        element("g/1/p/1/m/1/x/2", 4, 2, "g/1/p/1/m/1"),
        element("g/1/p/1", 2, 1, "g/1"),
        element("g/1/p/1/m/1", 3, 1, "g/1/p/1"),
        element("g/1/p/1/m/1/x/1", 4, 1, "g/1/p/1/m/1", page=7),
        element("g/2/p/1", 2, 1, "g/2"),
    ])
    store = Store()
    graph = "https://w3id.org/planlod/id/999999/test-plan/1"
    store.extend(Quad(t.subject, t.predicate, t.object, NamedNode(graph))
                 for t in parse(body, format=RdfFormat.TURTLE))
    return store


def test_rows_follow_the_tree_at_any_depth(four_level_store):
    rows = outline.outline_rows(four_level_store.query, BASE, BASE + "id/999999/test-plan/1")
    prefix = BASE + "id/999999/test-plan/1/"
    suffixes = [row["iri"][len(prefix):] for row in rows]
    assert suffixes == ["g/1", "g/1/p/1", "g/1/p/1/m/1", "g/1/p/1/m/1/x/1", "g/1/p/1/m/1/x/2",
                        "g/2", "g/2/p/1"]
    assert [row["depth"] for row in rows] == ["1", "2", "3", "4", "4", "1", "2"]
    assert [row["level"] for row in rows][:4] == ["基本目標", "政策", "施策", "事業"]
    assert rows[3]["level_en"] == "Project" and rows[3]["page"] == "7" and rows[4]["page"] == ""
    assert rows[0]["parent"] == "" and rows[1]["parent"] == rows[0]["iri"]


def test_a_broader_cycle_does_not_loop_or_drop_rows(four_level_store):
    store = Store()
    for quad in four_level_store:
        store.add(quad)
    graph = next(iter({q.graph_name for q in four_level_store}))
    cyclic = FOUR_LEVELS + element("c/1", 1, 1, "c/2") + element("c/2", 2, 1, "c/1")
    triples = parse(cyclic, format=RdfFormat.TURTLE)
    store.extend(Quad(t.subject, t.predicate, t.object, graph) for t in triples)
    rows = outline.outline_rows(store.query, BASE, BASE + "id/999999/test-plan/1")
    iris = [row["iri"] for row in rows]
    assert len(iris) == len(set(iris)) == 9
    assert iris[-2:] == sorted(i for i in iris if "/c/" in i)


def test_an_edition_without_elements_gives_no_rows(four_level_store):
    assert outline.outline_rows(four_level_store.query, BASE, BASE + "id/000000/none/1") == []


def element_counts(store, edition: str) -> dict[str, int]:
    query = f"""PREFIX plan: <{PLAN}>
    SELECT ?depth (COUNT(?e) AS ?n) WHERE {{ GRAPH <{edition}> {{ ?e a plan:PlanElement ; plan:level ?l .
      ?l plan:depth ?depth }} }} GROUP BY ?depth"""
    return {row["depth"].value: int(row["n"].value) for row in store.query(query)}


def test_edition_5_has_one_row_per_element_in_reading_order(app):
    with app.app_context():
        store = get_store()
        rows = outline.outline_rows(store.query, store.base, EDITION_5)
        counts = element_counts(store, EDITION_5)
    by_depth: dict[str, int] = {}
    for row in rows:
        by_depth[row["depth"]] = by_depth.get(row["depth"], 0) + 1
    assert by_depth == counts and sum(counts.values()) == len(rows) > 0
    seen: set[str] = set()
    for row in rows:  # every parent comes before its children
        assert row["parent"] == "" or row["parent"] in seen
        seen.add(row["iri"])
    top = [row for row in rows if row["depth"] == "1"]
    assert [int(row["order"]) for row in top] == sorted(int(row["order"]) for row in top)
    assert top[0]["title_ja"] == "ささえる" and top[0]["notation"] == "Ⅰ" and top[0]["level"] == "基本方針"


@pytest.mark.parametrize("bom", [True, False])
def test_csv_bytes_header_and_bom(four_level_store, bom):
    rows = outline.outline_rows(four_level_store.query, BASE, BASE + "id/999999/test-plan/1")
    data = outline.write_csv(rows, bom=bom)
    assert data.startswith(b"\xef\xbb\xbf") is bom
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text, newline="")))
    assert table[0] == outline.header_row()
    assert len(table) == len(rows) + 1
    assert [dict(zip(outline.KEYS, line, strict=True)) for line in table[1:]] == rows


def test_header_cells_carry_japanese_and_english():
    for cell, column in zip(outline.header_row(), outline.COLUMNS, strict=True):
        assert column.ja in cell and column.en in cell
        assert any("\u3040" <= ch <= "\u9fff" for ch in cell) or column.key == "iri"


@pytest.mark.parametrize("form", ["header", "ja", "en", "key"])
def test_importers_find_columns_by_any_header_form(form):
    for column in outline.COLUMNS:
        cell = {"header": column.header, "ja": column.ja, "en": column.en, "key": column.key}[form]
        assert outline.column_for_header(f" {cell} ") == column
    assert outline.column_for_header("\ufeff" + outline.COLUMNS[0].header) == outline.COLUMNS[0]
    assert outline.column_for_header("no such column") is None


def test_csvw_metadata_describes_every_column():
    meta = outline.csvw_metadata(["https://example.org/a.csv", "https://example.org/b.csv"], BASE,
                                 EDITION_5, "計画", "Plan", "https://creativecommons.org/licenses/by/4.0/")
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw"
    assert [t["url"] for t in meta["tables"]] == ["https://example.org/a.csv", "https://example.org/b.csv"]
    columns = meta["tables"][0]["tableSchema"]["columns"]
    assert all(table["tableSchema"]["columns"] == columns for table in meta["tables"])
    assert [c["name"] for c in columns] == list(outline.KEYS)
    for described, column, header in zip(columns, outline.COLUMNS, outline.header_row(), strict=True):
        assert header in described["titles"]["ja"] and column.en in described["titles"]["en"]
        assert described["datatype"] in ("string", "integer", "anyURI")
    by_name = {c["name"]: c for c in columns}
    assert by_name["title_ja"]["lang"] == "ja" and by_name["title_en"]["lang"] == "en"
    assert by_name["parent"]["propertyUrl"] == "skos:broader"
    assert by_name["depth"]["suppressOutput"] is True  # a level's fact, not the element's
