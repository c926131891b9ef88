"""Statement rows a figure question names: "X in period P" looked up by row label, and the unit a row's figure is in.

Retrieval ranks passages by their whole text, so a segment table whose column headers repeat "Net Sales 2018" in
every row outranks the income statement, whose one "Net sales" row is the answer. Here the table passages are
ranked by how well one row's *label* says what the question asks (the column headers and the table's title count
for half), with the primary statements (income statement, balance sheet, cash flows; 综合损益表, 资产负债表 ...)
first among equals, since a figure repeated in a note or a summary is taken from them. Nothing here knows a
company: the rules are those of any annual report, in English or Chinese.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from assistant.question import Asked, periods_in
from assistant.rows import parse_rows
from assistant.text import Lexicon, normalize

# A table passage has a `rows` count in its metadata (assistant/chunking.py); prose passages have none.
TABLE_FILTER: dict = {"rows": {"$gte": 1}}
TABLE_BREADTH = 4  # table passages read per retrieval candidate: rows are ranked by label, not by similarity
MIN_MATCH = 0.34  # a row must say at least a third of what the question asks to be ranked at all
MARGIN = 0.08  # rows this close to the best one are as good a match (less: a different or a repeated row)
# The row ranking's weight in the fusion: above dense and BM25 together, so the statement row a figure question
# names is passage [1] ("statement rows are the first thing a question about a figure should hit").
ROWS_WEIGHT = 3.0
ROWS_KEEP = 3  # at most this many table passages from the row ranking: the rest of the top k stays prose
ANSWER_WEIGHT = 0.3  # the row match's share in the answerer's score of a statement row
_PRIMARY = re.compile(
    r"(?i)\bconsolidated (?:statements?|balance sheets?)\b|\bbalance sheets?\b|\bincome statements?\b"
    r"|\bstatements? of (?:income|operations|earnings|financial (?:position|condition)|cash flows?|comprehensive income)\b"
    r"|(?:损益|利润|收益|全面收益|资产负债|資產負債|财务状况|財務狀況|现金流量|現金流量)表"
)
# Words that say when, not what: "at the end of 2018" names the balance-sheet date, not an item of the table.
_PERIOD_WORDS = frozenset(
    "end ended ending beginning year years fiscal fy period quarter month months as at of december june march september"
    " 年末 年底 期末 年度 截至 止".split()
)
_LABEL_STOP = frozenset("of and the to in for at on by from with a an or its".split())
_LATIN = re.compile(r"[a-z0-9]*[a-z][a-z0-9]*")  # words with a letter: "a1" is a name, "2018" no word
_CJK = re.compile(r"[\u4e00-\u9fff]+")
_HEADCOUNT = re.compile(r"(?i)\b(?:employees?|headcount|staff|workforce|personnel)\b|员工|雇员|僱員|人数|人數")
_TOTAL = re.compile(r"(?i)^total\b|\btotal$|^(?:合计|合計|总计|總計|总额|總額)")
_PER_SHARE = re.compile(r"(?i)\bper\b(?: [\w-]+){0,3} share\b|每股")  # "per share", "per ordinary share"
_CURRENCIES = [
    (re.compile(r"HK\$|HKD|港元|港币|港幣"), "HKD"),
    (re.compile(r"RMB|CNY|人民币|人民幣"), "RMB"),
    (re.compile(r"US\$|USD|(?i:\bdollars?\b)|美元|\$"), "USD"),
]
_SCALES = [(re.compile(r"(?i)\bbillions?\b|\bbn\b"), "billions"), (re.compile(r"(?i)\bmillions?\b|\bmn\b"), "millions"),
           (re.compile(r"(?i)\bthousands?\b|'000|’000"), "thousands")]


def _stem(word: str) -> str:
    # Plural to singular is enough for row labels: "expenses"/"expense", "activities"/"activity", "assets"/"asset".
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    # Cached: a table's column headers and title are matched against every term for every row.
    return frozenset(_stem(w) for w in _LATIN.findall(text.lower()))


@lru_cache(maxsize=8192)
def _normal(text: str) -> str:
    return normalize(text)


def holds(term: str, text: str) -> bool:
    """Whether a text says a question term: every Latin word of it (stemmed), or the Chinese term as written."""
    return _holds_any([term], _stems(text), _normal(text))


def _holds_any(group: list[str], stems: frozenset[str], normal: str) -> bool:
    """Whether a text (given as its stems and its normal form, worked out once per row) says any term of a group."""
    for term in group:
        chinese, form = _term_form(term)
        if (form in normal) if chinese else (bool(form) and form <= stems):
            return True
    return False


@lru_cache(maxsize=4096)
def _term_form(term: str) -> tuple[bool, str | frozenset[str]]:
    """A term as it is looked for: a Chinese term in its normal form, a Latin one as its stems."""
    return (True, _normal(term)) if _CJK.search(term) else (False, _stems(term))


@lru_cache(maxsize=8192)
def _periods(key: str) -> frozenset[str]:
    return frozenset(periods_in(key))  # the same column keys come back for every row of a table


def question_terms(asked: Asked, lexicon: Lexicon) -> list[list[str]]:
    """The question's attribute words, each with the lexicon's synonyms when the question uses that group's word
    or phrase ("net sales" also as "revenue" and "收入"); words that only name the period are left out."""
    groups = lexicon.metrics_in(asked.text)
    low = asked.text.lower()
    out = []
    for word in asked.attributes:
        if word in _PERIOD_WORDS:
            continue
        synonyms = [word]
        for group in groups:
            terms = [normalize(t).lower() for t in group]
            if any(t == word or (word in t.split() and t in low) for t in terms):
                synonyms += terms
        out.append(list(dict.fromkeys(synonyms)))
    return out


def _extra_share(label: str, terms: list[list[str]], language: str, subject: str = "") -> float:
    """How much of the label the question does not ask for, in the question's language: "Net income including
    noncontrolling interest" says more than "net income" asks."""
    flat = [t for group in terms for t in group]
    if language == "zh":
        chars = "".join(_CJK.findall(label))
        if not chars:
            return 0.0
        covered = set()
        for term in (t for t in flat if _CJK.search(t)):
            start = chars.find(term)
            if start >= 0:
                covered |= set(range(start, start + len(term)))
        return 1 - len(covered) / len(chars)
    label_words = [w for w in _LATIN.findall(label.lower()) if w not in _LABEL_STOP and len(w) > 1]
    if not label_words:
        return 0.0
    asked = set().union(*(_stems(t) for t in flat)) | _stems(subject)
    return sum(_stem(w) not in asked for w in label_words) / len(label_words)


