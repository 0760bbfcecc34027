"""Sources that disagree (qa.sources): what is asked, the value each article gives, and what the answer says."""

import pytest
from conftest import dated_corpus

from qa import sources
from qa.engine import Engine


@pytest.mark.parametrize("question, kind", [
    ("How many Patriot Front members were arrested?", "count"),
    ("Police arrested men this week near a Pride event. How many were there?", "count"),
    ("How much did the company pay for the stadium?", "amount"),
    ("What percentage of voters backed the measure?", "share"),
    ("In what year did the law take effect?", "year"),
    ("When did the strike end?", "day"),
    ("On what day was the summit held?", "day"),
    ("Who won the Georgia runoff?", "person"),
    ("Who is the police chief?", "person"),
    ("Who is Keith Kellogg?", None),  # what a person is, not which person
    ("Who said the deal was dead?", None),  # a quote's speaker: qa.facts answers it
    ("Why did the talks fail?", None),
    # a quiz's lead-in is context: what is asked is the last sentence
    ("Officials said 31 men were held when they were stopped. Where was the event?", None),
])
def test_the_kind_of_value_asked_for(question, kind):
    assert sources.asked_kind(question) == kind


def test_what_a_count_counts():
    assert sources.counted("How many Patriot Front members were arrested?") == ({"member"}, {"arrest"})
    assert sources.counted("How many people have died in the floods?") == ({"peopl"}, {"die"})
    assert sources.counted("How many jobs did the company cut?") == ({"job"}, set())  # "did": a subject follows
    assert sources.counted("How many lives were saved across the US?") == ({"live"}, {"save"})
    assert sources.counted("Vaccines saved how many lives across the United States?") == ({"live"}, set())


@pytest.mark.parametrize("sentence, keys", [
    ("Police arrested 31 members of the group on Saturday.", [("31",)]),
    ("Police said 31 were arrested near the park.", [("31",)]),
    ("Thirty people were hurt, and 31 members of the group were arrested.", [("31",)]),
    ("Thirty people were arrested, and 31 members of the group were questioned.", [("30",), ("31",)]),
    ("Authorities arrested thirty members of the group.", [("30",)]),
    ("In 2022, 12 members were arrested on June 16.", [("12",)]),
    ("The 31 members of the group, a white nationalist group, were arrested.", [("31",)]),
    ("On June 16 police arrested members of the group.", []),  # a day of the month is not a count
    ("The group has 300 members; 31 of them were arrested.", [("31",)]),  # 300 is the group, not the arrests
    ("Police said 5 officers were hurt.", []),  # not what is counted
    ("Police arrested members of the group in 10 minutes.", []),  # a noun before a figure does not count it
])
def test_a_count_is_the_figure_beside_what_is_counted(sentence, keys):
    assert [v.key for v in sources.counts(sentence, ({"member"}, {"arrest"}), set())] == keys


def test_values_of_amounts_shares_dates_and_people():
    assert [v.key for v in sources.amounts("It paid $2.5 billion, not 3 billion euros.", set())] == [
        ("dollars", "2.5e+09"), ("euros", "3e+09")]
    assert [v.key for v in sources.shares("Turnout was 61.5% against 58 percent.", set())] == [("61.5",), ("58",)]
    assert [v.key for v in sources.dates("The strike ended on June 15, 2022.", "day", set())] == [("june", "15")]
    assert [v.key for v in sources.dates("The law took effect in January 2021.", "year", set())] == [("2021",)]
    assert [v.text for v in sources.people("Sen. Raphael Warnock won the Georgia runoff.", ["Georgia"])] == [
        "Raphael Warnock"]
    assert sources._moved("Gas prices rose 60% from a year ago to $5.", "60%")
    assert not sources._moved("Gas prices rose 60% from a year ago to $5.", "$5")
    a, b = sources.Value("person", "Raphael Warnock", ()), sources.Value("person", "Sen. Warnock", ())
    assert sources.same(a, b) and not sources.same(a, sources.Value("person", "Herschel Walker", ()))


# one story told by three outlets that do not agree on the count; a fourth article counts another event
ARTICLES = {
    "cnn.txt": ("Police arrest Patriot Front members near Pride event",
                "Police in Coeur d'Alene, Idaho, arrested 31 members of the White nationalist group Patriot Front "
                "on Saturday near a Pride event in the city park.", "2022-06-16", "CNN"),
    "ap.txt": ("Dozens held after truck stopped near Idaho Pride celebration",
               "Authorities said they arrested 30 members of Patriot Front, a white supremacist group, after "
               "stopping a U-Haul truck near the Pride celebration in Coeur d'Alene.", "2022-06-15", "AP"),
    "bbc.txt": ("Idaho police detain Patriot Front group before Pride",
                "Police in Coeur d'Alene arrested 31 members of Patriot Front who they said planned to riot at a "
                "Pride event.", "2022-06-14", "BBC"),
    "other.txt": ("Protesters held in Boise",
                  "Police in Boise arrested 12 members of a protest group outside the statehouse.", "2022-06-13",
                  "KTVB"),
}


def _articles(rows: dict) -> dict:
    return {f: (f"{title}\n\n{text}", day, outlet) for f, (title, text, day, outlet) in rows.items()}


