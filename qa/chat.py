"""Conversation: turn a follow-up question into one that stands alone before retrieval.

The cheap method (no LLM): when a question looks like a follow-up (a pronoun, "And …?", "What about …?",
or very short), the names of the previous turn (its standalone question and the first sentence of its
answer) are carried over, and for an elliptical "And …?" its content words too. Only the newest turn is
looked at; since its standalone form already carries what came before, context flows down the chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .schema import ABSTAIN_TEXT, MARKER
from .text import STOPWORDS, sentence_spans, words

_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|what about|how about|then)\b|"
    r"\b(he|she|him|her|his|hers|they|them|their|theirs|it|its|this|that|these|those|there|then)\b",
    re.I,
)
_NAME = re.compile(r"\b[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*")
MAX_CARRIED = 8
_OPENERS = {"yet", "despite", "however", "following", "meanwhile", "separately", "although", "while", "moreover",
            "nonetheless", "amid", "during", "according", "in", "on", "after", "before", "since", "still"}


@dataclass
class Turn:
    question: str  # as the user asked it
    standalone: str  # after rewriting
    answer: str


def is_follow_up(question: str) -> bool:
    return bool(_FOLLOW_UP.search(question)) or len(question.split()) <= 3


def _elliptical(question: str) -> bool:
    """"And about Putin?", "What about the Kremlin?": the verb is in the previous question."""
    return bool(re.match(r"^\s*(and|but|also|what about|how about|then)\b", question, re.I)) or len(question.split()) <= 3


def entities(text: str) -> list[str]:
    """Capitalised names (a lone capitalised word that starts a sentence is not taken)."""
    out = []
    for a, b in sentence_spans(text):
        s = text[a:b]
        for m in _NAME.finditer(s):
            name = m.group().strip(".'’")
            lead = s[: m.start()].strip("\"“‘'( ")
            if not lead:  # a sentence's first word is capitalised anyway
                first, _, rest = name.partition(" ")
                if first.lower() in STOPWORDS or first.lower() in _OPENERS or not rest:
                    name = rest
            if name and name.lower() not in STOPWORDS:
                out.append(name)
    return out


def condense(question: str, history: list[Turn]) -> str:
    """A standalone version of ``question`` given the earlier turns (oldest first): the names of the
    previous turn (and, for "And …?" questions, its content words) are added in brackets."""
    if not history or not is_follow_up(question):
        return question
    last = history[-1]
    named_before = entities(last.question)
    if _elliptical(question) and entities(question):
        # "And Denys Shmyhal?": the new name replaces the one asked about; keep the verb and what the
        # previous turn had itself carried over
        carried = [e for e in entities(last.standalone) if e not in named_before]
        carried += [w for w in words(last.question) if w not in STOPWORDS and len(w) > 2
                    and not any(w in e.lower().split() for e in named_before)]
        return _join(question, carried)
    carried = entities(last.standalone)
    if _elliptical(question):
        carried += [w for w in words(last.question) if w not in STOPWORDS and len(w) > 2]
    answer = MARKER.sub("", last.answer)
    spans = sentence_spans(answer)
    if spans and not answer.startswith(ABSTAIN_TEXT.rstrip(".")):
        carried += entities(answer[spans[0][0]:spans[0][1]])[:3]
    return _join(question, carried)


def _join(question: str, carried: list[str]) -> str:
    have = {w.lower() for w in words(question)}
    extra = []
    for c in carried:
        key = c.lower()
        if not (set(words(key)) <= have):
            have |= set(words(key))
            extra.append(c)
    # apart, so that no two carried names read as one ("Kremlin, Trump's", not the name "Kremlin Trump")
    return f"{question.strip()} ({', '.join(extra[:MAX_CARRIED])})" if extra else question
