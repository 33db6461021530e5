"""An external SPARQL store reached through the SPARQL 1.1 Protocol, for when one machine is outgrown.

`RemoteStore` answers the same calls as the embedded `DatasetStore` — `query(sparql, **options)` returning
pyoxigraph result objects (`QuerySolutions`, `QueryBoolean`, `QueryTriples`), `graphs()`, `sources`,
`version` — so pages, downloads and /sparql need not know which store they run on.

What differs, and why:
- The time limit is an HTTP timeout (a deadline over connect + the whole response): the client gives up
  and the request fails, but only the store's own limit stops the work there (oxigraph `--timeout-s`,
  Fuseki `arq:queryTimeout`, Virtuoso `MaxQueryExecutionTime`). See docs/external-store.md.
- The store must be configured so that its default graph is the union of the named graphs, as the embedded
  store's is (`connect` checks this and says how to fix it).
- Pages that read the embedded pyoxigraph Store directly (`store.store.quads_for_pattern`, `len(store.store)`)
  get `RemoteQuads`, which answers those calls with SPARQL; a blank node cannot be named across the protocol,
  so a pattern with one matches nothing there (planlod's own data uses IRIs for everything it describes).
- The data is loaded by the operator (`planlod load-external`, then the store's own loader); `version`
  (for ETags) is derived from the store's per-graph triple counts when we connect, so restart the server
  after reloading the store.
"""

import hashlib
import http.client
import os
import re
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit

from pyoxigraph import (
    BlankNode,
    DefaultGraph,
    NamedNode,
    Quad,
    QueryResultsFormat,
    QuerySolutions,
    RdfFormat,
    Store,
    parse,
    parse_query_results,
)

# What we ask for: SELECT/ASK and CONSTRUCT/DESCRIBE in one Accept header, so the query need not be parsed
# here to know its form; the store picks per query form. Binary-safe formats pyoxigraph parses natively.
ACCEPT = ", ".join([
    "application/sparql-results+json",
    "application/sparql-results+xml;q=0.9",
    "text/tab-separated-values;q=0.8",
    "application/n-triples",
    "text/turtle;q=0.9",
    "application/rdf+xml;q=0.8",
])
RESULT_FORMATS = {
    "application/sparql-results+json": QueryResultsFormat.JSON,
    "application/json": QueryResultsFormat.JSON,  # how some stores label SPARQL JSON results
    "application/sparql-results+xml": QueryResultsFormat.XML,
    "text/tab-separated-values": QueryResultsFormat.TSV,
}
GRAPH_FORMATS = {
    "application/n-triples": RdfFormat.N_TRIPLES,
    "text/plain": RdfFormat.N_TRIPLES,  # N-Triples' old media type, still sent by older stores
    "text/turtle": RdfFormat.TURTLE,
    "application/rdf+xml": RdfFormat.RDF_XML,
}
# Options of pyoxigraph's Store.query that the protocol cannot carry; refused rather than ignored.
UNSUPPORTED_OPTIONS = ("custom_functions", "custom_aggregate_functions")
DEFAULT_TIMEOUT_S = 30.0
# An answer is read whole before the row cap cuts it: this bounds what one query can make us hold.
DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024
READ_CHUNK = 1 << 16


class RemoteStoreError(OSError):
    """The external store cannot be reached or gave an answer we cannot use; the message says which."""


class RemoteStoreTimeout(RemoteStoreError, TimeoutError):
    """The HTTP deadline passed; the store may still be working unless its own limit stopped it."""


class RemoteStoreConfigError(RemoteStoreError):
    """The store is reachable but set up differently from what planlod needs (e.g. no union default graph)."""


