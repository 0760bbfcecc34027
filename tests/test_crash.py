"""Crash safety: `qa index` killed with SIGKILL (as a power cut would) at named points of a sync and at
random moments, then run again, leaves the index a clean build would make: the same chunk ids, texts,
metadata and vectors, the same article records, nothing twice, nothing missing, BM25 over the same
chunks. Real processes, a real Chroma folder, the real embedder."""

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import SEEDS
from qa.config import load_settings
from qa.engine import Engine

STEP = 20  # chunks per step of a sync, so the seeds' 68 chunks take four steps


def _env(corpus: Path, index: Path, crash: str | None = None) -> dict:
    env = {**os.environ, "QA_CORPUS_DIR": str(corpus), "QA_INDEX_DIR": str(index), "QA_INDEX_STEP": str(STEP)}
    env.pop("QA_CRASH_AT", None)
    if crash:
        env["QA_CRASH_AT"] = crash
    return env


def _index(corpus: Path, index: Path, crash: str | None = None, kill_after: float | None = None) -> int:
    """Run `qa index` in its own process; with ``kill_after``, SIGKILL it that long after its index folder
    appears. Returns its exit code (-9 when it was killed)."""
    p = subprocess.Popen([sys.executable, "-m", "qa", "index", "-q"], env=_env(corpus, index, crash),
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is not None:
        deadline = time.time() + 120
        while not (index / "chroma.sqlite3").exists() and p.poll() is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(kill_after)
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
    return p.wait(timeout=300)


def _state(corpus: Path, index: Path, embedder) -> dict:
    """Everything an index holds, read back in this process (a fresh engine: nothing cached)."""
    engine = Engine(load_settings(corpus_dir=corpus, index_dir=index, index_step=STEP), embedder)
    got = engine.index.collection.get(include=["documents", "metadatas", "embeddings"])
    order = np.argsort(got["ids"])
    ids = [got["ids"][i] for i in order]
    lexical = engine.retriever.lexical
    manifest = {f: {k: v for k, v in md.items()} for f, md in engine.index.manifest().items()}
    return {
        "ids": ids,
        "docs": [got["documents"][i] for i in order],
        "metas": [got["metadatas"][i] for i in order],
        "vectors": np.asarray(got["embeddings"])[order],
        "manifest": manifest,
        "lexical": sorted(lexical.ids),
        "answer": engine.ask("What share of the world's critical raw materials does Ukraine hold?").text,
    }


def _same(a: dict, b: dict):
    assert a["ids"] == b["ids"] and len(set(a["ids"])) == len(a["ids"])  # the same chunks, none twice
    assert a["docs"] == b["docs"] and a["metas"] == b["metas"]
    assert np.allclose(a["vectors"], b["vectors"], atol=1e-5)
    assert a["manifest"] == b["manifest"]
    assert a["lexical"] == a["ids"] and b["lexical"] == b["ids"]  # BM25 over exactly the stored chunks
    assert a["answer"] == b["answer"]


@pytest.fixture(scope="module")
def clean(tmp_path_factory, embedder):
    """Clean builds of the two corpora the crashes are tried on: the seeds, and the seeds changed."""
    base = tmp_path_factory.mktemp("clean")
    seeds = base / "seeds"
    shutil.copytree(SEEDS, seeds)
    changed = base / "changed"
    _change(shutil.copytree(SEEDS, changed))
    out = {}
    for name, corpus in (("seeds", seeds), ("changed", changed)):
        assert _index(corpus, base / f"index-{name}") == 0
        out[name] = _state(corpus, base / f"index-{name}", embedder)
    assert len(out["seeds"]["manifest"]) == 5 and len(out["seeds"]["ids"]) > 3 * STEP
    return out


def _change(corpus: Path) -> Path:
    """An edit, a removal and an addition: a sync that updates, deletes and adds."""
    f = corpus / "002_d89352816586c04e.txt"
    f.write_text(f.read_text() + "\nUpdate: the talks were postponed to next month.\n")
    (corpus / "004_b7d7290862e495a3.txt").unlink()
    (corpus / "005_new.txt").write_text("Kyiv trams run again\n\nKyiv's trams ran again on Monday after repairs.\n")
    return corpus


# (where the sync dies, starting from an empty index or from the seeds' index with the corpus then changed)
POINTS = [
    ("scanned", "empty"),  # the folder read, nothing written yet
    ("embedded:2", "empty"),  # mid-way: one step stored and recorded, the second embedded, not stored
    ("batch:2", "empty"),  # the second step's chunks stored, its articles not recorded
    ("stored:3", "empty"),  # mid-manifest: three steps' chunks stored, two steps' articles recorded
    ("recorded:1", "empty"),  # right after the first records
    ("deleted", "update"),  # a removed article's chunks deleted, its record not yet
    ("stored:1", "update"),  # the edited article's old chunks gone, its new ones stored, not recorded
]


@pytest.mark.parametrize("point, start", POINTS, ids=[p for p, _ in POINTS])
def test_killed_at_a_point_then_rerun_equals_a_clean_build(tmp_path, embedder, clean, point, start):
    corpus = shutil.copytree(SEEDS, tmp_path / "corpus")
    index = tmp_path / "index"
    if start == "update":
        assert _index(corpus, index) == 0
        _change(corpus)
    assert _index(corpus, index, crash=point) == -signal.SIGKILL  # it did die there
    assert _index(corpus, index) == 0
    _same(_state(corpus, index, embedder), clean["seeds" if start == "empty" else "changed"])


def test_killed_at_random_moments_then_rerun_equals_a_clean_build(tmp_path, embedder, clean):
    rng = random.Random(13)
    corpus = shutil.copytree(SEEDS, tmp_path / "corpus")
    index = tmp_path / "index"
    codes = [_index(corpus, index, kill_after=rng.uniform(0.0, 2.5)) for _ in range(3)]
    assert -signal.SIGKILL in codes  # at least one of them was killed mid-way
    assert _index(corpus, index) == 0
    _same(_state(corpus, index, embedder), clean["seeds"])
