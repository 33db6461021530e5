"""Endpoint benchmark: planlod's /sparql against a floor and two peers, same data, same run, same loopback.

    python bench/endpoint.py                      # 1 plan and 1,000 plans, c=1 and c=8, 5 s per cell
    python bench/endpoint.py --plans 1 --duration 2 --out /tmp/endpoint.md   # a quick look

Servers on 127.0.0.1, each with 2 workers, all up at once but loaded one at a time (taken in turn for each
cell, best of --rounds, so load from anything else on the machine hits them alike):
  floor      an empty Flask route under the same gunicorn as `planlod serve` (bench/floor_app.py)
  planlod    `planlod serve --workers 2`, result cache off, the query time limit on (its default)
  rdflib     rdflib-endpoint 0.6.3 under `uvicorn --workers 2` (bench/rdflib_endpoint_app.py)
  oxigraph   the Rust `oxigraph serve-read-only --union-default-graph` (its threads; no worker option)
The peers get the very quads planlod loaded (an N-Quads dump of planlod's own store), so every server
answers over the same graphs. Before timing, each query is sent once to each server and the number of
results compared: a server that answers differently is reported, not timed as if it were right.

Load comes from wrk (C, epoll: the client costs far less CPU than any server here) for a fixed duration per
cell, GET with the query in the URL, SPARQL JSON for SELECT and N-Triples for CONSTRUCT. Figures are
requests/s and the p50/p99 latency of the requests that completed; ratios are against the floor, rdflib
and oxigraph measured in this run. Everything is bounded: fixed durations, a per-request timeout, servers
stopped by their PID.
"""

import argparse
import contextlib
import json
import os
import platform
import re
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
from importlib import metadata
from pathlib import Path

import rdflib

BENCH_DIR = Path(__file__).resolve().parent
PROJECT = BENCH_DIR.parent
EXAMPLES = PROJECT / "data" / "examples.ttl"
START_TIMEOUT = 900.0  # rdflib parses 1,000 plans in each of its two workers
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = "60s"  # wrk's per-request timeout: slow peers are measured, not dropped
SERVERS = ("floor", "planlod", "rdflib", "oxigraph")

# The four queries: three are the page's examples (stored once, in data/examples.ttl), plus a whole-data
# count, the query that touches every quad.
QUERY_EXAMPLES = {"hierarchy": "hierarchy", "cross-plan": "editions", "construct": "construct-skos"}
COUNT_QUERY = "SELECT (COUNT(*) AS ?quads) WHERE { ?s ?p ?o }"
SELECT_ACCEPT = "application/sparql-results+json"
GRAPH_ACCEPT = "application/n-triples"


@dataclass(frozen=True)
class Query:
    name: str
    text: str
    accept: str


def load_queries() -> list[Query]:
    graph = rdflib.Graph().parse(EXAMPLES, format="turtle")
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    ident = rdflib.URIRef("http://purl.org/dc/terms/identifier")
    by_id = {}
    for example in graph.subjects(rdflib.RDF.type, sh.SPARQLExecutable):
        select, construct = graph.value(example, sh.select), graph.value(example, sh.construct)
        by_id[str(graph.value(example, ident))] = (str(select or construct),
                                                   SELECT_ACCEPT if select else GRAPH_ACCEPT)
    queries = [Query(name, *by_id[example]) for name, example in QUERY_EXAMPLES.items()]
    queries.insert(2, Query("count", COUNT_QUERY, SELECT_ACCEPT))
    return queries


# ---- the data ----

