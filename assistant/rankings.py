"""Rankings and comparisons computed over dataset rows: "哪家公司2025年股价涨幅最大?", "How much more did A rise than B?".

Pure functions over row Documents (the row form of assistant/rows.py); no index access. The metric is picked by the
question's words against the metric names in the data (lexicon synonyms and a small bilingual glossary of metric
words help across languages), so a user's dataset about companies and metrics nobody listed works too. When no
metric matches well, or the question is no ranking or comparison, the answer is None and the normal answerer takes
over. Values in different units or currencies are never compared raw; qualifiers in the data ("超", "约", "(预计)")
stay with their figures; every row used is cited.

Table shapes understood:
  * long: one figure per row, with a metric column and a value column (`company: A; metric: M; value: 1; unit: %`);
  * wide: one row per company and one column per metric (`company: A; 营收(亿元): 12; 员工数: 300`);
  * statements: one row per line item and one column per period (`item: Net sales; 2018: 41,280; 2017: 39,954`),
    compared between periods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_core.documents import Document

from assistant.rows import parse_rows
from assistant.text import Lexicon, date_int, mentions, normalize, words


@dataclass
class RankingAnswer:
    text: str  # the answer, each figure cited with [k] where k is 1-based into `used`
    used: list[Document]  # the rows used, in citation order
    metric: str
    unit: str
    chart: list[tuple[str, float]]  # (entity, value) for the page's bar chart, in answer order
    derived: list[str] = field(default_factory=list)  # figures computed here (differences, ranks), found in no row


# --- what the question asks ------------------------------------------------------------------------------------------
_HIGHEST = r"最高|最大|最多|最快|最强|最好|最领先|居首|highest|largest|biggest|greatest|most|fastest|best|top|lead(?:s|ing|er)?"
_LOWEST = r"最低|最小|最少|最慢|最弱|最差|垫底|倒数|lowest|smallest|least|fewest|slowest|worst|bottom"
_HIGHER = r"更高|更大|更多|更快|更强|higher|larger|bigger|greater|more|faster"
_LOWER = r"更低|更小|更少|更慢|lower|smaller|less|fewer|slower"
_DIFFERENCE = (
    r"差距|相差|差多少|差值|差额|高出|多出|低出|少了?多少|多了?多少|高了?多少|低了?多少|领先多少|落后多少|增加了?多少|减少了?多少"
    r"|从.{1,20}到.{1,20}(?:变化|增加|减少|增长)|difference|gap|how much (?:more|less|higher|lower|bigger|smaller)"
    r"|how many (?:more|fewer)|by how much|percentage points?|change[sd]? (?:from|between)"
)
_TIMES = r"几倍|多少倍|how many times"
_COMPARE = r"谁更|谁的.{0,12}更|哪个更|哪家更|哪一个更|相比|对比|比较|比一比|compare|comparison|versus|\bvs\.?"
_RANK = (
    r"排名|排行|排序|名次|依次|前[一二三四五六七八九十\d]+(?!季度|个月|年|天|周|\d)(?:名|家|位)?|排第|第几"
    r"|rank(?:ing|ed|s)?|\btop\s*\d+|\btop (?:two|three|four|five|ten)"
)
# "哪家/which" alone asks for a name, not a ranking: a superlative, a rank, a difference or a comparison must be there.
# A comparative ("higher", "更多") asks for a comparison only against something: "than", "比", "or", "还是", "谁".
_AGAINST = re.compile(r"\bthan\b|比|还是|\bor\b|谁|哪", re.I)
# "more than 80%" states a bound, it compares nothing.
_BOUND_PHRASE = re.compile(r"\b(?:more|less|fewer) than\s*[\d.]|超过\s*\d", re.I)
_PLACE = re.compile(r"排名|排第|第几|名次|rank", re.I)
_CUE = re.compile("|".join((_HIGHEST, _LOWEST, _DIFFERENCE, _TIMES, _COMPARE, _RANK)), re.I)
_COMPARATIVE = re.compile(f"{_HIGHER}|{_LOWER}", re.I)
_HIGH_RE = re.compile(f"{_HIGHEST}|{_HIGHER}", re.I)
_LOW_RE = re.compile(f"{_LOWEST}|{_LOWER}", re.I)
_DIFFERENCE_RE = re.compile(_DIFFERENCE, re.I)
_TIMES_RE = re.compile(_TIMES, re.I)
_COMPARE_RE = re.compile(_COMPARE + r"|\bor\b|还是", re.I)
_TOP_N = re.compile(
    r"前\s*([一二两三四五六七八九十\d]+)(?!季度|个月|年|天|周|\d)\s*(?:名|家|位|个)?|\btop\s*(\d+|two|three|four|five|ten)\b", re.I
)
_NUMERALS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10,
             "two": 2, "three": 3, "four": 4, "five": 5, "ten": 10}  # fmt: skip
_SPELLED = {"zh": "一二三四五六七八九十", "en": ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]}
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def is_ranking_question(question: str) -> bool:
    """Whether the question asks for a largest/smallest, a ranking, a difference or a comparison."""
    text = _BOUND_PHRASE.sub(" ", normalize(question))
    return bool(_CUE.search(text)) or bool(_COMPARATIVE.search(text) and _AGAINST.search(text))


# --- rows as facts ---------------------------------------------------------------------------------------------------
_METRIC_KEYS = {"metric", "指标", "指标名称", "measure", "indicator", "kpi", "item", "项目"}
_VALUE_KEYS = {"value", "数值", "值", "amount", "金额", "figure", "数据"}
_ENTITY_KEYS = {"company", "公司", "公司名称", "企业", "entity", "name", "名称", "firm", "issuer", "brand", "品牌", "机构"}
_UNIT_KEYS = {"unit", "units", "单位"}
_CURRENCY_KEYS = {"currency", "币种", "货币"}
_PERIOD_KEYS = {"period", "期间", "时期", "year", "年份", "年度", "quarter", "季度", "fiscal year", "fy"}
_QUALIFIER_KEYS = {"qualifier", "qualifiers", "限定", "note", "notes", "备注", "说明"}
_SKIP_KEYS = {"source", "来源", "出处", "url", "link", "链接", "ticker", "代码", "股票代码", "id", "序号", "date", "日期"}
_ITEM_KEYS = {"item", "项目", "line item", "科目"}
_NUMBER = re.compile(
    r"^(?P<pre>超过|一度超|超|逾|约|近|突破|至少|不足|大约|over|about|approx\.?|~|≈|>|<|≥|≤)?\s*"
    r"(?P<neg>[-−(])?\s*(?P<num>\d[\d,]*(?:\.\d+)?)\s*\)?\s*(?P<unit>[^\d\s][^\d]{0,11})?$",
    re.I,
)
_PERIOD_HEADER = re.compile(r"^(?:FY\s*)?(?:19|20)\d\d(?:\s*年)?(?:\s*(?:Q[1-4]|H[12]|年?第?[一二三四]季度|上半年|下半年))?$", re.I)
_BRACKETS = re.compile(r"[(\uff08]([^()\uff08\uff09]*)[)\uff09]")
_UNIT_LIKE = re.compile(r"元|%|亿|万|千|倍|人|台|个|款|次|usd|rmb|cny|hkd|eur|\bm\b|\bbn\b|million|billion|thousand|x\b", re.I)
# Qualifiers that bound a figure: they go in front of it ("超80%"); English spellings for English answers.
_LATIN_UNIT = re.compile(r"^[A-Za-z%$€£¥/.²³·\s]{1,8}$")
_BOUNDS = {"超": "more than", "超过": "more than", "一度超": "at one point over", "逾": "over", "突破": "over", "约": "about",
           "大约": "about", "近": "nearly", "至少": "at least", "不足": "under", "over": "over", "about": "about",
           "approx": "about", "approx.": "about", "~": "about", "≈": "about", ">": "more than", "≥": "at least",
           "<": "under", "≤": "at most"}  # fmt: skip
_NOTES_EN = {"预计": "estimate", "预测": "forecast", "估计": "estimate", "测算": "estimate", "行业测算": "industry estimate"}


@dataclass(frozen=True)
class Fact:
    entity: str
    metric: str  # the metric's name without bracketed qualifiers
    value: float
    shown: str  # the number as the row writes it ("41,280")
    unit: str
    period: str
    bounds: tuple[str, ...]  # "超", "约" ...: the figure is a bound or an approximation
    notes: tuple[str, ...]  # other qualifiers from the data ("预计", "摩根大通测算")
    row: int  # index into the rows given


def _number(cell: str) -> tuple[float, str, str, str] | None:
    """(value, number as written, bound qualifier, unit written in the cell) of a numeric cell, else None."""
    match = _NUMBER.match(normalize(cell).strip())
    if not match:
        return None
    shown = match.group("num")
    value = float(shown.replace(",", ""))
    if match.group("neg"):
        value, shown = -value, "-" + shown
    return value, shown, (match.group("pre") or "").lower(), (match.group("unit") or "").strip()


def _split_qualifiers(text: str) -> tuple[list[str], list[str]]:
    """Bracketed qualifiers of a metric name ("(超;行业测算)") as (bounds, notes)."""
    bounds, notes = [], []
    for part in re.split(r"[;；,，、]", text):
        part = part.strip()
        if part in _BOUNDS:
            bounds.append(part)
        elif part:
            notes.append(part)
    return bounds, notes


def _metric_and_qualifiers(name: str) -> tuple[str, list[str], list[str], str]:
    """A column or metric name as (bare name, bounds, notes, unit found in brackets)."""
    bounds: list[str] = []
    notes: list[str] = []
    unit = ""
    for inner in _BRACKETS.findall(name):
        if _UNIT_LIKE.search(inner) and len(inner) <= 12 and not re.search(r"[\u4e00-\u9fff]{4,}", inner) or _LATIN_UNIT.match(inner):
            unit = unit or inner.strip()
            continue
        b, n = _split_qualifiers(inner)
        bounds += b
        notes += n
    bare = _BRACKETS.sub("", name).strip() or name.strip()
    return bare, bounds, notes, unit


def _pick(fields: dict[str, str], keys: set[str]) -> str:
    for key, value in fields.items():
        if key.strip().lower() in keys:
            return value.strip()
    return ""


def _key_of(fields: dict[str, str], keys: set[str]) -> str | None:
    return next((k for k in fields if k.strip().lower() in keys), None)


def facts_of(rows: list[Document]) -> list[Fact]:
    """Every figure in the rows, whatever the table's shape."""
    facts: list[Fact] = []
    for index, doc in enumerate(rows):
        for fields in parse_rows(doc.page_content):
            facts += _row_facts(fields, index, doc)
    return facts


