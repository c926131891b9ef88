"""Load test for a running chat page: N simultaneous chat sessions, each with its own history, checked for cross-talk.

    python scripts/load.py --url http://127.0.0.1:7860 --sessions 4,16,32
    python scripts/load.py --url ... --with-ingest /tmp/loaddocs --make-docs 300 --index-dir /tmp/loadidx

Each session is its own gradio_client.Client (its own Gradio session, so its own gr.State history). Session i
picks a company and a unique marker; it asks two questions about that company (with the company filter set), then a
pronoun follow-up ("它的…") without a filter, which only resolves to the right company through its own history.

Cross-talk checks, which work with the offline (extractive) answerer:
  * the conversation the page returns holds exactly this session's questions, in order;
  * no other session's marker appears anywhere in it (questions, answers, sources);
  * the settings panel returned with each filtered answer names this session's company filter;
  * (reported, not an error) the follow-up answer is on its session's subject: the answer itself (the answer text
    or the refusal box; not the "Understood as" line, not notices, not source cards) names the session's company.
    Each follow-up falls in exactly one class: answered (names its company, not refused), refused naming it (the
    refusal says what was asked about), refused without naming it, drifted (names another company only), or
    unnamed (an answer naming no company). Apart from that, "resolved" counts the follow-ups whose "Understood as"
    line names the session's company: the rewrite's share, whatever the answer did with it.

The companies are those of corpus/lexicon.yaml that the shipped corpus mentions; two of them (百度, 美团) have no
figure or passage of their own there, so their follow-ups can only be refused: a refusal that names them counts as
on subject, one that does not, as a miss.

With --with-ingest DIR, `assistant ingest DIR` runs against the same index while the load runs; afterwards the
index must be consistent (every listed source has exactly its recorded chunks) and complete. Every loop is bounded
by count and by --time-limit-s; the script stops by itself. Only 127.0.0.1 URLs are accepted.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import random
import re
import string
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ALL_COMPANIES = "All companies / 全部公司"
# Companies of the lexicon the shipped corpus mentions, with the names an answer about them would use.
COMPANIES: dict[str, list[str]] = {
    "阿里巴巴": ["阿里", "Alibaba", "9988"],
    "腾讯": ["Tencent", "0700", "混元"],
    "小米": ["Xiaomi", "1810", "MiMo"],
    "商汤": ["SenseTime", "0020"],
    "智谱": ["Zhipu", "GLM"],
    "MiniMax": ["稀宇", "Minimax"],
    "百度": ["Baidu", "9888", "文心"],
    "美团": ["Meituan", "3690"],
}
QUESTIONS = ["{c}的AI业务进展如何？", "{c}2025年股价涨幅是多少？", "{c}的估值水平怎么样？", "{c}的大模型有什么进展？"]
FOLLOW_UPS = ["它的估值怎么看？", "它的AI收入占比是多少？"]
MARKER = re.compile(r"SESS[0-9A-Z]{8}")


def text_of(message: dict) -> str:
    """A chat message's text, whatever shape (Gradio 6 content parts or a plain string) the page returned."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) if isinstance(p, dict) else str(p) for p in content)
    if isinstance(content, dict):
        return str(content.get("text", content.get("value", "")))
    return str(content or "")


@dataclass
class Result:
    session: int
    latencies: list[float] = field(default_factory=list)
    completed: int = 0
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    off_topic: int = 0
    on_subject: int = 0  # answered + refused_named
    answered: int = 0
    refused_named: int = 0
    refused: int = 0  # refused without naming the company
    drifted: int = 0
    unnamed: int = 0
    resolved: int = 0  # the "Understood as" line names the session's company
    follow_ups: int = 0
    notes: list[str] = field(default_factory=list)  # follow-ups not on their subject, for the report


