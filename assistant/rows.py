"""Table rows as text: one row form for CSV/XLSX datasets and tables found in PDFs, written and parsed in one place.

A row is written as `column: cell; column: cell。` so that it reads as a sentence to the embedder and to BM25, and
parses back exactly into its fields for the answerer, charts and the Datasets tab. A chunk may hold several rows,
one per line (a PDF table keeps its title and column headers with its rows).
"""

from __future__ import annotations

import re

_SEP = "; "
_END = "。"
# "key: value" where the key holds no separator of its own; values may contain ":" (times, ratios).
_PAIR = re.compile(r"^([^;:\n]{1,80}):\s?(.*)$", re.S)


def row_text(pairs: list[tuple[str, str]] | dict[str, str]) -> str:
    """The text of one row: only non-empty cells, in column order."""
    items = pairs.items() if isinstance(pairs, dict) else pairs
    cells = [f"{_clean(k)}: {_clean(v)}" for k, v in items if str(v).strip()]
    return _SEP.join(cells) + _END if cells else ""


def parse_row(line: str) -> dict[str, str] | None:
    """One row's fields, or None when the line is not in the row form (a row has two cells or more, so a prose
    sentence with one colon is not taken for a row)."""
    line = line.strip()
    if not line.endswith(_END) or ": " not in line:
        return None
    fields: dict[str, str] = {}
    for part in line[: -len(_END)].split(_SEP):
        match = _PAIR.match(part.strip())
        if not match:
            return None
        fields[match.group(1).strip()] = match.group(2).strip()
    return fields if len(fields) >= 2 else None


def parse_rows(text: str) -> list[dict[str, str]]:
    """Every row in a chunk's text (lines that are not rows, such as a table's title, are skipped)."""
    return [row for row in (parse_row(line) for line in text.splitlines()) if row]


def compact_rows(text: str) -> str:
    """A chunk of rows with each row's column names said once, not on every row: the title line, then a line of
    column names wherever they change, and under it each row's cells. The encoder reads this instead of the row form
    (a statement row repeats "Years ended December 31 2018" in every line); lines that are not rows stay as they are."""
    out: list[str] = []
    columns: list[str] = []
    for line in text.splitlines():
        row = parse_row(line)
        if row is None:
            out.append(line)
            continue
        if list(row) != columns:
            columns = list(row)
            out.append(" | ".join(columns))
        out.append(" | ".join(row.values()))
    return "\n".join(out)


def _clean(value: object) -> str:
    # A cell may not break the row form: "; " would end it early, a line break would end the row.
    return re.sub(r";\s+", ";", re.sub(r"\s*\n\s*", " ", str(value))).strip().rstrip(_END)
