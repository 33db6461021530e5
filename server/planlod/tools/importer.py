"""`planlod import`: a plan from a spreadsheet outline (CSV) plus plan metadata, to Turtle under data/.

A municipal officer fills one row per plan element in a spreadsheet (the columns of the outline CSV the
server publishes, defined once in planlod.outline; the importer also reads a description column). The
importer checks everything first and reports every problem with its row number in Japanese and English;
only when there is none does it build the Turtle, run the SHACL gate on it together with the dataset, and
write the file. On any problem nothing is written.

IRIs follow the dataset's scheme: {base}id/{code}/{plan}/{edition}/{level slug}/{path}, where the path is the
element's order when orders are unique in its level (policy/1, direction/7) and otherwise its parent's path,
a hyphen and its order (pillar/7-2), as in the 5th Iwaki plan.

`planlod export-outline` writes an edition back as the same CSV, so import and export round-trip.
"""

import csv
import io
import re
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import yaml
from rdflib import RDF, RDFS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, PROV, SKOS

from .. import outline
from ..config import DEFAULT_BASE_IRI, DEFAULTS
from ..graph.dataset import DatasetError, Source, discover
from ..outline import Column

PLAN = Namespace(DEFAULT_BASE_IRI + "ontology#")
ID = DEFAULT_BASE_IRI + "id/"
PROJECT_AGENT = URIRef(ID + "planlod-project")

# Columns the importer reads besides the published outline's (unless planlod.outline defines them itself).
EXTRA_COLUMNS = tuple(c for c in (
    Column("description", "説明", "description", "string", "要素の説明（日本語）。",
           "The element's description in Japanese.", "dcterms:description", "ja"),
    Column("description_en", "説明（英語）", "description (en)", "string", "要素の説明（英語）。",
           "The element's description in English.", "dcterms:description", "en"),
) if c.key not in outline.KEYS)
IMPORT_COLUMNS = outline.COLUMNS + EXTRA_COLUMNS
# Written by export-outline beside the plan's own columns and ignored by import: links are data to be
# reviewed, not facts of the plan, so they never flow back into a plan file.
LINKS_COLUMN = Column("links", "リンク（確認用、計画の内容ではない）", "links (for review, not plan content)",
                      "string", "要素のリンク（向き、強さ、相手、確認状況、根拠の種類、リンク集合）。",
                      "The element's links (direction, strength, other end, review status, basis, link set).")
REQUIRED = ("level", "notation", "title_ja")

# The IRI segment of a level, from its common level type (policy/1, direction/7, pillar/7-2 …).
LEVEL_SLUGS = {"BasicGoal": "goal", "BasicPolicy": "policy", "Policy": "policy",
               "PolicyDirection": "direction", "Measure": "measure", "MeasurePillar": "pillar",
               "Project": "project"}
ROMAN = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3, "Ⅳ": 4, "Ⅴ": 5, "Ⅵ": 6, "Ⅶ": 7, "Ⅷ": 8, "Ⅸ": 9, "Ⅹ": 10, "Ⅺ": 11, "Ⅻ": 12}


