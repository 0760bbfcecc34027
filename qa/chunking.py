"""Chunks: sentence-aware pieces of a document sized in the embedder's word-pieces, with overlap.

A chunk is a contiguous slice ``doc.text[clean_start:clean_end]`` of the clean text; its file span
comes from ``Document.span``. What gets embedded is ``title + "\\n" + text``, and the title is cut to
``title_tokens`` word-pieces so that the whole input fits the embedder (256 word-pieces).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Callable, Sequence

from .corpus import Document
from .text import sentence_spans


@dataclass
class Chunk:
    id: str
    file: str
    title: str
    text: str
    clean_start: int
    clean_end: int
    start: int  # file offsets (see corpus module for the invariant)
    end: int
    doc_hash: str
    index: int
    segmap: list[list[int]]

    def embed_text(self, title_prefix: str) -> str:
        return f"{title_prefix}\n{self.text}" if title_prefix else self.text


def _split_long(text: str, a: int, b: int, limit: int, count: Callable[[Sequence[str]], list[int]]):
    """Split an over-long sentence [a, b) at word boundaries into pieces of at most ``limit`` word-pieces."""
    words = [(m.start() + a, m.end() + a) for m in re.finditer(r"\S+", text[a:b])]
    sizes = count([text[s:e] for s, e in words])
    pieces, cur, cur_n = [], None, 0
    for (s, e), n in zip(words, sizes):
        n = min(n, limit)
        if cur is not None and cur_n + n > limit:
            pieces.append((cur[0], cur[1], cur_n))
            cur, cur_n = None, 0
        cur = (cur[0] if cur else s, e)
        cur_n += n
    if cur:
        pieces.append((cur[0], cur[1], cur_n))
    return pieces


def chunk_document(
    doc: Document,
    count_tokens: Callable[[Sequence[str]], list[int]],
    size: int,
    overlap: int,
) -> list[Chunk]:
    """Greedy packing of whole sentences up to ``size`` word-pieces; each new chunk starts with the
    last sentences of the previous one that fit in ``overlap`` word-pieces."""
    spans = sentence_spans(doc.text)
    sizes = count_tokens([doc.text[a:b] for a, b in spans])
    units: list[tuple[int, int, int]] = []
    for (a, b), n in zip(spans, sizes):
        if n > size:
            units += _split_long(doc.text, a, b, size, count_tokens)
        else:
            units.append((a, b, n))

    groups: list[list[tuple[int, int, int]]] = []
    cur: list[tuple[int, int, int]] = []
    cur_n = 0
    for u in units:
        if cur and cur_n + u[2] > size:
            groups.append(cur)
            # overlap: trailing sentences of the finished chunk, within the overlap budget
            carry: list[tuple[int, int, int]] = []
            carry_n = 0
            for prev in reversed(cur):
                if carry_n + prev[2] > overlap or carry_n + prev[2] + u[2] > size:
                    break
                carry.insert(0, prev)
                carry_n += prev[2]
            cur, cur_n = carry, carry_n
        cur.append(u)
        cur_n += u[2]
    if cur:
        groups.append(cur)

    chunks = []
    for i, g in enumerate(groups):
        a, b = g[0][0], g[-1][1]
        start, end = doc.span(a, b)
        cid = hashlib.sha1(f"{doc.path}\0{doc.sha256}\0{i}\0{a}".encode()).hexdigest()[:24]
        chunks.append(
            Chunk(cid, doc.path, doc.title, doc.text[a:b], a, b, start, end, doc.sha256, i, doc.segmap(a, b))
        )
    return chunks
