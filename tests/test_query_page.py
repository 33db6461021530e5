"""The query page (/query, and /sparql for browsers) and the example queries stored as data.

In-process (Flask test client): the page and its permalinks, who counts as a browser, the examples as
sh:SPARQLExecutable triples, and every example run on the loaded data. Against a real `planlod serve`
(headless Debian chromium through pytest-playwright): the page loads with no console error and no request
leaving 127.0.0.1, an example tab runs and shows the store's answer, permalinks open the right tab.
"""

import json
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import rdflib
from axe_playwright_python.sync_playwright import Axe
from planlod.web.query_page import DOWNLOAD_FORMATS, MAX_LINKED_QUERY_CHARS, load_examples, prefers_html
from planlod.web.store_access import get_store
from pyoxigraph import NamedNode, QueryBoolean, QuerySolutions, RdfFormat, parse
from rdflib.namespace import DCTERMS, RDF, RDFS
from sparql_results import rows
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

SD = "http://www.w3.org/ns/sparql-service-description#"
EXAMPLES_FILE = Path(__file__).parent.parent / "data" / "examples.ttl"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
SCHEMA = rdflib.Namespace("https://schema.org/")
SPEX = rdflib.Namespace("https://purl.expasy.org/sparql-examples/ontology#")
VOID = rdflib.Namespace("http://rdfs.org/ns/void#")
QUERY_PROPERTY = {"select": SH.select, "construct": SH.construct, "ask": SH.ask, "describe": SPEX.describe}
FORM_CLASS = {"select": SH.SPARQLSelectExecutable, "construct": SH.SPARQLConstructExecutable,
              "ask": SH.SPARQLAskExecutable}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


def examples_graph() -> rdflib.Graph:
    return rdflib.Graph().parse(EXAMPLES_FILE, format="turtle")


def example_ids() -> list[str]:
    """Read from the file at collection time, so each example is its own test case."""
    graph = examples_graph()
    examples = graph.subjects(RDF.type, SH.SPARQLExecutable)
    return sorted(str(graph.value(e, DCTERMS.identifier)) for e in examples)


class PageParser(HTMLParser):
    """What the tests read from the page: the root's lang, headings, example links, the config JSON."""

    def __init__(self):
        super().__init__()
        self.html_lang = None
        self.headings: list[str] = []
        self.example_links: dict[str, dict[str, str]] = {}  # example id -> the <a> attributes
        self.example_texts: dict[str, tuple[str, str]] = {}  # example id -> (link text, other-language name)
        self.other_lang_tags: set[str] = set()
        self._text_target: str | None = None
        self.labels_for: set[str] = set()
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self.config_text = ""
        self._stack: list[str] = []
        self._heading: list[str] | None = None
        self._item: str | None = None
        self._in_config = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self._stack.append(tag)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "html":
            self.html_lang = attrs.get("lang")
        elif tag in ("h1", "h2"):
            self._heading = []
        elif tag == "li" and "data-example" in attrs:
            self._item = attrs["data-example"]
        elif tag == "a" and self._item is not None:
            self.example_links[self._item] = attrs
            self.example_texts[self._item] = ("", "")
            self._text_target = "link"
        elif tag == "span" and self._item is not None and "other-lang" in attrs.get("class", ""):
            self.other_lang_tags.add(attrs.get("lang"))
            self._text_target = "other"
        elif tag == "label":
            self.labels_for.add(attrs.get("for"))
        elif tag == "script":
            if attrs.get("id") == "query-page-config":
                self._in_config = True
            if attrs.get("src"):
                self.scripts.append(attrs["src"])

    def handle_endtag(self, tag):
        if tag in ("a", "span"):
            self._text_target = None
        if tag in ("h1", "h2") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None
        elif tag == "li":
            self._item = None
        elif tag == "script":
            self._in_config = False

    def handle_data(self, data):
        if self._text_target is not None:
            link, other = self.example_texts[self._item]
            if self._text_target == "link":
                self.example_texts[self._item] = (link + data, other)
            else:
                self.example_texts[self._item] = (link, other + data)
        if self._heading is not None:
            self._heading.append(data)
        if self._in_config:
            self.config_text += data

    @property
    def config(self) -> dict:
        return json.loads(self.config_text)


