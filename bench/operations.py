"""What the per-request operations hooks cost: the access log, the metrics and the rate limit.

    python bench/operations.py              # 3000 requests per variant and round, 5 rounds

Same app factory, same data, same request, same run, in-process through Flask's test client (no
socket, so the hooks' share is as large as it can get; over HTTP it is smaller still). The request is
GET /sparql?query=ASK{} answered from the result cache (RESULT_CACHE on): the cheapest answer /sparql
gives, so the one where per-request overhead shows most. Variants:
  baseline   ACCESS_LOG off, rate limit off      (metrics always count: they cannot be switched off)
  +log       the access log on, written to /dev/null (its JSON formatting and handler, not a disk)
  +limit     the access log and the rate limit on (memory storage, the default sliding-window counter,
             a limit no run reaches)
  +limit moving-window   the same with flask-limiter's exact moving window, which keeps a timestamp
             per hit: its cost grows with the hits in the window (here up to requests x rounds)
Rounds alternate the variants so drift hits all of them. Reported: median µs per request of each
variant over the rounds, the ratio to the baseline, and the cost of one `Metrics.observe` call alone.
"""

import argparse
import logging
import os
import platform
import statistics
import sys
import time
from importlib import metadata

from planlod.web.app import create_app
from planlod.web.health import ACCESS_LOGGER, Metrics

TARGET = "/sparql?query=ASK%20%7B%7D"
HEADERS = {"Accept": "application/sparql-results+json"}


def make_client(access_log: bool, rate_limit: bool, strategy: str = "sliding-window-counter"):
    app = create_app({"TESTING": False, "ACCESS_LOG": access_log, "RATELIMIT_ENABLED": rate_limit,
                      "RATELIMIT_DEFAULT": "100000000 per hour", "RATELIMIT_STRATEGY": strategy,
                      "QUERY_WORKERS": 1})
    client = app.test_client()
    response = client.get(TARGET, headers=HEADERS)  # warm: the pool, the result cache
    assert response.status_code == 200, response.status_code
    return client


def per_request_us(client, requests: int) -> float:
    started = time.perf_counter()
    for _ in range(requests):
        client.get(TARGET, headers=HEADERS)
    return (time.perf_counter() - started) / requests * 1e6


def observe_us(calls: int = 200_000) -> float:
    metrics = Metrics(None)
    started = time.perf_counter()
    for _ in range(calls):
        metrics.observe("GET", "/sparql", 200, 0.0012)
    return (time.perf_counter() - started) / calls * 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    # The access log goes to /dev/null: its cost is formatting and the handler, not the terminal.
    logger = logging.getLogger(ACCESS_LOGGER)
    sink = open(os.devnull, "w")  # noqa: SIM115  (open for the whole run)
    handler = logging.StreamHandler(sink)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False

    variants = {"baseline": make_client(False, False), "+log": make_client(True, False),
                "+limit": make_client(True, True),
                "+limit moving-window": make_client(True, True, "moving-window")}
    # The factory adds a stderr handler when it finds none; keep only the /dev/null one.
    for extra in [h for h in logger.handlers if h is not handler]:
        logger.removeHandler(extra)
    samples: dict[str, list[float]] = {name: [] for name in variants}
    load_before = f"{os.getloadavg()[0]:.2f}"
    for _ in range(args.rounds):
        for name, client in variants.items():
            samples[name].append(per_request_us(client, args.requests))

    base = statistics.median(samples["baseline"])
    print(f"# operations hooks, {args.requests} requests x {args.rounds} rounds, in-process (test client)")
    print(f"# load average before/after: {load_before} / {os.getloadavg()[0]:.2f} (other work on the machine "
          "inflates every figure; compare ratios from one run)")
    print(f"# python {platform.python_version()}, flask {metadata.version('flask')}, "
          f"flask-limiter {metadata.version('flask-limiter')}, {platform.machine()}, {os.cpu_count()} CPUs")
    print("| variant | µs per request (median of rounds) | ratio to baseline |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} | {median / base:.3f} |")
    print(f"\nMetrics.observe alone: {observe_us():.2f} µs per call")
    sink.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
