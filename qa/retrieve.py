"""Retrieval: dense (Chroma) and lexical (BM25) candidates fused by reciprocal rank fusion.

After fusion, passages of the same file that overlap (neighbouring chunks share their overlap) are
merged into one, and near-duplicate passages (the same text in two files) are collapsed into the
better-ranked one, which lists the other files in ``also_in``.
"""

from __future__ import annotations

import json
import logging
import math
import pickle
import re
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import AbstractSet, Callable

import numpy as np

from .config import Settings
from .embedding import Embedder
from .index import ChromaIndex
from .schema import Passage  # noqa: F401 (re-exported)
from .text import terms
from .timeframe import Frame

log = logging.getLogger(__name__)


def _term_rows(term_lists: list[list[str]], vocab: dict[str, int]):
    """A sparse matrix of term counts, one row per list, a column per term of ``vocab`` (new terms are added
    to it)."""
    import scipy.sparse as sp

    indptr = [0]
    cols: list[int] = []
    for toks in term_lists:
        for t in toks:
            j = vocab.get(t)
            if j is None:
                j = vocab[t] = len(vocab)
            cols.append(j)
        indptr.append(len(cols))
    m = sp.csr_matrix((np.ones(len(cols), dtype=np.float32), np.array(cols, dtype=np.int32),
                       np.array(indptr, dtype=np.int64)), shape=(len(term_lists), max(len(vocab), 1)))
    m.sum_duplicates()
    return m


def _widen(m, width: int):
    """``m`` (CSR) with ``width`` columns (the vocabulary grew since it was made)."""
    import scipy.sparse as sp

    return sp.csr_matrix((m.data, m.indices, m.indptr), shape=(m.shape[0], width))


