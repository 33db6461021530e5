"""/sparql: the SPARQL 1.1 Protocol endpoint (query only; https://www.w3.org/TR/sparql11-protocol/).

Requests:
  GET  /sparql?query=…[&default-graph-uri=…][&named-graph-uri=…][&format=…][&bom=1]
  POST /sparql  application/x-www-form-urlencoded   (the same parameters in the body; URL ones merge in)
  POST /sparql  application/sparql-query            (the query is the body; dataset parameters in the URL)
  GET  /sparql  without a query: the Service Description (web/service_description.py), or for a browser
                (text/html preferred) the query page (web/query_page.py), which also opens ?query=… there.

Answers, and why those statuses:
  200  results, negotiated (web/negotiation.py); CSV/TSV exactly as the SPARQL 1.1 results spec writes
       them (CRLF rows for CSV, no BOM; `bom=1` prepends a UTF-8 BOM for spreadsheet programs).
  304  If-None-Match holds the result's ETag (GET/HEAD); 412 for POST, as RFC 9110 §13.1.2 says.
  400  malformed request: two `query` parameters, a missing or empty query, bad %-encoding, bytes that
       are not UTF-8, NUL characters, a graph parameter that is not an absolute IRI, an unknown format=,
       a syntax error (the message names line and column).
  403  understood but refused by policy: SPARQL Update (the endpoint is read-only, as Oxigraph's
       read-only server answers) and SERVICE to an endpoint not on the allow-list (web/federation.py).
  406  nothing in Accept is available; the message lists what is.
  413  body over MAX_CONTENT_LENGTH or query text over MAX_QUERY_LENGTH; 414 for such a query in the URL.
  415  POST with no Content-Type, another media type, or a charset other than UTF-8.
  503  the query ran past QUERY_TIMEOUT or needed more than QUERY_MEMORY_MB and was stopped (the
       message names the limit), or every query worker stayed busy (with Retry-After). 503 says "the
       server would not finish this now" and is what Fuseki answers for a timeout; 504 would blame an
       upstream server, 408 a slow client.
  502  an allow-listed SERVICE endpoint failed.
A result longer than MAX_RESULT_ROWS is cut, and the response says so: `X-Result-Truncated: true`,
`X-Result-Row-Limit`, and a `Warning` header with the message. CORS is open (`*`): the data is public
and browser tools (YASGUI elsewhere, SIB's editor) query it directly.
"""

import re
from urllib.parse import unquote_to_bytes

from flask import Blueprint, Flask, Response, current_app, g, request
from pyoxigraph import NamedNode

from ..graph import query_text
from ..graph.query_pool import (
    PoolBusy,
    QueryEvaluationError,
    QueryJob,
    QueryMemoryExceeded,
    QuerySyntaxError,
    QueryTimeout,
    WorkerFailed,
    execute_job,
)
from . import federation
from .errors import abort_with
from .negotiation import (
    GRAPH_FORMATS,
    RESULT_FORMATS,
    Format,
    NegotiationError,
    NotAcceptable,
    choose,
    parse_accept,
    prefers_html,
    quality,
)
from .result_cache import CachedResult, ResultCache, result_key
from .store_access import get_query_pool, get_store

bp = Blueprint("sparql", __name__)

CACHE_KEY = "planlod.result_cache"
UTF8_BOM = b"\xef\xbb\xbf"
DIRECT = "application/sparql-query"
FORM = "application/x-www-form-urlencoded"
UPDATE = "application/sparql-update"
BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
READ_ONLY = ("This endpoint is read-only: SPARQL Update is not accepted. "
             "Send a query (SELECT, ASK, CONSTRUCT or DESCRIBE) instead.")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Content-Type, X-Result-Truncated, X-Result-Row-Limit, Warning, "
                                     "Retry-After",
}
PREFLIGHT_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, Content-Type, If-None-Match, Cache-Control, X-Requested-With",
    "Access-Control-Max-Age": "86400",
}
SYNTAX_POSITION = re.compile(r"^error at (\d+):(\d+):\s*")
# The engine's parser recurses once per nesting level; thousands of levels overflow its stack and kill
# the worker. No real query comes near this; a query that does gets a 400 before it runs.
MAX_NESTING = 256


# ---- reading the request, strictly ----