def _row_facts(fields: dict[str, str], index: int, doc: Document) -> list[Fact]:
    qualifier = _pick(fields, _QUALIFIER_KEYS)
    extra = _split_qualifiers(qualifier) if qualifier else ([], [])
    unit_cell = " ".join(x for x in (_pick(fields, _CURRENCY_KEYS), _pick(fields, _UNIT_KEYS)) if x)
    period = _pick(fields, _PERIOD_KEYS)
    metric_key, value_key = _key_of(fields, _METRIC_KEYS), _key_of(fields, _VALUE_KEYS)
    if metric_key and value_key:  # long form
        parsed = _number(fields[value_key])
        entity = _pick(fields, _ENTITY_KEYS) or _pick(fields, {"ticker", "代码"})
        return [_fact(entity, fields[metric_key], parsed, unit_cell, period, extra, index)] if parsed else []
    ignored = _SKIP_KEYS | _UNIT_KEYS | _CURRENCY_KEYS | _PERIOD_KEYS | _QUALIFIER_KEYS
    numeric = {k: _number(v) for k, v in fields.items() if k.strip().lower() not in ignored and not _PERIOD_HEADER.match(v.strip())}
    numeric = {k: v for k, v in numeric.items() if v is not None}
    texts = [k for k in fields if k not in numeric and k.strip().lower() not in ignored]
    label_key = _key_of(fields, _ENTITY_KEYS | _ITEM_KEYS) or (texts[0] if texts else None)
    if label_key is None:
        return []
    label = fields[label_key].strip()
    numeric.pop(label_key, None)
    if numeric and all(_PERIOD_HEADER.match(k.strip()) for k in numeric):
        # A statement: the row is one line item, each column one period, the company that of the document.
        companies = doc.metadata.get("companies") or []
        entity = str(companies[0]) if companies else ""
        return [_fact(entity, label, parsed, unit_cell, key.strip(), extra, index) for key, parsed in numeric.items()]
    # A wide table: the row is one company, each numeric column one metric.
    return [_fact(label, key, parsed, unit_cell, period, extra, index) for key, parsed in numeric.items()]


