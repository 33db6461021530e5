"""Page and download latency: resource pages, the home page, the diagram and dumps, at 1 and 1,000 plans.

    python bench/pages.py                                   # 1 and 1,001 plans, c=1, 5 s per cell
    python bench/pages.py --plans 1 --duration 2 --out /tmp/pages.md    # a quick look

Servers, one at a time on 127.0.0.1 (2 cores), both under gunicorn with 2 workers:
  floor    an empty Flask route (bench/floor_app.py), the cost of Flask + gunicorn + loopback
  planlod  `planlod serve --workers 2` when the command exists, else gunicorn on the same app factory
The data: the real 5th Iwaki plan alone, and with 1,000 synthetic editions from bench/generate.py
(100 municipalities × 10 editions, each with a synthetic SDG link set) — 1,001 plans.

Each target is first fetched once (a warm-up that also checks the status and the media type: a wrong
answer is reported, not timed), then loaded by wrk for a fixed time at one connection: p50/p99 of the
requests that completed, and their ratio to the floor measured in the same run. Conditional requests
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


TARGETS = [
    Target("floor: empty route", "/sparql", "application/sparql-results+json", 200,
           "application/sparql-results+json"),
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
        with opener.open(request, timeout=120) as response:
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


def measure(base_url: str, targets: list[Target], seconds: float) -> dict[str, endpoint.Cell | str]:
    cells: dict[str, endpoint.Cell | str] = {}
    for target in targets:
        status, media = fetch(base_url + target.path, target.accept)
        if status != target.expect_status or (target.expect_type and media != target.expect_type):
            cells[target.name] = f"wrong answer: {status} {media}"
            continue
        url = base_url + target.path
        run_wrk(url, target.accept, min(1.0, seconds))  # warm-up, not recorded
        cells[target.name] = run_wrk(url, target.accept, seconds)
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
    settings = {"PLANLOD_ONTOLOGY_DIR": str(PROJECT / "ontology"),
                "PLANLOD_SHAPES_DIR": str(PROJECT / "shapes"),
                "PLANLOD_DATA_DIR": str(data), "PLANLOD_RATELIMIT_ENABLED": "false"}
    return settings, how


def measure_size(plans: int, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="planlod-bench-pages-") as scratch:
        work = Path(scratch)
        settings, how = build_dataset(plans, work)
        results: dict = {"plans": plans, "how": how}
        # One prepared store for both planlod runs: the second start reuses it.
        settings["PLANLOD_STORE_DIR"] = str(work / "store")
        for name in ("floor", "planlod", "uncached"):
            port = endpoint.free_port()
            url = f"http://127.0.0.1:{port}"
            env = dict(settings)
            if name == "floor":
                command = [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                           "floor_app:app"]
                targets, probe = TARGETS[:1], url + "/sparql"
            else:
                command = planlod_command(port)
                targets, probe = TARGETS[1:], url + "/healthz"
                if name == "uncached":
                    # The render cost: every request builds its page (the diagram stays cached by design).
                    env["PLANLOD_PAGE_CACHE_BYTES"] = "0"
                    targets = [t for t in targets if t.name in UNCACHED]
            log = work / f"{name}.log"
            with open(log, "ab") as out:
                process = subprocess.Popen(command, env={**os.environ, **env}, stdout=out,
                                           stderr=out, start_new_session=True, cwd=BENCH)
            try:
                results[f"{name}_start_s"] = wait_for(probe, process, log)
                results[f"{name}_load_before"] = os.getloadavg()[0]
                for target_name, cell in measure(url, targets, seconds).items():
                    results[(name, target_name)] = cell
                results[f"{name}_load_after"] = os.getloadavg()[0]
            finally:
                endpoint.stop(process)
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


def row(name: str, cell, floor) -> str:
    if isinstance(cell, str) or cell is None:
        return f"| {name} | {cell or 'not run'} | | | | | |"
    r50 = cell.p50_ms / floor.p50_ms if isinstance(floor, endpoint.Cell) else float("nan")
    r99 = cell.p99_ms / floor.p99_ms if isinstance(floor, endpoint.Cell) else float("nan")
    return (f"| {name} | {cell.requests_per_s:.0f} | {cell.p50_ms:.2f} | {cell.p99_ms:.2f} | "
            f"{r50:.1f}× | {r99:.1f}× | {cell.errors} |")


def report(sizes: list[dict], seconds: float) -> str:
    lines = ["# Page and download latency", "",
             f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python bench/pages.py`, "
             f"{seconds:g} s per cell, one connection (wrk), 2 gunicorn workers each, loopback, "
             f"{platform.machine()} with {os.cpu_count()} cores.", "",
             "Versions: " + ", ".join(f"{k} {v}" for k, v in versions().items()), "",
             "Rows marked *uncached* are the same URLs on a server with `PLANLOD_PAGE_CACHE_BYTES=0`: "
             "every request describes the resource and renders the page (what the first visitor after a "
             "start pays). The other rows use the default page cache (per dataset version, per worker).", ""]
    for size in sizes:
        floor = size.get(("floor", TARGETS[0].name))
        lines += [f"## {size['plans']} plan(s): {size['how']}", "",
                  f"Start to first answer: floor {size['floor_start_s']:.1f} s, "
                  f"planlod {size['planlod_start_s']:.1f} s (store built), "
                  f"{size['uncached_start_s']:.1f} s (store reused). Machine load (1-minute average, "
                  "before → after each server's cells; other processes share these 2 cores): "
                  + ", ".join(f"{n} {size[n + '_load_before']:.1f} → {size[n + '_load_after']:.1f}"
                              for n in ("floor", "planlod", "uncached")) + ".",
                  "", "| target | req/s | p50 ms | p99 ms | p50 / floor p50 | p99 / floor p99 | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|",
                  row(TARGETS[0].name, floor, floor)]
        for target in TARGETS[1:]:
            lines.append(row(target.name, size.get(("planlod", target.name)), floor))
        for name in UNCACHED:
            lines.append(row(f"{name}, *uncached*", size.get(("uncached", name)), floor))
        for label, key in (("cached", ("planlod", "pillar page (HTML)")),
                           ("uncached", ("uncached", "pillar page (HTML)"))):
            page = size.get(key)
            if isinstance(page, endpoint.Cell) and isinstance(floor, endpoint.Cell):
                ratio = page.p50_ms / floor.p50_ms
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
