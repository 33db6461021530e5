"""The store is set up once per process and reached through `get_store()` (as flaskr reaches its db)."""

from pathlib import Path

from flask import Flask, current_app

from ..graph.store import DatasetStore

EXTENSION_KEY = "planlod.store"


def init_app(app: Flask) -> None:
    cfg = app.config
    app.extensions[EXTENSION_KEY] = DatasetStore.load(
        Path(cfg["ONTOLOGY_DIR"]), Path(cfg["SHAPES_DIR"]), Path(cfg["DATA_DIR"]), cfg["BASE_IRI"])


def get_store() -> DatasetStore:
    return current_app.extensions[EXTENSION_KEY]
