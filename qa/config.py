"""Settings: one typed model, read from ``QA_*`` environment variables and an optional TOML file.

Precedence (highest first): explicit arguments, environment variables, the TOML file
(``$QA_CONFIG`` or ``./qa.toml``), then the defaults below.
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from .schema import Backend

# all-MiniLM-L6-v2 sees at most 256 word-pieces, two of which are [CLS] and [SEP].
EMBEDDER_MAX_TOKENS = 256


def config_file() -> Path:
    return Path(os.environ.get("QA_CONFIG", "qa.toml"))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="QA_", extra="ignore", validate_default=True)

    # where articles and the index live
    corpus_dir: Path = Field(Path("seeds"), description="folder of articles (.txt, .md, .html)")
    index_dir: Path = Field(Path("index"), description="on-disk Chroma location (embedded mode), and where the "
                            "lexical index is kept between runs (both modes)")
    chroma_url: str | None = Field(None, description="http://host:port of a Chroma server; unset = embedded")
    collection: str = Field("news", description="Chroma collection name")
    hnsw_ef_search: int = Field(400, ge=10, description="candidates Chroma's HNSW explores per query: enough that "
                                "dense retrieval is exact in practice and repeatable (at 100, 1 run in 4 returned another top 40)")
    max_file_bytes: int = Field(5_000_000, gt=0, description="files larger than this are skipped")

    # chunking (sizes in the embedder's word-pieces)
    chunk_size: int = Field(64, ge=16, description="chunk body size in word-pieces")
    chunk_overlap: int = Field(16, ge=0, description="overlap between consecutive chunks in word-pieces")
    title_tokens: int = Field(32, ge=0, description="word-pieces of the title embedded with each chunk")

    # retrieval
    top_k: int = Field(5, ge=1, le=50, description="passages given to the answerer")
    candidates: int = Field(40, ge=1, description="candidates taken from each retriever before fusion")
    rrf_k: int = Field(10, ge=1, description="reciprocal rank fusion constant (small: top ranks count more)")
    dense_weight: float = Field(1.0, ge=0, description="weight of the dense ranking in the fusion")
    bm25_weight: float = Field(1.0, ge=0, description="weight of the BM25 ranking in the fusion")
    max_per_file: int = Field(3, ge=1, description="most passages from one article in the top k")
    file_weight: float = Field(3.0, ge=0, description="weight of the article-level fusion in ranking articles")
    passage_file_weight: float = Field(1.0, ge=0, description="weight of the article-level fusion in ranking passages")
    article_weight: float = Field(1.0, ge=0, description="weight of whole-article BM25 in the article-level fusion")
    time_aware: bool = Field(
        True, description="use the question's time frame in retrieval (as-of date, \"this week\", \"latest\"); "
        "off only to measure what it buys"
    )
    as_of: date | None = Field(
        None, description="the day questions are asked on (YYYY-MM-DD): no article published later is used, and "
        "\"this week\", \"yesterday\", \"latest\" count from it; unset = today"
    )

    # answering
    backend: Backend = Field(
        "auto", description="answer backend: auto = the local LLM when installed, else extractive"
    )
    llm_model: Path | None = Field(None, description="GGUF file for the local LLM; unset = packaged Qwen2.5-Coder-1.5B")
    model_cache: Path = Field(Path("~/.cache/news-qa"), description="where the packaged model is assembled")
    llm_url: str | None = Field(None, description="base URL of an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    llm_name: str = Field("default", description="model name on that server")
    llm_key: str | None = Field(None, description="API key for that server, if it needs one")
    llm_timeout: float = Field(60.0, gt=0, description="seconds before a server call gives up")
    llm_fallback: bool = Field(True, description="answer extractively when the LLM is unavailable")
    llm_budget: int = Field(100, ge=20, description="evidence word-pieces in the prompt (qa bench budget: 100 beat 200-480)")
    llm_max_tokens: int = Field(160, ge=8, description="most tokens generated per answer")
    llm_ctx: int = Field(4096, ge=512, description="llama.cpp context window")
    premise_check: bool = Field(
        True, description="decline, naming it, a question whose names, figures, dates or quotes the retrieved "
        "articles never mention (off only to measure what the answerers say without it)"
    )
    compare_sources: bool = Field(
        True, description="say when the articles give different values (a number, a date, a person) for what is "
        "asked, each side with its outlet and date, or how many outlets agree (off only to measure it)"
    )
    verify_threshold: float = Field(
        0.48, description="support below which an answer sentence is flagged unsupported (set on hand-labelled "
        "answer sentences from RTQA dev runs: 96% agree with the labels at 0.46-0.50, 94% at 0.55)"
    )
    llm_abstain_threshold: float = Field(
        0.38, description="the LLM is not asked below this support; between it and abstain_threshold its refusal stands, and the "
        "extractive backend answers only when the best passage names every name of the question"
    )
    abstain_threshold: float = Field(
        0.48, description="extractive answers below this support score abstain (calibrated: qa bench calibrate)"
    )
    max_question_chars: int = Field(2000, gt=0)
    answer_sentences: int = Field(4, ge=1, le=5, description="most sentences in an extractive answer (one per contributing article, and close ones of the same passage)")

    # the browser chat (app.py)
    host: str = Field("127.0.0.1", description="address the chat UI listens on (loopback by default)")
    port: int = Field(7860, ge=1, le=65535, description="port of the chat UI")
    auth_user: str | None = Field(None, description="basic-auth user for the chat UI (set with auth_password)")
    auth_password: SecretStr | None = Field(None, description="basic-auth password for the chat UI")
    concurrency_limit: int = Field(
        16, ge=1, description="requests the chat UI works on at once (the rest queue); LLM answers among them take "
        "turns on the model, so this is set well above one: an extractive question never waits behind them")
    queue_size: int = Field(64, ge=1, description="most requests waiting in the chat UI's queue")
    upload_max_bytes: int = Field(2_000_000, gt=0, description="largest article the chat UI accepts")
    upload_max_files: int = Field(20, ge=1, description="most articles in one upload")

    # models and machine
    embed_model: Path | None = Field(None, description="sentence-transformers folder; unset = packaged MiniLM")
    embed_backend: Literal["onnx", "onnx-int8", "torch"] = Field(
        "onnx", description="how the embedder runs: ONNX Runtime at full precision (the model exported once "
        "into model_cache; the same vectors as torch, 1.8x as fast), ONNX with int8 weights (2.75x, slightly "
        "different vectors: see `qa bench embed`), or sentence-transformers on torch")
    threads: int = Field(max(1, os.cpu_count() or 1), ge=1)
    embed_batch: int = Field(64, ge=1)
    index_step: int = Field(
        1024, ge=1, description="chunks embedded, stored and recorded per step of a sync: a sync that dies loses at "
        "most one step"
    )

    @model_validator(mode="after")
    def _fits_embedder(self) -> "Settings":
        room = EMBEDDER_MAX_TOKENS - 2 - 1  # [CLS], [SEP] and the newline after the title
        if self.chunk_size + self.title_tokens > room:
            raise ValueError(
                f"chunk_size ({self.chunk_size}) + title_tokens ({self.title_tokens}) must be <= {room}: "
                "the embedder truncates longer input"
            )
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        if bool(self.auth_user) != bool(self.auth_password and self.auth_password.get_secret_value()):
            raise ValueError("auth_user and auth_password go together: set both or neither")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=config_file()))


def load_settings(**overrides) -> Settings:
    """Settings from env + TOML, with explicit overrides (None values are ignored)."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
