"""Cite and verify: resolve [n] markers in a generated answer and check every sentence against what it cites.

- A marker [n] that names no passage is removed (and counted).
- Each answer sentence is checked against the passages it cites, each read under its article's title
  (which names who or what "it" is), in three ways:
  1. grounding: every name, figure ("two-thirds" too), date and quoted phrase it states occurs in a
     cited passage (qa.facts normalisation: "Feb. 7" = "February 7", "5%" = "5 percent", "Zelensky" = "Zelenskyy"),
     and so does what it claims besides: a superlative or exclusive ("the most", "only", "first"), a time
     ("soon", "yesterday"; one the question gives is its frame, not the answer's claim), and the bound or
     hedge its passage puts on a figure ("more than $50 billion", "could be worth"); a figure must move the
     way its passage says ("down by 65 cents" is not "increased by 65 cents"), a past event cannot be
     placed in the future ("met … next week"), a negation, hedge or stage its passage gives a claim must
     survive ("did not confirm", "a possible meeting", "a preliminary deal": qa.polarity), a bare surname in a passage is the person its article
     names first (the passage's "Biden" is not Jill Biden in an article that opens with Joe Biden), an
     office it gives someone ("Zelenskyy is Ukraine's defense minister") must be one the article gives
     them when it gives them any, and two names it joins ("Trump and Zelensky have both …") must not be a
     pair its source makes with someone else ("both Trump and Putin have …");
  2. attribution: a sentence that says who spoke ("X said / thinks / wrote …", "According to X, …", or a
     name answering "who said …?") must name the person the passage attributes the words to, resolved
     through the sentence and its neighbours ("…, he wrote" is whoever the sentence before names); a
     passage sentence that names its speaker does not lend the words to anyone else it mentions;
  3. support: embedding similarity with the best sentence there plus the share of its content words
     found there, against a threshold chosen on hand labels (``qa bench verify``).
  A sentence that fails any of them is unsupported; its ``issues`` say why. Sentences with no claim
  ("This is stated in passage 2.", fragments) are dropped.
- Each sentence also gets its ``wording``: the words its cited passages never use, and whether one
  passage sentence holds its answer with the question's words it repeats. Not a verdict (a paraphrase
  may be true), but where a small model puts words in a source's mouth: repair prefers the source's own
  sentence then.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from .embedding import Embedder
from .facts import (DEMONYMS, TIME_QUALIFIERS, TITLES, Fact, Source, claimed_speaker, dropped_hedges, facts,
                    is_who_said, misnamed, misplaced_figures, misroled, names, norm_tokens, passage_referent,
                    passage_speaker, qualifiers, reversed_changes, same_person, tense_clash, voices, wrong_partner)
from . import polarity
from .schema import MARKER, AnswerSentence, Citation, Passage, cite
from .text import STOPWORDS, cut_off, sentence_spans, terms

_META = re.compile(r"^(this|that|it|the answer)( information)? (is|was|can be) (mentioned|stated|provided|found|given|said|evident)\b|"
                   r"^the (articles|passages) (don't|do not) (say|mention)|\b(in|from) (the|this) (passage|article)s?\b|"
                   r"\bpassage \[?\d", re.I)


@dataclass
class Verified:
    text: str  # the answer with invalid markers removed
    sentences: list[AnswerSentence]
    citations: list[Citation]
    invalid_markers: int
    repointed: int = 0  # markers moved to the passage that supports the sentence
    dropped: list[str] = field(default_factory=list)  # sentences with no claim
    checks: list[Check] = field(default_factory=list)  # one per sentence: how it fared (what repair reads)


_PERSON = re.compile(r"\b(he|him|his|she|her|them)\b", re.I)
UNBOUND = "no one sentence of its source says what it says together"


@dataclass
class Check:
    """How one sentence fares against the passages it cites."""

    score: float  # support (similarity and word overlap)
    where: tuple[int, int, int] | None  # (cited passage, start, end) of the best-supporting sentence(s)
    missing: list[str] = field(default_factory=list)  # facts it states that no cited passage has
    attribution: tuple[str, str] | None = None  # (who the sentence says spoke, who the passage says)
    echo: bool = False  # it says nothing the question did not: no answer
    reworded: list[str] = field(default_factory=list)  # its words the passages never use (not a fault)
    unbound: bool = False  # its answer and the question's words it repeats are in no one passage sentence
    uncited: bool = False  # it cited nothing and no passage supports it (the rest: against the nearest one)

    @property
    def contradicted(self) -> bool:
        """It states what its passage lacks (a name, figure, date), a speaker the passage does not name, or
        nothing beyond the question, or cites nothing that supports it: worse than merely weak support."""
        return bool(self.missing or self.attribution or self.echo or self.uncited)

    def wording(self) -> list[str]:
        """Where its wording departs from its sources (not a fault: a reason to prefer the source's words)."""
        out = [f"words its source does not use: {', '.join(self.reworded)}"] if self.reworded else []
        if self.unbound:
            out.append(UNBOUND)
        return out

    def issues(self, threshold: float) -> list[str]:
        out = ["cites no passage, and none supports it"] if self.uncited else []
        out += [f"not in the cited passage: {m}" for m in self.missing]
        if self.echo:
            out.append("it says nothing the question did not")
        if self.attribution:
            out.append(f"the passage attributes this to {self.attribution[1]}, not {self.attribution[0]}")
        if self.score < threshold and not out:
            out.append("the cited passage does not say this")
        return out


# "one" and "two" are left out: "one of the", "the two states" rarely state a figure
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split()) if i > 2}
# a figure, not part of a name: "Covid-19", "BA.5", "G7" and "5G" are names
_FIGURE = re.compile(r"(?<![\w.])(?<![A-Za-z]-)\d+(?:[.,]\d+)*(?![A-Za-z\d])")


