"""Evaluation: run a question set through the engine and report metrics, failures and charts.

Question sets are JSONL (see eval/README.md); the RealTime QA format is read unchanged. Every question
goes through ``Engine.ask`` exactly as the chat sends it; conversation turns carry their history.
"""

from __future__ import annotations

import json
import math
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from .chat import Turn
from .schema import MARKER
from .metrics import (
    choose_choice,
    citation_precision,
    citation_recall,
    evidence_recall,
    hit_at,
    matches,
    mean,
    mrr_at,
    percentile,
    rate,
    token_f1,
    wilson,
)
from .timeframe import to_date

UNANSWERABLE = "unanswerable"
CONVERSATION = "conversation"


@dataclass
class Question:
    id: str
    type: str
    question: str = ""
    answers: list[str] = field(default_factory=list)
    gold_files: list[str] = field(default_factory=list)
    choices: list[str] | None = None
    turns: list["Question"] = field(default_factory=list)
    absent: list[str] = field(default_factory=list)  # a false-premise question: what the articles never mention
    as_of: str | None = None  # the day it was asked ("as_of" or RealTime QA's "question_date"): its time frame
    # a multi-source question: what each article must contribute (file, fact, any: alternatives), whether it
    # is a yes/no one and which way the articles answer it, and the sides of a disagreement among them
    facets: list[dict] = field(default_factory=list)
    kind: str | None = None
    polarity: str | None = None  # "yes" or "no"
    disagreement: dict | None = None

    @property
    def answerable(self) -> bool:
        return self.type != UNANSWERABLE and bool(self.answers or self.facets)


def parse_question(d: dict, line: int = 0) -> Question:
    """Our format, or RealTime QA's (answer, choices, evidence_files, question_type)."""
    qid = str(d.get("id") or f"line-{line}")
    as_of = d.get("as_of") or d.get("question_date")
    if as_of is not None and to_date(as_of) is None:
        raise ValueError(f"line {line}: as_of/question_date {as_of!r} is not a date (YYYY-MM-DD)")
    if "turns" in d:
        turns = [parse_question({**t, "type": t.get("type", "fact")}, line) for t in d["turns"]]
        for i, t in enumerate(turns):
            t.id = f"{qid}#{i + 1}"
        for t in turns:
            t.as_of = t.as_of or as_of
        return Question(qid, CONVERSATION, turns=turns, as_of=as_of)
    if "answers" in d or "gold_files" in d:
        facets = list(d.get("facets") or [])
        for f in facets:
            if not f.get("file") or not f.get("any"):
                raise ValueError(f"line {line}: a facet needs 'file' and 'any' (its alternatives)")
        return Question(qid, d.get("type", "fact"), d["question"], list(d.get("answers", [])),
                        list(d.get("gold_files", [])), d.get("choices"), absent=list(d.get("absent", [])), as_of=as_of,
                        facets=facets, kind=d.get("kind"), polarity=d.get("polarity"),
                        disagreement=d.get("disagreement"))
    if "answer" in d:  # RealTime QA
        return Question(qid, d.get("question_type", "fact"), d["question"], [d["answer"]],
                        list(d.get("evidence_files", [])), d.get("choices"), as_of=as_of)
    raise ValueError(f"line {line}: a question needs 'answers'/'gold_files', 'answer' or 'turns'")


def load_questions(path: Path) -> list[Question]:
    out, seen = [], set()
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                continue
            q = parse_question(json.loads(line), i)
            if q.id in seen:
                raise ValueError(f"{path}:{i}: duplicate id {q.id!r}")
            seen.add(q.id)
            out.append(q)
    return out


