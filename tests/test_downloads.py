"""Downloads: every file parses and holds exactly the store's content for its scope; the sizes and
checksums listed on /downloads are those of the bytes served; JSON-LD refers to the published @context
and still expands (with a JSON-LD processor) to the same triples; the outline CSV and its CSVW file."""

import csv
import hashlib
import io
import json
import threading
import warnings
from html.parser import HTMLParser
from pathlib import Path

import csvw
import pytest
import rdflib
from planlod.web import downloads as dl
from planlod.web.app import create_app
from planlod.web.store_access import get_store
from pyld import jsonld
from pyoxigraph import NamedNode, RdfFormat, parse
from rdflib.compare import isomorphic

EDITION_5 = "https://w3id.org/planlod/id/072044/lifelong-learning-plan/5"
PARSERS = {"ttl": "turtle", "rdf": "xml"}  # the triple syntaxes, read by rdflib


@pytest.fixture(scope="module")
def files(app):
    """Every downloadable file: (path, entry) for the whole dataset and each edition."""
    with app.app_context():
        downloads = dl.get_downloads()
        return list(downloads.entries.items())


def rdf_files(app):
    with app.app_context():
        return [e for e in dl.get_downloads().entries.values() if e.kind == "rdf"]


def expected_graphs(app, entry) -> dict[str, rdflib.Graph]:
    """The store's content for the entry's scope, graph by graph (rdflib terms)."""
    with app.app_context():
        store = get_store()
        graphs: dict[str, rdflib.Graph] = {}
        names = [entry.edition.iri] if entry.edition else store.graphs()
        for name in names:
            graph = graphs.setdefault(name, rdflib.Graph())
            for row in store.query(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{name}> {{ ?s ?p ?o }} }}"):
                graph.add((dl.rdflib_term(row["s"]), dl.rdflib_term(row["p"]), dl.rdflib_term(row["o"])))
        return {name: graph for name, graph in graphs.items() if len(graph)}


def union(graphs: dict[str, rdflib.Graph]) -> rdflib.Graph:
    merged = rdflib.Graph()
    for graph in graphs.values():
        for triple in graph:
            merged.add(triple)
    return merged


def parsed_graphs(data: bytes | str, rdf_format: RdfFormat) -> dict[str, rdflib.Graph]:
    """A quad syntax parsed (by pyoxigraph, another parser than the writer's for JSON-LD) graph by graph."""
    found: dict[str, rdflib.Graph] = {}
    for quad in parse(data.encode() if isinstance(data, str) else data, format=rdf_format):
        assert isinstance(quad.graph_name, NamedNode), "nothing belongs in the default graph"
        graph = found.setdefault(quad.graph_name.value, rdflib.Graph())
        graph.add((dl.rdflib_term(quad.subject), dl.rdflib_term(quad.predicate),
                   dl.rdflib_term(quad.object)))
    return found


def pytest_generate_tests(metafunc):
    if "rdf_entry" in metafunc.fixturenames:
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False})
        entries = rdf_files(app)
        metafunc.parametrize("rdf_entry", entries, ids=[e.path for e in entries])


def test_every_rdf_download_parses_and_matches_the_store(app, client, rdf_entry):
    response = client.get("/" + rdf_entry.path)
    assert response.status_code == 200
    assert response.mimetype == rdf_entry.media_type
    expected = expected_graphs(app, rdf_entry)
    if rdf_entry.ext == "jsonld":
        return  # checked by expansion below, through the published @context
    syntax = dl.SYNTAXES[rdf_entry.ext]
    if syntax.keeps_graphs:
        found = parsed_graphs(response.data, syntax.rdf_format)
        assert set(found) == set(expected)
        for name, graph in expected.items():
            assert isomorphic(found[name], graph), name
    else:
        graph = rdflib.Graph().parse(data=response.data, format=PARSERS[rdf_entry.ext])
        assert isomorphic(graph, union(expected))


@pytest.fixture(scope="module")
def document_loader(app):
    """pyld fetches the @context from this server (the public base maps to its root), nowhere else."""
    client = app.test_client()
    with app.app_context():
        base = get_store().base

    def load(url, options=None):
        assert url.startswith(base), f"the JSON-LD processor tried to fetch {url}"
        response = client.get("/" + url[len(base):])
        assert response.status_code == 200
        return {"contentType": response.mimetype, "contextUrl": None, "documentUrl": url,
                "document": json.loads(response.data)}

    return load


