"""The 体系図 (structure diagram) of a plan edition, drawn from the store with Graphviz.

Left to right: the edition's ideals (philosophy, keyword, vision, competencies …) in the first
column, then one column per plan:Level (sorted by plan:depth), each element joined to its skos:broader parent
(the top level to the vision). Nothing assumes the Iwaki plan's
three levels: an edition with two levels or five gets two or five columns. Every box links to its
page. Graphviz does not wrap text, so titles are broken into lines here (`wrap`), with the
Japanese line-breaking rules (kinsoku) that matter for plan titles.

The SVG is rendered with Debian's `dot` and the IPA Gothic font (fonts-ipafont-gothic), and
cached per dataset version, edition, language and host: the data only changes when the
server restarts on new files, and a different dataset version gives a new cache key.

    GET /diagram/<edition path>.svg[?lang=en]    the SVG, e.g. /diagram/072044/lifelong-learning-plan/5.svg
"""

import functools
import html
import re
import threading
import unicodedata

import graphviz
from flask import Blueprint, Response, current_app, request
from pyoxigraph import NamedNode

from .describe import current_version
from .errors import abort_with
from .i18n import LANGUAGES, LangText
from .outline import Node, Outline, load_outline
from .store_access import get_store

bp = Blueprint("diagram", __name__)

RDFS_LABEL = NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
FONT = "IPAGothic"  # fontconfig's family name for fonts-ipafont-gothic
# What a viewer without IPA Gothic should fall back to (the layout was measured with IPA Gothic).
FONT_STACK = "IPAGothic,'IPAPGothic','Noto Sans CJK JP','Hiragino Sans',Meiryo,sans-serif"
CACHE_KEY = "planlod.diagram.cache"
LINE_WIDTH = {0: 30, 1: 16, 2: 30, 3: 34}  # in half-width units, by column; deeper columns use the last
DEFAULT_LINE_WIDTH = 34

# A line may not start with these (行頭禁則) ...
NO_LINE_START = set("、。，．・：；？！ー」』）〕］｝〉》】〟’”"
                    "ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ々")
# ... nor end with these (行末禁則).
NO_LINE_END = set("「『（〔［｛〈《【〝‘“")
# Good places to break: after these.
BREAK_AFTER = set("、，・」』）")

IDEAL_ORDER = ("Philosophy", "Vision", "Keyword", "Competency", "Viewpoint")  # top to bottom
COLORS = {
    "ideal": ("#fff7e0", "#a06a00"),
    "Vision": ("#ffe9b3", "#a06a00"),
    0: ("#e3effc", "#1f5c99"),
    1: ("#e8f5e9", "#2e7d32"),
    2: ("#ffffff", "#555555"),
}


def text_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WFA" else 1 for ch in text)


