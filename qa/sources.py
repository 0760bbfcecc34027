"""Do the sources agree? What the best passages from different articles give for what is asked.

A news story is told by several outlets, and they do not always agree (a toll that rose between two
reports, a date one outlet got wrong). For a question asking for a number ("how many", "how much", "what
percentage"), a date ("when", "what year") or a person ("who"), each article among the retrieved passages
gives at most one *value*: from its sentence that is about what is asked, which

- holds a value of the kind asked for that the question does not already state, and exactly one such
  value once the rules below are applied (two candidate values make the sentence ambiguous: it gives none);
- for a count, holds the figure beside what is counted: "how many members were arrested" takes a figure
  with "members" or "arrested" within three words after it ("31 members", "31 of them were arrested"; stop
  words not counted) or "arrested" two before it ("arrested 31"; "members … in 10 minutes" is not ten
  members), nothing but words between, and "arrested" in its clause ("The group has 300
  members; 31 of them were arrested" counts 31 arrests, not 300);
- for an amount, a share, a date or a person, holds at least half of the asked sentence's weighted terms
  (the sentence that ends in "?": a quiz's lead-in sentence is context, not what is asked);
- for how much something rose or fell, holds a sum or a percentage given as the change ("rose 60%", "up
  $1.20"): a price is not an increase;
- comes from an article that names every name the asked sentence names (a toll of another shooting is not
  a toll of this one).

Articles whose values differ are the sides of a disagreement; the answer then says so, each side with
its outlets and dates and a citation to the sentence ("The sources differ: CNN (2022-06-16) reports 31
[1]; AP (2022-06-15) reports 30 [2]."). Values are compared after ``qa.facts`` normalisation, dates at the
granularity both give (a day, else a year), people through ``facts.same_person``. Where the values agree,
or the cited passage was found alike in other articles (near-duplicates, ``Passage.also_in``), the answer
says how many outlets report it. These are rules with a reason, not weights: nothing here is fitted to
a question set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable

from .facts import _DOWN, _NUMBER_WORDS, _UP, MONTHS, TITLES, WEEKDAYS, facts, names, norm_tokens, same_person
from .schema import MARKER, Answer, AnswerSentence, Citation, Passage, cite
from .text import STOPWORDS, sentence_spans, terms

_COUNT_Q = re.compile(r"\bhow many\b\s+(?P<rest>[^?]*)", re.I)
_AMOUNT_Q = re.compile(r"\bhow much\b|\bwhat (?:amount|price|sum)\b", re.I)
_SHARE_Q = re.compile(r"\bwhat (?:share|percentage|percent|proportion)\b", re.I)
_YEAR_Q = re.compile(r"\b(?:what|which|in what) year\b", re.I)
_DAY_Q = re.compile(r"\bwhen\b|\b(?:what|which|on what) (?:date|day)\b", re.I)
# "who won …?" asks for a person; "who said …?" for a quote's speaker (qa.facts), "who is Keith Kellogg?"
# for what a person is
_WHO_Q = re.compile(r"^\W*[Ww]ho\b(?!\s+(?i:said|says|wrote|writes|told)\b)(?!\s+(?i:is|was|are|were)\s+[A-Z])")
_KINDS = [(_COUNT_Q, "count"), (_SHARE_Q, "share"), (_AMOUNT_Q, "amount"), (_YEAR_Q, "year"), (_DAY_Q, "day"),
          (_WHO_Q, "person")]  # the first that matches
_AUX = set("is are was were be been being has have had do does did will would can could may might shall should "
           "get got".split())
_PREPOSITIONS = set("across among amid amidst around along beyond despite inside near outside per since throughout "
                    "toward towards via within without worldwide nationwide".split())
_PUNCT = re.compile(r"[,;:()\[\]—–]")
_TOKEN = re.compile(r"\$?\d+(?:[.,]\d+)*%?|[A-Za-z][\w'’-]*|[,;:()\[\]—–]")
_SCALE = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_MONEY = re.compile(r"(?P<cur>\$|€|£)\s?(?P<n>\d+(?:[.,]\d+)*)(?:\s+(?P<scale>thousand|million|billion|trillion))?|"
                    r"(?P<n2>\d+(?:[.,]\d+)*)(?:\s+(?P<scale2>thousand|million|billion|trillion))?\s+"
                    r"(?P<cur2>dollars|euros|pounds|rubles|roubles|yuan|yen)\b", re.I)
_PERCENT = re.compile(r"(?P<n>\d+(?:\.\d+)?)\s?(?:%|percent\b|per cent\b)", re.I)
MIN_SHARE = 0.5  # of the asked sentence's weighted terms, for a date or a person
WINDOW_AFTER, WINDOW_BEFORE = 3, 2  # words (not counting stop words) from a count to what it counts


@dataclass
class Value:
    kind: str  # "count", "amount", "share", "day", "year", "person"
    text: str  # as written: "31", "$2.5 billion", "June 15", "Raphael Warnock"
    key: tuple  # what is compared


@dataclass
class Reading:
    """What one article gives: its value and the sentence that gives it."""

    file: str
    value: Value
    passage: int  # index into the passages compared
    a: int  # the sentence's span in the passage's text
    b: int
    files: list[str] = field(default_factory=list)  # the article and its near-duplicates


@dataclass
class Side:
    value: Value
    readings: list[Reading]

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(f for r in self.readings for f in r.files))


@dataclass
class Comparison:
    kind: str
    sides: list[Side]
    sentence: str = ""  # what the answer says about it, with citations
    cites: list[int] = field(default_factory=list)

    @property
    def differ(self) -> bool:
        return len(self.sides) > 1

    def to_dict(self, outlets: Callable[[str], tuple[str | None, str | None]] | None = None) -> dict:
        def who(f: str) -> dict:
            o, d = outlets(f) if outlets else (None, None)
            return {"file": f, "outlet": o, "date": d}

        return {"kind": self.kind, "differ": self.differ, "sentence": self.sentence, "cites": self.cites,
                "sides": [{"value": s.value.text, "sources": [who(f) for f in s.files]} for s in self.sides]}


# -- what is asked ---------------------------------------------------------------------------------------
def asked_sentence(question: str) -> str:
    """The sentence that asks (the last one ending in "?"), not a quiz's lead-in."""
    spans = sentence_spans(question.strip())
    asks = [question[a:b] for a, b in spans if question[a:b].rstrip().endswith("?")]
    return asks[-1] if asks else question.strip()


