"""Cool URIs (web/pages.py): /id/ answers 303 to a document, documents are negotiated and cached.

Every RDF body is parsed with rdflib and must hold the resource's own triples as data/plan.ttl states
them; the 303 target follows the Accept header; ETag and Last-Modified give 304s; unknown IRIs 404.
"""

import warnings
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from werkzeug.http import parse_options_header

DATA = Path(__file__).parent.parent / "data"
BASE = "https://w3id.org/planlod/"
EDITION = BASE + "id/072044/lifelong-learning-plan/5"

# One resource of every kind the plan file mints.
RESOURCES = {
    "municipality": BASE + "id/072044",
    "organisation": BASE + "id/072044/board-of-education",
    "plan": BASE + "id/072044/lifelong-learning-plan",
    "edition": EDITION,
    "period": EDITION + "/period",
    "activity": EDITION + "/transcription",
    "level": EDITION + "/level/2",
    "vision": EDITION + "/vision",
    "philosophy": EDITION + "/philosophy",
    "keyword": EDITION + "/keyword",
    "competency": EDITION + "/competency/3",
    "policy": EDITION + "/policy/1",
    "direction": EDITION + "/direction/7",
    "pillar": EDITION + "/pillar/7-2",
    "dataset": BASE + "id/dataset",
    "agent": BASE + "id/planlod-project",
}
FORMATS = {  # media type -> (document suffix, rdflib parser)
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/rdf+xml": ("rdf", "xml"),
    "application/n-triples": ("nt", "nt"),
}
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"


@pytest.fixture(scope="module")
def source() -> Graph:
    graph = Graph()
    graph.parse(DATA / "plan.ttl", format="turtle")
    graph.parse(DATA / "dataset.ttl", format="turtle")
    return graph


def id_path(iri: str) -> str:
    return "/" + iri[len(BASE):]


def doc_path(iri: str) -> str:
    return "/doc/" + iri[len(BASE + "id/"):]


def parsed(response, parser: str) -> Graph:
    graph = Graph()
    with warnings.catch_warnings():
        # rdflib 7.6's JSON-LD parser goes through its own deprecated ConjunctiveGraph API; that warning
        # is about rdflib's internals, not about the document, so it is silenced for this call only.
        if parser == "json-ld":
            warnings.simplefilter("ignore", DeprecationWarning)
        graph.parse(data=response.get_data(), format=parser, publicID=BASE)
    return graph


def stated(source: Graph, iri: str):
    return set(source.triples((URIRef(iri), None, None)))


@pytest.mark.parametrize("media", FORMATS)
@pytest.mark.parametrize("kind", RESOURCES)
def test_rdf_client_is_sent_to_the_format_it_asked_for(client, source, kind, media):
    iri = RESOURCES[kind]
    suffix, parser = FORMATS[media]
    response = client.get(id_path(iri), headers={"Accept": media})
    assert response.status_code == 303
    assert response.headers["Location"] == f"{doc_path(iri)}.{suffix}"
    assert "Accept" in response.headers["Vary"]

    document = client.get(response.headers["Location"])
    assert document.status_code == 200
    assert parse_options_header(document.headers["Content-Type"])[0] == media
    graph = parsed(document, parser)
    missing = stated(source, iri) - set(graph)
    assert stated(source, iri) and not missing, f"{kind} as {media} lacks {sorted(missing)[:3]}"


