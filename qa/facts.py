"""Facts in a text: the names, figures, dates and quoted phrases a sentence states, normalised so that two
spellings of one fact compare equal, and who a quote in an article is attributed to.

Normalisation (``norm_tokens``): case and accents; possessives ("Ukraine's" = "Ukraine"); transliteration
variants ("Zelensky" = "Zelenskyy" = "Zelenskiy"); demonyms ("Ukrainian" = "Ukraine"); "U.S." = "US" =
"United States" = "America"; month abbreviations ("Feb. 7" = "February 7" = "7 February"); "5%" =
"5 percent" = "five percent"; thousands separators ("45,100" = "45100"). The premise check (qa.premise)
and the answer-sentence grounding (qa.verify) both compare facts through these functions only.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Sequence
from dataclasses import dataclass
from functools import lru_cache

from .text import ABBREVIATIONS, STOPWORDS, sentence_spans

MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december"]
MONTH_ABBR = {m[:3]: m for m in MONTHS} | {"sept": "september"}
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())}
_TENS = {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90"}
_NUMBER_WORDS |= _TENS
# country adjectives and their countries; "American" is the US (below)
DEMONYMS = {
    "ukrainian": "ukraine", "ukrainians": "ukraine", "russian": "russia", "russians": "russia",
    "chinese": "china", "japanese": "japan", "french": "france", "german": "germany", "germans": "germany",
    "italian": "italy", "israeli": "israel", "israelis": "israel", "palestinian": "palestine",
    "palestinians": "palestine", "iranian": "iran", "indian": "india", "canadian": "canada", "mexican": "mexico",
    "turkish": "turkey", "polish": "poland", "korean": "korea", "european": "europe", "europeans": "europe",
    "african": "africa", "asian": "asia", "syrian": "syria", "iraqi": "iraq", "afghan": "afghanistan",
    "pakistani": "pakistan", "brazilian": "brazil", "australian": "australia", "spanish": "spain",
    "dutch": "netherlands", "swedish": "sweden", "finnish": "finland", "norwegian": "norway",
    "danish": "denmark", "greek": "greece", "egyptian": "egypt", "venezuelan": "venezuela", "cuban": "cuba",
    "taiwanese": "taiwan", "vietnamese": "vietnam", "nigerian": "nigeria", "kenyan": "kenya",
    "ethiopian": "ethiopia", "hungarian": "hungary", "belarusian": "belarus", "lithuanian": "lithuania",
    "latvian": "latvia", "estonian": "estonia", "romanian": "romania", "czech": "czechia", "saudi": "saudi", "arabian": "arabia",
    "british": "uk", "britain": "uk", "english": "england", "scottish": "scotland", "irish": "ireland",
    "american": "us", "americans": "us", "america": "us", "emirati": "uae", "qatari": "qatar",
    "lebanese": "lebanon", "jordanian": "jordan", "yemeni": "yemen", "libyan": "libya", "sudanese": "sudan",
    "argentine": "argentina", "argentinian": "argentina", "chilean": "chile", "colombian": "colombia",
    "peruvian": "peru", "haitian": "haiti", "filipino": "philippines", "indonesian": "indonesia",
    "thai": "thailand", "malaysian": "malaysia", "singaporean": "singapore", "swiss": "switzerland",
    "austrian": "austria", "belgian": "belgium", "portuguese": "portugal", "serbian": "serbia",
    "croatian": "croatia", "bulgarian": "bulgaria", "slovak": "slovakia", "moldovan": "moldova",
    "georgian": "georgia", "armenian": "armenia", "azerbaijani": "azerbaijan", "kazakh": "kazakhstan",
}
_PHRASES = [  # multi-word names with one short form, applied to lower-cased text
    (r"\bunited states( of america)?\b", "us"), (r"\bu\.\s?s\b\.?(?:\s?a\b\.?)?", "us"), (r"\busa\b", "us"),
    (r"\bunited kingdom\b", "uk"), (r"\bu\.\s?k\b\.?", "uk"), (r"\bgreat britain\b", "uk"),
    (r"\beuropean union\b", "eu"), (r"\be\.\s?u\b\.?", "eu"), (r"\bunited nations\b", "un"), (r"\bu\.\s?n\b\.?", "un"),
    (r"\bper\s?cent\b", "percent"), (r"%", " percent"),
]
# words that name a role, not who holds it: "Prime Minister Shigeru Ishiba" names Shigeru Ishiba
TITLES = {
    "president", "presidents", "vice", "prime", "minister", "ministers", "secretary", "sen", "senator", "rep",
    "representative", "gov", "governor", "mr", "mrs", "ms", "dr", "prof", "professor", "ceo", "chancellor",
    "king", "queen", "prince", "princess", "pope", "general", "gen", "lt", "lieutenant", "col", "colonel",
    "adm", "admiral", "sgt", "capt", "captain", "mayor", "judge", "justice", "chief", "foreign", "defense",
    "defence", "economy", "finance", "interior", "former", "deputy", "spokesman", "spokeswoman",
    "spokesperson", "ambassador", "envoy", "special", "adviser", "advisor", "national", "security", "director",
    "chairman", "chairwoman", "chair", "leader", "officials", "official", "speaker", "attorney",
    "commissioner", "premier", "sheikh", "crown", "st", "saint", "senior",
}
# capitalised words that are not names (sentence openers, question words, days, months are dates)
_NOT_NAMES = STOPWORDS | {
    "what", "who", "whom", "whose", "which", "when", "where", "why", "how", "did", "does", "do", "is", "are",
    "was", "were", "has", "have", "had", "will", "would", "can", "could", "should", "may", "might", "according",
    "in", "on", "at", "after", "before", "since", "during", "despite", "yet", "however", "meanwhile", "but",
    "and", "or", "so", "if", "then", "also", "still", "following", "separately", "amid", "while", "although",
    "i", "we", "you", "they", "he", "she", "it", "this", "that", "these", "those", "there", "here", "as", "a",
    "an", "the", "for", "with", "from", "by", "to", "of", "not", "no", "yes", "some", "many", "most", "one",
    "two", "new", "why", "name", "answer", "passage", "passages", "article", "articles", "besides", "unlike",
    "apart", "aside", "beyond", "including", "like", "among", "between", "against", "given", "since", "until",
    "although", "though", "because", "whether", "once", "instead", "other", "another", "each", "every", "both",
    "either", "neither", "last", "next", "first", "later", "earlier", "then", "now", "today", "yesterday",
    "tomorrow", "tonight", "please", "tell", "describe", "explain", "list", "give", "summarise", "summarize",
    "prior", "recently", "currently", "initially", "finally", "overall", "similarly", "additionally",
    "furthermore", "nevertheless", "otherwise", "indeed", "notably", "reportedly", "officials", "police",
    "authorities", "experts", "analysts", "researchers", "scientists", "critics", "residents", "people",
    "several", "few", "more", "less", "over", "under", "about", "around", "nearly", "almost", "just", "only",
} | set(MONTHS) | set(WEEKDAYS) | set(MONTH_ABBR)


def _fold_word(w: str) -> str:
    """One spelling per word: accents, case, doubled letters and -iy/-yy endings folded; demonyms to
    their country."""
    w = DEMONYMS.get(w, w)
    if w[:1].isdigit():  # a figure: "221.6" keeps its doubled digits
        return w
    w = re.sub(r"(.)\1+", r"\1", w)
    return re.sub(r"(iy|ij|yi)$", "y", w)


def _ascii(text: str) -> str:
    """Accents dropped ("Café" is "Cafe") and other non-ASCII letters with them; any other non-ASCII mark
    (a dash, a curly quote) is a space: "NATO—an aspiration" is two words, not "NATOan"."""
    text = unicodedata.normalize("NFKD", text)
    if text.isascii():
        return text
    return "".join(c if c.isascii() else "" if c.isalpha() or unicodedata.combining(c) else " " for c in text)


@lru_cache(maxsize=4096)
def norm_tokens(text: str) -> tuple[str, ...]:
    """The normalised word tokens of ``text`` (see the module docstring)."""
    t = _ascii(text.replace("’", "'").replace("‘", "'")).lower()
    for pat, rep in _PHRASES:
        t = re.sub(pat, f" {rep} ", t)
    t = re.sub(r"\bcovid-?19\b", "covid", t)  # the disease's two names
    t = re.sub(r"\b([a-z]+)-(\d+)\b", r"\1\2", t)  # "F-16", "BA-5": a name, not a figure
    t = re.sub(r"(\d),(?=\d{3}\b)", r"\1", t)  # 45,100 -> 45100
    t = re.sub(r"(\d)(st|nd|rd|th)\b", r"\1", t)  # 7th -> 7
    t = re.sub(r"'s\b|s'(?=\s|$)", "", t)  # possessives
    out = []
    for w in re.findall(r"[a-z]+\d+\b|\d+(?:\.\d+)?|[a-z]+", t):
        w = MONTH_ABBR.get(w, w)
        w = _NUMBER_WORDS.get(w, w)
        out.append(_fold_word(w))
    return tuple(out)


def _contains(hay: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    n = len(needle)
    if not n:
        return True
    first = needle[0]
    return any(hay[i:i + n] == needle for i, w in enumerate(hay) if w == first)


@dataclass(frozen=True)
class Fact:
    kind: str  # "name", "number", "year", "date", "weekday", "quote"
    text: str  # as written
    key: tuple[str, ...]  # normalised tokens


_CAP_RUN = re.compile(r"(?<![\w'’-])[A-Z][\w'’.\-]*(?:\s+(?:of|de|la|al|bin|von|van|der|du|da|the)?\s*[A-Z][\w'’.\-]*)*")
_QUOTE = re.compile(r"[\"“]([^\"“”]{3,300})[\"”]")
_NUM = re.compile(r"(?<![\w.])(?<![A-Za-z]-)\$?\d+(?:[.,]\d+)*%?(?![A-Za-z\d])")
_DATE = re.compile(r"\b(" + "|".join(MONTHS + list(MONTH_ABBR)) + r")\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b|"
                   r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(" + "|".join(MONTHS + list(MONTH_ABBR)) + r")\b", re.I)


_FRACTION = re.compile(r"\b(?:a|one|two|three|four|five|six|seven|eight|nine)[-\s](?:half|halves|thirds?|quarters?|"
                       r"fifths?|sixths?|eighths?|tenths?)\b", re.I)


def _before_title(run: str, word: str) -> bool:
    """Is ``word`` (a country adjective) followed by a role word in ``run``? ("Russian President …",
    not "European Union")."""
    ws = run.split()
    i = ws.index(word)
    return i + 1 >= len(ws) or re.sub(r"[^\w]", "", ws[i + 1]).lower() in TITLES


def _name_parts(run: str) -> list[str]:
    """A run of capitalised words split at role words: "Ukrainian President Volodymyr Zelensky" gives
    "Ukrainian" and "Volodymyr Zelensky"; "Prime Minister" alone gives nothing."""
    parts: list[str] = []
    cur: list[str] = []
    for orig in run.split():
        w = re.sub(r"-[a-z][\w-]*$", "", orig)  # "Russian-occupied" is about Russia
        bare = re.sub(r"[^\w]", "", w).lower()
        if bare in TITLES or bare in _NOT_NAMES or (bare in DEMONYMS and not cur and _before_title(run, orig)):
            if cur:
                parts.append(" ".join(cur))
                cur = []
            if bare in DEMONYMS:
                parts.append(w)
            continue
        cur.append(w)
    if cur:
        parts.append(" ".join(cur))
    parts = [p.strip(".,'’-") for p in parts if p.strip(".,'’-")]
    # "French President Emmanuel Macron" is about Macron; "the Japanese prime minister" is about Japan
    if len(parts) > 1:
        parts = [p for p in parts if p.lower() not in DEMONYMS] or parts
    return parts


def names(text: str) -> list[str]:
    """Capitalised names in ``text`` (a sentence's capitalised first word counts only when it is not a
    common opener), role words left out."""
    text = re.sub(r"\b([A-Z])\.\s(?=[A-Z]\.)", r"\1.", text)  # "U. S." is "U.S."
    out: list[str] = []
    for a, b in sentence_spans(text) or [(0, len(text))]:
        s = text[a:b]
        for m in _CAP_RUN.finditer(s):
            run = m.group()
            if re.fullmatch(r"[A-Z]\.?", run.strip()):
                continue  # an initial
            for p in _name_parts(run):
                p = re.sub(r"['’]s$", "", p)
                if norm_tokens(p) and not all(t in _NOT_NAMES or t.isdigit() for t in norm_tokens(p)):
                    out.append(p)
    return list(dict.fromkeys(out))


def facts(text: str) -> list[Fact]:
    """The names, figures, years, dates, weekdays and quoted phrases ``text`` states."""
    out: list[Fact] = []
    for m in _QUOTE.finditer(text):
        q = m.group(1).strip(" ,.")
        if len(norm_tokens(q)) >= 3:
            out.append(Fact("quote", q, norm_tokens(q)))
    unquoted = _QUOTE.sub(" ", text)
    dated: set[str] = set()
    for m in _DATE.finditer(unquoted):
        month = (m.group(1) or m.group(4)).lower().rstrip(".")
        day = m.group(2) or m.group(3)
        month = MONTH_ABBR.get(month, month)
        if 1 <= int(day) <= 31:
            out.append(Fact("date", m.group().strip(), (month, str(int(day)))))
            dated.add(str(int(day)))
    for m in re.finditer(r"\b(" + "|".join(MONTHS) + r")\s+((?:19|20)\d\d)\b", unquoted, re.I):
        out.append(Fact("date", m.group(), (m.group(1).lower(), m.group(2))))
        dated.add(m.group(2))
    for w in WEEKDAYS:
        if re.search(rf"\b{w}\b", unquoted, re.I):
            out.append(Fact("weekday", w.capitalize(), (w,)))
    for m in _NUM.finditer(unquoted):
        raw = m.group()
        value = raw.strip("$%").replace(",", "")
        value = value.rstrip(".")
        if value in dated:
            continue
        kind = "year" if re.fullmatch(r"(19|20)\d\d", value) and "$" not in raw and "%" not in raw else "number"
        out.append(Fact(kind, raw, (value,)))
    for m in _FRACTION.finditer(unquoted):  # "two-thirds", "a third", "three quarters": a figure too
        out.append(Fact("number", m.group(), norm_tokens(m.group())))
    for w, v in _NUMBER_WORDS.items():
        if int(v) > 2 and re.search(rf"\b{w}\b", unquoted, re.I) and not any(f.key == (v,) for f in out):
            out.append(Fact("number", w, (v,)))
    for n in names(unquoted):
        if not any(n.lower().startswith(mo) for mo in MONTHS):
            out.append(Fact("name", n, norm_tokens(n)))
    return out


def _abbreviated(before: str) -> bool:
    """Does the text end with an abbreviation's full stop ("Dr.", "Sen."), which ends no sentence?"""
    m = re.search(r"(\w+)\.$", before)
    return m is not None and m.group(1).lower() in ABBREVIATIONS