def parse_page(body: bytes) -> PageParser:
    parser = PageParser()
    parser.feed(body.decode("utf-8"))
    return parser


def parse_rdf(media_type: str, body: bytes) -> list:
    """The quads of an RDF answer, parsed by its media type (pyoxigraph reads every syntax we serve)."""
    return list(parse(body, format=RdfFormat.from_media_type(media_type)))


def accept(header: str) -> MIMEAccept:
    return parse_accept_header(header, MIMEAccept)


# ---- the examples as data ----

def test_examples_file_describes_one_dataset_so_the_loader_gives_it_a_graph(app):
    graph = examples_graph()
    datasets = list(graph.subjects(RDF.type, VOID.Dataset))
    assert len(datasets) == 1
    with app.app_context():
        assert str(datasets[0]) in get_store().graphs()


def test_each_example_is_a_complete_sparql_executable():
    graph = examples_graph()
    examples = list(graph.subjects(RDF.type, SH.SPARQLExecutable))
    assert len(examples) >= 8
    identifiers = [str(graph.value(e, DCTERMS.identifier)) for e in examples]
    assert len(set(identifiers)) == len(examples)
    assert sorted(int(graph.value(e, SCHEMA.position)) for e in examples) == list(range(1, len(examples) + 1))
    for example in examples:
        for prop in (RDFS.label, RDFS.comment):
            languages = sorted(o.language for o in graph.objects(example, prop))
            assert languages == ["en", "ja"], (example, prop, languages)
        texts = [(form, o) for form, p in QUERY_PROPERTY.items() for o in graph.objects(example, p)]
        assert len(texts) == 1, (example, texts)  # one query per example, as SIB's shape requires
        form, _ = texts[0]
        if form in FORM_CLASS:
            assert (example, RDF.type, FORM_CLASS[form]) in graph
        assert graph.value(example, SCHEMA.target) is not None
        declared = {str(d.value(SH.prefix)) for d in
                    graph.resource(graph.value(example, SH.prefixes)).objects(SH.declare)}
        assert {"plan", "skos", "rdfs"} <= declared


def test_the_examples_cover_the_query_forms_the_page_teaches():
    forms = {form for form, p in QUERY_PROPERTY.items() for _ in examples_graph().subject_objects(p)}
    assert {"select", "construct", "describe"} <= forms


def test_examples_are_read_from_the_store_in_their_stated_order(app):
    graph = examples_graph()
    by_position = sorted(graph.subjects(RDF.type, SH.SPARQLExecutable),
                         key=lambda e: int(graph.value(e, SCHEMA.position)))
    with app.app_context():
        stored = load_examples(get_store())
    assert [e.id for e in stored] == [str(graph.value(e, DCTERMS.identifier)) for e in by_position]
    for example in stored:
        assert example.label_ja and example.label_en and example.comment_ja and example.comment_en


def linkset_graphs(store) -> list[str]:
    answer = store.query("PREFIX void: <http://rdfs.org/ns/void#> "
                         "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?g a void:Linkset } }")
    return [row["g"].value for row in answer]


@pytest.mark.parametrize("example_id", example_ids())
def test_every_example_runs_and_returns_rows(app, example_id):
    with app.app_context():
        store = get_store()
        example = next(e for e in load_examples(store) if e.id == example_id)
        if "GRAPH ?linkset" in example.text and not linkset_graphs(store):
            pytest.skip("reads link sets, and no void:Linkset is loaded yet")
        answer = store.query(example.text)
        if isinstance(answer, QuerySolutions):
            rows = list(answer)
            assert rows, f"{example_id} returned no rows"
            assert all(any(term is not None for term in row) for row in rows)
        elif isinstance(answer, QueryBoolean):
            assert bool(answer), f"{example_id} answered false"
        else:
            assert list(answer), f"{example_id} returned no triples"


# ---- who gets the page ----

@pytest.mark.parametrize(("accept_header", "is_browser"), [
    (BROWSER_ACCEPT, True),                                              # Chromium, Firefox
    ("text/html", True),
    ("application/xhtml+xml,text/html;q=0.9,*/*;q=0.8", True),
    ("*/*", False),                                                      # curl
    ("", False),
    ("application/sparql-results+json", False),                         # SPARQLWrapper
    ("application/sparql-results+json,*/*;q=0.9", False),               # YASGUI's own requests
    ("text/turtle,text/html;q=0.5", False),
    ("text/html;q=0.5,application/sparql-results+xml;q=0.5", False),    # a tie is not a preference
    ("text/*", False),                                                   # text/csv ranks the same
    ("text/html;q=0", False),
])
def test_prefers_html(accept_header, is_browser):
    assert prefers_html(accept(accept_header)) is is_browser


