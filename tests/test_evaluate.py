"""Batch evaluation: answer matching, refusal and retrieval scoring, questions files, settings files, outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from assistant.answer import Answer
from assistant.citations import Citation
from assistant.evaluate import build_summary, load_settings_file, parse_configs, run_eval
from assistant.questions import GoldQuestion, QuestionsFileError, load_questions
from assistant.report import render_report, write_outputs
from assistant.scoring import (
    answer_matches,
    first_hit_rank,
    hit_at,
    normalise_answer,
    percentile,
    reciprocal_rank,
    score_answer,
    source_matches,
    summarise,
)
from assistant.settings import Settings

GOLD = Path(__file__).parent / "data" / "gold.jsonl"


def make_answer(text: str, refused: bool = False, sources: list[str] | None = None, supported: list[bool] | None = None) -> Answer:
    citations = [
        Citation(marker=1, source="s", title="t", date="", page=None, row=None, section="", sentence=text, quote="", supported=ok)
        for ok in supported or []
    ]
    return Answer(
        question="q", standalone_question="q", text=text, refused=refused, language="zh", citations=citations,
        sources=[{"marker": n, "source": s} for n, s in enumerate(sources or [], start=1)],
        timing={"total_ms": 100.0, "retrieval_ms": 40.0, "generation_ms": 60.0}, tokens={"prompt": 10, "completion": 5},
    )


# --- normalisation ------------------------------------------------------------------------------------------------
def test_full_width_percent_matches_half_width_percent():
    assert answer_matches("阿里云收入同比增长３４％ [1]。", ["34%"])
    assert answer_matches("growth was 34%", ["３４％"])


def test_thousands_separators_are_ignored_on_both_sides():
    assert answer_matches("超过1,400亿元", ["1400亿"])
    assert answer_matches("超过1400亿元", ["1,400亿"])


def test_chinese_numerals_match_arabic_digits():
    assert answer_matches("连续九个季度三位数增长", ["9个季度"])
    assert answer_matches("已连续12个季度增长", ["十二个季度"])
    assert answer_matches("十二个季度", ["12个季度"])
    assert answer_matches("分为两类四档", ["2类4档"])


def test_percent_words_and_spacing_fold_to_the_percent_sign():
    assert normalise_answer("34 percent") == normalise_answer("34%") == normalise_answer("百分之三十四")
    assert answer_matches("Revenue grew 34 per cent.", ["34%"])


def test_citation_markers_never_count_as_the_expected_number():
    assert not answer_matches("增速回升 [2]。", ["2"])


def test_a_wrong_figure_does_not_match():
    assert not answer_matches("阿里云收入增长43%", ["34%"])


# --- scoring ------------------------------------------------------------------------------------------------------
def test_refusing_an_unanswerable_question_is_correct_and_refusing_an_answerable_one_is_a_false_refusal():
    unanswerable = GoldQuestion(id="u", question="小米2025年手机出货量?", answerable=False, language="zh")
    answerable = GoldQuestion(id="a", question="阿里云增速?", answers=["34%"], sources=["a.md"], language="zh")

    refused_u = score_answer(unanswerable, make_answer("资料中没有", refused=True), "x")
    refused_a = score_answer(answerable, make_answer("资料中没有", refused=True, sources=["a.md"]), "x")
    answered_u = score_answer(unanswerable, make_answer("出货量1.6亿台"), "x")

    assert refused_u.refusal_correct and refused_u.passed and refused_u.failure == ""
    assert not refused_a.refusal_correct and not refused_a.passed and refused_a.failure == "false refusal"
    assert not answered_u.passed and answered_u.failure == "answered unanswerable"

    metrics = summarise([refused_u, refused_a, answered_u])
    assert metrics["refusal_accuracy"] == 0.5
    assert metrics["false_refusal_rate"] == 1.0
    assert metrics["answer_accuracy"] == 0.0


def test_hit_at_k_and_mrr_follow_the_rank_of_the_first_gold_source():
    ranking = ["b.md", "c.md", "a.md", "a.md", "d.md", "e.md"]
    assert first_hit_rank(ranking, ["a.md", "z.md"]) == 3
    assert first_hit_rank(ranking, ["./A.md"]) == 3  # paths compare without ./ and case
    assert first_hit_rank(["/data/news/b.md", "upload:a.md"], ["a.md"]) == 2, "a file name matches in any folder"
    assert first_hit_rank(ranking, ["z.md"]) is None
    assert not hit_at(3, 1) and hit_at(3, 5)
    assert reciprocal_rank(3) == pytest.approx(1 / 3) and reciprocal_rank(None) == 0.0

    golds = [
        GoldQuestion(id="1", question="q1", answers=["x"], sources=["a.md"]),  # rank 1
        GoldQuestion(id="2", question="q2", answers=["x"], sources=["c.md"]),  # rank 2
        GoldQuestion(id="3", question="q3", answers=["x"], sources=["z.md"]),  # no hit
    ]
    rankings = [["a.md", "b.md"], ["b.md", "c.md"], ["b.md", "c.md"]]
    results = [score_answer(g, make_answer("x", sources=r), "x") for g, r in zip(golds, rankings)]
    metrics = summarise(results)
    assert metrics["hit_at_1"] == pytest.approx(1 / 3, abs=1e-4)
    assert metrics["hit_at_5"] == pytest.approx(2 / 3, abs=1e-4)
    assert metrics["mrr"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)


def test_citation_validity_is_pooled_over_citations_and_none_without_citations():
    gold = GoldQuestion(id="1", question="q", answers=["x"])
    with_citations = score_answer(gold, make_answer("x [1]", supported=[True, True, False]), "c")
    without = score_answer(gold, make_answer("x"), "c")
    assert with_citations.citation_validity == pytest.approx(2 / 3)
    assert without.citation_validity is None
    assert summarise([with_citations, without])["citation_validity"] == pytest.approx(0.6667, abs=1e-4)
    assert summarise([without])["citation_validity"] is None


def test_percentile_interpolates_like_numpy():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([10], 95) == 10
    assert percentile([], 50) is None


# --- questions files ----------------------------------------------------------------------------------------------
def test_bad_json_on_line_3_is_reported_with_line_3(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?"}\n{"question": "b?"}\n{"question": "c?",\n', encoding="utf-8")
    with pytest.raises(QuestionsFileError, match=r"line 3: invalid JSON"):
        load_questions(path)


def test_a_line_without_a_question_key_is_named(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?"}\n\n{"id": "x", "answers": ["1"]}\n', encoding="utf-8")
    with pytest.raises(QuestionsFileError, match=r"line 3: missing the \"question\" key"):
        load_questions(path)


def test_wrong_types_are_named_with_their_field(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "a?", "answers": "ok"}\n{"question": "b?", "history": "nope"}\n', encoding="utf-8")
    with pytest.raises(QuestionsFileError, match=r"line 2: \"history\" must be a list"):
        load_questions(path)


def test_the_shipped_gold_set_loads():
    questions = load_questions(GOLD)
    assert len(questions) >= 100
    assert any(q.history for q in questions) and any(not q.answerable for q in questions)


def test_csv_questions_parse_json_and_pipe_separated_cells(tmp_path):
    path = tmp_path / "q.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "question", "answers", "answerable", "sources", "history", "kind", "language"])
        writer.writerow(["c1", "阿里云增速?", "34%|34", "true", '["corpus/articles/alibaba-ai-cloud.md"]', "", "numeric", "zh"])
        writer.writerow(["c2", "那腾讯呢?", '["18%"]', "", "corpus/a.md|corpus/b.md", "阿里云增速?|34%", "followup", ""])
        writer.writerow(["c3", "小米手机出货量?", "", "false", "", "", "unanswerable", "zh"])
    q1, q2, q3 = load_questions(path)
    assert q1.answers == ["34%", "34"] and q1.answerable and q1.sources == ["corpus/articles/alibaba-ai-cloud.md"]
    assert q2.answers == ["18%"] and q2.answerable and q2.sources == ["corpus/a.md", "corpus/b.md"]
    assert q2.history == [{"question": "阿里云增速?", "answer": "34%"}] and q2.language == "zh"
    assert not q3.answerable and q3.answers == []


def test_a_csv_row_with_a_bad_answerable_value_names_its_line(tmp_path):
    path = tmp_path / "q.csv"
    path.write_text("question,answerable\na?,true\nb?,maybe\n", encoding="utf-8")
    with pytest.raises(QuestionsFileError, match=r"line 3: \"answerable\" must be true or false"):
        load_questions(path)


# --- configurations -----------------------------------------------------------------------------------------------
def test_settings_files_may_be_json_or_env_style(tmp_path):
    as_json = tmp_path / "dense.json"
    as_json.write_text('{"retrieval_mode": "dense", "top_k": 8}', encoding="utf-8")
    as_env = tmp_path / "bm25.env"
    as_env.write_text("# lexical only\nASSISTANT_RETRIEVAL_MODE=bm25\nexport ASSISTANT_MIN_RELEVANCE='0.7'\n", encoding="utf-8")
    assert load_settings_file(as_json) == {"retrieval_mode": "dense", "top_k": 8}
    assert load_settings_file(as_env) == {"retrieval_mode": "bm25", "min_relevance": 0.7}


def test_unknown_or_invalid_settings_are_refused(tmp_path):
    typo = tmp_path / "typo.json"
    typo.write_text('{"retreival_mode": "dense"}', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown setting 'retreival_mode'"):
        load_settings_file(typo)
    bad = tmp_path / "bad.json"
    bad.write_text('{"retrieval_mode": "fuzzy"}', encoding="utf-8")
    with pytest.raises(ValueError, match="bad value for retrieval_mode"):
        load_settings_file(bad)


def test_modes_shorthand_gives_one_configuration_per_mode(tmp_path):
    configs = parse_configs(None, "dense, bm25,hybrid")
    assert configs == {"dense": {"retrieval_mode": "dense"}, "bm25": {"retrieval_mode": "bm25"}, "hybrid": {"retrieval_mode": "hybrid"}}
    assert parse_configs(None, None) == {"default": {}}
    assert parse_configs(["base="], None) == {"base": {}}
    with pytest.raises(ValueError, match="NAME=SETTINGS_FILE"):
        parse_configs(["nofile"], None)


# --- outputs ------------------------------------------------------------------------------------------------------
def test_outputs_escape_html_and_never_contain_the_api_key(tmp_path):
    settings = Settings(index_dir=tmp_path / "idx", llm_api_key="sk-very-secret-key", llm_base_url="https://user:pw@llm.example/v1")
    gold = GoldQuestion(id="<b>x</b>", question="<script>alert(1)</script>?", answers=["34%"], sources=["a.md"], language="en")
    result = score_answer(gold, make_answer("<img src=x onerror=alert(1)> uses sk-very-secret-key", sources=["a.md"]), "cfg")
    results = {"cfg": [result]}
    summary = build_summary(results, {"cfg": settings}, {"cfg": {}}, "q.jsonl", 1, None)
    write_outputs(tmp_path / "out", summary, results, ["sk-very-secret-key"])

    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in report and "&lt;script&gt;alert(1)&lt;/script&gt;" in report
    assert "<img src=x" not in report
    for name in ("summary.json", "results.csv", "report.html"):
        text = (tmp_path / "out" / name).read_text(encoding="utf-8-sig")
        assert "sk-very-secret-key" not in text and "user:pw" not in text, name
    assert "<script" not in render_report(summary, results).lower().replace("&lt;script", "")


def test_run_eval_on_six_gold_questions_writes_summary_results_and_report(corpus_assistant, tmp_path):
    wanted = ["g001", "g041", "g061", "g101", "g111", "g121"]
    questions = [q for q in load_questions(GOLD) if q.id in wanted]
    out = tmp_path / "eval"
    summary = run_eval(questions, out, assistant=corpus_assistant, show_progress=False)

    written = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(summary))
    assert set(written) >= {"schema", "created", "questions_file", "questions", "judge", "config_names", "configs"}
    config = written["configs"]["default"]
    assert set(config) == {"overrides", "settings", "overall", "by_language", "by_kind"}
    assert set(config["by_language"]) == {"zh", "en"}
    assert {"numeric", "unanswerable", "followup"} <= set(config["by_kind"])
    overall = config["overall"]
    for key in ("answer_accuracy", "refusal_accuracy", "false_refusal_rate", "hit_at_1", "hit_at_5", "mrr",
                "citation_validity", "latency_p50_ms", "latency_p95_ms", "prompt_tokens_mean", "pass_rate"):
        assert key in overall, key
    assert overall["n"] == 6 and overall["answerable"] == 4 and overall["unanswerable"] == 2
    assert overall["errors"] == 0 and overall["latency_p50_ms"] > 0
    assert overall["hit_at_5"] is not None and 0 <= overall["hit_at_5"] <= 1

    with (out / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["id"] for r in rows] == wanted
    assert all(r["retrieved_sources"].startswith("1:") for r in rows)

    report = (out / "report.html").read_text(encoding="utf-8")
    assert '<table class="summary">' in report and "<svg" in report and "Failures" in report
    for fetch in ("<script", "<link", 'src="http', "url(http", "@import"):  # self-contained: nothing to fetch or run
        assert fetch not in report, fetch


def test_the_llm_judge_scores_over_real_http_and_its_prompt_comes_from_prompts(corpus_assistant, tmp_path) -> None:
    from tests.fake_llm_server import FakeLLMServer

    questions = tmp_path / "q.jsonl"
    line = {"id": "j1", "question": "阿里云2025年第三季度收入增长多少?", "answers": ["34%"], "answerable": True}
    questions.write_text(json.dumps(line, ensure_ascii=False) + "\n", encoding="utf-8")
    with FakeLLMServer(mode="fixed", reply='{"correctness": 4, "faithfulness": 5}') as server:
        settings = corpus_assistant.settings.model_copy(update={"llm_base_url": server.openai_base_url, "llm_model": "judge"})
        summary = run_eval(questions, tmp_path / "out", settings, assistant=corpus_assistant, judge=True, show_progress=False)
        prompts = [r.text() for r in server.requests]
    overall = summary["configs"][summary["config_names"][0]]["overall"]
    assert overall["judge_correctness"] == 4 and overall["judge_faithfulness"] == 5
    assert prompts and all("You grade answers of a research assistant" in p and "34%" in p for p in prompts)


# --- issue 9: file-name sources, strict scoring, answer length -----------------------------------------------------
def test_gold_sources_given_as_file_names_match_the_file_in_any_folder():
    assert source_matches("/work/eval/docs/rgbzh-1.txt", "rgbzh-1.txt")
    assert source_matches("upload:Report.TXT", "report.txt")
    assert source_matches("C:\\data\\docs\\a.md", "docs/a.md")
    assert source_matches("corpus/articles/a.md", "corpus/articles/a.md")
    assert not source_matches("/work/eval/docs/xrgbzh-1.txt", "rgbzh-1.txt"), "a whole file name, not a suffix of one"
    assert not source_matches("corpus/other/a.md", "corpus/articles/a.md")
    assert not source_matches("a.md", "")


def test_hit_at_k_reads_the_file_names_of_sources_ingested_from_another_folder(assistant_factory, tmp_path):
    folder = tmp_path / "elsewhere" / "docs"
    folder.mkdir(parents=True)
    (folder / "note-1.md").write_text("# Zorblax\n\nZorblax公司2025年收入为7亿元,同比增长12%。", encoding="utf-8")
    (folder / "note-2.md").write_text("# Quuxly\n\nQuuxly公司的员工人数为3500人。", encoding="utf-8")
    assistant = assistant_factory()
    assert not assistant.ingest([str(folder)], show_progress=False).failed
    questions = [
        GoldQuestion(id="a", question="Zorblax公司2025年收入是多少?", answers=["7亿元"], sources=["note-1.md"], language="zh"),
        GoldQuestion(id="b", question="Quuxly公司有多少员工?", answers=["3500人"], sources=["note-2.md"], language="zh"),
    ]
    overall = run_eval(questions, tmp_path / "out", assistant=assistant, show_progress=False)["configs"]["default"]["overall"]
    assert overall["retrieval_n"] == 2 and overall["hit_at_1"] == 1.0 and overall["mrr"] == 1.0


def test_strict_scoring_needs_one_string_of_every_group(tmp_path):
    path = tmp_path / "q.jsonl"
    rows = [
        {"id": "s1", "question": "谁赢了,比分多少?", "answers": [], "answers_all": [["甲队"], ["3:1", "3比1"]]},
        {"id": "s2", "question": "x?", "answers_all": [["A"], []]},
    ]
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows[:1]) + "\n", encoding="utf-8")
    (gold,) = load_questions(path)
    assert gold.answerable and gold.lenient == ["甲队"] and gold.groups == [["甲队"], ["3:1", "3比1"]]
    half = score_answer(gold, make_answer("甲队赢了 [1]。"), "c")
    full = score_answer(gold, make_answer("甲队以3比1获胜 [1]。"), "c")
    assert half.correct and not half.correct_strict
    assert full.correct and full.correct_strict
    metrics = summarise([half, full])
    assert metrics["answer_accuracy"] == 1.0 and metrics["answer_accuracy_strict"] == 0.5

    plain = score_answer(GoldQuestion(id="p", question="q", answers=["34%"]), make_answer("34%"), "c")
    assert plain.correct_strict is True, "without answers_all, strict is lenient"
    path.write_text(json.dumps(rows[1]) + "\n", encoding="utf-8")
    with pytest.raises(QuestionsFileError, match=r"line 1: \"answers_all\" holds an empty group"):
        load_questions(path)


def test_answer_length_and_first_line_hit_are_reported_in_every_output(tmp_path):
    gold = GoldQuestion(id="l1", question="阿里云增速?", answers_all=[["34%"]], language="zh")
    leading = score_answer(gold, make_answer("阿里云收入同比增长34% [1]。\n\n> 原文:……"), "c")
    buried = score_answer(gold, make_answer("阿里云表现很好 [1]。\n增速为34% [2]。"), "c")
    refused = score_answer(GoldQuestion(id="l2", question="?", answerable=False), make_answer("资料中没有答案。", refused=True), "c")
    assert leading.first_line_hit and not buried.first_line_hit and refused.first_line_hit is None
    assert leading.answer_chars == len("阿里云收入同比增长34%。 > 原文:……")
    metrics = summarise([leading, buried, refused])
    assert metrics["first_line_hit"] == 0.5
    assert metrics["answer_chars_median"] == buried.answer_chars == len("阿里云表现很好。 增速为34%。")
    assert metrics["answer_chars_median_answered"] == (leading.answer_chars + buried.answer_chars) / 2

    results = {"c": [leading, buried, refused]}
    summary = build_summary(results, {"c": Settings(index_dir=tmp_path / "i")}, {"c": {}}, "q.jsonl", 3, None)
    write_outputs(tmp_path / "out", summary, results)
    written = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))["configs"]["c"]["overall"]
    for key in ("answer_accuracy_strict", "first_line_hit", "answer_chars_median", "answer_chars_median_answered"):
        assert written[key] == metrics[key], key
    with (tmp_path / "out" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["correct_strict"] for r in rows] == ["True", "True", "True"]
    assert [r["first_line_hit"] for r in rows] == ["True", "False", ""] and rows[0]["expected_all"] == '[["34%"]]'
    report = (tmp_path / "out" / "report.html").read_text(encoding="utf-8")
    assert "Answer accuracy, strict (every group)" in report and "Expected answer in the first line" in report
    assert "Answer length, median (characters)" in report


def test_a_filing_answer_counts_as_right_with_page_only_when_it_cites_a_gold_page(tmp_path):
    questions = tmp_path / "q.jsonl"
    questions.write_text(
        json.dumps({"id": "p1", "question": "Cash at the end of 2024?", "answers": ["1,250"], "pages": [12, "14"]}) + "\n",
        encoding="utf-8",
    )
    gold = load_questions(questions)[0]
    assert gold.pages == [12, 14]

    def cited(pages: list[int | None], text: str = "1,250 [1]") -> Answer:
        answer = make_answer(text, supported=[True] * len(pages))
        for citation, page in zip(answer.citations, pages):
            citation.page = page
        return answer

    on_page = score_answer(gold, cited([30, 14]), "c")
    other_page = score_answer(gold, cited([30]), "c")
    wrong_figure = score_answer(gold, cited([12], "1,520 [1]"), "c")
    no_pages = score_answer(GoldQuestion(id="n", question="q", answers=["x"]), make_answer("x"), "c")
    assert on_page.page_hit and on_page.cited_pages == [14, 30]
    assert other_page.page_hit is False and wrong_figure.page_hit is False and no_pages.page_hit is None
    metrics = summarise([on_page, other_page, wrong_figure, no_pages])
    assert metrics["page_n"] == 3 and metrics["right_with_page"] == pytest.approx(1 / 3, abs=1e-4)

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"question": "q", "answers": ["x"], "pages": ["p. 12"]}) + "\n", encoding="utf-8")
    with pytest.raises(QuestionsFileError, match="pages"):
        load_questions(bad)
