"""Polarity and modality: a claim is what it says together with its "not" and its "might".

A sentence that draws on a passage keeps the passage's negation ("did not confirm", "has yet to",
"refused"), its hedge ("might", "possible", "expected to", "reportedly") and its stage ("planned",
"proposed", "preliminary" is not "signed"). The check works clause by clause: each clause of the sentence
is matched to the clause of the passages that shares most of its content words (a passage sentence often
joins an affirmed clause to a negated one: "Zelensky confirmed that … talks were planned, though he did not
confirm whether a meeting was scheduled"), and the two must agree:

- negation: both negated or neither ("Yes, Zelensky confirmed a meeting" of the clause "he did not confirm
  whether a meeting … was scheduled" is not);
- hedge: a hedged clause stays hedged (any hedge will do: "may" for "possible");
- stage: a clause that calls something done ("signed", "agreed", "reached") needs a clause that does too,
  not one that calls it planned, proposed or preliminary;
- an opening "Yes" affirms the first clause; an opening "No" denies it, so a "No" whose clauses affirm,
  unhedged, what the passage affirms says the opposite of its source.

These are rules with a reason (what the words mean), not weights.
"""

from __future__ import annotations

import re

from .text import sentence_spans, terms

_NEGATION = re.compile(
    r"\b(not|never|no|none|nobody|nothing|neither|nor|cannot|refused|refuses|refusing|denied|denies|"
    r"declined to|declines to|failed to|fails to|unable|yet to|no longer|rejected|rejects|ruled out|"
    r"stalled|halted|blocked|suspended|postponed|scrapped|abandoned|lacks?|lacked|lacking|absence|absent|"
    r"withh[oe]ld(?:ing|s)?|reluctan(?:t|ce)|uncertain|unclear)\b|n['’]t\b",
    re.I)
_HEDGE = re.compile(
    r"\b(might|may|could|would|possible|possibly|potential|potentially|likely|unlikely|expected|expects|expect|"
    r"reportedly|rumou?red|rumou?rs?|alleged(?:ly)?|suspected|believed?|believes|appears?|appeared|seems?|"
    r"seemed|plans?|planned|planning|proposed|proposes|preliminary|draft|considering|scheduled|set to|"
    r"aims?|aimed|hopes?|hoped|intends?|intended|seeks?|sought|estimated|estimates?|suggest\w*|prospect|"
    r"envision\w*|envisag\w*|target\w*|underway|efforts? to|working to|trying to|attempts? to|in principle|"
    r"tentative(?:ly)?|signal(?:ed|led|s)?|open to|willing(?:ness)?|ready to|eventually|confiden(?:t|ce)|"
    r"would like)\b",
    re.I)
_DONE = re.compile(r"\b(signed|agreed|reached|finali[sz]ed|completed|concluded|approved|sealed|struck|accepted|"
                   r"passed|has been agreed|took place|happened)\b", re.I)
# where a sentence divides into clauses: a semicolon or dash; a comma before a lower-case word (not
# "Monday, August 29"); the conjunctions that join two claims ("though he did not confirm …"); "and" before
# a new subject or verb ("… discussions and that a meeting was scheduled"), not "Washington and Kyiv"
_CLAUSE = re.compile(r"\s*(?:[;:—–]|\s-\s|,(?=\s+[a-z])|(?<=\w)[,.!?][”\"](?=\s)|\b(?:but|though|although|while|whereas|however)\b|"
                     r"\band(?=\s+(?:that|whether|he|she|they|it|the|a|an|his|her|its|their|has|have|had|was|were|"
                     r"is|are|will|would|did|does)\b))\s*")
# a sentence that gives a belief or report as someone's keeps it hedged ("According to analysts, …" of
# "Analysts believe …")
_ATTRIBUTED = re.compile(r"\baccording to\b|\breport(?:s|ed|edly|ing)\b", re.I)
_AHEAD = re.compile(r"\b(will|next|later|soon|upcoming|from now)\b", re.I)  # "Not yet; it will …"
_WHETHER = re.compile(r"\bwhether or not\b|\bor not\b", re.I)
_YES = re.compile(r"^\W*yes\b[,.;:!]?\s*", re.I)
_NO = re.compile(r"^\W*(?:no|not yet)\b[,.;:!]?\s*", re.I)
_MARKER = re.compile(r"\s*\[\d+(?:\s*,\s*\d+)*\]")


