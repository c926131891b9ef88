"""Statement tables in PDFs come out as rows that keep their label, each figure's period header, the unit and the page."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.chunking import chunk_documents
from assistant.loaders import load_bytes
from assistant.pdf_tables import LABEL_HEADER, find_tables
from assistant.rows import parse_row, parse_rows
from tests.conftest import chunks_of
from tests.pdf_fixtures import make_bilingual_report

LIMIT = 20_000_000


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("reports") / "annual-report-2024.pdf"
    return path, make_bilingual_report(path)


def _table_docs(path: Path) -> list:
    return [d for d in load_bytes(path.read_bytes(), path.name, "pdf", LIMIT) if d.metadata.get("table")]


def _cell(row: dict[str, str], year: str) -> str | None:
    keys = [k for k in row if year in k]
    return row[keys[0]] if len(keys) == 1 else None


def test_bilingual_statement_rows_keep_label_period_header_unit_and_page(report) -> None:
    path, expected = report
    docs = _table_docs(path)

    for table in expected["tables"]:
        [doc] = [d for d in docs if d.metadata["page"] == table["page"]]
        assert doc.metadata["unit"] == table["unit"]
        assert table["title"] in doc.metadata["table"] and table["unit"] in doc.metadata["table"]
        assert doc.page_content.splitlines()[0] == doc.metadata["table"], "the title line comes first"
        rows = {row[LABEL_HEADER]: row for row in parse_rows(doc.page_content)}
        assert list(rows) == [label for label, *_ in table["rows"]]
        for label, this_year, last_year in table["rows"]:
            assert _cell(rows[label], "2024") == this_year, (label, rows[label])
            assert _cell(rows[label], "2023") == last_year, (label, rows[label])


def test_multi_line_period_header_is_combined_into_each_column_key(report) -> None:
    path, expected = report
    [income] = [d for d in _table_docs(path) if d.metadata["page"] == expected["tables"][0]["page"]]

    first = parse_rows(income.page_content)[0]
    period_keys = [k for k in first if k != LABEL_HEADER]

    assert len(period_keys) == 2
    for key, year in zip(period_keys, ("2024年", "2023年")):
        assert key.endswith(year)
        assert "截至12月31日止年度" in key and "Year ended 31 December" in key


def test_a_period_the_report_does_not_have_is_no_column(report) -> None:
    path, expected = report

    for doc in _table_docs(path):
        for row in parse_rows(doc.page_content):
            assert not any(expected["missing_year"] in key for key in row)


def test_prose_stays_on_its_page_without_the_table_rows(report) -> None:
    path, _ = report
    docs = load_bytes(path.read_bytes(), path.name, "pdf", LIMIT)
    prose = {d.metadata["page"]: d.page_content for d in docs if not d.metadata.get("table")}

    assert "人工智能研发" in prose[1] and "artificial intelligence" in prose[1]
    assert "董事会建议派发末期股息" in prose[4]
    assert "365,906" not in prose.get(2, ""), "a table's rows are indexed once, as rows"


def test_page_progress_is_reported_for_every_page(report) -> None:
    path, _ = report
    calls: list[tuple[int, int]] = []

    load_bytes(path.read_bytes(), path.name, "pdf", LIMIT, on_page=lambda done, total: calls.append((done, total)))

    assert calls == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_long_table_is_chunked_between_rows_each_chunk_repeating_the_title(report) -> None:
    path, expected = report
    docs = _table_docs(path)

    chunks = chunk_documents(docs, 120, 20)

    income = expected["tables"][0]
    pieces = [c for c in chunks if c.metadata["page"] == income["page"]]
    assert len(pieces) >= 2, "a 120-token budget cannot hold the whole income statement"
    rows: list[str] = []
    for piece in pieces:
        title, *lines = piece.page_content.splitlines()
        assert title == piece.metadata["table"]
        assert all(parse_row(line) for line in lines), "every line after the title is a whole row"
        rows += [parse_row(line)[LABEL_HEADER] for line in lines]
    assert rows == [label for label, *_ in income["rows"]]


def test_indexed_table_chunks_carry_page_table_and_unit(report, assistant_factory, capsys) -> None:
    path, expected = report
    assistant = assistant_factory()

    result = assistant.ingest([str(path)], show_progress=True)

    assert result.added and not result.failed, result.summary()
    stored = chunks_of(assistant, result.added[0])
    tables = [(text, meta) for text, meta in stored if meta.get("table")]
    assert {meta["page"] for _, meta in tables} == {t["page"] for t in expected["tables"]}
    assert {meta["unit"] for _, meta in tables} == {t["unit"] for t in expected["tables"]}
    assert any("365,906" in text for text, _ in tables)
    assert f"{path.name}: page 4/4" in capsys.readouterr().err, "the progress bar shows the pages inside the file"


# A 10-K style layout: no ruling lines, a "$" apart from its figure, a group header over three columns each.
TEN_K = """
Segment Information

                                                   Revenue                              Headcount
