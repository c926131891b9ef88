"""Batch evaluation, the running part: run a set of gold questions through the same answer chain as the chat page,
one configuration after another, and hand the scored results to the outputs.

The parts, each importing only the ones before it: assistant/questions.py (questions files), assistant/scoring.py
(normalisation, matching, metrics), assistant/judge.py (the optional LLM judge), assistant/report.py (summary.json,
results.csv, report.html) and this module (settings overrides, the thread pool, the progress bar, the command).

`assistant eval QUESTIONS --out DIR` indexes the shipped corpus first when the index is empty, asks every question
(with its history) through `ResearchAssistant.ask`, and writes three files to DIR:

- `summary.json`: the metrics (keys below);
- `results.csv`: one row per question and configuration;
- `report.html`: one self-contained page (no scripts, no external files): summary table, charts by configuration,
  language and kind, a latency histogram and the failures.

Questions file: JSON Lines, a JSON list or CSV in the gold format (fields in assistant/questions.py). Gold `sources`
given as bare file names match the indexed source's file name, whatever folder it was ingested from.

Compare configurations on the same questions: `--compare NAME=FILE` (repeatable; FILE is JSON or .env-style
settings, e.g. `{"retrieval_mode": "dense"}`; `NAME=` alone is the base settings) and `--modes dense,bm25,hybrid`.
`--judge` adds an LLM judge (correctness and faithfulness, 1-5) when an OpenAI-compatible endpoint is configured
(ASSISTANT_LLM_BASE_URL / ASSISTANT_LLM_MODEL / ASSISTANT_LLM_API_KEY); without one it is skipped.

summary.json keys (stable; a metric is null when it has no denominator, e.g. no answerable questions):

    schema                 1
    created                UTC time of the run (ISO 8601)
    questions_file         path of the questions file
    questions              number of questions
    judge                  judge model name, or null when no judge ran
    config_names           configuration names in run order (the first is the primary one)
    configs.NAME.overrides settings this configuration changes against the base settings
    configs.NAME.settings  the retrieval and model settings used (secrets never written)
    configs.NAME.overall   metrics over all questions (keys below)
    configs.NAME.by_language.LANG   the same metrics for one language (zh, en)
    configs.NAME.by_kind.KIND       the same metrics for one kind (when the questions have kinds)

    metrics:
    n                      questions scored
    answerable, unanswerable   how many of each
    pass_rate              share passed: answerable answered correctly, unanswerable refused
    answer_accuracy        answerable questions whose answer contains an expected string (after normalisation):
                           one of `answers`, or of the first group of `answers_all` (lenient)
    answer_accuracy_strict answerable questions whose answer contains one string of every group of `answers_all`
                           (equal to answer_accuracy for questions without `answers_all`)
    first_line_hit         answerable questions whose answer's first line contains an expected string (lenient)
    refusal_accuracy       unanswerable questions that were refused
    false_refusal_rate     answerable questions that were refused
    retrieval_n            answerable questions with gold sources (the denominator of hit@k and MRR)
    page_n                 answerable questions with gold `pages` (page numbers of the gold source, e.g. of a PDF)
    right_with_page        share of those answered right with a citation of a passage from one of those pages
    hit_at_1, hit_at_5     share of those with a gold source among the first 1 / 5 retrieved passages
    mrr                    mean reciprocal rank of the first gold passage (0 when none)
    citations              citations checked
    citation_validity      share of citations whose passage supports the sentence (pooled over citations)
    answer_chars_median    median answer length in characters (citation markers removed), refusals included
    answer_chars_median_answered   the same over answerable questions that were answered (not refused)
    latency_p50_ms, latency_p95_ms, latency_mean_ms   end-to-end answer time
    prompt_tokens_mean, completion_tokens_mean        per question
    errors                 questions whose answer chain raised an error (counted as failed)
    judge_correctness, judge_faithfulness             mean 1-5 judge scores, null without a judge

Answer normalisation: see assistant/scoring.py (NFKC, case, markers, thousands separators, percent words, Chinese
numerals).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr, TypeAdapter, ValidationError
from tqdm import tqdm

from assistant.judge import Judge
from assistant.questions import GoldQuestion, QuestionsFileError, load_questions
from assistant.report import format_summary, write_outputs
from assistant.scoring import QuestionResult, breakdown, empty_result, score_answer, summarise
from assistant.settings import Settings

SCHEMA_VERSION = 1


# --- settings and configurations -----------------------------------------------------------------------------------
SECRET_FIELDS = {"llm_api_key", "auth"}
SHOWN_FIELDS = (
    "retrieval_mode", "top_k", "candidates", "rrf_k", "dense_weight", "bm25_weight", "min_relevance", "reranker_model",
    "embedding_model", "chunk_tokens", "chunk_overlap", "llm", "llm_model", "llm_base_url", "index_dir", "collection",
    "chroma_url", "chroma_host",
)


def _strip_userinfo(value: str) -> str:
    """A URL with user:password@ loses the credentials."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return value
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return value