def _numbers(text: str) -> set[str]:
    """Figures stated in a text, digits or words ("five" = "5"), without thousands separators."""
    found = {n.replace(",", "").rstrip(".") for n in _FIGURE.findall(text)}
    found |= {_NUMBER_WORDS[w] for w in re.findall(r"[a-z]+", text.lower()) if w in _NUMBER_WORDS}
    return found


def _strip(s: str) -> str:
    return MARKER.sub("", s).strip()


# what is left when a trim cuts the claim and keeps only its lead-in ("According to a new study")
_LEAD_ONLY = re.compile(r"^(according to|as (reported|said) by|per|in|on|at|by|for|after|before|during|"
                        r"despite|with|amid)\b[^,]*$", re.I)


# irregular verbs, whose tenses a stemmer does not join ("met" and "meeting"), by their stems
_IRREGULAR = {f: base for base, forms in {
    "meet": "met", "speak": "spoke spoken", "win": "won", "hold": "held", "becom": "becam", "take": "took taken",
    "give": "gave given", "tell": "told", "make": "made", "go": "went gone", "come": "came", "leav": "left",
    "lead": "led", "sell": "sold", "pay": "paid", "begin": "began begun", "bring": "brought", "buy": "bought",
    "find": "found", "think": "thought", "fight": "fought", "keep": "kept", "lose": "lost", "mean": "meant",
    "run": "ran", "see": "saw seen", "send": "sent", "stand": "stood", "strike": "struck", "write": "wrote written",
    "know": "knew known", "show": "shown", "draw": "drew drawn", "choos": "chose chosen", "rise": "rose risen",
    "fall": "fell fallen", "shoot": "shot", "seek": "sought", "build": "built", "grow": "grew grown",
    "drive": "drove driven", "spend": "spent", "teach": "taught", "catch": "caught", "feel": "felt",
    "hear": "heard", "flee": "fled", "forbid": "forbad forbidden", "break": "broke broken", "steal": "stole stolen",
    "wear": "wore worn", "sink": "sank sunk", "swear": "swore sworn", "freez": "froze frozen",
}.items() for f in forms.split()}


def _lemma(stem: str) -> str:
    return _IRREGULAR.get(stem, stem)


