import re
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from qa import corpus
from qa.corpus import RULES, Document, Skipped, collapse_ws, parse, scan, without_removed as cut_removed

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def assert_span_invariant(doc: Document, src: str, a: int, b: int):
    start, end = doc.span(a, b)
    assert 0 <= start < end <= len(src)
    assert not src[start].isspace() and not src[end - 1].isspace()
    assert collapse_ws(cut_removed(src, doc.removed, start, end)) == collapse_ws(doc.text[a:b])


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.name)
def test_each_rule_removes_its_example(rule):
    text = f"A first line about minerals.\n{rule.example} kept words\n" if rule.kind == "inline" else \
        f"A first line about minerals.\n{rule.example}\nLast line stays.\n"
    doc = parse("a.md" if rule.name.startswith("markdown") else "a.txt", text.encode())
    assert isinstance(doc, Document)
    assert any(r[2] == rule.name for r in doc.removed), doc.removed
    if rule.kind == "line":
        assert collapse_ws(rule.example) not in doc.text
        assert "Last line stays." in doc.text
    else:
        assert rule.regex.search(doc.text) is None
        assert "kept words" in doc.text
    for a, b in [(0, len(doc.text))]:
        assert_span_invariant(doc, text, a, b)


def test_rules_only_drop_whole_matching_lines():
    text = "The Image | of a country matters.\nWe watch | closely.\nCaption: gone\n"
    doc = parse("a.txt", text.encode())
    assert "The Image | of a country matters." in doc.text
    assert "Caption" not in doc.text


def test_seed_residue_removed():
    doc = parse("003.txt", (SEEDS / "003_e735657bf45baaa7.txt").read_bytes())
    for residue in ["Image |", "Caption:", "WATCH |", "Media |", "Open Full Embed", "(external link)"]:
        assert residue not in doc.text
    assert "Reporting from Ukrainian media suggests" in doc.text
    assert "obstruction of Congress." in doc.text
    doc2 = parse("002.txt", (SEEDS / "002_d89352816586c04e.txt").read_bytes())
    assert "Skip to content" not in doc2.text


def test_seed_001_repeated_body_kept_once():
    data = (SEEDS / "001_fc8662c004b3d3bf.txt").read_bytes()
    doc = parse("001.txt", data)
    src = data.decode("utf-8")
    assert src.count("5% of the world") == 2
    assert doc.text.count("5% of the world") == 1
    lines = doc.text.split("\n")
    assert len(lines) == len(set(lines))
    assert doc.text.count("Zelensky and Trump Set to Discuss Minerals Agreement") == 1
    assert sum(1 for r in doc.removed if r[2] == "repeated-paragraph") >= 8


def test_titles():
    doc = parse("003.txt", (SEEDS / "003_e735657bf45baaa7.txt").read_bytes())
    assert doc.title.startswith("Zelenskyy told Trump Ukraine would consider sharing rare earth")
    doc = parse("002.txt", (SEEDS / "002_d89352816586c04e.txt").read_bytes())
    assert doc.title.startswith("President Donald Trump told reporters")  # not "Skip to content"
    md = parse("x.md", b"Intro line\n\n## The Real Heading\n\nBody text here.\n")
    assert md.title == "The Real Heading"
    page = b"<html><head><title>Page &amp; Title</title></head><body><h1>H</h1><p>Body.</p></body></html>"
    assert parse("x.html", page).title == "Page & Title"
    # a headline marked as such near the top beats a teaser line above it (seed 001 puts one there)
    doc = parse("001.txt", (SEEDS / "001_fc8662c004b3d3bf.txt").read_bytes())
    assert doc.title == "Zelensky and Trump Set to Discuss Minerals Agreement Amid Security Tensions"
    assert parse("t.txt", b"A teaser sentence.\n__The Headline__\nBody text here.\n").title == "The Headline"
    assert parse("t.txt", b"Teaser.\n# Heading In Text\nBody.\n").title == "Heading In Text"
    # bold words inside a line, or a bold line far down the article, are no headline
    assert parse("t.txt", b"**Bold** words open this first line.\nBody.\n").title == "Bold words open this first line."
    far = b"Line one.\n" + b"".join(b"Line %d of the body.\n" % i for i in range(2, 8)) + b"**Late Bold Line**\n"
    assert parse("t.txt", far).title == "Line one."


def test_seed_spans_point_into_file():
    for f in sorted(SEEDS.iterdir()):
        data = f.read_bytes()
        doc = parse(f.name, data)
        src = corpus.original_text(data)
        assert_span_invariant(doc, src, 0, len(doc.text))
        for m in re.finditer(r"[^\n]+", doc.text):  # every kept line
            assert_span_invariant(doc, src, m.start(), m.end())


