"""Generative backends on the real path: llama.cpp with the small SmolLM2 model, and llama.cpp's own
OpenAI-compatible server."""

import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from qa.answer import Answer
from qa.chat import Turn
from qa.config import load_settings
from qa.engine import Engine
from qa.llm import ModelError, smollm_path
from qa.verify import Verifier

from conftest import running

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="module")
def smol():
    return smollm_path()


@pytest.fixture(scope="module")
def local_engine(tmp_path_factory, embedder, smol):
    s = load_settings(corpus_dir=SEEDS, index_dir=tmp_path_factory.mktemp("llm") / "index", backend="local",
                      llm_model=smol, llm_fallback=False, llm_max_tokens=48)
    e = Engine(s, embedder)
    e.sync()
    return e


def test_streaming_pieces_then_final_answer(local_engine):
    events = list(local_engine.ask_stream("What share of the world's critical raw materials does Ukraine hold?"))
    pieces = [e for e in events if isinstance(e, str)]
    final = events[-1]
    assert isinstance(final, Answer) and all(isinstance(e, str) for e in events[:-1])
    assert len(pieces) >= 2  # token by token, not one block
    assert final.backend == "local:SmolLM2-135M-Instruct.Q4_1.gguf"
    assert final.options["model"] == final.backend and final.options["budget"] == local_engine.settings.llm_budget
    assert final.passages and final.timings["first_token_ms"] <= final.timings["total_ms"]
    assert final.timings["evidence_tokens"] <= local_engine.settings.llm_budget + 80
    if not final.abstained:
        assert final.sentences and all(s.supported in (True, False) for s in final.sentences)


def test_citations_resolved_invalid_dropped_unsupported_flagged(seeds_engine, embedder):
    passages = seeds_engine.retrieve("What share of the world's critical raw materials does Ukraine hold?", k=3)
    assert passages[0].file == "001_fc8662c004b3d3bf.txt"
    text = ("Estimates suggest Ukraine holds about 5% of the world's critical raw materials [1]. "
            "It also owns 90% of the Moon [1]. Nobody cites this sentence. "
            "Ukraine possesses significant natural resources [1][7].")
    v = Verifier(embedder, 0.55).verify(text, passages)
    assert v.invalid_markers == 1 and "[7]" not in v.text
    s = {x.text.split(" [")[0].rstrip("."): x for x in v.sentences}
    assert s["Estimates suggest Ukraine holds about 5% of the world's critical raw materials"].supported is True
    # the passage's hedge ("with estimates suggesting") dropped: unsupported (eval/LABELS.md, R3)
    bare = Verifier(embedder, 0.55).verify("Ukraine holds about 5% of the world's critical raw materials [1].", passages)
    assert bare.sentences[0].supported is False and any("hedge" in i for i in bare.sentences[0].issues)
    assert s["It also owns 90% of the Moon"].supported is False  # a number its source does not have
    assert s["Nobody cites this sentence"].supported is False and s["Nobody cites this sentence"].cites == []
    assert s["Ukraine possesses significant natural resources"].supported is True
    c = v.citations[0]
    assert c.n == 1 and c.file == "001_fc8662c004b3d3bf.txt" and "5%" in c.quote
    src = (SEEDS / c.file).read_text(encoding="utf-8")
    assert "5%" in src[c.start:c.end]


def test_marker_after_full_stop_belongs_to_that_sentence(seeds_engine, embedder):
    passages = seeds_engine.retrieve("Who is Trump's special envoy for Ukraine?", k=3)
    v = Verifier(embedder).verify("Keith Kellogg is Trump's special envoy for Ukraine. [1] That is all.", passages)
    assert v.sentences[0].cites == [1] and v.sentences[1].cites == []


def test_follow_up_rewritten_by_the_llm(local_engine):
    first = local_engine.ask("Who is Trump's special envoy for Ukraine?")
    history = [Turn(first.question, first.standalone or first.question, first.text)]
    follow = local_engine.ask("What did he say about Putin?", history=history)
    assert follow.standalone and follow.standalone != follow.question  # rewritten before retrieval
    assert follow.passages


def test_bad_model_path_is_one_clear_error(tmp_path, seeds_copy, embedder):
    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="local",
                      llm_model=tmp_path / "missing.gguf", llm_fallback=False)
    with pytest.raises(ModelError, match="QA_LLM_MODEL"):
        Engine(s, embedder).answerer()
    (tmp_path / "fake.gguf").write_bytes(b"not a model")
    s = s.model_copy(update={"llm_model": tmp_path / "fake.gguf"})
    with pytest.raises(ModelError, match="not a GGUF"):
        Engine(s, embedder).answerer()