def write_synthetic_plans(count: int, out_dir: Path) -> str:
    """`count` synthetic plan editions (with their SDG link sets) from bench/generate.py."""
    sys.path.insert(0, str(BENCH_DIR))
    import generate  # bench/generate.py, the generator the benchmarks share

    municipalities, editions_each = (count // 3, 3) if count % 3 == 0 else (count, 1)
    generate.write_data_dir(generate.editions(municipalities, editions_each, seed=0), out_dir)
    return f"{municipalities} synthetic municipalities × {editions_each} editions from bench/generate.py"


def build_dataset(plans: int, work: Path) -> tuple[dict[str, str], Path, str]:
    """Directories for `plans` plans, the planlod settings pointing at them, an N-Quads dump, and how."""
    data = work / "data"
    data.mkdir(parents=True)
    for name in ("plan.ttl", "dataset.ttl", "examples.ttl"):
        shutil.copy(PROJECT / "data" / name, data / name)
    how = "the 5th Iwaki plan (data/plan.ttl)"
    if plans > 1:
        how += " + " + write_synthetic_plans(plans - 1, data / "synthetic")
    settings = {"PLANLOD_ONTOLOGY_DIR": str(PROJECT / "ontology"),
                "PLANLOD_SHAPES_DIR": str(PROJECT / "shapes"), "PLANLOD_DATA_DIR": str(data)}
    dump = work / "dataset.nq"
    subprocess.run([sys.executable, "-c", DUMP_SCRIPT, str(dump)], check=True, timeout=900,
                   env={**os.environ, **settings})
    return settings, dump, how


# planlod's own loader builds the store; the peers get exactly its quads.
DUMP_SCRIPT = """
import os, sys
from pathlib import Path
from pyoxigraph import RdfFormat
from planlod.graph.store import DatasetStore
from planlod import config
store = DatasetStore.load(Path(os.environ["PLANLOD_ONTOLOGY_DIR"]), Path(os.environ["PLANLOD_SHAPES_DIR"]),
                          Path(os.environ["PLANLOD_DATA_DIR"]), config.DEFAULT_BASE_IRI)
store.store.dump(output=sys.argv[1], format=RdfFormat.N_QUADS)
print(len(store.store))
"""


# ---- the servers ----

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    os.kill(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only it and its workers
        process.wait(timeout=STOP_TIMEOUT)


def answer(url: str, query: str, accept: str, timeout: float = 120.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url + "?" + urllib.parse.urlencode({"query": query}),
                                     headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def running(name: str, command: list[str], env: dict[str, str], url: str,
            log: Path) -> Iterator[tuple[float, int]]:
    """Start a server, wait for its first answer (yields the seconds that took and its PID, which is
    also its process group), stop it by its PID."""
    started = time.monotonic()
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out,
                                   start_new_session=True, cwd=BENCH_DIR)
    try:
        deadline = started + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}; see {log}")
            with contextlib.suppress(OSError):
                if answer(url, "ASK { }", SELECT_ACCEPT, timeout=5)[0] == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} gave no answer within {START_TIMEOUT:.0f} s; see {log}")
            time.sleep(0.2)
        yield time.monotonic() - started, process.pid
    finally:
        stop(process)


def server_command(name: str, port: int, dump: Path, store_dir: Path) -> tuple[list[str], dict[str, str]]:
    bind = f"127.0.0.1:{port}"
    if name == "floor":
        # The same gunicorn settings as `planlod serve` (web/serve.py): gthread, 4 threads, keep-alive 5 s.
        return [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
                "--threads", "4", "--keep-alive", "5", "--bind", bind, "floor_app:app"], {}
    if name == "planlod":
        return ([sys.executable, "-m", "planlod.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                 "--workers", "2", "--store-dir", str(store_dir.parent / "planlod-store")],
                dict(PLANLOD_SERVER_SETTINGS))
    if name == "rdflib":
        return ([sys.executable, "-m", "uvicorn", "--factory", "--workers", "2", "--host", "127.0.0.1",
                 "--port", str(port), "--log-level", "warning", "rdflib_endpoint_app:create_app"],
                {"BENCH_RDF_FILES": str(dump)})
    if name == "oxigraph":
        return ([shutil.which("oxigraph"), "serve-read-only", "--location", str(store_dir), "--bind", bind,
                 "--union-default-graph", "--timeout-s", "30"], {})
    raise ValueError(name)


# Cache off for honest figures; the time limit stays at its default (on); no rate limit on loopback.
PLANLOD_SERVER_SETTINGS = {"PLANLOD_RESULT_CACHE_SIZE": "0", "PLANLOD_RATELIMIT_ENABLED": "false"}


# ---- counting answers (same data?) and load (wrk) ----

def canonical_answer(accept: str, body: bytes) -> tuple:
    """The answer as a sorted tuple of solutions or triples, so answers from different servers compare."""
    if accept == SELECT_ACCEPT:
        def term(t: dict) -> tuple:
            return t["value"], t.get("xml:lang", ""), t.get("datatype", "")

        rows = json.loads(body)["results"]["bindings"]
        return tuple(sorted(tuple(sorted((var, term(t)) for var, t in row.items())) for row in rows))
    graph = rdflib.Graph().parse(data=body, format="nt")
    return tuple(sorted((s.n3(), p.n3(), o.n3()) for s, p, o in graph))


@dataclass
class Cell:
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    completed: int
    errors: int


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(number) * UNITS[unit]


def wrk(url: str, query: Query, connections: int, seconds: float) -> Cell:
    target = url + "?" + urllib.parse.urlencode({"query": query.text})
    command = ["wrk", "--threads", str(min(connections, 2)), "--connections", str(connections),
               "--duration", f"{max(1, round(seconds))}s",  # wrk takes whole seconds
               "--timeout", REQUEST_TIMEOUT, "--latency",
               "--header", f"Accept: {query.accept}", target]
    output = subprocess.run(command, capture_output=True, text=True, check=True,
                            timeout=seconds + 120).stdout
    completed = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    errors = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(map(int, socket_errors.groups()))
                                                          if socket_errors else 0)
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    if completed == 0:
        return Cell(rate, float("nan"), float("nan"), 0, errors)
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    return Cell(rate, p50, p99, completed, errors)


