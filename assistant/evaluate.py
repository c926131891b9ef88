"""Batch evaluation: run a set of gold questions through the same answer chain as the chat page and score it.

`assistant eval QUESTIONS --out DIR` indexes the shipped corpus first when the index is empty, asks every question
(with its history) through `ResearchAssistant.ask`, and writes three files to DIR:

- `summary.json`: the metrics (keys below);
- `results.csv`: one row per question and configuration;
- `report.html`: one self-contained page (no scripts, no external files): summary table, charts by configuration,
  language and kind, a latency histogram and the failures.

Questions file: JSON Lines (one object per line), a JSON list of the same objects, or CSV with the same columns.
Fields: `question` (required), `id`, `answers` (list of strings, any one counts), `answerable` (default: true when
`answers` or `sources` is given), `sources` (corpus paths that hold the answer), `history` (list of
`{"question", "answer"}` turns), `kind`, `language` (default: detected from the question). In CSV, `answers` and
`sources` are JSON lists or `|`-separated; `history` is a JSON list or `|`-separated `question|answer|question|answer`.

Compare configurations on the same questions: `--compare NAME=FILE` (repeatable; FILE is JSON or .env-style
settings, e.g. `{"retrieval_mode": "dense"}`; `NAME=` alone is the base settings) and `--modes dense,bm25,hybrid`.
`--judge` adds an LLM judge (correctness and faithfulness, 1-5) when an OpenAI-compatible endpoint is configured
(ASSISTANT_LLM_BASE_URL / ASSISTANT_LLM_MODEL / ASSISTANT_LLM_API_KEY); without one it is skipped.

summary.json keys (stable; a metric is null when it has no denominator, e.g. no answerable questions):

    schema                 1
    created                UTC time of the run (ISO 8601)
    questions_file         path of the questions file
    questions              number of questions
    judge                  judge model name, or null when no judge ran
    config_names           configuration names in run order (the first is the primary one)
    configs.NAME.overrides settings this configuration changes against the base settings
    configs.NAME.settings  the retrieval and model settings used (secrets never written)
    configs.NAME.overall   metrics over all questions (keys below)
    configs.NAME.by_language.LANG   the same metrics for one language (zh, en)
    configs.NAME.by_kind.KIND       the same metrics for one kind (when the questions have kinds)

    metrics:
    n                      questions scored
    answerable, unanswerable   how many of each
    pass_rate              share passed: answerable answered correctly, unanswerable refused
    answer_accuracy        answerable questions whose answer contains an expected string (after normalisation)
    refusal_accuracy       unanswerable questions that were refused
    false_refusal_rate     answerable questions that were refused
    retrieval_n            answerable questions with gold sources (the denominator of hit@k and MRR)
    hit_at_1, hit_at_5     share of those with a gold source among the first 1 / 5 retrieved passages
    mrr                    mean reciprocal rank of the first gold passage (0 when none)
    citations              citations checked
    citation_validity      share of citations whose passage supports the sentence (pooled over citations)
    latency_p50_ms, latency_p95_ms, latency_mean_ms   end-to-end answer time
    prompt_tokens_mean, completion_tokens_mean        per question
    errors                 questions whose answer chain raised an error (counted as failed)
    judge_correctness, judge_faithfulness             mean 1-5 judge scores, null without a judge

Answer normalisation (expected strings and answers alike): NFKC (full-width to half-width), case folded, citation
markers and whitespace removed, thousands separators dropped (1,400 -> 1400), percent variants folded to `%`
(％, percent, per cent, 百分之N, 个百分点, percentage points), Chinese numerals to digits (九 -> 9, 十二 -> 12,
两 -> 2; 万 and 亿 stay as units, so 一万亿 -> 1万亿 matches 1万亿).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import math
import re
import statistics
import sys
import threading
import unicodedata
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr, TypeAdapter, ValidationError

from assistant.prompts import Prompts
from assistant.settings import Settings

SCHEMA_VERSION = 1
HIT_KS = (1, 5)


# --- questions -------------------------------------------------------------------------------------------------
class QuestionsFileError(ValueError):
    """The questions file cannot be read; the message names the file, the line and the problem."""


@dataclass
class GoldQuestion:
    id: str
    question: str
    answers: list[str] = field(default_factory=list)
    answerable: bool = True
    sources: list[str] = field(default_factory=list)
    history: list[dict] = field(default_factory=list)
    kind: str = ""
    language: str = ""


def _as_list(value: Any, name: str, *, csv_cell: bool) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        text = value.strip()
        if csv_cell and text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f'"{name}" looks like a JSON list but is not valid JSON ({exc.msg})') from exc
        else:
            return [part.strip() for part in text.split("|") if part.strip()] if csv_cell else [text]
    if not isinstance(value, list) or not all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in value):
        raise ValueError(f'"{name}" must be a list of strings')
    return [str(v).strip() for v in value if str(v).strip()]


def _as_history(value: Any, *, csv_cell: bool) -> list[dict]:
    if value is None or value == "":
        return []
    if isinstance(value, str) and csv_cell:
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ValueError(f'"history" looks like a JSON list but is not valid JSON ({exc.msg})') from exc
        else:
            parts = [p.strip() for p in text.split("|")]
            if len(parts) % 2:
                raise ValueError('"history" given as text needs question|answer pairs separated by "|"')
            return [{"question": q, "answer": a} for q, a in zip(parts[::2], parts[1::2])]
    if not isinstance(value, list):
        raise ValueError('"history" must be a list of {"question": ..., "answer": ...} objects')
    turns = []
    for n, turn in enumerate(value, start=1):
        if not isinstance(turn, dict) or not isinstance(turn.get("question"), str) or not isinstance(turn.get("answer", ""), str):
            raise ValueError(f'"history" turn {n} must be an object with string "question" and "answer"')
        turns.append({"question": turn["question"], "answer": turn.get("answer", "")})
    return turns


def _as_bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "y", "t"):
        return True
    if text in ("false", "0", "no", "n", "f"):
        return False
    raise ValueError(f'"answerable" must be true or false, not {value!r}')


def parse_question(data: Any, number: int, *, csv_cell: bool = False) -> GoldQuestion:
    """One question object (a JSONL line or a CSV row as a dict); raises ValueError describing the problem."""
    from assistant.text import language_of

    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    question = data.get("question")
    if question is None:
        raise ValueError('missing the "question" key')
    if not isinstance(question, str) or not question.strip():
        raise ValueError('"question" must be a non-empty string')
    answers = _as_list(data.get("answers"), "answers", csv_cell=csv_cell)
    sources = _as_list(data.get("sources"), "sources", csv_cell=csv_cell)
    return GoldQuestion(
        id=str(data.get("id") or f"q{number:03d}").strip(),
        question=question.strip(),
        answers=answers,
        answerable=_as_bool(data.get("answerable"), bool(answers or sources)),
        sources=sources,
        history=_as_history(data.get("history"), csv_cell=csv_cell),
        kind=str(data.get("kind") or "").strip(),
        language=str(data.get("language") or "").strip() or language_of(question),
    )


def _check_ids(questions: list[GoldQuestion], lines: list[int], path: Path) -> None:
    seen: dict[str, int] = {}
    for q, line in zip(questions, lines):
        if q.id in seen:
            raise QuestionsFileError(f"{path}, line {line}: duplicate id {q.id!r} (first on line {seen[q.id]})")
        seen[q.id] = line


def load_questions(path: str | Path) -> list[GoldQuestion]:
    """Read a JSONL, JSON (a list of objects) or CSV questions file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError as exc:
        raise QuestionsFileError(f"{path}: no such questions file") from exc
    except UnicodeDecodeError as exc:
        raise QuestionsFileError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
    except OSError as exc:
        raise QuestionsFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    if path.suffix.lower() == ".csv":
        questions, lines = _load_csv(text, path)
    elif path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        questions, lines = _load_json_list(text, path)
    else:
        questions, lines = _load_jsonl(text, path)
    if not questions:
        raise QuestionsFileError(f"{path}: no questions in the file")
    _check_ids(questions, lines, path)
    return questions