def parse_params(raw: bytes, where: str) -> list[tuple[str, str]]:
    """application/x-www-form-urlencoded pairs; anything that is not well-formed UTF-8 is a 400."""
    if not raw:
        return []
    if BAD_PERCENT.search(raw):
        abort_with(400, f"Malformed %-encoding in the {where}: '%' must be followed by two hex digits.")
    pairs = []
    for part in raw.split(b"&"):
        if not part:
            continue
        name, _, value = part.partition(b"=")
        try:
            decoded = tuple(unquote_to_bytes(x.replace(b"+", b" ")).decode("utf-8") for x in (name, value))
        except UnicodeDecodeError:
            abort_with(400, f"The {where} is not valid UTF-8 after %-decoding; send UTF-8.")
        if "\x00" in decoded[0] or "\x00" in decoded[1]:
            abort_with(400, f"The {where} contains a NUL character.")
        pairs.append(decoded)
    return pairs


def values(params: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in params if key == name]


def charset_is_utf8() -> bool:
    charset = request.mimetype_params.get("charset")
    return charset is None or charset.strip().lower() in ("utf-8", "utf8")


def read_body() -> bytes:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    length = request.content_length
    if limit and length and length > limit:
        g.sparql_query = ""  # nothing was read: the access log must not try to read the body either
        drain(length)
        abort_with(413, f"The request body ({length} bytes) is larger than this endpoint accepts "
                        f"({limit} bytes).", {"Connection": "close"})
    return request.get_data(cache=False)


def drain(length: int, most: int = 64 * 1024 * 1024) -> None:
    """Read (and drop) a refused body, so the client, still sending, can read the 413 rather than a reset."""
    stream = request.environ.get("wsgi.input")
    left = min(length, most)
    while stream is not None and left > 0:
        chunk = stream.read(min(left, 1 << 16))
        if not chunk:
            break
        left -= len(chunk)


class SparqlRequest:
    """The query and protocol dataset of one request, or an ApiError saying what is wrong with it."""

    def __init__(self):
        self.url_params = parse_params(request.query_string, "URL query string")
        self.query: str | None = None
        self.query_in_url = False
        params = list(self.url_params)
        if request.method == "POST":
            mimetype = request.mimetype
            if mimetype == UPDATE or values(params, "update"):
                read_body()
                abort_with(403, READ_ONLY)
            if not mimetype:
                abort_with(415, f"A POST needs a Content-Type: {FORM} or {DIRECT}.")
            if mimetype not in (FORM, DIRECT):
                abort_with(415, f"Content-Type {mimetype} is not accepted; use {FORM} or {DIRECT}.")
            if not charset_is_utf8():
                abort_with(415, f"charset={request.mimetype_params['charset'][:20]} is not accepted: "
                                "send the query in UTF-8.")
            body = read_body()
            if mimetype == FORM:
                params += parse_params(body, "form body")
            else:
                if values(params, "query"):
                    abort_with(400, f"A {DIRECT} POST carries the query in its body; "
                                    "the URL must not have a query parameter too.")
                try:
                    text = body.decode("utf-8")
                except UnicodeDecodeError:
                    abort_with(400, "The request body is not valid UTF-8; send the query in UTF-8.")
                if "\x00" in text:
                    abort_with(400, "The query contains a NUL character.")
                self.query = text.removeprefix("\ufeff")
        if values(params, "update"):
            abort_with(403, READ_ONLY)
        if self.query is None:
            queries = values(params, "query")
            if len(queries) > 1:
                abort_with(400, f"The request has {len(queries)} query parameters; send exactly one.")
            if queries:
                self.query = queries[0]
                self.query_in_url = any(key == "query" for key, _ in self.url_params)
        self.params = params
        self.default_graphs = self.graph_iris("default-graph-uri")
        self.named_graphs = self.graph_iris("named-graph-uri")
        self.format = values(params, "format")  # may repeat (SPARQLWrapper); see web/negotiation.py
        self.bom = any(v.lower() in ("1", "true", "yes", "on") for v in values(params, "bom"))

    def graph_iris(self, name: str) -> list[str]:
        iris = values(self.params, name)
        for iri in iris:
            try:
                NamedNode(iri)
            except ValueError:
                abort_with(400, f"{name}={iri[:100]!r} is not an absolute IRI.")
            if ":" not in iri:
                abort_with(400, f"{name}={iri[:100]!r} is not an absolute IRI.")
        return iris

    @property
    def has_protocol_dataset(self) -> bool:
        return bool(self.default_graphs or self.named_graphs)


# ---- answering ----

