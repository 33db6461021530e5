"""The 体系図 (web/diagram.py): drawn from the data, every box a link, any number of levels.

The SVG is parsed as XML; a box is an SVG <a> whose href is the element's page and whose text is
the element's notation and title (broken into lines, so the lines are joined before comparing).
"""

import shutil
from pathlib import Path

import pytest
from lxml import etree
from planlod.web.app import create_app
from planlod.web.diagram import text_width, wrap
from rdflib import Graph, Namespace, URIRef

ROOT = Path(__file__).parent.parent
BASE = "https://w3id.org/planlod/"
PLAN = Namespace(BASE + "ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}"
IWAKI = "/diagram/072044/lifelong-learning-plan/5.svg"
NISHINOMIYA = "/diagram/282049/lifelong-learning-plan/2021.svg"


def boxes(svg: bytes) -> dict[str, str]:
    """href path -> the text drawn inside that link, lines joined."""
    root = etree.fromstring(svg)
    found = {}
    for link in root.iter(SVG + "a"):
        href = link.get(XLINK + "href")
        if href:
            path = "/" + href.split("/", 3)[3] if href.startswith("http") else href
            found[path] = "".join("".join(t.itertext()) for t in link.iter(SVG + "text")).replace(" ", "")
    return found


def texts(svg: bytes) -> list[str]:
    return ["".join(t.itertext()) for t in etree.fromstring(svg).iter(SVG + "text")]


def elements_of(graph: Graph, edition: str, depth: int) -> dict[str, tuple[str, str]]:
    """IRI -> (notation, ja title) of the edition's elements at one depth, from the data file."""
    found = {}
    for element in graph.subjects(SKOS.inScheme, URIRef(edition)):
        level = graph.value(element, PLAN.level)
        if level is not None and int(graph.value(level, PLAN.depth)) == depth:
            title = next(str(x) for x in graph.objects(element, SKOS.prefLabel) if x.language == "ja")
            found[str(element)] = (str(graph.value(element, SKOS.notation)), title)
    return found


@pytest.fixture(scope="module")
def iwaki() -> Graph:
    return Graph().parse(ROOT / "data" / "plan.ttl", format="turtle")


def page_path(iri: str) -> str:
    return "/doc/" + iri[len(BASE + "id/"):]


@pytest.mark.parametrize("depth,count", [(1, 4), (2, 11), (3, 21)])
def test_every_element_is_a_box_linking_to_its_page(client, iwaki, depth, count):
    response = client.get(IWAKI)
    assert response.status_code == 200
    assert response.mimetype == "image/svg+xml"
    drawn = boxes(response.get_data())
    elements = elements_of(iwaki, BASE + "id/072044/lifelong-learning-plan/5", depth)
    assert len(elements) == count
    for iri, (notation, title) in elements.items():
        assert drawn[page_path(iri)] == notation + title.replace(" ", ""), iri


def test_ideals_are_drawn_and_linked(client):
    drawn = boxes(client.get(IWAKI).get_data())
    edition = "/doc/072044/lifelong-learning-plan/5"
    assert "学びでつなぐ、いわきの「ちから」" in drawn[edition + "/vision"]
    assert "輝くいわき、学びあい都市宣言" in drawn[edition + "/philosophy"]
    assert "生涯学習による「まちづくり」へ" in drawn[edition + "/keyword"]
    assert [drawn[f"{edition}/competency/{n}"] for n in (1, 2, 3)] == ["人間力", "地域力", "創造力"]


def test_level_names_head_their_columns(client):
    drawn = texts(client.get(IWAKI).get_data())
    for name in ("基本方針", "施策の方向性", "施策の柱"):
        assert name in drawn


def test_japanese_is_drawn_with_ipa_gothic(client):
    root = etree.fromstring(client.get(IWAKI).get_data())
    fonts = {t.get("font-family") for t in root.iter(SVG + "text")}
    assert fonts and all(f.startswith("IPAGothic") for f in fonts)


def test_english_diagram(client):
    drawn = boxes(client.get(IWAKI + "?lang=en").get_data())
    assert drawn["/doc/072044/lifelong-learning-plan/5/direction/7?lang=en"] == "⑦Promotinghometowneducation"


def test_two_level_plan_gets_two_columns(client):
    response = client.get(NISHINOMIYA)
    assert response.status_code == 200
    graph = Graph().parse(ROOT / "data" / "plans" / "282049-lifelong-learning-plan-2021.ttl", format="turtle")
    edition = BASE + "id/282049/lifelong-learning-plan/2021"
    drawn = boxes(response.get_data())
    all_elements = {**elements_of(graph, edition, 1), **elements_of(graph, edition, 2)}
    assert elements_of(graph, edition, 3) == {}
    for iri, (notation, title) in all_elements.items():
        assert drawn[page_path(iri)] == notation + title.replace(" ", ""), iri
    headers = texts(response.get_data())
    assert "基本方針" in headers and "施策の展開" in headers and "施策の柱" not in headers


def test_diagram_follows_the_data(tmp_path):
    """Change one title in a copy of the data: the diagram drawn from the copy shows the new title."""
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    plan = data / "plan.ttl"
    old = "ふるさと教育の推進"
    new = "ふるさと学習の推進"
    plan.write_text(plan.read_text(encoding="utf-8").replace(f'"{old}"@ja', f'"{new}"@ja'), encoding="utf-8")
    # Its own STORE_DIR: a store directory holds one dataset version; the session's app has the shared one.
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "DATA_DIR": str(data),
                      "STORE_DIR": str(tmp_path / "store")})
    drawn = boxes(app.test_client().get(IWAKI).get_data())
    assert drawn["/doc/072044/lifelong-learning-plan/5/direction/7"] == "⑦" + new


def test_svg_download_is_cacheable(client):
    first = client.get(IWAKI)
    assert first.headers["Content-Disposition"].startswith("inline; filename=")
    assert client.get(IWAKI, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304


@pytest.mark.parametrize("path,status", [
    ("/diagram/072044/no-such-plan/1.svg", 404),
    (IWAKI + "?lang=fr", 400),
])
def test_bad_requests(client, path, status):
    assert client.get(path).status_code == status


@pytest.mark.parametrize("text,width,expected", [
    ("ふるさと教育の推進", 30, ["ふるさと教育の推進"]),
    # Even lines, not a full line and a stub.
    ("生涯学習支援者・支援団体の育成・活用", 30, ["生涯学習支援者・", "支援団体の育成・活用"]),
    # 、 may not start a line (kinsoku), so the break moves.
    ("①「ひとづくり」、「まちづくり」を支える学びの場の整備と活用", 34,
     ["①「ひとづくり」、「まちづくり」", "を支える学びの場の整備と活用"]),
    ("Promoting hometown education", 16, ["Promoting", "hometown", "education"]),
])
def test_wrap(text, width, expected):
    assert wrap(text, width) == expected


@pytest.mark.parametrize("text", [
    "まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実",
    "学ぶにあたってサポートを必要とする方が参加しやすい学びの機会の充実",
    "More learning opportunities that raise interest in community building and encourage activities",
])
def test_wrap_keeps_every_character_and_lines_near_the_width(text):
    lines = wrap(text, 30)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    assert all(text_width(line) <= 30 + 8 for line in lines)
    assert not any(line[0] in "、。」）" for line in lines)