def _fact(
    entity: str, name: str, parsed: tuple[float, str, str, str], unit_cell: str, period: str, extra: tuple[list[str], list[str]], index: int
) -> Fact:
    """One figure; its unit from the unit column, the cell or the metric's brackets, its qualifiers from all three."""
    value, shown, pre, cell_unit = parsed
    bare, bounds, notes, name_unit = _metric_and_qualifiers(name)
    bounds = list(dict.fromkeys([*([pre] if pre else []), *bounds, *extra[0]]))
    notes = list(dict.fromkeys(notes + extra[1]))
    return Fact(entity, bare, value, shown, unit_cell or cell_unit or name_unit, period, tuple(bounds), tuple(notes), index)


# --- which metric the question names ---------------------------------------------------------------------------------
# Metric words across the two languages; entities never belong here (the lexicon holds names).
_GLOSSARY: list[tuple[tuple[str, ...], tuple[str, ...]]] = [
    (("revenue", "revenues", "sales", "turnover", "income"), ("收入", "营收", "营业收入", "销售额")),
    (("profit", "profits", "earnings", "net income"), ("利润", "净利润", "盈利")),
    (("growth", "grow", "grew", "increase", "increased"), ("增长", "增速")),
    (("rise", "rose", "risen", "gain", "gained", "gains", "up"), ("涨幅", "上涨")),
    (("share price", "stock price", "shares", "stock", "stocks"), ("股价",)),
    (("valuation", "valued", "worth"), ("估值",)),
    (("market cap", "market value", "market capitalisation", "market capitalization"), ("市值",)),
    (("share", "proportion", "percentage", "ratio", "portion"), ("占比", "比例", "比重")),
    (("users", "user", "mau", "monthly active"), ("用户", "月活")),
    (("devices", "device", "connected"), ("设备", "连接")),
    (("developers", "developer"), ("开发者",)),
    (("r&d", "research"), ("研发",)),
    (("investment", "invest", "spending", "spend"), ("投入", "投资", "支出")),
    (("cost", "costs"), ("成本",)),
    (("speed", "fast", "throughput"), ("速度",)),
    (("margin", "margins"), ("利率", "毛利率")),
    (("p/e", "pe", "price-to-earnings"), ("市盈率",)),
    (("employees", "headcount", "staff"), ("员工", "雇员")),
    (("models", "model"), ("模型",)),
    (("quarters", "quarter"), ("季度",)),
    (("net buying", "inflow", "inflows"), ("净买入", "流入")),
    (("capex", "capital expenditure"), ("资本开支",)),
    (("dividend", "dividends"), ("股息", "分红")),
    (("price", "prices"), ("价格", "单价")),
    (("orders", "order backlog"), ("订单",)),
    (("retention", "renewal"), ("留存", "续费")),
    (("customers", "clients"), ("客户",)),
    (("deliveries", "delivered", "shipments", "shipped"), ("交付", "出货", "销量")),
    (("ai-related", "ai related", "related"), ("相关",)),
    (("annual", "yearly"), ("年度",)),
    (("recurring",), ("经常性",)),
    (("subscription", "subscriptions"), ("订阅",)),
    (("rate",), ("率",)),
    (("number of", "count"), ("数量", "数")),
    (("power",), ("功率",)),
    (("data center", "data centre"), ("数据中心",)),
    (("market share",), ("市场份额", "份额")),
]
# A period inside a metric's name ("2025年股价涨幅") is matched against the question's years, not scored as a word.
_PERIOD_IN_NAME = re.compile(
    r"(?:FY\s*)?(?:19|20)\d\d\s*年?\s*(?:Q[1-4]|H[12]|第?[一二三四]季度|上半年|下半年|年中)?|\bQ[1-4]\b|\bH[12]\b", re.I
)
_CJK = re.compile(r"[\u3400-\u9fff]")
_LATIN_WORD = re.compile(r"[a-z][a-z0-9&/\-]*")


