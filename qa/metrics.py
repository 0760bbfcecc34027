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
    """Lower case, no accents, no punctuation or articles, single spaces."""
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    s = _PUNCT.sub(" ", s)
    s = _ARTICLES.sub(" ", s)
    return " ".join(s.split())


def contains(answer: str, gold: str) -> bool:
    g = normalize(gold)
    return bool(g) and f" {g} " in f" {normalize(answer)} "


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
