"""Keyword spotting: split rules on a generated fixture, features against librosa, models, save/load/predict."""

from pathlib import Path

import librosa
import numpy as np
import pandas as pd
import pytest
import scipy.fft
import soundfile as sf

from lib import data
from lib.datasets import kws as kd

SR = 16000


def _clip(rng, n=3200):
    return (0.1 * rng.standard_normal(n)).astype(np.float32)


def _write(path: Path, y, sr=SR):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr)


@pytest.fixture
def fake_mirror(tmp_path, monkeypatch):
    """A tiny mirror with the three Speech Commands folders (layout only, no manifest.csv)."""
    rng = np.random.default_rng(0)
    root = tmp_path / "data"
    test = root / "speech_commands_v0.02"
    speakers = [f"{i:08x}" for i in range(1, 21)]
    for word in kd.KEYWORDS + ["bird", "dog"]:
        for spk in speakers:
            _write(test / word / f"{spk}_nohash_0.wav", _clip(rng))
    for k in range(20):
        _write(test / "_silence_" / f"{k}.wav", _clip(rng))
    _write(test / "_background_noise_" / "white_noise.wav", _clip(rng, 3 * SR + 100))
    train = root / "speech_commands_train_keywords"
    for word in ["yes", "no", "up", "down", "left", "right", "stop", "go"]:
        for spk in ["aa000001", "aa000002"]:
            _write(train / word / f"{spk}_nohash_0.wav", _clip(rng))
    extra = root / "speech_commands_v0.01_extra"
    for spk in speakers + ["bb000001"]:
        _write(extra / "bed" / f"{spk}_nohash_0.wav", _clip(rng))
    monkeypatch.setenv("AUDIO_REPRO_DATA", str(root))
    monkeypatch.setenv("AUDIO_REPRO_CACHE", str(tmp_path / "cache"))
    return root


def test_mirror_split_rules(fake_mirror):
    df = kd.build_split(seed=0)
    assert set(df["split"]) == {"train", "val", "test"}
    speech = df[df["speaker"] != ""]
    data.check_disjoint(speech["speaker"], speech["split"])
    for split in ("val", "test"):
        assert set(df.loc[df["split"] == split, "label"]) == set(kd.LABELS)
        assert (df.loc[df["split"] == split, "corpus"] == kd.TEST_CORPUS).all()
    # training-portion keywords and extra words only in training; extra clips of held-out speakers dropped
    assert (df.loc[df["corpus"] == kd.TRAIN_CORPUS, "split"] == "train").all()
    extra = df[df["corpus"] == kd.EXTRA_CORPUS]
    held_out = set(df.loc[df["split"] != "train", "speaker"]) - {""}
    assert not set(extra["speaker"]) & held_out
    assert "bb000001" in set(extra["speaker"])
    # on/off training clips come only from the official test set
    assert (df.loc[(df["split"] == "train") & df["label"].isin(["on", "off"]), "corpus"] == kd.TEST_CORPUS).all()
    # 3 s of noise -> 3 one-second training chunks
    chunks = df[df["start"] >= 0]
    assert len(chunks) == 3 and (chunks["split"] == "train").all() and (chunks["label"] == "_silence_").all()
    assert kd.build_split(seed=0).equals(df)  # fixed and seeded


