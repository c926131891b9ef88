"""What a question asks for: its entities, its attribute, its period and the kind of item an answer must contain.

The offline answerer decides between answering and refusing from this and the passages alone. Nothing here depends
on a company or metric being listed in `corpus/lexicon.yaml`: names are found the general way (jieba part-of-speech
tags, Latin names, tickers, titles in 《》 or quotes); the lexicon only adds aliases.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import groupby

from assistant.rewrite import companies_named, cut_with_tags, subjects_in, tagger
from assistant.text import Lexicon, language_of, normalize, words

# "在哪个组" asks which group, not where.
_WHEN_ZH = r"何时|什么时候|哪一?天|哪一?年|几月|几号|哪个月"
_WHERE = r"哪里|哪儿|在哪(?![个些家])|何地|何处|哪个(城市|国家|省|地区)|哪座|\bwhere\b|which (city|country|place)"
# The kind of item an answer must hold, judged from the question's own words. Order matters: the first match wins,
# so "多长时间" (a duration: a number) is read before "时间" (a date).
_EXPECTS: list[tuple[str, re.Pattern[str]]] = [
    ("reason", re.compile(r"为什么|为何|什么原因|原因是|何以|\bwhy\b|what (explains|drives|caused)|reason", re.I)),
    (
        "number",
        re.compile(
            r"多少|多长|多久|多大|多高|多远|多重|几[个次家款名位年天人所支只倍成]|几何|占比|比例|比率|比重|增长率|增速|涨幅|跌幅|"
            r"(数|量|率|额|值|价|级|规模|票房|收入|营收|利润|产量|销量|人次|总数|总额|GDP)\s*[是为有]?[??]?\s*$|"
            r"how (much|many|fast|large|big|long|high)|what (percent|percentage|share|proportion|multiple|ratio|rate)|"
            r"\b(number|amount|total|size|value|count) of\b|"
            r"^(what|which)\b.*\b(revenues?|sales|income|profits?|earnings|eps|prices?|valuations?|ratios?|growth|dividends?|"
            r"margins?|expenditures?|spending|capex|costs?|rates?|worth|assets|liabilities|equity|cash|debt|expenses?|stakes?|"
            r"market cap|share of|multiples?|p/?e|yields?)\b",
            re.I,
        ),
    ),
    (
        "date",
        re.compile(
            _WHEN_ZH + r"|时间|日期|时候|"
            r"\bwhen\b|what (date|day|year|month|time)\b(?!-)|which (year|month|day)\b(?!-)",
            re.I,
        ),
    ),
    ("place", re.compile(_WHERE + r"|地点|举办地", re.I)),
    (
        "person",
        re.compile(
            # A role word followed by a verb of saying or thinking ("作者预计…") is who speaks, not what is asked.
            r"谁|哪位|(?:主演|导演|演员|扮演|得主|作者|创始人|创办人|总理|总统|首相|市长|主席|董事长|主持人|火炬手|编剧|选手|球员|运动员|歌手)"
            r"(?!认为|预计|预期|表示|指出|强调|判断|提到|写道|觉得|相信|估计|看好|称|说)|"
            r"\bwho\b|\bwhom\b|founder|\bceo\b|director|chairman|actor|actress",
            re.I,
        ),
    ),
    (
        "entity",
        re.compile(
            r"的[\u4e00-\u9fff]{1,6}是什么[??]?$|哪[个家部支款只所种些队国]?|冠军|亚军|季军|金牌|最佳|吉祥物|叫什么|名字|名称|全称|"
            r"\bwhich\b|\bwhat is (it|the \w+) called\b|\bcalled\b|\bname of\b|\bwhat\b.*\bnamed?\b",
            re.I,
        ),
    ),
]
# Words that only shape a question; they say nothing about what the answer is about.
_QUESTION_WORDS = frozenset(
    """是 什么 多少 哪 哪个 哪些 哪家 哪里 哪儿 谁 何时 什么时候 时间 如何 怎么 怎样 为什么 为何 几 是否 有 有没有 呢 吗 请问 的 了 在
    举行 举办 是多少 分别 分别是 当时 多长 多久 多大 情况 具体 目前 现在 请 介绍 一下 主要 哪一年 哪年 几月 几号 日期 都 有哪些 有谁
    what which who whom when where why how much many is are was were did does do the a an of in on for to at by
    with about tell me please value amount number figure have has had its their s it this that these those they
    数量 大约 约 大概 左右 比较 说 认为 做出 全年 目前 倍 通过 可以 能 哪项 哪种 哪款 哪家 哪部 哪支 方式 目前
    之前 之后 以前 以后 以来 此前 会 将会 可能 能够 应该 总共 一共 总计 到底 究竟
    叫 叫做 名字 名称 称为 称作 被称作 被称为 called name named known
    reach reached reaches been being one""".split()
)
# Prepositions, conjunctions, auxiliaries and pronouns ("基于", "并且", "的"): they shape the question, a passage
# that answers it need not repeat them. Adverbs stay: "最终" and "首次" say which figure is asked.
_FUNCTION_TAGS = frozenset({"p", "c", "u", "r", "y", "e", "o"})
_TITLE = re.compile(r"《([^》]{1,40})》|“([^”]{1,30})”|\"([^\"]{1,30})\"")
_LATIN_NAME = re.compile(r"(?<![A-Za-z0-9])([A-Z][A-Za-z0-9&.\-]*(?:[ \-][A-Z0-9][A-Za-z0-9&.\-]*)*|[A-Za-z]+\d[A-Za-z0-9\-]*"
                         r"|(?<![\u4e00-\u9fff])\d[A-Z]{1,3}(?![A-Za-z0-9\u4e00-\u9fff]))")  # "9Z's": a digit and capitals
# "December 31", "June 30": a day of the year is a period, not a name.
_MONTH_DAY = re.compile(r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
                        r"(?:\s+\d{1,2})?$")
_TICKER = re.compile(r"\b\d{4,5}\.HK\b|\b[A-Z]{2,5}\b(?=\s*\))", re.I)
# A listing code as an answer: "0020.HK", "600519.SH", "BABA.N", "(NYSE: MMM)", and a mainland or Hong Kong
# filing's bare code after its label ("证券代码:300917", "(Stock Code: 2468)").
TICKER = re.compile(r"\b\d{4,6}\.(?:HK|SH|SZ|SS|T)\b|(?:(?<=代码[:：])|(?<=代码为)|(?<=[Cc]ode:)|(?<=[Cc]ode: )|(?<=CODE: ))\d{4,6}(?!\d)|"
                    r"\b[A-Z]{1,5}\.(?:N|O|US|L)\b|(?<=[:：]\s)[A-Z]{1,5}\b|"
                    r"\b(?:NYSE|NASDAQ|HKEX|SEHK)[:：]?\s*[A-Z0-9]{1,6}\b")
# A number with what it counts: "1500米", "45.8%", "15人", "2.6万人" (years are periods, handled apart); a currency
# code may stand glued before it ("RMB8,412 million"), but never a digit and comma ("412" is no number of its own);
# a loss is negative ("-0.36", "为-0.82亿元"), but "2022-08" is a date, not 2022 and -08.
NUMBER_WITH_UNIT = re.compile(
    r"(?:(?<![A-Za-z\d.\-])|(?<=RMB)|(?<=HKD)|(?<=USD)|(?<=EUR))(?<!\d,)(-?\d+(?:[.,]\d+)*|[零一二两三四五六七八九十百千万亿]+(?=[个人名次年天倍家款项支队座架辆台元%]))"
    r"\s*(%|‰|(?:万亿|亿|万|千|百)?(?:美元|港元|港币|欧元|英镑|日元|人民币|元|人次|人|名|个月|小时|分钟|个|辆|吨|台|架|次|倍|家|款|项|支|队|座|斤|公里|千米|米|件|张|部|所|只|天|年)"
    r"|万亿|亿|万|千|百|nm|token/s|km|mph|million|billion|trillion|thousand|percent|x(?![a-z]))?",
    re.I,
)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")
_QUARTER = re.compile(
    r"(?:(?<![同每单])第?([一二三四1-4])季度|(?<![A-Za-z])Q([1-4])(?![\dA-Za-z])|\b(first|second|third|fourth) quarter"
    r"|([上下])半年|(?<![A-Za-z])H([12])(?![\dA-Za-z])|\b(first|second) half\b|\bsix months ended 30 (June)\b)",
    re.I,
)
# Reports name a quarter or half by its months: "2024年1-3月" is the first quarter, "1—6月" the first half.
_MONTH_SPAN = re.compile(r"(?<!\d)(1|4|7|10)\s*[-—–~至到]\s*(3|6|9|12)\s*月")
_MONTH_SPANS = {("1", "3"): "Q1", ("4", "6"): "Q2", ("7", "9"): "Q3", ("10", "12"): "Q4", ("1", "6"): "H1", ("7", "12"): "H2"}
_QUARTER_NUMBER = {"一": "1", "二": "2", "三": "3", "四": "4", "first": "1", "second": "2", "third": "3", "fourth": "4"}
# Part-of-speech tags of proper names: person, place, organisation, other proper noun, Latin word.
PROPER_TAGS = ("nr", "nrt", "nrfg", "ns", "nt", "nz")


# "哪个组", "哪支球队", "哪部电影": the noun after the "which" names the kind of thing asked for.
_WHICH = re.compile(r"哪(?:一个|个|一|支|家|部|款|位|种|所|座|条|项|只|届|场)")


def _which_noun(question: str) -> str:
    which = _WHICH.search(question)
    first = next(iter(cut_with_tags(question[which.end() :])), ("", "")) if which else ("", "")
    # A one-character kind ("组") is tagged as anything; a longer one must be a noun.
    noun = first[1].startswith("n") or (len(first[0]) == 1 and first[1] not in ("d", "p", "u", "uj", "m", "x", "v", "r", "c", "y"))
    return first[0] if noun and re.fullmatch(r"[\u4e00-\u9fff]{1,3}", first[0]) else ""


@dataclass
class Asked:
    """The parts of a question an answer has to match."""

    text: str
    language: str
    expects: str  # reason | number | date | place | person | entity | any
    entities: list[str] = field(default_factory=list)  # names as written in the question
    companies: list[str] = field(default_factory=list)  # canonical lexicon names (aliases help matching)
    attributes: list[str] = field(default_factory=list)  # content words that are neither names nor question words
    periods: set[str] = field(default_factory=set)  # years ("2025") and parts of years ("Q3", "H1")
    numbers: list[str] = field(default_factory=list)  # figures the question itself states ("1500米")
    measure: str = ""  # the unit a "多少/几" question counts in ("人" in "多少人"; "钱" for money)
    named_companies: set[str] = field(default_factory=set)  # the entities that are companies, listed or not
    head: str = ""  # the attribute a figure is asked of ("产量" in "2022年棉花产量是多少")
    kind_noun: str = ""  # what a "哪个/哪支" question asks for ("组" in "在哪个组", "球队" in "哪支球队")
    name_of: list[str] = field(default_factory=list)  # the kind asked for by name ("芯片叫什么", "哪些方向")


def periods_in(text: str) -> set[str]:
    """Years and quarters/halves a text names, in one spelling whatever the language."""
    text = normalize(text)
    found = set(_YEAR.findall(text))
    for match in _QUARTER.finditer(text):
        if match.group(4):
            found.add("H1" if match.group(4) == "上" else "H2")
        elif match.group(6) or match.group(7):  # "first half", "six months ended 30 June"
            found.add("H2" if (match.group(6) or "").lower() == "second" else "H1")
        elif match.group(5):
            found.add("H" + match.group(5))
        else:
            number = match.group(1) or match.group(2) or (match.group(3) or "").lower()
            found.add("Q" + _QUARTER_NUMBER.get(number, number))
    found |= {_MONTH_SPANS[m.groups()] for m in _MONTH_SPAN.finditer(text) if m.groups() in _MONTH_SPANS}
    return found


def proper_names(text: str, kinds: tuple[str, ...] = PROPER_TAGS, join: bool = False) -> list[str]:
    """Names found without any list: jieba's proper-noun tags (only `kinds`: person tags for a "who" question),
    Latin names, tickers and titles in 《》 or quotes. `join` keeps neighbouring name pieces together, as an
    answer's item should be (a bank's name the tagger cuts in two); a question's names stay apart ("中国"
    and "城镇" are two things to look for)."""
    text = normalize(text)
    names: list[str] = []
    if "nz" in kinds:
        names += [g for m in _TITLE.finditer(text) for g in m.groups() if g]
    tagged = [(word, tag in kinds) for word, tag in cut_with_tags(text)]
    if join:
        pieces = ["".join(w for w, _ in run) for is_name, run in groupby(tagged, key=lambda t: t[1]) if is_name]
    else:
        pieces = [w for w, is_name in tagged if is_name]
    names += [p for p in pieces if len(p) >= 2]
    # A person's name joined by a middle dot ("维克多·林德曼") is cut into pieces: keep it whole.
    names += re.findall(r"[\u4e00-\u9fff]{1,6}[·•・][\u4e00-\u9fff]{1,8}", text) if "nr" in kinds else []
    for match in _LATIN_NAME.finditer(text):
        # "Which Xiaomi" is a question word before a name: keep the name only.
        parts = [re.sub(r"-[a-z].*$", "", p) for p in match.group(1).split(" ") if p.lower() not in _QUESTION_WORDS]
        name = " ".join(parts)
        if len(name) >= 2 and not _MONTH_DAY.match(name):
            names.append(name)
    names += _TICKER.findall(text)
    unique: dict[str, str] = {}
    for name in (n.strip() for n in names):
        if name:
            unique.setdefault(name.lower(), name)
    return list(unique.values())


def dictionary_tag(word: str) -> str:
    """The part-of-speech tag jieba's dictionary gives a word out of context ("" for a word it does not know)."""
    return tagger().word_tag_tab.get(word, "")


