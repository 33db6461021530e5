"""The per-client rate limit: off in tests, and when turned on, a 429 with Retry-After past the limit."""

import json

import pytest
from planlod.web.app import create_app
from servers import app_request, http_request, running_server

ASK = "/sparql?query=ASK%20%7B%7D"


@pytest.fixture(scope="module")
def limited_client():
    app = create_app({"TESTING": True, "RATELIMIT_ENABLED": True, "RATELIMIT_DEFAULT": "3 per minute"})
    return app.test_client()


def test_past_the_limit_a_client_gets_429_with_retry_after(limited_client):
    statuses = [app_request(limited_client, "GET", ASK).status for _ in range(3)]
    assert statuses == [200, 200, 200]
    refused = app_request(limited_client, "GET", ASK)
    assert refused.status == 429
    retry = int(refused.headers["retry-after"])
    assert 1 <= retry <= 61  # the window is 60 s; flask-limiter rounds its reset time up to the second
    assert "Traceback" not in refused.text
    # The refusal speaks the client's form (the errors module): JSON for a SPARQL JSON client.
    as_json = app_request(limited_client, "GET", ASK, {"Accept": "application/sparql-results+json"})
    assert as_json.status == 429
    assert json.loads(as_json.body)["error"]["status"] == 429
    # Monitors are not counted against anyone.
    assert app_request(limited_client, "GET", "/healthz").status == 200


def test_the_limit_is_per_client(limited_client):
    first, second = {"REMOTE_ADDR": "192.0.2.7"}, {"REMOTE_ADDR": "192.0.2.8"}
    statuses = [limited_client.get(ASK, environ_base=first).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert limited_client.get(ASK, environ_base=second).status_code == 200


def test_the_limit_is_off_in_tests(client):
    assert {app_request(client, "GET", ASK).status for _ in range(10)} == {200}


def test_a_real_server_configured_from_the_environment_limits_too():
    """PLANLOD_RATELIMIT_* reach every gunicorn worker; with one worker the count is exact."""
    env = {"PLANLOD_RATELIMIT_ENABLED": "true", "PLANLOD_RATELIMIT_DEFAULT": "4 per minute"}
    with running_server(env, workers=1) as server:
        statuses = [http_request(server.url, "GET", ASK).status for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        refused = http_request(server.url, "GET", ASK)
        assert refused.status == 429 and int(refused.headers["retry-after"]) >= 1
        assert http_request(server.url, "GET", "/healthz").status == 200
