"""Corpus: read articles from a folder, clean them, and keep every kept character's place in the file.

Offsets invariant
-----------------
Offsets are indices into the file's *decoded text* (a Python ``str``; a UTF-8 BOM is not part of it,
line endings are left as they are in the file). A document's clean ``text`` is built from the file by
(1) dropping whole lines that are web residue or repeat an earlier line of the same article,
(2) cutting inline residue (for example "(external link)") out of kept lines,
(3) for HTML, dropping tags, scripts and styles and decoding character references, and
(4) replacing every run of whitespace by one space, and the break between kept lines by one newline.
Every dropped range of the file is listed in ``Document.removed`` (HTML markup is not listed).

For any span ``[a, b)`` of the clean text that starts and ends on a non-whitespace character,
``Document.span(a, b)`` returns ``[start, end)`` in the file such that ``start`` is where the first
character came from and ``end`` is just after where the last one came from, and::

    collapse_ws(cut(file_text[start:end], removed)) == collapse_ws(text[a:b])

where ``cut`` deletes the removed ranges and ``collapse_ws`` turns whitespace runs into one space.
When nothing was removed inside the span this is simply ``file_text[start:end]`` up to whitespace.
"""

from __future__ import annotations

import bisect
import hashlib
import html
import os
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

SIDECARS = ("metadata.jsonl", "metadata.csv")  # per-article metadata in the corpus folder's top level
TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES


@dataclass(frozen=True)
class Rule:
    """A web-residue rule. ``line`` rules drop a whole line they match (after stripping);
    ``inline`` rules cut every match out of the lines that are kept."""

    name: str
    kind: str  # "line" | "inline"
    pattern: str
    example: str  # a text the rule must remove (tested)

    @property
    def regex(self) -> re.Pattern:
        return _compiled(self.pattern)


_cache: dict[str, re.Pattern] = {}


def _compiled(pattern: str) -> re.Pattern:
    if pattern not in _cache:
        _cache[pattern] = re.compile(pattern, re.IGNORECASE)
    return _cache[pattern]


# The residue seen in news pages. Extend by adding a Rule; each one is tested against its example.
RULES: list[Rule] = [
    Rule("skip-to-content", "line", r"skip to (main )?content", "Skip to content"),
    Rule("image", "line", r"image \|.*", "Image | September 2024 file photo of two leaders"),
    Rule("caption", "line", r"caption:.*", "Caption: Leaders are seen talking. (Reuters)"),
    Rule("watch", "line", r"watch \|.*", "WATCH | Drone dangers for civilians:"),
    Rule("media", "line", r"media \|.*", "Media | The National : Residents say they are hunted"),
    Rule("open-embed", "line", r"open full embed in new tab.*", "Open Full Embed in New Tab (external link)Loading"),
    Rule("advertisement", "line", r"advertisement", "Advertisement"),
    Rule("external-link", "inline", r"\(external link\)", "media(external link)"),
    Rule("markdown-emphasis", "inline", r"\*\*|__", "**Bold headline**"),
    Rule("markdown-heading", "inline", r"^#{1,6}[ \t]+", "## A heading"),
]


@dataclass(frozen=True)
class Segment:
    """Clean text ``[clean_start, clean_start + clean_len)`` came from file ``[orig_start, orig_start + orig_len)``.
    Equal lengths mean a verbatim copy; otherwise (an HTML character reference) the whole range maps."""

    clean_start: int
    clean_len: int
    orig_start: int
    orig_len: int


