"""The offline default answerer: it answers with the passages' own sentences, cited, and refuses when no sentence
holds what the question asks for.

It works from evidence, not from similarity alone: a sentence answers only when it is about the question's entity
(it or its passage names it), speaks of the asked attribute, falls in the asked period, holds an item of the kind
the question expects (a number for "多少/how many", a date for "何时/when", a name for "谁/who"...), that the question
does not already state, and is not itself a question. The answer leads with that item, cited, then quotes the
sentence it comes from. Table rows (datasets and statement tables from PDFs) are looked up by row label and period
column. When sources give different figures for the same thing, the answer says so, newest first.

It takes the passages as LangChain Documents (structured input), so the prompt files are free to change.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from langchain_core.documents import Document

from assistant.lookup import statement_bonus, unit_phrase
from assistant.question import (
    CLASSIFIERS,
    NUMBER_WITH_UNIT,
    PERSON_TAGS,
    PLACE_TAGS,
    PROPER_TAGS,
    TICKER,
    Asked,
    analyse,
    dictionary_tag,
    expected_kind,
    periods_in,
    proper_names,
)
from assistant.rewrite import COMPANY_SUFFIX, companies_named, cut_with_tags
from assistant.rows import parse_rows
from assistant.text import Lexicon, english_figure, language_of, mentions, normalize, split_sentences, words

# Sentences that address the reader as a model are instructions smuggled into data: never repeat them. Only
# imperative forms aimed at the reader count, so ordinary talk about "system prompts" in an AI corpus stays.
_INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above|earlier) (instructions|rules|prompts?)|"
    r"disregard (all |any )?(previous|prior|the above)|"
    r"\byou are now\b|from now on,? (you|answer|reply)|new instructions?:|(reply|respond|answer) only with|"
    r"忽略(之前|以上|前面|先前|所有|上述)[^。]{0,6}(指令|指示|规则|提示|要求)|无视(之前|以上|上述)|你现在是|从现在(开始|起)[,，]?你|"
    r"只(能|许)?(回答|回复|输出)\s*[:：'\"‘“「]|"
    r"assistant:|[<\u2039]/?(passage|question)",
    re.I,
)
_IS_QUESTION = re.compile(r"[??]\s*[\"'”」』)\]]*\s*$|(吗|呢)\s*[。.]?\s*$")
_CAUSAL = re.compile(
    r"因为|由于|原因|源于|在于|所以|因此|因而|得益于|取决于|导致|受益于|推动|驱动"
    r"|because|since|due to|reflects?|driven by|thanks to|stems? from|as a result|so that|owing to",
    re.I,
)
# "更多关于“这款耳机续航多久”的内容请关注本站": a sentence that quotes a question answers nothing either.
_QUOTED_QUESTION = re.compile(
    r"[“\"「『][^”\"」』]{0,40}(什么|哪[个些里儿家位种款]|谁|多少|为何|为什么|如何|怎么|吗|[?？])[^”\"」』]{0,40}[”\"」』]"
)
_SEQUENTIAL = re.compile(r"环比|quarter[- ]on[- ]quarter|month[- ]on[- ]month|sequential", re.I)
_NAMING = r"(?:叫做?|名为|名叫|名字[是为]|名称[是为]|命名为|称为|取名为?|\bnamed|\bcalled)\s*[“\"「《']?"
_POINTS_BACK = re.compile(r"^(这一|这种|这些|这个|上述|此外|该|其)|^(this|that|these|those|such|it)\b", re.I)
_REFERS_BACK = re.compile(r"(这一|这种|这些|上述|此)[\u4e00-\u9fff]|\b(this|these|that) (bottleneck|problem|reason|gap|factor|trend)", re.I)
_HEADING_LIKE = re.compile(r"^\s*(#|[-*|]\s*$)")
_DATE_ITEM = re.compile(
    r"\d{1,2}\s*月\s*\d{1,2}\s*日?\s*[-—~至到]\s*\d{1,2}\s*[日号]|(?:(?:19|20)\d\d\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]|(?:19|20)\d\d\s*年\s*\d{1,2}\s*月|\d{1,2}\s*月\s*(?:上|中|下)旬|"
    r"(?:19|20)\d\d[-/.]\d{1,2}[-/.]\d{1,2}|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+\d{1,2}(?!\d)(?:,\s*(?:19|20)\d\d)?|"
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December)\s+(?:19|20)\d\d|"
    r"\d{1,2}\s+(?:January|February|March|April|May|June|July|August|September|October|November|December)(?:\s+(?:19|20)\d\d)?|"
    r"\d{1,2}\s*[-—~至到]\s*\d{1,2}\s*月|(?:19|20)\d\d\s*年|(?:今|明|昨|前|后)(?:天|日)|(?:本|上|下)?(?:周|星期)[一二三四五六日天]",
    re.I,
)
_RELATIVE_DAY = re.compile(r"\s*(?:今|明|昨|前|后)(?:天|日)\s*|\s*(?:本|上|下)?(?:周|星期)[一二三四五六日天]\s*")
_YEAR_ONLY = re.compile(r"^(?:19|20)\d\d\s*年$")
_ASKS_YEAR = re.compile(r"哪一?年|几几年|年份|\b(?:which|what) year\b", re.I)
_PLACE_SUFFIX = re.compile(r"[\u4e00-\u9fff]{1,6}(?:市|省|县|区|镇|州|国|岛|城|村|湾|港)")
# A person named right after a role ("嫌疑人林默", "导演周青"): the tagger misses many foreign and rare names.
_ROLE_WORDS = (r"(?:嫌疑人|凶手|枪手|导演|主演|演员|选手|球员|总统|总理|首相|市长|主席|领导人|外长|部长"
               r"|得主|冠军|记者|作者|编剧|主持人|创始人)")
# Titles in a company or an organisation: a word ending so names a role ("总经理", "财务总监", "董事会秘书"); in a
# text, "董事会" is the board, not a person's role.
_COMPANY_ROLES = "经理|总监|总裁|董事长|董事|秘书|主席|负责人|行长|会长|院长|主任|部长|局长|教练|队长"
_ROLE_SUFFIX = re.compile(rf"(?:{_COMPANY_ROLES}|代表)$")
# Verbs that undo what the word after them names: a passage about the pledge, deal or payout itself is no answer.
_UNDOING = re.compile(r"解除|解押|取消|终止|撤销|撤回|\b(?:cancel(?:led|s)?|terminat(?:ed|es|e)|withdr[ae]w[ns]?)\b", re.I)
_ROLE_IN_TEXT = re.compile(_COMPANY_ROLES.replace("董事|", "董事(?!会)|"))
_AFTER_ROLE = re.compile(_ROLE_WORDS + r"[:：为是由]?([\u4e00-\u9fff·]{2,6})")
# Right after a date, a verb of saying makes it the day something was said or reported ("网站3月5日发表…的报道",
# "发言人1月31日确认…的日期"), not the day of the asked event.
_SAID_AFTER = re.compile(r"\s*(?:发表|报道|报导|撰文|发文|称|表示|透露|指出|获悉|援引|引述|确认|回应)")
_SAYING = re.compile(r"发表|报道|报导|撰文|发文|称|表示|透露|指出|获悉|援引|引述|确认|回应|宣布|\b(?:said|reported|announced|confirmed)\b")
# A figure or date in a clause that states a plan, a target or a forecast is not what happened.
_PLANNED = re.compile(r"计划|规划|目标|预计|预期|预测|预估|估计|有望|力争|争取|需要|"
                      r"\b(?:plans?|planned|targets?|expected|expects?|forecasts?|aims?|projected|guidance)\b", re.I)
_NOT_NAME_START = set("也都还就将已又再亦曾正在被把对向从所的了和与及")
_COMMON_TAGS = frozenset("v vn vd d p c u r n a ad an m q t f l i z".split())
_NAME_STOP = re.compile(r"[的在于是为和与等被将已执主出担饰获表称说所也了与及、就却便才]")
_LATIN_WORD = re.compile(r"[a-z]+")
_ASKING = re.compile(r"什么|哪[个些里儿家位]|怎么|如何|为什么|多少|吗$|\?|？")
# Lines a news page wraps its text in: where it came from, who edited it, its original title.
_BOILERPLATE = re.compile(r"\s*(来源|稿源|责任编辑|责编|编辑|原标题|作者|记者|Source|Editor)\s*[:：]", re.I)
# "revenue share", "market share": a part of a whole, not a stock's share ("share price", "per share").
_SHARE_OF_A_WHOLE = r"(?<!per )\bshare\b(?!\s*(?:price|capital|count|repurchase|buyback))"
# Questions about a rate, a share or a change: only they are answered by a percentage.
_RATE = re.compile(
    r"率|比例|占比|比重|份额|占|增速|增长|增幅|涨|跌|幅|下降|上升|提升|回报|同比|环比|百分|成|%|"
    r"percent|share of|stake|grow|growth|rate|margin|ratio|rise|fall|gain|drop|increase|decrease|\bup\b|\bdown\b|yield|return|"
    + _SHARE_OF_A_WHOLE,
    re.I,
)
# Questions that ask for a rate or a share itself, which only a percentage (or a multiple) states.
_RATIO = re.compile(r"率(?!先|领)|比例|占比|比重|份额|百分比|\b(?:rate|ratio|margin|percentage)\b|" + _SHARE_OF_A_WHOLE, re.I)
# A filing's title ends in what it is; in one, "公司" or "the Company" is the issuer.
_FILING_TITLE = re.compile(r"(?:公告|通知|报告|预告|快报|决议|摘要)(?:\s*[(（][^)）]*[)）])?\s*$|\b(?:announcement|results|report)\b", re.I)
_ISSUER = re.compile(r"(?:^|[,，。;；:：、\s])(?:本公司|公司)(?=[\u4e00-\u9fff])(?!名称|章程)|\bthe (?:Company|Group)\b")
# Words for a sum of money, which an amount in 元 states by its unit (a price per unit, "单价", it does not).
_MONEY_HEAD = re.compile(r"金额|价款|对价|资金|费用|总价|总额|\bamount\b|\bsum\b", re.I)
# Measure words that say what kind of figure is asked, not of what: the word before says that ("中标金额", "减持数量").
_GENERIC_HEAD = re.compile(r"金额|数量|规模|总额|比例|价格|时间|日期")
_GROWTH_HEAD = re.compile(r"增长|增速|涨幅|增幅|下降|降幅|下滑")
# A percentage that is a share ("18%的AI收入占比") does not answer how much something grew.
_SHARE_AFTER = re.compile(r"\s*的?[^,，。;；]{0,6}?(?:占比|比重|份额)")
_SHARE_ASKED = re.compile(r"占比|比重|份额|比例|占|\bshare\b|proportion|stake", re.I)
_CODE_LABEL = re.compile(r"(?:证券|股票)代码|\bstock code\b", re.I)
# A figure that totals everything so far, not one event's.
_CUMULATIVE = re.compile(r"累计|合计|共计|总计|\bcumulative(?:ly)?\b|\bin (?:total|aggregate)\b", re.I)
_ASKS_TOTAL = re.compile(_CUMULATIVE.pattern + r"|总|一共|全年|全部|\btotal\b|\baltogether\b", re.I)
# Words that make the figure after them a bound, not the figure itself.
_BOUND_BEFORE = re.compile(r"(?:突破|超过|超出|超|逾|多于|不少于|近|接近|more than|over|above|nearly|almost)\s*$", re.I)
# Questions that ask for a multiple: a valuation multiple or "how many times".
_MULTIPLE = re.compile(r"\bmultiples?\b|倍数|多少倍|几倍|市盈率|市净率|市销率|\bP/[EBS]\b|\bPE\b", re.I)
# What is left of a piece once dates, times, figures and punctuation are gone: "Oct 13, 2022 .." and
# "2022-08-02 10:57" (dates of search-result snippets) say nothing.
_CONTENT = re.compile(r"[\d\s\W_]+|\b(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\b")
_CLAUSE = re.compile(r"(?<=[,，;；:：])|(?<=[\u4e00-\u9fff] )(?=[\u4e00-\u9fff])")  # a space between Chinese words ends a headline
_SPAN_OF_YEARS = re.compile(
    r"(?:近|过去|最近|前)[一二两三四五六七八九十\d]{1,2}年|(?<![\d一二两三四五六七八九十])[一二两三四五六七八九十\d]{1,2}年(?:来|间|累计)|"
    r"\b(?:past|last|previous) (?:\w+ )?years\b", re.I)
_MAX_QUOTE = 110
_LOWER_ASKED = re.compile(r"下限|\blower (?:bound|end|limit)\b|\bfloor\b", re.I)
_CURRENCY_BEFORE = r"(?:RMB|HKD|USD|HK\$|US\$|\$|人民币)?\s*"
_BETWEEN_AND = re.compile(r"\s+and\s+" + _CURRENCY_BEFORE, re.I)  # "between RMB80 million and RMB95 million"
_MOVED = re.compile(r"\b(?:rose|rise[sn]?|fell|fall(?:en|s)?|drop(?:ped|s)?|gr[eo]w[ns]?|increased?|decreased?|declined?|climbed?|"
                    r"jump(?:ed|s)?|gain(?:ed|s)?|slid|surged?|up|down)\s+(?:by\s+)?" + _CURRENCY_BEFORE + "$", re.I)
_PAYING = re.compile(r"\bhow much\b.*\b(?:pay|pays|paying|paid|spend|spends|spending|spent|cost|costs)\b", re.I)
_CHANGE_FROM = re.compile(r"(?:从|由|\bfrom)\s*" + _CURRENCY_BEFORE + "$", re.I)
_UPPER_ASKED = re.compile(r"上限|\bupper (?:bound|end|limit)\b|\bceiling\b", re.I)
_RANGE_TO = re.compile(r"\s*(?:至|到|~|～|-|—|–|\bto\b)\s*" + _CURRENCY_BEFORE, re.I)
# Between a name and the word for its kind: quotes, a colon, "是/为/名为" ("AI助手“蓝鲸小帆”", "主题是“X”", "Orca assistant").
_BESIDE = re.compile(r"[\s“”「」『』\"'‘’()（）:：]*(?:是|为|名为|叫做?|named|called)?[\s“”「」『』\"'‘’:：]*"
                     r"(?:[(（][^()（）]{1,20}[)）]\s*)?", re.I)  # "Bluefin X2 (蓝鳍X2) chip": an alias between
_COUNT = r"([一二两三四五六七八九十]|\d{1,2})\s*(?:个|大|种|项|类|重|条|家|款)?"  # "两个", "三款": how many items
_COUNT_BEFORE = re.compile(_COUNT + "$")
_LIST_AFTER = re.compile(r"\s*[(（:：]\s*([^()（）:：。;；!?！？]{2,60}?)\s*(?:[)）]|[。;；]|$)")
_COUNT_BETWEEN = re.compile(r"\s*" + _COUNT + r"\s*")  # "B两个方向"
# Where a Chinese name before its kind may start: the sentence's start, a mark, "的" or "了" ("青岚的墨问大模型").
_NAME_START = re.compile(r"(?:^|(?<=[\s,，。;；:：、“”\"「」『』()（）的了]))([\u4e00-\u9fff]{2,4})$")
# "在语音合成和图像检索两个方向上": a list, then a count of its items, then what they are; the list starts after a mark or
# a word that introduces it.
_COUNTED_LIST = re.compile(r"(?:^|[,，。;；:：“”]|在|包括|涵盖|覆盖|聚焦|集中于|围绕|即)([^,，。;；:：“”在]{2,40}?)"
                           + _COUNT + "$")
_INTRODUCES_LIST = re.compile(r"[:：]\s*$")  # "…需要四个条件:" is followed by its items
_NAMED = ("entity", "person", "place")  # kinds of answer that are a name
_PLURAL = re.compile(r"哪些|有谁|都是谁|分别|\bwhich \w+ (?:are|were|have)\b|\bwho are\b", re.I)  # asks for several
_DESCRIBED_COVERAGE = 0.7  # a sentence must cover this much of a question whose answer is no name, number or date
# How far (in characters) an answer item may stand from the asked attribute's words, by the kind of item.
_REACH = {"number": 20, "date": 24, "person": 12, "place": 16, "entity": 16, "code": 40}


@dataclass
class _Sentence:
    text: str
    passage: int  # 1-based passage number, the citation marker
    rank: int  # passage rank from retrieval, 0 = best
    doc: Document
    context: str = ""  # the passage's title, source name and full text: where its entity may be named
    previous: str = ""
    following: list[str] = field(default_factory=list)
    row: dict[str, str] | None = None  # fields, when the sentence was rendered from a table row
    heading: str = ""  # the name a bullet point sits under ("### Orca-7" then "- Runs on phones"): its subject
    lead: str = ""  # the asked item found in it
    coverage: float = 0.0
    sim: float = 0.0
    score: float = 0.0

    @property
    def date(self) -> str:
        return str(self.doc.metadata.get("date") or "")


def _stem(word: str) -> str:
    """A light English stem, enough to match "employees" with "employee", "shipped" with "ship" and "raising" with
    "raise", and "grew" with nothing wrong."""
    stem = word
    for suffix in ("ies", "es", "s", "ing", "ed"):
        if len(word) >= len(suffix) + 3 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            if suffix in ("ing", "ed") and len(stem) > 3 and stem[-1] == stem[-2] and stem[-1] not in "aeiouls":
                stem = stem[:-1]  # "shipped", "planning": the doubled consonant is spelling
            break
    return stem.rstrip("e") if len(stem) >= 4 else stem  # "employee(s)", "price(s)", "raise(d)": one stem each


def _cover(word: str, text: str) -> float:
    """How much of a question word a text holds: whole words fully, Chinese words in part by their character pairs
    ("死亡人数" is half held by "死亡"), English words by their stems."""
    if _LATIN_WORD.fullmatch(word):
        stems = {_stem(w) for w in _LATIN_WORD.findall(text)}
        return 1.0 if _stem(word) in stems else 0.0
    if word in text:
        return 1.0
    if len(word) >= 3:
        pairs = [word[i : i + 2] for i in range(len(word) - 1)]
        share = sum(p in text for p in pairs) / len(pairs)
        return share if share >= 0.5 else 0.0
    return 0.0


def _touches(word: str, text: str) -> bool:
    """The text holds the word or, for a longer Chinese word, one of its character pairs."""
    if _LATIN_WORD.fullmatch(word) or len(word) < 3:
        return _cover(word, text) > 0
    return any(word[i : i + 2] in text for i in range(len(word) - 1))


_ORDINAL = re.compile(r"第([一二三四五六七八九十两\d]{1,3})\s*([\u4e00-\u9fff])")
# A lettered label: "A轮" (a funding round), "B组", "Pre-A轮", "C类".
_LABEL = re.compile(r"(?<![A-Za-z])((?:Pre-)?[A-Za-z]\+?)\s*(轮|组|类|级)")
_CHINESE_DIGITS = {c: i for i, c in enumerate("零一二三四五六七八九")} | {"两": 2}


def _ordinal_value(numeral: str) -> int:
    """"19", "十九" and "一" as numbers: enough for the orders news speaks of."""
    if numeral.isdigit():
        return int(numeral)
    if "十" in numeral:
        tens, _, ones = numeral.partition("十")
        return _CHINESE_DIGITS.get(tens, 1) * 10 + _CHINESE_DIGITS.get(ones, 0)
    return _CHINESE_DIGITS.get(numeral, -1) if len(numeral) == 1 else -1


def _abbreviated(name: str, text: str) -> bool:
    """The text spells out a Chinese abbreviation in full: its characters in order, with few between ("世锦赛" in
    "世界乒乓球团体锦标赛")."""
    if not 3 <= len(name) <= 4 or not re.fullmatch(r"[\u4e00-\u9fff]+", name):
        return False
    spread = "[\u4e00-\u9fff]{0,6}".join(re.escape(c) for c in name)
    return any(len(m.group(0)) <= 12 for m in re.finditer(spread, text))


def _name_after_role(span: str) -> str:
    """"林默" from "林默。", "周青" from "周青执导": a name ends where a function character starts.
    "" when the words after the role are ordinary words ("记者获悉", "导演也透露"), not a name."""
    if span[0] in _NOT_NAME_START:
        return ""
    cut = _NAME_STOP.search(span, 2)
    name = span[: cut.start()] if cut else span
    first = next(iter(cut_with_tags(name)), ("", ""))
    # A name the dictionary knows as a verb, adverb or common noun is no name; rare names are cut into pieces
    # the tagger marks as names, places or unknown, which pass.
    return "" if len(first[0]) > 1 and first[1] in _COMMON_TAGS else name


def _says_nothing(piece: str) -> bool:
    return len(_CONTENT.sub("", _DATE_ITEM.sub("", piece))) < 4 or _BOILERPLATE.match(piece) is not None


# A Chinese question for a span of time (an English figure's unit, "38 days", is not read as one).
_DURATION = re.compile(r"多久|多长时间|多少(?:天|年|个月|周|小时)|几(?:天|年|个月|周|小时)")
# The units that count what a measure word asks for: money in any currency, people by any counting word.
_UNIT_KINDS = {"钱": "元币", "元": "元币", "人": "人名位", "名": "人名位", "位": "人名位"}


def _unit_fits(unit: str, asked: Asked) -> bool:
    """Whether a figure's unit can answer the question: "多少人" wants people, "多少钱" money, and a percentage
    answers only a question about a rate or a change."""
    unit = unit.lower()
    if _DURATION.search(asked.text):  # "多久" wants a span of time: "38天", not a bare "01"
        return any(t in unit for t in ("天", "年", "月", "周", "小时", "分钟"))
    if unit.startswith("年"):  # "创117年来新高": a span of years answers only a question about one
        return False
    if unit in ("%", "percent", "‰"):
        # "How much is X paying for the stake" asks for money: the stake's 51% is no price.
        return asked.measure == "" and _RATE.search(asked.text) is not None and not _PAYING.search(asked.text)
    if _MULTIPLE.search(asked.text) and unit and unit not in ("倍", "x", "times"):
        return False  # "what P/E multiple" is answered by "50x", not by the "十二个月" of its definition
    if _RATIO.search(asked.text) and unit and unit not in ("倍", "x", "个百分点", "百分点"):
        return False  # "增长率是多少" is answered by a rate, not by the amount beside it ("27万亿元")
    if not asked.measure or not unit:
        return True
    if asked.measure == "个" and unit in CLASSIFIERS:
        return True  # 个 is the catch-all counting word: "多少个车站" is answered in 座
    wanted = _UNIT_KINDS.get(asked.measure, asked.measure)
    return any(c in unit for c in wanted) or unit in ("万", "亿", "千", "百", "万亿")


_MAX_CORROBORATING = 3  # passages cited for the lead item


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _label_table_rows(pieces: list[tuple[str, dict[str, str] | None]]) -> list[tuple[str, dict[str, str] | None]]:
    """Markdown table rows as sentences, each cell after its column's name ("Company = Alibaba; Camp = …"): a row
    of bare cells says neither what its figures are nor which column answers. "=" rather than ":" keeps a cell in
    one clause with its name. The header row itself states nothing and is dropped; a row whose header lies in
    another chunk keeps its bare cells."""
    out: list[tuple[str, dict[str, str] | None]] = []
    header: list[str] = []
    for i, (piece, row) in enumerate(pieces):
        line = piece.strip()
        if not line.startswith("|"):
            header = []
            out.append((piece, row))
            continue
        if re.fullmatch(r"[\s|:\-]+", line):
            continue
        following = pieces[i + 1][0].strip() if i + 1 < len(pieces) else ""
        if re.fullmatch(r"\|[\s|:\-]+", following) and "-" in following:
            header = _cells(line)
            continue
        cells = _cells(line)
        if len(cells) == len(header):
            text = "; ".join(f"{h} = {c}" if h else c for h, c in zip(header, cells) if c)
        else:
            text = "; ".join(c for c in cells if c)
        out.append((text, row))
    return out


def _key(item: str) -> str:
    """An item as compared with others: "九个" and "9" are one count, "7.42亿", "7.42 亿" and "7.42亿元" one figure."""
    key = re.sub(r"(?<=[万亿])元$", "", re.sub(r"[\s,、]", "", item).lower())
    spelled = re.fullmatch(r"([零一二两三四五六七八九十]{1,3})个?", key)
    if spelled and _ordinal_value(spelled.group(1)) >= 0:
        return str(_ordinal_value(spelled.group(1)))
    return re.sub(r"(?<=\d)个$", "", key)


def _echoes(item: str, question: str) -> bool:
    """Half or more of the item is the question's own wording ("海洋智能" for a question about a 海洋 robot): it
    restates what is asked rather than naming the answer. Only names are judged; a figure is never an echo."""
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", item) or NUMBER_WITH_UNIT.fullmatch(item.strip()):
        return False
    low = question.lower()
    pieces = re.findall(r"[\u4e00-\u9fff]|[a-z0-9]+", item.lower())
    return sum(p in low if re.match(r"[\u4e00-\u9fff]", p) else re.search(rf"\b{re.escape(p)}\b", low) is not None
               for p in pieces) * 2 >= len(pieces)


def _restates(sentence: str, question: str) -> bool:
    """The sentence is the question's own words, give or take a few ("给读者的信息:X队伍" for "X队伍")."""
    bare_sentence, bare_question = (re.sub(r"[\W_]+", "", t).lower() for t in (sentence, question))
    if not bare_sentence or not bare_question:
        return False
    # Words after the question may be its answer ("2021赛季冠军:某队"); words before it are a label.
    return bare_sentence in bare_question or (bare_sentence.endswith(bare_question) and len(bare_sentence) - len(bare_question) <= 10)