@dataclass
class Item:
    """One asked question (a conversation gives one item per turn)."""

    id: str
    type: str
    question: str
    standalone: str
    expected: list[str]
    gold_files: list[str]
    answer: str
    abstained: bool
    backend: str
    cited_files: list[str]
    retrieved_files: list[str]  # files of the passages given to the answerer
    article_ranking: list[str]  # the retriever's article ranking (for hit@k and MRR)
    metrics: dict
    timings: dict
    passed: bool
    sentences: list[dict] = field(default_factory=list)  # shipped answer sentences (text, cites, supported, issues)
    draft: str | None = None  # the LLM's text before verification and repair
    repairs: list[dict] = field(default_factory=list)
    premise: dict | None = None
    passages: list[dict] = field(default_factory=list)  # as given to the answerer: n, file, title, text, clean_start
    expected_absent: list[str] = field(default_factory=list)  # a trap's never-mentioned subject
    sources: list[dict] = field(default_factory=list)  # each citation: n, file, outlet, date
    when: dict | None = None  # the time frame it was answered in (as-of date, window, preference)
    comparison: dict | None = None  # whether the cited articles agree on what is asked (qa.sources)
    facets: list[dict] = field(default_factory=list)  # a multi-source question's facets, each with "covered"


def states(sentence: str, alternatives: list) -> bool:
    """Does ``sentence`` state a facet: one of its alternatives, each a phrase (whole words, normalised), a
    ``re:`` expression, or a list of such that must all be there?"""
    for alt in alternatives:
        parts = alt if isinstance(alt, list) else [alt]
        if parts and all(matches(sentence, [p]) for p in parts):
            return True
    return False


_YES = re.compile(r"^\W*yes\b", re.I)
_NO = re.compile(r"^\W*no\b", re.I)


def facet_metrics(q: Question, answer) -> tuple[dict, list[dict]]:
    """A multi-source question's scores: a facet is covered only by a sentence that states it and cites a
    passage of its article; the answer is whole when every facet is; a disagreement is shown when every
    side's article is cited by a sentence stating its part; a yes/no answer opening against the articles'
    polarity is a polarity error."""
    files = {i: p.file for i, p in enumerate(answer.passages, 1)}
    sentences = [] if answer.abstained else answer.sentences
    out = []
    for f in q.facets:
        covered = any(f["file"] in {files.get(n) for n in s.cites} and states(MARKER.sub("", s.text), f["any"])
                      for s in sentences)
        out.append({**f, "covered": covered})
    m: dict = {"facets": len(out), "facets_covered": sum(f["covered"] for f in out)}
    m["whole"] = 1.0 if out and all(f["covered"] for f in out) else 0.0
    if q.disagreement:
        sides = {s.get("file") for s in q.disagreement.get("sides", [])}
        side_facets = [f for f in out if f["file"] in sides]
        m["disagreement_shown"] = 1.0 if side_facets and all(f["covered"] for f in side_facets) else 0.0
        m["disagreement_marked"] = 1.0 if (answer.comparison or {}).get("differ") else 0.0
    if q.polarity in ("yes", "no"):
        first = MARKER.sub("", answer.text).strip()
        said = "yes" if _YES.match(first) else "no" if _NO.match(first) else None
        m["polarity_error"] = 1.0 if said and said != q.polarity and not answer.abstained else 0.0
    return m, out


def sentence_key(question: str, sentence: str) -> tuple[str, str]:
    """How a hand label finds a sentence: the question and the sentence, markers dropped, normalised."""
    from .facts import norm_tokens

    return " ".join(norm_tokens(question)), " ".join(norm_tokens(MARKER.sub("", sentence)))


def load_labels(paths: list[Path]) -> dict[tuple[str, str], bool]:
    """Hand labels (eval/verify-labels*.jsonl): (question, sentence) -> supported."""
    out: dict[tuple[str, str], bool] = {}
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("label"):  # the rules of eval/LABELS.md: "no_answer" is not supported
                    out[sentence_key(r["question"], r["sentence"])] = r["label"] == "supported"
                elif r.get("supported") is not None:
                    out[sentence_key(r["question"], r["sentence"])] = bool(r["supported"])
    return out


