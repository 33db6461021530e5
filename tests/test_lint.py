"""The lint queries (shapes/lint/*.rq) return no rows on the loaded dataset, and do find each defect."""

import shutil

import pytest
from planlod.graph.store import DatasetStore
from planlod.validation import lint_queries, run_lint
from shape_cases import PROJECT, valid_fixture

SHAPES = PROJECT / "shapes"
NAMES = sorted(lint_queries(SHAPES))


def load(data_dir, base="https://w3id.org/planlod/"):
    return DatasetStore.load(PROJECT / "ontology", SHAPES, data_dir, base)


@pytest.fixture(scope="module")
def dataset():
    return run_lint(load(PROJECT / "data"), SHAPES)


def test_there_are_lint_queries():
    assert {"labels-ja-en", "terms-defined", "orphan-elements", "dangling-iris"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_lint_finds_nothing_in_the_dataset(dataset, name):
    assert dataset[name] == []


def test_lint_finds_nothing_under_another_base():
    found = run_lint(load(PROJECT / "data", "http://example.org/plans/"), SHAPES)
    assert found == {name: [] for name in NAMES}


# A copy of the valid minimal plan with one defect per lint query: (query, old text, new text, offending IRI).
DEFECTS = [
    ("labels-ja-en", 'rdfs:label "施策の柱"@ja, "Measure pillar"@en ;', 'rdfs:label "施策の柱"@ja ;',
     "https://w3id.org/planlod/id/999997/example-plan/1/level/3"),
    ("orphan-elements",
     "    skos:inScheme <example-plan/1> ;\n    skos:broader <example-plan/1/direction/2> .",
     "    skos:inScheme <example-plan/1> .",
     "https://w3id.org/planlod/id/999997/example-plan/1/pillar/2-1"),
    ("dangling-iris",
     "plan:hasVision <example-plan/1/vision> ;", "plan:hasVision <example-plan/1/vision-typo> ;",
     "https://w3id.org/planlod/id/999997/example-plan/1/vision-typo"),
    ("dangling-iris", "plan:depth 3 ;", "plan:deep 3 ;", "https://w3id.org/planlod/ontology#deep"),
]


@pytest.mark.parametrize(("name", "old", "new", "offender"), DEFECTS,
                         ids=[d[0] + "-" + d[3].rsplit("/", 1)[-1] for d in DEFECTS])
def test_lint_finds_the_defect(tmp_path, name, old, new, offender):
    text = valid_fixture("minimal-plan").read_text(encoding="utf-8")
    assert text.count(old) == 1
    (tmp_path / "plan.ttl").write_text(text.replace(old, new), encoding="utf-8")
    shutil.copy(PROJECT / "data" / "dataset.ttl", tmp_path / "dataset.ttl")
    found = run_lint(load(tmp_path), SHAPES)
    assert offender in {row[0] for row in found[name]}
    clean = {n for n in NAMES if n != name}
    assert all(found[n] == [] for n in clean), found


def test_terms_defined_finds_an_undefined_term(tmp_path):
    ontology = tmp_path / "ontology"
    ontology.mkdir()
    text = (PROJECT / "ontology" / "plan.ttl").read_text(encoding="utf-8")
    old = 'skos:definition "階層の深さ。最上位が 1。"@ja, "The depth of a level; the top level is 1."@en ;'
    assert text.count(old) == 1
    (ontology / "plan.ttl").write_text(text.replace(old, 'skos:definition "階層の深さ。最上位が 1。"@ja ;'),
                                       encoding="utf-8")
    store = DatasetStore.load(ontology, SHAPES, PROJECT / "data", "https://w3id.org/planlod/")
    assert run_lint(store, SHAPES)["terms-defined"] == [("https://w3id.org/planlod/ontology#depth", "en")]