@pytest.mark.parametrize("scope", ["planlod", "072044/lifelong-learning-plan/5"])
def test_jsonld_refers_to_the_published_context_and_expands_to_the_same_triples(
        app, client, document_loader, scope):
    with app.app_context():
        entry = dl.get_downloads().entry(f"download/{scope}.jsonld")
        base = get_store().base
    document = json.loads(client.get("/" + entry.path).data)
    assert document["@context"] == base + "context.jsonld"  # a URL, not the embedded context
    nquads = jsonld.to_rdf(document, {"format": "application/n-quads", "documentLoader": document_loader})
    found = parsed_graphs(nquads, RdfFormat.N_QUADS)
    expected = expected_graphs(app, entry)
    assert set(found) == set(expected)
    for name, graph in expected.items():
        assert isomorphic(found[name], graph), name


def test_published_context_has_prefixes_and_language_maps(client):
    response = client.get("/context.jsonld")
    assert response.status_code == 200 and response.mimetype == "application/ld+json"
    context = json.loads(response.data)["@context"]
    assert context["skos"] == "http://www.w3.org/2004/02/skos/core#"
    assert context["plan"].endswith("ontology#")
    assert context["prefLabel"] == {"@id": "skos:prefLabel", "@container": "@language"}
    again = client.get("/context.jsonld", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


class ListingParser(HTMLParser):
    """The rows of /downloads: (href, size, sha256)."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.hrefs: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag == "td":
            self._cell = []
        elif tag == "a" and self._cell is not None:
            self.hrefs.append(dict(attrs)["href"])

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def test_listing_shows_every_file_with_the_size_and_checksum_of_its_bytes(client, files):
    page = client.get("/downloads")
    assert page.status_code == 200 and page.mimetype == "text/html"
    parser = ListingParser()
    parser.feed(page.data.decode())
    rows = [row for row in parser.rows if row]
    assert sorted(parser.hrefs) == sorted("/" + path for path, _ in files)
    for href, row in zip(parser.hrefs, rows, strict=True):
        size, sha256 = int(row[3].replace(",", "")), row[4]
        body = client.get(href).data
        assert len(body) == size, href
        assert hashlib.sha256(body).hexdigest() == sha256, href


def test_checksums_are_etags_and_a_match_gets_304(client):
    response = client.get("/download/planlod.ttl")
    etag = response.headers["ETag"].strip('"')
    assert etag == hashlib.sha256(response.data).hexdigest()
    assert response.headers["Repr-Digest"].startswith("sha-256=:")
    again = client.get("/download/planlod.ttl", headers={"If-None-Match": f'"{etag}"'})
    assert again.status_code == 304 and again.data == b""


def test_files_are_built_once_per_dataset_version(app):
    with app.test_request_context():
        first = dl.get_downloads()
        entry = first.entry("download/planlod.nq")
        built = first.built(entry)
        assert dl.get_downloads() is first
        assert first.built(entry) is built  # cached bytes, not rebuilt


def test_bytes_are_the_same_in_every_process(tmp_path):
    """Two loads of the same files (each with fresh random blank-node labels and its own store
    directory, so neither reads the other's cache) give the same bytes for every file."""
    checksums = []
    for run in ("a", "b"):
        app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE_DIR": str(tmp_path / run)})
        with app.app_context():
            downloads = dl.get_downloads()
            assert not (downloads.cache_dir / "download").exists()  # a fresh build
            entries = downloads.entries.items()
            checksums.append({path: downloads.built(entry).sha256 for path, entry in entries})
    assert checksums[0] == checksums[1] and len(checksums[0]) > 5


@pytest.mark.parametrize("path", [
    "/download/nothing.ttl", "/download/planlod.xyz", "/download/072044/lifelong-learning-plan/99.ttl",
    "/download/072044/lifelong-learning-plan/5/outline.xlsx", "/download/../../etc/passwd",
])
def test_unknown_downloads_are_404_with_a_hint(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert b"Traceback" not in response.data


def element_count(app, edition: str) -> int:
    with app.app_context():
        store = get_store()
        plan = store.base + "ontology#"
        query = (f"PREFIX plan: <{plan}> SELECT (COUNT(?e) AS ?n) "
                 f"WHERE {{ GRAPH <{edition}> {{ ?e a plan:PlanElement }} }}")
        return int(next(iter(store.query(query)))["n"].value)


def test_outline_csv_for_every_edition(app, client):
    with app.app_context():
        editions = dl.get_downloads().editions
    assert editions
    for edition in editions:
        with_bom = client.get(f"/download/{edition.path}/outline.csv")
        without = client.get(f"/download/{edition.path}/outline-nobom.csv")
        assert with_bom.status_code == without.status_code == 200
        assert with_bom.mimetype == "text/csv" and with_bom.mimetype_params.get("charset") == "utf-8"
        assert with_bom.data.startswith(b"\xef\xbb\xbf") and not without.data.startswith(b"\xef\xbb\xbf")
        assert with_bom.data[3:] == without.data
        table = list(csv.reader(io.StringIO(with_bom.data.decode("utf-8-sig"), newline="")))
        assert table[0] == [f"{c.ja} / {c.en}" for c in dl.outline.COLUMNS]
        assert len(table) - 1 == element_count(app, edition.iri), edition.path
        assert "describedby" in with_bom.headers["Link"]


def test_csvw_metadata_describes_the_two_csv_files(app, client):
    with app.app_context():
        base = get_store().base
    path = "/download/072044/lifelong-learning-plan/5/"
    response = client.get(path + "outline.csv-metadata.json")
    assert response.status_code == 200 and response.mimetype == "application/csvm+json"
    meta = json.loads(response.data)
    urls = sorted(table["url"] for table in meta["tables"])
    assert urls == sorted([base + path[1:] + "outline.csv", base + path[1:] + "outline-nobom.csv"])
    header = next(csv.reader(io.StringIO(client.get(path + "outline.csv").data.decode("utf-8-sig"))))
    columns = meta["tables"][0]["tableSchema"]["columns"]
    assert all(table["tableSchema"]["columns"] == columns for table in meta["tables"])
    assert len(columns) == len(header)
    for cell, column in zip(header, columns, strict=True):
        assert cell in column["titles"]["ja"]  # CSVW matches the header row against the titles
    # It is JSON-LD too: the CSVW context gives it RDF meaning (no fetch needed to read the JSON).
    assert meta["@context"][0] == "http://www.w3.org/ns/csvw"


def test_files_are_kept_beside_the_store_and_shared_with_other_processes(app, client):
    """The cache directory belongs to this version of the on-disk store; another process (a second
    Downloads over the same store stands in for it) reads the files instead of building them."""
    with app.app_context():
        downloads = dl.get_downloads()
        entry = downloads.entry("download/072044/lifelong-learning-plan/5.trig")
        built = downloads.built(entry)
        assert built.file is not None and built.file.is_relative_to(Path(get_store().path).parent)
        assert hashlib.sha256(built.file.read_bytes()).hexdigest() == built.sha256
        other = dl.Downloads(get_store())
        assert other.built(entry) == built
        assert entry.path not in {path for path in other._built if path != entry.path}
    response = client.get("/" + entry.path, headers={"Range": "bytes=0-9"})
    assert response.status_code == 206 and response.data == built.file.read_bytes()[:10]


def test_large_files_are_streamed_from_the_cache_directory(app, client, monkeypatch):
    monkeypatch.setattr(dl, "STREAM_ABOVE", 0)
    with app.app_context():
        built = dl.get_downloads().built(dl.get_downloads().entry("download/planlod.nq"))
    with client.get("/download/planlod.nq") as response:
        assert response.status_code == 200 and response.is_streamed
        assert response.get_data() == built.read()
        assert response.headers["ETag"].strip('"') == built.sha256
    with client.get("/download/planlod.nq", headers={"Range": "bytes=10-19"}) as response:
        assert response.status_code == 206 and response.get_data() == built.read()[10:20]


def test_a_csvw_processor_reads_both_csv_files_with_the_declared_datatypes(app, client, tmp_path):
    """The csvw package (a CSVW implementation) reads the metadata and both tables. The tables' URLs
    point at the public base, so the files are put beside the metadata and the URLs made local."""
    path = "/download/072044/lifelong-learning-plan/5/"
    meta = json.loads(client.get(path + "outline.csv-metadata.json").data)
    for table in meta["tables"]:
        name = table["url"].rsplit("/", 1)[-1]
        (tmp_path / name).write_bytes(client.get(path + name).data)
        table["url"] = name
    (tmp_path / "outline.csv-metadata.json").write_text(json.dumps(meta), encoding="utf-8")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        group = csvw.TableGroup.from_file(tmp_path / "outline.csv-metadata.json")
        tables = {table.url.string: list(table.iterdicts(strict=False)) for table in group.tables}
    # This processor compares header cells with untagged titles only; CSVW's own rule lets the header
    # (language "und") match our ja titles, which hold each header cell. Anything else is a finding.
    assert {str(w.message) for w in caught} <= {"Incompatible column titles"}
    expected = element_count(app, EDITION_5)
    assert {name: len(rows) for name, rows in tables.items()} == {
        "outline.csv": expected, "outline-nobom.csv": expected}
    assert tables["outline.csv"] == tables["outline-nobom.csv"]
    first = tables["outline.csv"][0]
    assert first["depth"] == 1 and first["order"] == 1 and first["page"] == 18  # integers, as declared
    assert first["parent"] is None and first["title_ja"] == "ささえる"
    assert first["iri"].unsplit() == EDITION_5 + "/policy/1"  # read as an anyURI


def test_listing_page_is_rendered_once_per_language(client):
    japanese = client.get("/downloads?lang=ja").get_data(as_text=True)
    english = client.get("/downloads?lang=en").get_data(as_text=True)
    assert "ダウンロード" in japanese and '<html lang="ja">' in japanese
    assert '<html lang="en">' in english and "CSV, UTF-8 with BOM" in english
    assert client.get("/downloads?lang=en").get_data(as_text=True) == english


def test_downloads_page_in_a_browser(guarded_page):
    """Accessible (axe: no serious violation), and its links fetch the files it lists."""
    from axe_playwright_python.sync_playwright import Axe

    page, server = guarded_page
    page.goto(server.url + "/downloads")
    violations = [v["id"] for v in Axe().run(page).response["violations"]
                  if v.get("impact") in ("serious", "critical")]
    assert violations == []
    link = page.locator("a[href$='/5/outline.csv']")
    row = link.locator("xpath=ancestor::tr")
    listed_size = int(row.locator("td.num").inner_text().replace(",", ""))
    response = page.request.get(server.url + link.get_attribute("href"))
    assert response.ok and len(response.body()) == listed_size
    assert response.body().startswith(b"\xef\xbb\xbf")


def test_a_built_file_is_served_while_another_build_holds_the_lock(app, client):
    """The start-up warm-up builds for seconds at scale; files it already made must not wait for it."""
    with app.app_context():
        downloads = dl.get_downloads()
        downloads.built(downloads.entry("download/072044/lifelong-learning-plan/5.ttl"))
    acquired = threading.Event()
    release = threading.Event()

    def hold():
        with downloads._lock:
            acquired.set()
            release.wait(5)  # without the lock-free path, the request below waits all this time

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert acquired.wait(5)
        response = client.get("/download/072044/lifelong-learning-plan/5.ttl")
        assert response.status_code == 200
        assert holder.is_alive()  # answered while the lock was still held
    finally:
        release.set()
        holder.join()


def test_every_file_can_be_built_before_the_server_starts(tmp_path, files):
    """What `planlod serve`'s prepare step can do: build all files beside the on-disk store, no app."""
    from planlod import config
    from planlod.graph.store import DatasetStore, prepare_store

    dirs = [Path(config.DEFAULTS[name]) for name in ("ONTOLOGY_DIR", "SHAPES_DIR", "DATA_DIR")]
    prepared = prepare_store(tmp_path, *dirs, config.DEFAULT_BASE_IRI, validate=None)
    downloads = dl.build_all(dl.Downloads(DatasetStore.open(prepared, config.DEFAULT_BASE_IRI)))
    assert set(downloads.entries) == {path for path, _ in files}
    for path in downloads.entries:
        assert (downloads.cache_dir / (path + ".sha256")).exists(), path
    again = dl.Downloads(DatasetStore.open(prepared, config.DEFAULT_BASE_IRI))  # a worker, later
    assert all(again.built(e).file is not None for e in again.entries.values())