def _concepts(question: str, lexicon: Lexicon) -> set[str]:
    """The question's words, with the other language's metric words and the lexicon's synonyms added."""
    text = normalize(question)
    # Ranking words ("最高", "largest") say what to compute, not which metric.
    found = {w for w in words(text, lexicon) if not (_CUE.fullmatch(w) or _COMPARATIVE.fullmatch(w))}
    low = text.lower()
    for english, chinese in _GLOSSARY:
        if any(_names_word(low, term) for term in english) or any(term in low for term in chinese):
            found |= set(english) | set(chinese)
    for group in lexicon.metrics_in(text):
        for term in group:
            found.add(term.lower())
            found |= set(words(term, lexicon))
    return {w.lower() for w in found if w.strip()}


def _names_word(text: str, term: str) -> bool:
    """A whole English word or phrase, plurals included ("valuations" names "valuation")."""
    return re.search(rf"(?<![a-z]){re.escape(term)}(?:s|es)?(?![a-z])", text) is not None


def metric_score(question: str, metric: str, lexicon: Lexicon, concepts: set[str] | None = None) -> tuple[float, int]:
    """How well the question names a metric: the share of the name's Chinese characters and Latin words covered by
    the question's words (or their synonyms and translations), and how many that is. Characters, not jieba words,
    because jieba cuts unknown metric names unpredictably ("续费率" into "续" + "费率")."""
    concepts = _concepts(question, lexicon) if concepts is None else concepts
    name = _PERIOD_IN_NAME.sub(" ", normalize(metric)).lower()
    covered = [False] * len(name)
    for concept in concepts:
        if _CJK.search(concept):
            for found in re.finditer(re.escape(concept), name):
                covered[found.start() : found.end()] = [True] * len(concept)
    chars = [i for i, ch in enumerate(name) if _CJK.match(ch)]
    latin = _LATIN_WORD.findall(name)
    stems = {c.rstrip("s") for c in concepts if not _CJK.search(c)}
    hits = sum(covered[i] for i in chars) + sum(w.rstrip("s") in stems for w in latin)
    total = len(chars) + len(latin)
    return (hits / total if total else 0.0), hits