PERSON_TAGS = ("nr", "nrt", "nrfg")
PLACE_TAGS = ("ns",)


# Counting words: "12个城市" counts cities, whatever the number.
CLASSIFIERS = frozenset("个 家 项 款 支 所 座 部 件 张 只 名 位 台 辆 架".split())
_CODE_WORD = re.compile(r"(股票|证券|上市)?代码|代号|\bticker\b|\b(stock|trading) (code|symbol)\b", re.I)
# Interrogatives say outright what kind of item is wanted; they win over the hints that attribute nouns give
# ("哪家机构测算的增速" asks for an organisation, though "增速" alone would suggest a number).
_INTERROGATIVES: list[tuple[str, re.Pattern[str]]] = [
    ("reason", re.compile(r"为什么|为何|什么原因|何以|\bwhy\b", re.I)),
    ("code", _CODE_WORD),
    ("person", re.compile(r"谁|哪位|\bwho\b|\bwhom\b", re.I)),
    # "what year-on-year growth" asks for a figure, not a year.
    ("date", re.compile(_WHEN_ZH + r"|\bwhen\b|"
                        r"what (date|day|year|month)\b(?!-)|which (year|month|day)\b(?!-)", re.I)),
    ("place", re.compile(_WHERE, re.I)),
    ("number", re.compile(r"多少|多长|多久|多大|多高|多远|多重|几[个次家款名位年天人所支只倍成纳]|"
                          r"\bhow (much|many|fast|large|big|long|high)\b", re.I)),
    ("entity", re.compile(r"哪[一两几二三四五六七八九十]?[个家部支款只所种些队国项重类点]|\bwhich\b", re.I)),
]


