"""Load: the chat served for real (Gradio over HTTP, Chroma, the embedder, the small SmolLM2 model), 20
gradio_client users at once while an article is uploaded and another removed; a slow LLM answer never holds
an index sync; a full queue says "busy, try again" at once, through gradio_client and in the browser."""

import os
import threading
import time
from pathlib import Path

import pytest

import app
from qa.bench import LOAD_NEW, LOAD_QUESTIONS, LOAD_REMOVED, load_run, print_load, serve_app
from qa.config import load_settings
from qa.engine import Engine
from qa.llm import LocalGenerator, smollm_path
from qa.schema import Answer

from conftest import SEEDS

CHROMIUM = "/usr/bin/chromium"


def _engine(tmp: Path, embedder, **kw) -> Engine:
    import shutil

    corpus = tmp / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = load_settings(corpus_dir=corpus, index_dir=tmp / "index", backend="extractive",
                             llm_model=smollm_path(), llm_max_tokens=48, **kw)
    engine = Engine(settings, embedder)
    engine.sync()
    return engine


@pytest.fixture(scope="module")
def served(tmp_path_factory, embedder):
    """The chat over the seeds, with the app's queue (4 at once, 64 waiting), on a free port."""
    engine = _engine(tmp_path_factory.mktemp("load"), embedder)
    with engine.model_lock:
        engine.answerer("local")  # the model loaded once, before anything is timed
    demo, url = serve_app(engine)
    yield url, engine
    demo.close()


def test_twenty_users_while_an_article_is_uploaded_and_another_removed(served):
    url, engine = served
    # 20 users: each asks 2 questions extractively, 5 of them 2 more with the LLM; the upload and the removal
    # start once a tenth of the answers are in. Asked alone first: the extractive questions (the LLM's would
    # double the time; its answers are held to citing the right article below)
    res = load_run(url, engine, users=20, per_user=2, local_users=5, alone_backends=("extractive",))
    print()
    print_load(res, "SmolLM2-135M (max 48 tokens)")
    ext, loc = res["backends"]["extractive"], res["backends"]["local"]
    assert ext["asked"] == 40 and loc["asked"] == 10
    # every question answered, none with an error (none turned away as busy: 20 users fit the queue)
    assert ext["answered"] == 40 and loc["answered"] == 10 and not ext["errors"] and not loc["errors"]
    assert all(r["answered_by"] == "extractive" for r in res["results"] if r["backend"] == "extractive")
    assert all(r["answered_by"].startswith("local:SmolLM2") for r in res["results"] if r["backend"] == "local")
    # right despite the change: extractive answers say the figure and cite its article; the LLM's cite it
    assert not ext["wrong"] and not loc["wrong"], [(r["question"], r["answer"]) for r in ext["wrong"] + loc["wrong"]]
    assert not ext["wrong_only_under_load"]
    # the change really happened while questions were being answered
    assert res["changes"]["upload"]["added"] == [LOAD_NEW[0]]
    assert res["changes"]["removal"]["removed"] == [LOAD_REMOVED[0]]
    assert ext["during_change"] + loc["during_change"] >= 5
    # each of the two syncs waited for the lock, only for the retrievals under way (never an LLM answer)
    assert len(res["sync_waits_s"]) == 2 and all(w < 10 for w in res["sync_waits_s"])
    # afterwards: the new article answers, the removed one is neither cited nor retrieved
    assert LOAD_NEW[3] in res["after"]["new_answer"] and res["after"]["new_files"][0] == LOAD_NEW[0]
    assert LOAD_REMOVED[0] not in res["after"]["removed_files"]


def test_a_slow_llm_answer_does_not_hold_the_sync(served):
    """A local-LLM answer stopped half-way through generating (as a slow model or a slow reader leaves it):
    an upload's sync runs to its end meanwhile, and the answer then finishes, right."""
    url, engine = served
    q, figure, file = LOAD_QUESTIONS[0]
    stream = engine.ask_stream(q, backend="local")
    first = next(ev for ev in stream if isinstance(ev, str))  # generation has begun: retrieval is over
    assert first and LocalGenerator._lock.locked()  # the model is mid-answer, paused
    done: list = []
    t = threading.Thread(target=lambda: done.append(engine.add_articles([("slow-llm.txt", b"Trelby counts quokkas\n\n"
                         b"The Trelby census counted 777 quokkas this spring, the warden Piet Ormond said.\n")])))
    t0 = time.perf_counter()
    t.start()
    t.join(60)
    waited = engine.index_lock.write_waits[-1]
    assert not t.is_alive(), "the sync waited for the LLM's answer"
    assert done[0][0].added == ["slow-llm.txt"] and waited < 1.0
    rest = list(stream)  # the answer goes on after the sync
    final = rest[-1]
    assert isinstance(final, Answer) and final.backend.startswith("local:SmolLM2") and final.timings["generate_ms"]
    assert not LocalGenerator._lock.locked()
    assert final.citations and final.citations[0].file == file
    print(f"\nsync during a paused LLM answer: {time.perf_counter() - t0:.2f} s, waited {waited * 1000:.0f} ms "
          "for the index lock")
    assert "777" in engine.ask("How many quokkas did the Trelby census count?").text


