"""Find the [n] markers in an answer, drop those outside the retrieved set, and check each cited passage
supports its sentence: at least, every number in the sentence must appear in a passage it cites."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from assistant.retrieval import Passage
from assistant.text import CHINESE_SCALED, english_figure, normalize, numbers_in, split_sentences, words

# The one grammar of citation markers, imported wherever markers are read.
# Full-width forms are written as escapes so an NFKC pass over this file cannot fold them away:
# [ ] or \u3010 \u3011 or \uff3b \uff3d around numbers separated by , \uff0c or \u3001.
MARKER = re.compile(r"\s?[\[\u3010\uff3b]\s*(\d+(?:\s*[,\uff0c\u3001]\s*\d+)*)\s*[\]\u3011\uff3d]")
MARKER_SEP = re.compile(r"[,\uff0c\u3001\s]+")
# Numbers that are part of the structure, not claims: list numbering such as "1." or "(2)" (not "34.5%").
_LIST_NUMBER = re.compile(r"^\s*(\d+(?:\.(?!\d)|[\u3001)\uff09])|[(\uff08]\d+[)\uff09])\s*")


@dataclass
class Citation:
    marker: int
    source: str
    title: str
    date: str
    page: int | None
    row: int | None
    section: str
    sentence: str  # the answer's sentence
    quote: str  # the passage's sentence that best supports it
    supported: bool
    reason: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def markers_in(sentence: str) -> list[int]:
    found: list[int] = []
    for group in MARKER.findall(sentence):
        found += [int(x) for x in MARKER_SEP.split(group) if x]
    return found


def strip_markers(text: str) -> str:
    return MARKER.sub("", text)


def drop_invalid_markers(text: str, count: int) -> str:
    """Remove markers that point outside [1..count]; keep the valid ones in a group."""

    def fix(match: re.Match) -> str:
        valid = [x for x in MARKER_SEP.split(match.group(1)) if x and 1 <= int(x) <= count]
        return f" [{', '.join(valid)}]" if valid else ""

    return MARKER.sub(fix, text)


def _claim_numbers(sentence: str) -> set[str]:
    body = _LIST_NUMBER.sub("", strip_markers(sentence))
    return set(numbers_in(body))


def best_quote(sentence: str, passage_text: str) -> str:
    """The passage sentence sharing most words (and numbers) with the answer sentence."""
    target = set(words(strip_markers(sentence))) | _claim_numbers(sentence)
    best, best_score = "", -1.0
    for candidate in split_sentences(passage_text):
        have = set(words(candidate)) | set(numbers_in(candidate))
        score = len(target & have) / (len(have) ** 0.5 + 1)
        if score > best_score:
            best, best_score = candidate.strip(), score
    return best


def check(text: str, passages: list[Passage], computed: set[str] | None = None) -> tuple[list[Citation], list[dict]]:
    """Citations for every marker, each with a support verdict; and sentences with figures but no citation.
    `computed` holds figures the answer derived from its cited rows (a difference, a rank): they are in no passage
    and are not flagged for it."""
    computed = {c.replace(",", "") for c in computed or ()}
    citations: list[Citation] = []
    uncited: list[dict] = []
    pieces: list[str] = []
    joined = False
    for piece in split_sentences(text):
        if pieces and not re.sub(r"[\s.。;；,，!！?？…]", "", strip_markers(piece)) and markers_in(piece):
            pieces[-1] += piece  # "…earnings… [1]." is cut after the ellipsis: the marker belongs to the sentence before
        elif joined:
            pieces[-1] += piece
        else:
            pieces.append(piece)
        # Clauses a semicolon joins on one line ("Shares up 41%; ads grew…; AI share 16%… [1].") share the marker that
        # ends the line; a clause that carries its own marker ("… [1]; …") stands alone.
        joined = bool(re.search(r"[;；][ \t]*\Z", pieces[-1])) and not markers_in(pieces[-1])
    for sentence in pieces:
        numbers = _claim_numbers(sentence)
        markers = [m for m in markers_in(sentence) if 1 <= m <= len(passages)]
        if not markers:
            if numbers:
                uncited.append({"sentence": sentence.strip(), "reason": "states a figure without a citation"})
            continue
        cited_numbers: set[str] = set()
        for m in markers:
            passage_text = normalize(passages[m - 1].text)
            cited_numbers |= set(numbers_in(passage_text))
            # An English answer restates "3.65亿" as "365 million" (extractive.english_figure): the same figure.
            cited_numbers |= {n for found in CHINESE_SCALED.finditer(passage_text) for n in numbers_in(english_figure(found.group(0)))}
        missing = sorted(numbers - cited_numbers - computed)
        for m in dict.fromkeys(markers):
            passage = passages[m - 1]
            meta = passage.meta
            citations.append(
                Citation(
                    marker=m,
                    source=passage.source,
                    title=str(meta.get("title", "")),
                    date=str(meta.get("date", "")),
                    page=meta.get("page"),
                    row=meta.get("row"),
                    section=str(meta.get("section", "")),
                    sentence=strip_markers(sentence).strip(),
                    # A dataset row is one record: quote all of it, not the cell that shares most words.
                    quote=passage.text.strip() if meta.get("type") == "dataset" else best_quote(sentence, passage.text),
                    supported=not missing,
                    reason=f"not in the cited passage: {', '.join(missing)}" if missing else "",
                )
            )
    return citations, uncited
