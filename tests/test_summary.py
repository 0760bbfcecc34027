"""Whole-article questions: retrieval limited to one article, and summaries of 3-5 cited sentences chosen to
cover the article (extractive), or written from them and verified (local LLM)."""

import numpy as np
import pytest

from qa.summary import asks_for_summary, candidates, cover, how_many

SEED_FILES = ["000_eb52613fceb0bc2a.txt", "001_fc8662c004b3d3bf.txt", "002_d89352816586c04e.txt",
              "003_e735657bf45baaa7.txt", "004_b7d7290862e495a3.txt"]


@pytest.mark.parametrize("q,whole", [
    ("Summarise this article", True), ("summarize it", True), ("Summary", True), ("TL;DR", True),
    ("Give me a summary of the piece.", True), ("What is this story about?", True), ("what does the article say?", True),
    ("What does this piece say about NATO?", False), ("Summarise the talks with Russia", False), ("who wrote it?", False),
])
def test_what_asks_for_the_whole_article(q, whole):
    assert asks_for_summary(q) == whole


def test_cover_picks_one_sentence_per_topic_not_the_first_lines():
    """Hand-checked: six sentences on one topic, then two on a second, two on a third: three picks take
    one from each topic, the centre of the first, not its opening lines."""
    rng = np.random.default_rng(0)
    topics = np.eye(8)[:3]
    rows = [topics[0]] * 6 + [topics[1]] * 2 + [topics[2]] * 2
    v = np.array(rows) + 0.05 * rng.standard_normal((10, 8))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    picked = cover(v, 3)
    assert len(picked) == 3 and picked == sorted(picked)
    assert sum(i < 6 for i in picked) == 1 and sum(6 <= i < 8 for i in picked) == 1 and sum(i >= 8 for i in picked) == 1
    assert cover(v[:2], 3) == [0, 1]
    assert [how_many(n) for n in (1, 20, 32, 40, 400)] == [3, 3, 4, 5, 5]


@pytest.mark.parametrize("file", SEED_FILES)
def test_article_scoped_retrieval_never_leaves_the_article(seeds_engine, file):
    for q in ("What share of the world's critical raw materials does Ukraine hold?", "Who is Keith Kellogg?",
              "rare earth minerals deal", "What did the Japanese Prime Minister say?"):
        found = seeds_engine.search(q, k=8, article=file)
        assert found.passages and {p.file for p in found.passages} == {file}
        a = seeds_engine.ask(q, backend="extractive", article=file)
        assert all(c.file == file for c in a.citations) and all(p.file == file for p in a.passages)


def test_a_question_about_one_article_is_answered_from_it(seeds_engine):
    q = "What share of the world's critical raw materials does Ukraine hold?"
    assert seeds_engine.ask(q, backend="extractive").citations[0].file == "001_fc8662c004b3d3bf.txt"
    scoped = seeds_engine.ask(q, backend="extractive", article="004_b7d7290862e495a3.txt")
    assert all(c.file == "004_b7d7290862e495a3.txt" for c in scoped.citations)
    missing = seeds_engine.ask("Summarise", backend="extractive", article="nope.txt")
    assert missing.message and "nope.txt is not in the index" in missing.message


@pytest.mark.parametrize("file", SEED_FILES)
def test_extractive_summary_cites_its_article_throughout(seeds_engine, file):
    a = seeds_engine.ask("Summarise this article", backend="extractive", article=file)
    doc = seeds_engine.article(file)
    assert not a.abstained and 3 <= len(a.sentences) <= 5
    assert len(a.citations) == len(a.sentences) and all(c.file == file for c in a.citations)
    spans = [(c.start, c.end) for c in a.citations]
    assert spans == sorted(spans)  # in article order
    for s, c in zip(a.sentences, a.citations):
        assert s.cites == [c.n] and c.quote in doc.text and c.quote in s.text
    # coverage, not the first lines
    starts = [a for a, _ in candidates(doc)]
    picked = [starts.index(doc.clean_span(c.start, c.end)[0]) for c in a.citations]
    assert picked != list(range(len(picked)))
    REACH[file] = picked[-1] >= len(starts) / 2


REACH: dict[str, bool] = {}


def test_summaries_reach_across_their_articles():
    """Most seed summaries (hand-checked: all but the short 000) draw on the second half of the article."""
    assert len(REACH) == len(SEED_FILES) and sum(REACH.values()) >= 4


def test_local_llm_summary_is_written_and_verified(seeds_engine):
    from qa.llm import smollm_path
    from qa.engine import Engine

    engine = Engine(seeds_engine.settings.model_copy(update={"llm_model": smollm_path(), "llm_max_tokens": 48}),
                    seeds_engine.embedder)
    file = "001_fc8662c004b3d3bf.txt"
    pieces, final = [], None
    for ev in engine.ask_stream("Summarise this article", backend="local", article=file):
        if isinstance(ev, str):
            pieces.append(ev)
        else:
            final = ev
    assert final is not None and pieces
    assert final.backend.startswith("local")
    assert final.draft  # written by the model, then verified sentence by sentence
    assert all(p.file == file for p in final.passages) and all(c.file == file for c in final.citations)
    if not final.abstained:
        assert final.sentences and all(s.supported is not None for s in final.sentences)
