"""Ontology and shapes documentation: an anchor per term equal to its local name, labels in ja and en,
domain and range linked, content negotiation and suffix URLs, and the versioned ontology IRI."""

from html.parser import HTMLParser

import pytest
import rdflib
from planlod import iris
from planlod.web import downloads as dl
from planlod.web.store_access import get_store
from pyoxigraph import RdfFormat, parse
from rdflib.compare import isomorphic

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
FORMATS = [("text/turtle", "turtle", "ttl"), ("application/ld+json", "json-ld", "jsonld"),
           ("application/rdf+xml", "xml", "rdf"), ("application/n-triples", "nt", "nt")]


class Page(HTMLParser):
    """Elements by id, and for each id the text and attributes of what it contains."""

    def __init__(self):
        super().__init__()
        self.ids: dict[str, dict] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of open elements
        self.html_lang = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        element_id = attrs.get("id")
        if element_id is not None:
            assert element_id not in self.ids, f"duplicate id {element_id}"
            self.ids[element_id] = {"text": [], "langs": [], "hrefs": []}
        for _, open_id in self._open + [(tag, element_id)]:
            if open_id is not None:
                if "lang" in attrs:
                    self.ids[open_id]["langs"].append((attrs["lang"], tag))
                if "href" in attrs:
                    self.ids[open_id]["hrefs"].append(attrs["href"])
        if tag not in ("br", "meta", "link", "img", "input"):
            self._open.append((tag, element_id))

    def handle_endtag(self, tag):
        while self._open:
            open_tag, _ = self._open.pop()
            if open_tag == tag:
                break

    def handle_data(self, data):
        for _, open_id in self._open:
            if open_id is not None:
                self.ids[open_id]["text"].append(data)

    def text(self, element_id: str) -> str:
        return "".join(self.ids[element_id]["text"])


def page(client, path: str) -> Page:
    response = client.get(path, headers={"Accept": BROWSER})
    assert response.status_code == 200 and response.mimetype == "text/html"
    parsed = Page()
    parsed.feed(response.data.decode())
    return parsed


def store_graph(app, graph_iri_of) -> rdflib.Graph:
    with app.app_context():
        store = get_store()
        graph = rdflib.Graph()
        query = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph_iri_of(store.base)}> {{ ?s ?p ?o }} }}"
        for row in store.query(query):
            graph.add(tuple(dl.rdflib_term(row[v]) for v in ("s", "p", "o")))
        return graph


DOCUMENTS = [("/ontology", iris.ontology_iri), ("/shapes", iris.shapes_iri)]


@pytest.mark.parametrize(("path", "graph_iri_of"), DOCUMENTS)
def test_every_term_has_an_anchor_equal_to_its_local_name(app, client, path, graph_iri_of):
    graph = store_graph(app, graph_iri_of)
    with app.app_context():
        namespace = graph_iri_of(get_store().base) + "#"
    terms = {str(s)[len(namespace):] for s in graph.subjects() if str(s).startswith(namespace)}
    assert len(terms) > 10
    html = page(client, path)
    missing = terms - set(html.ids)
    assert not missing
    for term in terms:  # the anchor holds the term's full IRI
        assert namespace + term in html.text(term)


@pytest.mark.parametrize(("path", "graph_iri_of"), DOCUMENTS)
def test_labels_and_definitions_appear_in_japanese_and_english(app, client, path, graph_iri_of):
    graph = store_graph(app, graph_iri_of)
    with app.app_context():
        namespace = graph_iri_of(get_store().base) + "#"
    html = page(client, path)
    checked = 0
    for subject in {s for s in graph.subjects() if str(s).startswith(namespace)}:
        term = str(subject)[len(namespace):]
        for predicate in (rdflib.RDFS.label, rdflib.SKOS.definition, rdflib.SH.message):
            for literal in graph.objects(subject, predicate):
                if getattr(literal, "language", None) in ("ja", "en"):
                    assert str(literal) in html.text(term), (term, str(literal))
                    assert (literal.language, "span") in html.ids[term]["langs"], (term, literal.language)
                    checked += 1
    assert checked > 20


