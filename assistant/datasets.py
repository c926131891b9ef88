"""Dataset rows read back from the index: tables for the Datasets tab, and charts of one metric across companies.

Everything here reads the index (Chroma), never the CSV files, so an uploaded dataset and an index served by a
Chroma server show the same way as the shipped one. Rows are parsed with assistant.rows, the one row form.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass

import pandas as pd

from assistant.rows import parse_rows

# The columns a table needs before one of its metrics can be charted across companies.
CHART_COLUMNS = {"company", "metric", "value"}


@dataclass
class Chart:
    """One metric across companies: the bars of a chart."""

    metric: str
    unit: str
    frame: pd.DataFrame  # columns company, value

    @property
    def title(self) -> str:
        return f"{self.metric} ({self.unit})" if self.unit else self.metric


def number(value: object) -> float | None:
    """A cell as a figure, or None when it is not one ("n/a", "超80", NaN)."""
    try:
        figure = float(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        return None
    return figure if figure == figure else None  # NaN is not a figure


def dataset_tables(chunks: Iterable[tuple[str, dict]]) -> dict[str, pd.DataFrame]:
    """Tables of every dataset in the index, from its chunks' (text, metadata): one table per source (and sheet),
    rows in file order, columns in the order they first appear."""
    rows: dict[str, list[tuple[int, int, dict[str, str]]]] = {}
    for text, meta in chunks:
        if meta.get("type") != "dataset":
            continue
        name = str(meta.get("source", ""))
        if meta.get("section"):  # a workbook's sheets are tables of their own
            name = f"{name} › {meta['section']}"
        for offset, row in enumerate(parse_rows(text)):
            rows.setdefault(name, []).append((int(meta.get("row") or 0), offset, row))
    tables: dict[str, pd.DataFrame] = {}
    for name in sorted(rows):
        ordered = [row for _, _, row in sorted(rows[name], key=lambda item: item[:2])]
        columns = list(dict.fromkeys(key for row in ordered for key in row))
        tables[name] = pd.DataFrame([[row.get(c, "") for c in columns] for row in ordered], columns=columns)
    return tables


def _chartable(tables: dict[str, pd.DataFrame]) -> Iterable[pd.DataFrame]:
    return (t for t in tables.values() if CHART_COLUMNS <= set(t.columns))


def chartable_metrics(tables: dict[str, pd.DataFrame]) -> list[str]:
    """Metrics with figures for two companies or more, the metric with most companies first (ties: first seen)."""
    companies: dict[str, set[str]] = {}
    for table in _chartable(tables):
        for _, row in table.iterrows():
            if row["company"] and row["metric"] and number(row["value"]) is not None:
                companies.setdefault(str(row["metric"]), set()).add(str(row["company"]))
    metrics = [m for m, names in companies.items() if len(names) >= 2]
    return sorted(metrics, key=lambda m: -len(companies[m]))


def metric_chart(tables: dict[str, pd.DataFrame], metric: str) -> Chart:
    """One metric across companies from every chartable table (the first figure of a company counts)."""
    values: dict[str, float] = {}
    unit = ""
    for table in _chartable(tables):
        for _, row in table[table["metric"] == metric].iterrows():
            figure = number(row["value"])
            if figure is not None and row["company"]:
                values.setdefault(str(row["company"]), figure)
                unit = unit or str(row.get("unit", "") or "")
    return Chart(metric, unit, pd.DataFrame({"company": list(values), "value": list(values.values())}))


def answer_chart(sources: list[dict], answer_text: str = "", cited: Collection[int] = ()) -> Chart | None:
    """The chart beside an answer: when its sources hold one metric for two companies or more and that metric is
    what the answer is about (one of its rows is cited, or the answer names the metric)."""
    groups: dict[tuple[str, str], dict[str, float]] = {}
    markers: dict[tuple[str, str], set[int]] = {}
    for source in sources or []:
        if source.get("type") != "dataset":
            continue
        for row in parse_rows(source.get("text", "")):
            figure = number(row.get("value"))
            if not row.get("company") or not row.get("metric") or figure is None:
                continue
            key = (row["metric"], row.get("unit", ""))
            groups.setdefault(key, {}).setdefault(row["company"], figure)
            markers.setdefault(key, set()).add(int(source.get("marker") or 0))
    text = re.sub(r"\s+", "", answer_text or "")

    def relevant(key: tuple[str, str]) -> bool:
        core = re.sub(r"[((].*?[))]", "", key[0]).replace(" ", "")
        core = re.sub(r"^\d{4}(年|Q\d)?", "", core)  # "2025年股价涨幅" is named as "全年股价涨幅" too
        return bool(markers[key] & set(cited)) or bool(core and core in text)

    candidates = [(key, values) for key, values in groups.items() if len(values) >= 2 and relevant(key)]
    if not candidates:
        return None
    (metric, unit), values = max(candidates, key=lambda kv: len(kv[1]))  # first seen wins ties
    return Chart(metric, unit, pd.DataFrame({"company": list(values), "value": list(values.values())}))
