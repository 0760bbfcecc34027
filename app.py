"""The browser chat: a thin Gradio shell over :class:`qa.engine.Engine`.

``python app.py`` (or ``make run``) syncs the index with the corpus folder, then serves the chat at
http://127.0.0.1:7860 (settings ``QA_HOST``, ``QA_PORT``; ``QA_AUTH_USER``/``QA_AUTH_PASSWORD`` for basic
auth). Everything an article or a user brings in (text, titles, file names, model output) is escaped
before it is rendered as HTML or Markdown. The ``ask`` API endpoint answers with JSON (gradio_client).

Nothing heavy is imported at module level: gradio and the engine load in :func:`main`.
"""

from __future__ import annotations

import html
import logging
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator

from qa.corpus import SUPPORTED_SUFFIXES
from qa.schema import ABSTAIN_TEXT, BACKENDS as BACKEND_NAMES, MARKER

log = logging.getLogger(__name__)

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

TITLE = "News QA"
_BACKEND_LABELS = {"auto": "Auto (local LLM when installed)", "local": "Local LLM", "server": "LLM server",
                   "extractive": "Extractive (no LLM)"}
BACKENDS = [(_BACKEND_LABELS[b], b) for b in BACKEND_NAMES]
# example questions for the seed articles (shown when those articles are indexed)
SEED_EXAMPLES = {
    "001_fc8662c004b3d3bf.txt": "What share of the world's critical raw materials does Ukraine hold?",
    "000_eb52613fceb0bc2a.txt": "On what date did Trump meet Japanese Prime Minister Shigeru Ishiba at the White House?",
    "003_e735657bf45baaa7.txt": "How many Ukrainian soldiers has the fighting killed, according to figures Zelenskyy quoted?",
    "002_d89352816586c04e.txt": "Who claimed that Zelenskyy has already indicated he will soften his position on land?",
}
SEED_FOLLOW_UP = "Who is the Ukrainian prime minister who described the deal's investment fund?"
UPLOAD_TYPES = sorted(SUPPORTED_SUFFIXES)

CSS = """
.qa-unsupported { background: #fff3cd; border-bottom: 2px dotted #b45309; }
.qa-abstain { font-weight: 600; color: #92400e; }
.qa-meta { color: #6b7280; font-size: 0.85em; }
.qa-notice { color: #b45309; font-size: 0.85em; }
.qa-source { border: 1px solid #e5e7eb; border-radius: 6px; padding: 6px 8px; margin: 0 0 8px 0; }
.qa-source .qa-file { font-family: ui-monospace, monospace; font-size: 0.85em; }
.qa-source blockquote { margin: 4px 0 0 0; padding-left: 8px; border-left: 3px solid #f59e0b; color: inherit; }
.qa-article-body { white-space: pre-wrap; max-height: 420px; overflow: auto; line-height: 1.5;
  border: 1px solid #e5e7eb; border-radius: 6px; padding: 8px; }
.qa-article mark { background: #fde68a; padding: 1px 0; }
.qa-empty { color: #6b7280; }
.qa-files-wrap { max-height: 240px; overflow: auto; }
table.qa-files { width: 100%; font-size: 0.85em; border-collapse: collapse; }
table.qa-files td, table.qa-files th { border-bottom: 1px solid #e5e7eb; padding: 2px 4px; text-align: left; }
"""
def scroll_to_mark(view: str) -> str:
    """Browser code that scrolls the article view ``#view`` to its highlighted span."""
    return """() => {
  const m = document.querySelector('#%s mark');
  if (m) { const b = m.closest('.qa-article-body'); b.scrollTop = m.offsetTop - b.offsetTop - 60; }
}""" % view


# -- escaping and rendering (pure functions) -----------------------------------------------------
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~])")


def esc(text: object) -> str:
    """Text for an HTML context: every markup character escaped."""
    return html.escape(str(text), quote=True)