def default_label_files() -> list[Path]:
    return sorted(Path("eval").glob("verify-labels*.jsonl"))


ANSWER_LABELS = ("answers", "partly", "does_not_answer")


def load_answer_labels(path: Path = Path("eval/answer-labels.jsonl")) -> dict[tuple[str, str], str]:
    """Whole-answer labels (eval/LABELS.md): (question, answer) -> answers / partly / does_not_answer."""
    out: dict[tuple[str, str], str] = {}
    if Path(path).is_file():
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if line.strip():
                r = json.loads(line)
                if r.get("label") in ANSWER_LABELS:
                    out[sentence_key(r["question"], r["answer"])] = r["label"]
    return out


def _answer_label(m: dict, question: str, answer: str, answer_labels: dict | None) -> None:
    if answer_labels is None:
        return
    label = answer_labels.get(sentence_key(question, answer))
    m["answer_labelled"] = 1 if label else 0
    m["answer_answers"] = 1 if label == "answers" else 0
    m["answer_partly"] = 1 if label == "partly" else 0


def _item(q: Question, qtype: str, answer, ranking: list[str], k: int, labels: dict | None = None,
          answer_labels: dict | None = None) -> Item:
    gold = set(q.gold_files)
    passages = [p.file for p in answer.passages]
    cited = list(dict.fromkeys(c.file for c in answer.citations))
    text = MARKER.sub("", answer.text)
    m: dict = {}
    if gold:
        m["hit@1"] = hit_at(ranking, gold, 1)
        m["hit@k"] = hit_at(ranking, gold, k)
        m["mrr@10"] = mrr_at(ranking, gold, 10)
        m["evidence_recall"] = evidence_recall(passages, gold)
        m["citation_recall"] = citation_recall(cited, gold)
    m["citation_precision"] = citation_precision(cited, gold) if cited else None
    compared = answer.comparison or {}
    m["sources_differ"] = 1.0 if compared.get("differ") else 0.0
    facets: list[dict] = []
    if q.facets:
        fm, facets = facet_metrics(q, answer)
        m.update(fm)
    if q.answerable and q.facets and not q.answers:
        m["correct"] = m["correct_own"] = m["whole"]
    elif q.answerable:
        m["correct"] = 1.0 if (matches(text, q.answers) and not answer.abstained) else 0.0
        # the same without the sentence on whether the sources agree (which can name several values)
        own = MARKER.sub("", answer.text.replace(compared.get("sentence") or "\0", ""))
        m["correct_own"] = 1.0 if (matches(own, q.answers) and not answer.abstained) else 0.0
        m["f1"] = token_f1(text, q.answers)
        if q.choices:
            gold_choice = q.answers[0]
            m["mc_correct"] = 1.0 if choose_choice(text, q.choices) == gold_choice else 0.0
    else:
        m["correct"] = 1.0 if answer.abstained else 0.0
    sentences = [s for s in answer.sentences if not answer.abstained]
    m["sentences"] = len(sentences)
    m["unsupported"] = sum(1 for s in sentences if not s.cites or s.supported is False)
    if labels:  # sentences a person read against their passages
        verdicts = [labels.get(sentence_key(q.question, s.text)) for s in sentences]
        m["labelled"] = sum(v is not None for v in verdicts)
        m["labelled_unsupported"] = sum(v is False for v in verdicts)
    _answer_label(m, q.question, answer.text, answer_labels)
    declined = bool(answer.premise and answer.premise.get("absent"))
    m["premise_declined"] = 1.0 if declined else 0.0
    if q.absent:  # a trap: declined, naming what the articles never mention
        m["absent_named"] = 1.0 if declined and any(named(a, answer.premise["absent"]) for a in q.absent) else 0.0
    passed = m["correct"] == 1.0
    return Item(q.id, qtype, q.question, answer.standalone or q.question, q.answers, q.gold_files, answer.text,
                answer.abstained, answer.backend, cited, passages, ranking[:10], m,
                {k_: round(v, 2) for k_, v in answer.timings.items()}, passed,
                sentences=[{"text": s.text, "cites": s.cites, "supported": s.supported, "issues": s.issues,
                            "wording": s.wording}
                           for s in sentences],
                draft=answer.draft, repairs=answer.repairs, premise=answer.premise,
                passages=[{"n": i, "file": p.file, "title": p.title, "text": p.text, "clean_start": p.clean_start,
                           "outlet": p.outlet, "date": p.date} for i, p in enumerate(answer.passages, 1)],
                expected_absent=q.absent,
                sources=[{"n": c.n, "file": c.file, "outlet": c.outlet, "date": c.date}
                         for c in {c.n: c for c in answer.citations}.values()],
                when=answer.when, comparison=answer.comparison, facets=facets)


