"""Time in the question: an "as of" date and the publication dates a question asks about.

News questions are asked at a moment ("as of" a day: today by default, a quiz's ``question_date`` in an
eval) and often say when: "this week", "yesterday", "in March", "last month". ``frame(question, as_of)``
reads that into a ``Frame``, applied in retrieval:

- no article published after the as-of day is used: the one filter;
- a period the question names ("today", "this week", "last week", "on Monday", "in March", "in 2021")
  puts first, among the relevant articles (those the top passages come from), the ones published during
  it or up to ``LAG_DAYS`` after (reports follow their event), then the nearer in time;
- "recently", "latest", "most recent" put the newest relevant articles first.

A named period is a preference, not a filter, for a reason read in the RTQA dev answers: the period says
when the question's event happened, not when the fact it asks about was reported. "Warnock won the runoff
this week, defeating Walker, a former … star. What sport?": the runoff article does not say; a report from
a month earlier does, and a filter on "this week" removed it. Relevance chooses the articles; time orders
them. Undated articles always take part (nothing says they are later). Days are calendar days; "this week"
is the seven days ending on the as-of day, "last week" the Monday-to-Sunday week before the as-of day's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from .facts import MONTH_ABBR, MONTHS, WEEKDAYS
from .meta import parse_date

LAG_DAYS = 3  # days a report of an event may be published after it
_MONTH = {m: i + 1 for i, m in enumerate(MONTHS)} | {a: MONTHS.index(m) + 1 for a, m in MONTH_ABBR.items()}
_MONTHS = "|".join(m.capitalize() for m in sorted(_MONTH, key=len, reverse=True))

_WEEK = re.compile(r"\b(?:(?:this|the past|the last) (?:week|seven days|7 days)|(?:past|last) (?:few|several|couple of) days)\b",
                   re.I)
_RECENT = re.compile(r"\b(most recent(?:ly)?|recent(?:ly)?|lately|latest|newest|currently|right now|as of now|so far)\b", re.I)


@dataclass
class Frame:
    """What a question asked on ``as_of`` may draw on (articles published up to that day, and undated
    ones) and prefers: ``near``, the days of the period it names (or the as-of day, for "latest");
    ``phrase``: the question's words that named it; ``empty``: no dated article was published then."""

    as_of: date
    near: tuple[date, date] | None = None
    phrase: str | None = None
    empty: bool = False

    def __post_init__(self):
        if self.near:
            self.near = (min(self.near[0], self.as_of), min(self.near[1], self.as_of))

    @property
    def recent(self) -> bool:
        """A "latest" question: the newest articles first."""
        return bool(self.phrase and _RECENT.fullmatch(self.phrase))

    def allows(self, day) -> bool:
        """Whether an article published on ``day`` (ISO or a date; None or unparseable: undated) may be used."""
        d = to_date(day)
        return d is None or d <= self.as_of

    def distance(self, day) -> int | None:
        """Days between ``day`` and the preferred period (0 inside it); None for an undated article or
        when nothing is preferred."""
        d = to_date(day)
        if d is None or self.near is None:
            return None
        a, b = self.near
        return (a - d).days if d < a else (d - b).days if d > b else 0

    def to_dict(self) -> dict:
        return {"as_of": self.as_of.isoformat(), "near": [d.isoformat() for d in self.near] if self.near else None,
                "phrase": self.phrase, "empty": self.empty}


def read_as(when: dict | None) -> str:
    """How a question's time was read (``Frame.to_dict``), e.g. "\"this week\": articles up to 2022-06-16,
    those of 2022-06-10 to 2022-06-16 first"; empty when the question names no time."""
    w = when or {}
    if not w.get("phrase") or not w.get("near"):
        return ""
    first = "the newest first" if w["near"] == [w["as_of"]] * 2 else f"those of {w['near'][0]} to {w['near'][1]} first"
    return f"\"{w['phrase']}\": articles up to {w['as_of']}, {first}"