def md_esc(text: object) -> str:
    """Text for a Markdown context (the chat messages): HTML escaped, Markdown punctuation backslashed, so
    an article's ``<script>``, ``<img onerror=…>`` or ``[link](javascript:…)`` shows as text."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(str(text), quote=False))




def _marker_text(text: str, cites: list[int]) -> str:
    """A sentence with its [n] markers (the markers are put back after escaping the words)."""
    body = MARKER.sub("", text).strip()
    return md_esc(body) + "".join(f" \\[{n}\\]" for n in cites)


def dateline(x: dict) -> str:
    """Who published an article and when, "CNN, 2022-06-16", where its metadata says (else "")."""
    return ", ".join(str(v) for v in (x.get("outlet"), x.get("date")) if v)


def _sources_block(a: dict) -> str:
    """The cited files, one line each with their markers, outlet and date."""
    by_file: dict[str, list] = {}
    for c in a.get("citations") or []:
        entry = by_file.setdefault(c["file"], [[], c["title"], dateline(c)])
        if c["n"] not in entry[0]:
            entry[0].append(c["n"])
    if not by_file:
        return ""
    lines = [" ".join(f"\\[{n}\\]" for n in ns) + (f' <span class="qa-dateline">{md_esc(d)}</span> ·' if d else "")
             + f" <code>{esc(f)}</code> {md_esc(t)}" for f, (ns, t, d) in by_file.items()]
    return "**Sources**  \n" + "  \n".join(lines)


def time_note(a: dict) -> str:
    """How the question's time was read ("this week" -> the articles of June 10-16 first), when it said one."""
    from qa.timeframe import read_as

    said = read_as(a.get("when"))
    if not said:
        return ""
    return f'<span class="qa-meta qa-time">Time: {esc(said)}</span>'


_REPAIR_KINDS = {"attribution": "speaker corrected", "trimmed": "unsupported part dropped",
                 "quoted": "replaced by its source's own sentence",
                 "worded": "put in its source's own words", "rewritten": "replaced by the passage's own words",
                 "removed": "removed", "not answered": "no sentence of the sources answers it; what they report instead"}


def _repairs_block(repairs: list[dict]) -> str:
    """What verification changed in the LLM's answer, and why: visible, not silent."""
    items = []
    for r in repairs:
        why = "; ".join(r.get("why") or [])
        items.append(f'<li>✎ {esc(_REPAIR_KINDS.get(r["kind"], r["kind"]))}: <s>{esc(MARKER.sub("", r["before"]))}</s>'
                     + (f" ({esc(why)})" if why else "") + "</li>")
    return f'<details class="qa-repairs"><summary>✎ {len(repairs)} sentence{"s" if len(repairs) > 1 else ""} of the ' \
           f'LLM\'s draft corrected after checking the sources</summary><ul>{"".join(items)}</ul></details>'


def render_answer(a: dict) -> str:
    """The chat message for a final answer (``Answer.to_dict()``)."""
    parts: list[str] = []
    if a.get("message"):
        parts.append(md_esc(a["message"]))
    elif a.get("abstained") and (a.get("premise") or {}).get("absent"):
        # a false premise: what the articles never mention, then the closest thing they do say, cited
        sentences = a.get("sentences") or []
        parts.append(f'<span class="qa-abstain qa-premise">{esc(sentences[0]["text"] if sentences else a["answer"])}</span>')
        if len(sentences) > 1:
            parts.append(f'<span class="qa-closest">{_marker_text(sentences[1]["text"], sentences[1].get("cites") or [])}</span>')
        parts.append(_sources_block(a))
    elif a.get("abstained"):
        said = a["answer"] or ABSTAIN_TEXT
        parts.append(f'<span class="qa-abstain">{esc(said)}</span>')
        if a.get("passages"):
            parts.append("<span class=\"qa-meta\">The closest passages are in the sources panel; "
                         "none of them answers the question.</span>")
    else:
        sentences = a.get("sentences") or []
        if sentences:
            out = []
            for s in sentences:
                words = _marker_text(s["text"], s.get("cites") or [])
                if s.get("supported") is False:
                    out.append(f'<span class="qa-unsupported" title="Not supported by the cited passage">'
                               f"⚠ {words}</span>")
                else:
                    out.append(words)
            parts.append(" ".join(out))
            flagged = sum(1 for s in sentences if s.get("supported") is False)
            if flagged:
                parts.append(f'<span class="qa-notice">⚠ {flagged} sentence{"s" if flagged > 1 else ""} '
                             "not supported by the cited passages (highlighted).</span>")
        else:
            parts.append(md_esc(a.get("answer") or ""))
        repairs = a.get("repairs") or []
        if repairs:
            parts.append(_repairs_block(repairs))
        parts.append(_sources_block(a))
    if a.get("standalone") and a.get("question") and a["standalone"] != a["question"]:
        parts.append(f'<span class="qa-meta qa-standalone">Searched for: {esc(a["standalone"])}</span>')
    if note := time_note(a):
        parts.append(note)
    if a.get("notice"):
        parts.append(f'<span class="qa-notice">{esc(a["notice"])}</span>')
    if a.get("backend"):
        parts.append(f'<span class="qa-meta qa-backend">Answered by: {esc(a["backend"])}</span>')
    return "\n\n".join(parts)


