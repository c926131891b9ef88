"""`assistant` command line: the single entry point for the corpus, questions, the web page and evaluation."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from assistant.settings import Settings


def _assistant(args: argparse.Namespace):  # noqa: ANN202 - imported lazily to keep --help fast
    from assistant.research import ResearchAssistant

    return ResearchAssistant(Settings())


def cmd_ingest(args: argparse.Namespace) -> int:
    report = _assistant(args).ingest(args.inputs)
    print(report.summary())
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def cmd_sources(args: argparse.Namespace) -> int:
    records = _assistant(args).sources()
    if args.json:
        print(json.dumps([r.as_meta() for r in records], ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("The index is empty. Add documents with `assistant ingest PATH`.")
        return 0
    print(f"{'source':<58} {'title':<40} {'date':<10} {'type':<8} chunks")
    for r in records:
        print(f"{r.source[-58:]:<58} {r.title[:40]:<40} {r.date:<10} {r.type:<8} {r.chunks}")
    print(f"{len(records)} sources, {sum(r.chunks for r in records)} chunks")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    assistant = _assistant(args)
    code = 0
    for source in args.sources:
        try:
            removed = assistant.remove(source)
            print(f"removed {source} ({removed} chunks)")
        except KeyError as exc:
            print(f"error: {exc.args[0]}", file=sys.stderr)
            code = 1
    return code


def cmd_reindex(args: argparse.Namespace) -> int:
    report = _assistant(args).reindex()
    print(f"reindexed {len(report.added)} sources, {report.chunks} chunks")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    print(_assistant(args).status())
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    """Index the shipped corpus when there is no index yet, then say what is there."""
    assistant = _assistant(args)
    report = assistant.ensure_corpus()
    if report is not None:
        print(report.summary())
    print(assistant.status())
    return 0


def _print_answer_tail(answer) -> None:  # noqa: ANN001
    for notice in answer.notices:
        print(f"\nnotice: {notice}")
    if answer.failed_citations or answer.uncited:
        print("\ncitation check:")
        for c in answer.failed_citations:
            print(f"  [{c.marker}] NOT SUPPORTED ({c.reason}): {c.sentence}")
        for u in answer.uncited:
            print(f"  uncited figure: {u['sentence']}")
    print("\nnearest sources:" if answer.refused else "\nsources:")
    for s in answer.sources:
        where = f", page {s['page']}" if s.get("page") else f", row {s['row']}" if s.get("row") else ""
        # The innermost heading says where in the document; the outer ones mostly repeat the title.
        parts = [p for p in str(s.get("section") or "").split(" > ") if p and p != s["title"]]
        section = f" > {parts[-1]}" if parts else ""
        print(f"  [{s['marker']}] {s['title']}{section} ({s['date'] or 'no date'}) {s['source']}{where}")
    t = answer.timing
    print(f"\n({answer.model}; retrieval {t.get('retrieval_ms')} ms, generation {t.get('generation_ms')} ms)")


def cmd_ask(args: argparse.Namespace) -> int:
    from assistant.retrieval import Filters

    history = json.loads(Path(args.history).read_text(encoding="utf-8")) if args.history else []
    if isinstance(history, dict):
        history = history.get("history", [])
    filters = Filters.parse(args.filter)
    assistant = _assistant(args)
    if args.json:
        answer = assistant.ask(args.question, history, filters, args.mode)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
        return 0
    answer = None
    for kind, value in assistant.ask_streaming(args.question, history, filters, args.mode):
        if kind == "token":
            print(value, end="", flush=True)
        elif kind == "reset":
            print(f"\n[{value}]\n", flush=True)
        elif kind == "answer":
            answer = value
    print()
    if answer is not None:
        _print_answer_tail(answer)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Start the chat page (the `ui` module, installed beside this package), indexing the shipped corpus first if needed."""
    try:
        import ui
    except ModuleNotFoundError as exc:
        if exc.name != "ui":
            raise
        raise OSError("the web page module `ui` is not installed; reinstall the project (`pip install .`)") from None
    ui.main()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="assistant", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="add files, folders (recursively) or http(s) URLs to the index")
    p.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("sources", help="list what is indexed")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sources)

    p = sub.add_parser("remove", help="delete one source's chunks")
    p.add_argument("sources", nargs="+", metavar="SOURCE")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("reindex", help="rebuild the index from the stored chunks (or the shipped corpus)")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("status", help="where the index is and what it holds")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("setup", help="index the shipped corpus if the index is empty")
    p.set_defaults(func=cmd_setup)

    p = sub.add_parser("ask", help="ask a question; the answer streams, then its numbered sources")
    p.add_argument("question")
    p.add_argument("--json", action="store_true", help="print the answer object as one JSON document")
    p.add_argument("--history", metavar="FILE", help='JSON list of earlier turns: [{"question": ..., "answer": ...}]')
    p.add_argument("--filter", action="append", metavar="KEY=VALUE",
                   help="company=小米, ticker=1810.HK, date_from=2025-01-01, date_to=..., source=..., type=article|dataset")
    p.add_argument("--mode", choices=["hybrid", "dense", "bm25"], help="retrieval mode (default from settings)")
    p.set_defaults(func=cmd_ask)

    p = sub.add_parser("serve", help="start the chat page on ASSISTANT_HOST:ASSISTANT_PORT (127.0.0.1:7860)")
    p.set_defaults(func=cmd_serve)

    from assistant.bench import add_bench_command
    from assistant.evaluate import add_eval_commands

    add_eval_commands(sub)
    add_bench_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    from assistant.answer import QuestionError
    from assistant.embeddings import EmbeddingError
    from assistant.index import IndexError_

    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (IndexError_, EmbeddingError, QuestionError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; nothing half-written is kept (the next run tidies up)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())


