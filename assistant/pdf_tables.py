"""Statement tables found in a PDF page's layout text, as rows with their column headers.

pypdf's layout mode prints each text line at its place on the page, so a row's label and its figures share one line
and the period headers stand above their columns. A table is a run of lines ending in two or more figures; its
column headers are the lines just above it whose words sit over the figure columns (a multi-line header such as
"Years ended December 31" over "2018 2017" is combined), and its title and unit are the short lines above those.
Nothing here knows a company or a statement by name: SEC 10-Ks (no ruling lines) and Hong Kong reports
("人民币百万元", "截至12月31日止年度") go through the same rules.
"""

from __future__ import annotations

import re
import statistics
import unicodedata
from dataclasses import dataclass, field

from assistant.rows import row_text

LABEL_HEADER = "item"  # the label column's key when the table prints no header for it
_SEGMENT = re.compile(r"\S+(?: \S+)*")  # text between runs of two or more spaces
_CURRENCY = re.compile(r"^(?:US\$|HK\$|RMB|\$|¥|€|£)$")
_FIGURE = re.compile(r"^(?:(?:US\$|HK\$|RMB|\$|¥|€|£)\s?)?[(\-−]?\s*(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?\s*\)?%?$")
_NIL = re.compile(r"^[—–\-−]+$")  # a dash printed for nil
_PERIOD_CELL = re.compile(
    r"^(?:FY\s?|Q[1-4]\s?|[1-4]Q\s?|H[12]\s?|[12]H\s?)?(?:19|20)\d{2}(?:/\d{2})?(?:年度?)?$"
    r"|(?:19|20)\d{2}年\d{1,2}月\d{1,2}日"
    r"|^(?:[A-Z][a-z]+\.? \d{1,2}, (?:19|20)\d{2}|\d{1,2} [A-Z][a-z]+,? (?:19|20)\d{2})$"
)
_PERIOD_PHRASE = re.compile(
    r"(?i)\b(?:years?|quarters?|months?|periods?|weeks?) ended\b|\bas (?:at|of)\b|^at [A-Z]|截至|止年度|止期間|止期间|于\d|於\d"
)
_UNIT = re.compile(
    r"(?i)(?:(?:dollars|amounts|US\$|HK\$|RMB|\$)\s+)?in (?:millions|thousands|billions)\b[^)\n]*"
    r"|(?<=\()(?:millions|thousands|billions)\b[^)\n]*"
    r"|(?:RMB|HK\$|US\$|USD|HKD)\s?(?:'000|’000|millions?|thousands?|billions?|mn)\b"
    r"|(?:人民[币幣]|港[币幣]|美元)?[千百万萬亿億]+(?:港元|美元|元)"
)
_LEADER = re.compile(r"\s*(?:\.{3,}|…+)\s*$")  # dot leaders after a label
_MAX_KEY = 80  # rows.parse_row reads keys of at most 80 characters


@dataclass
class Segment:
    text: str
    start: int
    end: int

    @property
    def center(self) -> float:
        return (self.start + self.end) / 2


@dataclass
class Table:
    title: str  # the title line: caption as found above the table, with its unit note
    unit: str
    label_header: str
    columns: list[str]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    lines: set[int] = field(default_factory=set)  # line numbers the table took from the page

    def row_lines(self) -> list[str]:
        """Each row in the shared row form (assistant/rows.py): label first, then each cell under its column key."""
        out = []
        for label, cells in self.rows:
            text = row_text([(self.label_header, label), *zip(self.columns, cells)])
            if text:
                out.append(text)
        return out


def segments(line: str) -> list[Segment]:
    """The line's cells: "$" followed by its figure is one cell, as printed ("$ 41,280")."""
    found = [Segment(m.group(), m.start(), m.start() + _width(m.group())) for m in _SEGMENT.finditer(line)]
    merged: list[Segment] = []
    for seg in found:
        if merged and _CURRENCY.match(merged[-1].text) and _is_figure(seg.text):
            merged[-1] = Segment(f"{merged[-1].text} {seg.text}", merged[-1].start, seg.end)
        else:
            merged.append(seg)
    return merged