class Verifier:
    W_SEM, W_LEX = 0.6, 0.4

    def __init__(self, embedder: Embedder, threshold: float = 0.48,
                 article_text: Callable[[str], str | None] | None = None):
        self.embedder = embedder
        self.threshold = threshold
        # the clean text of an article by file, to read a passage's neighbouring sentences (who "he" is)
        self.article_text = article_text
        self._article_sources: dict[tuple[str, ...], Source] = {}  # the cited articles, read once per set

    def _support(self, sentence: str, cited: list[Passage]) -> tuple[float, tuple[int, int, int] | None]:
        """Best support of ``sentence`` by any sentence of the cited passages, and where it is."""
        cands = []
        for pi, p in enumerate(cited):
            spans = sentence_spans(p.text)
            for j, (a, b) in enumerate(spans):
                cands.append((pi, a, b, p.text[a:b]))
                if j:  # with the sentence before: "He met Vance in Munich" needs who "he" is
                    cands.append((pi, spans[j - 1][0], b, p.text[spans[j - 1][0]:b]))
        if not cands:
            return 0.0, None
        # each candidate is read under its article's title, which names who or what "it" is
        embs = self.embedder.encode([sentence] + [f"{cited[c[0]].title}. {c[3]}" for c in cands])
        sims = embs[1:] @ embs[0]
        st = set(terms(sentence))
        all_text = " ".join(f"{p.title}. {p.text}" for p in cited)  # the title says who or what "it" is
        best, where = -1.0, None
        cited_terms = set(terms(all_text))
        lex_all = len(st & cited_terms) / len(st) if st else 1.0
        for (pi, a, b, text), sim in zip(cands, sims):
            local = set(terms(text))
            lex = max(len(st & local) / len(st) if st else 1.0, 0.7 * lex_all)
            score = self.W_SEM * float(sim) + self.W_LEX * lex
            if score > best:
                best, where = score, (pi, a, b)
        return best, where

    def speaker(self, p: Passage, a: int, b: int) -> str | None:
        """Who the passage sentence at ``p.text[a:b]`` is attributed to, read in its article when known."""
        return passage_speaker(p, a, b, self.article_text)

    def check(self, sentence: str, cited: list[Passage], question: str | None = None, wording: bool = True) -> Check:
        """Grounding, attribution and support of ``sentence`` by the ``cited`` passages, and (``wording``)
        where its wording departs from them; callers that only want the verdict skip that."""
        score, where = self._support(sentence, cited)
        # the passages under their articles' headlines: a headline is part of the article it heads, and is
        # shown with every citation ("BA.5: The 'worst variant' is here" names "the most infectious variant")
        src = Source([f"{p.title}. {p.text}" for p in cited])
        # its names, figures, dates and quotes, and what it claims besides ("the most", "this week")
        # (a time the question gives, "this week", is the user's frame for it, not a claim of the answer's)
        asked_times = {f.text for f in qualifiers(question or "") if f.text in TIME_QUALIFIERS}
        missing = src.missing(facts(sentence) + [f for f in qualifiers(sentence) if f.text not in asked_times])
        attribution = None
        claimed = claimed_speaker(sentence)
        asked_q = question or ""
        who_said = bool(asked_q) and is_who_said(asked_q)
        if question and not who_said and len(_strip(sentence).split()) <= 4:
            # a bare answer ("Kyiv") asserts the question with it: the names, figures and dates the
            # question gives must be in what it cites too, or it answers about something else
            missing += [f for f in src.missing(facts(question)) if f.kind != "quote"]
        if question and missing and self.article_text and not who_said:
            # what the answer repeats from the question is the user's premise (the premise check looked for
            # it in the articles): it must be in the cited article, though not necessarily in the passage
            asked = Source([question])
            arts = [t for t in {self.article_text(p.file) for p in cited if getattr(p, "file", None)} if t]
            if arts:
                art = Source(arts)
                missing = [f for f in missing if f.kind in ("quote", "qualifier") or not (asked.has(f) and art.has(f))]
        if who_said and not claimed and len(sentence.split()) <= 8:  # a short answer naming the speaker
            found = names(re.sub(r"[\"“][^\"“”]*[\"”]", " ", sentence))  # a name outside the quotation
            claimed = found[0] if found else None
        # who the supporting sentence is said by, or is about when it opens with "He"/"She": a name the
        # answer gives them is grounded even when the passage itself says only "he"
        said = referent = None
        here = None  # the supporting sentence(s)
        if where:
            p = cited[where[0]]
            spans = [(x, y) for x, y in sentence_spans(p.text) if where[1] <= x < where[2]]
            a, b = spans[-1] if spans else (where[1], where[2])
            here = Source([p.text[where[1]:where[2]]])
            said = self.speaker(p, a, b)
            referent = passage_referent(p, spans[0][0] if spans else a, spans[0][1] if spans else b, self.article_text)
        if claimed and cited:
            if who_said:  # the speaker of the sentence that holds what the question quotes
                quoted = self._quoted_speaker(asked_q, cited)
                if quoted is False and re.search(r"[\"“]", asked_q) and len(sentence.split()) <= 8:
                    # "It was X": the passage must hold the words the question asks about
                    missing.append(Fact("quote", "the words the question quotes", ()))
                said = quoted if isinstance(quoted, str) else said
            # a speaker the supporting sentence itself names as speaking is not swapped (only one it never
            # names is); a sentence that names its speaker ("…," Trump said during his meeting with Ishiba;
            # criticism from Zelensky … Russian President Putin) does not lend it to the others it mentions
            named_here = False
            if here is not None and not who_said:
                # the headline heads every sentence of its article: "Trump has signaled a possible meeting"
                heard = voices(here.texts[0]) + voices(cited[where[0]].title if where else "")
                named_here = (any(same_person(claimed, x) for x in heard) if heard
                              else all(here.has(f) for f in facts(claimed)))
            if said and not same_person(claimed, said) and not named_here:
                attribution = (claimed, said)
        if referent and score < self.threshold and where:
            # "He met Vance in Munich" supports "Zelenskyy met Vance in Munich" when "he" is Zelenskyy
            p = cited[where[0]]
            seg = re.sub(r"^([\"“‘']?)(He|She)\b", lambda m: m.group(1) + referent, p.text[where[1]:where[2]], count=1)
            score = max(score, self._support(sentence, [replace(p, text=seg)])[0])
        arts_src = self._articles(cited)
        asked_words = set(norm_tokens(question or ""))
        for f in facts(sentence):
            if not arts_src or {w for w in f.key if w not in TITLES} <= asked_words:
                continue  # a name the question gives is the user's premise (the premise check's business)
            other = misnamed(f, arts_src, src) if f not in missing else None
            if other:
                missing.append(Fact("name", f"{f.text} (the article names {other})", f.key))
            elif office := misroled(sentence, f, arts_src.texts):
                missing.append(Fact("name", f"the office it gives {f.text} (the article: {office})", f.key))
        missing += self._headline_only(sentence, cited, missing, asked_words, [x for x in (said, referent) if x])
        for n in misplaced_figures(sentence, " ".join(p.text for p in cited)):
            missing.append(Fact("number", f"{n} (the passage gives it for something else)", (n,)))
        if clash := tense_clash(_strip(sentence)):
            missing.append(Fact("qualifier", clash, ()))
        for n in reversed_changes(sentence, "\n".join(p.text for p in cited)):
            missing.append(Fact("number", n, ()))
        for n in dropped_hedges(sentence, "\n".join(p.text for p in cited)):
            missing.append(Fact("hedge", n, ()))
        for n in wrong_partner(_strip(sentence), "\n".join(p.text for p in cited), asked_words):
            missing.append(Fact("name", n, ()))
        for n in polarity.clashes(sentence, [p.text for p in cited]):  # "Yes, X confirmed" of "did not confirm"
            missing.append(Fact("polarity", n, ()))
        known = [x for x in (said, referent) if x]
        missing = [f for f in missing if not (f.kind == "name" and any(same_person(f.text, k) for k in known))]
        return Check(score, where, [f.text for f in missing], attribution,
                     bool(asked_q) and echoes_only(_strip(sentence), asked_q),
                     self.reworded(sentence, cited, question, known) if wording else [],
                     wording and bool(asked_q) and not self.bound(sentence, cited, asked_q))

    def _headline_only(self, sentence: str, cited: list[Passage], missing: list[Fact], asked: set[str],
                       known: list[str]) -> list[Fact]:
        """Names the sentence takes from a cited passage's headline alone: the passage's sentences never
        name them, so only the headline can bear out what the sentence says of them, and it must ("talks
        with Russia are progressing" heads a passage on rare earths; it does not make "security of rare
        earths from Russia"). Exempt: the person a headline is about, where the passage says "he" or "she"
        (that is how an article goes on about its subject), and a name in the sentence just before the
        passage (whom its "them" means)."""
        body = Source([p.text for p in cited])
        out = []
        for f in facts(sentence):
            if f.kind != "name" or f in missing or body.has(f) or {w for w in f.key if w not in TITLES} <= asked:
                continue
            if (len(f.key) > 1 and body.has(Fact("name", f.key[-1], f.key[-1:]))) or any(
                    same_person(f.text, k) for k in known):
                continue  # "Trump added" names "President Donald Trump" of the headline; or it is the speaker
            if any(names(p.title)[:1] and same_person(f.text, names(p.title)[0])
                   and re.search(r"\b(he|she|his|her|him)\b", p.text, re.I) for p in cited):
                continue
            if any(Source([self._before(p)]).has(f) for p in cited):
                continue  # "the content of a phone conversation between them": the sentence before says who
            heads = [p.title for p in cited if Source([p.title]).has(f)]
            if not heads:
                continue
            embs = self.embedder.encode([_strip(sentence)] + heads)
            if float((embs[1:] @ embs[0]).max()) < self.threshold:
                out.append(Fact("name", f"{f.text} (only its headline names it, and says something else)", f.key))
        return out

    def _before(self, p: Passage) -> str:
        """The sentence of its article just before the passage (empty when the article cannot be read)."""
        art = self.article_text(p.file) if self.article_text and p.file else None
        if not art or p.clean_start <= 0:
            return ""
        head = art[max(0, p.clean_start - 600):p.clean_start]
        spans = sentence_spans(head)
        return head[spans[-1][0]:spans[-1][1]] if spans else ""

    def _articles(self, cited: list[Passage]) -> Source | None:
        """The whole articles of the cited passages (with their passages' titles), when they can be read."""
        if not self.article_text:
            return None
        arts = [t for t in dict.fromkeys(self.article_text(p.file) for p in cited if p.file) if t]
        if not arts:
            return None
        key = tuple(arts + [p.title for p in cited])
        src = self._article_sources.get(key)
        if src is None:
            if len(self._article_sources) > 64:
                self._article_sources.clear()
            src = self._article_sources[key] = Source(list(key))
        return src

    def trim(self, sentence: str, cited: list[Passage], question: str | None = None,
             check: Check | None = None) -> str | None:
        """The sentence without the part that states what its passages lack ("…, with 10 nominations in
        total", "… to its 221.6 million subscribers"), when what remains is supported; else None.
        ``check``: the sentence's check against ``cited`` when it has been made already."""
        c = check or self.check(sentence, cited, question, wording=False)
        if c.attribution or not c.missing:
            return None
        body = sentence.strip().rstrip(".!?")
        claims = {f.text for f in qualifiers(sentence)}
        for m in c.missing:
            raw = m.split(" (")[0]
            if m in claims and m not in TIME_QUALIFIERS:
                return None  # a superlative is what the sentence says of its subject: cutting it leaves a husk
            at = body.lower().find(raw.lower())
            if at < 0:
                at = body.replace(",", "").lower().find(raw.lower())
                if at < 0:
                    return None
            options = []
            if raw.lower() in TIME_QUALIFIERS:  # a time: the phrase itself goes ("… toys this week, saying …")
                options.append(re.sub(rf"\s*\b(?:(?:on|in|at|earlier|later)\s+)?{re.escape(raw)}\b", "", body, count=1, flags=re.I))
            seg_start = body.rfind(",", 0, at) + 1
            seg_end = body.find(",", at)
            seg_end = len(body) if seg_end < 0 else seg_end
            if seg_start > 0:  # a clause of its own: ", with 10 nominations in total"
                options.append(body[:seg_start - 1] + body[seg_end:])
            head = body[seg_start:at]
            prep = list(re.finditer(r"\b(to|with|of|in|for|by|from|at|on|including|among|after|before|as|than)\b", head))
            if prep:  # a phrase: "… to its 221.6 million subscribers globally"
                options.append(body[:seg_start + prep[-1].start()].rstrip(" ,") + body[seg_end:])
            for o in options:
                o = re.sub(r"\s+,", ",", re.sub(r"\s{2,}", " ", o)).strip(" ,")
                if len(o.split()) >= 4 and not _LEAD_ONLY.match(o):
                    body = o
                    break
            else:
                return None
        out = body + "."
        return out if self.supported(self.check(out, cited, question, wording=False)) else None

    def _quoted_speaker(self, question: str, cited: list[Passage]) -> str | None | bool:
        """For "who said …?": the speaker of the cited sentence that best matches the question's words
        (None when it names none), or False when no cited sentence holds them."""
        quoted = re.findall(r"[\"“]([^\"“”]+)[\"”]", question)
        qt = set(terms(" ".join(quoted) if quoted else re.sub(r"^\W*who\b\s+\w+", "", question, flags=re.I)))
        best, at = 0.0, None
        for p in cited:
            for a, b in sentence_spans(p.text):
                st = set(terms(p.text[a:b]))
                share = len(qt & st) / len(qt) if qt else 0.0
                if share > best:
                    best, at = share, (p, a, b)
        if at is None or best < 0.5:
            return False  # the cited passages do not hold the quoted words
        return self.speaker(*at)

    def reworded(self, sentence: str, cited: list[Passage], question: str | None = None,
                 known: Sequence[str] = ()) -> list[str]:
        """The words of ``sentence`` that its cited passages (under their titles) never use, each once.

        Not a verdict: a supported sentence may paraphrase. But a paraphrase is where a small model puts
        words in a source's mouth ("California announced it is legalizing jaywalking" of a law that
        "decriminalizes" it), and the question's wording is the user's, not the source's, so it earns no
        exemption. Exempt is only what is the passages' own in another form: a name, figure or date they
        give in another spelling ("Zelenskyy" for "Zelensky", "five" for "5"), an irregular verb's other
        tense ("met" for "meet"), the person a passage's "he" or quote is resolved to (``known``), a
        time the question gives ("this week", its frame), and a word of the question that the cited article
        uses elsewhere."""
        body = re.sub(r"\b([A-Z])\. (?=[A-Z]\.)", r"\1.", _strip(sentence))  # "U. S." is "U.S."
        texts = [f"{p.title}. {p.text}" for p in cited]
        have = {_lemma(t) for t in terms(" ".join(texts))}
        src = Source(texts)
        exempt = {t for f in facts(body) if f.kind != "quote" and (src.has(f) or (
            f.kind == "name" and any(same_person(f.text, k) for k in known))) for t in terms(f.text)}
        if question:
            exempt.update(t for f in qualifiers(question) if f.text in TIME_QUALIFIERS for t in terms(f.text))
            # words both the question and the cited article use ("Lt. Gen." Kellogg) are the article's own, though
            # not the passage's: not put in its mouth
            arts = [t for t in {self.article_text(p.file) for p in cited if p.file} if t] if self.article_text else []
            if arts:
                exempt.update(set(terms(question)) & {t for a in arts for t in terms(a)})
        out: list[str] = []
        for w in re.findall(r"[A-Za-z0-9]+(?:[.'’][A-Za-z0-9]+)*", body):
            t = terms(w)
            if t and _lemma(t[0]) not in have and t[0] not in exempt and w not in out:
                out.append(w)
        return out

    def bound(self, sentence: str, cited: list[Passage], question: str) -> bool:
        """Whether one sentence of the cited passages holds the sentence's answer (its words beyond the
        question's, those the passages have) together with at least half of the question's words it
        repeats. A sentence that restates the question around an answer can take the answer from one
        sentence and the claim from another: "Trump administration officials drew criticism …" of "Trump
        administration officials engaged in talks … Trump's handling of the situation drew criticism"."""
        said = {_lemma(t) for t in terms(_strip(sentence))}
        asked = {_lemma(t) for t in terms(question)}
        have = {_lemma(t) for t in terms(" ".join(f"{p.title}. {p.text}" for p in cited))}
        premise, answer = said & asked, (said - asked) & have
        if len(premise) < 2 or not answer:
            return True
        # a name may stand in a sentence as "he" or "them" ("a phone conversation between them")
        named = {t for f in facts(_strip(sentence)) if f.kind == "name" for t in terms(f.text)}
        for p in cited:
            title = {_lemma(t) for t in terms(p.title)}  # the headline frames each of its sentences
            for a, b in [(-1, -1)] + sentence_spans(p.text):
                text = p.title if a < 0 else p.text[a:b]  # the headline, then each sentence
                own = {_lemma(t) for t in terms(text)}
                own |= {DEMONYMS[t] for t in own if t in DEMONYMS}  # "Saudi Arabian officials" name the country
                if _PERSON.search(text):
                    own |= named
                # the answer is what the sentence itself states; the headline may supply the premise
                if answer <= own and 2 * len(premise & (own | title)) >= len(premise):
                    return True
        return False

    def supported(self, c: Check) -> bool:
        return c.score >= self.threshold and not c.missing and not c.attribution and not c.echo

    def best_passage(self, sentence: str, passages: list[Passage], question: str | None = None) -> tuple[float, int]:
        """The support of ``sentence`` by the one passage that supports it best (a passage it is not
        grounded in scores 0), and that passage's number."""
        best = (0.0, 0)
        for n, p in enumerate(passages, 1):
            c = self.check(sentence, [p], question, wording=False)
            score = c.score if self.supported(c) or c.score < self.threshold else 0.0
            best = max(best, (score, n))
        return best

    def nearest(self, sentence: str, passages: list[Passage]) -> int:
        """The number of the passage most like ``sentence`` (0 when there are none), grounded or not."""
        return max(((self._support(sentence, [p])[0], n) for n, p in enumerate(passages, 1)), default=(0.0, 0))[1]

    def labelled_verdict(self, row: dict) -> tuple[bool, Check]:
        """The verifier's verdict on a hand-labelled sentence (eval/verify-labels.jsonl): against the
        passages it cited, or, when it cited none, against the best single one of them. A sentence with
        no claim (or one that breaks off with a cut-off headline) is not shipped: it counts as flagged."""
        ps = [Passage(id="", file=p.get("file") or "", title=p["title"], text=p["text"], start=0, end=len(p["text"]),
                      clean_start=p.get("clean_start") or 0, clean_end=(p.get("clean_start") or 0) + len(p["text"]))
              for p in row["passages"]]
        sentence = _uncut(_undangle(row["sentence"]), ps)
        if sentence is None or no_claim(_strip(sentence)):
            return False, Check(0.0, None, ["no claim"])
        if row["cited"] or len(ps) == 1:
            c = self.check(sentence, ps, row.get("question"), wording=False)
            return self.supported(c), c
        checks = [self.check(sentence, [p], row.get("question"), wording=False) for p in ps]
        c = max(checks, key=lambda c: (self.supported(c), c.score))
        return self.supported(c), c

    def verify(self, text: str, passages: list[Passage], question: str | None = None) -> Verified:
        invalid = 0
        out_sentences: list[AnswerSentence] = []
        checks: list[Check] = []
        citations: dict[int, Citation] = {}
        dropped: list[str] = []

        def keep_valid(m: re.Match) -> str:
            nonlocal invalid
            ns = [int(x) for x in re.split(r"\s*,\s*", m.group(1))]
            good = [n for n in ns if 1 <= n <= len(passages)]
            invalid += len(ns) - len(good)
            return "".join(f" [{n}]" for n in dict.fromkeys(good))

        clean = MARKER.sub(keep_valid, text).strip()
        # "… end. [1] Next" -> "… end [1]. Next": a marker after the full stop belongs to that sentence
        clean = re.sub(r"([.!?])((?:\s*\[\d+\])+)", r"\2\1", clean)
        rebuilt: list[str] = []
        repointed = 0
        for a, b in sentence_spans(clean):
            raw = _undangle(clean[a:b].strip())
            s = _uncut(raw, passages) or ""
            if not s:  # it breaks off with a cut-off headline and nothing whole is left
                dropped.append(_strip(raw))
                continue
            cites = list(dict.fromkeys(int(x) for x in re.findall(r"\[(\d+)\]", s)))
            body = _strip(s)
            if no_claim(body):
                dropped.append(body)
                continue  # no claim ("This is stated in passage 2.", "This is.", a cut-off fragment)
            if not cites:
                # no marker: cite the passage that supports it, if one does; else it is unsupported
                best = self.best_passage(body, passages, question)
                if best[0] < self.threshold:
                    near = self.nearest(body, passages)
                    c = self.check(body, [passages[near - 1]], question, wording=False) if near else Check(best[0], None)
                    c.uncited = True
                    out_sentences.append(AnswerSentence(s, [], round(best[0], 3), False, c.issues(self.threshold)))
                    checks.append(c)
                    rebuilt.append(s)
                    continue
                cites = [best[1]]
                s = cite(s, [best[1]])
            cited = [passages[n - 1] for n in cites]
            c = self.check(body, cited, question)
            if not self.supported(c) and len(passages) > 1:
                # small models often cite the wrong number: point the marker at the passage that supports it
                best = self.best_passage(body, passages, question)
                if best[0] >= self.threshold and best[1] not in cites:
                    repointed += 1
                    cites = [best[1]]
                    s = cite(s, [best[1]])
                    cited = [passages[best[1] - 1]]
                    c = self.check(body, cited, question)
            ok = self.supported(c)
            out_sentences.append(AnswerSentence(s, cites, round(c.score, 3), ok, [] if ok else c.issues(self.threshold),
                                                c.wording()))
            checks.append(c)
            rebuilt.append(s)
            for n in cites:
                if n not in citations:
                    p = passages[n - 1]
                    if c.where and cited[c.where[0]] is p:
                        qa, qb = c.where[1], c.where[2]
                    else:
                        spans = sentence_spans(p.text)
                        qa, qb = spans[0] if spans else (0, len(p.text))
                    start, end = p.file_span(qa, qb)
                    citations[n] = Citation(n, p.file, p.title, start, end, p.text[qa:qb])
        return Verified(" ".join(rebuilt), out_sentences, [citations[n] for n in sorted(citations)], invalid,
                        repointed, dropped, checks)


