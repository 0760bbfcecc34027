"""Research code, not the product: LlamaIndex's stock pipeline (default splitter, vector retriever, query
engine and prompt) over the same embedding model and the same LLM, the naive baseline ``qa bench`` prints
its figures against. Nothing in the engine imports this module.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .embedding import Embedder
from .metrics import hit_at, mrr_at, percentile, unique_in_order

if TYPE_CHECKING:
    from llama_index.core import VectorStoreIndex


def llama_index_embedding(embedder: Embedder):
    """The same model as a llama-index embedding (used by the naive baseline)."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class _Embedding(BaseEmbedding):
        _e: Embedder = PrivateAttr()

        def __init__(self, e: Embedder):
            super().__init__(model_name=str(e.model_path), embed_batch_size=e.batch_size)
            self._e = e

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._e.encode_one(query).tolist()

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._e.encode_one(text).tolist()

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._e.encode(texts).tolist()

    return _Embedding(embedder)


def llama_index_llm(generator):
    """Our llama.cpp generator as a llama-index LLM, so the naive baseline uses the very same model."""
    from llama_index.core.llms import CompletionResponse, CompletionResponseGen, CustomLLM, LLMMetadata
    from llama_index.core.llms.callbacks import llm_completion_callback
    from pydantic import PrivateAttr

    class _LLM(CustomLLM):
        _gen: Any = PrivateAttr()

        def __init__(self, gen):
            super().__init__()
            self._gen = gen

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=4096, num_output=160, model_name=self._gen.label)

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kw) -> CompletionResponse:
            return CompletionResponse(text="".join(self._gen.stream([{"role": "user", "content": prompt}], 160)))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False, **kw) -> CompletionResponseGen:
            text = ""
            for piece in self._gen.stream([{"role": "user", "content": prompt}], 160):
                text += piece
                yield CompletionResponse(text=text, delta=piece)

    return _LLM(generator)


def naive_index(corpus: Path, embedder: Embedder) -> VectorStoreIndex:
    """A LlamaIndex VectorStoreIndex of the corpus's .txt files with its default splitter (in memory)."""
    from llama_index.core import Document, VectorStoreIndex
    from llama_index.core.node_parser import SentenceSplitter

    docs = [Document(text=p.read_text(encoding="utf-8", errors="replace"), metadata={"file": p.name})
            for p in sorted(corpus.glob("*.txt"))]
    return VectorStoreIndex.from_documents(docs, embed_model=llama_index_embedding(embedder),
                                           transformations=[SentenceSplitter()])


def retrieval(corpus: Path, questions: list[dict], embedder: Embedder, k: int = 10) -> dict:
    """File hit@1/@5, MRR@10 and latency of the naive pipeline's retriever (top ``k`` chunks)."""
    t0 = time.perf_counter()
    index = naive_index(corpus, embedder)
    build = time.perf_counter() - t0
    retriever = index.as_retriever(similarity_top_k=k)
    hits1, hits5, mrr, ms = [], [], [], []
    for q in questions:
        gold = set(q["evidence_files"])
        t = time.perf_counter()
        nodes = retriever.retrieve(q["question"])
        ms.append((time.perf_counter() - t) * 1000)
        files = unique_in_order(n.node.metadata["file"] for n in nodes)
        hits1.append(hit_at(files, gold, 1))
        hits5.append(hit_at(files, gold, 5))
        mrr.append(mrr_at(files, gold, 10))
    n = len(questions)
    return {
        "build_s": build, "chunks": len(index.docstore.docs),
        "hit@1": sum(hits1) / n, "hit@5": sum(hits5) / n, "mrr@10": sum(mrr) / n,
        "retrieve_p50_ms": percentile(ms, 50), "retrieve_p95_ms": percentile(ms, 95),
    }
