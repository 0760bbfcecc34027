"""Answers: the interface every backend implements, and the extractive backend (no LLM).

A backend's ``stream(question, passages, qemb)`` yields text pieces (``str``) as they are produced and
then, last, the final :class:`Answer` with its citations. Non-streaming use consumes the same iterator.
Passages are numbered from 1 in the order given; a ``[n]`` marker cites passage ``n``.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Callable, Iterator, Protocol

import numpy as np

from .embedding import Embedder
from .query import VALUE_KINDS
from .query import parse as parse_query
from .facts import Source, facts, is_who_said, passage_speaker
from .retrieve import LexicalIndex
from .schema import (  # noqa: F401 (re-exported)
    ABSTAIN_TEXT, MARKER, Answer, AnswerSentence, Candidate, Citation, Event, Generator, Passage,
)
from .text import STOPWORDS, cut_off, numbers, sentence_spans, terms, words
from .timeframe import without_time

BROAD_NEW = 5  # content words a further article's sentence must add to the answer of a broad question


def evidence_support(ranked: list[Candidate]) -> float:
    """How well the best candidate sentences match the question: what abstention compares with its threshold."""
    return max((c.support for c in ranked[:3]), default=0.0)


class Answerer(Protocol):
    name: str
    gen: Generator | None  # the LLM it answers with; None for a backend without one

    def rewrite(self, question: str, history: list) -> str | None:
        """A follow-up rewritten as a standalone question from the conversation, or None when this backend
        has no model to do it (the engine then carries the last turn's names over itself)."""
        ...

    def stream(self, question: str, passages: list[Passage], qemb: np.ndarray | None = None,
               budget: int | None = None) -> Iterator[Event]:
        """Text pieces, then the final Answer. ``budget``: the word-pieces of evidence an LLM is given (its
        setting when None; a backend without an LLM has none)."""
        ...


_NUMBER_Q = re.compile(r"\b(how (many|much|long|old|far|tall|big)|what (share|percentage|percent|proportion|number|amount|price|age))\b", re.I)
_TIME_Q = re.compile(r"\b(when|what (year|date|day|month|time)|which (year|day|month))\b", re.I)
_ENTITY_Q = re.compile(r"\b(who|whom|whose|where|which|what (country|city|company|team|state|group|organization|name))\b", re.I)
_TIME_WORD = re.compile(r"\b(january|february|march|april|may|june|july|august|september|october|november|december|"
                        r"monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|week|month|year|"
                        r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec)\b\.?", re.I)
_CAPS = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’.-]*")
_ATTRIBUTION = re.compile(r"^(“|\"|')|\b(he|she|they) (said|stated|added|wrote|noted|told)\b|^(he|she|they|it|this)\b", re.I)


def answer_type(question: str) -> str:
    if _NUMBER_Q.search(question):
        return "number"
    if _TIME_Q.search(question):
        return "time"
    if _ENTITY_Q.search(question):
        return "entity"
    return "other"


def _holds_quote(question: str, sentence: str) -> bool:
    """Does ``sentence`` hold what a "who said …?" question quotes (most of its words)?"""
    q = [t for t in terms(re.sub(r"^\W*who\b\s+\w+", "", question, flags=re.I))]
    st = set(terms(sentence))
    return bool(q) and sum(t in st for t in q) >= 0.6 * len(q)


