"""Probes against a real `planlod serve`: runaway queries, SSRF through SERVICE/FROM/LOAD, hostile bytes.

Every response is checked for a traceback in its body and for a status below 500.
The server here runs with a short query time limit so that the runaway probe is quick.
"""

import socket
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import pytest
from servers import http_request, running_server
from sparql_results import assert_no_traceback, boolean, rows

TIME_LIMIT = 3  # seconds, for this test server only
SLACK = 12  # seconds allowed past the limit for the kill, the worker's replacement and the reply
DIRECT = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/sparql-results+json"}
# A cartesian product of the whole store with itself four times over: ~10^12 rows to count.
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def server():
    with running_server({"PLANLOD_QUERY_TIMEOUT": str(TIME_LIMIT)}) as running:
        yield running


def checked(reply, timeout_allowed: bool = False):
    """No traceback, and below 500 — except 503 for a query stopped at the time limit, when allowed.

    A stopped query is not bad input: the endpoint answers 503 "would not finish this now", as Fuseki
    does (web/sparql.py explains the choice). Only that answer, naming the limit, is let through, or
    503 with Retry-After when every query worker of the answering process was busy with runaways.
    """
    assert_no_traceback(reply.body)
    if timeout_allowed and reply.status == 503:
        assert "QUERY_TIMEOUT" in reply.text or "retry-after" in reply.headers, reply.text[:500]
        return reply
    assert reply.status < 500, (reply.status, reply.text[:500])
    return reply


def ask(server, query: str, timeout_allowed: bool = False):
    reply = http_request(server.url, "POST", "/sparql", DIRECT, query.encode())
    return checked(reply, timeout_allowed)


# -- a runaway query is stopped within the limit, and the server goes on answering --

def test_runaway_query_is_stopped_within_the_limit(server):
    started = time.monotonic()
    reply = ask(server, RUNAWAY, timeout_allowed=True)
    elapsed = time.monotonic() - started
    assert reply.status == 503, reply.status
    assert TIME_LIMIT <= elapsed < TIME_LIMIT + SLACK, elapsed
    assert f"{TIME_LIMIT} s" in reply.text  # the message names the limit
    after = ask(server, "ASK { ?s ?p ?o }")
    assert after.status == 200 and boolean(after.media_type, after.body) is True