class ImportError_(Exception):
    """Every problem found, each as "N行目: ja / row N: en"; nothing was written."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def problem(row: int | None, ja: str, en: str) -> str:
    if row is None:
        return f"{ja} / {en}"
    return f"{row}行目: {ja} / row {row}: {en}"


# ---- Metadata ----

@dataclass
class LevelMeta:
    name_ja: str
    name_en: str
    slug: str
    level_type: str  # a plan:LevelType local name
    depth: int = 0  # filled from the CSV when the metadata does not say


@dataclass
class PlanMeta:
    code: str
    plan_slug: str
    edition: str  # the edition's IRI segment (5, 2021 …)
    levels: list[LevelMeta]
    graph: Graph | None = None  # Turtle metadata is kept as given; YAML metadata is turned into triples
    yaml: dict = field(default_factory=dict)

    @property
    def edition_iri(self) -> str:
        return f"{ID}{self.code}/{self.plan_slug}/{self.edition}"

    def level_by_name(self, name: str) -> LevelMeta | None:
        return next((lv for lv in self.levels if lv.name_ja == name), None)


def read_metadata(path: Path) -> PlanMeta:
    if path.suffix in (".yaml", ".yml"):
        return _yaml_metadata(path)
    if path.suffix == ".ttl":
        return _turtle_metadata(path)
    raise ImportError_([problem(None, f"{path}: メタデータは .yaml か .ttl にしてください",
                                f"{path}: plan metadata must be .yaml or .ttl")])


def _yaml_metadata(path: Path) -> PlanMeta:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise ImportError_([problem(None, f"{path}: 読めません（{error}）",
                                    f"{path}: cannot read ({error})")]) from None
    problems = []
    if not isinstance(data, dict):
        data = {}
        problems.append(problem(None, f"{path}: YAML の対応表（mapping）ではありません",
                                f"{path}: not a YAML mapping"))
    for key in ("municipality", "plan", "edition", "levels"):
        if key not in data:
            problems.append(problem(None, f"{path}: {key} がありません", f"{path}: {key} is missing"))
    if problems:
        raise ImportError_(problems)
    code = str(data["municipality"].get("code", ""))
    if not re.fullmatch(r"\d{6}", code):
        problems.append(problem(None, f"{path}: municipality.code は6桁の全国地方公共団体コードです",
                                f"{path}: municipality.code must be the 6-digit local government code"))
    levels = []
    for index, level in enumerate(data["levels"] or [], start=1):
        level_type = str(level.get("type", ""))
        slug = str(level.get("slug") or LEVEL_SLUGS.get(level_type, ""))
        if level_type not in LEVEL_SLUGS or not level.get("name_ja") or not level.get("name_en"):
            problems.append(problem(None, f"{path}: levels の {index} 番目に name_ja, name_en, type "
                                    f"（{', '.join(LEVEL_SLUGS)} のいずれか）が必要です",
                                    f"{path}: level {index} needs name_ja, name_en and a type "
                                    f"(one of {', '.join(LEVEL_SLUGS)})"))
            continue
        levels.append(LevelMeta(str(level["name_ja"]), str(level["name_en"]), slug, level_type,
                                int(level.get("depth", 0) or 0)))
    for index, ideal in enumerate(data.get("ideals") or [], start=1):
        if not isinstance(ideal, dict) or ideal.get("kind") not in IDEAL_KINDS or not ideal.get("label_ja") \
                or not ideal.get("label_en"):
            kinds = ", ".join(IDEAL_KINDS)
            problems.append(problem(None, f"{path}: ideals の {index} 番目に kind（{kinds}）、"
                                    "label_ja、label_en が必要です",
                                    f"{path}: ideal {index} needs a kind ({', '.join(IDEAL_KINDS)}), "
                                    "label_ja and label_en"))
    if problems:
        raise ImportError_(problems)
    return PlanMeta(code, str(data["plan"].get("slug", "")), str(data["edition"].get("id", "")), levels,
                    yaml=data)


def _turtle_metadata(path: Path) -> PlanMeta:
    graph = Graph()
    try:
        graph.parse(path, format="turtle")
    except Exception as error:  # rdflib raises several parser exception types
        raise ImportError_([problem(None, f"{path}: Turtle を読めません（{error}）",
                                    f"{path}: cannot parse the Turtle ({error})")]) from None
    editions = list(graph.subjects(RDF.type, PLAN.PlanEdition))
    if len(editions) != 1:
        raise ImportError_([problem(None, f"{path}: plan:PlanEdition をちょうど1つ記述してください",
                                    f"{path}: must describe exactly one plan:PlanEdition")])
    edition = str(editions[0])
    match = re.fullmatch(re.escape(ID) + r"(\d{6})/([^/]+)/([^/]+)", edition)
    if not match:
        raise ImportError_([problem(None, f"{path}: 版の IRI が {ID}コード/計画/版 の形ではありません",
                                    f"{path}: the edition IRI is not of the form {ID}code/plan/edition")])
    levels, problems = [], []
    for level in graph.objects(editions[0], PLAN.hasLevel):
        labels = {lit.language: str(lit) for lit in graph.objects(level, RDFS.label)
                  if isinstance(lit, Literal)}
        level_type = graph.value(level, PLAN.levelType)
        type_name = str(level_type).removeprefix(str(PLAN)) if level_type else ""
        depth = graph.value(level, PLAN.depth)
        if type_name not in LEVEL_SLUGS or "ja" not in labels or "en" not in labels or depth is None:
            problems.append(problem(None, f"{path}: 階層 <{level}> に rdfs:label（ja, en）、plan:depth、"
                                    "plan:levelType が必要です",
                                    f"{path}: level <{level}> needs rdfs:label (ja, en), plan:depth and "
                                    "plan:levelType"))
            continue
        levels.append(LevelMeta(labels["ja"], labels["en"], LEVEL_SLUGS[type_name], type_name, int(depth)))
    if problems:
        raise ImportError_(problems)
    return PlanMeta(match[1], match[2], match[3], sorted(levels, key=lambda lv: lv.depth), graph=graph)


# ---- Reading the CSV ----

@dataclass
class Row:
    number: int  # the line in the file; the header is line 1
    values: dict[str, str]
    level: LevelMeta | None = None
    parent: "Row | None" = None
    order: int = 0
    path: str = ""
    iri: str = ""

    def get(self, key: str) -> str:
        return self.values.get(key, "")


def decode(raw: bytes, name: str, encoding: str | None = None) -> str:
    """UTF-8 with or without Excel's BOM; Shift_JIS only when asked (--encoding cp932), never guessed."""
    if not raw.strip(b"\xef\xbb\xbf \r\n\t"):
        raise ImportError_([problem(None, f"{name}: ファイルが空です", f"{name}: the file is empty")])
    if encoding:
        try:
            return raw.decode(encoding).lstrip("\ufeff")
        except (UnicodeDecodeError, LookupError) as error:
            raise ImportError_([problem(None, f"{name}: {encoding} として読めません（{error}）",
                                        f"{name}: cannot be read as {encoding} ({error})")]) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        try:
            raw.decode("cp932")
            hint_ja = ("Shift_JIS（Excel の「CSV（コンマ区切り）」）で保存されているようです。"
                       "「CSV UTF-8」で保存し直すか、--encoding cp932 を付けてください")
            hint_en = ("it looks like Shift_JIS (Excel's plain 'CSV'); save it as 'CSV UTF-8' or pass "
                       "--encoding cp932")
        except UnicodeDecodeError:
            hint_ja, hint_en = "UTF-8 ではありません", "it is not UTF-8"
        raise ImportError_([problem(line, f"{name}: 文字コードが違います。{hint_ja}",
                                    f"{name}: wrong encoding: {hint_en}")]) from None


