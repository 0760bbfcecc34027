"""Whole-article answers: an article summed up in 3-5 of its own sentences, chosen to cover it.

The sentences are chosen by greedy facility location over their embeddings: every sentence of the article
counts as covered by the chosen sentence most similar to it, and each step adds the sentence that raises
the total coverage most (the classic coverage objective of extractive summarisation; greedy is within
1 - 1/e of the best). So the summary draws on every part the article spends words on, not on its first
lines. The chosen sentences are given in article order, each cited to its own span. The number of
sentences follows the article's length: 3 for a short one, up to 5.

Nothing here depends on a model's context: an article of any length is embedded sentence by sentence,
and an LLM summary (see ``Engine``) is written from the chosen sentences only, then verified against them.
"""

from __future__ import annotations

import re

import numpy as np

from .corpus import Document
from .embedding import Embedder
from .schema import Passage
from .text import sentence_spans

_IT = r"(it|(this|that|the)\s+(article|piece|story|report)|this|that)"
_ASKS_SUMMARY = re.compile(
    r"^\s*(please\s+)?(?:"
    rf"(summari[sz]e|sum up|recap)(\s+{_IT})?"
    rf"|(give me\s+|write\s+)?(a\s+)?(short\s+|brief\s+)?summary(\s+of\s+{_IT})?"
    rf"|what(\s+is|'s)\s+{_IT}\s+about"
    rf"|what\s+does\s+{_IT}\s+say"
    r"|tl;?\s?dr"
    r")\s*(please\s*)?[.?!]*\s*$", re.I)

MIN_WORDS, MAX_WORDS = 6, 60  # a sentence to stand alone in a summary: not a fragment, not a run-on


def asks_for_summary(question: str) -> bool:
    """Whether a question about one article asks for the article as a whole ("summarise", "what is this
    piece about?"), not for something in it ("what does this piece say about NATO?")."""
    return bool(_ASKS_SUMMARY.match(question or ""))


def how_many(sentences: int) -> int:
    """Sentences in a summary of an article of ``sentences`` usable sentences: 3 to 5, one per eight."""
    return max(3, min(5, round(sentences / 8)))


def cover(vectors: np.ndarray, k: int) -> list[int]:
    """Greedy facility location: ``k`` rows of ``vectors`` (unit vectors) that together are most similar
    to all rows, each row counting its most similar chosen one; returned in row order."""
    n = len(vectors)
    if n <= k:
        return list(range(n))
    sims = np.clip(vectors @ vectors.T, 0.0, None)
    covered = np.zeros(n, dtype=np.float32)
    chosen: list[int] = []
    for _ in range(k):
        gains = np.maximum(sims, covered[None, :]).sum(axis=1) - covered.sum()
        gains[chosen] = -np.inf
        j = int(np.argmax(gains))
        chosen.append(j)
        covered = np.maximum(covered, sims[j])
    return sorted(chosen)


def candidates(doc: Document) -> list[tuple[int, int]]:
    """The article's sentences that can stand in a summary (clean-text spans): whole sentences of
    MIN_WORDS to MAX_WORDS words, not the title repeated as the first line."""
    out = []
    title = " ".join(doc.title.split()).lower()
    for a, b in sentence_spans(doc.text):
        s = doc.text[a:b]
        n = len(s.split())
        if not MIN_WORDS <= n <= MAX_WORDS or not re.search(r"[a-z]", s):
            continue
        if " ".join(s.split()).lower() == title:
            continue
        out.append((a, b))
    return out


def summary_passages(doc: Document, embedder: Embedder, k: int | None = None) -> list[Passage]:
    """The sentences of a summary of ``doc``, each as a passage of its own (its clean and file spans), in
    article order; none for an article without a usable sentence."""
    spans = candidates(doc)
    if not spans:
        return []
    vectors = embedder.encode([doc.text[a:b] for a, b in spans])
    picked = cover(vectors, k or how_many(len(spans)))
    out = []
    for i in picked:
        a, b = spans[i]
        start, end = doc.span(a, b)
        out.append(Passage(id=f"{doc.path}#{a}", file=doc.path, title=doc.title, text=doc.text[a:b], start=start,
                           end=end, clean_start=a, clean_end=b, segmap=doc.segmap(a, b)))
    return out