@pytest.fixture(scope="module")
def story_engine(tmp_path_factory, embedder):
    from qa.config import load_settings

    base = tmp_path_factory.mktemp("story")
    corpus = dated_corpus(base / "corpus", _articles(ARTICLES))
    engine = Engine(load_settings(corpus_dir=corpus, index_dir=base / "index", as_of="2022-06-20"), embedder)
    engine.sync()
    return engine


def test_sources_that_disagree_are_each_cited_with_outlet_and_date(story_engine):
    ans = story_engine.ask("How many Patriot Front members were arrested?")
    comp = ans.comparison
    assert comp and comp["differ"] and comp["kind"] == "count"
    assert {s["value"] for s in comp["sides"]} == {"30", "31"}
    by_value = {s["value"]: {(x["outlet"], x["date"]) for x in s["sources"]} for s in comp["sides"]}
    assert by_value["31"] == {("CNN", "2022-06-16"), ("BBC", "2022-06-14")}
    assert by_value["30"] == {("AP", "2022-06-15")}  # Boise's 12 arrests are another event: not a side
    said = comp["sentence"]
    assert said.startswith("The sources differ: ") and said in ans.text and ans.text.endswith(said)
    assert "AP (2022-06-15) reports 30 [" in said and "CNN (2022-06-16)" in said and "BBC (2022-06-14)" in said
    # every side's marker points at a passage of that article holding that value, quoted by a citation
    for n in comp["cites"]:
        p = ans.passages[n - 1]
        c = next(c for c in ans.citations if c.n == n)
        value = "30" if p.file == "ap.txt" else "31"
        assert p.file in {"cnn.txt", "ap.txt", "bbc.txt"} and value in c.quote and (c.outlet, c.date) == (
            ARTICLES[p.file][3], ARTICLES[p.file][2])
    assert ans.sentences[-1].text == said and ans.sentences[-1].cites == comp["cites"]


def test_the_stream_ends_with_what_the_sources_say(story_engine):
    pieces = [ev for ev in story_engine.ask_stream("How many Patriot Front members were arrested?")]
    text, final = "".join(p for p in pieces if isinstance(p, str)), pieces[-1]
    assert text == final.text and "The sources differ" in text  # one code path: the stream says it too


def test_sources_that_agree_are_counted_not_contrasted(story_engine):
    # as of June 14 only the BBC report of the story exists: nothing to compare it with
    ans = story_engine.ask("How many Patriot Front members were arrested?", as_of="2022-06-14")
    assert ans.comparison is None and "sources" not in ans.text.lower()
    story_engine.settings.compare_sources = False
    try:
        off = story_engine.ask("How many Patriot Front members were arrested?")
    finally:
        story_engine.settings.compare_sources = True
    assert off.comparison is None and "The sources differ" not in off.text


def test_agreeing_outlets_are_counted(tmp_path, embedder):
    from qa.config import load_settings

    corpus = dated_corpus(tmp_path / "corpus", _articles({f: ARTICLES[f] for f in ("cnn.txt", "bbc.txt")}))
    engine = Engine(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", as_of="2022-06-20"), embedder)
    engine.sync()
    ans = engine.ask("How many Patriot Front members were arrested?")
    assert ans.comparison and not ans.comparison["differ"]
    assert ans.comparison["sentence"].startswith("2 outlets report 31: ")
    assert "CNN (2022-06-16)" in ans.text and "BBC (2022-06-14)" in ans.text


def test_questions_with_nothing_to_compare_are_left_alone(seeds_engine):
    for q in ("Why did the talks fail?", "What did Zelensky say about security guarantees?"):
        ans = seeds_engine.ask(q)
        assert ans.comparison is None and "sources differ" not in ans.text


def test_a_passage_found_alike_in_other_outlets_is_counted(tmp_path, embedder):
    from qa.config import load_settings

    title, text, _, _ = ARTICLES["cnn.txt"]
    rows = {"cnn.txt": (title, text, "2022-06-16", "CNN"), "wire.txt": (title, text, "2022-06-15", "Reuters")}
    corpus = dated_corpus(tmp_path / "corpus", _articles(rows))
    engine = Engine(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", as_of="2022-06-20"), embedder)
    engine.sync()
    ans = engine.ask("Where did police arrest the Patriot Front members?")
    top = ans.passages[ans.citations[0].n - 1]
    assert {top.file, *top.also_in} == {"cnn.txt", "wire.txt"}  # one passage stands for both
    assert ans.comparison and ans.comparison["kind"] == "alike"
    assert ans.text.endswith("Reported alike by 2 outlets: CNN (2022-06-16) and Reuters (2022-06-15) "
                             f"[{ans.citations[0].n}].") or ans.text.endswith(
        "Reported alike by 2 outlets: Reuters (2022-06-15) and CNN (2022-06-16) "
        f"[{ans.citations[0].n}].")
    (corpus / "metadata.jsonl").write_text("")  # outlets unknown: two files are two articles, not two outlets
    engine.sync()
    assert "Reported alike by 2 articles: " in engine.ask("Where did police arrest the Patriot Front members?").text
