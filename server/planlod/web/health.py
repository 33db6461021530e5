"""Operations: `/healthz`, one structured access-log line per request, and `/metrics`.

Access log: a JSON line on the `planlod.access` logger with method, path (never the query
string), endpoint, status, duration and a SHA-256 prefix of the SPARQL query — the query text
itself is never logged, so a log can be shared without leaking what users asked.

Metrics, in the Prometheus text exposition format: request counters by method, endpoint and
status, and a request-duration histogram by endpoint. Endpoints are Flask rule names, never raw
paths, so the label set stays bounded whatever clients send.

Across gunicorn workers: every process keeps its own counts. With `METRICS_DIR` set (a directory
all workers of one server share), each process writes a snapshot there at most once a second and
`/metrics` sums every snapshot, so any worker answers for the whole server (its peers' counts may
be up to a second old; a dead worker's totals stay counted, as counters must not go down).
Without `METRICS_DIR` the counts are those of the answering process only, and the output says so
(`planlod_metrics_processes` is 1 and the HELP text names the scope).
"""

import hashlib
import json
import logging
import os
import sys
import threading
import time
import uuid
from pathlib import Path

from flask import Blueprint, Flask, Response, current_app, g, jsonify, request

from ..graph.remote_store import RemoteStore
from .store_access import get_store

bp = Blueprint("health", __name__)

ACCESS_LOGGER = "planlod.access"
EXTENSION_KEY = "planlod.metrics"
COUNTS_KEY = "planlod.health.counts"
# Seconds; spans a cached hit (ms) to a query stopped by the default 30 s limit.
DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SNAPSHOT_INTERVAL = 1.0
HEALTH_QUERY_TIMEOUT = 2.0  # seconds an external store has to answer /healthz's ASK {}
QUERY_HASH_LENGTH = 16
# A direct POST body is hashed as sent, up to this size (bytes); larger ones were refused anyway.
MAX_HASHED_BODY = 1 << 20


def query_hash(query: str | bytes | None) -> str | None:
    """A stable, short fingerprint: equal queries group together in logs, the text stays out."""
    if query is None:
        return None
    data = query if isinstance(query, bytes) else query.encode("utf-8", "surrogatepass")
    return hashlib.sha256(data).hexdigest()[:QUERY_HASH_LENGTH]


def query_of_request() -> str | bytes | None:
    """The query this request carried (text, or the raw body of a direct POST)."""
    parsed = g.get("sparql_query")  # the endpoint may set it once it has decoded the query
    if isinstance(parsed, str):
        return parsed
    if "query" in request.args:
        return request.args.get("query")
    # Only a form werkzeug has parsed already: parsing here could pull a refused 20 MB body.
    if "form" in request.__dict__ and "query" in request.form:
        return request.form.get("query")
    if request.mimetype == "application/sparql-query" and request.content_length is not None \
            and request.content_length <= MAX_HASHED_BODY:
        # The view's own get_data() is cached, so this reads nothing new; b"" means it read the stream.
        return request.get_data(cache=True) or None
    return None


