"""A real `planlod serve` process on a free loopback port, for tests that need real HTTP.

    with running_server({"PLANLOD_QUERY_TIMEOUT": "2"}) as server:
        requests.get(server.url + "/healthz")

The server is started as a child process (gunicorn under `planlod serve`), awaited through
`/healthz`, and stopped by its PID (SIGTERM, then SIGKILL of its own process group if it lingers).
Its stderr — gunicorn's messages and our access log — is kept in a file so tests can read it.
The rate limit is off unless the caller turns it on (tests send bursts on purpose).
"""

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

START_TIMEOUT = 90.0  # seconds: the SHACL gate and the store load run before the first answer
STOP_TIMEOUT = 15.0


@dataclass
class Server:
    url: str  # e.g. http://127.0.0.1:40123 (no trailing slash)
    port: int
    pid: int
    log: Path  # the process's stderr

    @property
    def sparql(self) -> str:
        return self.url + "/sparql"

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def access_log(self) -> list[dict]:
        """The structured access-log lines written so far."""
        lines = []
        for line in self.log_text().splitlines():
            if line.startswith("{"):
                with contextlib.suppress(ValueError):
                    record = json.loads(line)
                    if record.get("event") == "request":
                        lines.append(record)
        return lines


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"planlod serve exited with {process.returncode}:\n"
                               + log.read_text(encoding="utf-8", errors="replace")[-4000:])
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as response:
                if response.status == 200 and json.load(response).get("status") == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"planlod serve did not answer /healthz within {START_TIMEOUT:.0f} s:\n"
                       + log.read_text(encoding="utf-8", errors="replace")[-4000:])


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)  # gunicorn's graceful stop
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        # It started its own session, so this group holds only it and its workers.
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=STOP_TIMEOUT)


@contextlib.contextmanager
def running_server(env: dict[str, str | None] | None = None, workers: int = 2,
                   args: list[str] | None = None) -> Iterator[Server]:
    port = free_port()
    metrics_dir = tempfile.mkdtemp(prefix="planlod-metrics-")
    settings = {
        "PLANLOD_RATELIMIT_ENABLED": "false",
        # One directory per server, so /metrics sums the workers of this server only.
        "PLANLOD_METRICS_DIR": metrics_dir,
    }
    settings.update(env or {})
    # A None value leaves the variable unset (e.g. to test what `planlod serve` does by itself).
    unset = {name for name, value in settings.items() if value is None}
    environment = {k: v for k, v in {**os.environ, **settings}.items() if k not in unset and v is not None}
    with tempfile.NamedTemporaryFile(prefix="planlod-serve-", suffix=".log", delete=False) as handle:
        log = Path(handle.name)
    command = [sys.executable, "-m", "planlod.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), *(args or [])]
    with open(log, "wb") as stderr:
        process = subprocess.Popen(command, env=environment, stdout=stderr,
                                   stderr=stderr, start_new_session=True,
                                   cwd=tempfile.gettempdir())  # must not depend on the working dir
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, process, log)
        yield Server(url=url, port=port, pid=process.pid, log=log)
    finally:
        stop(process)
        log.unlink(missing_ok=True)
        shutil.rmtree(metrics_dir, ignore_errors=True)


# -- sending exactly the bytes a test means, to a real server or to the app in-process --

@dataclass
class Reply:
    status: int
    headers: dict[str, str]  # names in lower case
    body: bytes

    @property
    def media_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def http_request(base_url: str, method: str, target: str, headers: dict[str, str] | None = None,
                 body: bytes | None = None, timeout: float = 120.0) -> Reply:
    """One request over a fresh connection; `target` is sent as written (bad %-encoding included)."""
    parsed = urllib.parse.urlsplit(base_url)
    connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)
    try:
        connection.request(method, target, body=body, headers=headers or {})
        response = connection.getresponse()
        return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def app_request(client, method: str, target: str, headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Reply:
    """The same request through Flask's test client (no socket): for cases about the app itself."""
    path, _, query = target.partition("?")
    response = client.open(path, method=method, query_string=query,
                           headers=headers or {}, data=body)
    return Reply(response.status_code, {k.lower(): v for k, v in response.headers.items()},
                 response.get_data())
