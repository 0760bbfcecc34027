"""Suggested follow-ups: made from the cited articles, never a question the articles cannot answer."""

import pytest

from qa.suggest import candidates

SEED_QUESTIONS = [
    "What share of the world's critical raw materials does Ukraine hold?",
    "Who is Trump's special envoy for Ukraine?",
    "How many Ukrainian soldiers has the fighting killed?",
    "On what date did Trump meet Japanese Prime Minister Shigeru Ishiba?",
    "Who described its investment fund?",
]


def test_candidates_are_people_the_answer_left_out():
    text = ("Zelensky and Trump Set to Discuss Minerals Agreement\n"  # a headline: its capitals name nothing
            "Keith Kellogg, Trump's special envoy, met Foreign Affairs chief Kaja Kallas in Brussels. "
            "Kaja Kallas hosted him. The Oval Office declined to comment. Saudi Arabia hosted talks. "
            "Denys Shmyhal said the deal was fair.\n")
    got = candidates("Who is Trump's special envoy?", "Keith Kellogg is the envoy.", [text])
    # Kellogg is in the answer; no headline, office or country; the one quoted is asked what he said
    assert got == ["Who is Kaja Kallas?", "What did Denys Shmyhal say?"]


@pytest.mark.parametrize("q", SEED_QUESTIONS)
def test_suggestions_are_answered_from_the_cited_articles(seeds_engine, q):
    a = seeds_engine.ask(q, backend="extractive", suggest=True)
    assert 1 <= len(a.suggestions) <= 3 and "suggest_ms" in a.timings
    cited = {c.file for c in a.citations}
    for s in a.suggestions:
        assert s.lower() != q.lower()
        follow = seeds_engine.ask(s, backend="extractive")
        assert not follow.abstained and follow.citations, (s, follow.text)
        assert cited & {c.file for c in follow.citations}, s


def test_no_suggestions_without_an_answer(seeds_engine):
    assert seeds_engine.ask("Who won the 1974 World Cup final?", backend="extractive", suggest=True).suggestions == []
    assert seeds_engine.ask("What share of the world's critical raw materials does Ukraine hold?",
                            backend="extractive").suggestions == []  # only when asked for