def test_bad_model_falls_back_to_extractive_and_says_so(tmp_path, seeds_copy, embedder, caplog):
    """The fallback is shown in the answer and logged with its reason."""
    import logging

    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="local",
                      llm_model=tmp_path / "missing.gguf", llm_fallback=True)
    e = Engine(s, embedder)
    e.sync()
    with caplog.at_level(logging.WARNING, logger="qa"):
        a = e.ask("What share of the world's critical raw materials does Ukraine hold?")
    assert a.backend == "extractive (fallback)" and "QA_LLM_MODEL" in a.notice and "5%" in a.text
    assert any(r.name == "qa.engine" and r.levelno == logging.WARNING and "QA_LLM_MODEL" in r.getMessage()
               for r in caplog.records), caplog.records


@pytest.fixture(scope="module")
def llama_server(smol, free_port):
    port = free_port()
    import httpx

    def ready() -> bool:
        try:
            return httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(smol), "--model_alias", "smol",
           "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", "2"]
    with running(cmd, ready, "llama_cpp.server", timeout=120):
        yield f"http://127.0.0.1:{port}/v1"


def test_openai_compatible_server_backend(llama_server, tmp_path, seeds_copy, embedder):
    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="server", llm_url=llama_server,
                      llm_name="smol", llm_fallback=False, llm_max_tokens=40)
    e = Engine(s, embedder)
    e.sync()
    events = list(e.ask_stream("Who is Trump's special envoy for Ukraine?"))
    final = events[-1]
    assert isinstance(final, Answer) and final.backend == f"server:smol@{llama_server}"
    assert len([x for x in events if isinstance(x, str)]) >= 2
    assert final.text


def test_unknown_model_name_names_the_setting(llama_server, tmp_path, seeds_copy, embedder):
    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="server", llm_url=llama_server,
                      llm_name="no-such-model", llm_fallback=False)
    with pytest.raises(ModelError, match="QA_LLM_NAME"):
        Engine(s, embedder).answerer()


def test_unreachable_server_is_a_clear_error(tmp_path, seeds_copy, embedder, free_port):
    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="server",
                      llm_url=f"http://127.0.0.1:{free_port()}/v1", llm_fallback=False)
    with pytest.raises(ModelError, match="cannot reach the LLM server.*QA_LLM_URL"):
        Engine(s, embedder).answerer()


