"""Precision@k of `planlod suggest` against the hand-built gold sets in bench/gold/, with baselines measured
in the same run; writes bench/results/suggest.md.

    python bench/suggest.py

Every gold set is a review CSV of links the dataset editors judged related (decision = yes), built by hand
from the real plans before the suggester's output was looked at (see bench/gold/README.md). The suggester
ranks every pair of plan elements (or element × SDG target); precision@k is the share of the k best-ranked
pairs that are in the gold set. Gold links whose ends are not candidates (a viewpoint, an SDG goal rather
than a target) cannot be ranked and are counted apart.
"""

import platform
import random
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

from planlod.config import DEFAULT_BASE_IRI
from planlod.graph.store import DatasetStore
from planlod.tools import suggest
from planlod.tools.linksets import read_review_csv

BENCH = Path(__file__).parent
PROJECT = BENCH.parent
KS = (5, 10, 20)
RANDOM_TRIALS = 1000

GOLD_SETS = {
    # gold file stem: (plan A, plan B)
    "072044-lifelong-learning-plan-5--282049-lifelong-learning-plan-2021":
        ("072044/lifelong-learning-plan/5", "282049/lifelong-learning-plan/2021"),
    "072044-lifelong-learning-plan-5--sdg": ("072044/lifelong-learning-plan/5", "sdg"),
    "282049-lifelong-learning-plan-2021--sdg": ("282049/lifelong-learning-plan/2021", "sdg"),
    "072044-lifelong-learning-plan-5--jp-education-promotion-basic-plan-4":
        ("072044/lifelong-learning-plan/5", "jp/education-promotion-basic-plan/4"),
    "282049-lifelong-learning-plan-2021--jp-education-promotion-basic-plan-4":
        ("282049/lifelong-learning-plan/2021", "jp/education-promotion-basic-plan/4"),
}


def jaccard_rank(items_a, items_b):
    """Baseline: plain character-bigram Jaccard of the titles, no weighting."""
    def grams(item):
        return set(suggest.ngrams(item.label, (2,)))
    pairs = [(len(grams(a) & grams(b)) / (len(grams(a) | grams(b)) or 1), a, b)
             for a in items_a for b in items_b]
    pairs.sort(key=lambda t: (-t[0], t[1].iri, t[2].iri))
    return pairs


def precision_at(ranked_pairs, gold, k):
    top = ranked_pairs[:k]
    return sum((a, b) in gold for a, b in top) / k


def measure(store, stem, plan_a, plan_b):
    gold_rows = [row for row in read_review_csv(BENCH / "gold" / f"{stem}.csv") if row.accepted]
    gold = {(row.subject, row.object) for row in gold_rows}
    scheme_a, scheme_b = suggest.resolve_edition(store, plan_a), suggest.resolve_edition(store, plan_b)
    full_a, full_b = suggest.items_of(store, scheme_a), suggest.items_of(store, scheme_b)
    titles_a = suggest.items_of(store, scheme_a, with_description=False)
    titles_b = suggest.items_of(store, scheme_b, with_description=False)
    universe = {(a.iri, b.iri) for a in full_a for b in full_b}
    reachable = gold & universe
    methods = {
        "n-gram TF-IDF cosine, titles + descriptions (the tool)":
            [(a.iri, b.iri) for _, a, b in suggest.rank(full_a, full_b)],
        "n-gram TF-IDF cosine, titles only":
            [(a.iri, b.iri) for _, a, b in suggest.rank(titles_a, titles_b)],
        "baseline: bigram Jaccard of titles, no weighting":
            [(a.iri, b.iri) for _, a, b in jaccard_rank(titles_a, titles_b)],
    }
    results = {name: {k: precision_at(pairs, reachable, k) for k in KS + (len(reachable),)}
               for name, pairs in methods.items()}
    rng = random.Random(20261127)
    pool = sorted(universe)
    random_p = {k: sum(precision_at(rng.sample(pool, len(pool)), reachable, k) for _ in range(RANDOM_TRIALS))
                / RANDOM_TRIALS for k in KS + (len(reachable),)}
    results[f"baseline: random order (mean of {RANDOM_TRIALS})"] = random_p
    return {"gold": len(gold), "reachable": len(reachable), "pairs": len(universe),
            "items": (len(full_a), len(full_b)), "results": results}


def report(measured) -> str:
    lines = [
        "# Link suggestions: precision@k against the hand-built gold sets",
        "",
        f"Run {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by `python bench/suggest.py`; Python "
        f"{platform.python_version()}, pyoxigraph {version('pyoxigraph')}, rdflib {version('rdflib')}, "
        f"{platform.machine()}.",
        "",
        "The tool ranks every pair (plan A element × plan B element, or element × SDG target) by the cosine",
        "of TF-IDF-weighted character 2- and 3-grams of the Japanese text. Precision@k = share of the k",
        "best pairs that are in the gold set; P@R = precision at k = R, the number of reachable gold links.",
        "Baselines are measured in the same run on the same pairs.",
        "The gold sets and how they were made: bench/gold/README.md.",
        "",
    ]
    for stem, m in measured.items():
        r = m["reachable"]
        lines += [f"## {stem}", "",
                  f"{m['items'][0]} × {m['items'][1]} candidates = {m['pairs']} pairs; "
                  f"gold links {m['gold']}, of which {r} are between candidates "
                  "(the rest involve a viewpoint or an SDG goal, which are not candidates).", "",
                  "| method | P@5 | P@10 | P@20 | P@R (R = " + str(r) + ") |", "|---|---|---|---|---|"]
        for name, p in m["results"].items():
            lines.append(f"| {name} | {p[5]:.2f} | {p[10]:.2f} | {p[20]:.2f} | {p[r]:.2f} |")
        tool, chance = next(iter(m["results"].values())), m["results"][list(m["results"])[-1]]
        ratio = f"{tool[10] / chance[10]:.1f}× the random baseline" if chance[10] else "n/a"
        lines += ["", f"P@10 of the tool: {tool[10]:.2f}, {ratio}.", ""]
    lines += [
        "## Reading",
        "",
        "- The suggester is a triage aid for a reviewer, not a source of links: every candidate is",
        "  written unreviewed, and only `planlod accept` promotes the rows a person marked yes.",
        "- The SDG targets' Japanese texts are long sentences that share boilerplate",
        "  (2030年までに、すべての…) and little vocabulary with plan titles, so surface n-grams carry",
        "  less signal there than between two lifelong-learning plans.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", DEFAULT_BASE_IRI)
    measured = {stem: measure(store, stem, a, b) for stem, (a, b) in GOLD_SETS.items()}
    out = BENCH / "results" / "suggest.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report(measured), encoding="utf-8")
    print(out.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