def asked_kind(question: str) -> str | None:
    """The kind of value the question asks for, or None when it asks for none we compare."""
    q = asked_sentence(question)
    return next((kind for pattern, kind in _KINDS if pattern.search(q)), None)


def counted(question: str) -> tuple[set[str], set[str]]:
    """The stems of what a "how many" question counts and of the verb it is counted by: "how many Patriot
    Front members were arrested" gives ({member}, {arrest})."""
    m = _COUNT_Q.search(asked_sentence(question))
    if not m:
        return set(), set()
    words = re.findall(r"[A-Za-z][\w'’-]*", m.group("rest"))
    noun, verb, i = None, None, 0
    while i < len(words) and words[i].lower() not in _AUX | _PREPOSITIONS and words[i].lower() not in STOPWORDS:
        noun = words[i]
        i += 1
    j = i
    while j < len(words) and words[j].lower() in _AUX | {"been", "being", "not", "already", "reportedly"}:
        j += 1
    if j > i and j < len(words) and words[j][:1].islower() and words[j].lower() not in STOPWORDS:
        verb = words[j]  # "were arrested", "have died"; after "did" comes a subject, not the verb
        if words[i].lower() in ("do", "does", "did"):
            verb = None
    return {t for t in terms(noun or "") if t}, {t for t in terms(verb or "") if t}


# -- values in a sentence --------------------------------------------------------------------------------
def _number(raw: str, scale: str | None = None) -> float | None:
    try:
        v = float(raw.replace(",", ""))
    except ValueError:
        return None
    return v * _SCALE.get((scale or "").lower(), 1.0)


def _fmt(v: float) -> str:
    return f"{v:.6g}"


