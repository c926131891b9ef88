"""Hybrid retrieval: reciprocal rank fusion, the three modes, and metadata filters that mean the same on both sides."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.research import ResearchAssistant
from assistant.retrieval import FILTER_KEYS, Filters, rrf
from assistant.settings import Settings

MODES = ("hybrid", "dense", "bm25")
CLOUD_QUESTION = "阿里云2025年第三季度收入增长多少?"


# --- rrf() on hand-made rankings -------------------------------------------------------------------------------------
def test_rrf_gives_each_list_weight_over_k_plus_rank() -> None:
    scores = rrf({"dense": ["a", "b"], "bm25": ["b"]}, {"dense": 1.0, "bm25": 1.0}, k=60)
    assert scores["a"] == pytest.approx(1 / 61)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)


def test_an_id_ranked_high_in_both_lists_beats_one_ranked_first_in_only_one() -> None:
    rankings = {"dense": ["only-dense", "both", "x"], "bm25": ["only-bm25", "y", "both"]}
    scores = rrf(rankings, {"dense": 1.0, "bm25": 1.0}, k=60)
    assert max(scores, key=scores.get) == "both"
    assert scores["both"] > scores["only-dense"] == pytest.approx(scores["only-bm25"])


def test_rrf_weights_decide_between_two_lists_that_disagree() -> None:
    rankings = {"dense": ["a", "b"], "bm25": ["b", "a"]}
    even = rrf(rankings, {"dense": 1.0, "bm25": 1.0}, k=60)
    assert even["a"] == pytest.approx(even["b"])
    dense_heavy = rrf(rankings, {"dense": 2.0, "bm25": 1.0}, k=60)
    assert dense_heavy["a"] > dense_heavy["b"]
    bm25_heavy = rrf(rankings, {"dense": 1.0, "bm25": 2.0}, k=60)
    assert bm25_heavy["b"] > bm25_heavy["a"]


def test_a_list_without_a_weight_counts_once_and_a_zero_weight_silences_a_list() -> None:
    assert rrf({"other": ["a"]}, {}, k=0)["a"] == pytest.approx(1.0)
    muted = rrf({"dense": ["a"], "bm25": ["b"]}, {"dense": 0.0, "bm25": 1.0}, k=60)
    assert muted["a"] == 0.0 < muted["b"]


def test_a_smaller_rrf_k_widens_the_gap_between_ranks() -> None:
    ranking = {"dense": ["a", "b"]}
    sharp, flat = rrf(ranking, {}, k=1), rrf(ranking, {}, k=600)
    assert sharp["a"] / sharp["b"] > flat["a"] / flat["b"]


# --- the three modes on the shipped corpus ---------------------------------------------------------------------------
def test_hybrid_retrieval_fuses_passages_found_by_both_sides(corpus_assistant) -> None:
    hybrid = corpus_assistant.retrieve(CLOUD_QUESTION, mode="hybrid")
    settings = corpus_assistant.settings
    assert len(hybrid.passages) == settings.top_k
    both = [p for p in hybrid.passages if {"dense", "bm25"} <= p.ranks.keys()]
    assert both, "no passage was found by both the dense and the lexical side"
    for p in both:
        expected = settings.dense_weight / (settings.rrf_k + p.ranks["dense"]) + settings.bm25_weight / (settings.rrf_k + p.ranks["bm25"])
        assert p.score == pytest.approx(expected)
        assert p.dense is not None and p.bm25 is not None
    scores = [p.score for p in hybrid.passages]
    assert scores == sorted(scores, reverse=True)
    # The passage that states the answer is first, and it was the best on both sides.
    assert "34%" in hybrid.passages[0].text
    assert hybrid.passages[0].ranks == {"dense": 1, "bm25": 1}


def test_hybrid_keeps_the_best_passage_of_each_side(corpus_assistant) -> None:
    hybrid = {p.id for p in corpus_assistant.retrieve(CLOUD_QUESTION, mode="hybrid").passages}
    assert corpus_assistant.retrieve(CLOUD_QUESTION, mode="dense").passages[0].id in hybrid
    assert corpus_assistant.retrieve(CLOUD_QUESTION, mode="bm25").passages[0].id in hybrid


def test_dense_only_retrieval_uses_only_embeddings(corpus_assistant) -> None:
    result = corpus_assistant.retrieve(CLOUD_QUESTION, mode="dense")
    assert result.passages
    assert all(p.ranks.keys() == {"dense"} and p.bm25 is None and p.dense is not None for p in result.passages)
    assert [p.ranks["dense"] for p in result.passages] == list(range(1, len(result.passages) + 1))
    assert result.best_dense == pytest.approx(max(p.dense for p in result.passages))
    assert any("34%" in p.text for p in result.passages[:3])


def test_bm25_only_retrieval_uses_only_words(corpus_assistant) -> None:
    result = corpus_assistant.retrieve(CLOUD_QUESTION, mode="bm25")
    assert result.passages
    assert all(p.ranks.keys() == {"bm25"} and p.dense is None and p.bm25 > 0 for p in result.passages)
    bm25 = [p.bm25 for p in result.passages]
    assert bm25 == sorted(bm25, reverse=True)
    assert "34%" in result.passages[0].text
    # No similarity to threshold on: refusal is left to the answerer.
    assert result.best_dense == 1.0


def test_k_limits_how_many_passages_come_back(corpus_assistant) -> None:
    assert len(corpus_assistant.retrieve(CLOUD_QUESTION, k=2).passages) == 2


def test_a_question_in_another_language_than_its_passages_gets_more_of_them(article_assistant) -> None:
    # Over the Chinese article alone, an English question ranks the passage that answers it just below the top k.
    settings = article_assistant.settings
    english = article_assistant.retrieve("What was Tencent's 2025 share price gain?")
    assert len(english.passages) == settings.top_k + settings.cross_language_extra_k
    assert any("46%" in p.text for p in english.passages)
    assert len(article_assistant.retrieve("腾讯2025年股价涨了多少?").passages) == settings.top_k


def test_a_query_of_only_stopwords_finds_nothing_lexically_without_crashing(corpus_assistant) -> None:
    assert corpus_assistant.retrieve("的 了 吗", mode="bm25").passages == []


# --- Filters.parse ---------------------------------------------------------------------------------------------------
def test_filters_parse_reads_key_value_pairs_as_the_cli_gives_them() -> None:
    filters = Filters.parse(["company=小米", "date-from=2025-01-01", " type = dataset "])
    assert filters == Filters(company="小米", date_from="2025-01-01", type="dataset")
    assert filters.active() == {"company": "小米", "date_from": "2025-01-01", "type": "dataset"}
    assert Filters.parse(None) == Filters() and Filters.parse([]).active() == {}


@pytest.mark.parametrize("item", ["colour=red", "companies=小米", "company"])
def test_a_bad_filter_is_a_value_error_naming_it_and_the_allowed_keys(item: str) -> None:
    with pytest.raises(ValueError) as err:
        Filters.parse([item])
    message = str(err.value)
    assert repr(item) in message
    assert all(key in message for key in FILTER_KEYS)


def test_the_chroma_where_clause_resolves_company_aliases_and_combines_clauses(corpus_assistant) -> None:
    lexicon = corpus_assistant.lexicon
    assert Filters().where(lexicon) is None and Filters().keep(lexicon) is None
    where = Filters(company="Xiaomi", type="dataset").where(lexicon)
    assert where == {
        "$and": [
            {"$or": [{"companies": {"$contains": "小米"}}, {"companies": {"$contains": "Xiaomi"}}]},
            {"type": "dataset"},
        ]
    }
    assert Filters(company="小米").where(lexicon) == {"companies": {"$contains": "小米"}}
    # A date range never matches undated chunks (stored as 0); a month-only bound means the month's end.
    assert Filters(date_to="2025-06").where(lexicon) == {"$and": [{"date_int": {"$lte": 20250631}}, {"date_int": {"$gt": 0}}]}


# --- filtered retrieval on the shipped corpus ------------------------------------------------------------------------
@pytest.mark.parametrize("mode", MODES)
def test_a_company_filter_returns_only_chunks_tagged_with_that_company(corpus_assistant, mode: str) -> None:
    unfiltered = corpus_assistant.retrieve("阿里云收入增长", mode=mode).passages
    assert any("小米" not in (p.meta.get("companies") or []) for p in unfiltered), "the test needs a query that finds other companies"
    for company in ("小米", "Xiaomi"):
        passages = corpus_assistant.retrieve("阿里云收入增长", Filters.parse([f"company={company}"]), mode=mode).passages
        assert passages
        assert all("小米" in p.meta.get("companies", []) for p in passages), [p.meta.get("companies") for p in passages]


@pytest.mark.parametrize("mode", MODES)
def test_a_type_filter_returns_only_dataset_rows(corpus_assistant, mode: str) -> None:
    unfiltered = corpus_assistant.retrieve("AI估值", mode=mode).passages
    assert any(p.meta["type"] != "dataset" for p in unfiltered)
    passages = corpus_assistant.retrieve("AI估值", Filters.parse(["type=dataset"]), mode=mode).passages
    assert passages
    assert all(p.meta["type"] == "dataset" and p.text.startswith("company:") for p in passages)


@pytest.mark.parametrize("mode", MODES)
def test_a_ticker_filter_matches_whatever_its_case(corpus_assistant, mode: str) -> None:
    passages = corpus_assistant.retrieve("股价涨幅", Filters.parse(["ticker=0700.hk"]), mode=mode).passages
    assert passages and all("0700.HK" in p.meta.get("tickers", []) for p in passages)


@pytest.mark.parametrize(
    "filters",
    [Filters(company="小米"), Filters(company="Tencent", type="article"), Filters(type="dataset"), Filters(ticker="9988.HK"),
     Filters(date_from="2025-01-01"), Filters(date_to="2025-12-31"), Filters(source="corpus/articles/alibaba-ai-cloud.md")],
    ids=lambda f: ",".join(f"{k}={v}" for k, v in f.active().items()),
)
def test_the_chroma_where_clause_and_the_lexical_predicate_select_the_same_chunks(corpus_assistant, filters: Filters) -> None:
    """Dense and BM25 must agree on what a filter means, or hybrid results depend on which side found a chunk."""
    index, lexicon = corpus_assistant.index, corpus_assistant.lexicon
    ids, _, metas = index.all_chunks()
    keep = filters.keep(lexicon)
    by_predicate = {i for i, m in zip(ids, metas) if keep(m)}
    vector = corpus_assistant.embedder.embed_query("AI估值")
    by_where = {hit[0] for hit in index.search(vector, len(ids), filters.where(lexicon))}
    assert by_where == by_predicate
    assert 0 < len(by_predicate) < len(ids), "a filter that keeps all or nothing proves little"
    # BM25 asks the predicate once per distinct combination of filter fields: the same chunks must come out.
    query = "阿里巴巴 腾讯 小米 AI 收入 估值 云 2025"
    unfiltered = {i for i, _ in corpus_assistant.lexical.rank(query, len(ids))}
    filtered = {i for i, _ in corpus_assistant.lexical.rank(query, len(ids), keep)}
    assert filtered == unfiltered & by_predicate


@pytest.mark.parametrize("mode", MODES)
def test_retrieved_passages_carry_the_stored_text_and_metadata_of_their_chunk(corpus_assistant, mode: str) -> None:
    """Texts are read back after fusion, for the kept passages alone: each must still be its own chunk's."""
    passages = corpus_assistant.retrieve(CLOUD_QUESTION, mode=mode).passages
    stored = corpus_assistant.index.get([p.id for p in passages])
    assert passages and len(stored) == len(passages)
    for p in passages:
        assert (p.text, p.meta) == stored[p.id] and p.text and p.meta["source"]


