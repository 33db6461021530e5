"""`planlod validate [PATHS…]`: the SHACL gate on the command line.

Exit 0 when the data conforms (warnings allowed), 1 on violations, 2 when the input cannot be read
(a missing file, a Turtle syntax error, a file that names no plan edition / link set / dataset).
"""

import argparse
import os
import sys
from pathlib import Path

from .. import config
from ..graph.dataset import DatasetError, discover
from ..validation import ShapesError, data_sources, schema_sources, validate_sources


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "validate", help="validate data files against the SHACL shapes (with the ontology)",
        description="Validate data files (default: the project's data/) against shapes/, with ontology/. "
                    "Exit 0 if they conform, 1 on violations, 2 if a file cannot be read.")
    p.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                   help="Turtle files or directories to validate together (default: the project's data/)")
    p.add_argument("--shapes", type=Path, default=Path(config.DEFAULTS["SHAPES_DIR"]),
                   help="directory of shapes (default: the project's shapes/)")
    p.add_argument("--ontology", type=Path, default=Path(config.DEFAULTS["ONTOLOGY_DIR"]),
                   help="directory of the ontology (default: the project's ontology/)")
    p.add_argument("--base", default=os.environ.get("PLANLOD_BASE_IRI", config.DEFAULT_BASE_IRI),
                   help="base IRI of the dataset (default: $PLANLOD_BASE_IRI or %(default)s)")
    p.set_defaults(handler=run_validate)


def run_validate(args: argparse.Namespace) -> int:
    try:
        if args.paths:
            sources = (schema_sources(args.ontology, args.shapes, args.base)
                       + data_sources(args.paths, args.base))
        else:
            sources = discover(args.ontology, args.shapes, Path(config.DEFAULTS["DATA_DIR"]), args.base)
        report = validate_sources(sources, args.base)
    except (DatasetError, ShapesError) as error:
        print(f"planlod validate: {one_line(str(error))}", file=sys.stderr)
        return 2
    try:
        print(report.text())
        sys.stdout.flush()
    except BrokenPipeError:  # `planlod validate | head`: the reader left; the exit code still tells
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0 if report.conforms else 1


def one_line(message: str) -> str:
    return " ".join(message.split())
