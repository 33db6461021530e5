"""Every error answer, in the form the client asked for; never a traceback.

API for other modules:

    from .errors import ApiError, abort_with

    abort_with(400, "The query parameter is missing.")          # raises ApiError
    abort_with(503, "Busy.", headers={"Retry-After": "5"})
    raise ApiError(413, "The body is larger than 1 MiB.")       # the same, as an exception
    error_response(406, "Available: …")                         # a Response, when you must return one

`init_app(app)` (called by the factory) answers ApiError, werkzeug's HTTPExceptions (abort(404), 405,
413 from MAX_CONTENT_LENGTH, …) and, as a last resort, any other exception with a generic 500 (the
traceback goes to the log, never to the client). Handlers a module registers for a specific status
code keep precedence over these (Flask picks the code-specific handler first).

The form follows Accept: a browser (text/html ranked above every machine type) gets a small HTML
page; a client that accepts JSON (application/json or any +json type, e.g. SPARQL JSON results) more
than text/plain gets {"error": {"status": …, "title": …, "message": …}}; everyone else text/plain.
"""

import json
import logging
from html import escape

from flask import Flask, Response, request
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .negotiation import parse_accept, prefers_html, quality

log = logging.getLogger(__name__)

JSON_TYPES = ("application/json", "application/sparql-results+json", "application/ld+json",
              "application/problem+json")


class ApiError(Exception):
    """An answer with `status` and a short `message` for the client; `headers` are added to it."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


def abort_with(status: int, message: str, headers: dict[str, str] | None = None):
    raise ApiError(status, message, headers)


def _form() -> str:
    ranges = parse_accept(request.headers.get("Accept"))
    if not ranges:
        return "text"
    if prefers_html(request.headers.get("Accept")):
        return "html"
    json_q = max(quality(ranges, t) for t in JSON_TYPES)
    return "json" if json_q > 0 and json_q >= quality(ranges, "text/plain") else "text"


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    title = HTTP_STATUS_CODES.get(status, "Error")
    form = _form()
    if form == "html":
        heading = f"{status} {escape(title)}"
        body = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                f"<title>{heading}</title></head>\n<body><main><h1>{heading}</h1>"
                f"<p>{escape(message)}</p><p><a href=\"/\">planlod</a> · <a href=\"/query\">SPARQL</a></p>"
                "</main></body></html>\n")
        content_type = "text/html; charset=utf-8"
    elif form == "json":
        body = json.dumps({"error": {"status": status, "title": title, "message": message}},
                          ensure_ascii=False) + "\n"
        content_type = "application/json"
    else:
        body = f"{status} {title}: {message}\n"
        content_type = "text/plain; charset=utf-8"
    response = Response(body, status=status, content_type=content_type)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    response.headers["Cache-Control"] = "no-store"
    vary = response.headers.get("Vary")
    response.headers["Vary"] = f"{vary}, Accept" if vary and "Accept" not in vary else vary or "Accept"
    return response


def _api_error(error: ApiError) -> Response:
    return error_response(error.status, error.message, error.headers)


def _http_error(error: HTTPException) -> Response:
    if error.code is None or error.code < 400:
        return error  # redirects raised as exceptions (RequestRedirect) pass through unchanged
    headers = {k: v for k, v in error.get_headers() if k.lower() not in ("content-type", "content-length")}
    message = error.description or HTTP_STATUS_CODES.get(error.code, "Error")
    if error.code == 413:
        limit = request.max_content_length
        message = (f"The request body is larger than this server accepts ({limit} bytes)."
                   if limit else message)
    return error_response(error.code, message, headers)


def _unexpected(error: Exception) -> Response:
    if isinstance(error, HTTPException):
        return _http_error(error)
    log.exception("unhandled error on %s %s", request.method, request.path)
    return error_response(500, "The server failed to answer this request; the error has been logged.")


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, _api_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
