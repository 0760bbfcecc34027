"""The engine: one object the shells (CLI, app, eval) call. Sync the index, retrieve, answer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

from .answer import Answer, Event, ExtractiveAnswerer
from .chat import Turn, condense
from .config import Settings, load_settings
from .embedding import Embedder
from .index import ChromaIndex, SyncReport
from .retrieve import HybridRetriever, Passage

EMPTY_QUESTION = "Please type a question."
EMPTY_INDEX = "The index is empty: build it with `qa index [FOLDER]` (or `make run`) and ask again."


def too_long(limit: int) -> str:
    return f"The question is too long (over {limit} characters): please shorten it."


class Engine:
    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None):
        self.settings = settings or load_settings()
        self.embedder = embedder or Embedder(self.settings.embed_model, self.settings.threads, self.settings.embed_batch)
        self.index = ChromaIndex(self.settings, self.embedder)
        self.retriever = HybridRetriever(self.settings, self.embedder, self.index)
        self._answerers: dict[str, object] = {}

    # -- index ------------------------------------------------------------------------------
    def sync(
        self,
        corpus_dir: Path | None = None,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> SyncReport:
        report = self.index.sync(Path(corpus_dir or self.settings.corpus_dir), on_start, on_progress)
        if report.changed:
            self.retriever.invalidate()
        return report

    # -- answering --------------------------------------------------------------------------
    def answerer(self, backend: str | None = None):
        name = backend or self.settings.backend
        if name not in self._answerers:
            if name == "extractive":
                self._answerers[name] = ExtractiveAnswerer(
                    self.embedder, lambda: self.retriever.lexical, self.settings.abstain_threshold,
                    self.settings.answer_sentences,
                )
            else:
                raise ValueError(f"unknown answer backend {name!r} (setting QA_BACKEND)")
        return self._answerers[name]

    def check_question(self, question: str) -> str | None:
        """A message when the question cannot be asked, else None."""
        if not question or not question.strip():
            return EMPTY_QUESTION
        if len(question) > self.settings.max_question_chars:
            return too_long(self.settings.max_question_chars)
        return None

    def retrieve(self, question: str, k: int | None = None, timings: dict | None = None, qemb=None) -> list[Passage]:
        return self.retriever.retrieve(question, k, timings, qemb)

    def ask_stream(
        self, question: str, k: int | None = None, backend: str | None = None, history: list[Turn] | None = None
    ) -> Iterator[Event]:
        """Text pieces as they come, then the final Answer. ``history`` holds the earlier turns of a
        conversation (oldest first); a follow-up is rewritten with it before retrieval."""
        t0 = time.perf_counter()
        answerer = self.answerer(backend)
        refusal = self.check_question(question)
        if refusal is None and self.index.count() == 0:
            refusal = EMPTY_INDEX
        if refusal:
            yield refusal
            yield Answer(question or "", refusal, backend=answerer.name, message=refusal,
                         timings={"total_ms": (time.perf_counter() - t0) * 1000})
            return
        asked = question.strip()
        question = condense(asked, history or [])
        timings: dict = {}
        qemb = self.embedder.encode_one(question)
        passages = self.retrieve(question, k, timings, qemb)
        first = None
        for ev in answerer.stream(question, passages, qemb):
            if isinstance(ev, Answer):
                ev.question, ev.standalone = asked, question
                ev.timings.update(timings)
                ev.timings["first_token_ms"] = ((first or time.perf_counter()) - t0) * 1000
                ev.timings["total_ms"] = (time.perf_counter() - t0) * 1000
            elif first is None:
                first = time.perf_counter()
            yield ev

    def ask(
        self, question: str, k: int | None = None, backend: str | None = None, history: list[Turn] | None = None
    ) -> Answer:
        answer = None
        for ev in self.ask_stream(question, k, backend, history):
            if isinstance(ev, Answer):
                answer = ev
        assert answer is not None
        return answer