_INTERROGATIVE_WORDS = re.compile(r"多少|多大|多长|多久|多高|几|哪一?[个家些位款部支项种里儿年天]?|什么|是否|怎样|如何|为什么|为何|谁")


def expected_kind(question: str) -> str:
    for kind, pattern in _INTERROGATIVES + _EXPECTS:
        if pattern.search(question):
            return kind
    return "any"


# Per kind of answer: the interrogative a Chinese question asks with, and the words that only restate the kind.
_ASKING_BY_KIND = {
    "number": (re.compile(r"多少|几"), frozenset({"数量", "数字", "数额"})),
    "person": (re.compile(r"谁|哪位"), frozenset({"人", "人物"})),
    "date": (re.compile(_WHEN_ZH), frozenset({"时间", "日期", "时候", "年份"})),
    "place": (re.compile(_WHERE), frozenset({"地点", "地方", "位置", "城市", "国家"})),
}


_BOUNDS = frozenset({"下限", "上限"})
_ASKS_NAME_ZH = re.compile(r"叫做?什么|名字|名称|是什么|是哪[个款]")
_WHICH_SEVERAL = re.compile(r"哪(?:些|几|[两三四五六七八九十])(?:个|重|种|类|大|项|家|位|条)?")
_ASKS_NAME_EN = re.compile(r"\bcalled\b|\bname of\b|\bnamed\b", re.I)