def _width(text: str) -> int:
    """Columns the text covers on the page: layout text gives a Chinese character one place but it is twice as
    wide as a digit, so the text after it starts further right than its length says."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _is_figure(text: str) -> bool:
    return bool(_FIGURE.match(text) or _NIL.match(text))


@dataclass
class _Zone:
    """Where a table's figures stand on the line: from the first figure's start to the last figure's end."""

    start: int
    end: int

    def over(self, seg: Segment) -> bool:
        # A word right of every figure is a second label or a caption in the other language, not a column header.
        return seg.end > self.start and seg.start <= self.end


@dataclass
class _Line:
    number: int
    text: str
    segs: list[Segment]
    label: list[Segment]  # leading text cells
    cells: list[Segment]  # trailing figure cells

    @property
    def blank(self) -> bool:
        return not self.segs

    @property
    def is_row(self) -> bool:
        return bool(self.cells) and not self.is_period_header

    @property
    def is_period_header(self) -> bool:
        return len(self.cells) >= 1 and all(_PERIOD_CELL.search(c.text) for c in self.cells)


def _parse_line(number: int, text: str) -> _Line:
    segs = segments(text)
    figure = [_is_figure(s.text) for s in segs]
    end = len(segs)
    tail: list[Segment] = []
    if end >= 3 and not figure[-1] and figure[-2] and figure[-3]:
        tail, end = segs[-1:], end - 1  # bilingual reports print the second label right of the figures
    split = end
    while split > 0 and figure[split - 1]:
        split -= 1
    label, cells = segs[:split] + tail, segs[split:end]
    if any(figure[:split]):
        cells = []  # figures in the middle of text: prose or a header, not a row
    # A row needs at least one real figure; a lone dash is no row.
    if not any(_FIGURE.match(c.text) for c in cells):
        label, cells = segs, []
    return _Line(number, text, segs, label, cells)


def find_tables(page_text: str) -> list[Table]:
    """Every table on one page of layout text, in page order."""
    lines = [_parse_line(i, t) for i, t in enumerate(page_text.splitlines())]
    tables: list[Table] = []
    i = 0
    while i < len(lines):
        if not (lines[i].is_row and len(lines[i].cells) >= 2):
            i += 1
            continue
        block, i = _row_block(lines, i)
        table = _build(lines, block)
        if table is not None:
            tables.append(table)
    return tables


def _row_block(lines: list[_Line], first: int) -> tuple[list[_Line], int]:
    """Consecutive rows from `first`, through blank lines and short group labels ("Current assets"), until prose."""
    block = [lines[first]]
    left = min(c.start for c in lines[first].cells)
    i = first + 1
    gap = 0
    while i < len(lines):
        line = lines[i]
        if line.blank:
            gap += 1
            if gap > 2:
                break
        elif line.is_row and min(c.start for c in line.cells) >= left * 0.6:
            block.append(line)
            gap = 0
        elif _is_group_label(line, left):
            block.append(line)
            gap = 0
        else:
            break
        i += 1
    while block and not block[-1].is_row:
        block.pop()
    return block, i


def _is_group_label(line: _Line, left: int) -> bool:
    """A short text line left of the figures inside a table: a group label or the first half of a wrapped label."""
    text = line.text.strip()
    return not line.cells and len(line.segs) == 1 and line.segs[0].end < left and len(text) <= 90 and not text.endswith(".")


def _build(lines: list[_Line], block: list[_Line]) -> Table | None:
    rows = [line for line in block if line.is_row]
    if len(rows) < 2:
        return None
    zone = _Zone(min(c.start for line in rows for c in line.cells), max(c.end for line in rows for c in line.cells))
    ncols = statistics.mode(len(line.cells) for line in rows)
    if ncols < 2 and max(len(line.cells) for line in rows) < 2:
        return None
    header_lines, above = _header_lines(lines, block[0].number, zone)
    anchors = _anchors(header_lines, rows, ncols, zone)
    title, unit, label_header, period_prefix = _caption(lines, above, header_lines, zone)
    columns = _column_keys(header_lines, anchors, zone, period_prefix)
    table = Table(title=title, unit=unit, label_header=label_header, columns=columns)
    table.lines = {line.number for line in block} | {line.number for line in header_lines}
    pending_label = ""
    for line in block:
        if not line.is_row:
            pending_label = line.text.strip()
            continue
        label = _LEADER.sub("", " ".join(s.text for s in line.label)).strip()
        if pending_label and (not label or label[:1].islower()):
            label = f"{pending_label} {label}".strip()  # a label wrapped onto a second line
        pending_label = ""
        table.rows.append((label or "-", _assign(line.cells, anchors)))
    return table