# ---- one size: every server, every query, every concurrency ----

def process_group_cpu(pgid: int) -> float:
    """CPU seconds used so far by every process of a process group (a server and its workers)."""
    ticks = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:  # field 5, pgrp
                ticks += int(fields[11]) + int(fields[12])  # utime + stime
    return ticks / os.sysconf("SC_CLK_TCK")


def wait_idle(pgid: int, limit: float = 600.0) -> bool:
    """Wait until a server has stopped working on abandoned requests (under 5% CPU over a second)."""
    deadline = time.monotonic() + limit
    before = process_group_cpu(pgid)
    while time.monotonic() < deadline:
        time.sleep(1.0)
        now = process_group_cpu(pgid)
        if now - before < 0.05:
            return True
        before = now
    return False


def check_answer(results: dict, name: str, url: str, query: Query, timeout: float) -> float | None:
    """Ask once; record the answer for the comparison; the seconds it took, or None when it timed out."""
    started = time.monotonic()
    try:
        status, body = answer(url, query.text, query.accept, timeout=timeout)
    except (TimeoutError, urllib.error.URLError) as error:
        if not isinstance(error, TimeoutError) and not isinstance(error.reason, TimeoutError):
            raise
        results["answers"][(name, query.name)] = (f"no answer in {timeout:.0f} s", None)
        return None
    results["answers"][(name, query.name)] = (
        status, canonical_answer(query.accept, body) if status == 200 else None)
    return time.monotonic() - started if status == 200 else None  # an error is not timed


def record(results: dict, name: str, query: Query, connections: int, cell: Cell) -> None:
    best = results["cells"].get((name, query.name, connections))
    # The best round is the one with fewest errors, then the fastest: errors are often fast.
    if best is None or (cell.errors, -cell.requests_per_s) < (best.errors, -best.requests_per_s):
        results["cells"][(name, query.name, connections)] = cell
    print(f"  {name:8} {query.name:10} c={connections}: {cell.requests_per_s:9.1f} req/s  "
          f"p50 {cell.p50_ms:8.2f} ms  p99 {cell.p99_ms:8.2f} ms  errors {cell.errors}", flush=True)


