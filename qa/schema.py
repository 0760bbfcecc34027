"""The types and constants every stage and shell shares: what a passage, a scored candidate sentence, a
citation, an answer sentence and an answer are, what a generator (LLM) is, the abstention text, the
citation marker, the backend names.

A leaf module (standard library and ``qa.corpus``'s span map only), so the verifier, the LLM path and
the shells need not import retrieval or answering for a dataclass, and ``app.py`` can import it at once.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Iterator, Literal, Protocol, get_args

from .corpus import span_from_segmap

ABSTAIN_TEXT = "The articles don't say."

# a citation marker, "[2]" or "[1, 3]", with the space before it
MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")


def cite(sentence: str, cites: list[int]) -> str:
    """The sentence with these markers (and no others) before its closing stop: "… said [1]."."""
    marks = "".join(f" [{n}]" for n in cites)
    text = MARKER.sub("", sentence).strip()
    if re.search(r"(\.\.\.|…)$", text):  # a line cut off in its source keeps its ellipsis: "… over … [2]"
        return text + marks
    return re.sub(r"([.!?]*)$", lambda m: f"{marks}{m.group(1)}", text, count=1)

Backend = Literal["auto", "local", "server", "extractive"]
BACKENDS: tuple[str, ...] = get_args(Backend)


@dataclass
class Passage:
    """A retrieved slice of an article: ``text`` is ``clean[clean_start:clean_end]`` of its clean text,
    ``start``/``end`` its span in the file, ``segmap`` the map between the two."""

    id: str
    file: str
    title: str
    text: str
    start: int
    end: int
    clean_start: int
    clean_end: int
    score: float = 0.0  # fused RRF score
    dense: float | None = None  # cosine similarity to the question
    bm25: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None
    segmap: list[list[int]] = field(default_factory=list, repr=False)
    also_in: list[str] = field(default_factory=list)
    outlet: str | None = None  # its article's metadata (qa.meta), where known
    date: str | None = None  # ISO
    file_boost: float | None = None  # the part of ``score`` its article's own ranks give (article-level fusion)
    article_rank: int | None = None  # its article's place in the ranking of articles (0: first)
    own_rank: int | None = None  # its place among the candidates by its own ranks alone (no article part)
    carried: bool = False  # in the top k only thanks to its article: its own ranks alone would leave it out

    def file_span(self, a: int, b: int) -> tuple[int, int]:
        """File span of ``text[a:b]``."""
        return span_from_segmap(self.segmap, a, b)

    @property
    def found_by(self) -> str:
        """Which search found it: "dense", "lexical" (BM25) or "both"."""
        dense, lexical = self.dense_rank is not None, self.bm25_rank is not None
        return "both" if dense and lexical else "dense" if dense else "lexical" if lexical else "neither"


    def why(self) -> str:
        """Why it is here, in words: which search found it at which ranks, and its article's rank."""
        parts = []
        if self.dense_rank is not None:
            parts.append(f"dense #{self.dense_rank + 1}")
        if self.bm25_rank is not None:
            parts.append(f"BM25 #{self.bm25_rank + 1}")
        if self.article_rank is not None:
            parts.append(f"article #{self.article_rank + 1}")
        if self.carried and self.own_rank is not None:
            parts.append(f"carried by its article (#{self.own_rank + 1} on its own ranks)")
        return ", ".join(parts)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("id", "file", "title", "start", "end", "text", "score", "dense", "bm25",
                                           "dense_rank", "bm25_rank", "file_boost", "article_rank", "own_rank",
                                           "carried", "also_in",
                                           "outlet", "date", "found_by")}
        d["why"] = self.why()
        return d


@dataclass
class Candidate:
    """A sentence of a retrieved passage, scored as an answer to the question (``ExtractiveAnswerer.score``).

    ``passage`` is its passage's index (0-based, its rank); ``a``/``b`` its span in the passage's text;
    ``prev`` the span of the sentence before it. ``lex``: the IDF-weighted share of the question's terms
    it holds; ``rank``: 1/(1+passage rank); ``novel``/``typed``: what it brings beyond the question and
    whether that fits the kind of answer asked for; ``sem``: its embedding similarity to the question;
    ``support`` (how well it matches: what abstention compares) and ``score`` (what ranks it) mix them.
    """

    passage: int
    a: int
    b: int
    text: str
    lex: float
    rank: float
    novel: float
    typed: float
    prev: tuple[int, int] | None = None
    sem: float = 0.0
    support: float = 0.0
    score: float = 0.0