_EVENT_AFTER = re.compile(r"(?:\d{4}年)?(?:运动会|奥运会|冬奥会|亚运会|博览会|锦标赛|联赛|峰会|论坛|杯|电影节|艺术节)")


def _misread_name(text: str, name: str, kind: str) -> bool:
    """The word tagger's dictionary takes some words out of context ("高达" as a name, a person's name as a place): the words
    around say otherwise. A Chinese word right before an amount ("高达300米") qualifies the amount; a "person"
    right after "在/城市" is a place; a "place" right before "表示/说" is a speaker ("林默表示")."""
    at = text.find(name)
    before, after = text[max(0, at - 2) : at], text[at + len(name) : at + len(name) + 2]
    if re.fullmatch(r"[\u4e00-\u9fff]+", name) and re.match(r"\d", after) and not re.match(r"(?:19|20)\d\d", text[at + len(name) :]):
        return True
    if kind == "person" and (before.endswith(("在", "于")) or before == "城市"):
        return True
    if kind == "person" and _EVENT_AFTER.match(text[at + len(name) :]):
        return True  # "鹿鸣堡冬奥会", "赤狐杯": a name before an event's name is its host, not a person
    role = re.match(r"[\u4e00-\u9fff]{0,4}?" + _AFTER_ROLE.pattern, text[at + len(name) :])
    if role and _name_after_role(role.group(1)):
        return True  # "鹿鸣堡选手林默", "青岚前任市长周青": a name before a role and its holder describes the holder
    if kind == "place" and re.match(r"[\u4e00-\u9fff]{0,4}?" + _ROLE_WORDS, text[at + len(name) :]):
        return True  # "这位青岚前任市长的告别仪式": a place before a role says whose role, not where something happens
    return kind == "place" and re.match(r"表示|说|称|因|认为|指出|宣布|强调|透露", after) is not None


