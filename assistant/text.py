"""Text helpers shared by chunking, lexical search and answering: normalising, sentences, words, language."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# A sentence ends at Chinese or Latin terminal punctuation (followed by closing quotes/brackets),
# or at a line break. The full-width forms are written as escapes so an NFKC pass over this file cannot fold them away.
# Latin "." only counts before whitespace so 1.4 and 0700.HK stay whole.
_SENTENCE_END = re.compile(r"([。!?;\uff01\uff1f\uff1b…]+[”’」』)\]]*|\.(?=\s)|\n+)")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORDLIKE = re.compile(r"\w")

STOPWORDS = frozenset(
    """的 了 和 与 及 是 在 有 为 对 将 也 都 而 其 这 那 个 之 以 于 被 把 中 上 下 吗 呢 吧 啊 么 什么 多少 哪些 哪个
    怎么 怎样 如何 为什么 为何 是否 请问 请 一下 根据 资料 文章 多 少 几 哪 谁 年 月 日 了吗 还 又 则 并 等 该
    a an the of to in on for and or is are was were be by with what which who how why when does do did
    its it their they this that these those as at from about much many than vs versus please tell me
    according sources source""".split()
)


def normalize(text: str) -> str:
    """NFKC folds full-width letters, digits and punctuation to their half-width forms."""
    return unicodedata.normalize("NFKC", text)


def language_of(text: str) -> str:
    """'zh' when the text has a meaningful share of Chinese characters, else 'en'."""
    cjk = len(_CJK.findall(text))
    latin = len(_LATIN.findall(text))
    if cjk == 0:
        return "en"
    return "zh" if cjk * 3 >= latin else "en"


_TABLE_ROW = re.compile(r"^[ \t]*\|.*(?:\n|$)", re.M)


def split_sentences(text: str) -> list[str]:
    """Split at 。!?; and their Latin forms, keeping the punctuation with its sentence.
    A Markdown table row is one unit: its cells only make sense together."""
    if "|" in text:
        out: list[str] = []
        last = 0
        for row in _TABLE_ROW.finditer(text):
            out += _split_prose(text[last : row.start()])
            out.append(row.group(0))
            last = row.end()
        return out + _split_prose(text[last:])
    return _split_prose(text)


def _split_prose(text: str) -> list[str]:
    parts = _SENTENCE_END.split(text)
    sentences: list[str] = []
    buf = ""
    for i, part in enumerate(parts):
        buf += part
        if i % 2 == 1:  # a delimiter closes the sentence
            if buf.strip():
                sentences.append(buf)
            elif sentences:
                sentences[-1] += buf  # a bare line break belongs to the sentence before it
            buf = ""
    if buf.strip():
        sentences.append(buf)
    return sentences


_DATE = re.compile(r"(?<!\d)(\d{4})(?:[-/.年]?(\d{1,2})(?:[-/.月]?(\d{1,2}))?)?")


def date_int(value: object, end: bool = False) -> int:
    """A date as YYYYMMDD for range comparisons ("2025-3-5", "2025/03/05", "2025年3月", "20250305", "2025");
    a missing month or day means the start of the period, or its end with `end=True`. 0 when there is no date."""
    match = _DATE.search(normalize(str(value or "")))
    if not match:
        return 0
    year = int(match.group(1))
    month = int(match.group(2)) if match.group(2) else (12 if end else 1)
    day = int(match.group(3)) if match.group(3) else (31 if end else 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return 0
    return year * 10000 + month * 100 + day


CHINESE_SCALED = re.compile(r"(\d+(?:,\d{3})*(?:\.\d+)?)\s*(万亿|亿|万)")


def english_figure(item: str) -> str:
    """"3.65亿" also as " (365 million)", and a range "8,000万元至9,500万元" as " (80 million to 95 million)", so an
    English reader need not convert Chinese units ("" for other items)."""
    rendered = [_english_scaled(part) for part in re.split(r"\s*至\s*", item.strip())]
    return f" ({' to '.join(rendered)})" if all(rendered) else ""


def _english_scaled(item: str) -> str:
    match = CHINESE_SCALED.match(item)
    if not match:
        return ""
    value = float(match.group(1).replace(",", "")) * {"万亿": 1e12, "亿": 1e8, "万": 1e4}[match.group(2)]
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million"), (1e3, "thousand")):
        if value >= size:
            return f"{value / size:g} {word}"
    return ""


def numbers_in(text: str) -> list[str]:
    """Numbers as written, with thousands separators removed (1,000 -> 1000)."""
    return [n.replace(",", "") for n in _NUMBER.findall(normalize(text))]


@dataclass
class Lexicon:
    """Company names, aliases, tickers and product names the project knows about."""

    canonical: dict[str, str] = field(default_factory=dict)  # alias (lower-case) -> canonical company
    aliases: dict[str, list[str]] = field(default_factory=dict)  # canonical -> aliases as written
    tickers: dict[str, str] = field(default_factory=dict)  # canonical -> ticker
    terms: list[str] = field(default_factory=list)  # every name to keep whole in word cutting
    metrics: list[list[str]] = field(default_factory=list)  # groups of synonymous metric names

    @classmethod
    def load(cls, path: Path) -> Lexicon:
        lex = cls()
        if not path.exists():
            return lex
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for name, info in (data.get("companies") or {}).items():
            info = info or {}
            ticker = str(info.get("ticker") or "")
            lex.tickers[name] = ticker
            for alias in [name, ticker, *(info.get("aliases") or [])]:
                if alias:
                    lex.canonical[str(alias).lower()] = name
                    lex.aliases.setdefault(name, []).append(str(alias))
                    lex.terms.append(str(alias))
        lex.terms.extend(str(p) for p in data.get("products") or [])
        lex.metrics = [[str(t) for t in group] for group in data.get("metrics") or []]
        lex.terms.extend(t for group in lex.metrics for t in group if not re.search(r"[A-Za-z]", t))
        return lex

    def metrics_in(self, text: str) -> list[list[str]]:
        """The metric groups a text names (any synonym counts)."""
        return [group for group in self.metrics if any(mentions(text, term) for term in group)]

    def companies_in(self, text: str) -> list[str]:
        """Canonical names of the companies a text mentions, in order of first mention."""
        low = normalize(text).lower()
        hits: list[tuple[int, str]] = []
        for alias, name in self.canonical.items():
            if re.fullmatch(r"[a-z0-9.\- ]+", alias):
                match = re.search(rf"(?<![a-z0-9]){re.escape(alias)}(?![a-z0-9])", low)
                pos = match.start() if match else -1
            else:
                pos = low.find(alias)
            if pos >= 0:
                hits.append((pos, name))
        seen: list[str] = []
        for _, name in sorted(hits):
            if name not in seen:
                seen.append(name)
        return seen

    def aliases_of(self, company: str) -> list[str]:
        name = self.resolve(company)
        return self.aliases.get(name, [name])

    def display_name(self, company: str, language: str) -> str:
        """The canonical (Chinese) name, or its first Latin alias for English text."""
        name = self.resolve(company)
        if language == "en":
            latin = [a for a in self.aliases.get(name, []) if re.fullmatch(r"[A-Za-z][A-Za-z .\-]*", a)]
            if latin:
                return latin[0]
        return name

    def resolve(self, company: str) -> str:
        return self.canonical.get(normalize(company).lower(), company)


def mentions(text: str, term: str) -> bool:
    """Case-insensitive; Latin terms match whole words only (so "PE" does not match "people"), with or without their
    spaces (Chinese text writes "Model Y" as "ModelY")."""
    low, term = normalize(text).lower(), normalize(term).lower()
    if re.search(r"[a-z]", term):
        spaced = r"\s*".join(re.escape(part) for part in term.split(" "))
        return re.search(rf"(?<![a-z]){spaced}(?![a-z])", low) is not None
    return term in low


@lru_cache(maxsize=4)
def jieba_tokenizer(terms: tuple[str, ...]):  # noqa: ANN202 - jieba has no types
    import jieba

    from assistant.offline import CACHE_ROOT

    cache = CACHE_ROOT / "jieba"
    cache.mkdir(parents=True, exist_ok=True)
    tokenizer = jieba.Tokenizer()
    tokenizer.tmp_dir = str(cache)
    jieba.setLogLevel(60)
    for term in terms:
        # Text is lower-cased before cutting, so the dictionary is too.
        tokenizer.add_word(term.lower(), freq=200000)
    return tokenizer


def words(text: str, lexicon: Lexicon | None = None) -> list[str]:
    """Search words: jieba for Chinese (with the lexicon kept whole), lower-case Latin words, no stopwords."""
    tokenizer = jieba_tokenizer(tuple(sorted(set(lexicon.terms))) if lexicon else ())
    out: list[str] = []
    for piece in tokenizer.lcut(normalize(text).lower(), HMM=True):
        piece = piece.strip()
        if not piece or piece in STOPWORDS or not _WORDLIKE.search(piece):
            continue
        out.append(piece)
    return out
