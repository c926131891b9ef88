"""Rankings and comparisons are computed over dataset rows: the right answer first, every row used cited, qualifiers
kept, different units never compared raw; a question that is no ranking is left to the normal answerer."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from langchain_core.documents import Document

from assistant.citations import check, markers_in
from assistant.loaders import load_bytes
from assistant.rankings import RankingAnswer, answer_ranking, facts_of, is_ranking_question
from assistant.retrieval import Passage
from assistant.rows import parse_row, row_text
from assistant.settings import Settings
from assistant.text import Lexicon, numbers_in

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "rankings.jsonl").read_text(encoding="utf-8").splitlines() if line]
SHIPPED = "corpus/datasets/hk_tech_ai_metrics_2025.csv"


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load(Settings().lexicon_path)


@pytest.fixture(scope="module")
def shipped_rows() -> list[Document]:
    path = Settings().corpus_dir / "datasets" / "hk_tech_ai_metrics_2025.csv"
    return load_bytes(path.read_bytes(), SHIPPED, "csv", 10_000_000)


def table(header: list[str], rows: list[list[str]], source: str = "upload:user.csv") -> list[Document]:
    """Row Documents as the CSV loader writes them (the shared row form), for a user's own dataset."""
    return [
        Document(page_content=row_text(list(zip(header, row))), metadata={"source": source, "row": n, "title": "user", "date": ""})
        for n, row in enumerate(rows, start=2)
    ]


def assert_every_row_cited(answer: RankingAnswer) -> None:
    """Every row used is cited, every marker points at a used row, and every figure on a cited line is in a row it
    cites (checked with the project's own citation checker), apart from the figures the ranking computed."""
    markers = {m for line in answer.text.splitlines() for m in markers_in(line)}
    assert markers == set(range(1, len(answer.used) + 1)), answer.text
    passages = [Passage(id=str(n), text=d.page_content, meta={**d.metadata, "type": "dataset"}) for n, d in enumerate(answer.used)]
    citations, uncited = check(answer.text, passages)
    assert not uncited, uncited
    for citation in citations:
        if not citation.supported:
            missing = set(re.sub(r"^not in the cited passage: ", "", citation.reason).split(", "))
            assert missing <= set(answer.derived), (citation.sentence, citation.reason)


def entity_of(doc: Document) -> str:
    return (parse_row(doc.page_content) or {}).get("company", "")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_ranking_questions_over_the_shipped_dataset_are_answered_with_every_row_cited(case: dict, shipped_rows, lexicon) -> None:
    answer = answer_ranking(case["question"], shipped_rows, lexicon, case["language"])

    assert answer is not None, case["question"]
    assert answer.metric == case["metric"]
    lead = answer.text.splitlines()[0]
    for expected in case["lead"]:
        assert expected in lead, (expected, answer.text)
    for absent in case.get("not_in_lead", []):
        assert absent not in lead
    assert [entity for entity, _ in answer.chart] == case["order"]
    assert set(answer.derived) == set(case.get("derived", []))
    assert_every_row_cited(answer)
    if case.get("comparable", True):
        assert {entity_of(d) for d in answer.used} == set(case["order"])
    else:
        assert answer.chart == [] and len(answer.used) == 2


def test_the_answer_is_in_the_questions_language_with_the_names_as_the_rows_write_them(shipped_rows, lexicon) -> None:
    zh = answer_ranking("2025年哪家公司股价涨幅最大?", shipped_rows, lexicon, "zh")
    en = answer_ranking("Which company had the largest share-price gain in 2025?", shipped_rows, lexicon, "en")
    assert zh is not None and en is not None
    assert "完整排名" in zh.text and "Alibaba" not in zh.text
    assert "Full ranking" in en.text and "完整排名" not in en.text
    assert "1. 阿里巴巴 (Alibaba): more than 80% [1]" in en.text.splitlines()
    assert "4. 小米: 约13% [4]" in zh.text.splitlines()


