"""A real Oxigraph server process (the Rust CLI from PyPI `oxigraph`) on a free loopback port.

    with running_oxigraph(nquads_file, tmp_dir) as store:
        RemoteStore.connect(store.query_url, base)

`oxigraph load` fills a store directory from an N-Quads dump, then `oxigraph serve-read-only` serves it
with the default graph as the union (as planlod's embedded store has it). Stopped by its PID.
"""

import contextlib
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from planlod.graph.external_load import oxigraph_cli
from servers import free_port

# The CLI from the test extras; in CI's virtualenv it sits beside the python, not necessarily on PATH.
OXIGRAPH = oxigraph_cli() or "oxigraph"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0


@dataclass
class OxigraphServer:
    url: str
    pid: int
    location: Path
    log: Path

    @property
    def query_url(self) -> str:
        return self.url + "/query"


def oxigraph_load(nquads: Path, location: Path) -> None:
    subprocess.run([OXIGRAPH, "load", "--location", str(location), "--file", str(nquads)],
                   check=True, capture_output=True)


def wait_until_answering(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    probe = url + "/query?query=ASK%7B%7D"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"oxigraph exited with {process.returncode}: {log.read_text()[-2000:]}")
        with contextlib.suppress(urllib.error.URLError, ConnectionError, TimeoutError):
            with urllib.request.urlopen(probe, timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"oxigraph did not answer within {START_TIMEOUT:.0f} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def running_oxigraph(location: Path, union_default_graph: bool = True,
                     extra_args: tuple[str, ...] = ()) -> Iterator[OxigraphServer]:
    """`oxigraph serve-read-only` over an already loaded store directory."""
    if union_default_graph:
        extra_args = ("--union-default-graph", *extra_args)
    port = free_port()
    log = location.with_name(location.name + f"-{port}.log")
    command = [OXIGRAPH, "serve-read-only", "--location", str(location),
               "--bind", f"127.0.0.1:{port}", *extra_args]
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answering(url, process, log)
        yield OxigraphServer(url=url, pid=process.pid, location=location, log=log)
    finally:
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
