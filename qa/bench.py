"""Benchmarks that print figures (not timed tests): ``qa bench retrieval`` and ``qa bench calibrate``.

The RealTime QA data (``--bench-dir``) is for internal measurement only and is never copied into the
project: the benchmark copies the articles into a git-ignored scratch folder (``--work``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from .answer import evidence_support
from .config import load_settings
from .engine import Engine
from .metrics import contains, hit_at, matches, mrr_at, percentile, unique_in_order


def _prepare_corpus(bench: Path, work: Path, distractors: bool) -> Path:
    name = "rtqa601" if distractors else "rtqa241"
    dest = work / name
    sources = [bench / "corpus"] + ([bench / "distractors"] if distractors else [])
    wanted = {p.name: p for src in sources for p in sorted(src.glob("*.txt"))}
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.txt"):
        if old.name not in wanted:
            old.unlink()
    for n, p in wanted.items():
        d = dest / n
        if not d.exists() or d.stat().st_size != p.stat().st_size:
            shutil.copyfile(p, d)
    # the articles' metadata (outlet, publication date, url, authors, title), one sidecar for the folder
    rows = "".join(m.read_text(encoding="utf-8") for src in sources if (m := src / "metadata.jsonl").exists())
    sidecar = dest / "metadata.jsonl"
    if rows and (not sidecar.exists() or sidecar.read_text(encoding="utf-8") != rows):
        sidecar.write_text(rows, encoding="utf-8")
    return dest


def load_rtqa(bench: Path) -> list[dict]:
    with open(bench / "questions_dev.jsonl") as f:
        return [json.loads(line) for line in f if line.strip()]


def _row(name: str, value, unit: str = "", base=None, better="higher", vs: str = "baseline") -> str:
    v = f"{value:.3f}" if isinstance(value, float) else str(value)
    line = f"  {name:<34} {v:>10} {unit}"
    if base is not None and isinstance(value, (int, float)) and base:
        line += f"   {vs} {base:.3f}  ratio {value / base:.2f}x"
    return line


def eval_retrieval(engine: Engine, questions: list[dict], k: int = 10, *others: Engine) -> list[dict]:
    """File hit@1/@5, MRR@10 and retrieval times, of ``engine`` and of each of ``others``; each question
    asked as of its ``question_date``, by every engine in turn (so a busy moment of a shared machine
    weighs on all of them alike)."""
    engines = (engine, *others)
    runs: list[dict[str, list]] = [{"hit@1": [], "hit@5": [], "mrr@10": [], "ms": []} for _ in engines]
    for q in questions:
        gold = set(q["evidence_files"])
        for e, r in zip(engines, runs):
            t: dict[str, float] = {}
            files = e.search(q["question"], k=k, timings=t, as_of=q.get("question_date")).files
            r["hit@1"].append(hit_at(files, gold, 1))
            r["hit@5"].append(hit_at(files, gold, 5))
            r["mrr@10"].append(mrr_at(files, gold, 10))
            r["ms"].append(t["retrieve_ms"])
    n = len(questions)
    return [{"hit@1": sum(r["hit@1"]) / n, "hit@5": sum(r["hit@5"]) / n, "mrr@10": sum(r["mrr@10"]) / n,
             "retrieve_p50_ms": percentile(r["ms"], 50), "retrieve_p95_ms": percentile(r["ms"], 95)} for r in runs]


def eval_answers(engine: Engine, questions: list[dict]) -> dict:
    cont, abst, total_ms, answer_ms, misses = [], [], [], [], []
    for q in questions:
        a = engine.ask(q["question"], backend="extractive", as_of=q.get("question_date"))
        ok = contains(a.text, q["answer"])
        cont.append(1.0 if ok else 0.0)
        abst.append(1.0 if a.abstained else 0.0)
        total_ms.append(a.timings["total_ms"])
        if "answer_ms" in a.timings:  # not when the premise check declined before any answering
            answer_ms.append(a.timings["answer_ms"])
        if not ok:
            misses.append((q["id"], q["answer"], a.text[:140]))
    n = len(questions)
    return {
        "containment": sum(cont) / n, "abstained": sum(abst) / n,
        "answer_p50_ms": percentile(answer_ms, 50), "answer_p95_ms": percentile(answer_ms, 95),
        "ask_p50_ms": percentile(total_ms, 50), "ask_p95_ms": percentile(total_ms, 95), "misses": misses,
    }


def _engine_for(corpus: Path, work: Path, rebuild: bool) -> Engine:
    settings = load_settings(corpus_dir=corpus, chroma_url=None)
    idx = work / f"index-{corpus.name}-c{settings.chunk_size}-o{settings.chunk_overlap}-t{settings.title_tokens}"
    if rebuild and idx.exists():
        shutil.rmtree(idx)
    return Engine(settings.model_copy(update={"index_dir": idx}))


def run_retrieval(args) -> int:
    from tqdm import tqdm

    from . import baseline

    bench = Path(args.bench_dir)
    if not (bench / "questions_dev.jsonl").exists():
        print(f"error: no RTQA benchmark at {bench} (--bench-dir)", file=sys.stderr)
        return 2
    corpus = _prepare_corpus(bench, Path(args.work), not args.no_distractors)
    questions = load_rtqa(bench)
    engine = _engine_for(corpus, Path(args.work), args.rebuild)
    engine.embedder.model  # load once, outside the timings
    bar = None

    def on_start(n):
        nonlocal bar
        bar = tqdm(total=n, unit="chunk", desc="embedding", file=sys.stderr)

    build = engine.sync(corpus, on_start, lambda n: bar.update(n) if bar else None)
    if bar:
        bar.close()
    again = engine.sync(corpus)
    # the same index blind to time: no as-of date, no window, no preference (what dates buy)
    blind = Engine(engine.settings.model_copy(update={"time_aware": False}), engine.embedder)
    for e in (engine, blind):
        e.ask("warm-up question", as_of=questions[0].get("question_date"))  # lazy imports, vectors in memory
    ret, ret0 = eval_retrieval(engine, questions, 10, blind)
    ans, ans0 = eval_answers(engine, questions), eval_answers(blind, questions)
    base = None if args.no_baseline else baseline.retrieval(corpus, questions, engine.embedder)

    files = len(build.added) + len(build.updated) + len(build.unchanged)
    print(f"\nRetrieval benchmark: RTQA dev, {len(questions)} questions, {files} articles ({corpus})")
    if build.chunks_added:
        print(_row("index build", build.seconds, "s", base and base["build_s"], "lower"))
        print(_row("embedding throughput", build.chunks_added / build.embed_seconds, "chunks/s"))
        print(_row("embedding throughput", build.tokens_embedded / build.embed_seconds, "tokens/s"))
    else:
        print("  index build                        (index already built; --rebuild to measure)")
    print(_row("chunks", build.chunks_total, "", base and base["chunks"]))
    print(_row("unchanged re-index", again.seconds, "s"))
    dated = sum(1 for m in engine.article_meta().values() if m.date)
    print(f"  each question asked as of its question_date; {dated} of {files} articles dated "
          "(\"blind\": the same index with time_aware off)")
    for m in ("hit@1", "hit@5", "mrr@10"):
        print(_row(f"file {m}", ret[m], "", base and base[m]))
        print(_row(f"file {m}, blind to time", ret0[m], "", ret[m], vs="with time"))
    print(_row("retrieval p50", ret["retrieve_p50_ms"], "ms", base and base["retrieve_p50_ms"], "lower"))
    print(_row("retrieval p50, blind to time", ret0["retrieve_p50_ms"], "ms", ret["retrieve_p50_ms"], "lower", "with time"))
    print(_row("retrieval p95", ret["retrieve_p95_ms"], "ms", base and base["retrieve_p95_ms"], "lower"))
    print(_row("extractive containment", ans["containment"]))
    print(_row("extractive containment, blind to time", ans0["containment"], "", ans["containment"], vs="with time"))
    print(_row("extractive abstained", ans["abstained"]))
    print(_row("extractive answer step p50", ans["answer_p50_ms"], "ms"))
    print(_row("extractive ask (retrieve+answer) p50", ans["ask_p50_ms"], "ms"))
    print(_row("extractive ask p95", ans["ask_p95_ms"], "ms"))
    if args.verbose:
        for m in ans["misses"]:
            print("  miss", m)
    return 0


def run_calibrate(args) -> int:
    """Pick the extractive abstention threshold: best balanced accuracy between answerable RTQA dev
    questions (answer contained) and unanswerable ones from the seeds question set."""
    bench = Path(args.bench_dir)
    corpus = _prepare_corpus(bench, Path(args.work), not args.no_distractors)
    engine = _engine_for(corpus, Path(args.work), False)
    engine.sync(corpus)
    ans_scores, un_scores = [], []
    seeds_engine = Engine(load_settings(index_dir=Path(args.work) / "index-seeds", chroma_url=None), engine.embedder)
    seeds_engine.sync()
    for q in load_rtqa(bench):
        ps = engine.retrieve(q["question"])
        ranked = engine.scorer.score(q["question"], ps, None)
        if ranked and contains(ranked[0].text, q["answer"]):
            ans_scores.append(evidence_support(ranked))
    # answerable: seeds facts whose best sentence holds the answer (below); unanswerable: the seeds
    # set's unanswerable questions asked of both corpora, plus RTQA questions asked of the seeds
    unanswerable = []
    seeds_qs = Path("eval/seeds.jsonl")
    for line in seeds_qs.read_text().splitlines() if seeds_qs.exists() else []:
        q = json.loads(line) if line.strip() else {}
        if q.get("type") == "unanswerable":
            unanswerable.append(q["question"])
        elif q.get("type") in ("fact", "multi-source"):
            ranked = seeds_engine.scorer.score(q["question"], seeds_engine.retrieve(q["question"]), None)
            if ranked and matches(ranked[0].text, q["answers"]):
                ans_scores.append(evidence_support(ranked))
    for text in unanswerable:
        for e in (seeds_engine, engine):
            ranked = e.scorer.score(text, e.retrieve(text), None)
            un_scores.append(evidence_support(ranked))
    for q in load_rtqa(bench):
        ranked = seeds_engine.scorer.score(q["question"], seeds_engine.retrieve(q["question"]), None)
        un_scores.append(evidence_support(ranked))
    best = (0.0, 0.0)
    for t in sorted(set(ans_scores + un_scores)):
        tpr = sum(s >= t for s in ans_scores) / len(ans_scores)
        tnr = sum(s < t for s in un_scores) / len(un_scores)
        if (tpr + tnr) / 2 > best[1]:
            best = (t, (tpr + tnr) / 2)
    print(f"answerable (correct top sentence): {len(ans_scores)}, unanswerable: {len(un_scores)}")
    print(f"answerable scores p10/p50: {percentile(ans_scores, 10):.3f}/{percentile(ans_scores, 50):.3f}")
    print(f"unanswerable scores p50/p90: {percentile(un_scores, 50):.3f}/{percentile(un_scores, 90):.3f}")
    print(f"best threshold {best[0]:.3f} (balanced accuracy {best[1]:.3f})")
    return 0


def run_answers(args) -> int:
    """Generative answers on RTQA dev: this engine (qa eval's figures) against a naive LlamaIndex query
    engine (default splitter, retriever and prompt; same LLM, same k) on the same questions."""
    from . import baseline, evaluate

    bench = Path(args.bench_dir)
    corpus = _prepare_corpus(bench, Path(args.work), not args.no_distractors)
    engine = _engine_for(corpus, Path(args.work), False)
    engine.sync(corpus)
    questions = evaluate.load_questions(bench / "questions_dev.jsonl")[: args.limit or None]
    from .llm import ModelError

    try:
        gen = engine.generator("local")
    except ModelError as e:
        print(f"error: no local LLM: {e}", file=sys.stderr)
        return 2
    engine.ask("warm-up question", backend="local")
    items = evaluate.run(engine, questions, "local")
    ours = evaluate.summarize(items)
    cited = sum(1 for i in items if i.cited_files) / len(items)
    print(f"\nGenerative answers: RTQA dev, {len(items)} questions, {gen.label}, k={engine.settings.top_k}")
    print(_row("containment", ours["answer_containment"]))
    print(_row("multiple-choice accuracy", ours["mc_accuracy"] or 0.0))
    print(_row("answers with a valid citation", cited))
    print(_row("unsupported-sentence rate", ours["unsupported_rate"] or 0.0))
    print(_row("abstained", sum(i.abstained for i in items) / len(items)))
    print(_row("first token p50", ours["first_token_p50_ms"], "ms"))
    print(_row("first token p95", ours["first_token_p95_ms"], "ms"))
    print(_row("whole answer p50", ours["total_p50_ms"], "ms"))
    print(_row("whole answer p95", ours["total_p95_ms"], "ms"))
    if args.no_baseline:
        return 0
    n = min(args.baseline_n, len(questions))
    index = baseline.naive_index(corpus, engine.embedder)
    qe = index.as_query_engine(llm=baseline.llama_index_llm(gen), similarity_top_k=engine.settings.top_k,
                               streaming=True)
    b_first, b_total, b_ok = [], [], []
    for q in questions[:n]:
        t0 = time.perf_counter()
        resp = qe.query(q.question)
        first, text = None, ""
        for piece in resp.response_gen:  # type: ignore[union-attr]  # a streaming query engine's response
            first = first or time.perf_counter()
            text += piece
        b_total.append((time.perf_counter() - t0) * 1000)
        b_first.append(((first or time.perf_counter()) - t0) * 1000)
        b_ok.append(1.0 if contains(text, q.answers[0]) else 0.0)
    sub = evaluate.summarize(items[:n])
    print(f"\nSame first {n} questions, naive LlamaIndex query engine (same LLM, k={engine.settings.top_k}) vs this engine:")
    print(_row("containment", sub["answer_containment"], "", sum(b_ok) / n))
    print(_row("first token p50", sub["first_token_p50_ms"], "ms", percentile(b_first, 50)))
    print(_row("whole answer p50", sub["total_p50_ms"], "ms", percentile(b_total, 50)))
    print("  (the baseline cites nothing; its prompt holds k whole 1024-token chunks)")
    return 0


def run_budget(args) -> int:
    """How the evidence budget trades answer quality against time to first token (local LLM, seeds set)."""
    from . import evaluate

    engine = Engine(load_settings(index_dir=Path(args.work) / "index-seeds", chroma_url=None))
    engine.sync()
    questions = [q for q in evaluate.load_questions(Path("eval/seeds.jsonl")) if q.type in ("fact", "multi-source")]
    questions = questions[: args.limit or None]
    from .llm import ModelError

    try:
        gen = engine.generator("local")
    except ModelError as e:
        print(f"error: no local LLM: {e}", file=sys.stderr)
        return 2
    engine.ask("warm-up question", backend="local")
    print(f"\nEvidence budget sweep: seeds fact + multi-source, {len(questions)} questions, {gen.label}")
    print(f"  {'budget':>6} {'containment':>12} {'unsupported':>12} {'first token p50':>16} {'whole p50':>10}")
    for budget in args.budgets:
        o = evaluate.summarize(evaluate.run(engine, questions, "local", budget=budget))
        print(f"  {budget:>6} {o['answer_containment']:>12.3f} {o['unsupported_rate'] or 0:>12.3f} "
              f"{o['first_token_p50_ms']:>13.0f} ms {o['total_p50_ms']:>7.0f} ms")
    return 0


def article_reader(corpora: list[Path]):
    """file name -> its parsed article from the first of ``corpora`` that holds it (None when none does),
    each read once: the verifier asks for an article at every sentence it checks."""
    from functools import lru_cache

    from .corpus import parse

    @lru_cache(maxsize=None)
    def doc(f: str):
        path = next((c / f for c in corpora if (c / f).is_file()), None)
        return parse(f, path.read_bytes()) if path else None

    return doc


def resolve_label_passages(rows: list[dict], corpora: list[Path]) -> list[dict]:
    """Labels of benchmark answers cite their passages by reference (file, clean_start, clean_end), since
    the benchmark's articles are not ours to copy: read the text back from the article folders."""
    doc = article_reader(corpora)
    out = []
    for r in rows:
        ok = True
        for p in r["passages"]:
            if "text" in p:
                continue
            d = doc(p["file"])
            if d is None:
                ok = False
                break
            p["title"], p["text"] = d.title, d.text[p["clean_start"]:p["clean_end"]]
        if ok:
            out.append(r)
    return out


def load_label_rows(paths: list[Path], corpora: list[Path]) -> list[dict]:
    rows = [json.loads(line) for path in paths for line in Path(path).read_text().splitlines() if line.strip()]
    return resolve_label_passages(rows, corpora)


def verifier_agreement(v, rows: list[dict]) -> dict:
    """The verifier's verdicts against hand labels: how many unsupported sentences it flags (recall) and
    how many of its flags are right (precision)."""
    tp = fp = fn = tn = 0
    for r in rows:
        ok, _ = v.labelled_verdict(r)
        if not ok and not r["supported"]:
            tp += 1
        elif not ok:
            fp += 1
        elif not r["supported"]:
            fn += 1
        else:
            tn += 1
    return {"rows": len(rows), "unsupported": tp + fn, "flagged": tp + fp, "recall": tp / max(1, tp + fn),
            "precision": tp / max(1, tp + fp), "agreement": (tp + tn) / max(1, len(rows)), "false_flags": fp}


def run_verify(args) -> int:
    """The sentence verifier (grounding, attribution, support) against hand labels, per support threshold.
    Labels are read from eval/verify-labels*.jsonl; those of benchmark answers cite their passages by
    reference, read back from ``--corpus`` folders (default WORK/rtqa601)."""
    paths = args.labels or sorted(Path("eval").glob("verify-labels*.jsonl"))
    corpora = [Path(c) for c in args.corpus] or [Path(args.work) / "rtqa601", Path("seeds")]
    rows = load_label_rows(paths, corpora)
    if not rows:
        print(f"error: no labels in {paths}", file=sys.stderr)
        return 2

    doc = article_reader(corpora)

    def article_text(f: str):
        d = doc(f)
        return d.text if d else None

    engine = Engine(load_settings())  # its embedder and threshold; the labels' own corpora for the articles
    print(f"\nSentence verifier against {len(rows)} hand-labelled answer sentences from {len(paths)} files "
          f"({sum(r['supported'] for r in rows)} supported, {sum(not r['supported'] for r in rows)} not)")
    print(f"  {'threshold':>9} {'agreement':>10} {'flagged':>8} {'recall (unsupported)':>21} {'precision':>10}")
    for t in args.thresholds:
        a = verifier_agreement(engine.verifier(t, article_text), rows)
        print(f"  {t:>9.2f} {a['agreement']:>10.3f} {a['flagged']:>8} {a['recall']:>21.3f} {a['precision']:>10.3f}")
    by_source: dict[str, list[dict]] = {}
    for r in rows:
        by_source.setdefault(r.get("source", "?").split(" ")[0], []).append(r)
    print(f"\n  at the configured threshold {engine.settings.verify_threshold}, per source:")
    for src, rs in sorted(by_source.items()):
        a = verifier_agreement(engine.verifier(None, article_text), rs)
        print(f"  {src:<12} {a['rows']:>4} rows {a['unsupported']:>4} unsupported  recall {a['recall']:.3f}  "
              f"precision {a['precision']:.3f}")
    return 0


def run_labels(args) -> int:
    """Export the answer sentences of eval reports that have no hand label yet, for labelling by reading:
    each shipped sentence and each sentence of the LLM's draft (before repair), with the passages it
    cited (all of them when it cited none). The labeller fills ``supported`` (true/false)."""
    from . import evaluate
    from .text import sentence_spans
    from .verify import MARKER, no_claim

    labels = evaluate.load_labels(sorted(Path("eval").glob("verify-labels*.jsonl")))
    seen = set(labels)
    out = []
    for rep_path in args.reports:
        rep = json.loads((Path(rep_path) / "report.json" if Path(rep_path).is_dir() else Path(rep_path)).read_text())
        name = rep["meta"]["name"]
        for it in rep["items"]:
            passages = {p["n"]: p for p in it.get("passages", [])}
            found = [("shipped", s["text"]) for s in it.get("sentences", [])]
            if it.get("draft"):
                d = it["draft"]
                found += [("draft", d[a:b]) for a, b in sentence_spans(d)]
            for stage, text in found:
                body = MARKER.sub("", text).strip()
                key = evaluate.sentence_key(it["question"], text)
                if no_claim(body) or key in seen or "The closest they come" in text:
                    continue
                seen.add(key)
                cites = [int(n) for n in re.findall(r"\[(\d+)\]", text) if int(n) in passages]
                cited = [passages[n] for n in cites] or list(passages.values())
                out.append({"id": it["id"], "source": name, "stage": stage, "question": it["question"],
                            "sentence": body, "cited": bool(cites),
                            "passages": [{k: p[k] for k in ("file", "clean_start", "title", "text")} for p in cited],
                            "supported": None})
    with open(args.out, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(out)} sentences to label -> {args.out}")
    return 0


def _index_state(corpus: Path, index: Path) -> dict:
    """What an index holds, read back: chunk ids, their metadata and vectors, the article records."""
    import numpy as np

    settings = load_settings(corpus_dir=corpus, index_dir=index, chroma_url=None)
    engine = Engine(settings)
    col = engine.index.collection
    ids: list[str] = []
    metas: dict[str, dict] = {}
    vecs: dict[str, np.ndarray] = {}
    step = 2000
    for off in range(0, col.count(), step):
        got = col.get(include=["metadatas", "embeddings"], limit=step, offset=off)
        for i, cid in enumerate(got["ids"]):
            ids.append(cid)
            metas[cid] = got["metadatas"][i]
            vecs[cid] = np.asarray(got["embeddings"][i])
    manifest = engine.index.manifest()
    return {"ids": ids, "metas": metas, "vecs": vecs, "manifest": manifest,
            "lexical": len(engine.retriever.lexical.ids)}


def run_crash(args) -> int:
    """Crash safety at scale: `qa index` over the RTQA articles killed with SIGKILL at named points of a sync
    and after random delays, then run again; each rerun is compared with a clean build (chunk ids, none twice
    or missing, metadata, vectors, article records, BM25) and timed against it."""
    import random
    import signal
    import subprocess

    import numpy as np

    corpus = _prepare_corpus(args.bench_dir, args.work, not args.no_distractors)
    clean_dir, crash_dir = args.work / "crash-clean", args.work / "crash-run"

    def qa_index(index: Path, crash: str | None = None, kill_after: float | None = None) -> tuple[int, float]:
        env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(index), "HF_HUB_OFFLINE": "1"}
        env.pop("QA_CRASH_AT", None)
        if crash:
            env["QA_CRASH_AT"] = crash
        t0 = time.perf_counter()
        p = subprocess.Popen([sys.executable, "-m", "qa", "index", "-q"], env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        if kill_after is not None:
            try:
                p.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                p.send_signal(signal.SIGKILL)
        return p.wait(), time.perf_counter() - t0

    shutil.rmtree(clean_dir, ignore_errors=True)
    code, clean_s = qa_index(clean_dir)
    assert code == 0, "the clean build failed"
    ref = _index_state(corpus, clean_dir)
    print(f"Crash safety on {len(ref['manifest'])} articles, {len(ref['ids'])} chunks "
          f"(clean build {clean_s:.1f} s; a sync stores and records every {load_settings().index_step} chunks)")
    print(f"  {'killed at':<22} {'died after':>10} {'rerun':>8} {'ids':>6} {'twice':>6} {'missing':>8} "
          f"{'records':>8} {'vectors':>8} {'BM25':>6}")
    rng = random.Random(7)
    cases: list[tuple[str | None, float | None]] = [
        (p, None) for p in ("embedded:3", "batch:5", "stored:7", "recorded:9", "scanned")]
    cases += [(None, rng.uniform(0.3, 0.9) * clean_s) for _ in range(2)]
    ok = True
    for point, delay in cases:
        shutil.rmtree(crash_dir, ignore_errors=True)
        code, died = qa_index(crash_dir, point, delay)
        code2, rerun_s = qa_index(crash_dir)
        got = _index_state(corpus, crash_dir)
        same_ids = set(got["ids"]) == set(ref["ids"])
        twice = len(got["ids"]) - len(set(got["ids"]))
        missing = len(set(ref["ids"]) - set(got["ids"]))
        records = got["manifest"] == ref["manifest"]
        sample = rng.sample(ref["ids"], min(300, len(ref["ids"])))
        vectors = same_ids and all(np.allclose(got["vecs"][c], ref["vecs"][c], atol=1e-5) and
                                   got["metas"][c] == ref["metas"][c] for c in sample)
        bm25 = got["lexical"] == len(set(got["ids"]))
        label = point or f"random {delay or 0:.0f} s"
        status = "killed" if code == -signal.SIGKILL else f"exit {code}"
        print(f"  {label:<22} {died:>8.1f} s {rerun_s:>6.1f} s {'same' if same_ids else 'DIFF':>6} {twice:>6} "
              f"{missing:>8} {'same' if records else 'DIFF':>8} {'same' if vectors else 'DIFF':>8} "
              f"{'same' if bm25 else 'DIFF':>6}  ({status}; rerun exit {code2})")
        ok = ok and same_ids and not twice and not missing and records and vectors and bm25 and code2 == 0
    shutil.rmtree(crash_dir, ignore_errors=True)
    print("  every rerun equals the clean build" if ok else "  A RERUN DIFFERS FROM THE CLEAN BUILD")
    return 0 if ok else 1


def main(args) -> int:
    return {"retrieval": run_retrieval, "calibrate": run_calibrate, "answers": run_answers,
            "budget": run_budget, "verify": run_verify, "labels": run_labels, "crash": run_crash}[args.what](args)
