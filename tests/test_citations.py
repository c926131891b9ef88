"""Citation markers are parsed in every form a model writes them, markers outside the retrieved set are dropped, and
every cited sentence is checked against the passage it cites."""

from __future__ import annotations

import pytest

from assistant.citations import check, drop_invalid_markers, markers_in, strip_markers
from assistant.retrieval import Passage

CLOUD = Passage(
    "c1",
    "阿里巴巴2025年第三季度业绩显示,阿里云收入增长34%,增速回升。AI相关产品收入连续第九个季度三位数增长。",
    {"source": "corpus/articles/alibaba-ai-cloud.md", "title": "阿里巴巴:AI+云", "date": "2025-12-26", "type": "article",
     "section": "阿里云增长"},
)
TENCENT = Passage(
    "t1",
    "腾讯2025年全年股价涨幅超46%。广告业务连续12个季度两位数增长。",
    {"source": "corpus/articles/tencent-hunyuan-yuanbao.md", "title": "腾讯:混元与元宝", "date": "2025-12-26", "type": "article"},
)
ROW = Passage(
    "r1",
    "company: 小米; ticker: 1810.HK; metric: 研发投入; value: 1,050; unit: 亿元; period: 2025",
    {"source": "corpus/datasets/hk_tech_ai_metrics_2025.csv", "title": "hk_tech_ai_metrics_2025", "date": "", "type": "dataset",
     "row": 7},
)
PASSAGES = [CLOUD, TENCENT, ROW]


# --- parsing markers -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("阿里云收入增长34% [1]。", [1]),
        ("两家公司都在加速 [1, 2]。", [1, 2]),
        ("见【3】", [3]),
        ("见[1,2、3]", [1, 2, 3]),
        ("见[1\uff0c2]", [1, 2]),  # a full-width comma, as Chinese models often write it
        ("见\uff3b2\uff3d", [2]),  # full-width square brackets
        ("先 [2] 后 [1]", [2, 1]),
        ("no marker here, just 34%", []),
        ("[a] and [ ] are not markers", []),
    ],
)
def test_markers_are_parsed_in_every_form_a_model_writes_them(sentence: str, expected: list[int]) -> None:
    assert markers_in(sentence) == expected


def test_stripping_markers_leaves_the_sentence_itself() -> None:
    assert strip_markers("阿里云收入增长34% [1]。腾讯涨46%【2, 3】。") == "阿里云收入增长34%。腾讯涨46%。"


def test_markers_outside_the_retrieved_set_are_dropped_and_valid_ones_kept() -> None:
    text = "A [1]. B [7]. C [2, 9]. D 【4】. E [0]. F [1\uff0c3]."
    assert drop_invalid_markers(text, 3) == "A [1]. B. C [2]. D. E. F [1, 3]."


def test_an_answer_whose_markers_are_all_valid_keeps_them() -> None:
    text = "阿里云收入增长34% [1]。腾讯股价涨幅超46% [2]。"
    assert drop_invalid_markers(text, 2) == text


# --- checking support ------------------------------------------------------------------------------------------------
def test_a_sentence_whose_figure_is_in_its_cited_passage_is_supported() -> None:
    citations, uncited = check("阿里云2025年第三季度收入增长34% [1]。", PASSAGES)
    assert uncited == []
    [citation] = citations
    assert citation.supported and citation.reason == ""
    assert (citation.marker, citation.source, citation.title, citation.date) == (1, CLOUD.source, "阿里巴巴:AI+云", "2025-12-26")
    assert citation.sentence == "阿里云2025年第三季度收入增长34%。"
    assert "34%" in citation.quote  # the passage sentence that supports it, for the reader to verify


def test_a_sentence_whose_number_is_not_in_its_cited_passage_is_flagged_with_the_number() -> None:
    citations, _ = check("阿里云收入增长43% [1]。", PASSAGES)
    [citation] = citations
    assert citation.supported is False
    assert "43" in citation.reason and "not in the cited passage" in citation.reason


def test_a_figure_from_another_passage_does_not_count_as_support() -> None:
    """46% is in passage 2, but the sentence cites passage 1."""
    [citation] = check("腾讯股价涨幅超46% [1]。", PASSAGES)[0]
    assert not citation.supported and "46" in citation.reason


def test_a_sentence_citing_two_passages_is_supported_by_their_figures_together() -> None:
    citations, _ = check("阿里云增长34%,腾讯股价涨幅超46% [1, 2]。", PASSAGES)
    assert [c.marker for c in citations] == [1, 2]
    assert all(c.supported for c in citations)


def test_only_the_missing_numbers_are_named() -> None:
    [citation] = check("阿里云增长34%,利润增长27% [1]。", PASSAGES)[0]
    assert not citation.supported
    assert citation.reason == "not in the cited passage: 27"


