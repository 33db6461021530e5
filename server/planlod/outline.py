"""A plan edition's outline as CSV for people: one row per plan element, Excel-friendly.

This is the one place the outline CSV's columns are defined. `planlod export-outline` and
`planlod import` read and write the same columns through `COLUMNS`, `header_row()` and
`column_for_header()`, so the download, the exporter and the importer cannot drift apart.

The file (RFC 4180 CSV, CRLF line ends, UTF-8):
  * one header row; each cell is "<ja> / <en>", e.g. "表記 / notation" (`header_row()`);
  * one row per plan:PlanElement of the edition, in reading order: depth first, siblings by
    plan:order, so it reads like the plan's own table of contents, whatever the number of levels;
  * with a byte order mark (`bom=True`, what Excel needs to read UTF-8) or without one.

The columns:
  depth      階層の深さ / depth        integer: plan:depth of the element's level (1 = top)
  level      階層 / level              the level's name as the plan uses it (rdfs:label @ja)
  level_en   階層（英語） / level (en)   the level's English name (rdfs:label @en)
  notation   表記 / notation           skos:notation as printed, e.g. "Ⅰ", "①"
  order      順序 / order              plan:order among its siblings (integer)
  title_ja   名称 / title (ja)         skos:prefLabel @ja
  title_en   名称（英語） / title (en)   skos:prefLabel @en
  parent     上位 / parent             the IRI of the skos:broader element; empty at the top level
  page       掲載ページ / page          plan:page in the source document; empty where not printed
  iri        IRI / IRI                 the element's IRI

`csvw_metadata()` describes the same table for CSV on the Web (W3C CSVW, `tableSchema` with
ja/en titles and datatypes); the server publishes it beside the CSV.
"""

import csv
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pyoxigraph import Literal, NamedNode

from . import iris

BOM = "\ufeff"
XSD = "http://www.w3.org/2001/XMLSchema#"


@dataclass(frozen=True)
class Column:
    key: str  # machine name; also the CSVW column name
    ja: str
    en: str
    datatype: str  # CSVW datatype name (a built-in: "string", "integer", "anyURI")
    description_ja: str
    description_en: str
    # For the CSVW metadata: the element's RDF property the value comes from (empty for values that
    # describe the element's level, not the element) and the language of the value.
    rdf_property: str = ""
    lang: str = ""

    @property
    def header(self) -> str:
        return f"{self.ja} / {self.en}"


COLUMNS: tuple[Column, ...] = (
    Column("depth", "階層の深さ", "depth", "integer",
           "要素の階層の深さ（最上位が 1）。", "The depth of the element's level (the top level is 1)."),
    Column("level", "階層", "level", "string",
           "計画が用いる階層の名称（日本語）。", "The name the plan uses for the level, in Japanese."),
    Column("level_en", "階層（英語）", "level (en)", "string",
           "階層の名称（英語）。", "The level's name in English."),
    Column("notation", "表記", "notation", "string",
           "原典に印刷された番号の表記（例：Ⅰ、①）。", "The number as printed in the source (e.g. Ⅰ, ①).",
           "skos:notation"),
    Column("order", "順序", "order", "integer",
           "同じ上位要素の中での順序。", "The position among the element's siblings.", "plan:order"),
    Column("title_ja", "名称", "title (ja)", "string",
           "要素の名称（日本語、原典どおり）。", "The element's title in Japanese, as printed.",
           "skos:prefLabel", "ja"),
    Column("title_en", "名称（英語）", "title (en)", "string",
           "要素の名称（英語、本データセットによる翻訳）。",
           "The element's title in English (this dataset's translation).",
           "skos:prefLabel", "en"),
    Column("parent", "上位", "parent", "anyURI",
           "上位要素の IRI（最上位では空）。", "The IRI of the parent element (empty at the top level).",
           "skos:broader"),
    Column("page", "掲載ページ", "page", "integer",
           "原典で要素が記載されているページ（記載がなければ空）。",
           "The page of the source on which the element appears (empty where none is printed).",
           "plan:page"),
    Column("iri", "IRI", "IRI", "anyURI",
           "要素の IRI。", "The element's IRI.", ""),
)

KEYS = tuple(column.key for column in COLUMNS)


def header_row() -> list[str]:
    return [column.header for column in COLUMNS]


def column_for_header(cell: str) -> Column | None:
    """The column a header cell names: the bilingual header, its ja or en half, or the key."""
    wanted = cell.strip().lstrip(BOM).strip()
    for column in COLUMNS:
        if wanted in (column.header, column.ja, column.en, column.key):
            return column
    return None


def _query(base: str, edition: str) -> str:
    plan = iris.ontology_ns(base)
    edition = iris.iri_ref(edition)  # from the store or the command line: checked before it enters the text
    return f"""
PREFIX plan: <{plan}>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?element ?depth ?levelJa ?levelEn ?notation ?order ?titleJa ?titleEn ?parent ?page WHERE {{
  GRAPH {edition} {{
    ?element a plan:PlanElement ; skos:inScheme {edition} .
    OPTIONAL {{ ?element plan:level ?level .
               OPTIONAL {{ ?level plan:depth ?depth }}
               OPTIONAL {{ ?level rdfs:label ?levelJa FILTER(lang(?levelJa) = "ja") }}
               OPTIONAL {{ ?level rdfs:label ?levelEn FILTER(lang(?levelEn) = "en") }} }}
    OPTIONAL {{ ?element skos:notation ?notation }}
    OPTIONAL {{ ?element plan:order ?order }}
    OPTIONAL {{ ?element skos:prefLabel ?titleJa FILTER(lang(?titleJa) = "ja") }}
    OPTIONAL {{ ?element skos:prefLabel ?titleEn FILTER(lang(?titleEn) = "en") }}
    OPTIONAL {{ ?element skos:broader ?parent }}
    OPTIONAL {{ ?element plan:page ?page }}
  }}
}}"""