# ---- the page in-process ----

@pytest.mark.parametrize(("query_string", "lang", "heading"), [
    ("", "ja", "SPARQL クエリ"),
    ("?lang=en", "en", "SPARQL query"),
    ("?lang=ja", "ja", "SPARQL クエリ"),
])
def test_query_page_is_html_in_the_chosen_language(client, app, query_string, lang, heading):
    response = client.get("/query" + query_string, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html" and response.mimetype_params["charset"] == "utf-8"
    assert {"Accept", "Cookie"} <= {v.strip() for v in response.headers["Vary"].split(",")}
    page = parse_page(response.data)
    assert page.html_lang == lang
    assert heading in page.headings
    with app.app_context():
        examples = load_examples(get_store())
    assert list(page.example_links) == [e.id for e in examples]
    for example in examples:
        assert page.example_links[example.id]["href"] == f"/query?example={example.id}"
        names = (example.label_ja, example.label_en)
        assert page.example_texts[example.id] == (names if lang == "ja" else names[::-1])
    assert page.other_lang_tags == {"en" if lang == "ja" else "ja"}
    assert [e["name"] for e in page.config["examples"]] == [
        e.label_ja if lang == "ja" else e.label_en for e in examples]
    assert {"download-query", "download-format"} <= page.labels_for & page.ids  # every field is labelled
    assert page.scripts == ["/static/vendor/yasgui/yasgui.min.js", "/static/query-page.js"]


def test_language_choice_sticks_in_a_cookie(client):
    client.get("/query?lang=en")
    assert parse_page(client.get("/query").data).html_lang == "en"


def test_page_config_presets_this_endpoint_and_the_stored_examples(client, app):
    config = parse_page(client.get("/query").data).config
    assert config["endpoint"] == "http://localhost/sparql"
    with app.app_context():
        examples = load_examples(get_store())
    assert [(e["id"], e["query"]) for e in config["examples"]] == [(e.id, e.text) for e in examples]
    assert config["selected"] == examples[0].id and config["linkedQuery"] is None
    assert config["prefixes"]["plan"] == "https://w3id.org/planlod/ontology#"
    assert config["newTabQuery"].startswith("PREFIX ")


@pytest.mark.parametrize("example_id", example_ids())
def test_example_permalink_selects_its_tab(client, example_id):
    page = parse_page(client.get(f"/query?example={example_id}").data)
    assert page.config["selected"] == example_id
    current = [i for i, attrs in page.example_links.items() if attrs.get("aria-current") == "page"]
    assert current == [example_id]


def test_query_permalink_opens_the_query_in_its_own_tab(client):
    query = 'SELECT ?s WHERE { ?s ?p "学び" } # <script>'
    response = client.get("/query", query_string={"query": query})
    assert response.status_code == 200
    assert b"<script>" not in response.data.split(b'id="query-page-config">')[1].split(b"</script>")[0]
    config = parse_page(response.data).config
    assert config["linkedQuery"] == query and config["selected"] is None


@pytest.mark.parametrize(("target", "status"), [
    ("/query?example=no-such-example", 404),
    ("/query?example=", 404),
    ("/query?query=" + "x" * (MAX_LINKED_QUERY_CHARS + 1), 414),
])
def test_bad_permalinks_get_a_clear_error(client, target, status):
    response = client.get(target, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == status
    assert b"Traceback" not in response.data


def test_base_iri_moves_the_example_queries_with_the_data(tmp_path):
    from planlod.web.app import create_app

    base = "http://example.org/plans/"
    # Its own store directory: a second dataset in the shared temporary one would replace the session's.
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "BASE_IRI": base,
                      "STORE_DIR": str(tmp_path)})
    with app.app_context():
        store = get_store()
        examples = load_examples(store)
        hierarchy = next(e for e in examples if e.id == "hierarchy")
        assert "https://w3id.org/planlod/" not in hierarchy.text and base + "id/072044/" in hierarchy.text
        assert list(store.query(hierarchy.text))