(Dollars in millions)                       2023        2022        2021          2023        2022        2021
Devices                                  $ 1,200     $ 1,100     $   950        4,310       4,020       3,870
Services                                     845         790         702        2,115       1,980       1,804
   Total                                 $ 2,045     $ 1,890     $ 1,652        6,425       6,000       5,674

Revenue grew in both segments, led by services.
"""


def test_group_headers_over_several_columns_join_each_period() -> None:
    [table] = find_tables(TEN_K)

    assert table.title == "Segment Information (Dollars in millions)"
    assert table.unit == "Dollars in millions"
    rows = {row[LABEL_HEADER]: row for row in map(parse_row, table.row_lines())}
    assert rows["Devices"]["Revenue 2023"] == "$ 1,200"
    assert rows["Services"]["Revenue 2021"] == "702"
    assert rows["Total"]["Headcount 2023"] == "6,425"
    assert rows["Total"]["Headcount 2021"] == "5,674"


STATEMENT = """
Example Holdings Inc.
Consolidated Statements of Operations
Years ended December 31

(In thousands, except per share data)                     2024              2023
Revenue                                            $    512,300      $    488,100
Operating expenses
   Research and development                             120,450           98,770
   Purchases of property and equipment                  (15,770)         (13,730)
Net income                                         $     61,200      $     55,900
"""


def test_period_phrase_above_the_years_and_unit_note_are_kept() -> None:
    [table] = find_tables(STATEMENT)

    assert table.title == "Consolidated Statements of Operations (In thousands, except per share data)"
    assert table.unit == "In thousands, except per share data"
    assert table.columns == ["Years ended December 31 2024", "Years ended December 31 2023"]
    rows = {row[LABEL_HEADER]: row for row in map(parse_row, table.row_lines())}
    assert rows["Purchases of property and equipment"]["Years ended December 31 2024"] == "(15,770)"
    assert rows["Revenue"]["Years ended December 31 2023"] == "$ 488,100"
    assert "Operating expenses" not in rows, "a group label with no figures is no row"


def test_prose_with_figures_is_not_a_table() -> None:
    text = "In 2024 revenue rose to 512,300 from 488,100 a year earlier, and net income to 61,200.\n" * 3

    assert find_tables(text) == []


# Hong Kong bilingual statements often print the English label left of the figures and the Chinese one right of them.
TWO_LABELS = """
Consolidated Statement of Profit or Loss                                   综合损益表
For the year ended 31 December                                             截至12月31日止年度
(RMB'000)                                       2024          2023
Revenue                                    1,204,118       981,550         收入
Cost of sales                               (702,311)     (590,402)        销售成本
Profit for the year                          151,020       120,774         年度利润
"""


def test_label_printed_right_of_the_figures_joins_the_row_label() -> None:
    [table] = find_tables(TWO_LABELS)

    rows = [parse_row(line) for line in table.row_lines()]
    assert [row[LABEL_HEADER] for row in rows] == ["Revenue 收入", "Cost of sales 销售成本", "Profit for the year 年度利润"]
    assert _cell(rows[0], "2024") == "1,204,118" and _cell(rows[1], "2023") == "(590,402)"
    assert table.unit == "RMB'000"
