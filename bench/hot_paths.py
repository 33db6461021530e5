"""Hot paths in-process at 1 and 1,001 plans: what a request costs as the number of plans grows.

    python bench/hot_paths.py                     # results to bench/results/hot_paths.md
    python bench/hot_paths.py --out /tmp/hot.md   # elsewhere

Each path runs in one process on the app factory (Flask's test client, no network), over the same data
as bench/pages.py (the 5th Iwaki plan alone, and with 1,000 synthetic editions and their SDG link sets).
Every target is fetched once and its answer checked before it is timed; a cell is the median of many
calls. The baseline is the same path at 1 plan in the same run: the ratio says how the cost grows.
  /healthz, /metrics              counts once per dataset version, ASK {} every time
  links_for(...)                  planlod.linking: a resource without links, with one, an SDG target
  resource page (uncached)        PAGE_CACHE_BYTES=0, so the page is rendered, links and all
  edition dump, outline CSV       built files served from the per-version index
"""

import argparse
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from pages import build_dataset  # noqa: E402  (bench/pages.py: the same 1- and 1,001-plan data)
from planlod import linking  # noqa: E402
from planlod.config import DEFAULT_BASE_IRI  # noqa: E402
from planlod.web.app import create_app  # noqa: E402

EDITION = "072044/lifelong-learning-plan/5"
SYNTHETIC = "900010/synthetic-plan/1"  # bench/generate.py's first edition
SDG_TARGET = "http://metadata.un.org/sdg/4.5"
ID = DEFAULT_BASE_IRI + "id/"


def median_ms(call, repeat: int) -> float:
    call()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(plans: int, work: Path) -> tuple[dict[str, float], str]:
    settings, how = build_dataset(plans, work)
    config = {name.removeprefix("PLANLOD_"): value for name, value in settings.items()}
    config.update(RATELIMIT_ENABLED=False, ACCESS_LOG=False, TESTING=True, PAGE_CACHE_BYTES=0,
                  WARM_METADATA=False)
    app = create_app(config)
    client = app.test_client()

    def fetch(path: str, media_type: str):
        def call():
            response = client.get(path, headers={"Accept": media_type})
            assert response.status_code == 200, (path, response.status_code)
            assert response.mimetype == media_type, (path, response.mimetype)
            return response.get_data()
        return call

    cells: dict[str, float] = {}
    cells["/healthz"] = median_ms(fetch("/healthz", "application/json"), 200)
    cells["/metrics"] = median_ms(fetch("/metrics", "text/plain"), 200)
    with app.app_context():
        store = app.extensions["planlod.store"]
        resources = {"links_for: pillar without links": ID + EDITION + "/pillar/7-2",
                     "links_for: edition": ID + EDITION}
        if plans > 1:
            resources["links_for: synthetic pillar, 1 link"] = ID + SYNTHETIC + "/pillar/1-1"
            resources["links_for: SDG target 4.5 (every plan)"] = SDG_TARGET
        for name, iri in resources.items():
            cells[name] = median_ms(lambda iri=iri: linking.links_for(store, iri), 5 if "SDG" in name else 50)
    cells["resource page (uncached)"] = median_ms(fetch(f"/doc/{EDITION}/pillar/7-2", "text/html"), 50)
    if plans > 1:
        cells["linked page (uncached)"] = median_ms(fetch(f"/doc/{SYNTHETIC}/pillar/1-1", "text/html"), 50)
    cells["edition dump (Turtle)"] = median_ms(fetch(f"/download/{EDITION}.ttl", "text/turtle"), 500)
    cells["outline CSV"] = median_ms(fetch(f"/download/{EDITION}/outline.csv", "text/csv"), 500)
    return cells, how


def report(sizes: dict[int, tuple[dict[str, float], str]]) -> str:
    small, large = min(sizes), max(sizes)
    versions = ", ".join(f"{name} {metadata.version(name)}" for name in ("pyoxigraph", "flask", "werkzeug"))
    lines = ["# Hot paths in-process", "",
             f"`python bench/hot_paths.py`: Python {platform.python_version()}, {versions}; "
             f"{platform.machine()}, one process, Flask test client. Median ms; ratio = {large} plans "
             f"over {small} plan, same run.", ""]
    for plans, (_, how) in sorted(sizes.items()):
        lines.append(f"- {plans} plan(s): {how}")
    lines += ["", f"| path | {small} plan (ms) | {large} plans (ms) | ratio |", "|---|---:|---:|---:|"]
    for name, value in sizes[large][0].items():
        base = sizes[small][0].get(name)
        if base is None:
            lines.append(f"| {name} | – | {value:.2f} | – |")
        else:
            lines.append(f"| {name} | {base:.2f} | {value:.2f} | {value / base:.1f}× |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--plans", type=int, nargs=2, default=[1, 1001])
    parser.add_argument("--out", type=Path, default=BENCH / "results" / "hot_paths.md")
    args = parser.parse_args(argv)
    sizes = {}
    for plans in args.plans:
        with tempfile.TemporaryDirectory(prefix="planlod-bench-hot-") as scratch:
            sizes[plans] = measure(plans, Path(scratch))
    text = report(sizes)
    args.out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