def row_match(row: dict[str, str], table_title: str, asked: Asked, terms: list[list[str]], subject: str = "") -> float:
    """How well one row answers the question: each asked word in the row's label counts 1, in its column headers
    or the table's title 1/2; less for label words the question does not ask for; more for a primary statement,
    for a row the question names by name, for a column of the asked period and for the total row of a breakdown.
    Words the document's own title holds (`subject`, the company's name) say whose report it is, not which row:
    they count for nothing either way."""
    own = [g for g in terms if not _holds_any(g, _stems(subject), _normal(subject))] if subject else terms
    if not own:
        return 0.0
    label, *keys = list(row)
    label_text = row[label]
    context = " ".join(re.sub(r"\d", " ", k) for k in keys) + " " + table_title
    in_label = [_holds_any(g, _stems(label_text), _normal(label_text)) for g in own]
    in_context = [_holds_any(g, _stems(context), _normal(context)) for g in own]
    covered = sum(1.0 if hit else 0.5 if near else 0.0 for hit, near in zip(in_label, in_context))
    # A name the question gives that the document's title does not ("North Region", a segment) picks its row.
    names = [e for e in asked.entities if not holds(e, subject)]
    score = covered / len(own) - 0.25 * _extra_share(label_text, terms, asked.language, " ".join([subject, *names]))
    if any(holds(e, label_text) for e in names):
        score += 0.3
    if _PRIMARY.search(table_title):
        score += 0.15
    if asked.periods and any(asked.periods & _periods(k) for k in keys if row[k]):
        score += 0.1
    return score + whole_row(label_text, own)