def _name_of(question: str, attributes: list[str], kind: str) -> list[str]:
    """The words for the kind of thing whose name is asked: Chinese puts the kind right before the asking words
    ("自研的芯片叫什么名字") or after "哪些" ("哪些业务方向"); English asks of a whole phrase ("Redfox's AI
    assistant app called")."""
    if kind != "entity":
        return []
    if language_of(question) == "zh":
        several = _WHICH_SEVERAL.search(question)
        if several:  # "在哪些业务方向上": the nouns after the interrogative, the last one the kind
            nouns = []
            for word, tag in cut_with_tags(question[several.end() :]):
                if not (tag.startswith("n") or tag == "vn"):
                    break
                nouns.append(word)
            return [w for w in nouns[-1:] if w in attributes]
        asking = _ASKS_NAME_ZH.search(question)
        before = re.sub(r"[的是为叫]+$", "", question[: asking.start()]) if asking else ""
        return [a for a in attributes if before.endswith(a)][:1]
    return list(attributes) if _ASKS_NAME_EN.search(question) else []


def _head_asked(question: str, attributes: list[str], kind: str) -> str:
    """The attribute the asked item is the value of: the noun a counting word puts after the interrogative
    ("多少个车站"), else the last content word before it ("棉花产量是多少", "金牌得主是谁"), else a figure question's
    last word ("2022年棉花产量"). After a unit ("几纳米工艺") comes the kind of answer, not its metric."""
    if kind not in _ASKING_BY_KIND or language_of(question) != "zh":
        return ""
    pattern, kind_words = _ASKING_BY_KIND[kind]
    # "净利润下限": a bound of the metric, which a range states ("8,200万元至9,600万元"); the metric is the head.
    attributes = [a for a in attributes if a not in kind_words and not (kind == "number" and a in _BOUNDS)]
    asking = pattern.search(question)
    if asking:
        after = question[asking.end() :]
        counted = next((a for a in attributes if after[1:].startswith(a)), "") if kind == "number" and after[:1] in CLASSIFIERS else ""
        if counted or kind == "number":
            return counted or next((a for a in reversed(attributes) if a in question[: asking.start()]), "")
        # "揭幕时间是什么时候" asks when the season opens; in "举办了哪些活动" the verb is no attribute of a date.
        before = re.sub(r"[是为在于的将会要]+$", "", question[: asking.start()])
        before = re.sub("(" + "|".join(kind_words) + r")$", "", before) if kind_words else before
        return next((a for a in attributes if before.endswith(a)), "")
    if kind != "number":
        return ""
    return attributes[-1] if attributes and question.rstrip("?？ ").endswith(attributes[-1]) else ""