def column_for_header(cell: str) -> Column | None:
    wanted = cell.strip().lstrip("\ufeff").strip()
    return outline.column_for_header(cell) or next(
        (c for c in EXTRA_COLUMNS + (LINKS_COLUMN,) if wanted in (c.header, c.ja, c.en, c.key)), None)


def read_rows(text: str, name: str) -> list[Row]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        raise ImportError_([problem(1, f"{name}: 見出し行がありません", f"{name}: there is no header row")])
    problems, keys = [], []
    for position, cell in enumerate(header, start=1):
        column = column_for_header(cell)
        if column is None and cell.strip():
            problems.append(problem(1, f"{position}列目の見出し「{cell}」は知らない列です",
                                    f"column {position}: unknown header {cell!r}"))
        keys.append(column.key if column else "")
    for key in REQUIRED:
        if key not in keys:
            column = next(c for c in IMPORT_COLUMNS if c.key == key)
            problems.append(problem(1, f"必須の列「{column.header}」がありません",
                                    f"the required column {column.header!r} is missing"))
    if problems:
        raise ImportError_(problems)
    rows = []
    for number, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue  # blank lines that spreadsheets leave at the end
        if len(cells) > len(keys):
            problems.append(problem(number, f"セルが {len(cells)} 個あり、見出し（{len(keys)} 列）より多い",
                                    f"{len(cells)} cells, more than the {len(keys)} header columns"))
        values = {k: unicodedata.normalize("NFC", v).strip() for k, v in zip(keys, cells, strict=False)
                  if k and k != LINKS_COLUMN.key}
        rows.append(Row(number, values))
    if not rows and not problems:
        problems.append(problem(None, f"{name}: 要素の行が一つもありません", f"{name}: no element rows"))
    if problems:
        raise ImportError_(problems)
    return rows


def order_from_notation(notation: str) -> int | None:
    """「Ⅲ」 → 3, 「⑦」 → 7, 「(2)」 → 2, 「目標9」 → 9; None when the notation holds no number."""
    text = notation.strip()
    if text in ROMAN:
        return ROMAN[text]
    if len(text) == 1 and unicodedata.numeric(text, None) is not None:
        return int(unicodedata.numeric(text))
    digits = re.search(r"(\d+)\D*$", unicodedata.normalize("NFKC", text))
    return int(digits[1]) if digits else None


def _positive_int(row: Row, key: str, problems: list[str]) -> int | None:
    value = row.get(key)
    if not value:
        return None
    if not re.fullmatch(r"\d+", unicodedata.normalize("NFKC", value)) or int(value) < 1:
        problems.append(problem(row.number, f"{key} 「{value}」は正の整数ではありません",
                                f"{key} {value!r} is not a positive integer"))
        return None
    return int(unicodedata.normalize("NFKC", value))


