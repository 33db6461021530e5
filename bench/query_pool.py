"""What the killable query pool costs: the same queries in-process (no time limit) and through the pool.

    python bench/query_pool.py                   # the project's data, 300 runs per query
    python bench/query_pool.py --data bench/out/synthetic-1000 --runs 100

Same store (one on-disk RocksDB store, opened read-only by this process and by the workers), same
queries (bench/endpoint.py's four: three examples of the query page and a whole-data count), same
serialization (SPARQL JSON / N-Triples, natively by pyoxigraph), same run. The baseline is
`DatasetStore.query(...).serialize(...)` in this process; the pool adds pickling the job, a socket
round trip and the worker's own serialization (the row cap on: MAX_RESULT_ROWS, as /sparql runs it).
Reported: median and p99 per query in ms, the pool's median overhead in ms, and the ratio of medians.
Sequential (one query at a time): the overhead per query, not throughput (bench/endpoint.py has that).
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH_DIR))

from endpoint import load_queries  # noqa: E402  (the endpoint benchmark's queries, one definition)
from planlod import config  # noqa: E402
from planlod.graph.query_pool import QueryJob, QueryPool  # noqa: E402
from planlod.graph.store import DatasetStore, prepare_store  # noqa: E402
from pyoxigraph import QueryResultsFormat, QueryTriples, RdfFormat  # noqa: E402


def in_process(store: DatasetStore, query: str) -> bytes:
    result = store.query(query)
    if isinstance(result, QueryTriples):
        return result.serialize(format=RdfFormat.N_TRIPLES)
    return result.serialize(format=QueryResultsFormat.JSON)  # solutions or a boolean


def timed(function, runs: int) -> list[float]:
    function()  # warm: caches, first-use costs
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=config.DEFAULTS["DATA_DIR"], help="data directory")
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--max-rows", type=int, default=int(config.DEFAULTS["MAX_RESULT_ROWS"]))
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-pool-") as directory:
        prepared = prepare_store(Path(directory), Path(config.DEFAULTS["ONTOLOGY_DIR"]),
                                 Path(config.DEFAULTS["SHAPES_DIR"]), Path(args.data),
                                 config.DEFAULT_BASE_IRI, validate=None)
        store = DatasetStore.open(prepared, config.DEFAULT_BASE_IRI)
        pool = QueryPool(str(store.path), size=2, timeout=30)
        try:
            queries = [("ask-empty", "ASK {}")] + [(q.name, q.text) for q in load_queries()]
            print(f"pyoxigraph {metadata.version('pyoxigraph')}, Python {platform.python_version()}, "
                  f"{platform.machine()}, {prepared.triples} quads ({args.data}), {args.runs} runs each, "
                  f"pool of 2, MAX_RESULT_ROWS {args.max_rows}\n")
            print("| query | in-process p50 ms | p99 | pool p50 ms | p99 | overhead p50 ms "
                  "| pool / in-process |")
            print("|---|---:|---:|---:|---:|---:|---:|")
            for name, text in queries:
                job = QueryJob(text, results_format="json", graph_format="ntriples", max_rows=args.max_rows)
                base = timed(lambda text=text: in_process(store, text), args.runs)
                pooled = timed(lambda job=job: pool.run(job), args.runs)
                b50, p50 = statistics.median(base), statistics.median(pooled)
                print(f"| {name} | {b50:.3f} | {p99(base):.3f} | {p50:.3f} | {p99(pooled):.3f} | "
                      f"{p50 - b50:.3f} | {p50 / b50:.2f}x |")
        finally:
            pool.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