def clauses(text: str) -> list[str]:
    return [c for c in _CLAUSE.split(text) if c and c.strip()]


def _scoped(pattern: re.Pattern, clause: str, shared: set[str]) -> bool:
    """Does a negation or hedge of ``clause`` bear on the ``shared`` words? It bears on what follows it in its
    clause ("a possible face-to-face meeting with … in Washington next week", "refused to comment on Trump's
    statements"), so two of them, or half, must come after it (not only the subject before it)."""
    text = _WHETHER.sub(" ", clause)
    for m in pattern.finditer(text):
        after = set(terms(text[m.start():]))
        if shared and (len(after & shared) >= 2 or 2 * len(after & shared) >= len(shared)):
            return True
    return False


def _content(clause: str) -> set[str]:
    # the claim's words, without the words that make its polarity or modality
    return set(terms(_HEDGE.sub(" ", _NEGATION.sub(" ", clause))))


def _best(clause: str, source: list[str]) -> tuple[str | None, int]:
    """The source clause sharing most content words with ``clause``, on a tie the one those words cover
    most of (None on a remaining tie between clauses that differ in polarity or modality: which one it draws
    on is not clear), and how many it shares."""
    want = _content(clause)
    scored = []
    for s in source:
        have = _content(s)
        n = len(want & have)
        scored.append(((n, round(n / len(have), 3) if have else 0.0), s))
    scored.sort(key=lambda x: x[0], reverse=True)
    if not scored or scored[0][0][0] == 0:
        return None, 0
    top = [s for k, s in scored if k == scored[0][0]]
    kinds = {(bool(_NEGATION.search(s)), bool(_HEDGE.search(s))) for s in top}
    return (top[0] if len(kinds) == 1 else None), scored[0][0][0]


def clashes(sentence: str, sources: list[str]) -> list[str]:
    """Where ``sentence`` departs from the polarity, hedge or stage of the ``sources`` (passage texts) it
    draws on, each as a reason ("drops the negation of: he did not confirm whether …"); empty when none."""
    body = _MARKER.sub("", sentence).strip()
    opener = "yes" if _YES.match(body) else "no" if _NO.match(body) else None
    body = _YES.sub("", _NO.sub("", body), count=1)
    src = [c for text in sources for a, b in sentence_spans(text) for c in clauses(text[a:b])]
    out: list[str] = []
    affirmed_unhedged = False
    denied = False
    for i, clause in enumerate(clauses(body)):
        want = _content(clause)
        if len(want) < 2 or len(clause.split()) <= 4:
            continue  # a bare answer ("President Vladimir Putin") has no polarity of its own
        s, shared = _best(clause, src)
        if s is None or shared < 2 or shared < 0.4 * min(len(want), len(_content(s))):
            continue  # not drawn from one clause of the passages
        shared_terms = want & _content(s)
        neg_a = bool(_NEGATION.search(_WHETHER.sub(" ", clause)))
        neg_s = _scoped(_NEGATION, s, shared_terms)
        hedge_a = bool(_HEDGE.search(clause) or _ATTRIBUTED.search(clause))
        hedge_s = _scoped(_HEDGE, s, shared_terms)
        quoted = s.strip()
        if neg_s and not neg_a:
            out.append(f"it drops the negation of: {quoted}")
        elif neg_a and not neg_s and _scoped(_NEGATION, clause, shared_terms) and not any(
                _NEGATION.search(_WHETHER.sub(" ", x)) and len(want & _content(x)) >= 2 for x in src):
            out.append(f"it adds a negation to: {quoted}")
        elif hedge_s and not hedge_a and not neg_s:
            out.append(f"it drops the hedge of: {quoted}")
        elif _DONE.search(clause) and not neg_a and not _DONE.search(s) and hedge_s:
            out.append(f"it calls done what is planned or proposed in: {quoted}")
        denied = denied or neg_a
        affirmed_unhedged = affirmed_unhedged or (not neg_a and not hedge_a and not neg_s and not hedge_s
                                                  and not _AHEAD.search(clause))
    if opener == "no" and not out and not denied and affirmed_unhedged:
        out.append("it answers No where the passage states it")
    return out
