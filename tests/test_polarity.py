"""Polarity and modality: a sentence keeps its passage's "not", "might" and "preliminary" (qa.polarity), and
the verifier marks one that drops them unsupported. Measured on eval/polarity.jsonl (pairs drawn from the
seeds and the RealTime QA dev articles, both directions) and, when present, eval/polarity-heldout.jsonl
(written apart from the rules, never used to shape them)."""

import json
from pathlib import Path

import pytest

from qa.polarity import clashes
from qa.schema import Passage

EVAL = Path(__file__).resolve().parent.parent / "eval"
SEEDS = EVAL.parent / "seeds"
MEETING = ("Following Trump’s remarks, Zelensky confirmed that Washington and Kyiv were planning discussions, "
           "though he did not confirm whether a meeting with Trump was scheduled.")
DEAL = ("Ukrainian President Volodymyr Zelensky travels to Washington to meet President Trump for a preliminary deal "
        "on mineral resources.")


def _rows(name: str) -> list[dict]:
    return [json.loads(line) for line in (EVAL / name).read_text().splitlines() if line.strip()]


def _confusion(rows: list[dict]) -> dict:
    tp = fp = fn = tn = 0
    for r in rows:
        flagged, bad = bool(clashes(r["sentence"], [r["passage"]])), r["label"] == "unsupported"
        tp += flagged and bad
        fp += flagged and not bad
        fn += bad and not flagged
        tn += not flagged and not bad
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": tp / max(1, tp + fp), "recall": tp / max(1, tp + fn)}


@pytest.mark.parametrize("sentence,source,flagged", [
    ("Yes, Zelensky confirmed a meeting with Trump [2].", MEETING, True),
    ("Zelensky confirmed that a meeting with Trump was scheduled [1].", MEETING, True),
    # the affirmed clause of a sentence that also denies something is not a negation dropped
    ("Zelensky confirmed that Washington and Kyiv were planning discussions [1].", MEETING, False),
    ("Washington and Kyiv are planning discussions, but Zelensky did not confirm whether a meeting with Trump "
     "was scheduled [3].", MEETING, False),
    ("Yes, the minerals deal has been agreed [1].", DEAL, True),
    ("Zelensky is travelling to Washington for a preliminary minerals deal [1].", DEAL, False),
    ("Trump will meet Zelensky in Washington next week [1].",
     "President Donald Trump has signaled a possible face-to-face meeting with Ukrainian President Volodymyr "
     "Zelensky in Washington next week.", True),
    ("No, the Trump administration has not offered anything substantial, Polishchuk told TASS [1].",
     "Alexey Polishchuk told TASS that the Trump Administration has yet to offer anything substantial.", False),
])
def test_clashes(sentence, source, flagged):
    assert bool(clashes(sentence, [source])) is flagged, clashes(sentence, [source])


def test_polarity_set():
    """The pairs the rules were written against: nearly every one right, in both directions."""
    rows = _rows("polarity.jsonl")
    assert len(rows) >= 60 and {r["label"] for r in rows} == {"supported", "unsupported"}
    c = _confusion(rows)
    # today: 64 of 74 wrong sentences flagged, none of the 69 faithful ones
    assert c["precision"] >= 0.95 and c["recall"] >= 0.8, c


def test_polarity_heldout_set():
    """Pairs written apart from the rules: the figure the rules earn on sentences they were not shaped on."""
    rows = _rows("polarity-heldout.jsonl")
    assert len(rows) >= 50
    c = _confusion(rows)
    # measured once, after the rules were written (2026-12-02): 50 of 64 wrong sentences flagged, 6 of 62
    # faithful ones (precision 0.89, recall 0.78)
    assert c["precision"] >= 0.85 and c["recall"] >= 0.75, c


def test_verifier_marks_a_dropped_negation_unsupported(seeds_engine):
    v = seeds_engine.verifier()
    p = Passage("x", "000_eb52613fceb0bc2a.txt", "Trump signals possible meeting with Zelensky", MEETING, 0,
                len(MEETING), 0, len(MEETING))
    bad = v.check("Yes, Zelensky confirmed a meeting with Trump.", [p], "Did Zelensky confirm a meeting with Trump?")
    assert not v.supported(bad) and any("negation" in m for m in bad.missing), bad
    good = v.check("Zelensky did not confirm whether a meeting with Trump was scheduled.", [p],
                   "Did Zelensky confirm a meeting with Trump?")
    assert v.supported(good), good
