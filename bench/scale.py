"""Scale: 1,741 municipalities x 3 synthetic plans, embedded store vs an external Oxigraph server, same run.

    python bench/scale.py                      # the full size; results to bench/results/scale.md
    python bench/scale.py --municipalities 50  # a quick run (results to a .tmp file unless --out is given)

What it measures, on loopback, everything started and stopped by PID here:
  load    embedded: `planlod serve` start to its first healthy answer (the store loaded in-process);
          external: the N-Quads dump, `oxigraph load`, then the Oxigraph server and `planlod serve` with
          PLANLOD_STORE to their first answers
  memory  RSS and PSS (PSS shares pages between gunicorn's forked workers fairly) of each process tree
  queries two cross-plan queries through HTTP /sparql, one at a time, each request different (a rotating
          SDG target or plan, and a comment naming the request, so no result cache can answer it):
            Q1 every plan element linked to one SDG target, across all plans, with its plan
            Q2 the plans sharing a linked SDG target with one plan, ranked by how many they share
          p50/p99 for planlod on the embedded store, planlod on the external store, and the Oxigraph
          server asked directly (the store's own floor). Each answer is checked: the same rows from all three.
Synthetic data comes from bench/generate.py and stays in a scratch directory (never under data/).
"""

import argparse
import contextlib
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(PROJECT / "tests"))  # the real-server helpers the tests use
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402  (bench/generate.py: the synthetic plans and their SDG link sets)
from external_stores import OXIGRAPH, oxigraph_load, running_oxigraph  # noqa: E402
from planlod.config import DEFAULT_BASE_IRI  # noqa: E402
from planlod.graph.dataset import discover  # noqa: E402
from planlod.graph.external_load import write_nquads  # noqa: E402
from planlod.graph.store import prepare_store  # noqa: E402
from planlod.validation import validate_sources  # noqa: E402
from servers import http_request, running_server  # noqa: E402

SKOS = "http://www.w3.org/2004/02/skos/core#"
PREFIXES = f"PREFIX skos: <{SKOS}>\n"
MATCH = "skos:exactMatch|skos:closeMatch|skos:relatedMatch|skos:broadMatch|skos:narrowMatch"

Q1 = PREFIXES + """# Q1 request {n}
SELECT ?element ?edition WHERE {{
  ?element {match} <{target}> ;
           skos:inScheme ?edition .
}}"""

Q2 = PREFIXES + """# Q2 request {n}
SELECT ?other (COUNT(DISTINCT ?target) AS ?shared) WHERE {{
  ?mine skos:inScheme <{edition}> ; {match} ?target .
  ?theirs {match} ?target ; skos:inScheme ?other .
  FILTER(?other != <{edition}>)
}} GROUP BY ?other ORDER BY DESC(?shared) STR(?other) LIMIT 50"""

JSON_RESULTS = {"Content-Type": "application/sparql-query", "Accept": "application/sparql-results+json"}


@dataclass
class Timings:
    samples: list[float] = field(default_factory=list)

    def p(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def tree_memory(pid: int) -> tuple[int, int]:
    """(RSS, PSS) in bytes summed over a process and all its descendants."""
    pids, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        pids.append(current)
        with contextlib.suppress(OSError):
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
            frontier += [int(child) for child in children]
    rss = pss = 0
    for current in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{current}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1]) * 1024
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1]) * 1024
    return rss, pss


