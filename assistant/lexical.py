"""BM25 over jieba words, derived from the chunks in Chroma and rebuilt when the collection changes.

Kept small for big collections (100k chunks): words are stored as int32 ids of one vocabulary, never as lists of
strings; only the metadata fields the filters read stay in memory (one dict per distinct combination, and that
combination's number per chunk); the text and full metadata are read back from Chroma for the passages retrieval
keeps, a few rows per search.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from assistant.index import RECHECK_S, Index, release_memory
from assistant.text import Lexicon, words

# The metadata the filters (retrieval.Filters.keep) look at; everything else is read back for the hits alone.
FILTER_FIELDS = ("companies", "tickers", "date_int", "source", "type")
CACHE_VERSION = 2


def searchable_text(text: str, meta: dict) -> str:
    """What lexical search sees: the chunk plus its title and section, which often name the company."""
    return f"{meta.get('title', '')} {meta.get('section', '')}\n{text}"


class _TokenRows(Sequence):
    """The corpus as bm25s reads it (it walks it three times): one list of word ids per chunk, made on the fly from
    a flat int32 array, so the 100k-chunk corpus never exists as Python lists all at once."""

    def __init__(self, flat: np.ndarray, offsets: np.ndarray) -> None:
        self.flat, self.offsets = flat, offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, i):  # noqa: ANN001, ANN204 - Sequence protocol
        return self.flat[self.offsets[i] : self.offsets[i + 1]].tolist()

    def __iter__(self) -> Iterator[list[int]]:
        for i in range(len(self)):
            yield self[i]


class LexicalIndex:
    def __init__(self, index: Index, lexicon: Lexicon, cache_dir: Path, check_every_s: float = RECHECK_S) -> None:
        self.index = index
        self.lexicon = lexicon
        self.cache_path = Path(cache_dir) / f"lexical-{index.settings.collection}.pkl"
        self.check_every_s = check_every_s
        self._fingerprint = ""
        self._generation = -1
        self._checked_at = 0.0
        # (BM25 model, chunk ids, each chunk's filter group, the groups' filter metadata), swapped as one
        self._state: tuple = (None, [], np.zeros(0, dtype=np.int32), [])
        self._lock = threading.Lock()  # one rebuild at a time when several web sessions ask at once

    def _tokens_cache(self) -> tuple[list[str], dict[str, bytes]]:
        """(vocabulary, chunk key -> int32 word ids as bytes) from the last build."""
        try:
            with self.cache_path.open("rb") as fh:
                data = pickle.load(fh)
            if isinstance(data, dict) and data.get("version") == CACHE_VERSION:
                return data["vocab"], data["docs"]
        except (OSError, pickle.UnpicklingError, EOFError, KeyError, AttributeError, ValueError):
            pass
        return [], {}

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

        old_vocab, cache = self._tokens_cache()
        # Cached ids refer to the old vocabulary; it is kept as the prefix of the new one, so they stay valid.
        vocab = {word: i for i, word in enumerate(old_vocab)}
        ids: list[str] = []
        groups: list[int] = []
        shared: dict[tuple, int] = {}
        group_metas: list[dict] = []
        parts: list[np.ndarray] = []
        fresh: dict[str, bytes] = {}
        for chunk_ids, texts, chunk_metas in self.index.iter_chunks():
            for id_, text, meta in zip(chunk_ids, texts, chunk_metas):
                # Tokens are cached by content hash: cutting Chinese into words is the slow part at scale.
                key = f"{meta.get('content_hash', '')}:{meta.get('title', '')}:{meta.get('section', '')}"
                row = fresh.get(key) or cache.get(key)
                if row is None:
                    tokens = words(searchable_text(text, meta), self.lexicon) or ["_"]
                    row = np.fromiter((vocab.setdefault(t, len(vocab)) for t in tokens), dtype=np.int32).tobytes()
                fresh[key] = row
                parts.append(np.frombuffer(row, dtype=np.int32))
                ids.append(id_)
                groups.append(_filter_group(meta, shared, group_metas))
        if fresh.keys() != cache.keys() or len(vocab) != len(old_vocab):
            self._save_cache(list(vocab), fresh)
        model = None
        if parts:
            offsets = np.zeros(len(parts) + 1, dtype=np.int64)
            np.cumsum([len(p) for p in parts], out=offsets[1:])
            flat = np.concatenate(parts)
            del parts, fresh, cache
            model = bm25s.BM25()
            model.index(SimpleNamespace(ids=_TokenRows(flat, offsets), vocab=vocab), show_progress=False)
        # One assignment, so a search running meanwhile sees the old state or the new one, never a mix.
        self._state = (model, ids, np.asarray(groups, dtype=np.int32), group_metas)
        self._fingerprint = fingerprint
        self._generation = self.index.generation
        del model, ids, groups, group_metas
        release_memory()  # the word lists and bm25s's build arrays are gone: the process need not stay that big

    def _save_cache(self, vocab: list[str], docs: dict[str, bytes]) -> None:
        try:
            self.cache_path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.cache_path.with_suffix(".tmp")
            with tmp.open("wb") as fh:
                pickle.dump({"version": CACHE_VERSION, "vocab": vocab, "docs": docs}, fh, protocol=pickle.HIGHEST_PROTOCOL)
            tmp.replace(self.cache_path)
        except OSError:
            pass  # a read-only index directory only costs speed next time

    def search(self, query: str, n: int, keep: Callable[[dict], bool] | None = None) -> list[tuple[str, str, dict, float]]:
        """Top chunks as (id, text, metadata, BM25 score); `keep` filters on metadata."""
        ranked = self.rank(query, n, keep)
        found = self.index.get([id_ for id_, _ in ranked])
        return [(id_, *found[id_], score) for id_, score in ranked if id_ in found]

    def rank(self, query: str, n: int, keep: Callable[[dict], bool] | None = None) -> list[tuple[str, float]]:
        """Top chunk ids with their BM25 score, best first, without reading texts back from the index."""
        self.refresh()
        bm25, ids, groups, group_metas = self._state
        if bm25 is None:
            return []
        tokens = [bm25.vocab_dict[t] for t in words(query, self.lexicon) if t in bm25.vocab_dict]
        if not tokens:
            return []
        scores = np.asarray(bm25.get_scores(tokens), dtype=np.float32)
        if keep is not None:
            # The filter is asked once per distinct combination of filter fields (about one per document), not
            # once per chunk: a Python call for each of 100k chunks cost tens of milliseconds a question.
            allowed = np.fromiter((keep(m) for m in group_metas), dtype=bool, count=len(group_metas))
            scores = np.where(allowed[groups], scores, 0.0)
        n = min(n, len(scores))
        top = np.argpartition(-scores, n - 1)[:n]  # the n best without sorting every chunk's score
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[i], float(scores[i])) for i in top if scores[i] > 0]


def _filter_group(meta: dict, shared: dict[tuple, int], group_metas: list[dict]) -> int:
    """The number of the chunk's combination of filter fields; a new combination is added to `group_metas`."""
    key = tuple(tuple(v) if isinstance(v, list) else v for v in (meta.get(f) for f in FILTER_FIELDS))
    found = shared.get(key)
    if found is None:
        found = shared[key] = len(group_metas)
        group_metas.append({f: meta[f] for f in FILTER_FIELDS if f in meta})
    return found
