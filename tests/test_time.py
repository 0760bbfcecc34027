"""Time in questions: relative dates read into a frame, and retrieval that keeps to it (a real index of
short dated articles, the real embedder)."""

from datetime import date

import pytest

from conftest import dated_corpus
from qa.engine import Engine
from qa.timeframe import LAG_DAYS, Frame, frame, read_as, to_date, without_time

AS_OF = "2022-06-16"  # a Thursday
D = date.fromisoformat


@pytest.mark.parametrize("question,near,phrase", [
    ("What happened today in Kyiv?", ("2022-06-16", AS_OF), "today"),
    ("Who resigned yesterday?", ("2022-06-15", AS_OF), "yesterday"),
    ("Police arrested 31 men this week. Where?", ("2022-06-10", AS_OF), "this week"),
    ("What was announced over the past week?", ("2022-06-10", AS_OF), "the past week"),
    ("What happened in the past few days?", ("2022-06-10", AS_OF), "past few days"),
    ("Which bill passed this month?", ("2022-06-01", AS_OF), "this month"),
    ("What record was set this year?", ("2022-01-01", AS_OF), "this year"),
    ("Who won the vote last week?", ("2022-06-06", "2022-06-15"), "last week"),
    ("What did Biden say on Monday?", ("2022-06-13", AS_OF), "on monday"),
    ("What did Biden say on Thursday?", (AS_OF, AS_OF), "on thursday"),
    ("What changed last month?", ("2022-05-01", "2022-06-03"), "last month"),
    ("What did the Fed do in March?", ("2022-03-01", "2022-04-03"), "in March"),
    ("What did the Fed do in Sept. 2021?", ("2021-09-01", "2021-10-03"), "in Sept. 2021"),
    ("What happened in December?", ("2021-12-01", "2022-01-03"), "in December"),  # last December
    ("What has happened since March?", ("2022-03-01", AS_OF), "since March"),
    ("How much aid was sent in 2021?", ("2021-01-01", "2022-01-03"), "in 2021"),
    ("What happened last year?", ("2021-01-01", "2022-01-03"), "last year"),
    ("What is the latest on the strike?", (AS_OF, AS_OF), "latest"),
    ("What did the most recent report find?", (AS_OF, AS_OF), "most recent"),
    ("Who recently joined NATO?", (AS_OF, AS_OF), "recently"),
    ("Who won the election?", None, None),
    ("This may be a question about May Day", None, None),  # "may" is no month unless written May
    ("How much aid will be sent in 2030?", None, None),  # a year after the as-of date is no period
])
def test_relative_dates_as_questions_write_them(question, near, phrase):
    f = frame(question, AS_OF)
    assert f.as_of == D(AS_OF)
    assert f.near == (tuple(D(x) for x in near) if near else None)
    assert f.phrase == phrase
    assert f.recent == (phrase in ("latest", "most recent", "recently"))


def test_a_frame_never_allows_the_future_and_always_allows_the_undated():
    f = frame("What happened this week?", AS_OF)
    assert f.allows("2022-06-09") and f.allows("2022-06-16") and f.allows(None) and f.allows("not a date")
    assert not f.allows("2022-06-17") and not frame("Who won?", AS_OF).allows("2022-06-17")
    assert [f.distance(d) for d in ("2022-06-08", "2022-06-10", "2022-06-16", None)] == [2, 0, 0, None]
    last = frame("What happened last week?", AS_OF)
    assert [last.distance(d) for d in ("2022-06-05", "2022-06-06", "2022-06-15", "2022-06-16", None)] == [1, 0, 0, 1, None]
    assert LAG_DAYS == 3  # reports of a day's events published up to three days later are "of" it
    assert to_date("2022/06/16") == D(AS_OF) and to_date("2022-02-30") is None
    assert Frame(D(AS_OF), (D("2022-06-01"), D("2022-06-30"))).near == (D("2022-06-01"), D(AS_OF))
    assert without_time("What is the latest figure this week?") == "What is the figure ?"
    assert read_as(f.to_dict()) == '"this week": articles up to 2022-06-16, those of 2022-06-10 to 2022-06-16 first'


# four short reports of one story from different days (and one undated), sidecar metadata as RTQA ships it
ARTICLES = {
    "strike_0601.txt": ("Rail workers threatened a strike over pay. The union said 40,000 workers would vote.",
                        "2022-06-01", "AP"),
    "strike_0613.txt": ("Rail workers began a strike over pay on Monday. The union said 45,000 workers walked out.",
                        "2022-06-13", "CNN"),
    "strike_0615.txt": ("The rail strike over pay ended on Wednesday. The union said 45,000 workers returned.",
                        "2022-06-15", "Reuters"),
    "strike_0620.txt": ("A week after the rail strike over pay, the union said 50,000 workers got a raise.",
                        "2022-06-20", "BBC"),
    "strike_notes.txt": ("Notes on the rail strike over pay: the union has 60,000 members in all.", None, None),
}