class Source:
    """The text facts are looked up in (passages, their titles), normalised once."""

    def __init__(self, texts: list[str]):
        self.texts = texts
        self.tokens = [norm_tokens(t) for t in texts]
        self.vocab = {w for toks in self.tokens for w in toks}
        self._caps: list[tuple[str, str, bool]] | None = None

    def _pairs(self) -> list[tuple[str, str, bool]]:
        """(first, last, opens a sentence) for capitalised words that follow each other, normalised: who
        "Johnson" is. Read once per source."""
        if self._caps is None:
            pairs: list[tuple[str, str, bool]] = []
            for t in self.texts:
                for m in re.finditer(r"\b([A-Z][a-z’'\-]+)\s+(?=([A-Z][\w’'\-]+))", t):  # overlapping: "President Joe Biden"
                    a, b = norm_tokens(m.group(1)), norm_tokens(m.group(2))
                    if a and b:
                        before = t[:m.start()].rstrip()
                        opens = (not before or before[-1] in ".!?\"“”:;—–-(\n" or t[m.start() - 1:m.start()] == "\n") \
                            and not _abbreviated(before)  # "First lady Dr. Jill Biden" opens nothing
                        pairs.append((a[-1], b[0], opens))
            self._caps = pairs
        return self._caps

    def first_names(self, surname: str) -> list[str]:
        """The capitalised words the texts put before ``surname`` (normalised), in order of first use,
        except at a sentence's start, where any word is capitalised ("Following Trump's remarks")."""
        return list(dict.fromkeys(a for a, b, opens in self._pairs() if b == surname and not opens))

    def _acronyms(self) -> set[str]:
        """The initials of every run of capitalised words ("Centers for Disease Control" gives "cdc")."""
        if not hasattr(self, "_acr"):
            acr: set[str] = set()
            for t in self.texts:
                for m in re.finditer(r"[A-Z][a-z]+(?:\s+(?:(?:of|for|and|the|on)\s+)?[A-Z][a-z]+)+", t):
                    initials = "".join(w[0] for w in m.group().split() if w[0].isupper()).lower()
                    acr.update(initials[i:j] for i in range(len(initials)) for j in range(i + 2, len(initials) + 1))
            self._acr = acr
        return self._acr

    def has(self, f: Fact) -> bool:
        if not f.key:
            return True
        if f.kind == "date":
            month, day = f.key
            if len(day) == 4:  # "March 2022": both in one sentence
                return any(month in (st := set(norm_tokens(text[a:b]))) and day in st
                           for text in self.texts for a, b in sentence_spans(text))
            return any(_contains(t, (month, day)) or _contains(t, (day, month)) for t in self.tokens)
        if f.kind == "qualifier":
            return any(_contains(t, tuple(alt.split("|"))) for alt in f.key for t in self.tokens)
        if f.kind in ("number", "year", "weekday"):
            if len(f.key) > 1:  # a fraction: "two-thirds" is "2 thirds" in a row
                return any(_contains(t, f.key) for t in self.tokens)
            return f.key[0] in self.vocab
        if f.kind == "quote":
            if any(_contains(t, f.key) for t in self.tokens):
                return True
            # a quote given loosely: most of its words, in one sentence
            content = [w for w in f.key if w not in STOPWORDS]
            for text in self.texts:
                for a, b in sentence_spans(text):
                    toks = set(norm_tokens(text[a:b]))
                    if content and sum(w in toks for w in content) >= 0.8 * len(content):
                        return True
            return False
        # names: the whole name, or its last word (a surname alone) unless the text names someone else
        # with that surname and never this one ("Boris Johnson" is not "Mike Johnson"); an acronym is
        # there when what it stands for is ("CDC": "Centers for Disease Control")
        key = tuple(w for w in f.key if w not in TITLES) or f.key
        if any(_contains(t, key) for t in self.tokens):
            return True
        if re.fullmatch(r"[A-Z]{2,6}s?", f.text.strip(".")):
            return f.text.strip(".").rstrip("s").lower() in self._acronyms()
        if len(key) == 1 or key[-1] not in self.vocab:
            return False
        if len(key) > 2:  # "International Monetary Fund": every word, not just "Fund"
            return all(w in self.vocab for w in key)
        if f.text.split()[0].isupper():
            return True  # the first is an acronym ("LGBTQ Pride" is a Pride event)
        if all(w in self.vocab for w in key) and not re.fullmatch(r"[A-Z][a-z'’\-]+\s+[A-Z][a-z'’\-]+", f.text):
            return True  # every word is there, and it is not a first name and a surname ("Hyundai SUVs")
        # a person's every name may be there and still name no one: "Vladimir Zelensky" from "Vladimir
        # Putin" and "Volodymyr Zelensky"
        others = {a for a, b, _ in self._pairs() if b == key[-1] and a not in TITLES and a not in _NOT_NAMES}
        return not others or key[-2] in others

    def missing(self, fs: list[Fact]) -> list[Fact]:
        return [f for f in fs if not self.has(f)]