def public_settings(settings: Settings) -> dict[str, Any]:
    """The settings that shape an evaluation, safe to write down (no keys, no passwords)."""
    shown: dict[str, Any] = {}
    for name in SHOWN_FIELDS:
        value = getattr(settings, name, None)
        if isinstance(value, Path):
            value = str(value)
        elif isinstance(value, str):
            value = _strip_userinfo(value)
        shown[name] = value
    return shown


def settings_overrides(data: dict[str, Any], origin: str) -> dict[str, Any]:
    """Field name -> validated value for Settings fields given as `retrieval_mode` or `ASSISTANT_RETRIEVAL_MODE`."""
    fields = Settings.model_fields
    overrides: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = str(raw_key).strip()
        if key.upper().startswith("ASSISTANT_"):
            key = key[len("ASSISTANT_"):]
        key = key.lower()
        if key not in fields:
            raise ValueError(f"{origin}: unknown setting {raw_key!r}; known settings: {', '.join(sorted(fields))}")
        try:
            overrides[key] = TypeAdapter(fields[key].annotation).validate_python(value)
        except ValidationError as exc:
            problem = exc.errors()[0].get("msg", str(exc))
            raise ValueError(f"{origin}: bad value for {key}: {value!r} ({problem})") from exc
    return overrides


