"""Validation benchmark: time and peak memory of the SHACL gate on the plan, 100 and 1,000 synthetic plans.

    python bench/validate.py                 # all cases; writes bench/results/validate.md
    python bench/validate.py --quick         # the plan and 100 plans only (a few minutes)
    python bench/validate.py --case gate --data bench/out/synthetic-100   # one measurement, as JSON

Every measurement runs in its own child process, so its peak RSS (VmHWM) is its own. The baseline,
measured in the same run, is `load`: reading the same files into the rdflib graph that validation then
uses (parse, rebase, convert). Figures are given as seconds and as multiples of that baseline.

Cases:
  load            baseline: the sources parsed into one rdflib graph, nothing validated
  gate            planlod.validation.validate_sources (engine "hybrid", the default): pyshacl for core SHACL,
                  every sh:sparql constraint once over the whole union in pyoxigraph
  pyshacl         validate_sources(engine="pyshacl"): pyshacl for everything, each SPARQL text parsed once
  pyshacl-nocache pyshacl through a plain rdflib Graph: rdflib re-parses every SPARQL constraint for every
                  focus node (pyshacl's default behaviour)
  per-edition     the gate once per edition (its file, its link set, the reference files), one process
  per-edition-2   the same over 2 worker processes (the machine has 2 cores)
  sparql-only     the pyoxigraph half of the gate alone (the store already loaded)
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from multiprocessing import Pool
from pathlib import Path

import pyshacl
from pyoxigraph import Store
from rdflib import BNode, Graph
from rdflib.namespace import RDF, SH

BENCH = Path(__file__).resolve().parent
PROJECT = BENCH.parent
sys.path.insert(0, str(BENCH))
import generate  # noqa: E402  (bench/ is not a package)
from planlod.config import DEFAULT_BASE_IRI  # noqa: E402
from planlod.graph.dataset import Source, discover, quads_of  # noqa: E402
from planlod.validation import (  # noqa: E402
    PreparedQueryGraph,
    SparqlConstraints,
    add_source,
    data_sources,
    schema_sources,
    validate_sources,
)

RESULTS = BENCH / "results" / "validate.md"
RAW = BENCH / "results" / "validate.json"  # the figures behind the tables, for --only re-runs
FINDINGS = "<!-- findings: written by hand, kept when the script rewrites the tables above -->"
OUT = BENCH / "out"
TIMEOUT = 300  # seconds per measurement; a case past it is reported as stopped


# ---- Building blocks ----

def sources_for(data: Path) -> list[Source]:
    schema = schema_sources(PROJECT / "ontology", PROJECT / "shapes")
    if data == PROJECT / "data":
        return discover(PROJECT / "ontology", PROJECT / "shapes", data)
    return schema + data_sources([data])


def rdflib_graphs(sources: list[Source], graph_class=PreparedQueryGraph) -> tuple[Graph, Graph]:
    data, shapes = graph_class(), Graph()
    for source in sources:
        add_source(shapes if source.kind == "shapes" else data, source, DEFAULT_BASE_IRI)
    return data, shapes


def editions_of(sources: list[Source]) -> list[list[Source]]:
    """Per-edition groups: an edition's file, its link sets (named after it), and the reference files."""
    schema = [s for s in sources if s.kind != "data"]
    data = [s for s in sources if s.kind == "data"]
    shared = [s for s in data if "/reference/" in str(s.path) or s.path.name == "dataset.ttl"]
    plans = [s for s in data if s.path.parent.name == "plans" or s.path.name == "plan.ttl"]
    groups = []
    for plan in plans:
        links = [s for s in data
                 if s.path.parent.name == "linksets" and s.path.stem.startswith(plan.path.stem + "--")]
        groups.append(schema + shared + [plan] + links)
    return groups


def oxigraph_store(sources: list[Source]) -> Store:
    store = Store()
    for source in sources:
        if source.kind != "shapes":
            store.extend(quads_of(source, DEFAULT_BASE_IRI))
    return store


def validate_group(group: list[Source]) -> bool:
    return validate_sources(group).conforms


# ---- One measurement (in a child process) ----

