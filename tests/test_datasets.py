"""Dataset rows read back from the index: tables, the metrics that can be charted, and the chart beside an answer,
the same for an embedded index and a Chroma server."""

from __future__ import annotations

import pandas as pd

from assistant.datasets import answer_chart, chartable_metrics, dataset_tables, metric_chart
from assistant.rows import parse_row, row_text


def dataset_source(marker: int, company: str, metric: str, value: str, unit: str = "%") -> dict:
    text = row_text({"company": company, "ticker": "X", "metric": metric, "value": value, "unit": unit, "period": "2025"})
    return {"marker": marker, "type": "dataset", "text": text, "row": marker + 1}


def test_a_row_written_by_rows_parses_back_into_its_fields():
    text = "company: 阿里巴巴; ticker: 9988.HK; metric: 2025年股价涨幅; value: 80; unit: %; period: 2025; source: 报告:第3页。"
    assert parse_row(text) == {
        "company": "阿里巴巴", "ticker": "9988.HK", "metric": "2025年股价涨幅", "value": "80", "unit": "%", "period": "2025",
        "source": "报告:第3页",
    }


def test_tables_keep_file_order_and_columns_and_skip_other_chunks():
    chunks = [
        (row_text({"company": "B", "metric": "m", "value": "2"}), {"type": "dataset", "source": "d.csv", "row": 3}),
        (row_text({"company": "A", "metric": "m", "value": "1", "unit": "%"}), {"type": "dataset", "source": "d.csv", "row": 2}),
        ("company: Z; metric: m; value: 9。", {"type": "article", "source": "a.md"}),
        (row_text({"name": "x", "size": "3"}), {"type": "dataset", "source": "book.xlsx", "row": 2, "section": "Sheet2"}),
    ]
    tables = dataset_tables(chunks)
    assert list(tables) == ["book.xlsx › Sheet2", "d.csv"]
    assert tables["d.csv"].to_dict("records") == [
        {"company": "A", "metric": "m", "value": "1", "unit": "%"},
        {"company": "B", "metric": "m", "value": "2", "unit": ""},
    ]


def test_chartable_metrics_need_two_companies_and_put_the_widest_first():
    tables = {
        "a.csv": pd.DataFrame({"company": ["A", "B", "C", "A"], "metric": ["n", "m", "m", "m"], "value": ["1", "2.5", "3", "x"]}),
        "b.csv": pd.DataFrame({"company": ["D", "E"], "metric": ["n", "m"], "value": ["4", "5"]}),
        "c.csv": pd.DataFrame({"name": ["no chart columns"]}),
    }
    assert chartable_metrics(tables) == ["m", "n"]
    chart = metric_chart(tables, "m")
    assert chart.title == "m" and dict(zip(chart.frame["company"], chart.frame["value"])) == {"B": 2.5, "C": 3.0, "E": 5.0}


def test_the_chart_beside_an_answer_is_of_the_metric_it_is_about():
    sources = [
        {"marker": 1, "type": "article", "text": "company: Z; metric: 2025年股价涨幅; value: 999。"},
        dataset_source(2, "阿里巴巴", "2025年股价涨幅", "80"),
        dataset_source(3, "腾讯", "2025年股价涨幅", "46"),
        dataset_source(4, "腾讯", "AI相关收入占比", "18"),
        dataset_source(5, "小米", "2025年股价涨幅", "13"),
        dataset_source(6, "小米", "全球月活用户", "n/a"),
    ]
    chart = answer_chart(sources, answer_text="阿里巴巴2025年股价涨幅超80% [1]。")
    assert chart is not None and chart.title == "2025年股价涨幅 (%)"
    assert dict(zip(chart.frame["company"], chart.frame["value"])) == {"阿里巴巴": 80, "腾讯": 46, "小米": 13}
    assert answer_chart(sources, cited={3}) is not None, "a cited row of the metric is enough"
    assert answer_chart(sources, answer_text="Zorblax revenue was 7亿元 [1]。") is None, "not beside an unrelated answer"
    assert answer_chart([dataset_source(1, "A", "m", "1")], cited={1}) is None, "one company is not a comparison"
    assert answer_chart([], answer_text="anything") is None


def test_the_facade_reads_the_shipped_dataset_from_the_index(corpus_assistant):
    tables = corpus_assistant.datasets()
    table = tables["corpus/datasets/hk_tech_ai_metrics_2025.csv"]
    assert list(table.columns) == ["company", "ticker", "metric", "value", "unit", "period", "source", "qualifier"]
    assert table.iloc[3].to_dict()["company"] == "阿里巴巴" and table.iloc[3].to_dict()["value"] == "80"
    chart = corpus_assistant.metric_chart()
    assert chart.metric == "2025年股价涨幅"
    assert dict(zip(chart.frame["company"], chart.frame["value"])) == {"阿里巴巴": 80, "腾讯": 46, "小米": 13, "商汤": 80}
    refused = {"refused": True, "sources": [dataset_source(1, "A", "m", "1"), dataset_source(2, "B", "m", "2")], "citations": []}
    assert corpus_assistant.answer_chart(refused) is None, "no chart beside a refusal"


def test_an_uploaded_dataset_on_a_chroma_server_shows_in_the_datasets(assistant_factory, chroma_server, tmp_path):
    assistant = assistant_factory(chroma_url=chroma_server, collection="datasets_test")
    csv = tmp_path / "peers.csv"
    csv.write_text("company,metric,value,unit\nAlpha,毛利率,31,%\nBeta,毛利率,24.5,%\nGamma,员工数,900,人\n", encoding="utf-8")
    report = assistant.upload([str(csv)])
    assert report.added == ["upload:peers.csv"], report.summary()
    assert list(assistant.datasets()) == ["upload:peers.csv"]
    assert assistant.chartable_metrics() == ["毛利率"]
    chart = assistant.metric_chart("员工数")  # one company only: the chart falls back to a chartable metric
    assert chart.metric == "毛利率" and dict(zip(chart.frame["company"], chart.frame["value"])) == {"Alpha": 31, "Beta": 24.5}
    assistant.remove("upload:peers.csv")
    assert assistant.datasets() == {} and assistant.metric_chart() is None
