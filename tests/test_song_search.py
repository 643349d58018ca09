"""Fast unit tests of the song-search module (a hashed bag-of-characters stands in for the sentence encoder)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import label_ranking_average_precision_score, top_k_accuracy_score

from lib import data
from lib.models import song_search as S


def fake_encoder(texts):
    """Deterministic stand-in for MiniLM: normalised letter-bigram counts (64 hashed bins)."""
    out = np.zeros((len(texts), 64), dtype=np.float32)
    for i, t in enumerate(texts):
        t = f" {t.lower()} "
        for a, b in zip(t, t[1:]):
            out[i, (ord(a) * 31 + ord(b)) % 64] += 1
    return out + 1e-3


@pytest.fixture
def tables(tmp_path):
    (tmp_path / "lyrics.csv").write_text(
        "artist,song,link,text\n"
        'ABBA,Dancing Queen,/a/abba/dq.html,"la la"\n'
        'ABBA,Waterloo,/a/abba/w.html,"la"\n'
        'Aerosmith,Dream On,/a/aero/do.html,"la"\n'
        'Broken,Row,/x.html,"unterminated\n'
    )
    pd.DataFrame(
        {
            "artist_name": ["johnny cash", "abba"],
            "track_name": ["hurt", "dancing queen"],
            "genre": ["country", "pop"],
            "topic": ["sadness", "romantic"],
            "lyrics": ["x", "y"],
            "release_date": [2002, 1976],
        }
    ).to_csv(tmp_path / "tcc.csv", index=False)
    pd.DataFrame(
        {
            "name": ["Happy", "Someone Like You"],
            "artist": ["Pharrell Williams", "Adele"],
            "id": ["id1", "id2"],
            "mood": ["Happy", "Sad"],
            "album": ["a", "b"],
        }
    ).to_csv(tmp_path / "moods.csv", index=False)
    return [tmp_path / "lyrics.csv", tmp_path / "tcc.csv", tmp_path / "moods.csv"]


def test_catalogue_merges_layouts_dedups_and_reports_bad_rows(tables):
    with pytest.warns(UserWarning, match="malformed"):
        cat = S.load_catalogue(tables)
    assert cat.attrs["bad_lines"] == 1 and cat.attrs["bad_lines_per_file"]["lyrics.csv"] == 1
    assert len(cat) == 6  # 3 + 2 + 2 rows; ABBA - Dancing Queen appears twice and is merged
    dq = cat[cat["key"] == "abba | dancing queen"].iloc[0]
    assert dq["genre"] == "pop" and dq["link"] == "/a/abba/dq.html"  # empty fields filled from the later row
    assert list(cat["song_id"]) == list(range(len(cat)))
    assert "la la" not in S.document(dq)  # lyrics never indexed


def test_unknown_layout_names_the_file(tmp_path):
    f = tmp_path / "weird.csv"
    pd.DataFrame({"a": [1], "b": [2]}).to_csv(f, index=False)
    with pytest.raises(data.DataError, match="weird.csv"):
        S.load_catalogue([f])


def test_rank_metrics_against_sklearn_with_single_relevant_items():
    rng = np.random.default_rng(0)
    n, n_items = 40, 12
    scores = rng.standard_normal((n, n_items))
    truth = rng.integers(0, n_items, n)
    ranked = np.argsort(-scores, axis=1)
    m = S.rank_metrics(ranked, [{t} for t in truth], ks=(1, 5))
    onehot = np.eye(n_items)[truth]
    assert m["mrr"] == pytest.approx(label_ranking_average_precision_score(onehot, scores))
    assert m["hit@5"] == pytest.approx(top_k_accuracy_score(truth, scores, k=5, labels=range(n_items)))
    assert m["hit@1"] == pytest.approx(top_k_accuracy_score(truth, scores, k=1, labels=range(n_items)))


def test_rank_metrics_hand_example():
    m = S.rank_metrics([[3, 1, 2], [0, 5, 6], [9, 8, 7]], [{1, 2}, {0}, {4}], ks=(1, 2))
    assert m == {"hit@1": pytest.approx(1 / 3), "hit@2": pytest.approx(2 / 3), "mrr": pytest.approx((0.5 + 1) / 3)}


@pytest.fixture
def search(tables):
    with pytest.warns(UserWarning):
        cat = S.load_catalogue(tables)
    return S.SongSearch(cat, fake_encoder, nlist=2, nprobe=2)


def test_every_method_finds_an_exact_title_request(search):
    q = ["play dancing queen by abba", "play hurt by johnny cash"]
    want = [
        search.catalogue.index[search.catalogue["key"] == k][0] for k in ["abba | dancing queen", "johnny cash | hurt"]
    ]
    for method in ["fuzzy", "embedding", "combined", "char_ngram", "fused"]:
        ids, scores = search.search(q, method=method, k=3)
        assert ids.shape == (2, 3) and scores.shape == (2, 3), method
        assert list(ids[:, 0]) == want, method
        assert np.all(np.diff(scores, axis=1) <= 1e-6), method


def test_combined_falls_back_to_fuzzy_below_threshold(search):
    q = ["something by aerosmith"]
    f_ids, _ = search.fuzzy(q, 3)
    e_ids, _ = search.embedding(q, 3)
    assert (search.combined(q, 3, threshold=1.01)[0] == f_ids).all()
    assert (search.combined(q, 3, threshold=-1.0)[0] == e_ids).all()


def test_ivf_with_all_lists_probed_equals_flat(search):
    q = S.encode(fake_encoder, ["dream on", "happy"])
    _, flat = search.flat.search(q, 3)
    search.ivf.nprobe = search.ivf.nlist
    _, ivf = search.ivf.search(q, 3)
    assert (flat == ivf).all()


def test_make_queries_answers_are_consistent(tables):
    with pytest.warns(UserWarning):
        cat = S.load_catalogue(tables)
    q = S.make_queries(cat, n_title=3, n_artist=2, n_tag=3, seed=0)
    assert set(q["kind"]) == {"title", "artist", "tag"}
    for _, r in q[q["kind"] == "title"].iterrows():
        (i,) = r["relevant"]
        assert S.normalize_text(cat.loc[i, "title"]) in r["query"]
    for _, r in q[q["kind"] == "artist"].iterrows():
        assert all(S.normalize_text(cat.loc[i, "artist"]) in r["query"] for i in r["relevant"])


def test_probe_queries_differ_from_the_index_and_answers_hold(tables):
    with pytest.warns(UserWarning):
        cat = S.load_catalogue(tables)
    q = S.probe_queries(cat, n_each=3, seed=0)
    docs = {S.normalize_text(S.document(r)) for _, r in cat.iterrows()}
    for _, r in q.iterrows():
        assert r["relevant"], r["query"]
        assert r["query"] not in docs
    for _, r in q[q["kind"] == "mood paraphrase"].iterrows():
        assert not any(m.lower() in r["query"] for m in cat["mood"].dropna())


def test_hits_per_query_hand_counted():
    ranked = [[3, 1, 2], [0, 2, 1], [2, 0, 1]]
    relevant = [{1}, {1}, {2}]
    h = S.hits_per_query(ranked, relevant, ks=(1, 2))
    assert h["hit@1"].tolist() == [False, False, True]
    assert h["hit@2"].tolist() == [True, False, True]
    assert h["mrr"].tolist() == pytest.approx([0.5, 1 / 3, 1.0])
    assert S.rank_metrics(ranked, relevant, ks=(1, 2))["mrr"] == pytest.approx(h["mrr"].mean())


def test_chance_hit_at_k_matches_simulation():
    rng = np.random.default_rng(0)
    n, r, k = 50, 3, 5
    sims = np.mean([bool(set(rng.permutation(n)[:k]) & set(range(r))) for _ in range(20000)])
    assert S.chance_hit_at_k([r], n, k)[0] == pytest.approx(sims, abs=0.01)
    assert S.chance_hit_at_k([n], n, k)[0] == 1.0


def test_synthesize_speaks_and_rejects_unknown_voice():
    pytest.importorskip("espeakng_loader")
    y, sr = S.synthesize("play a song", voice="en-us", rate=170, pitch=50)
    assert sr > 8000 and 0.3 < len(y) / sr < 5 and np.abs(y).max() > 0.01
    with pytest.raises(ValueError, match="no voice"):
        S.synthesize("x", voice="xx-nonexistent")


def test_transcribe_then_search_end_to_end(tmp_path, search):
    import soundfile as sf

    f = tmp_path / "req.wav"
    sf.write(f, np.zeros(16000, np.float32), 16000)
    out = S.transcribe_then_search(f, 2, recogniser=lambda y, sr: "play waterloo by abba", search=search)
    assert out["transcript"] == "play waterloo by abba"
    assert list(out["songs"].columns) == ["song_id", "artist", "title", "genre", "mood", "score"]
    assert out["songs"]["title"].iloc[0] == "Waterloo" and len(out["songs"]) == 2
    # the keys the catalogue decoder's recommend_from_audio returns too
    assert {"songs", "transcript", "asr_s", "search_s", "total_s"} <= set(out)
    assert out["total_s"] >= out["asr_s"] + out["search_s"]
    assert not hasattr(S, "recommend_from_audio")  # one public recommend_from_audio: lib.models.spoken_search's
    with pytest.raises(data.DataMissingError):
        S.transcribe_then_search(tmp_path / "missing.wav", 2, recogniser=lambda y, sr: "", search=search)


def test_the_mirrors_known_truncated_row_is_counted_without_a_warning(tmp_path, recwarn):
    rows = 'artist,song,link,text\nABBA,Waterloo,/w.html,"la"\nBroken,Row,/x.html,"unterminated\n'
    known = tmp_path / "songdata_lyricsfreak_subset_Akash20x.csv"  # the mirror's file: its last row is truncated
    known.write_text(rows)
    for _ in range(2):
        cat = S.load_catalogue([known])
        assert len(cat) == 1 and cat.attrs["bad_lines_per_file"] == {known.name: 1}
    assert not [w for w in recwarn if "malformed" in str(w.message)]
    other = tmp_path / "other.csv"  # an unexpected malformed row warns, once per process
    other.write_text(rows)
    with pytest.warns(UserWarning, match="other.csv.*malformed"):
        S.load_catalogue([other])
    recwarn.clear()
    assert len(S.load_catalogue([other])) == 1
    assert not [w for w in recwarn if "malformed" in str(w.message)]
