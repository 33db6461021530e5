"""`planlod import` and `planlod export-outline` (planlod.tools.importer): the Iwaki example reproduces
data/plan.ttl's hierarchy, import and export round-trip, and every kind of bad input is reported by row in
Japanese and English with nothing written."""

import csv
import io
import shutil
from pathlib import Path

import pytest
from planlod.cli import main
from planlod.config import DEFAULT_BASE_IRI
from planlod.graph.store import DatasetStore
from planlod.tools import importer
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SKOS

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE_CSV = PROJECT / "data" / "examples" / "iwaki-5-outline.csv"
EXAMPLE_META = PROJECT / "data" / "examples" / "iwaki-5-outline.meta.yaml"
TEMPLATE = PROJECT / "data" / "templates" / "outline-template.csv"
BASE = DEFAULT_BASE_IRI
PLAN = BASE + "ontology#"
IWAKI_5 = BASE + "id/072044/lifelong-learning-plan/5"
NISHINOMIYA = BASE + "id/282049/lifelong-learning-plan/2021"


def hierarchy(graph: Graph) -> set[tuple]:
    """Each element with what the outline carries: labels, notation, order, page, parent, level depth."""
    out = set()
    for element in graph.subjects(RDF.type, URIRef(PLAN + "PlanElement")):
        level = graph.value(element, URIRef(PLAN + "level"))
        out.add((str(element),
                 frozenset((str(label), label.language) for label in graph.objects(element, SKOS.prefLabel)),
                 str(graph.value(element, SKOS.notation)), graph.value(element, URIRef(PLAN + "order")),
                 graph.value(element, URIRef(PLAN + "page")), graph.value(element, SKOS.broader),
                 graph.value(level, URIRef(PLAN + "depth")) if level else None,
                 frozenset(graph.objects(element, SKOS.narrower))))
    return out


def example_rows() -> list[list[str]]:
    return list(csv.reader(io.StringIO(EXAMPLE_CSV.read_bytes().decode("utf-8-sig"))))


def write_rows(path: Path, rows: list[list[str]], encoding: str = "utf-8-sig") -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def run_import(tmp_path: Path, csv_path: Path, meta: Path = EXAMPLE_META, **kwargs) -> Path:
    return importer.import_outline(csv_path, meta, tmp_path / "out.ttl", data_dir=PROJECT / "data", **kwargs)


# ---- The example and the round trip ----

def test_example_import_reproduces_the_iwaki_hierarchy(tmp_path):
    written = run_import(tmp_path, EXAMPLE_CSV)
    imported, original = Graph().parse(written), Graph().parse(PROJECT / "data" / "plan.ttl")
    assert len(hierarchy(original)) == 36
    assert hierarchy(imported) == hierarchy(original)
    assert descriptions(imported) == descriptions(original)


def descriptions(graph: Graph) -> set[tuple]:
    return {(s, o) for s, o in graph.subject_objects(URIRef("http://purl.org/dc/terms/description"))
            if (s, RDF.type, URIRef(PLAN + "PlanElement")) in graph}


def test_import_records_how_the_edition_was_made(tmp_path):
    graph = Graph().parse(run_import(tmp_path, EXAMPLE_CSV))
    activity = graph.value(URIRef(IWAKI_5), URIRef("http://www.w3.org/ns/prov#wasGeneratedBy"))
    assert activity is not None
    comments = {str(c) for c in graph.objects(activity, URIRef("http://www.w3.org/2000/01/rdf-schema#comment"))}
    assert any(EXAMPLE_CSV.name in c for c in comments)


def load_edition(tmp_path: Path, turtle: Path) -> DatasetStore:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    shutil.copy(turtle, data / "edition.ttl")
    return DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", data, BASE)


def test_import_then_export_round_trips(tmp_path):
    first = run_import(tmp_path, EXAMPLE_CSV)
    exported = importer.export_csv(importer.export_rows(load_edition(tmp_path, first), IWAKI_5))
    (tmp_path / "again").mkdir()
    csv_again = tmp_path / "again" / "outline.csv"
    csv_again.write_bytes(exported)
    second = importer.import_outline(csv_again, EXAMPLE_META, tmp_path / "again" / "out.ttl",
                                     data_dir=PROJECT / "data")
    assert hierarchy(Graph().parse(second)) == hierarchy(Graph().parse(first))
    # Export is a fixed point: exporting the re-imported edition gives the same bytes.
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)
    assert importer.export_csv(importer.export_rows(store, IWAKI_5)) == exported


