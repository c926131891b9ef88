"""Annual reports: figures in statement tables are looked up by row and period, in Chinese and English, with the
page cited and the table's unit stated; a period the table lacks is refused."""

from __future__ import annotations

import pytest

from tests.pdf_fixtures import make_bilingual_report


@pytest.fixture(scope="module")
def report_assistant(tmp_path_factory, embedder):
    from assistant.research import ResearchAssistant
    from assistant.settings import Settings

    folder = tmp_path_factory.mktemp("filings")
    pdf = folder / "sample-annual-report-2024.pdf"
    make_bilingual_report(pdf)
    assistant = ResearchAssistant(Settings(index_dir=folder / "index"), embedder=embedder)
    assert not assistant.ingest([str(pdf)], show_progress=False).failed
    return assistant


@pytest.mark.parametrize(
    ("question", "figure", "page", "unit"),
    [
        ("示例科技2024年的收入是多少?", "365,906", 2, "人民币百万元"),
        ("2024年的经营利润是多少?", "24,506", 2, "人民币百万元"),
        ("示例科技2023年的总资产是多少?", "36,117,905", 3, "千港元"),
        ("What was revenue in 2023?", "270,970", 2, "人民币百万元"),
        ("What were total assets at 31 December 2023?", "36,117,905", 3, "千港元"),
        ("示例科技2024年的现金及现金等价物是多少?", "3,402,587", 3, "千港元"),
        ("What was cash and cash equivalents at 31 December 2024?", "3,402,587", 3, "千港元"),
        ("What was gross profit in 2024?", "76,560", 2, "人民币百万元"),
        # A per-share row is no "millions", whatever the table's heading says of the others.
        ("What was basic earnings per share in 2024?", "0.95", 2, "RMB per share"),
        ("2023年的每股基本盈利是多少?", "0.70", 2, "RMB per share"),
    ],
)
def test_a_statement_figure_is_looked_up_by_row_and_period_with_its_page_and_unit(
    report_assistant, question: str, figure: str, page: int, unit: str
) -> None:
    answer = report_assistant.ask(question)
    assert answer.text.splitlines()[0].startswith(figure)
    assert unit in answer.text
    assert answer.citations and all(c.supported and c.page == page for c in answer.citations)


@pytest.mark.parametrize("question", ["示例科技2022年的收入是多少?", "What was operating profit in 2022?"])
def test_a_period_the_tables_do_not_have_is_refused(report_assistant, question: str) -> None:
    assert report_assistant.ask(question).refused


@pytest.mark.parametrize(
    ("question", "figure"),
    [("示例科技2024年的雇员人数是多少?", "43,916"), ("How many employees did the company have at 31 December 2023?", "41,226")],
)
def test_a_headcount_row_is_answered_without_the_tables_money_unit(report_assistant, question: str, figure: str) -> None:
    answer = report_assistant.ask(question)
    assert answer.text.splitlines()[0].startswith(figure)
    assert "千港元" not in answer.text and "thousand" not in answer.text.lower()


def test_a_figure_question_brings_statement_rows_into_the_passages(report_assistant) -> None:
    retrieval = report_assistant.retrieve("What was operating profit in 2024?")
    ranked = [p for p in retrieval.passages if "rows" in p.ranks]
    assert ranked and ranked[0].meta["page"] == 2 and "Operating profit" in ranked[0].text


def test_table_chunks_carry_their_row_count_and_prose_chunks_none() -> None:
    from langchain_core.documents import Document

    from assistant.chunking import chunk_documents

    table = Document(page_content="Income statement (In millions)\nitem: Revenue; 2024: 10。\nitem: Cost; 2024: 4。",
                     metadata={"source": "r.pdf", "format": "table", "table": "Income statement", "page": 3})
    prose = Document(page_content="Revenue grew in 2024.", metadata={"source": "r.pdf", "page": 2})
    chunks = chunk_documents([table, prose], size=320, overlap=0)
    assert [c.metadata.get("rows") for c in chunks] == [2, None]


