import shutil
from pathlib import Path

import pytest

from qa.chunking import chunk_document
from qa.config import EMBEDDER_MAX_TOKENS
from qa.corpus import collapse_ws, original_text, parse, without_removed as cut_removed
from qa.engine import Engine

from conftest import chroma_run

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def test_chunks_fit_the_embedder_and_point_into_files(embedder, settings_for):
    s = settings_for(SEEDS)
    for f in sorted(SEEDS.iterdir()):
        data = f.read_bytes()
        doc = parse(f.name, data)
        src = original_text(data)
        chunks = chunk_document(doc, embedder.count_tokens, s.chunk_size, s.chunk_overlap)
        assert chunks
        title = embedder.truncate(doc.title, s.title_tokens)
        for c in chunks:
            n = len(embedder.tokenizer.encode(c.embed_text(title)).ids)  # with [CLS] and [SEP]
            assert n <= EMBEDDER_MAX_TOKENS, (f.name, n)
            assert c.text == doc.text[c.clean_start:c.clean_end]
            assert collapse_ws(cut_removed(src, doc.removed, c.start, c.end)) == collapse_ws(c.text)
        # chunks cover the whole document, consecutive ones overlap or touch
        assert chunks[0].clean_start == 0 and chunks[-1].clean_end == len(doc.text)
        for a, b in zip(chunks, chunks[1:]):
            assert b.clean_start <= a.clean_end + 1


def test_long_sentence_is_split(embedder):
    doc = parse("long.txt", ("word " * 600 + "end.\n").encode())
    chunks = chunk_document(doc, embedder.count_tokens, 64, 8)
    assert len(chunks) >= 9
    assert all(len(embedder.count_tokens([c.text]) and c.text.split()) <= 64 for c in chunks)


def test_sync_is_incremental(seeds_copy, settings_for, embedder):
    engine = Engine(settings_for(seeds_copy), embedder)
    r1 = engine.sync()
    assert sorted(r1.added) == sorted(p.name for p in seeds_copy.iterdir())
    assert r1.chunks_added == r1.chunks_total > 0
    ids_before = {f["file"]: f for f in engine.index.files()}
    assert sum(f["chunks"] for f in ids_before.values()) == r1.chunks_total
    chunks_before = {f: engine.index.chunk_ids(f) for f in ids_before}

    r2 = engine.sync()
    assert not r2.changed and r2.chunks_added == 0 and len(r2.unchanged) == 5
    assert {f: engine.index.chunk_ids(f) for f in ids_before} == chunks_before

    # change one file: only its chunks are replaced
    changed = seeds_copy / "004_b7d7290862e495a3.txt"
    changed.write_text(changed.read_text() + "\nThe deal also covers lithium deposits near Shevchenko.\n")
    r3 = engine.sync()
    assert r3.updated == ["004_b7d7290862e495a3.txt"] and not r3.added and not r3.removed
    for f, ids in chunks_before.items():
        if f != "004_b7d7290862e495a3.txt":
            assert engine.index.chunk_ids(f) == ids
    new_ids = engine.index.chunk_ids("004_b7d7290862e495a3.txt")
    assert new_ids and set(new_ids).isdisjoint(chunks_before["004_b7d7290862e495a3.txt"])
    assert r3.chunks_removed == len(chunks_before["004_b7d7290862e495a3.txt"])
    answer = engine.ask("Which deposits near Shevchenko does the deal cover?")
    assert "lithium" in answer.text and answer.citations[0].file == "004_b7d7290862e495a3.txt"

    # delete a file: its chunks are gone, and search no longer returns it
    (seeds_copy / "001_fc8662c004b3d3bf.txt").unlink()
    r4 = engine.sync()
    assert r4.removed == ["001_fc8662c004b3d3bf.txt"]
    assert r4.chunks_removed == ids_before["001_fc8662c004b3d3bf.txt"]["chunks"]
    assert "001_fc8662c004b3d3bf.txt" not in engine.index.manifest()
    assert engine.index.chunk_ids("001_fc8662c004b3d3bf.txt") == []
    passages = engine.retrieve("What share of the world's critical raw materials does Ukraine hold?", k=10)
    assert all(p.file != "001_fc8662c004b3d3bf.txt" for p in passages)


