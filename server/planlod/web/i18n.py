"""Japanese first, English on request: the page language, text in both languages, and UI words.

The language comes from `?lang=ja|en` (which also sets a cookie so the choice sticks), then the
`lang` cookie, then Japanese. Plan text always comes from the data's @ja/@en literals; only the
page's own words (headings, button labels) and the names of outside vocabulary terms live here.
"""

from flask import request

LANGUAGES = ("ja", "en")
DEFAULT_LANG = "ja"
COOKIE = "lang"


def page_lang() -> str:
    for candidate in (request.args.get("lang"), request.cookies.get(COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANG


def other_lang(lang: str) -> str:
    return "en" if lang == "ja" else "ja"


class LangText:
    """The literals of one property by language tag; `get(lang)` falls back sensibly."""

    def __init__(self):
        self.values: dict[str, list[str]] = {}

    def add(self, term) -> None:
        if term is None:
            return
        language = getattr(term, "language", None) or ""
        bucket = self.values.setdefault(language, [])
        if term.value not in bucket:
            bucket.append(term.value)

    def __bool__(self) -> bool:
        return bool(self.values)

    def get(self, lang: str) -> str:
        """The value in `lang`, else Japanese, else untagged, else any; '' when there is none."""
        text, _ = self.get_with_lang(lang)
        return text

    def get_with_lang(self, lang: str) -> tuple[str, str]:
        """The value and the language tag it really has (for an honest `lang` attribute)."""
        for candidate in (lang, "ja", ""):
            if self.values.get(candidate):
                return self.values[candidate][0], candidate
        for candidate, texts in sorted(self.values.items()):
            if texts and not candidate.endswith("-Hrkt"):
                return texts[0], candidate
        return "", ""


# The page's own words. Keys are used in templates as t.key.
UI = {
    "site": {"ja": "自治体計画 LOD", "en": "Municipal plans as linked open data"},
    "home": {"ja": "ホーム", "en": "Home"},
    "query": {"ja": "SPARQL クエリ", "en": "SPARQL query"},
    "downloads": {"ja": "ダウンロード", "en": "Downloads"},
    "catalog": {"ja": "データカタログ (DCAT)", "en": "Data catalog (DCAT)"},
    "ontology": {"ja": "オントロジー", "en": "Ontology"},
    "shapes": {"ja": "SHACL シェイプ", "en": "SHACL shapes"},
    "void": {"ja": "VoID 記述", "en": "VoID description"},
    "switch": {"ja": "English", "en": "日本語"},
    "switch_label": {"ja": "Read this page in English", "en": "このページを日本語で表示"},
    "skip": {"ja": "本文へ移動", "en": "Skip to the content"},
    "nav_label": {"ja": "サイト", "en": "Site"},
    "breadcrumbs": {"ja": "階層", "en": "Breadcrumbs"},
    "type": {"ja": "種類", "en": "Type"},
    "level": {"ja": "階層", "en": "Level"},
    "notation": {"ja": "番号", "en": "Notation"},
    "page_ref": {"ja": "原典のページ", "en": "Page in the source"},
    "page_n": {"ja": "{n} ページ", "en": "p. {n}"},
    "children": {"ja": "下位の要素", "en": "Elements below"},
    "properties": {"ja": "このリソースについてのデータ", "en": "Data about this resource"},
    "property": {"ja": "プロパティ", "en": "Property"},
    "value": {"ja": "値", "en": "Value"},
    "incoming": {"ja": "このリソースを参照しているもの", "en": "What links here"},
    "incoming_other": {"ja": "他の計画からの参照", "en": "Links from other plans"},
    "incoming_truncated": {"ja": "最初の {n} 件のみ表示しています。", "en": "Only the first {n} are shown."},
    "links": {"ja": "リンク（確認中のデータであり、計画の内容ではありません）",
              "en": "Links (data to be reviewed, not the plan's content)"},
    "links_source": {"ja": "出所", "en": "Provenance"},
    "rdf": {"ja": "このリソースの RDF", "en": "This resource as RDF"},
    "open_query": {"ja": "クエリエディタで開く", "en": "Open in the query editor"},
    "describe_query": {"ja": "DESCRIBE クエリ", "en": "DESCRIBE query"},
    "select_query": {"ja": "このリソースのトリプルを SELECT", "en": "SELECT this resource's triples"},
    "iri": {"ja": "IRI", "en": "IRI"},
    "diagram": {"ja": "体系図", "en": "Structure diagram"},
    "diagram_svg": {"ja": "体系図を SVG でダウンロード", "en": "Download the diagram as SVG"},
    "diagram_note": {"ja": "体系図はデータから自動で描いています。各枠はその要素のページへのリンクです。",
                     "en": "The diagram is drawn from the data; each box links to that element's page."},
    "outline": {"ja": "施策体系（一覧）", "en": "The hierarchy as a list"},
    "editions": {"ja": "収録している計画", "en": "Plans in this dataset"},
    "vision": {"ja": "目指す姿", "en": "Vision"},
    "philosophy": {"ja": "基本理念", "en": "Basic philosophy"},
    "keyword": {"ja": "キーワード", "en": "Keyword"},
    "competency": {"ja": "育みたい力", "en": "Competencies"},
    "use_data": {"ja": "データを使う", "en": "Use the data"},
    "use_query": {"ja": "SPARQL でデータを検索する", "en": "Query the data with SPARQL"},
    "use_downloads": {"ja": "データ一式をダウンロードする（Turtle・JSON-LD・CSV ほか）",
                      "en": "Download the data (Turtle, JSON-LD, CSV and more)"},
    "use_catalog": {"ja": "データカタログ（DCAT）", "en": "The data catalog (DCAT)"},
    "use_ontology": {"ja": "語彙（オントロジー）の説明", "en": "The vocabulary (ontology) documentation"},
    "use_void": {"ja": "データセットの VoID 記述", "en": "The dataset's VoID description"},
    "iri_policy": {"ja": "IRI の方針", "en": "IRI policy"},
    "iri_policy_text": {
        "ja": "{base}id/… の IRI はこのサーバーの /id/… に当たり、303 See Other で文書 /doc/… へ転送します。"
              "ブラウザには HTML を、RDF クライアントには Accept ヘッダに応じて Turtle・JSON-LD・RDF/XML・"
              "N-Triples を返します。形式ごとの URL（/doc/….ttl など）もあります。",
        "en": "An IRI {base}id/… is served at /id/… on this server and answers 303 See Other to its "
              "document /doc/…: HTML for browsers, Turtle, JSON-LD, RDF/XML or N-Triples for RDF clients "
              "by the Accept header. Each format also has its own URL (/doc/….ttl and so on)."},
    "not_found": {"ja": "見つかりません", "en": "Not found"},
    "external": {"ja": "外部のページ", "en": "External page"},
    "more_editions": {"ja": "ほか {n} 件の計画はデータカタログとクエリで一覧できます。",
                      "en": "{n} more plans are listed in the catalog and by query."},
}


def ui(lang: str) -> dict[str, str]:
    return {key: texts[lang] for key, texts in UI.items()}


# Names of outside vocabulary terms that the pages show; the plan: terms carry their own labels
# in the ontology graph (read from the store).
TERM_LABELS = {
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#type": ("種類", "type"),
    "http://www.w3.org/2000/01/rdf-schema#label": ("ラベル", "label"),
    "http://www.w3.org/2000/01/rdf-schema#comment": ("注記", "comment"),
    "http://www.w3.org/2004/02/skos/core#prefLabel": ("名称", "preferred label"),
    "http://www.w3.org/2004/02/skos/core#notation": ("番号", "notation"),
    "http://www.w3.org/2004/02/skos/core#broader": ("上位", "broader"),
    "http://www.w3.org/2004/02/skos/core#narrower": ("下位", "narrower"),
    "http://www.w3.org/2004/02/skos/core#inScheme": ("所属する体系", "in scheme"),
    "http://www.w3.org/2004/02/skos/core#topConceptOf": ("最上位の体系", "top concept of"),
    "http://www.w3.org/2004/02/skos/core#hasTopConcept": ("最上位の要素", "has top concept"),
    "http://www.w3.org/2004/02/skos/core#editorialNote": ("編集注記", "editorial note"),
    "http://www.w3.org/2004/02/skos/core#definition": ("定義", "definition"),
    "http://www.w3.org/2004/02/skos/core#Concept": ("概念", "Concept"),
    "http://www.w3.org/2004/02/skos/core#ConceptScheme": ("概念体系", "Concept scheme"),
    "http://purl.org/dc/terms/title": ("タイトル", "title"),
    "http://purl.org/dc/terms/description": ("説明", "description"),
    "http://purl.org/dc/terms/publisher": ("発行者", "publisher"),
    "http://purl.org/dc/terms/license": ("ライセンス", "license"),
    "http://purl.org/dc/terms/rights": ("権利", "rights"),
    "http://purl.org/dc/terms/spatial": ("対象地域", "spatial coverage"),
    "http://purl.org/dc/terms/temporal": ("対象期間", "temporal coverage"),
    "http://purl.org/dc/terms/issued": ("制定日", "issued"),
    "http://purl.org/dc/terms/PeriodOfTime": ("期間", "Period of time"),
    "http://purl.org/dc/terms/relation": ("関連", "relation"),
    "http://purl.org/dc/terms/source": ("出典", "source"),
    "http://xmlns.com/foaf/0.1/homepage": ("ホームページ", "homepage"),
    "http://xmlns.com/foaf/0.1/name": ("名前", "name"),
    "http://xmlns.com/foaf/0.1/Organization": ("組織", "Organization"),
    "http://www.w3.org/ns/org#hasSubOrganization": ("下部組織", "has sub-organization"),
    "http://www.w3.org/ns/org#subOrganizationOf": ("上部組織", "sub-organization of"),
    "http://www.w3.org/ns/org#FormalOrganization": ("公式な組織", "Formal organization"),
    "http://www.w3.org/ns/prov#wasGeneratedBy": ("生成した活動", "was generated by"),
    "http://www.w3.org/ns/prov#wasAssociatedWith": ("関与した主体", "was associated with"),
    "http://www.w3.org/ns/prov#endedAtTime": ("終了日時", "ended at"),
    "http://www.w3.org/ns/prov#Activity": ("活動", "Activity"),
    "http://www.w3.org/ns/prov#Agent": ("主体", "Agent"),
    "http://rdfs.org/ns/void#Dataset": ("データセット", "Dataset"),
    "http://rdfs.org/ns/void#Linkset": ("リンクセット", "Linkset"),
}