def run_session(
    i: int, url: str, api_name: str, n_questions: int, deadline: float, start: threading.Barrier, markers: dict[int, str]
) -> Result:
    from gradio_client import Client

    result = Result(i)
    company = list(COMPANIES)[i % len(COMPANIES)]
    marker = markers[i]
    names = [company, *COMPANIES[company]]
    try:
        # A generous connect timeout: 32 clients fetching the page's config at once on 2 busy cores take a while.
        client = Client(url, verbose=False, download_files=False, httpx_kwargs={"timeout": 60.0})
    except Exception as exc:  # noqa: BLE001 - a refused connection is a result, not a crash
        result.errors.append(f"connect: {type(exc).__name__}: {exc}")
        start.abort()
        return result
    try:
        start.wait(timeout=max(1.0, deadline - time.monotonic()))
    except threading.BrokenBarrierError:
        pass
    chat: list = []
    asked: list[str] = []
    for k in range(n_questions):
        if time.monotonic() >= deadline:
            result.errors.append(f"q{k + 1}: not asked, time limit reached")
            continue
        follow_up = k == n_questions - 1 and n_questions > 1
        template = FOLLOW_UPS[i % len(FOLLOW_UPS)] if follow_up else QUESTIONS[(i + k) % len(QUESTIONS)]
        question = f"[{marker}] " + template.format(c=company)
        company_filter = ALL_COMPANIES if follow_up else company
        began = time.monotonic()
        job = client.submit(question, chat, company_filter, "", "", "", "all", api_name=api_name)
        try:
            outputs = job.result(timeout=max(0.1, deadline - time.monotonic()))
        except Exception as exc:  # noqa: BLE001 - timeouts and server errors are counted
            job.cancel()
            result.errors.append(f"q{k + 1}: {type(exc).__name__}: {str(exc)[:200]}")
            break
        result.latencies.append(time.monotonic() - began)
        asked.append(question)
        chat = outputs[1] or []
        panel = str(outputs[3] or "")
        texts = [html.unescape(text_of(m)) for m in chat]
        users = [t for m, t in zip(chat, texts) if m.get("role") == "user"]
        last = texts[-1] if texts else ""
        foreign = {m for t in texts for m in MARKER.findall(t)} - {marker}
        if users != asked:
            result.crosstalk.append(f"q{k + 1}: the conversation holds {users!r}, this session asked {asked!r}")
        if foreign:
            result.crosstalk.append(f"q{k + 1}: markers of other sessions in the conversation: {sorted(foreign)}")
        if not follow_up and panel and f"company={company}" not in html.unescape(panel):
            result.crosstalk.append(f"q{k + 1}: the settings panel does not show this session's filter company={company}")
        if not chat or 'class="ra-error"' in text_of(chat[-1]):
            result.errors.append(f"q{k + 1}: the page answered with an error: {re.sub('<[^>]+>', '', last)[:200]}")
            continue
        result.completed += 1
        if follow_up:
            result.follow_ups += 1
            if not any(name.lower() in last.lower() for name in names):
                result.off_topic += 1
            body, resolved = answer_body(last), resolved_question(last)
            refused = 'class="ra-refusal"' in last
            result.resolved += mentions_any(resolved, names)
            shown = f"{' '.join(body.split())[:120]} (understood as: {resolved or '-'})"
            if mentions_any(body, names):
                result.on_subject += 1
                result.refused_named += refused
                result.answered += not refused
            elif refused:
                result.refused += 1
                result.notes.append(f"session {i} ({company}): refused, naming no company: {shown}")
            elif any(mentions_any(body, [other, *aliases]) for other, aliases in COMPANIES.items() if other != company):
                result.drifted += 1
                result.notes.append(f"session {i} ({company}): about another company: {shown}")
            else:
                result.unnamed += 1
                result.notes.append(f"session {i} ({company}): an answer naming no company: {shown}")
    return result


# Blocks of the page's answer message that are not the answer: notices and the resolved question ("Understood as").
_NOT_ANSWER = re.compile(r'<div class="ra-(?:notice|resolved)">.*?</div>', re.S)
_RESOLVED = re.compile(r'<div class="ra-resolved">(.*?)</div>', re.S)


def answer_body(message: str) -> str:
    """The answer's own text (or the refusal box): the message before its source cards, without the resolved
    question and notices (a refusal is not on subject because the line above it restates the question), no markup."""
    cut = min((i for i in (message.find('class="ra-sources"'), message.find("<details")) if i >= 0), default=len(message))
    cut = message.rfind("<", 0, cut) if cut < len(message) else cut  # the tag that opens the sources goes too
    return html.unescape(re.sub(r"<[^>]+>", " ", _NOT_ANSWER.sub(" ", message[:cut])))


def resolved_question(message: str) -> str:
    """The "Understood as" line of the answer message: the follow-up as the rewrite resolved it ("" when none)."""
    match = _RESOLVED.search(message)
    return html.unescape(re.sub(r"<[^>]+>", " ", match.group(1))).split(":", 1)[-1].strip() if match else ""