def test_exported_rows_match_the_example_row_for_row(tmp_path):
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)
    exported = list(csv.reader(io.StringIO(importer.export_csv(
        importer.export_rows(store, IWAKI_5)).decode("utf-8-sig"))))
    example = example_rows()
    assert exported[0] == example[0]
    keys = [c.key for c in importer.IMPORT_COLUMNS]
    compare = [k for k in keys if k not in ("parent", "iri")]

    def as_dicts(rows):
        return [{k: r[keys.index(k)] for k in compare} for r in rows[1:]]
    assert as_dicts(exported) == as_dicts(example)


def test_export_outline_command_writes_the_csv(tmp_path, capsys):
    out = tmp_path / "nishinomiya.csv"
    assert main(["export-outline", "282049/lifelong-learning-plan/2021", "--out", str(out)]) == 0
    rows = list(csv.DictReader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 17
    assert rows[0]["名称 / title (ja)"] == "多様な学びの機会の提供"
    assert rows[1]["上位 / parent"] == NISHINOMIYA + "/policy/1"


def test_export_of_an_edition_without_elements_is_an_error(capsys):
    assert main(["export-outline", "072044/lifelong-learning-plan/7"]) == 2
    assert "no plan elements" in capsys.readouterr().err


def test_export_of_something_that_is_not_an_iri_is_a_one_line_error(capsys):
    assert main(["export-outline", "https://w3id.org/planlod/id/x> } <y"]) == 2
    err = capsys.readouterr().err
    assert "not an IRI" in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_turtle_metadata_round_trips_the_nishinomiya_plan(tmp_path):
    original = Graph().parse(PROJECT / "data" / "plans" / "282049-lifelong-learning-plan-2021.ttl")
    meta = Graph()
    meta += original
    for element in list(meta.subjects(RDF.type, URIRef(PLAN + "PlanElement"))):
        meta.remove((element, None, None))
        meta.remove((None, None, element))
    meta_path = tmp_path / "meta.ttl"
    meta.serialize(meta_path, format="turtle")
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)
    outline_csv = tmp_path / "outline.csv"
    outline_csv.write_bytes(importer.export_csv(importer.export_rows(store, NISHINOMIYA)))
    written = importer.import_outline(outline_csv, meta_path, tmp_path / "out.ttl", data_dir=PROJECT / "data")
    assert hierarchy(Graph().parse(written)) == hierarchy(original)


def test_the_template_is_the_header_the_importer_reads():
    header = next(csv.reader(io.StringIO(TEMPLATE.read_bytes().decode("utf-8-sig"))))
    assert header == [c.header for c in importer.IMPORT_COLUMNS]
    assert TEMPLATE.read_bytes().startswith(b"\xef\xbb\xbf")


# ---- Bad input: every problem, by row, in ja and en; nothing written ----

def edited(change) -> list[list[str]]:
    rows = example_rows()
    change(rows)
    return rows


def set_cell(row: int, key: str, value: str):
    column = [c.key for c in importer.IMPORT_COLUMNS].index(key)

    def change(rows):
        rows[row - 1][column] = value
    return change


def delete_row(row: int):
    return lambda rows: rows.pop(row - 1)


CASES = {
    # name: (change to the example, the rows the report must name, words in the Japanese message)
    "missing-ja-title": (set_cell(3, "title_ja", ""), [3], "名称（日本語）が空"),
    "unknown-parent": (set_cell(4, "parent", "⑫"), [4], "上位「⑫」が見つかりません"),
    "duplicate-notation": (set_cell(5, "notation", "①"), [5], "重複"),
    "unknown-level": (set_cell(5, "level", "施策"), [5], "levels にありません"),
    "page-not-a-number": (set_cell(2, "page", "十八"), [2], "正の整数ではありません"),
    "depth-contradicts-parent": (set_cell(3, "depth", "3"), [3], "深さ"),
    "iri-off-scheme": (set_cell(2, "iri", IWAKI_5 + "/policy/9"), [2], "IRI の規則"),
}


@pytest.mark.parametrize(("change", "rows", "words"), CASES.values(), ids=CASES.keys())
def test_bad_rows_are_reported_by_row_and_nothing_is_written(tmp_path, change, rows, words):
    source = write_rows(tmp_path / "bad.csv", edited(change))
    with pytest.raises(importer.ImportError_) as raised:
        run_import(tmp_path, source)
    problems = raised.value.problems
    assert [p for p in problems if any(p.startswith(f"{row}行目") for row in rows)], problems
    assert any(words in p for p in problems), problems
    assert all(" / row " in p or " / " in p for p in problems)  # each in ja and en
    assert not (tmp_path / "out.ttl").exists()


def test_every_problem_is_reported_at_once(tmp_path):
    def change(rows):
        set_cell(3, "title_ja", "")(rows)
        set_cell(7, "title_ja", "")(rows)
        set_cell(9, "page", "0")(rows)
    with pytest.raises(importer.ImportError_) as raised:
        run_import(tmp_path, write_rows(tmp_path / "bad.csv", edited(change)))
    named = {p.split("行目")[0] for p in raised.value.problems}
    assert {"3", "7", "9"} <= named