_CLAUSE_END = {"and", "but", "while", "whereas", "or", "which", "who", "after", "before", "when"}


def _figure_positions(toks: tuple[str, ...]) -> dict[str, list[int]]:
    pos: dict[str, list[int]] = {}
    for i, w in enumerate(toks):
        if re.fullmatch(r"\d+(?:\.\d+)?", w):
            pos.setdefault(w, []).append(i)
    return pos


def misplaced_figures(sentence: str, source: str, window: int = 5) -> list[str]:
    """Figures the sentence ties to a word that the source ties to another figure: "45,100 soldiers were
    injured" where the source says "killed 45,100 soldiers and injured another 390,000". For each figure of
    the sentence, the verbs next to it (words in -ed: killed, injured, arrested: what the figure counts) are
    looked up in each source sentence that has the figure; one nearer to a different figure there than to
    this one makes it a misplaced figure."""
    stoks = norm_tokens(sentence)
    wrong = []
    for n, places in _figure_positions(stoks).items():
        # what the figure counts: the words after it up to the end of its clause ("45,100 soldiers were
        # injured"), or the verb just before it ("killed 45,100")
        near = set()
        for i in places:
            for j in range(i + 1, min(len(stoks), i + 8)):
                if stoks[j] in _CLAUSE_END or stoks[j].isdigit():
                    break
                near.add(stoks[j])
            for j in range(i - 1, max(-1, i - 3), -1):
                if stoks[j] in _CLAUSE_END or stoks[j].isdigit():
                    break
                near.add(stoks[j])
        near = {w for w in near if w.endswith("ed") and w not in STOPWORDS and len(w) > 3}
        verdicts = []
        for a, b in sentence_spans(source):
            ptoks = norm_tokens(source[a:b])
            figs = _figure_positions(ptoks)
            if n not in figs or len(figs) < 2:
                continue
            bad = False
            for w in near:
                for wi in (i for i, t in enumerate(ptoks) if t == w):
                    dn = min(abs(wi - i) for i in figs[n])
                    do = min(abs(wi - i) for m, ps in figs.items() if m != n for i in ps)
                    if do < dn:
                        bad = True
            verdicts.append(bad)
        if verdicts and all(verdicts):
            wrong.append(n)
    return wrong


