"""Settings shared by the command line and the server.

Every setting has a safe default here; deployments override them with `PLANLOD_<NAME>`
environment variables (Flask's `from_prefixed_env`), tests with a mapping.
"""

from pathlib import Path

# The checkout that holds ontology/, shapes/ and data/ (the package is installed editable from it).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# The persistent default: w3id.org redirects are how ontologies keep IRIs stable across hosts.
DEFAULT_BASE_IRI = "https://w3id.org/planlod/"

DEFAULTS = {
    "BASE_IRI": DEFAULT_BASE_IRI,
    "ONTOLOGY_DIR": str(PROJECT_ROOT / "ontology"),
    "SHAPES_DIR": str(PROJECT_ROOT / "shapes"),
    "DATA_DIR": str(PROJECT_ROOT / "data"),
    # Optional on-disk store: restarts reuse it when the source files have not changed.
    "STORE_DIR": None,
    # An external SPARQL query endpoint instead of the embedded store (the path past one machine).
    "STORE": None,
}