class RemoteStore:
    """A read-only SPARQL endpoint used as the dataset store."""

    def __init__(self, endpoint: str, base: str, timeout: float = DEFAULT_TIMEOUT_S,
                 max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES):
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise RemoteStoreConfigError(f"STORE={endpoint!r}: not an http(s) SPARQL endpoint URL")
        self.endpoint = endpoint
        self.base = base
        self.timeout = timeout
        self.max_response_bytes = max_response_bytes
        # No files were loaded by this process: the store's content is the operator's (see load-external).
        self.sources: list = []
        self.version = ""
        # When this version was first seen: Last-Modified for pages. Never earlier than the content really is,
        # so a conditional request cannot be told "not modified" about a store reloaded since.
        self.modified = datetime.now(UTC)
        self._graphs: list[str] = []
        self._quads = 0
        self._parts = parts
        self.store = RemoteQuads(self)
        self._local = threading.local()  # one keep-alive connection per thread (gthread workers)
        self._open: set[http.client.HTTPConnection] = set()  # every thread's, so close() reaches them all
        self._open_lock = threading.Lock()
        self._pid = os.getpid()

    @classmethod
    def connect(cls, endpoint: str, base: str, timeout: float = DEFAULT_TIMEOUT_S,
                max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES) -> "RemoteStore":
        """Open the store, check it is set up as planlod needs, and take its version; raises if not."""
        store = cls(endpoint, base, timeout, max_response_bytes)
        try:
            store.check_union_default_graph()
            store.refresh()
        except RemoteStoreError as error:
            store.close()
            if isinstance(error, RemoteStoreConfigError):
                raise
            # Query-time messages leave the store's address out (they can reach clients); the operator's
            # start-up message names it.
            raise type(error)(f"STORE={endpoint}: {error}") from None
        except BaseException:
            store.close()
            raise
        return store

    def close(self) -> None:
        """Close every kept-alive connection (any thread's); the store stays usable and reconnects."""
        with self._open_lock:
            connections, self._open = self._open, set()
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def __enter__(self) -> "RemoteStore":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # ---- the DatasetStore interface ----

    def graphs(self) -> list[str]:
        return list(self._graphs)

    def __len__(self) -> int:
        """Quads in the named graphs as of `connect`/`refresh` (what len() of the embedded Store counts)."""
        return self._quads

    def graph_node(self, graph: str) -> NamedNode:
        return NamedNode(graph)

    def query(self, sparql: str, *, timeout: float | None = None, **options):
        """Run a query on the external store; same results and exceptions as pyoxigraph's Store.query.

        SyntaxError for a query the store rejects as malformed (HTTP 400, the store's message, which names
        line and column for Oxigraph and Fuseki); RemoteStoreTimeout past the deadline; RemoteStoreError
        (an OSError, as pyoxigraph raises for store failures) for anything else.
        """
        for name in UNSUPPORTED_OPTIONS:
            if options.get(name):
                raise TypeError(f"{name} cannot be sent to an external SPARQL store")
        if options.get("substitutions"):
            sparql = with_substitutions(sparql, options["substitutions"])
        sent = _with_prologue(sparql, options.get("base_iri"), options.get("prefixes"))
        params = [("query", sent)]
        params += self._dataset_params(options)
        status, content_type, body = self._post(params, timeout or self.timeout)
        if status == 400:
            message = _message(body) or "the external store rejected the query as malformed"
            raise SyntaxError(_unshifted(message, len(sent) - len(sparql)))
        if status == 206:  # Virtuoso's "anytime" answer: cut at its time limit, so not the whole answer
            raise RemoteStoreError("the external store sent a partial answer (HTTP 206, its "
                                   "time or row limit was reached); partial results are never passed on")
        if status != 200:
            raise RemoteStoreError(f"the external store answered HTTP {status}: "
                                   f"{_message(body)[:300]}")
        return _parse_results(content_type, body)

    # ---- setup checks ----

    def check_union_default_graph(self) -> None:
        """The embedded store's default graph is the union of all graphs; the external one must be too."""
        sample = list(self.query(
            "SELECT ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o FILTER(isIRI(?s) && !isBlank(?o)) } } LIMIT 1"))
        if not sample:
            raise RemoteStoreConfigError(
                f"external store {self.endpoint} holds no named graphs: load the dataset first "
                "(planlod load-external, see docs/external-store.md)")
        row = sample[0]
        ask = f"ASK {{ {row['s']} {row['p']} {row['o']} }}"
        if not bool(self.query(ask)):
            raise RemoteStoreConfigError(
                f"external store {self.endpoint}: the default graph is not the union of the named graphs. "
                "Start Oxigraph with --union-default-graph, set tdb2:unionDefaultGraph true in Fuseki; "
                "Virtuoso's default graph is the union already (see docs/external-store.md)")

    def refresh(self) -> None:
        """Read the graph list and derive `version` from per-graph triple counts (cheap on a real store)."""
        rows = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")
        counts = sorted((row["g"].value, row["n"].value) for row in rows)
        self._graphs = [graph for graph, _ in counts]
        self._quads = sum(int(count) for _, count in counts)
        digest = hashlib.sha256(self.endpoint.encode())
        for graph, count in counts:
            digest.update(f"\n{graph}\t{count}".encode())
        version = digest.hexdigest()[:16]
        if version != self.version:
            self.version, self.modified = version, datetime.now(UTC)

    # ---- the protocol ----

    @staticmethod
    def _dataset_params(options: dict) -> list[tuple[str, str]]:
        if options.get("use_default_graph_as_union") is False and not (
                options.get("default_graph") or options.get("named_graphs")):
            raise ValueError("the external store's default graph is the union of all graphs; "
                             "name the graphs wanted with default_graph")
        params = []
        for key, name in (("default_graph", "default-graph-uri"), ("named_graphs", "named-graph-uri")):
            graphs = options.get(key)
            if graphs is None:
                continue
            for graph in graphs if isinstance(graphs, list | tuple) else [graphs]:
                if isinstance(graph, DefaultGraph) or not isinstance(graph, NamedNode):
                    raise ValueError(f"{key}: only named graphs can be sent to an external store")
                params.append((name, graph.value))
        return params

    def _connection(self, timeout: float) -> http.client.HTTPConnection:
        if self._pid != os.getpid():
            # Forked (gunicorn workers, a query pool): the parent's sockets are its own; two processes
            # reading one connection would mix their answers. Forget them (the parent keeps and closes them).
            self._pid = os.getpid()
            self._local = threading.local()
            self._open_lock = threading.Lock()  # a lock held by another thread at the fork stays held
            self._open = set()
        connection = getattr(self._local, "connection", None)
        if connection is None:
            cls = http.client.HTTPSConnection if self._parts.scheme == "https" else http.client.HTTPConnection
            connection = cls(self._parts.hostname, self._parts.port, timeout=timeout)
            self._local.connection = connection
            with self._open_lock:
                self._open.add(connection)
        connection.timeout = timeout
        if connection.sock is not None:
            connection.sock.settimeout(timeout)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None
            with self._open_lock:
                self._open.discard(connection)

    def _post(self, params: list[tuple[str, str]], timeout: float) -> tuple[int, str, bytes]:
        body = urlencode(params).encode()
        path = self._parts.path or "/"
        if self._parts.query:
            path += "?" + self._parts.query
        headers = {"Accept": ACCEPT, "Content-Type": "application/x-www-form-urlencoded",
                   "User-Agent": "planlod"}
        deadline = time.monotonic() + timeout
        # A kept-alive connection the store closed fails on first use; a read query is safe to resend once.
        for attempt in (1, 2):
            try:
                connection = self._connection(max(0.001, deadline - time.monotonic()))
                connection.request("POST", path, body=body, headers=headers)
                sock = connection.sock  # kept: getresponse() drops it from a connection that will close
                response = connection.getresponse()
                data = self._read(response, sock, deadline)
                if response.will_close:
                    self._drop_connection()
                return response.status, response.getheader("Content-Type", ""), data
            except TimeoutError:
                self._drop_connection()
                raise RemoteStoreTimeout(
                    f"the external store gave no answer within {timeout:g} s (HTTP timeout)"
                ) from None
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError) as error:
                self._drop_connection()
                if attempt == 2:
                    raise RemoteStoreError(f"the external store closed the connection: {error}") from None
            except (OSError, http.client.HTTPException) as error:
                self._drop_connection()
                if isinstance(error, RemoteStoreError):
                    raise
                raise RemoteStoreError(f"the external store is unreachable: {error}") from None
        raise AssertionError("unreachable")

    def _read(self, response: http.client.HTTPResponse, sock, deadline: float) -> bytes:
        """The whole body, within the deadline and the size cap (a slow trickle cannot outlast the limit)."""
        chunks, size = [], 0
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError
            sock.settimeout(remaining)
            chunk = response.read1(READ_CHUNK)
            if not chunk:
                response.close()  # read1 leaves a finished response open; the connection needs it closed
                return b"".join(chunks)
            size += len(chunk)
            if self.max_response_bytes is not None and size > self.max_response_bytes:
                raise RemoteStoreError(
                    f"the external store's answer is larger than {self.max_response_bytes:,} bytes "
                    "(STORE_MAX_RESPONSE_BYTES); narrow the query or add a LIMIT")
            chunks.append(chunk)


