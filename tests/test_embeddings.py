"""The encoder (real MiniLM) and VectorIndex (real FAISS) for every index type it can pick."""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import embeddings.encoder as encoder_module
import embeddings.index as index_module
from embeddings import Encoder, VectorIndex, VectorIndexError, ivf, screen
from embeddings.buckets import batch, bucket_length
from embeddings.encoder import Folder, bf16_supported, packaged_model_path, token_counter
from embeddings.int8 import int8_supported
from embeddings.threads import BURST, EXPLORE, ThreadChooser

TEXTS = [
    "US President Joe Biden and Vladimir Putin exchanged warnings in a call about Ukraine.",
    "The central bank raised interest rates by a quarter point on Wednesday.",
    "Heavy snow closed schools across the north of the country.",
    "A short one.",
    "The committee confirmed the nominee after the vice president cast a tie-breaking vote " * 6,
]


@pytest.fixture(scope="module")
def fp32() -> Encoder:
    return Encoder(precision="fp32")


def test_encoder_returns_normalised_float32_of_its_dimension(fp32: Encoder) -> None:
    vectors = fp32.encode_passages(TEXTS)
    assert vectors.dtype == np.float32 and vectors.shape == (len(TEXTS), fp32.dim) and fp32.dim == 384
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    query = fp32.encode_query(TEXTS[1])
    assert query.shape == (fp32.dim,) and query.dtype == np.float32
    # Batching sorts by length; each vector must still land in its text's row.
    assert float(query @ vectors[1]) > 0.999
    assert fp32.encode_passages([]).shape == (0, fp32.dim)


def test_count_tokens_counts_word_pieces(fp32: Encoder) -> None:
    counts = fp32.count_tokens(["hello world", ""])
    assert counts == [2, 0]


@pytest.mark.skipif(not bf16_supported(), reason="this CPU has no native bf16 (AVX512-BF16 or AMX)")
def test_bf16_agrees_with_fp32(fp32: Encoder) -> None:
    bf16 = Encoder(precision="bf16")
    assert bf16.precision == "bf16"
    cosines = np.sum(bf16.encode_passages(TEXTS) * fp32.encode_passages(TEXTS), axis=1)
    assert cosines.min() >= 0.99, cosines
    assert cosines.mean() >= 0.999, cosines


QUERIES = [
    "Biden warns Putin over Ukraine in phone call",
    "Central bank raises interest rates again",
    "Who won the Senate runoff in Georgia?",
    "snow",
]


@functools.cache
def st_model(precision: str) -> Any:
    """The model as sentence-transformers loads it (its transformer in bf16 unless fp32), for references."""
    model = Encoder(precision=precision, loader="sentence-transformers")._model
    assert model is not None
    return model