def _header_lines(lines: list[_Line], first_row: int, zone: _Zone) -> tuple[list[_Line], int]:
    """Lines just above the first row with words over the figure columns (top to bottom), and the line number
    where the search stopped (the caption is looked for from there up)."""
    found: list[_Line] = []
    i = first_row - 1
    blanks = skipped = 0
    while i >= 0 and first_row - i <= 12:
        line = lines[i]
        if line.blank:
            blanks += 1
            if blanks > 2:
                break
        elif line.is_period_header or (not line.is_row and any(zone.over(s) for s in line.segs) and _fits_header(line, zone)):
            found.insert(0, line)
            blanks = 0
        elif not found and skipped < 3 and _is_group_label(line, zone.start):
            skipped += 1  # group labels between the header and the first row ("Assets", "Current assets")
        else:
            break
        i -= 1
    return (found, i) if found else ([], first_row - 1)


def _fits_header(line: _Line, zone: _Zone) -> bool:
    """Header words stand over the figures; a prose line runs across the page in one piece."""
    right = [s for s in line.segs if zone.over(s)]
    return all(s.start >= zone.start * 0.6 for s in right) and all(len(s.text) <= 40 for s in right)


def _anchors(header_lines: list[_Line], rows: list[_Line], ncols: int, zone: _Zone) -> list[Segment]:
    """One segment per column: the lowest header line's words when they match the rows' figures in number,
    else the figures' own positions in the first row that has them all."""
    for line in reversed(header_lines):
        right = [s for s in line.segs if zone.over(s)]
        if len(right) == ncols:
            return right
    full = next(line for line in rows if len(line.cells) == ncols)
    return list(full.cells)


def _assign(cells: list[Segment], anchors: list[Segment]) -> list[str]:
    """Cells under their columns: in order when the row has them all, else each to the nearest free column."""
    out = [""] * len(anchors)
    if len(cells) == len(anchors):
        return [c.text for c in cells]
    for cell in cells:
        order = sorted(range(len(anchors)), key=lambda k: abs(_right_edge_gap(cell, anchors[k])))
        for k in order:
            if not out[k]:
                out[k] = cell.text
                break
    return out


def _right_edge_gap(cell: Segment, anchor: Segment) -> float:
    # Figures are right-aligned under their headers in most statements; centres drift with label width.
    return min(abs(cell.end - anchor.end), abs(cell.center - anchor.center))


def _column_keys(header_lines: list[_Line], anchors: list[Segment], zone: _Zone, prefix: str) -> list[str]:
    """Each column's header: the words above it from every header line, top to bottom, then its own header."""
    if not header_lines:
        return [f"column {k + 1}" for k in range(len(anchors))]
    centers = [a.center for a in anchors]
    pitch = statistics.median(b - a for a, b in zip(centers, centers[1:])) if len(centers) > 1 else 10.0
    parts: list[list[str]] = [[] for _ in anchors]
    for line in header_lines:
        right = [s for s in line.segs if zone.over(s)]
        if right and [s.text for s in right] == [a.text for a in anchors] and right[0].start == anchors[0].start:
            for k, seg in enumerate(right):
                parts[k].append(seg.text)
            continue
        owner: dict[int, Segment] = {}
        for seg in right:
            for k in _claimed(seg, right, anchors, pitch):
                # Two words claiming one column: the one standing closer to it wins.
                if k not in owner or abs(seg.center - centers[k]) < abs(owner[k].center - centers[k]):
                    owner[k] = seg
        for k, seg in sorted(owner.items()):
            parts[k].append(seg.text)
    keys = []
    for k, words in enumerate(parts):
        if not words:
            words = [f"column {k + 1}"]
        if prefix and _PERIOD_CELL.search(words[-1]) and len(words) == 1:
            words = [prefix, *words]
        keys.append(_key(words))
    return keys


