"""The outputs of `assistant eval`: summary.json, results.csv, the self-contained report.html (no scripts, no
external files) and the Markdown summary table the command prints. Secrets are redacted from every file."""

from __future__ import annotations

import csv
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any

from assistant.scoring import QuestionResult, hit_at, reciprocal_rank, source_matches

RESULT_COLUMNS = [
    "config", "id", "language", "kind", "answerable", "question", "history", "expected", "expected_all", "answer",
    "answer_chars", "first_line_hit", "refused", "correct", "correct_strict", "refusal_correct", "failure",
    "first_hit_rank", "hit_at_1", "hit_at_5", "reciprocal_rank", "gold_sources", "retrieved_sources", "citations",
    "citations_supported", "citation_validity", "uncited", "gold_pages", "cited_pages", "right_with_page",
    "latency_ms", "retrieval_ms", "generation_ms", "prompt_tokens",
    "completion_tokens", "judge_correctness", "judge_faithfulness", "error",
]


def result_row(r: QuestionResult) -> dict[str, Any]:
    has_gold = bool(r.gold_sources)
    return {
        "config": r.config,
        "id": r.id,
        "language": r.language,
        "kind": r.kind,
        "answerable": r.answerable,
        "question": r.question,
        "history": json.dumps(r.history, ensure_ascii=False) if r.history else "",
        "expected": " | ".join(r.expected),
        "expected_all": json.dumps(r.expected_all, ensure_ascii=False) if r.expected_all else "",
        "answer": r.answer,
        "answer_chars": "" if r.answer_chars is None else r.answer_chars,
        "first_line_hit": "" if r.first_line_hit is None else r.first_line_hit,
        "refused": r.refused,
        "correct": r.correct,
        "correct_strict": r.correct_strict,
        "refusal_correct": r.refusal_correct,
        "failure": r.failure,
        "first_hit_rank": r.first_hit_rank if r.first_hit_rank is not None else "",
        "hit_at_1": hit_at(r.first_hit_rank, 1) if has_gold else "",
        "hit_at_5": hit_at(r.first_hit_rank, 5) if has_gold else "",
        "reciprocal_rank": round(reciprocal_rank(r.first_hit_rank), 4) if has_gold else "",
        "gold_sources": " | ".join(r.gold_sources),
        "retrieved_sources": " | ".join(f"{n}:{s}" for n, s in enumerate(r.retrieved, start=1)),
        "citations": r.citations,
        "citations_supported": r.citations_supported,
        "citation_validity": "" if r.citation_validity is None else round(r.citation_validity, 4),
        "uncited": r.uncited,
        "gold_pages": " | ".join(map(str, r.gold_pages)),
        "cited_pages": " | ".join(map(str, r.cited_pages)),
        "right_with_page": "" if r.page_hit is None else r.page_hit,
        "latency_ms": "" if r.latency_ms is None else r.latency_ms,
        "retrieval_ms": "" if r.retrieval_ms is None else r.retrieval_ms,
        "generation_ms": "" if r.generation_ms is None else r.generation_ms,
        "prompt_tokens": "" if r.prompt_tokens is None else r.prompt_tokens,
        "completion_tokens": "" if r.completion_tokens is None else r.completion_tokens,
        "judge_correctness": "" if r.judge_correctness is None else r.judge_correctness,
        "judge_faithfulness": "" if r.judge_faithfulness is None else r.judge_faithfulness,
        "error": r.error,
    }


def write_outputs(out_dir: Path, summary: dict, results: dict[str, list[QuestionResult]], secrets: list[str] | None = None) -> None:
    secrets = secrets or []
    out_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(summary, ensure_ascii=False, indent=2)
    (out_dir / "summary.json").write_text(redact(text, secrets) + "\n", encoding="utf-8")

    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RESULT_COLUMNS)
    writer.writeheader()
    for rows in results.values():
        for r in rows:
            writer.writerow(result_row(r))
    # utf-8-sig: spreadsheet programs then read the Chinese text correctly.
    (out_dir / "results.csv").write_text(redact(buffer.getvalue(), secrets), encoding="utf-8-sig")
    (out_dir / "report.html").write_text(redact(render_report(summary, results), secrets), encoding="utf-8")


