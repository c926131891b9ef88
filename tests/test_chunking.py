"""Chunks are whole sentences within the token limit, keep their heading path, and have stable ids and full metadata."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from langchain_core.documents import Document

from assistant.chunking import chunk_documents, pack, sections
from assistant.loaders import load_bytes
from assistant.offline import count_tokens
from assistant.rows import row_text
from assistant.text import split_sentences
from tests.conftest import SHARED_ARTICLE

ARTICLE = SHARED_ARTICLE
ENDS = ("。", "！", "？", "；", "!", "?", ";")
HAN = "小米腾讯阿里巴巴云估值模型芯片市场资金科技增长收入利润用户生态汽车手机家居数据算力训练推理开源"


def runs(chunks: list[str], sentences: list[str]) -> list[tuple[int, int]]:
    """For each chunk, the (start, end) run of whole sentences it is made of; fails if a chunk is anything else."""
    found = []
    for chunk in chunks:
        match = [
            (i, j)
            for i in range(len(sentences))
            for j in range(i + 1, len(sentences) + 1)
            if "".join(sentences[i:j]).strip() == chunk
        ]
        assert match, f"chunk is not a run of whole sentences: {chunk!r}"
        found.append(match[0])
    return found


def chinese_sentences(count: int, seed: int = 0, ends: tuple[str, ...] = ENDS, length: tuple[int, int] = (6, 30)) -> list[str]:
    import random

    rng = random.Random(seed)
    out = []
    for n in range(count):
        body = "".join(rng.choice(HAN) for _ in range(rng.randint(*length)))
        out.append(f"{body},第{n}句{rng.choice(ends)}")
    return out


def test_chinese_text_is_cut_only_at_sentence_ends() -> None:
    sentences = chinese_sentences(80)
    text = "".join(sentences)

    chunks = pack(text, 120, 0)

    assert len(chunks) > 5
    spans = runs(chunks, sentences)
    assert spans[0][0] == 0 and spans[-1][1] == len(sentences)
    assert all(prev[1] == nxt[0] for prev, nxt in zip(spans, spans[1:])), "with no overlap the runs must tile the text"
    for chunk in chunks:
        assert chunk.endswith(ENDS), chunk
        assert count_tokens(chunk) <= 120


@pytest.mark.parametrize(
    "mark",
    ["！", "？", "；", "。", "!", "?", ";"],
    ids=["fullwidth-exclamation", "fullwidth-question", "fullwidth-semicolon", "ideographic-full-stop", "exclamation",
         "question", "semicolon"],
)
def test_each_sentence_end_mark_is_a_place_to_cut(mark: str) -> None:
    sentences = chinese_sentences(40, seed=3, ends=(mark,))

    chunks = pack("".join(sentences), 80, 0)

    runs(chunks, sentences)
    assert all(chunk.endswith(mark) for chunk in chunks)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sentences=st.lists(
        st.tuples(st.text(alphabet=HAN + ",、", min_size=1, max_size=25), st.sampled_from(ENDS)).map("".join),
        min_size=1,
        max_size=40,
        unique=True,
    ),
    size=st.integers(min_value=90, max_value=300),
    overlap=st.integers(min_value=0, max_value=60),
)
def test_any_chinese_text_packs_into_whole_sentences_within_the_limit(sentences: list[str], size: int, overlap: int) -> None:
    chunks = pack("".join(sentences), size, overlap)

    spans = runs(chunks, sentences)
    assert spans[0][0] == 0 and spans[-1][1] == len(sentences), "text was lost at the start or the end"
    for (start, end), (next_start, next_end) in zip(spans, spans[1:]):
        assert start < next_start <= end < next_end, "chunks must move forward and never skip a sentence"
    for chunk in chunks:
        assert count_tokens(chunk) <= size


def test_overlap_repeats_whole_trailing_sentences_within_the_overlap_budget() -> None:
    sentences = chinese_sentences(60, seed=1, length=(3, 8))  # short enough that some always fit the overlap
    size, overlap = 150, 40

    chunks = pack("".join(sentences), size, overlap)

    spans = runs(chunks, sentences)
    assert len(spans) > 3
    for (start, end), (next_start, _) in zip(spans, spans[1:]):
        repeated = sentences[next_start:end]
        assert repeated, "consecutive chunks should share at least one whole sentence"
        assert sum(count_tokens(s) for s in repeated) <= overlap
        # It is the longest tail that fits: one more sentence would break the overlap budget or the chunk size.
        if next_start - 1 > start:
            longer = sum(count_tokens(s) for s in sentences[next_start - 1 : end])
            assert longer > overlap or longer + count_tokens(sentences[end]) > size


def test_no_overlap_means_no_sentence_is_repeated() -> None:
    sentences = chinese_sentences(50, seed=2)

    chunks = pack("".join(sentences), 100, 0)

    assert "".join(chunks) == "".join(sentences).strip()


@pytest.mark.parametrize(
    "sentence",
    [
        pytest.param("，".join(f"小米在第{i}个季度继续加大对人工智能和芯片的投入" for i in range(40)) + "。", id="full-width-commas"),
        pytest.param(",".join(f"腾讯第{i}个业务板块受益于混元大模型" for i in range(40)) + "。", id="half-width-commas"),
        pytest.param("阿里云" * 400 + "。", id="no-commas"),
        pytest.param("中文字符测试内容" * 60 + "a" * 3000 + "。", id="chinese-then-latin"),
        pytest.param("a" * 3000 + "中文字符测试内容" * 60 + "。", id="latin-then-chinese"),
    ],
)
def test_over_long_sentence_is_split_into_pieces_within_the_token_limit(sentence: str) -> None:
    assert count_tokens(sentence) > 100

    chunks = pack(sentence, 100, 0)

    assert len(chunks) > 1
    assert "".join(chunks) == sentence, "splitting must not lose or repeat text"
    for chunk in chunks:
        assert count_tokens(chunk) <= 100, f"{count_tokens(chunk)} tokens: {chunk[:40]}..."


def test_over_long_sentence_is_cut_at_commas_when_its_clauses_fit() -> None:
    sentence = "，".join(f"小米在第{i}个季度继续加大对人工智能和芯片的投入" for i in range(40)) + "。"

    chunks = pack(sentence, 100, 0)

    assert all(chunk.endswith("，") for chunk in chunks[:-1]), chunks
    assert chunks[-1].endswith("。")


def test_markdown_heading_path_is_kept_as_section() -> None:
    text = "导言没有标题。\n# A\n甲的正文。\n## B\n乙的正文。\n### C\n丙的正文。\n## D\n丁的正文。\n# E\n戊的正文。\n"

    assert sections(text) == [
        ("", "导言没有标题。"),
        ("A", "甲的正文。"),
        ("A > B", "乙的正文。"),
        ("A > B > C", "丙的正文。"),
        ("A > D", "丁的正文。"),
        ("E", "戊的正文。"),
    ]
    [doc] = load_bytes(text.encode("utf-8"), "notes.md", "markdown", 10**6)
    chunks = chunk_documents([doc], 320, 48)
    assert [(c.metadata["section"], c.page_content) for c in chunks] == sections(text)


def _chunks_of_article(size: int = 320, overlap: int = 48):
    raw = ARTICLE.read_bytes()
    docs = load_bytes(raw, "hk-tech-ai-valuation-2025.txt", "text", 20_000_000)
    for doc in docs:
        doc.metadata["doc_hash"] = hashlib.sha256(raw).hexdigest()
    return chunk_documents(docs, size, overlap)


def test_chunks_carry_source_title_date_section_language_hash_and_id() -> None:
    text = "---\ntitle: 腾讯的AI\ndate: 2025-12-26\n---\n# 腾讯\n## 混元\n混元大模型持续迭代。元宝用户增长迅速。\n"
    raw = text.encode("utf-8")
    [doc] = load_bytes(raw, "corpus/tencent.md", "markdown", 10**6)
    doc.metadata["doc_hash"] = hashlib.sha256(raw).hexdigest()

    [chunk] = chunk_documents([doc], 320, 48)

    meta = chunk.metadata
    assert meta["source"] == "corpus/tencent.md"
    assert meta["title"] == "腾讯的AI"
    assert meta["date"] == "2025-12-26"
    assert meta["section"] == "腾讯 > 混元"
    assert meta["language"] == "zh"
    assert meta["content_hash"] == hashlib.sha256(chunk.page_content.encode("utf-8")).hexdigest()
    assert meta["chunk_id"].endswith("-00000") and doc.metadata["doc_hash"][:12] in meta["chunk_id"]
    assert "format" not in meta


def test_language_follows_the_text_of_each_chunk() -> None:
    [zh] = load_bytes("小米的估值仍然滞后。".encode(), "zh.txt", "text", 10**6)
    [en] = load_bytes(b"Xiaomi's valuation still lags its AI progress.", "en.txt", "text", 10**6)

    chunks = chunk_documents([zh], 320, 48) + chunk_documents([en], 320, 48)

    assert [c.metadata["language"] for c in chunks] == ["zh", "en"]


def test_chunk_ids_are_stable_across_runs_and_unique() -> None:
    first = _chunks_of_article()
    again = _chunks_of_article()
    script = (
        "import json, sys; sys.path.insert(0, '.');"
        "from tests.test_chunking import _chunks_of_article;"
        "print(json.dumps([c.metadata['chunk_id'] for c in _chunks_of_article()]))"
    )
    other_process = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=Path(__file__).parent.parent,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )

    ids = [c.metadata["chunk_id"] for c in first]
    assert len(set(ids)) == len(ids) > 5
    assert ids == [c.metadata["chunk_id"] for c in again]
    assert ids == json.loads(other_process.stdout)
    assert [c.metadata["content_hash"] for c in first] == [c.metadata["content_hash"] for c in again]


def test_changed_document_gets_new_chunk_ids() -> None:
    def ids(text: str) -> list[str]:
        raw = text.encode("utf-8")
        [doc] = load_bytes(raw, "same-name.txt", "text", 10**6)
        doc.metadata["doc_hash"] = hashlib.sha256(raw).hexdigest()
        return [c.metadata["chunk_id"] for c in chunk_documents([doc], 320, 48)]

    before, after = ids("小米发布玄戒O1。"), ids("小米发布玄戒O1芯片。")

    assert before != after and before[0].split("-")[0] == after[0].split("-")[0], "same source, new document hash"


def test_shared_article_chunks_fit_the_limit_and_end_at_sentence_or_line_ends() -> None:
    text = ARTICLE.read_text(encoding="utf-8")
    lines = {line.strip() for line in text.splitlines()}

    chunks = _chunks_of_article()

    assert len(chunks) > 10
    for chunk in chunks:
        content = chunk.page_content
        assert count_tokens(content) <= 320
        last_line = content.splitlines()[-1].strip()
        assert content.endswith(ENDS) or last_line in lines, f"chunk ends mid-sentence: ...{content[-40:]!r}"
        assert chunk.metadata["language"] == "zh"
    joined = "".join(c.page_content for c in chunks)
    for sentence in split_sentences(text):
        assert sentence.strip() in joined, f"sentence lost: {sentence!r}"


def test_dataset_rows_are_never_split_even_when_longer_than_the_limit() -> None:
    header = "company,ticker,metric,value,unit,period,source\n"
    long_source = "中金在线财经号《2025港科股的冰与火之歌》" * 30
    rows = f"小米,1810.HK,IoT连接设备数,10.4,亿台,2025Q3,{long_source}\n腾讯,0700.HK,股价涨幅,50,%,2025,中金在线\n"
    docs = load_bytes((header + rows).encode("utf-8"), "metrics.csv", "csv", 10**6)

    chunks = chunk_documents(docs, 20, 5)

    assert [c.page_content for c in chunks] == [d.page_content.strip() for d in docs]
    assert count_tokens(chunks[0].page_content) > 20
    assert [c.metadata["row"] for c in chunks] == [2, 3]
    assert all(c.metadata["type"] == "dataset" for c in chunks)


def _table_doc(rows: list[str], title: str = "综合损益表 Consolidated Income Statement (人民币百万元)") -> Document:
    meta = {"source": "report.pdf", "title": "report", "type": "document", "page": 7, "format": "table",
            "table": title, "unit": "人民币百万元"}
    return Document(page_content="\n".join([title, *rows]), metadata=meta)


def test_table_is_cut_only_between_rows_and_every_piece_repeats_the_title() -> None:
    rows = [row_text([("item", f"项目{n} Line item {n}"), ("2024年", f"{n},{n:03d}"), ("2023年", f"({n},{n + 1:03d})")])
            for n in range(1, 41)]
    doc = _table_doc(rows)

    chunks = chunk_documents([doc], 120, 20)

    assert len(chunks) > 2
    seen: list[str] = []
    for chunk in chunks:
        title, *lines = chunk.page_content.splitlines()
        assert title == doc.metadata["table"]
        assert lines and all(line in rows for line in lines), "a piece holds whole rows only"
        assert count_tokens(chunk.page_content) <= 120
        assert chunk.metadata["page"] == 7 and chunk.metadata["unit"] == "人民币百万元"
        seen += lines
    assert seen == rows, "every row once, in order, no overlap"


def test_table_that_fits_the_limit_stays_one_chunk() -> None:
    rows = [row_text([("item", "Revenue"), ("2018", "41,280"), ("2017", "39,954")]),
            row_text([("item", "Net income"), ("2018", "4,716"), ("2017", "4,102")])]

    [chunk] = chunk_documents([_table_doc(rows, "Statement of Income (In millions)")], 320, 48)

    assert chunk.page_content == "\n".join(["Statement of Income (In millions)", *rows])


def test_table_row_longer_than_the_limit_stays_whole_in_its_own_chunk() -> None:
    long_row = row_text([("item", "Property, plant and equipment " * 20), ("2018", "7,905"), ("2017", "7,812")])
    short = row_text([("item", "Goodwill"), ("2018", "10,051"), ("2017", "10,513")])

    chunks = chunk_documents([_table_doc([short, long_row, short], "Balance Sheet")], 60, 10)

    assert [c.page_content.splitlines()[1:] for c in chunks] == [[short], [long_row], [short]]