# a remark about the source left hanging at a sentence's end: "…, as mentioned in [1]."
_DANGLING = re.compile(r",?\s+(?:as (?:mentioned|stated|noted|reported|described|said) in|according to)"
                       r"((?:\s*\[\d+\])*)\s*([.!?]?)\s*$", re.I)


def _ends_cut_off(body: str, passages: list[Passage]) -> bool:
    """Does the sentence break off where a cut-off headline of its passages does, on a word that cannot end
    a sentence ("… because some vehicles should be parked outside over" of "Some SUVs should be parked
    outside over ...", "… talks with Russian" of "… talks with Russian…")? Then it is a fragment. One that
    ends on a whole phrase ("… pump your own gas") is not."""
    last = re.findall(r"[A-Za-z]+", body)[-1:]
    if not last or (last[0].lower() not in STOPWORDS and last[0].lower() not in DEMONYMS):
        return False
    end = norm_tokens(body)[-3:]
    for p in passages:
        for line in (p.title, p.text.split("\n", 1)[0]):
            if cut_off(line) and len(end) == 3 and norm_tokens(line)[-3:] == end:
                return True
    return False


def _uncut(s: str, passages: list[Passage]) -> str | None:
    """A sentence that breaks off where a cut-off headline does, without its broken clause ("…, while also
    leaving open the prospect of talks with Russian" goes); None when nothing whole is left."""
    body = _strip(s)
    if not _ends_cut_off(body, passages):
        return s
    marks = "".join(f" [{n}]" for n in dict.fromkeys(re.findall(r"\[(\d+)\]", s)))
    head = body.rsplit(",", 1)[0].strip() if "," in body else ""
    return f"{head}{marks}." if len(head.split()) >= 4 and not no_claim(head) else None