def _claimed(seg: Segment, line: list[Segment], anchors: list[Segment], pitch: float) -> range:
    """The columns a header word stands over: the widest run of adjacent columns centred under it that holds every
    column it overlaps and none that another word of its line overlaps ("Net Sales" centred over 2018 2017 2016)."""
    def overlaps(a: Segment, b: Segment) -> bool:
        return a.start < b.end and b.start < a.end

    own = [k for k, a in enumerate(anchors) if overlaps(seg, a)]
    if not own:
        nearest = min(range(len(anchors)), key=lambda k: _distance(anchors[k].center, seg))
        if _distance(anchors[nearest].center, seg) > pitch / 2:
            return range(0)
        own = [nearest]
    taken = {k for other in line if other is not seg for k, a in enumerate(anchors) if overlaps(other, a)}
    best = range(own[0], own[-1] + 1)
    for first in range(own[0], -1, -1):
        if first in taken:
            break
        for last in range(own[-1], len(anchors)):
            if last in taken:
                break
            # Centred over the figures themselves, or over the cells when figures are right-aligned in them.
            middle = (anchors[first].start + anchors[last].end) / 2
            cells_middle = (anchors[first].end - pitch + anchors[last].end) / 2
            off = min(abs(middle - seg.center), abs(cells_middle - seg.center))
            if off <= pitch / 3 and last - first + 1 > len(best):
                best = range(first, last + 1)
    return best


def _distance(x: float, seg: Segment) -> float:
    return 0.0 if seg.start <= x <= seg.end else min(abs(x - seg.start), abs(x - seg.end))


def _key(words: list[str]) -> str:
    """A column key the row form can carry: no ':' or ';', at most 80 characters, the period (last) kept."""
    words = [re.sub(r"[:;]", " ", w).strip() for w in words]
    while len(words) > 1 and len(" ".join(words)) > _MAX_KEY:
        words.pop(0)
    return " ".join(words)[-_MAX_KEY:].strip()


def _caption(lines: list[_Line], above: int, header_lines: list[_Line], zone: _Zone) -> tuple[str, str, str, str]:
    """(title line, unit, label column header, period phrase) from the header's label side and the short lines
    above the table."""
    label_side = [" ".join(s.text for s in line.segs if s.end <= zone.start) for line in header_lines]
    label_side = [t for t in label_side if t]
    caption: list[str] = []
    i, blanks = above, 0
    while i >= 0 and len(caption) < 4 and blanks <= 2:
        text = lines[i].text.strip()
        if not text:
            blanks += 1
        elif lines[i].is_row or len(text) > 120:
            break
        else:
            caption.insert(0, re.sub(r"\s{2,}", " ", text))
            blanks = 0
        i -= 1
    candidates = caption + label_side
    unit_note = next((t for t in reversed(candidates) if _UNIT.search(t)), "")
    unit = _UNIT.search(unit_note).group(0).strip(" ()") if unit_note else ""
    period_prefix = next((t for t in reversed(caption) if _PERIOD_PHRASE.search(t) and len(t) <= 60), "")
    titles = [t for t in caption if t not in (unit_note, period_prefix) and _heading_like(t)]
    if not titles:  # the caption is prose: the nearest heading above the table names it
        headings = [line.segs[0].text for line in lines[: max(i, 0)] if len(line.segs) == 1 and not line.is_row]
        titles = [t for t in headings if _heading_like(t)]
    title = _unsplit(titles[-1].rstrip(":：")) if titles else "Table"
    note = unit_note.strip()
    if note and note not in title:
        title = f"{title} {note if note.startswith('(') else f'({note})'}"
    label_header = next((t for t in reversed(label_side) if t != unit_note and not _PERIOD_PHRASE.search(t)), "")
    return title, unit, _key([label_header]) if label_header else LABEL_HEADER, period_prefix


def _heading_like(text: str) -> bool:
    """A caption or heading, not the end of a paragraph or a page header."""
    short = len(text) <= 50 and len(text.split()) <= 8  # "Item 6. Selected Financial Data." is still a heading
    ends_sentence = text.endswith((",", ";", "。", "，", "；")) or (text.endswith(".") and not short)
    return (0 < len(text) <= 100 and not ends_sentence and not text[:1].islower()
            and not _FIGURE.match(text) and text.lower() != "table of contents")


def _unsplit(title: str) -> str:
    """Layout text sometimes breaks a heading's last letter off ("Statement of Incom e"): join it back."""
    return re.sub(r"(?<=[a-z]{2}) ([a-z])$", r"\1", title)
