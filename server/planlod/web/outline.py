"""A plan edition's structure read from the store: its levels, ideals and element tree.

The diagram, the home page and the resource pages all draw from this, so they agree with each
other and with the data. Nothing here knows how many levels an edition has: levels come from
plan:hasLevel (sorted by plan:depth), elements from skos:inScheme, the tree from skos:broader,
siblings are sorted by plan:order.
"""

from dataclasses import dataclass, field

from pyoxigraph import NamedNode

from ..graph.store import DatasetStore
from ..iris import iri_ref
from .i18n import LangText

SKOS = "http://www.w3.org/2004/02/skos/core#"


def plan_ns(store: DatasetStore) -> str:
    return store.base + "ontology#"


@dataclass
class Node:
    iri: str
    label: LangText
    kind: str  # "element", or the ideal's class local name: Vision, Philosophy, Keyword, Competency …
    notation: str = ""
    order: int | None = None
    page: int | None = None
    level: str | None = None  # the plan:Level IRI of an element
    parent: str | None = None
    heading: LangText = field(default_factory=LangText)
    description: LangText = field(default_factory=LangText)
    children: list["Node"] = field(default_factory=list)


@dataclass
class Level:
    iri: str
    label: LangText
    depth: int


@dataclass
class Outline:
    edition: str
    label: LangText
    levels: list[Level]
    ideals: list[Node]  # vision, philosophy, keyword, competencies … in a stable order
    roots: list[Node]  # the top-level elements, each with its children in plan:order
    nodes: dict[str, Node]

    def ideals_of(self, kind: str) -> list[Node]:
        return [n for n in self.ideals if n.kind == kind]

    def level_label(self, level_iri: str | None) -> LangText:
        for level in self.levels:
            if level.iri == level_iri:
                return level.label
        return LangText()

    def elements_at_depth(self) -> list[list[Node]]:
        """Elements by depth in the tree, each row in drawing order."""
        rows: list[list[Node]] = []
        row = self.roots
        while row:
            rows.append(row)
            row = [child for node in row for child in node.children]
        return rows


IDEAL_KINDS = ("Vision", "Philosophy", "Keyword", "Competency", "Viewpoint")


def _int(term) -> int | None:
    try:
        return int(term.value) if term is not None else None
    except ValueError:
        return None


def _labels_of(store: DatasetStore, iri: str) -> LangText:
    labels = LangText()
    for quad in store.store.quads_for_pattern(NamedNode(iri), NamedNode(SKOS + "prefLabel"), None, None):
        labels.add(quad.object)
    return labels


def editions(store: DatasetStore) -> list[tuple[str, LangText]]:
    """Every plan edition in the store with its title: whole transcriptions first, partial ones
    (plan:isPartial) after them, each group by IRI (stable across loads)."""
    plan = plan_ns(store)
    query = f"""SELECT ?s ?label ?partial WHERE {{
      ?s a <{plan}PlanEdition> .
      OPTIONAL {{ ?s <{SKOS}prefLabel> ?label }}
      OPTIONAL {{ ?s <{plan}isPartial> ?partial }}
    }}"""
    found: dict[str, LangText] = {}
    partial: set[str] = set()
    for row in store.query(query):
        found.setdefault(row["s"].value, LangText()).add(row["label"])
        if row["partial"] is not None and row["partial"].value == "true":
            partial.add(row["s"].value)
    return sorted(found.items(), key=lambda item: (item[0] in partial, item[0]))


def edition_of(store: DatasetStore, iri: str) -> str | None:
    """The edition a resource belongs to (itself, its scheme, or its level's edition), if any."""
    plan = plan_ns(store)
    quads = store.store.quads_for_pattern
    edition_type = NamedNode(plan + "PlanEdition")
    rdf_type = NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def is_edition(node) -> bool:
        return next(iter(quads(node, rdf_type, edition_type, None)), None) is not None

    node = NamedNode(iri)
    if is_edition(node):
        return iri
    for predicate in (SKOS + "inScheme", plan + "levelOf"):
        for quad in quads(node, NamedNode(predicate), None, None):
            if isinstance(quad.object, NamedNode) and is_edition(quad.object):
                return quad.object.value
    return None


