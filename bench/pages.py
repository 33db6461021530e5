"""Page and download latency: resource pages, the home page, the diagram and dumps, at 1 and 1,000 plans.

    python bench/pages.py                                   # 1 and 1,001 plans, c=1, 5 s per cell
    python bench/pages.py --plans 1 --duration 2 --out /tmp/pages.md    # a quick look

Servers, one at a time on 127.0.0.1 (2 cores), both under gunicorn with 2 workers:
  floor    an empty Flask route (bench/floor_app.py), the cost of Flask + gunicorn + loopback
  planlod  `planlod serve --workers 2` when the command exists, else gunicorn on the same app factory
The data: the real 5th Iwaki plan alone, and with 1,000 synthetic editions from bench/generate.py
(100 municipalities × 10 editions, each with a synthetic SDG link set) — 1,001 plans.

Each target is first fetched once (a check of the status and the media type: a wrong answer is
reported, not timed) and warmed up, then the floor is loaded for a fixed time and right after it the
target, each by wrk at one connection: p50/p99 of the requests that completed, and the target's ratio
to the floor cell just before it (the floor server stays up the whole run). Conditional requests
(If-None-Match) are not sent, so every timed request renders or serializes its answer; the diagram
and the dumps are cached per dataset version by design, so theirs is the cached cost.
"""

import argparse
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(BENCH))

import endpoint  # noqa: E402  (bench/endpoint.py: wrk's output units, Cell, free_port, stop)
from planlod.config import DEFAULT_BASE_IRI  # noqa: E402
from planlod.graph.store import prepare_store  # noqa: E402

PILLAR = "072044/lifelong-learning-plan/5/pillar/7-2"
EDITION = "072044/lifelong-learning-plan/5"
TARGET_RATIO = 3.0  # a resource page within 3x the empty route's p50 at 1,000 plans


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    accept: str
    expect_status: int
    expect_type: str


FLOOR = Target("floor: empty route", "/sparql", "application/sparql-results+json", 200,
               "application/sparql-results+json")
TARGETS = [
    Target("/id/ 303 (browser)", f"/id/{PILLAR}", "text/html", 303, ""),
    Target("pillar page (HTML)", f"/doc/{PILLAR}", "text/html", 200, "text/html"),
    Target("pillar (Turtle)", f"/doc/{PILLAR}.ttl", "text/turtle", 200, "text/turtle"),
    Target("pillar (JSON-LD)", f"/doc/{PILLAR}.jsonld", "application/ld+json", 200, "application/ld+json"),
    Target("edition page with diagram", f"/doc/{EDITION}", "text/html", 200, "text/html"),
    Target("home page", "/", "text/html", 200, "text/html"),
    Target("diagram SVG", f"/diagram/{EDITION}.svg", "image/svg+xml", 200, "image/svg+xml"),
    Target("edition dump (Turtle)", f"/download/{EDITION}.ttl", "text/turtle", 200, "text/turtle"),
    Target("outline CSV", f"/download/{EDITION}/outline.csv", "text/csv", 200, "text/csv"),
]


# Pages timed a second time with the page cache off.
UNCACHED = ("pillar page (HTML)", "pillar (Turtle)", "edition page with diagram", "home page")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def fetch(url: str, accept: str) -> tuple[int, str]:
    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with opener.open(request, timeout=900) as response:  # a first fetch may build a dump
            return response.status, response.headers.get_content_type()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get_content_type()


def has_serve_command() -> bool:
    result = subprocess.run([sys.executable, "-m", "planlod.cli", "serve", "--help"],
                            capture_output=True, timeout=60)
    return result.returncode == 0


def planlod_command(port: int) -> list[str]:
    if has_serve_command():
        return [sys.executable, "-m", "planlod.cli", "serve", "--host", "127.0.0.1", "--port", str(port),
                "--workers", "2"]
    return [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "planlod.web.app:create_app()"]


def wait_for(url: str, process: subprocess.Popen, log: Path,
             timeout: float = endpoint.START_TIMEOUT) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return time.monotonic() - started
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {timeout:.0f} s; see {log}")


def measure(base_url: str, floor_url: str, targets: list[Target], seconds: float) -> dict:
    """Each target's cell right after a floor cell of its own: the pair shares the machine's load of
    the moment (other processes share these cores), so the ratio holds when absolute figures drift."""
    cells: dict = {}
    for target in targets:
        status, media = fetch(base_url + target.path, target.accept)
        if status != target.expect_status or (target.expect_type and media != target.expect_type):
            cells[target.name] = (f"wrong answer: {status} {media}", None)
            continue
        url = base_url + target.path
        run_wrk(url, target.accept, min(1.0, seconds))  # warm-up, not recorded
        floor = run_wrk(floor_url, FLOOR.accept, seconds)
        cells[target.name] = (run_wrk(url, target.accept, seconds), floor)
    return cells