def sources_html(a: dict | None) -> str:
    """The sources panel: the cited passages (or, when the articles don't say, the closest ones)."""
    if not a:
        return '<div class="qa-empty">Sources of the latest answer appear here.</div>'
    items = []
    if a.get("citations"):
        seen = set()
        for c in a["citations"]:
            if c["n"] in seen:
                continue
            seen.add(c["n"])
            items.append((c["n"], c["file"], c["title"], c["quote"], dateline(c)))
        head = ("Closest passage (the question's premise is not in the articles)"
                if (a.get("premise") or {}).get("absent") else "Cited passages")
    elif a.get("passages"):
        items = [(p["n"], p["file"], p["title"], p["text"], dateline(p)) for p in a["passages"]]
        head = f"{ABSTAIN_TEXT} Closest passages (not an answer)" if a.get("abstained") else "Passages"
    else:
        return '<div class="qa-empty">No sources for this answer.</div>'
    cards = [
        f'<div class="qa-source" data-n="{n}"><b>[{n}]</b> '
        + (f'<span class="qa-dateline">{esc(d)}</span> · ' if d else "")
        + f'<span class="qa-file">{esc(f)}</span> <span class="qa-title">{esc(t)}</span><blockquote>{esc(q)}</blockquote></div>'
        for n, f, t, q, d in items
    ]
    return f'<div class="qa-sources"><p><b>{esc(head)}</b></p>{"".join(cards)}</div>'


def source_choices(a: dict | None) -> list[tuple[str, str]]:
    """(label, n) for the "open a source" selector."""
    if not a:
        return []
    if a.get("citations"):
        out, seen = [], set()
        for c in a["citations"]:
            if c["n"] not in seen:
                seen.add(c["n"])
                out.append((f"[{c['n']}] {c['file']}", str(c["n"])))
        return out
    return [(f"[{p['n']}] {p['file']}", str(p["n"])) for p in a.get("passages") or []]


def source_spans(a: dict | None) -> dict[str, dict]:
    """n -> the file span to open (a citation's quote, else the passage)."""
    if not a:
        return {}
    spans: dict[str, dict] = {}
    for p in a.get("passages") or []:
        spans[str(p["n"])] = {"file": p["file"], "start": p["start"], "end": p["end"]}
    for c in a.get("citations") or []:
        spans[str(c["n"])] = {"file": c["file"], "start": c["start"], "end": c["end"]}
    for p in a.get("passages") or []:  # the retrieval inspector opens passages, not citations
        spans[f"r{p['n']}"] = {"file": p["file"], "start": p["start"], "end": p["end"]}
    return spans


def retrieval_html(passages: list[dict] | None, question: str = "") -> str:
    """The retrieval inspector for the latest question: the passages the answerer was given, ranked, with
    their fused score, its article-level part, the dense and BM25 scores and ranks, and why each is there."""
    if not passages:
        return '<div class="qa-empty">The passages retrieved for the latest question, with their scores, appear here.</div>'
    rows = []
    for p in passages:
        dense = "–" if p.get("dense_rank") is None else f"{p['dense']:.3f} <small>#{p['dense_rank'] + 1}</small>"
        bm25 = "–" if p.get("bm25_rank") is None else f"{p['bm25']:.2f} <small>#{p['bm25_rank'] + 1}</small>"
        when = dateline(p)
        text = " ".join(p["text"].split())
        rows.append(
            f'<tr data-n="{p["n"]}"><td>{p["n"]}</td><td>{p["score"]:.4f}</td><td>{(p.get("file_boost") or 0):.4f}</td>'
            f'<td>{dense}</td><td>{bm25}</td><td>{esc(p.get("found_by", ""))}</td>'
            f'<td><span class="qa-file">{esc(p["file"])}</span>' + (f' <span class="qa-dateline">{esc(when)}</span>' if when else "")
            + f'<br><span class="qa-title">{esc(p["title"][:80])}</span><br><small>{esc(p.get("why", ""))}</small>'
            f'<blockquote>{esc(text[:160])}{"…" if len(text) > 160 else ""}</blockquote></td></tr>')
    head = f"Retrieval for: {question}" if question else "Retrieval"
    return (f'<div class="qa-retrieval"><p><b>{esc(head)}</b></p><table class="qa-files">'
            "<tr><th>#</th><th>fused</th><th>article part</th><th>dense</th><th>BM25</th><th>found by</th>"
            f'<th>passage</th></tr>{"".join(rows)}</table></div>')


