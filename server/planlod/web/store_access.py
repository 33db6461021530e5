"""The store is set up once per process and reached through `get_store()` (as flaskr reaches its db)."""

from pathlib import Path

from flask import Flask, current_app

from ..graph.remote_store import DEFAULT_TIMEOUT_S, RemoteStore
from ..graph.store import DatasetStore

EXTENSION_KEY = "planlod.store"


def init_app(app: Flask) -> None:
    cfg = app.config
    if cfg.get("STORE"):
        # An external SPARQL store (PLANLOD_STORE; docs/external-store.md), loaded by its operator: the same
        # query interface, its time limit an HTTP timeout (QUERY_TIMEOUT seconds).
        app.extensions[EXTENSION_KEY] = RemoteStore.connect(
            cfg["STORE"], cfg["BASE_IRI"], timeout=float(cfg.get("QUERY_TIMEOUT") or DEFAULT_TIMEOUT_S))
        return
    app.extensions[EXTENSION_KEY] = DatasetStore.load(
        Path(cfg["ONTOLOGY_DIR"]), Path(cfg["SHAPES_DIR"]), Path(cfg["DATA_DIR"]), cfg["BASE_IRI"])


def get_store() -> DatasetStore | RemoteStore:
    return current_app.extensions[EXTENSION_KEY]