def measure_size(plans: int, servers: list[str], concurrencies: list[int], seconds: int, rounds: int,
                 queries: list[Query], work: Path, log: Path) -> dict:
    """floor, planlod and oxigraph up at once (idle ones cost no CPU), loaded one at a time and taken in
    turn for each cell, `rounds` times, so load from anything else on the machine hits them alike (the best
    round of each is kept). rdflib-endpoint comes after, alone: it cannot stop a query a client gave up
    on, so before each of its cells the run waits until it is idle again, and a query it cannot answer
    within a bound is recorded as such instead of being timed."""
    settings, dump, how = build_dataset(plans, work)
    quads = sum(1 for _ in open(dump, encoding="utf-8"))
    store_dir = work / "oxigraph-store"
    subprocess.run([shutil.which("oxigraph"), "load", "--location", str(store_dir), "--file", str(dump)],
                   check=True, timeout=900, capture_output=True)
    PLANLOD_SERVER_SETTINGS.update(settings)
    results: dict = {"plans": plans, "how": how, "quads": quads, "start_s": {}, "answers": {}, "cells": {},
                     "single_s": {}}

    def start(stack: contextlib.ExitStack, name: str) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}/sparql"
        command, env = server_command(name, port, dump, store_dir)
        print(f"[{plans} plans] {name}: starting", flush=True)
        results["start_s"][name], pid = stack.enter_context(running(name, command, env, url, log))
        results.setdefault("pids", {})[name] = pid
        return url

    def cell(name: str, url: str, query: Query, connections: int, pgid: int | None) -> None:
        took = results["single_s"].get((name, query.name))
        if took is None:  # no answer within the bound: not timed, reported as such
            return
        # Long enough for several answers even when each takes a while (bounded); a server must first be
        # idle again, since no server here stops a query its client gave up on before its own time limit.
        duration = min(60, max(seconds, round(4 * took * connections / 2)))
        if pgid is not None:
            wait_idle(pgid)
        if took < 1.0:
            wrk(url, query, connections, 1)  # warm-up, not recorded
        record(results, name, query, connections, wrk(url, query, connections, duration))

    def first_answers(name: str, url: str) -> None:
        for query in queries:
            if name != "floor":
                took = check_answer(results, name, url, query, ANSWER_BOUND)
                results["single_s"][(name, query.name)] = took
            else:
                results["single_s"][(name, query.name)] = 0.0

    together = [n for n in servers if n != "rdflib"]
    with contextlib.ExitStack() as stack:
        urls = {name: start(stack, name) for name in together}  # one after another: start-ups apart
        for name in together:
            first_answers(name, urls[name])
        for query in queries:
            for connections in concurrencies:
                for _ in range(rounds):
                    for name in together:
                        cell(name, urls[name], query, connections,
                             None if name == "floor" else results["pids"][name])
    if "rdflib" in servers:
        with contextlib.ExitStack() as stack:
            url = start(stack, "rdflib")
            wait_idle(results["pids"]["rdflib"])
            first_answers("rdflib", url)
            for query in queries:
                for connections in concurrencies:
                    cell("rdflib", url, query, connections, results["pids"]["rdflib"])
    return results


# A server whose single answer takes longer than this is not load-tested on that query (for rdflib-endpoint
# its ratio is then a lower bound). wait_idle waits for such an abandoned query to finish.
ANSWER_BOUND = 120.0


# ---- the report ----

