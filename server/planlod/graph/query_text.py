"""What a SPARQL request asks for, read from its text before anything runs.

The endpoint needs four facts ahead of execution: the query form (to negotiate the result format and
answer 406 before doing work), whether it is an update (refused: the endpoint is read-only), whether it
names its own dataset (FROM / FROM NAMED: pyoxigraph's union-default-graph option would override it),
and every SERVICE endpoint (pyoxigraph's wheel carries an HTTP client and would call it).

A tokenizer, not a parser: comments, strings and IRIs are consumed whole so a keyword inside them is
never mistaken for one. Anything it cannot make sense of is left to pyoxigraph's parser, which reports
syntax errors with line and column.
"""

import functools
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin

QUERY_FORMS = ("SELECT", "CONSTRUCT", "DESCRIBE", "ASK")
UPDATE_KEYWORDS = ("INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH")

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
    | (?P<comment>\#[^\n\r]*)
    | (?P<iri><(?:[^<>"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>)
    | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
               | '''(?:[^'\\]|\\.|'(?!''))*'''
               | "(?:[^"\\\n\r]|\\.)*"
               | '(?:[^'\\\n\r]|\\.)*')
    | (?P<var>[?$]\w+)
    | (?P<bnode>_:[\w\-.]*)
    | (?P<pname>(?:[^\W\d_][\w\-.]*)?:(?:[\w\-.:%\\])*)
    | (?P<name>[^\W\d]\w*)
    | (?P<number>\d+)
    | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass
class QueryText:
    form: str | None = None  # SELECT, CONSTRUCT, DESCRIBE, ASK; "UPDATE"; None when unrecognised
    has_dataset_clause: bool = False
    # Each SERVICE target as an absolute IRI, or None when it is a variable (never allowed).
    service_targets: list[str | None] = field(default_factory=list)
    limit: int | None = None  # the outermost LIMIT (outside every brace), when there is one
    nesting: int = 0  # the deepest nesting of (), {} and [] together

    @property
    def is_update(self) -> bool:
        return self.form == "UPDATE"


def tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text) pairs without whitespace and comments; an unterminated string ends the scan."""
    found = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind in ("space", "comment"):
            continue
        value = match.group()
        if kind == "pname" and value.endswith("."):
            # A local name never ends with '.': that dot ends the triple.
            found.append((kind, value.rstrip(".")))
            found.append(("other", "."))
            continue
        found.append((kind, value))
    return found


@functools.lru_cache(maxsize=1024)
def analyse(text: str) -> QueryText:
    """The facts above for `text`; cached, as endpoints see the same queries again and again (callers
    must not modify the result)."""
    toks = tokens(text)
    result = QueryText()
    prefixes: dict[str, str] = {}
    base: str | None = None
    i = 0
    # The prologue: BASE and PREFIX declarations, in any order.
    while i < len(toks):
        kind, value = toks[i]
        upper = value.upper() if kind == "name" else ""
        if upper == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            base = _resolve(toks[i + 1][1][1:-1], base)
            i += 2
        elif upper == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname":
            if toks[i + 2][0] == "iri":
                prefixes[toks[i + 1][1].rstrip(":")] = _resolve(toks[i + 2][1][1:-1], base)
            i += 3
        else:
            break
    if i < len(toks) and toks[i][0] == "name":
        first = toks[i][1].upper()
        if first in QUERY_FORMS:
            result.form = first
        elif first in UPDATE_KEYWORDS:
            result.form = "UPDATE"
    depth = 0
    nesting = 0
    for j in range(i, len(toks)):
        kind, value = toks[j]
        if kind == "other" and value in "{}()[]":
            if value in "{}":
                depth += 1 if value == "{" else -1
            nesting += 1 if value in "{([" else -1
            result.nesting = max(result.nesting, nesting)
            continue
        if kind != "name":
            continue
        upper = value.upper()
        if upper == "LIMIT" and depth == 0 and j + 1 < len(toks) and toks[j + 1][1].isdigit():
            result.limit = int(toks[j + 1][1])
        elif upper == "FROM":
            result.has_dataset_clause = True
        elif upper in UPDATE_KEYWORDS[:3] and result.form is None:
            result.form = "UPDATE"
        elif upper == "SERVICE":
            k = j + 1
            if k < len(toks) and toks[k][0] == "name" and toks[k][1].upper() == "SILENT":
                k += 1
            result.service_targets.append(_target(toks[k] if k < len(toks) else None, prefixes, base))
    return result


def _target(token: tuple[str, str] | None, prefixes: dict[str, str], base: str | None) -> str | None:
    if token is None:
        return None
    kind, value = token
    if kind == "iri":
        return _resolve(value[1:-1], base)
    if kind == "pname":
        prefix, _, local = value.partition(":")
        if prefix in prefixes:
            return prefixes[prefix] + re.sub(r"\\(.)", r"\1", local)
    return None


def _resolve(iri: str, base: str | None) -> str:
    iri = _IRI_ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), iri)
    return urljoin(base, iri) if base else iri


# \uXXXX and \UXXXXXXXX are allowed inside IRIREFs and mean the code point (SPARQL 1.1 §19.2).
_IRI_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