def test_split_lists_and_subsampling(fake_mirror, tmp_path):
    df = kd.build_split(seed=0)
    files = kd.split_lists(df, tmp_path / "lists")
    lines = files["test"].read_text().split()
    assert len(lines) == (df["split"] == "test").sum() and not lines[0].startswith("/")
    assert any("@" in line for line in files["train"].read_text().split())  # noise chunks carry their offset
    small = kd.fraction_subset(df, 0.5, seed=0)
    tr, tr_small = df[df["split"] == "train"], small[small["split"] == "train"]
    for word in ("yes", "bed", "dog"):  # every keyword and every `_unknown_` word is a stratum
        assert (tr_small["word"] == word).sum() == max(1, round(0.5 * (tr["word"] == word).sum()))
    assert (small["split"] != "train").sum() == (df["split"] != "train").sum()
    smaller = kd.fraction_subset(df, 0.25, seed=0)
    assert set(zip(smaller["abs_path"], smaller["start"])) <= set(zip(small["abs_path"], small["start"]))  # nested
    n_free = ((tr["label"] == "_unknown_") & ~tr["word"].isin(kd.CAPPED_WORDS)).sum()
    capped = kd.stratified_unknown(df, total=n_free + 5, seed=0)
    unk = capped[(capped["split"] == "train") & (capped["label"] == "_unknown_")]
    assert len(unk) == n_free + 5 and (unk["word"] == "bed").sum() == 5  # the uncapped words keep all their clips
    assert (capped["split"] != "train").sum() == (df["split"] != "train").sum()
    keep = kd.balanced_unknown(tr.reset_index(drop=True), seed=0)
    kept = tr.reset_index(drop=True)[keep]
    target = kept[kept["label"].isin(kd.KEYWORDS)]["label"].value_counts().max()
    assert (kept["label"] == "_unknown_").sum() == min(target, (tr["label"] == "_unknown_").sum())
    assert (kept["label"] != "_unknown_").sum() == (tr["label"] != "_unknown_").sum()


def test_official_split_needs_training_clips_and_uses_the_lists(fake_mirror, tmp_path):
    with pytest.raises(data.DataMissingError, match="official split list"):
        kd.build_split(scheme="official")  # the fixture, like the mirror, has no official lists
    # A tiny "full" dataset: lists name some clips; the rest are training clips.
    rng = np.random.default_rng(1)
    full = tmp_path / "full"
    test_list, val_list = [], []
    for word in kd.KEYWORDS + ["bird"]:
        for i, spk in enumerate(["c0000001", "c0000002", "c0000003"]):
            _write(full / word / f"{spk}_nohash_0.wav", _clip(rng))
            (test_list if i == 0 else val_list if i == 1 else []).append(f"{word}/{spk}_nohash_0.wav")
    _write(full / "_background_noise_" / "pink_noise.wav", _clip(rng, 12 * SR))
    (full / "testing_list.txt").write_text("\n".join(test_list) + "\n")
    (full / "validation_list.txt").write_text("\n".join(val_list) + "\n")
    df = kd.official_split(full)
    speech = df[df["start"] < 0]
    assert (speech[speech["speaker"] == "c0000001"]["split"] == "test").all()
    assert (speech[speech["speaker"] == "c0000002"]["split"] == "val").all()
    assert (speech[speech["speaker"] == "c0000003"]["split"] == "train").all()
    assert set(df[df["start"] >= 0]["split"]) == {"train", "val", "test"}  # silence in every split


def test_official_split_rejects_test_portion_only(tmp_path):
    rng = np.random.default_rng(2)
    folder = tmp_path / "test_only"
    for word in kd.KEYWORDS:
        _write(folder / word / "d0000001_nohash_0.wav", _clip(rng))
    _write(folder / "_background_noise_" / "n.wav", _clip(rng, 3 * SR))
    names = [f"{w}/d0000001_nohash_0.wav" for w in kd.KEYWORDS]
    (folder / "testing_list.txt").write_text("\n".join(names[:5]))
    (folder / "validation_list.txt").write_text("\n".join(names[5:]))
    with pytest.raises(data.DataMissingError, match="official training clips"):
        kd.official_split(folder)


def test_features_match_librosa(tone):
    y, sr = tone
    X = kd.features(y)
    assert X.shape == (1, 40, 101) and X.dtype == np.float32
    p = kd.FEATURE_PARAMS
    S = librosa.feature.melspectrogram(
        y=y,
        sr=sr,
        n_fft=p["n_fft"],
        win_length=p["win_length"],
        hop_length=p["hop_length"],
        n_mels=p["n_mels"],
        power=2.0,
        center=True,
        pad_mode="constant",
    )
    ref_db = librosa.power_to_db(S, ref=np.max, top_db=p["top_db"])
    ref_mfcc = scipy.fft.dct(ref_db, type=2, axis=0, norm="ortho")[:20]
    ref_delta = librosa.feature.delta(ref_mfcc, width=9)
    np.testing.assert_allclose(X[0, :20], ref_mfcc, atol=2e-2, rtol=1e-3)
    np.testing.assert_allclose(X[0, 20:], ref_delta, atol=2e-2, rtol=1e-3)
    short = kd.features(y[:8000])  # padded to 1 s
    assert short.shape == (1, 40, 101)