def named(expected: str, absent: list[str]) -> bool:
    """Does the premise check name ``expected`` (the trap's absent span) among what it found absent?"""
    from .facts import norm_tokens

    e = set(norm_tokens(expected))
    return any(e & set(norm_tokens(a)) for a in absent)


JUDGE_PROMPT = (
    "You check answers against sources. Reply with one word: yes if every statement in the answer is "
    "supported by the passages, no otherwise."
)


def judge_faithfulness(generator, answer) -> float | None:
    """LLM-judged: 1 when the judge says every statement is supported by the answer's passages."""
    if answer.abstained or answer.message or not answer.passages:
        return None
    passages = "\n\n".join(f"[{i}] {p.text}" for i, p in enumerate(answer.passages, 1))
    msgs = [{"role": "system", "content": JUDGE_PROMPT},
            {"role": "user", "content": f"Passages:\n\n{passages}\n\nAnswer: {MARKER.sub('', answer.text)}\n\nSupported?"}]
    verdict = "".join(generator.stream(msgs, 3)).strip().lower()
    return 1.0 if verdict.startswith("yes") else 0.0


def run(engine, questions: list[Question], backend: str | None = None, k: int | None = None,
        on_item: Callable[[], None] | None = None, judge=None, labels: dict | None = None,
        budget: int | None = None, answer_labels: dict | None = None) -> list[Item]:
    """Ask every question (conversations turn by turn, with their history). ``judge``: a generator
    whose verdicts give the LLM-judged faithfulness score; ``labels``: hand labels of answer sentences
    (``load_labels``), which give the labelled unsupported rate."""
    k = k or engine.settings.top_k
    items: list[Item] = []

    def ask(q: Question, qtype: str, history: list[Turn]) -> Item:
        answer = engine.ask(q.question, k=k, backend=backend, history=history, budget=budget, as_of=q.as_of)
        # the article ranking for the metrics is the one of the retrieval the answer used
        it = _item(q, qtype, answer, answer.ranking if answer.passages else [], k, labels, answer_labels)
        if judge is not None:
            it.metrics["judged_faithfulness"] = judge_faithfulness(judge, answer)
        history.append(Turn(q.question, answer.standalone or q.question, answer.text))
        return it

    for q in questions:
        if q.type == CONVERSATION:
            history: list[Turn] = []
            for t in q.turns:
                items.append(ask(t, CONVERSATION, history))
        else:
            items.append(ask(q, q.type, []))
        if on_item:
            on_item()
    return items


HEADLINE = [
    "accuracy", "answer_containment", "containment_without_comparison", "sources_differ", "f1", "mc_accuracy", "hit@1", "hit@k", "mrr@10", "evidence_recall",
    "citation_precision", "citation_recall", "abstention_precision", "abstention_recall", "unsupported_rate",
    "unsupported_rate_labelled", "labelled_coverage", "traps_declined_named", "premise_declined_answerable",
    "answerable_declined", "facet_coverage", "whole_answers", "disagreements_shown", "disagreements_marked",
    "answer_rate_labelled", "partly_rate_labelled",
]
# figures that are not rates in [0, 1]: counts, sentences per answer, 95 % intervals
EXTRA = ["polarity_errors", "sentences_per_answer", "answers_labelled", "unsupported_rate_labelled_95",
         "answer_rate_labelled_95"]