def whole_row(label: str, terms: list[list[str]]) -> float:
    """A bonus for the total of a breakdown: when the label says none of the asked words (they stand in the column
    headers: "Employees" over regions), a question that names no part ("how many employees") wants the whole."""
    if any(_holds_any(g, _stems(label), _normal(label)) for g in terms):
        return 0.0
    return 0.1 if _TOTAL.search(label) else 0.0


def rank_table_hits(hits: Iterable[tuple[str, str, dict, float]], asked: Asked, lexicon: Lexicon) -> list[tuple[str, str, dict, float]]:
    """Table passages (id, text, metadata, similarity) whose best row says what the question asks, best first and
    only those close to the best: the summary and note tables that repeat a statement's row rank no higher than
    retrieval puts them. Ties keep the order they came in (the dense order)."""
    terms = question_terms(asked, lexicon)
    scored = []
    for order, hit in enumerate(hits):
        _, text, meta, _ = hit
        title, subject = str(meta.get("table", "")), str(meta.get("title", ""))
        if not _names_held(asked, lexicon, f"{subject} {title} {text}"):
            continue  # another company's report: its rows say nothing of the one asked about
        best = max((row_match(row, title, asked, terms, subject) for row in parse_rows(text)), default=0.0)
        if best >= MIN_MATCH:
            scored.append((-best, order, hit))
    top = -min(scored, key=lambda s: s[:2])[0] if scored else 0.0
    return [hit for score, _, hit in sorted(scored, key=lambda s: s[:2]) if -score >= top - MARGIN][:ROWS_KEEP]


def _names_held(asked: Asked, lexicon: Lexicon, text: str) -> bool:
    """Every name the question gives is in the passage or its titles, under one of its lexicon aliases."""
    if not asked.entities:
        return True
    stems = frozenset(_stem(w) for w in _LATIN.findall(text.lower()))
    normal = normalize(text)
    return all(_holds_any(lexicon.aliases_of(name) + [name], stems, normal) for name in asked.entities)


def statement_bonus(row: dict[str, str], meta: dict, asked: Asked, lexicon: Lexicon) -> float:
    """What the look-up adds to a statement-table row's score in the answerer (a share of its row match), so the
    row that names the asked item in the primary statement beats prose about the same figure and the same row
    repeated in a note. Nothing for dataset rows, which are not statement rows (they carry no table title)."""
    if not meta.get("table"):
        return 0.0
    match = row_match(row, str(meta.get("table", "")), asked, question_terms(asked, lexicon), str(meta.get("title", "")))
    return ANSWER_WEIGHT * max(match, 0.0)


def unit_phrase(unit: str, label: str, key: str, cell: str = "") -> str:
    """The unit to state with a row's figure: the table's scale with its currency ("USD millions"; a Chinese note
    such as "人民币百万元" as printed), none for a headcount ("employees" are not "millions") and per share for a
    per-share row, whatever the table's heading says of its other rows."""
    where = f"{label} {key}"
    if _HEADCOUNT.search(where) and not re.search(r"(?i)cost|expense|benefit|compensation|成本|开支|開支|福利|薪", where):
        return ""
    # The heading or the row itself ("$ 41,280", "(RMB)") names the currency; a 10-K prints "$" on a few rows only.
    currency = next((code for pattern, code in _CURRENCIES if pattern.search(f"{unit} {label} {cell}")), "")
    if _PER_SHARE.search(where):
        return f"{currency} per share".strip()
    if not unit:
        return currency
    if _CJK.search(unit):
        return unit
    scale = next((word for pattern, word in _SCALES if pattern.search(unit.split(",")[0])), "")
    if not scale:
        return unit
    return f"{currency} {scale}" if currency else scale.capitalize()  # "Millions", as a heading prints it