def counts(sentence: str, what: tuple[set[str], set[str]], stated: set[str]) -> list[Value]:
    """Figures beside what is counted (see the module docstring): with the noun or the verb of the count
    within a few words, and the verb, when the question has one, in the figure's clause ("300 members;
    31 of them were arrested": 31 were arrested, 300 is the group). Years, days of a month and figures
    the question states are not counts."""
    noun, verb = what
    toks = _TOKEN.findall(sentence)
    stems = [(terms(t) or [""])[0] if t[:1].isalpha() else t for t in toks]
    days = {f.key[1] for f in facts(sentence) if f.kind == "date" and len(f.key) == 2}
    out: list[Value] = []
    for i, t in enumerate(toks):
        low = t.lower()
        if re.fullmatch(r"\d+(?:[.,]\d+)*", t):
            key = t.replace(",", "")
        elif low in _NUMBER_WORDS and int(_NUMBER_WORDS[low]) > 1:
            key = _NUMBER_WORDS[low]
        else:
            continue
        if (re.fullmatch(r"(19|20)\d\d", key) or key in days or key in stated
                or (i and toks[i - 1].lower() in {*MONTHS, "no", "number"})):  # "June 16", "No. 3"
            continue
        after, before = set(_near(toks, stems, i, 1, WINDOW_AFTER)), set(_near(toks, stems, i, -1, WINDOW_BEFORE))
        if ((noun | verb) & after or verb & before) and (not verb or verb & _clause(toks, stems, i)):
            value = _number(key)
            if i + 1 < len(toks) and toks[i + 1].lower() in _SCALE:
                value = _number(key, toks[i + 1])
            if value is not None:
                out.append(Value("count", t if not toks[i + 1:i + 2] or toks[i + 1].lower() not in _SCALE
                                 else f"{t} {toks[i + 1]}", (_fmt(value),)))
    return out


def _near(toks: list[str], stems: list[str], i: int, step: int, words: int) -> list[str]:
    """The stems of up to ``words`` words (stop words not counted: "31 of them were arrested") on one side
    of token ``i``, stopping at punctuation or another figure."""
    out: list[str] = []
    j = i + step
    while 0 <= j < len(toks) and len(out) < words and abs(j - i) <= 2 * words:
        if _PUNCT.fullmatch(toks[j]) or toks[j][:1].isdigit():
            break
        if toks[j].lower() not in STOPWORDS:
            out.append(stems[j])
        j += step
    return out


def _clause(toks: list[str], stems: list[str], i: int, reach: int = 12) -> set[str]:
    """The stems of the words around token ``i`` up to a clause break (";", ":", a dash, a bracket; not a
    comma: "31 members of the group, a white nationalist group, were arrested")."""
    out = set()
    for step in (1, -1):
        j = i + step
        while 0 <= j < len(toks) and abs(j - i) <= reach and not re.fullmatch(r"[;:()\[\]—–]", toks[j]):
            out.add(stems[j])
            j += step
    return out


def amounts(sentence: str, stated: set[str]) -> list[Value]:
    out = []
    for m in _MONEY.finditer(sentence):
        n, scale = (m.group("n"), m.group("scale")) if m.group("n") else (m.group("n2"), m.group("scale2"))
        cur = (m.group("cur") or m.group("cur2") or "").lower()
        cur = {"$": "dollars", "€": "euros", "£": "pounds", "roubles": "rubles"}.get(cur, cur)
        v = _number(n, scale)
        if v is not None and n.replace(",", "") not in stated:
            out.append(Value("amount", m.group().strip(), (cur, _fmt(v))))
    return out


def shares(sentence: str, stated: set[str]) -> list[Value]:
    return [Value("share", m.group().strip(), (_fmt(float(m.group("n"))),)) for m in _PERCENT.finditer(sentence)
            if m.group("n") not in stated]


def dates(sentence: str, kind: str, stated: set[tuple]) -> list[Value]:
    """Days of a month ("June 15"), or years (from "2021" or "June 2021") for a "what year" question."""
    fs = [f for f in facts(sentence) if f.key not in stated]
    if kind == "year":
        years = [f for f in fs if f.kind == "year"] + [f for f in fs if f.kind == "date" and len(f.key[1]) == 4]
        return [Value("year", f.text, (f.key[-1],)) for f in years]
    return [Value("day", f.text, f.key) for f in fs if f.kind == "date" and len(f.key[1]) <= 2]


def people(sentence: str, asked: list[str]) -> list[Value]:
    """Names of people in the sentence other than those the question names (a run of two or more
    capitalised words, or one after a title; places and organisations mostly fall out as they are
    compared by ``same_person``, which needs a surname to agree)."""
    out: list[Value] = []
    for n in names(sentence):
        toks = [w for w in norm_tokens(n) if w not in TITLES]
        if not toks or any(w in MONTHS or w in WEEKDAYS for w in toks):
            continue
        if any(same_person(n, a) or set(norm_tokens(a)) & set(toks) for a in asked):
            continue
        if not any(same_person(n, v.text) for v in out):
            out.append(Value("person", n, tuple(toks)))
    # a lone word ("Trump", "Ukraine") is a name too, so it makes a sentence ambiguous, but it is given as a
    # value only with a first name: a place or an organisation is rarely two capitalised words of a person
    return out if len(out) != 1 or len(out[0].key) > 1 else []


