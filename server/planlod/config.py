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
    # With STORE: answers are read whole before the row cap cuts them; a larger one fails (bytes).
    "STORE_MAX_RESPONSE_BYTES": 256 * 1024 * 1024,
    # /sparql (web/sparql.py, graph/query_pool.py): every limit is stated in the Service Description.
    "QUERY_TIMEOUT": 30,  # seconds a query may run before its worker is killed (503)
    "QUERY_WORKERS": 2,  # killable query worker processes per server process
    "QUERY_MEMORY_MB": 1024,  # heap per query worker; a query that needs more is stopped (503)
    "MAX_QUERY_LENGTH": 100_000,  # characters of query text (413, or 414 in a URL)
    "MAX_CONTENT_LENGTH": 1_048_576,  # bytes of request body (Flask's own setting: 413)
    "MAX_RESULT_ROWS": 100_000,  # rows or triples; a longer result is cut and the response says so
    "SERVICE_ALLOWLIST": "",  # SERVICE endpoint IRIs allowed (space/comma separated); empty: SERVICE off
    "SERVICE_ALLOW_LOOPBACK": False,  # tests only: lets an allow-listed loopback peer through
    "RESULT_CACHE_SIZE": 256,  # serialized results kept per server process; 0 turns the cache off
    "RESULT_CACHE_BYTES": 64 * 1024 * 1024,  # and their total size
    "SPARQL_MAX_AGE": 300,  # Cache-Control max-age of query results, in seconds
}