def mentions_any(text: str, names: list[str]) -> bool:
    low = text.lower()
    return any(name.lower() in low for name in names)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def run_round(n: int, args: argparse.Namespace) -> dict:
    nonce = random.Random(time.time_ns())
    markers = {i: "SESS" + "".join(nonce.choices(string.ascii_uppercase + string.digits, k=8)) for i in range(n)}
    began = time.monotonic()
    deadline = began + args.time_limit_s
    barrier = threading.Barrier(n)
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [
            pool.submit(run_session, i, args.url, args.api_name, args.questions_per_session, deadline, barrier, markers) for i in range(n)
        ]
        results = [f.result(timeout=args.time_limit_s + 60) for f in futures]
    latencies = [x for r in results for x in r.latencies]
    return {
        "sessions": n,
        "questions": n * args.questions_per_session,
        "completed": sum(r.completed for r in results),
        "errors": sum(len(r.errors) for r in results),
        "crosstalk": sum(len(r.crosstalk) for r in results),
        "off_topic": f"{sum(r.off_topic for r in results)}/{sum(r.follow_ups for r in results)}",
        "follow_ups": sum(r.follow_ups for r in results),
        "on_subject": sum(r.on_subject for r in results),
        "answered": sum(r.answered for r in results),
        "refused_named": sum(r.refused_named for r in results),
        "refused": sum(r.refused for r in results),
        "drifted": sum(r.drifted for r in results),
        "unnamed": sum(r.unnamed for r in results),
        "resolved": sum(r.resolved for r in results),
        "p50": percentile(latencies, 0.50),
        "p95": percentile(latencies, 0.95),
        "max": max(latencies, default=float("nan")),
        "wall": time.monotonic() - began,
        "details": [e for r in results for e in (r.errors + r.crosstalk)][:20],
        "follow_up_notes": [n for r in results for n in r.notes][:40],
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| sessions | questions | completed | errors | cross-talk | follow-ups off topic | p50 s | p95 s | max s | wall s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['sessions']} | {r['questions']} | {r['completed']} | {r['errors']} | {r['crosstalk']} | {r['off_topic']} "
            f"| {r['p50']:.2f} | {r['p95']:.2f} | {r['max']:.2f} | {r['wall']:.1f} |"
        )
    return "\n".join(lines)


# --- concurrent ingest --------------------------------------------------------------------------------------------
def make_docs(folder: Path, n: int) -> list[str]:
    """n small Markdown notes, each with a unique code a question can find; returns the codes."""
    folder.mkdir(parents=True, exist_ok=True)
    codes = []
    names = list(COMPANIES)
    for i in range(n):
        company = names[i % len(names)]
        code = f"LOADDOC{i:05d}"
        codes.append(code)
        (folder / f"load-{i:05d}.md").write_text(
            f"---\ntitle: {company}压力测试笔记 {code}\ndate: 2025-{1 + i % 12:02d}-{1 + i % 28:02d}\n---\n\n"
            f"# {company}压力测试笔记 {code}\n\n编号{code}：{company}在第{i}号测试场景中的人工智能收入增长了{5 + i % 40}%，"
            f"主要来自云服务和大模型调用。\n",
            encoding="utf-8",
        )
    return codes


def cli_env(index_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update({"ASSISTANT_INDEX_DIR": index_dir})
    return env


def check_index(index_dir: str, expected: int, timeout_s: float) -> list[str]:
    """Problems found in the index after the concurrent ingest (an empty list when it is consistent)."""
    problems: list[str] = []
    listed = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "sources", "--json"],
        env=cli_env(index_dir),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    if listed.returncode != 0:
        return [f"`assistant sources --json` failed: {listed.stderr[-500:]}"]
    records = json.loads(listed.stdout)
    loaded = [r for r in records if str(r["source"]).rsplit("/", 1)[-1].startswith("load-")]
    if len(loaded) != expected:
        problems.append(f"{len(loaded)} of {expected} generated documents are listed")
    os.environ.update(cli_env(index_dir))
    from assistant.research import ResearchAssistant
    from assistant.settings import Settings

    assistant = ResearchAssistant(Settings(index_dir=Path(index_dir)))
    recorded = {r.source: (r.doc_hash, r.chunks) for r in assistant.sources()}
    _, _, metas = assistant.index.all_chunks()
    stored = Counter((m.get("source", ""), m.get("doc_hash", "")) for m in metas)
    for source, (doc_hash, chunks) in recorded.items():
        if stored[(source, doc_hash)] != chunks:
            problems.append(f"{source}: {stored[(source, doc_hash)]} chunks stored, {chunks} recorded")
    orphans = {s for s, _ in stored} - set(recorded)
    if orphans:
        problems.append(f"chunks of {len(orphans)} unlisted sources, e.g. {sorted(orphans)[:3]}")
    return problems