def test_shift_jis_from_excel_is_refused_with_a_hint_and_read_when_asked(tmp_path):
    rows = edited(lambda rows: None)
    source = write_rows(tmp_path / "sjis.csv", rows, encoding="cp932")
    with pytest.raises(importer.ImportError_) as raised:
        run_import(tmp_path, source)
    (message,) = raised.value.problems
    assert "Shift_JIS" in message and "--encoding cp932" in message
    assert message.startswith("1行目")  # the header row is Japanese too
    assert not (tmp_path / "out.ttl").exists()
    written = run_import(tmp_path, source, encoding="cp932")
    assert len(hierarchy(Graph().parse(written))) == 36


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8"], ids=["excel-bom", "no-bom"])
def test_utf8_with_or_without_bom_is_read(tmp_path, encoding):
    source = write_rows(tmp_path / "ok.csv", example_rows(), encoding=encoding)
    assert len(hierarchy(Graph().parse(run_import(tmp_path, source)))) == 36


@pytest.mark.parametrize(("content", "words"), [
    (b"", "ファイルが空です"),
    (b"\xef\xbb\xbf\r\n", "ファイルが空です"),
    (TEMPLATE.read_bytes(), "要素の行が一つもありません"),
    ("表記 / notation,名称 / title (ja)\r\n①,学び\r\n".encode(), "必須の列"),
    ("色 / colour,階層 / level,表記 / notation,名称 / title (ja)\r\n".encode(), "知らない列"),
], ids=["empty", "bom-only", "header-only", "missing-level-column", "unknown-column"])
def test_files_without_usable_rows_are_refused(tmp_path, content, words):
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    with pytest.raises(importer.ImportError_) as raised:
        run_import(tmp_path, source)
    assert any(words in p for p in raised.value.problems), raised.value.problems
    assert not (tmp_path / "out.ttl").exists()


def test_the_shacl_gate_stops_what_the_row_checks_let_through(tmp_path):
    # An English title is optional for the row checks, but the shapes require one on every element.
    source = write_rows(tmp_path / "no-en.csv", edited(set_cell(3, "title_en", "")))
    with pytest.raises(importer.ImportError_) as raised:
        run_import(tmp_path, source)
    assert any(p.startswith("SHACL:") and "direction/1" in p for p in raised.value.problems)
    assert not (tmp_path / "out.ttl").exists()


