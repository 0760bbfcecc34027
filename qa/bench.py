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
from .corpus import Document
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
    idx = work / (f"index-{corpus.name}-c{settings.chunk_size}-o{settings.chunk_overlap}-t{settings.title_tokens}"
                  f"-{settings.embed_backend}")
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
    engine.embedder.load()  # load once, outside the timings
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


def run_embed(args) -> int:
    """Faster ingest: the RTQA articles indexed from scratch by each embedder backend, and by the default
    backend without the title prefix and without the overlap (what they buy), each then asked RTQA dev;
    chunks/s are the embedding step's alone, against torch's in the same process."""
    questions = load_rtqa(args.bench_dir)
    corpus = _prepare_corpus(args.bench_dir, args.work, not args.no_distractors)
    base = load_settings(corpus_dir=corpus, chroma_url=None)
    default = base.embed_backend
    runs = [("torch", {}), ("onnx", {}), ("onnx-int8", {}), (default, {"title_tokens": 0}),
            (default, {"chunk_overlap": 0})]
    rows = []
    for i, (backend, change) in enumerate(runs):
        settings = base.model_copy(update={"embed_backend": backend, **change})
        idx = args.work / f"embed-bench-{i}"  # one folder a run: Chroma keeps a client per folder and process
        if idx.exists():
            shutil.rmtree(idx)
        engine = Engine(settings.model_copy(update={"index_dir": idx}))
        engine.embedder.load()  # export (once) and load outside the timings
        build = engine.sync(corpus)
        engine.ask("warm-up question", as_of=questions[0].get("question_date"))
        ret = eval_retrieval(engine, questions, 10)[0]
        ans = eval_answers(engine, questions)
        what = backend + "".join(f", {k}={v}" for k, v in change.items())
        rows.append((what, build, ret, ans))
        print(f"  {what}: {build.chunks_added} chunks, {build.chunks_added / build.embed_seconds:.1f} chunks/s, "
              f"build {build.seconds:.1f} s, hit@1 {ret['hit@1']:.3f}", file=sys.stderr, flush=True)
    # throughput, the backends taking turns on the same chunks (a shared machine's load weighs on all alike)
    from .chunking import chunk_document
    from .corpus import parse
    from .embedding import Embedder

    embedders = {kind: Embedder(backend=kind, threads=base.threads, batch_size=base.embed_batch,
                                cache_dir=base.model_cache) for kind in ("torch", "onnx", "onnx-int8")}
    sample: list[str] = []
    for p in sorted(corpus.glob("*.txt"))[::6]:
        doc = parse(p.name, p.read_bytes())
        if not isinstance(doc, Document):
            continue
        title = embedders["torch"].truncate(doc.title, base.title_tokens)
        sample += [c.embed_text(title) for c in chunk_document(doc, embedders["torch"].count_tokens,
                                                               base.chunk_size, base.chunk_overlap)]
    sample = sample[:2000]
    speed: dict[str, list[float]] = {kind: [] for kind in embedders}
    for e in embedders.values():
        e.encode(sample[:64])  # loaded and warm
    for _ in range(3):
        for kind, e in embedders.items():
            t0 = time.perf_counter()
            e.encode(sample)
            speed[kind].append(len(sample) / (time.perf_counter() - t0))
    rate = {kind: percentile(v, 50) for kind, v in speed.items()}
    print(f"\nEmbedding benchmark: {len(sample)} chunks embedded by each backend in turn, 3 rounds (median)")
    for kind in embedders:
        print(_row(f"{kind} chunks/s", rate[kind], "", rate["torch"], "higher", "torch"))

    torch_rate = rows[0][1].chunks_added / rows[0][1].embed_seconds
    print(f"\nEach backend's index of {corpus}, asked {len(questions)} RTQA dev questions as of their question_date")
    print(f"  {'run':34} {'chunks':>7} {'tokens':>9} {'embed s':>8} {'chunks/s':>9} {'x torch':>8} {'build s':>8} "
          f"{'hit@1':>6} {'hit@5':>6} {'MRR':>6} {'extr.':>6}")
    for what, b, r, a in rows:
        built = b.chunks_added / b.embed_seconds
        print(f"  {what:34} {b.chunks_added:7d} {b.tokens_embedded:9d} {b.embed_seconds:8.1f} {built:9.1f} "
              f"{built / torch_rate:8.2f} {b.seconds:8.1f} {r['hit@1']:6.3f} {r['hit@5']:6.3f} {r['mrr@10']:6.3f} "
              f"{a['containment']:6.3f}")
    print("  (extr. = extractive containment; chunks/s = the build's embedding step, one build after another, so "
          "a shared machine's load varies between them: the turn-taking figures above are the fair comparison; "
          "build s = scan, chunk, embed, store)")
    return 0