def load_settings_file(path: str | Path) -> dict[str, Any]:
    """Overrides from a JSON object of Settings fields or a .env-style file of KEY=VALUE lines."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ValueError(f"settings file {path}: cannot be read ({exc.strerror or exc})") from exc
    if path.suffix.lower() == ".json" or text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"settings file {path}, line {exc.lineno}: invalid JSON ({exc.msg})") from exc
        if not isinstance(data, dict):
            raise ValueError(f"settings file {path}: expected a JSON object of settings, got {type(data).__name__}")
    else:
        data = {}
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("export "):
                line = line[len("export "):].strip()
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise ValueError(f"settings file {path}, line {number}: expected KEY=VALUE, got {line!r}")
            value = value.strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                value = value[1:-1]
            elif " #" in value:
                value = value.split(" #", 1)[0].strip()
            data[key.strip()] = value
    return settings_overrides(data, f"settings file {path}")


def derive_settings(base: Settings, overrides: dict[str, Any]) -> Settings:
    """The base settings with some fields changed (already validated by settings_overrides)."""
    return base.model_copy(update=overrides) if overrides else base


def parse_configs(compare: list[str] | None, modes: str | None) -> dict[str, dict[str, Any]]:
    """`--compare NAME=FILE` items and `--modes a,b` -> {name: overrides}; {"default": {}} when neither is given."""
    configs: dict[str, dict[str, Any]] = {}
    for item in compare or []:
        name, sep, file = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"bad --compare {item!r}: use NAME=SETTINGS_FILE (NAME= alone means the base settings)")
        if name in configs:
            raise ValueError(f"--compare names must be unique; {name!r} is given twice")
        configs[name] = load_settings_file(file.strip()) if file.strip() else {}
    for mode in [m.strip() for m in (modes or "").split(",") if m.strip()]:
        if mode in configs:
            raise ValueError(f"configuration {mode!r} is given twice")
        configs[mode] = settings_overrides({"retrieval_mode": mode}, "--modes")
    return configs or {"default": {}}


# --- running -------------------------------------------------------------------------------------------------------
def _make_assistant(settings: Settings, embedder: Any) -> Any:
    from assistant.research import ResearchAssistant

    return ResearchAssistant(settings, embedder=embedder)


def evaluate_config(
    assistant: Any,
    questions: list[GoldQuestion],
    name: str,
    *,
    concurrency: int = 1,
    judge: Judge | None = None,
    show_progress: bool = True,
) -> list[QuestionResult]:
    """Ask every question through `assistant.ask` (with its history) and score the answers, in question order."""
    assistant.ensure_corpus(show_progress=show_progress)
    assistant.engine  # noqa: B018 - build the chain once before the worker threads share it
    lock = threading.Lock()

    def one(gold: GoldQuestion) -> QuestionResult:
        try:
            answer = assistant.ask(gold.question, gold.history)
        except Exception as exc:  # noqa: BLE001 - one broken question must not end the run
            result = empty_result(gold, name)
            result.correct = False
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            return result
        result = score_answer(gold, answer, name)
        if judge is not None and not answer.refused:
            result.judge_correctness, result.judge_faithfulness = judge.score(gold, answer)
        return result

    results: dict[str, QuestionResult] = {}
    workers = max(1, int(concurrency))
    with tqdm(total=len(questions), desc=f"eval {name}", unit="q", disable=not show_progress) as bar:
        if workers == 1:
            for gold in questions:
                results[gold.id] = one(gold)
                bar.update(1)
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                futures = {pool.submit(one, gold): gold.id for gold in questions}
                for future in as_completed(futures):
                    with lock:
                        results[futures[future]] = future.result()
                        bar.update(1)
    return [results[g.id] for g in questions]


def run_eval(
    questions: str | Path | list[GoldQuestion],
    out_dir: str | Path,
    settings: Settings | None = None,
    *,
    configs: dict[str, dict[str, Any]] | None = None,
    assistant: Any = None,
    embedder: Any = None,
    concurrency: int = 1,
    judge: bool = False,
    show_progress: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    """Evaluate one or more configurations on the same questions; writes summary.json, results.csv and report.html
    to out_dir and returns the summary.

    `settings` is the base configuration (default: `assistant.settings`); `configs` maps a name to the settings
    it changes (default: one configuration, "default", with no changes). An `assistant` given is used for the
    configurations that change nothing; the others get their own ResearchAssistant sharing its embedder.
    """
    if settings is None and assistant is None:
        raise ValueError("run_eval needs settings or an assistant")
    base = settings if settings is not None else assistant.settings
    questions_file = str(questions) if not isinstance(questions, list) else "(in memory)"
    golds = questions if isinstance(questions, list) else load_questions(questions)
    if limit:
        golds = golds[:limit]
    configs = configs or {"default": {}}
    shared_embedder = embedder or (assistant.embedder if assistant is not None else None)

    the_judge: Judge | None = None
    if judge and Judge.configured(base):
        the_judge = Judge(base)

    all_results: dict[str, list[QuestionResult]] = {}
    used: dict[str, Settings] = {}
    for name, overrides in configs.items():
        config_settings = derive_settings(base, overrides)
        if assistant is not None and not overrides and config_settings is assistant.settings:
            runner = assistant
        else:
            same_model = config_settings.embedding_model == base.embedding_model
            runner = _make_assistant(config_settings, shared_embedder if same_model else None)
            if shared_embedder is None and same_model:
                shared_embedder = runner.embedder
        used[name] = config_settings
        all_results[name] = evaluate_config(
            runner, golds, name, concurrency=concurrency, judge=the_judge, show_progress=show_progress
        )

    summary = build_summary(all_results, used, configs, questions_file, len(golds), the_judge.name if the_judge else None)
    secrets = _secret_values(base, *used.values())
    write_outputs(Path(out_dir), summary, all_results, secrets)
    return summary


def build_summary(
    results: dict[str, list[QuestionResult]],
    settings: dict[str, Settings],
    configs: dict[str, dict[str, Any]],
    questions_file: str,
    count: int,
    judge: str | None,
) -> dict[str, Any]:
    summary: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "questions_file": questions_file,
        "questions": count,
        "judge": judge,
        "config_names": list(results),
        "configs": {},
    }
    for name, rows in results.items():
        overrides = {k: v for k, v in configs.get(name, {}).items() if k not in SECRET_FIELDS}
        summary["configs"][name] = {
            "overrides": {k: (str(v) if isinstance(v, (Path, SecretStr)) else v) for k, v in overrides.items()},
            "settings": public_settings(settings[name]),
            "overall": summarise(rows),
            "by_language": breakdown(rows, lambda r: r.language),
            "by_kind": breakdown(rows, lambda r: r.kind),
        }
    return summary


def _secret_values(*settings: Settings) -> list[str]:
    values = []
    for s in settings:
        if s.llm_api_key and len(s.llm_api_key.get_secret_value()) >= 4:
            values.append(s.llm_api_key.get_secret_value())
        if s.auth and len(s.auth) >= 4:
            values.append(s.auth)
    return values


def cmd_eval(args: argparse.Namespace) -> int:
    try:
        configs = parse_configs(args.compare, args.modes)
        settings = Settings()
        summary = run_eval(
            args.questions, args.out, settings, configs=configs, concurrency=args.concurrency, judge=args.judge,
            show_progress=not args.quiet, limit=args.limit,
        )
    except (QuestionsFileError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_summary(summary))
    out = Path(args.out)
    print(f"\nwrote {out / 'summary.json'}, {out / 'results.csv'} and {out / 'report.html'}")
    if args.fail_under is not None:
        accuracy = summary["configs"][summary["config_names"][0]]["overall"]["answer_accuracy"]
        if accuracy is None or accuracy < args.fail_under:
            print(f"answer accuracy {accuracy} is under --fail-under {args.fail_under}", file=sys.stderr)
            return 1
    return 0


def add_eval_commands(subparsers: Any) -> None:
    """Register `assistant eval` on the CLI's subparsers."""
    p = subparsers.add_parser(
        "eval", help="score gold questions through the answer chain; writes summary.json, results.csv, report.html",
        description="Run a questions file (JSONL, JSON or CSV in the gold format) through the chat page's answer chain "
        "and write summary.json, results.csv and report.html to --out.",
    )
    p.add_argument("questions", metavar="QUESTIONS", help="questions file: .jsonl, .json or .csv (see tests/data/gold.jsonl)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for summary.json, results.csv and report.html")
    p.add_argument("--concurrency", type=_positive_int, default=1, metavar="N",
                   help="questions answered in parallel (default 1; latencies then include waiting for shared CPU)")
    p.add_argument("--compare", action="append", metavar="NAME=SETTINGS_FILE",
                   help="add a configuration: JSON or .env file of settings (repeatable; NAME= alone is the base settings)")
    p.add_argument("--modes", metavar="M1,M2", help="compare retrieval modes, e.g. dense,bm25,hybrid")
    p.add_argument("--judge", action="store_true",
                   help="also grade with an LLM judge when ASSISTANT_LLM_BASE_URL (or an API key) is configured")
    p.add_argument("--limit", type=_positive_int, metavar="N", help="only the first N questions")
    p.add_argument("--fail-under", type=float, metavar="X", help="exit 1 when answer accuracy (first configuration) is below X (0-1)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=cmd_eval)


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def result_dicts(results: list[QuestionResult]) -> list[dict]:
    """Plain dicts of results (for callers that want them as JSON)."""
    return [asdict(r) for r in results]