def _moved(sentence: str, value: str, reach: int = 4) -> bool:
    """Is the figure written ``value`` given as a rise or a fall ("rose 60%", "up $1.20 from a year ago")?
    A change word within ``reach`` words of it, in its clause."""
    at = sentence.find(value)
    if at < 0:
        return False
    before = re.split(r"[;:()—–]", sentence[:at])[-1]
    after = re.split(r"[;:()—–]", sentence[at + len(value):])[0]
    near = norm_tokens(before)[-reach:] + norm_tokens(after)[:reach]
    return bool(set(near) & (_UP | _DOWN))


def same(a: Value, b: Value) -> bool | None:
    """Do two values agree? None when they cannot be compared (different currencies)."""
    if a.kind == "person":
        return same_person(a.text, b.text)
    if a.kind == "amount" and a.key[0] != b.key[0]:
        return None
    return a.key == b.key


# -- reading the articles --------------------------------------------------------------------------------
def read(question: str, passages: list[Passage], idf: Callable[[str], float] = lambda t: 1.0) -> tuple[str | None, list[Reading]]:
    """The kind of value asked for and, per article, the value its best sentence about it gives."""
    kind = asked_kind(question)
    if kind is None:
        return None, []
    ask = asked_sentence(question)
    qfacts = facts(question)
    stated_nums = {f.key[0] for f in qfacts if f.kind in ("number", "year")}
    stated_dates = {f.key for f in qfacts if f.kind in ("date", "year")}
    asked_names = [f.text for f in facts(ask) if f.kind == "name"]
    what = counted(question)
    if kind == "count" and not (what[0] or what[1]):
        return kind, []
    change = bool(set(norm_tokens(ask)) & (_UP | _DOWN))
    qterms = [t for t in dict.fromkeys(terms(re.sub(r"^\W*(when|who)\b", "", ask, flags=re.I))) if t]
    weights = {t: idf(t) for t in qterms}
    total = sum(weights.values()) or 1.0
    best: dict[str, tuple[float, Reading]] = {}
    for i, p in enumerate(passages):
        context = norm_tokens(f"{p.title} {p.text}")
        if not all(_has(context, norm_tokens(n)) for n in asked_names):
            continue
        for a, b in sentence_spans(p.text):
            s = p.text[a:b]
            st = set(terms(s))
            share = sum(w for t, w in weights.items() if t in st) / total
            if kind == "count":
                vals = counts(s, what, stated_nums)
            elif share < MIN_SHARE:
                continue
            elif kind in ("amount", "share") and change:  # a rise or a fall: money or a percentage, by it
                vals = amounts(s, stated_nums) + shares(s, stated_nums)
                if len(vals) == 1 and not _moved(s, vals[0].text):
                    vals = []  # a price is not an increase
            elif kind == "amount":
                vals = amounts(s, stated_nums)
            elif kind == "share":
                vals = shares(s, stated_nums)
            elif kind in ("day", "year"):
                vals = dates(s, kind, stated_dates)
            else:
                vals = people(s, asked_names)
            distinct: list[Value] = []
            for v in vals:
                if not any(same(v, d) for d in distinct):
                    distinct.append(v)
            if len(distinct) != 1:
                continue  # none, or ambiguous
            score = share + 0.01 / (1 + i)  # the better-ranked passage breaks a tie
            if p.file not in best or score > best[p.file][0]:
                best[p.file] = (score, Reading(p.file, distinct[0], i, a, b, [p.file, *p.also_in]))
    return kind, [r for _, r in sorted(best.values(), key=lambda x: -x[0])]


