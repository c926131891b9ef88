"""Cut loaded documents into token-sized chunks at sentence ends, keeping the Markdown heading path."""

from __future__ import annotations

import hashlib
import re

from langchain_core.documents import Document

from assistant.offline import count_tokens
from assistant.text import language_of, split_sentences

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_CLAUSE_END = re.compile(r"(?<=[,\uff0c、:\uff1a])")  # full-width forms as escapes (NFKC-proof)


def sections(text: str) -> list[tuple[str, str]]:
    """Split Markdown into (heading path, body) pairs; the path joins nested headings with ' > '."""
    path: list[tuple[int, str]] = []
    out: list[tuple[str, str]] = []
    body: list[str] = []

    def flush() -> None:
        joined = "\n".join(body).strip()
        if joined:
            out.append((" > ".join(title for _, title in path), joined))
        body.clear()

    for line in text.splitlines():
        match = _HEADING.match(line)
        if match:
            flush()
            level = len(match.group(1))
            path = [(lvl, title) for lvl, title in path if lvl < level]
            path.append((level, match.group(2).strip()))
        else:
            body.append(line)
    flush()
    return out


def _fitting_prefix(text: str, limit: int) -> int:
    """Length of the longest prefix within `limit` tokens (at least 1 character): tokens per character vary
    (Chinese vs Latin), so a proportional cut can overshoot."""
    low, high = 1, len(text)
    while low < high:
        mid = (low + high + 1) // 2
        if count_tokens(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def _split_long(sentence: str, limit: int) -> list[str]:
    """A sentence over the limit is cut at commas first, then by characters as a last resort."""
    pieces: list[str] = []
    buf = ""
    for clause in _CLAUSE_END.split(sentence):
        if count_tokens(buf + clause) <= limit:
            buf += clause
            continue
        if buf:
            pieces.append(buf)
        buf = clause
        while count_tokens(buf) > limit:
            cut = _fitting_prefix(buf, limit)
            pieces.append(buf[:cut])
            buf = buf[cut:]
    if buf:
        pieces.append(buf)
    return pieces


def pack(text: str, size: int, overlap: int) -> list[str]:
    """Pack whole sentences into chunks of at most `size` tokens; repeat up to `overlap` tokens of tail."""
    units: list[tuple[str, int]] = []
    for sentence in split_sentences(text):
        tokens = count_tokens(sentence)
        if tokens > size:
            units.extend((piece, count_tokens(piece)) for piece in _split_long(sentence, size))
        else:
            units.append((sentence, tokens))

    chunks: list[str] = []
    current: list[tuple[str, int]] = []
    total = 0
    for unit in units:
        if current and total + unit[1] > size:
            chunks.append("".join(s for s, _ in current).strip())
            # Carry whole trailing sentences into the next chunk, never a fragment.
            carry: list[tuple[str, int]] = []
            carried = 0
            for sentence in reversed(current):
                if carried + sentence[1] > overlap or carried + sentence[1] + unit[1] > size:
                    break
                carry.insert(0, sentence)
                carried += sentence[1]
            current, total = carry, carried
        current.append(unit)
        total += unit[1]
    if current:
        chunks.append("".join(s for s, _ in current).strip())
    return [c for c in chunks if c]


def pack_table(text: str, size: int) -> list[str]:
    """A table's text (title line, then one row per line) in chunks of whole rows within `size` tokens, each
    repeating the title line so it answers on its own; a row longer than the limit stays whole in its own chunk."""
    title, *rows = text.strip().splitlines()
    budget = size - count_tokens(title)
    chunks: list[list[str]] = []
    total = 0
    for row in rows:
        tokens = count_tokens(row) + 1
        if chunks and chunks[-1] and total + tokens <= budget:
            chunks[-1].append(row)
            total += tokens
        else:
            chunks.append([row])
            total = tokens
    return ["\n".join([title, *group]) for group in chunks] or [title]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chunk_documents(docs: list[Document], size: int, overlap: int) -> list[Document]:
    """Chunks with source, title, date, section, page or row, language, content hash and a stable id.

    Dataset rows are already one chunk each and are never split: a row keeps its column names together. A PDF
    table is cut only between rows, each piece repeating the table's title line.
    The id depends on the source, the document's hash and the position, so a changed document gets new ids
    and its old chunks can be removed once the new ones are safely written.
    """
    chunks: list[Document] = []
    for doc in docs:
        meta = doc.metadata
        if meta.get("type") == "dataset" or meta.get("format") == "table":
            pieces = [("", doc.page_content.strip())]
        elif meta.get("format") == "markdown":
            pieces = [(section, body) for section, body in sections(doc.page_content)]
        else:
            pieces = [("", doc.page_content)]
        for section, body in pieces:
            if meta.get("format") == "table":
                texts = pack_table(body, size)
            else:
                texts = [body] if meta.get("type") == "dataset" else pack(body, size, overlap)
            for text in texts:
                extra = {"section": section or meta.get("section", "")}
                if meta.get("format") == "table":
                    # How many rows the piece holds: lets a search keep to statement-table chunks (a filter on a
                    # key that prose chunks lack; Chroma's "$ne" would match those too).
                    extra["rows"] = text.count("\n")
                chunks.append(Document(page_content=text, metadata={**meta, **extra}))

    source_key = hashlib.sha1(str(docs[0].metadata["source"]).encode()).hexdigest()[:12] if docs else ""
    for i, chunk in enumerate(chunks):
        meta = chunk.metadata
        meta["content_hash"] = content_hash(chunk.page_content)
        meta["language"] = meta.get("language") or language_of(chunk.page_content)
        meta["chunk_index"] = i
        meta["chunk_id"] = f"{source_key}-{str(meta.get('doc_hash', ''))[:12]}-{i:05d}"
        meta.pop("format", None)
    return chunks
