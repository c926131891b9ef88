"""`assistant bench` at a tiny size: every figure is measured and positive."""

from __future__ import annotations

import random

import numpy as np
import pytest

from assistant.bench import COMPANIES, _derived_vector, format_table, run_bench, synthetic_passage, synthetic_queries


def test_synthetic_passages_are_chinese_sentences_about_one_company():
    passage = synthetic_passage(random.Random(3))
    assert passage.company in COMPANIES and passage.company in passage.text and passage.metric in passage.text
    assert passage.text.count("。") >= 3
    assert synthetic_queries(5) == synthetic_queries(5)  # seeded: every run asks the same questions


def test_derived_vectors_stay_close_to_their_pool_vector_and_unit_length():
    rng = np.random.default_rng(0)
    base = rng.normal(size=384).astype(np.float32)
    base /= np.linalg.norm(base)
    derived = _derived_vector(base, rng)
    assert abs(float(np.linalg.norm(derived)) - 1) < 1e-5
    assert 0.85 < float(derived @ base) < 0.97


def test_bench_at_a_tiny_size_reports_every_figure_as_a_positive_number(corpus_assistant):
    result = run_bench(
        corpus_assistant.settings, corpus_assistant=corpus_assistant, sizes=[200], docs=2, queries=6, questions=2,
        show_progress=False,
    )
    ingestion = result["ingestion"]
    for key in ("chunks", "pipeline_chunks_per_s", "raw_encode_chunks_per_s", "pipeline_vs_raw"):
        assert ingestion[key] > 0, key
    (retrieval,) = result["retrieval"]
    assert retrieval["size"] == retrieval["chunks"] == 200
    assert retrieval["real_vectors"] == ingestion["chunks"] and retrieval["derived_vectors"] == 200 - ingestion["chunks"]
    for mode in ("hybrid", "dense", "bm25"):
        assert retrieval["modes"][mode]["p50_ms"] > 0 and retrieval["modes"][mode]["p95_ms"] > 0, mode
    assert result["answers"]["questions"] == 2
    assert result["answers"]["p50_ms"] > 0 and result["answers"]["p95_ms"] > 0
    assert result["memory"]["peak_rss_mb"] > 0
    table = format_table(result)
    assert "| 200 (" in table and "chunks/s" in table


@pytest.mark.slow
def test_bench_at_100k_chunks_measures_every_retrieval_mode(corpus_assistant):
    """The scale benchmark (minutes on 2 cores): `pytest -m slow`. Figures, not time limits."""
    result = run_bench(
        corpus_assistant.settings, corpus_assistant=corpus_assistant, sizes=[100_000], docs=20, queries=20, questions=2,
        show_progress=False,
    )
    (retrieval,) = result["retrieval"]
    assert retrieval["chunks"] == 100_000
    for mode in ("hybrid", "dense", "bm25"):
        assert retrieval["modes"][mode]["p50_ms"] > 0, mode
    print(format_table(result))
