"""Untrusted SPARQL queries, run in a warm pool of worker processes that can be killed.

pyoxigraph cannot cancel a query from Python (oxigraph issue #1926), so a query runs in a separate
process over the same on-disk store (opened read-only) and the caller waits at most `timeout` seconds:
a worker that overruns is killed (SIGKILL, the only signal a busy Rust loop cannot ignore), a fresh one
is started in its place at once, and the caller gets `QueryTimeout`. With `memory_mb`, a worker's heap is
capped (RLIMIT_DATA): a query that needs more kills only its worker, and the caller gets
`QueryMemoryExceeded`. Workers are started ahead of use
and reused, so a query costs one round trip over a socket pair, not a process start.

    pool = QueryPool(store_path, size=2, timeout=30)
    reply = pool.run(QueryJob(query="ASK {}", results_format="json"))
    reply.body, reply.kind, reply.truncated
    pool.close()

Serialization happens in the worker, natively (pyoxigraph), so only bytes cross the socket. A result
larger than `max_rows` is cut there, and the reply says so (`truncated`), never silently: the worker
serializes to TSV/N-Triples (one row/triple per line) through a writer that stops the engine once
max_rows + 1 lines are out, keeps max_rows lines, and re-serializes those natively in the asked format.

Run as `python -m planlod.graph.query_pool FD STORE_PATH`, this module is the worker.
"""

import atexit
import contextlib
import io
import os
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass, field
from multiprocessing.connection import Connection

START_TIMEOUT = 60.0  # seconds for a new worker to import pyoxigraph and open the store
STOP_GRACE = 2.0


class QueryPoolError(Exception):
    """Base of what `QueryPool.run` raises; the message is safe to show a client."""


class QueryTimeout(QueryPoolError):
    def __init__(self, limit: float):
        super().__init__(f"The query ran longer than the time limit of {limit:g} s and was stopped.")
        self.limit = limit


class PoolBusy(QueryPoolError):
    def __init__(self, size: int, waited: float):
        super().__init__(f"All {size} query workers stayed busy for {waited:g} s; try again shortly.")
        self.waited = waited


class WorkerFailed(QueryPoolError):
    """A worker died or could not start (not the query's fault as far as we can tell)."""


class QueryMemoryExceeded(QueryPoolError):
    def __init__(self, limit_mb: int):
        super().__init__(f"The query needed more than the memory limit of {limit_mb} MB and was stopped.")
        self.limit_mb = limit_mb


class QuerySyntaxError(QueryPoolError):
    """pyoxigraph's parser refused the query; the message names line and column."""


class QueryEvaluationError(QueryPoolError):
    """The query parsed but failed while running (e.g. a SERVICE call failed)."""


@dataclass
class QueryJob:
    query: str
    results_format: str = "json"  # for SELECT / ASK: json, xml, csv, tsv
    graph_format: str = "turtle"  # for CONSTRUCT / DESCRIBE: turtle, ntriples, rdfxml, jsonld, trig, nquads
    base_iri: str | None = None
    union_default_graph: bool = True
    default_graph: list[str] | None = None  # protocol dataset; None: the query's (or the union)
    named_graphs: list[str] | None = None
    max_rows: int | None = None  # None: uncapped
    # True when the query's own top-level LIMIT keeps it within max_rows: serialize directly.
    within_limit: bool = False
    prefixes: dict[str, str] = field(default_factory=dict)


@dataclass
class QueryReply:
    kind: str  # "solutions", "boolean" or "triples"
    body: bytes
    truncated: bool = False
    rows: int | None = None  # rows/triples in the body when they were counted (cut or checked)
    seconds: float = 0.0  # time spent in the worker


# ---- the worker process ----

class _LineCapWriter(io.RawIOBase):
    """Collects output and stops the engine (by raising) once `lines` newline characters are out."""

    class Full(Exception):
        pass

    def __init__(self, lines: int):
        self.buffer = bytearray()
        self.lines_left = lines

    def writable(self) -> bool:
        return True

    def write(self, chunk) -> int:
        self.buffer += chunk
        self.lines_left -= bytes(chunk).count(b"\n")
        if self.lines_left < 0:
            raise self.Full()
        return len(chunk)


def _first_lines(data: bytes | bytearray, count: int) -> tuple[bytes, bool]:
    """The first `count` lines of `data`, and whether anything came after them."""
    end = -1
    for _ in range(count):
        end = data.find(b"\n", end + 1)
        if end < 0:
            return bytes(data), False
    return bytes(data[:end + 1]), len(data) > end + 1


