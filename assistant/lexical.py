"""BM25 over jieba words, derived from the chunks in Chroma and rebuilt when the collection changes."""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from assistant.index import Index
from assistant.text import Lexicon, words


def searchable_text(text: str, meta: dict) -> str:
    """What lexical search sees: the chunk plus its title and section, which often name the company."""
    return f"{meta.get('title', '')} {meta.get('section', '')}\n{text}"


class LexicalIndex:
    def __init__(self, index: Index, lexicon: Lexicon, cache_dir: Path, check_every_s: float = 5.0) -> None:
        self.index = index
        self.lexicon = lexicon
        self.cache_path = Path(cache_dir) / f"lexical-{index.settings.collection}.pkl"
        self.check_every_s = check_every_s
        self._fingerprint = ""
        self._generation = -1
        self._checked_at = 0.0
        self._state: tuple = (None, [], [], [])  # (BM25 model, chunk ids, texts, metadata), swapped as one
        self._lock = threading.Lock()  # one rebuild at a time when several web sessions ask at once

    def _tokens_cache(self) -> dict[str, list[str]]:
        try:
            with self.cache_path.open("rb") as fh:
                return pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError):
            return {}

    def refresh(self, force: bool = False) -> None:
        """Rebuild when this process wrote to the index, or (at most every few seconds) when another one did."""
        with self._lock:
            now = time.monotonic()
            if not force and self._generation == self.index.generation and now - self._checked_at < self.check_every_s:
                return
            self._checked_at = now
            fingerprint = self.index.fingerprint()
            if not force and fingerprint == self._fingerprint and self._state[0] is not None:
                self._generation = self.index.generation
                return
            self.build(fingerprint)

    def build(self, fingerprint: str) -> None:
        import bm25s

        ids, texts, metas = self.index.all_chunks()
        cache = self._tokens_cache()
        # Tokens are cached by content hash: cutting Chinese into words is the slow part at scale.
        corpus = []
        fresh: dict[str, list[str]] = {}
        for text, meta in zip(texts, metas):
            key = f"{meta.get('content_hash', '')}:{meta.get('title', '')}:{meta.get('section', '')}"
            tokens = cache.get(key)
            if tokens is None:
                tokens = words(searchable_text(text, meta), self.lexicon) or ["_"]
            fresh[key] = tokens
            corpus.append(tokens)
        if fresh.keys() != cache.keys():
            try:
                self.cache_path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.cache_path.with_suffix(".tmp")
                with tmp.open("wb") as fh:
                    pickle.dump(fresh, fh)
                tmp.replace(self.cache_path)
            except OSError:
                pass  # a read-only index directory only costs speed next time
        model = None
        if corpus:
            model = bm25s.BM25()
            model.index(corpus, show_progress=False)
        # One assignment, so a search running meanwhile sees the old state or the new one, never a mix.
        self._state = (model, ids, texts, metas)
        self._fingerprint = fingerprint
        self._generation = self.index.generation

    def search(self, query: str, n: int, keep: Callable[[dict], bool] | None = None) -> list[tuple[str, str, dict, float]]:
        """Top chunks as (id, text, metadata, BM25 score); `keep` filters on metadata."""
        self.refresh()
        bm25, ids, texts, metas = self._state
        if bm25 is None:
            return []
        tokens = words(query, self.lexicon)
        if not tokens:
            return []
        scores = np.asarray(bm25.get_scores(tokens), dtype=np.float32)
        if keep is not None:
            mask = np.fromiter((keep(m) for m in metas), dtype=bool, count=len(metas))
            scores = np.where(mask, scores, 0.0)
        top = np.argsort(-scores)[:n]
        return [(ids[i], texts[i], metas[i], float(scores[i])) for i in top if scores[i] > 0]
