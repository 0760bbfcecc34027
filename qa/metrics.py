"""Metrics shared by the benchmark and the eval runner. Every score is in [0, 1]."""

from __future__ import annotations

import re
import string
import unicodedata
from typing import Iterable, Sequence

import numpy as np

_PUNCT = re.compile(f"[{re.escape(string.punctuation)}“”‘’—–…]")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize(s: str) -> str:
    """Lower case, no accents, "&" read as "and", no punctuation or articles, single spaces."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower().replace("&", " and ")
    s = _PUNCT.sub(" ", s)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def contains(answer: str, gold: str) -> bool:
    """The normalized gold answer appears in the answer as whole words; its last word may take a plural
    ending ("iPhone" is in "new iPhones", not in "iPhoneX")."""
    g = normalize(gold)
    if not g:
        return False
    return re.search(rf"(?<!\S){re.escape(g)}(?:s|es)?(?!\S)", normalize(answer)) is not None


def matches(answer: str, acceptable: Sequence[str]) -> bool:
    """Does the answer contain one of the acceptable answers? ``re:`` marks a regular expression."""
    for a in acceptable:
        if a.startswith("re:"):
            if re.search(a[3:], answer, re.IGNORECASE):
                return True
        elif contains(answer, a):
            return True
    return False


def unique_in_order(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def hit_at(ranked: Sequence[str], gold: set[str], k: int) -> float:
    """1 if any of the first k ranked items is gold."""
    if not gold:
        return 0.0
    return 1.0 if any(r in gold for r in unique_in_order(ranked)[:k]) else 0.0


def mrr_at(ranked: Sequence[str], gold: set[str], k: int = 10) -> float:
    for i, r in enumerate(unique_in_order(ranked)[:k]):
        if r in gold:
            return 1.0 / (i + 1)
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q)) if len(values) else float("nan")


def mean(values: Iterable[float | None]) -> float | None:
    """Mean of the values that apply (None = not applicable); None when none apply."""
    vals = [v for v in values if v is not None]
    return sum(vals) / len(vals) if vals else None


def rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def wilson(part: int, whole: int, z: float = 1.96) -> tuple[float, float] | None:
    """The 95 % Wilson score interval of the rate part/whole (None when whole is 0): honest at 0 and 1,
    where the plain interval collapses."""
    if not whole:
        return None
    p = part / whole
    centre = (p + z * z / (2 * whole)) / (1 + z * z / whole)
    half = z * ((p * (1 - p) / whole + z * z / (4 * whole * whole)) ** 0.5) / (1 + z * z / whole)
    return max(0.0, centre - half), min(1.0, centre + half)


def evidence_recall(retrieved_files: Sequence[str], gold: set[str]) -> float | None:
    """Share of the gold files that appear among the retrieved passages."""
    if not gold:
        return None
    return len(set(retrieved_files) & gold) / len(gold)


def citation_precision(cited_files: Sequence[str], gold: set[str]) -> float | None:
    """Share of the cited files that are gold (None when nothing is cited)."""
    cited = set(cited_files)
    if not cited:
        return None
    return len(cited & set(gold)) / len(cited)


def citation_recall(cited_files: Sequence[str], gold: set[str]) -> float | None:
    """Share of the gold files that are cited (None when there is no gold)."""
    if not gold:
        return None
    return len(set(cited_files) & set(gold)) / len(set(gold))


def _f1(pred: list[str], gold: list[str]) -> float:
    from collections import Counter

    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if not pred or not gold or same == 0:
        return 0.0
    p, r = same / len(pred), same / len(gold)
    return 2 * p * r / (p + r)


def token_f1(answer: str, acceptable: Sequence[str]) -> float | None:
    """Best SQuAD-style token F1 against the plain-string acceptable answers (regexes are skipped)."""
    golds = [a for a in acceptable if not a.startswith("re:")]
    if not golds:
        return None
    pred = normalize(answer).split()
    return max(_f1(pred, normalize(g).split()) for g in golds)


def choose_choice(answer: str, choices: Sequence[str]) -> str | None:
    """The multiple-choice option an answer picks: the one it contains (the earliest mentioned when
    several are), else the one with the best token F1; None for an empty answer."""
    if not choices or not answer.strip():
        return None
    norm = f" {normalize(answer)} "
    found = [(norm.find(f" {normalize(c)} "), c) for c in choices if normalize(c) and f" {normalize(c)} " in norm]
    if found:
        return min(found)[1]
    scored = [(_f1(normalize(answer).split(), normalize(c).split()), c) for c in choices]
    best = max(scored, key=lambda x: x[0])
    return best[1] if best[0] > 0 else None
