"""The premise check, before any backend answers: the names, organisations, places, figures, dates and
quoted phrases a question takes for granted must be in what was retrieved.

A question about someone the articles never mention ("What does <person> think of the deal?") must not be
answered with what somebody else said. When a fact of the question is in none of the retrieved passages
(nor their titles, nor the rest of their articles), compared through ``qa.facts`` normalisation, the answer says so plainly, naming it,
and quotes the passage that comes closest, cited, as what the articles do say. Whether the fact is
anywhere in the indexed articles decides the wording: "The articles don't mention X" (nowhere) or "The
articles that match the question don't mention X" (somewhere else in the corpus, not in the articles the
rest of the question leads to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, AbstractSet

from .facts import TITLES, Fact, Source, facts
from .text import STOPWORDS

if TYPE_CHECKING:
    import numpy as np

    from .answer import ExtractiveAnswerer
    from .schema import Answer, Passage

NEARBY = 0.75  # share of the abstention threshold a sentence's support needs to be quoted as the closest


@dataclass
class Premise:
    facts: list[Fact] = field(default_factory=list)  # what the question states
    absent: list[Fact] = field(default_factory=list)  # facts neither the passages nor their articles have
    nowhere: list[Fact] = field(default_factory=list)  # absent from every indexed article too

    @property
    def declined(self) -> bool:
        return bool(self.absent)

    def statement(self) -> str:
        if self.nowhere:
            return f"The articles don't mention {_listing(self.nowhere)}."
        return f"The articles that match the question don't mention {_listing(self.absent)}."

    def to_dict(self) -> dict:
        return {
            "checked": [f.text for f in self.facts],
            "absent": [f.text for f in self.absent],
            "absent_kinds": [f.kind for f in self.absent],
            "nowhere": [f.text for f in self.nowhere],
        }


def _listing(fs: list[Fact]) -> str:
    shown = [f'"{f.text}"' if f.kind == "quote" else f.text for f in fs]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _in_vocab(f: Fact, vocab: AbstractSet[str]) -> bool:
    words = [w for w in f.key if w not in TITLES and w not in STOPWORDS] or list(f.key)
    if f.kind == "name":
        return words[-1] in vocab
    return all(w in vocab for w in words)


def check(question: str, passage_texts: list[str], article_texts: list[str] | None = None,
          corpus_vocab: AbstractSet[str] | None = None) -> Premise:
    """What the question states that ``passage_texts`` (the retrieved passages with their titles) do not
    say, nor the whole articles they come from (``article_texts``): a name the best passages leave out
    but their article has elsewhere is part of the story, not a false premise. ``corpus_vocab``
    (normalised words of the whole index) tells "not here" from "nowhere"."""
    fs = facts(question)
    missing = Source(passage_texts).missing(fs)
    if missing and article_texts:
        missing = Source(article_texts).missing(missing)
    nowhere = [f for f in missing if corpus_vocab is not None and not _in_vocab(f, corpus_vocab)]
    return Premise(fs, missing, nowhere)


def decline(question: str, premise: Premise, passages: list[Passage], scorer: ExtractiveAnswerer,
            qemb: np.ndarray | None, backend: str) -> Answer:
    """The answer to a question whose premise the articles do not bear out: it says what is absent and
    quotes, cited, the sentence of the retrieved passages that comes closest to the question."""
    from .schema import MARKER, Answer, AnswerSentence, Citation

    statement = premise.statement()
    sentences = [AnswerSentence(statement, [], None, None)]
    citations: list[Citation] = []
    text = statement
    ranked = scorer.score(question, passages, qemb) if passages else []
    # a passage "comes close" when it is about what the rest of the question asks (not just anything)
    if ranked and ranked[0].support >= NEARBY * scorer.threshold:
        top = ranked[0]
        n, p = top.passage + 1, passages[top.passage]
        closest = f"The closest they come: {MARKER.sub('', top.text)} [{n}]"  # the article's own "[9]" is no citation
        sentences.append(AnswerSentence(closest, [n], round(top.support, 3), True))
        start, end = p.file_span(top.a, top.b)
        citations.append(Citation(n, p.file, p.title, start, end, top.text))
        text = f"{statement} {closest}"
    return Answer(question, text, citations, passages, sentences, abstained=True, backend=backend,
                  premise=premise.to_dict())