# --- answering -------------------------------------------------------------------------------------------------------
_MIN_SCORE = 0.5


def answer_ranking(question: str, rows: list[Document], lexicon: Lexicon, language: str) -> RankingAnswer | None:
    """The ranking or comparison the question asks for, computed over the rows; None when it is not one or no
    metric in the rows matches the question well."""
    if not is_ranking_question(question):
        return None
    facts = facts_of(rows)
    if not facts:
        return None
    concepts = _concepts(question, lexicon)
    by_metric: dict[str, list[Fact]] = {}
    for fact in facts:
        by_metric.setdefault(fact.metric, []).append(fact)
    years = set(_YEAR.findall(normalize(question)))
    scored = []
    for metric, group in by_metric.items():
        group = _in_years(group, years)
        score, hits = metric_score(question, metric, lexicon, concepts)
        if score >= _MIN_SCORE and len(group) >= 2:
            scored.append((score, hits, len(group), metric, group))
    if not scored:
        return None
    scored.sort(key=lambda s: (-s[0], -s[1], -s[2]))
    metric, group = scored[0][3], scored[0][4]
    # A question about a company the metric's rows do not cover is about something else.
    covered = {lexicon.resolve(f.entity) for f in group}
    if any(name not in covered for name in lexicon.companies_in(question)):
        return None
    return _Answerer(question, lexicon, language, metric, rows).answer(group)


def _in_years(group: list[Fact], years: set[str]) -> list[Fact]:
    """Facts whose metric name or period fits the years the question names (facts without a year always fit)."""
    if not years:
        return group
    return [f for f in group if not (found := set(_YEAR.findall(f.metric + " " + f.period))) or found & years]