# ---- in a real browser, against a real server ----

def active_tab(page) -> str:
    return page.get_attribute(".yasgui .tabsList a[role=tab][aria-selected=true]", "id")


def editor_text(page) -> str:
    return page.evaluate("window.planlodQueryPage.yasgui.getTab().getYasqe().getValue()")


def run_open_tab(page) -> None:
    page.click(".yasqe_queryButton")
    page.wait_for_selector(".yasr .dataTable tbody tr, .yasr .errorResult", timeout=30_000)


def shown_rows(page) -> list[str]:
    return page.eval_on_selector_all(".yasr .dataTable tbody tr", "rows => rows.map(r => r.innerText)")


def test_page_loads_in_a_browser_with_every_example_as_a_tab(guarded_page, app):
    page, server = guarded_page
    page.goto(server.url + "/query")
    page.wait_for_selector(".yasgui .tabsList a[role=tab]")
    with app.app_context():
        examples = load_examples(get_store())
    tabs = page.eval_on_selector_all(".yasgui .tabsList a[role=tab]", "tabs => tabs.map(t => t.id)")
    assert tabs == [f"tab-example-{e.id}" for e in examples]
    assert active_tab(page) == f"tab-example-{examples[0].id}"
    assert page.input_value(".yasgui .autocomplete") == server.sparql  # the endpoint field


@pytest.mark.parametrize("example_id", ["counts-per-level", "hierarchy", "construct-skos"])
def test_an_example_tab_runs_and_shows_the_stores_answer(guarded_page, app, example_id):
    page, server = guarded_page
    page.goto(f"{server.url}/query?example={example_id}")
    page.wait_for_selector(".yasqe_queryButton")
    run_open_tab(page)
    with app.app_context():
        example = next(e for e in load_examples(get_store()) if e.id == example_id)
        expected = list(get_store().query(example.text))
    shown = shown_rows(page)
    assert len(shown) == min(len(expected), 50)  # YASR's first page holds 50 rows
    if example_id == "counts-per-level":  # the numbers in the table are the store's counts
        counts = sorted(int(row["elements"].value) for row in expected)
        assert sorted(int(text.split("\t")[-1].split('"')[1]) for text in shown) == counts


@pytest.mark.parametrize("example_id", ["ideals", "sdg-targets", "describe-policy"])
def test_example_permalink_opens_that_tab_in_the_browser(guarded_page, app, example_id):
    page, server = guarded_page
    page.goto(f"{server.url}/query?example={example_id}")
    page.wait_for_selector(".yasqe_queryButton")
    assert active_tab(page) == f"tab-example-{example_id}"
    with app.app_context():
        example = next(e for e in load_examples(get_store()) if e.id == example_id)
    assert editor_text(page) == example.text


def test_choosing_a_tab_puts_its_permalink_in_the_address_bar(guarded_page):
    page, server = guarded_page
    page.goto(server.url + "/query")
    page.click("#tab-example-search-japanese")
    assert urlsplit(page.url).path == "/query" and urlsplit(page.url).query == "example=search-japanese"
    page.reload()
    page.wait_for_selector(".yasqe_queryButton")
    assert active_tab(page) == "tab-example-search-japanese"


def test_query_permalink_opens_the_query_in_its_own_tab_in_the_browser(guarded_page):
    page, server = guarded_page
    query = ('PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n'
             'SELECT ?c WHERE { ?c skos:prefLabel "はぐくむ"@ja }')
    page.goto(f"{server.url}/query?" + urllib.parse.urlencode({"query": query}))
    page.wait_for_selector(".yasqe_queryButton")
    assert active_tab(page) == "tab-linked-query"
    assert editor_text(page) == query
    run_open_tab(page)
    assert len(shown_rows(page)) == 1


def test_sparql_in_a_browser_is_the_query_page(guarded_page):
    page, server = guarded_page
    page.goto(server.sparql)
    page.wait_for_selector(".yasgui .tabsList a[role=tab]")
    assert page.title().startswith("SPARQL クエリ")