def test_silent_server_times_out(tmp_path, seeds_copy, embedder):
    """A server that accepts connections but never answers must not hang the question."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    port = srv.getsockname()[1]
    conns = []
    stop = threading.Event()

    def accept():
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conns.append(srv.accept()[0])
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    try:
        s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="server",
                          llm_url=f"http://127.0.0.1:{port}/v1", llm_timeout=2, llm_fallback=False)
        t0 = time.perf_counter()
        with pytest.raises(ModelError, match="QA_LLM_URL"):
            Engine(s, embedder).answerer()
        assert time.perf_counter() - t0 < 10
    finally:
        stop.set()
        t.join()
        for c in conns:
            c.close()
        srv.close()


def test_llm_judged_faithfulness_is_optional_and_labelled(local_engine, tmp_path, seeds_copy, embedder):
    import json

    from qa import evaluate

    f = tmp_path / "q.jsonl"
    f.write_text(json.dumps({"id": "a", "type": "fact", "question": "Which Russian news agency did Alexey Polishchuk speak to?",
                             "answers": ["TASS"], "gold_files": ["002_d89352816586c04e.txt"]}) + "\n")
    rep = evaluate.evaluate(local_engine, f, progress=False, judge=True)
    v = rep["overall"]["judged_faithfulness (LLM-judged)"]
    assert v is None or 0.0 <= v <= 1.0
    assert "judged_faithfulness" not in evaluate.evaluate(local_engine, f, progress=False)["overall"]
    # without an LLM there is no judge, and the error says which setting to change
    s = load_settings(corpus_dir=seeds_copy, index_dir=tmp_path / "i", backend="local",
                      llm_model=tmp_path / "missing.gguf", llm_fallback=True)
    e = Engine(s, embedder)
    e.sync()
    with pytest.raises(ModelError, match="QA_"):
        evaluate.evaluate(e, f, progress=False, judge=True)


def test_figures_are_numbers_not_names():
    from qa.verify import _numbers

    assert _numbers("Covid-19 and BA.5 reached G7 and 5G markets") == set()
    assert _numbers("It rose to $5.02 on June 14, up 4,000 from three years ago.") == {"5.02", "14", "4000", "3"}
    assert _numbers("one of the two states") == set()  # "one" and "two" rarely state a figure


def test_title_tells_the_verifier_what_it_is(embedder):
    """A passage that says "the nation" supports a sentence naming the country its article's headline names:
    the headline is part of the article and shown with the citation."""
    from types import SimpleNamespace

    text = "The South Asian nation of 22 million has entered the talks with the IMF as a bankrupt country, the prime minister said."
    s = "Sri Lanka is bankrupt, its prime minister said."
    v = Verifier(embedder, 0.48)
    titled = v._support(s, [SimpleNamespace(title="Sri Lanka is bankrupt, prime minister says", text=text)])[0]
    untitled = v._support(s, [SimpleNamespace(title="", text=text)])[0]
    assert untitled < v.threshold <= titled
    assert v.supported(v.check(s, [SimpleNamespace(title="Sri Lanka is bankrupt, prime minister says", text=text)]))
    assert "Sri Lanka" in v.check(s, [SimpleNamespace(title="", text=text)]).missing


Q_SHARE = "What share of the world's critical raw materials does Ukraine hold?"


def _saying(engine, reply: str, above: float, max_tokens: int):
    """The small model made to say ``reply``, with the abstain threshold set ``above`` the support of the
    evidence for Q_SHARE (weak evidence when positive) and the lower threshold under it."""
    from qa.answer import ExtractiveAnswerer, evidence_support
    from qa.llm import GenerativeAnswerer

    base = engine.answerer("local")
    passages = engine.retrieve(Q_SHARE)
    support = evidence_support(base.scorer.score(Q_SHARE, passages, None))
    scorer = ExtractiveAnswerer(base.scorer.embedder, base.scorer._lexical, support + above)
    ans = GenerativeAnswerer(base.gen, scorer, base.verifier, base.budget, max_tokens, low=support - 0.1)
    ans.messages = lambda question, ev: [
        {"role": "system", "content": "You repeat text."},
        {"role": "user", "content": f"Repeat exactly this sentence and nothing else: {reply}"}]
    return ans, passages


@pytest.mark.parametrize("band", ["strong", "weak"])
def test_a_refusal_stands_only_on_weak_evidence(local_engine, band):
    """The small model made to refuse. Strong evidence: a refusal is overruled by the best supported
    sentences (labelled). Weak evidence (between the two thresholds): the refusal stands and it abstains."""
    base = local_engine.answerer("local")
    ans, passages = _saying(local_engine, "I cannot find the answer.", 0.05 if band == "weak" else -0.05, 24)
    events = list(ans.stream(Q_SHARE, passages))
    final = events[-1]
    if band == "strong":
        assert not final.abstained and "declined" in final.backend and "5%" in final.text
        assert final.notice and "declined" in final.notice
    else:
        assert final.abstained and final.backend == base.name
        assert "cannot find" in "".join(e for e in events if isinstance(e, str))  # the refusal, streamed


@pytest.mark.parametrize("reply,shown", [
    ("Ukraine holds about 5% of the world's critical raw materials [1].", True),
    ("Ukraine owns 77% of the Moon's craters [1].", False),
])
def test_weak_evidence_answer_shown_only_when_verified(local_engine, reply, shown):
    """Between the two thresholds the answer is held until verified: a supported one is shown, an
    unsupported guess becomes "the articles don't say" with the draft in the notice."""
    ans, passages = _saying(local_engine, reply, 0.05, 40)
    events = list(ans.stream(Q_SHARE, passages))
    pieces, final = [e for e in events if isinstance(e, str)], events[-1]
    assert len(pieces) == 1  # held until verified, then shown at once
    if shown:
        assert not final.abstained and "5%" in final.text and final.sentences[0].supported
    else:
        assert final.abstained and pieces[0] == final.text == "The articles don't say."
        assert final.notice and "Moon" in final.notice


def test_verifier_agrees_with_hand_labels(embedder):
    """eval/verify-labels.jsonl: answer sentences the local 1.5B model wrote on the seeds sets, with the passages
    they cited and a label given by reading them. The verifier (grounding, attribution, support) must keep
    catching the unsupported ones it catches today without flagging more supported ones: a regression
    test at the measured figures (qa bench verify prints them)."""
    import json

    from qa.bench import article_reader, verifier_agreement

    rows = [json.loads(line) for line in (Path(__file__).resolve().parent.parent / "eval" / "verify-labels.jsonl")
            .read_text(encoding="utf-8").splitlines() if line.strip()]
    doc = article_reader([SEEDS])
    v = Verifier(embedder, load_settings().verify_threshold, lambda f: doc(f).text)
    a = verifier_agreement(v, rows)
    assert a["rows"] >= 200 and a["unsupported"] >= 40, a
    assert a["recall"] >= RECALL_FLOOR and a["precision"] >= PRECISION_FLOOR, a


# measured on eval/verify-labels.jsonl relabelled under eval/LABELS.md (432 rows, 167 not supported, 43 of them
# no_answer): recall 0.569, precision 0.905 with the polarity rules (0.527, 0.936 before them), minus a little
RECALL_FLOOR, PRECISION_FLOOR = 0.54, 0.88


Q_ASSETS = "Who said they have underground assets?"


def _forced(engine, question: str, reply: str):
    """The small model made to say ``reply`` on the real evidence for ``question`` (strong evidence)."""
    from qa.answer import ExtractiveAnswerer, evidence_support
    from qa.llm import GenerativeAnswerer

    base = engine.answerer("local")
    passages = engine.retrieve(question)
    support = evidence_support(base.scorer.score(question, passages, None))
    scorer = ExtractiveAnswerer(base.scorer.embedder, base.scorer._lexical, min(support - 0.01, base.scorer.threshold),
                                article_text=engine.article_text)
    ans = GenerativeAnswerer(base.gen, scorer, base.verifier, base.budget, 60, low=support - 0.1)
    ans.messages = lambda q, ev: [
        {"role": "system", "content": "You repeat text."},
        {"role": "user", "content": f"Repeat exactly this sentence and nothing else: {reply}"}]
    return ans, passages


def test_fabricated_attribution_caught_and_repaired(local_engine):
    """The model made to put Trump's words in Zelensky's mouth: the verifier finds who the article says spoke
    ("…," Trump stated, two sentences on), and the shipped answer names Trump; the change is listed."""
    ans, passages = _forced(local_engine, Q_ASSETS, "Zelensky said they have underground assets [1].")
    passages = [p for p in passages if "underground assets" in p.text]  # [1] is the passage with the quote
    final = list(ans.stream(Q_ASSETS, passages))[-1]
    assert final.draft and "Zelensky" in final.draft
    assert "Zelensky said" not in final.text and "Trump" in final.text, final.text
    assert final.repairs and final.repairs[0]["kind"] in ("attribution", "rewritten")
    assert any("Trump" in w for w in final.repairs[0]["why"]), final.repairs
    assert all(s.supported for s in final.sentences)


def test_wrong_figure_caught_and_repaired(local_engine):
    """The model made to state a figure its passage does not give: the sentence does not ship as written;
    the answer gives the passage's figure, and says what was changed."""
    ans, passages = _forced(local_engine, Q_SHARE, "Ukraine holds about 12% of the world's critical raw materials [1].")
    final = list(ans.stream(Q_SHARE, passages))[-1]
    assert "12%" in final.draft and "12%" not in final.text and "5%" in final.text, final.text
    assert final.repairs and "12%" in final.repairs[0]["before"] and "12%" in " ".join(final.repairs[0]["why"])
    assert not final.abstained and all(s.supported for s in final.sentences)


