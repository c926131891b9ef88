"""Follow-ups that keep their subject: "那它的X呢?" / "and its X?" ask X of the previous subject, "那个季度/那年/that
year" are the previous period, "那X同期呢?" moves the previous question to X."""

from __future__ import annotations

import pytest

from assistant.rewrite import rewrite
from assistant.settings import Settings
from assistant.text import Lexicon


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
