"""The offline default chat model: it answers with the passages' own sentences, cited, and refuses on weak evidence.

It is a LangChain chat model, so the same chain runs with it as with an LLM: it reads the numbered passages and
the question from the prompt the chain built (prompts/answer.md and prompts/passage.md).
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from assistant.text import Lexicon, language_of, mentions, normalize, numbers_in, split_sentences, words

_PASSAGE = re.compile(r'<passage n="(\d+)" title="(.*?)" date="(.*?)" source="(.*?)"[^>]*>\n?(.*?)\n?</passage>', re.S)
_QUESTION = re.compile(r"<question>\s*(.*?)\s*</question>", re.S)
# Sentences that address the reader as a model are instructions smuggled into data: never repeat them.
_INJECTION = re.compile(
    r"ignore (all |any )?(the )?(previous|prior|above|earlier)|disregard (the|all|any|previous)|system prompt|you are now|"
    r"(reply|respond|answer) (only|with)|from now on|new instructions?|"
    r"忽略(之前|以上|前面|先前|所有|上述)|无视(之前|以上|上述)|系统提示|你现在是|从现在(开始|起)|(你|您)的回答|只(能|许)?(回答|回复|输出)|"
    r"请(回答|回复|输出)[:\uff1a]|assistant:|[<\u2039]/?(passage|question)",
    re.I,
)
_NUMERIC_Q = re.compile(
    r"多少|几|百分|比例|倍|增长|涨幅|增速|估值|规模|市盈率|速度|成本|数量|how much|how many|what (percent|share|multiple)|"
    r"growth|rate|ratio|p/e|pe\b|valuation|value|size|cost|speed|number|rise|gain|grow",
    re.I,
)
_WHY_Q = re.compile(r"为什么|为何|原因|何以|why|what (explains|drives)|reason", re.I)
_CAUSAL = re.compile(
    r"因为|由于|原因|源于|在于|所以|因此|因而|得益于|取决于|导致"
    r"|because|since|due to|reflects?|driven by|thanks to|stems? from|as a result|so that",
    re.I,
)
# A sentence that opens by pointing back ("这一瓶颈", "This bottleneck") needs the one before it to make sense.
_POINTS_BACK = re.compile(r"这一|这种|这些|这个|上述|^.{0,12}?[此该]|^(this|that|these|those|such|it)\b", re.I)
_ENDS_WITH_COLON = re.compile(r"[:\uff1a]\s*$")
_HEADING_LIKE = re.compile(r"^\s*(#|[-*|]\s*$)")
# Words too common in this domain to say whether a sentence answers the question.
_GENERIC = frozenset("公司 ai 2025 2025年 港股 科技 市场 年 全年 情况 表现 数据 company companies market stock shares hk".split())


_QUARTER = re.compile(
    r"(?:20(\d\d))?\s*(?:年)?\s*(?:(?<![同每单])第?([一二三四1-4])季度|Q([1-4])|(first|second|third|fourth) quarter)", re.I
)
_YEAR = re.compile(r"(?<!\d)(20\d\d)(?!\d)")
_QUARTER_NUMBER = {"一": "1", "二": "2", "三": "3", "四": "4", "first": "1", "second": "2", "third": "3", "fourth": "4"}


def _periods(text: str) -> set[str]:
    """Years ("2024") and quarters ("Q3") a text names, in one spelling whatever the language."""
    found = set(_YEAR.findall(text))
    for match in _QUARTER.finditer(text):
        number = match.group(2) or match.group(3) or match.group(4).lower()
        found.add("Q" + _QUARTER_NUMBER.get(number, number))
    return found


@dataclass
class _Sentence:
    text: str
    passage: int  # 1-based passage number
    rank: int  # passage rank from retrieval, 0 = best
    words: set[str] = field(default_factory=set)
    context: set[str] = field(default_factory=set)  # title and source words of its passage
    companies: list[str] = field(default_factory=list)  # named in the sentence itself
    about: list[str] = field(default_factory=list)  # named anywhere in its passage or title
    title_companies: list[str] = field(default_factory=list)
    previous: str = ""  # the sentence before it in its passage, for "this"/"这" that point back
    following: list[str] = field(default_factory=list)  # the sentences after it, for lists after a colon
    score: float = 0.0
    coverage: float = 0.0  # idf-weighted share of the question's words it (or its passage title) contains
    sim: float = 0.0  # embedding similarity to the question


def _render_row(text: str, language: str) -> str:
    """A dataset row ("company: 小米; metric: ...; value: 13; unit: %") as one readable sentence, figures exact."""
    pairs = dict(
        (k.strip(), v.strip()) for k, _, v in (p.partition(":") for p in text.rstrip("。").split("; ")) if _
    )
    if not {"company", "metric", "value"} <= pairs.keys():
        return text.strip()
    ticker = f" ({pairs['ticker']})" if pairs.get("ticker") else ""
    unit = pairs.get("unit", "")
    value = f"{pairs['value']}{unit}" if unit in ("%", "倍") or not unit else f"{pairs['value']} {unit}"
    period = pairs.get("period", "")
    if language == "zh":
        return f"{pairs['company']}{ticker}{pairs['metric']}:{value}" + (f"(期间:{period})" if period else "") + "。"
    return f"{pairs['company']}{ticker} — {pairs['metric']}: {value}" + (f" (period: {period})" if period else "") + "."


class ExtractiveChatModel(BaseChatModel):
    """Composes answers from retrieved sentences. `embedder` (optional) adds cross-lingual sentence similarity."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    lexicon: Lexicon
    refusals: dict[str, str]
    embedder: Any = None
    max_sentences: int = 3
    min_coverage: float = 0.3
    min_similarity: float = 0.83
    _vectors: dict = PrivateAttr(default_factory=dict)
    _vectors_lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "extractive"

    # --- parsing the prompt -----------------------------------------------------------------------------------
    @staticmethod
    def _parse(messages: list[BaseMessage]) -> tuple[str, list[tuple[int, str, str, str]]]:
        prompt = str(messages[-1].content)
        question = _QUESTION.search(prompt)
        passages = [(int(n), title, source, normalize(text)) for n, title, _date, source, text in _PASSAGE.findall(prompt)]
        return (question.group(1) if question else prompt), passages

    # --- answering --------------------------------------------------------------------------------------------
    def _candidates(self, passages: list[tuple[int, str, str, str]], language: str) -> list[_Sentence]:
        out: list[_Sentence] = []
        for rank, (n, title, source, text) in enumerate(passages):
            context = set(words(f"{title} {source.rsplit('/', 1)[-1]}", self.lexicon))
            about = self.lexicon.companies_in(f"{title} {text}")
            title_companies = self.lexicon.companies_in(title)
            previous = ""
            first = len(out)
            is_row = text.startswith("company:")
            pieces = [_render_row(text, language)] if is_row else split_sentences(text)
            for piece in pieces:
                piece = piece.strip()
                if len(piece) < 6 or _HEADING_LIKE.match(piece) or _INJECTION.search(piece):
                    continue
                if re.fullmatch(r"[\s|:\-]+", piece):
                    continue  # a table's separator row
                if piece.startswith("|"):
                    piece = "; ".join(c.strip() for c in piece.strip("|").split("|") if c.strip())
                piece = re.sub(r"^[-*>\s]+|\*\*|__", "", piece).strip()
                out.append(
                    _Sentence(
                        text=piece, passage=n, rank=rank, words=set(words(piece, self.lexicon)), context=context,
                        companies=self.lexicon.companies_in(piece), about=about, title_companies=title_companies,
                        previous=previous,
                    )
                )
                previous = piece
            in_passage = out[first:]
            for i, sentence in enumerate(in_passage):
                sentence.following = [t.text for t in in_passage[i + 1 : i + 4]]
        return out

    def _score(self, question: str, sentences: list[_Sentence], why: bool) -> None:
        q_words = [w for w in dict.fromkeys(words(question, self.lexicon)) if w not in _GENERIC]
        df = Counter(w for s in sentences for w in s.words | s.context)
        n = len(sentences)
        idf = {w: math.log(1 + n / (1 + df[w])) for w in q_words}
        total = sum(idf.values()) or 1.0
        q_companies = set(self.lexicon.companies_in(question))
        numeric = bool(_NUMERIC_Q.search(question))
        sims = np.zeros(n)
        if self.embedder is not None and sentences:
            sims = self._sentence_vectors([s.text for s in sentences]) @ self.embedder.embed_query(question)
        for s, sim in zip(sentences, sims):
            covered = sum(idf[w] * (1.0 if w in s.words else 0.6 if w in s.context else 0.0) for w in q_words)
            s.coverage = covered / total
            s.score = s.coverage + 2.0 * float(sim) - 0.03 * s.rank
            if numeric and numbers_in(s.text):
                s.score += 0.15
            if why and _CAUSAL.search(s.text):
                s.score += 0.2
            if q_companies:
                if q_companies & set(s.companies):
                    s.score += 0.3
                elif s.companies:
                    s.score -= 0.3  # names other companies only: probably their figure
                elif q_companies & set(s.about):
                    s.score += 0.15
            s.sim = float(sim)

    def _sentence_vectors(self, texts: list[str]) -> np.ndarray:
        """Sentence embeddings, cached: the same passages come back for many questions."""
        with self._vectors_lock:  # web sessions share this model and its cache
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self.embedder.embed_passages(missing)))
            with self._vectors_lock:
                if len(self._vectors) > 50_000:
                    self._vectors.clear()
                self._vectors.update((t, known[t]) for t in missing)
        return np.vstack([known[t] for t in texts])

    def answer(self, question: str, passages: list[tuple[int, str, str, str]]) -> str:
        language = language_of(question)
        refusal = self.refusals.get(language, self.refusals.get("en", ""))
        sentences = self._candidates(passages, language)
        if not sentences:
            return refusal
        q_companies = self.lexicon.companies_in(question)
        # A company the question names that no passage mentions: the sources cannot answer it.
        present = {c for s in sentences for c in s.about}
        if any(c not in present for c in q_companies):
            return refusal
        if not self._asked_terms_present(question, q_companies, sentences):
            return refusal
        why = bool(_WHY_Q.search(question))
        self._score(question, sentences, why)
        ranked = sorted(sentences, key=lambda s: -s.score)
        best = ranked[0]
        if best.coverage < self.min_coverage and best.sim < self.min_similarity:
            return refusal
        chosen = [best]
        # A comparison needs each named company's best sentence.
        for company in q_companies:
            if not any(company in s.companies for s in chosen):
                for s in ranked:
                    if company in s.companies and s.score > best.score * 0.5:
                        chosen.append(s)
                        break
        for s in ranked[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if s in chosen or s.score < best.score * 0.85:
                continue
            if any(len(s.words & c.words) > 0.6 * max(len(s.words), 1) for c in chosen):
                continue  # near-duplicate (overlapping chunks repeat sentences)
            chosen.append(s)
        return self._compose(chosen, language, why)

    def _asked_terms_present(self, question: str, companies: list[str], sentences: list[_Sentence]) -> bool:
        """The metric and the period a question names must appear where the sources speak of its company
        (a sentence naming it, or a sentence in a passage about it alone); otherwise the nearest figure would
        answer a different question."""
        relevant = sentences
        if companies:
            wanted = set(companies)
            relevant = [
                s for s in sentences
                if wanted & set(s.companies) or (not s.companies and (wanted & set(s.title_companies) or set(s.about) == wanted))
            ]
        joined = " ".join(s.text for s in relevant)
        for group in self.lexicon.metrics_in(question):
            if not any(mentions(joined, term) for term in group):
                return False
        return all(period in _periods(joined) for period in _periods(question))

    @staticmethod
    def _compose(chosen: list[_Sentence], language: str, why: bool = False) -> str:
        lines = []
        for s in chosen:
            text = s.text.rstrip()
            joiner = " " if language_of(text) == "en" else ""
            if _ENDS_WITH_COLON.search(text) and s.following:
                text = text + joiner + joiner.join(t.rstrip() for t in s.following)  # the list the colon announces
            elif why and s.following and _POINTS_BACK.search(s.following[0]):
                text = text + joiner + s.following[0].rstrip()  # "这一选择..." explains the sentence before it
            if s.previous and _POINTS_BACK.search(text) and s.previous not in {c.text for c in chosen}:
                text = s.previous.rstrip() + joiner + text
            end = ""
            if text and text[-1] in "。.!?;\uff01\uff1f\uff1b":
                text, end = text[:-1], text[-1]
            lines.append(f"{text} [{s.passage}]{end or ('。' if language_of(text) == 'zh' else '.')}")
        lead = "根据资料:" if language == "zh" else "According to the sources:"
        if language == "en" and all(language_of(s.text) == "zh" for s in chosen):
            lead = "According to the (Chinese) sources:"
        return lead + ("\n" if len(lines) > 1 else " ") + "\n".join(lines)

    # --- LangChain plumbing -----------------------------------------------------------------------------------
    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        question, passages = self._parse(messages)
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=self.answer(normalize(question), passages)))])

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        question, passages = self._parse(messages)
        text = self.answer(normalize(question), passages)
        # Stream in small pieces, as an LLM would, so the page renders progressively.
        for piece in re.findall(r".{1,4}", text, re.S):
            chunk = ChatGenerationChunk(message=AIMessageChunk(content=piece))
            if run_manager:
                run_manager.on_llm_new_token(piece, chunk=chunk)
            yield chunk