# Where a query's own text is: strings, IRIs and comments blanked out (same length), so that keywords and
# braces can be found without being fooled by a "GROUP BY" inside a literal or a "#" inside an IRI.
_STRING = re.compile("|".join([
    r"'''(?:[^'\\]|\\.|'(?!''))*'''",  # '''long'''
    r'"""(?:[^"\\]|\\.|"(?!""))*"""',  # """long"""
    r"'(?:[^'\\\n]|\\.)*'",  # 'short'
    r'"(?:[^"\\\n]|\\.)*"',  # "short"
]), re.DOTALL)
_IRI = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_COMMENT = re.compile(r"#[^\n]*")
_LEXEME = re.compile("|".join(f"(?:{p.pattern})" for p in (_STRING, _IRI, _COMMENT)), re.DOTALL)
_NEEDS_PREBINDING = re.compile(
    r"\bGROUP\s+BY\b|\b(?:COUNT|SUM|MIN|MAX|AVG|SAMPLE|GROUP_CONCAT)\s*\(|\{\s*SELECT\b", re.IGNORECASE)


def code_of(sparql: str) -> str:
    return _LEXEME.sub(lambda match: " " * len(match.group(0)), sparql)


def with_substitutions(sparql: str, substitutions: dict) -> str:
    """pyoxigraph's `substitutions` (SEP-0007 pre-binding) as a trailing VALUES clause the protocol carries.

    The two agree when the bound variables are in scope at the top of the query, which is how planlod's own
    queries use them. Where they could differ — aggregates, GROUP BY, subqueries, a VALUES clause already
    trailing — this refuses rather than answer differently from the embedded store.
    """
    code = code_of(sparql)
    if _NEEDS_PREBINDING.search(code):
        raise TypeError("substitutions with aggregates or subqueries cannot be sent to an external store; "
                        "put the value in the query with VALUES")
    depth = 0
    for index, char in enumerate(code):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth == 0 and re.match(r"VALUES\b", code[index:], re.IGNORECASE) and \
                not re.match(r"[\w?$]", code[index - 1:index] or " "):
            raise TypeError("substitutions on a query ending with VALUES cannot be sent to an external store")
    names, values = [], []
    for variable, term in substitutions.items():
        if isinstance(term, BlankNode):
            raise TypeError("a blank node cannot be sent to an external store as a substitution")
        names.append(f"?{variable.value}")
        values.append(str(term))  # N-Triples form, which SPARQL reads; pyoxigraph validated the term
    return f"{sparql}\nVALUES ({' '.join(names)}) {{ ({' '.join(values)}) }}"