def _bm25(tf, vocab: dict[str, int], k1: float = 1.5, b: float = 0.75):
    """A bm25s index (Lucene BM25, bm25s's defaults) over the term counts ``tf`` (CSR, a row per document):
    the same scores bm25s computes from token lists, in numpy over the whole matrix at once instead of a
    Python loop per document, so rebuilding it after a change costs a fraction of a second."""
    import bm25s
    import scipy.sparse as sp

    n = tf.shape[0]
    dl = np.asarray(tf.sum(axis=1)).ravel()
    avgdl = dl.mean() if n else 1.0
    df = np.bincount(tf.indices, minlength=tf.shape[1])
    idf = np.log(1 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
    rows = np.repeat(np.arange(n), np.diff(tf.indptr))
    norm = (k1 * ((1 - b) + b * dl / avgdl)).astype(np.float32)
    tfv = tf.data.astype(np.float32)
    scores = idf[tf.indices] * (tfv / (norm[rows] + tfv))
    csc = sp.csr_matrix((scores, tf.indices, tf.indptr), shape=tf.shape).tocsc()
    index = bm25s.BM25()
    index.scores = {"data": csc.data.astype(np.float32), "indices": csc.indices, "indptr": csc.indptr,
                    "num_docs": n}
    index.vocab_dict = dict(vocab)
    index.vocab_dict[""] = len(vocab)  # as bm25s adds, for a query none of whose words is known
    index.unique_token_ids_set = set(index.vocab_dict.values())
    index.nonoccurrence_array = None  # (BM25L and BM25+ only)
    return index


class LexicalIndex:
    """BM25 over every chunk (title + text) and over every whole article, brought up to date with Chroma
    whenever the index changed, so it never drifts from the vector side. The chunks' term counts are kept
    (a sparse matrix), so after a change only the new chunks are tokenised and the BM25 scores are computed
    over the matrix at once (see ``_bm25``)."""

    VERSION = 3  # of what is saved (see save/load): another version is rebuilt, never read

    def __init__(self, ids: list[str], docs: list[str], metadatas: list[dict],
                 vectors: Callable[[list[str]], np.ndarray] | None = None,
                 text_tf=None, columns: dict[str, int] | None = None, records: dict[str, str] | None = None,
                 vocab_df: Counter | None = None):
        """``text_tf`` and ``columns``: each chunk's text term counts and the terms' columns, when known (a
        refresh reuses the unchanged chunks'); ``records``: each article's manifest record (hash and
        chunker) the chunks were read under; ``vocab_df``: in how many chunks each normalised word occurs
        (qa.facts), when known."""
        import scipy.sparse as sp

        self._vectors = vectors
        self._matrix: np.ndarray | None = None
        self.ids = ids
        self.meta = metadatas
        self.docs = docs
        self.records = records or {}
        self.state = ""  # the index state this was built from (ChromaIndex.state), when known
        self._position: dict[str, int] | None = None
        if vocab_df is None:
            titles: dict[str, set[str]] = {}
            vocab_df = Counter()
            for d, m in zip(docs, metadatas):
                vocab_df.update(self._words(d, m.get("title", ""), titles))
        self.vocab_df = vocab_df
        self.columns = columns if columns is not None else {}
        if text_tf is None:
            text_tf = _term_rows([terms(d) for d in docs], self.columns)
        self.n = len(docs)
        # articles: the title once, then the chunks' text
        by_file: dict[str, int] = {}
        for m in metadatas:
            by_file.setdefault(m["file"], len(by_file))
        self.files = sorted(by_file)
        position = {f: i for i, f in enumerate(self.files)}
        self.file_of = np.array([position[m["file"]] for m in metadatas], dtype=np.int64)  # chunk -> its file
        title_of: dict[str, str] = {}
        for m in metadatas:
            title_of.setdefault(m["file"], m.get("title", ""))
        title_tf = _term_rows([terms(title_of[f]) for f in self.files], self.columns)
        width = len(self.columns) + 1
        self.text_tf = _widen(text_tf, width)
        title_tf = _widen(title_tf, width)
        chunk_tf = (self.text_tf + title_tf[self.file_of]).tocsr()
        owner = sp.csr_matrix((np.ones(self.n, dtype=np.float32), (self.file_of, np.arange(self.n))),
                              shape=(len(self.files), self.n))
        article_tf = (owner @ self.text_tf + title_tf).tocsr()
        counts = np.bincount(chunk_tf.indices, minlength=width)
        names = {j: t for t, j in self.columns.items()}
        self.df: Counter = Counter({names[j]: int(c) for j, c in enumerate(counts) if c and j in names})
        self.bm25 = _bm25(chunk_tf, self.columns)
        self.article_bm25 = _bm25(article_tf, self.columns)

    def refreshed(self, ids: list[str], records: dict[str, str],
                  fetch: Callable[[list[str]], tuple[list[str], list[dict]]],
                  vectors: Callable[[list[str]], np.ndarray] | None = None) -> "LexicalIndex":
        """The index for chunks ``ids`` under article ``records`` (the manifest now): the chunks of an
        article whose record is unchanged are taken from this index as they are (text, metadata, term
        counts); only the others are read (``fetch``: their texts and metadata) and tokenised. The BM25
        scores are then computed afresh over the whole matrix (a fraction of a second)."""
        import scipy.sparse as sp

        keep = {cid: i for i, cid in enumerate(self.ids)
                if records.get(self.meta[i]["file"]) == self.records.get(self.meta[i]["file"], None)}
        missing = [cid for cid in ids if cid not in keep]
        got_docs, got_metas = fetch(missing) if missing else ([], [])
        new = {cid: (d, m) for cid, d, m in zip(missing, got_docs, got_metas)}
        titles: dict[str, set[str]] = {}
        vocab = Counter(self.vocab_df)  # less the words of the chunks gone, plus those of the chunks come
        columns = dict(self.columns)
        new_rows = _term_rows([terms(new[cid][0]) for cid in missing], columns)
        width = len(columns) + 1
        old_tf, new_tf = _widen(self.text_tf, width), _widen(new_rows, width)
        order = {cid: self.n + j for j, cid in enumerate(missing)}  # the new chunks' rows follow the old
        docs, metas, rows = [], [], []
        used = set()
        for cid in ids:
            if cid in new:
                d, m = new[cid]
                docs.append(d)
                metas.append(m)
                rows.append(order[cid])
                vocab.update(self._words(d, m.get("title", ""), titles))
            else:
                i = keep[cid]
                used.add(i)
                docs.append(self.docs[i])
                metas.append(self.meta[i])
                rows.append(i)
        stacked = sp.vstack([old_tf, new_tf]).tocsr()
        text_tf = stacked[np.array(rows, dtype=np.int64)] if rows else stacked[:0]
        for i in range(len(self.ids)):
            if i not in used:
                vocab.subtract(self._words(self.docs[i], self.meta[i].get("title", ""), titles))
        vocab = Counter({w: n for w, n in vocab.items() if n > 0})
        return LexicalIndex(list(ids), docs, metas, vectors, text_tf, columns, records, vocab)

    def save(self, path: Path) -> None:
        """Write this index to ``path`` (atomically: a reader sees the old file or the new one)."""
        state = {k: v for k, v in self.__dict__.items() if k not in ("_vectors", "_matrix", "_position")}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        with tmp.open("wb") as f:
            pickle.dump((self.VERSION, state), f, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, vectors: Callable[[list[str]], np.ndarray] | None = None) -> "LexicalIndex | None":
        """The index saved at ``path``, or None (no file, another version, unreadable: it is rebuilt)."""
        try:
            with path.open("rb") as f:
                version, state = pickle.load(f)
        except FileNotFoundError:
            return None
        except Exception as e:  # noqa: BLE001 - a damaged or foreign file is rebuilt, never trusted
            log.warning("lexical index %s unreadable (%s): rebuilding it", path, e)
            return None
        if version != cls.VERSION:
            return None
        lex = cls.__new__(cls)
        lex.__dict__.update(state)
        lex._vectors, lex._matrix, lex._position = vectors, None, None
        return lex

    def position(self, chunk_id: str) -> int | None:
        """Where a chunk is in this index (None: not in it)."""
        if self._position is None:
            self._position = {cid: i for i, cid in enumerate(self.ids)}
        return self._position.get(chunk_id)

    def file_of_id(self, chunk_id: str) -> str | None:
        i = self.position(chunk_id)
        return None if i is None else self.meta[i]["file"]

    @property
    def vocab(self) -> AbstractSet[str]:
        """Every normalised word of the indexed text and titles (qa.facts): what the premise check asks
        of the whole corpus."""
        return self.vocab_df.keys()

    @staticmethod
    def _words(doc: str, title: str, titles: dict[str, set[str]]) -> set[str]:
        """A chunk's normalised words, its title's included (``titles``: those already normalised)."""
        from .facts import norm_tokens

        if title not in titles:
            titles[title] = set(norm_tokens(title))
        return set(norm_tokens(doc)) | titles[title]

    def idf(self, term: str) -> float:
        return math.log(1 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))

    def _query(self, query: str) -> list[str]:
        return [t for t in terms(query) if t in self.df]

    def _kept(self, excluded: frozenset[str]) -> np.ndarray | None:
        """1 for each article not ``excluded``, 0 for the others (None when none is)."""
        if not excluded:
            return None
        return np.array([f not in excluded for f in self.files], dtype=np.float32)

    def kept_chunks(self, excluded: frozenset[str]) -> np.ndarray:
        """1 for each chunk of an article not ``excluded``, 0 for the others."""
        kept = self._kept(excluded)
        return np.ones(self.n, dtype=np.float32) if kept is None else kept[self.file_of]

    def nearest(self, qemb: np.ndarray, n: int, excluded: frozenset[str]) -> list[tuple[str, float]]:
        """The ``n`` chunks nearest ``qemb`` (unit vectors: cosine) among those of the articles not
        ``excluded``, exactly: (id, cosine distance), nearest first. The chunks' vectors are read from
        the index the first time (about 1.5 kB a chunk), then kept with this snapshot."""
        if self._matrix is None:
            if self._vectors is None:
                raise RuntimeError("this lexical index has no access to the chunks' vectors")
            self._matrix = np.asarray(self._vectors(self.ids), dtype=np.float32)
        rows = np.flatnonzero(self.kept_chunks(excluded))
        if not len(rows):
            return []
        sims = self._matrix[rows] @ np.asarray(qemb, dtype=np.float32)
        top = np.argpartition(-sims, n - 1)[:n] if len(rows) > n else np.arange(len(rows))
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(self.ids[rows[i]], 1.0 - float(sims[i])) for i in top]

    def search(self, query: str, k: int, excluded: frozenset[str] = frozenset()) -> list[tuple[int, float]]:
        """Chunks: (position, score), best first; none of the ``excluded`` files."""
        q = self._query(query)
        if not q or not self.n:
            return []
        mask = self.kept_chunks(excluded) if excluded else None
        res, scores = self.bm25.retrieve([q], k=min(k, self.n), show_progress=False, n_threads=1, weight_mask=mask)
        return [(int(i), float(s)) for i, s in zip(res[0], scores[0]) if s > 0]

    def search_articles(self, query: str, k: int, excluded: frozenset[str] = frozenset()) -> list[str]:
        """Files whose whole text best matches, best first; none of the ``excluded`` files."""
        q = self._query(query)
        if not q or not self.files:
            return []
        mask = self._kept(excluded)
        res, scores = self.article_bm25.retrieve([q], k=min(k, len(self.files)), show_progress=False, n_threads=1,
                                                 weight_mask=mask)
        return [self.files[int(i)] for i, s in zip(res[0], scores[0]) if s > 0]