FIGURES = HEADLINE + EXTRA
# how report.md names a metric where the key alone would hide who judged it
LABELS = {"unsupported_rate": "unsupported (verifier)", "unsupported_rate_labelled": "unsupported (labelled)",
          "labelled_coverage": "sentences with a hand label",
          "containment_without_comparison": "containment without the sources sentence",
          "sources_differ": "answers saying the sources differ"}


def summarize(items: list[Item]) -> dict:
    """Aggregate metrics; a metric that does not apply to any item is None."""
    answerable = [i for i in items if i.type != UNANSWERABLE]
    unanswerable = [i for i in items if i.type == UNANSWERABLE]
    abstained = [i for i in items if i.abstained]
    sentences = sum(i.metrics["sentences"] for i in items)
    s = {
        "questions": len(items),
        "accuracy": mean(i.metrics["correct"] for i in items),
        "answer_containment": mean(i.metrics["correct"] for i in answerable),
        "containment_without_comparison": mean(i.metrics.get("correct_own") for i in answerable),
        "sources_differ": mean(i.metrics.get("sources_differ") for i in items),
        "f1": mean(i.metrics.get("f1") for i in answerable),
        "mc_accuracy": mean(i.metrics.get("mc_correct") for i in items),
        "hit@1": mean(i.metrics.get("hit@1") for i in items),
        "hit@k": mean(i.metrics.get("hit@k") for i in items),
        "mrr@10": mean(i.metrics.get("mrr@10") for i in items),
        "evidence_recall": mean(i.metrics.get("evidence_recall") for i in items),
        "citation_precision": mean(i.metrics.get("citation_precision") for i in items),
        "citation_recall": mean(i.metrics.get("citation_recall") for i in items),
        "abstention_precision": rate(sum(1 for i in abstained if i.type == UNANSWERABLE), len(abstained)),
        "abstention_recall": rate(sum(1 for i in unanswerable if i.abstained), len(unanswerable)),
        "unsupported_rate": rate(sum(i.metrics["unsupported"] for i in items), sentences),
        "unsupported_rate_labelled": rate(sum(i.metrics.get("labelled_unsupported", 0) for i in items),
                                          sum(i.metrics.get("labelled", 0) for i in items)),
        "labelled_coverage": rate(sum(i.metrics.get("labelled", 0) for i in items), sentences),
        "unsupported_rate_labelled_95": wilson(sum(i.metrics.get("labelled_unsupported", 0) for i in items),
                                               sum(i.metrics.get("labelled", 0) for i in items)),
        # whole answers read by a person (eval/answer-labels.jsonl), over the answerable questions labelled
        "answer_rate_labelled": rate(sum(i.metrics.get("answer_answers", 0) for i in answerable),
                                     sum(i.metrics.get("answer_labelled", 0) for i in answerable)),
        "answer_rate_labelled_95": wilson(sum(i.metrics.get("answer_answers", 0) for i in answerable),
                                          sum(i.metrics.get("answer_labelled", 0) for i in answerable)),
        "partly_rate_labelled": rate(sum(i.metrics.get("answer_partly", 0) for i in answerable),
                                     sum(i.metrics.get("answer_labelled", 0) for i in answerable)),
        "answers_labelled": sum(i.metrics.get("answer_labelled", 0) for i in answerable) if items else None,
        "traps_declined_named": mean(i.metrics.get("absent_named") for i in items),
        "premise_declined_answerable": mean(i.metrics["premise_declined"] for i in answerable
                                            if i.expected or i.facets),
        "answerable_declined": mean(1.0 if i.abstained else 0.0 for i in answerable if i.expected or i.facets),
        "facet_coverage": rate(sum(i.metrics.get("facets_covered", 0) for i in items),
                               sum(i.metrics.get("facets", 0) for i in items)),
        "whole_answers": mean(i.metrics.get("whole") for i in items if i.facets),
        "disagreements_shown": mean(i.metrics.get("disagreement_shown") for i in items),
        "disagreements_marked": mean(i.metrics.get("disagreement_marked") for i in items),
        "polarity_errors": (sum(int(i.metrics["polarity_error"]) for i in items if "polarity_error" in i.metrics)
                            if any("polarity_error" in i.metrics for i in items) else None),
        "sentences_per_answer": mean(float(i.metrics["sentences"]) for i in answerable if not i.abstained),
    }
    if any("judged_faithfulness" in i.metrics for i in items):
        s["judged_faithfulness (LLM-judged)"] = mean(i.metrics.get("judged_faithfulness") for i in items)
    for name, key in (("retrieve", "retrieve_ms"), ("first_token", "first_token_ms"), ("total", "total_ms")):
        vals = [i.timings[key] for i in items if key in i.timings]
        s[f"{name}_p50_ms"] = percentile(vals, 50) if vals else None
        s[f"{name}_p95_ms"] = percentile(vals, 95) if vals else None
    return s


