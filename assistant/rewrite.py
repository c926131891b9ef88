"""Turn a follow-up ("那腾讯呢?", "and its P/E?") into a standalone question, using the chat history.

The offline default is rule-based: carry the company (or the question) over from the previous turn.
With an LLM configured, the LLM rewrites with the prompt in prompts/condense.md.
"""

from __future__ import annotations

import re

from assistant.text import Lexicon, language_of

_FOLLOW_UP = re.compile(
    r"^(那|那么|还有|另外|再|以及|and\b|what about\b|how about\b|and what about\b)|呢[??]?\s*$"
    r"|\b(its|it|their|they|them|that company|the company)\b|(它|其|它们|他们|该公司|这家公司|这家|同期|这个|那个)",
    re.I,
)
_PRONOUNS_ZH = re.compile(r"(它们|他们|该公司|这家公司|这家|它的|其|它)")
_PRONOUNS_EN = re.compile(r"\b(its|their|it|they|them|that company|the company)\b", re.I)


def is_follow_up(question: str) -> bool:
    short = len(question) <= 14 if language_of(question) == "zh" else len(question.split()) <= 7
    return bool(_FOLLOW_UP.search(question.strip())) or short


def _replace_company(text: str, old: str, new: str, lexicon: Lexicon) -> str:
    aliases = sorted(lexicon.aliases_of(old), key=len, reverse=True)
    pattern = "|".join(re.escape(a) for a in aliases if a)
    return re.sub(pattern, new, text, flags=re.I) if pattern else text


_SAME_PERIOD = re.compile(r"同一季度|同季度|同期|同一年|当季|that quarter|the same quarter|same period|that year", re.I)
_PERIOD = re.compile(r"20\d\d\s*年?\s*(?:第?[一二三四1-4]季度|Q[1-4])?|Q[1-4]\s*20\d\d", re.I)


def rewrite(question: str, history: list[dict], lexicon: Lexicon) -> str:
    """Standalone form of `question`; the subject and, for "同期"/"that quarter", the period carry over.

    Each earlier turn is made standalone once, oldest first, so a long conversation costs one pass."""
    previous = ""
    for turn in history:
        previous = _standalone(str(turn.get("question", "")), previous, lexicon)
    return _standalone(question, previous, lexicon)


def _standalone(question: str, previous: str, lexicon: Lexicon) -> str:
    standalone = _rewrite_subject(question, previous, lexicon)
    if previous and _SAME_PERIOD.search(question):
        period = _PERIOD.search(previous)
        if period:
            standalone = _SAME_PERIOD.sub(period.group(0).strip(), standalone, count=1)
    return standalone


def _rewrite_subject(question: str, previous: str, lexicon: Lexicon) -> str:
    """`question` about the previous (standalone) question's company when it only points back to it."""
    if not previous:
        return question
    before = lexicon.companies_in(previous)
    now = lexicon.companies_in(question)
    if not before or not is_follow_up(question):
        return question
    if now:
        if set(now) <= set(before):
            return question
        core = re.sub(r"^(那么|那|还有|and what about|what about|how about|and)\s*", "", question.strip(), flags=re.I)
        core = re.sub(r"(呢|吗)?\s*[??]\s*$", "", core).strip()
        # "那腾讯呢?" asks the previous question about another company.
        if len(lexicon.companies_in(core)) and len(re.sub("|".join(map(re.escape, lexicon.aliases_of(now[0]))), "", core)) <= 4:
            return _replace_company(previous, before[0], lexicon.display_name(now[0], language_of(previous)), lexicon)
        return question
    subject = lexicon.display_name(before[0], language_of(question))
    if language_of(question) == "zh":
        replaced, count = _PRONOUNS_ZH.subn(subject, question, count=1)
    else:
        replaced, count = _PRONOUNS_EN.subn(lambda m: subject + ("'s" if m.group(0).lower() in ("its", "their") else ""),
                                            question, count=1)
    if count:
        return replaced
    return f"{subject} {question}"