def resolve(rows: list[Row], meta: PlanMeta) -> None:
    """Levels, parents, orders and IRIs for every row; raises with every problem found."""
    problems: list[str] = []
    by_iri: dict[str, Row] = {}
    for row in rows:
        if not row.get("title_ja"):
            problems.append(problem(row.number, "名称（日本語）が空です", "the Japanese title is empty"))
        if not row.get("notation"):
            problems.append(problem(row.number, "表記が空です", "the notation is empty"))
        if not row.get("level"):
            problems.append(problem(row.number, "階層が空です", "the level is empty"))
        elif meta.level_by_name(row.get("level")) is None:
            problems.append(problem(row.number,
                                    f"階層「{row.get('level')}」はメタデータの levels にありません",
                                    f"level {row.get('level')!r} is not among the metadata's levels"))
        else:
            row.level = meta.level_by_name(row.get("level"))
        for key in ("page", "depth", "order"):
            _positive_int(row, key, problems)
        if row.get("iri"):
            by_iri[row.get("iri")] = row
    # Parents: an IRI from the file, or a notation: the nearest row above at the level above (as in a
    # table of contents, where pillar ② under direction ① sits below pillar ①).
    rank = {level.name_ja: index for index, level in enumerate(meta.levels)}
    for index, row in enumerate(rows):
        reference = row.get("parent")
        if not reference:
            continue
        if reference.startswith(("http://", "https://")):
            row.parent = by_iri.get(reference)
        else:
            above = rank.get(row.get("level"), 0) - 1
            row.parent = next((r for r in reversed(rows[:index]) if r.get("notation") == reference
                               and rank.get(r.get("level")) == above), None)
        if row.parent is None:
            ja = f"上位「{reference}」が見つかりません（一つ上の階層の、上の行の表記か IRI を書く）"
            en = f"unknown parent {reference!r} (give a notation from the level above, or an IRI)"
            problems.append(problem(row.number, ja, en))
    if problems:
        raise ImportError_(problems)
    _check_depths(rows, meta, problems)
    _check_siblings(rows, problems)
    if problems:
        raise ImportError_(problems)
    _mint_iris(rows, meta, problems)
    if problems:
        raise ImportError_(problems)


def _depth_of(row: Row, seen: set[int] | None = None) -> int:
    seen = seen or set()
    if row.parent is None or row.number in seen:
        return 1
    seen.add(row.number)
    return _depth_of(row.parent, seen) + 1


def _check_depths(rows: list[Row], meta: PlanMeta, problems: list[str]) -> None:
    """A level sits at one depth; a child is one level below its parent; no cycles."""
    for row in rows:
        chain, node = set(), row
        while node is not None:
            if node.number in chain:
                problems.append(problem(row.number, "上位をたどると循環しています", "the parent chain loops"))
                break
            chain.add(node.number)
            node = node.parent
    if problems:
        return
    depth_of_level: dict[str, tuple[int, int]] = {}
    for row in rows:
        depth = _depth_of(row)
        level = row.level
        stated = row.get("depth")
        if stated and int(stated) != depth:
            problems.append(problem(row.number, f"階層の深さ {stated} は上位からの深さ {depth} と合いません",
                                    f"depth {stated} does not match the depth {depth} given by its parents"))
        if level.depth and level.depth != depth:
            ja = f"階層「{level.name_ja}」の深さは {level.depth} ですが、この行は {depth} です"
            en = f"level {level.name_ja!r} has depth {level.depth}, this row is at {depth}"
            problems.append(problem(row.number, ja, en))
        first = depth_of_level.setdefault(level.name_ja, (depth, row.number))
        if first[0] != depth:
            problems.append(problem(row.number,
                                    f"階層「{level.name_ja}」が {first[1]} 行目と異なる深さにあります",
                                    f"level {level.name_ja!r} is at another depth than on row {first[1]}"))
    for level in meta.levels:
        if not level.depth and level.name_ja in depth_of_level:
            level.depth = depth_of_level[level.name_ja][0]


def _check_siblings(rows: list[Row], problems: list[str]) -> None:
    """Orders and notations unique among siblings; the order comes from the column, else the notation."""
    seen_notation: dict[tuple, int] = {}
    seen_order: dict[tuple, int] = {}
    position: dict[int | None, int] = {}
    for row in rows:
        parent_key = row.parent.number if row.parent else None
        position[parent_key] = position.get(parent_key, 0) + 1
        stated = row.get("order")
        row.order = int(stated) if stated else (order_from_notation(row.get("notation"))
                                                or position[parent_key])
        notation_key = (parent_key, row.level.name_ja, row.get("notation"))
        order_key = (parent_key, row.level.name_ja, row.order)
        if notation_key in seen_notation:
            first = seen_notation[notation_key]
            ja = f"表記「{row.get('notation')}」が {first} 行目と重複しています（同じ上位の下）"
            en = f"duplicate notation {row.get('notation')!r} under the same parent as row {first}"
            problems.append(problem(row.number, ja, en))
        elif order_key in seen_order:
            first = seen_order[order_key]
            ja = f"順序 {row.order} が {first} 行目と重複しています（同じ上位の下）"
            en = f"duplicate order {row.order} under the same parent as row {first}"
            problems.append(problem(row.number, ja, en))
        seen_notation.setdefault(notation_key, row.number)
        seen_order.setdefault(order_key, row.number)


