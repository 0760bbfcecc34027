"""Suggested follow-ups: up to three short questions that the articles an answer cites can answer, about
what those articles say and the answer did not cover.

Candidates come from the cited articles themselves: the people and organisations they name most that
neither the question nor the answer names ("Who is Keith Kellogg?"), and the people they quote ("What did
Zelenskyy say?"). Each candidate is then asked, extractively (retrieval and the extractive answerer, no
LLM), and kept only when it is answered, not abstained on, from one of the cited articles: a suggestion is
never a question the articles cannot answer.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Callable

from .facts import SPEECH, facts, norm_tokens
from .schema import Answer

MAX_SUGGESTIONS = 3
_SPEECH = re.compile(rf"\b({SPEECH})\b")  # the speech verbs attribution reads (qa.facts)
_PLACE_WORDS = {"ukraine", "russia", "us", "united", "states", "europe", "kyiv", "moscow", "washington", "china",
                "america", "american", "ukrainian", "russian", "european", "white", "house", "saudi", "arabia",
                "south", "north", "east", "west", "new", "hong", "kong", "san", "los", "las", "sri", "costa",
                "puerto", "kingdom", "york", "city", "county", "island", "islands", "republic"}
_SKIP = {"the", "a", "an", "this", "that", "he", "she", "it", "they", "but", "and", "in", "on", "monday", "tuesday",
         "wednesday", "thursday", "friday", "saturday", "sunday"}


_THING_WORDS = {"office", "house", "council", "commission", "ministry", "department", "relations", "talks",
                "agreement", "deal", "committee", "union", "party", "court", "news", "agency", "times", "post",
                "press", "forces", "force", "army", "set", "possible", "security", "minerals", "fund", "bank",
                "group", "summit", "war", "day", "week", "service", "services", "affairs", "state", "states"}


def _person(name: str) -> str | None:
    """The person a capitalised run names ("Foreign Affairs Kaja Kallas" -> "Kaja Kallas"): its last two
    words, when neither is a place or a common noun in title case; None when it is not likely a person."""
    ws = name.replace("’s", "").replace("'s", "").split()
    if len(ws) < 2:
        return None
    ws = ws[-2:]
    if not all(w[:1].isupper() and w[1:2].islower() for w in ws):
        return None
    if any(w.lower().strip(".") in _PLACE_WORDS | _SKIP | _THING_WORDS for w in ws):
        return None
    return " ".join(ws)


def _headline(line: str) -> bool:
    """A line in title case (most words capitalised): a headline, whose capitals name nothing."""
    ws = [w for w in re.findall(r"[A-Za-z][\w'’-]*", line) if len(w) > 3]
    return len(ws) >= 3 and sum(w[0].isupper() for w in ws) / len(ws) > 0.6


def candidates(question: str, answer: str, texts: list[str]) -> list[str]:
    """Questions about the names the cited articles (``texts``) use most that the question and the answer
    do not: people ("Who is …?"), and those quoted ("What did … say?"), most named first."""
    covered = set(norm_tokens(question)) | set(norm_tokens(answer))
    named: Counter = Counter()
    speakers: Counter = Counter()
    shown: dict[tuple[str, ...], str] = {}
    for text in texts:
        for line in text.split("\n"):
            if _headline(line):
                continue
            for sentence in re.split(r"(?<=[.!?])\s+", line):
                for f in facts(sentence):
                    person = _person(f.text) if f.kind == "name" else None
                    key = tuple(norm_tokens(person or ""))
                    if not person or not key or set(key) & covered:
                        continue
                    shown.setdefault(key, person)
                    named[key] += 1
                    if _SPEECH.search(sentence):
                        speakers[key] += 1
    out = []
    for key, _ in named.most_common():
        name = shown[key]
        out.append(f"What did {name} say?" if speakers[key] > named[key] / 2 else f"Who is {name}?")
    return out


def suggest(answer: Answer, texts: list[str], ask: Callable[[str], Answer], limit: int = MAX_SUGGESTIONS,
            tries: int = 6) -> list[str]:
    """Up to ``limit`` follow-ups to ``answer`` from its cited articles' ``texts``, each checked by asking
    it (``ask``: an extractive question to the index) and kept only when it is answered from a cited
    article; at most ``tries`` candidates are asked."""
    if answer.abstained or answer.message or not answer.citations:
        return []
    cited = {c.file for c in answer.citations}
    out: list[str] = []
    for q in candidates(answer.question, answer.text, texts)[:tries]:
        a = ask(q)
        if not a.abstained and not a.message and any(c.file in cited for c in a.citations):
            out.append(q)
            if len(out) == limit:
                break
    return out
