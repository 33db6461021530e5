"""The HTML pages (web/pages.py, web/home.py): what a person sees for a resource and on the home page.

Pages are parsed with lxml and checked against the data: titles, level names, breadcrumbs and
children come from data/plan.ttl, so each assertion names the fact it expects from there.
"""

from urllib.parse import parse_qs, urlsplit

import pytest
from lxml import html as lxml_html

BASE = "https://w3id.org/planlod/"
EDITION = BASE + "id/072044/lifelong-learning-plan/5"
DOC = "/doc/072044/lifelong-learning-plan/5"
HTML = {"Accept": "text/html"}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def page(client, path, **kwargs):
    response = client.get(path, headers=HTML, **kwargs)
    assert response.status_code == 200, path
    assert response.mimetype == "text/html"
    return lxml_html.fromstring(response.get_data(as_text=True))


def text(element) -> str:
    return " ".join(element.text_content().split())


def test_pillar_page_in_japanese(client):
    doc = page(client, DOC + "/pillar/7-2")
    assert doc.get("lang") == "ja"
    [h1] = doc.findall(".//h1")
    assert text(h1) == "② まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実"
    assert doc.find(".//main") is not None
    facts = dict(zip([text(e) for e in doc.xpath("//dl[@class='facts']/dt")],
                     [text(e) for e in doc.xpath("//dl[@class='facts']/dd")], strict=True))
    assert facts["階層"] == "施策の柱"  # the plan's own level name, from plan:Level's label
    assert facts["番号"] == "②"
    assert facts["IRI"] == EDITION + "/pillar/7-2"


def test_property_names_come_from_the_ontology_and_link_to_its_docs(client):
    doc = page(client, DOC + "/pillar/7-2")
    names = doc.xpath("//section[h2[@id='data-heading']]//th[@scope='row']/a")
    headers = {text(a): a.get("href") for a in names}
    assert headers["所属階層"] == "/ontology#level"  # plan:level's rdfs:label @ja
    assert headers["順序"] == "/ontology#order"
    assert headers["名称"] == "http://www.w3.org/2004/02/skos/core#prefLabel"


def test_breadcrumbs_climb_the_hierarchy(client):
    doc = page(client, DOC + "/pillar/7-2")
    crumbs = doc.xpath("//nav[@class='breadcrumbs']//li")
    assert [text(c) for c in crumbs] == [
        "ホーム", "いわき市", "いわき市生涯学習推進計画", "第五期いわき市生涯学習推進計画", "いかす",
        "ふるさと教育の推進", "まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実"]
    assert crumbs[-1].get("aria-current") == "page"
    assert [c.find("a").get("href") for c in crumbs[3:6]] == [DOC, DOC + "/policy/3", DOC + "/direction/7"]


def test_english_switch_uses_the_data_and_sticks_in_a_cookie(client):
    ja = page(client, DOC + "/direction/7")
    switch = ja.xpath("//p[@class='lang-switch']/a")[0]
    assert switch.get("hreflang") == "en"
    response = client.get(switch.get("href"), headers=HTML)
    en = lxml_html.fromstring(response.get_data(as_text=True))
    assert en.get("lang") == "en"
    assert text(en.find(".//h1")) == "⑦ Promoting hometown education"
    assert "lang=en" in response.headers["Set-Cookie"]
    # The cookie alone now gives English; ?lang=ja switches back.
    again = lxml_html.fromstring(client.get(DOC + "/direction/7", headers=HTML).get_data(as_text=True))
    assert again.get("lang") == "en"
    back = page(client, DOC + "/direction/7?lang=ja")
    assert back.get("lang") == "ja"


def test_children_in_plan_order(client):
    doc = page(client, DOC + "/policy/3")
    children = [text(li) for li in doc.xpath("//ol[@class='children']/li")]
    assert children == ["⑦ ふるさと教育の推進", "⑧ 学びの実践の場としてのボランティア活動の推進",
                        "⑨ 市民のキャリア形成の支援"]
    facts = dict(zip([text(e) for e in doc.xpath("//dl[@class='facts']/dt")],
                     [text(e) for e in doc.xpath("//dl[@class='facts']/dd")], strict=True))
    assert facts["原典のページ"] == "26 ページ"
    assert facts["階層"] == "基本方針"


def test_edition_page_lists_top_level_and_shows_its_diagram(client):
    doc = page(client, DOC)
    assert [text(li).split()[0] for li in doc.xpath("//ol[@class='children']/li")] == ["Ⅰ", "Ⅱ", "Ⅲ", "Ⅳ"]
    svg = doc.xpath("//div[@class='diagram-frame']/svg")
    assert len(svg) == 1
    # The diagram's text alternative: the whole hierarchy as nested lists (4 + 11 + 21 links).
    outline = doc.xpath("//section[@class='diagram-section']//details[@class='outline']//a")
    assert len(outline) == 36
    download = doc.xpath("//section[@class='diagram-section']//a[@download]")[0].get("href")
    assert download == "/diagram/072044/lifelong-learning-plan/5.svg"
    assert client.get(download).mimetype == "image/svg+xml"


def test_every_edition_page_shows_its_own_diagram(client):
    doc = page(client, "/doc/282049/lifelong-learning-plan/2021")
    svg = doc.xpath("//div[@class='diagram-frame']/svg")
    assert len(svg) == 1
    hrefs = [a.get("xlink:href") for a in svg[0].iter("a") if a.get("xlink:href")]
    assert hrefs and all(h.startswith("/doc/282049/lifelong-learning-plan/2021") for h in hrefs)