def get_result_cache() -> ResultCache:
    cache = current_app.extensions.get(CACHE_KEY)
    if cache is None:
        cfg = current_app.config
        cache = current_app.extensions[CACHE_KEY] = ResultCache(
            int(cfg.get("RESULT_CACHE_SIZE") or 0), int(cfg.get("RESULT_CACHE_BYTES") or 0))
    return cache


def syntax_message(engine_message: str) -> str:
    match = SYNTAX_POSITION.match(engine_message)
    if match:
        line, column = match.groups()
        return f"Syntax error at line {line}, column {column}: {engine_message[match.end():]}"
    return f"Syntax error: {engine_message}"


def negotiate(form: str | None, req: SparqlRequest) -> tuple[Format, Format]:
    """(results format, graph format); only the one the query form needs is negotiated strictly."""
    accept = request.headers.get("Accept")
    try:
        if form in ("SELECT", "ASK"):
            return choose(accept, RESULT_FORMATS, req.format), GRAPH_FORMATS[0]
        if form in ("CONSTRUCT", "DESCRIBE"):
            return RESULT_FORMATS[0], choose(accept, GRAPH_FORMATS, req.format)
    except NotAcceptable as error:
        # A SPARQL client that states only the other query form's formats (rdflib's SPARQLStore sends its
        # SELECT Accept with every query) gets this form's default; 406 is for Accept headers that name
        # nothing SPARQL at all (RFC 9110 lets a server answer with a default instead of a 406).
        other = GRAPH_FORMATS if form in ("SELECT", "ASK") else RESULT_FORMATS
        ranges = parse_accept(accept)
        if not req.format and any(quality(ranges, t) > 0 for f in other for t in f.media_types()):
            return RESULT_FORMATS[0], GRAPH_FORMATS[0]
        abort_with(406, str(error))
    except NegotiationError as error:
        abort_with(400, str(error))
    # An unrecognised form is most likely a syntax error the engine will name; negotiate leniently.
    try:
        results = choose(accept, RESULT_FORMATS, req.format)
    except NegotiationError:
        results = RESULT_FORMATS[0]
    try:
        graph = choose(accept, GRAPH_FORMATS, req.format)
    except NegotiationError:
        graph = GRAPH_FORMATS[0]
    return results, graph


def run(job: QueryJob):
    pool = get_query_pool()
    if pool is not None:
        return pool.run(job)
    # An external store (web/store_access.py) has its own time limit; it answers the same objects.
    try:
        return execute_job(get_store(), job)
    except SyntaxError as error:
        raise QuerySyntaxError(str(error)) from None
    except TimeoutError:
        raise QueryTimeout(float(current_app.config.get("QUERY_TIMEOUT") or 30)) from None
    except (OSError, ValueError, RuntimeError) as error:
        raise QueryEvaluationError(f"{type(error).__name__}: {error}") from None


def service_description_or_page(req: SparqlRequest) -> Response:
    from . import query_page

    if prefers_html(request.headers.get("Accept")):
        return query_page.render_query_page(query=req.query)
    from .service_description import service_description_response

    return service_description_response(get_store(), current_app.config)  # 406 is its own


def conditional_headers(etag: str) -> dict[str, str]:
    max_age = int(current_app.config.get("SPARQL_MAX_AGE") or 0)
    return {"ETag": f'"{etag}"', "Cache-Control": f"public, max-age={max_age}" if max_age else "no-cache",
            "Vary": "Accept"}


def if_none_match(etag: str) -> bool:
    return request.if_none_match.contains(etag) or request.if_none_match.star_tag


