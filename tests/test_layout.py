"""The package's layout as promised: the shells import nothing heavy, and the product never needs the
research code (LlamaIndex's stock pipeline the benchmarks compare against)."""

import json
import subprocess
import sys

from conftest import ROOT, SEEDS

HEAVY = ("torch", "transformers", "sentence_transformers", "chromadb", "llama_index", "llama_cpp", "gradio", "bm25s")


def _modules_after(code: str, env: dict | None = None) -> set[str]:
    """The top-level modules a fresh interpreter has loaded after running ``code``."""
    script = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    r = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=600,
                       env=env)
    assert r.returncode == 0, r.stderr
    return set(json.loads(r.stdout.strip().splitlines()[-1]))


def test_importing_the_shells_loads_nothing_heavy():
    loaded = _modules_after("import app, qa.cli, qa.engine, qa.evaluate, qa.bench")
    assert not {m for m in loaded if m.split(".")[0] in HEAVY}
    assert "qa.baseline" not in loaded and "qa.llm" not in loaded


def test_answering_never_imports_the_research_baseline(tmp_path, embedder):
    import os

    embedder.load()  # the ONNX export exists (made once per machine, with torch)

    env = dict(os.environ, QA_CORPUS_DIR=str(SEEDS), QA_INDEX_DIR=str(tmp_path / "idx"), QA_BACKEND="extractive")
    loaded = _modules_after(
        "from qa.engine import Engine\n"
        "e = Engine()\ne.sync()\n"
        "a = e.ask(\"What share of the world's critical raw materials does Ukraine hold?\")\n"
        "assert '5%' in a.text, a.text\n", env)
    assert "chromadb" in loaded and "onnxruntime" in loaded  # it did index and answer
    assert "torch" not in loaded and "sentence_transformers" not in loaded  # the ONNX embedder needs neither
    assert "qa.baseline" not in loaded and "qa.bench" not in loaded
