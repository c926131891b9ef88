"""A configured sentence-transformers CrossEncoder reorders the fused candidates. No cross-encoder ships offline, so
the test builds a tiny random one on disk: its scores mean nothing, but the order must follow them."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.lexical import searchable_text
from assistant.research import ResearchAssistant


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizer

    folder = tmp_path_factory.mktemp("cross-encoder")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *"阿里腾讯小米云收入增长股价的是多少估值", *"0123456789%"]
    (folder / "vocab.txt").write_text("\n".join(vocab), encoding="utf-8")
    config = BertConfig(
        vocab_size=len(vocab), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32, num_labels=1
    )
    BertForSequenceClassification(config).save_pretrained(folder)
    BertTokenizer(str(folder / "vocab.txt")).save_pretrained(folder)
    return folder


def test_a_configured_cross_encoder_decides_the_final_order(corpus_assistant, embedder, tiny_cross_encoder) -> None:
    from sentence_transformers import CrossEncoder

    settings = corpus_assistant.settings.model_copy(update={"reranker_model": str(tiny_cross_encoder)})
    reranked = ResearchAssistant(settings, embedder=embedder).retrieve("阿里云收入增长多少?")
    assert reranked.passages
    scores = CrossEncoder(str(tiny_cross_encoder), device="cpu").predict(
        [("阿里云收入增长多少?", searchable_text(p.text, p.meta)) for p in reranked.passages]
    )
    assert list(scores) == sorted(scores, reverse=True)


def test_without_a_reranker_the_order_is_the_fused_score(corpus_assistant) -> None:
    passages = corpus_assistant.retrieve("阿里云收入增长多少?").passages
    assert [p.score for p in passages] == sorted((p.score for p in passages), reverse=True)
