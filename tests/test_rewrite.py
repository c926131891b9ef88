"""Follow-up questions ("那腾讯呢?", "and its P/E?") become standalone questions that carry the company and the metric."""

from __future__ import annotations

import pytest

from assistant.rewrite import is_follow_up, rewrite
from assistant.settings import Settings
from assistant.text import Lexicon


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load(Settings().lexicon_path)


ALIBABA_ZH = [{"question": "阿里巴巴2025年股价涨幅是多少?", "answer": "阿里巴巴2025年股价涨幅超80% [1]。"}]
ALIBABA_EN = [{"question": "How much did Alibaba shares rise in 2025?", "answer": "Alibaba shares rose more than 80% [1]."}]
XIAOMI_ZH = [{"question": "小米的AI估值如何?", "answer": "市场对小米AI价值的定价仍然滞后 [1]。"}]


@pytest.mark.parametrize("question", ["那腾讯呢?", "那腾讯呢\uff1f", "腾讯呢", "那么腾讯呢?"])
def test_asking_about_another_company_repeats_the_previous_question_for_it(lexicon: Lexicon, question: str) -> None:
    standalone = rewrite(question, ALIBABA_ZH, lexicon)
    assert "腾讯" in standalone and "股价涨幅" in standalone and "2025" in standalone
    assert "阿里" not in standalone
    assert standalone == "腾讯2025年股价涨幅是多少?"


@pytest.mark.parametrize(("question", "metric"), [("它的市盈率是多少?", "市盈率"), ("其AI收入占比是多少?", "AI收入占比")])
def test_a_pronoun_is_replaced_by_the_company_of_the_previous_turn(lexicon: Lexicon, question: str, metric: str) -> None:
    standalone = rewrite(question, ALIBABA_ZH, lexicon)
    assert "阿里巴巴" in standalone and metric in standalone
    assert "它" not in standalone and not standalone.startswith("其")


def test_a_bare_metric_follow_up_gets_the_company_in_front(lexicon: Lexicon) -> None:
    assert rewrite("市盈率呢?", XIAOMI_ZH, lexicon).startswith("小米")


def test_what_about_another_company_in_english_repeats_the_question_for_it(lexicon: Lexicon) -> None:
    assert rewrite("What about Tencent?", ALIBABA_EN, lexicon) == "How much did Tencent shares rise in 2025?"
    assert rewrite("How about Xiaomi?", ALIBABA_EN, lexicon) == "How much did Xiaomi shares rise in 2025?"


def test_and_its_pe_carries_the_company_in_english(lexicon: Lexicon) -> None:
    standalone = rewrite("and its P/E?", [{"question": "What is Xiaomi's AI valuation?", "answer": "..."}], lexicon)
    assert "Xiaomi's P/E" in standalone
    assert " its " not in f" {standalone} "


def test_a_chain_of_follow_ups_resolves_through_every_turn(lexicon: Lexicon) -> None:
    history = ALIBABA_ZH + [{"question": "那腾讯呢?", "answer": "腾讯2025年股价涨幅超46% [1]。"}]
    assert rewrite("那小米呢?", history, lexicon) == "小米2025年股价涨幅是多少?"


def test_a_question_that_stands_alone_is_left_as_it_is(lexicon: Lexicon) -> None:
    question = "腾讯2025年广告业务连续多少个季度实现两位数增长?"
    assert rewrite(question, ALIBABA_ZH, lexicon) == question
    english = "What did Tencent say about Hunyuan model releases in 2025?"
    assert rewrite(english, ALIBABA_EN, lexicon) == english


def test_without_history_or_a_company_to_carry_nothing_changes(lexicon: Lexicon) -> None:
    assert rewrite("那腾讯呢?", [], lexicon) == "那腾讯呢?"
    assert rewrite("那腾讯呢?", [{"question": "今天港股整体表现如何?", "answer": "..."}], lexicon) == "那腾讯呢?"
    assert rewrite("阿里巴巴的云收入呢?", ALIBABA_ZH, lexicon) == "阿里巴巴的云收入呢?"


@pytest.mark.parametrize("question", ["那腾讯呢?", "and its P/E?", "What about Tencent?", "它的市盈率是多少?"])
def test_short_or_referring_questions_are_recognised_as_follow_ups(question: str) -> None:
    assert is_follow_up(question)


@pytest.mark.parametrize(
    "question",
    ["阿里巴巴2025年全年股价涨幅和腾讯相比高出多少个百分点?", "How much did Alibaba Cloud revenue grow in the third quarter of 2025?"],
)
def test_long_self_contained_questions_are_not_follow_ups(question: str) -> None:
    assert not is_follow_up(question)


# --- end to end ------------------------------------------------------------------------------------------------------
def test_a_follow_up_about_tencent_is_answered_with_tencents_share_price_rise(corpus_assistant) -> None:
    answer = corpus_assistant.ask("那腾讯呢?", history=ALIBABA_ZH)
    assert answer.question == "那腾讯呢?"
    assert "腾讯" in answer.standalone_question and "股价涨幅" in answer.standalone_question
    assert not answer.refused
    assert "46" in answer.text
    assert not answer.failed_citations
    assert any("腾讯" in s["text"] and "46" in s["text"] for s in answer.sources)


def test_a_long_conversation_of_follow_ups_is_rewritten_turn_by_turn(lexicon) -> None:
    # Each turn builds on the one before; rewriting every earlier turn from scratch made this exponential.
    history = [{"question": "小米2025Q3经调整净利润增长多少?", "answer": ""}] + [{"question": "那同期呢?", "answer": ""}] * 40
    assert rewrite("它同期的研发投入呢?", history, lexicon).startswith("小米")
