"""/healthz, the access log and /metrics: in-process, and across the workers of a real server."""

import hashlib
import json
import logging
import re
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from planlod.web.app import create_app
from planlod.web.health import ACCESS_LOGGER, DURATION_BUCKETS, SNAPSHOT_INTERVAL, query_hash
from servers import app_request, http_request, running_server

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_exposition(text: str) -> dict[tuple[str, frozenset], float]:
    """Prometheus text format -> {(metric name, labels): value}; rejects lines it cannot read."""
    samples = {}
    types = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
            continue
        if line.startswith("#") or not line:
            continue
        match = SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    assert types.get("planlod_http_requests_total") == "counter"
    assert types.get("planlod_http_request_duration_seconds") == "histogram"
    return samples


def requests_total(samples, endpoint: str, status: str, method: str = "GET") -> float:
    key = ("planlod_http_requests_total",
           frozenset({("method", method), ("endpoint", endpoint), ("status", status)}))
    return samples.get(key, 0.0)


@pytest.fixture
def access_lines():
    """The access log lines written while the test runs, parsed."""
    records: list[dict] = []

    class Collect(logging.Handler):
        def emit(self, record):
            records.append(json.loads(record.getMessage()))

    handler = Collect(level=logging.INFO)
    logger = logging.getLogger(ACCESS_LOGGER)
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


# -- /healthz --

def test_healthz_reports_the_loaded_store(client, app):
    reply = app_request(client, "GET", "/healthz")
    assert reply.status == 200
    body = json.loads(reply.body)
    assert body["status"] == "ok" and body["store"] == "loaded"
    from planlod.web.store_access import get_store

    with app.app_context():
        store = get_store()
        (row,) = store.query("SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }")
        assert body["triples"] == int(row["n"].value) > 0
        assert body["graphs"] == len(store.graphs())


def test_healthz_asks_an_external_store_and_says_when_it_stops_answering(app, tmp_path):
    """With STORE on a real Oxigraph server: 200 while it answers, 503 once it is gone."""
    from external_stores import oxigraph_load, running_oxigraph
    from planlod.graph.external_load import write_nquads
    from planlod.web.store_access import get_store

    with app.app_context():
        embedded = get_store()
        dump = tmp_path / "dataset.nq"
        write_nquads(embedded.sources, embedded.base, dump)
    oxigraph_load(dump, tmp_path / "store")
    with running_oxigraph(tmp_path / "store") as oxigraph:
        remote_app = create_app({"TESTING": True, "RATELIMIT_ENABLED": False, "STORE": oxigraph.query_url})
        remote_client = remote_app.test_client()
        reply = app_request(remote_client, "GET", "/healthz")
        assert reply.status == 200, reply.text
        assert json.loads(reply.body)["triples"] == len(embedded)
    reply = app_request(remote_client, "GET", "/healthz")  # the Oxigraph server is stopped now
    assert reply.status == 503
    assert json.loads(reply.body)["status"] == "unavailable"
    assert "Traceback" not in reply.text


# -- the access log --

@pytest.mark.parametrize("query", [
    "SELECT ?s WHERE { ?s ?p \"秘密の検索語\" } LIMIT 1",
    "ASK { ?s ?p ?o }",
])
def test_access_log_has_a_hash_of_the_query_never_its_text(client, access_lines, query):
    app_request(client, "GET", "/sparql?query=" + urllib.parse.quote(query))
    (line,) = [r for r in access_lines if r["path"] == "/sparql"]
    assert line["method"] == "GET"
    assert isinstance(line["status"], int)
    assert line["duration_ms"] >= 0
    assert line["query_hash"] == hashlib.sha256(query.encode()).hexdigest()[:16]
    flat = json.dumps(line, ensure_ascii=False)
    assert query not in flat and "秘密" not in flat and "?p" not in flat


def test_access_log_hashes_a_posted_query_too(client, access_lines):
    query = "ASK { ?s a ?type }"
    reply = app_request(client, "POST", "/sparql", {"Content-Type": "application/sparql-query"},
                        query.encode())
    assert reply.status == 200, reply.text[:300]
    (line,) = [r for r in access_lines if r["path"] == "/sparql"]
    assert line["method"] == "POST" and line["status"] == 200
    assert line["query_hash"] == query_hash(query)