def redact(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text




# --- the HTML report -----------------------------------------------------------------------------------------------
PALETTE = ["#2f6db5", "#e07b39", "#3a9d5d", "#b5478f", "#7d6bc2", "#b59b2f", "#4aa3b5", "#8c564b"]
RATE_METRICS = [
    ("pass_rate", "Pass rate (all)"),
    ("answer_accuracy", "Answer accuracy"),
    ("answer_accuracy_strict", "Answer accuracy, strict (every group)"),
    ("refusal_accuracy", "Refusal accuracy"),
    ("false_refusal_rate", "False-refusal rate ↓"),
    ("hit_at_1", "Hit@1"),
    ("hit_at_5", "Hit@5"),
    ("mrr", "MRR"),
    ("citation_validity", "Citation validity"),
    ("first_line_hit", "Expected answer in the first line"),
    ("right_with_page", "Right, with an expected page cited"),
]
TABLE_METRICS = [
    ("n", "Questions", "int"),
    ("answerable", "Answerable", "int"),
    ("unanswerable", "Unanswerable", "int"),
    *[(key, label, "pct" if key != "mrr" else "dec") for key, label in RATE_METRICS],
    ("retrieval_n", "Retrieval scored (answerable with gold sources)", "int"),
    ("citations", "Citations checked", "int"),
    ("answer_chars_median", "Answer length, median (characters)", "dec1"),
    ("answer_chars_median_answered", "Answer length, median, answerable answered", "dec1"),
    ("latency_p50_ms", "Latency p50", "ms"),
    ("latency_p95_ms", "Latency p95", "ms"),
    ("latency_mean_ms", "Latency mean", "ms"),
    ("prompt_tokens_mean", "Prompt tokens (mean)", "dec1"),
    ("completion_tokens_mean", "Completion tokens (mean)", "dec1"),
    ("errors", "Errors", "int"),
    ("judge_correctness", "Judge correctness (1-5)", "dec1"),
    ("judge_faithfulness", "Judge faithfulness (1-5)", "dec1"),
]

CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,"PingFang SC","Noto Sans CJK SC","Source Han Sans SC","Microsoft YaHei",
"WenQuanYi Micro Hei",sans-serif;margin:0;color:#1d232b;background:#f5f6f8}
main{max-width:1180px;margin:0 auto;padding:24px 28px 60px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 12px;border-bottom:2px solid #dde1e7;padding-bottom:6px}
h3{font-size:15px;margin:18px 0 8px}
.meta{color:#5a6472;font-size:13px;margin:0 0 4px}
.card{background:#fff;border:1px solid #dde1e7;border-radius:8px;padding:14px 16px;margin:10px 0}
table{border-collapse:collapse;width:100%;font-size:13px;background:#fff}
th,td{border:1px solid #dde1e7;padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef1f5;font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.summary,table.settings{width:auto;min-width:560px}table.summary td:first-child{white-space:nowrap;padding-right:28px}
table.summary td.num,table.summary th.num{min-width:110px}
.legend{display:flex;flex-wrap:wrap;gap:14px;font-size:13px;margin:4px 0 10px}
.legend span{display:inline-flex;align-items:center;gap:6px}
.swatch{display:inline-block;width:12px;height:12px;border-radius:2px}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(260px,1fr));gap:12px}
.chart h3{margin:0 0 8px}
.group{margin:0 0 8px}
.group-label{font-size:12px;font-weight:600;color:#3b4450;margin:0 0 2px}
.bar-row{display:grid;grid-template-columns:1fr 56px;align-items:center;gap:8px;margin:2px 0}
.track{background:#eef1f5;height:14px;border-radius:3px;overflow:hidden}
.bar{height:100%;border-radius:3px}
.value{font-size:12px;text-align:right;font-variant-numeric:tabular-nums}
.na{color:#9aa3ae}
.ok{color:#2b7a3f;font-weight:600}.bad{color:#b3261e;font-weight:600}
.failures td{font-size:12.5px}
.answer{max-height:11em;overflow:auto;white-space:pre-wrap;word-break:break-word}
.sources{font-size:12px;overflow-wrap:anywhere}
.sources .gold{font-weight:700;color:#2b7a3f}
.tag{display:inline-block;font-size:11px;padding:1px 6px;border-radius:9px;background:#eef1f5;margin:0 2px 2px 0;white-space:nowrap}
.tag.bad{background:#fbe3e1}
.history{color:#5a6472;font-size:12px;margin-top:4px}
.muted{color:#5a6472;font-size:12.5px}
svg text{font-family:inherit}
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _fmt(value: Any, kind: str) -> str:
    if value is None:
        return '<span class="na">–</span>'
    if kind == "pct":
        return f"{value * 100:.1f}%"
    if kind == "dec":
        return f"{value:.3f}"
    if kind == "dec1":
        return f"{value:.1f}"
    if kind == "ms":
        return f"{value / 1000:.2f} s" if value >= 1000 else f"{value:.0f} ms"
    return _e(value)


def _legend(names: list[str]) -> str:
    items = "".join(
        f'<span><i class="swatch" style="background:{PALETTE[i % len(PALETTE)]}"></i>{_e(n)}</span>' for i, n in enumerate(names)
    )
    return f'<div class="legend">{items}</div>'


def bar_chart(title: str, groups: list[tuple], kind: str = "pct", note: str = "") -> str:
    """Horizontal CSS bars: one block per group, one bar per series (series index picks the colour). Values 0..1.

    A group is (label, [(series index, value), ...]) or (label, series, kind) to format one group differently."""
    blocks = []
    for label, series, *own_kind in groups:
        group_kind = own_kind[0] if own_kind else kind
        rows = []
        for index, value in series:
            width = 0 if value is None else max(0.0, min(1.0, value)) * 100
            colour = PALETTE[index % len(PALETTE)]
            rows.append(
                f'<div class="bar-row"><div class="track"><div class="bar" style="width:{width:.1f}%;background:{colour}"></div></div>'
                f'<div class="value">{_fmt(value, group_kind)}</div></div>'
            )
        blocks.append(f'<div class="group"><div class="group-label">{_e(label)}</div>{"".join(rows)}</div>')
    extra = f'<div class="muted">{_e(note)}</div>' if note else ""
    return f'<div class="card chart"><h3>{_e(title)}</h3>{"".join(blocks)}{extra}</div>'


def latency_histogram(results: dict[str, list[QuestionResult]], bins: int = 12) -> str:
    """Inline SVG: answer latency counts per bin, one bar per configuration in each bin."""
    names = list(results)
    values = {n: [r.latency_ms / 1000 for r in rows if r.latency_ms is not None] for n, rows in results.items()}
    everything = [v for vs in values.values() for v in vs]
    if not everything:
        return '<p class="muted">No latencies were recorded.</p>'
    low, high = 0.0, max(everything)
    step = _nice_step(high / bins) if high > 0 else 1.0
    count = max(1, math.ceil(high / step + 1e-9))
    counts = {n: [0] * count for n in names}
    for n, vs in values.items():
        for v in vs:
            counts[n][min(count - 1, int((v - low) / step))] += 1
    peak = max(max(c) for c in counts.values()) or 1
    tick_step = max(1, math.ceil(peak / 4))
    peak = tick_step * math.ceil(peak / tick_step)
    width, height, left, bottom, top = 1080, 280, 44, 42, 14
    plot_w, plot_h = width - left - 12, height - bottom - top
    slot = plot_w / count
    bar_w = max(2.0, (slot - 6) / len(names))
    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" role="img" aria-label="latency histogram" '
             f'style="max-width:{width}px;background:#fff">']
    for label in range(0, peak + 1, tick_step):
        y = top + plot_h - plot_h * label / peak
        parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e3e7ec"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#5a6472">{label}</text>')
    for b in range(count):
        x0 = left + b * slot + 3
        for i, n in enumerate(names):
            c = counts[n][b]
            h = plot_h * c / peak
            x = x0 + i * bar_w
            colour = PALETTE[i % len(PALETTE)]
            tip = f"{n}: {c} question(s) at {b * step:g}–{(b + 1) * step:g} s"
            parts.append(
                f'<rect x="{x:.1f}" y="{top + plot_h - h:.1f}" width="{bar_w - 1:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{_e(tip)}</title></rect>"
            )
        parts.append(
            f'<text x="{x0 + (slot - 6) / 2:.1f}" y="{top + plot_h + 15}" font-size="11" text-anchor="middle" fill="#3b4450">'
            f"{b * step:g}–{(b + 1) * step:g}</text>"
        )
    parts.append(f'<line x1="{left}" x2="{width - 12}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#8a94a0"/>')
    parts.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" font-size="12" text-anchor="middle" fill="#3b4450">'
        "answer latency (seconds) — bar height: number of questions</text>"
    )
    parts.append("</svg>")
    return "".join(parts)


def _nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * magnitude:
            return factor * magnitude
    return 10 * magnitude


def _summary_table(summary: dict) -> str:
    names = summary["config_names"]
    head = "".join(f'<th class="num">{_e(n)}</th>' for n in names)
    rows = []
    for key, label, kind in TABLE_METRICS:
        values = [summary["configs"][n]["overall"].get(key) for n in names]
        if key.startswith("judge_") and all(v is None for v in values):
            continue
        cells = "".join(f'<td class="num">{_fmt(v, kind)}</td>' for v in values)
        rows.append(f"<tr><td>{_e(label)}</td>{cells}</tr>")
    return f'<table class="summary"><thead><tr><th>Metric</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _settings_table(summary: dict) -> str:
    names = summary["config_names"]
    keys = list(dict.fromkeys(key for n in names for key in summary["configs"][n]["settings"]))
    head = "".join(f"<th>{_e(n)}</th>" for n in names)
    rows = []
    for key in keys:
        values = [summary["configs"][n]["settings"].get(key) for n in names]
        if all(v in (None, "") for v in values):
            continue
        changed = any(key in summary["configs"][n]["overrides"] for n in names)
        label = f"<b>{_e(key)}</b>" if changed else _e(key)
        rows.append(f"<tr><td>{label}</td>{''.join(f'<td>{_e(v)}</td>' for v in values)}</tr>")
    return f'<table class="settings"><thead><tr><th>Setting</th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _group_table(summary: dict, section: str, title: str) -> str:
    names = summary["config_names"]
    groups = sorted({g for n in names for g in summary["configs"][n][section]})
    if not groups:
        return ""
    cols = [("n", "n", "int"), ("pass_rate", "Pass", "pct"), ("answer_accuracy", "Accuracy", "pct"),
            ("answer_accuracy_strict", "Strict", "pct"), ("first_line_hit", "First line", "pct"),
            ("refusal_accuracy", "Refusal acc.", "pct"), ("false_refusal_rate", "False refusal", "pct"),
            ("hit_at_1", "Hit@1", "pct"), ("hit_at_5", "Hit@5", "pct"), ("mrr", "MRR", "dec"),
            ("citation_validity", "Citations valid", "pct"), ("latency_p50_ms", "p50", "ms"), ("latency_p95_ms", "p95", "ms")]
    head = "".join(f'<th class="num">{_e(label)}</th>' for _, label, _ in cols)
    config_head = "<th>Configuration</th>" if len(names) > 1 else ""
    rows = []
    for g in groups:
        for n in names:
            metrics = summary["configs"][n][section].get(g)
            if metrics is None:
                continue
            config_cell = f"<td>{_e(n)}</td>" if len(names) > 1 else ""
            cells = "".join(f'<td class="num">{_fmt(metrics.get(k), kind)}</td>' for k, _, kind in cols)
            rows.append(f"<tr><td>{_e(g)}</td>{config_cell}{cells}</tr>")
    return (f'<table><thead><tr><th>{_e(title)}</th>{config_head}{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>')


def _group_charts(summary: dict, section: str, metrics: list[tuple[str, str]]) -> str:
    names = summary["config_names"]
    groups = sorted({g for n in names for g in summary["configs"][n][section]})
    charts = []
    for key, label in metrics:
        data = []
        for g in groups:
            series = [(i, summary["configs"][n][section].get(g, {}).get(key)) for i, n in enumerate(names)]
            if any(v is not None for _, v in series):
                data.append((g, series))
        if data:
            charts.append(bar_chart(label, data, "dec" if key == "mrr" else "pct"))
    return f'<div class="charts">{"".join(charts)}</div>'


def _sources_cell(r: QuestionResult) -> str:
    items = []
    for n, source in enumerate(r.retrieved, start=1):
        cls = ' class="gold"' if any(source_matches(source, g) for g in r.gold_sources) else ""
        items.append(f"<div{cls}>{n}. {_e(source)}</div>")
    retrieved = "".join(items) or '<span class="na">none</span>'
    wanted = "".join(f"<div>{_e(g)}</div>" for g in r.gold_sources)
    gold_block = f'<div class="muted" style="margin-top:4px">gold:</div>{wanted}' if wanted else ""
    return f'<div class="sources">{retrieved}{gold_block}</div>'


def _failures_table(results: dict[str, list[QuestionResult]]) -> str:
    multi = len(results) > 1
    order = {r.id: n for n, r in enumerate(next(iter(results.values()), []))}
    failed = [(name, r) for name, rs in results.items() for r in rs if r.failure]
    failed.sort(key=lambda pair: order.get(pair[1].id, len(order)))  # one question's failures side by side
    rows = []
    for name, r in failed:
        history = "".join(
            f'<div class="history">earlier: {_e(t.get("question"))} → {_e(t.get("answer"))}</div>' for t in r.history
        )
        tags = f'<span class="tag bad">{_e(r.failure)}</span><span class="tag">{_e(r.language)}</span>'
        if r.kind:
            tags += f'<span class="tag">{_e(r.kind)}</span>'
        if multi:
            tags = f'<span class="tag">{_e(name)}</span>' + tags
        expected = " | ".join(r.expected) if r.expected else ("(should refuse)" if not r.answerable else "")
        if len(r.expected_all) > 1:
            expected = " AND ".join("(" + " | ".join(group) + ")" for group in r.expected_all)
        given = r.error or r.answer
        rows.append(
            f"<tr><td><b>{_e(r.id)}</b><br>{tags}</td><td>{_e(r.question)}{history}</td><td>{_e(expected)}</td>"
            f'<td><div class="answer">{_e(given)}</div></td><td>{_sources_cell(r)}</td></tr>'
        )
    if not rows:
        return '<p class="muted">No failures.</p>'
    return ('<table class="failures"><colgroup><col style="width:120px"><col style="width:22%"><col style="width:12%">'
            '<col><col style="width:24%"></colgroup><thead><tr><th>Question id</th><th>Question</th><th>Expected</th>'
            f'<th>Given answer</th><th>Retrieved sources (gold in green)</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


def _per_question_grid(results: dict[str, list[QuestionResult]]) -> str:
    names = list(results)
    if len(names) < 2:
        return ""
    head = "".join(f'<th class="num">{_e(n)}</th>' for n in names)
    rows = []
    by_id = {n: {r.id: r for r in rs} for n, rs in results.items()}
    for r0 in results[names[0]]:
        cells = []
        for n in names:
            r = by_id[n].get(r0.id)
            if r is None:
                cells.append('<td class="num na">–</td>')
                continue
            mark = '<span class="ok">✓</span>' if r.passed else '<span class="bad">✗</span>'
            rank = f" hit@{r.first_hit_rank}" if r.first_hit_rank else (" no hit" if r.gold_sources else "")
            cells.append(f'<td class="num">{mark}<span class="muted">{_e(rank)}</span></td>')
        rows.append(f"<tr><td>{_e(r0.id)}</td><td>{_e(r0.question)}</td>{''.join(cells)}</tr>")
    return (f'<h2>Question by question</h2><details class="card"><summary>{len(rows)} questions × {len(names)} configurations '
            f'(✓ passed, hit@N: rank of the first gold source)</summary><table><thead><tr><th>Id</th><th>Question</th>{head}'
            f'</tr></thead><tbody>{"".join(rows)}</tbody></table></details>')


def render_report(summary: dict, results: dict[str, list[QuestionResult]]) -> str:
    """The self-contained HTML report: everything inline, every value escaped."""
    names = summary["config_names"]
    overall_groups = []
    for key, label in RATE_METRICS:
        series = [(i, summary["configs"][n]["overall"].get(key)) for i, n in enumerate(names)]
        if any(v is not None for _, v in series):
            overall_groups.append((label, series, "dec" if key == "mrr" else "pct"))
    latency_rows = "".join(
        f"<tr><td>{_e(n)}</td><td class=\"num\">{_fmt(summary['configs'][n]['overall']['latency_p50_ms'], 'ms')}</td>"
        f"<td class=\"num\">{_fmt(summary['configs'][n]['overall']['latency_p95_ms'], 'ms')}</td>"
        f"<td class=\"num\">{_fmt(summary['configs'][n]['overall']['latency_mean_ms'], 'ms')}</td></tr>"
        for n in names
    )
    failures = sum(1 for rs in results.values() for r in rs if r.failure)
    judge = f"LLM judge: {summary['judge']}" if summary.get("judge") else "no LLM judge (string metrics only)"
    lang_metrics = [("answer_accuracy", "Answer accuracy"), ("answer_accuracy_strict", "Answer accuracy, strict"),
                    ("hit_at_5", "Hit@5"), ("refusal_accuracy", "Refusal accuracy"),
                    ("false_refusal_rate", "False-refusal rate ↓")]
    kind_metrics = [("pass_rate", "Pass rate (answerable: correct, unanswerable: refused)"), ("hit_at_5", "Hit@5")]
    answer_keys = {"pass_rate", "answer_accuracy", "answer_accuracy_strict", "refusal_accuracy", "false_refusal_rate", "first_line_hit"}
    answer_labels = {label for key, label in RATE_METRICS if key in answer_keys}
    rate_chart = bar_chart("Rates (higher is better, except ↓)", [g for g in overall_groups if g[0] in answer_labels])
    retrieval_chart = bar_chart(
        "Retrieval and citations", [g for g in overall_groups if g[0] not in answer_labels],
        note="Hit@k and MRR are on answerable questions with gold sources; MRR shown on a 0–1 scale.",
    )
    if summary["configs"][names[0]]["by_kind"]:
        kind_charts = _legend(names) + _group_charts(summary, "by_kind", kind_metrics)
    else:
        kind_charts = '<p class="muted">The questions have no kinds.</p>'
    body = f"""
<h1>Evaluation report</h1>
<p class="meta">{_e(summary['questions'])} questions from {_e(summary['questions_file'])} · {len(names)} configuration(s):
{_e(', '.join(names))} · {_e(judge)} · {_e(summary['created'])}</p>
<h2>Summary</h2>
{_legend(names) if len(names) > 1 else ""}
{_summary_table(summary)}
<h2>Metrics by configuration</h2>
{_legend(names)}
<div class="charts">{rate_chart}{retrieval_chart}</div>
<h3>Settings</h3>
{_settings_table(summary)}
<h2>By language</h2>
{_legend(names)}
{_group_charts(summary, "by_language", lang_metrics)}
{_group_table(summary, "by_language", "Language")}
<h2>By kind</h2>
{kind_charts}
{_group_table(summary, "by_kind", "Kind")}
<h2>Latency</h2>
{_legend(names)}
<div class="card">{latency_histogram(results)}</div>
<table style="max-width:560px"><thead><tr><th>Configuration</th><th class="num">p50</th><th class="num">p95</th>
<th class="num">mean</th></tr></thead><tbody>{latency_rows}</tbody></table>
<h2>Failures ({failures})</h2>
<p class="muted">Wrong answers, false refusals, answered unanswerable questions and errors. The answer is shown as given,
citation markers included.</p>
{_failures_table(results)}
{_per_question_grid(results)}
"""
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,'
            f'initial-scale=1"><title>Evaluation report</title><style>{CSS}</style></head><body><main>{body}</main></body></html>\n')


# --- command line --------------------------------------------------------------------------------------------------
def format_summary(summary: dict) -> str:
    """A Markdown table of the main metrics, one column per configuration."""
    names = summary["config_names"]
    lines = ["| metric | " + " | ".join(names) + " |", "|---|" + "---:|" * len(names)]
    for key, label, kind in TABLE_METRICS:
        values = [summary["configs"][n]["overall"].get(key) for n in names]
        if key.startswith("judge_") and all(v is None for v in values):
            continue
        cells = [re.sub(r"<[^>]+>", "", _fmt(v, kind)) for v in values]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


