"""The on-disk store (graph/store.py): built once per set of source files, reused, never deleted in use."""

import shutil
from pathlib import Path

import pytest
from planlod import config
from planlod.graph.store import DatasetStore, StoreError, prepare_store

HERE = Path(__file__).parent
ONTOLOGY = Path(config.DEFAULTS["ONTOLOGY_DIR"])
SHAPES = Path(config.DEFAULTS["SHAPES_DIR"])
DATA = Path(config.DEFAULTS["DATA_DIR"])
BASE = config.DEFAULT_BASE_IRI
INVALID = HERE / "shapes" / "invalid" / "edition-without-en-title.ttl"
VALID = HERE / "shapes" / "valid" / "minimal-plan.ttl"


def prepare(store_dir: Path, data: Path, validate=None):
    kwargs = {} if validate == "gate" else {"validate": None}
    return prepare_store(store_dir, ONTOLOGY, SHAPES, data, BASE, **kwargs)


def one_file(tmp_path: Path, source: Path, name: str) -> Path:
    directory = tmp_path / name
    directory.mkdir()
    shutil.copy(source, directory / source.name)
    return directory


def test_a_store_is_built_once_and_opened_read_only(tmp_path):
    first = prepare(tmp_path / "s", DATA)
    manifest = first.path / "manifest.json"
    built = manifest.stat().st_mtime_ns
    again = prepare(tmp_path / "s", DATA)
    assert again.path == first.path and manifest.stat().st_mtime_ns == built
    store = DatasetStore.open(again, BASE)
    assert len(store) == first.triples > 1000
    assert store.graphs() == sorted({s.graph for s in first.sources})
    with pytest.raises(RuntimeError, match="read-write"):
        store.store.update("INSERT DATA { <urn:a> <urn:b> <urn:c> }")


def test_changed_files_build_a_new_store_and_an_unused_old_one_goes(tmp_path):
    data = one_file(tmp_path, VALID, "data")
    old = prepare(tmp_path / "s", data)
    (data / VALID.name).write_text(VALID.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    new = prepare(tmp_path / "s", data)
    assert new.path != old.path and new.version != old.version
    assert not old.path.exists()


def test_an_old_store_in_use_is_kept(tmp_path):
    data = one_file(tmp_path, VALID, "data")
    old = prepare(tmp_path / "s", data)
    in_use = DatasetStore.open(old, BASE)
    (data / VALID.name).write_text(VALID.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    prepare(tmp_path / "s", data)
    assert old.path.exists()
    assert bool(in_use.query("ASK { ?s ?p ?o }"))


def test_invalid_data_is_refused_with_the_report_and_nothing_built(tmp_path):
    data = one_file(tmp_path, INVALID, "data")
    with pytest.raises(StoreError) as refused:
        prepare(tmp_path / "s", data, validate="gate")
    assert "Violation" in refused.value.report
    assert not list((tmp_path / "s").glob("db-*"))