class Metrics:
    """Counters and a histogram of one process; snapshots merge across processes."""

    def __init__(self, directory: str | None):
        self.lock = threading.Lock()
        self.write_lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = {}
        # endpoint -> [count per bucket ..., +Inf count, sum of seconds]
        self.durations: dict[str, list[float]] = {}
        self.directory = Path(directory) if directory else None
        self.snapshot_name = f"{os.getpid()}-{uuid.uuid4().hex}.json"
        self.dirty = False
        self.writer: threading.Thread | None = None
        self.writer_pid: int | None = None

    def observe(self, method: str, endpoint: str, status: int, seconds: float | None) -> None:
        with self.lock:
            key = (method, endpoint, str(status))
            self.requests[key] = self.requests.get(key, 0) + 1
            if seconds is not None:
                row = self.durations.setdefault(endpoint, [0.0] * (len(DURATION_BUCKETS) + 2))
                for i, bound in enumerate(DURATION_BUCKETS):
                    if seconds <= bound:
                        row[i] += 1
                row[-2] += 1
                row[-1] += seconds
            self.dirty = True
        if self.directory is not None:
            self.start_writer()

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "requests": [[*key, count] for key, count in self.requests.items()],
                "durations": {endpoint: list(row) for endpoint, row in self.durations.items()},
            }

    # -- sharing across the worker processes of one server --

    def start_writer(self) -> None:
        # Started lazily in the process that serves: gunicorn forks workers after the app is built.
        if self.writer_pid == os.getpid():
            return
        self.snapshot_name = f"{os.getpid()}-{uuid.uuid4().hex}.json"
        self.writer_pid = os.getpid()
        self.writer = threading.Thread(target=self.write_loop, name="planlod-metrics", daemon=True)
        self.writer.start()

    def write_loop(self) -> None:
        while True:
            time.sleep(SNAPSHOT_INTERVAL)
            if self.dirty:
                self.write_snapshot()

    def write_snapshot(self) -> None:
        assert self.directory is not None
        # The writer thread and a /metrics request may both write; they share one temporary file name.
        with self.write_lock:
            self.dirty = False
            self.directory.mkdir(parents=True, exist_ok=True)
            target = self.directory / self.snapshot_name
            partial = target.with_suffix(".tmp")
            partial.write_text(json.dumps(self.snapshot()), encoding="utf-8")
            os.replace(partial, target)  # readers see the old or the new snapshot, never half of one

    def merged(self) -> tuple[dict, int]:
        """Every process's snapshot summed, and how many processes that was."""
        if self.directory is None:
            return self.snapshot(), 1
        self.write_snapshot()
        snapshots = []
        for path in sorted(self.directory.glob("*.json")):
            try:
                snapshots.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError):
                continue  # a file being replaced right now: its next version counts next time
        return merge(snapshots), len(snapshots)


def merge(snapshots: list[dict]) -> dict:
    requests: dict[tuple[str, str, str], int] = {}
    durations: dict[str, list[float]] = {}
    for snap in snapshots:
        for method, endpoint, status, count in snap["requests"]:
            requests[(method, endpoint, status)] = requests.get((method, endpoint, status), 0) + count
        for endpoint, row in snap["durations"].items():
            total = durations.setdefault(endpoint, [0.0] * len(row))
            for i, value in enumerate(row):
                total[i] += value
    return {"requests": [[*key, count] for key, count in requests.items()], "durations": durations}


def label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def exposition(snapshot: dict, processes: int, shared: bool, triples: int) -> str:
    """The Prometheus text format (version 0.0.4)."""
    scope = ("summed over all worker processes of this server" if shared
             else "of the one worker process that answered this scrape")
    lines = [
        f"# HELP planlod_http_requests_total HTTP requests answered, {scope}.",
        "# TYPE planlod_http_requests_total counter",
    ]
    for method, endpoint, status, count in sorted(snapshot["requests"]):
        lines.append(f'planlod_http_requests_total{{method="{label_value(method)}",'
                     f'endpoint="{label_value(endpoint)}",status="{status}"}} {count}')
    lines += [
        f"# HELP planlod_http_request_duration_seconds Time to answer a request, {scope}.",
        "# TYPE planlod_http_request_duration_seconds histogram",
    ]
    for endpoint, row in sorted(snapshot["durations"].items()):
        label = f'endpoint="{label_value(endpoint)}"'
        # Each slot counts the observations <= its bound, so the row is cumulative as Prometheus wants.
        for bound, count in zip(DURATION_BUCKETS, row, strict=False):
            lines.append(f'planlod_http_request_duration_seconds_bucket{{{label},le="{number(bound)}"}} '
                         f"{number(count)}")
        lines.append(f'planlod_http_request_duration_seconds_bucket{{{label},le="+Inf"}} {number(row[-2])}')
        lines.append(f"planlod_http_request_duration_seconds_sum{{{label}}} {number(row[-1])}")
        lines.append(f"planlod_http_request_duration_seconds_count{{{label}}} {number(row[-2])}")
    lines += [
        "# HELP planlod_metrics_processes Worker processes whose counts this scrape includes.",
        "# TYPE planlod_metrics_processes gauge",
        f"planlod_metrics_processes {processes}",
        "# HELP planlod_store_triples Triples in the store, summed over its named graphs.",
        "# TYPE planlod_store_triples gauge",
        f"planlod_store_triples {triples}",
    ]
    return "\n".join(lines) + "\n"