def test_class_and_property_sections_show_what_the_data_says(client):
    html = page(client, "/ontology")
    assert "計画の要素" in html.text("PlanElement") and "Plan element" in html.text("PlanElement")
    assert "#Concept" not in html.ids["PlanElement"]["hrefs"]  # skos:Concept is not ours: full IRI
    assert "http://www.w3.org/2004/02/skos/core#Concept" in html.ids["PlanElement"]["hrefs"]
    # hasEdition: domain plan:Plan, range plan:PlanEdition, both links to their anchors on this page.
    assert {"#Plan", "#PlanEdition", "#editionOf"} <= set(html.ids["hasEdition"]["hrefs"])
    assert "定義域" in html.text("hasEdition") and "値域" in html.text("hasEdition")
    # A level type (an individual) gets its anchor like the classes do.
    assert "基本方針" in html.text("BasicPolicy") and "Basic policy" in html.text("BasicPolicy")
    assert html.html_lang == "ja"
    assert page(client, "/ontology?lang=en").html_lang == "en"


def test_shapes_link_to_the_ontology_terms_they_target(client):
    html = page(client, "/shapes")
    hrefs = [h for ids in html.ids.values() for h in ids["hrefs"]]
    assert "/ontology#PlanElement" in hrefs


@pytest.mark.parametrize(("accept", "rdf_format", "suffix"), FORMATS)
@pytest.mark.parametrize(("path", "graph_iri_of"), DOCUMENTS + [("/ontology/0.1.0", iris.ontology_iri)])
def test_conneg_and_suffixes_give_the_stored_graph(app, client, path, graph_iri_of, accept, rdf_format,
                                                    suffix):
    expected = store_graph(app, graph_iri_of)
    for response in (client.get(path, headers={"Accept": accept}), client.get(f"{path}.{suffix}")):
        assert response.status_code == 200, response.data[:200]
        assert response.mimetype == accept
        if rdf_format == "json-ld":  # pyoxigraph reads JSON-LD without rdflib's deprecation warnings
            graph = rdflib.Graph()
            for t in parse(response.data, format=RdfFormat.JSON_LD):
                graph.add(tuple(dl.rdflib_term(x) for x in (t.subject, t.predicate, t.object)))
        else:
            graph = rdflib.Graph().parse(data=response.data, format=rdf_format)
        assert isomorphic(graph, expected)


def test_any_client_gets_turtle_and_browsers_get_html(client):
    assert client.get("/ontology", headers={"Accept": "*/*"}).mimetype == "text/turtle"
    assert client.get("/ontology").mimetype == "text/turtle"
    assert client.get("/ontology.html").mimetype == "text/html"
    response = client.get("/ontology", headers={"Accept": BROWSER})
    assert response.mimetype == "text/html" and "Accept" in response.headers["Vary"]
    assert 'rel="alternate"' in response.headers["Link"]


def test_unacceptable_and_unknown_versions(client):
    assert client.get("/ontology", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/ontology.xlsx").status_code == 404
    missing = client.get("/ontology/9.9.9")
    assert missing.status_code == 404 and b"0.1.0" in missing.data


def test_etag_gives_304(client):
    response = client.get("/shapes.ttl")
    again = client.get("/shapes.ttl", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_a_class_lists_where_it_is_used(client):
    html = page(client, "/ontology")
    hrefs = set(html.ids["PlanEdition"]["hrefs"])
    assert {"#hasEdition", "#editionOf", "#hasLevel"} <= hrefs  # range of, domain of
    assert "/shapes#PlanEditionShape" in hrefs  # the shape that checks it
    assert "#Vision" in set(html.ids["Ideal"]["hrefs"])  # a subclass


# ---- in a real browser (Debian's chromium) against `planlod serve` ----

def serious_violations(page) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [f"{v['id']}: {v['help']}" for v in results.response["violations"]
            if v.get("impact") in ("serious", "critical")]


def test_a_term_iri_lands_on_its_entry_in_a_browser(guarded_page):
    page, server = guarded_page
    page.goto(server.url + "/ontology#PlanElement")
    target = page.locator(":target")
    assert target.get_attribute("id") == "PlanElement"
    assert target.is_visible() and "計画の要素" in target.inner_text()
    box = target.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"]  # scrolled to it
    assert serious_violations(page) == []
    page.click("a[hreflang='en']")  # the language switch keeps the page
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.url.split("?")[0].endswith("/ontology")


def test_shapes_page_is_accessible_and_links_to_the_ontology(guarded_page):
    page, server = guarded_page
    page.goto(server.url + "/shapes#LabelShape")
    assert page.locator(":target").get_attribute("id") == "LabelShape"
    assert serious_violations(page) == []
    page.locator("#LabelShape a[href='/ontology#PlanElement']").first.click()
    page.wait_for_url("**/ontology#PlanElement")
    assert page.locator(":target").get_attribute("id") == "PlanElement"
