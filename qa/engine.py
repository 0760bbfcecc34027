"""The engine: one object the shells (CLI, app, eval) call. Sync the index, retrieve, answer."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, Iterator

from .answer import Answer, Event, ExtractiveAnswerer
from .chat import Turn, condense, is_follow_up
from .config import Settings, load_settings
from .embedding import Embedder
from .index import ChromaIndex, SyncReport
from .retrieve import HybridRetriever, Passage

EMPTY_QUESTION = "Please type a question."
MAX_HISTORY = 6  # turns a rewrite looks at (newest kept)
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
        self.backend_error: str | None = None

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
    def _extractive(self) -> ExtractiveAnswerer:
        if "extractive" not in self._answerers:
            self._answerers["extractive"] = ExtractiveAnswerer(
                self.embedder, lambda: self.retriever.lexical, self.settings.abstain_threshold,
                self.settings.answer_sentences,
            )
        return self._answerers["extractive"]

    def _generative(self, name: str):
        from .llm import GenerativeAnswerer, LocalGenerator, ModelError, ServerGenerator, resolve_model
        from .verify import Verifier

        s = self.settings
        if name == "server":
            if not s.llm_url:
                raise ModelError("no LLM server configured (setting QA_LLM_URL)")
            gen = ServerGenerator(s.llm_url, s.llm_name, s.llm_key, s.llm_timeout)
            gen.check()
        else:
            gen = LocalGenerator(resolve_model(s.llm_model, s.model_cache), s.threads, s.llm_ctx)
            gen.llm  # load now, so a bad file fails here with its setting named
        return GenerativeAnswerer(gen, self._extractive(), Verifier(self.embedder, s.verify_threshold),
                                  s.llm_budget, s.llm_max_tokens)

    def answerer(self, backend: str | None = None):
        """The answerer for a backend name; an unavailable LLM falls back to extractive (when allowed),
        and ``self.backend_error`` says why."""
        from .llm import ModelError

        name = backend or self.settings.backend
        if name not in ("auto", "local", "server", "extractive"):
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
                self.backend_error = str(e)
                self._answerers[name] = Fallback(self._extractive(), str(e))
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
        question = self.standalone(asked, history or [], answerer)
        timings: dict = {}
        qemb = self.embedder.encode_one(question)
        passages = self.retrieve(question, k, timings, qemb)
        first = None
        for ev in self._guarded(answerer, question, passages, qemb):
            if isinstance(ev, Answer):
                ev.question, ev.standalone = asked, question
                ev.timings.update(timings)
                ev.timings["first_token_ms"] = ((first or time.perf_counter()) - t0) * 1000
                ev.timings["total_ms"] = (time.perf_counter() - t0) * 1000
            elif first is None:
                first = time.perf_counter()
            yield ev

    def _guarded(self, answerer, question, passages, qemb) -> Iterator[Event]:
        """The answerer's stream; when the LLM fails before saying anything, the extractive answer."""
        from .llm import ModelError

        said = False
        try:
            for ev in answerer.stream(question, passages, qemb):
                said = said or isinstance(ev, str)
                yield ev
        except ModelError as e:
            if said or not self.settings.llm_fallback:
                raise
            yield from Fallback(self._extractive(), str(e)).stream(question, passages, qemb)

    def standalone(self, question: str, history: list[Turn], answerer=None) -> str:
        """Rewrite a follow-up with the conversation: with the LLM when there is one, else cheaply."""
        if not history or not is_follow_up(question):
            return question
        rewrite = getattr(answerer or self.answerer(), "rewrite", None)
        if rewrite:
            from .llm import ModelError

            try:
                return rewrite(question, history[-MAX_HISTORY:])
            except ModelError:
                pass
        return condense(question, history[-MAX_HISTORY:])

    def ask(
        self, question: str, k: int | None = None, backend: str | None = None, history: list[Turn] | None = None
    ) -> Answer:
        answer = None
        for ev in self.ask_stream(question, k, backend, history):
            if isinstance(ev, Answer):
                answer = ev
        assert answer is not None
        return answer


class Fallback:
    """The extractive answerer standing in for an unavailable LLM: its answers say so."""

    def __init__(self, extractive: ExtractiveAnswerer, reason: str):
        self.inner = extractive
        self.reason = reason
        self.name = "extractive (fallback)"

    def stream(self, question, passages, qemb=None):
        for ev in self.inner.stream(question, passages, qemb):
            if isinstance(ev, Answer):
                ev.backend = self.name
                ev.notice = f"LLM unavailable, answered extractively: {self.reason}"
            yield ev