@pytest.mark.parametrize(
    "question",
    [
        "阿里巴巴2025年股价涨幅是多少?",  # one figure, asked directly
        "How much did Tencent's shares rise in 2025?",
        "小米的MiMo大模型对估值有什么影响?",
        "Did Alibaba's shares rise more than 50% in 2025?",  # a bound, not a comparison
        "阿里云收入增长超过30%了吗?",
    ],
)
def test_a_question_that_is_no_ranking_is_left_to_the_normal_answerer(question: str, shipped_rows, lexicon) -> None:
    assert not is_ranking_question(question)
    assert answer_ranking(question, shipped_rows, lexicon, "zh") is None


@pytest.mark.parametrize(
    "question",
    [
        "哪家公司的市盈率最高?",  # the rows hold one company's P/E: nothing to rank
        "2024年哪家公司股价涨幅最大?",  # no row is about 2024
        "哪家公司的员工人数最多?",  # no metric of the rows matches
        "Which company has the most patents?",
        "小米和百度谁的股价涨幅更高?",  # no row holds one of the two companies
    ],
)
def test_a_ranking_no_metric_of_the_rows_answers_is_left_to_the_normal_answerer(question: str, shipped_rows, lexicon) -> None:
    assert is_ranking_question(question)
    assert answer_ranking(question, shipped_rows, lexicon, "zh") is None


@pytest.mark.parametrize(
    "question",
    [
        "对小米EPS增速做出45.8%测算的是哪家机构?",  # asks for a name, not a ranking
        "What was Tencent's share price gain over 2025?",  # one company's own figure
        "小米2025年股价涨幅和其EPS增速差距有多大?",  # a difference between two metrics, not two rows of one
        "Which unlisted firm carried a valuation of 4 billion US dollars?",
        "文章讨论的综合科技巨头里,哪一家最先在估值上兑现了AI价值?",
    ],
)
def test_a_question_that_only_sounds_like_a_ranking_is_left_to_the_normal_answerer(question: str, shipped_rows, lexicon) -> None:
    assert answer_ranking(question, shipped_rows, lexicon, "en") is None


USER_LONG = table(
    ["company", "metric", "value", "unit", "period"],
    [
        ["青岚机器人", "订阅续费率", "91.5", "%", "2025"],
        ["Corvana Systems", "订阅续费率", "87", "%", "2025"],
        ["蓝湾数科", "订阅续费率", "93.2", "%", "2025"],
        ["青岚机器人", "订阅续费率", "88", "%", "2024"],
        ["青岚机器人", "年度经常性收入", "12", "亿元", "2025"],
        ["Corvana Systems", "年度经常性收入", "3.1", "亿美元", "2025"],
        ["蓝湾数科", "年度经常性收入", "8.8", "亿元", "2025"],
    ],
)


def test_a_users_dataset_about_unlisted_companies_and_an_unlisted_metric_is_ranked(lexicon) -> None:
    zh = answer_ranking("哪家公司的订阅续费率最高?", USER_LONG, lexicon, "zh")
    en = answer_ranking("Which company has the highest subscription renewal rate?", USER_LONG, lexicon, "en")

    for answer in (zh, en):
        assert answer is not None and answer.metric == "订阅续费率"
        # The latest period per company: 青岚机器人's 2024 figure is not ranked against the others' 2025 ones.
        assert answer.chart == [("蓝湾数科", 93.2), ("青岚机器人", 91.5), ("Corvana Systems", 87.0)]
        assert_every_row_cited(answer)
    assert zh is not None and zh.text.startswith("按「订阅续费率」,蓝湾数科最高(93.2%) [1]。")


def test_a_difference_between_two_unlisted_companies_is_computed_in_percentage_points(lexicon) -> None:
    answer = answer_ranking("青岚机器人和蓝湾数科的订阅续费率差多少?", USER_LONG, lexicon, "zh")
    assert answer is not None
    assert "蓝湾数科(93.2%)比青岚机器人(91.5%)高1.7个百分点" in answer.text
    assert answer.derived == ["1.7"]
    assert_every_row_cited(answer)


def test_a_year_the_question_names_selects_the_rows_of_that_year(lexicon) -> None:
    # Only one company has a 2024 figure, so there is nothing to rank for 2024.
    assert answer_ranking("2024年哪家公司订阅续费率最高?", USER_LONG, lexicon, "zh") is None