def test_balanced_unknown_fills_from_larger_words():
    words = ["bed"] * 50 + ["cat"] * 3 + ["dog"] * 2 + ["yes"] * 20
    df = pd.DataFrame({"word": words, "label": ["_unknown_"] * 55 + ["yes"] * 20, "split": "train"})
    kept = df[kd.balanced_unknown(df, seed=0)]
    assert (kept["label"] == "_unknown_").sum() == 20  # the largest keyword's count
    assert (
        (kept["word"] == "cat").sum() == 3
        and (kept["word"] == "dog").sum() == 2
        and (kept["word"] == "bed").sum() == 15
    )


def test_augment_keeps_length_and_is_seeded(tone):
    y, _ = tone
    noise = [np.random.default_rng(0).standard_normal(3 * SR).astype(np.float32)]
    a = kd.augment(y, np.random.default_rng(5), noise)
    b = kd.augment(y, np.random.default_rng(5), noise)
    assert a.shape == (SR,) and np.array_equal(a, b) and not np.allclose(a, y)
    df = pd.DataFrame(
        {
            "abs_path": ["x"] * 10,
            "start": -1,
            "corpus": "c",
            "word": "yes",
            "label": ["yes"] * 8 + ["_silence_"] * 2,
            "speaker": "s",
            "split": "train",
            "augment": -1,
        }
    )
    out = kd.add_augmented(df, fraction=0.5, silence_target=6, seed=0)
    assert (out["augment"] >= 0).sum() == 4 + 4  # half of the 8 'yes', silence topped up from 2 to 6


def test_loudest_second_for_long_recordings(tmp_path):
    rng = np.random.default_rng(0)
    quiet = 0.001 * rng.standard_normal(SR).astype(np.float32)
    loud = 0.5 * np.sin(2 * np.pi * 300 * np.arange(SR) / SR).astype(np.float32)
    rec = np.concatenate([quiet, quiet, loud, quiet])
    f = tmp_path / "long_stereo_22k.wav"
    sf.write(f, np.stack([librosa.resample(rec, orig_sr=SR, target_sr=22050)] * 2, axis=1), 22050)
    y = kd.load_for_prediction(f)
    assert y.shape == (SR,) and np.sqrt(np.mean(y**2)) > 0.3  # the tone second, not the quiet ones


def test_enhance_clip_reduces_stationary_noise():
    rng = np.random.default_rng(0)
    t = np.arange(SR) / SR
    clean = np.where((t > 0.4) & (t < 0.6), 0.5 * np.sin(2 * np.pi * 440 * t), 0).astype(np.float32)
    noisy = clean + 0.05 * rng.standard_normal(SR).astype(np.float32)
    out = kd.enhance_clip(noisy)
    assert out.shape == (SR,)
    assert np.std(out[:4000]) < 0.5 * np.std(noisy[:4000])


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
km = pytest.importorskip("lib.models.kws")


def test_architectures_match_tables():
    cnn, crnn = km.build_cnn(), km.build_crnn()
    ae, enc = km.build_autoencoder()
    assert cnn.output_shape == (None, 12) and crnn.output_shape == (None, 12)
    assert ae.output_shape == (None, 104, 40, 1) and enc.output_shape == (None, 128)
    # CNN parameters counted by hand (valid padding: 101x40 -> 82x33 -> 41x16 -> 32x11 -> 16x5 -> 12x3 -> 6x1)
    conv = lambda kh, kw, cin, cout: kh * kw * cin * cout + cout  # noqa: E731
    expected = conv(20, 8, 1, 32) + conv(10, 6, 32, 64) + conv(5, 3, 64, 128) + 4 * (32 + 64 + 128) + 128 * 6 * 12 + 12
    assert km.count_params(cnn) == expected
    kinds = [type(layer).__name__ for layer in crnn.layers]
    assert kinds.count("Conv1D") == 4 and "GRU" in kinds and kinds[-1] == "Dense"
    assert [l.filters for l in crnn.layers if type(l).__name__ == "Conv1D"] == [32, 64, 128, 256]