def _has(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    needle = tuple(w for w in needle if w not in TITLES) or needle
    n = len(needle)
    return any(hay[i:i + n] == needle for i in range(len(hay) - n + 1)) if n else True


def sides(readings: list[Reading]) -> list[Side]:
    """Readings grouped by value, in the order they come (best first)."""
    out: list[Side] = []
    for r in readings:
        for s in out:
            if same(s.value, r.value):
                s.readings.append(r)
                break
        else:
            out.append(Side(r.value, [r]))
    return out


# -- what the answer says --------------------------------------------------------------------------------
Outlet = Callable[[str], "tuple[str | None, str | None]"]


def _by(files: list[str], outlet: Outlet) -> str:
    """ "CNN (2022-06-16) and AP (2022-06-15)": who published each article and when (its file when the
    outlet is unknown); one outlet's several articles are named once, with its newest date."""
    seen: dict[str, str | None] = {}
    for f in files:
        o, d = outlet(f)
        name = o or f
        if name not in seen or (d and (seen[name] or "") < d):
            seen[name] = d
    parts = [f"{n} ({d})" if d else n for n, d in seen.items()]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def _outlets(files: list[str], outlet: Outlet) -> int:
    return len({outlet(f)[0] or f for f in files})


def _reporters(files: list[str], outlet: Outlet) -> str:
    """ "3 outlets", or "2 articles" where an outlet is unknown (two files need not be two outlets)."""
    n = _outlets(files, outlet)
    return f"{n} outlets" if all(outlet(f)[0] for f in files) else f"{n} articles"


def compare(question: str, answer: Answer, passages: list[Passage], outlet: Outlet,
            idf: Callable[[str], float] = lambda t: 1.0) -> Comparison | None:
    """Compare what the articles among ``passages`` (the retrieved ones) give for what the question asks
    and add to ``answer`` the sentence that says whether they differ or how many outlets agree, citing
    each side (a passage the answer does not have yet is added to it). None when there is nothing to say."""
    if answer.abstained or answer.message or not answer.citations:
        return None
    kind, readings = read(question, passages, idf)
    order: dict[str, int] = {}
    for n in (int(x) for m in MARKER.finditer(answer.text) for x in m.group(1).split(",")):
        if 0 < n <= len(answer.passages):
            order.setdefault(answer.passages[n - 1].file, len(order))
    cited = set(order)
    groups = sides(readings)  # the side the answer cites first comes first
    groups.sort(key=lambda s: min((order.get(f, len(order)) for f in s.files), default=len(order)))
    comp = Comparison(kind or "", groups)
    if comp.differ:
        parts = []
        for s in groups:
            ns = [_cite(answer, passages, r) for r in s.readings]
            s.readings = [r for _, r in sorted(zip(ns, s.readings), key=lambda x: x[0])]
            ns.sort()
            verb = "reports" if _outlets(s.files, outlet) == 1 else "report"
            parts.append(f"{_by(s.files, outlet)} {verb} {s.value.text}{''.join(f' [{n}]' for n in dict.fromkeys(ns))}")
            comp.cites += ns
        comp.sentence = "The sources differ: " + "; ".join(parts) + "."
    elif groups and _outlets(groups[0].files, outlet) > 1 and cited & set(groups[0].files):
        s = groups[0]
        ns = [_cite(answer, passages, r) for r in s.readings]
        comp.cites = list(dict.fromkeys(ns))
        comp.sentence = cite(f"{_reporters(s.files, outlet)} report {s.value.text}: {_by(s.files, outlet)}.",
                             comp.cites)
    else:
        comp = _alike(answer, outlet) or comp
    if not comp.sentence:
        return None
    comp.cites = list(dict.fromkeys(comp.cites))
    answer.text = f"{answer.text} {comp.sentence}"
    answer.sentences.append(AnswerSentence(comp.sentence, comp.cites, None, True))
    answer.citations.sort(key=lambda c: c.n)
    return comp


def _alike(answer: Answer, outlet: Outlet) -> Comparison | None:
    """The first cited passage found alike in articles of other outlets (near-duplicates)."""
    for c in answer.citations:
        p = answer.passages[c.n - 1]
        files = [p.file, *p.also_in]
        if _outlets(files, outlet) > 1:
            comp = Comparison("alike", [], cites=[c.n])
            comp.sentence = cite(f"Reported alike by {_reporters(files, outlet)}: {_by(files, outlet)}.", [c.n])
            return comp
    return None


def _cite(answer: Answer, passages: list[Passage], r: Reading) -> int:
    """The number the answer cites reading ``r``'s sentence by: a passage of the answer that holds it, else
    the sentence added to the answer's passages (with a citation quoting it)."""
    p = passages[r.passage]
    lo, hi = p.clean_start + r.a, p.clean_start + r.b
    n = next((i + 1 for i, q in enumerate(answer.passages) if q.file == p.file
              and q.clean_start <= lo and hi <= q.clean_end), None)
    if n is None:
        answer.passages.append(p)
        n = len(answer.passages)
    q = answer.passages[n - 1]
    if not any(c.n == n for c in answer.citations):
        a, b = lo - q.clean_start, hi - q.clean_start
        start, end = q.file_span(a, b)
        answer.citations.append(Citation(n, q.file, q.title, start, end, q.text[a:b]))
    return n