def load_outline(store: DatasetStore, edition: str) -> Outline | None:
    plan = plan_ns(store)
    ed = NamedNode(edition)
    title = _labels_of(store, edition)
    if not title and next(iter(store.store.quads_for_pattern(ed, None, None, None)), None) is None:
        return None
    e = iri_ref(edition)
    levels = []
    level_query = f"""SELECT ?level ?depth ?label WHERE {{
      {e} <{plan}hasLevel> ?level . OPTIONAL {{ ?level <{plan}depth> ?depth }}
      OPTIONAL {{ ?level <http://www.w3.org/2000/01/rdf-schema#label> ?label }}
    }}"""
    by_level: dict[str, Level] = {}
    for row in store.query(level_query):
        level = by_level.setdefault(row["level"].value,
                                    Level(row["level"].value, LangText(), _int(row["depth"]) or 0))
        level.label.add(row["label"])
    levels = sorted(by_level.values(), key=lambda lv: (lv.depth, lv.iri))

    nodes: dict[str, Node] = {}
    element_query = f"""SELECT ?s ?label ?notation ?order ?page ?level ?parent WHERE {{
      ?s <{SKOS}inScheme> {e} ; a <{plan}PlanElement> .
      OPTIONAL {{ ?s <{SKOS}prefLabel> ?label }}
      OPTIONAL {{ ?s <{SKOS}notation> ?notation }}
      OPTIONAL {{ ?s <{plan}order> ?order }}
      OPTIONAL {{ ?s <{plan}page> ?page }}
      OPTIONAL {{ ?s <{plan}level> ?level }}
      OPTIONAL {{ ?s <{SKOS}broader> ?parent }}
    }}"""
    for row in store.query(element_query):
        node = nodes.get(row["s"].value)
        if node is None:
            node = nodes[row["s"].value] = Node(
                row["s"].value, LangText(), "element",
                notation=row["notation"].value if row["notation"] else "",
                order=_int(row["order"]), page=_int(row["page"]),
                level=row["level"].value if row["level"] else None,
                parent=row["parent"].value if row["parent"] else None)
        node.label.add(row["label"])

    ideals: list[Node] = []
    ideal_query = f"""SELECT ?s ?kind ?label ?order ?page ?heading ?description WHERE {{
      VALUES (?link ?kind) {{ {" ".join(f'(<{plan}has{k}> "{k}")' for k in IDEAL_KINDS)} }}
      {e} ?link ?s .
      OPTIONAL {{ ?s <{SKOS}prefLabel> ?label }}
      OPTIONAL {{ ?s <{plan}order> ?order }}
      OPTIONAL {{ ?s <{plan}page> ?page }}
      OPTIONAL {{ ?s <{plan}heading> ?heading }}
      OPTIONAL {{ ?s <http://purl.org/dc/terms/description> ?description }}
    }}"""
    ideal_nodes: dict[str, Node] = {}
    for row in store.query(ideal_query):
        node = ideal_nodes.get(row["s"].value)
        if node is None:
            node = ideal_nodes[row["s"].value] = Node(
                row["s"].value, LangText(), row["kind"].value, order=_int(row["order"]),
                page=_int(row["page"]))
        node.label.add(row["label"])
        node.heading.add(row["heading"])
        node.description.add(row["description"])
    ideals = sorted(ideal_nodes.values(),
                    key=lambda n: (IDEAL_KINDS.index(n.kind), n.order or 0, n.iri))

    roots = []
    for node in nodes.values():
        parent = nodes.get(node.parent) if node.parent else None
        if parent is None:
            roots.append(node)
        else:
            parent.children.append(node)
    key = _sibling_key
    roots.sort(key=key)
    for node in nodes.values():
        node.children.sort(key=key)
    return Outline(edition, title, levels, ideals, roots, {**nodes, **ideal_nodes})


def _sibling_key(node: Node):
    return (node.order is None, node.order or 0, node.iri)
