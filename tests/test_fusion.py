"""Reciprocal rank fusion and the passage merge/collapse, as pure functions: a hand-checked case each and
properties over generated inputs."""

import pytest
from hypothesis import given, settings, strategies as st

from qa.retrieve import HybridRetriever, Passage, rrf_fuse

from conftest import SEEDS as SEEDS_DIR


def test_rrf_fuse_hand_checked():
    s = rrf_fuse([["a", "b", "c"], ["b", "d"]], [1.0, 0.5], 60)
    assert s["a"] == pytest.approx(1 / 61)
    assert s["b"] == pytest.approx(1 / 62 + 0.5 / 61)
    assert s["c"] == pytest.approx(1 / 63)
    assert s["d"] == pytest.approx(0.5 / 62)
    assert max(s, key=s.get) == "b"  # in both lists beats first in one
    # a file listed twice (two of its chunks) counts at its first place only
    assert rrf_fuse([["x", "y", "x"]], [1.0], 0) == {"x": 1.0, "y": 0.5}
    with pytest.raises(ValueError):
        rrf_fuse([["a"]], [1.0, 2.0], 60)


rankings = st.lists(st.lists(st.sampled_from("abcdefghij"), max_size=10), min_size=1, max_size=4)


@settings(max_examples=200, deadline=None)
@given(rankings, st.data())
def test_rrf_fuse_properties(rs, data):
    ws = data.draw(st.lists(st.floats(0.0, 5.0), min_size=len(rs), max_size=len(rs)))
    k = data.draw(st.floats(0.0, 100.0))
    s = rrf_fuse(rs, ws, k)
    assert set(s) == {x for r in rs for x in r}  # every item listed, nothing else
    assert all(v >= 0 for v in s.values())
    for r, w in zip(rs, ws):  # within one ranking alone, a higher place never scores lower
        alone = rrf_fuse([r], [w], k)
        order = list(dict.fromkeys(r))
        assert all(alone[a] >= alone[b] for a, b in zip(order, order[1:]))
    # fusion is the sum of each ranking's own fusion, whatever their order
    parts = [rrf_fuse([r], [w], k) for r, w in zip(rs, ws)]
    for x, v in s.items():
        assert v == pytest.approx(sum(p.get(x, 0.0) for p in parts))
    assert rrf_fuse(rs[::-1], ws[::-1], k) == pytest.approx(s)


# one clean document per file: a passage is a slice of it, as chunks are
DOCS = {f: "".join(chr(97 + (i * 7 + n) % 26) for i in range(80)) for n, f in enumerate(["f1", "f2", "f3"])}


def _p(pid: str, file: str, a: int, b: int) -> Passage:
    return Passage(id=pid, file=file, title=file, text=DOCS[file][a:b], start=a, end=b, clean_start=a, clean_end=b,
                   segmap=[[0, b - a, a, b - a]])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["f1", "f2", "f3"]), st.integers(0, 40), st.integers(1, 15)),
                min_size=1, max_size=12), st.integers(1, 6), st.sampled_from([None, 1, 2]))
def test_collapse_properties(spans, k, per_file):
    ranked = [_p(f"c{i}", f, a, a + n) for i, (f, a, n) in enumerate(spans)]
    out = HybridRetriever.collapse(ranked, k, per_file)
    assert 1 <= len(out) <= k
    for i, p in enumerate(out):  # kept passages of one file never overlap (they were merged)
        for q in out[i + 1:]:
            assert p.file != q.file or p.clean_end <= q.clean_start or q.clean_end <= p.clean_start
    if per_file:
        assert all(sum(q.file == p.file for q in out) <= per_file for p in out)
    for p in out:  # a merged passage is still the exact slice of its document it says it is
        assert p.text == DOCS[p.file][p.clean_start:p.clean_end]
    assert out[0].file == ranked[0].file  # the best passage (or what it merged into) leads
    assert out[0].clean_start <= ranked[0].clean_start and ranked[0].clean_end <= out[0].clean_end


# -- the retrieval inspector (qa search) --------------------------------------------------------------
ENVOY = "Who is Trump's special envoy for Ukraine?"


def test_inspector_hand_checked_on_the_seeds(seeds_engine):
    """Hand-checked: the envoy passage comes first, found by both searches (dense #1, BM25 #2), its fused
    score is its own reciprocal ranks plus its article's part; a passage whose own ranks are low (dense #16,
    BM25 #18) is in the top 5 only thanks to its article, and says so."""
    s = seeds_engine.settings
    found = seeds_engine.search(ENVOY, k=5)
    ps = found.passages
    top = ps[0]
    assert top.file == "002_d89352816586c04e.txt" and "Keith Kellogg, Trump’s special envoy for Ukraine" in top.text
    assert (top.found_by, top.dense_rank, top.bm25_rank, top.article_rank) == ("both", 0, 1, 0)
    own = s.dense_weight / (s.rrf_k + 1) + s.bm25_weight / (s.rrf_k + 2)
    assert top.score == pytest.approx(own + top.file_boost)
    assert top.why() == "dense #1, BM25 #2, article #1" and not top.carried
    for p in ps:
        assert p.article_rank == found.files.index(p.file)
        assert p.carried == (p.own_rank >= 5)
        assert ("carried by its article" in p.why()) == p.carried
        assert (p.found_by == "both") == (p.dense_rank is not None and p.bm25_rank is not None)
    assert [p.score for p in ps] == sorted((p.score for p in ps), reverse=True)
    carried = [p for p in ps if p.carried]
    assert carried and all(p.file == "002_d89352816586c04e.txt" for p in carried)  # the first article's
    assert "He complained that the U.S. had sent more" in carried[0].text


def test_qa_search_prints_the_table_and_json(seeds_engine):
    import json
    import os
    import subprocess
    import sys

    from conftest import ROOT

    env = dict(os.environ, QA_INDEX_DIR=str(seeds_engine.settings.index_dir), QA_CORPUS_DIR=str(SEEDS_DIR))
    out = subprocess.run([sys.executable, "-m", "qa", "search", ENVOY, "-k", "3", "--json"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert [p["n"] for p in d["passages"]] == [1, 2, 3] and d["articles"][0] == "002_d89352816586c04e.txt"
    first = d["passages"][0]
    assert first["why"] == "dense #1, BM25 #2, article #1" and first["found_by"] == "both"
    assert {"score", "file_boost", "dense", "dense_rank", "bm25", "bm25_rank", "own_rank", "start", "end"} <= set(first)
    table = subprocess.run([sys.executable, "-m", "qa", "search", ENVOY, "-k", "3"], cwd=ROOT, env=env,
                           capture_output=True, text=True, timeout=300)
    assert table.returncode == 0 and "why: dense #1, BM25 #2, article #1" in table.stdout
    assert "002_d89352816586c04e.txt [281:563]" in table.stdout  # file span, as in the JSON
    assert (first["start"], first["end"]) == (281, 563)
