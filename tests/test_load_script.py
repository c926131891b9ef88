"""scripts/load.py reads a follow-up's subject from the answer itself: the page's "Understood as" line restates the
resolved question, so counting it would put every refusal on subject. Checked on messages the page's own renderer
writes, without a server."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import ui

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "load.py"


@pytest.fixture(scope="module")
def load():  # noqa: ANN201 - a module loaded from a file path
    spec = importlib.util.spec_from_file_location("load_script", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def message(answer: str, refused: bool, standalone: str, question: str = "[SESS00000001] 它的估值怎么看?") -> str:
    source = {"marker": 1, "title": "腾讯混元", "date": "2025-12-01", "source": "corpus/articles/tencent.md", "type": "article",
              "page": None, "row": None, "text": "腾讯的AI收入占比为18%。"}
    data = {"question": question, "standalone_question": standalone, "answer": answer, "refused": refused, "citations": [],
            "uncited": [], "sources": [source], "notices": ["腾讯 notice"], "timing": {}}
    return ui.render_answer(data)


def test_a_refusal_is_not_on_subject_because_the_resolved_question_names_the_company(load) -> None:
    text = message("根据现有资料无法回答这个问题。", True, "[SESS00000001] 百度的估值怎么看?")
    body = load.answer_body(text)
    assert "百度" not in body and "腾讯" not in body, "neither the resolved line, the notice nor the sources count"
    assert "根据现有资料无法回答这个问题。" in body and "<" not in body
    assert load.resolved_question(text) == "[SESS00000001] 百度的估值怎么看?"


def test_a_refusal_that_names_what_was_asked_is_on_subject(load) -> None:
    body = load.answer_body(message("资料中没有找到百度的估值。根据现有资料无法回答这个问题。", True, "百度的估值怎么看?"))
    assert load.mentions_any(body, ["百度", "Baidu"])


def test_an_answer_is_read_up_to_its_sources(load) -> None:
    text = message("据资料 [1]: 腾讯的AI收入占比为18% [1]。", False, "腾讯的AI收入占比是多少?")
    assert load.mentions_any(load.answer_body(text), ["腾讯"])
    assert "corpus/articles" not in load.answer_body(text)
    assert load.resolved_question(message("x", False, "")) == ""