def get_metrics() -> Metrics:
    return current_app.extensions[EXTENSION_KEY]


# -- routes --

def store_answers(store) -> bool:
    """Whether the store answers a query now: instant in-process; an external store is asked, briefly."""
    try:
        if isinstance(store, RemoteStore):
            return bool(store.query("ASK {}", timeout=HEALTH_QUERY_TIMEOUT))
        return bool(store.query("ASK {}"))
    except (OSError, RuntimeError, ValueError):
        return False


def store_counts(store) -> tuple[int, int]:
    """Triples (quads over the named graphs) and graphs, counted once per dataset version: len() of the
    embedded store walks every quad (110 ms at 1,001 plans), and monitors poll /healthz and /metrics.
    The store is read-only while the process runs; an external store counts as of its last refresh,
    which is also when its version changes."""
    key = (id(store), getattr(store, "version", None) or "")
    cached = current_app.extensions.get(COUNTS_KEY)
    if cached is None or cached[0] != key:
        cached = current_app.extensions[COUNTS_KEY] = (key, (len(store), len(store.graphs())))
    return cached[1]


@bp.get("/healthz")
def healthz():
    store = get_store()
    headers = {"Cache-Control": "no-store"}
    if not store_answers(store):  # the live check, every time: the count alone would not prove it
        # 503 takes the process out of a load balancer's rotation until its store answers again.
        return jsonify({"status": "unavailable", "store": "not answering"}), 503, headers
    triples, graphs = store_counts(store)
    body = {"status": "ok", "store": "loaded", "triples": triples, "graphs": graphs}
    return jsonify(body), 200, headers


@bp.get("/metrics")
def metrics():
    collected = get_metrics()
    snapshot, processes = collected.merged()
    triples, _ = store_counts(get_store())
    text = exposition(snapshot, processes, collected.directory is not None, triples)
    return Response(text, content_type="text/plain; version=0.0.4; charset=utf-8",
                    headers={"Cache-Control": "no-store"})


# -- per-request hooks --

def start_timer() -> None:
    g.request_started = time.perf_counter()


def record(response: Response) -> Response:
    started = g.get("request_started")
    seconds = time.perf_counter() - started if started is not None else None
    endpoint = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    get_metrics().observe(request.method, endpoint, response.status_code, seconds)
    line = {
        "event": "request",
        "method": request.method,
        "path": request.path,
        "endpoint": endpoint,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 3) if seconds is not None else None,
        "query_hash": query_hash(query_of_request()),
        "bytes": response.calculate_content_length(),
    }
    if current_app.config["ACCESS_LOG"]:
        logging.getLogger(ACCESS_LOGGER).info(json.dumps(line, ensure_ascii=False))
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("METRICS_DIR", None)
    app.config.setdefault("ACCESS_LOG", True)
    app.extensions[EXTENSION_KEY] = Metrics(app.config["METRICS_DIR"])
    # First in line, so the timer runs even when a later hook (the rate limit) refuses the request.
    app.before_request_funcs.setdefault(None, []).insert(0, start_timer)
    app.after_request(record)
    logger = logging.getLogger(ACCESS_LOGGER)
    if app.config["ACCESS_LOG"] and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # one line per request, not again through the root logger
    app.register_blueprint(bp)