def test_an_edition_already_in_the_dataset_is_not_described_twice(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(PROJECT / "data", data)
    before = sorted(p.relative_to(data) for p in data.rglob("*"))
    with pytest.raises(importer.ImportError_) as raised:
        importer.import_outline(EXAMPLE_CSV, EXAMPLE_META, data_dir=data)
    assert "already described by" in raised.value.problems[0]
    assert sorted(p.relative_to(data) for p in data.rglob("*")) == before


def test_existing_files_are_not_overwritten(tmp_path):
    (tmp_path / "out.ttl").write_text("# mine\n")
    with pytest.raises(importer.ImportError_):
        run_import(tmp_path, EXAMPLE_CSV)
    assert (tmp_path / "out.ttl").read_text() == "# mine\n"


def test_import_command_prints_every_problem_and_exits_2(tmp_path, capsys):
    source = write_rows(tmp_path / "bad.csv", edited(set_cell(3, "title_ja", "")))
    out = tmp_path / "out.ttl"
    code = main(["import", str(source), "--plan-metadata", str(EXAMPLE_META), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert "3行目: 名称（日本語）が空です / row 3: the Japanese title is empty" in err
    assert "nothing was written" in err
    assert not out.exists()


def test_import_command_writes_the_turtle(tmp_path, capsys):
    out = tmp_path / "out.ttl"
    assert main(["import", str(EXAMPLE_CSV), "--plan-metadata", str(EXAMPLE_META), "--out", str(out)]) == 0
    graph = Graph().parse(out)
    assert (URIRef(IWAKI_5 + "/pillar/7-2"), SKOS.prefLabel,
            Literal("まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実", lang="ja")) in graph


@pytest.mark.parametrize(("notation", "order"), [("Ⅲ", 3), ("⑪", 11), ("(2)", 2), ("（３）", 3), ("目標9", 9),
                                                   ("柱", None)])
def test_order_from_notation(notation, order):
    assert importer.order_from_notation(notation) == order


def test_export_with_links_shows_them_apart_and_import_ignores_them(tmp_path):
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)
    exported = importer.export_csv(importer.export_rows(store, IWAKI_5, with_links=True))
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    column = importer.LINKS_COLUMN.header
    assert list(rows[0])[-1] == column
    by_iri = {row["IRI / IRI"]: row[column].splitlines() for row in rows}
    (sdg_link,) = [line for line in by_iri[IWAKI_5 + "/direction/9"] if "metadata.un.org" in line]
    assert "<http://metadata.un.org/sdg/4.4>" in sdg_link and "確認済み" in sdg_link
    assert by_iri[IWAKI_5 + "/pillar/1-1"] == []
    source = tmp_path / "with-links.csv"
    source.write_bytes(exported)
    written = importer.import_outline(source, EXAMPLE_META, tmp_path / "out.ttl", data_dir=PROJECT / "data")
    graph = Graph().parse(written)
    assert hierarchy(graph) == hierarchy(Graph().parse(PROJECT / "data" / "plan.ttl"))
    assert not list(graph.triples((None, SKOS.relatedMatch, None)))


NISHINOMIYA_META = """
municipality: {code: "282049", name_ja: 西宮市, name_en: Nishinomiya City}
plan: {slug: lifelong-learning-plan, title_ja: 西宮市生涯学習推進計画,
       title_en: Nishinomiya City Lifelong Learning Promotion Plan}
edition:
  id: "2021"
  title_ja: 西宮市生涯学習推進計画（令和3年度～令和12年度）
  title_en: Nishinomiya City Lifelong Learning Promotion Plan (FY2021-2030)
  period: {start: 2021, end: 2030}
levels:
  - {name_ja: 基本方針, name_en: Basic policy, type: BasicPolicy}
  - {name_ja: 施策の展開, name_en: Measure, type: Measure}
ideals:
  - {kind: Vision, label_ja: 学び つながり ささえあうまち,
     label_en: "A city that learns, connects and supports",
     heading_ja: 目指す将来像, heading_en: The future we aim at}
  - {kind: Viewpoint, notation: "1", label_ja: 学び・人づくり・つながりづくり・地域づくりの循環の促進,
     label_en: "Promoting the cycle of learning, people, connection and community building"}
  - {kind: Viewpoint, notation: "2", label_ja: 学びを通じた持続可能なまちづくりの推進,
     label_en: Promoting sustainable community development through learning}
"""


def test_a_new_municipality_from_yaml_alone_passes_the_gate(tmp_path):
    # The dataset without the Nishinomiya file: city, plan, edition and ideals all come from the YAML.
    data = tmp_path / "data"
    shutil.copytree(PROJECT / "data", data, ignore=shutil.ignore_patterns("282049-*", "*2021--*"))
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", BASE)
    outline_csv = tmp_path / "outline.csv"
    outline_csv.write_bytes(importer.export_csv(importer.export_rows(store, NISHINOMIYA)))
    meta = tmp_path / "meta.yaml"
    meta.write_text(NISHINOMIYA_META, encoding="utf-8")
    written = importer.import_outline(outline_csv, meta, data_dir=data)
    assert written == data / "plans" / "282049-lifelong-learning-plan-2021.ttl"
    graph = Graph().parse(written)
    original = Graph().parse(PROJECT / "data" / "plans" / "282049-lifelong-learning-plan-2021.ttl")
    assert hierarchy(graph) == hierarchy(original)
    viewpoints = set(graph.objects(URIRef(NISHINOMIYA), URIRef(PLAN + "hasViewpoint")))
    assert viewpoints == {URIRef(NISHINOMIYA + "/viewpoint/1"), URIRef(NISHINOMIYA + "/viewpoint/2")}
    assert (URIRef(NISHINOMIYA + "/viewpoint/2"), SKOS.prefLabel,
            Literal("学びを通じた持続可能なまちづくりの推進", lang="ja")) in graph
    assert graph.value(URIRef(NISHINOMIYA), URIRef("http://purl.org/dc/terms/publisher")) == \
        URIRef(BASE + "id/282049")
    reloaded = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", data, BASE)
    assert NISHINOMIYA in reloaded.graphs()


def test_metadata_problems_are_all_reported(tmp_path):
    meta = tmp_path / "meta.yaml"
    meta.write_text("municipality: {code: '28204'}\nplan: {slug: x}\nedition: {id: '1'}\n"
                    "levels: [{name_ja: 基本方針, type: Chapter}]\nideals: [{kind: Motto}]\n",
                    encoding="utf-8")
    with pytest.raises(importer.ImportError_) as raised:
        importer.import_outline(EXAMPLE_CSV, meta, tmp_path / "out.ttl", data_dir=PROJECT / "data")
    text = "\n".join(raised.value.problems)
    assert "6-digit" in text and "level 1 needs" in text and "ideal 1 needs" in text
    assert not (tmp_path / "out.ttl").exists()