class ExtractiveAnswerer:
    """Picks the sentences that best answer the question from the retrieved passages and cites them.

    A sentence's support score mixes its embedding similarity to the question, the IDF-weighted share
    of the question's terms it contains, its passage's rank, whether it brings something the question
    does not already say (names, numbers), and whether that fits the kind of answer asked for (a number
    for "how many", a date for "when", a name for "who"/"where"). Below ``threshold`` it abstains.
    """

    name = "extractive"
    gen: Generator | None = None  # no LLM
    W_SEM, W_LEX, W_RANK, W_NOVEL, W_TYPE = 0.5, 0.4, 0.1, 0.1, 0.1
    PREFILTER = 12  # sentences embedded per question (the embedding is the cost)

    def __init__(self, embedder: Embedder, lexical: Callable[[], LexicalIndex], threshold: float, max_sentences: int = 2,
                 article_text=None, weak: float | None = None):
        self.embedder = embedder
        # between ``weak`` and ``threshold`` the match is weak: it answers only when the best sentences'
        # passage names every name of the question (the wording differs, not the subject)
        self.weak = threshold if weak is None else min(weak, threshold)
        self.article_text = article_text  # file -> clean text, to find who speaks in a quoted sentence
        self._lexical = lexical  # () -> LexicalIndex, for IDF
        self.threshold = threshold
        self.max_sentences = max_sentences
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def _embed(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in self._cache]
        if missing:
            for t, e in zip(missing, self.embedder.encode(missing)):
                self._cache[t] = e
            while len(self._cache) > 20000:
                self._cache.popitem(last=False)
        return np.stack([self._cache[t] for t in texts])

    @staticmethod
    def _novelty(sentence: str, qwords: set[str], qnums: set[str], kind: str) -> tuple[float, float]:
        caps = [w.rstrip(".'’") for w in _CAPS.findall(sentence)]
        novel = {w.lower() for w in caps if w and w.lower() not in qwords}
        nums = numbers(sentence) - qnums
        novelty = min(1.0, (len(novel) + len(nums)) / 3)
        if kind == "number":
            typed = 1.0 if nums else 0.0
        elif kind == "time":
            typed = 1.0 if (nums or _TIME_WORD.search(sentence)) else 0.0
        elif kind == "entity":
            typed = 1.0 if novel else 0.0
        else:
            typed = 0.0
        return novelty, typed

    def score(self, question: str, passages: list[Passage], qemb: np.ndarray | None) -> list[Candidate]:
        """Candidate sentences with their features and support score, best first."""
        lex: LexicalIndex = self._lexical()
        qterms = list(dict.fromkeys(terms(without_time(question))))
        weights = {t: lex.idf(t) for t in qterms}
        total = sum(weights.values()) or 1.0
        kind = answer_type(question)
        qwords = set(words(question))
        qnums = numbers(question)
        cands: list[Candidate] = []
        for rank, p in enumerate(passages):
            spans = sentence_spans(p.text)
            for j, (a, b) in enumerate(spans):
                s = p.text[a:b]
                if len(s.split()) < 4:
                    continue
                st = set(terms(s))
                overlap = sum(w for t, w in weights.items() if t in st) / total
                novelty, typed = self._novelty(s, qwords, qnums, kind)
                cands.append(Candidate(rank, a, b, s, lex=overlap, rank=1.0 / (1 + rank), novel=novelty,
                                       typed=typed, prev=spans[j - 1] if j else None))
        if not cands:
            return []
        cands.sort(key=lambda c: -(c.lex + 0.3 * c.rank))
        top = cands[: self.PREFILTER]
        # and the best of every other article, so that an answer can draw on each article that speaks to it
        seen = {passages[c.passage].file for c in top}
        for c in cands[self.PREFILTER:]:
            f = passages[c.passage].file
            if f not in seen and c.lex > 0:
                seen.add(f)
                top.append(c)
        if qemb is None:
            qemb = self.embedder.encode_one(question)
        sims = self._embed([c.text for c in top]) @ qemb
        for c, sim in zip(top, sims):
            c.sem = float(sim)
            # support: how well the sentence matches the question (what abstention looks at)
            c.support = (self.W_SEM * c.sem + self.W_LEX * c.lex) / (self.W_SEM + self.W_LEX)
            c.score = (self.W_SEM * c.sem + self.W_LEX * c.lex + self.W_RANK * c.rank
                          + self.W_NOVEL * c.novel + self.W_TYPE * c.typed)
        top.sort(key=lambda c: -c.score)
        return top

    def rewrite(self, question: str, history: list) -> None:
        return None  # no model: the engine condenses a follow-up itself

    def stream(self, question: str, passages: list[Passage], qemb: np.ndarray | None = None,
               budget: int | None = None) -> Iterator[Event]:
        t0 = time.perf_counter()
        ranked = self.score(question, passages, qemb)
        support = evidence_support(ranked)
        if not ranked or support < self.threshold and not (support >= self.weak and self.on_subject(question, ranked, passages)):
            yield ABSTAIN_TEXT
            yield Answer.declining(question, self.name, passages, support,
                                   timings={"answer_ms": (time.perf_counter() - t0) * 1000})
            return
        chosen = self._choose(question, ranked, passages)
        # an article's own "[9]" is not a citation: only the markers added here are
        sentences = [AnswerSentence(f"{MARKER.sub('', c.text)} [{c.passage + 1}]", [c.passage + 1],
                                    round(c.support, 3), True) for c in chosen]
        lead = self._speaker_lead(question, ranked[0], passages)
        if lead:
            sentences.insert(0, lead)
        text = ""
        for i, s in enumerate(sentences):
            chunk = s.text if i == 0 else " " + s.text
            text += chunk
            yield chunk
        yield Answer(question, text, _quotes(chosen, passages), passages, sentences, False, self.name,
                     timings={"answer_ms": (time.perf_counter() - t0) * 1000})

    @staticmethod
    def on_subject(question: str, ranked: list[Candidate], passages: list[Passage]) -> bool:
        """Whether the passage of one of the best sentences names every name the question names (at least
        one): then a weak match is one of wording (a broad question: "How did the Kremlin react to …?"), not
        of subject. What the articles never mention is the premise check's to decline."""
        asked = [f for f in facts(question) if f.kind == "name"]
        if not asked:
            return False
        best = max(c.support for c in ranked[:3])
        for c in ranked[:3]:
            p = passages[c.passage]
            if c.support >= best and all(Source([f"{p.title}. {p.text}"]).has(f) for f in asked):
                return True
        return False

    def _choose(self, question: str, ranked: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """The best sentence, with the one before it when it leans on it ("…," he said); then, up to
        ``max_sentences``, what ``more`` adds: close sentences of the same passage, and of each further
        article its best sentence when it adds something. A value question is answered first by a sentence
        giving a value of its kind. Never a heading, caption or teaser line (``is_sentence``), never a
        sentence twice."""
        whole = [c for c in ranked if is_sentence(c.text)]
        top = whole[0] if whole and whole[0].score >= 0.9 * ranked[0].score else ranked[0]
        if parse_query(question).kind in VALUE_KINDS and not top.typed:
            # a question asking for a value (a number, a date, a name) is not answered by a sentence that only
            # restates it: the best sentence that gives a value of that kind, when it matches nearly as well
            typed = [c for c in whole if c.typed and c.support >= 0.8 * top.support]
            top = typed[0] if typed else top
        chosen = [top]
        if top.prev and _ATTRIBUTION.search(top.text) and not top.typed:
            # "…," he said: the sentence before says who
            a, b = top.prev
            chosen.insert(0, replace(top, a=a, b=b, text=passages[top.passage].text[a:b], prev=None))
        chosen += self.more(question, whole, passages, [(passages[x.passage].file, x.text) for x in chosen],
                            top.support, self.max_sentences - len(chosen), same_passage=(top.passage, 0.9 * top.score))
        if len({x.passage for x in chosen}) == 1:
            chosen.sort(key=lambda c: c.a)  # one passage: in its order
        return chosen

    def more(self, question: str, ranked: list[Candidate], passages: list[Passage], have: list[tuple[str, str]],
             best: float, limit: int, same_passage: tuple[int, float] | None = None) -> list[Candidate]:
        """Sentences to add to an answer that holds ``have`` (file, sentence text): of each article it does not
        draw on yet, the best sentence that matches the question nearly as well as the answer's best (support
        within a fifth of ``best``) and adds what the answer lacks: for a value question a name, figure or date
        (a second article saying the same thing adds nothing; one giving another side, figure or date does),
        for a broad one ``BROAD_NEW`` content words. ``same_passage`` (passage, score): sentences of that
        passage scoring at least that much are added too, and so may be, as the second sentence, any that
        does. Whole sentences only, never one the answer already has."""
        asked = Source([question])
        value_question = parse_query(question).kind in VALUE_KINDS
        qterms = set(terms(question))
        out: list[Candidate] = []
        texts = [t for _, t in have]
        files = {f for f, _ in have}
        for c in ranked:
            if len(out) >= limit:
                break
            if not is_sentence(c.text) or c.support < min(self.threshold, best) or any(
                    _same_text(c.text, t) for t in texts):
                continue
            f = passages[c.passage].file
            # as the second sentence, one scoring as well as the best (``same_passage``'s bar): other words for the
            # answer, which may name it where the first only implies it ("the South Asian nation")
            close = same_passage is not None and len(texts) == 1 and c.score >= same_passage[1]
            if f in files:
                if same_passage and (c.passage == same_passage[0] or close) and c.score >= same_passage[1]:
                    out.append(c)
                    texts.append(c.text)
                continue
            # what it adds: for a question asking for a value, a name, figure or date the answer lacks (another
            # value, another side); for a broad one (what, why, how, yes or no), words the answer lacks
            if value_question:
                new = bool([x for x in facts(c.text) if not asked.has(x) and not Source(texts).has(x)])
            else:
                new = len(set(terms(c.text)) - qterms - {t for x in texts for t in terms(x)}) >= BROAD_NEW
            # about what is asked nearly as much as the best sentence (its support: how well it matches), or close
            if c.support >= 0.8 * best and new or close:
                if c.prev and _ATTRIBUTION.search(c.text):  # "…," he stated: with the sentence that says who
                    a = c.prev[0]
                    c = replace(c, a=a, text=passages[c.passage].text[a:c.b], prev=None)
                out.append(c)
                texts.append(c.text)
                files.add(f)
        return out

    def _speaker_lead(self, question: str, top: Candidate, passages: list[Passage]) -> AnswerSentence | None:
        """"Who said …?" is answered with the speaker's name, resolved through the neighbouring sentences."""
        if not (is_who_said(question) and _holds_quote(question, top.text)):
            return None
        who = passage_speaker(passages[top.passage], top.a, top.b, self.article_text)
        if not who:
            return None
        return AnswerSentence(f"It was {who} [{top.passage + 1}].", [top.passage + 1], round(top.support, 3), True)


# a sentence ends with a stop (perhaps inside a closing quote); a headline or teaser does not
_STOP_END = re.compile(r"[.!?][\"'”’)]*$")


def is_sentence(text: str) -> bool:
    """A sentence to quote: it ends with a stop and has a few words; or it is a headline written as one
    ("North Korea's Kim Jong Un declares victory against Covid": six words or more, some of its longer
    words in lower case, not cut off). A section heading in title case ("Possible Talks With Putin"), a
    caption or a cut-off teaser is not."""
    text = text.strip()
    n = len(text.split())
    if _STOP_END.search(text):
        return n >= 5
    return n >= 6 and not cut_off(text) and any(w.isalpha() and w.islower() and len(w) >= 4 and w not in STOPWORDS
                                                for w in re.findall(r"[\w'’]+", text))


def _same_text(a: str, b: str) -> bool:
    """The same sentence, give or take a few words (near-duplicate articles repeat each other)."""
    x, y = set(terms(a)), set(terms(b))
    return bool(x and y) and len(x & y) >= 0.8 * min(len(x), len(y))


def _quotes(chosen: list[Candidate], passages: list[Passage]) -> list[Citation]:
    """One citation per cited passage, quoting from its first to its last chosen sentence."""
    bounds: dict[int, tuple[int, int]] = {}
    for c in chosen:
        a, b = bounds.get(c.passage, (c.a, c.b))
        bounds[c.passage] = (min(a, c.a), max(b, c.b))
    citations = []
    for i, (a, b) in bounds.items():
        p = passages[i]
        start, end = p.file_span(a, b)
        citations.append(Citation(i + 1, p.file, p.title, start, end, p.text[a:b]))
    return citations
