"""Scoring for `assistant eval`: answer normalisation, matching (lenient and strict), refusal, retrieval ranks,
answer length, and the metrics block of summary.json (its keys are listed in assistant/evaluate.py).

Answer normalisation (expected strings and answers alike): NFKC (full-width to half-width), case folded, citation
markers (citations.MARKER, the one grammar) and whitespace removed, thousands separators dropped (1,400 -> 1400),
percent variants folded to `%` (％, percent, per cent, 百分之N, 个百分点, percentage points), Chinese numerals to
digits (九 -> 9, 十二 -> 12, 两 -> 2; 万 and 亿 stay as units, so 一万亿 -> 1万亿 matches 1万亿).

Gold sources match a retrieved source when their path parts end it: a bare file name (`report.txt`) matches that
file ingested from any folder (`/data/x/report.txt`, `upload:report.txt`); `corpus/articles/a.md` matches itself.
"""

from __future__ import annotations

import math
import re
import statistics
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from assistant.citations import MARKER
from assistant.questions import GoldQuestion

HIT_KS = (1, 5)

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")


def chinese_to_int(run: str) -> int | None:
    """十二 -> 12, 三百零五 -> 305, 两千 -> 2000, 二〇二五 -> 2025; None when the run holds no digit."""
    if not any(ch in _CN_DIGITS or ch == "十" for ch in run):
        return None
    if not any(ch in _CN_UNITS for ch in run):
        return int("".join(str(_CN_DIGITS[ch]) for ch in run))
    total, current = 0, 0
    for ch in run:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def _replace_chinese_numerals(text: str) -> str:
    def sub(match: re.Match) -> str:
        value = chinese_to_int(match.group(0))
        return match.group(0) if value is None else str(value)

    return _CN_RUN.sub(sub, text)


def normalise_answer(text: str) -> str:
    """The form expected strings and answers are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text or "").lower()
    text = MARKER.sub("", text)
    text = re.sub(r"\s+", " ", text)
    text = re.sub(r"百分之([零〇一二两三四五六七八九十百千\d.]+)", r"\1%", text)
    text = re.sub(r"个?百分点|\s*percentage\s+points?|\s*per\s*cent\b|\s*pct\b", "%", text)
    text = _replace_chinese_numerals(text)
    text = _THOUSANDS.sub("", text)
    return re.sub(r"\s+", "", text)


def answer_matches(answer: str, expected: Iterable[str]) -> bool:
    """True when any expected string appears in the answer after normalisation."""
    have = normalise_answer(answer)
    return any((want := normalise_answer(e)) and want in have for e in expected)


def refusal_correct(answerable: bool, refused: bool) -> bool:
    """Answerable and answered, or unanswerable and refused."""
    return refused != answerable


def source_key(source: str) -> tuple[str, ...]:
    """A source name as lower-case path parts, with backslashes as slashes, without `./` or an `upload:` prefix."""
    text = str(source).strip().replace("\\", "/").lower()
    text = re.sub(r"^upload:", "", text)
    return tuple(part for part in text.split("/") if part and part != ".")


def source_matches(retrieved: str, gold: str) -> bool:
    """True when the gold source's path parts end the retrieved source's (see the module docstring)."""
    want, have = source_key(gold), source_key(retrieved)
    return bool(want) and have[-len(want) :] == want


def first_hit_rank(retrieved: list[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first retrieved source that is a gold source; None when none is."""
    wanted = list(gold)
    for rank, source in enumerate(retrieved, start=1):
        if any(source_matches(source, g) for g in wanted):
            return rank
    return None


def first_line(text: str) -> str:
    """The answer's first non-empty line: where the asked item should stand."""
    return next((line for line in (text or "").splitlines() if line.strip()), "")


def answer_chars(text: str) -> int:
    """Characters a reader sees: the answer without citation markers, whitespace runs as one."""
    return len(re.sub(r"\s+", " ", MARKER.sub("", text or "")).strip())


def hit_at(rank: int | None, k: int) -> bool:
    return rank is not None and rank <= k


def reciprocal_rank(rank: int | None) -> float:
    return 0.0 if rank is None else 1.0 / rank


