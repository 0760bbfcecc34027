import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answer import ABSTAIN_TEXT, MARKER, Answer
from qa.corpus import collapse_ws, original_text
from qa.engine import EMPTY_INDEX, EMPTY_QUESTION, Engine

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ROOT = SEEDS.parent


def test_cited_answer_on_seeds(seeds_engine):
    a = seeds_engine.ask("What share of the world's critical raw materials does Ukraine hold?")
    assert not a.abstained and "5%" in a.text
    assert a.citations and a.citations[0].file == "001_fc8662c004b3d3bf.txt"
    assert "[1]" in a.text or f"[{a.citations[0].n}]" in a.text
    # the citation's span points at the quote in the original file
    c = a.citations[0]
    src = original_text((SEEDS / c.file).read_bytes())
    assert collapse_ws(src[c.start:c.end]) == collapse_ws(c.quote)
    assert a.backend == "extractive"
    assert {"retrieve_ms", "answer_ms", "first_token_ms", "total_ms"} <= set(a.timings)


@pytest.mark.parametrize("question,file,needle", [
    ("How many Ukrainian soldiers has the fighting killed according to Zelenskyy?", "003_e735657bf45baaa7.txt", "45,100"),
    ("Who is Trump's special envoy for Ukraine?", None, "Kellogg"),
    ("What did Kaja Kallas say about the minerals deal?", "001_fc8662c004b3d3bf.txt", "Europeans"),
    # the quote alone does not say who: the sentence before it is added
    ("Who claimed that Zelenskyy has already indicated he will soften his position on land?",
     "002_d89352816586c04e.txt", "Kellogg"),
])
def test_more_seed_questions(seeds_engine, question, file, needle):
    a = seeds_engine.ask(question)
    assert needle in a.text, a.text
    if file:
        assert file in {c.file for c in a.citations}


def test_unanswerable_abstains(seeds_engine):
    a = seeds_engine.ask("What is the boiling point of mercury?")
    assert a.abstained and a.text == ABSTAIN_TEXT and not a.citations


def test_absent_subject_is_named_not_answered(seeds_engine):
    """A question about something no article mentions says so, naming it; nothing nearby is quoted when
    nothing is about the rest of the question."""
    a = seeds_engine.ask("Who won the 2022 FIFA World Cup final?")
    assert a.abstained and a.text == "The articles don't mention FIFA World Cup." and not a.citations
    assert a.premise["absent"] == ["FIFA World Cup"] and a.premise["nowhere"] == ["FIFA World Cup"]
    assert a.passages  # the closest passages are still shown


def test_passages_carry_spans_and_scores(seeds_engine):
    ps = seeds_engine.retrieve("Dmitry Peskov Kremlin comment", k=5)
    assert 1 <= len(ps) <= 5
    for p in ps:
        src = original_text((SEEDS / p.file).read_bytes())
        assert p.start < p.end <= len(src)
        assert p.score > 0 and (p.dense is not None or p.bm25 is not None)
        assert p.title
        a, b = 0, len(p.text)
        s, e = p.file_span(a, b)
        assert (s, e) == (p.start, p.end)
    assert [p.score for p in ps] == sorted((p.score for p in ps), reverse=True)


@pytest.mark.parametrize("question", [
    "What share of the world's critical raw materials does Ukraine hold?",
    "What did Trump say about NATO membership for Ukraine?",
    "Zelensky security guarantees minerals deal investment fund",
    "Who is Yulia Svyrydenko?",
])
def test_no_paragraph_returned_twice(seeds_engine, question):
    ps = seeds_engine.retrieve(question, k=8)
    seen = set()
    for p in ps:
        for line in p.text.split("\n"):
            for sentence in line.split(". "):
                key = collapse_ws(sentence).casefold()
                if len(key) > 40:
                    assert key not in seen, (question, key)
                    seen.add(key)


def test_streaming_and_final_agree(seeds_engine):
    events = list(seeds_engine.ask_stream("Who is Trump's special envoy for Ukraine?"))
    pieces = [e for e in events if isinstance(e, str)]
    assert pieces and isinstance(events[-1], Answer)
    assert "".join(pieces) == events[-1].text