def _only_compared_with(text: str, names: list[str]) -> bool:
    """Every mention of the name is the yardstick of a comparison ("定价比赤狐慢", "faster than Redfox"): the
    sentence speaks of something else."""
    low = text.lower()
    spots = [m.start() for n in names for m in re.finditer(re.escape(n.lower()), low)]
    return bool(spots) and all(re.search(r"(?:比|不如|than)\s*$", low[:at]) for at in spots)


# A year named as what a figure is compared with ("an increase of 16.2% compared with 2023", "比2023年增长") is not
# the period the sentence speaks of.
_COMPARED_YEAR = re.compile(r"(?:compared (?:with|to)|than(?: in)?|versus|vs\.?|较|比|相比)\s*((?:19|20)\d\d)", re.I)


# The year a report or filing is for, as its title names it ("2022年年度权益分派", "2024年第一季度报告", "results
# for the year ended 31 December 2024"); an article's "2026 outlook" names no such year.
_REPORTED_YEAR = re.compile(r"((?:19|20)\d\d)\s*年?(?:年度|第?[一二三四]季度|半年度|年报|中报)|"
                            r"\b(?:year|period|months) ended\b[^,;]{0,20}?((?:19|20)\d\d)", re.I)


def _without_compared_years(text: str) -> str:
    """The text with each compared-with year blanked out, positions kept."""
    return _COMPARED_YEAR.sub(lambda m: m.group(0)[: m.start(1) - m.start()] + " " * 4, text)


def _states_head(lead: str, head: str) -> bool:
    """The item says by its unit what the asked metric is: "7人" states a "人数", a percentage a "比例", an amount
    in 元 a "金额" ("完成5亿元B轮融资" states the round's 金额 without the word)."""
    if len(head) == 2 and head[1] == "数" and lead.endswith(head[0]):
        return True
    if lead.endswith("%") and _RATIO.search(head):
        return True
    return "元" in _unit_of(lead) and _MONEY_HEAD.search(head) is not None


def _years_asked(asked: Asked) -> set[str]:
    """The years a sentence may name to speak of the asked period. A fiscal year's meeting or payout is dated in
    the year after it ("2023年年度股东大会" meets in 2024), so a date question about one accepts that year too."""
    years = {p for p in asked.periods if p.isdigit()}
    if asked.expects == "date":
        fiscal = re.findall(r"((?:19|20)\d\d)\s*年?年度|\b(?:fiscal(?: year)?|FY)\s*((?:19|20)\d\d)", asked.text, re.I)
        years |= {str(int(y) + 1) for pair in fiscal for y in pair if y}
    return years


def _clause_start(text: str, pos: int) -> int:
    """Where the clause holding `pos` starts: right after the last comma, semicolon or full stop before it."""
    return max(text.rfind(c, 0, pos) for c in ",，;；。") + 1


def _clause_end(text: str, pos: int) -> int:
    """Where the clause holding `pos` ends: the first comma, semicolon or full stop from it on."""
    return min((i for i in (text.find(c, pos) for c in ",，;；。") if i >= 0), default=len(text))


def _put_first(found: list[_Sentence], better: list[_Sentence]) -> None:
    """The first of `better` (sentences of `found` that state the lead better) leads instead."""
    if better:
        found.remove(better[0])
        found.insert(0, better[0])


def _lead_clause(s: _Sentence) -> str:
    """The clause of the sentence that holds its lead item ("" when the lead is not written in it as found)."""
    at = s.text.find(s.lead)
    return s.text[_clause_start(s.text, at) : _clause_end(s.text, at + len(s.lead))] if at >= 0 else ""


def _period_clause(text: str, stop: int) -> str:
    """The nearest stretch of `text` before `stop` that names a period, taken clause by clause backwards ("" when
    none does): the period in force there."""
    while stop > 0:
        start = _clause_start(text, stop - 1)
        if periods_in(text[start:stop]):
            return text[start:stop]
        stop = start
    return ""


def _figure_value(item: str) -> float | None:
    match = re.match(r"-?\d+(?:\.\d+)?", re.sub(r"[\s,]", "", item))
    return float(match.group(0)) if match else None


def _meets(exact: float, bound: float | None, kind: str) -> bool:
    """An exact figure agrees with a bound on it: at least a lower bound, or at most (and within a tenth of) "近"."""
    if bound is None:
        return False
    return exact >= bound if kind == "above" else bound * 0.9 <= exact <= bound


def _unit_of(item: str) -> str:
    """The unit of a figure, or of a range's upper figure ("8,200万元至9,600万元")."""
    match = NUMBER_WITH_UNIT.fullmatch(_RANGE_TO.split(item.strip())[-1].strip())
    return (match.group(2) or "").lower() if match else ""


