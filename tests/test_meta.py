"""Article metadata: dates in the ways articles write them, and each source of metadata, bad rows included."""

import json

import pytest

from qa.meta import ArticleMeta, from_front_matter, from_html, from_text, parse_date, read_sidecar


@pytest.mark.parametrize("text,iso", [
    ("2022-06-16", "2022-06-16"), ("2022/06/16", "2022-06-16"), ("2022-06-16T10:00:00Z", "2022-06-16"),
    ("June 16, 2022", "2022-06-16"), ("Feb. 7, 2025", "2025-02-07"), ("16 June 2022", "2022-06-16"),
    ("Sept. 3, 2024", "2024-09-03"), ("Published February 7th, 2025 at 10am", "2025-02-07"),
    ("2022-02-30", None), ("June 16", None), ("yesterday", None), ("", None), ("Mayday 16, 2022", None),
])
def test_dates_as_articles_write_them(text, iso):
    assert parse_date(text) == iso


def test_sidecar_rows_and_their_problems(tmp_path):
    rows = [{"file": "a.txt", "title": "A", "published_at": "2022-06-16", "source": "CNN", "url": "https://x/a",
             "authors": ["Ann Lee", "Bo Yu"]},
            {"file": "b.txt", "published_at": "sometime in June", "source": "AP"},
            {"file": "a.txt", "title": "A again"},
            {"file": "gone.txt", "title": "Gone"},
            {"title": "no file"}]
    (tmp_path / "metadata.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n{not json\n")
    meta, problems = read_sidecar(tmp_path, {"a.txt", "b.txt", "c.txt"})
    assert meta["a.txt"] == ArticleMeta("A", "2022-06-16", "sidecar", "CNN", "https://x/a", ["Ann Lee", "Bo Yu"])
    assert meta["b.txt"].outlet == "AP" and meta["b.txt"].date is None  # the rest of a bad row is kept
    assert "c.txt" not in meta
    assert any("sometime in June" in p for p in problems["b.txt"])
    assert any("second row" in p for p in problems["a.txt"])
    side = " ".join(problems["metadata.jsonl"])
    assert "gone.txt" in side and "names no file" in side and "not JSON" in side


def test_sidecar_csv(tmp_path):
    (tmp_path / "metadata.csv").write_text("file,title,date,outlet,author\nx.md,X,\"Feb. 7, 2025\",Reuters,Jo Doe\n")
    meta, problems = read_sidecar(tmp_path, {"x.md"})
    assert meta["x.md"] == ArticleMeta("X", "2025-02-07", "sidecar", "Reuters", None, ["Jo Doe"]) and not problems


def test_front_matter():
    src = "---\ntitle: \"Minerals deal\"\ndate: 2025-02-07\nsource: Kyiv Independent\nauthor: Jo Doe\n---\n# Heading\nBody."
    problems: list[str] = []
    assert from_front_matter(src, problems) == ArticleMeta("Minerals deal", "2025-02-07", "front matter",
                                                           "Kyiv Independent", None, ["Jo Doe"])
    assert from_front_matter("# No front matter\n", problems) == ArticleMeta() and not problems


def test_html_meta_tags():
    page = ('<html><head><meta property="article:published_time" content="2022-06-16T14:02:00Z">'
            '<meta property="og:title" content="Idaho Pride event"><meta property="og:site_name" content="CNN">'
            '<meta name="author" content="Ann Lee"><link rel="canonical" href="https://cnn.com/x"></head>'
            '<body><p>Text.</p></body></html>')
    problems: list[str] = []
    assert from_html(page, problems) == ArticleMeta("Idaho Pride event", "2022-06-16", "meta tag", "CNN",
                                                    "https://cnn.com/x", ["Ann Lee"])
    bad: list[str] = []
    assert from_html('<meta property="article:published_time" content="soon">', bad).date is None and bad


@pytest.mark.parametrize("text,day,outlet", [
    ("Published February 7, 2025\nKyiv - Talks went on.", "2025-02-07", None),
    ("Feb. 7, 2025 (Reuters) - Talks went on.", "2025-02-07", "Reuters"),
    ("Feb. 7 (Reuters) - Talks went on.", None, "Reuters"),
    ("Title line\n(CNN) — After a call, police arrested 31 men.", None, "CNN"),
    ("Title line\nCNN —\nAfter a call, police arrested 31 men.", None, "CNN"),
    ("Just a story with no date.", None, None),
])
def test_dates_and_outlets_in_the_text(text, day, outlet):
    m = from_text(text)
    assert (m.date, m.outlet) == (day, outlet)


def test_metadata_merges_field_by_field_and_round_trips_through_the_store():
    side = ArticleMeta("Side title", None, None, "CNN")
    text = ArticleMeta(None, "2022-06-16", "text", "Reuters")
    m = side.merged(text)
    assert m == ArticleMeta("Side title", "2022-06-16", "text", "CNN")
    stored = m.to_store()
    assert all(isinstance(v, (str, int)) for v in stored.values()) and stored["day"] > 700000
    assert ArticleMeta.from_store(stored) == m
    assert ArticleMeta().to_store()["day"] == -1