def retrieval_choices(passages: list[dict] | None) -> list[tuple[str, str]]:
    """(label, key) for the inspector's "open a passage" selector; the key is its span's in ``spans``."""
    return [(f"#{p['n']} {p['file']}", f"r{p['n']}") for p in passages or []]


def article_html(doc, start: int, end: int, what: str = "the cited span") -> str:
    """The whole article (as the index reads it) with the file span ``[start, end)`` (``what``) highlighted."""
    text = doc.text
    span = doc.clean_span(start, end)
    if span:
        a, b = span
        body = f'{esc(text[:a])}<mark id="qa-hl">{esc(text[a:b])}</mark>{esc(text[b:])}'
    else:
        body = esc(text)
    return (f'<div class="qa-article"><p><b>{esc(doc.title)}</b><br><span class="qa-file">{esc(doc.path)}</span>'
            f'<span class="qa-meta"> · highlighted: {esc(what)} (characters {start}–{end} of the file)</span></p>'
            f'<div class="qa-article-body">{body}</div></div>')


def status_html(status: dict, corpus: str) -> str:
    arts = status["articles"]
    rows = "".join(
        f"<tr><td>{esc(a['file'])}</td><td>{esc(a['title'])}</td><td>{esc(a.get('outlet') or '')}</td>"
        f"<td>{esc(a.get('date') or '')}</td><td>{a['chunks']}</td></tr>" for a in arts
    )
    return (f'<p id="qa-count"><b>{len(arts)} article{"s" if len(arts) != 1 else ""}, {status["chunks"]} chunks</b>'
            f' in the index (folder <code>{esc(corpus)}</code>)</p>'
            f'<div class="qa-files-wrap"><table class="qa-files"><tr><th>file</th><th>title</th><th>outlet</th><th>date</th><th>chunks</th></tr>{rows}</table></div>')


ALL_ARTICLES = "All articles"
MAX_FOLLOW_UPS = 3
SUMMARISE = "Summarise this article"


def busy_message(waiting: int, limit: int) -> str | None:
    """What a request is told when ``waiting`` requests are already queued and the queue holds ``limit``
    (the setting ``queue_size``); None when it can join."""
    if waiting < limit:
        return None
    return (f"The chat is busy ({waiting} question{'s' if waiting != 1 else ''} waiting); "
            "please try again in a moment.")


def history_turns(turns: list[dict]):
    from qa.chat import Turn

    return [Turn(t["question"], t.get("standalone") or t["question"], t["answer"]) for t in turns]


# -- what the chat does, without Gradio ------------------------------------------------------------
@dataclass
class ChatView:
    """What one step of answering shows. ``None`` leaves a component as it is (the question box, the
    sources panel, the source picker's choices, the article view, the citation spans)."""

    messages: list[dict]
    turns: list[dict]
    question: str | None = None
    sources: str | None = None
    choices: list[tuple[str, str]] | None = None
    article: str | None = None
    spans: dict | None = None
    retrieval: str | None = None  # the retrieval inspector's table
    passages: list[tuple[str, str]] | None = None  # its "open a passage" choices
    suggestions: list[str] | None = None  # follow-ups to offer as buttons


def answer_dict(answer) -> dict:
    """An Answer as the chat and the API give it (passages without their scores)."""
    d = answer.to_dict()
    d["passages"] = [{k: p[k] for k in ("n", "file", "title", "start", "end", "text")} for p in d["passages"]]
    return d


