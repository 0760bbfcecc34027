"""Index: chunks embedded into Chroma (through llama-index's ChromaVectorStore), synced by content hash.

Embedded persistent Chroma in ``index_dir`` by default; a Chroma server when ``chroma_url`` is set.
A second, small collection (``<collection>-files``) holds one record per article: its sha256, the
chunking settings and its chunk count. A sync compares the corpus with those records and touches only
what changed. An article's record is written only after all its chunks are stored, and its old chunks are
deleted before new ones go in, so an interrupted sync is repaired by the next one. Both collections live
in the same Chroma (embedded or server), so the index carries its own manifest.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import urlparse

from .chunking import Chunk, chunk_document
from .config import Settings
from .corpus import Document, Skipped, decode, file_hash, parse, scan
from .meta import ArticleMeta, of_document, read_sidecar
from .embedding import Embedder

if TYPE_CHECKING:
    import numpy as np
    from chromadb.api import ClientAPI
    from llama_index.vector_stores.chroma import ChromaVectorStore

log = logging.getLogger(__name__)

@dataclass
class SyncReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    metadata_updated: list[str] = field(default_factory=list)  # only the metadata changed: not re-embedded
    problems: dict[str, list[str]] = field(default_factory=dict)  # bad metadata, by file (never fatal)
    chunks_added: int = 0
    chunks_removed: int = 0
    chunks_total: int = 0
    tokens_embedded: int = 0
    embed_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}",
            f"chunks: +{self.chunks_added} -{self.chunks_removed}, {self.chunks_total} in the index; "
            f"{self.seconds:.2f} s",
        ]
        if self.chunks_added and self.embed_seconds > 0:
            lines.append(
                f"embedding: {self.chunks_added / self.embed_seconds:.1f} chunks/s, "
                f"{self.tokens_embedded / self.embed_seconds:.0f} tokens/s"
            )
        if self.metadata_updated:
            lines.append(f"metadata updated (not re-embedded): {len(self.metadata_updated)}")
        for s in self.skipped:
            lines.append(f"skipped {s.path}: {s.reason}")
        for f, ps in sorted(self.problems.items()):
            lines += [f"metadata of {f}: {p}" for p in ps]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("added", "updated", "removed", "unchanged", "chunks_added",
                                           "chunks_removed", "chunks_total", "tokens_embedded",
                                           "embed_seconds", "seconds")}
        d["skipped"] = [{"path": s.path, "reason": s.reason} for s in self.skipped]
        d["metadata_updated"], d["problems"] = self.metadata_updated, self.problems
        return d


def _dump(meta: ArticleMeta) -> str:
    return json.dumps(asdict(meta), sort_keys=True, ensure_ascii=False)


def read_meta(raw: str | None) -> ArticleMeta:
    """An article's metadata as the manifest records it (JSON)."""
    try:
        return ArticleMeta(**json.loads(raw)) if raw else ArticleMeta()
    except (TypeError, ValueError):  # a record written by another version: read afresh next time
        return ArticleMeta()


_passed: dict[str, int] = defaultdict(int)


def crash_point(name: str) -> None:
    """Fault injection for the crash-safety test and benchmark: with ``QA_CRASH_AT=name`` (or ``name:n``) the
    process kills itself with SIGKILL the n-th time (default the first) it passes this point of a sync, as a
    power cut would; never set in use."""
    at = os.environ.get("QA_CRASH_AT")
    if not at or at.split(":")[0] != name:
        return
    _passed[name] += 1
    if _passed[name] >= int(at.split(":")[1] if ":" in at else 1):
        os.kill(os.getpid(), signal.SIGKILL)


class IndexUnavailable(RuntimeError):
    """The index cannot be opened (a damaged folder, a Chroma server gone): the message says what to do."""