def _mint_iris(rows: list[Row], meta: PlanMeta, problems: list[str]) -> None:
    """policy/1, direction/7 when orders are unique in the level; pillar/7-2 (parent path-order) otherwise."""
    orders: dict[str, list[int]] = {}
    for row in rows:
        orders.setdefault(row.level.name_ja, []).append(row.order)
    unique = {name: len(set(values)) == len(values) for name, values in orders.items()}
    for row in rows:  # parents come first in the file only by convention; resolve paths recursively
        _path(row, unique)
    seen: dict[str, int] = {}
    for row in rows:
        row.iri = f"{meta.edition_iri}/{row.level.slug}/{row.path}"
        if row.iri in seen:
            problems.append(problem(row.number, f"IRI <{row.iri}> が {seen[row.iri]} 行目と重複します",
                                    f"the IRI <{row.iri}> is the same as row {seen[row.iri]}'s"))
        seen.setdefault(row.iri, row.number)
        given = row.get("iri")
        if given and given != row.iri:
            problems.append(problem(row.number,
                                    f"IRI 列の <{given}> が IRI の規則による <{row.iri}> と違います",
                                    f"the IRI column's <{given}> differs from the scheme's <{row.iri}>"))


def _path(row: Row, unique: dict[str, bool]) -> str:
    if not row.path:
        if unique[row.level.name_ja] or row.parent is None:
            row.path = str(row.order)
        else:
            row.path = f"{_path(row.parent, unique)}-{row.order}"
    return row.path


# ---- Building the Turtle ----

def _lit(text: str, lang: str) -> Literal:
    return Literal(text, lang=lang)


def build_graph(rows: list[Row], meta: PlanMeta, source_name: str, when: datetime) -> Graph:
    graph = Graph()
    for prefix, ns in (("dcterms", DCTERMS), ("plan", PLAN), ("prov", PROV), ("rdfs", RDFS), ("skos", SKOS),
                       ("xsd", XSD)):
        graph.bind(prefix, ns)
    edition = URIRef(meta.edition_iri)
    if meta.graph is not None:
        graph += meta.graph
    else:
        _metadata_triples(graph, meta, edition)
    activity = URIRef(meta.edition_iri + "/import")
    graph.add((edition, PROV.wasGeneratedBy, activity))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, RDFS.label, _lit("CSV の施策体系からの取り込み", "ja")))
    graph.add((activity, RDFS.label, _lit("Import from a CSV outline", "en")))
    graph.add((activity, RDFS.comment, _lit(f"planlod import が {source_name} から作成した。", "ja")))
    graph.add((activity, RDFS.comment, _lit(f"Made by planlod import from {source_name}.", "en")))
    graph.add((activity, PROV.wasAssociatedWith, PROJECT_AGENT))
    stamp = Literal(when.isoformat(timespec="seconds"), datatype=XSD.dateTime)
    graph.add((activity, PROV.endedAtTime, stamp))
    for level in meta.levels:
        iri = URIRef(f"{meta.edition_iri}/level/{level.depth}")
        if level.depth == 0 or (iri, RDF.type, PLAN.Level) in graph:
            continue
        graph.add((edition, PLAN.hasLevel, iri))
        graph.add((iri, RDF.type, PLAN.Level))
        graph.add((iri, RDFS.label, _lit(level.name_ja, "ja")))
        graph.add((iri, RDFS.label, _lit(level.name_en, "en")))
        graph.add((iri, PLAN.depth, Literal(level.depth)))
        graph.add((iri, PLAN.levelType, PLAN[level.level_type]))
        graph.add((iri, PLAN.levelOf, edition))
    for row in rows:
        node = URIRef(row.iri)
        graph.add((node, RDF.type, PLAN.PlanElement))
        graph.add((node, RDF.type, SKOS.Concept))
        graph.add((node, SKOS.prefLabel, _lit(row.get("title_ja"), "ja")))
        if row.get("title_en"):
            graph.add((node, SKOS.prefLabel, _lit(row.get("title_en"), "en")))
        graph.add((node, SKOS.notation, Literal(row.get("notation"))))
        graph.add((node, PLAN.order, Literal(row.order)))
        graph.add((node, PLAN.level, _level_iri(meta, row.level)))
        if row.get("description"):
            graph.add((node, DCTERMS.description, _lit(row.get("description"), "ja")))
        if row.get("description_en"):
            graph.add((node, DCTERMS.description, _lit(row.get("description_en"), "en")))
        if row.get("page"):
            graph.add((node, PLAN.page, Literal(int(row.get("page")))))
        graph.add((node, SKOS.inScheme, edition))
        if row.parent is None:
            graph.add((node, SKOS.topConceptOf, edition))
            graph.add((edition, SKOS.hasTopConcept, node))
        else:
            graph.add((node, SKOS.broader, URIRef(row.parent.iri)))
            graph.add((URIRef(row.parent.iri), SKOS.narrower, node))
    return graph