@bp.route("/sparql", methods=["GET", "POST", "OPTIONS"])
def sparql() -> Response:
    if request.method == "OPTIONS":
        return Response(status=204, headers={**PREFLIGHT_HEADERS, "Allow": "GET, HEAD, POST, OPTIONS"})
    req = SparqlRequest()
    if req.query is None:
        if request.method == "GET":
            return service_description_or_page(req)
        abort_with(400, "The request has no query parameter (or an empty body): send a SPARQL query.")
    if request.method == "GET" and not req.format:
        from . import query_page

        if prefers_html(request.headers.get("Accept")):
            return query_page.render_query_page(query=req.query)
    g.sparql_query = req.query  # the access log hashes it (web/health.py)
    cfg = current_app.config
    if not req.query.strip():
        abort_with(400, "The query is empty: send a SPARQL query.")
    max_length = int(cfg.get("MAX_QUERY_LENGTH") or 0)
    if max_length and len(req.query) > max_length:
        abort_with(414 if req.query_in_url else 413,
                   f"The query is {len(req.query)} characters long; "
                   f"this endpoint accepts up to {max_length}.")
    text = query_text.analyse(req.query)
    if text.is_update:
        abort_with(403, READ_ONLY)
    if text.nesting > MAX_NESTING:
        abort_with(400, f"The query nests (), {{}} or [] {text.nesting} levels deep; "
                        f"this endpoint accepts up to {MAX_NESTING}.")
    if text.service_targets:
        try:
            federation.check_services(text.service_targets,
                                      federation.parse_allowlist(cfg.get("SERVICE_ALLOWLIST")),
                                      allow_loopback=cfg.get("SERVICE_ALLOW_LOOPBACK") is True)
        except federation.EndpointRefused as error:
            abort_with(403, str(error))
    results_format, graph_format = negotiate(text.form, req)
    chosen = graph_format if text.form in ("CONSTRUCT", "DESCRIBE") else results_format
    bom = req.bom and chosen.key in ("csv", "tsv")
    max_rows = int(cfg.get("MAX_RESULT_ROWS") or 0) or None
    job = QueryJob(
        query=req.query, results_format=results_format.key, graph_format=graph_format.key,
        base_iri=request.base_url, union_default_graph=not text.has_dataset_clause,
        default_graph=req.default_graphs if req.has_protocol_dataset else None,
        named_graphs=req.named_graphs if req.has_protocol_dataset else None,
        # A SELECT's own LIMIT may already keep it within the cap (then no counting is needed); a
        # CONSTRUCT's LIMIT counts solutions, not the triples each one makes, so it never does.
        max_rows=max_rows, within_limit=text.form == "ASK" or (
            text.form == "SELECT" and max_rows is not None and text.limit is not None
            and text.limit <= max_rows))
    version = getattr(get_store(), "version", "")
    etag = result_key(version, job, bom, text.form)
    headers = conditional_headers(etag)
    if if_none_match(etag):
        if request.method in ("GET", "HEAD"):
            return Response(status=304, headers=headers)
        abort_with(412, "If-None-Match matched the current result; a POST cannot be answered 304.")
    cache = get_result_cache()
    cached = cache.get(etag)
    if cached is None:
        cached = execute(job, results_format, graph_format)
        cache.put(etag, cached)
    body = UTF8_BOM + cached.body if bom else cached.body
    response = Response(body, status=200, content_type=cached.content_type, headers=headers)
    if cached.truncated:
        response.headers["X-Result-Truncated"] = "true"
        response.headers["X-Result-Row-Limit"] = str(max_rows)
        response.headers["Warning"] = (f'199 planlod "The result was cut at {max_rows} rows (the server\'s '
                                       'limit); page through it with LIMIT and OFFSET."')
    return response


def execute(job: QueryJob, results_format: Format, graph_format: Format) -> CachedResult:
    limit = float(current_app.config.get("QUERY_TIMEOUT") or 30)
    try:
        reply = run(job)
    except QuerySyntaxError as error:
        abort_with(400, syntax_message(str(error)))
    except QueryTimeout:
        if get_query_pool() is None:  # an external store: the limit is an HTTP timeout, not a kill
            abort_with(503, f"The query ran longer than this endpoint's time limit of {limit:g} s "
                            "(QUERY_TIMEOUT); its answer was not awaited. Narrow it, or add a LIMIT.")
        abort_with(503, f"The query ran longer than this endpoint's time limit of {limit:g} s "
                        "(QUERY_TIMEOUT) and was stopped. Narrow it, or add a LIMIT.")
    except QueryMemoryExceeded as error:
        abort_with(503, f"{error} (QUERY_MEMORY_MB) Narrow it, or add a LIMIT.")
    except PoolBusy as error:
        abort_with(503, str(error), {"Retry-After": "5"})
    except QueryEvaluationError as error:
        if "SERVICE" in job.query.upper():
            abort_with(502, f"A federated (SERVICE) part of the query failed: {error}")
        abort_with(500, f"The query failed while running: {error}")
    except WorkerFailed as error:
        abort_with(500, str(error))
    fmt = graph_format if reply.kind == "triples" else results_format
    return CachedResult(reply.body, fmt.content_type, reply.truncated, reply.rows)


@bp.after_request
def cors(response: Response) -> Response:
    for name, value in CORS_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