@dataclass
class Citation:
    n: int  # passage number, as in the [n] marker
    file: str
    title: str
    start: int  # file span of the quote
    end: int
    quote: str
    outlet: str | None = None  # the article's metadata (qa.meta), where known
    date: str | None = None  # ISO

    def source(self) -> str:
        """Who published it and when, then the file: "CNN, 2022-06-16 · rtqa_0013.txt"."""
        said = ", ".join(x for x in (self.outlet, self.date) if x)
        return f"{said} · {self.file}" if said else self.file


@dataclass
class AnswerSentence:
    text: str
    cites: list[int]
    score: float | None = None
    supported: bool | None = None
    issues: list[str] = field(default_factory=list)  # why it is not supported
    wording: list[str] = field(default_factory=list)  # where its wording departs from its passages (not a fault)
    direct: bool = True  # False: not an answer, what the articles report instead ("The articles don't say when; …")


@dataclass
class Answer:
    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    sentences: list[AnswerSentence] = field(default_factory=list)
    abstained: bool = False
    backend: str = ""
    message: str | None = None  # set when the question was refused (empty, too long, no index)
    timings: dict = field(default_factory=dict)
    standalone: str | None = None  # the question as retrieved, after follow-up rewriting
    notice: str | None = None  # e.g. why the LLM was not used
    premise: dict | None = None  # the premise check (qa.premise): what the question states, what is absent
    repairs: list[dict] = field(default_factory=list)  # sentences rewritten or removed after verification
    draft: str | None = None  # the generated text before verification and repair
    ranking: list[str] = field(default_factory=list)  # every candidate article of the retrieval, best first
    options: dict = field(default_factory=dict)  # what it ran with: k, backend, model, budget, premise_check
    when: dict | None = None  # the time frame it was answered in (qa.timeframe): as-of date, window, preference
    comparison: dict | None = None  # whether the articles agree on what is asked (qa.sources): sides, outlets, dates
    suggestions: list[str] = field(default_factory=list)  # follow-ups its cited articles answer (qa.suggest)

    @classmethod
    def declining(cls, question: str, backend: str, passages: list[Passage], support: float | None,
                  text: str = ABSTAIN_TEXT, **kw) -> Answer:
        """An answer that declines (the abstention text unless another is given) as its one uncited
        sentence, with the evidence's support; ``kw`` sets the other fields (timings, notice, …)."""
        return cls(question, text, passages=passages, abstained=True, backend=backend,
                   sentences=[AnswerSentence(text, [], None if support is None else round(support, 3), None)], **kw)

    def to_dict(self) -> dict:
        return {
            "question": self.question,
            "standalone": self.standalone,
            "answer": self.text,
            "abstained": self.abstained,
            "backend": self.backend,
            "message": self.message,
            "notice": self.notice,
            "premise": self.premise,
            "repairs": self.repairs,
            "draft": self.draft,
            "ranking": self.ranking,
            "options": self.options,
            "when": self.when,
            "comparison": self.comparison,
            "suggestions": self.suggestions,
            "citations": [asdict(c) for c in self.citations],
            "sentences": [asdict(s) for s in self.sentences],
            "passages": [dict(p.to_dict(), n=i + 1) for i, p in enumerate(self.passages)],
            "timings": {k: round(v, 2) for k, v in self.timings.items()},
        }


# what a backend's stream yields: text pieces, then the final Answer
Event = str | Answer


class Generator(Protocol):
    """An LLM that streams a chat completion (``qa.llm``: llama.cpp in process, or an OpenAI-compatible
    server). Greedy decoding; failures raise ``qa.llm.ModelError`` naming the setting to fix."""

    name: str  # the backend: "local" or "server"
    label: str  # what answers say they came from, e.g. "local:qwen2.5-1.5b-instruct-q4_k_m.gguf"

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        ...
