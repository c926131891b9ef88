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