def test_runaways_on_every_worker_at_once_leave_the_server_answering(server):
    with ThreadPoolExecutor(max_workers=3) as pool:
        replies = list(pool.map(lambda _: ask(server, RUNAWAY, timeout_allowed=True), range(3)))
    assert [r.status for r in replies] == [503] * 3
    reply = ask(server, "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    assert reply.status == 200
    assert int(rows(reply.media_type, reply.body)[0]["n"]) > 0


# -- nothing in a query makes the server connect anywhere --

class Listener:
    """A TCP socket on loopback that records every connection made to it."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = []
        self.running = True
        self.thread = threading.Thread(target=self.accept_loop, daemon=True)
        self.thread.start()

    def accept_loop(self):
        while self.running:
            try:
                conn, peer = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(peer)
            conn.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


@pytest.fixture
def listener():
    running = Listener()
    yield running
    running.close()


SSRF_QUERIES = [
    ("service", "SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-silent", "SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-localhost", "SELECT * WHERE {{ SERVICE <http://localhost:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-short-ipv4", "SELECT * WHERE {{ SERVICE <http://127.1:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-decimal-ipv4", "SELECT * WHERE {{ SERVICE <http://2130706433:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-hex-ipv4", "SELECT * WHERE {{ SERVICE <http://0x7f000001:{port}/sparql> {{ ?s ?p ?o }} }}"),
    ("service-in-optional", "SELECT * WHERE {{ ?x ?y ?z OPTIONAL {{ SERVICE <http://127.0.0.1:{port}/> "
                            "{{ ?x ?p ?o }} }} }} LIMIT 1"),
    ("service-variable", "SELECT * WHERE {{ VALUES ?e {{ <http://127.0.0.1:{port}/sparql> }} "
                         "SERVICE ?e {{ ?s ?p ?o }} }}"),
    ("from", "SELECT * FROM <http://127.0.0.1:{port}/data.ttl> WHERE {{ ?s ?p ?o }}"),
    ("from-named", "SELECT * FROM NAMED <http://127.0.0.1:{port}/data.ttl> "
                   "WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"),
]


@pytest.mark.parametrize(("name", "template"), SSRF_QUERIES, ids=[q[0] for q in SSRF_QUERIES])
def test_query_cannot_make_the_server_connect(server, listener, name, template):
    reply = ask(server, template.format(port=listener.port))
    if name.startswith("service") and "silent" not in name and "optional" not in name:
        assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
    time.sleep(0.5)  # a connection attempt, if any, would have arrived by now
    assert listener.connections == []


def test_allow_listing_a_loopback_endpoint_still_connects_nowhere():
    """Even on the allow-list, a name or address that is loopback is refused (before and after DNS)."""
    listener = Listener()
    try:
        allowed = [f"http://localhost:{listener.port}/sparql", f"http://127.0.0.1:{listener.port}/sparql"]
        with running_server({"PLANLOD_SERVICE_ALLOWLIST": " ".join(allowed)}) as allowing:
            for endpoint in allowed:
                reply = ask(allowing, f"SELECT * WHERE {{ SERVICE <{endpoint}> {{ ?s ?p ?o }} }}")
                assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
            time.sleep(0.5)
        assert listener.connections == []
    finally:
        listener.close()


@pytest.mark.parametrize("update", [
    "LOAD <http://127.0.0.1:{port}/data.ttl>",
    "LOAD SILENT <http://127.0.0.1:{port}/data.ttl> INTO GRAPH <urn:x>",
])
def test_load_is_refused_without_connecting(server, listener, update):
    body = update.format(port=listener.port).encode()
    reply = checked(http_request(server.url, "POST", "/sparql", {"Content-Type": "application/sparql-update"},
                                 body))
    assert 400 <= reply.status < 500
    form = urllib.parse.urlencode({"update": update.format(port=listener.port)}).encode()
    assert 400 <= checked(http_request(server.url, "POST", "/sparql", FORM, form)).status < 500
    time.sleep(0.5)
    assert listener.connections == []


# -- hostile bytes: a clear 4xx, never a 500 or a traceback --

BAD_TARGETS = [
    ("nul-in-query", "/sparql?query=ASK%20%7B%00%7D"),
    ("nul-only", "/sparql?query=%00"),
    ("nul-in-parameter-name", "/sparql?que%00ry=ASK%20%7B%7D"),
    ("invalid-utf8", "/sparql?query=ASK%20%7B%FF%FE%7D"),
    ("overlong-utf8", "/sparql?query=ASK%20%7B%C0%AF%7D"),
    ("lone-surrogate", "/sparql?query=ASK%20%7B%ED%A0%80%7D"),
    ("truncated-percent", "/sparql?query=ASK%20%7B%7"),
    ("bad-percent", "/sparql?query=ASK%zz%20%7B%7D"),
    ("lone-percent", "/sparql?query=%"),
    ("invalid-utf8-graph", "/sparql?query=ASK%20%7B%7D&default-graph-uri=%FF"),
    ("nul-graph", "/sparql?query=ASK%20%7B%7D&named-graph-uri=http%3A%2F%2Fx%00"),
    ("not-an-iri-graph", "/sparql?query=ASK%20%7B%7D&default-graph-uri=%3Cnot%20an%20iri%3E"),
    ("bad-format", "/sparql?query=ASK%20%7B%7D&format=%FF%00"),
]


@pytest.mark.parametrize(("name", "target"), BAD_TARGETS, ids=[t[0] for t in BAD_TARGETS])
def test_hostile_query_strings(server, name, target):
    reply = checked(http_request(server.url, "GET", target, {"Accept": "application/sparql-results+json"}))
    if name != "bad-format":
        assert 400 <= reply.status < 500, (reply.status, reply.text[:300])


BAD_BODIES = [
    ("nul-direct", DIRECT, b"ASK {\x00}"),
    ("invalid-utf8-direct", DIRECT, b"ASK { ?s ?p \"\xff\xfe\" }"),
    ("latin1-charset-direct", {**DIRECT, "Content-Type": "application/sparql-query; charset=ISO-8859-1"},
     "ASK { ?s ?p \"é\" }".encode("latin-1")),
    ("invalid-utf8-form", FORM, b"query=ASK%20%7B%20%3Fs%20%3Fp%20%22%FF%22%20%7D"),
    ("raw-invalid-utf8-form", FORM, b"query=ASK {\xff}"),
    ("bad-percent-form", FORM, b"query=ASK%20%7B%zz%7D"),
    ("nul-form", FORM, b"query=%00"),
    ("empty-direct", DIRECT, b""),
    ("empty-form", FORM, b""),
    ("form-without-query", FORM, b"default-graph-uri=urn%3Ax"),
]


@pytest.mark.parametrize(("name", "headers", "body"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_hostile_bodies(server, name, headers, body):
    reply = checked(http_request(server.url, "POST", "/sparql", headers, body))
    assert 400 <= reply.status < 500, (reply.status, reply.text[:300])


# Deep nesting within MAX_QUERY_LENGTH: a recursive parser must refuse it, not overflow its stack.
DEEP_QUERIES = [
    ("parentheses", "SELECT * WHERE {{ FILTER({open}1{close}) }}", "(", ")", 10_000),
    ("braces", "SELECT * WHERE {open}?s ?p ?o{close}", "{ ", " }", 10_000),
    ("optional", "SELECT * WHERE {open}?s ?p ?o{close}", "{ ?s ?p ?o OPTIONAL ", " }", 4_000),
]


@pytest.mark.parametrize(("name", "template", "opener", "closer", "depth"), DEEP_QUERIES,
                         ids=[d[0] for d in DEEP_QUERIES])
def test_deeply_nested_query_is_a_clear_4xx(server, name, template, opener, closer, depth):
    query = template.format(open=opener * depth, close=closer * depth)
    assert len(query) < 100_000  # under the default MAX_QUERY_LENGTH: this is about depth, not size
    reply = ask(server, query)
    assert 400 <= reply.status < 500, (reply.status, reply.text[:300])
    after = ask(server, "ASK { ?s ?p ?o }")
    assert after.status == 200 and boolean(after.media_type, after.body) is True


def send_large(server, headers: dict[str, str], size: int):
    """POST `size` bytes; the server may answer 413 and close before it has read them all."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        connection.putrequest("POST", "/sparql")
        for name, value in {**headers, "Content-Length": str(size)}.items():
            connection.putheader(name, value)
        connection.endheaders()
        chunk = b"#" * 65536
        sent = 0
        try:
            while sent < size:
                connection.send(chunk[: size - sent])
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused early: the answer is what matters
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


@pytest.mark.parametrize("headers", [DIRECT, FORM], ids=["direct", "form"])
def test_a_20_mb_body_is_413(server, headers):
    status, body = send_large(server, headers, 20 * 1024 * 1024)
    assert status == 413, (status, body[:300])
    assert_no_traceback(body)
    assert http_request(server.url, "GET", "/healthz").status == 200


def test_a_huge_query_string_is_refused(server):
    target = "/sparql?query=" + "%23" * 200_000
    try:
        reply = http_request(server.url, "GET", target)
    except ConnectionResetError:
        return  # gunicorn may drop a request line past its limit; that is a refusal too
    checked(reply)
    assert 400 <= reply.status < 500