def test_scaler_roundtrip():
    X = np.random.default_rng(0).standard_normal((20, 40, 101)).astype(np.float32) * 3 + 1
    for kind in ("standard", "minmax"):
        s = km.Scaler(kind).fit(X)
        t = km.Scaler.from_dict(s.to_dict())
        np.testing.assert_allclose(s.transform(X), t.transform(X), atol=1e-5)
    Z = km.Scaler("minmax").fit(X).transform(X)
    assert Z.min() >= 0 and Z.max() <= 1
    assert km.model_input(X, km.Scaler("standard").fit(X), km.AE_FRAMES).shape == (20, 104, 40, 1)


def test_train_save_load_predict_files(tmp_path, audio_files):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((48, 40, 101)).astype(np.float32)
    y = np.arange(48) % 12
    trained = km.train_classifier("cnn", X, y, X[:12], y[:12], seed=0, epochs=1)
    folder = km.save(trained, tmp_path / "cnn")
    assert (folder / "model.keras").is_file() and km.model_size_mib(folder) > 0
    loaded = km.load(folder)
    np.testing.assert_allclose(loaded.predict_proba(X[:4]), trained.predict_proba(X[:4]), atol=1e-5)
    files = [audio_files[k] for k in ("wav", "flac", "opus", "stereo", "rate8k")]
    out = km.predict_files(folder, files)
    assert list(out.columns) == ["path", "label", "score"] and len(out) == 5
    assert set(out["label"]) <= set(kd.LABELS)
    for bad in ("empty", "truncated", "not_audio", "nan"):
        with pytest.raises(data.DataError, match=audio_files[bad].name):
            km.predict_files(folder, [audio_files["wav"], audio_files[bad]])
    with pytest.raises(data.DataMissingError, match="nothing_here"):
        km.predict_files(folder, [tmp_path / "nothing_here.wav"])
    with pytest.raises(FileNotFoundError, match="meta.json"):
        km.load(tmp_path)


def test_ae_svm_pipeline(tmp_path, audio_files):
    rng = np.random.default_rng(0)
    X = rng.random((36, 40, 101)).astype(np.float32)
    ae, enc, scaler, hist, _ = km.train_autoencoder(X, X[:6], seed=0, epochs=1)
    assert len(hist) == 1 and np.isfinite(hist[0]["loss"])
    # SVM on well-separated codes: grid search picks a grid point, SMOTEENN balances the minority
    centers = rng.standard_normal((3, 128)) * 5
    codes = np.concatenate(
        [
            centers[0] + rng.standard_normal((60, 128)),
            centers[1] + rng.standard_normal((60, 128)),
            centers[2] + rng.standard_normal((12, 128)),
        ]
    )
    labels = np.r_[np.zeros(60), np.ones(60), 2 * np.ones(12)].astype(int)
    search = km.grid_search_svm(codes, labels, subset=None, cv=3, n_jobs=1)
    assert search.best_params_["C"] in km.SVM_GRID["C"] and search.best_params_["gamma"] in km.SVM_GRID["gamma"]
    svm, seen = km.fit_svm(codes, labels, C=10, gamma=0.01, resample="smoteenn", seed=0)
    assert seen[2] > 12 and (svm.predict(codes) == labels).mean() > 0.95
    trained = km.Trained(
        "ae_svm",
        enc,
        scaler,
        hist,
        svm=km.fit_svm(enc.predict(km.model_input(X, scaler, km.AE_FRAMES), verbose=0), np.arange(36) % 12, 1, 0.001)[
            0
        ],
    )
    folder = km.save(trained, tmp_path / "ae_svm")
    out = km.predict_files(folder, [audio_files["wav"]])
    assert out["label"].iloc[0] in kd.LABELS


