"""Federation: SERVICE joins our data with another real endpoint, only when that endpoint is allowed.

The peer is a second real server on loopback: `oxigraph serve-read-only` holding a different plan (西宮市
生涯学習推進計画) published under the peer's own IRIs, as another city would publish its plan with the shared
planlod ontology. Loopback peers are refused in production whatever the allow-list says; these tests turn
on the test-only setting SERVICE_ALLOW_LOOPBACK (off by default, never set in a deployment) to reach it.
"""

import json
import socket
import threading
import time
from pathlib import Path

import pytest
from external_stores import oxigraph_load, running_oxigraph
from planlod.config import DEFAULT_BASE_IRI
from planlod.graph.dataset import Source, discover, quads_of
from planlod.graph.external_load import write_nquads
from pyoxigraph import NamedNode, Quad, RdfFormat, Store, serialize
from servers import http_request, running_server
from sparql_results import assert_no_traceback

PROJECT = Path(__file__).resolve().parents[1]
OURS = DEFAULT_BASE_IRI + "id/072044/lifelong-learning-plan/5"  # the Iwaki 5th edition, in our store
THEIRS = DEFAULT_BASE_IRI + "id/282049/lifelong-learning-plan/2021"  # the Nishinomiya plan, at the peer
PEER_BASE = "http://peer.test/planlod/"  # .test is reserved (RFC 6761): names nothing real
PEER_EDITION = PEER_BASE + "id/282049/lifelong-learning-plan/2021"

DIRECT = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}

PREFIXES = """PREFIX plan: <https://w3id.org/planlod/ontology#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
"""
# Basic policies (the plan:BasicPolicy level type, shared by both plans) here and at the peer, side by side.
JOIN = PREFIXES + """SELECT ?ours ?theirs ?theirLabel WHERE {{
  GRAPH <{ours}> {{ ?ours plan:level/plan:levelType plan:BasicPolicy }}
  SERVICE <{peer}> {{
    ?theirs plan:level/plan:levelType plan:BasicPolicy ; skos:prefLabel ?theirLabel .
    FILTER(LANG(?theirLabel) = "ja")
  }}
}}"""


def peer_quads(source: Source):
    """The plan's quads with its own IRIs (ours under /id/) moved to the peer's base; ontology terms kept."""
    ours = DEFAULT_BASE_IRI + "id/"

    def moved(term):
        if isinstance(term, NamedNode) and term.value.startswith(ours):
            return NamedNode(PEER_BASE + "id/" + term.value[len(ours):])
        return term

    for quad in quads_of(source):
        yield Quad(moved(quad.subject), quad.predicate, moved(quad.object), moved(quad.graph_name))


def bindings(reply) -> list[dict[str, str]]:
    assert reply.status == 200, (reply.status, reply.text[:500])
    document = json.loads(reply.body)
    return [{name: value["value"] for name, value in row.items()} for row in document["results"]["bindings"]]


def ask(server, query: str):
    reply = http_request(server.url, "POST", "/sparql", DIRECT, query.encode())
    assert reply.status < 500, (reply.status, reply.text[:500])
    assert_no_traceback(reply.body)
    return reply