def without_time(question: str) -> str:
    """The question without the words that choose articles by date and that articles seldom repeat
    ("latest", "most recently", "this week", "in the past few days"): what an answer sentence must match
    is the rest."""
    return re.sub(r"\s+", " ", _WEEK.sub(" ", _RECENT.sub(" ", question))).strip()


def to_date(value) -> date | None:
    """A date from a ``date`` or from a day written as articles and sidecars write one ("2022-06-16",
    "2022/06/16", "June 16, 2022": ``qa.meta.parse_date``); else None."""
    if value is None or isinstance(value, date):
        return value
    iso = parse_date(str(value))
    return date.fromisoformat(iso) if iso else None


def _month_end(y: int, m: int) -> date:
    return (date(y + (m == 12), m % 12 + 1, 1)) - timedelta(days=1)


def _period(lo: date, hi: date, phrase: str, as_of: date) -> Frame:
    """A named period that may have ended before the as-of date: reports of it follow for ``LAG_DAYS``."""
    return Frame(as_of, (lo, hi + timedelta(days=LAG_DAYS)), phrase)


def frame(question: str, as_of: date | str | None = None) -> Frame:
    """The time frame of ``question`` asked on ``as_of`` (default: today)."""
    today = to_date(as_of) or date.today()
    q = question.lower()

    def since(lo: date, phrase: str) -> Frame:  # a period that runs up to the as-of date
        return Frame(today, (lo, today), phrase)

    if m := re.search(r"\btoday\b|\bthis (?:morning|afternoon|evening)\b|\btonight\b", q):
        return since(today, m[0])
    if m := re.search(r"\byesterday\b|\blast night\b", q):
        return since(today - timedelta(days=1), m[0])
    if m := _WEEK.search(q) or re.search(r"\bthis weekend\b", q):
        return since(today - timedelta(days=6), m[0])
    if m := re.search(r"\bthis month\b|\b(?:the )?(?:past|last) (?:30 days)\b|\bthe past month\b", q):
        return since(today.replace(day=1) if m[0] == "this month" else today - timedelta(days=30), m[0])
    if m := re.search(r"\bthis year\b|\b(?:the )?past (?:year|12 months)\b", q):
        return since(today.replace(month=1, day=1) if m[0] == "this year" else today - timedelta(days=365), m[0])
    if m := re.search(r"\blast week(?:end)?\b", q):
        monday = today - timedelta(days=today.weekday() + 7)
        return _period(monday, monday + timedelta(days=6), m[0], today)
    if m := re.search(r"\b(?:on|last|this past) (" + "|".join(WEEKDAYS) + r")\b", q):
        day = today - timedelta(days=(today.weekday() - WEEKDAYS.index(m[1])) % 7)
        return _period(day, day, m[0], today)
    if m := re.search(r"\blast month\b", q):
        end = today.replace(day=1) - timedelta(days=1)
        return _period(end.replace(day=1), end, m[0], today)
    if m := re.search(r"\blast year\b", q):
        return _period(date(today.year - 1, 1, 1), date(today.year - 1, 12, 31), m[0], today)
    # a month is named with its capital ("in May", not "this may be")
    if m := re.search(r"\b(?:[Ii]n|[Dd]uring|[Ss]ince|[Tt]his|[Ll]ast|[Ee]arly|[Ll]ate|[Mm]id-?)\s+(" + _MONTHS
                      + r")\.?(?:,?\s+(\d{4}))?\b", question):
        mo = _MONTH[m[1].lower()]
        y = int(m[2]) if m[2] else (today.year if mo <= today.month else today.year - 1)
        if m[0].lower().startswith("since"):
            return since(date(y, mo, 1), m[0])
        return _period(date(y, mo, 1), _month_end(y, mo), m[0], today)
    if m := re.search(r"\bin (\d{4})\b", q):
        y = int(m[1])
        if 1900 < y <= today.year:
            return _period(date(y, 1, 1), date(y, 12, 31), m[0], today)
    if m := _RECENT.search(q):
        return Frame(today, (today, today), m[0])
    return Frame(today)