@pytest.mark.parametrize("question,message", [("", EMPTY_QUESTION), ("   \n\t", EMPTY_QUESTION)])
def test_empty_question(seeds_engine, question, message):
    a = seeds_engine.ask(question)
    assert a.message == message and not a.passages and "retrieve_ms" not in a.timings


def test_too_long_question(seeds_engine):
    a = seeds_engine.ask("Why " * 600)
    assert a.message and "too long" in a.message and not a.passages


def test_empty_index_says_how_to_build(tmp_path, settings_for, embedder):
    (tmp_path / "c").mkdir()
    a = Engine(settings_for(tmp_path / "c"), embedder).ask("Anything?")
    assert a.message == EMPTY_INDEX and "qa index" in a.message


def _cli(*args, env_extra=None, cwd=ROOT):
    env = {**os.environ, "HF_HUB_OFFLINE": "1", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "qa", *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)


def test_cli_index_and_ask_json(tmp_path, seeds_copy):
    env = {"QA_INDEX_DIR": str(tmp_path / "idx"), "QA_CORPUS_DIR": str(seeds_copy)}
    (seeds_copy / "bad.txt").write_bytes(b"")
    r = _cli("index", env_extra=env)
    assert r.returncode == 0, r.stderr
    assert "added 5" in r.stdout and "skipped bad.txt: empty file" in r.stdout and "chunks" in r.stdout
    r = _cli("index", env_extra=env)
    assert "added 0, updated 0, removed 0, unchanged 5" in r.stdout
    r = _cli("ask", "--json", "What share of the world's critical raw materials does Ukraine hold?", env_extra=env)
    assert r.returncode == 0, r.stderr
    d = json.loads(r.stdout)
    assert "5%" in d["answer"] and d["backend"] == "extractive"
    c = d["citations"][0]
    assert c["file"] == "001_fc8662c004b3d3bf.txt" and {"start", "end", "quote"} <= set(c)
    assert d["passages"] and {"file", "start", "end", "text", "score"} <= set(d["passages"][0])
    assert d["timings"]["total_ms"] > 0
    r = _cli("ask", "What share of the world's critical raw materials does Ukraine hold?", env_extra=env)
    assert "5%" in r.stdout and "Sources:" in r.stdout and "[1] 001_fc8662c004b3d3bf.txt" in r.stdout
    r = _cli("ask", "  ", env_extra=env)
    assert r.returncode == 1 and "Please type a question" in r.stdout
    # -v logs what the engine did to stderr (here the premise check), and nothing of it on stdout
    r = _cli("-v", "ask", "What does Elon Musk think of the minerals deal?", env_extra=env)
    assert "INFO qa.engine: premise check: the articles do not mention Elon Musk" in r.stderr, r.stderr
    assert "qa.engine" not in r.stdout and "Elon Musk" in r.stdout
    assert "bm25s" not in r.stderr  # other libraries' chatter stays out
    r = _cli("-v", "index", env_extra=env)
    assert "WARNING qa.index: skipped bad.txt: empty file" in r.stderr, r.stderr


def test_settings_from_env_and_toml(tmp_path, monkeypatch):
    from qa.config import load_settings

    cfg = tmp_path / "qa.toml"
    cfg.write_text('top_k = 7\nchunk_size = 100\ncorpus_dir = "articles"\n')
    monkeypatch.setenv("QA_CONFIG", str(cfg))
    monkeypatch.setenv("QA_TOP_K", "3")
    s = load_settings()
    assert s.top_k == 3 and s.chunk_size == 100 and str(s.corpus_dir) == "articles"
    monkeypatch.setenv("QA_CHUNK_SIZE", "250")
    with pytest.raises(ValueError, match="embedder truncates"):
        load_settings()


def test_near_duplicate_articles_collapse(seeds_copy, settings_for, embedder):
    import shutil

    shutil.copyfile(seeds_copy / "001_fc8662c004b3d3bf.txt", seeds_copy / "mirror_of_001.txt")
    engine = Engine(settings_for(seeds_copy), embedder)
    engine.sync()
    r = engine.search("What share of the world's critical raw materials does Ukraine hold?", k=5)
    texts = [collapse_ws(p.text) for p in r.passages]
    assert len(texts) == len(set(texts))
    top = r.passages[0]
    assert {top.file, *top.also_in} == {"001_fc8662c004b3d3bf.txt", "mirror_of_001.txt"}
    assert r.files[:2] == sorted(r.files[:2], key=lambda f: f != top.file)  # the article ranking lists both