def _with_prologue(sparql: str, base_iri: str | None, prefixes: dict[str, str] | None) -> str:
    """pyoxigraph's base_iri/prefixes options as a prologue; on the first line, so error lines stay right."""
    prologue = ""
    if base_iri:
        prologue += f"BASE <{base_iri}> "
    for prefix, iri in (prefixes or {}).items():
        prologue += f"PREFIX {prefix}: <{iri}> "
    return prologue + sparql


def _unshifted(message: str, prologue: int) -> str:
    """The store counts columns on line 1 from our added prologue; give them back as the user's columns."""
    if not prologue:
        return message
    return re.sub(r"\b(at|line) 1:(\d+)", lambda m: f"{m.group(1)} 1:{max(1, int(m.group(2)) - prologue)}",
                  message, count=1)


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def _message(body: bytes) -> str:
    return body.decode("utf-8", errors="replace").strip()


def _parse_results(content_type: str, body: bytes):
    """Parse the whole answer here: a store that stops mid-stream (Oxigraph's own timeout does) leaves a
    truncated body, which must fail as a store error now, not as a SyntaxError while a page iterates it."""
    media_type = _media_type(content_type)
    try:
        if media_type in RESULT_FORMATS:
            results_format = RESULT_FORMATS[media_type]
            results = parse_query_results(body, format=results_format)
            if isinstance(results, QuerySolutions):
                for _ in results:  # validates; pyoxigraph parses solutions lazily
                    pass
                return parse_query_results(body, format=results_format)
            return results
        if media_type in GRAPH_FORMATS:
            return _as_query_triples(parse(body, format=GRAPH_FORMATS[media_type]))
    except SyntaxError as error:
        raise RemoteStoreError(f"external store sent an unreadable or truncated answer: {error}") from None
    raise RemoteStoreError(f"external store answered with an unexpected media type {content_type!r}")


