"""Fair use: a per-client request rate limit, answered with 429 and `Retry-After`.

flask-limiter counts requests per client address in memory (sliding-window counter). Settings (environment
`PLANLOD_RATELIMIT_…` in deployment):
  RATELIMIT_ENABLED   on by default (safe by default); tests turn it off
  RATELIMIT_DEFAULT   the limit per client, in flask-limiter's notation, e.g. "120 per minute"
  RATELIMIT_STORAGE_URI  "memory://": counts live in each worker process, so with N gunicorn
                      workers a client may get up to N times the limit; a shared storage
                      (e.g. redis://…) makes it exact.
The client is the socket's peer address; behind a reverse proxy, the proxy must be trusted
(werkzeug's ProxyFix) for that to be the real client.
`/healthz` and `/metrics` are exempt (monitors poll them), and so are static files.
"""

import math
import time

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

EXTENSION_KEY = "planlod.limiter"
EXEMPT_BLUEPRINTS = ("health",)

DEFAULTS = {
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_DEFAULT": "120 per minute; 3000 per hour",
    "RATELIMIT_STORAGE_URI": "memory://",
    # Two counters per client, close to a moving window. "moving-window" keeps a timestamp per hit:
    # up to 3000 floats per client address at the default limit, memory an address-rotating client
    # could grow at will.
    "RATELIMIT_STRATEGY": "sliding-window-counter",
    # We set Retry-After ourselves on 429 only; flask-limiter would put it on every response.
    "RATELIMIT_HEADERS_ENABLED": False,
}


def exempt() -> bool:
    return request.blueprint in EXEMPT_BLUEPRINTS or request.endpoint == "static"


def retry_after(response: Response) -> Response:
    """On a refusal, say when to come back: whole seconds, at least one (RFC 9110 §10.2.3)."""
    if response.status_code == 429 and "Retry-After" not in response.headers:
        limiter: Limiter = current_app.extensions[EXTENSION_KEY]
        limit = limiter.current_limit
        wait = limit.reset_at - time.time() if limit is not None else 1
        response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
    return response


def stated_limit(config) -> str | None:
    """The limit as configured, for the Service Description; None when it is off."""
    return config["RATELIMIT_DEFAULT"] if config["RATELIMIT_ENABLED"] else None


def init_app(app: Flask) -> None:
    for key, value in DEFAULTS.items():
        app.config.setdefault(key, value)
    limiter = Limiter(get_remote_address, app=app)  # reads the RATELIMIT_* settings above
    limiter.request_filter(exempt)
    app.extensions[EXTENSION_KEY] = limiter
    app.after_request(retry_after)