def report(items: list[Item], meta: dict) -> dict:
    by_type = {t: summarize([i for i in items if i.type == t]) for t in sorted({i.type for i in items})}
    return {"meta": meta, "overall": summarize(items), "by_type": by_type, "items": [asdict(i) for i in items]}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (tuple, list)) and len(v) == 2:  # a 95 % interval
        return f"[{v[0]:.3f}, {v[1]:.3f}]"
    return f"{v:.3f}" if isinstance(v, float) else str(v)


def cited_sources(item: dict) -> str:
    """The cited articles with outlet and date where known: "[1] CNN, 2022-06-16 · rtqa_0013.txt"."""
    out = []
    for c in item.get("sources") or []:
        said = ", ".join(x for x in (c.get("outlet"), c.get("date")) if x)
        out.append(f"[{c['n']}] {said + ' · ' if said else ''}{c['file']}")
    return "; ".join(out) or ", ".join(item.get("cited_files") or []) or "–"


def to_markdown(rep: dict) -> str:
    meta, o = rep["meta"], rep["overall"]
    lines = [
        f"# Evaluation: {meta['name']}",
        "",
        f"{meta['questions_file']} · {o['questions']} questions asked · backend {meta['backend']}"
        + (f" ({meta['model']}, evidence budget {meta.get('budget')})" if meta.get("model") else "")
        + f" · k={meta['k']} · corpus {meta['corpus']} · {meta['created']}",
        "",
        "## Headline",
        "",
        "| metric | value |",
        "|---|---|",
    ]
    lines += [f"| {LABELS.get(m, m)} | {_fmt(o[m])} |" for m in FIGURES]
    if "judged_faithfulness (LLM-judged)" in o:
        lines.append(f"| judged_faithfulness (LLM-judged, {meta.get('judge', 'LLM')}) | {_fmt(o['judged_faithfulness (LLM-judged)'])} |")
    lines += ["", "## By question type", ""]
    cols = ["questions", "accuracy", "hit@1", "hit@k", "mrr@10", "citation_precision", "abstention_recall",
            "unsupported_rate", "total_p50_ms"]
    lines += ["| type | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for t, s in rep["by_type"].items():
        lines.append(f"| {t} | " + " | ".join(_fmt(s[c]) for c in cols) + " |")
    lines += ["", "## Latency (ms)", "", "| stage | p50 | p95 |", "|---|---|---|"]
    for stage in ("retrieve", "first_token", "total"):
        lines.append(f"| {stage} | {_fmt(o[f'{stage}_p50_ms'])} | {_fmt(o[f'{stage}_p95_ms'])} |")
    traps = [i for i in rep["items"] if "absent_named" in i["metrics"]]
    if traps:
        lines += ["", "## Premise check on false-premise questions", "",
                  "| id | question | never mentioned | outcome | named as absent |", "|---|---|---|---|---|"]
        for i in traps:
            p = i.get("premise") or {}
            outcome = ("declined, named" if i["metrics"]["absent_named"] else
                       "declined, other" if p.get("absent") else "abstained" if i["abstained"] else "answered")
            lines.append(f"| {i['id']} | {i['question']} | {', '.join(i.get('expected_absent') or []) or '–'} | "
                         f"{outcome} | {', '.join(p.get('absent') or []) or '–'} |")
    failures = [i for i in rep["items"] if not i["passed"]]
    lines += ["", f"## Failures ({len(failures)})", ""]
    for i in failures:
        expected = "abstain" if i["type"] == UNANSWERABLE else " | ".join(i["expected"])
        lines += [
            f"### {i['id']} ({i['type']})",
            f"- question: {i['question']}",
            *([f"- rewritten: {i['standalone']}"] if i["standalone"] != i["question"] else []),
            f"- expected: {expected}; gold files: {', '.join(i['gold_files']) or '–'}",
            f"- answer: {i['answer']}",
            *[f"- facet not covered: {f['file']}: {f.get('fact', '')}" for f in i.get("facets") or [] if not f["covered"]],
            *([f"- draft before repair: {i['draft']}"] if i.get("repairs") else []),
            f"- cited: {cited_sources(i)}; retrieved: {', '.join(dict.fromkeys(i['retrieved_files'])) or '–'}",
            "",
        ]
    return "\n".join(lines) + "\n"


def charts(rep: dict, out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    types = list(rep["by_type"])
    fig, ax = plt.subplots(figsize=(max(5, 1.2 * len(types) + 2), 3.5))
    vals = [rep["by_type"][t]["accuracy"] or 0 for t in types]
    bars = ax.bar(types, vals, color="#3b7dd8")
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in vals])
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("accuracy")
    ax.set_title(f"Accuracy by question type ({rep['meta']['name']})")
    plt.setp(ax.get_xticklabels(), rotation=20, ha="right")
    fig.tight_layout()
    paths.append(out / "accuracy_by_type.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(6, 3.5))
    series = []
    for key, label in (("retrieve_ms", "retrieval"), ("first_token_ms", "first token"), ("total_ms", "whole answer")):
        vals = [i["timings"][key] for i in rep["items"] if key in i["timings"]]
        if vals:
            series.append((label, vals))
    if series:
        ax.boxplot([v for _, v in series], tick_labels=[label for label, _ in series], showfliers=True)
        ax.set_yscale("log")
    ax.set_ylabel("ms (log scale)")
    ax.set_title("Latency distribution")
    fig.tight_layout()
    paths.append(out / "latency.png")
    fig.savefig(paths[-1], dpi=110)
    plt.close(fig)
    return paths


def write(rep: dict, reports_dir: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
    out = Path(reports_dir) / f"{stamp}-{re.sub(r'[^A-Za-z0-9._-]+', '-', rep['meta']['name'])}"
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rep, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(to_markdown(rep))
    charts(rep, out)
    return out


def _load_report(path: Path) -> dict:
    path = Path(path)
    return json.loads((path / "report.json" if path.is_dir() else path).read_text())


def compare(a: Path, b: Path) -> str:
    """Headline and per-type deltas between two reports (b minus a)."""
    ra, rb = _load_report(a), _load_report(b)
    lines = [f"A: {ra['meta']['name']} ({ra['meta']['created']})", f"B: {rb['meta']['name']} ({rb['meta']['created']})",
             "", f"{'metric':<24}{'A':>10}{'B':>10}{'B-A':>10}"]

    def row(name, va, vb):
        d = f"{vb - va:+.3f}" if isinstance(va, (int, float)) and isinstance(vb, (int, float)) else "–"
        lines.append(f"{name:<24}{_fmt(va):>10}{_fmt(vb):>10}{d:>10}")

    for m in FIGURES + ["retrieve_p50_ms", "first_token_p50_ms", "total_p50_ms", "total_p95_ms"]:
        row(m, ra["overall"].get(m), rb["overall"].get(m))
    for t in sorted(set(ra["by_type"]) | set(rb["by_type"])):
        row(f"accuracy[{t}]", ra["by_type"].get(t, {}).get("accuracy"), rb["by_type"].get(t, {}).get("accuracy"))
    return "\n".join(lines)


def relabel(path: Path, label_files: list[Path] | None = None) -> dict:
    """A report's labelled figures recomputed from the hand labels as they are now (sentences are labelled
    after the run that wrote them), written back to its report.json and report.md."""
    path = Path(path)
    rep = _load_report(path)
    labels = load_labels(default_label_files() if label_files is None else label_files)
    answer_labels = load_answer_labels()
    items = []
    for d in rep["items"]:
        verdicts = [labels.get(sentence_key(d["question"], s["text"])) for s in d.get("sentences", [])]
        d["metrics"]["labelled"] = sum(v is not None for v in verdicts)
        d["metrics"]["labelled_unsupported"] = sum(v is False for v in verdicts)
        _answer_label(d["metrics"], d["question"], d["answer"], answer_labels)
        items.append(Item(**d))
    new = report(items, {**rep["meta"], "labels": len(labels)})
    out = path if path.is_dir() else path.parent
    (out / "report.json").write_text(json.dumps(new, indent=2, ensure_ascii=False))
    (out / "report.md").write_text(to_markdown(new))
    return new


def gate(rep: dict, thresholds: dict) -> list[str]:
    """The headline metrics that fell below their committed minimum."""
    fails = []
    for metric, minimum in thresholds.get("min", {}).items():
        v = rep["overall"].get(metric)
        if v is None or v < minimum:
            fails.append(f"{metric} = {_fmt(v)} < {minimum}")
    for metric, maximum in thresholds.get("max", {}).items():
        v = rep["overall"].get(metric)
        if v is None or v > maximum:
            fails.append(f"{metric} = {_fmt(v)} > {maximum}")
    return fails


def judge_generator(engine):
    """The configured LLM as a judge; an error naming the setting when there is none."""
    from .llm import ModelError

    try:
        return engine.generator()
    except ModelError as e:
        raise ModelError(f"the judged faithfulness score needs {e}") from e


def evaluate(engine, questions_file: Path, name: str | None = None, backend: str | None = None,
             k: int | None = None, progress: bool = True, judge: bool = False,
             label_files: list[Path] | None = None) -> dict:
    from tqdm import tqdm

    questions = load_questions(questions_file)
    labels = load_labels(default_label_files() if label_files is None else label_files)
    # lazy loading is not what the latencies measure; the warm-up answer says what the run uses
    ran_with = engine.ask("warm-up question", k=k, backend=backend).options
    t0 = time.perf_counter()
    with tqdm(total=len(questions), unit="q", desc="eval", disable=not progress) as bar:
        items = run(engine, questions, backend, k, on_item=lambda: bar.update(1),
                    judge=judge_generator(engine) if judge else None, labels=labels,
                    answer_labels=load_answer_labels())
    meta = {
        "name": name or Path(questions_file).stem,
        "questions_file": str(questions_file),
        "backend": backend or engine.settings.backend,
        "answered_by": ran_with.get("backend"),
        "model": ran_with.get("model"),
        "k": ran_with.get("k", k or engine.settings.top_k),
        "budget": ran_with.get("budget"),
        "corpus": str(engine.settings.corpus_dir),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - t0, 1),
        "labels": len(labels),
    }
    return report(items, meta)
