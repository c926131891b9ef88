"""Follow-up questions ("那腾讯呢?", "and its P/E?") become standalone questions that carry the company and the metric."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.rewrite import is_follow_up, rewrite, subjects_in
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


# --- the gold set's follow-ups ----------------------------------------------------------------------------------------
GOLD = [json.loads(line) for line in (Path(__file__).parent / "data" / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line]
FOLLOW_UPS = [g for g in GOLD if g["history"]]
# What each resolved question must say (the subject, the attribute, the period) and what it must no longer say.
RESOLVED = {
    "g117": (["腾讯", "2025", "股价"], ["阿里", "那"]),
    "g118": (["商汤", "市盈率TTM"], ["它"]),
    "g119": (["小米", "AIoT"], ["它"]),
    "g120": (["MiniMax", "估值"], ["智谱", "呢"]),
    "g121": (["腾讯", "2025Q3", "经调整净利润"], ["同一季度", "阿里"]),
    "g122": (["MiMo-V2-Flash", "成本"], ["它"]),
    "g123": (["腾讯元宝", "排第几"], ["它"]),  # "它" is the assistant the previous answer named
    "g124": (["小米", "未来五年", "研发投入"], ["过去五年", "呢"]),
    "g125": (["小米汽车", "几款车型"], []),
    "g126": (["美团", "AI相关收入占比"], ["腾讯", "呢"]),
    "g127": (["SenseTime", "P/E"], ["its"]),
    "g128": (["Xiaomi", "EPS", "JPMorgan"], ["for it"]),
    "g129": (["Xiaomi", "developers"], ["does it"]),
    "g130": (["Tencent", "AI revenue share"], ["Alibaba"]),
    "g131": (["MiniMax", "listed"], ["Is it"]),  # "it" is the start-up the previous answer named
    "g132": (["Tencent", "revenue", "Q3 2025"], ["its", "that quarter"]),
}


def test_every_follow_up_of_the_gold_set_has_its_resolution_written_down() -> None:
    assert {g["id"] for g in FOLLOW_UPS} == set(RESOLVED)


@pytest.mark.parametrize("case", FOLLOW_UPS, ids=[g["id"] for g in FOLLOW_UPS])
def test_the_gold_sets_follow_ups_resolve_to_their_own_subject(lexicon: Lexicon, case: dict) -> None:
    standalone = rewrite(case["question"], case["history"], lexicon)
    must, must_not = RESOLVED[case["id"]]
    for text in must:
        assert text in standalone, (text, standalone)
    for text in must_not:
        assert text not in standalone, (text, standalone)


# --- companies in no lexicon ----------------------------------------------------------------------------------------
def turn(question: str, answer: str = "") -> list[dict]:
    return [{"question": question, "answer": answer}]


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("青柠科技2025年营收是多少?", "那蓝鲸智算呢?", "蓝鲸智算2025年营收是多少?"),
        ("星河动力的估值是多少?", "那地平线呢?", "地平线的估值是多少?"),
        ("华虹半导体2025Q3毛利率是多少?", "那中芯国际呢?", "中芯国际2025Q3毛利率是多少?"),
        ("Borealis Robotics的订阅续费率是多少?", "那Nimbus Labs呢?", "Nimbus Labs的订阅续费率是多少?"),
        ("2318.HK的市盈率是多少?", "那1299.HK呢?", "1299.HK的市盈率是多少?"),
        ("What is Nimbus Labs' revenue in 2025?", "What about Borealis Robotics?", "What is Borealis Robotics' revenue in 2025?"),
        ("What is Nimbus Labs' revenue in 2025?", "What about NIO?", "What is NIO's revenue in 2025?"),
    ],
)
def test_another_company_in_no_lexicon_takes_the_previous_subjects_place(
    lexicon: Lexicon, previous: str, question: str, expected: str
) -> None:
    assert rewrite(question, turn(previous), lexicon) == expected


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        ("星河动力的估值是多少?", "它的订单呢?", "星河动力的订单是多少?"),
        ("华虹半导体2025Q3毛利率是多少?", "其研发投入呢?", "华虹半导体2025Q3的研发投入是多少?"),
        ("What is Nimbus Labs' revenue in 2025?", "And its gross margin?", "What is Nimbus Labs' gross margin in 2025?"),
        ("What is Nimbus Labs' revenue in 2025?", "How many employees does it have?", "How many employees does Nimbus Labs have?"),
    ],
)
def test_a_pronoun_resolves_to_a_company_in_no_lexicon(lexicon: Lexicon, previous: str, question: str, expected: str) -> None:
    assert rewrite(question, turn(previous), lexicon) == expected


def test_a_new_attribute_keeps_the_previous_subject_and_period(lexicon: Lexicon) -> None:
    assert rewrite("那毛利率呢?", turn("星河动力2025年的订单是多少?"), lexicon) == "星河动力2025年的毛利率是多少?"
    assert rewrite("同期的营收呢?", turn("华虹半导体2025Q3毛利率是多少?"), lexicon) == "华虹半导体2025Q3的营收是多少?"
    assert rewrite("What about EPS?", turn("What is Nimbus Labs' revenue in 2025?"), lexicon) == "What is Nimbus Labs' EPS in 2025?"


def test_a_new_period_replaces_the_previous_one(lexicon: Lexicon) -> None:
    assert rewrite("那2024年呢?", turn("星河动力2025年的订单是多少?"), lexicon) == "星河动力2024年的订单是多少?"
    assert rewrite("What about 2024?", turn("What is Nimbus Labs' revenue in 2025?"), lexicon) == "What is Nimbus Labs' revenue in 2024?"


def test_a_name_attached_to_the_old_subject_does_not_follow_the_new_one(lexicon: Lexicon) -> None:
    # The product belongs to the first company: asking about another one must not ask about that product.
    assert rewrite("那商汤呢?", turn("小米的MiMo大模型对估值有什么影响?"), lexicon) == "商汤的大模型对估值有什么影响?"


def test_after_a_which_question_it_is_the_company_the_answer_named(lexicon: Lexicon) -> None:
    history = turn("哪家公司数据中心数量最多?", "按「数据中心数量」,北辰算力最高(21) [1]。")
    assert rewrite("它的PUE是多少?", history, lexicon) == "北辰算力的PUE是多少?"


@pytest.mark.parametrize("question", ["其他公司呢?", "其中哪家估值最高?", "今天港股整体表现如何?", "那港股整体表现如何?"])
def test_questions_about_no_single_company_are_left_alone(lexicon: Lexicon, question: str) -> None:
    assert rewrite(question, turn("华虹半导体2025Q3毛利率是多少?"), lexicon) == question


def test_a_bracketed_label_before_the_question_is_no_subject(lexicon: Lexicon) -> None:
    # The load test tags each question with its session's code; a label like that is not what "它" points to.
    history = turn("[SESS0A1B2C3D] MiniMax2025年股价涨幅是多少?")
    assert rewrite("[SESS9Z8Y7X6W] 它的估值怎么看?", history, lexicon) == "[SESS9Z8Y7X6W] MiniMax的估值怎么看?"
    labelled = turn("[SESS0A1B2C3D] 星河动力的估值是多少?")
    assert rewrite("[SESS9Z8Y7X6W] 那地平线呢?", labelled, lexicon) == "[SESS9Z8Y7X6W] 地平线的估值是多少?"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("华虹半导体的市盈率是多少?", ["华虹半导体"]),
        ("星河动力的估值是多少?", ["星河动力"]),
        ("What is Nimbus Labs' revenue in 2025?", ["Nimbus Labs"]),
        ("2318.HK的市盈率是多少?", ["2318.HK"]),
        ("腾讯AI相关收入占比是多少?", ["腾讯"]),
        ("How much did Xiaomi's stock rise in 2025?", ["小米"]),
    ],
)
def test_companies_are_found_with_or_without_the_lexicon(lexicon: Lexicon, text: str, names: list[str]) -> None:
    assert [s.name for s in subjects_in(text, lexicon)] == names


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