def test_memory_peak_sees_an_allocation():
    with km.MemoryPeak(interval=0.01) as mem:
        block = np.ones(64 * 2**20 // 8)  # 64 MiB
        import time

        time.sleep(0.1)
        del block
    assert mem.rise_mib > 30


# --------------------------------------------------------------------------
# The chapter's recipe (stratified `_unknown_`, nested fractions) and the trade-off helpers
# --------------------------------------------------------------------------
def _recipe_frame():
    words = ["bed"] * 60 + ["cat"] * 40 + ["happy"] * 5 + ["dog"] * 3 + ["wow"] * 2
    rows = [
        {
            "abs_path": f"u{i}",
            "start": -1,
            "corpus": "c",
            "word": w,
            "label": "_unknown_",
            "speaker": f"s{i}",
            "split": "train",
            "augment": -1,
        }
        for i, w in enumerate(words)
    ]
    rows += [
        {
            "abs_path": f"k{i}",
            "start": -1,
            "corpus": "c",
            "word": "yes",
            "label": "yes",
            "speaker": f"t{i}",
            "split": "train",
            "augment": -1,
        }
        for i in range(40)
    ]
    rows += [
        {
            "abs_path": f"v{i}",
            "start": -1,
            "corpus": "c",
            "word": w,
            "label": "_unknown_",
            "speaker": f"v{i}",
            "split": "test",
            "augment": -1,
        }
        for i, w in enumerate(["bed"] * 7)
    ]
    return pd.DataFrame(rows)


def test_stratified_unknown_keeps_every_scarce_word():
    df = _recipe_frame()
    out = kd.stratified_unknown(df, total=30, seed=0)
    tr = out[(out["split"] == "train") & (out["label"] == "_unknown_")]["word"].value_counts()
    assert tr.sum() == 30 and tr["dog"] == 3 and tr["wow"] == 2  # uncapped words: all of them
    assert tr["happy"] == 5 and tr["bed"] + tr["cat"] == 20 and abs(tr["bed"] - tr["cat"]) <= 1  # water-filling
    assert (out["split"] == "test").sum() == 7 and (out["label"] == "yes").sum() == 40  # others untouched
    with pytest.raises(ValueError, match="exceed"):
        kd.stratified_unknown(df, total=4)


def test_fraction_subset_is_stratified_and_nested():
    df = _recipe_frame()
    half, quarter = kd.fraction_subset(df, 0.5, seed=0), kd.fraction_subset(df, 0.25, seed=0)
    assert set(quarter["abs_path"]) <= set(half["abs_path"])
    tr = half[half["split"] == "train"]
    assert (
        (tr["label"] == "yes").sum() == 20
        and (tr["word"] == "dog").sum() in (1, 2)
        and (tr["word"] == "wow").sum() == 1
    )
    assert (half["split"] == "test").sum() == 7
    assert kd.fraction_subset(df, 1.0).equals(df)


def test_librispeech_negatives_skip_keywords_and_hold_out_speakers(monkeypatch):
    man = pd.DataFrame(
        {
            "abs_path": [f"/x/{i}.flac" for i in range(12)],
            "speaker": [str(i % 4) for i in range(12)],
            "transcript": ["STOP RIGHT THERE" if i % 3 == 0 else "a quiet morning" for i in range(12)],
            "duration_s": [3.5] * 12,
        }
    )
    monkeypatch.setattr(kd.data, "manifest", lambda name: man)
    monkeypatch.setattr(kd.data, "record_corpus_use", lambda name: None)
    assert kd._has_keyword("STOP right there") and not kd._has_keyword("stopping")
    neg = kd.librispeech_negatives(n_train=6, n_test=3, test_speakers=1, per_utterance=2, seed=0)
    assert list(neg.columns) == kd.COLUMNS and (neg["label"] == "_unknown_").all()
    assert (neg["split"] == "train").sum() == 6 and (neg["split"] == "test").sum() == 3
    keyword_free = {f"/x/{i}.flac" for i in range(12) if i % 3}
    assert set(neg["abs_path"]) <= keyword_free
    assert not set(neg.loc[neg["split"] == "train", "speaker"]) & set(neg.loc[neg["split"] == "test", "speaker"])
    assert set(neg["start"]) <= {0, kd.CLIP, 2 * kd.CLIP}  # whole-second windows inside 3.5 s


def test_gru_steps_and_tradeoff():
    assert km.gru_steps("valid") == 2 and km.gru_steps("same") == 6
    crnn = km.build_crnn()
    gru = next(layer for layer in crnn.layers if type(layer).__name__ == "GRU")
    assert gru.input.shape[1] == km.gru_steps("valid")
    assert km.build_crnn(padding="same").output_shape == (None, 12)
    # three keyword clips, two non-keyword clips (one _unknown_ taken for "yes" at 0.6)
    P = np.full((5, 12), 0.01)
    P[0, 0], P[1, 1], P[2, 11], P[3, 0], P[4, 10] = 0.9, 0.5, 0.8, 0.6, 0.95
    y = np.array([0, 1, 2, 11, 10])
    tr = km.tradeoff(P, y, [0.0, 0.55, 0.95])
    assert np.allclose(tr["keyword_recall"], [2 / 3, 1 / 3, 0]) and np.allclose(tr["false_keyword_rate"], [0.5, 0.5, 0])
    t = km.threshold_for_rate(P, y, 0.0)
    assert 0.6 < t <= 0.9
    fired, _ = km.fires(P, t)
    assert not fired[3] and fired[0]


def test_mixed_precision_keeps_float32_outputs():
    km.set_precision("mixed_bfloat16")
    try:
        cnn, (ae, enc) = km.build_cnn(), km.build_autoencoder()
        assert cnn.output.dtype == "float32" and ae.output.dtype == "float32" and enc.output.dtype == "float32"
    finally:
        km.set_precision("float32")


SHIPPED = Path(__file__).resolve().parents[1] / "book" / "models"


@pytest.mark.parametrize("name", ["kws_cnn", "kws_crnn", "kws_ae_svm"])
def test_shipped_models_predict_on_a_fresh_clone(name, audio_files):
    folder = SHIPPED / name
    if not (folder / "meta.json").is_file():
        pytest.skip(f"{folder.name} not shipped yet (written by the chapter's book run)")
    out = km.predict_files(folder, [audio_files["wav"], audio_files["stereo"]])
    assert len(out) == 2 and set(out["label"]) <= set(kd.LABELS)


def test_chapter_precision_is_the_stored_benchmark_s_choice():
    """The keyword chapter trains in the precision its constant PRECISION names: what
    :func:`lib.models.kws.fastest_precision` picks from the stored benchmark (benchmarks/kws_precision.py)."""
    import ast
    import json

    root = Path(__file__).resolve().parents[1]
    bench_file = root / "book" / "models" / "kws_precision_benchmark.json"
    if not bench_file.is_file():
        pytest.skip("no stored precision benchmark")
    tree = ast.parse((root / "chapters" / "01_keyword_spotting.py").read_text())
    precision = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PRECISION" for t in node.targets)
    )
    bench = json.loads(bench_file.read_text())
    assert precision == {
        m: km.fastest_precision(bench, b) for m, b in (("cnn", "cnn"), ("crnn", "crnn"), ("ae_svm", "ae"))
    }