def _text(term) -> str:
    if term is None:
        return ""
    return term.value if isinstance(term, Literal | NamedNode) else str(term)


def _int_or_none(term) -> int | None:
    try:
        return int(term.value) if term is not None else None
    except ValueError:
        return None


def outline_rows(query: Callable[[str], Iterable], base: str, edition: str) -> list[dict[str, str]]:
    """The outline of `edition` as rows (dicts keyed by `KEYS`), in reading order.

    `query` runs a SPARQL SELECT and yields solutions (DatasetStore.query or a RemoteStore's).
    An edition with no plan elements in its graph (or no graph) gives no rows.
    """
    rows: dict[str, dict[str, str]] = {}
    sort_keys: dict[str, tuple] = {}
    for solution in query(_query(base, edition)):
        iri = solution["element"].value
        if iri in rows:  # a second label in the same language: keep the first, stably
            continue
        order = _int_or_none(solution["order"])
        rows[iri] = {
            "depth": _text(solution["depth"]),
            "level": _text(solution["levelJa"]),
            "level_en": _text(solution["levelEn"]),
            "notation": _text(solution["notation"]),
            "order": _text(solution["order"]),
            "title_ja": _text(solution["titleJa"]),
            "title_en": _text(solution["titleEn"]),
            "parent": _text(solution["parent"]),
            "page": _text(solution["page"]),
            "iri": iri,
        }
        # Missing orders sort last, then by IRI, so the order is stable whatever the data lacks.
        sort_keys[iri] = (order is None, order or 0, iri)
    children: dict[str, list[str]] = {}
    for iri, row in rows.items():
        parent = row["parent"] if row["parent"] in rows else ""
        children.setdefault(parent, []).append(iri)
    ordered: list[dict[str, str]] = []
    seen: set[str] = set()

    def walk(parent: str) -> None:
        for iri in sorted(children.get(parent, []), key=sort_keys.__getitem__):
            if iri not in seen:  # a cycle in skos:broader must not loop forever
                seen.add(iri)
                ordered.append(rows[iri])
                walk(iri)

    walk("")
    # Elements on a broader-cycle never reach the top; list them last rather than drop them.
    ordered += [rows[iri] for iri in sorted(rows, key=sort_keys.__getitem__) if iri not in seen]
    return ordered


def write_csv(rows: Iterable[dict[str, str]], bom: bool = True) -> bytes:
    """The CSV bytes: header row, then one row per element; CRLF as RFC 4180 and Excel expect."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header_row())
    for row in rows:
        writer.writerow([row.get(key, "") for key in KEYS])
    return ((BOM if bom else "") + buffer.getvalue()).encode("utf-8")


def csvw_metadata(table_urls: list[str], base: str, edition: str,
                  title_ja: str, title_en: str, license_iri: str) -> dict:
    """CSVW metadata (a csvw:TableGroup) for the outline CSV files at `table_urls` (same schema)."""
    plan = iris.ontology_ns(base)
    columns = []
    for column in COLUMNS:
        described = {
            "name": column.key,
            # The header cell itself is listed too, so a CSVW validator matches the header row.
            "titles": {"ja": [column.header, column.ja], "en": [column.en]},
            "dc:description": [{"@value": column.description_ja, "@language": "ja"},
                               {"@value": column.description_en, "@language": "en"}],
            "datatype": column.datatype,
            "required": column.key in ("iri", "title_ja"),
        }
        if column.rdf_property:
            described["propertyUrl"] = column.rdf_property.replace("plan:", plan)
        else:
            described["suppressOutput"] = True  # level facts are not about the element (aboutUrl)
        if column.lang:
            described["lang"] = column.lang
        if column.datatype == "anyURI" and column.rdf_property:
            described["valueUrl"] = "{+" + column.key + "}"
        columns.append(described)
    return {
        "@context": ["http://www.w3.org/ns/csvw", {"@language": "ja"}],
        "@type": "TableGroup",
        "dc:title": [{"@value": f"{title_ja}の施策体系（一覧表）", "@language": "ja"},
                     {"@value": f"Outline of {title_en}", "@language": "en"}],
        "dc:source": {"@id": edition},
        "dc:license": {"@id": license_iri},
        # Each table carries the dialect and schema itself: CSVW lets a group's be the tables' default,
        # but processors (e.g. the csvw package) read them only on the table.
        "tables": [{"@type": "Table", "url": url,
                    "dialect": {"encoding": "utf-8", "header": True, "headerRowCount": 1, "delimiter": ","},
                    "tableSchema": {"columns": columns, "primaryKey": "iri", "aboutUrl": "{+iri}"}}
                   for url in table_urls],
    }
