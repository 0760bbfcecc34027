"""The ``qa`` command line: a thin shell over the engine."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from pathlib import Path

from .schema import BACKENDS
from .timeframe import read_as


def _settings(args):
    from .config import load_settings

    return load_settings(
        corpus_dir=getattr(args, "corpus", None),
        index_dir=getattr(args, "index", None),
        top_k=getattr(args, "k", None),
        backend=getattr(args, "backend", None),
        as_of=getattr(args, "as_of", None),
    )


def _day(text: str):
    """An --as-of value: a calendar day, YYYY-MM-DD."""
    from .timeframe import to_date

    d = to_date(text)
    if d is None or not re.fullmatch(r"\s*\d{4}-\d{1,2}-\d{1,2}\s*", text):
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)")
    return d


def _engine(args):
    from .engine import Engine

    return Engine(_settings(args))


def cmd_index(args) -> int:
    from tqdm import tqdm

    engine = _engine(args)
    folder = Path(args.dir) if args.dir else engine.settings.corpus_dir
    bar = None

    def on_start(n):
        nonlocal bar
        bar = tqdm(total=n, unit="chunk", desc="embedding", file=sys.stderr, disable=args.quiet)

    def on_progress(n):
        if bar:
            bar.update(n)

    try:
        report = engine.sync(folder, on_start, on_progress)
    except (FileNotFoundError, ConnectionError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    finally:
        if bar:
            bar.close()
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print(f"indexed {folder}: " + report.summary())
    return 0


def _print_answer(answer, out=sys.stdout):
    print(file=out)
    if answer.message:
        return
    unsupported = [s for s in answer.sentences if s.supported is False]
    for s in unsupported:
        print(f"  ! not supported by its sources: {s.text}", file=out)
    if answer.repairs:  # what streamed was the draft; this is what verification made of it
        print(f"  corrected after checking the sources: {answer.text}", file=out)
        for r in answer.repairs:
            print(f"    - {r['kind']}: {r['before']} ({'; '.join(r['why'])})", file=out)
    if answer.notice:
        print(f"  note: {answer.notice}", file=out)
    if note := read_as(answer.when):
        print(f"  time: {note}", file=out)
    print(f"\n({answer.backend}; {answer.timings.get('total_ms', 0):.0f} ms)", file=out)
    if answer.citations:
        print("\nSources:", file=out)
        for c in answer.citations:
            print(f"[{c.n}] {c.source()} [{c.start}:{c.end}] {c.title}", file=out)
            print(f"    \"{c.quote}\"", file=out)
    elif answer.passages:
        heading = "Closest passages (not enough to answer):" if answer.abstained else "Passages given (none cited):"
        print(f"\n{heading}", file=out)
        for i, p in enumerate(answer.passages[:3], 1):
            print(f"[{i}] {p.file} [{p.start}:{p.end}] {p.text[:160]}…", file=out)
    if answer.suggestions:
        print("\nYou could also ask:", file=out)
        for q in answer.suggestions:
            print(f"  - {q}", file=out)


def cmd_ask(args) -> int:
    from .schema import Answer

    engine = _engine(args)
    question = " ".join(args.question)
    if args.json:
        answer = engine.ask(question, backend=args.backend, article=args.article, suggest=args.suggest)
        print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False))
        return 1 if answer.message else 0
    answer = None
    for ev in engine.ask_stream(question, backend=args.backend, article=args.article, suggest=args.suggest):
        if isinstance(ev, Answer):
            answer = ev
        else:
            print(ev, end="", flush=True)
    _print_answer(answer)
    return 1 if answer.message else 0


def cmd_search(args) -> int:
    """The retrieval inspector: the ranked passages a question retrieves, with every score and why each is
    there; no answer, no LLM."""
    engine = _engine(args)
    question = " ".join(args.question)
    found = engine.search(question, k=args.k, as_of=args.as_of, article=args.article)
    rows = [dict(p.to_dict(), n=i + 1) for i, p in enumerate(found.passages)]
    if args.json:
        print(json.dumps({"question": question, "passages": rows, "articles": found.files}, indent=2,
                         ensure_ascii=False))
        return 0
    if not rows:
        print("No passage found (is the index empty? `qa index`)")
        return 1
    print(f"{'#':>2}  {'fused':>7}  {'article part':>12}  {'dense':>13}  {'BM25':>12}  found by  article")
    for r in rows:
        dense = f"{r['dense']:.3f} (#{r['dense_rank'] + 1})" if r["dense_rank"] is not None else "-"
        bm25 = f"{r['bm25']:.2f} (#{r['bm25_rank'] + 1})" if r["bm25_rank"] is not None else "-"
        art = "-" if r["article_rank"] is None else f"#{r['article_rank'] + 1}"
        print(f"{r['n']:>2}  {r['score']:7.4f}  {r['file_boost'] or 0:12.4f}  {dense:>13}  {bm25:>12}  "
              f"{r['found_by']:8}  {art}")
        when = ", ".join(x for x in (r["outlet"], r["date"]) if x)
        title = r["title"] if len(r["title"]) <= 90 else r["title"][:89] + "…"
        print(f"    {r['file']} [{r['start']}:{r['end']}]  {title}" + (f"  ({when})" if when else ""))
        print(f"    why: {r['why']}")
        text = " ".join(r["text"].split())
        print(f"    \"{text[:160]}{'…' if len(text) > 160 else ''}\"")
    return 0


def cmd_chat(args) -> int:
    from .schema import Answer
    from .chat import Turn

    engine = _engine(args)
    history: list[Turn] = []
    print("Ask about the articles; an empty line or Ctrl-D ends, /clear starts over.")
    while True:
        try:
            question = input("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if not question:
            return 0
        if question == "/clear":
            history.clear()
            print("(conversation cleared)")
            continue
        answer = None
        for ev in engine.ask_stream(question, backend=args.backend, history=history):
            if isinstance(ev, Answer):
                answer = ev
            else:
                print(ev, end="", flush=True)
        assert answer is not None  # a stream always ends with its Answer
        _print_answer(answer)
        if answer.standalone and answer.standalone != answer.question:
            print(f"(understood as: {answer.standalone})")
        if not answer.message:
            history.append(Turn(answer.question, answer.standalone or answer.question, answer.text))


def cmd_files(args) -> int:
    engine = _engine(args)
    files = engine.status()["articles"]
    for f in files:
        when = " · ".join(x for x in (f.get("outlet"), f.get("date")) if x)
        print(f"{f['chunks']:4d}  {f['file']}  {f['title']}" + (f"  ({when})" if when else ""))
    print(f"{len(files)} articles, {sum(f['chunks'] for f in files)} chunks")
    return 0


def cmd_eval(args) -> int:
    from . import evaluate

    if args.compare:
        print(evaluate.compare(Path(args.compare[0]), Path(args.compare[1])))
        return 0
    if args.relabel:
        for r in args.relabel:
            o = evaluate.relabel(Path(r))["overall"]
            print(f"{r}: unsupported (labelled) {evaluate._fmt(o['unsupported_rate_labelled'])}, "
                  f"sentences with a hand label {evaluate._fmt(o['labelled_coverage'])}, "
                  f"unsupported (verifier) {evaluate._fmt(o['unsupported_rate'])}")
        return 0
    if not args.questions:
        print("error: give a question set (JSONL), --compare A B or --relabel REPORT", file=sys.stderr)
        return 2
    settings = _settings(argparse.Namespace(**{**vars(args), "corpus": None}))
    if args.corpus and Path(args.corpus).resolve() != Path(settings.corpus_dir).resolve():
        # another corpus gets its own collection, so the main index is left as it is
        slug = "".join(c if c.isalnum() else "-" for c in Path(args.corpus).resolve().name)[:40].strip("-")
        settings = settings.model_copy(update={"corpus_dir": Path(args.corpus), "collection": f"{settings.collection}-eval-{slug}"})
    from .engine import Engine

    engine = Engine(settings)
    report = engine.sync()
    if report.changed:
        print(f"indexed {settings.corpus_dir}: " + report.summary().splitlines()[0], file=sys.stderr)
    from .llm import ModelError

    try:
        rep = evaluate.evaluate(engine, Path(args.questions), args.name, args.backend, args.k,
                                progress=not args.quiet, judge=args.judge)
    except ModelError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = evaluate.write(rep, Path(args.reports))
    o = rep["overall"]
    print(f"report: {out}/report.md")
    for m in evaluate.FIGURES + ["retrieve_p50_ms", "first_token_p50_ms", "total_p50_ms", "total_p95_ms"]:
        print(f"  {evaluate.LABELS.get(m, m):<28} {evaluate._fmt(o.get(m))}")
    if "judged_faithfulness (LLM-judged)" in o:
        print(f"  judged_faithfulness (LLM-judged) {evaluate._fmt(o['judged_faithfulness (LLM-judged)'])}")
    failures = [i for i in rep["items"] if not i["passed"]]
    print(f"  failures: {len(failures)} of {len(rep['items'])} (listed in report.md)")
    if args.gate:
        fails = evaluate.gate(rep, json.loads(Path(args.gate).read_text()))
        if fails:
            print("GATE FAILED: " + "; ".join(fails))
            return 1
        print(f"gate passed ({args.gate})")
    return 0


def cmd_bench(args) -> int:
    from . import bench

    return bench.main(args)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="qa", description="Ask questions about a folder of news articles.")
    p.add_argument("--index", type=Path, help="index folder (QA_INDEX_DIR)")
    p.add_argument("-v", "--verbose", action="count", default=0, dest="verbosity",
                   help="log what the engine does to stderr: -v fallbacks, repairs and skipped files; -vv more")
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("index", help="build or sync the index from a folder of articles")
    s.add_argument("dir", nargs="?", help="articles folder (default: QA_CORPUS_DIR, seeds/)")
    s.add_argument("--json", action="store_true", help="print the report as JSON")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_index)

    s = sub.add_parser("ask", help="answer one question with citations")
    s.add_argument("question", nargs="+")
    s.add_argument("--json", action="store_true", help="print answer, citations, passages and timings as JSON")
    s.add_argument("-k", type=int, help="passages to use (QA_TOP_K)")
    s.add_argument("--backend", choices=BACKENDS, help="answer backend (QA_BACKEND)")
    s.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD",
                   help="the day the question is asked on: no later article is used (QA_AS_OF; default today)")
    s.add_argument("--article", metavar="FILE",
                   help="ask about this indexed article alone; \"summarise\" sums it up in 3-5 cited sentences")
    s.add_argument("--suggest", action="store_true",
                   help="also suggest up to three follow-ups the cited articles answer (each checked first)")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("search", help="the retrieval inspector: ranked passages with their scores, no answer")
    s.add_argument("question", nargs="+")
    s.add_argument("-k", "--k", type=int, help="passages to show (QA_TOP_K)")
    s.add_argument("--json", action="store_true", help="print the passages and the article ranking as JSON")
    s.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD",
                   help="the day the question is asked on: no later article is used (QA_AS_OF; default today)")
    s.add_argument("--article", metavar="FILE", help="this indexed article's passages alone")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("chat", help="a conversation in the terminal (follow-ups use the history)")
    s.add_argument("--backend", choices=BACKENDS, help="answer backend (QA_BACKEND)")
    s.add_argument("--as-of", type=_day, metavar="YYYY-MM-DD",
                   help="the day the questions are asked on: no later article is used (QA_AS_OF; default today)")
    s.add_argument("-k", type=int, help="passages to use (QA_TOP_K)")
    s.set_defaults(func=cmd_chat)

    s = sub.add_parser("files", help="list the indexed articles")
    s.set_defaults(func=cmd_files)

    s = sub.add_parser("eval", help="run a question set and write a report")
    s.add_argument("questions", nargs="?", help="question set (JSONL; ours or RealTime QA's)")
    s.add_argument("--corpus", help="articles folder (default: QA_CORPUS_DIR); another folder gets its own collection")
    s.add_argument("--backend", choices=BACKENDS, help="answer backend (QA_BACKEND)")
    s.add_argument("-k", type=int, help="passages per question (QA_TOP_K)")
    s.add_argument("--name", help="report name (default: the question set's name)")
    s.add_argument("--reports", default="eval/reports", help="where reports go")
    s.add_argument("--gate", help="thresholds JSON: exit 1 when a headline metric falls below")
    s.add_argument("--compare", nargs=2, metavar=("A", "B"), help="print the deltas between two reports")
    s.add_argument("--relabel", nargs="+", metavar="REPORT",
                   help="recompute the reports' labelled figures from the hand labels as they are now")
    s.add_argument("--judge", action="store_true", help="add an LLM-judged faithfulness score (needs an LLM backend)")
    s.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("bench", help="benchmarks that print figures")
    s.add_argument("what", choices=["retrieval", "calibrate", "answers", "budget", "verify", "labels", "crash",
                                    "embed", "scale", "explore", "load"])
    s.add_argument("--bench-dir", type=Path, default=Path("../shared/bench/rtqa"), help="RTQA benchmark folder")
    s.add_argument("--work", type=Path, default=Path(".bench"), help="scratch folder for benchmark indexes")
    s.add_argument("--no-baseline", action="store_true", help="skip the naive LlamaIndex baseline")
    s.add_argument("--no-distractors", action="store_true", help="index only the 241 corpus articles")
    s.add_argument("--rebuild", action="store_true", help="rebuild the benchmark index from scratch")
    s.add_argument("-v", "--verbose", action="store_true", help="list the answers that missed")
    s.add_argument("--limit", type=int, default=0, help="answers: only the first N questions")
    s.add_argument("--chunks", type=int, default=100_000, help="scale: chunks in the made-up corpus")
    s.add_argument("--baseline-n", type=int, default=8, help="answers: questions the (slow) naive baseline runs")
    s.add_argument("--budgets", type=int, nargs="+", default=[100, 200, 320, 480], help="budget: word-pieces to try")
    s.add_argument("--labels", type=Path, nargs="+",
                   help="verify: labelled sentences (default eval/verify-labels*.jsonl)")
    s.add_argument("--corpus", type=Path, action="append", default=[],
                   help="verify: folder of the articles that labels cite by reference (RTQA: WORK/rtqa601)")
    s.add_argument("--reports", type=Path, nargs="+", help="labels: eval reports whose answer sentences to export")
    s.add_argument("--out", type=Path, help="labels: where to write the sentences still to be labelled")
    s.add_argument("--thresholds", type=float, nargs="+", default=[0.40, 0.44, 0.46, 0.48, 0.50, 0.52, 0.55, 0.60],
                   help="verify: support thresholds to try")
    s.add_argument("--users", type=int, default=20, help="load: users asking at once over HTTP")
    s.add_argument("--per-user", type=int, default=2, help="load: questions each user asks with each backend")
    s.set_defaults(func=cmd_bench)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    # our own loggers at the level asked for; other libraries' only when they warn
    handler.addFilter(lambda r: r.name.startswith("qa") or r.levelno >= logging.WARNING)
    logging.basicConfig(handlers=[handler])
    logging.getLogger("qa").setLevel([logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbosity, 2)])
    from .index import IndexUnavailable

    try:
        return args.func(args)
    except IndexUnavailable as e:  # a damaged index folder, a Chroma server gone: what to do, not a traceback
        print(f"error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
