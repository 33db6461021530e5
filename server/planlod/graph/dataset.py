"""Which files make up the dataset, and which named graph each one goes into.

Each file describes one thing as a whole, and its graph is named by that thing:
  ontology/*.ttl  -> the ontology IRI          shapes/*.ttl -> the shapes IRI
  data/**/*.ttl   -> the one plan:PlanEdition, void:Linkset or void:Dataset the file describes
The default graph of the store is the union of all of them.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pyoxigraph import NamedNode, Quad, RdfFormat, parse

from .. import iris
from ..config import DEFAULT_BASE_IRI

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
VOID = "http://rdfs.org/ns/void#"
# Types that name a data file's graph, in order of preference.
GRAPH_NAMING_TYPES = (
    iris.ontology_ns() + "PlanEdition",
    VOID + "Linkset",
    VOID + "Dataset",
)


class DatasetError(Exception):
    """A file of the dataset cannot be read or placed; the message says which and why."""


@dataclass(frozen=True)
class Source:
    path: Path
    kind: str  # "ontology", "shapes" or "data"
    graph: str  # the named graph, under the configured base


def turtle_files(directory: Path) -> list[Path]:
    """Turtle files below `directory`, in a stable order; lint queries and fixtures are not data."""
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such directory")
    return sorted(p for p in directory.rglob("*.ttl") if p.is_file())


def parse_file(path: Path) -> list[Quad]:
    try:
        return list(parse(path=str(path), format=RdfFormat.TURTLE, base_iri=DEFAULT_BASE_IRI))
    except SyntaxError as error:
        raise DatasetError(f"{path}: Turtle syntax error: {error}") from None
    except OSError as error:
        raise DatasetError(f"{path}: {error.strerror or error}") from None


def graph_of_data_file(path: Path, quads: Iterable[Quad]) -> str:
    """The IRI of the one thing a data file describes as a whole (before rebasing)."""
    typed: dict[str, set[str]] = {t: set() for t in GRAPH_NAMING_TYPES}
    for quad in quads:
        if quad.predicate.value == RDF_TYPE and quad.object.value in typed:
            if isinstance(quad.subject, NamedNode):
                typed[quad.object.value].add(quad.subject.value)
    for rdf_type, subjects in typed.items():
        if len(subjects) == 1:
            return next(iter(subjects))
        if len(subjects) > 1:
            raise DatasetError(f"{path}: describes {len(subjects)} things of type <{rdf_type}>; "
                               "put each in its own file")
    raise DatasetError(f"{path}: names no plan:PlanEdition, void:Linkset or void:Dataset, "
                       "so it has no graph")


def discover(ontology_dir: Path, shapes_dir: Path, data_dir: Path,
             base: str = DEFAULT_BASE_IRI) -> list[Source]:
    """Every file of the dataset with its graph; raises DatasetError naming the first bad file."""
    sources = [Source(p, "ontology", iris.ontology_iri(base)) for p in turtle_files(ontology_dir)]
    sources += [Source(p, "shapes", iris.shapes_iri(base)) for p in turtle_files(shapes_dir)]
    graphs: dict[str, Path] = {}
    for path in turtle_files(data_dir):
        graph = iris.rebase(graph_of_data_file(path, parse_file(path)), base)
        if graph in graphs:
            raise DatasetError(f"{path}: describes <{graph}>, as {graphs[graph]} does already")
        graphs[graph] = path
        sources.append(Source(path, "data", graph))
    return sources


def rebased(term, base: str):
    if isinstance(term, NamedNode) and base != DEFAULT_BASE_IRI:
        return NamedNode(iris.rebase(term.value, base))
    return term


def quads_of(source: Source, base: str = DEFAULT_BASE_IRI) -> Iterator[Quad]:
    """The file's triples as quads in its named graph, its IRIs moved under `base`."""
    graph = NamedNode(source.graph)
    for quad in parse_file(source.path):
        yield Quad(rebased(quad.subject, base), rebased(quad.predicate, base),
                   rebased(quad.object, base), graph)
