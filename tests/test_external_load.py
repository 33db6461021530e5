"""`planlod load-external` (graph/external_load.py): the dump for an external store, behind the SHACL gate."""

import shutil
from pathlib import Path

import pytest
from planlod.cli import main
from planlod.config import DEFAULT_BASE_IRI
from planlod.graph.external_load import oxigraph_cli
from planlod.graph.store import DatasetStore
from pyoxigraph import RdfFormat, Store, parse

PROJECT = Path(__file__).resolve().parents[1]


def dump_args(out: Path, data_dir: Path = PROJECT / "data") -> list[str]:
    return ["load-external", "--out", str(out), "--data-dir", str(data_dir),
            "--ontology-dir", str(PROJECT / "ontology"), "--shapes-dir", str(PROJECT / "shapes")]


def test_dump_holds_exactly_what_the_embedded_store_holds(tmp_path):
    out = tmp_path / "dataset.nq"
    assert main(dump_args(out)) == 0
    # Both through a pyoxigraph Store: it keeps typed literals by value (an xsd:dateTime in canonical form).
    loaded = Store()
    loaded.extend(parse(path=str(out), format=RdfFormat.N_QUADS))
    dumped = {str(quad) for quad in loaded.quads_for_pattern(None, None, None, None)}
    store = DatasetStore.load(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", DEFAULT_BASE_IRI)
    embedded = {str(quad) for quad in store.store.quads_for_pattern(None, None, None, None)
                if "_:" not in str(quad)}
    # Blank node labels differ between two parses of the same file; every other quad must be equal.
    assert {quad for quad in dumped if "_:" not in quad} == embedded


def test_dump_loads_into_oxigraph(tmp_path, capsys):
    if oxigraph_cli() is None:
        pytest.fail("the oxigraph CLI (PyPI oxigraph, in the test extras) is needed")
    assert main([*dump_args(tmp_path / "dataset.nq"), "--oxigraph", str(tmp_path / "store")]) == 0
    assert "serve-read-only" in capsys.readouterr().out
    assert any((tmp_path / "store").iterdir())


@pytest.fixture
def invalid_data(tmp_path) -> Path:
    """A copy of data/ where one plan element's order is a word: plan:order must be a positive integer."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT / "data", data)
    with open(data / "plan.ttl", "a", encoding="utf-8") as plan:
        plan.write('\n<https://w3id.org/planlod/id/072044/lifelong-learning-plan/5/policy/1> '
                   '<https://w3id.org/planlod/ontology#order> "first" .\n')
    return data


def test_data_failing_the_gate_writes_nothing(invalid_data, tmp_path, capsys):
    out = tmp_path / "dataset.nq"
    assert main(dump_args(out, invalid_data)) == 1
    error = capsys.readouterr().err
    assert "SHACL" in error and "plan:order" in error
    assert not out.exists() and not list(tmp_path.glob("*.partial"))


def test_unreadable_data_is_named(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(PROJECT / "data", data)
    (data / "plan.ttl").write_text("@prefix : <urn:x#> .\n:a :b ", encoding="utf-8")
    assert main(dump_args(tmp_path / "dataset.nq", data)) == 1
    assert "plan.ttl" in capsys.readouterr().err