def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("flask", "gunicorn", "pyoxigraph", "oxigraph", "rdflib", "rdflib-endpoint", "uvicorn",
                    "fastapi", "planlod"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        found["oxigraph CLI"] = subprocess.run([shutil.which("oxigraph"), "--version"], capture_output=True,
                                               text=True, timeout=10).stdout.strip()
        found["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True,
                                      timeout=10).stdout.splitlines()[0].strip()
    return found


def ratio(a: Cell | None, b: Cell | None, seconds: float) -> str:
    if a is None or b is None or a.completed == 0:
        return "–"
    if b.completed == 0:  # under one request per cell: its rate is below 1/seconds
        return f"> {a.requests_per_s * seconds:,.0f}×"
    return f"{a.requests_per_s / b.requests_per_s:.2f}×"


def fmt(cell: Cell | None) -> str:
    if cell is None:
        return "not run"
    if cell.completed == 0:
        return "none completed"
    flag = f" ⚠{cell.errors} err" if cell.errors else ""
    return f"{cell.requests_per_s:,.1f} ({cell.p50_ms:.1f}/{cell.p99_ms:.1f}){flag}"


def report(sizes: list[dict], concurrencies: list[int], seconds: float, rounds: int, queries: list[Query],
           load_before: tuple[float, float, float]) -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    lines = ["# Endpoint benchmark", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python bench/endpoint.py` on "
             f"{os.cpu_count()} cores ({cpu}), loopback only, 2 workers each (oxigraph: its own threads); "
             "floor, planlod and oxigraph up together, one loaded at a time, taken in turn for each cell, "
             f"best of {rounds} rounds; rdflib-endpoint after them, alone, one round. Before each cell the "
             "server is left to become idle (no server here stops a query its client gave up on before its "
             f"own time limit); a cell lasts {seconds:g} s, or longer (up to 60 s) when single answers take "
             f"long, after a 1 s warm-up for fast queries; a query not answered within {ANSWER_BOUND:.0f} s "
             "is not timed. wrk; GET, query in the URL; "
             "SPARQL JSON for SELECT, N-Triples for CONSTRUCT. planlod: result cache off, query time limit "
             "on (default), rate limit off.", "",
             "Load average before the run: " + " / ".join(f"{x:.1f}" for x in load_before) + " "
             f"(1/5/15 min) on {os.cpu_count()} cores — other work on the machine shares the CPU with "
             "every server alike; compare the ratios, not the absolute figures, across runs.", "",
             "Cells: requests/s (p50/p99 latency in ms). Ratios: planlod's requests/s over the other "
             "server's, same query, same concurrency, same run.", ""]
    for size in sizes:
        plural = "s" if size["plans"] != 1 else ""
        lines += [f"## {size['plans']:,} plan{plural}: {size['quads']:,} quads", "",
                  f"Data: {size['how']}, with the ontology and the shapes. Start to first answer: "
                  + ", ".join(f"{n} {s:.1f} s" for n, s in size["start_s"].items()) + ".", ""]
        lines += ["| query | c | floor (empty Flask) | planlod | rdflib-endpoint | oxigraph server "
                  "| planlod / floor | planlod / rdflib | planlod / oxigraph |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for query in queries:
            for c in concurrencies:
                cells = {n: size["cells"].get((n, query.name, c)) for n in SERVERS}
                mine = cells["planlod"]
                shown = [fmt(cells[n]) for n in SERVERS]
                ratios = [ratio(mine, cells[n], seconds) for n in ("floor", "rdflib", "oxigraph")]
                if cells["rdflib"] is None and size["single_s"].get(("rdflib", query.name), 0) is None \
                        and mine is not None:
                    # One answer took longer than the bound: rdflib serves under min(c, 2)/bound requests/s.
                    shown[SERVERS.index("rdflib")] = f"no answer in {ANSWER_BOUND:.0f} s"
                    ratios[1] = f"> {mine.requests_per_s * ANSWER_BOUND / min(c, 2):,.0f}×"
                lines.append(f"| {query.name} | {c} | " + " | ".join(shown + ratios) + " |")
        lines += ["", "Answers per query (status, rows or triples), compared solution by solution and triple "
                  "by triple: the same data must give the same answer.", ""]
        for query in queries:
            answers = {n: size["answers"][(n, query.name)] for n in SERVERS
                       if (n, query.name) in size["answers"]}
            same = len({a for _, a in answers.values()}) == 1
            lines.append(f"- {query.name}: " + ", ".join(
                f"{n} {status}, {len(a) if a is not None else '–'}" for n, (status, a) in answers.items())
                + (" — identical" if same else "  **← answers differ**"))
        lines.append("")
    lines += ["## Queries", ""]
    for query in queries:
        example = QUERY_EXAMPLES.get(query.name)
        source = f"example `{example}` in data/examples.ttl" if example else "whole-data count"
        lines += [f"### {query.name} ({source})", "", "```sparql", query.text, "```", ""]
    lines += ["## Versions", ""] + [f"- {k}: {v}" for k, v in versions().items()] + [""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, nargs="+", default=[1, 1000])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--duration", type=int, default=5, help="seconds per cell")
    parser.add_argument("--rounds", type=int, default=2, help="rounds per cell; the best is kept")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    parser.add_argument("--out", type=Path, default=BENCH_DIR / "results" / "endpoint.md")
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None or shutil.which("oxigraph") is None:
        parser.error("needs wrk (Debian: apt-get install wrk) and the oxigraph CLI (pip install oxigraph)")
    # Stopped from outside: unwind normally, so every server started here is stopped by its PID.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    queries = load_queries()
    load_before = os.getloadavg()
    sizes = []
    with tempfile.TemporaryDirectory(prefix="planlod-bench-") as tmp:
        log = Path(tmp) / "servers.log"
        try:
            for plans in args.plans:
                sizes.append(measure_size(plans, args.servers, args.concurrency, args.duration, args.rounds,
                                          queries, Path(tmp) / f"plans-{plans}", log))
                args.out.parent.mkdir(parents=True, exist_ok=True)  # after each size: a later one may fail
                args.out.write_text(report(sizes, args.concurrency, args.duration, args.rounds, queries,
                                           load_before), encoding="utf-8")
        except Exception:
            print(log.read_text(errors="replace")[-4000:] if log.exists() else "", file=sys.stderr)
            raise
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