def test_passage_cap_per_article(seeds_engine):
    ps = seeds_engine.retrieve("Zelensky Trump minerals deal security guarantees NATO", k=10)
    per_file = {}
    for p in ps:
        per_file[p.file] = per_file.get(p.file, 0) + 1
    assert max(per_file.values()) <= seeds_engine.settings.max_per_file


@pytest.mark.parametrize("question,kind", [
    ("How many soldiers were killed?", "number"),
    ("What percentage of GDP comes from mining?", "number"),
    ("When did Zelenskyy first talk to Trump?", "time"),
    ("In what year did NATO signal a future for Ukraine?", "time"),
    ("Who is the Kremlin spokesman?", "entity"),
    ("Where did Zelenskyy meet JD Vance?", "entity"),
    ("Why did the talks stall?", "other"),
])
def test_answer_type(question, kind):
    from qa.answer import answer_type

    assert answer_type(question) == kind


@pytest.mark.parametrize("question", [
    "Who claimed that Zelenskyy has already indicated he will soften his position on land?",
    "How many Ukrainian soldiers has the fighting killed according to Zelenskyy?",
    "What did Tymofiy Mylovanov write about Putin?",
])
def test_every_citation_points_at_its_quote(seeds_engine, question):
    from qa.corpus import parse, without_removed

    a = seeds_engine.ask(question)
    assert a.citations
    for c in a.citations:
        data = (SEEDS / c.file).read_bytes()
        doc = parse(c.file, data)
        src = original_text(data)
        assert collapse_ws(without_removed(src, doc.removed, c.start, c.end)) == collapse_ws(c.quote)
        for s in a.sentences:
            if c.n in s.cites and not s.text.startswith("It was "):  # the speaker, named for "who …?"
                assert collapse_ws(s.text.rsplit(" [", 1)[0]) in collapse_ws(c.quote)
    if question.startswith("Who claimed"):
        assert a.sentences[0].text == "It was Keith Kellogg [1]."


def test_the_answer_carries_its_article_ranking_and_options(seeds_engine):
    """The shells read the retrieval's article ranking and what the answer ran with from the answer, not
    from a second retrieval or the settings."""
    a = seeds_engine.ask("What share of the world's critical raw materials does Ukraine hold?")
    assert a.ranking[0] == "001_fc8662c004b3d3bf.txt" and len(set(a.ranking)) == len(a.ranking)
    assert {p.file for p in a.passages} <= set(a.ranking)
    assert seeds_engine.search(a.standalone).files == a.ranking
    assert a.to_dict()["ranking"] == a.ranking
    assert a.options == {"k": seeds_engine.settings.top_k, "backend": "extractive", "model": None, "budget": None,
                         "premise_check": True}
    b = seeds_engine.ask("What share of the world's critical raw materials does Ukraine hold?", k=2)
    assert b.options["k"] == 2 and len(b.passages) <= 2 and b.to_dict()["options"] == b.options


def test_extractive_answer_draws_on_each_article(seeds_engine):
    """Where one article says "next week" and another "this Friday", the answer gives both, each cited to its
    article; never a heading or a sentence twice."""
    from qa.answer import is_sentence

    a = seeds_engine.ask("Where are Trump and Zelensky expected to meet?")
    files = {c.file for c in a.citations}
    assert {"000_eb52613fceb0bc2a.txt", "001_fc8662c004b3d3bf.txt"} <= files, a.text
    assert 2 <= len(a.sentences) <= 4
    bodies = [MARKER.sub("", s.text) for s in a.sentences]
    assert all(is_sentence(b) for b in bodies) and len(set(bodies)) == len(bodies)


def test_one_fact_question_keeps_one_sentence(seeds_engine):
    a = seeds_engine.ask("What share of the world's critical raw materials does Ukraine hold?")
    assert len(a.sentences) == 1, a.text