@dataclass
class Document:
    path: str  # relative to the corpus root, with forward slashes
    title: str
    text: str
    segments: list[Segment]
    removed: list[tuple[int, int, str]]  # (start, end, rule name) in the file
    sha256: str
    encoding: str
    _starts: list[int] = field(default_factory=list, repr=False)

    def _seg(self, pos: int) -> Segment:
        if not self._starts:
            self._starts = [s.clean_start for s in self.segments]
        i = bisect.bisect_right(self._starts, pos) - 1
        seg = self.segments[i]
        if not (seg.clean_start <= pos < seg.clean_start + seg.clean_len):
            raise ValueError(f"clean offset {pos} is not a copied character (it is inserted whitespace)")
        return seg

    def orig_pos(self, pos: int) -> tuple[int, int]:
        """The file range that clean character ``pos`` came from."""
        seg = self._seg(pos)
        if seg.clean_len == seg.orig_len:
            o = seg.orig_start + pos - seg.clean_start
            return o, o + 1
        return seg.orig_start, seg.orig_start + seg.orig_len

    def span(self, a: int, b: int) -> tuple[int, int]:
        """File span of clean ``[a, b)``; ``a`` and ``b - 1`` must be non-whitespace characters."""
        return self.orig_pos(a)[0], self.orig_pos(b - 1)[1]

    def clean_span(self, start: int, end: int) -> tuple[int, int] | None:
        """The clean-text range that file span ``[start, end)`` covers (the inverse of :meth:`span`, for
        showing a citation inside the clean article); None when nothing kept came from there."""
        lo = hi = None
        for s in self.segments:
            if s.orig_start + s.orig_len <= start or s.orig_start >= end:
                continue
            if s.clean_len == s.orig_len:
                a = s.clean_start + max(start - s.orig_start, 0)
                b = s.clean_start + min(end - s.orig_start, s.orig_len)
            else:
                a, b = s.clean_start, s.clean_start + s.clean_len
            lo = a if lo is None else min(lo, a)
            hi = b if hi is None else max(hi, b)
        return None if lo is None or hi is None else (lo, hi)

    def segmap(self, a: int, b: int) -> list[list[int]]:
        """The segments inside clean ``[a, b)``, re-based to ``a``: enough to map any sub-span later."""
        out = []
        for s in self.segments:
            if s.clean_start + s.clean_len <= a or s.clean_start >= b:
                continue
            lo, hi = max(a, s.clean_start), min(b, s.clean_start + s.clean_len)
            if s.clean_len == s.orig_len:
                out.append([lo - a, hi - lo, s.orig_start + lo - s.clean_start, hi - lo])
            else:
                out.append([s.clean_start - a, s.clean_len, s.orig_start, s.orig_len])
        return out


def span_from_segmap(segmap: list[list[int]], a: int, b: int) -> tuple[int, int]:
    """File span of ``[a, b)`` relative to a chunk, using the chunk's segmap (see ``Document.segmap``)."""

    def pos(p: int) -> tuple[int, int]:
        for cs, cl, os_, ol in segmap:
            if cs <= p < cs + cl:
                if cl == ol:
                    return os_ + p - cs, os_ + p - cs + 1
                return os_, os_ + ol
        raise ValueError(f"offset {p} is not a copied character")

    return pos(a)[0], pos(b - 1)[1]


@dataclass
class Skipped:
    path: str
    reason: str


# ----------------------------------------------------------------------------------------------
# reading files

BINARY_SNIFF = 8192


def decode(data: bytes) -> tuple[str, str]:
    """Decode file bytes: UTF-8 (a BOM is dropped); else Windows-1252; else Latin-1 (never fails)."""
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def looks_binary(data: bytes) -> bool:
    head = data[:BINARY_SNIFF]
    if b"\x00" in head:
        return True
    control = sum(1 for b in head if b < 32 and b not in (9, 10, 12, 13))
    return bool(head) and control / len(head) > 0.05


@dataclass
class FileEntry:
    path: str  # relative, forward slashes
    abspath: Path
    size: int


