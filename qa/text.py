"""Text helpers shared by the stages: sentence spans and lexical terms."""

from __future__ import annotations

import re
from functools import lru_cache

# words that end with a period without ending a sentence
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "mt", "lt", "gen", "col", "maj", "capt", "cpt",
    "sgt", "adm", "gov", "sen", "rep", "pres", "rev", "hon", "no", "vs", "etc", "inc", "corp", "co",
    "ltd", "dept", "est", "approx", "fig", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "mon", "tue", "wed", "thu", "fri", "sat", "sun", "ft", "mph", "al",
}

_END = re.compile(r"[.!?…]+[\"'”’)\]]*")
_NEXT = re.compile(r"\s+[\"'“‘(\[]*[A-Z0-9]")


def _is_abbreviation(text: str, dot: int) -> bool:
    """Is the '.' at ``dot`` the end of an abbreviation or an initial?"""
    start = dot
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    word = text[start:dot].lstrip("\"'“‘([").lower()
    if not word:
        return False
    if word in ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return True
    return bool(re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))  # u.s, u.k, d.c


_CUT_OFF = re.compile(r"(?:\.\.\.|…)\s*$")


def cut_off(sentence: str) -> bool:
    """Does the line end in an ellipsis: a headline or teaser cut short ("Some SUVs should be parked outside
    over ..."), not a sentence to quote or to echo."""
    return bool(_CUT_OFF.search(sentence))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Sentences of ``text`` as [start, end) spans without surrounding whitespace.
    Line breaks always end a sentence (kept lines are paragraphs)."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        base, s = line.start(), line.group()
        start = 0
        for m in _END.finditer(s):
            end = m.end()
            if not _NEXT.match(s, end):
                continue
            if s[m.start()] == "." and m.end() - m.start() == 1 and _is_abbreviation(s, m.start()):
                continue
            _add(spans, s, base, start, end)
            start = end
        _add(spans, s, base, start, len(s))
    return spans


def _add(spans, s, base, start, end):
    seg = s[start:end]
    lead = len(seg) - len(seg.lstrip())
    trail = len(seg.rstrip())
    if trail > lead:
        spans.append((base + start + lead, base + start + trail))


STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had
    has have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves s t said says say also according""".split()
)

_WORD = re.compile(r"[A-Za-z0-9]+(?:[.'’][A-Za-z0-9]+)*")


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer  # PyStemmer, small C extension

    return Stemmer.Stemmer("english")


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def terms(text: str) -> list[str]:
    """Lexical terms: lower-cased, stop words dropped, stemmed; numbers kept as they are."""
    ws = [w.replace(".", "").replace("'s", "") for w in words(text)]
    ws = [w for w in ws if w and w not in STOPWORDS]
    return _stemmer().stemWords(ws)


def numbers(text: str) -> set[str]:
    return set(re.findall(r"\d+(?:[.,]\d+)*", text))