_UP = {w for x in ("increase increased increases increasing rise rises rose risen rising gain gained gains grew grow "
                   "grows grown growth climb climbed climbs jump jumped jumps surge surged soar soared higher up "
                   "hike hiked boost boosted").split() for w in norm_tokens(x)}
_DOWN = {w for x in ("decrease decreased decreases decreasing decline declined declines declining fall falls fell "
                     "fallen falling drop dropped drops dropping down lower cut cuts tumble tumbled plunge plunged "
                     "slide slid sink sank shrink shrank shrunk reduce reduced reduction lost slump slumped").split()
         for w in norm_tokens(x)}


def _direction(toks: tuple[str, ...], i: int) -> set[str]:
    """Which way the words next to the figure at ``i`` say it moved: "up" (increased by 65 cents), "down"
    (down by 65 cents), both, or neither; within its clause, a few words either side."""
    out = set()
    for j in list(range(i - 1, max(-1, i - 5), -1)) + list(range(i + 1, min(len(toks), i + 4))):
        w = toks[j]
        if w in _CLAUSE_END or re.fullmatch(r"\d+(?:\.\d+)?", w):
            if j < i:
                continue
            break
        if w == "up" and j + 1 < len(toks) and toks[j + 1] == "to":
            continue  # "up to 65": a bound, not a rise
        if w in _UP:
            out.add("up")
        elif w in _DOWN:
            out.add("down")
    return out


def reversed_changes(sentence: str, source: str) -> list[str]:
    """Figures the sentence gives as a rise where every source sentence with that figure gives a fall, or
    the reverse: "gas prices have increased by 65 cents" of "the national average is down by 65 cents"."""
    stoks = norm_tokens(sentence)
    wrong = []
    for n, places in _figure_positions(stoks).items():
        said = set().union(*(_direction(stoks, i) for i in places))
        if len(said) != 1:
            continue
        given: set[str] = set()
        for a, b in sentence_spans(source):
            ptoks = norm_tokens(source[a:b])
            for i in _figure_positions(ptoks).get(n, []):
                given |= _direction(ptoks, i) or {"none"}
        if given and not (given & said) and "none" not in given:
            wrong.append(f"{n} (the passage gives it as a {'fall' if 'down' in given else 'rise'})")
    return wrong


# the simple past of irregular verbs (a form no present tense shares): "met", not "set" or "cut"
_PAST = set("met spoke held won became took gave told made went came led sold paid began brought bought found "
            "thought fought kept lost ran saw sent stood struck wrote knew drew chose rose fell sought built grew "
            "drove spent caught felt heard fled broke stole sank swore froze".split())
_AUXILIARY = set("be been being is are was were am will would shall should can could may might must have has had "
                 "to not never".split())