# --- row look-up rules (assistant/lookup.py), on invented tables ------------------------------------------------
SEGMENTS = ("Business Segment Information (Millions)\n"
            "item: Widgets; Net Sales 2024: 4,796; Net Sales 2023: 4,731; Operating Income 2024: 1,027。\n"
            "item: Gadgets; Net Sales 2024: 6,827; Net Sales 2023: 6,235; Operating Income 2024: 1,720。")
INCOME = ("Consolidated Statement of Income (Millions, except per share amounts)\n"
          "item: Net sales; Years ended December 31 2024: $ 41,280; Years ended December 31 2023: $ 39,954。\n"
          "item: Operating income; Years ended December 31 2024: 6,950; Years ended December 31 2023: 6,415。")
SUMMARY = ("Selected Financial Data (Dollars in millions)\n"
           "item: Net sales; 2024: $ 41,280; 2023: $ 39,954; 2022: $ 38,120。")


def _hits(*texts: str) -> list[tuple[str, str, dict, float]]:
    return [(f"c{i}", text, {"table": text.splitlines()[0]}, 0.8) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def lexicon():
    from assistant.settings import Settings
    from assistant.text import Lexicon

    return Lexicon.load(Settings().lexicon_path)


@pytest.mark.parametrize("question", ["What were net sales in 2024?", "What was operating income in 2023?"])
def test_the_row_whose_label_says_the_asked_item_outranks_a_table_that_repeats_it_in_column_headers(
    lexicon, question: str
) -> None:
    from assistant.lookup import rank_table_hits
    from assistant.question import analyse

    ranked = rank_table_hits(_hits(SEGMENTS, INCOME), analyse(question, lexicon), lexicon)
    assert ranked[0][1] == INCOME


def test_a_primary_statement_comes_before_a_summary_table_that_repeats_its_row(lexicon) -> None:
    from assistant.lookup import rank_table_hits
    from assistant.question import analyse

    ranked = rank_table_hits(_hits(SUMMARY, INCOME), analyse("What were net sales in 2024?", lexicon), lexicon)
    assert [hit[1] for hit in ranked] == [INCOME], "the repeat ranks no higher than retrieval puts it"


REGIONS = ("Geographic Information (Millions, except Employees)\n"
           "item: North Region; Employees as of December 31, 2024: 30,377; Capital Spending 2024: $ 1,012。\n"
           "item: Total Company; Employees as of December 31, 2024: 81,204; Capital Spending 2024: $ 1,861。")


def test_the_total_row_of_a_breakdown_answers_a_question_that_names_no_part(lexicon) -> None:
    from assistant.lookup import question_terms, row_match
    from assistant.question import analyse
    from assistant.rows import parse_rows

    asked = analyse("How many employees did the company have at December 31, 2024?", lexicon)
    part, total = (row_match(row, "Geographic Information", asked, question_terms(asked, lexicon)) for row in parse_rows(REGIONS))
    assert total > part
    asked = analyse("How many employees were in the North Region at December 31, 2024?", lexicon)
    part, total = (row_match(row, "Geographic Information", asked, question_terms(asked, lexicon)) for row in parse_rows(REGIONS))
    assert part > total


def test_words_of_the_documents_title_name_the_company_not_the_row(lexicon) -> None:
    from assistant.lookup import question_terms, row_match
    from assistant.question import analyse
    from assistant.rows import parse_row

    asked = analyse("What were acme's net sales in 2024?", lexicon)  # a name written in lower case reads as a word
    terms = question_terms(asked, lexicon)
    row = parse_row("item: Net sales; 2024: 41,280; 2023: 39,954。")
    assert row_match(row, "Consolidated Statement of Income", asked, terms, subject="Annual Report 2024 - Acme Company") > \
        row_match(row, "Consolidated Statement of Income", asked, terms)


def test_another_companys_statement_is_not_ranked_for_a_question_that_names_a_company(lexicon) -> None:
    from assistant.lookup import rank_table_hits
    from assistant.question import analyse

    hits = [("c0", INCOME, {"table": "Consolidated Statement of Income", "title": "Annual Report 2024 - Bluewhale Tech"}, 0.8)]
    assert rank_table_hits(hits, analyse("What were Bluewhale Tech's net sales in 2024?", lexicon), lexicon)
    assert rank_table_hits(hits, analyse("What were Redfox Motors' net sales in 2024?", lexicon), lexicon) == []


def test_tables_that_do_not_name_the_asked_item_are_not_ranked(lexicon) -> None:
    from assistant.lookup import rank_table_hits
    from assistant.question import analyse

    assert rank_table_hits(_hits(INCOME), analyse("What was the dividend payout ratio in 2024?", lexicon), lexicon) == []


@pytest.mark.parametrize(
    ("unit", "label", "key", "cell", "phrase"),
    [
        ("Millions, except per share amounts", "Net sales", "Years ended December 31 2024", "$ 41,280", "USD millions"),
        ("Dollars in millions", "Long-term debt", "December 31, 2024", "12,087", "USD millions"),
        ("In thousands", "Revenue", "2024", "1,204", "Thousands"),
        ("HK$'000", "Revenue", "2024", "1,204", "HKD thousands"),
        ("千港元", "总资产 Total assets", "于12月31日 2024年", "41,806,233", "千港元"),
        ("Millions, except per share amounts", "Earnings per share — diluted", "2024", "$ 7.63", "USD per share"),
        ("Millions, except Employees", "Total", "Employees as of December 31, 2024", "81,204", ""),
        ("人民币百万元", "雇员人数 Number of employees", "2024年", "43,916", ""),
        ("Millions", "Employee benefit expense", "2024", "2,100", "Millions"),
    ],
)
def test_the_unit_stated_with_a_row_figure(unit: str, label: str, key: str, cell: str, phrase: str) -> None:
    from assistant.lookup import unit_phrase

    assert unit_phrase(unit, label, key, cell) == phrase


@pytest.mark.parametrize(
    ("term", "text", "held"),
    [
        ("expenses", "Research and development expense", True),
        ("activities", "Net cash from operating activity", True),
        ("net sales", "Sales, net", True),
        ("gross", "Gross profit", True),
        ("equity", "Total liabilities", False),
        ("收入", "收入 Revenue", True),
        ("经营利润", "经营开支 Operating expenses", False),
    ],
)
def test_a_row_label_is_matched_word_by_word_in_either_language(term: str, text: str, held: bool) -> None:
    from assistant.lookup import holds

    assert holds(term, text) is held


def test_a_name_of_a_digit_and_capitals_is_a_name_and_a_day_of_the_year_is_a_period(lexicon) -> None:
    from assistant.question import analyse

    asked = analyse("What was 9Z's total equity at December 31, 2024?", lexicon)
    assert asked.entities == ["9Z"] and asked.attributes == ["total", "equity"] and asked.periods == {"2024"}


def test_the_row_the_question_names_beats_a_longer_row_that_also_names_the_company(lexicon) -> None:
    from langchain_core.documents import Document

    from assistant.extractive import ExtractiveAnswerer

    sheet = Document(
        page_content="Consolidated Balance Sheet (Dollars in millions)\n"
                     "item: Total 9Z Company shareholders' equity; December 31, 2024: 9,796; December 31, 2023: 11,563。\n"
                     "item: Noncontrolling interest; December 31, 2024: 52; December 31, 2023: 59。\n"
                     "item: Total equity; December 31, 2024: $ 9,848; December 31, 2023: $ 11,622。",
        metadata={"source": "9z-annual-report-2024.pdf", "title": "Annual Report 2024 - 9Z Company",
                  "table": "Consolidated Balance Sheet", "unit": "Dollars in millions", "rows": 3},
    )
    answer = ExtractiveAnswerer(lexicon, {"en": "no"}).answer("What was 9Z's total equity at December 31, 2024?", [sheet])
    assert answer.startswith("9,848")
