"""Test PDFs built at test time: a small bilingual (Chinese/English) annual report with statement tables.

`make_bilingual_report(path)` writes the PDF and returns the figures a reader should be able to look up in it, so
loader tests and answer tests check against one source of truth. The company is invented.
"""

from __future__ import annotations

import importlib.resources
import subprocess
from pathlib import Path

from fpdf import FPDF

COMPANY = "示例科技有限公司 Sample Technology Limited"

# Statement tables: (page, title, unit line, period header lines over the figure columns, years, rows).
INCOME = {
    "page": 2,
    "title": "综合损益表 Consolidated Income Statement",
    "unit": "人民币百万元",
    "unit_line": "(人民币百万元 RMB million)",
    "group": ["截至12月31日止年度", "Year ended 31 December"],
    "years": ["2024年", "2023年"],
    "rows": [
        ("收入 Revenue", "365,906", "270,970"),
        ("销售成本 Cost of sales", "(289,346)", "(213,495)"),
        ("毛利 Gross profit", "76,560", "57,475"),
        ("研发开支 Research and development expenses", "(24,050)", "(19,098)"),
        ("经营利润 Operating profit", "24,506", "11,202"),
        ("年度利润 Profit for the year", "23,658", "17,475"),
        ("每股基本盈利(人民币元) Basic earnings per share (RMB)", "0.95", "0.70"),
    ],
}
BALANCE = {
    "page": 3,
    "title": "综合财务状况表 Consolidated Statement of Financial Position",
    "unit": "千港元",
    "unit_line": "(千港元 HK$'000)",
    "group": ["于12月31日", "As at 31 December"],
    "years": ["2024年", "2023年"],
    "rows": [
        ("物业、厂房及设备 Property, plant and equipment", "8,215,004", "7,630,112"),
        ("现金及现金等价物 Cash and cash equivalents", "3,402,587", "2,981,640"),
        ("总资产 Total assets", "41,806,233", "36,117,905"),
        ("雇员人数 Number of employees", "43,916", "41,226"),
    ],
}
PROSE = {
    1: [
        "示例科技有限公司 2024 年度报告",
        "本集团于 2024 年继续投入人工智能研发,收入同比增长,毛利率保持稳定。",
        "Sample Technology Limited continued to invest in artificial intelligence in 2024; revenue grew and the gross "
        "margin held steady.",
    ],
    4: [
        "管理层讨论及分析 Management discussion",
        "董事会建议派发末期股息。本年度的资本开支主要用于数据中心及研发设施。",
        "The board recommends a final dividend. Capital expenditure this year went mainly to data centres.",
    ],
}


def cjk_font() -> Path:
    """A TrueType font with Chinese glyphs: the test extra `paperang-p2-fonts-cjk` ships WenQuanYi Micro Hei;
    a system font found by fontconfig is the fallback."""
    try:
        font = importlib.resources.files("paperang_p2_fonts_cjk").joinpath("fonts", "wqy-microhei.ttc")
        if font.is_file():
            return Path(str(font))
    except ModuleNotFoundError:
        pass
    try:
        found = subprocess.run(["fc-match", "-f", "%{file}", ":lang=zh"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        found = ""
    if found.lower().endswith((".ttf", ".ttc", ".otf")) and Path(found).is_file():
        return Path(found)
    raise RuntimeError("no Chinese font for the test PDF: install the test extra (pip install -e '.[test]') "
                       "or a system CJK font (apt-get install fonts-wqy-microhei)")


def _table(pdf: FPDF, table: dict) -> None:
    label_w, num_w, line_h = 100.0, 38.0, 7.0
    pdf.set_font("cjk", size=12)
    pdf.cell(0, line_h, table["title"], new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, line_h, table["unit_line"], new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    for text in table["group"]:
        pdf.cell(label_w, line_h, "")
        pdf.cell(num_w * 2, line_h, text, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(label_w, line_h, "")
    for year in table["years"]:
        pdf.cell(num_w, line_h, year, align="R")
    pdf.ln(line_h)
    for label, *cells in table["rows"]:
        pdf.cell(label_w, line_h, label)
        for cell in cells:
            pdf.cell(num_w, line_h, cell, align="R")
        pdf.ln(line_h)


def make_bilingual_report(path: Path) -> dict:
    """Write the report to `path`; return {"tables": [INCOME, BALANCE], "company": ..., "missing_year": "2022"}:
    each table gives its page (1-based), title, unit, the period headers and every row's printed cells."""
    pdf = FPDF()
    pdf.add_font("cjk", fname=str(cjk_font()))
    for page in range(1, 5):
        pdf.add_page()
        pdf.set_font("cjk", size=10)
        for line in PROSE.get(page, []):
            pdf.multi_cell(0, 6, line, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)
        for table in (INCOME, BALANCE):
            if table["page"] == page:
                _table(pdf, table)
    pdf.output(str(path))
    return {"tables": [INCOME, BALANCE], "company": COMPANY, "missing_year": "2022"}
