"""The chat UI: its engine operations (upload, removal, article view) and its escaping on the real engine,
then app.py as a real server driven through Debian's Chromium (Playwright) and through gradio_client.

Screenshots of each browser step go to the git-ignored screenshots/ folder."""

import html
import json
import os
import shutil
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import app
from qa.corpus import check_article_name, collapse_ws
from qa.engine import REMOVED_DIR, Engine

from conftest import ROOT, SEEDS, running

SHOTS = ROOT / "screenshots"
CHROMIUM = "/usr/bin/chromium"
SEED_META = {"file": "001_fc8662c004b3d3bf.txt", "source": "Example Wire", "published_at": "2025-02-07"}
Q_SHARE = "What share of the world's critical raw materials does Ukraine hold?"
NEW_ARTICLE = (
    "Kelmora opens the Zorblatt bridge\n\n"
    "The Zorblatt bridge over the river Vask in Kelmora opened in March after six years of work.\n\n"
    "The Zorblatt bridge cost 42 million crowns, the city engineer Ilse Marrow said.\n\n"
    "Ferries that crossed the Vask for a century will stop running in April.\n"
)
EVIL_ARTICLE = (
    '<img src=x onerror="window.pwned=1">Quokka census in Trelby\n\n'
    "The Trelby quokka census counted 777 quokkas this spring <script>window.pwned=2</script> "
    "according to the warden Piet Ormond.\n\n"
    '<b onmouseover="window.pwned=3">Bold claim</b> and [a link](javascript:window.pwned=4) stay text.\n'
)


# -- engine operations the UI relies on ---------------------------------------------------------------
@pytest.fixture
def engine(seeds_copy, settings_for, embedder):
    e = Engine(settings_for(seeds_copy), embedder)
    e.sync()
    return e


@pytest.mark.parametrize("name,ok", [
    ("story.txt", True), ("Story 2.md", True), ("page.HTML", True),
    ("../evil.txt", False), ("sub/evil.txt", False), ("..\\evil.txt", False), ("/etc/passwd.txt", False),
    (".hidden.txt", False), ("run.exe", False), ("noext", False), ("", False), (" pad.txt", False),
    ("a\x00b.txt", False), ("x" * 200 + ".txt", False), ('q"<x>.txt', False),
])
def test_article_names(name, ok):
    assert (check_article_name(name) is None) == ok


def test_upload_is_validated_saved_and_answerable_at_once(engine, seeds_copy):
    seen = []
    report, rejected = engine.add_articles(
        [
            ("zorblatt.txt", NEW_ARTICLE.encode()),
            ("../outside.txt", b"Escaping the corpus folder.\n\nSome text here."),
            (".sneaky.txt", b"Hidden.\n\nSome text here."),
            ("001_fc8662c004b3d3bf.txt", b"Overwriting a seed.\n\nSome text here."),  # exists: not replaced
            ("binary.txt", b"\x00\x01\x02" * 100),
            ("empty.md", b"   \n"),
            ("big.txt", b"word " * 500_000),
            ("copy.txt", (seeds_copy / "002_d89352816586c04e.txt").read_bytes()),  # same text, other name
            ("script.exe", b"MZ"),
        ],
        on_start=lambda n: seen.append(("start", n)), on_progress=lambda n: seen.append(("step", n)),
    )
    why = dict(rejected)
    assert report.added == ["zorblatt.txt"] and seen[0][0] == "start" and sum(n for k, n in seen[1:]) == seen[0][1]
    assert set(why) == {"../outside.txt", ".sneaky.txt", "001_fc8662c004b3d3bf.txt", "binary.txt", "empty.md",
                        "big.txt", "copy.txt", "script.exe"}
    assert "replace" in why["001_fc8662c004b3d3bf.txt"] and "too large" in why["big.txt"]
    assert "002_d89352816586c04e.txt" in why["copy.txt"]
    assert not (seeds_copy.parent / "outside.txt").exists()
    assert (seeds_copy / "001_fc8662c004b3d3bf.txt").read_bytes() == (SEEDS / "001_fc8662c004b3d3bf.txt").read_bytes()
    assert sorted(p.name for p in seeds_copy.iterdir()) == sorted([p.name for p in SEEDS.iterdir()] + ["zorblatt.txt"])
    a = engine.ask("How much did the Zorblatt bridge cost?")
    assert "42 million" in a.text and a.citations[0].file == "zorblatt.txt"
    # replacing is a deliberate choice
    report, rejected = engine.add_articles([("zorblatt.txt", NEW_ARTICLE.replace("42", "43").encode())], replace=True)
    assert report.updated == ["zorblatt.txt"] and not rejected
    assert "43 million" in engine.ask("How much did the Zorblatt bridge cost?").text