# Sentences of the answer in each language. {a}/{b} are "name (figure)" pairs, {cites} their markers.
_SAY = {
    "zh": {
        "by": "按「{metric}」,",
        "first": "{names}{tie}{word}({figure}) {cites}。",
        "tie": "并列",
        "high": "最高",
        "low": "最低",
        "and": "与",
        "list": "、",
        "top": "{word}的前{n}名依次是{listed} {cites}。",
        "rank": "{a}在{total}项中排第{rank}{tie} {cites}。",
        "rank_tie": "(与{names}并列)",
        "level": "{a}与{b}持平 {cites}。",
        "above": "{a}高于{b} {cites}。",
        "below": "{a}低于{b} {cites}。",
        "gap": "{a}比{b}高{gap}{unit}{caveat} {cites}。",
        "up": "{a}比{b}增加{gap}{unit}{caveat} {cites}。",
        "down": "{a}比{b}减少{gap}{unit}{caveat} {cites}。",
        "times": "{a}约是{b}的{ratio}倍{caveat} {cites}。",
        "points": "个百分点",
        "caveat": "(数值带有「{bounds}」等限定,差值按所列数值计算,只是近似)",
        "ranking": "完整排名:",
        "periods": "各期数值:",
        "others": "以下数值的单位或币种不是{unit},未参与比较:",
        "apart": "这些「{metric}」数值的单位或币种不同({units}),不能直接比较大小,各自如下:",
    },
    "en": {
        "by": "By {metric}, ",
        "first": "{names} {tie}{word} ({figure}) {cites}.",
        "tie": "tie for the ",
        "high": "highest",
        "low": "lowest",
        "and": " and ",
        "list": ", ",
        "top": "the {word} {n}: {listed} {cites}.",
        "rank": "{a} ranks {rank} of {total}{tie} {cites}.",
        "rank_tie": " (tied with {names})",
        "level": "{a} and {b} are level {cites}.",
        "above": "{a} is higher than {b} {cites}.",
        "below": "{a} is lower than {b} {cites}.",
        "gap": "{a} is {gap}{unit} higher than {b}{caveat} {cites}.",
        "up": "{a} is up {gap}{unit} on {b}{caveat} {cites}.",
        "down": "{a} is down {gap}{unit} on {b}{caveat} {cites}.",
        "times": "{a} is about {ratio} times {b}{caveat} {cites}.",
        "points": " percentage points",
        "caveat": " (the figures are qualified as {bounds}, so this is only approximate)",
        "ranking": "Full ranking:",
        "periods": "By period:",
        "others": "Not compared (not in {unit}):",
        "apart": "These {metric} figures are in different units or currencies ({units}), so they cannot be compared raw:",
    },
}