_PLANNED = _AUXILIARY | set("plan plans planned planning expected expects scheduled set due going intend intends "
                            "intended aim aims hope hopes".split())
_AHEAD = ("next week", "next month", "next year", "tomorrow", "later this week", "later this month", "later this year",
          "in the coming days", "in the coming weeks", "in the coming months")


def _pairs(text: str) -> list[tuple[str, str]]:
    """Names joined by "and" in one sentence ("Trump and Putin", "President Donald Trump and Ukrainian
    President Volodymyr Zelensky"): each pair in order."""
    out = []
    for a, b in sentence_spans(text) or [(0, len(text))]:
        s = text[a:b]
        found, at = [], 0
        for n in names(s):
            i = s.find(n, at)
            if i >= 0:
                found.append((n, i, i + len(n)))
                at = i + len(n)
        for (x, _, xe), (y, ys, _) in zip(found, found[1:]):
            if re.fullmatch(r"\s*,?\s*and\s+(?:[A-Z][\w.’'\-]*\s+){0,4}", s[xe:ys]):
                out.append((x, y))
    return out


def wrong_partner(sentence: str, source: str, asked: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """A pair of names the sentence joins ("Trump and Zelensky have both …") where the source joins one of
    them with someone else ("both Trump and Putin have …") and never with the other: the partner it gives.
    A pair whose words the question gives (``asked``: its normalised words) is the user's premise."""
    given = _pairs(source)
    wrong = []
    for a, b in _pairs(sentence):
        if set(norm_tokens(f"{a} {b}")) - TITLES <= asked:
            continue
        if any({same_person(a, x) or same_person(a, y), same_person(b, x) or same_person(b, y)} == {True}
               for x, y in given):
            continue  # the source pairs them too
        for one, other in ((a, b), (b, a)):
            partners = [y if same_person(one, x) else x for x, y in given if same_person(one, x) or same_person(one, y)]
            if partners and not any(same_person(other, p) for p in partners):
                wrong.append(f"{other} (the source pairs {one} with {partners[0]})")
                break
    return wrong


def tense_clash(sentence: str) -> str | None:
    """A past event placed in the future: "U.S. officials met their counterparts in Washington next week".
    No source says that; a sentence that does has joined a past event and a planned one. The verb and the
    time, or None. The past is an irregular verb's simple past ("met", "spoke") with no auxiliary before it
    ("will be held next week" is a plan)."""
    low = sentence.lower()
    ahead = next((t for t in _AHEAD if re.search(rf"\b{t}\b", low)), None)
    if not ahead:
        return None
    words = re.findall(r"[a-z']+", low)
    at = next((i for i in range(len(words)) if " ".join(words[i:i + len(ahead.split())]) == ahead), None)
    if at is None:
        return None  # "tomorrow's": a word of its own, not the time
    for i, w in enumerate(words[:at]):
        # "told reporters he would meet Zelensky next week": the time is the plan's, reported in the past
        if w in _PAST and not _AUXILIARY & set(words[max(0, i - 2):i]) and not _PLANNED & set(words[i + 1:at]):
            return f"{w} … {ahead} (a past event placed in the future)"
    return None


# -- what a sentence claims besides names and figures --------------------------------------------

# Words that change what a sentence claims without being a name or a figure: a superlative or an exclusive
# ("the most nominations", "the only states", "its first title"), and a time ("soon", "this week",
# "recently"). A sentence that states one asserts more than a passage without it says, so the passage must
# state it too. Each entry: the phrase as written, and the phrases a passage may state it with.

# times a sentence can lose without changing what else it says ("… announced a crackdown this week")
TIME_QUALIFIERS = {"this week", "this month", "this year", "later this year", "next week", "next month", "next year",
                   "last week", "last month", "today", "yesterday", "tomorrow", "tonight", "recently"}
# the other ways a passage may state a time
_TIME_ALTS = {"recently": ("recently", "recent", "latest", "newly")}
_ONLY: tuple[str, ...] = ("only", "except", "but for", "nothing but", "alone", "sole", "solely", "exclusively")
_QUALIFIERS: list[tuple[str, tuple[str, ...]]] = [
    ("only", _ONLY),
] + [
    (w, (w,)) for w in (
        "most", "least", "first", "biggest", "largest", "highest", "lowest", "greatest", "smallest",
        "oldest", "youngest", "longest", "shortest", "deadliest", "worst", "best", "fastest", "strongest",
        "richest", "newest", "earliest", "heaviest", "hottest", "coldest", "wettest", "record", "ever", "never",
        "historic", "unprecedented")
] + [(t, _TIME_ALTS.get(t, (t,))) for t in sorted(TIME_QUALIFIERS)] + [
    ("soon", ("soon", "shortly", "coming weeks", "coming months", "coming days")),
] + [  # how many times it happened: "for the second time" is a count, like "first"
    (f"{n} time", (f"{n} time", f"{n}", "again", "another")) for n in ("second", "third", "fourth", "fifth")
]
_QUALIFIER_KEYS = [(text, norm_tokens(text), tuple(norm_tokens(a) for a in alts)) for text, alts in _QUALIFIERS]


def qualifiers(text: str) -> list[Fact]:
    """The superlatives, exclusives and times ``text`` states outside quotation marks ("the most", "only",
    "this week", "soon"), as facts of kind "qualifier" whose keys are the phrases a source may state them
    with, joined by "|"."""
    toks = norm_tokens(re.sub(r"\b(best|most|least) known\b|\bat (least|most)\b|\bfirst (lady|minister|degree|aid)\b", " ",
                              _QUOTE.sub(" ", text), flags=re.I))
    out: list[Fact] = []
    seen: set = set()
    for written, key, alts in sorted(_QUALIFIER_KEYS, key=lambda q: -len(q[1])):
        if _contains(toks, key) and not any(_contains(s, key) for s in seen):
            seen.add(key)
            out.append(Fact("qualifier", written, tuple("|".join(a) for a in alts)))
    return out


# words before a figure that say it is a bound, an estimate or a possibility; a sentence that gives the
# figure without the kind of hedge its source gives it ("$50 billion" for "more than $50 billion",
# "is worth" for "could be worth") states more than the source does
_HEDGES = {
    "a lower bound": ("more than", "over", "at least", "upwards of", "exceeding", "exceeds", "above", "topped"),
    "an upper bound": ("up to", "as many as", "nearly", "almost", "less than", "fewer than", "under", "below",
                    "just shy of", "close to"),
    "an estimate": ("about", "around", "roughly", "approximately", "some", "estimated", "an estimated", "likely",
                 "expected", "projected", "potentially"),
    "a possibility": ("could", "may", "might", "would", "can"),
}
_HEDGE_KEYS = [(kind, norm_tokens(h)) for kind, hs in _HEDGES.items() for h in hs]


def _hedges_before(toks: tuple[str, ...], i: int, window: int = 4) -> set[str]:
    """The kinds of hedge in the ``window`` words before the figure at ``toks[i]``, within its clause."""
    start = i
    while start > 0 and i - start < window and toks[start - 1] not in _CLAUSE_END and not toks[start - 1].isdigit():
        start -= 1
    before = toks[start:i]
    return {kind for kind, key in _HEDGE_KEYS if _contains(before, key)}


def dropped_hedges(sentence: str, source: str) -> list[str]:
    """Figures the sentence states without a hedge its source always gives them ("more than 50", "could
    be … 56"): "50 (the passage gives it as a lower bound)"."""
    stoks = norm_tokens(sentence)
    out = []
    spans = [norm_tokens(source[a:b]) for a, b in sentence_spans(source)]
    for n, places in _figure_positions(stoks).items():
        if len(n) == 4 and n.startswith(("19", "20")):
            continue  # a year
        said = set().union(*(_hedges_before(stoks, i) for i in places))
        kinds = None
        for ptoks in spans:
            for i, w in enumerate(ptoks):
                if w == n:
                    k = _hedges_before(ptoks, i)
                    kinds = k if kinds is None else kinds & k  # a hedge it is always given
        lost = sorted((kinds or set()) - said)
        if lost:
            out.append(f"{n} (the passage gives it as {' and '.join(lost)})")
    return out


# -- who said it ---------------------------------------------------------------------------------

SPEECH = (r"said|says|say|wrote|writes|write|told|tells|added|adds|noted|notes|stated|states|claimed|claims|"
          r"argued|argues|warned|warns|explained|explains|insisted|insists|asked|asks|replied|posted|tweeted|"
          r"announced|announces|declared|declares|suggested|suggests|thinks|think|thought|believes|believe|"
          r"believed|stressed|emphasized|emphasised|acknowledged|admitted|recalled|remarked|continued|"
          r"indicated|indicates|confirmed|confirms|described|describes|called|calls|criticized|criticised|"
          r"praised|urged|urges|predicted|promised|vowed|pledged|mentioned|countered|remarked|responded|estimated|"
          r"signaled|signalled|expressed|assured|cautioned|conceded|reiterated")
_PRONOUN = r"[Hh]e|[Ss]he|[Tt]hey|[Ii]t|[Ww]e|I"
_NAME_PAT = r"(?:[A-Z][\w'’.\-]*(?:\s+(?:of|de|al|bin|von|van)?\s*[A-Z][\w'’.\-]*)*)"
_QUOTE_CHARS = "\"“”"
# "…," he wrote / "…," Trump said / "…," said Trump / Trump said … / according to Trump
_AFTER_QUOTE = re.compile(rf"[”\"],?\s+(?:(?P<pro>{_PRONOUN})|(?P<name>{_NAME_PAT}|the [a-z][\w\s]{{0,40}}?))\s+"
                          rf"(?:has |had |also |later |then )?(?:{SPEECH})\b")
_SAID_NAME = re.compile(rf"[”\"],?\s+(?:{SPEECH})\s+(?P<name>(?:the\s+)?{_NAME_PAT})")
# "criticism from Zelensky, who expressed …", "remarks by Peskov"
_FROM = re.compile(rf"\b(?:criticism|comments?|remarks?|warnings?|statements?|praise|concerns?|objections?|"
                   rf"reaction|response|pushback) (?:from|by) (?P<name>{_NAME_PAT})")
_WHO = re.compile(rf"(?P<name>{_NAME_PAT}),? who (?:has |had |also )?(?:{SPEECH})\b")
_ACCORDING = re.compile(rf"\b[Aa]ccording to (?P<name>{_NAME_PAT})")
_SUBJECT = re.compile(rf"(?:^|[,;]\s+|\bwhile\s+|\band\s+)(?:(?P<pro>{_PRONOUN})|(?P<name>{_NAME_PAT}))(?:,[^,]{{1,80}},)?\s+"
                      rf"(?:has |had |also |later |then |previously |reportedly |recently |once )?(?:{SPEECH})\b")
_CLAIM = re.compile(rf"^(?:[Aa]ccording to (?P<acc>{_NAME_PAT}),?\s)|^(?P<name>{_NAME_PAT})(?:,[^,]{{1,80}},)?\s+"
                    rf"(?:has |had |also |reportedly |previously )?(?:{SPEECH})\b")


def _person(name: str) -> str | None:
    """The name without role words, or None when nothing is left ("the president")."""
    parts = [p for p in _name_parts(name) if p.lower() not in DEMONYMS]
    return parts[-1] if parts else None


def _subject_name(sentence: str) -> str | None:
    """The first person-like name a sentence mentions, possessives and countries left out (its subject,
    usually): who "he" in the next sentence refers to."""
    for m in _CAP_RUN.finditer(sentence):
        if re.match(r"['’]s\b", sentence[m.end():m.end() + 2]):
            continue
        for n in _name_parts(m.group()):
            n = re.sub(r"['’]s$", "", n)
            toks = norm_tokens(n)
            if (toks and len(n) > 2 and toks[0] not in DEMONYMS.values() and n.lower() not in DEMONYMS
                    and not all(t in _NOT_NAMES for t in toks)):
                return n
    return None


def _explicit_speaker(sentence: str) -> tuple[str | None, bool]:
    """(speaker named in the sentence, whether it attributes speech at all: a pronoun counts)."""
    for pat in (_AFTER_QUOTE, _SAID_NAME, _ACCORDING, _FROM, _WHO):
        m = pat.search(sentence)
        if m:
            gd = m.groupdict()
            if gd.get("name") and not gd["name"].lower().startswith("the "):
                p = _person(gd["name"])
                if p:
                    return p, True
            return None, True
    m = _SUBJECT.search(sentence)
    if m:
        if m.group("name"):
            p = _person(m.group("name"))
            if p:
                return p, True
        return None, True
    return None, False


def voices(sentence: str) -> list[str]:
    """Everyone the sentence itself names as speaking or taking a stance ("…," Trump said; criticism from
    Zelensky; according to Peskov), every match of every pattern, in order."""
    out: list[str] = []
    for pat in (_AFTER_QUOTE, _SAID_NAME, _ACCORDING, _FROM, _WHO, _SUBJECT):
        for m in pat.finditer(sentence):
            if re.match(r"\W*and\b", m.group()) and re.search(r"[A-Z]\w*\s*$", sentence[:m.start()]):
                continue  # "Centers for Disease Control and Prevention announced": one name, not two people
            name = m.groupdict().get("name")
            p = _person(name) if name and not name.lower().startswith("the ") else None
            if p and p not in out:
                out.append(p)
    return out


def _opens_quote(sentence: str) -> bool:
    """Does a quotation that starts in this sentence go on after it?"""
    return sentence.count("“") > sentence.count("”") or sentence.count('"') % 2 == 1


def speaker(sentence: str, before: Sequence[str] = (), after: Sequence[str] = ()) -> str | None:
    """Who the quote or statement in ``sentence`` is attributed to, resolved through its neighbours:
    ``before`` holds the preceding sentences (nearest last), ``after`` the following ones. "…, he wrote"
    is the person named in the sentence before; a quotation that goes on into the next sentences belongs
    to whoever is named where it closes ("…,” Trump stated.")."""
    name, attributes = _explicit_speaker(sentence)
    if name:
        return name
    quoted = any(c in sentence for c in _QUOTE_CHARS)
    if quoted and not attributes and not re.match(r"^\s*[\"“]", sentence):
        lead = _lead_name(sentence)
        if lead:
            return lead
    if not attributes and quoted and _opens_quote(sentence):
        for i, nxt in enumerate(after[:3]):
            n2, a2 = _explicit_speaker(nxt)
            if a2:
                return n2 or _resolve_back(list(before))
            if any(c in nxt for c in "”\""):
                break  # the quotation closed without saying who spoke
    if not attributes and not quoted:
        return None
    return _resolve_back(list(before))


def _resolve_back(before: list[str]) -> str | None:
    """The person the nearest preceding sentence is about: its named speaker, else its subject, unless it
    is itself about "he"/"she" or said by them (then the one before)."""
    for s in reversed(before[-5:]):
        if len(s.split()) <= 3:
            continue  # a dateline or heading ("CNN —"), not someone speaking
        n, attributes = _explicit_speaker(s)
        if n:
            return n
        if attributes or re.match(r"^[\"“‘']?(He|She|They|His|Her|Their)\b", s.strip()):
            continue
        subj = _subject_name(s)
        if subj:
            return _person(subj) or subj
    return None


def _lead_name(sentence: str) -> str | None:
    """The subject of a sentence that quotes someone without a "said": the first name before the quote
    that is not a possessive ("Zelensky, however, countered …, remarking, “…”")."""
    head = re.split(r"[\"“]", sentence, maxsplit=1)[0]
    for m in _CAP_RUN.finditer(head):
        if re.match(r"['’]s\b", head[m.end():m.end() + 2]):
            continue
        for p in _name_parts(m.group()):
            p = re.sub(r"['’]s$", "", p)
            if norm_tokens(p) and not all(t in _NOT_NAMES for t in norm_tokens(p)) and p.lower() not in DEMONYMS:
                return _person(p) or p
    return None


def speaker_in(text: str, a: int, b: int) -> str | None:
    """The speaker of the sentence at ``text[a:b]`` with the sentences around it in ``text``."""
    spans = sentence_spans(text)
    idx = next((i for i, (x, y) in enumerate(spans) if x <= a < y or (a <= x < b)), None)
    if idx is None:
        return speaker(text[a:b])
    return speaker(text[spans[idx][0]:spans[idx][1]], [text[x:y] for x, y in spans[max(0, idx - 5):idx]],
                   [text[x:y] for x, y in spans[idx + 1:idx + 4]])


def referent_in(text: str, a: int, b: int) -> str | None:
    """Whom a sentence that opens with "He"/"She" is about: the person the sentences before it name."""
    spans = sentence_spans(text)
    idx = next((i for i, (x, y) in enumerate(spans) if x <= a < y or (a <= x < b)), None)
    if idx is None or not re.match(r"^[\"“‘']?(He|She|His|Her)\b", text[spans[idx][0]:spans[idx][1]]):
        return None
    return _resolve_back([text[x:y] for x, y in spans[max(0, idx - 3):idx]])


def _in_article(p, a: int, b: int, article_text, fn):
    text = article_text(p.file) if article_text and getattr(p, "file", None) else None
    cs = getattr(p, "clean_start", None)
    if text and cs is not None and text[cs + a:cs + b] == p.text[a:b]:
        return fn(text, cs + a, cs + b)
    return fn(p.text, a, b)


def passage_referent(p, a: int, b: int, article_text=None) -> str | None:
    """``referent_in`` for a passage sentence, read in its whole article when known."""
    return _in_article(p, a, b, article_text, referent_in)


def passage_speaker(p, a: int, b: int, article_text=None) -> str | None:
    """Who the sentence ``p.text[a:b]`` of a passage is attributed to, read in its whole article when
    ``article_text(file)`` gives it (the speaker may be named before the passage begins)."""
    return _in_article(p, a, b, article_text, speaker_in)


def claimed_speaker(sentence: str) -> str | None:
    """Whom an answer sentence says spoke: "X said / thinks / wrote …", "According to X, …"."""
    opens_quoted = sentence.strip()[:1] in _QUOTE_CHARS
    m = None if opens_quoted else _CLAIM.search(sentence.strip())
    if not m:
        m2 = _AFTER_QUOTE.search(sentence) or _SAID_NAME.search(sentence)
        if m2 and m2.groupdict().get("name"):
            return _person(m2.group("name"))
        return None
    n = m.group("acc") or m.group("name")
    return _person(n) if n else None


def misnamed(f: Fact, article: Source, passage: Source | None = None) -> str | None:
    """The name the article gives a person that a text names with another first name: "Vladimir Zelensky"
    (a first name borrowed from Vladimir Putin) where the article only ever says "Volodymyr Zelensky". The
    passage may give the surname alone, so the article is what knows the first name. None when the
    article pairs the surname with this first name, or with none.

    With the ``passage`` that gives the surname alone: where the article names two people of one surname
    ("Joe Biden", "Jill Biden"), its bare "Biden" is the one it names first (news style: the full name at
    first mention, the surname after), so "Jill Biden" is not what a passage about "Biden" says when the
    article opened with Joe Biden. The passage names another when it gives the first name itself."""
    key = [w for w in f.key if w not in TITLES]
    parts = [w for w in f.text.split() if re.sub(r"[^\w]", "", w).lower() not in TITLES]
    if f.kind != "name" or len(key) != 2 or len(parts) != 2 \
            or not all(re.fullmatch(r"[A-Z][a-z'’]+", w) for w in parts):
        return None  # a first name and a surname, one word each ("Walton-Penner family" is not)
    firsts = [a for a in article.first_names(key[-1])
              if a.isalpha() and a not in TITLES and a not in _NOT_NAMES and a not in DEMONYMS]
    if not firsts:
        return None
    if key[0] not in firsts:
        return f"{firsts[0].title()} {f.text.split()[-1]}"
    if passage is None or len(firsts) < 2 or firsts[0] == key[0] or any(_contains(t, tuple(key)) for t in passage.tokens):
        return None
    return f"{firsts[0].title()} {f.text.split()[-1]}"


# offices and ranks a text may give a person; abbreviations read as the word
ROLES = {
    "president": "president", "minister": "minister", "secretary": "secretary", "senator": "senator", "sen": "senator",
    "governor": "governor", "gov": "governor", "general": "general", "gen": "general", "lieutenant": "lieutenant",
    "lt": "lieutenant", "colonel": "colonel", "col": "colonel", "admiral": "admiral", "adm": "admiral",
    "ambassador": "ambassador", "envoy": "envoy", "chancellor": "chancellor", "king": "king", "queen": "queen",
    "prince": "prince", "pope": "pope", "mayor": "mayor", "judge": "judge", "ceo": "ceo", "speaker": "speaker",
    "spokesman": "spokesperson", "spokeswoman": "spokesperson", "spokesperson": "spokesperson",
    "director": "director", "chairman": "chair", "chairwoman": "chair", "commissioner": "commissioner",
    "premier": "premier",
}
_LEAD = re.compile(r"((?:[A-Z][\w’'.\-]*\s+){1,5})$")  # the capitalised words right before a name
# "… is Ukraine's defense minister": the office a copula gives the name before it (up to five words on)
_COPULA = re.compile(r"^\s+(?:is|was|has been|remains|became|serves as)\s+((?:[\w’'.\-]+\s+){0,4}[\w’'.\-]+)")
# ", the retired U.S. lieutenant-general who …" (an initial's full stop does not end it)
_APPOSITIVE = re.compile(r"^,\s+((?:[^,.;:()]|(?<=\b[A-Z])\.){1,90})")


def _roles(words: str) -> set[str]:
    return {ROLES[w] for w in re.findall(r"[a-z]+", words.lower()) if w in ROLES}


def roles_given(text: str, name: str) -> set[str]:
    """The offices ``text`` gives the person named ``name``: in the capitalised words right before the name
    ("Ukrainian President Volodymyr Zelensky") and in the phrase after it ("Keith Kellogg, Trump's special
    envoy for Ukraine")."""
    out: set[str] = set()
    surname = norm_tokens(name.split()[-1])[-1:]
    for m in re.finditer(r"\b[A-Z][\w’'\-]+", text):  # the surname in any spelling (Zelensky, Zelenskyy)
        if norm_tokens(m.group())[:1] != surname:
            continue
        lead = _LEAD.search(text[max(0, m.start() - 80):m.start()])
        if lead:
            out |= _roles(lead.group(1))
        after = _APPOSITIVE.match(text[m.end():])
        if after:
            out |= _roles(after.group(1))
    return out


def misroled(sentence: str, f: Fact, article_texts: list[str]) -> str | None:
    """An office the sentence gives a person that the article never gives them, where it gives them
    another: "President Alexey Polishchuk" of "Alexey Polishchuk, the Director of the Russian Foreign
    Ministry's Second CIS Department", "Foreign Minister Volodymyr Zelenskyy" (or "Zelenskyy is Ukraine's
    defense minister") of "President Volodymyr Zelenskyy". The offices the article gives, or None when
    nothing is amiss."""
    if f.kind != "name":
        return None
    at = sentence.find(f.text)
    if at < 0:
        return None
    lead = _LEAD.search(sentence[max(0, at - 80):at]) if at > 0 and len(f.key) >= 2 else None
    claimed = _roles(lead.group(1)) if lead else set()
    said = _COPULA.match(sentence[at + len(f.text):])  # "Zelenskyy is Ukraine's defense minister"
    if said:  # the noun phrase only: "is expected to meet Prime Minister Ishiba" gives Trump no office
        claimed |= _roles(re.split(r"\b(?:to|with|by|for|from|that|who|which|and|in|on|at|after|before)\b",
                                   said.group(1), maxsplit=1)[0])
    if not claimed:
        return None
    given: set[str] = set()
    for t in article_texts:
        given |= roles_given(t, f.text)
    if not given or claimed <= given:
        return None
    return ", ".join(sorted(given))


def same_person(a: str, b: str) -> bool:
    """Two names of one person: the surname (last word) agrees, and first names, when both are given,
    agree too."""
    ka = [w for w in norm_tokens(a) if w not in TITLES]
    kb = [w for w in norm_tokens(b) if w not in TITLES]
    if not ka or not kb:
        return False
    if ka[-1] != kb[-1]:
        return bool(set(ka) & set(kb)) and (len(ka) == 1 or len(kb) == 1) and (ka[0] == kb[-1] or kb[0] == ka[-1])
    return len(ka) == 1 or len(kb) == 1 or ka[0] == kb[0]


WHO_SAID = re.compile(r"\bwho\b[^?]{0,40}\b(said|says|say|wrote|writes|told|stated|claimed|argued|warned|"
                      r"described|called|posted|tweeted|declared|remarked|added|noted|is quoted|was quoted)\b|"
                      r"\bwhose words\b|\bwho is (the )?speak", re.I)


def is_who_said(question: str) -> bool:
    return bool(WHO_SAID.search(question))