def test_page_has_no_accessibility_violations_in_its_own_markup(guarded_page):
    page, server = guarded_page
    page.goto(server.url + "/query")
    page.wait_for_selector(".yasqe_queryButton")
    # YASGUI's own widgets are the vendor's; the page around them is ours and must be clean.
    results = Axe().run(page, context={"exclude": [["#yasgui"]]})
    assert results.violations_count == 0, results.generate_report()


# ---- /sparql: the page for browsers, SPARQL for SPARQL clients ----

def test_sparql_without_a_query_is_the_page_for_a_browser(client):
    response = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200 and response.mimetype == "text/html"
    config = parse_page(response.data).config
    assert config["endpoint"] == "http://localhost/sparql" and config["linkedQuery"] is None


def test_sparql_with_a_query_opens_it_in_the_page_for_a_browser(client):
    query = "SELECT * WHERE { ?s ?p ?o } LIMIT 1"
    response = client.get("/sparql", query_string={"query": query}, headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert parse_page(response.data).config["linkedQuery"] == query


@pytest.mark.parametrize("accept", ["text/turtle", "application/ld+json", "*/*"])
def test_sparql_without_a_query_is_the_service_description_for_a_client(client, accept):
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype != "text/html"
    description = parse_rdf(response.mimetype, response.data)
    endpoint = NamedNode("http://localhost/sparql")
    assert any(q.predicate == NamedNode(SD + "endpoint") and q.object == endpoint for q in description)


def test_a_sparql_client_lists_the_examples_from_the_endpoint(client, app):
    # What SIB's sparql-editor asks an endpoint for, to fill its examples panel.
    query = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX sh: <http://www.w3.org/ns/shacl#>
PREFIX spex: <https://purl.expasy.org/sparql-examples/ontology#>
SELECT DISTINCT ?sq ?comment ?query WHERE {
  ?sq a sh:SPARQLExecutable ; rdfs:comment ?comment ; sh:select|sh:ask|sh:construct|spex:describe ?query .
  FILTER(lang(?comment) = "en")
}"""
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    listed = {b["sq"]["value"]: b["query"]["value"] for b in response.get_json()["results"]["bindings"]}
    with app.app_context():
        assert listed == {e.iri: e.text for e in load_examples(get_store())}


@pytest.mark.parametrize("example_id", example_ids())
def test_every_example_runs_through_the_endpoint(client, app, example_id):
    with app.app_context():
        example = next(e for e in load_examples(get_store()) if e.id == example_id)
    accept = "application/sparql-results+json" if example.form in ("select", "ask") else "text/turtle"
    response = client.post("/sparql", data={"query": example.text}, headers={"Accept": accept})
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == accept
    if accept == "text/turtle":
        assert len(rdflib.Graph().parse(data=response.data, format="turtle")) > 0
    else:
        assert response.get_json()["results"]["bindings"]


def download_choices() -> list[tuple[str, str]]:
    """(example to run, format value) for every option of the page's download form."""
    example_for = {"SELECT / ASK": "counts-per-level", "CONSTRUCT / DESCRIBE": "construct-skos"}
    return [(example_for[group], value) for group, formats in DOWNLOAD_FORMATS for value, _ in formats]


@pytest.mark.parametrize(("example_id", "format_value"), download_choices())
def test_every_download_format_of_the_form_is_served_by_the_endpoint(client, app, example_id, format_value):
    with app.app_context():
        example = next(e for e in load_examples(get_store()) if e.id == example_id)
        expected = list(get_store().query(example.text))
    response = client.get("/sparql", query_string={"query": example.text, "format": format_value},
                          headers={"Accept": BROWSER_ACCEPT})  # the form is submitted by a browser
    assert response.status_code == 200, response.get_data(as_text=True)
    if example.form == "select":
        assert len(rows(response.mimetype, response.data)) == len(expected)
    else:
        triples = {(q.subject, q.predicate, q.object) for q in parse_rdf(response.mimetype, response.data)}
        assert len(triples) == len(expected)


def test_bom_checkbox_gives_csv_a_bom(client):
    query = "SELECT ?s WHERE { ?s ?p ?o } LIMIT 1"
    plain = client.get("/sparql", query_string={"query": query, "format": "csv"})
    with_bom = client.get("/sparql", query_string={"query": query, "format": "csv", "bom": "1"})
    assert not plain.data.startswith(b"\xef\xbb\xbf") and with_bom.data == b"\xef\xbb\xbf" + plain.data