def main(args) -> int:
    return {"retrieval": run_retrieval, "calibrate": run_calibrate, "answers": run_answers,
            "budget": run_budget, "verify": run_verify, "labels": run_labels, "crash": run_crash, "embed": run_embed,
            "load": run_load, "scale": run_scale, "explore": run_explore}[args.what](args)


# -- load: many users over HTTP while an upload and a removal change the index ----------------------------------
# seed questions with what a right answer holds: a figure and the article it cites
LOAD_QUESTIONS = [
    ("What share of the world's critical raw materials does Ukraine hold?", "5%", "001_fc8662c004b3d3bf.txt"),
    ("On what date did Trump meet Japanese Prime Minister Shigeru Ishiba at the White House?", "February 7",
     "000_eb52613fceb0bc2a.txt"),
    ("How many Ukrainian soldiers has the fighting killed, according to figures Zelenskyy quoted?", "45,100",
     "003_e735657bf45baaa7.txt"),
    ("Who claimed that Zelenskyy has already indicated he will soften his position on land?", "Kellogg",
     "002_d89352816586c04e.txt"),
]
LOAD_NEW = ("zorblatt.txt", "Kelmora opens the Zorblatt bridge\n\n"
            "The Zorblatt bridge over the river Vask in Kelmora opened in March after six years of work.\n\n"
            "The Zorblatt bridge cost 42 million crowns, the city engineer Ilse Marrow said.\n\n"
            "Ferries that crossed the Vask for a century will stop running in April.\n",
            "How much did the Zorblatt bridge cost?", "42 million")
LOAD_REMOVED = ("004_b7d7290862e495a3.txt", "What have the White House and Ukraine made significant progress in?")


def serve_app(engine, port: int = 0, host: str = "127.0.0.1"):
    """The chat (app.py) over ``engine``, served in this process with its queue, as ``python app.py`` serves
    it: (demo, url). ``port`` 0: a free one. Stop it with ``demo.close()``."""
    import socket

    root = str(Path(__file__).resolve().parent.parent)
    if root not in sys.path:  # app.py sits next to the qa package in the checkout
        sys.path.insert(0, root)
    import app

    if not port:
        with socket.socket() as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
    demo = app.build(engine)
    app.queue(demo, engine.settings)
    demo.launch(server_name=host, server_port=port, prevent_thread_lock=True, quiet=True, show_error=True,
                ssr_mode=False)
    return demo, f"http://{host}:{port}/"


def _right(r: dict, figure: str, file: str) -> tuple[bool, bool]:
    """(cites the right article, says the figure) of an /ask answer."""
    cited = {c["file"] for c in r.get("citations") or []}
    return file in cited, figure in (r.get("answer") or "")


