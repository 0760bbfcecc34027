"""Article metadata: title, publication date, outlet, URL and authors, read at indexing time.

Where each article's metadata comes from, first found first used, field by field:
1. a sidecar in the corpus folder, ``metadata.jsonl`` or ``metadata.csv``, one row per file (``file``,
   ``title``, ``published_at``/``date``, ``source``/``outlet``, ``url``, ``authors``);
2. front matter at the top of a ``.md`` file (``---`` … ``---``, ``key: value`` lines);
3. ``<meta>`` tags of an ``.html`` file (``article:published_time``, ``og:title``, ``og:site_name``,
   ``author``, ``og:url``) and its canonical link;
4. dated lines near the top of the text ("Published February 7, 2025", "Feb. 7, 2025 (Reuters) -",
   "(CNN) -", "CNN —").

Dates are kept as ISO ``YYYY-MM-DD`` with where they came from. Bad values (a date that does not parse, a
sidecar row for a file that is not there, a second row for one file, a line that is not JSON) are reported
per file as problems and never stop indexing: the rest of the row, and every other file, is used.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

from .corpus import HTML_SUFFIXES, SIDECARS
from .facts import MONTHS as FACT_MONTHS, MONTH_ABBR

# month names and their short forms ("Feb", "Sept"), numbered
MONTHS = {m: i for i, m in enumerate(FACT_MONTHS, 1)}
MONTHS |= {short: MONTHS[m] for short, m in MONTH_ABBR.items()}

_ISO = re.compile(r"\b(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_MDY = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DMY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
# "Feb. 7 (Reuters) -", "(CNN) —", "CNN —": a wire dateline names the outlet
_OUTLET_LINE = re.compile(r"^(?:[A-Z][A-Za-z .]{0,40}?,?\s*)?(?:[A-Za-z]{3,9}\.?\s+\d{1,2}(?:,\s*\d{4})?\s*)?"
                          r"\((?P<paren>[A-Z][\w .&'-]{1,30})\)\s*[-—–]|^(?P<bare>[A-Z][\w .&'-]{1,30}?)\s+[—–]\s*$")
_PUBLISHED = re.compile(r"^\s*(?:published|updated|posted|first published)\b[:\s]*(?:on\s+)?(?P<rest>.{6,80})$", re.I)


@dataclass
class ArticleMeta:
    """What is known of one article besides its text; None where nothing says."""

    title: str | None = None
    date: str | None = None  # ISO YYYY-MM-DD
    date_origin: str | None = None  # "sidecar", "front matter", "meta tag", "text"
    outlet: str | None = None
    url: str | None = None
    authors: list[str] = field(default_factory=list)

    def merged(self, other: ArticleMeta) -> ArticleMeta:
        """This metadata with the fields it lacks taken from ``other`` (a later source)."""
        out = ArticleMeta(**asdict(self))
        for k, v in asdict(other).items():
            if not getattr(out, k) and v:
                setattr(out, k, v)
        if out.date and not self.date:
            out.date_origin = other.date_origin
        return out

    def to_store(self) -> dict[str, str | int]:
        """Flat values for a Chroma metadata record (no lists, no None): "" where unknown; ``day`` is the
        date as a day number (for range filters), -1 when undated."""
        day = date.fromisoformat(self.date).toordinal() if self.date else -1
        return {"title": self.title or "", "date": self.date or "", "date_origin": self.date_origin or "",
                "outlet": self.outlet or "", "url": self.url or "", "authors": "; ".join(self.authors), "day": day}

    @staticmethod
    def from_store(md: dict) -> ArticleMeta:
        authors = [a for a in str(md.get("authors") or "").split("; ") if a]
        return ArticleMeta(md.get("title") or None, md.get("date") or None, md.get("date_origin") or None,
                           md.get("outlet") or None, md.get("url") or None, authors)


def parse_date(text: str) -> str | None:
    """An ISO date from the ways articles write one: "2022-06-16", "2022/06/16", "2022-06-16T10:00:00Z",
    "June 16, 2022", "Feb. 7, 2025", "16 June 2022". None when there is no whole, valid date."""
    if not text:
        return None
    t = str(text).strip()
    found = None
    m = _ISO.search(t)
    if m:
        found = (int(m.group(1)), int(m.group(2)), int(m.group(3)))
    else:
        m = _MDY.search(t)
        if m and m.group(1).lower().rstrip(".") in MONTHS:
            found = (int(m.group(3)), MONTHS[m.group(1).lower()], int(m.group(2)))
        else:
            m = _DMY.search(t)
            if m and m.group(2).lower() in MONTHS:
                found = (int(m.group(3)), MONTHS[m.group(2).lower()], int(m.group(1)))
    if not found:
        return None
    try:
        return date(*found).isoformat()
    except ValueError:
        return None  # "2022-02-30"


def _authors(value) -> list[str]:
    if not value:
        return []
    if isinstance(value, list):
        return [str(a).strip() for a in value if str(a).strip()]
    return [a.strip() for a in re.split(r"\s*(?:;|\band\b|,)\s*", str(value)) if a.strip()]


def _from_fields(row: dict, origin: str, problems: list[str]) -> ArticleMeta:
    """Metadata from named fields (a sidecar row, front matter), with a problem noted for a bad date."""
    low = {str(k).strip().lower(): v for k, v in row.items()}
    raw_date = next((low[k] for k in ("published_at", "published", "date", "pubdate", "publication_date")
                     if low.get(k)), None)
    day = parse_date(str(raw_date)) if raw_date else None
    if raw_date and not day:
        problems.append(f"unreadable date {str(raw_date)!r} ({origin})")
    outlet = next((str(low[k]).strip() for k in ("source", "outlet", "publisher", "site_name", "site")
                   if low.get(k)), None)
    url = next((str(low[k]).strip() for k in ("url", "link", "canonical") if low.get(k)), None)
    title = str(low["title"]).strip() if low.get("title") else None
    return ArticleMeta(title or None, day, origin if day else None, outlet or None, url or None,
                       _authors(low.get("authors") or low.get("author")))


def read_sidecar(folder: Path, files: set[str]) -> tuple[dict[str, ArticleMeta], dict[str, list[str]]]:
    """The sidecar's metadata by file (paths relative to ``folder``), and the problems found, by file
    (the sidecar's own name for problems of no one file). ``files``: the articles in the folder."""
    out: dict[str, ArticleMeta] = {}
    problems: dict[str, list[str]] = {}

    def problem(key: str, msg: str) -> None:
        problems.setdefault(key, []).append(msg)

    for name in SIDECARS:
        path = folder / name
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as e:
            problem(name, f"unreadable: {e}")
            continue
        rows: list[tuple[int, dict]] = []
        if name.endswith(".jsonl"):
            for n, line in enumerate(text.splitlines(), 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as e:
                    problem(name, f"line {n} is not JSON ({e.msg})")
                    continue
                if isinstance(row, dict):
                    rows.append((n, row))
                else:
                    problem(name, f"line {n} is not an object")
        else:
            for n, row in enumerate(csv.DictReader(io.StringIO(text)), 2):
                rows.append((n, row))
        for n, row in rows:
            f = str(row.get("file") or row.get("path") or "").strip().replace("\\", "/")
            if not f:
                problem(name, f"line {n} names no file")
                continue
            if f not in files:
                problem(name, f"line {n} is for {f}, which is not in the folder")
                continue
            if f in out:
                problem(f, f"a second row in {name} (line {n}) is ignored")
                continue
            errs: list[str] = []
            out[f] = _from_fields(row, "sidecar", errs)
            for msg in errs:
                problem(f, msg)
    return out, problems


_FRONT = re.compile(r"\A\ufeff?---\s*\n(.*?)\n---\s*(?:\n|\Z)", re.S)


def front_matter(src: str) -> tuple[dict[str, str], int]:
    """The ``key: value`` lines of a Markdown file's front matter, and where its body starts (0: none)."""
    m = _FRONT.match(src)
    if not m:
        return {}, 0
    out: dict[str, str] = {}
    for line in m.group(1).splitlines():
        k, sep, v = line.partition(":")
        if sep and k.strip() and not k.startswith((" ", "\t", "-")):
            out[k.strip().lower()] = v.strip().strip("\"'")
    return out, m.end()


def from_front_matter(src: str, problems: list[str]) -> ArticleMeta:
    fields, _ = front_matter(src)
    return _from_fields(fields, "front matter", problems) if fields else ArticleMeta()


class _Meta(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: dict[str, str] = {}
        self.authors: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("property") or a.get("name") or a.get("itemprop") or "").lower()
            if key and a.get("content"):
                if key in ("author", "article:author"):
                    self.authors.append(a["content"].strip())
                self.tags.setdefault(key, a["content"].strip())
        elif tag == "link" and a.get("rel", "").lower() == "canonical" and a.get("href"):
            self.tags.setdefault("canonical", a["href"].strip())


def from_html(src: str, problems: list[str]) -> ArticleMeta:
    """Metadata from an HTML page's ``<meta>`` tags and canonical link."""
    p = _Meta()
    try:
        p.feed(src)
        p.close()
    except Exception as e:  # the stdlib parser is lenient; a page it cannot read has no metadata
        problems.append(f"unreadable meta tags: {e}")
        return ArticleMeta()
    t = p.tags
    raw = next((t[k] for k in ("article:published_time", "datepublished", "pubdate", "date", "dc.date",
                               "og:published_time") if t.get(k)), None)
    day = parse_date(raw) if raw else None
    if raw and not day:
        problems.append(f"unreadable date {raw!r} (meta tag)")
    return ArticleMeta(t.get("og:title") or None, day, "meta tag" if day else None, t.get("og:site_name") or None,
                       t.get("og:url") or t.get("canonical") or None, _authors(p.authors))


def from_text(text: str) -> ArticleMeta:
    """A date and an outlet from the first lines of an article's text: "Published February 7, 2025",
    "Feb. 7, 2025 (Reuters) -", "(CNN) —", "CNN —". A dateline without a year gives no date."""
    day = outlet = None
    for line in [x.strip() for x in text.splitlines() if x.strip()][:8]:
        m = _PUBLISHED.match(line)
        if m and not day:
            day = parse_date(m.group("rest"))
        m2 = _OUTLET_LINE.match(line)
        if m2 and not outlet:
            outlet = (m2.group("paren") or m2.group("bare") or "").strip() or None
            if not day:
                day = parse_date(line.split("(")[0]) if "(" in line else None
    return ArticleMeta(None, day, "text" if day else None, outlet)


def of_document(rel: str, src: str, text: str) -> tuple[ArticleMeta, list[str]]:
    """What an article says of itself: front matter (Markdown) or meta tags (HTML), then dated lines at the
    top of its clean ``text``; with the problems found. ``src``: the file's decoded text."""
    problems: list[str] = []
    suffix = Path(rel).suffix.lower()
    if suffix in (".md", ".markdown"):
        own = from_front_matter(src, problems)
    elif suffix in HTML_SUFFIXES:
        own = from_html(src, problems)
    else:
        own = ArticleMeta()
    return own.merged(from_text(text)), problems