def percentile(values: list[float], q: float) -> float | None:
    """Linear-interpolated percentile (q in 0..100), as numpy's default; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


# --- one question ------------------------------------------------------------------------------------------------
@dataclass
class QuestionResult:
    config: str
    id: str
    question: str
    language: str
    kind: str
    answerable: bool
    expected: list[str]
    gold_sources: list[str]
    history: list[dict]
    expected_all: list[list[str]] = field(default_factory=list)
    gold_pages: list[int] = field(default_factory=list)
    cited_pages: list[int] = field(default_factory=list)
    answer: str = ""
    refused: bool = False
    correct: bool | None = None  # answerable: the answer holds an expected string; unanswerable: refused
    correct_strict: bool | None = None  # answerable: one string of every group; unanswerable: refused
    first_line_hit: bool | None = None  # answerable: an expected string stands in the first line
    answer_chars: int | None = None
    refusal_correct: bool = False
    retrieved: list[str] = field(default_factory=list)  # source of each passage, rank = position + 1
    first_hit_rank: int | None = None
    citations: int = 0
    citations_supported: int = 0
    uncited: int = 0
    latency_ms: float | None = None
    retrieval_ms: float | None = None
    generation_ms: float | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    judge_correctness: int | None = None
    judge_faithfulness: int | None = None
    error: str = ""

    @property
    def citation_validity(self) -> float | None:
        return self.citations_supported / self.citations if self.citations else None

    @property
    def page_hit(self) -> bool | None:
        """Answerable with gold pages: answered right, citing a passage from one of the gold pages."""
        if not self.answerable or not self.gold_pages:
            return None
        return self.passed and bool(set(self.cited_pages) & set(self.gold_pages))

    @property
    def passed(self) -> bool:
        return not self.error and bool(self.correct)

    @property
    def passed_strict(self) -> bool:
        return not self.error and bool(self.correct_strict)

    @property
    def failure(self) -> str:
        if self.error:
            return "error"
        if self.answerable and self.refused:
            return "false refusal"
        if self.answerable and not self.correct:
            return "wrong answer"
        if not self.answerable and not self.refused:
            return "answered unanswerable"
        return ""


def score_answer(gold: GoldQuestion, answer: Any, config: str) -> QuestionResult:
    """Score one Answer against its gold question."""
    result = empty_result(gold, config)
    result.answer = answer.text
    result.refused = bool(answer.refused)
    result.refusal_correct = refusal_correct(gold.answerable, result.refused)
    result.answer_chars = answer_chars(answer.text)
    if gold.answerable:
        result.correct = not result.refused and answer_matches(answer.text, gold.lenient)
        groups = gold.groups
        result.correct_strict = result.correct if not groups else (
            not result.refused and all(answer_matches(answer.text, group) for group in groups)
        )
        result.first_line_hit = not result.refused and answer_matches(first_line(answer.text), gold.lenient)
    else:
        result.correct = result.correct_strict = result.refused
    result.retrieved = [str(s.get("source", "")) for s in sorted(answer.sources, key=lambda s: s.get("marker", 0))]
    result.first_hit_rank = first_hit_rank(result.retrieved, gold.sources) if gold.sources else None
    result.cited_pages = sorted({c.page for c in answer.citations if c.page is not None})
    result.citations = len(answer.citations)
    result.citations_supported = sum(1 for c in answer.citations if c.supported)
    result.uncited = len(answer.uncited)
    timing, tokens = answer.timing or {}, answer.tokens or {}
    result.latency_ms = timing.get("total_ms")
    result.retrieval_ms = timing.get("retrieval_ms")
    result.generation_ms = timing.get("generation_ms")
    result.prompt_tokens = tokens.get("prompt")
    result.completion_tokens = tokens.get("completion")
    return result


def empty_result(gold: GoldQuestion, config: str) -> QuestionResult:
    return QuestionResult(
        config=config, id=gold.id, question=gold.question, language=gold.language, kind=gold.kind,
        answerable=gold.answerable, expected=list(gold.lenient), gold_sources=list(gold.sources), history=list(gold.history),
        expected_all=[list(g) for g in gold.answers_all], gold_pages=list(gold.pages),
    )


# --- summary metrics ---------------------------------------------------------------------------------------------
def _share(flags: list[bool]) -> float | None:
    return round(sum(flags) / len(flags), 4) if flags else None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 2) if values else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summarise(results: list[QuestionResult]) -> dict[str, Any]:
    """The metrics block of summary.json for a list of results (see the module docstring)."""
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    with_sources = [r for r in answerable if r.gold_sources and not r.error]
    latencies = [r.latency_ms for r in results if r.latency_ms is not None]
    citations = sum(r.citations for r in results)
    metrics: dict[str, Any] = {
        "n": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "pass_rate": _share([r.passed for r in results]),
        "answer_accuracy": _share([r.passed for r in answerable]),
        "answer_accuracy_strict": _share([r.passed_strict for r in answerable]),
        "first_line_hit": _share([not r.error and bool(r.first_line_hit) for r in answerable]),
        "refusal_accuracy": _share([r.passed for r in unanswerable]),
        "false_refusal_rate": _share([r.refused and not r.error for r in answerable]),
        "retrieval_n": len(with_sources),
        "page_n": sum(1 for r in answerable if r.gold_pages),
        "right_with_page": _share([bool(r.page_hit) for r in answerable if r.gold_pages]),
    }
    for k in HIT_KS:
        metrics[f"hit_at_{k}"] = _share([hit_at(r.first_hit_rank, k) for r in with_sources])
    metrics["mrr"] = round(statistics.fmean(reciprocal_rank(r.first_hit_rank) for r in with_sources), 4) if with_sources else None
    metrics.update(
        {
            "citations": citations,
            "citation_validity": round(sum(r.citations_supported for r in results) / citations, 4) if citations else None,
            "answer_chars_median": _round(percentile([r.answer_chars for r in results if r.answer_chars is not None], 50)),
            "answer_chars_median_answered": _round(percentile(
                [r.answer_chars for r in answerable if r.answer_chars is not None and not r.refused and not r.error], 50
            )),
            "latency_p50_ms": _round(percentile(latencies, 50)),
            "latency_p95_ms": _round(percentile(latencies, 95)),
            "latency_mean_ms": _round(statistics.fmean(latencies) if latencies else None),
            "prompt_tokens_mean": _mean([r.prompt_tokens for r in results if r.prompt_tokens is not None]),
            "completion_tokens_mean": _mean([r.completion_tokens for r in results if r.completion_tokens is not None]),
            "errors": sum(1 for r in results if r.error),
            "judge_correctness": _mean([r.judge_correctness for r in results if r.judge_correctness is not None]),
            "judge_faithfulness": _mean([r.judge_faithfulness for r in results if r.judge_faithfulness is not None]),
        }
    )
    return metrics


def breakdown(results: list[QuestionResult], key: Callable[[QuestionResult], str]) -> dict[str, dict[str, Any]]:
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        value = key(r)
        if value:
            groups.setdefault(value, []).append(r)
    return {name: summarise(group) for name, group in sorted(groups.items())}
