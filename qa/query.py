"""The question, read once: what kind of answer it asks for.

Later stages take a :class:`Query` rather than classifying the question's text again. The kinds, in the
order they are tried (the first that matches): ``yesno`` ("Has the deal been signed?", "Did Zelensky
confirm …?"), ``count`` ("how many"), ``amount`` ("how much", "what share"), ``when``, ``who``, ``where``,
``why``, ``how``, ``what`` (anything else).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a question opening with an auxiliary asks yes or no ("Is …", "Did …", "Has …"); "Who did …" does not
YES_NO = re.compile(r"^\W*(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might|"
                    r"isn't|aren't|wasn't|weren't|didn't|doesn't|don't|hasn't|haven't|won't)\b", re.I)
_KINDS = [
    ("count", re.compile(r"\bhow many\b", re.I)),
    ("amount", re.compile(r"\bhow (much|long|old|far|big)\b|\bwhat (share|percentage|percent|proportion|number|"
                          r"amount|price|age)\b", re.I)),
    ("when", re.compile(r"\bwhen\b|\bwhat (year|date|day|month|time)\b|\b(which|on what|in what) (year|day|month|date)\b",
                        re.I)),
    ("who", re.compile(r"\bwho(m|se)?\b", re.I)),
    ("where", re.compile(r"\bwhere\b|\bwhat (country|city|state|place)\b", re.I)),
    ("why", re.compile(r"\bwhy\b", re.I)),
    ("how", re.compile(r"\bhow\b", re.I)),
]


# the kinds that ask for a value (a figure, a date, a name or a place): a sentence without one does not answer
VALUE_KINDS = frozenset({"count", "amount", "when", "who", "where"})


@dataclass(frozen=True)
class Query:
    text: str  # as asked (or rewritten to stand alone)
    kind: str  # see the module docstring

    @property
    def yes_no(self) -> bool:
        return self.kind == "yesno"


def asked(text: str) -> str:
    """The sentence that asks: the last one ending in "?" (a quiz's lead-in is context)."""
    parts = re.split(r"(?<=[.!?])\s+", text.strip())
    asks = [p for p in parts if p.rstrip().endswith("?")]
    return asks[-1] if asks else text.strip()


def parse(text: str) -> Query:
    q = asked(text)
    if YES_NO.match(q):
        return Query(text, "yesno")
    return Query(text, next((kind for kind, pattern in _KINDS if pattern.search(q)), "what"))