def test_html_visible_text_with_offsets():
    page = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<p>Kyiv &amp; Washington agreed.</p><script>alert('x')</script>"
        "<div>Caption: a photo</div><p>Second&nbsp;paragraph here (external link).</p></body></html>"
    )
    doc = parse("p.html", page.encode())
    assert doc.text == "Kyiv & Washington agreed.\nSecond paragraph here ."
    assert "alert" not in doc.text and "color" not in doc.text
    a = doc.text.index("Kyiv")
    b = a + len("Kyiv & Washington agreed.")
    start, end = doc.span(a, b)
    assert page[start:end] == "Kyiv &amp; Washington agreed."


# -- the offsets invariant as a property ----------------------------------------------------

word = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,'’\"é%$-", min_size=1, max_size=9)
space = st.sampled_from([" ", " ", " ", "  ", "\t", " \u00a0 "])
residue_line = st.sampled_from([r.example for r in RULES if r.kind == "line"])
inline = st.sampled_from(["(external link)", "**"])


@st.composite
def article(draw):
    lines = []
    made = []
    for _ in range(draw(st.integers(1, 12))):
        kind = draw(st.sampled_from(["text", "text", "text", "residue", "blank", "repeat"]))
        if kind == "residue":
            lines.append(draw(residue_line))
        elif kind == "blank":
            lines.append(draw(st.sampled_from(["", "   ", "\t"])))
        elif kind == "repeat" and made:
            lines.append(draw(st.sampled_from(made)))
        else:
            parts = []
            for _ in range(draw(st.integers(1, 10))):
                parts.append(draw(word))
                parts.append(draw(inline) if draw(st.integers(0, 6)) == 0 else draw(space))
            line = draw(st.sampled_from(["", " ", "\t"])) + "".join(parts)
            lines.append(line)
            made.append(line)
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    return newline.join(lines) + draw(st.sampled_from(["", newline]))


@settings(max_examples=300, deadline=None)
@given(article(), st.data())
def test_offsets_invariant_property(text, data):
    doc = parse("gen.txt", text.encode("utf-8"))
    if isinstance(doc, Skipped):
        assert not collapse_ws(text) or all(
            not collapse_ws(re.sub(r"\(external link\)|\*\*", "", line)) or any(r.regex.fullmatch(line.strip()) for r in RULES if r.kind == "line")
            for line in text.splitlines()
        )
        return
    assert_span_invariant(doc, text, 0, len(doc.text))
    # any span of the clean text that starts and ends on a visible character
    visible = [i for i, c in enumerate(doc.text) if not c.isspace()]
    i = data.draw(st.sampled_from(visible))
    j = data.draw(st.sampled_from([v for v in visible if v >= i]))
    assert_span_invariant(doc, text, i, j + 1)
    # verbatim characters are copies of the file's characters
    for v in visible[:50]:
        s, e = doc.orig_pos(v)
        assert text[s:e] == doc.text[v]


# -- skipping bad files -----------------------------------------------------------------------

def test_bad_files_skipped_with_reasons_good_ones_kept(tmp_path):
    (tmp_path / "good.txt").write_text("Ukraine holds about 5% of critical raw materials.\n")
    (tmp_path / "bom.txt").write_bytes("\ufeffKyiv talks resumed on Tuesday.\n".encode("utf-8"))
    (tmp_path / "latin.txt").write_bytes("Caf\xe9 owners in Kyiv reopened.\n".encode("cp1252"))
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_text("   \n\n")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "huge.txt").write_bytes(b"word " * 300_000)
    (tmp_path / "residue.txt").write_text("Skip to content\nAdvertisement\n")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")
    sub = tmp_path / "nested" / "deeper"
    sub.mkdir(parents=True)
    (sub / "inner.md").write_text("# Inner\n\nNested articles are read too.\n")
    outside = tmp_path.parent / f"{tmp_path.name}_outside.txt"
    outside.write_text("Secret outside the corpus.\n")
    (tmp_path / "link.txt").symlink_to(outside)

    files, skipped = scan(tmp_path, max_bytes=1_000_000)
    reasons = {s.path: s.reason for s in skipped}
    assert "too large" in reasons["huge.txt"]
    assert "unsupported" in reasons["notes.pdf"]
    assert "leaves the corpus" in reasons["link.txt"]
    docs, more = {}, {}
    for f in files:
        d = corpus.load(f)
        (docs if isinstance(d, Document) else more)[f.path] = d
    assert more["empty.txt"].reason == "empty file"
    assert more["blank.md"].reason == "empty file"
    assert "binary" in more["image.txt"].reason
    assert "no text left" in more["residue.txt"].reason
    assert set(docs) == {"good.txt", "bom.txt", "latin.txt", "nested/deeper/inner.md"}
    assert docs["bom.txt"].text.startswith("Kyiv") and docs["bom.txt"].encoding == "utf-8"
    assert docs["latin.txt"].text.startswith("Café") and docs["latin.txt"].encoding == "cp1252"
    assert docs["nested/deeper/inner.md"].title == "Inner"