def test_figures_in_another_currency_are_listed_apart_and_never_ranked_raw(lexicon) -> None:
    answer = answer_ranking("哪家公司的年度经常性收入最高?", USER_LONG, lexicon, "zh")

    assert answer is not None and answer.unit == "亿元"
    assert answer.chart == [("青岚机器人", 12.0), ("蓝湾数科", 8.8)]
    lines = answer.text.splitlines()
    apart = lines.index("以下数值的单位或币种不是亿元,未参与比较:")
    assert any("Corvana Systems: 3.1亿美元" in line for line in lines[apart:])
    assert not any("Corvana" in line for line in lines[:apart])
    assert_every_row_cited(answer)


def test_two_figures_in_different_currencies_are_not_compared_at_all(lexicon) -> None:
    rows = table(
        ["company", "metric", "value", "unit"],
        [["Corvana Systems", "年度经常性收入", "3.1", "亿美元"], ["蓝湾数科", "年度经常性收入", "8.8", "亿元"]],
    )
    answer = answer_ranking("Corvana Systems和蓝湾数科谁的年度经常性收入更高?", rows, lexicon, "zh")
    assert answer is not None and answer.chart == []
    assert "不能直接比较" in answer.text and "高于" not in answer.text
    assert_every_row_cited(answer)


def test_qualifiers_in_the_data_stay_with_their_figures(lexicon) -> None:
    rows = table(
        ["company", "metric", "value", "unit", "period"],
        [["星澜云", "算力订单(预计)", "120", "亿元", "2026"], ["北辰算力", "算力订单(超)", "95", "亿元", "2026"]],
    )
    answer = answer_ranking("哪家公司的算力订单最多?", rows, lexicon, "zh")
    assert answer is not None
    assert "星澜云最高(120亿元 (预计))" in answer.text
    assert "北辰算力: 超95亿元" in answer.text


def test_a_wide_table_with_one_column_per_metric_is_ranked(lexicon) -> None:
    rows = table(
        ["公司", "数据中心数量", "单机柜功率(kW)", "PUE"],
        [["星澜云", "14", "8.5", "1.32"], ["Halvorsen Grid", "9", "12", "1.21"], ["北辰算力", "21", "6", "1.45"]],
    )
    most = answer_ranking("哪家公司数据中心数量最多?", rows, lexicon, "zh")
    lowest = answer_ranking("Which company has the lowest PUE?", rows, lexicon, "en")
    power = answer_ranking("单机柜功率排名", rows, lexicon, "zh")

    assert most is not None and most.chart[0] == ("北辰算力", 21.0)
    assert lowest is not None and lowest.text.startswith("By PUE, Halvorsen Grid has the lowest (1.21) [1].")
    assert power is not None and power.unit == "kW" and "1. Halvorsen Grid: 12 kW [1]" in power.text
    for answer in (most, lowest, power):
        assert_every_row_cited(answer)


def test_a_statement_table_gives_the_difference_between_periods(lexicon) -> None:
    page = Document(
        page_content="Consolidated statements of operations\n"
        + row_text([("item", "Net sales"), ("2018", "41,280"), ("2017", "39,954")])
        + "\n"
        + row_text([("item", "Net income"), ("2018", "3,033"), ("2017", "2,371")]),
        metadata={"source": "report.pdf", "page": 3, "title": "Annual report", "date": "", "companies": ["Corvana Systems"]},
    )
    answer = answer_ranking("How much did net sales change from 2017 to 2018?", [page], lexicon, "en")
    assert answer is not None and answer.metric == "Net sales"
    assert answer.text.startswith("By Net sales, 2018 (41,280) is up 1,326 on 2017 (39,954) [1].")
    assert answer.chart == [("2017", 39954.0), ("2018", 41280.0)]
    assert_every_row_cited(answer)
    profit = answer_ranking("2018年净利润比2017年增加多少?", [page], lexicon, "zh")
    assert profit is not None and "2018(3,033)比2017(2,371)增加662" in profit.text


def test_every_figure_of_the_shipped_dataset_is_read_with_its_unit(shipped_rows) -> None:
    facts = facts_of(shipped_rows)
    assert len(facts) == len(shipped_rows)
    for fact in facts:
        row = parse_row(shipped_rows[fact.row].page_content) or {}
        assert fact.shown == row["value"] and fact.unit == row["unit"] and numbers_in(fact.shown)