def execute_job(store, job: QueryJob) -> QueryReply:
    from pyoxigraph import (
        NamedNode,
        QueryBoolean,
        QueryResultsFormat,
        QuerySolutions,
        RdfFormat,
        parse,
        parse_query_results,
        serialize,
    )

    results_formats = {"json": QueryResultsFormat.JSON, "xml": QueryResultsFormat.XML,
                       "csv": QueryResultsFormat.CSV, "tsv": QueryResultsFormat.TSV}
    graph_formats = {"turtle": RdfFormat.TURTLE, "ntriples": RdfFormat.N_TRIPLES,
                     "rdfxml": RdfFormat.RDF_XML, "jsonld": RdfFormat.JSON_LD,
                     "trig": RdfFormat.TRIG, "nquads": RdfFormat.N_QUADS}
    options = {"base_iri": job.base_iri, "prefixes": job.prefixes or None}
    if job.default_graph is not None or job.named_graphs is not None:
        options["default_graph"] = [NamedNode(g) for g in (job.default_graph or [])]
        options["named_graphs"] = [NamedNode(g) for g in (job.named_graphs or [])]
    elif job.union_default_graph:
        options["use_default_graph_as_union"] = True
    result = store.query(job.query, **options)
    if isinstance(result, QueryBoolean):
        return QueryReply("boolean", result.serialize(format=results_formats[job.results_format]))
    kind = "solutions" if isinstance(result, QuerySolutions) else "triples"
    if job.max_rows is None or job.within_limit:
        if kind == "solutions":
            return QueryReply(kind, result.serialize(format=results_formats[job.results_format]))
        return QueryReply(kind, result.serialize(format=graph_formats[job.graph_format]))
    # Capped: one line per row (TSV, after its header line) or per triple (N-Triples).
    header = 1 if kind == "solutions" else 0
    writer = _LineCapWriter(job.max_rows + header)
    try:
        if kind == "solutions":
            result.serialize(writer, format=QueryResultsFormat.TSV)
        else:
            result.serialize(writer, format=RdfFormat.N_TRIPLES)
    except _LineCapWriter.Full:
        pass
    lines, truncated = _first_lines(writer.buffer, job.max_rows + header)
    rows = lines.count(b"\n") - header
    if kind == "solutions":
        if job.results_format == "tsv":
            return QueryReply(kind, lines, truncated, rows)
        parsed = parse_query_results(lines, format=QueryResultsFormat.TSV)
        return QueryReply(kind, parsed.serialize(format=results_formats[job.results_format]), truncated, rows)
    if job.graph_format == "ntriples":
        return QueryReply(kind, lines, truncated, rows)
    triples = (quad.triple for quad in parse(lines, format=RdfFormat.N_TRIPLES))
    return QueryReply(kind, serialize(triples, format=graph_formats[job.graph_format]), truncated, rows)


def _watch_parent(parent: int) -> None:
    # The engine releases the GIL while it works, so this runs even during a runaway query:
    # a worker never outlives the process that owns it.
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def worker_main(fd: int, store_path: str, memory_mb: int = 0) -> int:
    import resource

    from pyoxigraph import Store

    connection = Connection(fd)
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    try:
        store = Store.read_only(store_path)
    except OSError as error:
        with contextlib.suppress(OSError):
            connection.send_bytes(pickle.dumps(("failed", f"cannot open the store: {error}")))
        return 1
    if memory_mb:
        # A query that needs more (a big ORDER BY, a cartesian product held for DISTINCT) fails its
        # allocation and the engine aborts the process (SIGABRT), which the owner reports as this limit,
        # long before the machine runs out of memory. RLIMIT_DATA: heap and private anonymous mappings.
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))
    try:
        connection.send_bytes(pickle.dumps(("ready", os.getpid())))
    except OSError:
        return 0  # the owner closed the pool before this worker was ready
    while True:
        try:
            job = pickle.loads(connection.recv_bytes())
        except (EOFError, OSError):
            return 0  # the owner closed the socket or died
        started = time.perf_counter()
        try:
            reply = execute_job(store, job)
            reply.seconds = time.perf_counter() - started
            message = ("ok", reply)
        except SyntaxError as error:
            message = ("syntax", str(error))
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as error:  # noqa: BLE001 - includes pyo3's PanicException: the query's fault
            message = ("evaluation", f"{type(error).__name__}: {error}")
        try:
            connection.send_bytes(pickle.dumps(message))
        except OSError:
            return 0


# ---- the owner's side ----

