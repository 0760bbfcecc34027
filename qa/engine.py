"""The engine: one object the shells (CLI, app, eval) call. Sync the index, retrieve, answer."""

from __future__ import annotations

import collections
import contextlib
import errno
import logging
import os
import re
import threading
import time
import uuid
from datetime import date
from pathlib import Path
from typing import Callable, Iterator

from . import timeframe
from .answer import Answerer, ExtractiveAnswerer
from .chat import Turn, condense, is_follow_up
from .config import Settings, load_settings
from .corpus import Document, Skipped, check_article_name, file_hash, parse
from .embedding import Embedder
from .index import ChromaIndex, IndexUnavailable, SyncReport, read_meta
from .meta import ArticleMeta
from .retrieve import HybridRetriever, LexicalIndex, Retrieval
from .schema import BACKENDS, MARKER, Answer, AnswerSentence, Citation, Event, Generator, Passage
from .suggest import suggest
from .summary import asks_for_summary, summary_passages
from .text import terms
from .timeframe import Frame

log = logging.getLogger(__name__)

EMPTY_QUESTION = "Please type a question."
MAX_HISTORY = 6  # turns a rewrite looks at (newest kept)
EMPTY_INDEX = "The index is empty: build it with `qa index [FOLDER]` (or `make run`) and ask again."
REMOVED_DIR = ".removed"  # inside the corpus folder; hidden, so the scanner ignores it


class RWLock:
    """Many readers (questions) or one writer (an index sync) at a time; a waiting writer goes first."""

    def __init__(self):
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting = 0
        # how long each writer (a sync, an upload, a removal) waited for the lock, in seconds, newest last
        self.write_waits: collections.deque[float] = collections.deque(maxlen=256)

    @contextlib.contextmanager
    def read(self):
        with self._cond:
            while self._writer or self._waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self):
        t0 = time.perf_counter()
        with self._cond:
            self._waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._waiting -= 1
            self._writer = True
            self.write_waits.append(time.perf_counter() - t0)
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


# control characters, terminal escape sequences and bidirectional overrides: never part of a question
_CONTROL = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069]")
UNKNOWN_WORDS = "None of the question's words occurs in the articles (is it in another language or script?)."


def clean_question(question: str) -> str:
    """The question without control characters, escape sequences or direction overrides (each a space)."""
    return _CONTROL.sub(" ", question or "")


def too_long(limit: int) -> str:
    return f"The question is too long (over {limit} characters): please shorten it."