class ExtractiveAnswerer:
    """Answers from evidence in the retrieved passages. `embedder` (optional) adds similarity across languages."""

    def __init__(self, lexicon: Lexicon, refusals: dict[str, str], embedder: Any = None,
                 min_coverage: float = 0.4, min_cross_similarity: float = 0.80, min_described_coverage: float = 0.3) -> None:
        self.lexicon = lexicon
        self.refusals = refusals
        self.embedder = embedder
        self.min_coverage = min_coverage
        self.min_cross_similarity = min_cross_similarity
        self.min_described_coverage = min_described_coverage
        self._vectors: dict[str, np.ndarray] = {}
        self._terms: dict[str, list[list[str]]] = {}  # a question's attribute words with their synonyms
        self._lock = threading.Lock()  # web sessions share this answerer and its cache

    # --- candidates -------------------------------------------------------------------------------------------
    def _candidates(self, documents: list[Document], asked: Asked) -> list[_Sentence]:
        out: list[_Sentence] = []
        for rank, doc in enumerate(documents):
            meta = doc.metadata
            text = normalize(doc.page_content)
            title = normalize(str(meta.get("title", "")))
            source_name = str(meta.get("source", "")).replace("\\", "/").rsplit("/", 1)[-1]
            context = f"{title} {source_name} {meta.get('table', '')} {meta.get('section', '')} {text}"
            rows = parse_rows(text)
            pieces: list[tuple[str, dict[str, str] | None]]
            if rows:
                pieces = [(p, row) for row in rows for p in self._row_sentences(row, meta, asked)]
            else:
                pieces = [(p, None) for p in split_sentences(text)]
            first = len(out)
            previous = ""
            pieces = _label_table_rows(pieces)
            heading = str(meta.get("section", "")).rsplit(" > ", 1)[-1].strip()
            heading = heading if heading and heading in proper_names(heading, join=True) else ""
            for piece, row in pieces:
                bullet = re.match(r"\s*[-*]\s", piece) is not None
                piece = re.sub(r"^[-*>\s]+|\*\*|__", "", piece.strip()).strip()
                if _says_nothing(piece) or _HEADING_LIKE.match(piece) or _INJECTION.search(piece) or re.fullmatch(r"[\s|:\-]+", piece):
                    continue
                out.append(_Sentence(piece, rank + 1, rank, doc, context=context, previous=previous, row=row,
                                     heading=heading if bullet else ""))
                previous = piece
            in_passage = out[first:]
            for i, sentence in enumerate(in_passage):
                sentence.following = [t.text for t in in_passage[i + 1 : i + 5]]
        return out

    def _row_sentences(self, row: dict[str, str], meta: dict, asked: Asked) -> list[str]:
        """A table row as sentences. A dataset row (company, metric, value...) reads as one sentence; a statement
        row (a label and one cell per period column) gives the cell of each asked period, or of every period when
        the question names none, so a period the table lacks is never answered with its neighbour."""
        unit = str(meta.get("unit") or "")
        if "value" in row and "metric" in row:
            who = row.get("company", "")
            ticker = f" ({row['ticker']})" if row.get("ticker") else ""
            value = row["value"] + (row.get("unit", "") if row.get("unit", "") in ("%", "倍", "") else f" {row['unit']}")
            period = f" ({row['period']})" if row.get("period") else ""
            return [f"{who}{ticker} {row['metric']}{period}: {value}。"]
        keys = list(row)
        label_key = keys[0]
        label = row[label_key]
        period_keys = [k for k in keys[1:] if periods_in(k) or re.search(r"(?:19|20)\d\d", k)]
        if not period_keys:
            return ["; ".join(f"{k}: {v}" for k, v in row.items()) + "。"]
        wanted = [k for k in period_keys if asked.periods & periods_in(k)] if asked.periods else period_keys
        out = []
        for k in wanted:
            if row.get(k):
                # The unit as the reader needs it for this row: "USD millions", none for a headcount.
                phrase = unit_phrase(unit, label, k, row[k])
                out.append(f"{label} ({k}): {row[k]}{f' ({phrase})' if phrase else ''}。")
        return out

    # --- the evidence test ------------------------------------------------------------------------------------
    def _names_found(self, asked: Asked, text: str) -> tuple[int, int]:
        """(names of the question found in the text, names missing that the text could have shown).

        A name the lexicon knows is looked for under all its aliases. A Latin name the lexicon does not know cannot
        be looked for in Chinese text (nor a Chinese name in English text): it is neither found nor missing."""
        low = normalize(text).lower()
        found = missing = 0
        text_language = language_of(text)
        for entity in asked.entities:
            names = self._names_for(entity)
            known = len(names) > 1
            if any(mentions(low, n) for n in names) or (not known and _abbreviated(entity, low)):
                found += 1
            elif known or language_of(entity) == text_language:
                missing += 1
        return found, missing

    def _names_for(self, entity: str) -> list[str]:
        """An entity's other names: its lexicon aliases, or the other words of its lexicon group."""
        company = self.lexicon.resolve(entity)
        if company in self.lexicon.aliases:
            return self.lexicon.aliases_of(company)
        for group in self.lexicon.metrics:
            if any(normalize(t).lower() == entity.lower() for t in group):
                return list(group)
        return [entity]

    def _about(self, asked: Asked, text: str) -> bool:
        found, missing = self._names_found(asked, text)
        return missing == 0 and (found > 0 or not asked.entities)

    def _anchor_groups(self, text: str, asked: Asked) -> list[list[int]]:
        """Where the sentence speaks of the asked attribute: the positions of each asked word (with its synonyms, and
        a longer Chinese word by its character pairs), one list per word."""
        low = text.lower()
        groups: list[list[int]] = []
        for synonyms in self._attribute_terms(asked):
            spots: list[int] = []
            for term in synonyms:
                latin = re.search(r"[a-z]", term) is not None
                # A longer Chinese word is met in part ("模型" for "大模型"), as `_cover` counts it.
                probes = [term] if (term in low or len(term) < 3 or latin) else [term[i : i + 2] for i in range(len(term) - 1)]
                spots += [m.start() for probe in probes for m in re.finditer(re.escape(probe), low)]
            groups.append(spots)
        return groups

    def _lead(self, sentence: str, asked: Asked, structured: bool = False, heading: str = "") -> str:
        """The item of the expected kind that the sentence holds and the question does not, next to where the
        sentence speaks of the asked attribute; "" when there is none."""
        items = self._items(sentence, asked)
        if heading and asked.expects == "entity" and heading.lower() not in asked.text.lower() \
                and not self._is_asked_thing(heading, asked):
            # A bullet under a named heading speaks of that name, when it speaks of the asked attribute at all.
            return heading if any(self._anchor_groups(sentence, asked)) else ""
        if not items or asked.expects in ("reason", "any"):
            return items[0][1] if items else ""
        if structured:  # a table row is label, period and value by construction: no distance to judge
            near_items = [(0, pos, item) for pos, item in items if self._in_asked_period(sentence, pos, asked)]
            return near_items[0][2] if near_items else ""
        all_groups = self._anchor_groups(sentence, asked)
        # Where the sentence names the metric a figure is asked of ("产量" beside "种植面积38.6万亩,产量4.1万吨").
        head_at = all_groups[asked.attributes.index(asked.head)] if asked.head in asked.attributes else []
        groups = [g for g in all_groups if g]
        anchors = sorted(a for spots in groups for a in spots)
        # Where the sentence names the asked entity: (the name, the position right after it).
        low = sentence.lower()
        named = [(n, m.end()) for e in asked.entities for n in self._names_for(e) for m in re.finditer(re.escape(n.lower()), low)]
        if asked.expects == "code":  # a listing code stands right after the name it belongs to: "蓝鲸科技 (2468.HK)"
            # or after its label on a filing's own code line ("(Stock Code: 2468)").
            anchors = [end for _, end in named] or [m.end() for m in _CODE_LABEL.finditer(sentence)]
        if not anchors:
            if asked.attributes:
                return ""
            typed = [item for _, item in items if asked.kind_noun and item.endswith(asked.kind_noun[-1])]
            return (typed or [items[0][1]])[0]
        # English spends about twice the characters of Chinese on the same words.
        reach = _REACH.get(asked.expects, 20) * (2 if language_of(sentence) == "en" else 1)

        def gap(pos: int, item: str, a: int) -> int:
            return abs(pos - a) if a < pos else max(0, a - pos - len(item))

        # Of two companies' figures in one row or sentence ("A valued at 300亿元; B valued at 50亿美元"), the one next
        # to the asked name is its figure.
        named_at = [end for n, end in named if len(n) >= 2]

        near = []
        for pos, item in items:
            distance = min(gap(pos, item, a) for a in anchors)
            if distance <= reach and self._same_stretch(sentence, pos, min(anchors, key=lambda a: abs(a - pos))):
                # Of two items, the one with more of the asked words around it wins ("Shares up 46%" over
                # "share of revenue 18%" for a share-price rise), then the nearer one.
                around = sum(any(gap(pos, item, a) <= reach for a in g) for g in groups)
                beside_name = any(a <= pos and pos - a <= reach and self._same_stretch(sentence, a, pos) for a in named_at)
                echo = asked.expects in _NAMED and _echoes(item, asked.text)
                # In the clause that names the asked metric ("联赛将于3月20日开赛", not "须于3月2日报名").
                with_head = not head_at or any(not _CLAUSE.search(sentence[min(a, pos) : max(a, pos)]) for a in head_at)
                off_head = min((gap(pos, item, a) for a in head_at), default=0)
                # "哪支球队": a name ending in the asked kind ("…队") is of the kind asked for.
                typed = bool(asked.kind_noun) and item.endswith(asked.kind_noun[-1])
                typed = typed or self._beside_kind(sentence, item, asked)
                near.append((echo, not typed, not with_head, -around, not beside_name, off_head, distance, pos, item))
        near = [n for n in near if self._in_asked_period(sentence, n[-2], asked)]
        if not near:
            return ""
        joiner = "、" if language_of(sentence) == "zh" else ", "
        if asked.expects == "person":
            names = [item for *_, item in sorted(near, key=lambda n: n[-2])]
            return joiner.join(list(dict.fromkeys(names))[:4])
        if asked.expects in _NAMED and _PLURAL.search(asked.text):
            # "有哪些" asks for several: the list the best item stands in ("A、B和C"), and nothing beyond it.
            by_position = sorted(set(items))
            at = by_position.index(min(near)[-2:])
            start = end = at
            while start > 0 and self._listed(sentence, by_position[start - 1], by_position[start]):
                start -= 1
            while end + 1 < len(by_position) and self._listed(sentence, by_position[end], by_position[end + 1]):
                end += 1
            return joiner.join(list(dict.fromkeys(item for _, item in by_position[start : end + 1]))[:4])
        *_, pos, item = min(near)
        return self._range_from(sentence, pos, item, items, asked) if asked.expects == "number" else item

    @staticmethod
    def _range_from(sentence: str, pos: int, item: str, items: list[tuple[int, str]], asked: Asked) -> str:
        """A figure that opens a range ("净利润8,200万元至9,600万元", "增长12.5%至31.4%") is answered with the
        whole range, or with the bound asked for ("下限", "上限"). "从/由/from A to B" is a change, not a range."""
        between = re.search(r"\bbetween\s+" + _CURRENCY_BEFORE + "$", sentence[max(0, pos - 16) : pos], re.I)
        to = (_BETWEEN_AND if between else _RANGE_TO).match(sentence, pos + len(item))
        end = next((other for at, other in items if to and at == to.end()), "")
        before = sentence[max(0, pos - 12) : pos]
        if (not end or _CHANGE_FROM.search(before) or _LOWER_ASKED.search(asked.text)
                or (_unit_of(item) and _unit_of(item) != _unit_of(end))):  # "dropped 11% to RMB1.52 billion"
            return item
        if language_of(sentence) == "en" and _MOVED.search(before):
            return item  # "rose 2% to 15%": by how much, then to what
        if _UPPER_ASKED.search(asked.text):
            return end
        return f"{item}至{end}" if language_of(sentence) == "zh" else f"{item} to {end}"

    @staticmethod
    def _listed(text: str, first: tuple[int, str], second: tuple[int, str]) -> bool:
        """Two items next to each other in one list: only a list separator between them."""
        between = text[first[0] + len(first[1]) : second[0]]
        return re.fullmatch(r"\s*(?:[、,，/]|和|与|及|以及|and|&)\s*", between, re.I) is not None

    @staticmethod
    def _in_asked_period(text: str, pos: int, asked: Asked) -> bool:
        """The period named in the item's own clause (before it) must be the asked one: "2021年交付93.62万辆,
        2022年需超过140万辆" answers 2022 with 140万, and "上半年" is no answer for a whole year."""
        # The period in force is the last one named before the item, in its own clause or an earlier one:
        # "第四季度,游戏营收为12亿元" is a quarter's figure, not the year's.
        text = _without_compared_years(text)
        named: set[str] = set()
        if language_of(text) == "en":
            # English names the period after the figure: "RMB45 million for the same period in 2024".
            named = periods_in(text[pos : _clause_end(text, pos)])
        named = named or periods_in(_period_clause(text, pos + 1))
        years = {p for p in named if p.isdigit()}
        parts = {p for p in named if not p.isdigit()}
        asked_years = _years_asked(asked)
        asked_parts = {p for p in asked.periods if not p.isdigit()}
        if years and asked_years and not years & asked_years:
            return False
        if len(years) > 1 and asked_years:
            # "2023年和2024年…的15.82亿元和12.36亿元": figures listed in the order of the years listed.
            offset = _clause_start(text, pos)
            clause = text[offset : _clause_end(text, offset)]
            in_order = [y for y in re.findall(r"(?<!\d)((?:19|20)\d\d)(?=\s*年)", clause)]
            figures = [m.start() for m in NUMBER_WITH_UNIT.finditer(clause) if m.group(2) and not m.group(2).startswith("年")]
            if len(in_order) == len(figures) > 1 and pos - offset in figures:
                return in_order[figures.index(pos - offset)] in asked_years
        return not (parts and parts - asked_parts and asked_years)

    @staticmethod
    def _same_stretch(text: str, a: int, b: int) -> bool:
        """Two positions in one clause or two neighbouring ones."""
        low, high = sorted((a, b))
        return len(_CLAUSE.findall(text[low:high])) <= 1 or high - low <= 12

    def _items(self, text: str, asked: Asked) -> list[tuple[int, str]]:
        """(position, item) of every item of the expected kind in a sentence."""
        q = asked.text.lower()
        if asked.expects == "number":
            # A listing code ("证券代码:688455", "2468.HK") is a name, not an amount.
            dates = [m.span() for m in _DATE_ITEM.finditer(text)] + [m.span() for m in TICKER.finditer(text)]
            found = []
            for match in NUMBER_WITH_UNIT.finditer(text):
                item, number, unit = match.group(0).strip(), match.group(1), match.group(2) or ""
                after = text[match.end(1) : match.end(1) + 2]  # right after the digits, before any space
                if not unit and (re.match(r"[A-Za-z\d]", after) or re.match(r"\.[A-Za-z]", after)):
                    continue  # "3D", "5G": part of a name
                if not unit and after.startswith("、"):
                    continue  # "1、官网": a list's number
                if text[max(match.start() - 1, 0) : match.start()] == "第" and not (
                        _DURATION.search(asked.text) or re.search(r"(?:几|多少)个?[\u4e00-\u9fff]", asked.text)):
                    continue  # "第九个季度" is an order, no amount; it answers only "how long" or "how many quarters"
                if re.fullmatch(r"[一两二]", number) or (not unit and not re.search(r"\d", number)):
                    continue  # "一名官员", "三" in "近三年": wording, not an amount
                if re.fullmatch(r"(?:19|20)\d\d", number) and (not unit or unit.startswith("年")):
                    continue  # a year is a period, not an amount
                if any(a <= match.start() < b for a, b in dates):
                    continue
                if item.lower() in q or (len(number) > 1 and any(number in n for n in asked.numbers)):
                    continue
                counts_time = re.match(r"\s*个?(季度|月|周|天|quarters?\b|months?\b|weeks?\b|days?\b)", text[match.end() :])
                if (not unit.strip() and counts_time and _RATE.search(asked.text) and not _DURATION.search(asked.text)
                        and not re.search(r"(几|多少)个?" + counts_time.group(1), asked.text)):
                    continue  # "9 季度" counts quarters: no answer to how much something grew
                if not _unit_fits(unit, asked) or ((asked.measure or _RATIO.search(asked.text)) and not unit
                                                   and re.match(r"[\u4e00-\u9fff]", after)):
                    continue  # "12栋" counts buildings, whatever the unit list knows; "28纳米" is no rate
                counts_things = unit in CLASSIFIERS and asked.language == "zh"
                counted = re.match(r"[\u4e00-\u9fff]{1,4}", text[match.end() :]) if counts_things else None
                if counted and not any(counted.group(0)[i : i + 2] in q for i in range(max(len(counted.group(0)) - 1, 1))):
                    continue  # "12个城市" counts cities: no answer to a question that counts no cities
                if self._planned(text, match.start(), asked):
                    continue
                if unit == "%" and _SHARE_AFTER.match(text[match.end() :]) and not _SHARE_ASKED.search(asked.text):
                    continue  # "18%的AI收入占比" is a share, no growth
                found.append((match.start(), item))
            return found
        if asked.expects == "date":
            return [
                (m.start(), m.group(0).strip()) for m in _DATE_ITEM.finditer(text)
                if m.group(0).strip().lower() not in q and not (_YEAR_ONLY.match(m.group(0).strip()) and asked.periods)
                and not self._planned(text, m.start(), asked) and not self._said_or_another_s(text, m, asked)
            ]
        if asked.expects in ("person", "place", "entity"):
            asked_names = {n.lower() for e in asked.entities for n in self._names_for(e)}
            kinds = {"person": PERSON_TAGS, "place": PLACE_TAGS}.get(asked.expects)
            names = proper_names(text, kinds, join=True) if kinds else proper_names(text, join=True)
            if asked.expects == "entity":  # "北辰证券": a name with its company suffix, not the bare "北辰"
                whole = companies_named(text, self.lexicon)
                names = [*whole, *(n for n in names if not any(n != w and w.startswith(n) for w in whole))]
            if asked.expects == "place":
                # The tagger takes some places for people; "在/于" says where.
                names += [n for n in proper_names(text, PERSON_TAGS, join=True)
                          if text[max(text.find(n) - 1, 0) : text.find(n)] in ("在", "于")]
                # "嘉兴市", but not the idiom "众志成城".
                names += [w for w in words(text, self.lexicon)
                          if len(w) >= 2 and _PLACE_SUFFIX.fullmatch(w) and dictionary_tag(w) in ("", "ns")]
            if asked.name_of:
                names += self._kind_names(text, asked) + self._counted_list(text, asked)
            if len(asked.kind_noun) == 1:  # "E组", "3号": a label and the asked kind, which no tagger calls a name
                names += re.findall(rf"(?<![A-Za-z\d])(?:[A-Z]{{1,2}}|\d{{1,3}}){asked.kind_noun}", text)
            if asked.expects == "person":
                for m in _AFTER_ROLE.finditer(text):
                    # "主演为周青、陈岚和林默": every name of the list after the role.
                    at, name = m.start(1), _name_after_role(m.group(1))
                    while name:
                        names.append(name)
                        at += len(name)
                        # A listed person's name is two to four characters, then the next separator or stop.
                        following = re.match(r"[、和与及]([\u4e00-\u9fff·]{2,4})(?=[、和与及等,，。;；)）\s]|$)", text[at:])
                        name = _name_after_role(following.group(1)) if following else ""
                        at += 1
            zh = language_of(text) == "zh"
            at = {n: text.find(n) for n in names}
            spans = [(a, a + len(n)) for n, a in at.items()]
            # "X2" where it first stands inside "Bluefin X2" is a piece of that name, not a name of its own. (A person's
            # name is kept: the tagger may glue a word to it, "导演林默来说" giving "林默来".)
            names = [n for n, a in at.items() if asked.expects == "person"
                     or not any(a0 <= a and a + len(n) <= b0 and (a0, b0) != (a, a + len(n)) for a0, b0 in spans if a0 >= 0)]
            return [
                (at[n], n) for n in names
                if n.lower() not in q and not _ASKING.search(n)
                and n.lower() not in asked_names and not re.fullmatch(r"[\d.,%]+", n)
                and not self._is_asked_thing(n, asked)
                and not (asked.expects == "person" and re.fullmatch(r"[A-Z0-9]{1,5}", n))
                # Chinese text writes people and places in Chinese: a Latin name there is a brand or an acronym.
                and not (asked.expects in ("person", "place") and zh and not language_of(n) == "zh")
                and not _misread_name(text, n, asked.expects)
                and not self._given_another_role(text, n, asked)
            ]
        if asked.expects == "code":
            return [(m.start(), m.group(0)) for m in TICKER.finditer(text) if m.group(0).lower() not in q]
        if asked.expects == "reason":
            return [(0, "why")]  # an explanation need not say "because": a causal word only ranks it higher
        return [(0, "any")]

    @staticmethod
    def _given_another_role(text: str, name: str, asked: Asked) -> bool:
        """The name is appointed or elected to a role the question does not ask about ("聘任陈岚女士为公司财务总监"
        answers who the finance director is, not who the general manager is)."""
        if asked.expects != "person" or not _ROLE_SUFFIX.search(asked.head):
            return False
        given = re.match(r"(?:女士|先生)?(?:为|担任|出任)(?:公司|本公司|集团)?([\u4e00-\u9fff]{2,8}?)(?=[,，。;；、及和]|$)",
                         text[text.find(name) + len(name) :])
        return given is not None and asked.head not in given.group(1) and given.group(1) not in asked.head

    @staticmethod
    def _planned(text: str, pos: int, asked: Asked) -> bool:
        """The item's clause states a plan, target or forecast ("计划于2021年交付", "需要超过140万辆") and the
        question asks for none: what was planned is not what happened."""
        clause = text[_clause_start(text, pos) : pos]
        return _PLANNED.search(clause) is not None and not _PLANNED.search(asked.text)

    def _said_or_another_s(self, text: str, match: re.Match, asked: Asked) -> bool:
        """A date that is the day something was said ("1月31日确认…"), or that belongs to a person the question does
        not ask about ("1953年某某加冕时", in a sentence that never names the asked one)."""
        after = text[match.end() :]
        if _SAID_AFTER.match(after) and not _SAYING.search(asked.text):
            return True
        if not asked.entities or self._names_found(asked, text)[0]:
            return False
        first = next(iter(cut_with_tags(after[:12])), ("", ""))
        return first[1] in PERSON_TAGS and len(first[0]) >= 2 and first[0].lower() not in asked.text.lower()

    @staticmethod
    def _is_asked_thing(name: str, asked: Asked) -> bool:
        """The name is what the question is about ("蓝鲸科技" when 蓝鲸 is asked), not a new name built on it: a
        company's product often carries the company's name ("蓝鲸助手" for 蓝鲸's assistant), and that answers."""
        low = name.lower()
        for entity in asked.entities:
            if len(entity) >= 2 and entity.lower() in low:
                if low.endswith(entity.lower()):
                    return True  # "鹿鸣堡马拉松" is the asked 马拉松, named more fully: a Chinese name ends with its head
                rest = low.replace(entity.lower(), "").strip(" -·")
                if len(rest) < 2 or COMPANY_SUFFIX.fullmatch(rest):
                    return True
        return False

    def _kind_terms(self, asked: Asked) -> list[str]:
        """The words, with their lexicon synonyms, for the kind of thing whose name is asked."""
        terms = self._attribute_terms(asked)
        return [t for word in asked.name_of for t in terms[asked.attributes.index(word)]]

    def _kind_spots(self, text: str, asked: Asked) -> list[re.Match]:
        """Where the text names the asked kind, by its word or a synonym."""
        low = text.lower()
        spots = [m for t in self._kind_terms(asked)
                 for m in re.finditer(rf"\b{re.escape(t)}s?\b" if _LATIN_WORD.fullmatch(t) else re.escape(t), low)]
        # The longest word wins where two overlap: "墨问大模型" holds 大模型, not a name "墨问大" before 模型.
        kept: list[re.Match] = []
        for spot in sorted(spots, key=lambda m: m.start() - m.end()):
            if all(spot.end() <= k.start() or spot.start() >= k.end() for k in kept):
                kept.append(spot)
        return kept

    def _before_kind(self, text: str, asked: Asked) -> list[str]:
        """A Chinese text up to each place where it names the asked kind: what comes right before may name it."""
        return [text[: spot.start()] for spot in self._kind_spots(text, asked)] if language_of(text) == "zh" else []

    def _kind_names(self, text: str, asked: Asked) -> list[str]:
        """Chinese names no tagger knows, found by the word for their kind right after them ("墨问大模型" when a
        大模型 is asked): two to four characters after a mark or "的", with no function word among them, and
        not common words only ("开源大模型")."""
        found = []
        for before in self._before_kind(text, asked):
            run = _NAME_START.search(before)
            if not run:
                continue
            tagged = cut_with_tags(run.group(1))
            if any(tag[:1] in "pcudry" for _, tag in tagged):
                continue
            if all(len(w) >= 2 and tag not in PROPER_TAGS for w, tag in tagged):
                continue
            found.append(run.group(1))
        return found

    def _counted_list(self, text: str, asked: Asked) -> list[str]:
        """The items of a list that a count and the asked kind sum up ("在A和B两个方向上" for "哪些方向"): as
        many items as the count says."""
        found = []
        for spot in self._kind_spots(text, asked) if language_of(text) == "zh" else []:
            before, after = text[: spot.start()], text[spot.end() :]
            counted = _COUNTED_LIST.search(before)
            count, listed = (counted.group(2), counted.group(1)) if counted else ("", "")
            count_first, ahead = _COUNT_BEFORE.search(before), _LIST_AFTER.match(after)
            if count_first and ahead:  # "三款车型(A、B、C)", "两个方向:A和B"
                count, listed = count_first.group(1), ahead.group(1)
            items = [i.strip() for i in re.split(r"以及|和|与|及|、", listed) if i.strip()]
            if len(items) >= 2 and _ordinal_value(count) == len(items):
                found += items
        return found

    def _beside_kind(self, text: str, name: str, asked: Asked) -> bool:
        """The name stands right beside the word for the asked kind ("墨问大模型", "AI助手“蓝鲸小帆”", "the Cloudsail
        assistant"): the sentence names the asked thing outright."""
        if not asked.name_of or not name:
            return False
        low = text.lower()
        # A list the lead joined ("A、B") stands beside the kind by its last item.
        names = [m for part in re.split(r"、|, ", name.lower()) for m in re.finditer(re.escape(part), low)]
        for spot in self._kind_spots(text, asked):
            for n in names:
                first, second = sorted((n, spot), key=lambda m: m.start())
                gap = low[first.end() : second.start()]
                if first.end() <= second.start() and (_BESIDE.fullmatch(gap) or _COUNT_BETWEEN.fullmatch(gap)):
                    return True
        return False

    def _passes(self, s: _Sentence, asked: Asked) -> bool:
        if _IS_QUESTION.search(s.text) or _QUOTED_QUESTION.search(s.text) or _restates(s.text, asked.text):
            return False  # a question copied from a news page, or a headline that repeats it, answers nothing
        if not self._about(asked, s.context):
            return False
        asked_companies = {self.lexicon.resolve(e) for e in asked.entities} | set(asked.companies)
        # Another asked name ("AI" in "Bluewhale's AI cloud revenue") does not make a sentence about the asked company.
        company_names = [e for e in asked.entities if self.lexicon.resolve(e) in asked.companies or e in asked.named_companies]
        as_companies = Asked(**{**asked.__dict__, "entities": company_names or asked.entities})
        if (asked.companies or asked.named_companies) and not self._names_found(as_companies, s.text)[0] \
                and not self._issuer_speaks(s, as_companies):
            # The passage (or the sentence before) names the subject but this sentence may be about another one:
            # only when it names no other company does the subject carry over.
            # A "company" made of the question's own words ("海洋智能" in a question about 海洋 robots) is a topic.
            if any(not _echoes(c, asked.text) and not _only_compared_with(s.text, self._names_for(c))
                   for c in companies_named(s.text, self.lexicon) - asked_companies):
                return False
        if (asked.expects in ("number", "date") and asked.entities and language_of(s.text) == asked.language
                and not self._names_found(asked, s.text)[0] and self._opens_with_another_name(s.text, asked)):
            return False  # "赤狐2025年销量…" speaks of 赤狐, whatever its passage says of the asked 蓝鲸
        for nth, counted in _ORDINAL.findall(asked.text):
            others = {n for n, c in _ORDINAL.findall(s.text) if c == counted}
            if not others:  # the sentence names none: its passage says which ("第十五次会议于4月22日召开…")
                others = {n for n, c in _ORDINAL.findall(s.context) if c == counted}
            if others and _ordinal_value(nth) not in {_ordinal_value(n) for n in others}:
                return False  # "第19棒" is not the asked "第一棒"
        if any(verb not in s.text for verb in _UNDOING.findall(asked.text)):
            return False  # "控股股东质押1500万股" says nothing of what was released ("解除质押")
        asked_roles = [a for a in asked.attributes if _ROLE_SUFFIX.search(a)]
        if asked_roles and not any(r in s.text for r in asked_roles) and _ROLE_IN_TEXT.search(s.text):
            return False  # "董事长增持20万股" says nothing of what the asked 总经理 did
        for label, counted in _LABEL.findall(asked.text):
            others = {n.upper() for n, c in _LABEL.findall(s.text) or _LABEL.findall(s.context) if c == counted}
            if others and label.upper() not in others:
                return False  # a "B轮" round is not the asked "A轮"
        if self._names_a_sibling(s.text, asked):
            return False
        for number in asked.numbers:
            digits = re.escape(re.sub(r"[^\d.]", "", number).strip(".") or number)
            if not re.search(rf"(?<![\d.]){digits}", s.text + s.previous):
                return False
        asked_years = {p for p in asked.periods if p.isdigit()}
        if asked_years and s.row is not None and s.row.get("period") and not asked_years & periods_in(s.row["period"]):
            return False  # a dataset row's period says which year its value is for ("过去五年" is no single year)
        if asked.periods:
            named = periods_in(_without_compared_years(s.text))
            years = {p for p in named if p.isdigit()}
            asked_years = _years_asked(asked)
            if years and asked_years and not years & asked_years:
                return False  # the sentence speaks of another year
            parts = {p for p in named if not p.isdigit()}
            asked_parts = {p for p in asked.periods if not p.isdigit()}
            if parts and asked_parts and not parts & asked_parts:
                return False
            title_years = {y for pair in _REPORTED_YEAR.findall(str(s.doc.metadata.get("title", ""))) for y in pair if y}
            # (A date question's sentence names days, not the period: "股权登记日为2023年6月8日" is for 2022.)
            if (not named or asked.expects == "date") and title_years and asked_years and not title_years & asked_years:
                return False  # "…2022年年度权益分派实施公告": a report's sentences speak of the year its title names
            if not named and not (asked.periods & periods_in(s.context + " " + s.date)):
                return False
            if not years and asked_years and not asked_years & periods_in(s.context + " " + s.date):
                return False  # "上半年亏损2.3亿元" in a passage that names no asked year is another year's half
        s.lead = self._lead(s.text, asked, structured=s.row is not None, heading=s.heading)
        if s.lead and asked.expects == "number" and asked.periods and s.row is None and language_of(s.text) == "zh":
            # Chinese states the time before the figure of it: a figure ahead of every period the sentence names
            # ("62万辆交付量…距离2022年目标") takes its period from the sentence before, or the title or date. (A
            # name may come first: "某某夺得2023年冠军".)
            at = s.text.find(s.lead)
            if at >= 0 and not periods_in(s.text[:at]) and not asked.periods & periods_in(
                    f"{s.previous} {self._period_before(s)} {s.doc.metadata.get('title', '')} {s.date}"):
                return False
        if s.lead and asked.expects == "number" and asked_years and not _SPAN_OF_YEARS.search(asked.text):
            if _SPAN_OF_YEARS.search(_lead_clause(s)):
                return False  # "近五年累计超1000亿" totals several years: no answer for one year
        if s.lead and asked.expects == "number" and _GENERIC_HEAD.fullmatch(asked.head or "-") and asked.language == "zh":
            clause = _lead_clause(s)
            for m in re.finditer(re.escape(asked.head), clause):
                owner = clause[max(m.start() - 2, 0) : m.start()]
                if re.fullmatch(r"[\u4e00-\u9fff]{2}", owner) and owner not in asked.text:
                    return False  # "增持金额约336万元" is what the 增持 cost, not the asked 中标金额
        if s.lead and asked.expects == "number" and asked.head in asked.attributes and _GROWTH_HEAD.fullmatch(asked.head) \
                and language_of(s.text) == "zh":
            # "收入增长多少": what grows is the word right before; a share price's or a profit's growth is no answer.
            at = asked.attributes.index(asked.head)
            owner = asked.attributes[at - 1] if at else ""
            owner = "" if re.fullmatch(r"累计|合计|共计|总计|同比|环比|全年|年度|平均|实际|预计", owner) else owner  # how, not what
            if owner and asked.text.find(owner) + len(owner) == asked.text.find(asked.head) and not any(
                    _touches(t, s.text.lower()) for t in self._attribute_terms(asked)[at - 1]):
                return False
        if s.lead and asked.expects == "entity" and s.row is not None and "metric" in s.row:
            kind = re.search(r"(?:哪些|哪几个?|哪[个种类]|什么)([\u4e00-\u9fff]{2})", asked.text)
            if kind and kind.group(1) in s.row["metric"]:
                return False  # the row counts the asked things ("核心要素: 4 个"): its company is none of them
        return bool(s.lead)

    def _names_a_sibling(self, text: str, asked: Asked) -> bool:
        """The sentence lacks an asked three-character word and names its sibling instead: the same last two
        characters after another first one ("监事会" for the asked "董事会", "毛利润" for "净利润", "出口额" for
        "进口额") is another thing of the same kind."""
        low = text.lower()
        asked_words = [(w, terms) for w, terms in zip(asked.attributes, self._attribute_terms(asked))
                       if re.fullmatch(r"[\u4e00-\u9fff]{3}", w) and not any(t in low for t in terms)]
        if not asked_words:
            return False
        cut = [w for w in words(text, self.lexicon) if len(w) == 3]
        # "进出口额" joins the asked "进口额" to its sibling: both are spoken of.
        return any(w[1:] == word[1:] and w[0] != word[0] and word[0] + w not in low for word, _ in asked_words for w in cut)

    @staticmethod
    def _period_before(s: _Sentence) -> str:
        """The last clause before the sentence in its passage that names a period ("本报告期(2024年1-3月),…;研发
        投入合计1.91亿元"): the period its figures are of, though a sentence or two lies between."""
        text = normalize(s.doc.page_content)
        return _period_clause(text, max(text.find(s.text[:20]), 0))

    def _issuer_speaks(self, s: _Sentence, asked: Asked) -> bool:
        """A filing titled with the asked company calls it "公司" or "the Company": a sentence of it where "公司"
        acts ("公司拟为其向江苏银行…提供担保") speaks of the asked company, whatever counterparty it names."""
        title = str(s.doc.metadata.get("title", ""))
        if not (self._names_found(asked, title)[0] and _FILING_TITLE.search(title)):
            return False
        return _ISSUER.search(s.text) is not None

    @staticmethod
    def _opens_with_another_name(text: str, asked: Asked) -> bool:
        first = next(iter(cut_with_tags(text.lstrip())), ("", ""))
        q = asked.text.lower()
        return len(first[0]) >= 2 and first[1] in PROPER_TAGS and first[0].lower() not in q

    # --- scoring ----------------------------------------------------------------------------------------------
    def _attribute_terms(self, asked: Asked) -> list[list[str]]:
        """Each attribute word with its synonyms from the lexicon's metric groups (an aid, never a condition).
        Asked for every candidate sentence of a question, so worked out once per question."""
        with self._lock:
            cached = self._terms.get(asked.text)
        if cached is None:
            cached = self._synonym_terms(asked)
            with self._lock:
                if len(self._terms) > 1000:
                    self._terms.clear()
                self._terms[asked.text] = cached
        return cached

    def _synonym_terms(self, asked: Asked) -> list[list[str]]:
        terms = []
        groups = self.lexicon.metrics_in(asked.text)
        low = asked.text.lower()
        for word in asked.attributes:
            synonyms = [word]
            matching = [g for g in groups if any(word in normalize(t).lower() or normalize(t).lower() in word for t in g)]
            # "share" in "share price" means the price group, not "share of revenue": a group whose whole phrase
            # the question uses wins over groups that merely contain the word.
            phrased = [g for g in matching if any(" " in t and word in t.lower() and t.lower() in low for t in g)]
            for group in phrased or matching:
                synonyms += [normalize(t).lower() for t in group]
            terms.append(list(dict.fromkeys(synonyms)))
        return terms

    def _score(self, asked: Asked, sentences: list[_Sentence]) -> None:
        terms = self._attribute_terms(asked)
        low_texts = [s.text.lower() for s in sentences]
        n = len(sentences)
        df = Counter()
        for text in low_texts:
            for j, synonyms in enumerate(terms):
                if max(_cover(t, text) for t in synonyms) >= 0.5:
                    df[j] += 1
        idf = [math.log(1 + n / (1 + df[j])) for j in range(len(terms))]
        total = sum(idf)
        cross = [language_of(s.text) != asked.language for s in sentences]
        sims = np.zeros(n)
        if self.embedder is not None and any(cross):
            picked = [i for i in range(n) if cross[i]]
            vectors = self._sentence_vectors([sentences[i].text for i in picked])
            sims[picked] = vectors @ np.asarray(self.embedder.embed_query(asked.text))
        for i, s in enumerate(sentences):
            own = low_texts[i]
            around = (s.previous + " " + str(s.doc.metadata.get("title", "")) + " " + str(s.doc.metadata.get("table", ""))).lower()
            # Across languages only words with a synonym in the sentence's language can be looked for in it.
            language = language_of(s.text)
            usable = [j for j, syn in enumerate(terms) if not cross[i] or any(language_of(t) == language for t in syn)]
            # The asked metric that the item states by its unit ("5亿元" for "金额") is covered, word or not.
            stated = asked.attributes.index(asked.head) if asked.head in asked.attributes and _states_head(s.lead, asked.head) else -1
            covered = sum(idf[j] * (1.0 if j == stated else
                                    max(max(_cover(t, own) for t in terms[j]), 0.5 * max(_cover(t, around) for t in terms[j])))
                          for j in usable)
            weight = sum(idf[j] for j in usable)
            # Words with no synonym in the sentence's language go unchecked: a sentence in the other language that
            # matches one of six asked words must not outrank one in the question's language that matches all six.
            unchecked = 1 - weight / total if cross[i] and total else 0.0
            s.sim = float(sims[i])
            s.coverage = covered / weight if weight else (s.sim if cross[i] else 1.0)
            if self._names_all(asked, s.text):
                # "2025年某赛事某选手成绩?": a sentence naming every asked name speaks of the asked thing, though it
                # never says "成绩"; the names count as asked words.
                names = len(set(asked.entities))
                s.coverage = max(s.coverage, (names + s.coverage * len(usable)) / (names + len(usable)))
            # A statement row of the asked company's own report speaks of it, named in its label or not ("Total
            # equity" as much as "Total 9Z Company shareholders' equity").
            own_report = s.row is not None and self._names_found(asked, str(s.doc.metadata.get("title", "")))[0] > 0
            named = 0.2 if asked.entities and (own_report or self._names_found(asked, s.text)[0]) else 0.0
            # The asked item should sit in the clause that speaks of the asked attribute, not in a neighbouring one.
            clause = next((c.lower() for c in _CLAUSE.split(s.text) if s.lead in c), own) if s.lead else own
            near = sum(idf[j] * max(_cover(t, clause) for t in terms[j]) for j in usable) / weight if weight else 0.0
            # Similarity only orders sentences in the other language among themselves; it adds nothing overall.
            s.score = 0.0
            if asked.expects == "number" and _SEQUENTIAL.search(clause) and not _SEQUENTIAL.search(asked.text):
                s.score -= 0.3  # growth unqualified means year on year: a quarter-on-quarter rate is another figure
            if asked.expects == "number" and _CUMULATIVE.search(clause) and not _ASKS_TOTAL.search(asked.text):
                s.score -= 0.1  # "累计质押4560万股" totals every pledge: "本次质押了多少" asks for the latest one
            if asked.expects == "number" and s.lead and self._bound_of(s):
                s.score -= 0.1  # "已突破12亿" bounds a figure that another source may state exactly ("12.35亿")
            if asked.expects == "reason" and _CAUSAL.search(s.text):
                s.score += 0.2
            if asked.expects in _NAMED and s.lead and (re.search(_NAMING + re.escape(s.lead), s.text)
                                                       or self._beside_kind(s.text, s.lead, asked)):
                s.score += 0.3  # "吉祥物的名字是“X”", "墨问大模型": a name the sentence gives as the asked thing's
            if s.row is not None and asked.expects == "number":
                # A table row states its figure exactly; the closer its label is to the asked words, the better
                # ("Total assets" over "Total intangible assets — net").
                label = next(iter(s.row.values()), "").lower()
                label_words = [w for w in _LATIN_WORD.findall(label) + re.findall(r"[\u4e00-\u9fff]+", label)]
                asked_text = " ".join(t for syn in terms for t in syn)
                s.score += 0.2 + 0.3 * (sum(_cover(w, asked_text) for w in label_words) / len(label_words) if label_words else 0.0)
                s.score += statement_bonus(s.row, s.doc.metadata, asked, self.lexicon)  # lookup.py: statement tables
            # Ranking counts only what a sentence shows: asked words it cannot show (no synonym in its language) are
            # missing from it, as much as from a sentence in the question's language that lacks them.
            s.score += (s.coverage + 0.5 * near) * (1 - unchecked) + named - 0.02 * s.rank
            s.score += s.sim - self.min_cross_similarity if cross[i] else 0.0
            if asked.expects in ("reason", "any"):
                s.coverage *= 1 - 0.5 * unchecked  # a description is judged by all the asked words, unchecked ones half

    def _relevant(self, s: _Sentence, asked: Asked) -> bool:
        if asked.expects == "code":
            return True  # a code next to the asked name is evidence enough; `_lead` checked both
        if asked.head and language_of(s.text) == "zh" and s.row is None:  # only Chinese questions have a head
            # A figure of a neighbouring metric ("播种面积" for "产量") is no answer: the sentence must touch the
            # asked metric itself, in part at least ("死亡" for "死亡人数").
            head = self._attribute_terms(asked)[asked.attributes.index(asked.head)]
            if not _states_head(s.lead, asked.head) and not any(_touches(t, s.text.lower()) for t in head):
                return False
        if self._beside_kind(s.text, s.lead, asked):
            return True  # "墨问大模型" names the asked 大模型 outright; the question's other words only describe it
        if (asked.expects in ("reason", "any") and asked.attributes and language_of(s.text) == asked.language
                and not any(_touches(t, s.text.lower()) for terms in self._attribute_terms(asked) for t in terms)
                and not self._names_all(asked, s.text)):
            return False  # a description must itself speak of what is asked, not only sit in a passage that does
        if language_of(s.text) != asked.language and s.coverage == s.sim:
            return s.sim >= self.min_cross_similarity  # nothing in the question could be looked for word by word
        return s.coverage >= (self.min_coverage if asked.expects not in ("reason", "any") else self.min_described_coverage)

    def _names_all(self, asked: Asked, text: str) -> bool:
        """A question with no kind of item to look for ("某赛事某选手成绩") names two or more things, and the text names
        them all."""
        # `_names_found` counts each entry of `entities`, repeats included.
        return (len(set(asked.entities)) >= 2 and expected_kind(asked.text) == "any"
                and self._names_found(asked, text) == (len(asked.entities), 0))

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Sentence embeddings, cached: the same passages come back for many questions."""
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embedder.embed_passages(missing)))
            with self._lock:
                if len(self._vectors) > 50_000:
                    self._vectors.clear()
                self._vectors.update((t, known[t]) for t in missing)
        return np.vstack([known[t] for t in texts])

    # --- answering --------------------------------------------------------------------------------------------
    def evidence(self, question: str, documents: list[Document]) -> tuple[Asked, list[_Sentence]]:
        """The sentences that answer the question, best first (empty: the sources do not answer it)."""
        asked, found, _ = self._weigh(question, documents)
        return asked, found

    def _weigh(self, question: str, documents: list[Document]) -> tuple[Asked, list[_Sentence], list[_Sentence]]:
        """The question's parts, the sentences that answer it and every sentence that passed, each best first."""
        asked = analyse(question, self.lexicon)
        candidates = self._candidates(documents, asked)
        sentences = [s for s in candidates if self._passes(s, asked)]
        self._score(asked, sentences)
        found = [s for s in sentences if self._relevant(s, asked)]
        if not found and asked.expects == "entity":
            # "叫什么/哪项技术/什么方式" may be answered by a common noun phrase that no name finder sees: such a
            # question is answered like a descriptive one, by a sentence that covers it closely, or refused.
            described = Asked(**{**asked.__dict__, "expects": "any"})
            sentences = [s for s in candidates if self._passes(s, described)]
            self._score(described, sentences)
            # With no name to single out, the sentence itself must name every asked name ("MIX4", not "该机型").
            found = [s for s in sentences if s.coverage >= _DESCRIBED_COVERAGE
                     and all(any(mentions(s.text.lower(), n) for n in self._names_for(e)) for e in asked.entities)]
            asked = described
        if found and asked.expects == "entity" and _PLURAL.search(asked.text):
            # "需要哪些要素": a sentence that introduces a list ("…的四个核心条件:") and speaks of the question more
            # closely than any sentence holding a name is answered by its list, not by a name in a nearby sentence.
            described = Asked(**{**asked.__dict__, "expects": "any"})
            # Copies, judged afresh: judging a sentence as a description sets its lead and score.
            fresh = [replace(s, lead="", coverage=0.0, sim=0.0, score=0.0) for s in candidates]
            listed = [s for s in fresh if self._passes(s, described)]
            self._score(described, listed)
            intros = [s for s in listed if _INTRODUCES_LIST.search(s.text) and s.following and self._relevant(s, described)]
            best_intro = max(intros, key=lambda s: s.coverage, default=None)
            if best_intro is not None and best_intro.coverage > max(s.coverage for s in found):
                asked, found = described, [best_intro]
        # Agreement: an item that several passages state is more likely the answer than one stated once (news
        # sets repeat the fact in every report of it; noise scatters).
        votes = Counter(_key(s.lead) for s in {(_key(s.lead), s.passage): s for s in found}.values())
        for s in found:
            s.score += 0.15 * min(votes[_key(s.lead)] - 1, 3) if asked.expects not in ("reason", "any") else 0.0
        found = sorted(found, key=lambda s: -s.score)
        if found and asked.expects == "date" and _YEAR_ONLY.match(found[0].lead) and not _ASKS_YEAR.search(asked.text):
            # A year alone is the least precise answer to "when": a day of that year that another close sentence
            # states refines it ("2025年12月9日" over "将于2025年年底").
            year = found[0].lead.replace(" ", "")
            finer = [s for s in found[1:] if s.score >= 0.8 * found[0].score and s.lead.replace(" ", "").startswith(year)
                     and not _YEAR_ONLY.match(s.lead)]
            _put_first(found, finer)
        if found and asked.expects == "date" and _RELATIVE_DAY.fullmatch(found[0].lead):
            # "今日登陆科创板" in a headline: the body's "2023年7月18日" says which day that was.
            absolute = [s for s in found[1:] if not _RELATIVE_DAY.fullmatch(s.lead)]
            _put_first(found, absolute)
        if found and language_of(found[0].text) != asked.language and asked.expects not in ("reason", "any"):
            # The same item stated in the question's language is quoted in it: a reader asking in Chinese reads
            # the Chinese sentence, not an English table row saying the same.
            same = [s for s in found[1:] if language_of(s.text) == asked.language and _key(s.lead) == _key(found[0].lead)]
            _put_first(found, same)
        if found and asked.expects == "number" and not _unit_of(found[0].lead):
            # A bare table cell ("营业总收入 215,336.42 187,905.10") leaves its unit in a header the reader does not
            # see: the same figure stated with its unit ("营业总收入215,336.42万元") leads instead.
            value = _figure_value(found[0].lead)
            stated = [s for s in found[1:] if _unit_of(s.lead) and _figure_value(s.lead) == value]
            _put_first(found, stated)
        return asked, found, sorted(sentences, key=lambda s: -s.score)

    def stream(self, question: str, documents: list[Document]) -> Iterator[str]:
        """The answer line by line: each line goes out as soon as it is chosen."""
        question = normalize(question)
        asked, found, scored = self._weigh(question, documents)
        if not found:
            yield self.refusals.get(asked.language, self.refusals.get("en", ""))
            return
        best = found[0]
        conflict = self._conflicting(asked, found)
        if conflict:
            yield from self._compose_conflict(asked, conflict)
            return
        yield self._lead_line(asked, best, found)
        yield "\n" + self._quote(best, asked)
        if best.row is not None and "metric" in best.row:
            # A dataset row is a figure without its context: the passage that states the same figure in prose
            # follows it, in the source's own words.
            prose = next((s for s in found[1:] if s.row is None and _key(s.lead) == _key(best.lead)
                          and language_of(s.text) == asked.language), None)
            if prose is not None:
                yield "\n" + self._quote(prose, asked)
        if asked.expects == "reason" and not _CAUSAL.search(best.text) and best.following:
            # The sentence that matches a "why" question often restates it ("X did not do Y"); the explanation
            # comes next in the passage ("而是…").
            yield "\n" + self._quote(_Sentence(best.following[0], best.passage, best.rank, best.doc, lead=best.lead), asked)
            return
        if asked.expects == "any" and _INTRODUCES_LIST.search(best.text) and best.following:
            # A sentence that introduces a list ("…需要四个条件:") is answered by the list that follows it.
            for item in best.following[:4]:
                yield "\n" + self._quote(_Sentence(item, best.passage, best.rank, best.doc, lead=best.lead), asked)
            return
        if asked.expects in ("reason", "any"):
            # An explanation or description may take more than one sentence: up to two more that score close.
            shown = {best.text}
            # Extra sentences only add to an answer already given, so any close-scoring sentence may serve.
            for extra in [s for s in scored if s is not best][:6]:
                if len(shown) >= 3:
                    break
                if extra.text not in shown and extra.score >= 0.6 * best.score:
                    shown.add(extra.text)
                    yield "\n" + self._quote(extra, asked)

    def answer(self, question: str, documents: list[Document]) -> str:
        return "".join(self.stream(question, documents))

    def _lead_line(self, asked: Asked, best: _Sentence, found: list[_Sentence]) -> str:
        if asked.expects in ("reason", "any"):
            lead = ("据资料" if asked.language == "zh" else "According to the sources") + f" [{best.passage}]:"
            if asked.companies and not self._names_found(asked, best.text)[0]:
                # The quoted sentence says "the company": say whose answer it is, as the passage does.
                name = self.lexicon.display_name(asked.companies[0], asked.language)
                lead = (f"关于{name},{lead}" if asked.language == "zh" else f"On {name}, {lead[0].lower()}{lead[1:]}")
            return lead
        items = [best.lead]
        # A list its sentence counts ("A和B两个方向") is complete: other sentences add nothing to it.
        counted = asked.name_of and set(self._counted_list(best.text, asked)) == set(best.lead.split("、"))
        if not counted and (asked.expects == "person" or (asked.expects in _NAMED and _PLURAL.search(asked.text))):
            # Several sentences may each name some of the people or things asked for ("主演有哪些").
            for s in found[1:4]:
                if s.score >= 0.9 * best.score and s.lead and s.lead not in items:
                    items.append(s.lead)
        # Each sentence's lead may list several people: one list of distinct names, four at most.
        names = [n for item in items for n in re.split(r"、|, ", item)] if len(items) > 1 else items
        names = [n for n in names if not any(n != other and n in other for other in names)]  # "德陆" in "于德陆"
        lead = ("、" if asked.language == "zh" else ", ").join(list(dict.fromkeys(names))[:4])
        if asked.language == "en" and language_of(lead) == "zh" and asked.expects == "number":
            lead += english_figure(lead)
        # The same item stated in other passages (one figure in two statements of a filing, one fact in several
        # reports) is cited from each of them, so a reader sees it corroborated and can check any one.
        markers = [best.passage]
        for s in found[1:]:
            if len(markers) < _MAX_CORROBORATING and s.passage not in markers and _key(s.lead) == _key(best.lead):
                markers.append(s.passage)
        return lead + " " + " ".join(f"[{m}]" for m in markers)

    def _quote(self, s: _Sentence, asked: Asked) -> str:
        text = s.text.rstrip()
        # An explanation is quoted whole, with the sentence it points back to: cut, it loses its cause.
        explains = asked.expects == "reason"
        # "…正源于这一短板": an explanation that names its cause by pointing back anywhere in it needs that sentence.
        limit = _MAX_QUOTE * (3 if explains else 1)
        if s.previous and (_POINTS_BACK.search(text) or (explains and _REFERS_BACK.search(text))) and (len(text) < 60 or explains):
            joined = s.previous.rstrip() + ("" if language_of(text) == "zh" else " ") + text
            # Too long together, the sentence alone is quoted whole rather than both cut to a clause.
            text = joined if len(joined) <= limit or len(text) < 60 else text
        if len(text) > limit:
            text = self._trim(text, s.lead, asked)
        end = ""
        if text and text[-1] in "。.!?;\uff01\uff1f\uff1b":
            text, end = text[:-1], text[-1]
        label = self._source_label(s, asked)
        return f"{label}{text} [{s.passage}]{end or ('。' if language_of(text) == 'zh' else '.')}"

    @staticmethod
    def _source_label(s: _Sentence, asked: Asked) -> str:
        if asked.language == "en" and language_of(s.text) == "zh":
            return "Source (Chinese): "
        return ""

    @staticmethod
    def _trim(text: str, lead: str, asked: Asked) -> str:
        """A long sentence cut to its clauses around the asked item and the asked words."""
        clauses = [c for c in _CLAUSE.split(text) if c]
        keep = [i for i, c in enumerate(clauses) if (lead and lead in c) or any(a in c.lower() for a in asked.attributes)]
        if not keep:
            return text[:_MAX_QUOTE] + "…"
        start, stop = min(keep), max(keep) + 1
        while sum(len(c) for c in clauses[start:stop]) > _MAX_QUOTE and stop - start > 1:
            if lead and lead in clauses[stop - 1] and lead not in clauses[start]:
                start += 1
            else:
                stop -= 1
        piece = "".join(clauses[start:stop]).strip(" ,，;；:：")
        return ("…" if start > 0 else "") + piece + ("…" if stop < len(clauses) else "")

    # --- conflicting figures ----------------------------------------------------------------------------------
    def _conflicting(self, asked: Asked, found: list[_Sentence]) -> list[_Sentence]:
        """Sentences from different sources that give different figures for the same asked thing."""
        if asked.expects != "number":
            return []
        best = found[0]
        unit = _unit_of(best.lead)
        if not unit or best.coverage < 0.75:
            return []  # a bare number, or a loose match: too weak to call a disagreement
        by_source: dict[str, _Sentence] = {}
        for s in found:
            if s.score < 0.9 * best.score or s.coverage < 0.75 or _unit_of(s.lead) != unit:
                continue
            by_source.setdefault(str(s.doc.metadata.get("source", "")), s)
        # A bound ("已突破12亿", "more than 12 billion") that every exact figure meets is no disagreement with them.
        bounds = {src: self._bound_of(s) for src, s in by_source.items()}
        exact = [_figure_value(s.lead) for src, s in by_source.items() if not bounds[src]]
        by_source = {src: s for src, s in by_source.items() if not (exact and bounds[src] and all(
            v is not None and _meets(v, _figure_value(s.lead), bounds[src]) for v in exact))}
        figures = {re.sub(r"[\s,]", "", s.lead) for s in by_source.values()}
        values = sorted(v for f in figures if (v := _figure_value(f)) is not None)
        if values and len(values) == len(figures) and values[-1] <= values[0] * 1.01:
            return []  # "12.35亿" and "12.36亿": one figure, rounded differently
        if len(by_source) < 2 or len(figures) < 2 or len({s.text for s in by_source.values()}) < 2:
            return []
        return sorted(by_source.values(), key=lambda s: s.date, reverse=True)

    @staticmethod
    def _bound_of(s: _Sentence) -> str:
        """"above" when the item is stated as a lower bound ("突破", "more than"), "near" for "近/nearly", else ""."""
        bound = _BOUND_BEFORE.search(s.text[: max(s.text.find(s.lead), 0)])
        if not bound:
            return ""
        return "near" if re.match(r"近|接近|nearly|almost", bound.group(0).strip(), re.I) else "above"

    def _compose_conflict(self, asked: Asked, sentences: list[_Sentence]) -> Iterator[str]:
        if asked.language == "zh":
            yield "各来源的数字不一致(按日期由新到旧):"
        else:
            yield "The sources disagree on this figure (newest first):"
        for s in sentences:
            title = str(s.doc.metadata.get("title", "")) or str(s.doc.metadata.get("source", ""))
            date = s.date or ("日期不详" if asked.language == "zh" else "undated")
            yield f"\n- {s.lead} [{s.passage}] ({title}, {date}): " + self._quote(s, asked)
