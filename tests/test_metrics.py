import math

import pytest

from qa import metrics as M
from qa.evaluate import HEADLINE, Item, gate, summarize


def test_normalize_and_contains():
    assert M.normalize("The U.S.  President’s “Deal”!") == "u s president s deal"
    assert M.contains("It holds about 5% of the world's materials.", "5%")
    assert M.contains("Café owners", "cafe")
    assert not M.contains("Scott Bessenter", "Bessent")  # whole words only
    assert not M.contains("anything", "")


def test_matches_with_regex_and_strings():
    assert M.matches("about 5 % of the world", ["re:5 ?%"])
    assert M.matches("He met JD Vance.", ["Munich", "vance"])
    assert not M.matches("Nothing here.", ["re:\\b5\\b", "Munich"])
    assert not M.matches("anything", [])


@pytest.mark.parametrize("ranked,gold,k,expected", [
    (["a", "b", "c"], {"a"}, 1, 1.0),
    (["b", "a"], {"a"}, 1, 0.0),
    (["b", "a"], {"a"}, 5, 1.0),
    ([], {"a"}, 5, 0.0),  # nothing retrieved
    (["a", "a", "b"], {"b"}, 2, 1.0),  # duplicates count once
    (["a", "b"], set(), 5, 0.0),  # empty gold
])
def test_hit_at(ranked, gold, k, expected):
    assert M.hit_at(ranked, gold, k) == expected


@pytest.mark.parametrize("ranked,gold,expected", [
    (["a"], {"a"}, 1.0),
    (["x", "a"], {"a"}, 0.5),
    (["x", "x", "x", "a"], {"a"}, 0.5),  # duplicate ids collapse: a is 2nd distinct
    (["x", "y", "z"], {"a"}, 0.0),
    ([], {"a"}, 0.0),
    (["b", "a"], {"a", "b"}, 1.0),
    ([f"f{i}" for i in range(10)] + ["a"], {"a"}, 0.0),  # beyond 10
])
def test_mrr(ranked, gold, expected):
    assert M.mrr_at(ranked, gold, 10) == pytest.approx(expected)


def test_recalls_and_precision():
    assert M.evidence_recall(["a", "b"], {"a", "c"}) == 0.5
    assert M.evidence_recall([], {"a"}) == 0.0
    assert M.evidence_recall(["a"], set()) is None
    assert M.citation_precision(["a", "b", "b"], {"a"}) == 0.5
    assert M.citation_precision([], {"a"}) is None
    assert M.citation_precision(["a"], set()) == 0.0
    assert M.citation_recall(["a"], {"a", "b"}) == 0.5
    assert M.citation_recall(["a"], set()) is None


def test_token_f1():
    assert M.token_f1("Colorado Avalanche", ["Colorado Avalanche"]) == 1.0
    assert M.token_f1("the Colorado team", ["Colorado Avalanche"]) == pytest.approx(0.5)
    assert M.token_f1("nothing", ["Colorado"]) == 0.0
    assert M.token_f1("", ["Colorado"]) == 0.0
    assert M.token_f1("x", ["re:x"]) is None


def test_choose_choice():
    choices = ["California", "Idaho", "New York", "Texas"]
    assert M.choose_choice("They were arrested in Coeur d'Alene, Idaho.", choices) == "Idaho"
    assert M.choose_choice("Texas, not Idaho", choices) == "Texas"  # earliest mention
    assert M.choose_choice("", choices) is None
    assert M.choose_choice("new york city", choices) == "New York"
    assert M.choose_choice("completely unrelated", choices) is None


def test_mean_rate_percentile():
    assert M.mean([1.0, None, 0.0]) == 0.5
    assert M.mean([None]) is None
    assert M.rate(0, 0) is None and M.rate(1, 4) == 0.25
    assert math.isnan(M.percentile([], 50))


def _item(type_, correct, abstained=False, hit=None, cites=(), unsupported=0, sentences=1, **extra):
    m = {"correct": correct, "sentences": sentences, "unsupported": unsupported}
    if hit is not None:
        m.update({"hit@1": hit, "hit@k": hit, "mrr@10": hit, "evidence_recall": hit, "citation_recall": hit})
    m["citation_precision"] = 1.0 if cites else None
    m.update(extra)
    return Item("id", type_, "q", "q", [], [], "a", abstained, "extractive", list(cites), [], [], m,
                {"retrieve_ms": 10.0, "total_ms": 20.0, "first_token_ms": 15.0}, correct == 1.0)


def test_summary_known_values_and_bounds():
    items = [
        _item("fact", 1.0, hit=1.0, cites=["a"]),
        _item("fact", 0.0, hit=0.0, cites=["b"], unsupported=1, sentences=2),
        _item("unanswerable", 1.0, abstained=True, sentences=0),
        _item("unanswerable", 0.0, abstained=False),
        _item("fact", 0.0, abstained=True, hit=1.0, sentences=0),
    ]
    s = summarize(items)
    assert s["accuracy"] == pytest.approx(2 / 5)
    assert s["answer_containment"] == pytest.approx(1 / 3)
    assert s["hit@1"] == pytest.approx(2 / 3)
    assert s["abstention_precision"] == pytest.approx(1 / 2)
    assert s["abstention_recall"] == pytest.approx(1 / 2)
    assert s["unsupported_rate"] == pytest.approx(1 / 4)
    for m in HEADLINE:
        assert s[m] is None or 0.0 <= s[m] <= 1.0, m


def test_summary_edge_cases():
    s = summarize([])
    assert s["questions"] == 0 and all(s[m] is None for m in HEADLINE)
    s = summarize([_item("fact", 1.0, sentences=0)])  # no gold, nothing retrieved, nothing said
    assert s["hit@1"] is None and s["abstention_precision"] is None and s["unsupported_rate"] is None
    assert s["accuracy"] == 1.0


def test_gate():
    rep = {"overall": {"accuracy": 0.7, "unsupported_rate": 0.1, "hit@1": None}}
    fails = gate(rep, {"min": {"accuracy": 0.8, "hit@1": 0.5}, "max": {"unsupported_rate": 0.05}})
    assert len(fails) == 3
    assert gate(rep, {"min": {"accuracy": 0.6}}) == []


@pytest.mark.parametrize("answer,gold,expected", [
    ("New Jersey and Oregon still ban it", "New Jersey & Oregon", True),  # "&" reads as "and"
    ("Apple will unveil new iPhones", "iPhone", True),  # the last word may be plural
    ("The iPhoneX is out", "iPhone", False),  # but not glued to other letters
    ("It used to be", "US", False),
    ("about 15% of them", "5%", False),
])
def test_contains_reads_ampersands_and_plurals(answer, gold, expected):
    assert M.contains(answer, gold) is expected


def test_wilson_interval():
    lo, hi = M.wilson(0, 40)
    assert lo == 0.0 and 0.08 < hi < 0.09  # a rate of 0 of 40 is not a certainty of 0
    lo, hi = M.wilson(36, 40)
    assert lo < 0.9 < hi and hi < 1.0
    assert M.wilson(0, 0) is None
