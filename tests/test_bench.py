"""`assistant bench` at a tiny size: every figure is measured and positive."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from assistant.bench import COMPANIES, _derived_vector, format_table, real_sample, run_bench, synthetic_passage, synthetic_queries
from assistant.cli import main

# Real-length Chinese passages (a few hundred characters, no headline), as news passages come.
NEWS = [
    "据新华社报道,今年一季度全国规模以上工业企业利润同比增长4.3%,其中高技术制造业利润增长较快。分析人士认为,"
    "设备更新和消费品以旧换新政策带动了相关行业的需求回升,预计二季度工业生产将保持平稳增长态势。",
    "记者从交通运输部获悉,春运期间全国铁路累计发送旅客4.8亿人次,民航运输旅客8000余万人次。多地交通部门表示,"
    "将继续优化运力安排,加强节后返程高峰的客流组织,确保旅客出行安全有序。",
    "某电动汽车制造商发布新款车型,官方指导价为21.59万元起,续航里程最高达到700公里。发布会上公司表示,"
    "新车搭载自研芯片和智能驾驶系统,首批订单将在下月开始交付。",
    "气象部门预计,本周末北方地区将迎来大范围降温,部分地区降温幅度超过10摄氏度,并伴有大风和沙尘天气。"
    "专家提醒公众注意防寒保暖,农业生产要提前做好防冻措施。",
]


@pytest.fixture
def news_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "news"
    folder.mkdir()
    for i, text in enumerate(NEWS):
        (folder / f"news-{i:02d}.txt").write_text(text, encoding="utf-8")
    return folder


def test_synthetic_passages_are_chinese_sentences_about_one_company():
    passage = synthetic_passage(random.Random(3))
    assert passage.company in COMPANIES and passage.company in passage.text and passage.metric in passage.text
    assert passage.text.count("。") >= 3
    assert synthetic_queries(5) == synthetic_queries(5)  # seeded: every run asks the same questions
    assert len(set(synthetic_queries(300))) == 300  # distinct: none is timed on a cached query vector


def test_derived_vectors_stay_close_to_their_pool_vector_and_unit_length():
    rng = np.random.default_rng(0)
    base = rng.normal(size=384).astype(np.float32)
    base /= np.linalg.norm(base)
    derived = _derived_vector(base, rng)
    assert abs(float(np.linalg.norm(derived)) - 1) < 1e-5
    assert 0.85 < float(derived @ base) < 0.97


def test_the_real_text_sample_is_fixed_and_a_missing_folder_is_named_with_the_option(news_folder: Path, tmp_path: Path):
    assert real_sample(news_folder, 3) == real_sample(news_folder, 3)
    assert len(real_sample(news_folder, 3)) == 3 and len(real_sample(news_folder, 99)) == len(NEWS)
    with pytest.raises(FileNotFoundError, match="--texts") as failure:
        real_sample(tmp_path / "absent", 3)
    assert str(tmp_path / "absent") in str(failure.value)


def test_bench_command_with_a_missing_text_folder_exits_with_the_folder_and_the_option(tmp_path: Path, capsys):
    assert main(["bench", "--texts", str(tmp_path / "absent"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "absent") in err and "--texts" in err


def test_bench_at_a_tiny_size_reports_every_figure_as_a_positive_number(corpus_assistant, news_folder: Path):
    result = run_bench(
        corpus_assistant.settings, corpus_assistant=corpus_assistant, sizes=[200], texts_dir=news_folder, sample=3, rounds=2,
        docs=2, queries=6, questions=2, show_progress=False,
    )
    ingestion = result["ingestion"]
    for key in ("chunks", "pipeline_chunks_per_s", "raw_encode_chunks_per_s", "pipeline_vs_raw", "encoder_tokens_per_s"):
        assert ingestion[key] > 0, key
    assert ingestion["documents"] == ingestion["chunks"] == ingestion["embedded"] == 3
    assert ingestion["rounds"] == len(ingestion["pairs"]) == 2 and ingestion["pipeline_vs_raw_cpu"] > 0
    # File-named passages without headline or sections: nothing but the chunk is embedded.
    assert ingestion["prefix_token_share"] == ingestion["prefix_time_share"] == 0.0
    assert "real" in ingestion["text"] and "synthetic" in result["synthetic_ingestion"]["text"]
    pool = result["synthetic_ingestion"]["chunks"]
    (retrieval,) = result["retrieval"]
    assert retrieval["size"] == retrieval["chunks"] == 200
    assert retrieval["real_vectors"] == pool and retrieval["derived_vectors"] == 200 - pool
    for mode in ("hybrid", "dense", "bm25", "query_embedding"):
        assert retrieval["modes"][mode]["p50_ms"] > 0 and retrieval["modes"][mode]["p95_ms"] > 0, mode
        assert retrieval["modes"][mode]["n"] == 6, mode  # --queries per mode, each distinct
    assert result["answers"]["questions"] == 2
    assert result["answers"]["p50_ms"] > 0 and result["answers"]["p95_ms"] > 0
    assert result["memory"]["peak_rss_mb"] > 0
    table = format_table(result)
    assert "| 200 (" in table and "chunks/s" in table and "real passages, 3 chunks" in table


@pytest.mark.slow
def test_bench_at_100k_chunks_measures_every_retrieval_mode(corpus_assistant, news_folder: Path):
    """The scale benchmark (minutes on 2 cores): `pytest -m slow`. Figures, not time limits."""
    result = run_bench(
        corpus_assistant.settings, corpus_assistant=corpus_assistant, sizes=[100_000], texts_dir=news_folder, sample=4,
        docs=20, queries=20, questions=2, show_progress=False,
    )
    (retrieval,) = result["retrieval"]
    assert retrieval["chunks"] == 100_000
    for mode in ("hybrid", "dense", "bm25"):
        assert retrieval["modes"][mode]["p50_ms"] > 0, mode
    print(format_table(result))
