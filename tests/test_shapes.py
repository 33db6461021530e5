"""The SHACL shapes (shapes/plan.ttl) through planlod.validation: the data passes, each rule has a fixture
that fails it with the right sh:sourceShape, and the model takes a differently shaped plan."""

import re

import pytest
from planlod.graph.dataset import discover
from planlod.validation import ShapesError, data_sources, schema_sources, validate_sources
from rdflib import Graph, Namespace
from rdflib.namespace import RDF, SH
from shape_cases import (
    INVALID,
    PLANSH,
    PROJECT,
    SHAPES_FIXTURES,
    VALID,
    invalid_fixture,
    shape_iris,
    valid_fixture,
)

PLAN = Namespace("https://w3id.org/planlod/ontology#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
JAPANESE = re.compile("[\u3040-\u30ff\u3400-\u9fff]")
OTHER_BASE = "http://example.org/plans/"


@pytest.fixture(scope="module")
def schema():
    return schema_sources(PROJECT / "ontology", PROJECT / "shapes")


@pytest.fixture(scope="module")
def shapes_graph():
    # The plan shapes; shapes/linksets.ttl (link sets) is tested with the link-set tools.
    return Graph().parse(PROJECT / "shapes" / "plan.ttl")


def validate_file(schema, path, base="https://w3id.org/planlod/"):
    if base != "https://w3id.org/planlod/":
        schema = schema_sources(PROJECT / "ontology", PROJECT / "shapes", base)
    return validate_sources(schema + data_sources([path], base), base)


def test_the_dataset_conforms():
    report = validate_sources(discover(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data"))
    assert report.conforms, report.text()
    assert report.violations == []


def test_the_dataset_conforms_under_another_base():
    sources = discover(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data", OTHER_BASE)
    report = validate_sources(sources, OTHER_BASE)
    assert report.conforms, report.text()


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_fixture_fires_its_shape(schema, name):
    report = validate_file(schema, invalid_fixture(name))
    assert not report.conforms
    assert report.fired_shapes() == shape_iris(INVALID[name]), report.text()
    for result in report.results:
        assert result.severity == "Violation"
        assert JAPANESE.search(result.message_ja), result
        assert result.message_en and not JAPANESE.search(result.message_en.split("「")[0]), result
        assert result.source_file == invalid_fixture(name)


@pytest.mark.parametrize("name", sorted(VALID))
def test_valid_fixture_conforms(schema, name):
    report = validate_file(schema, valid_fixture(name))
    assert report.conforms, report.text()
    assert report.fired_shapes() == shape_iris(VALID[name])
    assert all(result.severity == "Warning" for result in report.results)


def test_a_rule_fires_under_another_base_too(schema):
    report = validate_file(schema, invalid_fixture("pillar-under-policy"), base=OTHER_BASE)
    assert report.fired_shapes() == {OTHER_BASE + "shapes#ParentKindShape"}
    assert all(r.focus_node.startswith(OTHER_BASE + "id/") for r in report.results)


@pytest.mark.parametrize("path", sorted((SHAPES_FIXTURES / "invalid").glob("*.ttl")), ids=lambda p: p.stem)
def test_every_invalid_fixture_says_what_is_wrong_and_is_in_the_table(path):
    assert path.read_text(encoding="utf-8").startswith("# Invalid: ")
    assert path.stem in INVALID


def firing_shapes(graph: Graph) -> set[str]:
    """Shapes that can be a result's sh:sourceShape: targeted node shapes with their own constraint
    (sh:sparql, sh:or) and the property shapes of targeted node shapes."""
    targets = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf)
    targeted = {s for t in targets for s in graph.subjects(t, None)}
    own = {s for s in targeted if (s, SH.sparql, None) in graph or (s, SH["or"], None) in graph}
    properties = {p for s in targeted for p in graph.objects(s, SH.property)}
    return {str(s) for s in own | properties}


def test_every_shape_has_an_invalid_fixture(shapes_graph):
    covered = set().union(*(shape_iris(s) for s in [*INVALID.values(), *VALID.values()]))
    assert firing_shapes(shapes_graph) - covered == set()
    assert covered <= firing_shapes(shapes_graph)


def test_shapes_are_named_with_messages_in_ja_and_en_and_a_severity(shapes_graph):
    shapes = {s for kind in (SH.NodeShape, SH.PropertyShape) for s in shapes_graph.subjects(RDF.type, kind)}
    assert len(shapes) > 40
    for shape in shapes:
        assert str(shape).startswith(PLANSH), shape
        languages = {m.language for m in shapes_graph.objects(shape, SH.message)}
        assert {"ja", "en"} <= languages, shape
        assert shapes_graph.value(shape, SH.severity) in {SH.Violation, SH.Warning, SH.Info}, shape
    for constraint in shapes_graph.subjects(RDF.type, SH.SPARQLConstraint):
        assert str(constraint).startswith(PLANSH)
        assert {m.language for m in shapes_graph.objects(constraint, SH.message)} >= {"ja", "en"}


def test_shapes_name_no_municipality_or_plan():
    # Generic over plans: no Iwaki code, no plan IRI, no level name used as a rule.
    text = (PROJECT / "shapes" / "plan.ttl").read_text(encoding="utf-8")
    rules = "\n".join(line for line in text.splitlines() if "skos:example" not in line and "…" not in line)
    for specific in ("072044", "lifelong-learning-plan", "iwaki", "いわき"):
        assert specific not in rules.lower()


def test_a_comprehensive_plan_with_four_levels_validates(schema):
    path = PROJECT / "tests" / "fixtures" / "comprehensive-plan-example.ttl"
    report = validate_file(schema, path)
    assert report.conforms, report.text()
    assert report.results == []
    graph = Graph().parse(path)
    depths = {int(graph.value(level, PLAN.depth)): str(graph.value(level, PLAN.levelType))
              for level in graph.subjects(RDF.type, PLAN.Level)}
    assert depths == {1: str(PLAN.BasicGoal), 2: str(PLAN.Policy), 3: str(PLAN.Measure), 4: str(PLAN.Project)}
    elements_at = {d: 0 for d in depths}
    for element in graph.subjects(RDF.type, PLAN.PlanElement):
        elements_at[int(graph.value(graph.value(element, PLAN.level), PLAN.depth))] += 1
    assert all(count > 0 for count in elements_at.values()), elements_at
    assert "illustrative test fixture" in path.read_text(encoding="utf-8").lower()


def test_the_comprehensive_plan_fixture_is_not_data():
    assert not list((PROJECT / "data").rglob("comprehensive-plan-example*"))
    assert "980013" not in "".join(p.read_text(encoding="utf-8") for p in (PROJECT / "data").rglob("*.ttl"))


ENGINE_INPUTS = sorted([*(SHAPES_FIXTURES / "invalid").glob("*.ttl"),
                        *(SHAPES_FIXTURES / "valid").glob("*.ttl"),
                        PROJECT / "tests" / "fixtures" / "comprehensive-plan-example.ttl"])


@pytest.mark.parametrize("path", ENGINE_INPUTS, ids=lambda p: p.stem)
def test_both_engines_give_the_same_results(schema, path):
    """The hybrid engine (SPARQL constraints in pyoxigraph) against pyshacl alone, the reference."""
    sources = schema + data_sources([path])
    hybrid, reference = validate_sources(sources), validate_sources(sources, engine="pyshacl")
    assert hybrid.conforms == reference.conforms
    assert hybrid.results == reference.results


def test_both_engines_agree_on_the_dataset():
    sources = discover(PROJECT / "ontology", PROJECT / "shapes", PROJECT / "data")
    assert validate_sources(sources).results == validate_sources(sources, engine="pyshacl").results


@pytest.mark.parametrize("engine", ["hybrid", "pyshacl"])
def test_broken_shapes_are_a_clear_error(tmp_path, schema, engine):
    shapes = tmp_path / "shapes"
    shapes.mkdir()
    (shapes / "broken.ttl").write_text(
        "@prefix sh: <http://www.w3.org/ns/shacl#> .\n"
        "@prefix plansh: <https://w3id.org/planlod/shapes#> .\n"
        "plansh:Broken a sh:NodeShape ; sh:targetClass <https://w3id.org/planlod/ontology#PlanElement> ;\n"
        "    sh:sparql plansh:Broken-sparql .\n"
        "plansh:Broken-sparql sh:select \"SELECT $this WHERE { $this ?p }\" .\n", encoding="utf-8")
    sources = schema_sources(PROJECT / "ontology", shapes) + data_sources([valid_fixture("minimal-plan")])
    with pytest.raises(ShapesError, match="the shapes cannot be used"):
        validate_sources(sources, engine=engine)