def _level_iri(meta: PlanMeta, level: LevelMeta) -> URIRef:
    return URIRef(f"{meta.edition_iri}/level/{level.depth}")


def _metadata_triples(graph: Graph, meta: PlanMeta, edition: URIRef) -> None:
    data = meta.yaml
    city = URIRef(ID + meta.code)
    plan = URIRef(f"{ID}{meta.code}/{meta.plan_slug}")
    m, p, e = data["municipality"], data["plan"], data["edition"]
    graph.add((city, RDF.type, PLAN.Municipality))
    for lang in ("ja", "en"):
        if m.get(f"name_{lang}"):
            graph.add((city, RDFS.label, _lit(m[f"name_{lang}"], lang)))
            graph.add((city, SKOS.prefLabel, _lit(m[f"name_{lang}"], lang)))
    graph.add((city, PLAN.localGovernmentCode, Literal(meta.code)))
    graph.add((city, PLAN.standardAreaCode, URIRef("http://data.e-stat.go.jp/lod/sac/C" + meta.code[:5])))
    graph.add((plan, RDF.type, PLAN.Plan))
    graph.add((plan, PLAN.municipality, city))
    graph.add((plan, PLAN.hasEdition, edition))
    graph.add((edition, RDF.type, PLAN.PlanEdition))
    graph.add((edition, RDF.type, SKOS.ConceptScheme))
    graph.add((edition, PLAN.editionOf, plan))
    for lang in ("ja", "en"):
        if p.get(f"title_{lang}"):
            graph.add((plan, RDFS.label, _lit(p[f"title_{lang}"], lang)))
            graph.add((plan, DCTERMS.title, _lit(p[f"title_{lang}"], lang)))
        if e.get(f"title_{lang}"):
            for prop in (RDFS.label, SKOS.prefLabel, DCTERMS.title):
                graph.add((edition, prop, _lit(e[f"title_{lang}"], lang)))
        if e.get(f"note_{lang}"):
            graph.add((edition, SKOS.editorialNote, _lit(e[f"note_{lang}"], lang)))
        if e.get(f"rights_{lang}"):
            graph.add((edition, DCTERMS.rights, _lit(e[f"rights_{lang}"], lang)))
    if e.get("number") is not None:
        graph.add((edition, PLAN.editionNumber, Literal(int(e["number"]))))
    if e.get("partial"):
        graph.add((edition, PLAN.isPartial, Literal(True)))
    # The publisher: an IRI or a path under id/ (described elsewhere in the dataset), else the city itself.
    publisher = str(e.get("publisher") or p.get("publisher") or meta.code)
    graph.add((edition, DCTERMS.publisher, URIRef(publisher if "://" in publisher else ID + publisher)))
    graph.add((plan, DCTERMS.publisher, URIRef(publisher if "://" in publisher else ID + publisher)))
    _ideal_triples(graph, meta, edition, data.get("ideals") or [])
    for source in e.get("sources", []) or []:
        graph.add((edition, DCTERMS.source, URIRef(source)))
    licence = e.get("license", "https://creativecommons.org/licenses/by/4.0/")
    graph.add((edition, DCTERMS.license, URIRef(licence)))
    graph.add((edition, DCTERMS.spatial, URIRef("http://data.e-stat.go.jp/lod/sac/C" + meta.code[:5])))
    period = e.get("period") or {}
    if period.get("start") and period.get("end"):
        node = URIRef(meta.edition_iri + "/period")
        graph.add((edition, DCTERMS.temporal, node))
        graph.add((node, RDF.type, DCTERMS.PeriodOfTime))
        graph.add((node, RDFS.label, _lit(f"計画期間（{period['start']}～{period['end']}年度）", "ja")))
        graph.add((node, RDFS.label, _lit(f"Plan period (FY{period['start']}-{period['end']})", "en")))
        graph.add((node, PLAN.fiscalYearStart, Literal(str(period["start"]), datatype=XSD.gYear)))
        graph.add((node, PLAN.fiscalYearEnd, Literal(str(period["end"]), datatype=XSD.gYear)))


IDEAL_KINDS = {"Vision": ("hasVision", "vision"), "Philosophy": ("hasPhilosophy", "philosophy"),
               "Keyword": ("hasKeyword", "keyword"), "Competency": ("hasCompetency", "competency"),
               "Viewpoint": ("hasViewpoint", "viewpoint")}