def _undangle(s: str) -> str:
    """The sentence without a dangling "as mentioned in" (its markers kept): the claim before it stands."""
    return _DANGLING.sub(lambda m: m.group(1) + (m.group(2) or "."), s)


_FRAGMENT = re.compile(r"^(this|that|it|these|those)( (is|was|are|were))?\W*$|"
                       r"\b(towards|of|the|a|an|and|or|at|such as|as mentioned in)\W*$", re.I)


def no_claim(body: str) -> bool:
    """A sentence that states nothing: empty, only markers, a remark about the passages, a fragment."""
    return (not body or bool(re.fullmatch(r"[\W\d]*", body)) or bool(_META.match(body))
            or bool(_FRAGMENT.search(body.strip())))


_YES_NO = re.compile(r"^\W*(is|are|was|were|did|does|do|has|have|had|can|could|will|would|should|may|might)\b", re.I)
_EMPTY = set(terms("something someone somebody thing things somewhere sometime"))


def echoes_only(body: str, question: str) -> bool:
    """A sentence that says nothing the question did not ("The IRS announced it will do something this
    week."): it answers nothing. A yes/no question's answer may repeat it."""
    if _YES_NO.match(question):
        return False
    return not (set(terms(body)) - set(terms(question)) - _EMPTY)