@pytest.fixture
def tight(tmp_path, embedder):
    """The chat with room for one question at a time and two waiting."""
    engine = _engine(tmp_path, embedder, concurrency_limit=1, queue_size=2)
    demo, url = serve_app(engine)
    yield url, engine, demo
    demo.close()


def _busy_browser_page(url: str):
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium"
    pw = sync_playwright().start()
    browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                 args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.wait_for_selector("#question textarea")
    page.get_by_role("tab", name="Articles").click()  # the page's own load event done before the queue fills
    page.wait_for_function("document.querySelector('#index-status').innerText.includes('5 articles')")
    page.get_by_role("tab", name="Sources").click()
    return pw, browser, page


def working(demo) -> int:
    """Requests being worked on (Gradio's queue has no public count of them)."""
    return sum(len(job) for job in demo._queue.active_jobs if job)


def test_a_full_queue_says_busy_try_again_at_once(tight):
    """One question being worked on (held by a sync), two waiting: the next one is turned away at once with
    a clear message, through gradio_client and in the browser; the held ones are answered afterwards."""
    from gradio_client import Client
    from gradio_client.exceptions import ValidationError

    url, engine, demo = tight
    q, figure, _ = LOAD_QUESTIONS[0]
    pw, browser, page = _busy_browser_page(url)
    try:
        clients = [Client(url, verbose=False) for _ in range(4)]
        answers: dict[int, dict] = {}

        def ask(i: int) -> None:
            answers[i] = clients[i].predict(question=q, backend="extractive", k=3, history=None, api_name="/ask")

        def until(cond, what: str) -> None:
            deadline = time.time() + 20
            while not cond():
                assert time.time() < deadline, what
                time.sleep(0.05)

        held = []
        with engine.index_lock.write():  # a sync: the question being worked on waits for it
            for i in range(3):  # the first taken up by the one worker, the next two waiting
                t = threading.Thread(target=ask, args=(i,))
                t.start()
                held.append(t)
                until(lambda: (working(demo), app.waiting(demo)) == (1, i), f"1 worked on, {i} waiting")
            t0 = time.perf_counter()
            with pytest.raises(ValidationError) as busy:
                clients[3].predict(question=q, backend="extractive", k=3, history=None, api_name="/ask")
            took = time.perf_counter() - t0
            assert "The chat is busy (2 questions waiting); please try again in a moment." in str(busy.value)
            assert took < 5, f"turned away after {took:.1f} s"
            # the browser: the message at the question box, the question kept to send again
            page.fill("#question textarea", q)
            page.click("#ask")
            page.get_by_text("The chat is busy (2 questions waiting); please try again in a moment.").wait_for(
                timeout=10_000)
            assert page.input_value("#question textarea") == q
            page.screenshot(path=str(Path(__file__).resolve().parent.parent / "screenshots" / "13-busy.png"))
            assert all(t.is_alive() for t in held) and not answers  # held, not lost
        for t in held:
            t.join(60)
        assert sorted(answers) == [0, 1, 2] and all(figure in a["answer"] for a in answers.values())
        print(f"\nfull queue: {type(busy.value).__name__} after {took * 1000:.0f} ms: {busy.value}")
        # once there is room, the same question from the browser is answered
        page.click("#ask")
        page.wait_for_function("document.querySelectorAll('#chat .qa-backend').length >= 1", timeout=60_000)
        assert figure in page.locator("#chat [data-testid=bot]").first.inner_text()
    finally:
        browser.close()
        pw.stop()


def test_busy_message():
    assert app.busy_message(1, 2) is None
    assert app.busy_message(2, 2) == "The chat is busy (2 questions waiting); please try again in a moment."
    assert app.busy_message(1, 1) == "The chat is busy (1 question waiting); please try again in a moment."