@pytest.mark.parametrize("kind", RESOURCES)
def test_browser_is_sent_to_the_page(client, kind):
    iri = RESOURCES[kind]
    response = client.get(id_path(iri), headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 303
    assert response.headers["Location"] == doc_path(iri)
    page = client.get(doc_path(iri), headers={"Accept": BROWSER_ACCEPT})
    assert page.status_code == 200
    assert page.mimetype == "text/html"
    assert page.headers["Content-Location"] == doc_path(iri) + ".html"


@pytest.mark.parametrize(("accept", "expected"), [
    ("text/turtle", "text/turtle"),
    ("application/ld+json", "application/ld+json"),
    ("application/rdf+xml;q=0.9, text/turtle;q=0.5", "application/rdf+xml"),
    ("application/n-triples", "application/n-triples"),
    ("application/json", "application/ld+json"),
    ("*/*", "text/turtle"),
    (BROWSER_ACCEPT, "text/html"),
    ("text/html;q=0.5, text/turtle", "text/turtle"),
])
def test_generic_document_negotiates(client, accept, expected):
    response = client.get(doc_path(RESOURCES["pillar"]), headers={"Accept": accept})
    assert response.status_code == 200
    assert response.mimetype == expected
    assert "Accept" in response.headers["Vary"]


def test_description_has_incoming_links_and_labels_of_neighbours(client):
    pillar = URIRef(RESOURCES["pillar"])
    direction = URIRef(RESOURCES["direction"])
    graph = parsed(client.get(doc_path(pillar) + ".ttl"), "turtle")
    skos = "http://www.w3.org/2004/02/skos/core#"
    assert (direction, URIRef(skos + "narrower"), pillar) in graph  # incoming
    assert (direction, URIRef(skos + "prefLabel"), Literal("ふるさと教育の推進", lang="ja")) in graph  # label


def test_outside_iri_is_described_at_resource(client, source):
    # The city's standard area code is not ours; the store only links to it.
    sac = "http://data.e-stat.go.jp/lod/sac/C07204"
    graph = parsed(client.get("/resource.ttl", query_string={"iri": sac}), "turtle")
    linking = {s for s, _, o in graph if o == URIRef(sac)}
    assert URIRef(RESOURCES["municipality"]) in linking
    assert URIRef(EDITION) in linking


@pytest.mark.parametrize("media", ["text/html", "text/turtle"])
def test_etag_gives_304(client, media):
    path = doc_path(RESOURCES["direction"])
    first = client.get(path, headers={"Accept": media})
    etag = first.headers["ETag"]
    again = client.get(path, headers={"Accept": media, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    since = client.get(path, headers={"Accept": media, "If-Modified-Since": first.headers["Last-Modified"]})
    assert since.status_code == 304


def test_etag_differs_by_format_and_language(client):
    path = doc_path(RESOURCES["direction"])
    tags = {client.get(path + suffix).headers["ETag"] for suffix in (".ttl", ".nt", ".html", ".html?lang=en")}
    assert len(tags) == 4
    stale = client.get(path + ".ttl", headers={"If-None-Match": '"not-the-tag"'})
    assert stale.status_code == 200


def test_link_header_names_every_alternate(client):
    response = client.get(doc_path(RESOURCES["policy"]) + ".ttl")
    links = {}
    for part in response.headers["Link"].split(", <"):
        target, *params = part.strip("<").split(";")
        options = dict(p.strip().split("=", 1) for p in params)
        if options.get('rel') == '"alternate"':
            links[options["type"].strip('"')] = target.rstrip(">")
    assert set(links) == {*FORMATS, "text/html"}
    for media, target in links.items():
        alternate = client.get(target)
        assert alternate.status_code == 200
        assert alternate.mimetype == media


@pytest.mark.parametrize("path", [
    "/id/072044/no-such-plan",
    "/doc/072044/lifelong-learning-plan/5/pillar/99-1",
    "/doc/072044/lifelong-learning-plan/5/pillar/99-1.ttl",
    "/id/",
])
@pytest.mark.parametrize(("accept", "form"), [("text/html", "text/html"), ("text/turtle", "text/plain"),
                                              ("application/ld+json", "application/json")])
def test_unknown_iri_is_a_helpful_404_in_the_form_asked_for(client, path, accept, form):
    response = client.get(path, headers={"Accept": accept})
    assert response.status_code == 404
    assert response.mimetype == form
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    if path.startswith("/doc/") or path.startswith("/id/072044"):
        assert "not described in this dataset" in body


def test_404_points_to_the_nearest_iri_that_exists(client):
    response = client.get("/id/072044/lifelong-learning-plan/5/pillar/99-1/extra",
                          headers={"Accept": "text/plain"})
    assert response.status_code == 404
    assert f"<{EDITION}>" in response.get_data(as_text=True)


def test_unknown_outside_iri_is_404(client):
    response = client.get("/resource", query_string={"iri": "http://example.org/nothing"})
    assert response.status_code == 404


def test_resource_without_iri_is_400(client):
    assert client.get("/resource").status_code == 400


def test_resource_for_our_iri_redirects_to_its_document(client):
    response = client.get("/resource.ttl", query_string={"iri": RESOURCES["pillar"]})
    assert response.status_code == 301
    assert response.headers["Location"] == doc_path(RESOURCES["pillar"]) + ".ttl"


def test_accept_nothing_we_have_is_406(client):
    response = client.get(id_path(RESOURCES["pillar"]), headers={"Accept": "image/png"})
    assert response.status_code == 406
    assert "text/turtle" in response.get_data(as_text=True)  # says what there is


@pytest.mark.parametrize(("name", "media"), [("ttl", "text/turtle"), ("jsonld", "application/ld+json"),
                                             ("nt", "application/n-triples"), ("html", "text/html")])
def test_format_parameter_overrides_accept(client, name, media):
    response = client.get(doc_path(RESOURCES["pillar"]), query_string={"format": name},
                          headers={"Accept": BROWSER_ACCEPT})
    assert response.mimetype == media


def test_unknown_format_parameter_is_400(client):
    response = client.get(doc_path(RESOURCES["pillar"]), query_string={"format": "png"})
    assert response.status_code == 400


def every_iri_of_the_plan(source: Graph) -> list[str]:
    terms = {t for triple in source for t in triple if isinstance(t, URIRef)}
    return sorted(t for t in map(str, terms) if t.startswith(BASE + "id/"))


def test_every_iri_in_the_plan_file_resolves_to_a_page_and_to_rdf(client, source):
    iris = every_iri_of_the_plan(source)
    assert len(iris) > 40  # the edition, its levels, ideals, 4 + 11 + 21 elements …
    for iri in iris:
        page = client.get(id_path(iri), headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True)
        assert page.status_code == 200 and page.mimetype == "text/html", iri
        data = client.get(id_path(iri), headers={"Accept": "text/turtle"}, follow_redirects=True)
        assert data.status_code == 200, iri
        graph = parsed(data, "turtle")
        assert any(iri in (str(s), str(o)) for s, _, o in graph), iri


def test_ontology_terms_in_the_plan_file_land_on_their_anchor(client, source):
    terms = sorted({str(t) for triple in source for t in triple
                    if isinstance(t, URIRef) and str(t).startswith(BASE + "ontology#")})
    assert terms
    page = client.get("/ontology", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for term in terms:
        assert f'id="{term.split("#", 1)[1]}"' in html, term


def test_configured_base_maps_to_the_server_root(tmp_path):
    """BASE_IRI moves every IRI; {base}id/X is still served at /id/X, and the RDF names the moved IRIs."""
    from planlod.web.app import create_app

    base = "http://plans.example.test/lod/"
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "BASE_IRI": base,
                      "STORE_DIR": str(tmp_path / "store")})
    client = app.test_client()
    response = client.get("/id/072044/lifelong-learning-plan/5/pillar/7-2", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    graph = parsed(client.get(response.headers["Location"]), "turtle")
    pillar = URIRef(base + "id/072044/lifelong-learning-plan/5/pillar/7-2")
    assert (pillar, URIRef("http://www.w3.org/2004/02/skos/core#broader"),
            URIRef(base + "id/072044/lifelong-learning-plan/5/direction/7")) in graph
    assert not any(str(term).startswith(BASE) for triple in graph for term in triple)


def test_every_iri_the_dataset_mints_answers(client):
    """Beyond plan.ttl: every {base}id/ IRI in every data file (other plans, link sets, assertions)."""
    graph = Graph()
    for path in sorted(DATA.rglob("*.ttl")):
        graph.parse(path, format="turtle")
    iris = every_iri_of_the_plan(graph)
    assert len(iris) >= 200  # 7 editions, their elements and link sets, the link assertions
    for iri in iris:
        page = client.get(id_path(iri), headers={"Accept": BROWSER_ACCEPT}, follow_redirects=True)
        assert page.status_code == 200 and page.mimetype == "text/html", iri
        data = client.get(id_path(iri), headers={"Accept": "application/n-triples"}, follow_redirects=True)
        assert data.status_code == 200, iri
        assert f"<{iri}>" in data.get_data(as_text=True), iri


@pytest.mark.parametrize(("path", "status"), [
    ("/id/a%20b", 404), ("/id/a%3Eb", 404), ("/doc/a%7Bb.ttl", 404), ("/doc/a%22b", 404),
    ("/diagram/a%20b.svg", 404), ("/resource?iri=foo%20bar", 400), ("/resource?iri=relative", 400),
    ("/resource?iri=" + "x" * 5000, 400), ("/id/%00", 404),
])
def test_what_is_not_an_iri_gets_a_clear_error_not_a_500(client, path, status):
    response = client.get(path, headers={"Accept": "text/plain"})
    assert response.status_code == status
    assert response.mimetype == "text/plain"