def test_interrupted_sync_is_repaired(seeds_copy, settings_for, embedder):
    engine = Engine(settings_for(seeds_copy), embedder)
    engine.sync()
    f = "003_e735657bf45baaa7.txt"
    ids = engine.index.chunk_ids(f)
    # as if a sync died after storing some of this file's chunks but before its record
    engine.index.files_collection.delete(ids=[f])
    engine.index._delete_ids(ids[:2])
    r = engine.sync()
    assert r.added == [f] and r.chunks_removed == len(ids) - 2
    assert len(engine.index.chunk_ids(f)) == len(ids)
    assert not engine.sync().changed


def test_changed_chunk_settings_reindex_everything(seeds_copy, settings_for, embedder):
    Engine(settings_for(seeds_copy), embedder).sync()
    engine = Engine(settings_for(seeds_copy, chunk_size=96, chunk_overlap=16), embedder)
    r = engine.sync()
    assert len(r.updated) == 5 and r.chunks_added > 0
    assert not engine.sync().changed


def test_bad_files_do_not_stop_indexing(tmp_path, settings_for, embedder):
    corpus = tmp_path / "c"
    shutil.copytree(SEEDS, corpus)
    (corpus / "broken.txt").write_bytes(b"\x00\x01\x02binary")
    (corpus / "empty.md").write_bytes(b"")
    engine = Engine(settings_for(corpus), embedder)
    r = engine.sync()
    assert len(r.added) == 5
    assert {s.path for s in r.skipped} == {"broken.txt", "empty.md"}
    assert "skipped broken.txt: binary" in r.summary()


@pytest.fixture
def chroma_server(tmp_path, free_port):
    port = free_port()
    with chroma_run(tmp_path / "server_data", port):
        yield f"http://127.0.0.1:{port}"


@pytest.mark.server
def test_dense_search_explores_the_configured_candidates(seeds_copy, settings_for, embedder):
    """The HNSW search breadth is a setting, applied to a new collection and to one made before."""
    engine = Engine(settings_for(seeds_copy), embedder)
    engine.sync()
    assert engine.index.collection.configuration_json["hnsw"]["ef_search"] == engine.settings.hnsw_ef_search == 400
    again = Engine(settings_for(seeds_copy, hnsw_ef_search=150), embedder)
    assert again.index.collection.configuration_json["hnsw"]["ef_search"] == 150
    assert not again.sync().changed and again.retrieve("Ukraine raw materials")  # same data, still answering
    third = Engine(settings_for(seeds_copy, hnsw_ef_search=150), embedder)
    assert third.index.collection.configuration_json["hnsw"]["ef_search"] == 150


def test_same_sync_against_a_real_chroma_server(chroma_server, seeds_copy, settings_for, embedder, tmp_path):
    import chromadb

    engine = Engine(settings_for(seeds_copy, chroma_url=chroma_server), embedder)
    assert isinstance(engine.index.client, chromadb.api.client.Client) or engine.index.client is not None
    r1 = engine.sync()
    assert len(r1.added) == 5 and r1.chunks_total > 0
    # nothing embedded locally: only the lexical index is kept here (the server has no place for it)
    engine.retriever.flush()
    lexical = engine.retriever.lexical_path
    assert sorted(p.name for p in (tmp_path / "index").iterdir()) == [lexical.name, lexical.with_suffix(".state").name]
    assert not engine.sync().changed
    (seeds_copy / "002_d89352816586c04e.txt").unlink()
    r3 = engine.sync()
    assert r3.removed == ["002_d89352816586c04e.txt"]
    answer = engine.ask("What share of the world's critical raw materials does Ukraine hold?")
    assert "5%" in answer.text and answer.citations[0].file == "001_fc8662c004b3d3bf.txt"
    # a second client sees the same data through the server
    other = Engine(settings_for(seeds_copy, chroma_url=chroma_server), embedder)
    assert other.index.count() == engine.index.count()


def test_unreachable_chroma_server_is_a_clear_error(seeds_copy, settings_for, embedder, free_port):
    engine = Engine(settings_for(seeds_copy, chroma_url=f"http://127.0.0.1:{free_port()}"), embedder)
    with pytest.raises(ConnectionError, match="QA_CHROMA_URL"):
        engine.sync()