# --- date ranges on a small index of dated notes ---------------------------------------------------------------------
DATED_NOTES = {
    "chip-2024.md": ("2024-03-01", "小米芯片团队2024", "小米在2024年加大自研芯片投入,芯片研发团队扩大到1000人。"),
    "chip-2025-mid.md": ("2025-06-15", "小米芯片发布2025", "小米在2025年发布自研芯片玄戒O1,芯片研发投入累计超过135亿元。"),
    "chip-2025-end.md": ("2025-12-20", "小米芯片规划2026", "小米在2025年底宣布自研芯片团队规模达到2500人,并规划下一代芯片。"),
}


@pytest.fixture(scope="module")
def dated_assistant(tmp_path_factory: pytest.TempPathFactory, embedder) -> ResearchAssistant:
    folder = tmp_path_factory.mktemp("dated-notes")
    paths = []
    for name, (date, title, body) in DATED_NOTES.items():
        path = folder / name
        path.write_text(f"---\ntitle: {title}\ndate: {date}\ncompanies: [小米]\n---\n\n# {title}\n\n{body}\n", encoding="utf-8")
        paths.append(str(path))
    assistant = ResearchAssistant(Settings(index_dir=tmp_path_factory.mktemp("dated-index")), embedder=embedder)
    report = assistant.ingest(paths, show_progress=False)
    assert not report.failed and len(report.added) == 3, report.summary()
    return assistant


