"""Ingest writes only what changed, replaces changed documents whole, removes cleanly and walks folders."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from assistant.ingest import shipped_corpus, source_name
from tests.conftest import SHARED_ARTICLE, chunks_of

ARTICLE = SHARED_ARTICLE

SECTIONS = {
    "市场回顾": "恒生科技指数年中一度涨超50%。南下资金全年净买入超过1.3万亿元。资金持续流入科技方向。",
    "阿里巴巴": "阿里全年股价上涨超过80%。通义千问开源生态持续扩大。阿里云收入增速回升。",
    "腾讯": "腾讯的混元大模型持续迭代。元宝的用户数快速增长。广告业务受益于AI推荐。",
    "小米": "小米的估值仍然滞后于基本面。玄戒O1芯片已经量产。人车家生态形成闭环。",
}


def article(sections: dict[str, str]) -> str:
    body = "\n\n".join(f"## {name}\n\n{text}" for name, text in sections.items())
    return f"---\ntitle: 港股科技AI估值笔记\ndate: 2025-12-26\n---\n\n{body}\n"


def test_reingesting_the_unchanged_corpus_reports_every_file_unchanged_and_writes_nothing(corpus_assistant) -> None:
    index = corpus_assistant.index
    before = {r.source: r for r in corpus_assistant.sources()}
    count, generation = index.count(), index.generation

    report = corpus_assistant.ingest(shipped_corpus(corpus_assistant.settings), show_progress=False)

    assert sorted(report.unchanged) == sorted(before)
    assert report.added == [] and report.updated == [] and report.failed == []
    assert report.chunks == 0 and report.embedded == 0
    assert index.count() == count
    assert index.generation == generation, "nothing should have been written"
    assert {r.source: r for r in corpus_assistant.sources()} == before, "manifest entries (added_at included) must not change"
    assert "added 0, updated 0, unchanged" in report.summary() and "0 embedded" in report.summary()


def test_shipped_corpus_is_fully_indexed(corpus_assistant) -> None:
    records = corpus_assistant.sources()
    sources = {r.source for r in records}

    articles = {f"corpus/articles/{p.name}" for p in (corpus_assistant.settings.corpus_dir / "articles").glob("*.md")}
    assert articles <= sources
    assert "corpus/datasets/hk_tech_ai_metrics_2025.csv" in sources
    assert corpus_assistant.index.count() == sum(r.chunks for r in records)
    dataset = next(r for r in records if r.source.endswith(".csv"))
    assert dataset.type == "dataset" and dataset.chunks >= 30


def test_changing_a_file_replaces_its_chunks_and_no_stale_chunk_survives(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "notes.md"
    path.write_text(article(SECTIONS), encoding="utf-8")
    other = tmp_path / "other.txt"
    other.write_text("百度的文心大模型继续迭代。", encoding="utf-8")
    assistant = assistant_factory()
    assistant.ingest([str(path), str(other)], show_progress=False)
    source = source_name(path)
    old_ids = {m["chunk_id"] for _, m in chunks_of(assistant, source)}

    changed = dict(SECTIONS, 小米="小米的估值已经开始修复。玄戒O1芯片已经量产。人车家生态形成闭环。")
    path.write_text(article(changed), encoding="utf-8")
    report = assistant.ingest([str(path), str(other)], show_progress=False)

    assert report.updated == [source] and report.unchanged == [source_name(other)] and not report.added
    _, texts, metas = assistant.index.all_chunks()
    assert not any("估值仍然滞后于基本面" in t for t in texts), "a chunk of the old version survived"
    assert any("估值已经开始修复" in t for t in texts)
    new_hash = hashlib.sha256(path.read_bytes()).hexdigest()
    mine = [m for m in metas if m["source"] == source]
    assert {m["doc_hash"] for m in mine} == {new_hash}
    assert not old_ids & {m["chunk_id"] for m in mine}
    record = assistant.index.document(source)
    assert record.doc_hash == new_hash and record.chunks == len(mine)
    assert chunks_of(assistant, source_name(other)), "the unchanged file keeps its chunks"


def test_only_changed_text_is_reembedded(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "notes.md"
    path.write_text(article(SECTIONS), encoding="utf-8")
    assistant = assistant_factory()
    first = assistant.ingest([str(path)], show_progress=False)
    source = source_name(path)
    old_vectors = assistant.index.embeddings_by_hash(source)
    assert first.embedded == first.chunks == len(SECTIONS)

    path.write_text(article(dict(SECTIONS, 腾讯="腾讯的混元大模型持续迭代。元宝的日活用户突破新高。")), encoding="utf-8")
    report = assistant.ingest([str(path)], show_progress=False)

    new_vectors = assistant.index.embeddings_by_hash(source)
    fresh = set(new_vectors) - set(old_vectors)
    assert report.chunks == len(SECTIONS)
    assert report.embedded == len(fresh) == 1
    for content_hash in set(new_vectors) & set(old_vectors):
        # The stored vector, not a new one (Chroma may hand a stored float back one ulp off).
        np.testing.assert_allclose(new_vectors[content_hash], old_vectors[content_hash], rtol=0, atol=1e-6)


def test_a_passage_shared_by_several_documents_is_embedded_once_in_a_batch_and_never_again(tmp_path: Path, assistant_factory) -> None:
    shared = "港股科技板块全年上涨超过三成,南下资金净买入创出新高。"
    for name, own in (("a.txt", "第一篇的独有段落讲的是芯片。"), ("b.txt", "第二篇的独有段落讲的是云计算。")):
        (tmp_path / "first" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "first" / name).write_text(f"{shared}\n\n{own}", encoding="utf-8")
    assistant = assistant_factory(chunk_tokens=40, chunk_overlap=0)

    first = assistant.ingest([str(tmp_path / "first")], show_progress=False)

    texts = [t for t, _ in chunks_of(assistant, source_name(tmp_path / "first" / "a.txt"))]
    assert texts[0].startswith(shared) and len(texts) == 2, "the shared passage must be a chunk of its own"
    assert first.chunks == 4 and first.embedded == 3

    later = tmp_path / "later.txt"
    later.write_text(f"{shared}\n\n第三篇的独有段落讲的是广告。", encoding="utf-8")
    report = assistant.ingest([str(later)], show_progress=False)
    assert report.chunks == 2 and report.embedded == 1, "the passage already in the index is not embedded again"
    hits = assistant.retrieve(shared, mode="dense", k=3).passages
    assert {h.text for h in hits if h.text.startswith(shared)} == {texts[0]} and sum(h.text == texts[0] for h in hits) == 3


def test_removing_a_source_deletes_all_its_chunks_and_its_entry(tmp_path: Path, assistant_factory) -> None:
    keep, drop = tmp_path / "keep.md", tmp_path / "drop.md"
    keep.write_text(article(SECTIONS), encoding="utf-8")
    drop.write_text(article({k: v.replace("。", "!") for k, v in SECTIONS.items()}), encoding="utf-8")
    assistant = assistant_factory()
    assistant.ingest([str(keep), str(drop)], show_progress=False)
    expected = assistant.index.document(source_name(drop)).chunks

    removed = assistant.remove(source_name(drop))

    assert removed == expected == len(SECTIONS)
    assert [r.source for r in assistant.sources()] == [source_name(keep)]
    _, _, metas = assistant.index.all_chunks()
    assert {m["source"] for m in metas} == {source_name(keep)}
    assert assistant.index.document(source_name(drop)) is None
    try:
        assistant.remove(source_name(drop))
    except KeyError as exc:
        assert "is not indexed" in exc.args[0] and "assistant sources" in exc.args[0]
    else:
        raise AssertionError("removing a source twice should say it is not indexed")


def test_removed_file_can_be_ingested_again(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "notes.md"
    path.write_text(article(SECTIONS), encoding="utf-8")
    assistant = assistant_factory()
    assistant.ingest([str(path)], show_progress=False)
    assistant.remove(source_name(path))

    report = assistant.ingest([str(path)], show_progress=False)

    assert report.added == [source_name(path)] and not report.failed, "its hash must not linger as a duplicate"


def test_folder_is_ingested_recursively_and_hidden_files_are_skipped(tmp_path: Path, assistant_factory) -> None:
    root = tmp_path / "library"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / "top.md").write_text("# 顶层\n小米的估值仍然滞后。", encoding="utf-8")
    (root / "sub" / "middle.txt").write_text("腾讯的混元大模型持续迭代。", encoding="utf-8")
    (root / "sub" / "deeper" / "rows.csv").write_text("company,metric,value\n阿里巴巴,股价涨幅,80\n", encoding="utf-8")
    (root / ".hidden.md").write_text("隐藏文件不应被索引。", encoding="utf-8")
    (root / ".git" / "notes.md").write_text("版本库内部文件不应被索引。", encoding="utf-8")
    (root / "sub" / ".draft.txt").write_text("草稿不应被索引。", encoding="utf-8")
    (root / "sub" / "tool.log").write_text("unsupported type in a folder", encoding="utf-8")
    assistant = assistant_factory()

    report = assistant.ingest([str(root)], show_progress=False)

    expected = sorted(source_name(p) for p in (root / "top.md", root / "sub" / "middle.txt", root / "sub" / "deeper" / "rows.csv"))
    assert sorted(report.added) == expected and not report.failed
    assert [r.source for r in assistant.sources()] == expected
    assert report.skipped == [str(root / "sub" / "tool.log")]
    _, texts, _ = assistant.index.all_chunks()
    assert not any("不应被索引" in t for t in texts)


def test_same_content_under_two_names_in_one_batch_is_indexed_once(tmp_path: Path, assistant_factory) -> None:
    first, second = tmp_path / "a.md", tmp_path / "b.md"
    first.write_text(article(SECTIONS), encoding="utf-8")
    second.write_bytes(first.read_bytes())
    assistant = assistant_factory()

    report = assistant.ingest([str(first), str(second)], show_progress=False)

    assert report.added == [source_name(first)]
    [(source, reason)] = report.failed
    assert source == source_name(second) and "duplicate" in reason and source_name(first) in reason
    assert [r.source for r in assistant.sources()] == [source_name(first)]


def test_same_file_given_twice_in_one_run_is_indexed_once(tmp_path: Path, assistant_factory) -> None:
    path = tmp_path / "notes.md"
    path.write_text(article(SECTIONS), encoding="utf-8")
    assistant = assistant_factory()

    report = assistant.ingest([str(path), str(tmp_path)], show_progress=False)

    assert report.added == [source_name(path)] and not report.failed
    assert assistant.index.count() == len(SECTIONS)


def test_shared_article_gets_its_headline_as_title_and_then_reports_unchanged(assistant_factory) -> None:
    assistant = assistant_factory()

    first = assistant.ingest([str(ARTICLE)], show_progress=False)
    again = assistant.ingest([str(ARTICLE)], show_progress=False)

    source = source_name(ARTICLE)
    assert first.added == [source] and not first.failed
    [record] = assistant.sources()
    assert "冰与火之歌" in record.title and len(record.title) <= 120
    assert record.type == "document" and record.chunks == first.chunks > 10
    stored = chunks_of(assistant, source)
    assert all(meta["title"] == record.title and meta["language"] == "zh" for _, meta in stored)
    assert again.unchanged == [source] and again.chunks == 0 and again.embedded == 0


def test_upload_is_stored_under_the_name_it_was_given(tmp_path: Path, assistant_factory) -> None:
    upload = tmp_path / "tmp8x2k_upload.md"
    upload.write_text(article(SECTIONS), encoding="utf-8")
    assistant = assistant_factory()

    report = assistant.ingest([str(upload)], show_progress=False, names={str(upload): "港股笔记.md"})

    assert report.added == ["港股笔记.md"]
    assert {m["source"] for _, m in chunks_of(assistant, "港股笔记.md")} == {"港股笔记.md"}


def test_the_progress_postfix_gives_chunks_per_second_and_an_eta_in_chunks_estimated_from_the_files_left() -> None:
    from assistant.ingest import chunk_rate

    # 120 chunks in 10 s from 3 of 6 files: 40 chunks a file, so about 120 more, 10 s at 12 chunks/s.
    assert chunk_rate(120, 10.0, 3, 6) == "120 chunks, 12.0 chunks/s, ~120 chunks left, eta 0:10"
    assert chunk_rate(0, 0.0, 0, 6) == "0 chunks"


def test_the_progress_bar_counts_chunks_while_one_long_file_is_embedded(tmp_path: Path, assistant_factory, capsys) -> None:
    path = tmp_path / "long.md"
    sections = {f"第{i}节": f"第{i}节的内容讲述蓝鲸科技在第{i}个市场的布局与营收表现。" * 3 for i in range(12)}
    path.write_text(article(sections), encoding="utf-8")
    assistant = assistant_factory(embedding_batch_size=4)
    report = assistant.ingest([str(path)], show_progress=True)
    assert report.embedded >= 8
    shown = capsys.readouterr().err
    # Several steps of embedding within the single file, not only "1/1 file" at the end.
    steps = {line for line in shown.replace("\r", "\n").splitlines() if "embedding" in line and "chunks" in line}
    assert len(steps) >= 2, shown[-500:]
    assert f"embedding {report.embedded}/{report.embedded} chunks" in shown


def test_a_statement_chunk_is_embedded_with_its_column_names_said_once() -> None:
    from langchain_core.documents import Document

    from assistant.ingest import embedding_text
    from assistant.rows import row_text

    header = ["item", "Years ended December 31 2024", "Years ended December 31 2023"]
    rows = [row_text(list(zip(header, cells))) for cells in (["Net sales", "5,120", "4,870"], ["Cost of sales", "2,900", "2,750"])]
    chunk = Document(page_content="\n".join(["Statement of Income (Millions)", *rows]), metadata={"rows": 2, "title": "Report"})
    text = embedding_text(chunk)
    assert text.count("Years ended December 31 2024") == 1
    assert "Net sales | 5,120 | 4,870" in text and "Cost of sales | 2,900 | 2,750" in text and "Statement of Income" in text