def test_remove_keeps_the_file_and_can_be_restored(engine, seeds_copy):
    report, dest = engine.remove_article("003_e735657bf45baaa7.txt")
    assert report.removed == ["003_e735657bf45baaa7.txt"] and report.chunks_removed > 0
    assert dest.read_bytes() == (SEEDS / "003_e735657bf45baaa7.txt").read_bytes()
    assert dest.relative_to(seeds_copy).parts[0] == REMOVED_DIR
    files = [a["file"] for a in engine.status()["articles"]]
    assert "003_e735657bf45baaa7.txt" not in files and len(files) == 4
    assert not engine.sync().changed  # the hidden folder is never indexed
    a = engine.ask("How many Ukrainian soldiers has the fighting killed, according to figures Zelenskyy quoted?")
    assert all(c.file != "003_e735657bf45baaa7.txt" for c in a.citations)
    with pytest.raises(ValueError):
        engine.remove_article("../conftest.py")
    with pytest.raises(ValueError):
        engine.remove_article("003_e735657bf45baaa7.txt")  # no longer there
    shutil.move(dest, seeds_copy / dest.name)  # restore
    assert engine.sync().added == ["003_e735657bf45baaa7.txt"]


def test_article_view_highlights_the_cited_span(seeds_engine):
    a = seeds_engine.ask(Q_SHARE)
    c = a.citations[0]
    page = app.article_html(seeds_engine.article(c.file), c.start, c.end)
    marked = page.split('<mark id="qa-hl">')[1].split("</mark>")[0]
    assert collapse_ws(html.unescape(marked)) == collapse_ws(c.quote)
    assert page.count("<mark") == 1 and len(page) > 5 * len(marked)
    with pytest.raises(ValueError):
        seeds_engine.article("../README.md")


def test_rendering_escapes_article_text():
    d = {"question": "q", "standalone": "q", "answer": "x", "abstained": False, "backend": "<b>x</b>",
         "message": None, "notice": "<img src=x onerror=alert(1)>",
         "citations": [{"n": 1, "file": "<i>f</i>.txt", "title": "<script>alert(1)</script>", "start": 0, "end": 5,
                        "quote": '<img src=x onerror="alert(2)">'}],
         "sentences": [{"text": "Said <script>alert(3)</script> [link](javascript:alert(4)) [1]", "cites": [1],
                        "supported": False}],
         "passages": []}
    for out in (app.render_answer(d), app.sources_html(d)):
        assert "<script" not in out and "<img" not in out and "<i>" not in out and "](javascript" not in out
    assert "qa-unsupported" in app.render_answer(d) and "Answered by: &lt;b&gt;x&lt;/b&gt;" in app.render_answer(d)
    abst = dict(d, abstained=True, answer="The articles don't say.", citations=[], sentences=[],
                passages=[{"n": 1, "file": "a.txt", "title": "t", "start": 0, "end": 1, "text": "<script>"}])
    assert "qa-abstain" in app.render_answer(abst) and "Closest passages" in app.sources_html(abst)
    assert "<script" not in app.sources_html(abst)


