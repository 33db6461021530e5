"""The killable query pool (graph/query_pool.py) over a real on-disk store of the project's data.

A runaway query (a cartesian product of the store with itself four times over) is stopped within a
small limit, its worker is killed and replaced, and the next query is answered; no process is left
behind, also when the owner dies without closing the pool.
"""

import json
import os
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from planlod import config
from planlod.graph.query_pool import (
    PoolBusy,
    QueryJob,
    QueryMemoryExceeded,
    QueryPool,
    QuerySyntaxError,
    QueryTimeout,
    WorkerFailed,
)
from planlod.graph.store import DatasetStore, prepare_store
from pyoxigraph import QueryResultsFormat

LIMIT = 1.5  # seconds: small so the runaway tests are quick
SLACK = 5.0  # allowed past the limit for the kill and the reply on a loaded 2-core machine
RUNAWAY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it has stopped running all the same.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split(") ", 1)[1][0] != "Z"


def wait_gone(pids, seconds: float = 5.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if alive(p)]


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> DatasetStore:
    defaults = config.DEFAULTS
    # The SHACL gate is not what these tests are about (tests/test_serve.py runs it): validate=None.
    prepared = prepare_store(tmp_path_factory.mktemp("store"), Path(defaults["ONTOLOGY_DIR"]),
                             Path(defaults["SHAPES_DIR"]), Path(defaults["DATA_DIR"]),
                             config.DEFAULT_BASE_IRI, validate=None)
    return DatasetStore.open(prepared, config.DEFAULT_BASE_IRI)


@pytest.fixture
def pool(store):
    running = QueryPool(str(store.path), size=2, timeout=LIMIT)
    yield running
    running.close()


def count_in_process(store) -> str:
    return store.query(COUNT).serialize(format=QueryResultsFormat.JSON)


def test_answers_as_the_store_does_in_process(pool, store):
    reply = pool.run(QueryJob(COUNT))
    assert reply.kind == "solutions" and not reply.truncated
    assert json.loads(reply.body) == json.loads(count_in_process(store))
    assert int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"]) == len(store)


def test_a_runaway_query_is_stopped_and_the_next_is_answered(pool, store):
    before = pool.pids()
    started = time.monotonic()
    with pytest.raises(QueryTimeout) as stopped:
        pool.run(QueryJob(RUNAWAY))
    elapsed = time.monotonic() - started
    assert LIMIT <= elapsed < LIMIT + SLACK
    assert f"{LIMIT:g} s" in str(stopped.value)
    after = pool.pids()
    assert len(after) == 2 and len(set(before) - set(after)) == 1  # one killed, one new in its place
    assert wait_gone(set(before) - set(after)) == []
    reply = pool.run(QueryJob(COUNT))
    assert json.loads(reply.body) == json.loads(count_in_process(store))


def test_runaways_on_every_worker_at_once(pool, store):
    errors = []

    def runaway():
        try:
            pool.run(QueryJob(RUNAWAY))
        except QueryTimeout as error:
            errors.append(error)

    threads = [threading.Thread(target=runaway) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=LIMIT + SLACK)
    assert len(errors) == 2
    assert json.loads(pool.run(QueryJob(COUNT)).body) == json.loads(count_in_process(store))


def test_a_waiting_query_is_told_the_pool_is_busy(store):
    small = QueryPool(str(store.path), size=1, timeout=LIMIT)
    try:
        runner = threading.Thread(target=lambda: pytest.raises(QueryTimeout, small.run, QueryJob(RUNAWAY)))
        runner.start()
        time.sleep(0.3)
        with pytest.raises(PoolBusy):
            small.run(QueryJob("ASK {}"), timeout=0.2)
        runner.join(timeout=LIMIT + SLACK)
    finally:
        small.close()


def test_a_worker_killed_while_idle_is_replaced_without_losing_the_query(pool):
    victim = pool.pids()[0]
    os.kill(victim, 9)
    assert wait_gone([victim]) == []
    for _ in range(3):
        assert json.loads(pool.run(QueryJob("ASK {}")).body)["boolean"] is True
    assert victim not in pool.pids() and len(pool.pids()) == 2


def test_syntax_errors_name_line_and_column(pool):
    with pytest.raises(QuerySyntaxError, match=r"error at 2:\d+"):
        pool.run(QueryJob("SELECT *\nWHERE { ?s ?p }"))


@pytest.mark.parametrize(("fmt", "lines"), [("tsv", 4), ("csv", 4)])
def test_results_are_cut_at_max_rows_and_marked(pool, fmt, lines):
    reply = pool.run(QueryJob("SELECT ?s WHERE { ?s ?p ?o }", results_format=fmt, max_rows=3))
    assert reply.truncated and reply.rows == 3
    assert reply.body.count(b"\n") == lines  # a header and 3 rows


def test_a_result_at_the_limit_is_not_marked(pool):
    reply = pool.run(QueryJob("SELECT ?x WHERE { VALUES ?x { 1 2 3 } }", max_rows=3))
    assert not reply.truncated and reply.rows == 3


def test_close_leaves_no_process(store):
    pool = QueryPool(str(store.path), size=2, timeout=LIMIT)
    pool.run(QueryJob("ASK {}"))
    with pytest.raises(QueryTimeout):
        pool.run(QueryJob(RUNAWAY))
    pids = pool.pids()
    pool.close()
    assert wait_gone(pids) == []
    with pytest.raises(WorkerFailed):
        pool.run(QueryJob("ASK {}"))


def test_workers_do_not_outlive_an_owner_that_dies_mid_query(store):
    """The owner is SIGKILLed while a worker runs a runaway: the worker notices and exits on its own."""
    script = textwrap.dedent(f"""
        import sys, threading, time
        from planlod.graph.query_pool import QueryJob, QueryPool
        pool = QueryPool({str(store.path)!r}, size=2, timeout=600)
        pool.run(QueryJob("ASK {{}}"))
        print(" ".join(map(str, pool.pids())), flush=True)
        threading.Thread(target=pool.run, args=(QueryJob({RUNAWAY!r}),), daemon=True).start()
        time.sleep(600)
    """)
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in owner.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        time.sleep(0.5)  # the runaway is under way
    finally:
        owner.kill()
        owner.wait()
        owner.stdout.close()
    assert wait_gone(pids, seconds=5) == []


def test_a_query_over_the_memory_limit_stops_only_its_worker(store):
    small = QueryPool(str(store.path), size=1, timeout=60, memory_mb=300)
    try:
        hungry = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f"  # ~15 M rows held to be sorted
        with pytest.raises(QueryMemoryExceeded, match="300 MB"):
            small.run(QueryJob(hungry))
        assert json.loads(small.run(QueryJob(COUNT)).body) == json.loads(count_in_process(store))
    finally:
        small.close()