class Engine:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self.embedder = embedder or Embedder(self.settings.embed_model, self.settings.threads, self.settings.embed_batch,
                                            self.settings.embed_backend, self.settings.model_cache)
        self.index = ChromaIndex(self.settings, self.embedder)
        self.retriever = HybridRetriever(self.settings, self.embedder, self.index)
        self._answerers: dict[str, Answerer] = {}  # by backend name: a GenerativeAnswerer, or what stands in for it
        self._extractive_answerer: ExtractiveAnswerer | None = None
        self.backend_error: str | None = None
        # the index is read by questions and written by syncs; a llama.cpp model is not thread-safe, so
        # generation (and loading a model) is serialized, while extractive questions run side by side
        self.index_lock = RWLock()
        self.model_lock = threading.Lock()
        self._lexical: LexicalIndex | None = None  # as of the last retrieval (see _lexical_snapshot)
        self._meta: dict[str, ArticleMeta] | None = None  # each article's metadata, read once per sync
        self._dates: dict[str, date | None] | None = None
        self._texts: dict[tuple, str] = {}
        self._texts_lock = threading.Lock()

    @contextlib.contextmanager
    def _served(self):
        """A Chroma server that fails or goes away while it is used, or a local index folder that cannot be
        written (full, read-only), is an IndexUnavailable saying what to do (the shells show it), not a client
        library's traceback. Nothing is lost: the articles are in the corpus folder, and the index is usable
        again once the server is back or the next `qa index` has finished what the failed one began."""
        try:
            yield
        except (IndexUnavailable, ConnectionError):  # ours, already saying what to do
            raise
        except Exception as e:
            origin = type(e).__module__.split(".")[0]
            if self.settings.chroma_url and origin in ("chromadb", "httpx", "httpcore", "requests", "urllib3"):
                raise IndexUnavailable(f"the Chroma server at {self.settings.chroma_url} (QA_CHROMA_URL) failed: "
                                       f"{e or type(e).__name__}; start it again and retry") from e
            if not self.settings.chroma_url and (origin == "chromadb" or isinstance(e, OSError) and e.errno in (
                    errno.ENOSPC, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT)):
                # a full disk, a read-only or locked-down folder: the next `qa index` finishes what this began
                raise IndexUnavailable(
                    f"the index in {self.settings.index_dir} could not be used ({e}); the articles are safe in the "
                    f"corpus folder: free space or fix the folder's permissions, then run `qa index` again "
                    f"(it completes an interrupted build)") from e
            raise

    # -- index ------------------------------------------------------------------------------
    def sync(
        self,
        corpus_dir: Path | None = None,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> SyncReport:
        with self.index_lock.write(), self._served():
            return self._sync(corpus_dir, on_start, on_progress)

    def _sync(self, corpus_dir=None, on_start=None, on_progress=None) -> SyncReport:
        report = self.index.sync(Path(corpus_dir or self.settings.corpus_dir), on_start, on_progress)
        if report.changed or report.metadata_updated:
            self._meta = self._dates = None
        if report.changed:
            # the lexical index follows the change now (under the write lock, reusing the unchanged articles,
            # and saved beside the index), so the next question, here or in a new process, does not rebuild it
            self.retriever.invalidate()
            lexical = self.retriever.lexical
            if self._lexical is not None:  # answers streaming now keep reading the statistics they began with
                self._lexical = lexical
        return report

    def status(self) -> dict:
        """What is indexed: articles (file, title, chunks), and the number of chunks."""
        with self.index_lock.read(), self._served():
            return {"articles": self.index.files(), "chunks": self.index.count()}

    def _corpus_path(self, file: str) -> Path:
        """The path of an article inside the corpus folder; refuses anything that leaves it or is hidden."""
        root = Path(self.settings.corpus_dir).resolve()
        rel = Path(file)
        if rel.is_absolute() or any(part in ("", ".", "..") or part.startswith(".") for part in rel.parts):
            raise ValueError(f"not an article of the corpus: {file!r}")
        path = root / rel
        if not path.resolve().is_relative_to(root):
            raise ValueError(f"not an article of the corpus: {file!r}")
        return path

    def article(self, file: str) -> Document:
        """An article as the index reads it (clean text and the map back to the file's offsets)."""
        path = self._corpus_path(file)
        doc = parse(file, path.read_bytes())
        if isinstance(doc, Skipped):
            raise ValueError(f"{file}: {doc.reason}")
        return doc

    def check_upload(self, name: str, data: bytes, replace: bool = False, have: dict | None = None) -> str | None:
        """Why an uploaded article cannot be added under ``name``, or None when it can."""
        s = self.settings
        why = check_article_name(name)
        if why:
            return why
        limit = min(s.upload_max_bytes, s.max_file_bytes)
        if len(data) > limit:
            return f"too large: {len(data) / 1e6:.1f} MB > limit {limit / 1e6:.1f} MB"
        doc = parse(name, data)
        if isinstance(doc, Skipped):
            return doc.reason
        path = self._corpus_path(name)
        if path.exists() or path.is_symlink():
            if not path.is_file():
                return "a folder of that name exists in the corpus"
            if file_hash(path.read_bytes()) == doc.sha256:
                return "already in the corpus (same name, same text)"
            if not replace:
                return "an article with this name exists; choose replace to overwrite it"
        have = self.index.manifest() if have is None else have
        for other, md in have.items():
            if other != name and md.get("hash") == doc.sha256:
                return f"the same text is already in the corpus as {other}"
        return None

    def add_articles(
        self,
        items: list[tuple[str, bytes]],
        replace: bool = False,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> tuple[SyncReport | None, list[tuple[str, str]]]:
        """Save uploaded articles (name, bytes) into the corpus folder and index them at once.
        Returns the sync report (None when nothing was saved) and the rejected (name, reason)."""
        rejected: list[tuple[str, str]] = []
        with self.index_lock.write():
            root = Path(self.settings.corpus_dir)
            root.mkdir(parents=True, exist_ok=True)
            have = self.index.manifest()
            saved: set[str] = set()
            for name, data in items:
                why = "given twice in this upload" if name in saved else self.check_upload(name, data, replace, have)
                if why:
                    rejected.append((name, why))
                    continue
                tmp = root / f".upload-{uuid.uuid4().hex}.part"  # hidden until complete
                tmp.write_bytes(data)
                os.replace(tmp, self._corpus_path(name))
                saved.add(name)
            if not saved:
                return None, rejected
            return self._sync(None, on_start, on_progress), rejected

    def remove_article(self, file: str) -> tuple[SyncReport, Path | None]:
        """Take an article out of the index without losing it: its file moves to ``.removed/<time>/`` in
        the corpus folder (hidden, so never indexed; move it back to restore it). Returns the sync
        report and where the file went (None when it was already gone from the folder)."""
        with self.index_lock.write():
            path = self._corpus_path(file)
            dest = None
            if path.is_file():
                root = Path(self.settings.corpus_dir)
                dest = root / REMOVED_DIR / time.strftime("%Y%m%d-%H%M%S") / file
                n = 1
                while dest.exists():
                    dest = root / REMOVED_DIR / f"{time.strftime('%Y%m%d-%H%M%S')}-{n}" / file
                    n += 1
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(path, dest)
            elif file not in self.index.manifest():
                raise ValueError(f"not in the index: {file}")
            return self._sync(), dest

    def article_text(self, file: str) -> str | None:
        """The clean text of an article of the corpus (cached while the file is unchanged), so a passage's
        neighbouring sentences can be read (who "he" is in "…, he wrote"). None when it cannot be read."""
        try:
            path = self._corpus_path(file)
            st = path.stat()
        except (ValueError, OSError):
            return None
        key = (file, st.st_mtime_ns, st.st_size)
        with self._texts_lock:
            if key in self._texts:
                return self._texts[key]
        try:
            doc = self.article(file)
        except (ValueError, OSError):
            return None
        with self._texts_lock:
            if len(self._texts) > 256:
                self._texts.clear()
            self._texts[key] = doc.text
        return doc.text

    # -- answering --------------------------------------------------------------------------
    def _lexical_snapshot(self):
        """The lexical statistics as of the last retrieval under the read lock: answering runs outside the
        lock, where rebuilding them could read an index a sync is half-way through writing."""
        lex = self._lexical
        return lex if lex is not None else self.retriever.lexical

    @property
    def scorer(self) -> ExtractiveAnswerer:
        """The sentence scorer every backend shares (the extractive answerer): candidates and their support."""
        return self._extractive()

    def _extractive(self) -> ExtractiveAnswerer:
        if self._extractive_answerer is None:
            self._extractive_answerer = ExtractiveAnswerer(
                self.embedder, self._lexical_snapshot, self.settings.abstain_threshold,
                self.settings.answer_sentences, article_text=self.article_text,
                weak=self.settings.llm_abstain_threshold,
            )
        return self._extractive_answerer

    def _generative(self, name: str):
        from .llm import GenerativeAnswerer, LocalGenerator, ModelError, ServerGenerator, resolve_model

        s = self.settings
        if name == "server":
            if not s.llm_url:
                raise ModelError("no LLM server configured (setting QA_LLM_URL)")
            server = ServerGenerator(s.llm_url, s.llm_name, s.llm_key, s.llm_timeout)
            server.check()
            gen: ServerGenerator | LocalGenerator = server
        else:
            gen = LocalGenerator(resolve_model(s.llm_model, s.model_cache), s.threads, s.llm_ctx)
            gen.llm  # load now, so a bad file fails here with its setting named
        return GenerativeAnswerer(gen, self._extractive(), self.verifier(), s.llm_budget, s.llm_max_tokens,
                                  s.llm_abstain_threshold)

    def verifier(self, threshold: float | None = None, article_text: Callable[[str], str | None] | None = None):
        """The sentence verifier answers are checked with: this engine's embedder, the threshold setting
        unless given, and the corpus's articles (for a quote's speaker) unless another reader is given."""
        from .verify import Verifier

        return Verifier(self.embedder, self.settings.verify_threshold if threshold is None else threshold,
                        article_text or self.article_text)

    def answerer(self, backend: str | None = None) -> Answerer:
        """The answerer for a backend name; an unavailable LLM falls back to extractive (when allowed),
        and ``self.backend_error`` says why."""
        from .llm import ModelError

        name = backend or self.settings.backend
        if name not in BACKENDS:
            raise ValueError(f"unknown answer backend {name!r} (setting QA_BACKEND)")
        if name == "extractive":
            return self._extractive()
        if name not in self._answerers:
            wanted = name
            if name == "auto":
                import importlib.util

                wanted = "server" if self.settings.llm_url else "local"
                if wanted == "local" and importlib.util.find_spec("llama_cpp") is None:
                    self._answerers[name] = self._extractive()
                    return self._answerers[name]
            try:
                self._answerers[name] = self._generative(wanted)
            except ModelError as e:
                if not self.settings.llm_fallback:
                    raise
                log.warning("backend %s unavailable, answering extractively: %s", wanted, e)
                self.backend_error = str(e)
                self._answerers[name] = Fallback(self._extractive(), str(e))
        return self._answerers[name]

    def generator(self, backend: str | None = None) -> Generator:
        """The LLM generator of a backend (``auto``: the configured one), for shells that use the model
        directly (a judge); an error naming the setting when none is available."""
        from .llm import ModelError

        name = backend or (self.settings.backend if self.settings.backend in ("local", "server") else "auto")
        with self.model_lock:
            answerer = self.answerer(name)
        if answerer.gen is None:
            raise ModelError(f"an LLM backend is needed (QA_BACKEND): {self.backend_error or 'none available'}")
        return answerer.gen

    def check_question(self, question: str) -> str | None:
        """A message when the question cannot be asked, else None."""
        if not question or not question.strip():
            return EMPTY_QUESTION
        if len(question) > self.settings.max_question_chars:
            return too_long(self.settings.max_question_chars)
        return None

    def search(self, question: str, k: int | None = None, timings: dict | None = None,
               as_of: date | str | None = None, article: str | None = None) -> Retrieval:
        """Retrieval alone, no answer (benchmarks, inspection): the top ``k`` passages and the ranking of
        every candidate article, read under the index lock like a question's, in the question's time frame
        (``article``: that article's passages alone)."""
        with self.index_lock.read(), self._served():
            found = self._search(question, k, timings, None, self.frame(question, as_of), article)[0]
        metas = self.article_meta()
        for p in found.passages:  # who published each article, and when
            p.outlet, p.date = published(metas, p.file)
        return found

    def retrieve(self, question: str, k: int | None = None, timings: dict | None = None,
                 as_of: date | str | None = None) -> list[Passage]:
        return self.search(question, k, timings, as_of).passages

    def frame(self, question: str, as_of: date | str | None = None) -> Frame:
        """The question's time frame (qa.timeframe) as of ``as_of``, else the as_of setting, else today
        (with time_aware off: no frame, every article is used)."""
        if not self.settings.time_aware:
            return Frame(date.max)
        return timeframe.frame(question, as_of or self.settings.as_of)

    def _search(self, question: str, k: int | None, timings: dict | None, qemb, frame: Frame,
                only: str | None = None) -> tuple[Retrieval, Frame]:
        """Retrieval in ``frame`` (call under the read lock); the frame returned says whether any dated
        article was published in the period the question names (in a corpus with no dated article,
        nothing is said)."""
        dates = self.article_dates()
        if frame.near and not frame.recent and any(dates.values()):
            frame.empty = not any(d and frame.allows(d) and frame.distance(d) == 0 for d in dates.values())
        return self.retriever.search(question, k, timings, qemb, frame, dates, only), frame

    def ask_stream(
        self, question: str, k: int | None = None, backend: str | None = None, history: list[Turn] | None = None,
        budget: int | None = None, as_of: date | str | None = None, article: str | None = None,
        suggest: bool = False,
    ) -> Iterator[Event]:
        """Text pieces as they come, then the final Answer. ``history`` holds the earlier turns of a
        conversation (oldest first); a follow-up is rewritten with it before retrieval. ``k``, ``backend``,
        ``budget`` (the LLM's evidence word-pieces) and ``as_of`` (the day it is asked on) override their
        settings for this question only. ``article``: ask about that article alone (an indexed file); a
        question that asks for the article as a whole ("summarise it") gets a summary (qa.summary).
        ``suggest``: the final Answer carries up to three follow-ups its cited articles answer."""
        with self.model_lock:  # building an answerer (loading its model) happens once
            answerer = self.answerer(backend)
        yield from self._ask_stream(answerer, question, k, history, budget, as_of, article, suggest)

    def _ask_stream(self, answerer, question: str, k: int | None, history: list[Turn] | None,
                    budget: int | None = None, as_of: date | str | None = None,
                    article: str | None = None, suggest: bool = False) -> Iterator[Event]:
        """The index read lock is held only while the question is retrieved and its premise checked (a
        consistent snapshot: passages, lexical statistics), never while an answer is generated or read by
        a client, so a sync never waits on a slow stream. llama.cpp calls are serialised by the generator."""
        t0 = time.perf_counter()
        question = clean_question(question)
        refusal = self.check_question(question)
        if refusal is None:
            with self.index_lock.read(), self._served():
                if self.index.count() == 0:
                    refusal = EMPTY_INDEX
                elif article is not None and article not in self.retriever.lexical.files:
                    refusal = f"{article} is not in the index (`qa files` lists what is)."
        if refusal:
            yield refusal
            yield Answer(question or "", refusal, backend=answerer.name, message=refusal,
                         timings={"total_ms": (time.perf_counter() - t0) * 1000})
            return
        asked = question.strip()
        summary = article is not None and asks_for_summary(asked)
        question = asked if summary else self.standalone(asked, history or [], answerer)
        timings: dict = {}
        qemb = self.embedder.encode_one(question)
        with self.index_lock.read(), self._served():
            if summary:
                assert article is not None
                t = time.perf_counter()
                found, frame = Retrieval(summary_passages(self.article(article), self.embedder), [article]), Frame(date.max)
                timings["summary_ms"] = (time.perf_counter() - t) * 1000
            else:
                found, frame = self._search(question, k, timings, qemb, self.frame(question, as_of), article)
            passages = found.passages
            premise = self.check_premise(question, passages)
            self._lexical = self.retriever.lexical  # what answering scores with, as of this snapshot
            metas = self.article_meta()
        for p in passages:  # who published each article and when: the answerer may say so
            p.outlet, p.date = published(metas, p.file)
        first = None
        declined = premise.declined and self.settings.premise_check
        if summary:
            events = self._summary(answerer, question, passages)
        elif declined:  # never an answer about someone else as one about X
            log.info("premise check: the articles do not mention %s", ", ".join(f.text for f in premise.absent))
            events = self._declined(answerer.name, question, premise, passages, qemb)
        else:
            events = self._guarded(answerer, question, passages, qemb, budget)
        s = self.settings
        options = {"k": k or s.top_k, "backend": answerer.name, "model": answerer.gen.label if answerer.gen else None,
                   "budget": (budget or s.llm_budget) if answerer.gen else None, "premise_check": s.premise_check}
        for ev in events:
            if isinstance(ev, Answer):
                ev.question, ev.standalone, ev.ranking, ev.options = asked, question, found.files, options
                ev.timings.update(timings)
                ev.timings["first_token_ms"] = ((first or time.perf_counter()) - t0) * 1000
                ev.timings["total_ms"] = (time.perf_counter() - t0) * 1000
                if premise.facts and ev.premise is None:
                    ev.premise = premise.to_dict()
                extra = self._compare(question, ev, passages, metas, declined)
                for c in ev.citations:  # who published each article used, and when
                    c.outlet, c.date = published(metas, c.file)
                for p in ev.passages:
                    p.outlet, p.date = published(metas, p.file)
                ev.when = frame.to_dict()
                if note := dated(frame, ev):
                    ev.notice = f"{ev.notice} {note}" if ev.notice else note
                if ev.abstained and not any(t in self._lexical_snapshot().df for t in terms(question)):
                    ev.notice = f"{ev.notice} {UNKNOWN_WORDS}" if ev.notice else UNKNOWN_WORDS
                if suggest:
                    t = time.perf_counter()
                    ev.suggestions = self.suggest(ev)
                    ev.timings["suggest_ms"] = (time.perf_counter() - t) * 1000
                if extra:
                    yield extra
            elif first is None:
                first = time.perf_counter()
            yield ev

    def article_meta(self) -> dict[str, ArticleMeta]:
        """Each indexed article's metadata (outlet, date, …) by file; read from the index once per sync."""
        if self._meta is None:
            self._meta = {f: read_meta(md.get("meta")) for f, md in self.index.manifest().items()}
        return self._meta

    def article_dates(self) -> dict[str, date | None]:
        """Each indexed article's publication day by file (None: undated), parsed once per sync."""
        if self._dates is None:
            self._dates = {f: timeframe.to_date(m.date) for f, m in self.article_meta().items()}
        return self._dates

    def _compare(self, question: str, answer: Answer, passages: list[Passage], metas: dict[str, ArticleMeta],
                 declined: bool) -> str | None:
        """Whether the retrieved articles agree on what is asked (qa.sources): the sentence saying so is added
        to the answer, and returned as the text piece still to stream."""
        if not self.settings.compare_sources or declined:
            return None
        from . import sources

        lex = self._lexical_snapshot()
        comp = sources.compare(question, answer, passages, lambda f: published(metas, f), lex.idf)
        if comp is None:
            return None
        answer.comparison = comp.to_dict(lambda f: published(metas, f))
        return " " + comp.sentence

    def check_premise(self, question: str, passages: list[Passage]):
        """What the question takes for granted that the retrieved passages do not say (qa.premise)."""
        from . import premise

        texts = [f"{p.title}. {p.text}" for p in passages]
        articles = [t for f in dict.fromkeys(p.file for p in passages) if (t := self.article_text(f))]
        return premise.check(question, texts, articles, self.retriever.lexical.vocab)

    def _declined(self, backend: str, question: str, premise, passages: list[Passage], qemb) -> Iterator[Event]:
        from .premise import decline

        answer = decline(question, premise, passages, self._extractive(), qemb, backend)
        yield answer.text
        yield answer

    def suggest(self, answer: Answer) -> list[str]:
        """Up to three follow-ups the answer's cited articles answer and it did not cover (qa.suggest), each
        checked by asking it extractively first."""
        texts = []
        for f in dict.fromkeys(c.file for c in answer.citations):
            try:
                texts.append(self.article(f).text)
            except (OSError, ValueError):  # gone since it was cited
                continue
        asked = {answer.question.strip().lower(), (answer.standalone or "").strip().lower()}
        return [q for q in suggest(answer, texts, lambda q: self.ask(q, backend="extractive"))
                if q.strip().lower() not in asked]

    def _summary(self, answerer, question: str, passages: list[Passage]) -> Iterator[Event]:
        """An article's summary: with an LLM, written from its chosen sentences and verified; without one
        (or when the LLM fails first), those sentences themselves, each cited to its span."""
        from .llm import ModelError

        if not passages:
            text = "This article has no sentence to summarise."
            yield text
            yield Answer(question, text, backend=answerer.name, abstained=True)
            return
        if answerer.gen is not None:
            said = False
            try:
                for ev in answerer.summarise(passages[0].title, passages):
                    said = said or isinstance(ev, str)
                    yield ev
                return
            except ModelError as e:
                if said or not self.settings.llm_fallback:
                    raise
                log.warning("the LLM failed before summarising, giving the chosen sentences: %s", e)
        sentences = [AnswerSentence(f"{MARKER.sub('', p.text)} [{i + 1}]", [i + 1], None, True)
                     for i, p in enumerate(passages)]
        text = " ".join(s.text for s in sentences)
        yield text
        yield Answer(question, text, [Citation(i + 1, p.file, p.title, p.start, p.end, p.text)
                                      for i, p in enumerate(passages)],
                     passages, sentences, backend=answerer.name if answerer.gen is None else "extractive (fallback)",
                     notice=f"LLM unavailable, answered extractively: {answerer.reason}" if isinstance(answerer, Fallback)
                     else None)

    def _guarded(self, answerer, question, passages, qemb, budget: int | None = None) -> Iterator[Event]:
        """The answerer's stream; when the LLM fails before saying anything, the extractive answer."""
        from .llm import ModelError

        said = False
        try:
            for ev in answerer.stream(question, passages, qemb, budget):
                said = said or isinstance(ev, str)
                yield ev
        except ModelError as e:
            if said or not self.settings.llm_fallback:
                raise
            log.warning("the LLM failed before answering, answering extractively: %s", e)
            yield from Fallback(self._extractive(), str(e)).stream(question, passages, qemb)

    def standalone(self, question: str, history: list[Turn], answerer=None) -> str:
        """Rewrite a follow-up with the conversation: with the LLM when there is one, else cheaply."""
        if not history or not is_follow_up(question):
            return question
        from .llm import ModelError

        try:
            rewritten = (answerer or self.answerer()).rewrite(question, history[-MAX_HISTORY:])
            if rewritten and rewritten.strip().lower() != question.strip().lower():
                return rewritten
        except ModelError as e:  # the names of the last turn are carried over instead
            log.warning("rewriting the follow-up %r with the LLM failed: %s", question, e)
        return condense(question, history[-MAX_HISTORY:])

    def ask(
        self, question: str, k: int | None = None, backend: str | None = None, history: list[Turn] | None = None,
        budget: int | None = None, as_of: date | str | None = None, article: str | None = None,
        suggest: bool = False,
    ) -> Answer:
        answer = None
        for ev in self.ask_stream(question, k, backend, history, budget, as_of, article, suggest):
            if isinstance(ev, Answer):
                answer = ev
        assert answer is not None
        return answer


def published(metas: dict[str, ArticleMeta], file: str) -> tuple[str | None, str | None]:
    """The outlet and date of an article, as its metadata says."""
    m = metas.get(file)
    return (m.outlet, m.date) if m else (None, None)


def dated(frame: Frame, answer: Answer) -> str | None:
    """What the answer should say about time: that no article was published in the period asked about,
    or, for a "latest" question, the date of the newest article it cites."""
    if frame.empty and frame.near:
        return (f"No article was published {frame.phrase} ({frame.near[0].isoformat()} to "
                f"{frame.near[1].isoformat()}); the answer draws on the most relevant articles up to "
                f"{frame.as_of.isoformat()}.")
    if frame.recent and not answer.abstained:
        cited = sorted((c for c in answer.citations if c.date), key=lambda c: c.date or "")
        if cited:
            c = cited[-1]
            return f"Most recent article cited: {c.outlet + ', ' if c.outlet else ''}{c.date}."
    return None


class Fallback:
    """The extractive answerer standing in for an unavailable LLM: its answers say so."""

    gen: Generator | None = None  # the LLM is what is missing

    def __init__(self, extractive: ExtractiveAnswerer, reason: str):
        self.inner = extractive
        self.reason = reason
        self.name = "extractive (fallback)"

    def rewrite(self, question: str, history: list) -> None:
        return None  # no model: the engine condenses a follow-up itself

    def stream(self, question, passages, qemb=None, budget=None):
        for ev in self.inner.stream(question, passages, qemb):
            if isinstance(ev, Answer):
                ev.backend = self.name
                ev.notice = f"LLM unavailable, answered extractively: {self.reason}"
            yield ev