def test_thousands_separators_and_full_width_digits_match_the_passage() -> None:
    citations, _ = check("小米研发投入1050亿元 [3]。小米研发投入\uff11\uff0c\uff10\uff15\uff10亿元 [3]。", PASSAGES)
    assert len(citations) == 2 and all(c.supported for c in citations)
    assert citations[0].row == 7 and citations[0].source == ROW.source


def test_list_numbering_is_not_taken_for_a_claim() -> None:
    citations, uncited = check("1. 阿里云收入增长34% [1]\n2) 腾讯股价涨幅超46% [2]\n(3) 广告业务持续增长 [2]", PASSAGES)
    assert [c.supported for c in citations] == [True, True, True]
    assert uncited == []


def test_a_figure_without_any_citation_is_listed_as_uncited() -> None:
    text = "阿里云收入增长34% [1]。腾讯股价涨幅超46%。两家公司都重视AI。"
    citations, uncited = check(text, PASSAGES)
    assert [c.marker for c in citations] == [1]
    assert uncited == [{"sentence": "腾讯股价涨幅超46%。", "reason": "states a figure without a citation"}]


def test_a_marker_beyond_the_passages_gives_no_citation() -> None:
    citations, uncited = check("阿里云收入增长34% [9]。", PASSAGES)
    assert citations == []
    assert [u["sentence"] for u in uncited] == ["阿里云收入增长34% [9]。"]


# --- in the answer chain ---------------------------------------------------------------------------------------------
def test_the_offline_answer_cites_passages_that_support_it(corpus_assistant) -> None:
    answer = corpus_assistant.ask("阿里云2025年第三季度收入增长多少?")
    assert not answer.refused
    assert "34%" in answer.text
    assert answer.citations and not answer.failed_citations and answer.uncited == []
    markers = markers_in(answer.text)
    assert markers and all(1 <= m <= len(answer.sources) for m in markers)
    for citation in answer.citations:
        source = answer.sources[citation.marker - 1]
        assert citation.source == source["source"]
        assert citation.quote and citation.quote.strip() in source["text"]


def test_an_english_restatement_of_a_chinese_scaled_figure_is_supported_by_the_chinese_passage() -> None:
    meta = {"source": "note.md", "title": "t", "date": "", "type": "article"}
    users = Passage("u1", "蓝鲸科技全球月活用户达3.65亿,开发者规模135万。", meta)
    citations, _ = check("3.65亿 (365 million) [1]\nIt also counts 1.35 million developers [1].", [users])
    assert [c.supported for c in citations] == [True, True]
    citations, _ = check("It counts 745 million users [1].", [users])
    assert [c.supported for c in citations] == [False], "a figure the passage does not give is still unsupported"
    forecast = Passage("f1", "预计归属于上市公司股东的净利润为8,000万元至9,500万元。", meta)
    citations, _ = check("8,000万元至9,500万元 (80 million to 95 million) [1]", [forecast])
    assert [c.supported for c in citations] == [True]


def test_a_marker_after_a_quotes_ellipsis_cites_the_sentence_before_it() -> None:
    meta = {"source": "note.md", "title": "t", "date": "", "type": "article"}
    passage = Passage("u1", "Bluewhale's multiple above 40x means investors pay forty times last year's earnings, a sign of hope.", meta)
    answer = "40x [1]\nBluewhale's multiple above 40x means investors pay forty times last year's earnings… [1]."
    citations, uncited = check(answer, [passage])
    assert uncited == [] and [c.supported for c in citations] == [True, True]


def test_clauses_a_semicolon_joins_share_the_marker_that_ends_their_line() -> None:
    meta = {"source": "note.md", "title": "t", "date": "", "type": "article"}
    passage = Passage("u2", "| 2 | Bluewhale | Shares up 41%; ads grew for 9 quarters; AI share of revenue 16% |", meta)
    answer = "16% [1]\n…Shares up 41%; ads grew for 9 quarters; AI share of revenue 16%… [1]."
    citations, uncited = check(answer, [passage])
    assert uncited == [] and all(c.supported for c in citations)
    wrong = "16% [1]\n…Shares up 45%; AI share of revenue 16%… [1]."
    citations, uncited = check(wrong, [passage])
    assert uncited == [] and not all(c.supported for c in citations), "the joined clause's figure is still checked"
    separate = "Shares rose 41% [1]; revenue reached 9 billion."
    assert [u["sentence"] for u in check(separate, [passage])[1]] == ["revenue reached 9 billion."]
    across_lines = "Shares up 41%;\nAI share of revenue 16% [1]."
    assert [u["sentence"] for u in check(across_lines, [passage])[1]] == ["Shares up 41%;"]