# -- the chat's handlers, called without a browser -------------------------------------------------------
def test_handlers_answer_a_conversation(engine):
    h = app.Handlers(engine)
    views = list(h.respond(Q_SHARE, [], [], "extractive", 5))
    first, last = views[0], views[-1]
    assert first.question == "" and "Searching the articles" in first.messages[-1]["content"]
    assert len(views) >= 3 and "▌" in views[-2].messages[-1]["content"]  # streamed before it was rendered
    assert "5%" in last.messages[-1]["content"] and "Sources" in last.messages[-1]["content"]
    assert last.turns == [{"question": Q_SHARE, "standalone": Q_SHARE, "answer": last.turns[0]["answer"]}]
    assert last.choices and last.choices[0] == ("[1] 001_fc8662c004b3d3bf.txt", "1")
    # the chosen source opens its article with the cited span highlighted
    page = h.open_source(last.choices[0][1], last.spans)
    assert page.count('<mark id="qa-hl">') == 1 and "5%" in page.split("<mark")[1]
    assert h.open_source(None, last.spans) is None and h.open_source("9", last.spans) is None
    assert "Cannot open" in h.open_source("1", {"1": {"file": "../README.md", "start": 0, "end": 1}})
    # a follow-up is asked with the conversation; a question that cannot be asked is not a turn
    follow = list(h.respond("Who described its investment fund?", last.messages, last.turns, "extractive", 5))[-1]
    assert len(follow.turns) == 2 and follow.turns[1]["standalone"] != "Who described its investment fund?"
    assert len(follow.messages) == 4
    empty = list(h.respond("   ", follow.messages, follow.turns, "extractive", 5))
    assert len(empty) == 1 and empty[0].messages == follow.messages and empty[0].turns == follow.turns
    long = list(h.respond("why " * 1000, [], [], "extractive", 5))[-1]
    assert "too long" in long.messages[-1]["content"] and long.turns == []
    # what a question brings in is escaped before the chat renders it as Markdown
    evil = list(h.respond("<img src=x onerror=alert(1)> [x](javascript:alert(2))?", [], [], "extractive", 5))[-1]
    assert "<img" not in evil.messages[0]["content"] and "](javascript" not in evil.messages[0]["content"]
    cleared = h.clear()
    assert cleared.messages == [] and cleared.turns == [] and cleared.spans == {} and cleared.choices == []


def test_handlers_show_the_retrieval_of_the_last_question(engine):
    h = app.Handlers(engine)
    last = list(h.respond("Who is Trump's special envoy for Ukraine?", [], [], "extractive", 4))[-1]
    table = last.retrieval
    assert table.count("<tr data-n=") == 4 and "Retrieval for: Who is Trump&#x27;s special envoy" in table
    assert "dense #1, BM25 #2, article #1" in table and "002_d89352816586c04e.txt" in table
    assert last.passages == [(f"#{n} {f}", f"r{n}") for n, f in
                             zip(range(1, 5), [c.split(" ", 1)[1] for c, _ in last.passages])]
    page = h.open_source("r1", last.spans)  # a row opens its article at the passage
    assert page.count('<mark id="qa-hl">') == 1 and "highlighted: the retrieved passage" in page
    assert "Keith Kellogg, Trump’s special envoy" in html.unescape(page.split("<mark")[1])
    # what the articles say is escaped in the table as everywhere
    evil = app.retrieval_html([{"n": 1, "file": "<b>x</b>.txt", "title": "<script>", "text": "<img src=x>",
                                "score": 0.1, "file_boost": 0.05, "dense": 0.5, "dense_rank": 0, "bm25": None,
                                "bm25_rank": None, "found_by": "dense", "why": "dense #1", "start": 0, "end": 1}])
    assert "<script>" not in evil and "<img" not in evil and "<b>x" not in evil
    assert h.clear().retrieval == app.retrieval_html(None)
    assert 1 <= len(last.suggestions) <= 3 and h.clear().suggestions == []


def test_handlers_show_an_error_in_the_chat_and_go_on(engine):
    h = app.Handlers(engine)
    view = list(h.respond(Q_SHARE, [], [], "no-such-backend", 5))[-1]
    assert "qa-notice" in view.messages[-1]["content"] and "unknown answer backend" in view.messages[-1]["content"]
    assert view.turns == [] and view.sources is None  # the sources panel keeps what it showed
    assert "5%" in list(h.respond(Q_SHARE, view.messages, view.turns, "extractive", 5))[-1].messages[-1]["content"]