def _shingles(text: str, n: int = 3) -> set[tuple[str, ...]]:
    w = re.findall(r"\w+", text.lower())
    return {tuple(w[i : i + n]) for i in range(max(1, len(w) - n + 1))}


def near_duplicate(a: str | set, b: str | set, threshold: float = 0.8) -> bool:
    """Do most word 3-grams of the shorter text appear in the other?"""
    sa = a if isinstance(a, set) else _shingles(a)
    sb = b if isinstance(b, set) else _shingles(b)
    if not sa or not sb:
        return False
    return len(sa & sb) / min(len(sa), len(sb)) >= threshold


def _merge(a: Passage, b: Passage) -> Passage:
    """One passage covering two overlapping or touching passages of the same file."""
    first, second = (a, b) if a.clean_start <= b.clean_start else (b, a)
    # both are slices of the same clean document text, so the union is exact
    if second.clean_end <= first.clean_end:
        text, segmap, end, cend = first.text, first.segmap, first.end, first.clean_end
    else:
        cut = first.clean_end - second.clean_start
        text = first.text + second.text[cut:]
        shift = second.clean_start - first.clean_start
        segmap = first.segmap + [[cs + shift, cl, os_, ol] for cs, cl, os_, ol in second.segmap]
        end, cend = second.end, second.clean_end
    best = a if a.score >= b.score else b
    return Passage(
        id=best.id, file=a.file, title=a.title, text=text, start=first.start, end=end,
        clean_start=first.clean_start, clean_end=cend, score=max(a.score, b.score),
        dense=max(x for x in (a.dense, b.dense, -1.0) if x is not None),
        bm25=max(x for x in (a.bm25, b.bm25, 0.0) if x is not None),
        dense_rank=min((x for x in (a.dense_rank, b.dense_rank) if x is not None), default=None),
        bm25_rank=min((x for x in (a.bm25_rank, b.bm25_rank) if x is not None), default=None),
        segmap=segmap, also_in=sorted(set(a.also_in) | set(b.also_in)), file_boost=best.file_boost,
    )