def test_dropped_hedge_shipped_in_the_sources_words(local_engine):
    """The model made to drop the passage's "about" from a figure: the sentence is replaced by the passage's
    own sentence, cited, and the change is listed as a quote."""
    ans, passages = _forced(local_engine, Q_SHARE, "Ukraine holds 5% of the world's critical raw materials [1].")
    final = list(ans.stream(Q_SHARE, passages))[-1]
    assert "about" not in final.draft and "about 5%" in final.text, final.text
    assert final.repairs and final.repairs[0]["kind"] == "quoted", final.repairs
    assert "lower bound" not in " ".join(final.repairs[0]["why"]) and "an estimate" in " ".join(final.repairs[0]["why"])
    assert not final.abstained and all(s.supported for s in final.sentences) and final.citations


def test_false_premise_declined_before_the_llm(local_engine):
    """Every backend: a question about someone the articles never mention is not sent to the model."""
    a = local_engine.ask("What does Elon Musk think of the minerals deal?")
    assert a.abstained and a.text.startswith("The articles don't mention Elon Musk.") and a.draft is None
    assert a.backend.startswith("local:")


def test_a_paraphrase_ships_in_its_sources_words(local_engine):
    """The model made to say "owns" where its source says "holds", and without the source's "estimates
    suggesting": the source's own sentence with the same answer ships, and the change is listed."""
    ans, passages = _forced(local_engine, Q_SHARE, "Ukraine owns about 5% of the world's critical raw materials [1].")
    final = list(ans.stream(Q_SHARE, passages))[-1]
    assert "owns" in final.draft and "owns" not in final.text and "holds about 5%" in final.text, (final.draft, final.text)
    assert "estimates suggesting" in final.text
    assert final.repairs and final.repairs[0]["kind"] == "quoted", final.repairs
    assert "hedge" in " ".join(final.repairs[0]["why"])
    assert not final.abstained and all(s.supported for s in final.sentences) and final.citations