class Handlers:
    """The chat's handlers over an engine: plain arguments in, plain values out (HTML, Markdown, choices),
    so tests call them without a browser; :func:`build` wires them to Gradio's components."""

    def __init__(self, engine):
        self.engine = engine
        self.settings = engine.settings

    def respond(self, question: str | None, messages: list | None, turns: list | None, backend: str | None,
                k: float | None, article: str | None = None) -> Iterator[ChatView]:
        """A question of the conversation: "Searching…", the answer as it streams, then the rendered
        answer with its sources. An error is shown in the chat and the session goes on. Each view holds
        its own copy of the conversation. ``article``: asked about that article alone (a summary, when the
        question asks for the whole of it)."""
        messages = list(messages or [])
        turns = list(turns or [])
        question = (question or "").strip()
        if not question:
            yield ChatView(list(messages), list(turns), question="")
            return
        if question == SUMMARISE and not article:
            messages += [{"role": "user", "content": md_esc(question)},
                         {"role": "assistant", "content": '<span class="qa-notice">Choose an article under '
                                                          '“Ask about” first.</span>'}]
            yield ChatView(list(messages), list(turns))
            return
        shown_q = f"{question} ({article})" if article else question
        messages.append({"role": "user", "content": md_esc(shown_q)})
        messages.append({"role": "assistant", "content": '<span class="qa-meta">Searching the articles…</span>'})
        yield ChatView(list(messages), list(turns), question="")
        streamed = ""
        final = None
        try:
            for ev in self.engine.ask_stream(question, k=int(k) if k else None, backend=backend or None,
                                             history=history_turns(turns), article=article or None, suggest=True):
                if isinstance(ev, str):
                    streamed += ev
                    messages[-1] = {"role": "assistant", "content": md_esc(streamed) + " ▌"}
                    yield ChatView(list(messages), list(turns))
                else:
                    final = ev
        except Exception as e:  # shown in the chat, the session goes on
            log.exception("answering %r failed", question)
            messages[-1] = {"role": "assistant", "content": f'<span class="qa-notice">Error: {esc(e)}</span>'}
            yield ChatView(list(messages), list(turns))
            return
        assert final is not None
        scored = final.to_dict()["passages"]
        a = answer_dict(final)
        messages[-1] = {"role": "assistant", "content": render_answer(a)}
        if not a["message"]:
            turns.append({"question": question, "standalone": a["standalone"], "answer": a["answer"]})
        yield ChatView(list(messages), list(turns), sources=sources_html(a), choices=source_choices(a),
                       article='<div class="qa-empty">Choose a source above to read the whole article.</div>',
                       spans=source_spans(a), retrieval=retrieval_html(scored, a["standalone"] or question),
                       passages=retrieval_choices(scored), suggestions=a["suggestions"])

    def clear(self) -> ChatView:
        return ChatView([], [], question="", sources=sources_html(None), choices=[], article="", spans={},
                        retrieval=retrieval_html(None), passages=[], suggestions=[])

    def open_source(self, n: str | None, spans: dict | None) -> str | None:
        """The whole article of source ``n`` with its cited span highlighted (None: nothing chosen)."""
        if not n or not spans or str(n) not in spans:
            return None
        sp = spans[str(n)]
        try:
            doc = self.engine.article(sp["file"])
        except (OSError, ValueError) as e:
            return f'<div class="qa-notice">Cannot open {esc(sp["file"])}: {esc(e)}</div>'
        return article_html(doc, sp["start"], sp["end"],
                            "the retrieved passage" if str(n).startswith("r") else "the cited span")

    def index_view(self) -> tuple[str, list[str]]:
        """The index's status table and the articles that can be removed."""
        st = self.engine.status()
        return status_html(st, str(self.settings.corpus_dir)), [a["file"] for a in st["articles"]]

    def upload(self, paths: list | None, replace: bool,
               progress: Callable[..., None] | None = None) -> tuple[str, str, list[str]]:
        """Uploaded files added to the corpus and indexed at once: what was added or rejected and why,
        then the index view. ``progress(value, desc=, unit=)`` is told how indexing goes."""
        s = self.settings
        paths = paths or []
        if not paths:
            return ("", *self.index_view())
        if len(paths) > s.upload_max_files:
            return (f"Too many files at once ({len(paths)} > {s.upload_max_files}).", *self.index_view())
        report_progress = progress or (lambda *a, **kw: None)
        items, notes = [], []
        for f in paths:
            p = Path(f)
            if p.stat().st_size > s.upload_max_bytes:
                notes.append(f"{p.name}: too large ({p.stat().st_size / 1e6:.1f} MB > {s.upload_max_bytes / 1e6:.1f} MB)")
                continue
            items.append((p.name, p.read_bytes()))
        total = {"n": 0, "done": 0}

        def on_start(n):
            total["n"] = n
            report_progress((0, n), desc="Indexing", unit="chunks")

        def on_progress(n):
            total["done"] += n
            report_progress((total["done"], total["n"]), desc="Indexing", unit="chunks")

        report_progress(0, desc="Checking the files")
        report, rejected = self.engine.add_articles(items, bool(replace), on_start, on_progress)
        lines = []
        if report:
            lines += [f"✔ added {md_esc(f)}" for f in report.added]
            lines += [f"✔ replaced {md_esc(f)}" for f in report.updated]
            lines.append(f"indexed {report.chunks_added} chunks in {report.seconds:.1f} s; ask about it now")
        lines += [f"✘ {md_esc(name)}: {md_esc(why)}" for name, why in rejected]
        lines += [f"✘ {md_esc(n)}" for n in notes]
        return ("  \n".join(lines), *self.index_view())

    def remove(self, file: str | None) -> tuple[str, str, list[str]]:
        """An article taken out of the index (its file kept aside): what happened, then the index view."""
        if not file:
            return ("Choose an article to remove.", *self.index_view())
        try:
            report, dest = self.engine.remove_article(file)
        except (OSError, ValueError) as e:
            return (f"✘ {md_esc(e)}", *self.index_view())
        where = (f"; the file was moved to <code>{esc(dest.relative_to(self.settings.corpus_dir).as_posix())}</code> "
                 "in the corpus folder (move it back to restore it)") if dest else ""
        return (f"✔ removed {md_esc(file)} from the index ({report.chunks_removed} chunks){where}", *self.index_view())

    def api_ask(self, question: str, backend: str = "", k: int = 0, history: list[dict] | None = None,
                article: str = "") -> dict:
        """Ask a question; returns the answer text, its citations (file, title, start, end, quote), the
        answer sentences with their support flags, the backend that answered, and timings.
        ``history``: earlier turns as [{"question": …, "answer": …}], oldest first. ``article``: an indexed
        file to ask about alone ("Summarise this article" sums it up)."""
        turns = [{"question": t.get("question", ""), "standalone": t.get("standalone"), "answer": t.get("answer", "")}
                 for t in history or []]
        answer = self.engine.ask(question, k=int(k) or None, backend=backend or None, history=history_turns(turns),
                                 article=article or None)
        return answer_dict(answer)


