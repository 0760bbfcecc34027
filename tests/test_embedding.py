"""The embedder's three ways to run: ONNX (the default) gives torch's vectors, int8 nearly so and the same
whatever a text is batched with; the export is made once; an index built by one is re-embedded by another."""

import numpy as np
import pytest

from qa.chunking import chunk_document
from qa.corpus import parse
from qa.embedding import Embedder
from qa.engine import Engine

from conftest import SEEDS


@pytest.fixture(scope="module")
def texts(embedder):
    out = []
    for f in sorted(SEEDS.iterdir()):
        doc = parse(f.name, f.read_bytes())
        title = embedder.truncate(doc.title, 32)
        out += [c.embed_text(title) for c in chunk_document(doc, embedder.count_tokens, 64, 16)]
    return out + ["x", "word " * 400]  # one word-piece, and one far past the model's 256


def test_onnx_gives_torchs_vectors_and_int8_nearly(texts, tmp_path):
    torch_v = Embedder(backend="torch").encode(texts)
    onnx_v = Embedder(backend="onnx", cache_dir=tmp_path).encode(texts)
    assert onnx_v.shape == torch_v.shape == (len(texts), 384)
    assert np.allclose(np.linalg.norm(onnx_v, axis=1), 1, atol=1e-5)
    assert (onnx_v * torch_v).sum(1).min() > 0.9999
    int8 = Embedder(backend="onnx-int8", cache_dir=tmp_path)
    v8 = int8.encode(texts)
    cos = (v8 * torch_v).sum(1)
    assert cos.mean() > 0.98 and cos.min() > 0.95
    # a text's int8 vector does not depend on the texts embedded with it, nor on their order
    alone = np.stack([int8.encode_one(t) for t in texts[:12]])
    assert np.array_equal(alone, v8[:12])
    assert np.array_equal(int8.encode(texts[::-1])[::-1], v8)


def test_the_export_is_made_once_and_reused(tmp_path):
    first = Embedder(cache_dir=tmp_path)
    first.load()
    made = sorted(tmp_path.rglob("*.onnx"))
    assert [p.name for p in made] == ["model.onnx"]
    stamp = made[0].stat().st_mtime_ns
    Embedder(cache_dir=tmp_path).load()
    assert made[0].stat().st_mtime_ns == stamp
    Embedder(backend="onnx-int8", cache_dir=tmp_path).load()  # quantised from the same export
    assert sorted(p.name for p in tmp_path.rglob("*.onnx")) == ["model-int8.onnx", "model.onnx"]
    assert made[0].stat().st_mtime_ns == stamp


def test_token_counts_match_the_models_own_tokenizer(texts, embedder):
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(embedder.model_path), local_files_only=True)
    assert embedder.count_tokens(texts) == [len(x) for x in hf(texts, add_special_tokens=False)["input_ids"]]
    assert embedder.max_tokens == 256


def test_an_index_built_by_another_backend_is_embedded_again(seeds_copy, settings_for, embedder, tmp_path):
    Engine(settings_for(seeds_copy, embed_backend="torch"), Embedder(backend="torch")).sync()
    engine = Engine(settings_for(seeds_copy), embedder)
    r = engine.sync()
    assert len(r.updated) == 5 and r.chunks_added > 0  # vectors of another make are not mixed with these
    assert not engine.sync().changed
    assert "5%" in engine.ask("What share of the world's critical raw materials does Ukraine hold?").text