def test_article_metadata_from_a_sidecar_front_matter_and_meta_tags(seeds_copy, settings_for, embedder):
    """The sidecar's rows, a Markdown article's front matter and an HTML page's meta tags reach the index;
    bad rows are reported per file and lose nothing; a change to the sidecar alone re-records the article's
    metadata without re-embedding it."""
    import json

    rows = [{"file": "000_eb52613fceb0bc2a.txt", "title": "Trump signals a possible meeting with Zelensky",
             "published_at": "2025-02-08", "source": "Kyiv Independent", "authors": ["Ann Lee"]},
            {"file": "001_fc8662c004b3d3bf.txt", "published_at": "not a date", "source": "Euronews"},
            {"file": "missing.txt", "source": "X"}]
    sidecar = seeds_copy / "metadata.jsonl"
    sidecar.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (seeds_copy / "note.md").write_text("---\ntitle: Minerals deal explained\ndate: 2025-02-10\nsource: Example "
                                        "News\n---\n# Minerals deal explained\n\nUkraine and the U.S. discussed a "
                                        "minerals deal in Kyiv on Monday, officials said.\n")
    (seeds_copy / "page.html").write_text(
        '<html><head><title>Kellogg visit</title><meta property="article:published_time" content="2025-02-20T09:00:00Z">'
        '<meta property="og:site_name" content="Example Wire"></head><body><p>Keith Kellogg visited Kyiv on '
        'Thursday for talks with Ukrainian officials about the minerals deal.</p></body></html>')
    engine = Engine(settings_for(seeds_copy), embedder)
    r1 = engine.sync()
    assert "metadata.jsonl" not in r1.added + [s.path for s in r1.skipped]  # metadata, not an article
    assert len(r1.added) == 7
    files = {f["file"]: f for f in engine.status()["articles"]}
    a = files["000_eb52613fceb0bc2a.txt"]
    assert (a["title"], a["date"], a["outlet"], a["authors"]) == (
        "Trump signals a possible meeting with Zelensky", "2025-02-08", "Kyiv Independent", ["Ann Lee"])
    assert (files["001_fc8662c004b3d3bf.txt"]["outlet"], files["001_fc8662c004b3d3bf.txt"]["date"]) == ("Euronews", None)
    assert (files["note.md"]["date"], files["note.md"]["outlet"]) == ("2025-02-10", "Example News")
    assert (files["page.html"]["date"], files["page.html"]["outlet"]) == ("2025-02-20", "Example Wire")
    assert any("not a date" in p for p in r1.problems["001_fc8662c004b3d3bf.txt"])
    assert any("missing.txt" in p for p in r1.problems["metadata.jsonl"])

    chunks = engine.index.chunk_ids("000_eb52613fceb0bc2a.txt")
    assert not engine.sync().metadata_updated  # nothing changed
    sidecar.write_text(sidecar.read_text().replace("2025-02-08", "2025-02-09"))
    r3 = engine.sync()
    assert r3.metadata_updated == ["000_eb52613fceb0bc2a.txt"] and r3.chunks_added == 0 and not r3.changed
    assert engine.index.chunk_ids("000_eb52613fceb0bc2a.txt") == chunks
    assert {f["file"]: f for f in engine.status()["articles"]}["000_eb52613fceb0bc2a.txt"]["date"] == "2025-02-09"

    # citations say who published the article and when (the metadata change included)
    a = engine.ask("Where did Trump suggest a meeting with Zelensky would take place?", backend="extractive")
    cited = {c.file: c for c in a.citations}
    c = cited["000_eb52613fceb0bc2a.txt"]
    assert (c.outlet, c.date) == ("Kyiv Independent", "2025-02-09")
    assert c.source() == "Kyiv Independent, 2025-02-09 · 000_eb52613fceb0bc2a.txt"
    assert a.to_dict()["citations"][0]["outlet"] == a.citations[0].outlet


# -- the lexical index, kept between runs -----------------------------------------------------------------
LEX_QUESTIONS = ["What share of the world's critical raw materials does Ukraine hold?",
                 "Which deposits near Shevchenko does the deal cover?", "harbour piers storm Zorblatt"]


