"""The pages in a real browser (Debian's chromium via Playwright) against a real `planlod serve`.

Every test fails on a console error, an uncaught exception or a request leaving 127.0.0.1. The
accessibility check is axe-core (bundled by axe-playwright-python): no serious or critical violation.
Screenshots of the home page and of the diagram are written to the test's tmp_path for a person to look at.
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from rdflib import Graph, Namespace, URIRef

ROOT = Path(__file__).parent.parent
BASE = "https://w3id.org/planlod/"
EDITION = BASE + "id/072044/lifelong-learning-plan/5"
DOC = "/doc/072044/lifelong-learning-plan/5"
PLAN = Namespace(BASE + "ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")


@pytest.fixture(scope="module")
def pillars() -> dict[str, str]:
    """Pillar page path -> its Japanese title, from data/plan.ttl."""
    graph = Graph().parse(ROOT / "data" / "plan.ttl", format="turtle")
    level = URIRef(EDITION + "/level/3")
    return {"/doc/" + str(s)[len(BASE + "id/"):]:
            next(str(x) for x in graph.objects(s, SKOS.prefLabel) if x.language == "ja")
            for s in graph.subjects(PLAN.level, level)}


def diagram_links(page, scope: str = "svg.diagram") -> dict[str, str]:
    """href -> the text drawn inside each link of the first inline diagram, as the browser sees it."""
    return page.eval_on_selector(scope, """svg => Object.fromEntries(
        [...svg.querySelectorAll('a')].map(a => [
            a.getAttribute('xlink:href') || a.getAttribute('href'),
            [...a.querySelectorAll('text')].map(t => t.textContent).join('').replaceAll(' ', '')]))""")


def serious(results) -> list[str]:
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_home_page(guarded_page, tmp_path):
    page, server = guarded_page
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "ja"
    assert page.locator("h1").inner_text() == "自治体計画 LOD"
    main = page.locator("main").inner_text()
    assert "学びでつなぐ、いわきの「ちから」" in main
    assert "輝くいわき、学びあい都市宣言" in main
    for target in ("/query", "/downloads", "/catalog", "/ontology", "/.well-known/void"):
        assert page.locator(f"main a[href='{target}']").count() == 1, target
    shot = tmp_path / "home.png"
    page.screenshot(path=shot, full_page=True)
    assert shot.stat().st_size > 10_000


def test_diagram_has_every_pillar_and_each_box_opens_its_page(guarded_page, pillars, tmp_path):
    page, server = guarded_page
    page.goto(server.url + DOC)
    diagram = page.locator("svg.diagram").first
    diagram.scroll_into_view_if_needed()
    diagram.screenshot(path=tmp_path / "diagram.png")
    drawn = diagram_links(page)
    for path, title in pillars.items():
        assert path in drawn, path
        assert drawn[path].endswith(title.replace(" ", "")), (path, drawn[path])
    assert len(pillars) == 21
    # Follow one box, as a person would.
    page.locator(f"svg.diagram a[*|href='{DOC}/pillar/8-2']").click()
    page.wait_for_url(f"**{DOC}/pillar/8-2")
    assert page.locator("h1").inner_text() == "② 地域ぐるみの子育て支援環境づくり"


def test_pillar_page(guarded_page):
    page, server = guarded_page
    # The IRI itself, as a browser dereferences it: 303 to the page.
    page.goto(server.url + "/id/072044/lifelong-learning-plan/5/pillar/7-2")
    assert urlsplit(page.url).path == DOC + "/pillar/7-2"
    title = "まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実"
    assert page.locator("h1").inner_text() == "② " + title
    crumbs = page.locator("nav.breadcrumbs li").all_inner_texts()
    assert crumbs[-3:-1] == ["いかす", "ふるさと教育の推進"]
    page.locator("nav.breadcrumbs a", has_text="ふるさと教育の推進").click()
    page.wait_for_url(f"**{DOC}/direction/7")
    assert page.locator("ol.children li").all_inner_texts() == [
        "① 地域への関心を高める学びの機会の充実",
        "② まちづくりへの関心を高め、まちづくり活動を促す学びの機会の充実"]


def test_language_switch(guarded_page):
    page, server = guarded_page
    page.goto(server.url + DOC + "/direction/7")
    page.locator(".lang-switch a").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "⑦ Promoting hometown education"
    # The choice sticks (cookie) on the next page, the home page included.
    page.goto(server.url + "/")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Municipal plans as linked open data"
    page.locator(".lang-switch a").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "ja"


def test_keyboard_skip_link_and_focus(guarded_page):
    page, server = guarded_page
    page.goto(server.url + DOC + "/pillar/7-2")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "content"
    # The next Tab lands on a link inside the main content, not back in the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('main') !== null")


@pytest.mark.parametrize("path", [
    "/", "/?lang=en", DOC, DOC + "/pillar/7-2", DOC + "/vision?lang=en",
    "/resource?iri=http%3A%2F%2Fmetadata.un.org%2Fsdg%2F4.7",
])
def test_no_serious_accessibility_violations(guarded_page, path):
    page, server = guarded_page
    page.goto(server.url + path)
    results = Axe().run(page)
    assert serious(results) == [], results.generate_report()
