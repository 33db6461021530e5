"""The store is set up once per process and reached through `get_store()` (as flaskr reaches its db).

    get_store().query(sparql)   trusted, in-process queries (pages, downloads, the catalog)
    get_query_pool()            the killable worker processes /sparql runs untrusted queries in

The embedded store lives on disk (graph/store.py): STORE_DIR when configured, otherwise a temporary
directory made once per process (and removed when the process ends). `planlod serve` prepares it before
gunicorn starts, so each worker only opens it read-only; the SHACL gate runs when a store is built.
"""

import atexit
import os
import shutil
import tempfile
import threading
from pathlib import Path

from flask import Flask, current_app

from ..graph.query_pool import QueryPool
from ..graph.remote_store import DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_TIMEOUT_S, RemoteStore
from ..graph.store import DatasetStore, prepare_store

EXTENSION_KEY = "planlod.store"
POOL_KEY = "planlod.query_pool"

_temp_dir: Path | None = None
_temp_owner: int | None = None
_pool_lock = threading.Lock()


def _temporary_store_dir() -> Path:
    """One temporary STORE_DIR per process, shared by every app it creates (tests create many)."""
    global _temp_dir, _temp_owner
    if _temp_dir is None or _temp_owner != os.getpid():
        _temp_dir, _temp_owner = Path(tempfile.mkdtemp(prefix="planlod-store-")), os.getpid()
        owner, directory = _temp_owner, _temp_dir
        atexit.register(lambda: os.getpid() == owner and shutil.rmtree(directory, ignore_errors=True))
    return _temp_dir


def init_app(app: Flask) -> None:
    cfg = app.config
    if cfg.get("STORE"):
        # An external SPARQL store (PLANLOD_STORE; docs/external-store.md), loaded by its operator: the same
        # query interface, its time limit an HTTP timeout (QUERY_TIMEOUT seconds).
        app.extensions[EXTENSION_KEY] = RemoteStore.connect(
            cfg["STORE"], cfg["BASE_IRI"], timeout=float(cfg.get("QUERY_TIMEOUT") or DEFAULT_TIMEOUT_S),
            max_response_bytes=int(cfg.get("STORE_MAX_RESPONSE_BYTES") or DEFAULT_MAX_RESPONSE_BYTES))
        return
    store_dir = Path(cfg["STORE_DIR"]) if cfg.get("STORE_DIR") else _temporary_store_dir()
    prepared = prepare_store(store_dir, Path(cfg["ONTOLOGY_DIR"]), Path(cfg["SHAPES_DIR"]),
                             Path(cfg["DATA_DIR"]), cfg["BASE_IRI"])
    app.extensions[EXTENSION_KEY] = DatasetStore.open(prepared, cfg["BASE_IRI"])
    if not app.testing:
        get_query_pool(app)  # warm: the workers start with the server, not with its first query


def get_store() -> DatasetStore | RemoteStore:
    return current_app.extensions[EXTENSION_KEY]


def get_query_pool(app: Flask | None = None) -> QueryPool | None:
    """This process's query pool over the embedded store (None for an external store, which has its own
    time limit); made on first use, and made again in a forked child, which cannot share its parent's."""
    app = app or current_app._get_current_object()
    store = app.extensions[EXTENSION_KEY]
    if getattr(store, "path", None) is None:
        return None
    with _pool_lock:
        pool = app.extensions.get(POOL_KEY)
        if pool is None or pool.owner != os.getpid():
            pool = QueryPool(str(store.path), size=int(app.config.get("QUERY_WORKERS") or 2),
                             timeout=float(app.config.get("QUERY_TIMEOUT") or 30),
                             memory_mb=int(app.config.get("QUERY_MEMORY_MB") or 0))
            app.extensions[POOL_KEY] = pool
        return pool