def test_handlers_upload_and_remove(engine, seeds_copy, tmp_path):
    h = app.Handlers(engine)
    up = tmp_path / "up"
    up.mkdir()
    (up / "zorblatt.txt").write_text(NEW_ARTICLE)
    (up / "<b>bad.exe").write_bytes(b"MZ")
    steps = []
    msg, table, files = h.upload([str(up / "zorblatt.txt"), str(up / "<b>bad.exe")], False,
                                 lambda value, desc="", unit="": steps.append((value, desc)))
    assert "✔ added zorblatt\\.txt" in msg and "✘ &lt;b&gt;bad" in msg and "<b>" not in msg
    assert "zorblatt.txt" in files and len(files) == 6 and "6 articles" in table
    assert steps[0] == (0, "Checking the files") and steps[-1][0][0] == steps[-1][0][1] > 0
    assert h.upload([], False) == ("", table, files)
    too_many = h.upload([str(up / "zorblatt.txt")] * (engine.settings.upload_max_files + 1), False)
    assert too_many[0].startswith("Too many files")
    msg, table, files = h.remove("zorblatt.txt")
    assert msg.startswith("✔ removed zorblatt\\.txt") and ".removed/" in msg and "zorblatt.txt" not in files
    assert h.remove("zorblatt.txt")[0].startswith("✘") and h.remove(None)[0] == "Choose an article to remove."
    d = h.api_ask(Q_SHARE, "extractive", 0, [])
    assert "5%" in d["answer"] and set(d["passages"][0]) == {"n", "file", "title", "start", "end", "text"}


def test_sync_waits_for_questions_and_questions_run_together(engine):
    """Questions share the index; a sync (an upload) waits for them and they wait for it."""
    errors, answers = [], []

    def ask():
        try:
            for _ in range(3):
                answers.append(engine.ask(Q_SHARE))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    report, rejected = engine.add_articles([("zorblatt.txt", NEW_ARTICLE.encode())])
    for t in threads:
        t.join()
    assert not errors and not rejected and report.added == ["zorblatt.txt"]
    assert len(answers) == 9 and all("5%" in a.text for a in answers)
    order = []
    with engine.index_lock.read():
        t = threading.Thread(target=lambda: (engine.sync(), order.append("sync")))
        t.start()
        t.join(0.5)
        order.append("question done")
    t.join()
    assert order == ["question done", "sync"]


