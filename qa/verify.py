"""Cite and verify: resolve [n] markers in a generated answer and check every sentence against what it cites.

- A marker [n] that names no passage is removed (and counted).
- Each answer sentence is compared with the sentences of the passages it cites, each read under its
  article's title (which names who or what "it" is): embedding similarity, share of its content words
  found there, and every figure it states must appear there ("Covid-19" and "BA.5" are names, not
  figures). A sentence below the support threshold, or citing nothing, is unsupported: flagged in the
  answer's data. The threshold agrees with 96% of hand-labelled answer sentences (qa bench verify).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import SimpleNamespace

from .answer import AnswerSentence, Citation
from .embedding import Embedder
from .retrieve import Passage
from .text import sentence_spans, terms

MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_META = re.compile(r"^(this|that|it|the answer)( information)? (is|was|can be) (mentioned|stated|provided|found|given|said)\b|"
                   r"^the (articles|passages) (don't|do not) (say|mention)", re.I)


@dataclass
class Verified:
    text: str  # the answer with invalid markers removed
    sentences: list[AnswerSentence]
    citations: list[Citation]
    invalid_markers: int
    repointed: int = 0  # markers moved to the passage that supports the sentence


# "one" and "two" are left out: "one of the", "the two states" rarely state a figure
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if i > 2}
# a figure, not part of a name: "Covid-19", "BA.5", "G7" and "5G" are names
_FIGURE = re.compile(r"(?<![\w.])(?<![A-Za-z]-)\d+(?:[.,]\d+)*(?![A-Za-z\d])")


def _numbers(text: str) -> set[str]:
    """Figures stated in a text, digits or words ("five" = "5"), without thousands separators."""
    found = {n.replace(",", "").rstrip(".") for n in _FIGURE.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return found


def _strip(s: str) -> str:
    return MARKER.sub("", s).strip()


class Verifier:
    W_SEM, W_LEX = 0.6, 0.4

    def __init__(self, embedder: Embedder, threshold: float = 0.48):
        self.embedder = embedder
        self.threshold = threshold

    def _support(self, sentence: str, cited: list[Passage]) -> tuple[float, tuple[int, int, int] | None]:
        """Best support of ``sentence`` by any sentence of the cited passages, and where it is."""
        cands = []
        for pi, p in enumerate(cited):
            spans = sentence_spans(p.text)
            for j, (a, b) in enumerate(spans):
                cands.append((pi, a, b, p.text[a:b]))
                if j:  # with the sentence before: "He met Vance in Munich" needs who "he" is
                    cands.append((pi, spans[j - 1][0], b, p.text[spans[j - 1][0]:b]))
        if not cands:
            return 0.0, None
        # each candidate is read under its article's title, which names who or what "it" is
        embs = self.embedder.encode([sentence] + [f"{cited[c[0]].title}. {c[3]}" for c in cands])
        sims = embs[1:] @ embs[0]
        st = set(terms(sentence))
        nums = _numbers(sentence)
        all_text = " ".join(f"{p.title}. {p.text}" for p in cited)  # the title says who or what "it" is
        # numbers must be in the cited passages at all; else the sentence is unsupported
        if nums and not nums <= _numbers(all_text):
            return 0.0, None
        best, where = -1.0, None
        cited_terms = set(terms(all_text))
        lex_all = len(st & cited_terms) / len(st) if st else 1.0
        for (pi, a, b, text), sim in zip(cands, sims):
            local = set(terms(text))
            lex = max(len(st & local) / len(st) if st else 1.0, 0.7 * lex_all)
            score = self.W_SEM * float(sim) + self.W_LEX * lex
            if score > best:
                best, where = score, (pi, a, b)
        return best, where

    def best_passage(self, sentence: str, passages: list[Passage]) -> tuple[float, int]:
        """The support of ``sentence`` by the one passage that supports it best, and that passage's number."""
        return max(((self._support(sentence, [p])[0], n) for n, p in enumerate(passages, 1)), default=(0.0, 0))

    def labelled_support(self, row: dict) -> float:
        """The support of a hand-labelled sentence (eval/verify-labels.jsonl): by the passages it cited, or,
        when it cited none, by the best single one of them."""
        ps = [SimpleNamespace(**p) for p in row["passages"]]
        if row["cited"]:
            return self._support(row["sentence"], ps)[0]
        return self.best_passage(row["sentence"], ps)[0]

    def verify(self, text: str, passages: list[Passage]) -> Verified:
        invalid = 0
        out_sentences: list[AnswerSentence] = []
        citations: dict[int, Citation] = {}

        def keep_valid(m: re.Match) -> str:
            nonlocal invalid
            ns = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
            good = [n for n in ns if 1 <= n <= len(passages)]
            invalid += len(ns) - len(good)
            return "".join(f" [{n}]" for n in dict.fromkeys(good))

        clean = MARKER.sub(keep_valid, text).strip()
        # "… end. [1] Next" -> "… end [1]. Next": a marker after the full stop belongs to that sentence
        clean = re.sub(r"([.!?])((?:\s*\[\d+\])+)", r"\2\1", clean)
        rebuilt: list[str] = []
        repointed = 0
        for a, b in sentence_spans(clean):
            s = clean[a:b].strip()
            cites = list(dict.fromkeys(int(x) for x in re.findall(r"\[(\d+)\]", s)))
            body = _strip(s)
            if not body or re.fullmatch(r"[\W\d]*", body) or _META.match(body):
                continue  # no claim ("This is stated in passage 2.")
            if not cites:
                # no marker: cite the passage that supports it, if one does; else it is unsupported
                best = self.best_passage(body, passages)
                if best[0] < self.threshold:
                    out_sentences.append(AnswerSentence(s, [], round(best[0], 3), False))
                    rebuilt.append(s)
                    continue
                cites = [best[1]]
                s = re.sub(r"([.!?]*)$", lambda m: f" [{best[1]}]{m.group(1)}", s, count=1)
            cited = [passages[n - 1] for n in cites]
            score, where = self._support(body, cited)
            if score < self.threshold and len(passages) > 1:
                # small models often cite the wrong number: point the marker at the passage that supports it
                best = self.best_passage(body, passages)
                if best[0] >= self.threshold:
                    repointed += 1
                    cites = [best[1]]
                    s = MARKER.sub("", s)
                    s = re.sub(r"([.!?]*)$", lambda m: f" [{best[1]}]{m.group(1)}", s.strip(), count=1)
                    cited = [passages[best[1] - 1]]
                    score, where = self._support(body, cited)
            out_sentences.append(AnswerSentence(s, cites, round(score, 3), score >= self.threshold))
            rebuilt.append(s)
            for n in cites:
                if n not in citations:
                    p = passages[n - 1]
                    if where and cited[where[0]] is p:
                        qa, qb = where[1], where[2]
                    else:
                        spans = sentence_spans(p.text)
                        qa, qb = spans[0] if spans else (0, len(p.text))
                    start, end = p.file_span(qa, qb)
                    citations[n] = Citation(n, p.file, p.title, start, end, p.text[qa:qb])
        return Verified(" ".join(rebuilt), out_sentences, [citations[n] for n in sorted(citations)], invalid, repointed)
