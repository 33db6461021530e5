"""`planlod serve` as a real process (web/serve.py): gunicorn on a free loopback port, stopped by its PID.

It answers a query with the right count, every process it started (gunicorn workers, query workers)
ends with it, a restart on the same --store-dir reuses the store it built, and invalid data keeps it
from starting at all (the SHACL report on stderr, exit status 1).
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from planlod.graph.store import DatasetStore, read_manifest
from servers import free_port, http_request, running_server

HERE = Path(__file__).parent
INVALID_FIXTURE = HERE / "shapes" / "invalid" / "edition-without-en-title.ttl"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"
DIRECT = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}


def descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(") ", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], seconds: float = 10.0) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(running(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if running(p)}


def manifest(store_dir: Path) -> Path:
    (db,) = store_dir.glob("db-*")
    return db / "manifest.json"


def test_serve_answers_stops_by_pid_and_restarts_on_its_store(tmp_path):
    store_dir = tmp_path / "store"
    with running_server(args=["--store-dir", str(store_dir)]) as server:
        reply = http_request(server.url, "POST", "/sparql", DIRECT, COUNT.encode())
        assert reply.status == 200
        served = int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"])
        built = json.loads(manifest(store_dir).read_text(encoding="utf-8"))
        assert served == built["triples"] > 1000
        processes = descendants(server.pid)
        # 2 gunicorn workers, each with its warm pool of 2 query workers.
        assert len(processes) >= 6, processes
    assert wait_gone(processes | {server.pid}) == set()

    first = manifest(store_dir).stat().st_mtime_ns
    with running_server(args=["--store-dir", str(store_dir)]) as again:
        reply = http_request(again.url, "POST", "/sparql", DIRECT, COUNT.encode())
        assert int(json.loads(reply.body)["results"]["bindings"][0]["n"]["value"]) == served
    assert manifest(store_dir).stat().st_mtime_ns == first  # reused, not rebuilt
    store = DatasetStore.open(read_manifest(manifest(store_dir).parent), built["base"])
    assert len(store) == served


def test_invalid_data_keeps_the_server_from_starting(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    (data / INVALID_FIXTURE.name).write_bytes(INVALID_FIXTURE.read_bytes())
    port = free_port()
    env = {**os.environ, "PLANLOD_DATA_DIR": str(data), "PLANLOD_STORE_DIR": str(tmp_path / "store")}
    finished = subprocess.run([sys.executable, "-m", "planlod.cli", "serve", "--port", str(port)],
                              env=env, capture_output=True, text=True, timeout=120,
                              cwd=tempfile.gettempdir())
    assert finished.returncode == 1
    assert "does not conform" in finished.stderr
    assert "Violation" in finished.stderr and "Traceback" not in finished.stderr
    assert not list((tmp_path / "store").glob("db-*"))  # nothing was built for invalid data


def test_bad_usage_is_one_line_and_exit_2():
    finished = subprocess.run([sys.executable, "-m", "planlod.cli", "serve", "--port", "eighty"],
                              capture_output=True, text=True, timeout=60, cwd=tempfile.gettempdir())
    assert finished.returncode == 2
    assert "--port" in finished.stderr and len(finished.stderr.strip().splitlines()) == 1