def wrap(text: str, width: int) -> list[str]:
    """Break `text` into lines of at most `width` half-width units, as evenly as possible.

    Japanese breaks between any two characters except where kinsoku forbids (no 、」 at a line's
    start, no 「 at its end) and prefers to break after 、・」 or at a printed space; Latin text
    breaks at spaces only. The fewest lines that fit are chosen, then the breaks that make them
    most even (a small dynamic programme over the break points: minimum squared raggedness).
    """
    text = " ".join(text.split())
    if text_width(text) <= width:
        return [text] if text else []
    tokens = re.findall(r"[A-Za-z0-9'’\-.,:;!?()“”\"]+ ?| |.", text)
    limit = max(width, *(text_width(t.strip()) for t in tokens))
    allowed = [i for i in range(1, len(tokens)) if not _bad_break("".join(tokens[:i]), tokens[i])]
    for lines in range(-(-text_width(text) // limit), len(tokens) + 1):
        layout = _even_layout(tokens, allowed, lines, limit)
        if layout is not None:
            return layout
    return [text]


def _even_layout(tokens: list[str], allowed: list[int], lines: int, limit: int) -> list[str] | None:
    """`tokens` in exactly `lines` lines no wider than `limit`, most even first; None if impossible."""
    stops = [0, *allowed, len(tokens)]
    target = text_width("".join(tokens).strip()) / lines
    best: dict[tuple[int, int], tuple[float, int]] = {(0, 0): (0.0, -1)}  # (stop, lines) -> (cost, prev)
    for k in range(1, lines + 1):
        for j_index, j in enumerate(stops[1:], start=1):
            for i_index in range(j_index):
                if (i_index, k - 1) not in best:
                    continue
                raw = "".join(tokens[stops[i_index]:j])
                line = raw.strip()
                w = text_width(line)
                if w > limit or not line:
                    continue
                cost = best[(i_index, k - 1)][0] + (target - w) ** 2
                if j < len(tokens) and (line[-1] in BREAK_AFTER or raw[-1] == " "):
                    cost -= 2 * target  # a break after 、・」 reads better than an even one mid-phrase
                elif j < len(tokens) and _is_hiragana(line[-1]) and not _is_hiragana(tokens[j][0]):
                    cost -= target  # kana then kanji: most often a phrase (文節) boundary, e.g. 場の|整備
                elif j < len(tokens) and _is_katakana(line[-1]) and _is_katakana(tokens[j][0]):
                    cost += 2 * target  # never split a katakana word (サポー|ト) if anything else fits
                if (j_index, k) not in best or cost < best[(j_index, k)][0]:
                    best[(j_index, k)] = (cost, i_index)
    end = (len(stops) - 1, lines)
    if end not in best:
        return None
    result = []
    j_index, k = end
    while k > 0:
        i_index = best[(j_index, k)][1]
        result.append("".join(tokens[stops[i_index]:stops[j_index]]).strip())
        j_index, k = i_index, k - 1
    return result[::-1]


def _is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u309f"


def _is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fc"


def _bad_break(line: str, next_token: str) -> bool:
    return next_token[0] in NO_LINE_START or line[-1] in NO_LINE_END


def _html_lines(lines: list[str], bold_first: str = "") -> str:
    body = "<BR/>".join(html.escape(line) for line in lines)
    if bold_first:
        body = f"<B>{html.escape(bold_first)}</B> " + body
    return "<" + body + ">"


class DiagramBuilder:
    """Turns an Outline into a Graphviz digraph; `href(iri)` gives each box's link.

    The ideals are one table-shaped node (one linked cell each), so their order is exactly the
    data's; elements are boxes, one rank per depth. With rankdir=LR dot stacks a rank's nodes
    in edge order (ordering=out), so edges are emitted in plan:order to read top-down.
    """

    IDEALS = "ideals"

    def __init__(self, outline: Outline, lang: str, href, term_label):
        self.outline = outline
        self.lang = lang
        self.href = href
        self.term_label = term_label  # (class local name) -> LangText from the ontology

    def build(self) -> graphviz.Digraph:
        title = self.outline.label.get(self.lang)
        dot = graphviz.Digraph("plan", graph_attr={
            "rankdir": "LR", "ordering": "out", "nodesep": "0.12", "ranksep": "0.45",
            "fontname": FONT, "fontsize": "12", "tooltip": title, "bgcolor": "transparent",
            "newrank": "true",
        }, node_attr={
            "shape": "box", "style": "rounded,filled", "fontname": FONT, "fontsize": "11",
            "margin": "0.12,0.06", "penwidth": "1.2", "target": "_top",
        }, edge_attr={"color": "#7a7a7a", "arrowsize": "0.6"})
        root = self._ideals(dot) or self._edition_box(dot)
        for depth, row in enumerate(self.outline.elements_at_depth()):
            self._column(dot, depth, row)
        self._headers(dot, root)
        if root:
            for node in self.outline.roots:
                dot.edge(root, self._id(node.iri))
        for node in self.outline.nodes.values():
            for child in node.children:
                dot.edge(self._id(node.iri), self._id(child.iri))
        return dot

    def _edition_box(self, dot: graphviz.Digraph) -> str | None:
        """Without a vision the top level hangs from the edition's own title (and keeps its order)."""
        if not self.outline.roots:
            return None
        title = self.outline.label.get(self.lang) or self.outline.edition
        node_id = self._id(self.outline.edition)
        fill, line = COLORS["Vision"]
        dot.node(node_id, _html_lines(wrap(title, LINE_WIDTH[0])), href=self.href(self.outline.edition),
                 tooltip=title, fillcolor=fill, color=line, id=node_id)
        return node_id

    def _id(self, iri: str) -> str:
        return "n_" + (re.sub(r"[^A-Za-z0-9]+", "_", iri[len(self.outline.edition):]).strip("_") or "edition")

    def _node(self, graph, node: Node, fill_key, width: int) -> None:
        label, _ = node.label.get_with_lang(self.lang)
        lines = self._lines(node, width)
        fill, line = COLORS.get(fill_key, COLORS[2])
        graph.node(self._id(node.iri), _html_lines(lines, node.notation), href=self.href(node.iri),
                   tooltip=label, fillcolor=fill, color=line, id=self._id(node.iri))

    def _lines(self, node: Node, width: int) -> list[str]:
        label, _ = node.label.get_with_lang(self.lang)
        lines = wrap(f"{node.notation} {label}" if node.notation else label, width)
        if node.notation and lines and lines[0].startswith(node.notation):
            lines[0] = lines[0][len(node.notation):].lstrip()  # drawn in bold by _html_lines
        return lines

    def _cell(self, node: Node, caption: str, kind: str) -> str:
        fill, line = COLORS["Vision" if kind == "Vision" else "ideal"]
        label, _ = node.label.get_with_lang(self.lang)
        lines = ([f"【{caption}】"] if caption else []) + self._lines(node, LINE_WIDTH[0])
        body = "<BR/>".join(html.escape(x) for x in lines)
        if kind == "Vision":
            body = f"<B>{body}</B>"
        return (f'<TD HREF="{html.escape(self.href(node.iri))}" TARGET="_top" TOOLTIP="{html.escape(label)}" '
                f'ID="{self._id(node.iri)}" PORT="{self._id(node.iri)}" BGCOLOR="{fill}" COLOR="{line}" '
                f'STYLE="rounded" BORDER="1" CELLPADDING="5">{body}</TD>')

    def _ideals(self, dot: graphviz.Digraph) -> str | None:
        """The first column: the ideals, top-down in IDEAL_ORDER; returns what the top level hangs from."""
        if not self.outline.ideals:
            return None
        rows = []
        for kind in IDEAL_ORDER:
            members = self.outline.ideals_of(kind)
            if not members:
                continue
            headings = {m.heading.get(self.lang) for m in members}
            shared = headings.pop() if len(headings) == 1 else ""
            title = shared or self.term_label(kind).get(self.lang)
            if len(members) == 1:
                rows.append(f"<TR><TD>{self._table([self._cell(members[0], title, kind)])}</TD></TR>")
            else:
                caption = "<BR/>".join(html.escape(x) for x in wrap(title, LINE_WIDTH[0]))
                cells = [self._cell(m, "", kind) for m in members]
                rows.append(f'<TR><TD>{self._table(cells, caption)}</TD></TR>')
        label = '<<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="0">' + "".join(rows) + "</TABLE>>"
        dot.node(self.IDEALS, label, shape="plaintext", style="", margin="0", id="ideals")
        vision = self.outline.ideals_of("Vision")
        return f"{self.IDEALS}:{self._id(vision[0].iri)}:e" if vision else None

    @staticmethod
    def _table(cells: list[str], caption: str = "") -> str:
        head = (f'<TR><TD COLSPAN="{len(cells)}" BORDER="0">{caption}</TD></TR>' if caption else "")
        frame = ' BORDER="1" STYLE="rounded,dashed" COLOR="#a06a00"' if caption else ' BORDER="0"'
        return (f'<TABLE{frame} CELLSPACING="4" CELLPADDING="2">{head}<TR>{"".join(cells)}</TR></TABLE>')

    def _column(self, dot: graphviz.Digraph, depth: int, row: list[Node]) -> None:
        """One rank per depth; no cluster box, so dot can centre each parent on its children."""
        width = LINE_WIDTH.get(depth + 1, DEFAULT_LINE_WIDTH)
        for node in row:
            self._node(dot, node, min(depth, 2), width)

    def _headers(self, dot: graphviz.Digraph, root: str | None) -> None:
        """The level names (基本方針, 施策の方向性 …) above their columns, each in its column's rank."""
        rows = self.outline.elements_at_depth()
        entries = []
        if root:
            entries.append(("h_0", "", root.split(":", 1)[0]))
        for depth, row in enumerate(rows, start=1):
            found = {self.outline.level_label(n.level).get(self.lang) for n in row if n.level}
            entries.append((f"h_{depth}", "・".join(sorted(filter(None, found))), self._id(row[0].iri)))
        previous = None
        for header_id, name, member in entries:
            dot.node(header_id, _html_lines([name]) if name else " ", shape="plaintext", style="",
                     fontsize="13", fontcolor="#333333")
            with dot.subgraph() as same:
                same.attr(rank="same")
                same.node(header_id)
                same.node(member)
            if previous:
                dot.edge(previous, header_id, style="invis")
            previous = header_id


def render_svg(outline: Outline, lang: str, href, term_label) -> str:
    dot = DiagramBuilder(outline, lang, href, term_label).build()
    svg = dot.pipe(format="svg", encoding="utf-8")
    svg = svg.replace(f'font-family="{FONT}"', f'font-family="{FONT_STACK}"')
    return svg


@functools.lru_cache(maxsize=64)  # the same cached SVG string comes back for every page of a version
def inline_svg(svg: str, label: str, id_prefix: str = "d") -> str:
    """The SVG for embedding in a page: no XML prolog, named for assistive technology, its element ids
    prefixed so that two diagrams on one page (the home page with several plans) keep ids unique."""
    start = svg.find("<svg")
    body = re.sub(r'\bid="', f'id="{id_prefix}-', svg[start:])
    # Graphviz puts each node's name in a <title>; the page's headings name the diagram.
    return body.replace("<svg ", f'<svg role="group" aria-label="{html.escape(label)}" class="diagram" ', 1)


def class_labeller(store):
    """(local name of a plan: class) -> its rdfs:label from the ontology graph."""
    ns = store.base + "ontology#"
    cache: dict[str, LangText] = {}

    def term_label(local_name: str) -> LangText:
        if local_name not in cache:
            text = LangText()
            for quad in store.store.quads_for_pattern(NamedNode(ns + local_name), RDFS_LABEL, None, None):
                text.add(quad.object)
            cache[local_name] = text
        return cache[local_name]

    return term_label


_lock = threading.Lock()


def diagram_svg(edition: str, lang: str, href_for) -> str | None:
    """The edition's diagram, from the cache when this dataset version drew it already."""
    store = get_store()
    version = current_version()
    # The page embeds links relative to the site, the downloadable file absolute ones: two entries.
    key = (version.tag, edition, lang, request.host_url, href_for.__name__)
    cache = current_app.extensions.setdefault(CACHE_KEY, {})
    if key in cache:
        return cache[key]
    outline = load_outline(store, edition)
    if outline is None or not (outline.roots or outline.ideals):
        return None
    svg = render_svg(outline, lang, lambda iri: href_for(iri, lang), class_labeller(store))
    with _lock:
        cache[key] = svg
    return svg


@bp.get("/diagram/<path:edition_path>.svg")
def diagram_file(edition_path: str):
    from .pages import absolute_page_url, iri_for_id_path

    lang = request.args.get("lang", "ja")
    if lang not in LANGUAGES:
        abort_with(400, f"lang must be one of {', '.join(LANGUAGES)}")
    edition = iri_for_id_path(edition_path)
    svg = diagram_svg(edition, lang, absolute_page_url)
    if svg is None:
        abort_with(404, f"No plan edition <{edition}> in the dataset.")
    version = current_version()
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Disposition"] = (
        f'inline; filename="{edition_path.replace("/", "-")}-{lang}.svg"')
    response.set_etag(f"{version.tag}-diagram-{lang}")
    response.last_modified = version.modified
    return response.make_conditional(request)
