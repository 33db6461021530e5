"""The shape fixtures and what each must trigger; shared by test_shapes.py and test_validate_cli.py.

Each invalid fixture (tests/shapes/invalid/NAME.ttl) is the valid minimal plan with one defect. The table
gives the sh:sourceShape set the defect fires: usually one shape; two where a second rule is broken by
the same defect by necessity (e.g. a level of another edition is also a level of no described edition).
"""

from pathlib import Path

SHAPES_FIXTURES = Path(__file__).parent / "shapes"
PROJECT = Path(__file__).resolve().parents[1]
PLANSH = "https://w3id.org/planlod/shapes#"

INVALID = {
    "element-without-ja-label": {"LabelShape-prefLabelJa"},
    "element-with-two-ja-labels": {"LabelShape-prefLabelJa"},
    "element-without-en-label": {"LabelShape-prefLabelEn"},
    "vision-without-en-label": {"LabelShape-prefLabelEn"},
    "label-with-stray-space": {"LabelShape-prefLabelTrimmed"},
    "element-not-typed-concept": {"PlanElementShape-typedConcept"},
    "element-without-notation": {"PlanElementShape-notation"},
    "element-order-zero": {"PlanElementShape-order"},
    "element-without-level": {"PlanElementShape-level"},
    "element-without-scheme": {"PlanElementShape-inScheme"},
    "element-with-two-parents": {"PlanElementShape-broader"},
    "element-level-of-another-edition": {"ElementLevelShape", "LevelShape-levelOf"},
    "pillar-without-direction": {"ElementParentShape"},
    "pillar-under-policy": {"ParentKindShape"},
    "top-element-not-top-concept": {"TopConceptShape"},
    "direction-as-top-concept": {"TopConceptShape"},
    "narrower-missing": {"BroaderNarrowerShape"},
    "notation-repeated-under-parent": {"NotationUniqueShape"},
    "order-repeated-under-parent": {"OrderUniqueShape"},
    "page-not-integer": {"PageShape-page"},
    "page-zero": {"PageShape-page"},
    "vision-without-scheme": {"IdealShape-inScheme"},
    "level-without-ja-label": {"LevelShape-labelJa"},
    "level-without-en-label": {"LevelShape-labelEn"},
    "level-without-depth": {"LevelShape-depth"},
    "level-not-listed": {"LevelShape-listed"},
    "level-type-unknown": {"LevelShape-levelType"},
    "level-empty": {"LevelShape-elements"},
    "level-depth-gap": {"LevelDepthsShape", "ParentKindShape"},
    "edition-without-levels": {"EditionLevelsShape", "LevelShape-listed"},
    "partial-edition-without-note": {"EditionLevelsShape", "LevelShape-listed"},
    "edition-level-not-a-level": {"PlanEditionShape-hasLevel"},
    "plan-without-ja-title": {"PlanShape-titleJa"},
    "plan-without-en-title": {"PlanShape-titleEn"},
    "plan-municipality-undescribed": {"PlanShape-municipality"},
    "plan-without-editions": {"PlanShape-hasEdition", "PlanEditionShape-listed"},
    "edition-not-typed-scheme": {"PlanEditionShape-typedScheme"},
    "edition-without-ja-title": {"PlanEditionShape-titleJa"},
    "edition-without-en-title": {"PlanEditionShape-titleEn"},
    "edition-without-publisher": {"PlanEditionShape-publisher"},
    "edition-without-plan": {"PlanEditionShape-editionOf"},
    "edition-number-not-integer": {"PlanEditionShape-editionNumber"},
    "municipality-code-five-digits": {"MunicipalityShape-code"},
    "municipality-code-check-digit": {"CheckDigitShape"},
    "municipality-without-ja-label": {"MunicipalityShape-labelJa"},
    "municipality-without-en-label": {"MunicipalityShape-labelEn"},
}

# Valid fixtures: the shapes they may fire (only warnings).
VALID = {
    "minimal-plan": set(),
    "partial-edition": set(),
    "edition-without-licence": {"PlanEditionShape-license"},
}


def invalid_fixture(name: str) -> Path:
    return SHAPES_FIXTURES / "invalid" / f"{name}.ttl"


def valid_fixture(name: str) -> Path:
    return SHAPES_FIXTURES / "valid" / f"{name}.ttl"


def shape_iris(names: set[str]) -> set[str]:
    return {PLANSH + name for name in names}