# -- the app ---------------------------------------------------------------------------------
def build(engine):
    """The Gradio Blocks over an engine (which must already be synced): the layout, wired to :class:`Handlers`."""
    import gradio as gr

    h = Handlers(engine)
    have_seeds = any(a["file"] in SEED_EXAMPLES for a in engine.status()["articles"])
    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        ui = _layout(engine.settings, have_seeds)
        _wire(demo, ui, h)
        gr.api(h.api_ask, api_name="ask")
    # gr.api takes no validator argument: the API's questions get the same "busy" check as the chat's
    for fn in demo.fns.values():
        if fn.api_name == "ask":
            fn.validator = _busy_check(demo, engine.settings.queue_size)
    return demo


def waiting(demo) -> int:
    """Requests waiting in the app's queue (not those being worked on)."""
    return len(demo._queue)


def _busy_check(demo, limit: int) -> Callable:
    """A Gradio validator: it runs when a request joins the queue, before it waits, and turns it away with
    :func:`busy_message` when ``limit`` requests are already waiting. gradio_client raises it as a
    ValidationError carrying the message; the browser shows it at the question box, which keeps the question."""
    import gradio as gr

    def check(*inputs):
        msg = busy_message(waiting(demo), limit)  # shown at the first input: the question
        return [gr.validate(msg is None, msg or "")] + [gr.validate(True, "") for _ in inputs[1:]]

    return check


QUEUE_SLACK = 16  # Gradio's own limit, above ours, for requests that race past the busy check together


def queue(demo, settings):
    """The app's queue: ``concurrency_limit`` requests worked on at once, the rest wait; past ``queue_size``
    waiting, a request is told the chat is busy (:func:`_busy_check`). Gradio's own limit (max_size) is a
    backstop a little above it; when it is hit, the browser says "This application is currently busy. Please
    try again." and gradio_client raises QueueError("Queue is full! Please try again.")."""
    return demo.queue(default_concurrency_limit=settings.concurrency_limit,
                      max_size=settings.queue_size + QUEUE_SLACK)