def _notes(assistant: ResearchAssistant, filters: Filters, mode: str) -> set[str]:
    return {Path(p.source).name for p in assistant.retrieve("小米自研芯片团队", filters, mode=mode).passages}


@pytest.mark.parametrize("mode", MODES)
def test_a_date_range_excludes_documents_outside_it(dated_assistant: ResearchAssistant, mode: str) -> None:
    assert _notes(dated_assistant, Filters(), mode) == set(DATED_NOTES)
    assert _notes(dated_assistant, Filters(date_from="2025-01-01", date_to="2025-09-30"), mode) == {"chip-2025-mid.md"}
    assert _notes(dated_assistant, Filters(date_from="2025-01-01"), mode) == {"chip-2025-mid.md", "chip-2025-end.md"}
    assert _notes(dated_assistant, Filters(date_to="2024-12-31"), mode) == {"chip-2024.md"}


@pytest.mark.parametrize("mode", MODES)
def test_date_bounds_are_inclusive_and_may_be_partial(dated_assistant: ResearchAssistant, mode: str) -> None:
    assert _notes(dated_assistant, Filters(date_from="2025-06-15", date_to="2025-06-15"), mode) == {"chip-2025-mid.md"}
    assert _notes(dated_assistant, Filters(date_from="2025-12", date_to="2025"), mode) == {"chip-2025-end.md"}
    assert _notes(dated_assistant, Filters(date_from="2025-6-15", date_to="2025-6-15"), mode) == {"chip-2025-mid.md"}
    assert _notes(dated_assistant, Filters(date_from="2026-01-01"), mode) == set()


def test_a_date_that_is_not_a_date_is_a_clear_filter_error() -> None:
    with pytest.raises(ValueError, match="date_from"):
        Filters.parse(["date_from=last year"])