def test_rdf_links_and_ready_queries(client):
    doc = page(client, DOC + "/pillar/7-2")
    formats = {a.get("type"): a.get("href") for a in doc.xpath("//ul[@class='formats']//a")}
    assert set(formats) == {"text/turtle", "application/ld+json", "application/rdf+xml",
                            "application/n-triples"}
    for media, href in formats.items():
        assert client.get(href).mimetype == media
    queries = [a.get("href") for a in doc.xpath("//a[starts-with(@href, '/query?')]")]
    assert len(queries) == 2
    asked = [parse_qs(urlsplit(href).query)["query"][0] for href in queries]
    assert asked[0] == f"DESCRIBE <{EDITION}/pillar/7-2>"
    assert f"<{EDITION}/pillar/7-2> ?property ?value" in asked[1]
    for href in queries:
        assert client.get(href, headers=HTML).status_code == 200


def test_incoming_links_from_the_same_plan(client):
    doc = page(client, DOC + "/level/3")  # every pillar points at its level
    incoming = doc.xpath("//section[h2[@id='incoming-heading']]//td//a/@href")
    pillars = {href for href in incoming if "/pillar/" in href}
    assert len(pillars) == 21


def test_links_from_other_plans_are_shown_apart(client):
    doc = page(client, DOC)
    other = doc.xpath("//section[h2[@id='other-heading']]//a/@href")
    assert "/doc/072044/lifelong-learning-plan/6" in other  # the 6th edition's plan:previousEdition


def test_cross_plan_links_section_with_provenance(client):
    doc = page(client, DOC + "/pillar/7-2?lang=en")
    [section] = doc.xpath("//section[h2[@id='links-heading']]")
    assert text(section.find("h2")) == "Links (data to be reviewed, not the plan's content)"
    targets = section.xpath(".//a/@href")
    assert "/doc/282049/lifelong-learning-plan/2021/measure/4-4?lang=en" in targets
    assert section.xpath(".//dl[@class='provenance']")
    # The plan's own data table does not mix the link in.
    data_rows = [text(th) for th in doc.xpath("//section[h2[@id='data-heading']]//th[@scope='row']")]
    assert "related match" not in data_rows


def test_sdg_target_page_lists_the_plan_elements_linking_to_it(client):
    doc = page(client, "/resource", query_string={"iri": "http://metadata.un.org/sdg/4.7"})
    links = doc.xpath("//section[h2[@id='links-heading']]//a/@href")
    assert DOC + "/direction/6" in links
    assert DOC + "/pillar/6-2" in links


def test_home_page(client):
    doc = page(client, "/")
    assert doc.get("lang") == "ja"
    assert text(doc.find(".//h1")) == "自治体計画 LOD"  # the dataset's dcterms:title @ja
    body = text(doc.find(".//main"))
    assert "学びでつなぐ、いわきの「ちから」" in body  # the vision
    assert "輝くいわき、学びあい都市宣言" in body  # the philosophy
    assert doc.xpath("//div[@class='diagram-frame']/svg")
    hrefs = set(doc.xpath("//main//a/@href"))
    for target in ("/query", "/downloads", "/catalog", "/ontology", "/.well-known/void"):
        assert target in hrefs
        # As a browser asks: the VoID document is RDF only, which a browser's */* accepts.
        assert client.get(target, headers={"Accept": BROWSER_ACCEPT}).status_code == 200, target


def test_home_lists_every_edition(client, app):
    from planlod.web.outline import editions
    from planlod.web.store_access import get_store

    with app.app_context():
        found = editions(get_store())
    assert len(found) >= 2
    doc = page(client, "/?lang=en")
    hrefs = set(doc.xpath("//main//a/@href"))
    for iri, _ in found:
        assert "/doc/" + iri[len(BASE + "id/"):] + "?lang=en" in hrefs, iri
    assert "Connecting Iwaki's “power” through learning" in text(doc.find(".//main"))


def test_home_leads_with_whole_plans_before_partial_ones(client):
    doc = page(client, "/")
    edition_links = [a.get("href") for a in doc.xpath("//main//h2/a")]
    assert edition_links[0] == "/doc/072044/lifelong-learning-plan/5"
    # The 総合計画 is transcribed only in part (plan:isPartial), so it comes after every whole plan.
    partial = "/doc/072044/comprehensive-plan/2016"
    assert partial in edition_links
    assert edition_links.index(partial) > edition_links.index("/doc/072044/lifelong-learning-plan/5")


@pytest.mark.parametrize("path", ["/", DOC, DOC + "/pillar/1-1", "/doc/072044"])
def test_landmarks_and_headings(client, path):
    doc = page(client, path)
    assert len(doc.findall(".//h1")) == 1
    assert len(doc.findall(".//main")) == 1
    assert doc.xpath("//nav[@aria-label]")
    assert doc.xpath("//a[@class='skip-link']")[0].get("href") == "#content"
    # English text on a Japanese page says so.
    for element in doc.xpath("//*[@lang]"):
        assert element.get("lang").lower() in {"ja", "en", "ja-hrkt"}


def test_unknown_page_is_a_helpful_404(client):
    response = client.get(DOC + "/pillar/99-9", headers=HTML)
    assert response.status_code == 404
    assert "not described" in response.get_data(as_text=True)