def test_unknown_left_out_is_what_the_cap_dropped():
    df = _recipe_frame()
    capped = kd.stratified_unknown(df, total=30, seed=0)
    copy = capped[capped["label"] == "_unknown_"].head(2).assign(augment=5)  # an augmented copy in both
    left = kd.unknown_left_out(pd.concat([df, copy], ignore_index=True), pd.concat([capped, copy]))
    train_unk = df[(df["split"] == "train") & (df["label"] == "_unknown_")]
    assert len(left) + 30 == len(train_unk) and (left["augment"] < 0).all()
    assert not set(left["abs_path"]) & set(capped["abs_path"])  # nothing kept twice
    assert set(left["abs_path"]) | set(capped.loc[capped["label"] == "_unknown_", "abs_path"]) >= set(
        train_unk["abs_path"]
    )
    assert kd.unknown_left_out(df, df).empty


def test_macro_scores_match_scikit_learn():
    from lib import metrics

    rng = np.random.default_rng(0)
    for n_classes, n in ((12, 500), (4, 30)):
        y = rng.integers(0, n_classes, n)
        p = np.where(rng.random(n) < 0.6, y, rng.integers(0, n_classes - 1, n))  # the last class never predicted
        want = metrics.classification_summary(y, p, labels=list(range(n_classes)))
        got = metrics.macro_scores(y, p, n_classes)
        for k in ("precision_macro", "recall_macro", "f1_macro"):
            assert got[k] == pytest.approx(want[k], abs=1e-12)
    y = np.array([0, 0, 1])  # class 2 absent from y_true and never predicted: 0 for it, as scikit-learn
    assert metrics.macro_scores(y, np.array([0, 1, 1]), 3)["recall_macro"] == pytest.approx((1 / 2 + 1) / 3)
