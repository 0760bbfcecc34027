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
from .facts import is_who_said, passage_speaker
from .retrieve import LexicalIndex
from .schema import (  # noqa: F401 (re-exported)
    ABSTAIN_TEXT, MARKER, Answer, AnswerSentence, Candidate, Citation, Event, Generator, Passage,
)
from .text import numbers, sentence_spans, terms, words
from .timeframe import without_time

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
                 article_text=None):
        self.embedder = embedder
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
        if not ranked or support < self.threshold:
            yield ABSTAIN_TEXT
            yield Answer.declining(question, self.name, passages, support,
                                   timings={"answer_ms": (time.perf_counter() - t0) * 1000})
            return
        chosen = self._choose(ranked, passages)
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

    def _choose(self, ranked: list[Candidate], passages: list[Passage]) -> list[Candidate]:
        """The best sentence, with the one before it when it leans on it ("…," he said) and more that score
        close to it (up to ``max_sentences``), in document order when they come from one passage."""
        top = ranked[0]
        chosen = [top]
        if top.prev and _ATTRIBUTION.search(top.text) and not top.typed:
            # "…," he said: the sentence before says who
            a, b = top.prev
            chosen.insert(0, replace(top, a=a, b=b, text=passages[top.passage].text[a:b], prev=None))
        for c in ranked[1:]:
            if len(chosen) >= self.max_sentences:
                break
            if c.score >= 0.9 * top.score and c.support >= self.threshold and all(c.text != x.text for x in chosen):
                chosen.append(c)
        chosen.sort(key=lambda c: (c.passage, c.a) if len({x.passage for x in chosen}) == 1 else 0)
        return chosen

    def _speaker_lead(self, question: str, top: Candidate, passages: list[Passage]) -> AnswerSentence | None:
        """"Who said …?" is answered with the speaker's name, resolved through the neighbouring sentences."""
        if not (is_who_said(question) and _holds_quote(question, top.text)):
            return None
        who = passage_speaker(passages[top.passage], top.a, top.b, self.article_text)
        if not who:
            return None
        return AnswerSentence(f"It was {who} [{top.passage + 1}].", [top.passage + 1], round(top.support, 3), True)


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