class ChromaIndex:
    def __init__(self, settings: Settings, embedder: Embedder):
        self.settings = settings
        self.embedder = embedder
        self._client: ClientAPI | None = None
        self._collection = None
        self._files = None
        self._store: ChromaVectorStore | None = None

    # -- connection -------------------------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            import chromadb
            from chromadb.config import Settings as ChromaSettings

            chroma_settings = ChromaSettings(anonymized_telemetry=False)
            if self.settings.chroma_url:
                u = urlparse(self.settings.chroma_url)
                if u.scheme not in ("http", "https") or not u.hostname:
                    raise ValueError(f"QA_CHROMA_URL must look like http://host:port, got {self.settings.chroma_url!r}")
                try:
                    self._client = chromadb.HttpClient(
                        host=u.hostname,
                        port=u.port or (443 if u.scheme == "https" else 8000),
                        ssl=u.scheme == "https",
                        settings=chroma_settings,
                    )
                except Exception as e:
                    raise ConnectionError(f"cannot reach the Chroma server at {self.settings.chroma_url} (QA_CHROMA_URL): {e}") from e
            else:
                Path(self.settings.index_dir).mkdir(parents=True, exist_ok=True)
                try:
                    self._client = chromadb.PersistentClient(path=str(self.settings.index_dir), settings=chroma_settings)
                except Exception as e:
                    raise self._unavailable(e) from e
        return self._client

    def _unavailable(self, e: Exception) -> IndexUnavailable:
        """What to tell the user when Chroma fails on opening the index. Chroma keeps one client per folder
        for the life of the process: it is forgotten, so the index opens afresh once the folder is fixed."""
        self._client = self._collection = self._files = None
        with contextlib.suppress(Exception):
            from chromadb.api.shared_system_client import SharedSystemClient

            SharedSystemClient._identifier_to_system.pop(str(self.settings.index_dir), None)
        if self.settings.chroma_url:
            return IndexUnavailable(f"the Chroma server at {self.settings.chroma_url} (QA_CHROMA_URL) failed: {e}")
        return IndexUnavailable(
            f"the index in {self.settings.index_dir} cannot be opened ({e}); the articles are safe in the corpus "
            f"folder: if the index folder is read-only or its disk full, fix that; if it is damaged, move it away "
            f"(or delete it); then run `qa index`")

    @property
    def collection(self):
        if self._collection is None:
            # embedding_function=None: we always pass our own embeddings; Chroma must never fetch a model
            ef = self.settings.hnsw_ef_search
            client = self.client
            try:
                col = client.get_or_create_collection(
                    self.settings.collection,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": ef}},
                    metadata={"embedder": self.embedder.name},
                )
            except Exception as e:
                raise self._unavailable(e) from e
            # (the raw configuration: reading .configuration warns about the embedding_function=None we pass)
            if ((col.configuration_json or {}).get("hnsw") or {}).get("ef_search") != ef:  # made before, or with another setting
                col.modify(configuration={"hnsw": {"ef_search": ef}})
            self._collection = col
        return self._collection

    @property
    def files_collection(self):
        if self._files is None:
            self._files = self.client.get_or_create_collection(
                f"{self.settings.collection}-files", embedding_function=None, metadata={"role": "article manifest"}
            )
        return self._files

    @property
    def store(self):
        if self._store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._store = ChromaVectorStore(chroma_collection=self.collection)
        return self._store

    def count(self) -> int:
        return self.collection.count()

    @property
    def chunker(self) -> str:
        """What shapes the chunks and vectors: a file indexed under other settings is indexed again (v2: a
        headline marked as such near an article's top is its title, embedded with each chunk)."""
        s = self.settings
        return f"v2;size={s.chunk_size};overlap={s.chunk_overlap};title={s.title_tokens};embedder={self.embedder.name}"

    # -- reading ----------------------------------------------------------------------------
    @staticmethod
    def _get_all(collection, include: list[str]) -> dict:
        """Everything in a collection, paged to respect the server's limits."""
        out: dict = {"ids": []}
        for k in include:
            out[k] = []
        page = 5000
        offset = 0
        while True:
            r = collection.get(include=include, limit=page, offset=offset)
            out["ids"] += r["ids"]
            for k in include:
                got = r[k]
                out[k] += [] if got is None else list(got)
            if len(r["ids"]) < page:
                return out
            offset += page

    def manifest(self) -> dict[str, dict]:
        """Per indexed article: hash, chunker, chunks, title."""
        got = self._get_all(self.files_collection, ["metadatas"])
        return {fid: dict(md) for fid, md in zip(got["ids"], got["metadatas"])}

    def all_chunks(self) -> tuple[list[str], list[str], list[dict]]:
        got = self._get_all(self.collection, ["documents", "metadatas"])
        return got["ids"], got["documents"], got["metadatas"]

    def all_ids(self) -> list[str]:
        return self._get_all(self.collection, [])["ids"]

    def ids_of(self, files: list[str]) -> list[str]:
        """The chunk ids of these articles."""
        out: list[str] = []
        for i in range(0, len(files), 100):
            part = files[i : i + 100]
            where = {"file": part[0]} if len(part) == 1 else {"file": {"$in": part}}
            out += self.collection.get(where=where, include=[])["ids"]
        return out

    def chunks(self, ids: list[str]) -> tuple[list[str], list[dict]]:
        """The texts and metadata of these chunks, in this order."""
        step = min(self.client.get_max_batch_size(), 5000)
        by_id: dict[str, tuple[str, dict]] = {}
        for i in range(0, len(ids), step):
            got = self.collection.get(ids=ids[i : i + step], include=["documents", "metadatas"])
            for cid, d, m in zip(got["ids"], got["documents"] or [], got["metadatas"] or []):
                by_id[cid] = (d or "", dict(m or {}))
        return [by_id[c][0] for c in ids], [by_id[c][1] for c in ids]

    def state(self) -> tuple[str, dict[str, str]]:
        """What the chunks are now, cheaply: a key that changes whenever a chunk is added, removed or
        replaced (the chunk count, and each article's record: content hash, chunker, chunks), and the
        records themselves (file -> record). A sync records an article after storing its chunks and removes
        its record after deleting them, so an interrupted sync changes the count or a record too."""
        import hashlib

        records = {f: f"{m.get('hash', '')};{m.get('chunker', '')};{m.get('chunks', '')}"
                   for f, m in self.manifest().items()}
        h = hashlib.sha256(f"{self.settings.collection}\0{self.count()}\0{self.chunker}".encode())
        for f in sorted(records):
            h.update(f"\0{f}\0{records[f]}".encode())
        return h.hexdigest()[:32], records

    def vectors(self, ids: list[str]) -> np.ndarray:
        """The embeddings of these chunks, in this order (one row each)."""
        import numpy as np

        got = self._get_all(self.collection, ["embeddings"])
        row = {cid: i for i, cid in enumerate(got["ids"])}
        matrix = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(got["ids"]), -1)
        return matrix[[row[cid] for cid in ids]] if ids else matrix[:0]

    def chunk_ids(self, file: str) -> list[str]:
        return self.collection.get(where={"file": file}, include=[])["ids"]

    def files(self) -> list[dict]:
        """Indexed articles: file, title, chunks, and what their metadata says (date, outlet, URL, authors;
        the title it gives, else the article's own)."""
        out = []
        for f, m in sorted(self.manifest().items()):
            meta = read_meta(m.get("meta"))
            out.append({"file": f, "title": meta.title or m.get("title", ""), "chunks": int(m.get("chunks", 0)),
                        "date": meta.date, "outlet": meta.outlet, "url": meta.url, "authors": meta.authors})
        return out

    # -- writing ----------------------------------------------------------------------------
    def _nodes(self, chunks: list[Chunk], embeddings) -> list:
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        nodes = []
        for c, emb in zip(chunks, embeddings):
            node = TextNode(
                id_=c.id,
                text=c.text,
                embedding=emb.tolist(),
                metadata={
                    "file": c.file,
                    "title": c.title,
                    "start": c.start,
                    "end": c.end,
                    "clean_start": c.clean_start,
                    "clean_end": c.clean_end,
                    "doc_hash": c.doc_hash,
                    "chunk_index": c.index,
                    "segmap": json.dumps(c.segmap, separators=(",", ":")),
                    "chunker": self.chunker,
                },
            )
            node.relationships[NodeRelationship.SOURCE] = RelatedNodeInfo(node_id=c.file)
            nodes.append(node)
        return nodes

    def delete_file(self, file: str) -> int:
        """Remove an article's chunks and its record; returns the number of chunks removed."""
        ids = self.chunk_ids(file)
        self._delete_ids(ids)
        crash_point("deleted")  # a removed article's chunks gone, its record not yet
        self.files_collection.delete(ids=[file])
        return len(ids)

    def _record(self, docs: list[Document], chunks: list[Chunk], metas: dict[str, tuple[ArticleMeta, ArticleMeta]]):
        """The manifest rows of indexed articles; ``metas``: per file, (what it says of itself, the whole)."""
        counts: dict[str, int] = defaultdict(int)
        for c in chunks:
            counts[c.file] += 1
        self._upsert_records([(d.path, {"hash": d.sha256, "chunker": self.chunker, "chunks": counts[d.path],
                                        "title": d.title, "encoding": d.encoding}) for d in docs], metas)

    def _upsert_records(self, rows: list[tuple[str, dict]], metas: dict[str, tuple[ArticleMeta, ArticleMeta]]):
        step = self.client.get_max_batch_size()
        for i in range(0, len(rows), step):
            batch = rows[i : i + step]
            mds = []
            for path, md in batch:
                own, meta = metas.get(path, (ArticleMeta(), ArticleMeta()))
                mds.append(md | {"own_meta": _dump(own), "meta": _dump(meta)})
            self.files_collection.upsert(
                ids=[path for path, _ in batch],
                embeddings=[[1.0]] * len(batch),  # records only; nothing searches this collection
                metadatas=mds,
            )

    @staticmethod
    def _own_meta(path: str, data: bytes, doc: Document, report: SyncReport) -> ArticleMeta:
        """What an article says of itself (front matter, meta tags, a dateline); its problems reported."""
        own, problems = of_document(path, decode(data)[0], doc.text)
        if problems:
            report.problems.setdefault(path, []).extend(problems)
        return own

    def _delete_ids(self, ids: list[str]):
        step = self.client.get_max_batch_size()
        for i in range(0, len(ids), step):
            self.collection.delete(ids=ids[i : i + step])

    def add_chunks(self, chunks: list[Chunk], on_progress: Callable[[int], None] | None = None) -> tuple[int, float]:
        """Embed and store chunks; returns (tokens embedded, embedding seconds)."""
        prefixes = {}
        for c in chunks:
            if c.title not in prefixes:
                prefixes[c.title] = self.embedder.truncate(c.title, self.settings.title_tokens)
        texts = [c.embed_text(prefixes[c.title]) for c in chunks]
        tokens = sum(self.embedder.count_tokens(texts))
        t0 = time.perf_counter()
        emb = self.embedder.encode(texts, progress=on_progress)
        secs = time.perf_counter() - t0
        crash_point("embedded")
        nodes = self._nodes(chunks, emb)
        step = min(self.client.get_max_batch_size(), 1000)
        for i in range(0, len(nodes), step):
            self.store.add(nodes[i : i + step])
            crash_point("batch")
        return tokens, secs

    def sync(
        self,
        corpus_dir: Path,
        on_start: Callable[[int], None] | None = None,
        on_progress: Callable[[int], None] | None = None,
    ) -> SyncReport:
        """Bring the index in line with ``corpus_dir``. ``on_start(n_chunks)`` then ``on_progress(k)``
        report embedding progress."""
        t0 = time.perf_counter()
        report = SyncReport()
        entries, skipped = scan(Path(corpus_dir), self.settings.max_file_bytes)
        report.skipped += skipped
        have = self.manifest()
        # the sidecar's metadata (read at every sync: a change to it alone re-records, never re-embeds)
        sidecar, problems = read_sidecar(Path(corpus_dir), {e.path for e in entries})
        report.problems = problems
        metas: dict[str, tuple[ArticleMeta, ArticleMeta]] = {}
        meta_only: list[tuple[str, dict]] = []
        todo: list[Document] = []
        seen: set[str] = set()
        for e in entries:
            seen.add(e.path)
            try:
                data = e.abspath.read_bytes()
            except OSError as err:
                log.warning("skipped %s: unreadable: %s", e.path, err.strerror or err)
                report.skipped.append(Skipped(e.path, f"unreadable: {err.strerror or err}"))
                continue
            old = have.get(e.path)
            h = file_hash(data)
            if old and old.get("hash") == h and old.get("chunker") == self.chunker:
                report.unchanged.append(e.path)
                if "own_meta" in old:
                    own = read_meta(old["own_meta"])
                else:  # recorded before metadata was read: read what the article says of itself once
                    doc0 = parse(e.path, data)
                    own = self._own_meta(e.path, data, doc0, report) if isinstance(doc0, Document) else ArticleMeta()
                meta = sidecar.get(e.path, ArticleMeta()).merged(own)
                if old.get("meta") != _dump(meta) or "own_meta" not in old:
                    metas[e.path] = (own, meta)
                    meta_only.append((e.path, {k: v for k, v in old.items() if k not in ("own_meta", "meta")}))
                    report.metadata_updated.append(e.path)
                continue
            doc = parse(e.path, data)
            if isinstance(doc, Skipped):
                log.warning("skipped %s: %s", doc.path, doc.reason)
                report.skipped.append(doc)
                if old:  # it was indexed before and is no longer usable
                    report.removed.append(e.path)
                    report.chunks_removed += self.delete_file(e.path)
                continue
            (report.updated if old else report.added).append(e.path)
            own = self._own_meta(e.path, data, doc, report)
            metas[e.path] = (own, sidecar.get(e.path, ArticleMeta()).merged(own))
            # old chunks go first (also the leftovers of an interrupted sync, which has no record), and the
            # old record before them: an article being indexed again has no record until its new chunks are
            # stored, so the index's state (see state()) never looks unchanged while its chunks differ
            if old:
                self.files_collection.delete(ids=[e.path])
            report.chunks_removed += len(ids := self.chunk_ids(e.path))
            self._delete_ids(ids)
            todo.append(doc)
        for path in have:
            if path not in seen:
                report.removed.append(path)
                report.chunks_removed += self.delete_file(path)
        crash_point("scanned")
        chunked = [(doc, chunk_document(doc, self.embedder.count_tokens, self.settings.chunk_size,
                                         self.settings.chunk_overlap)) for doc in todo]
        total = sum(len(cs) for _, cs in chunked)
        if total and on_start:
            on_start(total)
        # articles are embedded, stored and recorded a step at a time: a run that dies (killed, power cut)
        # loses at most one step, and the next run redoes only the articles without a record
        step_docs: list[Document] = []
        step_chunks: list[Chunk] = []
        for i, (doc, cs) in enumerate(chunked):
            step_docs.append(doc)
            step_chunks += cs
            if len(step_chunks) >= self.settings.index_step or i == len(chunked) - 1:
                tokens, secs = self.add_chunks(step_chunks, on_progress)
                report.tokens_embedded += tokens
                report.embed_seconds += secs
                crash_point("stored")  # chunks stored, their articles not yet recorded
                self._record(step_docs, step_chunks, metas)
                crash_point("recorded")
                step_docs, step_chunks = [], []
        if meta_only:
            self._upsert_records(meta_only, metas)
        report.chunks_added = total
        report.chunks_total = self.count()
        report.seconds = time.perf_counter() - t0
        return report