def test_an_answer_stitched_from_two_sentences_is_not_shipped(local_engine):
    """A draft that puts the question's claim on a subject taken from the sentence before (on the real
    evidence, through verification and repair): the shipped answer is what the source says drew criticism
    (Trump's handling of the situation)."""
    q = "Who drew criticism for the handling of the situation from Democrats and some Republicans in Congress?"
    ans = local_engine.answerer("local")
    ev = ans.evidence(q, local_engine.retrieve(q), None)
    n = next(i for i, p in enumerate(ev.passages, 1) if "handling of the situation drew" in p.text)
    draft = (f"Trump administration officials drew criticism for the handling of the situation from Democrats and "
             f"some Republicans in Congress [{n}].")
    v = ans.verifier.verify(draft, ev.passages, q)
    assert v.sentences[0].supported and v.sentences[0].wording  # the verifier alone lets it through
    fixed, repairs = ans.repair(v, q, ev, None)
    assert "administration officials drew" not in fixed.text and "handling of the situation drew" in fixed.text, fixed.text
    assert repairs and repairs[0]["kind"] in ("worded", "rewritten"), repairs
    assert all(s.supported for s in fixed.sentences)


TRAM = (b"Lviv opens a new tram line\n\nThe city of Lviv opened a new tram line on Monday, its mayor said. "
        b"The line runs 12 kilometres from the railway station to the Sykhiv district and cost 40 million euros.\n")


def test_a_sync_finishes_while_an_answer_streams(tmp_path, embedder, smol):
    """The index lock is not held while an answer streams: with a client that has read one piece of an LLM
    answer and not the rest, an upload is indexed, a question about it is answered meanwhile, and the
    first answer then completes."""
    import shutil

    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    e = Engine(load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", backend="local", llm_model=smol,
                             llm_fallback=False, llm_max_tokens=48), embedder)
    e.sync()
    stream = e.ask_stream(Q_SHARE)
    assert isinstance(next(stream), str)  # generation under way; the client reads no further for now
    done: dict = {}
    t = threading.Thread(target=lambda: done.update(zip(("report", "rejected"), e.add_articles([("tram.txt", TRAM)]))),
                         daemon=True)
    t.start()
    t.join(60)
    assert not t.is_alive(), "the upload waited on the open stream"
    assert done["report"].added == ["tram.txt"] and not done["rejected"]
    other = e.ask("How long is the new tram line in Lviv?", backend="extractive")
    assert not other.abstained and "tram line" in other.text and other.citations[0].file == "tram.txt"
    rest = list(stream)
    assert isinstance(rest[-1], Answer) and rest[-1].passages and not rest[-1].abstained, rest[-1].text


def test_the_evidence_budget_is_a_per_question_option(local_engine):
    """A budget given with a question applies to that question only; the cached answerer keeps its own."""
    ans = local_engine.answerer("local")
    before = ans.budget
    small = local_engine.ask(Q_SHARE, budget=40)
    full = local_engine.ask(Q_SHARE)
    assert ans.budget == before
    assert 0 < small.timings["evidence_tokens"] < full.timings["evidence_tokens"] <= before
