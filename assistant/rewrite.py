"""Turn a follow-up ("那腾讯呢?", "and its P/E?") into a standalone question, using the chat history.

The offline default is rule-based:
  * "那X呢?" / "what about X?" asks the previous question again, about X when X is a company (the previous subject
    is replaced), for X when X is a period ("未来五年呢?": the previous period is replaced), or with X as the new
    attribute of the previous subject ("市盈率呢?");
  * "它/其/该公司/its/their/it" become the previous subject; "同期/那个季度/那年/that quarter" the previous period;
  * "那它的X呢?" / "and its X?" ask X of the previous subject; "那蓝鲸科技同期呢?" the previous question about 蓝鲸科技;
  * after a "which/who" question, "它/it" is the entity its answer named.
Companies are found the general way, not only from the lexicon: jieba's proper-noun tags, names with a company
suffix, Latin names and tickers, and the name a question opens with ("星河动力的估值…").
With an LLM configured, the LLM rewrites with the prompt in prompts/condense.md (assistant/answer.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from assistant.text import Lexicon, jieba_tokenizer, language_of, mentions, normalize

_OPENER = re.compile(r"^(?:那么|那|还有|另外|再看看|再看|再问|以及)|^(?:and what about|what about|how about|and|also)\b", re.I)
_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|再|以及|and\b|what about\b|how about\b|and what about\b)|呢[??]?\s*$"
    r"|\b(its|it|their|they|them|that company|the company)\b|(它|其|它们|他们|该公司|这家公司|这家|同期|这个|那个)",
    re.I,
)
# An opener that only links a follow-up to the turn before ("那它的…", "And what…"); not "那个"/"那年" (that …).
_LEAD = re.compile(r"^(?:那么|那(?![个些年时天次样一])|还有|另外|以及)\s*|^(?:and|also|so)\s+(?=\w)", re.I)
# "其" only where it is a pronoun: not in 其他, 其中, 其实, 尤其 ...
_PRONOUNS_ZH = re.compile(
    r"它们的|它们|他们的|他们|该公司的|该公司|这家公司的|这家公司|该企业|这家企业|它的|它|(?<![尤极与])其(?![他它中实余次后间])"
)
_PRONOUNS_EN = re.compile(r"\b(its|their|it|they|them|that company|the company|this company)\b", re.I)
_SAME_PERIOD = re.compile(
    r"同一季度|同季度|同期|同一年|当季|那个季度|那一季度|该季度|这个季度|那一年|那年|当年|该年|"
    r"that quarter|the same quarter|same period|that year|the same year",
    re.I,
)
_PERIOD = re.compile(
    r"(?:19|20)\d\d\s*年?\s*(?:第?[一二三四1-4]季度|Q[1-4]|H[12]|上半年|下半年|年中|年底|年末)?|Q[1-4]\s*(?:of\s*)?(?:19|20)\d\d"
    r"|(?:过去|未来|近|前|后)[一二两三四五六七八九十\d]+年|今年|去年|明年|前年|上半年|下半年|本季度|上季度|下季度"
    r"|(?:the )?(?:first|second|third|fourth) quarter(?: of (?:19|20)\d\d)?"
    r"|(?:the )?(?:past|next|last) (?:\w+ )?years?|this year|last year|next year",
    re.I,
)
# "那X呢?" and its English forms; X is what the follow-up asks about.
_ABOUT_ZH = re.compile(
    r"^(?P<open>那么|那(?![个些年时天次样一])|还有|另外|再看看|再看|以及)?\s*(?P<x>.+?)\s*(?:的)?\s*(?P<end>呢|怎么样|如何|又如何|又怎样)\s*[??]?$"
)
_ABOUT_EN = re.compile(
    r"^(?:and\s+)?(?:what|how)\s+about\s+(?P<x>.+?)\s*[??.]?$"
    r"|^and\s+(?!(?:what|how|which|who|when|where|why|is|are|was|were|did|does|do|can)\b)(?P<y>[^?]{1,40}?)\s*\?$",
    re.I,
)
# Words that end an attribute ("市盈率", "云业务", "AI收入占比") rather than a name.
_ATTRIBUTE_ZH = re.compile(
    r"(率|额|量|数|值|价|比|收入|利润|营收|业务|成本|规模|估值|市值|开支|支出|投入|增速|增长|涨幅|跌幅|排名|份额|用户|销量|出货|订单|产品|"
    r"模型|大模型|战略|计划|前景|风险|优势|表现|情况|进展|股息|分红|回购|员工|现金流|负债|资产|收益|指引|预期|评级|影响|布局|芯片|平台)$"
)
COMPANY_SUFFIX = re.compile(
    r"(科技|集团|公司|控股|股份|半导体|汽车|智能|机器人|动力|数科|网络|银行|国际|医药|电子|通信|能源|资本|实业|智算|算力|云|证券|基金|研究院|"
    r"technologies|technology|tech|robotics|labs?|group|holdings?|inc\.?|ltd\.?|corp\.?|co\.?|systems|motors|bank)$",
    re.I,
)
_TICKER = re.compile(r"(?<![A-Za-z0-9.])(?:\d{3,5}\.HK|\d{6}\.(?:SH|SZ)|[A-Z]{1,5}\.(?:US|N|O))(?![A-Za-z0-9])", re.I)
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.&][A-Za-z0-9]+)*(?:'s|')?(?:\s+[A-Z][A-Za-z0-9]*(?:[-.&][A-Za-z0-9]+)*(?:'s|')?)*")
# Capitalised words that are no names: question words, pronouns, and metric or unit abbreviations.
_NOT_NAMES = frozenset(
    """what how which who whom whose when where why is are was were did does do and or the a an in of for on at by to
    its it their they this that these those i we you if can could should would will shall may might has have had
    ai ipo ceo cfo usd rmb hkd cny eps pe p/e roe roa gmv mau dau arpu ebitda ttm yoy qoq r&d q1 q2 q3 q4 h1 h2 hk
    fy gdp api gpu cpu llm iot aiot saas esg roic fcf cagr capex opex ebit kpi ps pb ev arr nrr ltv cac aum nav dcf
    wacc irr npv please tell give show compare rank list""".split()
)
# A question that asks for a name: the entity its answer gives is what "it" means next.
_ASKS_NAME = re.compile(r"哪家|哪个|哪款|哪一|谁|叫什么|什么名字|是什么公司|\bwhich\b|\bwho\b|what(?: is|'s) the name|name the", re.I)
# A question about several companies ("其中哪家…", "所有公司…") has no single subject to carry over.
_MANY = re.compile(r"其中|所有|各家|这些|哪些|\b(?:all|these|those|each|every)\b", re.I)
# A question about the market as a whole is about no company ("今天港股整体表现如何?").
_MARKET = re.compile(r"港股|A股|美股|大盘|市场|行业|板块|指数|整体|总体|宏观|今天|今日|本周|本月|\b(?:market|sector|index)\b", re.I)
# Numeric attributes are asked "是多少?"; others ("战略", "前景") "如何?".
_NUMERIC_ATTRIBUTE = re.compile(
    r"(率|额|量|数|值|价|比|收入|利润|营收|成本|规模|估值|市值|开支|支出|投入|增速|增长|涨幅|跌幅|份额|用户|销量|出货|订单|股息|分红|员工|现金流|负债|资产|收益)$"
)
_QUESTION_WORDS = re.compile(
    r"是多少|有多少|多少|是什么|如何|怎么样|怎样|呢|吗|[??]|^(?:what is|what's|what are|how much is|how many)\s+", re.I
)
_BRACKETED = re.compile(r"\[[^\]\n]{0,40}\]|【[^】\n]{0,40}】")
_ENTITY_TAGS = ("nr", "ns", "nt", "nz", "nrt", "nrfg")


def is_follow_up(question: str) -> bool:
    short = len(question) <= 14 if language_of(question) == "zh" else len(question.split()) <= 7
    return bool(_FOLLOW_UP.search(question.strip())) or short


@dataclass(frozen=True)
class Subject:
    """What a question is about: the name to use, and the spans of the text that name it."""

    name: str
    spans: tuple[str, ...]
    start: int
    known: bool = False  # from the lexicon


def rewrite(question: str, history: list[dict], lexicon: Lexicon) -> str:
    """Standalone form of `question`; the subject and the period carry over from the conversation.

    Each earlier turn is made standalone once, oldest first, so a long conversation costs one pass."""
    previous, answer = "", ""
    for turn in history:
        previous = _standalone(str(turn.get("question", "")), previous, answer, lexicon)
        answer = str(turn.get("answer", ""))
    return _standalone(question, previous, answer, lexicon)


def _standalone(question: str, previous: str, answer: str, lexicon: Lexicon) -> str:
    question = normalize(question).strip()
    if not previous:
        return question
    # A label in front ("[SESS0A1B] 那腾讯呢?") stays with its question and takes no part in resolving it.
    label, question = _split_label(question)
    _, previous = _split_label(previous)
    standalone = _resolve(question, previous, answer, lexicon)
    if _SAME_PERIOD.search(standalone):
        period = _PERIOD.search(previous)
        if period:
            standalone = _SAME_PERIOD.sub(period.group(0).strip(), standalone, count=1)
    return label + standalone


def _split_label(text: str) -> tuple[str, str]:
    match = re.match(rf"^(?:{_BRACKETED.pattern})\s*", text)
    return (match.group(0), text[match.end() :]) if match else ("", text)


def _resolve(question: str, previous: str, answer: str, lexicon: Lexicon) -> str:
    subject = _referent(previous, answer, lexicon)
    about = _about(question)
    if about is not None and not _PRONOUNS_ZH.search(about) and not _PRONOUNS_EN.search(about):
        return _ask_about(about, question, previous, subject, lexicon)
    if subject is None:
        return question
    if about is not None:
        # "那它的市盈率呢?", "And its P/E?": without its pronoun, X is an attribute of the previous subject.
        bare = re.sub(r"^(?:的|'s)?\s*", "", (_PRONOUNS_ZH if language_of(about) == "zh" else _PRONOUNS_EN).sub("", about, count=1))
        if bare and not subjects_in(bare, lexicon) and _is_attribute(re.sub(r"^的", "", _SAME_PERIOD.sub("", bare)).strip(), lexicon):
            return _ask_about(bare, question, previous, subject, lexicon)
    own = subjects_in(question, lexicon)
    pronoun = (_PRONOUNS_ZH if language_of(question) == "zh" else _PRONOUNS_EN).search(question)
    opens = bool(_OPENER.match(question))
    if pronoun and not (own and own[0].start < pronoun.start() and not opens):
        return _drop_lead(_replace_pronoun(question, subject, lexicon))
    if own or not is_follow_up(question) or _SAME_PERIOD.search(question) or _ASKS_NAME.search(question) or _MANY.search(question):
        return question
    # A short question that names no company but an attribute ("市盈率是多少?") is about the previous subject.
    if _MARKET.search(question) or not _is_attribute(_QUESTION_WORDS.sub("", question).strip(), lexicon):
        return question
    name = _display(subject, question, lexicon)
    return f"{name}的{question}" if language_of(question) == "zh" else f"{name}: {question}"


def _drop_lead(question: str) -> str:
    """A resolved question stands alone: "那蓝鲸科技的…" is "蓝鲸科技的…", "And what EPS growth…" is "What EPS growth…"."""
    bare = _LEAD.sub("", question, count=1)
    return bare[:1].upper() + bare[1:] if bare and bare is not question and bare[:1].isascii() else bare


def _about(question: str) -> str | None:
    """X of "那X呢?" / "what about X?", or None when the question has another form."""
    # "MiniMax呢?" is a Chinese question though most of its letters are Latin: the particle decides.
    match = _ABOUT_ZH.match(question) if re.search(r"[\u4e00-\u9fff]", question) else _ABOUT_EN.match(question)
    if not match:
        return None
    found = (match.groupdict().get("x") or match.groupdict().get("y") or "").strip()
    # "…表现如何?" is a whole question, not "那X如何?": without 那 or 呢, only a short X is a follow-up's.
    if match.groupdict().get("end") and not match.group("open") and match.group("end") != "呢" and len(found) > 6:
        return None
    found = re.sub(r"^(?:the|a|an)\s+", "", found, flags=re.I)
    found = re.sub(r"的$", "", found).strip()
    return found or None


def _ask_about(about: str, question: str, previous: str, subject: Subject | None, lexicon: Lexicon) -> str:
    """The previous question about another company, for another period, or for another attribute."""
    period = _PERIOD.fullmatch(about)
    if period or _SAME_PERIOD.fullmatch(about):
        old = _PERIOD.search(previous)
        if old:
            return previous[: old.start()] + about + previous[old.end() :]
        if subject is not None:
            span = subject.spans[0]
            return previous.replace(span, f"{span}{about}" if language_of(previous) == "zh" else f"{span} in {about}", 1)
        return question
    if re.match(r"(其他|其余|别的|other|others)", about, re.I) or _MARKET.search(about):
        return question  # "其他公司呢?", "那港股整体呢?" name no company
    own = subjects_in(about, lexicon)
    rest = _rest(about, own[0]) if own and own[0].start == 0 else ""
    if rest and subject is not None and (_SAME_PERIOD.fullmatch(rest) or _PERIOD.fullmatch(rest)):
        # "那蓝鲸科技同期呢?" asks the previous question about 蓝鲸科技; "那蓝鲸科技2024年呢?" also for another period.
        moved = _replace_subject(previous, subject, _display(own[0], previous, lexicon), lexicon)
        old = _PERIOD.search(moved)
        return moved[: old.start()] + rest + moved[old.end() :] if old and _PERIOD.fullmatch(rest) else moved
    if rest:
        return question  # "那腾讯的市盈率呢?" names its company and its attribute: it stands alone
    if own or not _is_attribute(about, lexicon):
        if subject is None:
            return question
        new = own[0] if own else Subject(about, (about,), 0)
        return _replace_subject(previous, subject, _display(new, previous, lexicon), lexicon)

    if subject is None:
        return question
    # A new attribute of the previous subject, in the previous period ("同期的营收呢?" says so itself).
    name = _display(subject, question, lexicon)
    old = _PERIOD.search(previous)
    when = old.group(0).strip() if old else ""
    about = re.sub(r"^(?:的|'s\s)", "", _SAME_PERIOD.sub("", about).strip()).strip()
    if language_of(question) == "zh":
        return f"{name}{when}的{about}" + ("是多少?" if _NUMERIC_ATTRIBUTE.search(about) or lexicon.metrics_in(about) else "如何?")
    return f"What is {_possessive(name)} {about}{' in ' + when if when else ''}?"


# Where a Chinese question stops naming its attribute and starts asking ("…的估值怎么看?", "…增长了多少?").
_ASKING_ZH = re.compile(
    r"(?:了|的|是|有|在)*(?:是多少|有多少|多少|有多[大高低少快长久]|多[大高低少快长久]|是什么|有什么|是否|怎么看|怎么样|怎样|如何|"
    r"为什么|为何|排第几|第几|几|哪|吗|呢)|[??。]"
)


def follow_up_topic(question: str, standalone: str, lexicon: Lexicon) -> tuple[str, str]:
    """(subject, attribute) of a follow-up that was rewritten ("它的估值怎么看?" -> ("蓝鲸科技", "估值")), so a refusal can
    say what it understood was asked; ("", "") for a question that stood alone, or one whose subject is not found."""
    _, text = _split_label(normalize(standalone).strip())
    if not text or normalize(question).strip() in (standalone, text):
        return "", ""
    found = subjects_in(text, lexicon)
    if not found:
        return "", ""
    # The subject the rewrite brought in from the conversation, rather than a name the follow-up itself said
    # ("what EPS growth does Northstar Securities expect for it?" is about the earlier company, not the broker).
    own = {s.name for s in subjects_in(question, lexicon)}
    subject = next((s for s in found if s.name not in own), found[0])
    name = _display(subject, text, lexicon)
    start = subject.start + len(subject.spans[0]) if text[subject.start :].startswith(subject.spans[0]) else text.find(subject.spans[0])
    before, after = text[: subject.start].strip(), text[start:]
    if language_of(text) == "zh":
        after = re.sub(r"^\s*的", "", after)
        cut = _ASKING_ZH.search(after)
        attribute = (after[: cut.start()] if cut else after).strip()
        # A period the question put before its subject ("2025Q3蓝鲸科技的…") belongs to the attribute.
        if before and _PERIOD.fullmatch(before):
            attribute = f"{before}{attribute}"
        return name, attribute or re.sub(r"[??]+$", "", text)
    possessive = re.match(r"^(?:'s|')\s+(?P<rest>[^?]+)", after)
    return name, (possessive.group("rest").strip() if possessive else re.sub(r"[??\s]+$", "", text))


def _rest(text: str, subject: Subject) -> str:
    """What a text says besides naming its subject."""
    rest = text
    for span in subject.spans:
        rest = rest.replace(span, "")
    return re.sub(r"^\s*(?:的|'s|')\s*", "", rest).strip()


def _is_attribute(text: str, lexicon: Lexicon) -> bool:
    if lexicon.metrics_in(text):
        return True
    if language_of(text) == "zh":
        return bool(_ATTRIBUTE_ZH.search(text)) and not COMPANY_SUFFIX.search(text)
    # In English a name is capitalised: "What about Nimbus Labs?" but "what about revenue?".
    return not any(_is_name_word(w) for w in re.findall(r"[A-Za-z][\w&.\-]*", text))


def _is_name_word(word: str) -> bool:
    bare = re.sub(r"('s|')$", "", word)
    return bool(re.search(r"[A-Z]", bare)) and bare.lower() not in _NOT_NAMES or bool(_TICKER.fullmatch(bare))


def _referent(previous: str, answer: str, lexicon: Lexicon) -> Subject | None:
    """What "it" means after the previous question: its subject, or for "哪家…?/which…?" the name the answer gave."""
    asked = subjects_in(previous, lexicon)
    if answer and _ASKS_NAME.search(previous):
        named = [s for s in subjects_in(answer, lexicon) if s.name not in {a.name for a in asked}]
        if named:
            return named[0]
    return asked[0] if asked else None


def _replace_subject(previous: str, old: Subject, new: str, lexicon: Lexicon) -> str:
    """The previous question about `new`. A name attached to the old subject ("小米的MiMo大模型") is its own, not
    the new one's, so it goes: "那商汤呢?" asks about 商汤's 大模型, not about MiMo."""
    known = lexicon.resolve(old.name) in lexicon.aliases
    spans = sorted({*old.spans, *(lexicon.aliases_of(old.name) if known else [])}, key=len, reverse=True)
    pattern = "|".join(re.escape(s) for s in spans if s)
    if not pattern:
        return previous
    others = [s for s in subjects_in(previous, lexicon) if s.name != old.name and lexicon.resolve(s.name) not in lexicon.aliases]
    for other in others:
        previous = re.sub(rf"({pattern})(的|'s\s+|\s+){re.escape(other.spans[0])}\s*", r"\1\2", previous, count=1, flags=re.I)
    # "Nimbus Labs' revenue" about NIO is "NIO's revenue".
    return re.sub(rf"({pattern})('s|'(?!\w))?", lambda m: _possessive(new) if m.group(2) else new, previous, flags=re.I)


def _replace_pronoun(question: str, subject: Subject, lexicon: Lexicon) -> str:
    name = _display(subject, question, lexicon)
    if language_of(question) == "zh":
        # "其" is possessive ("其研发投入"): it becomes "X的".
        return _PRONOUNS_ZH.sub(lambda m: name + ("的" if m.group(0).endswith("的") or m.group(0) == "其" else ""), question, count=1)
    return _PRONOUNS_EN.sub(lambda m: _possessive(name) if m.group(0).lower() in ("its", "their") else name, question, count=1)


def _possessive(name: str) -> str:
    return name + ("'" if name.endswith("s") else "'s")


def _display(subject: Subject, text: str, lexicon: Lexicon) -> str:
    """A lexicon company in the language of the text it goes into; any other name as written."""
    if lexicon.resolve(subject.name) in lexicon.aliases:
        return lexicon.display_name(subject.name, language_of(text))
    return subject.name


def subjects_in(text: str, lexicon: Lexicon) -> list[Subject]:
    """The companies (and other named things) a text names, in order: lexicon names, tickers, Latin names, Chinese
    proper nouns (jieba tags nr/ns/nt/nz), names with a company suffix, and a name the question opens with."""
    # Bracketed tags ("[1]", "[SESS0A1B]") are labels, not names: blanked, so positions stay where they were.
    text = _BRACKETED.sub(lambda m: " " * len(m.group(0)), normalize(text))
    found: list[Subject] = []
    low = text.lower()
    for name in lexicon.companies_in(text):
        spans = [a for a in lexicon.aliases_of(name) if a and mentions(text, a)]
        starts = [low.find(a.lower()) for a in spans]
        start = min((s for s in starts if s >= 0), default=0)
        found.append(Subject(name, tuple(sorted(spans, key=len, reverse=True)), start, known=True))
    for term in lexicon.terms:  # products and other names the lexicon keeps whole ("腾讯元宝")
        if term and re.search(r"[A-Za-z]", term) is None and term in text and not lexicon.metrics_in(term):
            found.append(Subject(term, (term,), text.find(term), known=True))
    for match in _TICKER.finditer(text):
        found.append(Subject(match.group(0), (match.group(0),), match.start()))
    for match in _LATIN_NAME.finditer(text):
        name = _latin_name(match.group(0))
        if name:
            found.append(Subject(name, (name,), match.start() + match.group(0).find(name)))
    found += _chinese_names(text)
    return _dedupe(found)


# Kinds of company, not names of one: "归属于上市公司股东的净利润" names no company.
_GENERIC_COMPANIES = {"上市公司", "母公司", "子公司", "全资子公司", "控股子公司", "分公司", "本公司", "该公司", "合资公司",
                      "控股公司", "参股公司", "关联公司", "股份公司", "有限公司", "上市公司股东"}


def companies_named(text: str, lexicon: Lexicon) -> set[str]:
    """The companies a text names: lexicon names (canonical) and, for companies no list knows, names that end in a
    company suffix ("赤狐电子", "Nimbus Labs"); other proper nouns (places, people) are left out."""
    return {
        lexicon.resolve(s.name) for s in subjects_in(text, lexicon)
        if s.name not in _GENERIC_COMPANIES and (
            (s.known and lexicon.resolve(s.name) in lexicon.aliases)
            # a name before the suffix: "Technology" alone names no company
            or (COMPANY_SUFFIX.sub("", s.name).strip(" -") and COMPANY_SUFFIX.search(s.name))
        )
    }


def _latin_name(span: str) -> str:
    """The name in a run of Latin words, without leading question words or a possessive ("What is Nimbus Labs'")."""
    words = span.split()
    while words and not _is_name_word(words[0]):
        words.pop(0)
    while words and not _is_name_word(words[-1]):
        words.pop()
    name = re.sub(r"('s|')$", "", " ".join(words))
    # "MiniMax2025年": Chinese text puts the year right after the name.
    name = re.sub(r"(?<=[A-Za-z])(?:19|20)\d\d$", "", name)
    return name if len(name) >= 2 else ""


def _chinese_names(text: str) -> list[Subject]:
    found = []
    offset = 0
    words = cut_with_tags(text)
    for i, (word, tag) in enumerate(words):
        start = offset
        offset += len(word)
        if len(word) < 2 or not re.search(r"[\u4e00-\u9fff]", word):
            continue
        if tag in _ENTITY_TAGS:
            name = word
            # "华虹" + "半导体": a proper noun followed by a company suffix is one name.
            if i + 1 < len(words) and COMPANY_SUFFIX.fullmatch(words[i + 1][0]):
                name += words[i + 1][0]
            found.append(Subject(name, (name,), start))
    lead = re.match(r"^\s*([\u4e00-\u9fffA-Za-z·]{2,12}?)(?=的|(?:19|20)\d\d|在|今年|去年|是|有|对)", text)
    if lead and not _PRONOUNS_ZH.search(lead.group(1)) and (COMPANY_SUFFIX.search(lead.group(1)) or _opens_with_name(lead.group(1))):
        found.append(Subject(lead.group(1), (lead.group(1),), lead.start(1)))
    return found


def _opens_with_name(span: str) -> bool:
    """A question's opening words before "的" name its subject when they are all nouns and no attribute or period."""
    if _ATTRIBUTE_ZH.search(span) or _PERIOD.search(span) or _PRONOUNS_ZH.search(span):
        return False
    tags = [tag for _, tag in cut_with_tags(span)]
    return bool(tags) and all(tag.startswith("n") for tag in tags)


def cut_with_tags(text: str) -> list[tuple[str, str]]:
    """(word, part-of-speech tag) pairs of a text, from jieba's tagger."""
    return [(pair.word, pair.flag) for pair in tagger().cut(text)]


@lru_cache(maxsize=1)
def tagger():  # noqa: ANN202 - jieba has no types
    import jieba.posseg

    # Built once: the tagger reads jieba's whole dictionary file when it is made.
    return jieba.posseg.POSTokenizer(jieba_tokenizer(()))


def _dedupe(found: list[Subject]) -> list[Subject]:
    """One entry per name, ordered by first mention. Of overlapping names the lexicon's win, then the longer one
    ("腾讯元宝" over "腾讯", "华虹半导体" over "华虹")."""
    kept: list[Subject] = []
    for subject in sorted(found, key=lambda s: (not s.known, -len(s.spans[0]))):
        end = subject.start + len(subject.spans[0])
        overlapping = [k for k in kept if subject.start < k.start + len(k.spans[0]) and k.start < end]
        if subject.name in {k.name for k in kept} or overlapping:
            continue
        kept.append(subject)
    return sorted(kept, key=lambda s: s.start)