class _Worker:
    def __init__(self, store_path: str, memory_mb: int = 0):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "planlod.graph.query_pool", str(theirs.fileno()), store_path,
             str(memory_mb)],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, close_fds=True,
            env={**os.environ, "RUST_BACKTRACE": "0"})
        theirs.close()
        self.connection = Connection(ours.detach())
        self.ready = False

    def wait_ready(self, timeout: float) -> None:
        if self.ready:
            return
        if not self.connection.poll(timeout):
            raise WorkerFailed(f"a query worker did not start within {timeout:g} s")
        status, detail = pickle.loads(self.connection.recv_bytes())
        if status != "ready":
            raise WorkerFailed(f"a query worker could not start: {detail}")
        self.ready = True

    def kill(self) -> None:
        try:
            self.connection.close()
        except OSError:
            pass
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()

    def stop(self, grace: float = STOP_GRACE) -> None:
        # Closing the socket is the polite stop: an idle worker sees EOF and exits.
        try:
            self.connection.close()
        except OSError:
            pass
        try:
            self.process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class QueryPool:
    """`size` warm workers over the store at `store_path`; thread-safe; one per process that owns it."""

    def __init__(self, store_path: str, size: int = 2, timeout: float = 30.0,
                 start_timeout: float = START_TIMEOUT, memory_mb: int = 0):
        if size < 1:
            raise ValueError("a query pool needs at least one worker")
        self.store_path = str(store_path)
        self.memory_mb = int(memory_mb or 0)  # per worker; 0: no limit
        self.size = size
        self.timeout = float(timeout)
        self.start_timeout = start_timeout
        self.owner = os.getpid()
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._spawn())
        # Workers also stop on their own when this process dies; this is the orderly path.
        self._finalizer = weakref.finalize(self, QueryPool._stop_all, self._workers, self.owner)
        atexit.register(self._finalizer)

    def _spawn(self) -> _Worker:
        worker = _Worker(self.store_path, self.memory_mb)
        with self._lock:
            self._workers.add(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            self._workers.discard(worker)
        if not self._closed:
            self._idle.put(self._spawn())  # the replacement starts now, before anyone needs it

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.process.pid for w in self._workers)

    def run(self, job: QueryJob, timeout: float | None = None) -> QueryReply:
        if os.getpid() != self.owner:
            raise WorkerFailed("this query pool belongs to another process (create one per process)")
        if self._closed:
            raise WorkerFailed("the query pool is closed")
        limit = self.timeout if timeout is None else timeout
        worker = self._send(job, limit)
        try:
            if not worker.connection.poll(limit):
                self._discard(worker)
                raise QueryTimeout(limit)
            status, payload = pickle.loads(worker.connection.recv_bytes())
        except (EOFError, OSError, pickle.UnpicklingError):
            # It died while running this query: not retried, the query may be what killed it.
            try:
                status = worker.process.wait(timeout=2)
            except subprocess.TimeoutExpired:
                status = None
            self._discard(worker)
            if self.memory_mb and status == -signal.SIGABRT:
                raise QueryMemoryExceeded(self.memory_mb) from None
            raise WorkerFailed("a query worker stopped unexpectedly; the query was not answered") from None
        self._idle.put(worker)
        if status == "ok":
            return payload
        if status == "syntax":
            raise QuerySyntaxError(payload)
        raise QueryEvaluationError(payload)

    def _send(self, job: QueryJob, limit: float) -> _Worker:
        """Hand the job to an idle worker; one that died while idle is replaced and the next one tried."""
        waited_from = time.monotonic()
        for attempt in range(self.size + 1):
            try:
                worker = self._idle.get(timeout=limit)
            except queue.Empty:
                raise PoolBusy(self.size, round(time.monotonic() - waited_from, 1)) from None
            try:
                if worker.process.poll() is not None:
                    raise WorkerFailed("a query worker had stopped")
                worker.wait_ready(self.start_timeout)
                worker.connection.send_bytes(pickle.dumps(job))
                return worker
            except (OSError, WorkerFailed):
                self._discard(worker)
                if attempt == self.size:
                    raise WorkerFailed("no query worker could take the query") from None
        raise WorkerFailed("no query worker could take the query")

    def close(self) -> None:
        self._closed = True
        self._finalizer()

    @staticmethod
    def _stop_all(workers: set, owner: int) -> None:
        if os.getpid() != owner:
            return  # a forked child inherited this object; the workers are not its to stop
        for worker in list(workers):
            worker.stop()
        workers.clear()


if __name__ == "__main__":
    # Through the package, not __main__, so pickled replies name classes the owner can import.
    from planlod.graph.query_pool import worker_main as main

    sys.exit(main(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 0))