def _layout(settings, have_seeds: bool) -> SimpleNamespace:
    """The components: the conversation on the left; sources, settings and articles in tabs on the right."""
    import gradio as gr

    ui = SimpleNamespace()
    gr.Markdown(f"## {TITLE}\nAsk about the articles in the corpus. Answers cite numbered passages; "
                "open a source to read the whole article with the cited span highlighted.")
    ui.turns = gr.State([])
    ui.spans = gr.State({})
    with gr.Row():
        with gr.Column(scale=3):
            ui.chat = gr.Chatbot(elem_id="chat", label="Conversation", height=520, sanitize_html=True,
                                 render_markdown=True, feedback_options=None, buttons=["copy"],
                                 placeholder="Ask a question about the articles.")
            with gr.Row():
                ui.question = gr.Textbox(elem_id="question", label="Question", show_label=False, scale=5, lines=1,
                                         max_lines=4, placeholder="Ask a question (follow-ups use the conversation)",
                                         max_length=settings.max_question_chars)
                ui.ask = gr.Button("Ask", elem_id="ask", variant="primary", scale=1)
                ui.clear = gr.Button("Clear chat", elem_id="clear", scale=1)
            with gr.Row(elem_id="follow-ups"):
                ui.follow = [gr.Button("", visible=False, size="sm", elem_classes=["qa-follow"],
                                       elem_id=f"follow-{i}") for i in range(MAX_FOLLOW_UPS)]
            with gr.Row():
                ui.scope = gr.Dropdown([(ALL_ARTICLES, "")], value="", label="Ask about", elem_id="scope", scale=4,
                                       info="all the articles, or one: its passages alone answer")
                ui.summarise = gr.Button("Summarise this article", elem_id="summarise", scale=1)
            if have_seeds:
                gr.Examples(list(SEED_EXAMPLES.values()) + [SEED_FOLLOW_UP], inputs=[ui.question],
                            label="Example questions")
        with gr.Column(scale=2):
            with gr.Tab("Sources", elem_id="tab-sources"):
                ui.sources = gr.HTML(sources_html(None), elem_id="sources")
                ui.pick = gr.Radio([], label="Open a source", elem_id="open-source")
                ui.article = gr.HTML("", elem_id="article")
            with gr.Tab("Retrieval", elem_id="tab-retrieval"):
                ui.retrieval = gr.HTML(retrieval_html(None), elem_id="retrieval")
                ui.rpick = gr.Radio([], label="Open a passage in its article", elem_id="open-passage")
                ui.rarticle = gr.HTML("", elem_id="retrieval-article")
            with gr.Tab("Settings", elem_id="tab-settings"):
                ui.backend = gr.Radio(BACKENDS, value=settings.backend, label="Answer backend", elem_id="backend")
                ui.k = gr.Slider(1, 20, value=settings.top_k, step=1, label="Passages given to the answerer (top-k)",
                                 elem_id="top-k")
            with gr.Tab("Articles", elem_id="tab-articles"):
                ui.status = gr.HTML("", elem_id="index-status")
                ui.files = gr.File(label="Add articles (.txt, .md, .html)", file_count="multiple",
                                   file_types=UPLOAD_TYPES, elem_id="upload")
                ui.replace = gr.Checkbox(False, label="Replace an article that has the same file name",
                                         elem_id="replace")
                ui.upload_msg = gr.Markdown("", elem_id="upload-result")
                with gr.Row():
                    ui.to_remove = gr.Dropdown([], label="Remove an article from the index", elem_id="remove-file",
                                               scale=3)
                    ui.remove = gr.Button("Remove", elem_id="remove", variant="stop", scale=1)
                ui.remove_msg = gr.Markdown("", elem_id="remove-result")
    return ui