def _as_query_triples(quads: Iterable):
    """A CONSTRUCT answer as pyoxigraph's own QueryTriples, so callers serialize it the same way."""
    scratch = Store()
    scratch.extend(quads)
    return scratch.query("CONSTRUCT WHERE { ?s ?p ?o }")


class RemoteQuads:
    """The part of pyoxigraph's Store that pages call directly, answered by SPARQL on the external store.

    `quads_for_pattern` looks in the named graphs only: everything planlod loads is in one, and the external
    store's default graph is their union (it would repeat every quad).
    """

    def __init__(self, remote: RemoteStore):
        self.remote = remote

    def __len__(self) -> int:
        return len(self.remote)

    def named_graphs(self) -> Iterator[NamedNode]:
        return (NamedNode(graph) for graph in self.remote.graphs())

    def contains_named_graph(self, graph) -> bool:
        return isinstance(graph, NamedNode) and graph.value in self.remote.graphs()

    def query(self, sparql: str, **options):
        return self.remote.query(sparql, **options)

    def quads_for_pattern(self, subject=None, predicate=None, object=None,  # pyoxigraph's parameter names
                          graph_name=None) -> Iterator[Quad]:
        terms = {"s": subject, "p": predicate, "o": object, "g": graph_name}
        if isinstance(graph_name, DefaultGraph) or any(isinstance(t, BlankNode) for t in terms.values()):
            return iter(())
        # pyoxigraph terms print as N-Triples, which SPARQL reads: IRIs were validated when the NamedNode was
        # made, literals come out escaped, so a term from a request cannot change the query's shape.
        bound = {name: str(term) for name, term in terms.items() if term is not None}
        pattern = " ".join(bound.get(name, "?" + name) for name in ("s", "p", "o"))
        query = f"SELECT * WHERE {{ GRAPH {bound.get('g', '?g')} {{ {pattern} }} }}"
        return (Quad(row["s"] if subject is None else subject,
                     row["p"] if predicate is None else predicate,
                     row["o"] if object is None else object,
                     row["g"] if graph_name is None else graph_name)
                for row in self.remote.query(query))