def measure(case: str, data: Path) -> dict:
    sources = sources_for(data)
    start = time.perf_counter()
    if case == "load":
        graphs = rdflib_graphs(sources)
        conforms, detail = None, f"{len(graphs[0])} triples"
    elif case == "gate":
        report = validate_sources(sources)
        conforms, detail = report.conforms, f"{len(report.results)} results"
    elif case == "pyshacl":
        report = validate_sources(sources, engine="pyshacl")
        conforms, detail = report.conforms, f"{len(report.results)} results"
    elif case == "pyshacl-nocache":
        data_graph, shapes = rdflib_graphs(sources, Graph)
        conforms = pyshacl.validate(data_graph, shacl_graph=shapes, inference="none", inplace=True,
                                    allow_warnings=True)[0]
        detail = ""
    elif case in ("per-edition", "per-edition-2"):
        groups = editions_of(sources)
        if case == "per-edition":
            verdicts = [validate_group(g) for g in groups]
        else:
            with Pool(2) as pool:
                verdicts = pool.map(validate_group, groups, chunksize=max(1, len(groups) // 16))
        conforms, detail = all(verdicts), f"{len(groups)} editions"
    elif case == "sparql-only":
        _, shapes = rdflib_graphs([s for s in sources if s.kind == "shapes"])
        store = oxigraph_store(sources)
        constraints = SparqlConstraints(shapes)
        report = Graph()
        report.add((BNode(), RDF.type, SH.ValidationReport))
        start = time.perf_counter()  # the SPARQL half only: loading is `load`'s business
        violated = constraints.add_results(store, report)
        conforms, detail = not violated, f"{len(constraints.queries)} constraints"
    else:
        raise SystemExit(f"unknown case {case}")
    seconds = time.perf_counter() - start
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # forked pool workers
    peak_mb = max(peak_rss_mb(), children)
    return {"case": case, "data": str(data), "seconds": seconds, "peak_mb": peak_mb, "conforms": conforms,
            "detail": detail}


def peak_rss_mb() -> float:
    """This process's peak RSS. Not ru_maxrss: Linux carries that across exec from the parent process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_child(case: str, data: Path) -> dict:
    try:
        done = subprocess.run([sys.executable, __file__, "--case", case, "--data", str(data)],
                              capture_output=True, text=True, timeout=TIMEOUT, check=True)
    except subprocess.TimeoutExpired:
        return {"case": case, "data": str(data), "seconds": None, "peak_mb": None, "conforms": None,
                "detail": f"stopped after {TIMEOUT} s", "measured": time.strftime("%Y-%m-%d %H:%M")}
    result = json.loads(done.stdout.strip().splitlines()[-1]) | {"measured": time.strftime("%Y-%m-%d %H:%M")}
    print(f"  {case:14} {result['seconds']:9.2f} s  {result['peak_mb']:7.0f} MB  {result['detail']}",
          flush=True)
    return result


# ---- The whole run ----

def synthetic(plans: int) -> Path:
    out = OUT / f"synthetic-{plans}"
    if not out.exists():
        generate.write_data_dir(generate.editions(plans // 10 or 1, min(plans, 10)), out)
    return out


def versions() -> str:
    import platform
    from importlib.metadata import version
    names = ("pyshacl", "rdflib", "pyoxigraph")
    return (f"Python {platform.python_version()}, " + ", ".join(f"{n} {version(n)}" for n in names)
            + f"; {os.cpu_count()} CPUs ({platform.processor() or platform.machine()})")


def fmt(result: dict, baseline: dict) -> tuple[str, str, str]:
    if result["seconds"] is None:
        return result["detail"], "—", "—"
    ratio = result["seconds"] / baseline["seconds"] if baseline["seconds"] else float("nan")
    return f"{result['seconds']:.2f}", f"{ratio:.1f}×", f"{result['peak_mb']:.0f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--quick", action="store_true", help="the plan and 100 plans only")
    parser.add_argument("--only", help="re-measure only these cases (comma-separated); the other figures "
                                       "are kept from bench/results/validate.json")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(measure(args.case, args.data)))
        return 0
    only = set(args.only.split(",")) | {"load"} if args.only else None
    kept = json.loads(RAW.read_text(encoding="utf-8")) if only and RAW.exists() else {}

    sizes = [("the plan (data/plan.ttl)", PROJECT / "data" / "plan.ttl"),
             ("the whole dataset (data/)", PROJECT / "data"),
             ("100 synthetic plans", synthetic(100))]
    if not args.quick:
        sizes.append(("1,000 synthetic plans", synthetic(1000)))
    plans_cases = ["load", "gate", "pyshacl", "pyshacl-nocache", "per-edition", "per-edition-2",
                   "sparql-only"]
    # Minutes each at 1,000 plans; the 100-plan row shows their trend.
    skip = {"1,000 synthetic plans": {"pyshacl-nocache", "per-edition"}}
    rows = []
    for label, data in sizes:
        print(label, flush=True)
        cases = [c for c in plans_cases if c not in skip.get(label, set())]
        if data.name == "plan.ttl":
            cases = ["load", "gate", "pyshacl", "pyshacl-nocache", "sparql-only"]
        before = kept.get(label, {})
        reuse = {case for case in cases if only and case not in only and case in before}
        results = {case: before[case] if case in reuse else run_child(case, data) for case in cases}
        rows.append((label, data, results))
    RAW.write_text(json.dumps({label: results for label, _, results in rows}, indent=1), encoding="utf-8")
    write_results(rows)
    print(f"-> {RESULTS}")
    return 0


def write_results(rows) -> None:
    lines = ["# Validation benchmark", "",
             f"Run: `python bench/validate.py` on {time.strftime('%Y-%m-%d')}; {versions()}.",
             "Each figure is one run in a fresh child process; peak memory is its peak RSS (VmHWM; with 2",
             "workers, the larger of the parent and the largest worker).",
             "Baseline: `load`, reading the same files into the rdflib graph validation uses, measured",
             "in the same run as the figures it divides (`--only` re-runs re-measure `load` with them).", ""]
    for label, data, results in rows:
        triples = results["load"]["detail"]
        lines += [f"## {label}", "", f"`{data.relative_to(PROJECT)}`, {triples} (with the ontology).", "",
                  "| case | seconds | × load | peak MB | conforms | notes | measured (UTC) |",
                  "|---|---:|---:|---:|---|---|---|"]
        for case, result in results.items():
            seconds, ratio, peak = fmt(result, results["load"])
            lines.append(f"| {case} | {seconds} | {ratio} | {peak} | {result['conforms']} "
                         f"| {result['detail']} | {result.get('measured', '')} |")
        lines.append("")
    # The written findings below the marker survive a re-run; the tables above it are regenerated.
    kept = RESULTS.read_text(encoding="utf-8").partition(FINDINGS)[2] if RESULTS.exists() else "\n"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text("\n".join(lines) + "\n" + FINDINGS + kept, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