def _ideal_triples(graph: Graph, meta: PlanMeta, edition: URIRef, ideals: list) -> None:
    """The edition's vision, philosophy, keywords, competencies and viewpoints from the YAML `ideals` list.

    Kinds that occur once get {edition}/vision; kinds that repeat get {edition}/viewpoint/1, /2 … in order.
    """
    counts: dict[str, int] = {}
    for ideal in ideals:
        counts[ideal.get("kind", "")] = counts.get(ideal.get("kind", ""), 0) + 1
    seen: dict[str, int] = {}
    for ideal in ideals:
        kind = ideal.get("kind", "")
        link, slug = IDEAL_KINDS[kind]
        seen[kind] = seen.get(kind, 0) + 1
        node = URIRef(f"{meta.edition_iri}/{slug}" + (f"/{seen[kind]}" if counts[kind] > 1 else ""))
        graph.add((edition, PLAN[link], node))
        graph.add((node, RDF.type, PLAN[kind]))
        graph.add((node, RDF.type, SKOS.Concept))
        graph.add((node, SKOS.inScheme, edition))
        for lang in ("ja", "en"):
            for key, prop in (("label", SKOS.prefLabel), ("heading", PLAN.heading),
                              ("subtitle", PLAN.subtitle), ("description", DCTERMS.description)):
                if ideal.get(f"{key}_{lang}"):
                    graph.add((node, prop, _lit(str(ideal[f"{key}_{lang}"]), lang)))
        if ideal.get("notation"):
            graph.add((node, SKOS.notation, Literal(str(ideal["notation"]))))
        if counts[kind] > 1:
            graph.add((node, PLAN.order, Literal(seen[kind])))


def header_comment(meta: PlanMeta, source_name: str) -> str:
    title = ""
    if meta.yaml:
        title = meta.yaml["edition"].get("title_ja", "")
    return (f"# {title or meta.edition_iri} — imported by `planlod import` from {source_name}.\n"
            "# Licence: CC BY 4.0. Element text as in the CSV; check it against the source document.\n\n")


# ---- The whole import ----

def import_outline(csv_path: Path, meta_path: Path, out_path: Path | None = None, *,
                   data_dir: Path | None = None, encoding: str | None = None,
                   when: datetime | None = None) -> Path:
    """Check, build, validate, then write; returns the path written. Raises ImportError_ with all problems."""
    data_dir = data_dir or Path(DEFAULTS["DATA_DIR"])
    meta = read_metadata(meta_path)
    try:
        raw = csv_path.read_bytes()
    except OSError as error:
        raise ImportError_([problem(None, f"{csv_path}: 読めません（{error.strerror}）",
                                    f"{csv_path}: cannot read ({error.strerror})")]) from None
    rows = read_rows(decode(raw, csv_path.name, encoding), csv_path.name)
    resolve(rows, meta)
    out_path = out_path or data_dir / "plans" / f"{meta.code}-{meta.plan_slug}-{meta.edition}.ttl"
    sources = _dataset_sources(data_dir, meta.edition_iri, out_path)
    if out_path.exists():
        raise ImportError_([problem(None, f"{out_path} は既にあります（上書きしません）",
                                    f"{out_path} exists already (not overwritten)")])
    graph = build_graph(rows, meta, csv_path.name, when or datetime.now(UTC).replace(microsecond=0))
    text = header_comment(meta, csv_path.name) + graph.serialize(format="turtle")
    _gate(text, sources, meta.edition_iri)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(text, encoding="utf-8")
    return out_path


def _dataset_sources(data_dir: Path, edition: str, out_path: Path) -> list[Source]:
    """The dataset as the loader sees it, minus any file describing the same edition (it is replaced)."""
    try:
        sources = discover(Path(DEFAULTS["ONTOLOGY_DIR"]), Path(DEFAULTS["SHAPES_DIR"]), data_dir)
    except DatasetError as error:
        raise ImportError_([problem(None, f"データセットを読めません: {error}",
                                    f"cannot read the dataset: {error}")]) from None
    inside = out_path.resolve().is_relative_to(data_dir.resolve())
    clash = [s for s in sources if s.kind == "data" and s.graph == edition]
    if clash and inside:
        raise ImportError_([problem(None, f"版 <{edition}> は既に {clash[0].path} にあります",
                                    f"the edition <{edition}> is already described by {clash[0].path}")])
    return [s for s in sources if not (s.kind == "data" and s.graph == edition)]