def sparql_rows(url: str, path: str, query: str) -> tuple[float, list[tuple]]:
    started = time.perf_counter()
    reply = http_request(url, "POST", path, JSON_RESULTS, query.encode(), timeout=300)
    elapsed = time.perf_counter() - started
    if reply.status != 200:
        raise RuntimeError(f"{url}{path} answered {reply.status}: {reply.text[:300]}")
    document = json.loads(reply.body)
    names = document["head"]["vars"]
    rows = [tuple(row.get(name, {}).get("value") for name in names)
            for row in document["results"]["bindings"]]
    return elapsed, rows


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for package in ("pyoxigraph", "oxigraph", "flask", "gunicorn", "planlod"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            found[package] = metadata.version(package)
    cli = subprocess.run([OXIGRAPH, "--version"], capture_output=True, text=True, check=False)
    found["oxigraph CLI"] = cli.stdout.strip()
    return found


def machine() -> str:
    memory = next(line for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal"))
    return f"{os.cpu_count()} cores, {int(memory.split()[1]) // 1024 // 1024} GiB RAM, {platform.platform()}"


def server_env(data_dir: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    # The result cache off: every request is evaluated (each is different anyway).
    env = {"PLANLOD_DATA_DIR": str(data_dir), "PLANLOD_RESULT_CACHE_SIZE": "0"}
    env.update(extra or {})
    return env


def gate_sample(municipalities: int, plans: int, seed: int, links: int,
                scratch: Path) -> tuple[bool, float, int]:
    """The SHACL gate on the first municipalities of the same generator run: pyshacl is far too slow for
    the whole synthetic dataset (about 1.5 s per plan edition here), so the full store is built without
    it."""
    files = generate.editions(municipalities, plans, seed=seed, links=links)
    sample_dir = generate.write_data_dir(files, scratch / "gate-sample")
    started = time.perf_counter()
    sources = discover(PROJECT / "ontology", PROJECT / "shapes", sample_dir, DEFAULT_BASE_IRI)
    report = validate_sources(sources, DEFAULT_BASE_IRI)
    return report.conforms, time.perf_counter() - started, sum(1 for f in files if f.kind == "plans")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--municipalities", type=int, default=1741)
    parser.add_argument("--plans", type=int, default=3, help="plans per municipality")
    parser.add_argument("--requests", type=int, default=100, help="requests per query and store")
    parser.add_argument("--budget", type=float, default=240.0, help="seconds at most per query and store")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1741)
    parser.add_argument("--links", type=int, default=6, help="synthetic SDG links per plan edition")
    parser.add_argument("--gate-sample", type=int, default=10,
                        help="municipalities whose plans go through the SHACL gate first (0: none)")
    parser.add_argument("--out", type=Path,
                        help="results file (default: bench/results/scale.md at full size)")
    parser.add_argument("--keep", type=Path, help="scratch directory to use and keep (default: a temp dir)")
    args = parser.parse_args(argv)
    full = args.municipalities == 1741 and args.plans == 3
    out = args.out or BENCH / "results" / ("scale.md" if full else "scale.md.tmp")

    scratch = args.keep or Path(tempfile.mkdtemp(prefix="planlod-scale-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        report = run(args, scratch)
    finally:
        if args.keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report, encoding="utf-8")
    print(report)
    print(f"written to {out}")
    return 0


def run(args, scratch: Path) -> str:
    log = []

    def note(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    data_dir = scratch / "data"
    started = time.perf_counter()
    files = generate.editions(args.municipalities, args.plans, seed=args.seed, links=args.links)
    generate.write_data_dir(files, data_dir)
    generate_s = time.perf_counter() - started
    plan_graphs = [file.graph for file in files if file.kind == "plans"]
    links = sum(1 for file in files if file.kind == "linksets"
                for triple in file.triples if triple.predicate.value == SKOS + "relatedMatch")
    note(f"generated {len(plan_graphs)} plan editions, {links} links in {generate_s:.1f} s")

    # The external store gets exactly what the embedded store loads: the same discovery, the same graphs.
    started = time.perf_counter()
    sources = discover(PROJECT / "ontology", PROJECT / "shapes", data_dir, DEFAULT_BASE_IRI)
    dump = scratch / "dataset.nq"
    quads = write_nquads(sources, DEFAULT_BASE_IRI, dump)
    dump_s = time.perf_counter() - started
    started = time.perf_counter()
    oxigraph_load(dump, scratch / "store")
    oxigraph_load_s = time.perf_counter() - started
    note(f"dump {quads} quads in {dump_s:.1f} s, oxigraph load in {oxigraph_load_s:.1f} s")

    targets = [generate.SDG + target for target in generate.SDG4_TARGETS]
    # Plans spread over the whole range of municipalities, so that no one corner of the store is favoured.
    editions = plan_graphs[:: max(1, len(plan_graphs) // 50)]
    cells: dict[tuple[str, str], Timings] = {}
    answers: dict[tuple[str, int], dict[str, list]] = {}

    if args.gate_sample:
        conforms, gate_s, gate_plans = gate_sample(args.gate_sample, args.plans, args.seed, args.links,
                                                   scratch)
        note(f"gate on {gate_plans} editions: conforms={conforms} in {gate_s:.1f} s")
    # The embedded store as `planlod serve` builds it (graph/store.py), on disk, here without the gate.
    started = time.perf_counter()
    prepare_store(scratch / "embedded-store", PROJECT / "ontology", PROJECT / "shapes", data_dir,
                  DEFAULT_BASE_IRI, validate=None)
    embedded_build_s = time.perf_counter() - started
    note(f"embedded store built in {embedded_build_s:.1f} s")
    embedded_env = server_env(data_dir, {"PLANLOD_STORE_DIR": str(scratch / "embedded-store")})

    with contextlib.ExitStack() as stack:
        started = time.perf_counter()
        embedded = stack.enter_context(running_server(embedded_env, workers=args.workers))
        embedded_start_s = time.perf_counter() - started
        embedded_memory = tree_memory(embedded.pid)
        note(f"embedded planlod up in {embedded_start_s:.1f} s")

        started = time.perf_counter()
        oxigraph = stack.enter_context(running_oxigraph(scratch / "store"))
        oxigraph_start_s = time.perf_counter() - started
        started = time.perf_counter()
        external = stack.enter_context(running_server(
            server_env(data_dir, {"PLANLOD_STORE": oxigraph.query_url}), workers=args.workers))
        external_start_s = time.perf_counter() - started
        external_memory = tree_memory(external.pid)
        note(f"oxigraph up in {oxigraph_start_s:.1f} s, external planlod up in {external_start_s:.1f} s")

        endpoints = {
            "planlod, embedded store": (embedded.url, "/sparql"),
            "planlod, external Oxigraph store": (external.url, "/sparql"),
            "Oxigraph server directly": (oxigraph.url, "/query"),
        }
        load_before = os.getloadavg()
        queries = {"Q1": (Q1, targets, "target"), "Q2": (Q2, editions, "edition")}
        for query_name, (template, values, key) in queries.items():
            for url, path in endpoints.values():  # warm each path once, uncounted
                sparql_rows(url, path, template.format(n="warm", match=MATCH, **{key: values[0]}))
            deadline = {name: time.monotonic() + args.budget for name in endpoints}
            for n in range(args.requests):
                value = values[n % len(values)]
                # Interleaved: every store sees the same request in the same minute, so drift hits all alike.
                for name, (url, path) in endpoints.items():
                    if time.monotonic() > deadline[name]:
                        continue
                    elapsed, rows = sparql_rows(url, path,
                                                template.format(n=n, match=MATCH, **{key: value}))
                    cells.setdefault((query_name, name), Timings()).samples.append(elapsed)
                    answers.setdefault((query_name, n % len(values)), {})[name] = sorted(rows)
            note(f"{query_name} done")
        oxigraph_memory = tree_memory(oxigraph.pid)
        load_after = os.getloadavg()

    mismatches = [key for key, by_store in answers.items()
                  if len({json.dumps(rows) for rows in by_store.values()}) != 1]
    empty = [key for key, by_store in answers.items() if not next(iter(by_store.values()))]

    def mb(value: int) -> str:
        return f"{value / 1024 / 1024:,.0f} MB"

    log.append("# Scale benchmark: many plans, embedded store vs external Oxigraph server\n")
    log.append(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} by `python bench/scale.py"
               + ("" if (args.municipalities, args.plans) == (1741, 3)
                  else f" --municipalities {args.municipalities} --plans {args.plans}") + "`.\n")
    log.append(f"Machine: {machine()}.  \n" + "Versions: "
               + ", ".join(f"{k} {v}" for k, v in versions().items()) + ".\n")
    log.append(f"Data (synthetic, bench/generate.py, seed {args.seed}): "
               f"{args.municipalities:,} municipalities x "
               f"{args.plans} plan editions = {len(plan_graphs):,} plan editions (named graphs), each with "
               f"{args.links} synthetic SDG links ({links:,} links in {len(plan_graphs):,} link sets), "
               f"{quads:,} quads in {len({s.graph for s in sources}):,} named graphs "
               f"(with the real ontology and shapes). {args.workers} gunicorn workers per planlod server.\n")
    log.append("## Load and memory\n")
    log.append("| step | seconds | memory after (RSS / PSS of the process tree) |")
    log.append("|---|---:|---|")
    log.append(f"| generate the synthetic Turtle | {generate_s:.1f} | |")
    if args.gate_sample:
        log.append(f"| SHACL gate on a sample: the first {args.gate_sample} municipalities ({gate_plans} "
                   f"editions, same generator and seed): {'conforms' if conforms else 'DOES NOT CONFORM'} | "
                   f"{gate_s:.1f} | |")
    log.append(f"| embedded: build the on-disk store (parse, bulk load, optimize; no gate) | "
               f"{embedded_build_s:.1f} | |")
    log.append(f"| embedded: `planlod serve` start (store built) to first healthy answer | "
               f"{embedded_start_s:.1f} | "
               f"planlod {mb(embedded_memory[0])} / {mb(embedded_memory[1])} |")
    log.append(f"| external: `planlod load-external` dump (N-Quads) | {dump_s:.1f} | |")
    log.append(f"| external: `oxigraph load` | {oxigraph_load_s:.1f} | |")
    log.append(f"| external: `oxigraph serve-read-only` start | {oxigraph_start_s:.1f} | "
               f"Oxigraph {mb(oxigraph_memory[0])} / {mb(oxigraph_memory[1])} (after the queries) |")
    log.append(f"| external: `planlod serve` (PLANLOD_STORE) start to first healthy answer | "
               f"{external_start_s:.1f} | planlod {mb(external_memory[0])} / {mb(external_memory[1])} |")
    log.append(f"| external total (dump + load + both starts) | "
               f"{dump_s + oxigraph_load_s + oxigraph_start_s + external_start_s:.1f} | |\n")
    log.append("## Cross-plan queries through HTTP (one request at a time, each one different)\n")
    log.append(f"Up to {args.requests} requests per cell "
               f"(fewer if the cell's {args.budget:.0f} s budget ran out).  ")
    log.append("Ratios: the external store's p50 against the embedded store's (the baseline), same run; "
               "the three endpoints take turns request by request, so a busy minute hits all alike.  ")
    log.append(f"Machine load (1/5/15-min load average) when the queries started: "
               f"{' / '.join(f'{x:.1f}' for x in load_before)}; when they ended: "
               f"{' / '.join(f'{x:.1f}' for x in load_after)} (on {os.cpu_count()} cores; other work on "
               f"the machine inflates the absolute times, not the ratios).\n")
    log.append("| query | endpoint | requests | p50 ms | p99 ms | p50 vs embedded |")
    log.append("|---|---|---:|---:|---:|---:|")
    for query_name in queries:
        baseline = cells[(query_name, "planlod, embedded store")].p(0.5)
        for name in endpoints:
            timings = cells[(query_name, name)]
            log.append(f"| {query_name} | {name} | {len(timings.samples)} | {timings.p(0.5) * 1000:.1f} | "
                       f"{timings.p(0.99) * 1000:.1f} | {timings.p(0.5) / baseline:.2f}x |")
    log.append("")
    log.append(f"Answers compared across the three endpoints for every request: "
               f"{'all equal' if not mismatches else f'{len(mismatches)} differ: {mismatches[:5]}'}; "
               f"{'none empty' if not empty else f'{len(empty)} empty: {empty[:5]}'}.\n")
    log.append("Q1 and Q2 as run (the link sets' SKOS mapping properties; `{target}`/`{edition}` rotate):\n")
    log.append("```sparql\n" + Q1.format(n="N", match=MATCH, target="{target}") + "\n```\n")
    log.append("```sparql\n" + Q2.format(n="N", match=MATCH, edition="{edition}") + "\n```\n")
    log.append(f"Statistics: p50 = median; p99 = the {len(cells[('Q1', 'planlod, embedded store')].samples)}"
               f"-sample 99th percentile (nearest rank), i.e. close to the maximum at this sample size; "
               f"stdev of Q1 embedded "
               f"{statistics.pstdev(cells[('Q1', 'planlod, embedded store')].samples) * 1000:.1f} ms.\n")
    return "\n".join(log)


if __name__ == "__main__":
    sys.exit(main())
