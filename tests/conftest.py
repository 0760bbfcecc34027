import contextlib
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Callable

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
# tests ask the extractive backend unless they choose an LLM (with the small SmolLM2 model)
os.environ.setdefault("QA_BACKEND", "extractive")

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(scope="session")
def embedder():
    from qa.embedding import Embedder

    return Embedder()


@pytest.fixture
def settings_for(tmp_path):
    """Settings for a corpus folder and a fresh index under tmp_path."""
    from qa.config import load_settings

    def make(corpus: Path, **kw):
        return load_settings(corpus_dir=corpus, index_dir=tmp_path / "index", **kw)

    return make


@pytest.fixture
def seeds_copy(tmp_path):
    d = tmp_path / "corpus"
    shutil.copytree(SEEDS, d)
    return d


@pytest.fixture(scope="session")
def seeds_engine(tmp_path_factory, embedder):
    """An engine over the seed articles, indexed once for the session."""
    from qa.config import load_settings
    from qa.engine import Engine

    base = tmp_path_factory.mktemp("seeds_engine")
    engine = Engine(load_settings(corpus_dir=SEEDS, index_dir=base / "index"), embedder)
    report = engine.sync()
    assert len(report.added) == 5
    return engine


def dated_corpus(folder: Path, articles: dict[str, tuple[str, str | None, str | None]]) -> Path:
    """A corpus folder of short articles, ``{file: (text, published_at, outlet)}``, with the sidecar
    metadata RealTime QA ships (a row per dated article)."""
    import json

    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, (text, day, outlet) in articles.items():
        (folder / name).write_text(text + "\n")
        if day:
            rows.append({"file": name, "published_at": day, "source": outlet})
    (folder / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def free_port():
    """A function giving a free loopback port (for servers the tests start)."""
    return _free_port


@contextlib.contextmanager
def running(cmd: list[str], ready: Callable[[], bool], name: str, timeout: float = 60, **popen):
    """Start a real server process, wait until ``ready()`` says it answers, stop it afterwards."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, **popen)
    try:
        deadline = time.time() + timeout
        while not ready():
            assert proc.poll() is None, f"{name} exited"
            if time.time() > deadline:
                pytest.fail(f"{name} did not start")
            time.sleep(0.3)
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def chroma_run(data: Path, port: int):
    """A real Chroma server (`chroma run`) on ``port`` keeping its data in ``data``: a context manager that
    starts it, waits until it accepts connections and stops it afterwards (it can be started again)."""
    import sys

    def ready() -> bool:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            return False

    cmd = [str(Path(sys.executable).parent / "chroma"), "run", "--path", str(data), "--host", "127.0.0.1",
           "--port", str(port)]
    return running(cmd, ready, "chroma server", env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
