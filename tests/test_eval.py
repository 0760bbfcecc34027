import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qa import evaluate
from qa.chat import Turn, condense, entities, is_follow_up

ROOT = Path(__file__).resolve().parent.parent


def test_loader_reads_both_formats(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(json.dumps(d) for d in [
        {"id": "a", "type": "fact", "question": "Q?", "answers": ["x", "re:y+"], "gold_files": ["f.txt"]},
        {"id": "b", "type": "unanswerable", "question": "U?", "answers": [], "gold_files": []},
        {"id": "c", "type": "conversation", "turns": [
            {"question": "T1?", "answers": ["1"], "gold_files": ["f.txt"]},
            {"question": "T2?", "answers": ["2"], "gold_files": ["g.txt"]}]},
        {"id": "rtqa-1", "question": "Where?", "answer": "Idaho", "choices": ["Idaho", "Texas"],
         "evidence_files": ["rtqa_0013.txt"], "question_type": "where"},
    ]) + "\n\n")
    qs = evaluate.load_questions(f)
    assert [q.type for q in qs] == ["fact", "unanswerable", "conversation", "where"]
    assert qs[0].answers == ["x", "re:y+"] and not qs[1].answerable
    assert [t.id for t in qs[2].turns] == ["c#1", "c#2"] and qs[2].turns[1].gold_files == ["g.txt"]
    assert qs[3].answers == ["Idaho"] and qs[3].choices == ["Idaho", "Texas"] and qs[3].gold_files == ["rtqa_0013.txt"]