@pytest.fixture(scope="module")
def dated_engine(tmp_path_factory, embedder):
    from qa.config import load_settings

    base = tmp_path_factory.mktemp("dated")
    corpus = dated_corpus(base / "corpus", ARTICLES)
    engine = Engine(load_settings(corpus_dir=corpus, index_dir=base / "index", top_k=5, max_per_file=1), embedder)
    engine.sync()
    return engine


def _files(engine, question, as_of):
    return [p.file for p in engine.search(question, as_of=as_of).passages]


def test_nothing_published_after_the_as_of_date_is_retrieved(dated_engine):
    for as_of in ("2022-06-01", "2022-06-14", "2022-06-16", "2022-06-30"):
        files = _files(dated_engine, "How many workers joined the rail strike?", as_of)
        dates = {f: ARTICLES[f][1] for f in files}
        assert all(d is None or d <= as_of for d in dates.values()), (as_of, dates)
        assert "strike_notes.txt" in files  # undated: nothing says it is later
    assert set(_files(dated_engine, "How many workers joined the rail strike?", "2022-06-30")) == set(ARTICLES)
    # the as_of setting is the default, and time_aware off uses everything
    later = Engine(dated_engine.settings.model_copy(update={"as_of": date(2022, 6, 2)}), dated_engine.embedder)
    assert set(_files(later, "How many workers joined the rail strike?", None)) == {"strike_0601.txt", "strike_notes.txt"}
    blind = Engine(dated_engine.settings.model_copy(update={"time_aware": False}), dated_engine.embedder)
    assert set(_files(blind, "How many workers joined the rail strike this week?", "2022-06-01")) == set(ARTICLES)


def test_a_named_period_and_latest_order_the_relevant_articles(dated_engine):
    # this week: its reports first, then the nearer in time; the older one still there (it may hold
    # the background a question asks about), nothing later than the as-of day
    files = _files(dated_engine, "How many workers walked out in the rail strike over pay this week?", "2022-06-16")
    assert set(files[:2]) == {"strike_0613.txt", "strike_0615.txt"} and files[2] == "strike_0601.txt"
    assert "strike_0620.txt" not in files
    # "latest": the newest relevant article first, and the answer says how recent it is
    question = "How many workers did the union say were in the rail strike over pay most recently?"
    blind = Engine(dated_engine.settings.model_copy(update={"time_aware": False}), dated_engine.embedder)
    assert blind.search(question).passages[0].file == "strike_0613.txt"  # relevance alone
    assert [p.file for p in dated_engine.search(question, as_of="2022-06-16").passages][:3] == [
        "strike_0615.txt", "strike_0613.txt", "strike_0601.txt"]  # newest first, the undated after
    latest = dated_engine.ask(question, as_of="2022-06-30", backend="extractive")
    assert latest.passages[0].file == "strike_0620.txt"
    assert latest.when["near"] == ["2022-06-30", "2022-06-30"] and latest.when["phrase"] == "most recently"
    assert "50,000" in latest.text and "Most recent article cited: BBC, 2022-06-20." in (latest.notice or "")


def test_a_period_with_no_article_says_so(dated_engine):
    a = dated_engine.ask("How many workers walked out in the rail strike over pay today?", as_of="2022-06-25",
                         backend="extractive")
    assert a.when["empty"] and a.when["near"] == ["2022-06-25", "2022-06-25"]
    assert "No article was published today (2022-06-25 to 2022-06-25)" in (a.notice or "")
    used = {p.file: (p.outlet, p.date) for p in a.passages}
    assert used and all(v == (ARTICLES[f][2], ARTICLES[f][1]) for f, v in used.items())
    assert not dated_engine.ask("How many workers walked out in the rail strike over pay this week?",
                                as_of="2022-06-16", backend="extractive").when["empty"]


def test_eval_questions_are_asked_as_of_their_date_and_report_outlets(dated_engine):
    from qa.evaluate import cited_sources, parse_question, run

    q = parse_question({"id": "q1", "question": "How many workers walked out in the rail strike over pay this week?",
                        "answer": "45,000", "question_date": "2022/06/16", "evidence_files": ["strike_0613.txt"]})
    assert q.as_of == "2022/06/16"
    with pytest.raises(ValueError, match="not a date"):
        parse_question({"question": "x", "answer": "y", "question_date": "June-ish"})
    [item] = run(dated_engine, [q], backend="extractive")
    assert item.when["as_of"] == "2022-06-16" and item.when["near"] == ["2022-06-10", "2022-06-16"]
    assert "strike_0620.txt" not in item.retrieved_files
    for p in item.passages:
        assert (p["outlet"], p["date"]) == (ARTICLES[p["file"]][2], ARTICLES[p["file"]][1])
    assert "45,000" in item.answer and item.sources == [
        {"n": 1, "file": "strike_0613.txt", "outlet": "CNN", "date": "2022-06-13"}]
    assert cited_sources(item.__dict__) == "[1] CNN, 2022-06-13 · strike_0613.txt"  # what report.md lists