def _load_jsonl(text: str, path: Path) -> tuple[list[GoldQuestion], list[int]]:
    questions, lines = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            raise QuestionsFileError(f"{path}, line {number}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
        try:
            questions.append(parse_question(data, number))
        except ValueError as exc:
            raise QuestionsFileError(f"{path}, line {number}: {exc}") from exc
        lines.append(number)
    return questions, lines


def _load_json_list(text: str, path: Path) -> tuple[list[GoldQuestion], list[int]]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise QuestionsFileError(f"{path}, line {exc.lineno}: invalid JSON ({exc.msg} at column {exc.colno})") from exc
    questions = []
    for n, item in enumerate(items, start=1):
        try:
            questions.append(parse_question(item, n))
        except ValueError as exc:
            raise QuestionsFileError(f"{path}, item {n}: {exc}") from exc
    return questions, list(range(1, len(questions) + 1))


def _load_csv(text: str, path: Path) -> tuple[list[GoldQuestion], list[int]]:
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "question" not in [f.strip() for f in reader.fieldnames]:
        raise QuestionsFileError(f"{path}, line 1: the CSV header needs a 'question' column (got {reader.fieldnames})")
    questions, lines = [], []
    start = 2
    for row in reader:
        number = start
        start = reader.line_num + 1
        if None in row:
            raise QuestionsFileError(f"{path}, line {number}: the row has more cells than the header has columns")
        row = {(k or "").strip(): v or "" for k, v in row.items()}
        if not any(v.strip() for v in row.values()):
            continue
        try:
            questions.append(parse_question(row, number, csv_cell=True))
        except ValueError as exc:
            raise QuestionsFileError(f"{path}, line {number}: {exc}") from exc
        lines.append(number)
    return questions, lines


# --- answer normalisation and scoring ----------------------------------------------------------------------------
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
_CN_RUN = re.compile(r"[零〇一二两三四五六七八九十百千]+")
_MARKERS = re.compile(r"[\[\u3010]\s*\d+(?:\s*[,\uff0c\u3001]\s*\d+)*\s*[\]\u3011]")
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
    text = _MARKERS.sub("", text)
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


def first_hit_rank(retrieved: list[str], gold: Iterable[str]) -> int | None:
    """1-based rank of the first retrieved source that is a gold source; None when none is."""
    wanted = {_source_key(g) for g in gold}
    for rank, source in enumerate(retrieved, start=1):
        if _source_key(source) in wanted:
            return rank
    return None


def _source_key(source: str) -> str:
    return str(source).strip().replace("\\", "/").lstrip("./").lower()


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
    answer: str = ""
    refused: bool = False
    correct: bool | None = None  # answerable: the answer holds an expected string; unanswerable: refused
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
    def passed(self) -> bool:
        return not self.error and bool(self.correct)

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
    result = _empty_result(gold, config)
    result.answer = answer.text
    result.refused = bool(answer.refused)
    result.refusal_correct = refusal_correct(gold.answerable, result.refused)
    if gold.answerable:
        result.correct = not result.refused and answer_matches(answer.text, gold.answers)
    else:
        result.correct = result.refused
    result.retrieved = [str(s.get("source", "")) for s in sorted(answer.sources, key=lambda s: s.get("marker", 0))]
    result.first_hit_rank = first_hit_rank(result.retrieved, gold.sources) if gold.sources else None
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


def _empty_result(gold: GoldQuestion, config: str) -> QuestionResult:
    return QuestionResult(
        config=config, id=gold.id, question=gold.question, language=gold.language, kind=gold.kind,
        answerable=gold.answerable, expected=list(gold.answers), gold_sources=list(gold.sources), history=list(gold.history),
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
        "refusal_accuracy": _share([r.passed for r in unanswerable]),
        "false_refusal_rate": _share([r.refused and not r.error for r in answerable]),
        "retrieval_n": len(with_sources),
    }
    for k in HIT_KS:
        metrics[f"hit_at_{k}"] = _share([hit_at(r.first_hit_rank, k) for r in with_sources])
    metrics["mrr"] = round(statistics.fmean(reciprocal_rank(r.first_hit_rank) for r in with_sources), 4) if with_sources else None
    metrics.update(
        {
            "citations": citations,
            "citation_validity": round(sum(r.citations_supported for r in results) / citations, 4) if citations else None,
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


# --- settings and configurations -----------------------------------------------------------------------------------
_SECRET_FIELDS = {"llm_api_key", "auth"}
_SHOWN_FIELDS = (
    "retrieval_mode", "top_k", "candidates", "rrf_k", "dense_weight", "bm25_weight", "min_relevance", "reranker_model",
    "embedding_model", "chunk_tokens", "chunk_overlap", "llm", "llm_model", "llm_base_url", "index_dir", "collection",
    "chroma_url", "chroma_host",
)


def _strip_userinfo(value: str) -> str:
    """A URL with user:password@ loses the credentials."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return value


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape an evaluation, safe to write down (no keys, no passwords)."""
    shown: dict[str, Any] = {}
    for name in _SHOWN_FIELDS:
        value = getattr(settings, name, None)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, str):
            value = _strip_userinfo(value)
        shown[name] = value
    return shown


def settings_overrides(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """Field name -> validated value for Settings fields given as `retrieval_mode` or `ASSISTANT_RETRIEVAL_MODE`."""
    fields = Settings.model_fields
    overrides: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).strip()
        if key.upper().startswith("ASSISTANT_"):
            key = key[len("ASSISTANT_"):]
        key = key.lower()
        if key not in fields:
            raise ValueError(f"{origin}: unknown setting {raw_key!r}; known settings: {', '.join(sorted(fields))}")
        try:
            overrides[key] = TypeAdapter(fields[key].annotation).validate_python(value)
        except ValidationError as exc:
            problem = exc.errors()[0].get("msg", str(exc))
            raise ValueError(f"{origin}: bad value for {key}: {value!r} ({problem})") from exc
    return overrides


def load_settings_file(path: str | Path) -> dict[str, Any]:
    """Overrides from a JSON object of Settings fields or a .env-style file of KEY=VALUE lines."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"settings file {path}: cannot be read ({exc.strerror or exc})") from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"settings file {path}, line {exc.lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"settings file {path}: expected a JSON object of settings, got {type(data).__name__}")
    else:
        data = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):].strip()
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"settings file {path}, line {number}: expected KEY=VALUE, got {line!r}")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            elif " #" in value:
                value = value.split(" #", 1)[0].strip()
            data[key.strip()] = value
    return settings_overrides(data, f"settings file {path}")


def derive_settings(base: Settings, overrides: dict[str, Any]) -> Settings:
    """The base settings with some fields changed (already validated by settings_overrides)."""
    return base.model_copy(update=overrides) if overrides else base


def parse_configs(compare: list[str] | None, modes: str | None) -> dict[str, dict[str, Any]]:
    """`--compare NAME=FILE` items and `--modes a,b` -> {name: overrides}; {"default": {}} when neither is given."""
    configs: dict[str, dict[str, Any]] = {}
    for item in compare or []:
        name, sep, file = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"bad --compare {item!r}: use NAME=SETTINGS_FILE (NAME= alone means the base settings)")
        if name in configs:
            raise ValueError(f"--compare names must be unique; {name!r} is given twice")
        configs[name] = load_settings_file(file.strip()) if file.strip() else {}
    for mode in [m.strip() for m in (modes or "").split(",") if m.strip()]:
        if mode in configs:
            raise ValueError(f"configuration {mode!r} is given twice")
        configs[mode] = settings_overrides({"retrieval_mode": mode}, "--modes")
    return configs or {"default": {}}


# --- the optional LLM judge ----------------------------------------------------------------------------------------
class Judge:
    """Scores an answer with an OpenAI-compatible chat model; any failure gives no score, never an error."""

    def __init__(self, settings: Settings) -> None:
        from langchain_openai import ChatOpenAI

        key = settings.llm_api_key.get_secret_value() if settings.llm_api_key else "not-needed"
        self.name = settings.llm_model
        self.prompt = Prompts(settings.prompts_dir).get("judge")
        self.model = ChatOpenAI(
            model=settings.llm_model, base_url=settings.llm_base_url, api_key=key, temperature=0,
            timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
        )

    @staticmethod
    def configured(settings: Settings) -> bool:
        return bool(settings.llm_base_url or settings.llm_api_key)

    def score(self, gold: GoldQuestion, answer: Any) -> tuple[int | None, int | None]:
        passages = "\n".join(f"[{s.get('marker')}] {str(s.get('text', ''))[:1200]}" for s in answer.sources)
        prompt = self.prompt.format(
            question=gold.question, expected=" | ".join(gold.answers) or "(none)", passages=passages or "(none)", answer=answer.text
        )
        try:
            reply = self.model.invoke(prompt).content
        except Exception:  # noqa: BLE001 - the judge is optional; the string metrics stand without it
            return None, None
        return parse_judge_reply(reply if isinstance(reply, str) else str(reply))


def parse_judge_reply(text: str) -> tuple[int | None, int | None]:
    def grab(name: str) -> int | None:
        match = re.search(rf'"?{name}"?\s*[:=]\s*([1-5])', text, re.I)
        return int(match.group(1)) if match else None

    return grab("correctness"), grab("faithfulness")


# --- running -------------------------------------------------------------------------------------------------------
def _make_assistant(settings: Settings, embedder: Any) -> Any:
    from assistant.research import ResearchAssistant

    return ResearchAssistant(settings, embedder=embedder)


def evaluate_config(
    assistant: Any,
    questions: list[GoldQuestion],
    name: str,
    *,
    concurrency: int = 1,
    judge: Judge | None = None,
    show_progress: bool = True,
) -> list[QuestionResult]:
    """Ask every question through `assistant.ask` (with its history) and score the answers, in question order."""
    from tqdm import tqdm

    assistant.ensure_corpus(show_progress=show_progress)
    assistant.engine  # noqa: B018 - build the chain once before the worker threads share it
    lock = threading.Lock()

    def one(gold: GoldQuestion) -> QuestionResult:
        try:
            answer = assistant.ask(gold.question, gold.history)
        except Exception as exc:  # noqa: BLE001 - one broken question must not end the run
            result = _empty_result(gold, name)
            result.correct = False
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            return result
        result = score_answer(gold, answer, name)
        if judge is not None and not answer.refused:
            result.judge_correctness, result.judge_faithfulness = judge.score(gold, answer)
        return result

    results: dict[str, QuestionResult] = {}
    workers = max(1, int(concurrency))
    with tqdm(total=len(questions), desc=f"eval {name}", unit="q", disable=not show_progress) as bar:
        if workers == 1:
            for gold in questions:
                results[gold.id] = one(gold)
                bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(one, gold): gold.id for gold in questions}
                for future in as_completed(futures):
                    with lock:
                        results[futures[future]] = future.result()
                        bar.update(1)
    return [results[g.id] for g in questions]


def run_eval(
    questions: str | Path | list[GoldQuestion],
    out_dir: str | Path,
    settings: Settings | None = None,
    *,
    configs: dict[str, dict[str, Any]] | None = None,
    assistant: Any = None,
    embedder: Any = None,
    concurrency: int = 1,
    judge: bool = False,
    show_progress: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    """Evaluate one or more configurations on the same questions; writes summary.json, results.csv and report.html
    to out_dir and returns the summary.

    `settings` is the base configuration (default: `assistant.settings`); `configs` maps a name to the settings
    it changes (default: one configuration, "default", with no changes). An `assistant` given is used for the
    configurations that change nothing; the others get their own ResearchAssistant sharing its embedder.
    """
    if settings is None and assistant is None:
        raise ValueError("run_eval needs settings or an assistant")
    base = settings if settings is not None else assistant.settings
    questions_file = str(questions) if not isinstance(questions, list) else "(in memory)"
    golds = questions if isinstance(questions, list) else load_questions(questions)
    if limit:
        golds = golds[:limit]
    configs = configs or {"default": {}}
    shared_embedder = embedder or (assistant.embedder if assistant is not None else None)

    the_judge: Judge | None = None
    if judge and Judge.configured(base):
        the_judge = Judge(base)

    all_results: dict[str, list[QuestionResult]] = {}
    used: dict[str, Settings] = {}
    for name, overrides in configs.items():
        config_settings = derive_settings(base, overrides)
        if assistant is not None and not overrides and config_settings is assistant.settings:
            runner = assistant
        else:
            same_model = config_settings.embedding_model == base.embedding_model
            runner = _make_assistant(config_settings, shared_embedder if same_model else None)
            if shared_embedder is None and same_model:
                shared_embedder = runner.embedder
        used[name] = config_settings
        all_results[name] = evaluate_config(
            runner, golds, name, concurrency=concurrency, judge=the_judge, show_progress=show_progress
        )

    summary = build_summary(all_results, used, configs, questions_file, len(golds), the_judge.name if the_judge else None)
    secrets = _secret_values(base, *used.values())
    write_outputs(Path(out_dir), summary, all_results, secrets)
    return summary


def build_summary(
    results: dict[str, list[QuestionResult]],
    settings: dict[str, Settings],
    configs: dict[str, dict[str, Any]],
    questions_file: str,
    count: int,
    judge: str | None,
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "questions_file": questions_file,
        "questions": count,
        "judge": judge,
        "config_names": list(results),
        "configs": {},
    }
    for name, rows in results.items():
        overrides = {k: v for k, v in configs.get(name, {}).items() if k not in _SECRET_FIELDS}
        summary["configs"][name] = {
            "overrides": {k: (str(v) if isinstance(v, (Path, SecretStr)) else v) for k, v in overrides.items()},
            "settings": public_settings(settings[name]),
            "overall": summarise(rows),
            "by_language": breakdown(rows, lambda r: r.language),
            "by_kind": breakdown(rows, lambda r: r.kind),
        }
    return summary


def _secret_values(*settings: Settings) -> list[str]:
    values = []
    for s in settings:
        if s.llm_api_key and len(s.llm_api_key.get_secret_value()) >= 4:
            values.append(s.llm_api_key.get_secret_value())
        if s.auth and len(s.auth) >= 4:
            values.append(s.auth)
    return values


def _redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


# --- outputs -------------------------------------------------------------------------------------------------------
RESULT_COLUMNS = [
    "config", "id", "language", "kind", "answerable", "question", "history", "expected", "answer", "refused", "correct",
    "refusal_correct", "failure", "first_hit_rank", "hit_at_1", "hit_at_5", "reciprocal_rank", "gold_sources",
    "retrieved_sources", "citations", "citations_supported", "citation_validity", "uncited", "latency_ms", "retrieval_ms",
    "generation_ms", "prompt_tokens", "completion_tokens", "judge_correctness", "judge_faithfulness", "error",
]


def result_row(r: QuestionResult) -> dict[str, Any]:
    has_gold = bool(r.gold_sources)
    return {
        "config": r.config,
        "id": r.id,
        "language": r.language,
        "kind": r.kind,
        "answerable": r.answerable,
        "question": r.question,
        "history": json.dumps(r.history, ensure_ascii=False) if r.history else "",
        "expected": " | ".join(r.expected),
        "answer": r.answer,
        "refused": r.refused,
        "correct": r.correct,
        "refusal_correct": r.refusal_correct,
        "failure": r.failure,
        "first_hit_rank": r.first_hit_rank if r.first_hit_rank is not None else "",
        "hit_at_1": hit_at(r.first_hit_rank, 1) if has_gold else "",
        "hit_at_5": hit_at(r.first_hit_rank, 5) if has_gold else "",
        "reciprocal_rank": round(reciprocal_rank(r.first_hit_rank), 4) if has_gold else "",
        "gold_sources": " | ".join(r.gold_sources),
        "retrieved_sources": " | ".join(f"{n}:{s}" for n, s in enumerate(r.retrieved, start=1)),
        "citations": r.citations,
        "citations_supported": r.citations_supported,
        "citation_validity": "" if r.citation_validity is None else round(r.citation_validity, 4),
        "uncited": r.uncited,
        "latency_ms": "" if r.latency_ms is None else r.latency_ms,
        "retrieval_ms": "" if r.retrieval_ms is None else r.retrieval_ms,
        "generation_ms": "" if r.generation_ms is None else r.generation_ms,
        "prompt_tokens": "" if r.prompt_tokens is None else r.prompt_tokens,
        "completion_tokens": "" if r.completion_tokens is None else r.completion_tokens,
        "judge_correctness": "" if r.judge_correctness is None else r.judge_correctness,
        "judge_faithfulness": "" if r.judge_faithfulness is None else r.judge_faithfulness,
        "error": r.error,
    }


def write_outputs(out_dir: Path, summary: dict, results: dict[str, list[QuestionResult]], secrets: list[str] | None = None) -> None:
    secrets = secrets or []
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    (out_dir / "summary.json").write_text(_redact(text, secrets) + "\n", encoding="utf-8")

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS)
    writer.writeheader()
    for rows in results.values():
        for r in rows:
            writer.writerow(result_row(r))
    # utf-8-sig: spreadsheet programs then read the Chinese text correctly.
    (out_dir / "results.csv").write_text(_redact(buffer.getvalue(), secrets), encoding="utf-8-sig")
    from assistant.report import render_report  # presentation lives in its own module

    (out_dir / "report.html").write_text(_redact(render_report(summary, results), secrets), encoding="utf-8")


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        configs = parse_configs(args.compare, args.modes)
        settings = Settings()
        summary = run_eval(
            args.questions, args.out, settings, configs=configs, concurrency=args.concurrency, judge=args.judge,
            show_progress=not args.quiet, limit=args.limit,
        )
    except (QuestionsFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from assistant.report import format_summary

    print(format_summary(summary))
    out = Path(args.out)
    print(f"\nwrote {out / 'summary.json'}, {out / 'results.csv'} and {out / 'report.html'}")
    if args.fail_under is not None:
        accuracy = summary["configs"][summary["config_names"][0]]["overall"]["answer_accuracy"]
        if accuracy is None or accuracy < args.fail_under:
            print(f"answer accuracy {accuracy} is under --fail-under {args.fail_under}", file=sys.stderr)
            return 1
    return 0


def add_eval_commands(subparsers: Any) -> None:
    """Register `assistant eval` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "eval", help="score gold questions through the answer chain; writes summary.json, results.csv, report.html",
        description="Run a questions file (JSONL, JSON or CSV in the gold format) through the chat page's answer chain "
        "and write summary.json, results.csv and report.html to --out.",
    )
    p.add_argument("questions", metavar="QUESTIONS", help="questions file: .jsonl, .json or .csv (see tests/data/gold.jsonl)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for summary.json, results.csv and report.html")
    p.add_argument("--concurrency", type=_positive_int, default=1, metavar="N",
                   help="questions answered in parallel (default 1; latencies then include waiting for shared CPU)")
    p.add_argument("--compare", action="append", metavar="NAME=SETTINGS_FILE",
                   help="add a configuration: JSON or .env file of settings (repeatable; NAME= alone is the base settings)")
    p.add_argument("--modes", metavar="M1,M2", help="compare retrieval modes, e.g. dense,bm25,hybrid")
    p.add_argument("--judge", action="store_true",
                   help="also grade with an LLM judge when ASSISTANT_LLM_BASE_URL (or an API key) is configured")
    p.add_argument("--limit", type=_positive_int, metavar="N", help="only the first N questions")
    p.add_argument("--fail-under", type=float, metavar="X", help="exit 1 when answer accuracy (first configuration) is below X (0-1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def result_dicts(results: list[QuestionResult]) -> list[dict]:
    """Plain dicts of results (for callers that want them as JSON)."""
    return [asdict(r) for r in results]