def test_loader_rejects_duplicate_ids(tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text('{"id": "a", "question": "Q?", "answers": ["x"]}\n{"id": "a", "question": "R?", "answers": ["y"]}\n')
    with pytest.raises(ValueError, match="duplicate id"):
        evaluate.load_questions(f)


def test_seeds_set_is_well_formed():
    qs = evaluate.load_questions(ROOT / "eval" / "seeds.jsonl")
    types = [q.type for q in qs]
    assert len(qs) >= 60 and types.count("unanswerable") >= 10
    assert types.count("conversation") >= 5 and types.count("multi-source") >= 5
    seeds = {p.name for p in (ROOT / "seeds").iterdir()}
    for q in qs:
        for t in q.turns or [q]:
            assert set(t.gold_files) <= seeds
            assert bool(t.answers) == (q.type != "unanswerable")


def test_follow_up_rewriting():
    assert not is_follow_up("What share of the world's critical raw materials does Ukraine hold?")
    assert is_follow_up("What did he say about NATO?") and is_follow_up("And the Kremlin?")
    assert entities("Yet Tymofiy Mylovanov, a former minister, met Keith Kellogg.") == ["Tymofiy Mylovanov", "Keith Kellogg"]
    history = [Turn("Who is Keith Kellogg?", "Who is Keith Kellogg?", "Keith Kellogg is Trump's special envoy. [1]")]
    q2 = condense("What did he say about Zelenskyy's position on land?", history)
    assert "Kellogg" in q2 and q2.startswith("What did he say")
    history.append(Turn("What did he say about Zelenskyy's position on land?", q2, "He will soften. [1]"))
    q3 = condense("And about Putin?", history)
    assert "Kellogg" in q3 and "land" in q3
    h = [Turn("What did Kaja Kallas say about the deal?", "What did Kaja Kallas say about the deal?", "Kallas said so. [1]")]
    q = condense("And Denys Shmyhal?", h)
    assert "deal" in q and "Kallas" not in q  # the new name replaces the old one
    assert condense("Who is Dmitry Peskov?", h) == "Who is Dmitry Peskov?"  # not a follow-up
    h = [Turn("Who is the Kremlin spokesman quoted about Trump's minerals proposal?", "Who is the Kremlin spokesman "
              "quoted about Trump's minerals proposal?", "Dmitry Peskov. [1]")]
    q = condense("What did he say the proposal shows?", h)
    from qa.facts import facts
    assert "Kremlin Trump" not in [f.text for f in facts(q)], q  # carried names stay apart


def test_conversation_uses_history(seeds_engine):
    first = seeds_engine.ask("Which Japanese leader did Trump meet on February 7?")
    assert "Ishiba" in first.text
    history = [Turn(first.question, first.standalone, first.text)]
    follow = seeds_engine.ask("What did Trump say there about Zelensky?", history=history)
    assert follow.standalone != follow.question and "might meet" in follow.text
    assert follow.citations[0].file == "000_eb52613fceb0bc2a.txt"


def test_report_files_and_compare(seeds_engine, tmp_path):
    f = tmp_path / "q.jsonl"
    f.write_text("\n".join(json.dumps(d) for d in [
        {"id": "a", "type": "fact", "question": "What share of the world's critical raw materials does Ukraine hold?",
         "answers": ["re:5 ?%"], "gold_files": ["001_fc8662c004b3d3bf.txt"]},
        {"id": "b", "type": "unanswerable", "question": "What is the boiling point of mercury?", "answers": [], "gold_files": []},
        {"id": "c", "type": "fact", "question": "Who is Trump's special envoy for Ukraine?", "answers": ["Nobody Atall"],
         "gold_files": ["002_d89352816586c04e.txt"], "choices": ["Keith Kellogg", "Nobody Atall"]},
    ]) + "\n")
    rep = evaluate.evaluate(seeds_engine, f, name="tiny", progress=False)
    o = rep["overall"]
    assert o["questions"] == 3 and o["accuracy"] == pytest.approx(2 / 3)
    assert o["hit@1"] == 1.0 and o["abstention_recall"] == 1.0 and o["mc_accuracy"] == 0.0
    out = evaluate.write(rep, tmp_path / "reports")
    assert (out / "report.json").exists() and (out / "accuracy_by_type.png").stat().st_size > 1000
    assert (out / "latency.png").stat().st_size > 1000
    md = (out / "report.md").read_text()
    assert "## Failures (1)" in md and "Nobody Atall" in md and "| fact |" in md
    rep2 = json.loads((out / "report.json").read_text())
    rep2["overall"]["accuracy"] = 1.0
    other = tmp_path / "b.json"
    other.write_text(json.dumps(rep2))
    text = evaluate.compare(out, other)
    assert "accuracy" in text and "+0.333" in text


def test_ci_gate_on_seeds(tmp_path):
    """`make test` fails when a headline metric of the seeds set falls below the committed thresholds."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "QA_INDEX_DIR": str(tmp_path / "index")}
    r = subprocess.run(
        [sys.executable, "-m", "qa", "eval", "eval/seeds.jsonl", "--backend", "extractive", "-q",
         "--reports", str(tmp_path / "reports"), "--gate", "eval/thresholds.json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    print(r.stdout)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gate passed" in r.stdout
    reports = list((tmp_path / "reports").iterdir())
    assert len(reports) == 1 and (reports[0] / "report.md").exists()


def test_eval_on_another_corpus_leaves_the_main_index(tmp_path, monkeypatch, seeds_copy, capsys):
    from qa.cli import main
    from qa.config import load_settings
    from qa.engine import Engine

    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "index"))
    monkeypatch.setenv("QA_CORPUS_DIR", str(seeds_copy))
    assert main(["index", "-q"]) == 0
    other = tmp_path / "other"
    other.mkdir()
    (other / "a.txt").write_text("Lithium Weekly\nThe lithium mine in Shevchenko opened on Monday.\n")
    q = tmp_path / "q.jsonl"
    q.write_text(json.dumps({"id": "a", "question": "When did the lithium mine in Shevchenko open?",
                             "answers": ["Monday"], "gold_files": ["a.txt"]}) + "\n")
    assert main(["eval", str(q), "--corpus", str(other), "-q", "--reports", str(tmp_path / "r")]) == 0
    assert re.search(r"^  accuracy +1\.000$", capsys.readouterr().out, re.M)
    main_files = [f["file"] for f in Engine(load_settings()).index.files()]
    assert len(main_files) == 5 and "a.txt" not in main_files


def _passage(n: int, file: str, text: str):
    from qa.schema import Passage

    return Passage(f"p{n}", file, "Title", text, 0, len(text), 0, len(text))


def test_facets_count_only_where_a_sentence_that_states_them_cites_their_article():
    from qa.schema import Answer, AnswerSentence

    q = evaluate.parse_question({
        "id": "m", "type": "multi-source", "question": "When will they meet, and is it set?", "answers": [],
        "kind": "disagree", "polarity": "no", "gold_files": ["a.txt", "b.txt"],
        "facets": [{"file": "a.txt", "fact": "might meet next week", "any": ["next week"]},
                   {"file": "b.txt", "fact": "scheduled for Friday", "any": ["Friday", ["this", "Friday"]]}],
        "disagreement": {"about": "when", "sides": [{"file": "a.txt"}, {"file": "b.txt"}]}})
    assert q.answerable
    ps = [_passage(1, "a.txt", "He might meet him next week."), _passage(2, "b.txt", "They meet this Friday.")]
    # "Friday" stated, but cited to the wrong article: not covered
    one = Answer(q.question, "x", passages=ps, sentences=[
        AnswerSentence("They might meet next week [1].", [1]), AnswerSentence("They meet on Friday [1].", [1])])
    m, facets = evaluate.facet_metrics(q, one)
    assert (m["facets"], m["facets_covered"], m["whole"], m["disagreement_shown"]) == (2, 1, 0.0, 0.0)
    assert [f["covered"] for f in facets] == [True, False] and m["polarity_error"] == 0.0
    both = Answer(q.question, "Yes, they meet.", passages=ps, sentences=[
        AnswerSentence("Yes, they might meet next week [1].", [1]), AnswerSentence("They meet this Friday [2].", [2])])
    m, _ = evaluate.facet_metrics(q, both)
    assert m["whole"] == 1.0 and m["disagreement_shown"] == 1.0
    assert m["polarity_error"] == 1.0  # "Yes" where the articles say not yet
    declined = Answer(q.question, "The articles don't say.", passages=ps, abstained=True,
                      sentences=[AnswerSentence("They meet this Friday [2].", [2])])
    assert evaluate.facet_metrics(q, declined)[0]["facets_covered"] == 0


def test_multi_source_sets_are_well_formed():
    """Each question of the multi-source sets needs two or more articles, each contributing a facet."""
    for name in ("multi-seeds.jsonl", "multi-rtqa.jsonl"):
        qs = evaluate.load_questions(ROOT / "eval" / name)
        assert len(qs) >= 20
        for q in qs:
            assert len(set(q.gold_files)) >= 2 and {f["file"] for f in q.facets} >= set(q.gold_files), q.id
            assert q.kind in ("facts", "yesno", "disagree"), q.id
            assert (q.polarity in ("yes", "no")) == (q.kind == "yesno"), q.id
            assert bool(q.disagreement) == (q.kind == "disagree"), q.id
    seeds = {p.name for p in (ROOT / "seeds").glob("*.txt")}
    assert all(f["file"] in seeds for q in evaluate.load_questions(ROOT / "eval" / "multi-seeds.jsonl")
               for f in q.facets)