# -- the served app -------------------------------------------------------------------------
def _up(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except urllib.error.HTTPError as e:
        return e.code == 401  # up, behind a login
    except Exception:  # noqa: BLE001 - not up yet
        return False


def _serve(tmp: Path, port: int, corpus: Path, **env):
    e = dict(os.environ, QA_CORPUS_DIR=str(corpus), QA_INDEX_DIR=str(tmp / "index"), QA_PORT=str(port),
             QA_HOST="127.0.0.1", GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1", **env)
    url = f"http://127.0.0.1:{port}/"
    return running([sys.executable, str(ROOT / "app.py")], lambda: _up(url + "config"), "app.py", timeout=180,
                   env=e, cwd=str(tmp)), url


@pytest.fixture(scope="module")
def served(tmp_path_factory, free_port):
    from qa.llm import smollm_path

    tmp = tmp_path_factory.mktemp("app")
    corpus = tmp / "corpus"
    shutil.copytree(SEEDS, corpus)
    (corpus / "metadata.jsonl").write_text(json.dumps(SEED_META) + "\n")  # one seed with an outlet and a date
    ctx, url = _serve(tmp, free_port(), corpus, QA_BACKEND="extractive", QA_LLM_MODEL=str(smollm_path()),
                      QA_LLM_MAX_TOKENS="48")
    with ctx:
        yield url, corpus


@pytest.fixture(scope="module")
def browser():
    os.environ["PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD"] = "1"
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed: apt-get install -y chromium (see .ci/run)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                              args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, served):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = ctx.new_page()
    pg.goto(served[0])
    pg.wait_for_selector("#question textarea")
    yield pg
    ctx.close()


def shot(page, name: str):
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def ask(page, question: str, n: int = 1):
    """Type a question, send it, wait for the n-th final answer."""
    page.fill("#question textarea", question)
    page.click("#ask")
    page.wait_for_function(f"document.querySelectorAll('#chat .qa-backend').length >= {n}", timeout=90_000)


def bot_text(page, n: int) -> str:
    return page.locator("#chat [data-testid=bot]").nth(n - 1).inner_text()


def test_browser_answer_cites_the_right_file(page):
    ask(page, Q_SHARE)
    answer = bot_text(page, 1)
    assert "5%" in answer and "001_fc8662c004b3d3bf.txt" in answer and "Answered by: extractive" in answer
    assert "001_fc8662c004b3d3bf.txt" in page.inner_text("#sources")
    assert "5%" in page.inner_text("#sources")
    shot(page, "01-answer")


def test_browser_citations_show_outlet_and_date(page):
    """A cited article's outlet and date (from the corpus's metadata sidecar) are in the chat's sources line,
    the sources panel and the Articles tab; a time the question names is read out."""
    ask(page, Q_SHARE)
    answer = bot_text(page, 1)
    assert "Example Wire, 2025-02-07 · 001_fc8662c004b3d3bf.txt" in answer
    assert "Example Wire, 2025-02-07" in page.inner_text("#sources .qa-dateline")
    ask(page, Q_SHARE.rstrip("?") + " this week?", 2)
    second = bot_text(page, 2)
    # the only dated article is older than this week: the most relevant articles are used, and the chat says so
    assert "No article was published this week" in second and 'Time: "this week": articles up to' in second
    page.get_by_role("tab", name="Articles").click()
    table = page.inner_text("table.qa-files")
    assert "Example Wire" in table and "2025-02-07" in table
    shot(page, "12-outlet-and-date")


def test_browser_source_opens_with_the_span_highlighted(page):
    ask(page, Q_SHARE)
    page.locator("#open-source label").first.click()
    page.wait_for_selector("#article mark")
    mark = page.inner_text("#article mark")
    assert "5% of the world" in mark
    body = page.inner_text("#article .qa-article-body")
    assert len(body) > 5 * len(mark)  # the whole article, not only the quote
    assert page.locator("#article mark").is_visible()
    shot(page, "02-source-highlighted")


def test_browser_retrieval_view_ranks_and_opens_passages(page):
    ask(page, "Who is Trump's special envoy for Ukraine?")
    page.click("#tab-retrieval-button") if page.locator("#tab-retrieval-button").count() else \
        page.get_by_role("tab", name="Retrieval").click()
    page.wait_for_selector("#retrieval tr[data-n]")
    rows = page.locator("#retrieval tr[data-n]")
    assert rows.count() == 5  # the answerer's top k (the default)
    first = rows.first.inner_text()
    assert "002_d89352816586c04e.txt" in first and "dense #1, BM25 #2, article #1" in first
    page.locator("#open-passage label").first.click()
    page.wait_for_selector("#retrieval-article mark")
    assert "Keith Kellogg" in page.inner_text("#retrieval-article mark")
    assert "the retrieved passage" in page.inner_text("#retrieval-article")
    assert page.locator("#retrieval-article mark").is_visible()
    shot(page, "14-retrieval-view")


def test_browser_summary_of_one_article(page):
    page.locator("#summarise").click()  # no article chosen yet: says what to do
    page.wait_for_function("document.querySelector('#chat').innerText.includes('Choose an article')")
    page.locator("#scope input").click()
    page.get_by_role("option", name="003_e735657bf45baaa7.txt").click()
    page.locator("#summarise").click()
    page.wait_for_function("document.querySelectorAll('#chat .qa-backend').length >= 1", timeout=90_000)
    answer = bot_text(page, 2)
    assert answer.count("[") >= 3  # 3-5 cited sentences
    sources = page.inner_text("#sources")
    assert "003_e735657bf45baaa7.txt" in sources
    assert not any(f in sources for f in ("000_", "001_", "002_", "004_"))
    # a question now is about that article alone
    ask(page, "What share of the world's critical raw materials does Ukraine hold?", 2)
    assert not any(f in page.inner_text("#sources") for f in ("000_", "001_", "002_", "004_"))
    shot(page, "15-article-summary")


def test_browser_suggested_follow_up_is_asked_when_clicked(page):
    ask(page, "Who is Trump's special envoy for Ukraine?")
    page.wait_for_selector("#follow-0", state="visible")
    suggestion = page.inner_text("#follow-0").strip()
    assert suggestion.endswith("?") and len(suggestion) < 80
    assert page.locator("#follow-ups button:visible").count() <= 3
    page.click("#follow-0")
    page.wait_for_function("document.querySelectorAll('#chat .qa-backend').length >= 2", timeout=90_000)
    assert suggestion in page.locator("#chat [data-testid=user]").nth(1).inner_text()
    second = bot_text(page, 2)
    assert "don't say" not in second and "[1]" in second  # answered, with a citation
    shot(page, "16-suggested-follow-up")


def test_browser_follow_up_uses_the_conversation(page):
    ask(page, Q_SHARE)
    ask(page, "What is the value of its assets held in territories occupied by Russia?", 2)
    second = bot_text(page, 2)
    assert "350 billion" in second and "Searched for:" in second and "Ukrain" in second.split("Searched for:")[1]
    assert page.locator("#chat [data-testid=user]").count() == 2
    shot(page, "03-follow-up")
    page.click("#clear")
    page.wait_for_function("document.querySelectorAll('#chat [data-testid=bot]').length === 0")
    # after clearing, a follow-up has no conversation to lean on
    ask(page, "What is the value of its assets held in territories occupied by Russia?")
    assert "Searched for:" not in bot_text(page, 1)


def test_browser_upload_then_ask_and_remove(page, served, tmp_path):
    url, corpus = served
    page.get_by_role("tab", name="Articles").click()
    page.wait_for_function("document.querySelector('#index-status').innerText.includes('5 articles')")
    f = tmp_path / "zorblatt-bridge.txt"
    f.write_text(NEW_ARTICLE)
    seed = tmp_path / "000_eb52613fceb0bc2a.txt"
    seed.write_text("A different text under an existing name.\n\nIt must not overwrite the seed article.")
    page.set_input_files("#upload input[type=file]", [str(f), str(seed)])
    page.wait_for_function("document.querySelector('#upload-result').innerText.includes('added')", timeout=60_000)
    result = page.inner_text("#upload-result")
    assert "added zorblatt-bridge.txt" in result and "000_eb52613fceb0bc2a.txt: an article with this name exists" in result
    assert "6 articles" in page.inner_text("#index-status")
    assert (corpus / "zorblatt-bridge.txt").read_text() == NEW_ARTICLE
    assert (corpus / "000_eb52613fceb0bc2a.txt").read_bytes() == (SEEDS / "000_eb52613fceb0bc2a.txt").read_bytes()
    shot(page, "04-upload")
    ask(page, "How much did the Zorblatt bridge cost?")
    answer = bot_text(page, 1)
    assert "42 million" in answer and "zorblatt-bridge.txt" in answer
    page.get_by_role("tab", name="Sources").click()
    shot(page, "05-upload-answer")
    # remove it again: out of the index, the file kept in the hidden folder
    page.get_by_role("tab", name="Articles").click()
    page.click("#remove-file input")
    page.get_by_role("option", name="zorblatt-bridge.txt").click()
    page.click("#remove")
    page.wait_for_function("document.querySelector('#remove-result').innerText.includes('removed')", timeout=60_000)
    assert "5 articles" in page.inner_text("#index-status")
    assert not (corpus / "zorblatt-bridge.txt").exists()
    assert [p.name for p in (corpus / REMOVED_DIR).rglob("*.txt")] == ["zorblatt-bridge.txt"]
    shot(page, "06-removed")


def test_browser_article_markup_renders_inert(page, served, tmp_path):
    f = tmp_path / "quokka-census.txt"
    f.write_text(EVIL_ARTICLE)
    page.get_by_role("tab", name="Articles").click()
    page.set_input_files("#upload input[type=file]", [str(f)])
    page.wait_for_function("document.querySelector('#upload-result').innerText.includes('added')", timeout=60_000)
    assert 'onerror="window.pwned=1"' in page.inner_text("#index-status")  # the title, shown as text
    page.get_by_role("tab", name="Sources").click()
    ask(page, "How many quokkas did the Trelby census count?")
    answer = bot_text(page, 1)
    assert "777" in answer and "<script>window.pwned=2</script>" in answer
    assert "<script>window.pwned=2</script>" in page.inner_text("#sources")
    page.locator("#open-source label").first.click()
    page.wait_for_selector("#article mark")
    body = page.inner_text("#article")
    assert '<img src=x onerror="window.pwned=1">' in body and "[a link](javascript:window.pwned=4)" in body
    page.hover("#article .qa-article-body")
    shot(page, "07-markup-inert")
    assert page.evaluate("window.pwned") is None
    for where in ("#chat", "#sources", "#article", "#index-status"):
        assert page.locator(f"{where} script").count() == 0
        assert page.locator(f"{where} img").count() == 0
        assert page.locator(f"{where} b[onmouseover]").count() == 0


def test_browser_sessions_keep_their_own_conversations(browser, served):
    pages = []
    for q in (Q_SHARE, "Who claimed that Zelenskyy has already indicated he will soften his position on land?"):
        ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = ctx.new_page()
        pg.goto(served[0])
        pg.wait_for_selector("#question textarea")
        pg.fill("#question textarea", q)
        pages.append((pg, q))
    for pg, _ in pages:  # both questions in flight at once
        pg.click("#ask")
    for pg, q in pages:
        pg.wait_for_function("document.querySelectorAll('#chat .qa-backend').length >= 1", timeout=60_000)
        assert pg.locator("#chat [data-testid=user]").count() == 1
        assert pg.inner_text("#chat [data-testid=user]") == q
    assert "5%" in bot_text(pages[0][0], 1) and "Kellogg" in bot_text(pages[1][0], 1)
    shot(pages[1][0], "08-second-session")
    for pg, _ in pages:
        pg.context.close()


def test_browser_local_llm_answer_shows_its_backend(page):
    page.get_by_role("tab", name="Settings").click()
    page.get_by_label("Local LLM", exact=True).check()
    page.get_by_role("tab", name="Sources").click()
    ask(page, Q_SHARE)
    answer = bot_text(page, 1)
    assert "Answered by: local:SmolLM2-135M-Instruct.Q4_1.gguf" in answer
    shot(page, "09-local-llm")
    # the small model (greedy, so the same every run) dates the meeting "February 7, 202…" (its 48 tokens run out
    # inside the year), a year no passage has: the year is dropped before the answer is shown, and the chat says
    # what was changed
    ask(page, "On what date did Trump meet Japanese Prime Minister Shigeru Ishiba at the White House?", 2)
    bot = page.locator("#chat [data-testid=bot]").nth(1)
    repairs = bot.locator(".qa-repairs")
    assert repairs.count() == 1 and "corrected after checking the sources" in repairs.inner_text()
    shown = bot.inner_text().replace(repairs.inner_text(), "")
    assert "February 7" in shown and "202" not in shown
    repairs.locator("summary").click()
    assert "February 7, 202" in repairs.locator("s").first.inner_text()
    assert "not in the cited passage: 202" in repairs.inner_text()
    repairs.scroll_into_view_if_needed()
    shot(page, "10-draft-repaired")


def test_browser_false_premise_named_with_its_nearest_passage(page):
    """A question about a person no article mentions: the chat says so and cites the closest passage,
    marked as such in the sources panel; nothing is presented as that person's view."""
    ask(page, "What does Elon Musk think of the minerals deal?")
    answer = bot_text(page, 1)
    assert "The articles don't mention Elon Musk." in answer and "The closest they come:" in answer
    assert page.locator("#chat .qa-premise").count() == 1
    sources = page.inner_text("#sources")
    assert "premise is not in the articles" in sources and ".txt" in sources and "Musk" not in sources
    shot(page, "11-false-premise")


def test_api_ask_returns_answer_and_citations(served):
    from gradio_client import Client

    client = Client(served[0], verbose=False)
    r = client.predict(question=Q_SHARE, backend="extractive", k=3, history=None, api_name="/ask")
    assert "5%" in r["answer"] and r["backend"] == "extractive"
    assert r["citations"][0]["file"] == "001_fc8662c004b3d3bf.txt" and r["citations"][0]["quote"] in r["answer"]
    follow = client.predict(question="What is the value of its assets held in territories occupied by Russia?",
                            backend="extractive", k=3, history=[{"question": Q_SHARE, "answer": r["answer"]}],
                            api_name="/ask")
    assert "350 billion" in follow["answer"] and "Ukrain" in follow["standalone"]
    none = client.predict(question="Who won the 1974 World Cup final?", backend="extractive", k=3, history=None,
                          api_name="/ask")
    # the premise check names what the articles never mention instead of a bare refusal
    assert none["abstained"] and none["answer"].startswith("The articles don't mention")
    assert "1974" in none["answer"] and "World Cup" in none["answer"]


def test_basic_auth_from_settings(tmp_path, free_port):
    from gradio_client import Client

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "zorblatt.txt").write_text(NEW_ARTICLE)
    ctx, url = _serve(tmp_path, free_port(), corpus, QA_AUTH_USER="editor", QA_AUTH_PASSWORD="s3cret-pass")
    with ctx:
        with pytest.raises(Exception):
            urllib.request.urlopen(url + "config", timeout=5)  # 401 without a login
        with pytest.raises(Exception):
            Client(url, auth=("editor", "wrong"), verbose=False)
        r = Client(url, auth=("editor", "s3cret-pass"), verbose=False).predict(
            question="How much did the Zorblatt bridge cost?", api_name="/ask")
        assert "42 million" in r["answer"]
