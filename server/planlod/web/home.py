"""The home page `/`: what the dataset is, each plan edition's ideals and 体系図, and where to go next.

Everything shown comes from the store (the dataset's own description, each edition's vision,
philosophy and hierarchy); only the page's headings are fixed text (i18n.UI). With many editions
loaded the first MAX_DIAGRAMS get their ideals and diagram here, and every edition is listed up to
MAX_LISTED (the catalog and the query page list all of them).
"""

from flask import Blueprint, Response, render_template, request

from . import pages
from .diagram import diagram_svg, inline_svg
from .i18n import COOKIE, LangText, other_lang, page_lang, ui
from .outline import editions, load_outline
from .page_cache import cached
from .store_access import get_store

bp = Blueprint("home", __name__)

MAX_DIAGRAMS = 3
MAX_LISTED = 200
DCTERMS = "http://purl.org/dc/terms/"


def dataset_text(lang: str) -> dict[str, tuple[str, str]]:
    """The dataset's title and description from data/dataset.ttl ({base}id/dataset)."""
    store = get_store()
    from pyoxigraph import NamedNode

    dataset = NamedNode(store.base + "id/dataset")
    found = {}
    for name in ("title", "description", "rights"):
        text = LangText()
        for quad in store.store.quads_for_pattern(dataset, NamedNode(DCTERMS + name), None, None):
            text.add(quad.object)
        found[name] = text.get_with_lang(lang)
    return found


def edition_summary(edition: str, title: LangText, lang: str, index: int, with_diagram: bool) -> dict:
    outline = load_outline(get_store(), edition)
    summary = {"iri": edition, "href": pages.local_url(edition, lang),
               "title": title.get_with_lang(lang), "ideals": [], "diagram": None, "outline": outline}
    if outline is None:
        return summary
    # Ideals under one printed heading (the three powers) are one group: the heading is shown once.
    for node in outline.ideals:
        heading = node.heading.get_with_lang(lang)
        item = {"href": pages.local_url(node.iri, lang), "label": node.label.get_with_lang(lang),
                "description": node.description.get_with_lang(lang)}
        groups = summary["ideals"]
        if groups and groups[-1]["kind"] == node.kind and groups[-1]["heading"] == heading:
            groups[-1]["items"].append(item)
        else:
            groups.append({"kind": node.kind, "heading": heading, "items": [item]})
    if with_diagram:
        svg = diagram_svg(edition, lang, pages.local_url)
        if svg:
            path = edition[len(get_store().base) + 3:]
            summary["diagram"] = {"svg": inline_svg(svg, ui(lang)["diagram"], f"d{index}"),
                                  "href": f"/diagram/{path}.svg" + ("?lang=en" if lang == "en" else "")}
    return summary


def render_home(lang: str) -> str:
    found = editions(get_store())
    summaries = [edition_summary(iri, title, lang, i, with_diagram=i < MAX_DIAGRAMS)
                 for i, (iri, title) in enumerate(found[:MAX_DIAGRAMS])]
    listed = [{"href": pages.local_url(iri, lang), "title": title.get_with_lang(lang)}
              for iri, title in found[:MAX_LISTED]]
    html = render_template(
        "home.html", lang=lang, t=ui(lang), switch_href=f"/?lang={other_lang(lang)}",
        dataset=dataset_text(lang), summaries=summaries, listed=listed,
        more=max(0, len(found) - MAX_LISTED), base=get_store().base)
    return html


@bp.get("/")
def home():
    lang = page_lang()
    current = pages.version()
    etag = f"{current.tag}-home-{lang}"
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        html = cached(("home", current.tag, lang), lambda: render_home(lang).encode("utf-8"))
        response = Response(html, mimetype="text/html")
    response.set_etag(etag)
    response.last_modified = current.modified
    response.headers["Vary"] = "Cookie"
    if request.args.get("lang") == lang:
        response.set_cookie(COOKIE, lang, max_age=pages.COOKIE_MAX_AGE, samesite="Lax")
    return response.make_conditional(request) if response.status_code == 200 else response