def scan(root: Path, max_bytes: int) -> tuple[list[FileEntry], list[Skipped]]:
    """Walk ``root`` recursively. Hidden files and folders are ignored; links that leave the folder
    are not followed; unsupported or oversized files are reported as skipped."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"corpus folder not found: {root}")
    real_root = root.resolve()
    files: list[FileEntry] = []
    skipped: list[Skipped] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for d in list(dirnames):
            p = Path(dirpath) / d
            if p.is_symlink():
                dirnames.remove(d)
                rel = p.relative_to(root).as_posix()
                target = p.resolve()
                if not target.is_relative_to(real_root):
                    skipped.append(Skipped(rel + "/", "link leaves the corpus folder; not followed"))
                # a link to a folder inside the corpus is already walked there
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            p = Path(dirpath) / name
            rel = p.relative_to(root).as_posix()
            if rel in SIDECARS:
                continue  # the articles' metadata (qa.meta), not an article
            if p.suffix.lower() not in SUPPORTED_SUFFIXES:
                skipped.append(Skipped(rel, f"unsupported file type {p.suffix or '(none)'}"))
                continue
            if p.is_symlink() and not p.resolve().is_relative_to(real_root):
                skipped.append(Skipped(rel, "link leaves the corpus folder; not followed"))
                continue
            try:
                size = p.stat().st_size
            except OSError as e:
                skipped.append(Skipped(rel, f"unreadable: {e.strerror or e}"))
                continue
            if size > max_bytes:
                skipped.append(Skipped(rel, f"too large: {size / 1e6:.1f} MB > limit {max_bytes / 1e6:.1f} MB"))
                continue
            files.append(FileEntry(rel, p, size))
    return files, skipped


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ----------------------------------------------------------------------------------------------
# cleaning

# An atom is a piece of one line: clean text that came from file [ostart, oend).
# For plain text an atom is a verbatim slice; for an HTML character reference it is the decoded char.
Atom = tuple[int, int, str]  # (ostart, oend, text)


def _lines_plain(text: str) -> Iterator[list[Atom]]:
    pos = 0
    for line in text.splitlines(keepends=True):
        body = line.rstrip("\r\n")
        if body:
            yield [(pos, pos + len(body), body)]
        else:
            yield []
        pos += len(line)


_BLOCK_TAGS = {
    "p", "div", "br", "hr", "li", "ul", "ol", "tr", "td", "th", "table", "section", "article",
    "header", "footer", "main", "aside", "nav", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5",
    "h6", "figure", "figcaption", "title", "dd", "dt", "dl", "form", "option",
}
_HIDDEN_TAGS = {"script", "style", "noscript", "template", "head", "svg", "iframe", "object"}
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);?")


class _HTMLText(HTMLParser):
    """Visible text of an HTML page as lines of atoms, with file offsets; also the <title>."""

    def __init__(self, src: str):
        super().__init__(convert_charrefs=False)
        self.src = src
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\r\n|\r|\n", src)]
        self.lines: list[list[Atom]] = [[]]
        self.hidden = 0
        self.in_title = False
        self.title = ""
        self.h1: str | None = None
        self.in_h1 = False

    def _offset(self) -> int:
        line, col = self.getpos()
        return self.line_starts[line - 1] + col

    def _break(self):
        if self.lines[-1]:
            self.lines.append([])

    def handle_starttag(self, tag, attrs):
        if tag in _HIDDEN_TAGS and tag != "head":
            self.hidden += 1
        if tag == "title":
            self.in_title = True
        if tag == "h1" and self.h1 is None:
            self.in_h1, self.h1 = True, ""
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self._break()

    def handle_endtag(self, tag):
        if tag in _HIDDEN_TAGS and tag != "head" and self.hidden:
            self.hidden -= 1
        if tag == "title":
            self.in_title = False
        if tag == "h1":
            self.in_h1 = False
        if tag in _BLOCK_TAGS:
            self._break()

    def _text(self, start: int, end: int, text: str):
        if self.in_title:
            self.title += text
            return
        if self.hidden:
            return
        if self.in_h1 and self.h1 is not None:
            self.h1 += text
        # raw data may contain newlines: they are line breaks of the text
        if text == self.src[start:end]:
            for i, part in enumerate(re.split(r"(\r\n|\r|\n)", text)):
                if i % 2:
                    self._break()
                elif part:
                    self.lines[-1].append((start, start + len(part), part))
                start += len(part)
        else:
            self.lines[-1].append((start, end, text))

    def handle_data(self, data):
        start = self._offset()
        self._text(start, start + len(data), data)

    def _ref(self):
        start = self._offset()
        m = _ENTITY.match(self.src, start)
        end = m.end() if m else start + 1
        self._text(start, end, html.unescape(self.src[start:end]))

    def handle_entityref(self, name):
        self._ref()

    def handle_charref(self, name):
        self._ref()


def _atoms_text(atoms: list[Atom]) -> str:
    return "".join(a[2] for a in atoms)


def _slice_atoms(atoms: list[Atom], a: int, b: int) -> list[Atom]:
    """The atoms covering ``[a, b)`` of their joined text (verbatim atoms are cut, others kept whole)."""
    out, pos = [], 0
    for os_, oe, t in atoms:
        lo, hi = max(a, pos), min(b, pos + len(t))
        if lo < hi:
            if oe - os_ == len(t):
                out.append((os_ + lo - pos, os_ + hi - pos, t[lo - pos : hi - pos]))
            else:
                out.append((os_, oe, t))
        pos += len(t)
    return out


_RUN = re.compile(r"\S+(?: \S+)*")
_WS = re.compile(r"\s+")


def collapse_ws(s: str) -> str:
    return _WS.sub(" ", s).strip()


def _dedupe_key(s: str) -> str:
    return collapse_ws(s).casefold()


@dataclass
class _Builder:
    parts: list[str] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    length: int = 0

    def add(self, text: str, ostart: int, olen: int):
        self.segments.append(Segment(self.length, len(text), ostart, olen))
        self.parts.append(text)
        self.length += len(text)

    def sep(self, s: str):
        self.parts.append(s)
        self.length += len(s)

    def copy(self, atoms: list[Atom], text: str):
        """A kept line's words, whitespace collapsed: runs of words joined by single spaces are copied,
        other whitespace becomes one space. ``text`` is the atoms' text."""
        if self.length:
            self.sep("\n")
        for n, m in enumerate(_RUN.finditer(text)):
            if n:
                self.sep(" ")
            for os_, oe, t in _slice_atoms(atoms, m.start(), m.end()):
                self._verbatim(t, os_, oe)

    def _verbatim(self, t: str, os_: int, oe: int):
        """An atom; consecutive verbatim atoms that are contiguous in the file merge into one segment."""
        prev = self.segments[-1] if self.segments else None
        if (prev and prev.clean_len == prev.orig_len and oe - os_ == len(t)
                and prev.clean_start + prev.clean_len == self.length and prev.orig_start + prev.orig_len == os_):
            self.segments[-1] = Segment(prev.clean_start, prev.clean_len + len(t), prev.orig_start, prev.orig_len + len(t))
            self.parts.append(t)
            self.length += len(t)
        else:
            self.add(t, os_, oe - os_)