def _matches_a_fresh_build(engine):
    """The engine's lexical index holds exactly the index's chunks and scores like one built from scratch."""
    from qa.retrieve import LexicalIndex

    lex = engine.retriever.lexical
    ids, docs, metas = engine.index.all_chunks()
    fresh = LexicalIndex(ids, docs, metas)
    assert sorted(zip(lex.ids, lex.docs)) == sorted(zip(ids, docs))
    assert {i: m for i, m in zip(lex.ids, lex.meta)} == dict(zip(ids, metas))
    assert lex.df == fresh.df and lex.files == fresh.files and lex.state == engine.index.state()[0]
    assert lex.vocab_df == fresh.vocab_df
    for q in LEX_QUESTIONS:  # the same scores; chunks of equal score may come in another order
        got = [(lex.ids[i], round(s, 5)) for i, s in lex.search(q, 15)]
        want = [(fresh.ids[i], round(s, 5)) for i, s in fresh.search(q, 15)]
        assert [s for _, s in got] == [s for _, s in want]
        cut = want[-1][1] if want else 0
        assert {i for i, s in got if s > cut} == {i for i, s in want if s > cut}
        assert lex.search_articles(q, 5) == fresh.search_articles(q, 5)
    return lex


def test_lexical_index_is_kept_and_follows_every_change(seeds_copy, settings_for, embedder):
    engine = Engine(settings_for(seeds_copy), embedder)
    engine.sync()
    engine.ask(LEX_QUESTIONS[0])
    path = engine.retriever.lexical_path
    engine.retriever.flush()  # saved in the background
    assert path.exists()
    _matches_a_fresh_build(engine)
    saved = path.stat().st_mtime_ns

    # a new process (engine) reads it instead of building it: the file is not written again
    again = Engine(settings_for(seeds_copy), embedder)
    assert "5%" in again.ask(LEX_QUESTIONS[0]).text
    assert path.stat().st_mtime_ns == saved
    _matches_a_fresh_build(again)

    # an article added, one rewritten to the same length (the same number of chunks), one removed: after
    # each sync the kept index is the index as it is, and the saved file follows
    (seeds_copy / "zorblatt.txt").write_text("Zorblatt harbour reopens\n\nThe storm damaged 14 piers in Zorblatt "
                                             "harbour, the port authority said on Monday.\n")
    engine.sync()
    assert engine.retrieve(LEX_QUESTIONS[2], k=1)[0].file == "zorblatt.txt"
    _matches_a_fresh_build(engine)
    f = seeds_copy / "004_b7d7290862e495a3.txt"
    chunks = len(engine.index.chunk_ids(f.name))
    f.write_text(f.read_text().replace("Bessent", "Cobaltx"))
    assert engine.sync().updated == [f.name] and len(engine.index.chunk_ids(f.name)) == chunks
    lex = _matches_a_fresh_build(engine)
    assert "cobaltx" in lex.df and "bessent" not in lex.df
    (seeds_copy / "001_fc8662c004b3d3bf.txt").unlink()
    engine.sync()
    _matches_a_fresh_build(engine)
    assert "001_fc8662c004b3d3bf.txt" not in engine.retriever.lexical.files

    # the saved file is older than the index (as when a sync could not write it): it is refreshed, not trusted
    engine.retriever.flush()
    older = path.read_bytes()
    (seeds_copy / "zorblatt.txt").unlink()
    engine.sync()
    engine.retriever.flush()
    path.write_bytes(older)
    third = Engine(settings_for(seeds_copy), embedder)
    lex = _matches_a_fresh_build(third)
    assert "zorblatt.txt" not in lex.files and "zorblatt" not in lex.vocab
    third.retriever.flush()
    assert path.read_bytes() != older  # and saved again


def test_damaged_lexical_file_is_rebuilt(seeds_copy, settings_for, embedder, caplog):
    engine = Engine(settings_for(seeds_copy), embedder)
    engine.sync()
    engine.ask(LEX_QUESTIONS[0])
    path = engine.retriever.lexical_path
    engine.retriever.flush()
    path.write_bytes(b"\x80\x05not a pickle at all")
    fresh = Engine(settings_for(seeds_copy), embedder)
    assert "5%" in fresh.ask(LEX_QUESTIONS[0]).text
    assert "unreadable" in caplog.text
    _matches_a_fresh_build(fresh)
    from qa.retrieve import LexicalIndex

    fresh.retriever.flush()
    assert LexicalIndex.load(path) is not None  # written again, whole
