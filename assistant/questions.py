"""Questions files for `assistant eval`: JSON Lines, a JSON list, or CSV, in the gold format.

Fields: `question` (required), `id`, `answers` (list of strings, any one counts), `answers_all` (a list of groups of
strings: a strict answer holds one string of every group), `answerable` (default: true when `answers`,
`answers_all` or `sources` is given), `sources` (the documents that hold the answer: corpus paths or bare file
names), `history` (list of `{"question", "answer"}` turns), `kind`, `language` (default: detected from the question).
In CSV, `answers` and `sources` are JSON lists or `|`-separated; `answers_all` is a JSON list of lists; `history`
is a JSON list or `|`-separated `question|answer|question|answer`.

Errors name the file, the line and the problem.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.text import language_of


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
    answers_all: list[list[str]] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)  # of the gold source, for page-numbered sources such as PDFs

    @property
    def lenient(self) -> list[str]:
        """The strings any one of which makes an answer right: `answers`, or else the first group of `answers_all`."""
        return self.answers or (self.answers_all[0] if self.answers_all else [])

    @property
    def groups(self) -> list[list[str]]:
        """The groups a strict answer must each hit once: `answers_all`, or else the lenient strings as one group."""
        return self.answers_all or ([self.lenient] if self.lenient else [])


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


def _as_groups(value: Any, *, csv_cell: bool) -> list[list[str]]:
    if value is None or value == "":
        return []
    if isinstance(value, str) and csv_cell:
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f'"answers_all" must be a JSON list of lists of strings ({exc.msg})') from exc
    if not isinstance(value, list) or not all(isinstance(group, list) for group in value):
        raise ValueError('"answers_all" must be a list of lists of strings, e.g. [["15人", "15名"], ["暴雨"]]')
    groups = [_as_list(group, "answers_all", csv_cell=False) for group in value]
    if any(not group for group in groups):
        raise ValueError('"answers_all" holds an empty group; every group needs at least one string')
    return groups


def _as_pages(value: Any, *, csv_cell: bool) -> list[int]:
    try:
        return [int(float(v)) for v in _as_list(value, "pages", csv_cell=csv_cell)]
    except ValueError as exc:
        raise ValueError('"pages" must be a list of page numbers, e.g. [58, 60]') from exc


def parse_question(data: Any, number: int, *, csv_cell: bool = False) -> GoldQuestion:
    """One question object (a JSONL line or a CSV row as a dict); raises ValueError describing the problem."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a JSON object, got {type(data).__name__}")
    question = data.get("question")
    if question is None:
        raise ValueError('missing the "question" key')
    if not isinstance(question, str) or not question.strip():
        raise ValueError('"question" must be a non-empty string')
    answers = _as_list(data.get("answers"), "answers", csv_cell=csv_cell)
    sources = _as_list(data.get("sources"), "sources", csv_cell=csv_cell)
    groups = _as_groups(data.get("answers_all"), csv_cell=csv_cell)
    return GoldQuestion(
        id=str(data.get("id") or f"q{number:03d}").strip(),
        question=question.strip(),
        answers=answers,
        answerable=_as_bool(data.get("answerable"), bool(answers or groups or sources)),
        sources=sources,
        history=_as_history(data.get("history"), csv_cell=csv_cell),
        kind=str(data.get("kind") or "").strip(),
        language=str(data.get("language") or "").strip() or language_of(question),
        answers_all=groups,
        pages=_as_pages(data.get("pages"), csv_cell=csv_cell),
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
