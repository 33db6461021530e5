"""`planlod load-external`: the dataset as one N-Quads file for an external SPARQL store to load.

The embedded store loads ontology/, shapes/ and data/ itself; an external store (PLANLOD_STORE) is loaded by
its operator with the store's own bulk loader. This writes exactly what the embedded store would hold — the
same files, the same named graphs, IRIs moved under the configured base — after the same SHACL gate, so the
two stores answer alike. With `--oxigraph DIR` it also runs `oxigraph load` into DIR (see
docs/external-store.md for Fuseki's tdb2.tdbloader and Virtuoso's ld_dir).
"""

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from pyoxigraph import RdfFormat, serialize

from .. import config
from .dataset import DatasetError, Source, discover, quads_of


class ExternalLoadError(Exception):
    """The dump or the load failed; the message says where."""


def dataset_sources(ontology_dir: Path, shapes_dir: Path, data_dir: Path, base: str) -> list[Source]:
    return discover(ontology_dir, shapes_dir, data_dir, base)


def write_nquads(sources: list[Source], base: str, out: Path) -> int:
    """Every source's quads, in its named graph, into `out`; returns how many were written."""
    count = 0

    def counted():
        nonlocal count
        for source in sources:
            for quad in quads_of(source, base):
                count += 1
                yield quad

    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial")  # never leave a half-written dump under the real name
    serialize(counted(), output=str(partial), format=RdfFormat.N_QUADS)
    partial.replace(out)
    return count


def oxigraph_cli() -> str | None:
    """The `oxigraph` CLI (PyPI `oxigraph`): beside this Python first, as a virtualenv installs it (its bin/
    need not be on PATH when the venv's python is run directly), then on PATH."""
    beside = Path(sys.executable).parent / "oxigraph"
    return str(beside) if beside.is_file() else shutil.which("oxigraph")


def load_into_oxigraph(nquads: Path, location: Path) -> None:
    """`oxigraph load` (the Rust CLI from PyPI `oxigraph`) of the dump into an on-disk store at `location`."""
    program = oxigraph_cli()
    if program is None:
        raise ExternalLoadError("oxigraph: the CLI is not installed (pip install oxigraph)")
    result = subprocess.run([program, "load", "--location", str(location), "--file", str(nquads)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ExternalLoadError(f"oxigraph load into {location} failed ({result.returncode}): "
                                f"{result.stderr.strip()[-2000:]}")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "load-external", help="write the dataset as N-Quads for an external SPARQL store (and load it)",
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="the N-Quads file to write")
    parser.add_argument("--oxigraph", type=Path, metavar="DIR",
                        help="also load it into an Oxigraph store directory with `oxigraph load`")
    parser.add_argument("--base", default=config.DEFAULTS["BASE_IRI"], help="the base IRI (BASE_IRI)")
    for name in ("ontology", "shapes", "data"):
        parser.add_argument(f"--{name}-dir", type=Path, default=Path(config.DEFAULTS[f"{name.upper()}_DIR"]))
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from ..validation import ShapesError, validate_sources  # the SHACL gate `planlod serve` runs at start

    try:
        sources = dataset_sources(args.ontology_dir, args.shapes_dir, args.data_dir, args.base)
        report = validate_sources(sources, args.base)
        if not report.conforms:
            print(report.text(), file=sys.stderr)
            print("planlod load-external: the data does not pass the SHACL gate; nothing written",
                  file=sys.stderr)
            return 1
        count = write_nquads(sources, args.base, args.out)
        print(f"{args.out}: {count} quads in {len({s.graph for s in sources})} graphs")
        if args.oxigraph is not None:
            load_into_oxigraph(args.out, args.oxigraph)
            print(f"loaded into {args.oxigraph}; serve it with: oxigraph serve-read-only "
                  f"--location {args.oxigraph} --union-default-graph")
    except (DatasetError, ExternalLoadError, ShapesError) as error:
        print(f"planlod load-external: {error}", file=sys.stderr)
        return 1
    return 0