def load_run(url: str, engine: Engine, users: int = 20, per_user: int = 2, local_users: int | None = None,
             change: bool = True, alone_backends: tuple[str, ...] = ("extractive", "local")) -> dict:
    """``users`` gradio_client users at once, each asking ``per_user`` seed questions with the extractive
    backend and (the first ``local_users`` of them, default all) as many with the local LLM, while an
    article is uploaded and another removed (``change``), both started once a tenth of the answers are in.
    Each question is first asked alone (with ``alone_backends``), so an answer wrong under load can be told
    from one the backend gets wrong anyway. Wrong: the expected article not cited or, extractive, the
    expected figure missing (a small LLM misses figures on its own). Returns latencies (s) by backend,
    errors, wrong answers, the syncs' waits for the index lock (s), and what the new and the removed
    article answer afterwards."""
    import threading

    from gradio_client import Client

    local_users = users if local_users is None else local_users

    def ask(client, q: str, backend: str) -> dict:
        return client.predict(question=q, backend=backend, k=3, history=None, api_name="/ask")

    t_alone = time.perf_counter()
    solo = Client(url, verbose=False)
    alone = {(q, b): _right(ask(solo, q, b), fig, f) for q, fig, f in LOAD_QUESTIONS for b in alone_backends}
    t_alone = time.perf_counter() - t_alone
    plans = []
    for u in range(users):  # each user's questions, the backends taking turns
        plan = []
        for i in range(per_user):
            plan.append((LOAD_QUESTIONS[(u + i) % len(LOAD_QUESTIONS)], "extractive"))
            if u < local_users:
                plan.append((LOAD_QUESTIONS[(u + i + 1) % len(LOAD_QUESTIONS)], "local"))
        plans.append(plan)
    total = sum(len(p) for p in plans)
    results: list[dict] = []
    lock = threading.Lock()
    started = threading.Event()
    go = threading.Barrier(users + 1)
    clients = [Client(url, verbose=False) for _ in range(users)]

    def user(u: int) -> None:
        go.wait()
        for (q, fig, f), backend in plans[u]:
            t0 = time.perf_counter()
            row: dict[str, Any] = {"user": u, "backend": backend, "question": q, "start": t0}
            try:
                r = ask(clients[u], q, backend)
                row.update(answer=r.get("answer"), answered_by=r.get("backend"), files=[c["file"] for c in r["citations"]])
                row["file_ok"], row["figure_ok"] = _right(r, fig, f)
            except Exception as e:  # noqa: BLE001 - counted and reported
                row["error"] = f"{type(e).__name__}: {e}"
            row["end"] = time.perf_counter()
            row["seconds"] = row["end"] - t0
            with lock:
                results.append(row)
                if len(results) >= max(1, total // 10):
                    started.set()

    threads = [threading.Thread(target=user, args=(u,)) for u in range(users)]
    for t in threads:
        t.start()
    waits_before = len(engine.index_lock.write_waits)
    t_start = time.perf_counter()
    go.wait()
    changes: dict[str, Any] = {}

    def upload() -> None:
        t0 = time.perf_counter()
        report, rejected = engine.add_articles([(LOAD_NEW[0], LOAD_NEW[1].encode())])
        changes["upload"] = {"added": report.added if report else [], "rejected": rejected,
                             "start": t0, "end": time.perf_counter()}

    def remove() -> None:
        t0 = time.perf_counter()
        report, _ = engine.remove_article(LOAD_REMOVED[0])
        changes["removal"] = {"removed": report.removed, "start": t0, "end": time.perf_counter()}

    writers = [threading.Thread(target=upload), threading.Thread(target=remove)] if change else []
    if change:
        started.wait(600)
    for t in writers:
        t.start()
    for t in writers + threads:
        t.join()
    wall = time.perf_counter() - t_start
    waits = list(engine.index_lock.write_waits)[waits_before:]
    after = {}
    if change:
        new = ask(solo, LOAD_NEW[2], "extractive")
        gone = ask(solo, LOAD_REMOVED[1], "extractive")
        after = {"new_answer": new["answer"], "new_files": [c["file"] for c in new["citations"]],
                 "removed_files": [c["file"] for c in gone["citations"] + gone["passages"]]}
    window = (min(c["start"] for c in changes.values()), max(c["end"] for c in changes.values())) if changes else None
    by: dict[str, dict] = {}
    for b in ("extractive", "local"):
        rows = [r for r in results if r["backend"] == b]
        ok = [r for r in rows if "error" not in r]
        secs = [r["seconds"] for r in ok]
        wrong = [r for r in ok if not (r["file_ok"] and (r["figure_ok"] or b == "local"))]
        by[b] = {"asked": len(rows), "answered": len(ok), "errors": [r["error"] for r in rows if "error" in r],
                 "p50_s": percentile(secs, 50), "p95_s": percentile(secs, 95), "max_s": max(secs, default=float("nan")),
                 "wrong": wrong, "figure_missing": sum(1 for r in ok if not r["figure_ok"]),
                 # wrong under load although right when asked alone: what the concurrent change could cause
                 "wrong_only_under_load": [r for r in ok if (r["question"], b) in alone and not (r["file_ok"] and r[
                     "figure_ok"]) and (r["file_ok"], r["figure_ok"]) != alone[(r["question"], b)]],
                 "alone": b in alone_backends,
                 "during_change": sum(1 for r in rows if window and r["start"] < window[1] and r["end"] > window[0])}
    return {"backends": by, "sync_waits_s": waits, "changes": changes, "after": after, "wall_s": wall,
            "alone_s": t_alone, "users": users, "results": results}


def print_load(res: dict, model: str) -> None:
    c = res["changes"]
    print(f"Load: {res['users']} users over HTTP (gradio_client), {res['wall_s']:.1f} s (each question asked alone "
          f"first: {res['alone_s']:.1f} s); local LLM {model}")
    print("  wrong: the expected article not cited (extractive: or its figure missing); wrong only under load: "
          "not so when asked alone")
    print(f"  {'backend':<11} {'asked':>5} {'answered':>8} {'errors':>6} {'wrong':>5} {'wrong only under load':>21} "
          f"{'p50 s':>7} {'p95 s':>7} {'max s':>7} {'during change':>13}")
    for b, s in res["backends"].items():
        if s["asked"]:
            print(f"  {b:<11} {s['asked']:>5} {s['answered']:>8} {len(s['errors']):>6} {len(s['wrong']):>5} "
                  f"{len(s['wrong_only_under_load']) if s['alone'] else '-':>21} {s['p50_s']:>7.2f} {s['p95_s']:>7.2f} {s['max_s']:>7.2f} "
                  f"{s['during_change']:>13}")
        if b == "local" and s["answered"]:
            print(f"  {'':<11} local answers without the expected figure (wrong file not counted): {s['figure_missing']}")
        for e in s["errors"][:3]:
            print(f"    error: {e}")
    if c:
        print(f"  upload {c['upload']['added']} took {c['upload']['end'] - c['upload']['start']:.2f} s, removal "
              f"{c['removal']['removed']} {c['removal']['end'] - c['removal']['start']:.2f} s (each includes waiting "
              "for the other)")
    print("  syncs waited for the index lock: " + ", ".join(f"{w * 1000:.0f} ms" for w in res["sync_waits_s"]))
    if res["after"]:
        a = res["after"]
        print(f"  after: the new article answers {a['new_answer'][:70]!r} citing {a['new_files']}; the removed "
              f"article is {'STILL' if LOAD_REMOVED[0] in a['removed_files'] else 'no longer'} cited or retrieved")


def run_load(args) -> int:
    """`qa bench load`: the seeds served by the chat in this process, ``--users`` gradio_client users each
    asking ``--per-user`` questions with the extractive backend and as many with the local LLM (the packaged
    1.5B model unless QA_LLM_MODEL says otherwise) while an article is uploaded and another removed."""
    work = Path(args.work) / "load"
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(Path(__file__).resolve().parent.parent / "seeds", work / "corpus")
    settings = load_settings(corpus_dir=work / "corpus", index_dir=work / "index", chroma_url=None,
                             backend="extractive")
    engine = Engine(settings)
    engine.sync()
    with engine.model_lock:
        model = engine.answerer("local").name  # loaded before the clock starts
    demo, url = serve_app(engine)
    try:
        res = load_run(url, engine, users=args.users, per_user=args.per_user)
    finally:
        demo.close()
    print_load(res, model)
    bad = any(s["errors"] or s["wrong_only_under_load"] or s["answered"] < s["asked"] for s in res["backends"].values())
    bad = bad or LOAD_NEW[0] not in res["after"]["new_files"] or LOAD_REMOVED[0] in res["after"]["removed_files"]
    return 1 if bad else 0


# -- scale -------------------------------------------------------------------------------------------
def _scale_corpus(bench: Path, work: Path, chunks: int) -> Path:
    """At least ``chunks`` chunks of real article text: new articles, each the paragraphs of three RTQA
    articles drawn at random and shuffled, as long as one of them, under one of their headlines (made once,
    the same every time: the seed is fixed). Quality is not the point; size, and real text, are."""
    import random

    from .chunking import chunk_document
    from .corpus import parse
    from .embedding import Embedder

    out = work / f"scale-{chunks // 1000}k"
    if (out / ".complete").exists():
        return out
    src = _prepare_corpus(bench, work, True)
    articles = []
    for p in sorted(src.glob("*.txt")):
        paras = [x.strip() for x in p.read_text(encoding="utf-8").split("\n\n") if len(x.strip()) > 40]
        if len(paras) > 2:
            articles.append((paras[0], paras[1:]))
    rng = random.Random(13)
    embedder = Embedder()
    out.mkdir(parents=True, exist_ok=True)
    total, n = 0, 0
    while total < chunks:
        picks = rng.sample(articles, 3)
        pool = [x for _, ps in picks for x in ps]
        rng.shuffle(pool)
        body = pool[: max(3, len(picks[0][1]))]
        text = picks[0][0] + "\n\n" + "\n\n".join(body) + "\n"
        name = f"scale_{n:05d}.txt"
        doc = parse(name, text.encode())
        total += len(chunk_document(doc, embedder.count_tokens, 64, 16))  # type: ignore[arg-type]
        (out / name).write_text(text, encoding="utf-8")
        n += 1
    (out / ".complete").write_text(f"{n} articles, {total} chunks at the default chunking\n")
    return out


def _measured(cmd: list[str], env: dict) -> tuple[float, float, str]:
    """Run ``cmd``: wall seconds, its peak RSS in MB, and what it printed."""
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(p.pid, 0)
        secs = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read().decode(errors="replace")
    if p.returncode:
        raise RuntimeError(f"{' '.join(cmd)} failed ({p.returncode}): {text[-2000:]}")
    return secs, usage.ru_maxrss / 1024, text


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _du_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _scale_queries(engine: Engine, questions: list[str]) -> dict:
    retrieve, ask = [], []
    for q in questions:
        t: dict[str, float] = {}
        engine.search(q, timings=t)
        retrieve.append(t["retrieve_ms"])
        ask.append(engine.ask(q, backend="extractive").timings["total_ms"])
    return {"retrieve_p50": percentile(retrieve, 50), "retrieve_p95": percentile(retrieve, 95),
            "ask_p50": percentile(ask, 50), "ask_p95": percentile(ask, 95)}


def _add_remove(engine: Engine, text: str, question: str) -> dict:
    """One article added to the index and asked about, then removed: seconds each."""
    t0 = time.perf_counter()
    report, rejected = engine.add_articles([("scale-added.txt", text.encode())])
    t1 = time.perf_counter()
    a = engine.ask(question, backend="extractive")
    t2 = time.perf_counter()
    engine.remove_article("scale-added.txt")
    t3 = time.perf_counter()
    cited = any(c.file == "scale-added.txt" for c in a.citations)
    assert report is not None and report.added == ["scale-added.txt"] and not rejected, (report, rejected)
    return {"add_s": t1 - t0, "first_ask_s": t2 - t1, "remove_s": t3 - t2, "cited": cited}


def _scale_measure(r: dict, qa: list[str], env: dict, questions: list[str], new_text: str, settings) -> None:
    """Into ``r``: cold starts (a `qa ask` process with the lexical index rebuilt, then read), chunks, query
    times and memory, and one article added and removed, for the index ``settings`` and ``env`` name."""
    ask = qa + ["ask", questions[0], "--backend", "extractive"]
    r["cold_rebuilt_s"], r["cold_rebuilt_rss"], _ = _measured(ask, env)
    r["cold_s"], r["cold_rss"], _ = _measured(ask, env)
    engine = Engine(settings)
    r["chunks"] = engine.index.count()
    engine.ask(questions[0], backend="extractive")
    r.update(_scale_queries(engine, questions))
    r["query_rss"] = _rss_mb()
    r.update(_add_remove(engine, new_text, "How many piers did the storm damage in Zorblatt?"))
    engine.retriever.flush()


def run_scale(args) -> int:
    """100k chunks on this machine: build (time, throughput, peak RSS), cold start (process start to first
    answer, with the lexical index rebuilt and read from disk), query p50/p95, one article added and removed,
    memory against index size (a tenth of the corpus for comparison), and the same index served by a real
    Chroma server."""
    import socket
    import subprocess

    from .config import load_settings as settings_for

    questions = [q["question"] for q in load_rtqa(args.bench_dir)]
    corpus = _scale_corpus(args.bench_dir, args.work, args.chunks)
    files = sorted(corpus.glob("*.txt"))
    small = args.work / f"scale-{args.chunks // 10000}k-tenth"
    if not small.exists():
        small.mkdir()
        for f in files[: len(files) // 10]:
            shutil.copyfile(f, small / f.name)
    env = dict(os.environ, HF_HUB_OFFLINE="1", ANONYMIZED_TELEMETRY="False", QA_CHROMA_URL="")
    qa = [sys.executable, "-m", "qa"]
    new_text = ("Zorblatt Harbour to reopen after storm\n\nThe harbour of Zorblatt will reopen on Friday after "
                "the storm damaged 14 piers, the port authority said. Repairs cost 3.2 million euros.\n")
    rows: dict[str, dict] = {}
    for name, folder in (("tenth", small), ("full", corpus)):
        idx = args.work / f"{folder.name}-index"
        e = dict(env, QA_INDEX_DIR=str(idx), QA_CORPUS_DIR=str(folder))
        r: dict[str, Any] = {"articles": len(list(folder.glob("*.txt")))}
        if args.rebuild and idx.exists():
            shutil.rmtree(idx)
        if not idx.exists():
            print(f"building the {name} index ({folder}) …", file=sys.stderr, flush=True)
            r["build_s"], r["build_rss"], _ = _measured(qa + ["index", str(folder)], e)
        for f in idx.glob("lexical-*"):
            f.unlink()
        _scale_measure(r, qa, e, questions, new_text, settings_for(corpus_dir=folder, index_dir=idx, chroma_url=None))
        r["lexical_mb"] = sum(f.stat().st_size for f in idx.glob("lexical-*.pkl")) / 1e6
        r["index_mb"] = _du_mb(idx) - r["lexical_mb"]
        rows[name] = r
        print(f"  {name}: {r}", file=sys.stderr, flush=True)

    # the full index served by a real Chroma server (its data: a copy of the embedded index)
    served = args.work / "scale-served"
    if served.exists():
        shutil.rmtree(served)
    shutil.copytree(args.work / f"{corpus.name}-index", served, ignore=shutil.ignore_patterns("lexical-*"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([str(Path(sys.executable).parent / "chroma"), "run", "--path", str(served), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=env)
    try:
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if time.time() > deadline:
                    raise RuntimeError("the Chroma server did not start")
                time.sleep(0.5)
        url = f"http://127.0.0.1:{port}"
        local = args.work / "scale-served-cache"
        shutil.rmtree(local, ignore_errors=True)
        e = dict(env, QA_CHROMA_URL=url, QA_INDEX_DIR=str(local), QA_CORPUS_DIR=str(corpus))
        r = {"articles": rows["full"]["articles"]}
        _scale_measure(r, qa, e, questions, new_text, settings_for(corpus_dir=corpus, index_dir=local, chroma_url=url))
        rows["server"] = r
    finally:
        server.terminate()
        server.wait(30)

    full, tenth = rows["full"], rows["tenth"]
    print(f"\nScale benchmark: {full['chunks']} chunks ({full['articles']} articles made of RTQA paragraphs), "
          f"and a tenth of it ({tenth['chunks']} chunks); {len(questions)} RTQA dev questions asked blind to time")
    print(f"  {'':38} {'tenth':>10} {'full':>10} {'server':>10}  target (full)")

    def line(label, key, fmt="{:.1f}", target=""):
        cells = [fmt.format(rows[n][key]) if key in rows.get(n, {}) else "-" for n in ("tenth", "full", "server")]
        print(f"  {label:38} {cells[0]:>10} {cells[1]:>10} {cells[2]:>10}  {target}")

    line("chunks", "chunks", "{:d}")
    line("build (qa index), s", "build_s")
    for n in ("tenth", "full"):
        if "build_s" in rows[n]:
            rows[n]["build_rate"] = rows[n]["chunks"] / rows[n]["build_s"]
    line("build throughput, chunks/s", "build_rate")
    line("build peak RSS, MB", "build_rss", "{:.0f}")
    line("index on disk, MB", "index_mb", "{:.0f}")
    line("lexical index file, MB", "lexical_mb", "{:.0f}")
    line("cold start, lexical rebuilt, s", "cold_rebuilt_s", target="")
    line("cold start, lexical read, s", "cold_s", target="<= 15 s")
    line("cold start peak RSS, MB", "cold_rss", "{:.0f}")
    line("retrieval p50, ms", "retrieve_p50")
    line("retrieval p95, ms", "retrieve_p95", target="<= 200 ms")
    line("extractive ask p50, ms", "ask_p50")
    line("extractive ask p95, ms", "ask_p95", target="<= 200 ms")
    line("RSS after the questions, MB", "query_rss", "{:.0f}")
    line("add one article (sync), s", "add_s", "{:.2f}", "<= 2 s")
    line("first question after it, s", "first_ask_s", "{:.2f}")
    line("remove it (sync), s", "remove_s", "{:.2f}")
    line("added article cited", "cited", "{}")
    grow_index = full["chunks"] / tenth["chunks"]
    grow_mem = (full["query_rss"] - tenth["query_rss"]) / max(1e-9, tenth["query_rss"])
    print(f"  index grew x{grow_index:.1f}; query-time RSS grew x{full['query_rss'] / tenth['query_rss']:.2f} "
          f"(+{grow_mem:.0%}); per chunk {1000 * (full['query_rss'] - tenth['query_rss']) / (full['chunks'] - tenth['chunks']):.1f} kB "
          f"vs {1000 * (full['index_mb'] - tenth['index_mb']) / (full['chunks'] - tenth['chunks']):.1f} kB of index on disk")
    print("  (server: the full index copied into a real `chroma run`; its lexical index kept in a local folder)")
    return 0


# -- exploring a story: summaries and suggested follow-ups ---------------------------------------------
def run_explore(args) -> int:
    """Whole-article summaries and suggested follow-ups, on the seeds and on the RTQA articles of the first
    ten dev questions: summary time (extractive, local LLM); the LLM summaries' sentences written to
    --out for labelling by reading; suggestions: how many, the time they add to an extractive answer, and
    how many the local LLM answers (a judge other than the extractive check that chose them)."""
    from .config import load_settings as settings_for

    questions = load_rtqa(args.bench_dir)
    corpus = _prepare_corpus(args.bench_dir, args.work, not args.no_distractors)
    sets: list[tuple[str, Engine, list[str], list[str], list | None]] = []
    seeds = Engine(settings_for(corpus_dir=Path("seeds"), index_dir=args.work / "explore-seeds", chroma_url=None))
    seeds.sync()
    rows_ = [json.loads(x) for x in Path("eval/seeds.jsonl").read_text().splitlines() if x.strip()]
    seed_qs = [r["question"] for r in rows_ if r.get("question") and r.get("answers")]  # answerable, single turn
    sets.append(("seeds", seeds, sorted(f["file"] for f in seeds.index.files()), seed_qs[: args.limit or 20], None))
    rtqa = _engine_for(corpus, args.work, False)
    rtqa.sync(corpus)
    ten = questions[:10]
    sets.append(("RTQA dev", rtqa, list(dict.fromkeys(q["evidence_files"][0] for q in ten)), [q["question"] for q in ten],
                 [q.get("question_date") for q in ten]))
    rows = []
    labels = []
    for name, engine, files, qs, dates in sets:
        engine.ask("warm-up", backend="extractive")
        ext_t, llm_t, n_sent = [], [], []
        for f in files:
            t = time.perf_counter()
            a = engine.ask("Summarise this article", backend="extractive", article=f)
            ext_t.append(time.perf_counter() - t)
            n_sent.append(len(a.sentences))
            t = time.perf_counter()
            b = engine.ask("Summarise this article", backend="local", article=f)
            llm_t.append(time.perf_counter() - t)
            for s in b.sentences:
                labels.append({"set": name, "file": f, "backend": b.backend, "sentence": s.text,
                               "verifier_supported": s.supported,
                               "cited": [c.quote for c in b.citations if c.n in s.cites]})
        added, made, answered, asked = [], 0, 0, 0
        for i, q in enumerate(qs):
            as_of = dates[i] if dates else None
            with_s = engine.ask(q, backend="extractive", as_of=as_of, suggest=True)
            added.append(with_s.timings.get("suggest_ms", 0.0))
            made += len(with_s.suggestions)
            for follow in with_s.suggestions:
                asked += 1
                answered += not engine.ask(follow, backend="local", as_of=as_of).abstained
        rows.append((name, len(files), percentile(ext_t, 50), percentile(llm_t, 50), sum(n_sent) / len(n_sent),
                     len(qs), made, percentile(added, 50), percentile(added, 95), answered / asked if asked else 0.0))
    if args.out:
        args.out.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in labels))
    print("\nExploring a story: summaries and suggested follow-ups")
    print(f"  {'set':10} {'articles':>8} {'extr. summary p50 s':>20} {'LLM summary p50 s':>18} {'sentences':>9} "
          f"{'questions':>9} {'suggested':>9} {'added p50 ms':>12} {'added p95 ms':>12} {'LLM answers them':>16}")
    for r in rows:
        print(f"  {r[0]:10} {r[1]:8d} {r[2]:20.2f} {r[3]:18.2f} {r[4]:9.1f} {r[5]:9d} {r[6]:9d} {r[7]:12.0f} "
              f"{r[8]:12.0f} {r[9]:16.3f}")
    verified = sum(1 for x in labels if x["verifier_supported"])
    print(f"  LLM summary sentences: {len(labels)} ({verified} supported by the verifier, a lower bound judge); "
          f"written to {args.out} for labelling by reading" if args.out else "")
    return 0
