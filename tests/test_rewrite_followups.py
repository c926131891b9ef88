"""Follow-ups that keep their subject: "那它的X呢?" / "and its X?" ask X of the previous subject, "那个季度/那年/that
year" are the previous period, "那X同期呢?" moves the previous question to X, and a refused follow-up says what it
understood was asked (subject and attribute) before the fixed refusal."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.prompts import Prompts
from assistant.rewrite import follow_up_topic, rewrite
from assistant.settings import Settings
from assistant.text import Lexicon

PROMPTS = Path(__file__).resolve().parents[1] / "prompts"
REFUSAL_ZH = (PROMPTS / "refusal_zh.txt").read_text(encoding="utf-8").strip()
REFUSAL_EN = (PROMPTS / "refusal_en.txt").read_text(encoding="utf-8").strip()


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load(Settings().lexicon_path)


def turn(question: str, answer: str = "") -> list[dict]:
    return [{"question": question, "answer": answer}]


@pytest.mark.parametrize(
    ("previous", "question", "expected"),
    [
        # a pronoun inside "那X呢?": X is an attribute of the previous subject, asked in the previous period
        ("商汤2025年股价涨幅有多大?", "那它的市盈率呢?", "商汤2025年的市盈率是多少?"),
        ("星河动力的估值是多少?", "那它的订单呢?", "星河动力的订单是多少?"),
        ("What is SenseTime's ticker?", "And its P/E?", "What is SenseTime's P/E?"),
        ("What is Nimbus Labs' ticker?", "what about its gross margin?", "What is Nimbus Labs' gross margin?"),
        ("腾讯2025年Q3经调整净利润同比增长了多少?", "它同期的AI收入占比呢?", "腾讯2025年Q3的AI收入占比是多少?"),
        # "that quarter / that year" in their Chinese forms, and a possessive after "that year"
        ("腾讯2025年Q3经调整净利润同比增长了多少?", "那个季度它的收入是多少?", "2025年Q3腾讯的收入是多少?"),
        ("华虹半导体2025Q3毛利率是多少?", "那一季度的研发投入呢?", "华虹半导体2025Q3的研发投入是多少?"),
        ("小米2025年股价涨了多少?", "那年它的净利润呢?", "小米2025年的净利润是多少?"),
        ("How much did Xiaomi's stock rise in 2025?", "How about that year's net profit?", "What is Xiaomi's net profit in 2025?"),
        # another company "in the same period", or in another one
        ("小米2025年股价涨了多少?", "那腾讯同期呢?", "腾讯2025年股价涨了多少?"),
        ("青柠科技2025年营收是多少?", "那蓝鲸智算2024年呢?", "蓝鲸智算2024年营收是多少?"),
        # an opener that only linked the follow-up to the turn before goes once the pronoun is resolved
        ("小米的全球月活用户有多少?", "那它的AIoT平台连接了多少设备?", "小米的AIoT平台连接了多少设备?"),
        ("How much did Xiaomi's stock rise in 2025?", "And what EPS growth does JPMorgan expect for it?",
         "What EPS growth does JPMorgan expect for Xiaomi?"),
    ],
)
def test_follow_ups_keep_the_previous_subject(lexicon: Lexicon, previous: str, question: str, expected: str) -> None:
    assert rewrite(question, turn(previous), lexicon) == expected


def test_a_follow_up_naming_its_company_and_attribute_stands_as_asked(lexicon: Lexicon) -> None:
    assert rewrite("那腾讯的市盈率呢?", turn("小米2025年股价涨了多少?"), lexicon) == "那腾讯的市盈率呢?"


@pytest.mark.parametrize(
    ("previous", "question", "subject", "attribute"),
    [
        ("[SESS00000001] 百度的AI业务进展如何?", "[SESS00000001] 它的估值怎么看?", "百度", "估值"),
        ("星河动力的估值是多少?", "它的订单呢?", "星河动力", "订单"),
        ("腾讯AI相关收入占比是多少?", "那美团的呢?", "美团", "AI相关收入占比"),
        ("What was Tencent's adjusted net profit growth in Q3 2025?", "And what was its revenue in that quarter?", "Tencent",
         "revenue in Q3 2025"),
        # the subject brought in from the conversation, not another name the follow-up said itself
        ("How much did Xiaomi's stock rise in 2025?", "And what EPS growth does JPMorgan expect for it?", "Xiaomi",
         "What EPS growth does JPMorgan expect for Xiaomi"),
    ],
)
def test_a_resolved_follow_up_has_a_subject_and_an_attribute(
    lexicon: Lexicon, previous: str, question: str, subject: str, attribute: str
) -> None:
    assert follow_up_topic(question, rewrite(question, turn(previous), lexicon), lexicon) == (subject, attribute)


def test_a_question_that_stood_alone_has_no_topic_to_restate(lexicon: Lexicon) -> None:
    question = "美团2025年的收入是多少?"
    assert follow_up_topic(question, rewrite(question, turn("腾讯的估值如何?"), lexicon), lexicon) == ("", "")
    assert follow_up_topic("那个呢?", "那个呢?", lexicon) == ("", "")


def test_the_refusal_names_the_subject_and_keeps_the_fixed_text() -> None:
    prompts = Prompts(PROMPTS)
    assert prompts.refusal("zh") == REFUSAL_ZH and prompts.refusal("en") == REFUSAL_EN
    named = prompts.refusal("zh", "百度", "估值")
    assert "百度" in named and "估值" in named and named.endswith(REFUSAL_ZH)
    named = prompts.refusal("en", "Tencent", "revenue in Q3 2025")
    assert "Tencent" in named and "revenue in Q3 2025" in named and named.endswith(REFUSAL_EN)


# --- end to end ------------------------------------------------------------------------------------------------------
def test_a_refused_follow_up_says_which_company_and_attribute_it_understood(corpus_assistant) -> None:
    """The shipped corpus has no passage about 美团: the follow-up is refused, and the refusal names 美团 and the
    attribute carried over, while the refusal flag and the fixed refusal text stay for exact scoring."""
    answer = corpus_assistant.ask("那美团的呢?", history=turn("腾讯AI相关收入占比是多少?", "18% [1]"))
    assert answer.refused
    assert "美团" in answer.text and "AI相关收入占比" in answer.text and "腾讯" not in answer.text
    assert answer.text.endswith(REFUSAL_ZH)
    english = corpus_assistant.ask("And its revenue in that quarter?", history=turn("What was Meituan's adjusted net profit in Q3 2025?"))
    assert english.refused and "Meituan" in english.text and english.text.endswith(REFUSAL_EN)


def test_a_refused_question_that_stood_alone_gets_the_fixed_refusal_only(corpus_assistant) -> None:
    answer = corpus_assistant.ask("美团2025年的收入是多少?", history=turn("腾讯的估值如何?"))
    assert answer.refused and answer.text == REFUSAL_ZH
