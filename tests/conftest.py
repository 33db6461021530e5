"""Shared fixtures: the app over the real dataset, its test client, and a real server process."""

import pytest
from planlod.web.app import create_app
from servers import running_server


@pytest.fixture(scope="session")
def app():
    # Session-wide: the store is loaded (and the SHACL gate run) once, as a server does at start.
    return create_app({"TESTING": True, "RATELIMIT_ENABLED": False})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server():
    """A real `planlod serve` (gunicorn, 2 workers) on a free loopback port; see tests/servers.py."""
    with running_server() as server:
        yield server


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """pytest-playwright's `page` runs in Debian's chromium (never `playwright install`), off the network."""
    return {**browser_type_launch_args, "executable_path": "/usr/bin/chromium",
            "args": ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                     "--disable-sync", "--no-first-run"]}


@pytest.fixture
def guarded_page(page, live_server):
    """A browser page on the live server that fails the test on a console error, an uncaught exception or
    a request leaving 127.0.0.1; every browser test uses it."""
    from urllib.parse import urlsplit

    outside, errors = [], []

    def guard(route):
        url = route.request.url
        if url.startswith("data:") or urlsplit(url).hostname == "127.0.0.1":
            route.continue_()
        else:
            outside.append(url)
            route.abort()

    page.route("**/*", guard)
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page, live_server
    assert outside == [], f"requests left 127.0.0.1: {outside}"
    assert errors == [], f"console errors: {errors}"