def _cut_inline(atoms: list[Atom], raw: str, rules: list[Rule]) -> tuple[list[Atom], list[tuple[int, int, str]]]:
    """A line without what the inline rules match: the atoms kept, and the file spans cut (with the rule)."""
    cuts = sorted((m.start(), m.end(), r.name) for r in rules for m in r.regex.finditer(raw) if m.end() > m.start())
    kept: list[Atom] = []
    cut_spans: list[tuple[int, int, str]] = []
    pos = 0
    for cs, ce, name in cuts:
        cs = max(cs, pos)  # overlaps an earlier cut
        if cs >= ce:
            continue
        kept += _slice_atoms(atoms, pos, cs)
        cut = _slice_atoms(atoms, cs, ce)
        if cut:
            cut_spans.append((cut[0][0], cut[-1][1], name))
        pos = ce
    kept += _slice_atoms(atoms, pos, len(raw))
    return kept, cut_spans


def clean_lines(lines: Iterator[list[Atom]], rules: list[Rule] = RULES):
    """Apply the residue rules and line dedupe. Returns (text, segments, removed, kept_lines)."""
    line_rules = [r for r in rules if r.kind == "line"]
    inline_rules = [r for r in rules if r.kind == "inline"]
    seen: set[str] = set()
    b = _Builder()
    removed: list[tuple[int, int, str]] = []
    kept_lines: list[str] = []
    for atoms in lines:
        raw = _atoms_text(atoms)
        stripped = raw.strip()
        if not stripped:
            continue
        span = _slice_atoms(atoms, len(raw) - len(raw.lstrip()), len(raw.rstrip()))
        ostart, oend = span[0][0], span[-1][1]
        rule = next((r for r in line_rules if r.regex.fullmatch(stripped)), None)
        if rule:
            removed.append((ostart, oend, rule.name))
            continue
        kept, cut_spans = _cut_inline(atoms, raw, inline_rules)
        text = _atoms_text(kept)
        if not text.strip():
            removed.append((ostart, oend, cut_spans[0][2] if cut_spans else "empty"))
            continue
        key = _dedupe_key(text)
        if key in seen:
            removed.append((ostart, oend, "repeated-paragraph"))
            continue
        seen.add(key)
        removed += cut_spans
        b.copy(kept, text)
        kept_lines.append(collapse_ws(text))
    return "".join(b.parts), b.segments, removed, kept_lines