def page_sees(url: str, api_name: str, code: str, timeout_s: float) -> bool:
    """Whether the running page retrieves a document the concurrent ingest added."""
    from gradio_client import Client

    client = Client(url, verbose=False, download_files=False)
    outputs = client.submit(f"{code}的人工智能收入增长了多少？", [], ALL_COMPANIES, "", "", "", "all", api_name=api_name).result(
        timeout=timeout_s
    )
    return code in html.unescape(text_of((outputs[1] or [{}])[-1]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:7860")
    parser.add_argument("--sessions", default="4,16,32", help="comma-separated numbers of simultaneous sessions")
    parser.add_argument("--questions-per-session", type=int, default=3, help="the last one is a follow-up")
    parser.add_argument("--time-limit-s", type=float, default=120.0, help="per round of sessions")
    parser.add_argument("--api-name", default="/respond", help="the chat endpoint (see Client(url).view_api())")
    parser.add_argument("--with-ingest", metavar="DIR", help="run `assistant ingest DIR` against the index during the load")
    parser.add_argument("--make-docs", type=int, default=0, metavar="N", help="first write N small documents into DIR")
    parser.add_argument(
        "--index-dir", default=os.environ.get("ASSISTANT_INDEX_DIR", ".index"), help="the page's ASSISTANT_INDEX_DIR (for --with-ingest)"
    )
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    args = parser.parse_args(argv)

    host = urlparse(args.url).hostname
    if host not in ("127.0.0.1", "localhost"):
        parser.error("only a page on 127.0.0.1 may be load-tested")
    sizes = [int(n) for n in args.sessions.split(",") if n.strip()]
    if not sizes or min(sizes) < 1 or max(sizes) > 256 or args.questions_per_session < 1:
        parser.error("--sessions takes 1..256 per round and --questions-per-session at least 1")

    ingest = None
    expected = 0
    if args.with_ingest:
        folder = Path(args.with_ingest)
        if args.make_docs:
            make_docs(folder, args.make_docs)
        expected = len(list(folder.glob("load-*.md")))
        log = (folder.parent / f"{folder.name}.ingest.log").open("wb")
        ingest = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "ingest", str(folder)],
            env=cli_env(args.index_dir),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        print(f"ingest of {expected} documents started (pid {ingest.pid}, log {log.name})", flush=True)

    rows = []
    for n in sizes:
        print(f"round: {n} sessions x {args.questions_per_session} questions ...", flush=True)
        row = run_round(n, args)
        rows.append(row)
        for line in row["details"] + row["follow_up_notes"]:
            print(f"  {line}", flush=True)
    print()
    print(table(rows))
    for r in rows:
        print(
            f"{r['sessions']} sessions: follow-ups on their own subject: {r['on_subject']} of {r['follow_ups']} "
            f"({r['answered']} answered, {r['refused_named']} refused naming it); the others: {r['refused']} refused "
            f"naming no company, {r['drifted']} about another company only, {r['unnamed']} naming no company; "
            f"resolved to their own company (\"Understood as\"): {r['resolved']} of {r['follow_ups']}"
        )

    failed = any(r["errors"] or r["crosstalk"] for r in rows)
    if ingest is not None:
        try:
            code = ingest.wait(timeout=max(30.0, args.time_limit_s * 3))
        except subprocess.TimeoutExpired:
            ingest.kill()
            ingest.wait(timeout=30)
            code = "killed: did not finish in time"
        problems = [] if code == 0 else [f"`assistant ingest` ended with {code}"]
        problems += check_index(args.index_dir, expected, timeout_s=300)
        seen = page_sees(args.url, args.api_name, "LOADDOC00000", 120) if expected else None
        print(
            f"\nconcurrent ingest: exit {code}; index {'consistent' if not problems else 'INCONSISTENT'}; "
            f"the page retrieves a newly ingested document: {seen}"
        )
        for problem in problems[:20]:
            print(f"  {problem}")
        failed = failed or bool(problems)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