@dataclass
class _Answerer:
    """Writes one ranking answer; numbers its citations in the order rows are first cited."""

    question: str
    lexicon: Lexicon
    language: str
    metric: str
    rows: list[Document]
    by_period: bool = False  # one company, several periods: the periods are compared
    used: list[int] = field(default_factory=list)  # row indexes in citation order
    derived: list[str] = field(default_factory=list)

    def say(self, key: str, **values: object) -> str:
        return _SAY["zh" if self.language == "zh" else "en"][key].format(**values)

    def cite(self, *facts: Fact) -> str:
        marks = []
        for fact in facts:
            if fact.row not in self.used:
                self.used.append(fact.row)
            marks.append(f"[{self.used.index(fact.row) + 1}]")
        return "".join(dict.fromkeys(marks))

    def name(self, fact: Fact) -> str:
        """The company as the row writes it, with its alias in the question's language; or the period."""
        if self.by_period:
            return fact.period
        display = self.lexicon.display_name(fact.entity, self.language)
        return fact.entity if display == fact.entity else f"{fact.entity} ({display})"

    def figure(self, fact: Fact, period: bool = False) -> str:
        """The value with its unit and every qualifier the data gives ("超80%", "more than 80%", "423亿元 (预计)")."""
        zh = self.language == "zh"
        bounds = "".join(fact.bounds) if zh else " ".join(_BOUNDS.get(b, b) for b in fact.bounds)
        tight = fact.unit in ("%", "倍", "x", "") or bool(_CJK.match(fact.unit))
        value = f"{fact.shown}{fact.unit}" if tight else f"{fact.shown} {fact.unit}"
        # Joined with commas: a ";" would end the sentence before its citation.
        extra = [n if zh else _NOTES_EN.get(n, n) for n in fact.notes] + ([fact.period] if period and fact.period else [])
        return (f"{bounds}{value}" if zh or not bounds else f"{bounds} {value}") + (f" ({', '.join(extra)})" if extra else "")

    def pair(self, fact: Fact) -> str:
        """"腾讯(超46%)", "腾讯 (Tencent, more than 46%)"."""
        name, figure = self.name(fact), self.figure(fact)
        if self.language == "zh":
            return f"{name}({figure})"
        return f"{name[:-1]}, {figure})" if name.endswith(")") else f"{name} ({figure})"

    def line(self, rank: int | None, fact: Fact, show_period: bool) -> str:
        head = f"{rank}." if rank is not None else "-"
        return f"{head} {self.name(fact)}: {self.figure(fact, show_period and not self.by_period)} {self.cite(fact)}"

    def named(self, facts: list[Fact]) -> list[Fact]:
        """The facts whose company (any alias) or period the question names."""
        if self.by_period:
            return [f for f in facts if f.period and mentions(self.question, f.period)]
        return [f for f in facts if f.entity and any(mentions(self.question, a) for a in {f.entity, *self.lexicon.aliases_of(f.entity)})]

    def answer(self, group: list[Fact]) -> RankingAnswer | None:
        self.by_period = len({f.entity for f in group}) == 1
        named = self.named(group)
        q = normalize(self.question)
        if len(named) == 1 and not self.by_period and not (_PLACE.search(q) or _HIGH_RE.search(q) or _LOW_RE.search(q)):
            return None  # one company named, and no place asked for: the question compares it with something else
        if len(named) == 1 and (_DIFFERENCE_RE.search(q) or _TIMES_RE.search(q)):
            return None  # a difference needs two sides of this metric; the other side is another metric
        if len(named) >= 2:
            group = named
        if not self.by_period:
            group = _latest_per_entity(group)
        if len(group) < 2:
            return None
        units: dict[str, list[Fact]] = {}
        for fact in group:
            units.setdefault(_unit_key(fact.unit), []).append(fact)
        comparable = max(units.values(), key=len)
        if len(comparable) < 2:
            return self.apart(group)
        return self.ranked(comparable, [f for f in group if f not in comparable])

    def apart(self, group: list[Fact]) -> RankingAnswer:
        """Figures in different units or currencies: listed, each cited, never compared."""
        units = _SAY["zh" if self.language == "zh" else "en"]["list"].join(dict.fromkeys(f.unit or "?" for f in group))
        lines = [self.line(None, f, True) for f in group]
        return self.result("\n".join([self.say("apart", metric=self.metric, units=units), *lines]), group[0].unit, [])

    def ranked(self, comparable: list[Fact], others: list[Fact]) -> RankingAnswer:
        q = normalize(self.question)
        low_first = bool(_LOW_RE.search(q)) and not _HIGH_RE.search(q)
        order = sorted(comparable, key=lambda f: f.value, reverse=not low_first)
        # Competition ranking: equal values share a rank (1, 1, 3), so a tie is never broken by row order.
        ranks = [1 + sum(1 for g in order if (g.value < f.value if low_first else g.value > f.value)) for f in order]
        lead = self.say("by", metric=self.metric) + self.lead(order, ranks, low_first)
        if self.by_period:
            order = sorted(order, key=_when)
            parts = [lead, self.say("periods"), *(self.line(None, f, False) for f in order)]
        else:
            show_period = len({f.period for f in order}) > 1 or not any(f.period and f.period in self.metric for f in order)
            parts = [lead, self.say("ranking"), *(self.line(r, f, show_period) for r, f in zip(ranks, order))]
            if others:
                parts.append(self.say("others", unit=comparable[0].unit or "?"))
                parts += [self.line(None, f, show_period) for f in others]
        chart = [(self.name(f) if self.by_period else f.entity, f.value) for f in order]
        return self.result("\n".join(parts), comparable[0].unit, chart)

    def lead(self, order: list[Fact], ranks: list[int], low_first: bool) -> str:
        """The sentence that answers: the difference, the comparison, a company's place, the top N, or the first."""
        q = normalize(self.question)
        named = self.named(order)
        if _DIFFERENCE_RE.search(q) or _TIMES_RE.search(q):
            a, b = (named[0], named[1]) if len(named) >= 2 else (order[0], order[-1])
            return self.difference(a, b)
        if len(named) == 2 and (len(order) > 2 or _COMPARE_RE.search(q)):
            return self.compare(named[0], named[1], low_first)
        if len(named) == 1 and len(order) > 2:
            return self.place(named[0], order, ranks)
        top = _TOP_N.search(q)
        if top:
            word = (top.group(1) or top.group(2) or "").lower()
            n = _NUMERALS.get(word) or int(word)
            chosen = [f for f, r in zip(order, ranks) if r <= n]
            listed = self.say("list").join(self.pair(f) for f in chosen)
            word = ("最低" if low_first else "最高") if self.language == "zh" else ("bottom" if low_first else "top")
            # N in words, as the question asks it: a digit would read as a figure that no row holds.
            spelled = _SPELLED["zh" if self.language == "zh" else "en"][n - 1] if 1 <= n <= 10 else str(n)
            if spelled == str(n):
                self.derived.append(spelled)
            return self.say("top", word=word, n=spelled, listed=listed, cites=self.cite(*chosen))
        first = [f for f, r in zip(order, ranks) if r == 1]
        names = self.say("and").join(self.name(f) for f in first)
        word = self.say("low" if low_first else "high")
        tie = self.say("tie") if len(first) > 1 else ("" if self.language == "zh" else "has the ")
        return self.say("first", names=names, tie=tie, word=word, figure=self.figure(first[0]), cites=self.cite(*first))

    def place(self, fact: Fact, order: list[Fact], ranks: list[int]) -> str:
        rank = ranks[order.index(fact)]
        self.derived += [str(rank), str(len(order))]
        tied = [f for f, r in zip(order, ranks) if r == rank and f is not fact]
        tie = self.say("rank_tie", names=self.say("list").join(self.name(f) for f in tied)) if tied else ""
        return self.say("rank", a=self.pair(fact), total=len(order), rank=rank, tie=tie, cites=self.cite(fact, *tied))

    def compare(self, a: Fact, b: Fact, low_first: bool) -> str:
        if a.value == b.value:
            return self.say("level", a=self.pair(a), b=self.pair(b), cites=self.cite(a, b))
        high, low = (a, b) if a.value > b.value else (b, a)
        first, second = (low, high) if low_first else (high, low)
        return self.say("below" if low_first else "above", a=self.pair(first), b=self.pair(second), cites=self.cite(first, second))

    def difference(self, a: Fact, b: Fact) -> str:
        """a minus b (or a over b for "几倍"), computed from the listed values; qualified values make it approximate."""
        bounds = list(dict.fromkeys(a.bounds + b.bounds))
        if self.language == "zh":
            caveat = self.say("caveat", bounds="」「".join(bounds)) if bounds else ""
        else:
            caveat = self.say("caveat", bounds=" / ".join(f"'{_BOUNDS.get(x, x)}'" for x in bounds)) if bounds else ""
        digits = max(_decimals(a.shown), _decimals(b.shown))
        if _TIMES_RE.search(normalize(self.question)) and b.value:
            high, low = (a, b) if a.value >= b.value else (b, a)
            ratio = f"{high.value / low.value:.{max(1, digits)}f}"
            self.derived.append(ratio)
            return self.say("times", a=self.pair(high), b=self.pair(low), ratio=ratio, caveat=caveat, cites=self.cite(high, low))
        if self.by_period:  # between periods, say which way the later one moved
            first, second = (a, b) if _when(a) >= _when(b) else (b, a)
            key = "up" if first.value >= second.value else "down"
        else:
            first, second = (a, b) if a.value >= b.value else (b, a)
            key = "gap"
        gap = abs(first.value - second.value)
        shown = f"{gap:,.{digits}f}" if "," in a.shown + b.shown else f"{gap:.{digits}f}"
        self.derived.append(shown.replace(",", ""))
        if first.unit.strip() == "%":
            unit = self.say("points")
        else:
            unit = first.unit if (self.language == "zh" and _CJK.match(first.unit)) or not first.unit else f" {first.unit}"
        return self.say(key, a=self.pair(first), b=self.pair(second), gap=shown, unit=unit, caveat=caveat, cites=self.cite(first, second))

    def result(self, text: str, unit: str, chart: list[tuple[str, float]]) -> RankingAnswer:
        used = [self.rows[i] for i in self.used]
        return RankingAnswer(text=text, used=used, metric=self.metric, unit=unit, chart=chart, derived=list(self.derived))


def _latest_per_entity(group: list[Fact]) -> list[Fact]:
    """One figure per company: the latest period when the rows hold several (the question's year already chose)."""
    best: dict[str, Fact] = {}
    for fact in group:
        if fact.entity not in best or _when(fact) > _when(best[fact.entity]):
            best[fact.entity] = fact
    return [f for f in group if best[f.entity] is f]


def _when(fact: Fact) -> tuple[int, str]:
    """A fact's period in time order ("2024" before "2025Q3"); the text breaks ties the dates cannot."""
    return date_int(fact.period, end=True), fact.period


def _unit_key(unit: str) -> str:
    return re.sub(r"\s+", "", normalize(unit)).lower()


def _decimals(shown: str) -> int:
    return len(shown.split(".")[1]) if "." in shown else 0