def _wire(demo, ui: SimpleNamespace, h: Handlers) -> None:
    """The components' events, through thin adapters from :class:`Handlers`' plain values to Gradio's
    updates (``None`` there is ``gr.skip()`` here). Index changes run one at a time."""
    import gradio as gr

    def shown(v: ChatView) -> tuple:
        keep = gr.skip()
        return (v.messages, keep if v.question is None else v.question, keep if v.sources is None else v.sources,
                keep if v.choices is None else gr.update(choices=v.choices, value=None),
                keep if v.article is None else v.article, v.turns, keep if v.spans is None else v.spans,
                keep if v.retrieval is None else v.retrieval,
                keep if v.passages is None else gr.update(choices=v.passages, value=None),
                keep if v.passages is None else "",
                *[keep if v.suggestions is None else
                  gr.update(value=v.suggestions[i] if i < len(v.suggestions) else "", visible=i < len(v.suggestions))
                  for i in range(MAX_FOLLOW_UPS)])

    def respond(question, messages, turns, backend, k, scope):
        for view in h.respond(question, messages, turns, backend, k, scope or None):
            yield shown(view)

    def summarise(messages, turns, backend, k, scope):
        yield from respond(SUMMARISE, messages, turns, backend, k, scope)

    def clear():
        return shown(h.clear())

    def open_source(n, spans):
        out = h.open_source(n, spans)
        return gr.skip() if out is None else out

    def scopes(names):
        return gr.update(choices=[(ALL_ARTICLES, "")] + [(n, n) for n in names])

    def index_view():
        html_, files = h.index_view()
        return html_, gr.update(choices=files, value=None), scopes(files)

    def upload(files, replace, progress=gr.Progress()):
        msg, html_, names = h.upload(files, replace, progress)
        return msg, html_, gr.update(choices=names, value=None), None, scopes(names)

    def remove(file):
        msg, html_, names = h.remove(file)
        return msg, html_, gr.update(choices=names, value=None), scopes(names)

    outs = [ui.chat, ui.question, ui.sources, ui.pick, ui.article, ui.turns, ui.spans, ui.retrieval, ui.rpick,
            ui.rarticle, *ui.follow]
    ins = [ui.question, ui.chat, ui.turns, ui.backend, ui.k, ui.scope]
    busy = _busy_check(demo, h.settings.queue_size)
    ui.question.submit(respond, ins, outs, api_visibility="private", validator=busy)
    ui.ask.click(respond, ins, outs, api_visibility="private", validator=busy)
    ui.summarise.click(summarise, ins[1:], outs, api_visibility="private", validator=busy)
    for b in ui.follow:  # a suggested follow-up, clicked, is asked (its label is the question)
        b.click(respond, [b, *ins[1:]], outs, api_visibility="private", validator=busy)
    ui.clear.click(clear, None, outs, api_visibility="private", queue=False)
    ui.chat.clear(clear, None, outs, api_visibility="private", queue=False)  # the chat's own trash button
    ui.pick.change(open_source, [ui.pick, ui.spans], [ui.article], api_visibility="private").then(
        None, js=scroll_to_mark("article"))
    ui.rpick.change(open_source, [ui.rpick, ui.spans], [ui.rarticle], api_visibility="private").then(
        None, js=scroll_to_mark("retrieval-article"))
    ui.files.upload(upload, [ui.files, ui.replace], [ui.upload_msg, ui.status, ui.to_remove, ui.files, ui.scope],
                    api_visibility="private", concurrency_limit=1, concurrency_id="index")
    ui.remove.click(remove, [ui.to_remove], [ui.remove_msg, ui.status, ui.to_remove, ui.scope],
                    api_visibility="private", concurrency_limit=1, concurrency_id="index")
    demo.load(index_view, None, [ui.status, ui.to_remove, ui.scope], api_visibility="private")


def theme():
    import gradio as gr

    system = ["ui-sans-serif", "system-ui", "sans-serif"]  # no web fonts: nothing fetched from a CDN
    mono = ["ui-monospace", "monospace"]
    return gr.themes.Default(font=system, font_mono=mono)


def sync_with_progress(engine) -> None:
    from tqdm import tqdm

    bar = None

    def on_start(n):
        nonlocal bar
        bar = tqdm(total=n, unit="chunk", desc="indexing", file=sys.stderr)

    def on_progress(n):
        if bar:
            bar.update(n)

    print(f"syncing the index with {engine.settings.corpus_dir} …", file=sys.stderr, flush=True)
    try:
        report = engine.sync(None, on_start, on_progress)
    finally:
        if bar:
            bar.close()
    print(report.summary(), file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from qa.config import load_settings
    from qa.engine import Engine

    settings = load_settings()
    engine = Engine(settings)
    Path(settings.corpus_dir).mkdir(parents=True, exist_ok=True)
    sync_with_progress(engine)
    demo = build(engine)
    queue(demo, settings)
    auth = None
    if settings.auth_user and settings.auth_password:  # the settings require both or neither
        auth = (settings.auth_user, settings.auth_password.get_secret_value())
    elif settings.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: serving on {settings.host} without a password (set QA_AUTH_USER and QA_AUTH_PASSWORD)",
              file=sys.stderr)
    print(f"chat at http://{settings.host}:{settings.port}", file=sys.stderr, flush=True)
    demo.launch(server_name=settings.host, server_port=settings.port, auth=auth, share=False,
                max_file_size=settings.upload_max_bytes, show_error=True, ssr_mode=False, theme=theme(), css=CSS,
                footer_links=["api"], quiet=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
