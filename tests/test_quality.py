"""The quality gate: answers and refusals on material the answerer was not shaped around, through the real
pipeline (ingest, hybrid retrieval, offline answerer). Floors sit a little under the measured figures, so a drop in
answer quality fails CI. The full development runs are `assistant eval` over each set (see the README)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import SHARED_ARTICLE

EVAL = SHARED_ARTICLE.parents[1] / "eval"
SLICE = Path(__file__).parent / "data" / "rgb_slice.json"


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", text).lower()


def strict_hit(answer_text: str, question: dict) -> bool:
    """Every answer group must be present (RGB's own rule, every group required)."""
    groups = question.get("answers_all") or [question["answers"]]
    return all(any(_norm(a) in _norm(answer_text) for a in group) for group in groups)


def score(assistant, questions: list[dict]) -> tuple[int, int, int, int]:
    """(answerable right, answerable, unanswerable refused, unanswerable)."""
    right = answerable = refused = unanswerable = 0
    for q in questions:
        answer = assistant.ask(q["question"], q.get("history") or [])
        if q["answerable"]:
            answerable += 1
            right += (not answer.refused) and strict_hit(answer.text, q)
        else:
            unanswerable += 1
            refused += answer.refused
    return right, answerable, refused, unanswerable


def _questions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_fixed_slice_of_outside_chinese_news_qa_keeps_its_answer_and_refusal_rates(assistant_factory) -> None:
    chosen = json.loads(SLICE.read_text(encoding="utf-8"))["questions"]
    docs = EVAL / "rgb_zh_dev" / "docs"
    assert docs.is_dir(), f"{docs} is missing: the quality gate reads shared/eval beside the checkout"
    files = sorted({str(docs / name) for names in chosen.values() for name in names})
    assistant = assistant_factory()
    report = assistant.ingest(files, show_progress=False)
    assert not report.failed
    questions = [q for q in _questions(EVAL / "rgb_zh_dev" / "questions.jsonl") if q["id"] in chosen]
    right, answerable, refused, unanswerable = score(assistant, questions)
    print(f"rgb slice: answerable strict {right}/{answerable}, unanswerable refused {refused}/{unanswerable}")
    assert (answerable, unanswerable) == (16, 4)
    assert right >= 15  # measured 16 (2026-12-01)
    assert refused >= 3  # measured 4


def test_english_questions_over_the_chinese_article_alone_are_answered_and_the_unanswerable_refused(article_assistant) -> None:
    right, answerable, refused, unanswerable = score(article_assistant, _questions(EVAL / "seed_crosslingual_dev.jsonl"))
    print(f"cross-lingual seed: answerable {right}/{answerable}, unanswerable refused {refused}/{unanswerable}")
    assert right >= 13  # measured 14 (2026-12-01, sixth round)
    assert refused >= 5  # measured 6


ANNOUNCEMENTS = Path(__file__).parent / "data" / "announcements"


def test_invented_filings_and_financial_news_keep_their_answer_and_refusal_rates(assistant_factory) -> None:
    assistant = assistant_factory()
    report = assistant.ingest([str(ANNOUNCEMENTS / "docs")], show_progress=False)
    assert not report.failed
    right, answerable, refused, unanswerable = score(assistant, _questions(ANNOUNCEMENTS / "questions.jsonl"))
    print(f"announcements: answerable {right}/{answerable}, unanswerable refused {refused}/{unanswerable}")
    assert (answerable, unanswerable) == (60, 41)
    assert right >= 58  # measured 60 (2026-12-01, sixth round; 59 before)
    assert refused >= 38  # measured 40


UNLISTED_NOTE_ZH = """---
title: 蓝鲸智算2025年经营简报
date: 2025-11-20
---
# 蓝鲸智算2025年经营简报

蓝鲸智算2025年前三季度营收为46.5亿元,同比增长38%。
公司的推理云平台“潮汐”已服务超过1200家企业客户。
蓝鲸智算研发人员约2100人,占员工总数的六成。
"""

UNLISTED_NOTE_EN = """---
title: Harborlight Robotics 2025 update
date: 2025-10-02
---
# Harborlight Robotics 2025 update

Harborlight Robotics shipped 18,400 warehouse robots in 2025, up 52% from a year earlier.
Its robot operating system is called TideOS.
The company employs about 640 engineers in Shenzhen.
"""


@pytest.fixture(scope="module")
def unlisted_assistant(tmp_path_factory, embedder):
    """A corpus of two notes about companies that no list of the project names, with no lexicon edit."""
    from assistant.research import ResearchAssistant
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("unlisted")
    (folder / "bluewhale.md").write_text(UNLISTED_NOTE_ZH, encoding="utf-8")
    (folder / "harborlight.md").write_text(UNLISTED_NOTE_EN, encoding="utf-8")
    assistant = ResearchAssistant(Settings(index_dir=folder / "index"), embedder=embedder)
    assistant.ingest([str(folder / "bluewhale.md"), str(folder / "harborlight.md")], show_progress=False)
    return assistant


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("蓝鲸智算2025年前三季度的营收是多少?", "46.5亿元"),
        ("蓝鲸智算的推理云平台服务了多少家企业客户?", "1200家"),
        ("How many warehouse robots did Harborlight Robotics ship in 2025?", "18,400"),
        ("What is Harborlight Robotics' robot operating system called?", "TideOS"),
    ],
)
def test_facts_about_a_company_nobody_listed_are_answered(unlisted_assistant, question: str, expected: str) -> None:
    answer = unlisted_assistant.ask(question)
    assert not answer.refused
    assert expected in answer.text.splitlines()[0]
    assert answer.citations and all(c.supported for c in answer.citations)


@pytest.mark.parametrize(
    "question",
    [
        "蓝鲸智算2025年的净利润是多少?",
        "What dividend did Harborlight Robotics pay in 2025?",
        "赤焰半导体2025年前三季度的营收是多少?",
        "How many warehouse robots did Northgate Automation ship in 2025?",
    ],
)
def test_a_metric_no_note_gives_or_a_company_in_no_document_is_refused(unlisted_assistant, question: str) -> None:
    assert unlisted_assistant.ask(question).refused
