"""rdflib-endpoint serving the benchmark's dataset, as its `serve` command does, but as an app factory so
uvicorn can run it with 2 worker processes like the other servers (its CLI runs one process).

    BENCH_RDF_FILES=/tmp/x/dataset.nq uvicorn --factory --workers 2 rdflib_endpoint_app:create_app

Same loading as `rdflib-endpoint serve`: an rdflib Dataset with the default graph as the union, each file
parsed into it (N-Quads keeps each triple in its named graph).
"""

import os

from rdflib import Dataset
from rdflib_endpoint import SparqlEndpoint


def create_app():
    dataset = Dataset(store="default", default_union=True)
    for path in os.environ["BENCH_RDF_FILES"].split(os.pathsep):
        dataset.parse(path)
    return SparqlEndpoint(graph=dataset, path="/sparql")