def test_access_log_without_a_query_has_no_hash(client, access_lines):
    app_request(client, "GET", "/healthz")
    (line,) = [r for r in access_lines if r["path"] == "/healthz"]
    assert line["status"] == 200 and line["query_hash"] is None


# -- /metrics --

def test_metrics_count_requests_by_endpoint_and_status(client):
    before = parse_exposition(app_request(client, "GET", "/metrics").text)
    for _ in range(3):
        app_request(client, "GET", "/healthz")
    app_request(client, "GET", "/no/such/page-7f3a")
    reply = app_request(client, "GET", "/metrics")
    assert reply.status == 200
    assert reply.media_type == "text/plain" and "version=0.0.4" in reply.headers["content-type"]
    after = parse_exposition(reply.text)
    assert requests_total(after, "/healthz", "200") - requests_total(before, "/healthz", "200") == 3
    assert requests_total(after, "<unmatched>", "404") - requests_total(before, "<unmatched>", "404") == 1
    assert "page-7f3a" not in reply.text  # raw paths never become labels


def test_duration_histogram_is_cumulative_and_consistent(client):
    app_request(client, "GET", "/healthz")
    samples = parse_exposition(app_request(client, "GET", "/metrics").text)
    endpoint = ("endpoint", "/healthz")
    buckets = [samples[("planlod_http_request_duration_seconds_bucket",
                        frozenset({endpoint, ("le", le)}))]
               for le in [*(format(b, "g") for b in DURATION_BUCKETS), "+Inf"]]
    assert buckets == sorted(buckets)
    count = samples[("planlod_http_request_duration_seconds_count", frozenset({endpoint}))]
    assert buckets[-1] == count >= 1
    assert samples[("planlod_http_request_duration_seconds_sum", frozenset({endpoint}))] > 0


# -- a real server: counts summed over its gunicorn workers --

def scrape(server) -> dict:
    reply = http_request(server.url, "GET", "/metrics")
    assert reply.status == 200
    return parse_exposition(reply.text)


def test_metrics_sum_over_the_workers_of_a_real_server(live_server):
    assert_metrics_sum_over_workers(live_server)


def test_planlod_serve_shares_metrics_between_its_workers_by_itself():
    """Without PLANLOD_METRICS_DIR from outside, `planlod serve` must give its workers one directory.

    For web/serve.py: before starting gunicorn, set PLANLOD_METRICS_DIR to a fresh temporary directory
    (removed on exit, like the temporary store) unless the environment already names one. Without it
    each worker reports only itself (labelled so in the HELP text), which this test catches.
    """
    with running_server({"PLANLOD_METRICS_DIR": None}) as server:
        assert_metrics_sum_over_workers(server)


def assert_metrics_sum_over_workers(live_server):
    time.sleep(2 * SNAPSHOT_INTERVAL + 0.5)  # earlier requests (the start-up probe) settle in the baseline
    start = requests_total(scrape(live_server), "/healthz", "200")
    sent = 40
    with ThreadPoolExecutor(max_workers=8) as pool:  # concurrent, so both workers take requests
        statuses = list(pool.map(lambda _: http_request(live_server.url, "GET", "/healthz").status,
                                 range(sent)))
    assert statuses == [200] * sent
    deadline = time.monotonic() + 10
    while True:
        samples = scrape(live_server)
        seen = requests_total(samples, "/healthz", "200") - start
        if seen >= sent or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert seen == sent
    # Whichever worker answers a scrape, it reports the whole server once its peers' snapshots are
    # written (at most SNAPSHOT_INTERVAL old).
    time.sleep(2 * SNAPSHOT_INTERVAL + 0.5)
    scrapes = [scrape(live_server) for _ in range(8)]
    assert [requests_total(s, "/healthz", "200") - start for s in scrapes] == [sent] * 8
    assert all(s[("planlod_metrics_processes", frozenset())] >= 1 for s in scrapes)


def test_real_server_access_log_hashes_the_query(live_server):
    query = "SELECT ?edition WHERE { ?edition a ?type } LIMIT 2"
    reply = http_request(live_server.url, "GET", "/sparql?query=" + urllib.parse.quote(query),
                         {"Accept": "application/sparql-results+json"})
    assert reply.status == 200, reply.text[:300]
    time.sleep(0.2)
    lines = [r for r in live_server.access_log() if r["path"] == "/sparql"]
    assert any(r["query_hash"] == query_hash(query) and r["status"] == 200 for r in lines)
    assert query not in live_server.log_text()