@dataclass
class Retrieval:
    passages: list[Passage]
    files: list[str]  # every candidate article, best first


def rrf_fuse(rankings: list[list[str]], weights: list[float], k: float) -> dict[str, float]:
    """Weighted reciprocal rank fusion: each item scores ``weight / (k + rank + 1)`` in every ranking it
    appears in (rank from 0, at its first place when listed twice), summed over the rankings."""
    if len(rankings) != len(weights):
        raise ValueError("one weight per ranking")
    score: dict[str, float] = {}
    for ranking, w in zip(rankings, weights):
        for r, item in enumerate(dict.fromkeys(ranking)):
            score[item] = score.get(item, 0.0) + w / (k + r + 1)
    return score


class HybridRetriever:
    def __init__(self, settings: Settings, embedder: Embedder, index: ChromaIndex):
        self.settings = settings
        self.embedder = embedder
        self.index = index
        self._lexical: LexicalIndex | None = None
        self._lexical_count = -1
        self._stale = False
        self._lock = threading.Lock()
        self._saver: threading.Thread | None = None

    def invalidate(self):
        self._stale = True

    @property
    def lexical_path(self) -> Path:
        """Where the lexical index is kept between runs: beside the index (in server mode too, where
        ``index_dir`` is this machine's cache of it), one file per collection; beside it, the state it was
        built from (a few bytes: whether the file is current is known without reading it)."""
        return Path(self.settings.index_dir) / f"lexical-{self.settings.collection}.pkl"

    def _saved_state(self) -> str | None:
        try:
            return self.lexical_path.with_suffix(".state").read_text().strip()
        except OSError:
            return None

    def _save(self, lex: LexicalIndex) -> None:
        """Save ``lex`` in the background (a large index takes a second or two to write): the sync or the
        question that built it does not wait. Saves run one after another; a process waits for the last
        before it exits (the thread is not a daemon)."""
        previous = self._saver

        def run():
            if previous is not None:
                previous.join()
            try:
                lex.save(self.lexical_path)
                tmp = self.lexical_path.with_suffix(".state.tmp")
                tmp.write_text(lex.state)
                tmp.replace(self.lexical_path.with_suffix(".state"))
            except OSError as e:  # a read-only or full folder: answer anyway, rebuild next time
                log.warning("could not save the lexical index to %s: %s", self.lexical_path, e)

        self._saver = threading.Thread(target=run, name="save-lexical-index")
        self._saver.start()

    def flush(self) -> None:
        """Wait until the lexical index is saved."""
        if self._saver is not None:
            self._saver.join()

    def _ids_now(self, old: LexicalIndex, records: dict[str, str], count: int) -> list[str]:
        """The index's chunk ids: the unchanged articles' from ``old``, the changed articles' from the index;
        all of them read from the index when those do not add up to ``count`` (chunks without a record,
        left by an interrupted sync)."""
        changed = [f for f in set(records) | set(old.records) if records.get(f) != old.records.get(f)]
        gone = set(changed)
        ids = [cid for cid, m in zip(old.ids, old.meta) if m["file"] not in gone]
        ids += self.index.ids_of([f for f in changed if f in records])
        return ids if len(ids) == count else self.index.all_ids()

    @property
    def lexical(self) -> LexicalIndex:
        """BM25 over the index as it is now. Kept in memory while the index is unchanged; saved beside it,
        keyed to its state (ChromaIndex.state), so a new process reads it instead of rebuilding it; after
        a change, rebuilt reusing the unchanged articles' chunks (an article added to a large index costs
        that article, not the index)."""
        count = self.index.count()
        with self._lock:
            if self._lexical is not None and not self._stale and count == self._lexical_count:
                return self._lexical
            state, records = self.index.state()
            old = self._lexical
            if (old is None or old.state != state) and (old is None or self._saved_state() == state):
                self.flush()
                saved = LexicalIndex.load(self.lexical_path, self.index.vectors)
                if saved is not None and (saved.state == state or old is None):
                    old = saved
            if old is not None and old.state == state:
                lex = old
            else:
                if old is None:
                    ids, docs, metas = self.index.all_chunks()
                    lex = LexicalIndex(ids, docs, metas, self.index.vectors, records=records)
                else:
                    lex = old.refreshed(self._ids_now(old, records, count), records, self.index.chunks,
                                        self.index.vectors)
                lex.state = state
                self._save(lex)
            self._lexical, self._lexical_count, self._stale = lex, count, False
            return lex

    def _passage(self, cid: str, text: str, md: dict) -> Passage:
        return Passage(
            id=cid, file=md["file"], title=md.get("title", ""), text=text,
            start=int(md["start"]), end=int(md["end"]),
            clean_start=int(md["clean_start"]), clean_end=int(md["clean_end"]),
            segmap=json.loads(md.get("segmap", "[]")),
        )

    def retrieve(self, question: str, k: int | None = None, timings: dict | None = None, qemb=None) -> list[Passage]:
        return self.search(question, k, timings, qemb).passages

    def search(self, question: str, k: int | None = None, timings: dict | None = None, qemb=None,
               frame: Frame | None = None, dates: dict[str, date | None] | None = None,
               only: str | None = None) -> Retrieval:
        """The top ``k`` passages, and the ranking of all candidate articles. ``timings`` (when given)
        receives embed_ms, dense_ms, bm25_ms and retrieve_ms.

        ``frame`` (qa.timeframe) with ``dates`` (each article's publication day, None when undated) limits
        the candidates to the articles the frame allows and, where it prefers a period, lets the articles
        of that period (or the newest, for "latest") come first among the relevant ones.

        ``only``: one article's passages, whatever the frame (a question about an article the user chose)."""
        k = k or self.settings.top_k
        n = max(self.settings.candidates, k)
        excluded = frozenset(f for f, d in (dates or {}).items() if frame and not frame.allows(d))
        t0 = time.perf_counter()
        if qemb is None:
            qemb = self.embedder.encode_one(question)
        t1 = time.perf_counter()
        lex = self.lexical
        if only is not None:
            excluded = frozenset(f for f in lex.files if f != only)
        dense = self._dense(qemb, n, lex, excluded, only)
        t2 = time.perf_counter()
        cands: dict[str, Passage] = {p.id: p for p in dense}
        lexical = self._bm25(lex, question, n, cands, excluded)
        t3 = time.perf_counter()
        # reciprocal rank fusion at two levels: the chunk's own ranks, and its article's ranks (its best
        # chunk in each list, and BM25 over whole articles): an article that ranks high lends weight to
        # its passages, which keeps a lone matching chunk of an off-topic article from coming first
        s = self.settings
        file_score = rrf_fuse([[p.file for p in dense], [p.file for p in lexical],
                               lex.search_articles(question, n, excluded)],
                              [s.dense_weight, s.bm25_weight, s.article_weight], s.rrf_k)
        own = rrf_fuse([[p.id for p in dense], [p.id for p in lexical]], [s.dense_weight, s.bm25_weight], s.rrf_k)
        for p in cands.values():
            p.file_boost = s.passage_file_weight * file_score.get(p.file, 0.0)
            p.score = own[p.id] + p.file_boost
        fused = sorted(cands.values(), key=lambda p: -p.score)
        out = self.collapse(fused, k, s.max_per_file)
        # articles: their own fusion plus their best passage
        best: dict[str, float] = {}
        for p in cands.values():
            for f in (p.file, *p.also_in):
                best[f] = max(best.get(f, 0.0), own[p.id])
        files = sorted(best, key=lambda f: -(s.file_weight * file_score.get(f, 0.0) + best[f]))
        if frame is not None and frame.near and dates:
            # time decides among the relevant articles, those the top k came from: the ones published in the
            # period the question names (the newest, for "latest") come first, then the nearer in time,
            # then the undated; relevance orders the rest. No article relevance left out is brought in.
            relevant = list(dict.fromkeys(p.file for p in out))
            gap = {f: frame.distance(dates.get(f)) for f in relevant}
            order = sorted(relevant, key=lambda f: (gap[f] is None, gap[f] or 0, relevant.index(f)))
            out.sort(key=lambda p: order.index(p.file))  # stable: an article's passages keep their order
            files = order + [f for f in files if f not in gap]
        place = {f: i for i, f in enumerate(files)}
        own_place = {pid: i for i, pid in enumerate(sorted(own, key=lambda x: -own[x]))}
        for p in out:  # what the inspector shows (qa search): its article's rank, and whether it carried it
            p.article_rank = place.get(p.file)
            p.own_rank = own_place.get(p.id)
            p.carried = p.own_rank is not None and p.own_rank >= k
        if timings is not None:
            timings["embed_ms"] = (t1 - t0) * 1000
            timings["dense_ms"] = (t2 - t1) * 1000
            timings["bm25_ms"] = (t3 - t2) * 1000
            timings["retrieve_ms"] = (time.perf_counter() - t0) * 1000
        return Retrieval(out, files)

    def _dense(self, qemb: np.ndarray, n: int, lex: LexicalIndex, excluded: frozenset[str] = frozenset(),
               only: str | None = None) -> list[Passage]:
        """The ``n`` chunks nearest the question's embedding, with their similarity and rank; none of the
        ``excluded`` files. Chroma's HNSW index answers, asked for ids and distances only (the chunks'
        text and metadata are in the lexical index already: reading them back from Chroma cost most of a
        query); with articles excluded, an exact search over the kept chunks' vectors in memory does
        (Chroma's own filter cost three times the query, paying for every listed file)."""
        col = self.index.collection

        def query(top: int, where: dict | None = None) -> list[tuple[str, float]]:
            res = col.query(query_embeddings=[qemb.tolist()], n_results=top, where=where, include=["distances"])
            return list(zip(res["ids"][0], (res["distances"] or [[]])[0]))

        if only is not None:  # one article: Chroma's filter on one file, asked for no more than it has
            have = int(lex.kept_chunks(excluded).sum())
            hits = query(min(n, have), where={"file": only}) if have else []
        elif not excluded:
            hits = query(n)
        else:
            hits = lex.nearest(qemb, n, excluded)
        out = []
        missing = [cid for cid, _ in hits if lex.position(cid) is None]
        got = self.index.collection.get(ids=missing, include=["documents", "metadatas"]) if missing else None
        extra = {cid: (doc, md) for cid, doc, md in zip(got["ids"], got["documents"] or [], got["metadatas"] or [])} if got else {}
        for rank, (cid, dist) in enumerate(hits):
            i = lex.position(cid)
            if i is not None:
                p = self._passage(cid, lex.docs[i], lex.meta[i])
            elif cid in extra:  # indexed after the lexical snapshot (never under the engine's lock)
                p = self._passage(cid, extra[cid][0] or "", dict(extra[cid][1] or {}))
            else:
                continue
            p.dense = 1.0 - dist  # Chroma's cosine distance -> similarity
            p.dense_rank = rank
            out.append(p)
        return out

    def _bm25(self, lex: LexicalIndex, question: str, n: int, cands: dict[str, Passage],
              excluded: frozenset[str] = frozenset()) -> list[Passage]:
        """The ``n`` chunks BM25 ranks best for the question (none of the ``excluded`` files), with their
        score and rank; each is added to ``cands`` (a chunk the dense side found already gains its BM25
        fields there)."""
        out = []
        for rank, (i, score) in enumerate(lex.search(question, n, excluded)):
            p = cands.get(lex.ids[i]) or self._passage(lex.ids[i], lex.docs[i], lex.meta[i])
            p.bm25, p.bm25_rank = score, rank
            cands[p.id] = p
            out.append(p)
        return out

    @staticmethod
    def collapse(ranked: list[Passage], k: int, max_per_file: int | None = None) -> list[Passage]:
        """Merge overlapping same-file passages, collapse near-duplicates, keep the best ``k`` with at
        most ``max_per_file`` from one article."""
        out: list[Passage] = []
        shingles: dict[tuple[str, int], set] = {}

        def sh(x: Passage) -> set:
            key = (x.id, len(x.text))
            if key not in shingles:
                shingles[key] = _shingles(x.text)
            return shingles[key]

        for p in ranked:
            merged = False
            for i, q in enumerate(out):
                if q.file == p.file and p.clean_start < q.clean_end and q.clean_start < p.clean_end:
                    m = _merge(q, p)
                    # the union may now overlap another kept passage of the file: absorb it too
                    for j in range(len(out) - 1, -1, -1):
                        o = out[j]
                        if j != i and o.file == m.file and o.clean_start < m.clean_end and m.clean_start < o.clean_end:
                            m = _merge(m, o)
                            del out[j]
                            if j < i:
                                i -= 1
                    out[i] = m
                    merged = True
                    break
                if near_duplicate(sh(q), sh(p)):
                    if p.file != q.file and p.file not in q.also_in:
                        q.also_in.append(p.file)
                    merged = True
                    break
            if not merged:
                if len(out) >= k or (max_per_file and sum(q.file == p.file for q in out) >= max_per_file):
                    continue
                out.append(p)
        return out
