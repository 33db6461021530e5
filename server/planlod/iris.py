"""The IRI scheme: one base for the whole dataset, terms and things kept apart.

    {base}ontology#Term                         ontology terms (hash namespace: one document)
    {base}shapes#ShapeName                      SHACL shapes
    {base}id/{code}                             a municipality, by its 全国地方公共団体コード
    {base}id/{code}/{plan}                      a plan, e.g. lifelong-learning-plan
    {base}id/{code}/{plan}/{edition}            an edition (第五期 = 5); also its skos:ConceptScheme
    {base}id/{code}/{plan}/{edition}/policy/1   plan elements: {level}/{notation path}
    {base}id/linkset/{name}                     a link set
    {base}id/dataset, {base}id/catalog          the dataset and its catalog

Data files are written with DEFAULT_BASE_IRI; `rebase` moves them under a configured base at load time.
"""

from pyoxigraph import NamedNode

from .config import DEFAULT_BASE_IRI

ONTOLOGY_PATH = "ontology"
SHAPES_PATH = "shapes"


def ontology_iri(base: str = DEFAULT_BASE_IRI) -> str:
    return base + ONTOLOGY_PATH


def ontology_ns(base: str = DEFAULT_BASE_IRI) -> str:
    return ontology_iri(base) + "#"


def shapes_iri(base: str = DEFAULT_BASE_IRI) -> str:
    return base + SHAPES_PATH


def shapes_ns(base: str = DEFAULT_BASE_IRI) -> str:
    return shapes_iri(base) + "#"


def thing_iri(*segments: object, base: str = DEFAULT_BASE_IRI) -> str:
    """`thing_iri("072044", "lifelong-learning-plan", 5)` -> {base}id/072044/lifelong-learning-plan/5"""
    return base + "id/" + "/".join(str(s) for s in segments)


def rebase(iri: str, base: str, from_base: str = DEFAULT_BASE_IRI) -> str:
    """Move an IRI minted under `from_base` to `base`; any other IRI is returned unchanged."""
    if base != from_base and iri.startswith(from_base):
        return base + iri[len(from_base):]
    return iri


def is_ours(iri: str, base: str = DEFAULT_BASE_IRI) -> bool:
    return iri.startswith(base)


def iri_ref(iri: str) -> str:
    """`<iri>` for a query text. NamedNode refuses any IRI with a character that could close the reference
    or start SPARQL syntax (> space { } " …), so nothing but an IRI gets in. Spliced into the text rather
    than passed as a substitution: pyoxigraph 0.5 applies substitutions after evaluating the whole pattern
    (1 s a call at 1,001 plans for a resource's links), while a constant IRI uses the store's indexes."""
    return str(NamedNode(iri))