def run_wrk(url: str, accept: str, seconds: float) -> endpoint.Cell:
    """One connection for `seconds`: latency as one visitor sees it, no queueing behind others."""
    command = ["wrk", "--threads", "1", "--connections", "1", "--duration", f"{seconds:g}s",
               "--timeout", endpoint.REQUEST_TIMEOUT, "--latency", "--header", f"Accept: {accept}", url]
    output = subprocess.run(command, capture_output=True, text=True, check=True, timeout=seconds + 120).stdout
    completed = int(re.search(r"(\d+) requests in", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    p50 = endpoint.to_ms(re.search(r"\s50%\s+(\S+)", output).group(1))
    p99 = endpoint.to_ms(re.search(r"\s99%\s+(\S+)", output).group(1))
    return endpoint.Cell(rate, p50, p99, completed, errors)


def build_dataset(plans: int, work: Path) -> tuple[dict[str, str], str]:
    """The real 5th Iwaki plan alone, or with `plans - 1` synthetic editions from bench/generate.py
    (100 municipalities × 10 editions for 1,000 plans, each with its synthetic SDG link set)."""
    data = work / "data"
    data.mkdir(parents=True)
    for name in ("plan.ttl", "dataset.ttl", "examples.ttl"):
        shutil.copy(PROJECT / "data" / name, data / name)
    how = "the 5th Iwaki plan (data/plan.ttl)"
    synthetic = plans - 1
    if synthetic > 0:
        municipalities, editions = (synthetic // 10, 10) if synthetic % 10 == 0 else (synthetic, 1)
        subprocess.run([sys.executable, str(BENCH / "generate.py"), "-n", str(municipalities),
                        "-m", str(editions), "--out", str(data / "synthetic")],
                       check=True, timeout=900, capture_output=True)
        how += (f" + {synthetic} synthetic editions ({municipalities} municipalities × {editions}, "
                "bench/generate.py, with their SDG link sets)")
    # The store is built here as `planlod serve` builds it, without the SHACL gate (as bench/scale.py
    # does): pyshacl over 1,000 editions takes many minutes and is not what this benchmark measures.
    # Both planlod servers then open this prepared store.
    store_dir = work / "store"
    prepare_store(store_dir, PROJECT / "ontology", PROJECT / "shapes", data, DEFAULT_BASE_IRI, validate=None)
    settings = {"PLANLOD_ONTOLOGY_DIR": str(PROJECT / "ontology"),
                "PLANLOD_SHAPES_DIR": str(PROJECT / "shapes"), "PLANLOD_DATA_DIR": str(data),
                "PLANLOD_STORE_DIR": str(store_dir), "PLANLOD_RATELIMIT_ENABLED": "false"}
    return settings, how


def start(command: list[str], env: dict[str, str], probe: str, log: Path) -> tuple[subprocess.Popen, float]:
    with open(log, "ab") as out:
        process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out, stderr=out,
                                   start_new_session=True, cwd=BENCH)
    try:
        return process, wait_for(probe, process, log)
    except BaseException:
        endpoint.stop(process)
        raise


def measure_size(plans: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="planlod-bench-pages-") as scratch:
        work = Path(scratch)
        settings, how = build_dataset(plans, work)
        results: dict = {"plans": plans, "how": how}
        floor_port = endpoint.free_port()
        floor_url = f"http://127.0.0.1:{floor_port}"
        floor, results["floor_start_s"] = start(
            # The same gunicorn settings as `planlod serve` (web/serve.py): gthread, 4 threads, keep-alive.
            [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "gthread",
             "--threads", "4", "--keep-alive", "5", "--bind", f"127.0.0.1:{floor_port}", "floor_app:app"],
            {}, floor_url + FLOOR.path, work / "floor.log")
        try:
            for name in ("planlod", "uncached"):
                port = endpoint.free_port()
                url = f"http://127.0.0.1:{port}"
                # No background build of every download and the catalog (catalog.py, WARM_METADATA): at
                # 1,000 plans it runs for minutes and holds the GIL, so the timings would be of it. The
                # files a target needs are built by its first (untimed) fetch instead.
                env, targets = {**settings, "PLANLOD_WARM_METADATA": "false"}, TARGETS
                if name == "uncached":
                    # The render cost: every request builds its page (the diagram stays cached by design).
                    env["PLANLOD_PAGE_CACHE_BYTES"] = "0"
                    targets = [t for t in TARGETS if t.name in UNCACHED]
                process, results[f"{name}_start_s"] = start(planlod_command(port), env, url + "/healthz",
                                                            work / f"{name}.log")
                try:
                    results[f"{name}_load_before"] = os.getloadavg()[0]
                    for target_name, cell in measure(url, floor_url + FLOOR.path, targets, seconds).items():
                        results[(name, target_name)] = cell
                    results[f"{name}_load_after"] = os.getloadavg()[0]
                finally:
                    endpoint.stop(process)
        finally:
            endpoint.stop(floor)
        return results


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("flask", "gunicorn", "pyoxigraph", "jinja2", "graphviz"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "absent"
    found["dot"] = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr.strip()
    found["wrk"] = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    return found


def row(name: str, pair) -> str:
    cell, floor = pair if isinstance(pair, tuple) else (pair, None)
    if not isinstance(cell, endpoint.Cell) or not isinstance(floor, endpoint.Cell):
        return f"| {name} | {cell or 'not run'} | | | | | | |"
    return (f"| {name} | {cell.requests_per_s:.0f} | {cell.p50_ms:.2f} | {cell.p99_ms:.2f} | "
            f"{floor.p50_ms:.2f} | {cell.p50_ms / floor.p50_ms:.1f}× | {cell.p99_ms / floor.p99_ms:.1f}× | "
            f"{cell.errors} |")


def report(sizes: list[dict], seconds: float) -> str:
    lines = ["# Page and download latency", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python bench/pages.py`, "
             f"{seconds:g} s per cell, one connection (wrk), 2 gunicorn workers each, loopback, "
             f"{platform.machine()} with {os.cpu_count()} cores.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()), "",
             "Each target's cell is timed right after a cell of the floor (an empty Flask route, "
             "bench/floor_app.py, under the same gunicorn), and its ratio is to that floor cell: the "
             "machine is shared, so the pair sees the same load. Rows marked *uncached* are the same URLs "
             "on a server with `PLANLOD_PAGE_CACHE_BYTES=0`: every request describes the resource and "
             "renders the page (what the first visitor after a start pays). The other rows use the "
             "default page cache (per dataset version, per worker).", ""]
    for size in sizes:
        lines += [f"## {size['plans']} plan(s): {size['how']}", "",
                  f"Start to first answer: floor {size['floor_start_s']:.1f} s, "
                  f"planlod {size['planlod_start_s']:.1f} s and {size['uncached_start_s']:.1f} s (store "
                  "prepared beforehand, without the SHACL gate; no background build of the downloads: "
                  "each target's first, untimed fetch builds what it needs). Machine load (1-minute "
                  "average, before → after each server's cells): "
                  + ", ".join(f"{n} {size[n + '_load_before']:.1f} → {size[n + '_load_after']:.1f}"
                              for n in ("planlod", "uncached")) + ".",
                  "", "| target | req/s | p50 ms | p99 ms | floor p50 ms | p50 / floor | p99 / floor | "
                      "errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|"]
        for target in TARGETS:
            lines.append(row(target.name, size.get(("planlod", target.name))))
        for name in UNCACHED:
            lines.append(row(f"{name}, *uncached*", size.get(("uncached", name))))
        for label, key in (("cached", ("planlod", "pillar page (HTML)")),
                           ("uncached", ("uncached", "pillar page (HTML)"))):
            pair = size.get(key)
            if isinstance(pair, tuple) and isinstance(pair[0], endpoint.Cell):
                ratio = pair[0].p50_ms / pair[1].p50_ms
                verdict = "meets" if ratio <= TARGET_RATIO else "misses"
                lines.append(f"\nResource page ({label}) p50 is {ratio:.1f}× the empty route's: {verdict} "
                             f"the {TARGET_RATIO:g}× target.")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, nargs="+", default=[1, 1001],
                        help="sizes: 1 is the real plan alone; N adds N-1 synthetic editions")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per cell")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("needs wrk (Debian: apt-get install wrk)")
    sizes = [measure_size(plans, args.duration) for plans in args.plans]
    text = report(sizes, args.duration)
    default = BENCH / "results" / ("pages.md" if args.plans == [1, 1001] else "pages.tmp.md")
    out = args.out or default
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