_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}[ \t]+(.+?)[ \t#]*$", re.MULTILINE)
TITLE_MAX_CHARS = 200
_BOLD_LINE = re.compile(r"^\s*(\*\*|__)(?=\S)(.+?)(?<=\S)\1\s*$")
HEADLINE_LINES = 5  # how far down an article's top a headline is looked for


def headline(src: str) -> str:
    """A line the article marks as its headline near its top: a Markdown heading or a line wholly in bold
    ("**Zelensky and Trump Set to Discuss …**"), among the first ``HEADLINE_LINES`` non-empty lines. A
    teaser sentence put above it is not the title."""
    lines = [ln for ln in src.splitlines() if ln.strip()][:HEADLINE_LINES]
    for ln in lines:
        if (m := _MD_HEADING.match(ln)) or (m := _BOLD_LINE.match(ln)):
            text = collapse_ws(m.group(m.lastindex or 1))
            if text and len(text) <= TITLE_MAX_CHARS:
                return text
    return ""


def _short(title: str) -> str:
    title = collapse_ws(title.replace("**", "").replace("__", ""))
    if len(title) > TITLE_MAX_CHARS:
        title = title[:TITLE_MAX_CHARS].rsplit(" ", 1)[0] + "…"
    return title


# what a file really is when its first bytes say so, whatever its name (a PDF can be all ASCII)
_SIGNATURES = [(b"%PDF-", "PDF"), (b"PK\x03\x04", "ZIP (or Word/EPUB)"), (b"\x1f\x8b", "gzip"),
               (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Office (.doc/.xls)"), (b"{\\rtf", "RTF"),
               (b"\x89PNG", "PNG image"), (b"\xff\xd8\xff", "JPEG image"), (b"GIF8", "GIF image")]


def _container(data: bytes) -> str | None:
    head = data[:16].lstrip(b"\xef\xbb\xbf")
    return next((kind for sig, kind in _SIGNATURES if head.startswith(sig)), None)


def parse(rel: str, data: bytes, rules: list[Rule] = RULES) -> Document | Skipped:
    """Turn one file's bytes into a clean Document, or say why it is skipped."""
    if not data.strip():
        return Skipped(rel, "empty file")
    if kind := _container(data):
        return Skipped(rel, f"binary file (a {kind} under a text name): convert it to text first")
    if looks_binary(data):
        return Skipped(rel, "binary file (not text)")
    src, encoding = decode(data)
    suffix = Path(rel).suffix.lower()
    html_title = ""
    if suffix in HTML_SUFFIXES:
        parser = _HTMLText(src)
        try:
            parser.feed(src)
            parser.close()
        except Exception as e:  # the stdlib parser is lenient, but never lose the other files
            return Skipped(rel, f"unparseable HTML: {e}")
        lines: Iterator[list[Atom]] = iter(parser.lines)
        html_title = collapse_ws(parser.title) or collapse_ws(parser.h1 or "")
    else:
        lines = _lines_plain(src)
    text, segments, removed, kept_lines = clean_lines(lines, rules)
    if not text.strip():
        return Skipped(rel, "no text left after removing web residue")
    title = html_title
    if not title and suffix not in HTML_SUFFIXES:
        title = headline(src)
    if not title and suffix in {".md", ".markdown"}:
        m = _MD_HEADING.search(src)
        title = m.group(1) if m else ""
    if not title:
        title = kept_lines[0]
    return Document(rel, _short(title), text, segments, removed, file_hash(data), encoding)


def load(entry: FileEntry, rules: list[Rule] = RULES) -> Document | Skipped:
    try:
        data = entry.abspath.read_bytes()
    except OSError as e:
        return Skipped(entry.path, f"unreadable: {e.strerror or e}")
    return parse(entry.path, data, rules)


def original_text(data: bytes) -> str:
    """The decoded file text that Document offsets index into."""
    return decode(data)[0]


def without_removed(src: str, removed: list[tuple[int, int, str]], start: int, end: int) -> str:
    """``src[start:end]`` with the ranges the cleaner removed taken out (see the offsets invariant)."""
    out, pos = [], start
    for rs, re_, _ in sorted(removed):
        if re_ <= pos or rs >= end:
            continue
        out.append(src[pos:max(rs, pos)])
        pos = max(pos, re_)
    out.append(src[pos:end])
    return "".join(out)


_BAD_NAME = re.compile(r"[\x00-\x1f\x7f/\\:*?\"<>|]")
MAX_NAME_CHARS = 120


_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}


def check_article_name(name: str) -> str | None:
    """Why ``name`` cannot be an article's file name in the corpus folder, or None when it can.
    A bare file name only: no folders (no path traversal), not hidden, a supported type."""
    if not name or not name.strip():
        return "no file name"
    if Path(name).stem.split(".")[0].upper() in _RESERVED:
        return f"{Path(name).stem.split('.')[0]} is a reserved device name on Windows: choose another name"
    if name != name.strip():
        return "the file name starts or ends with a space"
    if len(name) > MAX_NAME_CHARS:
        return f"the file name is longer than {MAX_NAME_CHARS} characters"
    if _BAD_NAME.search(name) or name in (".", ".."):
        return "the file name must be a plain name (no folders, no control or special characters such as / \\ : * ? \" < > |)"
    if name.startswith("."):
        return "hidden file names (starting with a dot) are not articles"
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        return f"unsupported file type {Path(name).suffix or '(none)'}: use " + ", ".join(sorted(SUPPORTED_SUFFIXES))
    return None