def analyse(question: str, lexicon: Lexicon) -> Asked:
    question = normalize(question).strip()
    companies = lexicon.companies_in(question)
    # The measure word after "多少/几/哪个" ("多少人", "哪个组", "几纳米") names the answer's unit or kind, not what it
    # is about: neither an entity nor an attribute.
    measures = {m[:k] for m in re.findall(r"(?:多少|几|哪个|哪一|哪)([\u4e00-\u9fff]{1,2})", question) for k in (1, 2)}
    entities = [
        n for n in proper_names(question) if n.lower() not in _QUESTION_WORDS and not _YEAR.fullmatch(n) and n not in measures
    ]
    for subject in subjects_in(question, lexicon):  # a company name the tagger cut into common words
        if subject.known:
            continue
        name = subject.name.lower()
        if companies_named(subject.name, lexicon):
            # "蓝鲸科技" holds the tagger's "蓝鲸": a company's whole name replaces its piece.
            entities = [subject.name if e.lower() in name else e for e in entities]
        if not any(name in e.lower() or e.lower() in name for e in entities):
            entities.append(subject.name)
    # "新手机" is in jieba's dictionary as a proper noun, but it is an adjective and a common noun: a description.
    entities = [e for e in dict.fromkeys(entities) if e not in measures and not _MONTH_DAY.match(e) and not (
        len(e) >= 3 and dictionary_tag(e[0]) == "a" and dictionary_tag(e[1:]) == "n")]
    for company in companies:  # a lexicon name the tagger missed still names the subject
        if not any(company.lower() in e.lower() or e.lower() in company.lower() for e in entities):
            entities.append(next((a for a in lexicon.aliases_of(company) if a.lower() in question.lower()), company))
    entity_words = {w for e in entities for w in words(e, lexicon)} | {e.lower() for e in entities}
    # Figures are read with the interrogatives cut out: "哪一年" holds no figure "一年".
    bare = _INTERROGATIVE_WORDS.sub(" ", question)
    # "第一家" is an order and "一家" an article, not an amount a passage must repeat.
    numbers = [
        m.group(0).strip() for m in NUMBER_WITH_UNIT.finditer(bare)
        if not _YEAR.fullmatch(m.group(1)) and m.group(2) and bare[m.start() - 1 : m.start()] != "第" and m.group(1) not in ("一", "两")
    ]
    # Interrogatives are cut out first (`bare`), or they glue to the words around them ("多少倍", "多大规模").
    entity_text = " ".join([*entities, *(a for c in companies for a in lexicon.aliases_of(c))]).lower()
    # "第一季度" is a period, already in `periods`: its "第一" is no word a passage must hold.
    attributes = [
        w for w in dict.fromkeys(words(_QUARTER.sub(" ", bare), lexicon)) if w not in measures and w not in entity_text
        if w not in entity_words and w not in _QUESTION_WORDS and not re.fullmatch(r"[\d.,%年月日季度q]+|[a-z]", w)
        and not _MONTH_DAY.fullmatch(w.capitalize())  # "december" in "at December 31, 2018" names the period
        and dictionary_tag(w) not in _FUNCTION_TAGS
    ]
    # "P/E", "EV/EBITDA": an abbreviation written with a slash is one word, which word cutting splits in letters.
    attributes += [a.lower() for a in re.findall(r"\b[A-Za-z]{1,6}/[A-Za-z]{1,6}\b", question) if a.lower() not in attributes]
    expects = expected_kind(question)
    if expects == "code":  # "股票代码" names the kind of answer, like a measure word
        attributes = [a for a in attributes if not _CODE_WORD.search(a)]
    if expects == "any" and periods_in(question) and re.match(r"what (was|were|is|are)\b", question, re.I):
        expects = "number"  # "What were the total assets at December 31, 2017?" asks for a figure of a period
    head = _head_asked(question, attributes, expects)
    unit = re.search(r"(?:多少|几)([人个辆家次吨米元钱岁天台架部支座名位款件张斤亩场枚只所条项])", question)
    return Asked(
        text=question, language=language_of(question), expects=expects, entities=entities,
        companies=companies, attributes=attributes, periods=periods_in(question), numbers=numbers,
        measure=unit.group(1) if unit else "", named_companies=companies_named(" ".join(entities), lexicon), head=head,
        kind_noun=_which_noun(question), name_of=_name_of(question, attributes, expects),
    )
