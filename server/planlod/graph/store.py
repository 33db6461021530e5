"""The embedded store: every source file loaded into pyoxigraph, one named graph each.

Pages, downloads and tools ask `DatasetStore.query`; the public /sparql endpoint runs
untrusted queries elsewhere (see the endpoint modules) so that they can be time-limited.
"""

from pathlib import Path

from pyoxigraph import NamedNode, Store

from .dataset import Source, discover, quads_of


class DatasetStore:
    """The loaded dataset: a pyoxigraph store plus what was loaded into it."""

    def __init__(self, store: Store, sources: list[Source], base: str):
        self.store = store
        self.sources = sources
        self.base = base

    @classmethod
    def load(cls, ontology_dir: Path, shapes_dir: Path, data_dir: Path, base: str) -> "DatasetStore":
        sources = discover(ontology_dir, shapes_dir, data_dir, base)
        store = Store()
        for source in sources:
            store.extend(quads_of(source, base))
        return cls(store, sources, base)

    def graphs(self) -> list[str]:
        return sorted({source.graph for source in self.sources})

    def query(self, sparql: str, **options):
        """A trusted query; the default graph is the union of all graphs unless a dataset is given."""
        if "default_graph" not in options and "named_graphs" not in options:
            options.setdefault("use_default_graph_as_union", True)
        return self.store.query(sparql, **options)

    def graph_node(self, graph: str) -> NamedNode:
        return NamedNode(graph)