@pytest.fixture(scope="module")
def sources() -> list[Source]:
    return discover(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data")


@pytest.fixture(scope="module")
def peer(sources, tmp_path_factory):
    """The second real server: the Nishinomiya plan under the peer's IRIs, served by Oxigraph."""
    directory = tmp_path_factory.mktemp("peer")
    plan = next(source for source in sources if source.graph == THEIRS)
    dump = directory / "peer.nq"
    serialize(peer_quads(plan), output=str(dump), format=RdfFormat.N_QUADS)
    oxigraph_load(dump, directory / "store")
    with running_oxigraph(directory / "store") as server:
        yield server


@pytest.fixture(scope="module")
def their_policies(sources) -> dict[str, str]:
    """The peer plan's basic policies as the data file has them: peer IRI -> ja label."""
    store = Store()
    store.extend(peer_quads(next(source for source in sources if source.graph == THEIRS)))
    rows = store.query(PREFIXES + """SELECT ?e ?label WHERE { GRAPH ?g {
        ?e plan:level/plan:levelType plan:BasicPolicy ; skos:prefLabel ?label
        FILTER(LANG(?label) = "ja") } }""")
    policies = {row["e"].value: row["label"].value for row in rows}
    assert len(policies) == 4  # 西宮市: 4 基本方針 (shared/reference/other-plans.md)
    return policies


def federation_env(peer_url: str, loopback: bool) -> dict[str, str]:
    return {"PLANLOD_SERVICE_ALLOWLIST": peer_url,
            "PLANLOD_SERVICE_ALLOW_LOOPBACK": "true" if loopback else "false"}


@pytest.fixture(scope="module")
def federating(peer):
    """`planlod serve` on the embedded store, the peer allowed, loopback peers allowed for this test."""
    with running_server(federation_env(peer.query_url, loopback=True)) as server:
        yield server


def assert_joined(rows: list[dict[str, str]], their_policies: dict[str, str]) -> None:
    our_policies = {row["ours"] for row in rows}
    assert len(our_policies) == 4 and all(iri.startswith(OURS + "/policy/") for iri in our_policies)
    # The peer's IRIs exist nowhere in our store: these rows came through SERVICE.
    assert {row["theirs"]: row["theirLabel"] for row in rows} == their_policies
    assert len(rows) == 4 * 4


def test_service_joins_our_plan_with_the_peers(federating, peer, their_policies):
    rows = bindings(ask(federating, JOIN.format(ours=OURS, peer=peer.query_url)))
    assert_joined(rows, their_policies)


def test_peer_iris_are_not_in_our_store(federating):
    reply = ask(federating, f"ASK {{ GRAPH ?g {{ <{PEER_EDITION}> ?p ?o }} }}")
    assert reply.status == 200 and json.loads(reply.body)["boolean"] is False


def test_service_silent_on_an_allowed_peer_that_is_down(peer, their_policies):
    """SILENT: a failing allowed peer adds nothing and the rest of the query is answered."""
    down = f"http://127.0.0.1:{_closed_port()}/query"
    with running_server(federation_env(f"{peer.query_url} {down}", loopback=True)) as server:
        query = JOIN.format(ours=OURS, peer=down).replace("SERVICE <", "SERVICE SILENT <")
        rows = bindings(ask(server, query))
        assert len(rows) == 4 and all(set(row) == {"ours"} for row in rows)


# -- refusals: nothing connects --

class Listener:
    """A loopback port that records every connection made to it and answers none."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/query"
        self.connections: list[tuple] = []
        self.running = True
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while self.running:
            try:
                connection, address = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.connections.append(address)
            connection.close()

    def close(self):
        self.running = False
        self.thread.join(timeout=2)
        self.sock.close()


def _closed_port() -> int:
    listener = Listener()
    listener.close()
    return listener.port


@pytest.fixture(scope="module")
def listener():
    running = Listener()
    yield running
    running.close()


@pytest.fixture(scope="module")
def production_like(listener):
    """The listener is on the allow-list, but loopback stays refused (the production default)."""
    with running_server(federation_env(listener.url, loopback=False)) as server:
        yield server


def test_allow_listed_loopback_peer_is_refused_without_the_test_setting(production_like, listener):
    reply = ask(production_like, JOIN.format(ours=OURS, peer=listener.url))
    assert 400 <= reply.status < 500
    time.sleep(0.5)  # a connection attempt, if any, would have arrived by now
    assert listener.connections == []


def test_endpoint_off_the_allow_list_is_refused(federating, listener):
    reply = ask(federating, JOIN.format(ours=OURS, peer=listener.url))
    assert 400 <= reply.status < 500
    time.sleep(0.5)
    assert listener.connections == []


# -- federation when planlod runs on an external store --

@pytest.fixture(scope="module")
def external_federating(peer, sources, tmp_path_factory):
    """planlod serve on an Oxigraph store of our dataset, the peer allowed: the store runs the SERVICE."""
    directory = tmp_path_factory.mktemp("ours")
    write_nquads(sources, DEFAULT_BASE_IRI, directory / "ours.nq")
    oxigraph_load(directory / "ours.nq", directory / "store")
    with running_oxigraph(directory / "store") as store:
        env = federation_env(peer.query_url, loopback=True) | {"PLANLOD_STORE": store.query_url}
        with running_server(env) as server:
            yield server


def test_service_through_the_external_store(external_federating, peer, their_policies):
    rows = bindings(ask(external_federating, JOIN.format(ours=OURS, peer=peer.query_url)))
    assert_joined(rows, their_policies)


def test_external_store_refuses_what_is_not_allowed(external_federating, listener):
    reply = ask(external_federating, JOIN.format(ours=OURS, peer=listener.url))
    assert 400 <= reply.status < 500
    time.sleep(0.5)
    assert listener.connections == []