def st_reference(encoder: Encoder, texts: list[str]) -> np.ndarray:
    """sentence-transformers' own vectors; in bf16 its token vectors pooled in fp32, as Encoder pools
    (its encode() would average in bf16, which is 0.998 from fp32 on its own)."""
    if encoder.precision == "fp32":
        return np.asarray(st_model("fp32").encode(texts, normalize_embeddings=True), dtype=np.float32)
    tokens = st_model(encoder.precision).encode(texts, output_value="token_embeddings")
    pooled = np.stack([t.float().mean(0).numpy() for t in tokens])
    return pooled / np.linalg.norm(pooled, axis=1, keepdims=True)


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_packed_bert_gives_sentence_transformers_vectors(precision: str, fp32: Encoder) -> None:
    if precision == "bf16" and not bf16_supported():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16 or AMX)")
    encoder = fp32 if precision == "fp32" else Encoder(precision="bf16")
    assert encoder._fast is not None, "MiniLM is a BERT: encode_query must take the PackedBert path"
    reference = st_reference(encoder, QUERIES)
    fast = np.stack([encoder.encode_query(q) for q in QUERIES])
    assert np.sum(fast * reference, axis=1).min() >= 0.9999
    batch = encoder.encode_queries(QUERIES + TEXTS)  # padded batches take the mask
    assert np.sum(batch * st_reference(encoder, QUERIES + TEXTS), axis=1).min() >= 0.9999
    # One query after a padded batch is not padded, and one past the model's window is cut like a batch's.
    long = " ".join(TEXTS * 20)
    again = np.stack([encoder.encode_query(q) for q in [*QUERIES, long]])
    assert np.sum(again * encoder.encode_queries([*QUERIES, long]), axis=1).min() >= 0.9999
    # The check can fail: the same forward one layer short is still a plausible vector, but not this one.
    layers = encoder._fast.layers
    try:
        encoder._fast.layers = layers[:-1]
        short = np.stack([encoder.encode_query(q) for q in QUERIES])
    finally:
        encoder._fast.layers = layers
    assert np.sum(short * reference, axis=1).min() < 0.9999


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_model_folder_read_directly_gives_sentence_transformers_bits(precision: str, fp32: Encoder) -> None:
    """The packaged MiniLM is read from its folder (safetensors, tokenizer.json) without
    sentence-transformers; every vector, span vector and count is the same bits as through it."""
    if precision == "bf16" and not bf16_supported():
        pytest.skip("this CPU has no native bf16 (AVX512-BF16 or AMX)")
    light = fp32 if precision == "fp32" else Encoder(precision="bf16")
    st = Encoder(precision=precision, loader="sentence-transformers")
    assert light._model is None and st._model is not None and light._fast is not None and st._fast is not None
    texts = [*TEXTS, "naïve café, “quoted” ½ 東京 🎉", " ".join(TEXTS * 40)]  # accents, symbols, past 256 pieces
    spans = [[(0, len(t) // 3), (len(t) // 3, len(t))] for t in texts]
    for a, b in zip(light.encode_with_spans(texts, spans), st.encode_with_spans(texts, spans), strict=True):
        assert np.array_equal(a, b)
    assert np.array_equal(np.stack([light.encode_query(q) for q in QUERIES]), np.stack([st.encode_query(q) for q in QUERIES]))
    assert light.count_tokens(texts) == st.count_tokens(texts) == token_counter(None)(texts)
    assert light.count_tokens(texts)[-1] > light.max_tokens == st.max_tokens == 256  # counted whole, encoded cut
    assert (light.dim, light.precision) == (st.dim, st.precision)


def test_reading_the_model_folder_imports_neither_transformers_nor_sentence_transformers() -> None:
    code = (
        "import sys; from embeddings import Encoder; e = Encoder(precision='fp32'); e.encode_query('snow');"
        "from embeddings.encoder import token_counter; token_counter(None)(['snow']);"
        "print(sorted(m for m in ('transformers', 'sentence_transformers', 'sklearn') if m in sys.modules))"
    )
    root = Path(__file__).parent.parent
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_folders_of_another_shape_go_through_sentence_transformers(tmp_path: Path) -> None:
    model = Path(packaged_model_path())
    assert Folder.read(str(model)) is not None
    for name in ("config.json", "modules.json", "sentence_bert_config.json", "model.safetensors", "tokenizer.json"):
        (tmp_path / name).symlink_to(model / name)
    (tmp_path / "1_Pooling").mkdir()
    pooling = json.loads((model / "1_Pooling" / "config.json").read_text())
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    assert Folder.read(str(tmp_path)) is not None
    cls = pooling | {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True}
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(cls))
    assert Folder.read(str(tmp_path)) is None  # CLS pooling: not PackedBert's
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    (tmp_path / "tokenizer.json").unlink()
    assert Folder.read(str(tmp_path)) is None  # no Rust tokenizer file
    assert Folder.read(str(tmp_path / "missing")) is None
    # The right shape, but weights under other names: sentence-transformers reads it instead.
    import torch
    from safetensors.torch import save_file

    (tmp_path / "model.safetensors").unlink()
    save_file({"encoder.weight": torch.zeros(2)}, str(tmp_path / "model.safetensors"))
    (tmp_path / "tokenizer.json").symlink_to(model / "tokenizer.json")
    odd = Folder.read(str(tmp_path))
    assert odd is not None and odd.packed("fp32") is None


def test_span_vectors_are_the_mean_of_the_token_vectors_inside_each_span(fp32: Encoder) -> None:
    text = "Heavy snow closed schools in the north. The central bank raised rates on Wednesday. Short."
    spans = [(0, 39), (40, 83), (84, 90)]
    one, plain = fp32.encode_with_spans([text, TEXTS[0]], [spans, []])
    assert one.shape == (4, fp32.dim) and plain.shape == (1, fp32.dim)
    assert np.allclose(one[0], fp32.encode_passages([text])[0], atol=1e-6)  # row 0 is the passage's vector
    assert np.allclose(plain[0], fp32.encode_passages([TEXTS[0]])[0], atol=1e-6)
    # By hand from sentence-transformers' own token vectors and the tokenizer's character offsets:
    tokens = st_model("fp32").encode([text], output_value="token_embeddings")[0].float().numpy()
    offsets = st_model("fp32").tokenizer(text, return_offsets_mapping=True)["offset_mapping"]
    for row, (a, b) in enumerate(spans, start=1):
        inside = [i for i, (s, e) in enumerate(offsets) if e > s and s >= a and e <= b]
        assert inside and 0 not in inside and len(offsets) - 1 not in inside  # never [CLS] or [SEP]
        mean = tokens[inside].mean(0)
        assert float(one[row] @ (mean / np.linalg.norm(mean))) >= 0.9999
    # Each sentence's vector is nearer a question about that sentence than the passage's vector is.
    bank = fp32.encode_query("central bank interest rate rise")
    assert float(one[2] @ bank) > float(one[0] @ bank) > float(one[1] @ bank)
    with pytest.raises(ValueError, match="2 texts but 1 span lists"):
        fp32.encode_with_spans([text, text], [spans])


@pytest.fixture(scope="module")
def encoders(fp32: Encoder) -> dict[str, Encoder]:
    return {"fp32": fp32, **({"bf16": Encoder(precision="bf16")} if bf16_supported() else {})}


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_passage_gets_the_same_bits_whatever_shares_its_batch(
    encoders: dict[str, Encoder], precision: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What lets an index synced bit by bit equal a fresh build: alone, among texts of its own length
    (a full pass or a filled one), in another order, beside a text ten times longer, on one thread
    or two, a passage's vectors are the same bits."""
    if precision not in encoders:
        pytest.skip("this CPU has no native bf16 (AVX512-BF16 or AMX)")
    enc = encoders[precision]
    # 19 texts, most of one bucket (neighbours that fill each other's passes), a few of others.
    texts = [f"{t} Item {i} of the list." for i, t in enumerate(TEXTS * 3)] + [
        f"{TEXTS[1]} Rates rose {i} times this year, said the governor." for i in range(4)
    ]
    spans = [[(0, len(t) // 2)] for t in texts]
    assert enc.tokens is not None
    lengths = [len(r) for r in enc.tokens.ids(texts)]
    step, rows = enc.bucket_step, enc.bucket_rows
    same = [i for i, n in enumerate(lengths) if bucket_length(n, step) == bucket_length(lengths[5], step)]
    assert len(same) > rows, (same, rows)
    same = same[: rows + 1]  # one full pass and one filled with copies of its row
    monkeypatch.setattr(enc, "threads_now", lambda: 2)
    together = enc.encode_with_spans(texts, spans)
    monkeypatch.setattr(enc, "threads_now", lambda: 1)
    backwards = enc.encode_with_spans(texts[::-1], spans[::-1])[::-1]
    neighbours = enc.encode_with_spans([texts[i] for i in same[::-1]], [spans[i] for i in same[::-1]])[::-1]
    for i in range(len(texts)):
        assert np.array_equal(backwards[i], together[i]), (precision, i, np.abs(backwards[i] - together[i]).max())
    for k, i in enumerate(same):
        assert np.array_equal(neighbours[k], together[i]), (precision, i)
    for i in (0, 3, 5, 16, len(texts) - 1):
        alone = enc.encode_with_spans([texts[i]], [spans[i]])[0]
        assert np.array_equal(alone, together[i]), (precision, i, np.abs(alone - together[i]).max())
        beside = enc.encode_with_spans([texts[i], TEXTS[4]], [spans[i], []])[0]
        assert np.array_equal(beside, together[i]), (precision, i)
    assert np.array_equal(enc.encode_passages(texts[:1]), enc.encode_passages(texts[:2])[:1])


@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_a_row_of_every_pass_shape_is_the_same_bits_whatever_the_other_rows_and_threads(
    encoders: dict[str, Encoder], precision: str
) -> None:
    """The property the encoder's buckets rest on, for every shape they give on this CPU: oneDNN
    picks kernels by shape and thread count, and (rows 4, 112 word pieces, bf16) one thread and two
    gave different bits, which a test of a few texts would miss."""
    import torch

    if precision not in encoders:
        pytest.skip("this CPU has no native bf16 (AVX512-BF16 or AMX)")
    enc = encoders[precision]
    step, rows = enc.bucket_step, enc.bucket_rows
    assert enc._fast is not None and rows > 1
    rng = np.random.default_rng(0)

    def row(n: int) -> list[int]:
        return [101, *rng.integers(1000, 29000, n - 2).tolist(), 102]

    threads = torch.get_num_threads()
    try:
        for length in range(step, enc.max_tokens + 1, step):
            target = row(max(3, length - step // 2))
            seen = []
            for k, count in enumerate((1, 2, 2, 1)):
                torch.set_num_threads(count)
                others = [row(int(rng.integers(max(3, length - step + 1), length + 1))) for _ in range(rows - 1)]
                at = k % rows
                with torch.inference_mode():
                    tokens = enc._fast(*batch([*others[:at], target, *others[at:]], length, rows, 0))
                seen.append(tokens[at, : len(target)].float().numpy())
            assert all(np.array_equal(seen[0], s) for s in seen[1:]), (precision, length)
    finally:
        torch.set_num_threads(threads)


def test_thread_chooser_uses_both_cores_until_one_thread_would_be_faster() -> None:
    chooser = ThreadChooser(2)
    speed = {1: 3.5e-4, 2: 2.4e-4}  # seconds per word piece: the second core is free

    def run(n: int) -> list[int]:
        picks = []
        for _ in range(n):
            threads = chooser.pick()
            picks.append(threads)
            chooser.record(threads, speed[threads] * 15, 15)
        return picks

    assert run(200) == [2] * 200  # a quiet machine: never a query on one thread
    speed[2] = 6.9e-4  # another process takes the second core
    busy = run(100)
    assert busy[:1] == [2] and busy[-20:].count(1) >= 16  # falls back within a few questions
    assert 2 in busy[10:]  # and keeps checking whether the second core is free again
    speed[2] = 2.4e-4  # it is: back on both within one burst
    assert run(EXPLORE + 2 * BURST)[-BURST:] == [2] * BURST


def test_thread_chooser_skips_a_bursts_wake_up() -> None:
    chooser = ThreadChooser(2)
    chooser.current, chooser.count, chooser.cost, chooser.best = 1, EXPLORE - 1, {1: 3.5e-4, 2: 9e-4}, 2.4e-4
    assert chooser.pick() == 2  # a burst starts
    chooser.record(2, 1.0, 1)  # threads idle a while wake slowly: not counted
    assert chooser.cost[2] == 9e-4


def test_a_query_beside_another_in_flight_takes_one_thread(fp32: Encoder, monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    used: list[int] = []
    original = torch.set_num_threads
    monkeypatch.setattr(torch, "set_num_threads", lambda n: used.append(n) or original(n))
    reference = fp32.encode_query(QUERIES[0])
    monkeypatch.setattr(fp32.query_threads, "pick", lambda: 2)
    for in_flight, expected in ((0, 2), (1, 1)):
        fp32._queries = in_flight  # another question being encoded on another thread
        used.clear()
        vector = fp32.encode_query(QUERIES[0])
        assert used == [expected], in_flight
        assert float(vector @ reference) > 0.9999  # the thread count changes the speed, not the vector
    fp32._queries = 0


def test_precisions_fall_back_to_what_this_cpu_runs_natively(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Encoder.resolve_precision("auto") == ("bf16" if bf16_supported() else "fp32")
    native_int8 = bf16_supported() and int8_supported()
    assert Encoder.resolve_precision("int8") == ("int8" if native_int8 else Encoder.resolve_precision("auto"))
    assert Encoder.resolve_precision("fp32") == "fp32"
    with pytest.raises(ValueError, match="precision"):
        Encoder.resolve_precision("fp8")
    # Without native int8, int8 (asked for or auto) falls back to bf16; without bf16, all to fp32.
    monkeypatch.setattr(encoder_module, "bf16_supported", lambda: True)
    monkeypatch.setattr(encoder_module, "int8_supported", lambda: False)
    assert [Encoder.resolve_precision(p) for p in ("auto", "int8", "bf16")] == ["bf16", "bf16", "bf16"]
    monkeypatch.setattr(encoder_module, "int8_supported", lambda: True)
    assert [Encoder.resolve_precision(p) for p in ("auto", "int8", "bf16")] == ["bf16", "int8", "bf16"]
    monkeypatch.setattr(encoder_module, "bf16_supported", lambda: False)
    assert [Encoder.resolve_precision(p) for p in ("auto", "int8", "bf16")] == ["fp32", "fp32", "fp32"]


@pytest.mark.skipif(not (bf16_supported() and int8_supported()), reason="this CPU has no native int8 and bf16")
def test_int8_passages_agree_with_fp32_and_queries_stay_bf16(fp32: Encoder) -> None:
    int8, bf16 = Encoder(precision="int8"), Encoder(precision="bf16")
    assert int8.precision == "int8"
    passages = int8.encode_passages(TEXTS)
    cosines = np.sum(passages * fp32.encode_passages(TEXTS), axis=1)
    assert cosines.min() >= 0.995 and cosines.mean() >= 0.998, cosines
    # Each query finds the same passage first as in fp32.
    queries = fp32.encode_queries(QUERIES[:2])
    assert (queries @ passages.T).argmax(1).tolist() == (queries @ fp32.encode_passages(TEXTS).T).argmax(1).tolist() == [0, 1]
    # The int8 model really runs for passages (not bf16 under another name) ...
    assert int8._int8 is not None and np.sum(passages * bf16.encode_passages(TEXTS), axis=1).min() < 0.99999
    # ... and never for queries: one or many, they are bf16's vectors.
    one = np.stack([int8.encode_query(q) for q in QUERIES])
    assert np.sum(one * bf16.encode_queries(QUERIES), axis=1).min() >= 0.99999
    assert np.sum(one * int8.encode_queries(QUERIES), axis=1).min() >= 0.99999
    # Span vectors come from the same int8 forward as their passage's row 0.
    rows = int8.encode_with_spans(TEXTS[:1], [[(0, 30)]])[0]
    assert float(rows[0] @ int8.encode_passages(TEXTS[:1])[0]) >= 0.99999 and rows.shape == (2, int8.dim)


def clustered(n: int, dim: int = 32, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, dim)).astype(np.float32)
    x = centres[rng.integers(0, 40, n)] + 0.5 * rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(params=["flat", "ivf", "ivfpq"])
def kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Pick the index type by the size thresholds, as a large corpus or a small machine would."""
    if request.param != "flat":
        monkeypatch.setattr(index_module, "FLAT_MAX_BYTES", 64_000)
    if request.param == "ivfpq":
        monkeypatch.setattr(ivf, "MEMORY_SHARE", 0.0)
    return str(request.param)


def test_add_remove_search_save_load_round_trip(kind: str, tmp_path) -> None:
    vectors = clustered(3000)
    ids = np.arange(3000, dtype=np.int64) * 3 + 11  # the caller's ids, not positions
    index = VectorIndex(32)
    index.add(ids[:2000], vectors[:2000])
    index.add(ids[2000:], vectors[2000:])
    assert index.kind == kind and len(index) == 3000
    if kind == "ivf":  # float16 codes, as the exact index holds: half of IVFFlat's memory, the same ranking
        assert ivf.faiss.extract_index_ivf(index._index).code_size == 2 * 32
        np.testing.assert_allclose(index.reconstruct(int(ids[7])), vectors[7], atol=1e-3)

    scores, found = index.search(vectors[:5], 3)
    if kind == "ivfpq":  # 4-byte codes are approximate: a vector finds itself near the top
        assert sum(i in row for i, row in zip(ids[:5], found, strict=True)) >= 4
    else:
        assert list(found[:, 0]) == list(ids[:5])  # each vector finds itself first
    assert scores.shape == (5, 3)

    assert index.stored(ids[95:105]).tolist() == sorted(ids[95:105])
    assert index.remove(ids[:100]) == 100 and len(index) == 2900
    _, found = index.search(vectors[:100], 10)
    assert not set(found.ravel()) & set(ids[:100])
    # `stored` keeps the ids present now (removed ones and ones never added drop out), sorted
    assert index.stored(np.array([ids[105], ids[99], 12, ids[101]])).tolist() == sorted([ids[101], ids[105]])

    _, found = index.search(vectors[500:503], 5, allowed_ids=ids[1000:1050])
    assert set(found.ravel()) <= set(ids[1000:1050])

    path = tmp_path / "vectors.faiss"
    index.save(path)
    loaded = VectorIndex.load(path)
    assert loaded.kind == kind and len(loaded) == 2900
    assert loaded.metadata()["count"] == 2900 and '"kind"' in path.with_suffix(".json").read_text()
    np.testing.assert_array_equal(loaded.search(vectors[200:210], 5)[1], index.search(vectors[200:210], 5)[1])
    np.testing.assert_allclose(loaded.reconstruct(int(ids[200])), index.reconstruct(int(ids[200])), atol=1e-6)
    # many at once, repeats and any order included, as one at a time
    some = [int(i) for i in (ids[300], ids[120], ids[300], ids[2999])]
    np.testing.assert_array_equal(loaded.reconstruct_many(some), np.stack([loaded.reconstruct(i) for i in some]))
    assert loaded.reconstruct_many([]).shape == (0, 32)
    assert loaded.remove(ids[100:110]) == 10 and len(loaded) == 2890
    stored, _ = loaded.items()
    assert sorted(stored) == sorted(ids[110:])
    assert not list(tmp_path.glob("*.tmp"))


def test_ivf_recall_at_10_meets_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "FLAT_MAX_BYTES", 64_000)
    data = clustered(5200, dim=64, seed=1)
    vectors, queries = data[:5000], data[5000:]  # queries: unseen, from the same distribution
    index = VectorIndex(64)
    index.add(np.arange(5000), vectors)
    exact = vectors @ queries.T
    truth = np.argsort(-exact, axis=0)[:10].T
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found, strict=True)])
    assert recall >= 0.95, (recall, index.metadata())


def test_tune_nprobe_picks_the_smallest_depth_reaching_the_target() -> None:
    vectors = clustered(6000, dim=64, seed=2)
    ids = np.arange(6000, dtype=np.int64) * 2
    index = ivf.build(ids, vectors)
    nprobe = ivf.tune_nprobe(index, ids, vectors, np.random.default_rng(5))
    queries = ivf.tuning_queries(vectors, np.random.default_rng(5))  # the queries tune_nprobe drew
    _, truth = index_module.faiss.knn(queries, vectors, 10, index_module.faiss.METRIC_INNER_PRODUCT)

    def recall(depth: int) -> float:
        index.nprobe = depth
        found = index.search(queries, 10)[1]
        return float(np.mean([len(set(ids[t]) & set(f)) / 10 for t, f in zip(truth, found, strict=True)]))

    wanted = ivf.TARGET_RECALL + ivf.MARGIN
    assert 1 < nprobe < index.nlist and recall(nprobe) >= wanted > recall(nprobe - 1)


def test_flat_index_is_exact_over_float16_and_sized_by_bytes() -> None:
    vectors = clustered(3000, dim=64, seed=3)
    queries = clustered(20, dim=64, seed=4)
    index = VectorIndex(64)
    index.add(np.arange(3000), vectors)
    assert index.kind == "flat" and len(index) <= index_module.flat_max(64)
    exact = queries @ vectors.T
    scores, found = index.search(queries, 10)
    truth = np.argsort(-exact, axis=1)[:, :10]
    # float16 codes move a cosine by ~1e-4 at most: the same ranking but for near-ties
    assert np.abs(scores - np.take_along_axis(exact, found, axis=1)).max() < 1e-3
    assert np.mean([len(set(t) & set(f)) for t, f in zip(truth, found, strict=True)]) >= 9.9
    assert np.abs(index.items()[1] - vectors).max() < 1e-3  # stored at half the bytes of float32
    # twice the dimensions, half the vectors: the budget is bytes scanned a question
    assert index_module.flat_max(768) * 2 == index_module.flat_max(384) > 150_000


def full_scan(
    index: VectorIndex, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Every stored vector scored against every query (float32 dot products of the stored codes), ties by id."""
    ids, vectors = index.items()
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, vectors = ids[keep], vectors[keep]
    scores = queries @ vectors.T
    order = np.array([np.lexsort((ids, -row))[:k] for row in scores])
    return np.take_along_axis(scores, order, axis=1), ids[order]


def assert_same_up_to_ties(got: tuple[np.ndarray, np.ndarray], want: tuple[np.ndarray, np.ndarray], tie: float = 1e-6) -> None:
    """The same score at every place, and the same id but where that score ties another (sums in another order)."""
    np.testing.assert_allclose(got[0], want[0], atol=tie)
    for scores, found, wanted in zip(want[0], got[1], want[1], strict=True):
        for place in np.flatnonzero(found != wanted):
            assert np.sum(np.abs(scores - scores[place]) <= tie) > 1, (place, found[place], wanted[place])


def test_the_screen_returns_what_a_full_scan_of_the_exact_codes_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(screen, "SCREEN_MIN", 1000)  # screened from 1,000 vectors, not from 32k: a test-sized index
    rng = np.random.default_rng(8)
    # 384 dimensions as the model's, in tight clusters (cosines ~0.97 within one): the 4-bit codes'
    # rounding matters most where many vectors score nearly alike
    centres = rng.standard_normal((30, 384)).astype(np.float32)
    vectors = centres[rng.integers(0, 30, 6000)] + 0.15 * rng.standard_normal((6000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    queries = vectors[rng.integers(0, 6000, 25)] + 0.3 * rng.standard_normal((25, 384)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    ids = rng.permutation(10**6)[:6000].astype(np.int64)
    index = VectorIndex(384)
    index.add(ids, vectors)
    assert index.kind == "flat"
    index.warm()
    assert index._screen is not None
    for k in (1, 10, 400, 5990):
        assert_same_up_to_ties(index.search(queries, k), full_scan(index, queries, k))
    allowed = np.sort(ids[rng.permutation(6000)[:700]])
    assert_same_up_to_ties(index.search(queries, 50, allowed_ids=allowed), full_scan(index, queries, 50, allowed))
    _, found = index.search(queries[:1], 5, allowed_ids=np.array([ids[3], 10**7]))  # one stored id allowed, one unknown
    assert found[0].tolist() == [ids[3], -1, -1, -1, -1]

    # a change drops the screen: a vector added later, with a component larger than any before, and removals
    spike = np.zeros((1, 384), np.float32)
    spike[0, 7] = 1.0
    index.add(np.array([10**6 + 1]), spike)
    index.remove(ids[:3000])
    assert index.search(spike, 1)[1][0, 0] == 10**6 + 1
    assert_same_up_to_ties(index.search(queries, 20), full_scan(index, queries, 20))
    assert not set(index.search(queries, 20)[1].ravel()) & set(ids[:3000]) and index._screen is not None


def test_older_indexes_load_and_an_ivf_below_the_flat_size_turns_exact_on_its_next_change(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors = clustered(3000, seed=6)
    old_flat = index_module.faiss.IndexIDMap2(index_module.faiss.IndexFlatIP(32))  # float32: an index from before the float16 one
    old_flat.add_with_ids(vectors[:100], np.arange(100))
    index_module.faiss.write_index(old_flat, str(tmp_path / "flat.faiss"))
    loaded = VectorIndex.load(tmp_path / "flat.faiss")
    assert loaded.kind == "flat" and list(loaded.search(vectors[:3], 1)[1][:, 0]) == [0, 1, 2]
    loaded.add(np.arange(100, 200), vectors[100:200])
    assert len(loaded) == 200 and loaded.search(vectors[150], 1)[1][0, 0] == 150

    monkeypatch.setattr(index_module, "FLAT_MAX_BYTES", 64_000)  # 1,000 vectors of 32 dimensions
    grown = VectorIndex(32)
    grown.add(np.arange(2000), vectors[:2000])
    assert grown.kind == "ivf"
    grown.save(tmp_path / "ivf.faiss")
    monkeypatch.setattr(index_module, "FLAT_MAX_BYTES", 128 << 20)  # a later version: exact up to here
    reopened = VectorIndex.load(tmp_path / "ivf.faiss")
    assert reopened.kind == "ivf"  # untouched until something changes
    reopened.add(np.arange(2000, 2100), vectors[2000:2100])
    assert reopened.kind == "flat" and len(reopened) == 2100
    assert sorted(reopened.stored(np.arange(2100)).tolist()) == list(range(2100))
    assert list(reopened.search(vectors[:5], 1)[1][:, 0]) == [0, 1, 2, 3, 4]


def test_truncated_or_missing_file_raises_a_clear_error(tmp_path) -> None:
    index = VectorIndex(32)
    index.add(np.arange(50), clustered(50))
    path = tmp_path / "vectors.faiss"
    index.save(path)
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(VectorIndexError, match=r"vectors\.faiss"):
        VectorIndex.load(path)
    with pytest.raises(VectorIndexError, match="no such"):
        VectorIndex.load(tmp_path / "absent.faiss")


def test_empty_index_searches_to_nothing() -> None:
    scores, ids = VectorIndex(8).search(np.ones(8, np.float32), 5)
    assert scores.shape == (1, 0) and ids.shape == (1, 0)