def _gate(text: str, sources: list[Source], edition: str) -> None:
    """The SHACL gate on the dataset with the new file in it; only the new file's results count."""
    from ..validation import validate_sources
    with tempfile.TemporaryDirectory() as tmp:
        candidate = Path(tmp) / "import.ttl"
        candidate.write_text(text, encoding="utf-8")
        report = validate_sources(sources + [Source(candidate, "data", edition)])
        mine = [r for r in report.violations
                if r.source_file == candidate or r.focus_node.startswith(edition)]
    if mine:
        raise ImportError_([problem(None, f"SHACL: <{r.focus_node}> {r.message_ja}",
                                    f"SHACL: <{r.focus_node}> {r.message_en}") for r in mine])


# ---- Export ----

def export_rows(store, edition: str, with_links: bool = False) -> list[dict[str, str]]:
    """The published outline rows of an edition, with the descriptions the importer also reads, and
    (with_links) each element's links with their provenance, one per line, in a column of their own."""
    rows = outline.outline_rows(store.query, store.base, edition)
    if with_links:
        from .. import linking
        for row in rows:
            row[LINKS_COLUMN.key] = "\n".join(linking.link_summary(link)
                                              for link in linking.links_of(store, row["iri"]))
    extra = {c.key for c in EXTRA_COLUMNS}
    if extra:
        for row in rows:
            for quad in store.store.quads_for_pattern(_node(row["iri"]), _node(str(DCTERMS.description)),
                                                      None, None):
                key = "description" if quad.object.language == "ja" else "description_en"
                if key in extra:
                    row.setdefault(key, quad.object.value)
    return rows


def _node(iri: str):
    from pyoxigraph import NamedNode
    return NamedNode(iri)


def export_csv(rows: list[dict[str, str]], bom: bool = True) -> bytes:
    columns = IMPORT_COLUMNS + ((LINKS_COLUMN,) if any(LINKS_COLUMN.key in row for row in rows) else ())
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([row.get(c.key, "") for c in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


# ---- Command line ----

def run_import(args) -> int:
    try:
        written = import_outline(Path(args.outline), Path(args.plan_metadata),
                                 Path(args.out) if args.out else None,
                                 data_dir=Path(args.data_dir) if args.data_dir else None,
                                 encoding=args.encoding)
    except ImportError_ as error:
        for line in error.problems:
            print(line, file=sys.stderr)
        print(f"{len(error.problems)} 件の問題。何も書き込んでいません / {len(error.problems)} problem(s); "
              "nothing was written", file=sys.stderr)
        return 2
    print(f"written: {written}")
    return 0


def run_export(args) -> int:
    from ..graph.store import DatasetStore
    data_dir = Path(args.data_dir or DEFAULTS["DATA_DIR"])
    store = DatasetStore.load(Path(DEFAULTS["ONTOLOGY_DIR"]), Path(DEFAULTS["SHAPES_DIR"]), data_dir,
                              DEFAULTS["BASE_IRI"])
    edition = args.edition if "://" in args.edition else store.base + "id/" + args.edition.strip("/")
    try:
        rows = export_rows(store, edition, with_links=args.links)
    except ValueError as error:  # not an IRI (iris.iri_ref refuses it before any query runs)
        print(f"{edition}: IRI ではありません / not an IRI ({error})", file=sys.stderr)
        return 2
    if not rows:
        print(f"<{edition}>: 計画要素がありません / no plan elements in this edition", file=sys.stderr)
        return 2
    data = export_csv(rows, bom=not args.no_bom)
    if args.out:
        Path(args.out).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


def register(subparsers) -> None:
    i = subparsers.add_parser("import", help="a plan from a CSV outline and its metadata, as Turtle")
    i.add_argument("outline", help="the outline CSV (UTF-8, with or without BOM)")
    i.add_argument("--plan-metadata", required=True, help="the edition's metadata (.yaml or .ttl)")
    i.add_argument("--out", help="the Turtle file (default: data/plans/<code>-<plan>-<edition>.ttl)")
    i.add_argument("--encoding", help="the CSV's encoding when not UTF-8, e.g. cp932 (Shift_JIS)")
    i.add_argument("--data-dir", help="the dataset's data directory (default: the checkout's data/)")
    i.set_defaults(handler=run_import)
    e = subparsers.add_parser("export-outline", help="an edition's outline as the CSV `import` reads")
    e.add_argument("edition", help="edition IRI or path under id/, e.g. 072044/lifelong-learning-plan/5")
    e.add_argument("--out", help="the CSV file (default: standard output)")
    e.add_argument("--no-bom", action="store_true", help="leave out the byte order mark Excel needs")
    e.add_argument("--links", action="store_true",
                   help="add a last column: each element's links with provenance (import ignores it)")
    e.add_argument("--data-dir", help="the dataset's data directory (default: the checkout's data/)")
    e.set_defaults(handler=run_export)
