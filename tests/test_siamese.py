"""Unit tests for the Siamese speaker-embedding chapter: lib.models.siamese and lib.datasets.speakers."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch
from scipy.spatial import distance

from lib import data
from lib.datasets import speakers as S
from lib.models import siamese, training

torch.set_num_threads(1)  # tiny models: one thread avoids oversubscription on shared machines


# --------------------------------------------------------------------------
# Contrastive loss against an independent computation
# --------------------------------------------------------------------------
def reference_contrastive(e1, e2, same, margin):
    """Plain-Python contrastive loss (Hadsell et al. 2006) with scipy's Euclidean distance."""
    total = 0.0
    for a, b, s in zip(e1, e2, same):
        d = distance.euclidean(a, b)
        total += d**2 if s else max(0.0, margin - d) ** 2
    return total / len(same)


@pytest.mark.parametrize("margin", [0.5, 1.0, 3.0])
def test_contrastive_loss_matches_reference(margin):
    rng = np.random.default_rng(0)
    e1 = rng.normal(size=(32, 8)) * 0.4
    e2 = rng.normal(size=(32, 8)) * 0.4
    same = rng.integers(0, 2, 32).astype(bool)
    ours = siamese.contrastive_loss(torch.tensor(e1), torch.tensor(e2), torch.tensor(same), margin)
    assert float(ours) == pytest.approx(reference_contrastive(e1, e2, same, margin), rel=1e-10)
    # 0/1 float labels and a (B, 1) label column give the same value (no silent (B, B) broadcast)
    ours_col = siamese.contrastive_loss(
        torch.tensor(e1), torch.tensor(e2), torch.tensor(same.astype(float))[:, None], margin
    )
    assert float(ours_col) == pytest.approx(float(ours))


def test_contrastive_loss_semantics_and_gradients():
    a = torch.zeros(2, 3, requires_grad=True)
    b = torch.tensor([[0.3, 0.0, 0.4], [0.3, 0.0, 0.4]])  # distance 0.5
    loss = siamese.contrastive_loss(a, b, torch.tensor([1, 0]), margin=1.0)
    assert float(loss.detach()) == pytest.approx((0.25 + 0.25) / 2)  # same: d² ; different: (1 − d)²
    loss.backward()
    assert torch.isfinite(a.grad).all() and a.grad.abs().sum() > 0
    far = siamese.contrastive_loss(torch.zeros(1, 3), torch.full((1, 3), 5.0), torch.tensor([0]))
    assert float(far) == 0.0  # beyond the margin: no cost
    with pytest.raises(ValueError, match="labels"):
        siamese.contrastive_loss(torch.zeros(4, 3), torch.zeros(4, 3), torch.zeros(3))


def test_scores_match_scipy():
    rng = np.random.default_rng(1)
    A, B = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    np.testing.assert_allclose(siamese.score_pairs(A, B), [-distance.euclidean(a, b) for a, b in zip(A, B)])
    np.testing.assert_allclose(siamese.cosine_scores(A, B), [1 - distance.cosine(a, b) for a, b in zip(A, B)])


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------
def test_embedder_shapes_any_length():
    training.set_seed(0)
    net = siamese.Embedder(n_mels=40, emb_dim=16, channels=(4, 8, 8), rnn_hidden=8).eval()
    for frames in (11, 101, 301):
        assert net(torch.randn(3, 40, frames)).shape == (3, 16)
    with pytest.raises(ValueError, match="40"):
        net(torch.randn(3, 64, 101))
    clf = siamese.AMSoftmaxClassifier(7, n_mels=40, channels=8, pooled=12, emb_dim=16).eval()
    assert clf(torch.randn(2, 40, 101)).shape == (2, 7)
    assert siamese.embed(clf, np.zeros((2, 40, 101), np.float32)).shape == (2, 16)
    assert clf.embedder(torch.randn(2, 40, 11)).shape == (2, 16)  # any length (stats pooling)
    feats = [np.random.default_rng(n).normal(size=(40, n)).astype(np.float32) for n in (101, 150, 102)]
    ragged = siamese.embed_ragged(net, feats)
    assert ragged.shape == (3, 16)
    for k in range(3):  # grouping by length keeps the order
        np.testing.assert_allclose(ragged[k], siamese.embed(net, feats[k][None])[0], atol=1e-5)


def test_training_step_lowers_the_loss_on_separable_pairs():
    training.set_seed(0)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 40, 24)).astype(np.float32)
    X[:20] += 2.0  # two "speakers"
    spk = np.repeat(["a", "b"], 20)
    text = np.tile(np.arange(20).astype(str), 2)
    net = siamese.Embedder(emb_dim=8, channels=(4, 8, 8), rnn_hidden=8)
    batches = siamese.PairBatches(X, lambda epoch: S.sample_pairs(spk, text, 64, seed=epoch), batch_size=32)
    fixed = siamese.PairBatches(X, lambda epoch: S.sample_pairs(spk, text, 64, seed=99), batch_size=32)
    opt = torch.optim.Adam(net.parameters(), 1e-2)
    loss_fn = siamese.siamese_loss_fn(1.0)
    before = training.evaluate_loss(net, fixed, loss_fn)
    training.fit(net, batches, None, loss_fn, opt, epochs=5, log=None)
    assert training.evaluate_loss(net, fixed, loss_fn) < before


def test_am_softmax_loss_matches_its_definition():
    training.set_seed(0)
    clf = siamese.AMSoftmaxClassifier(5, scale=10.0, margin=0.3, channels=8, pooled=12, emb_dim=6).eval()
    x, y = torch.randn(4, 40, 20), torch.tensor([0, 3, 3, 1])
    e = torch.nn.functional.normalize(clf.embedder(x), dim=1)
    w = torch.nn.functional.normalize(clf.weight, dim=1)
    cos = (e @ w.T).detach().numpy()
    logits = 10.0 * (cos - 0.3 * np.eye(5)[y.numpy()])
    ref = np.mean([np.log(np.exp(r).sum()) - r[t] for r, t in zip(logits, y.numpy())])
    assert float(siamese.am_softmax_loss_fn()(clf, (x, y)).detach()) == pytest.approx(ref, rel=1e-5)


def test_bf16_autocast_loss_is_close_to_float32():
    training.set_seed(0)
    net = siamese.Embedder(emb_dim=8, channels=(4, 8, 8), rnn_hidden=8).eval()
    x1, x2, same = torch.randn(6, 40, 30), torch.randn(6, 40, 30), torch.tensor([1, 0, 1, 0, 1, 0])
    fp32 = float(siamese.siamese_loss_fn(1.0)(net, (x1, x2, same)))
    bf16 = float(siamese.siamese_loss_fn(1.0, bf16=True)(net, (x1, x2, same)))
    assert bf16 == pytest.approx(fp32, rel=0.05)


def _toy_speakers(n_speakers=6, per_speaker=10, frames=30, seed=0):
    rng = np.random.default_rng(seed)
    spk = np.repeat([f"s{k}" for k in range(n_speakers)], per_speaker)
    text = np.tile(np.arange(per_speaker).astype(str), n_speakers)
    X = rng.normal(size=(len(spk), 40, frames)).astype(np.float32)
    for k in range(n_speakers):
        X[spk == f"s{k}", k * 6 : (k + 1) * 6] += 1.5  # each speaker: a louder band
    return X, spk, text


def test_training_to_convergence_and_model_selection_on_validation_speakers():
    X, spk, text = _toy_speakers()
    train = np.flatnonzero(np.isin(spk, ["s0", "s1", "s2", "s3"]))
    held = np.flatnonzero(~np.isin(spk, ["s0", "s1", "s2", "s3"]))
    V = S.distinct_trials(spk[held], text[held], 20, seed=0)
    V["i"], V["j"] = held[V["i"]], held[V["j"]]
    val = siamese.PairValidation(X, V)
    out = siamese.train_siamese(
        X,
        train,
        spk,
        text,
        val,
        seed=0,
        max_epochs=4,
        pairs_per_epoch=64,
        lr_step=2,
        patience=1,
        bf16=True,
        channels=(4, 8, 8),
        rnn_hidden=8,
        emb_dim=8,
    )
    hist = out["history"]
    assert (
        1 <= out["epochs_run"] <= 4
        and out["steps"] == out["epochs_run"]
        and out["pairs_seen"] == 64 * out["epochs_run"]
    )
    assert out["best_epoch"] == 1 + int(np.argmin([h["val_loss"] for h in hist]))
    assert {"val_eer", "val_auc_error", "samples_per_s"} <= set(hist[0])
    # the kept weights are those of the best epoch: the criterion recomputed now equals the best one
    assert float(val.loss(out["model"].eval())) == pytest.approx(min(h["val_loss"] for h in hist), rel=1e-5)
    ranking = siamese.PairValidation(X, V, criterion="ranking", score="cosine")
    labels = np.searchsorted(np.unique(spk[train]), spk[train])
    clf = siamese.train_xvector(
        X, train, labels, ranking, seed=0, max_epochs=2, lr_step=1, patience=2, channels=8, pooled=12, emb_dim=8
    )
    assert clf["epochs_run"] == 2 and 0 <= clf["history"][-1]["val_loss"] <= 1
    with pytest.raises(ValueError, match="criterion"):
        siamese.PairValidation(X, V, criterion="eer")


def test_band_normalise_removes_a_channel_tilt():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2, 40, 50)).astype(np.float32)
    tilted = X + np.linspace(-3, 3, 40)[None, :, None]  # a fixed "microphone" response
    np.testing.assert_allclose(siamese.band_normalise(tilted), siamese.band_normalise(X), atol=1e-5)
    B = siamese.band_normalise(X)
    np.testing.assert_allclose(B.mean(-1), 0, atol=1e-5)
    np.testing.assert_allclose(B.std(-1), 1, atol=1e-3)


# --------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------
def test_sample_pairs_ratio_and_constraints():
    spk = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 1 + ["d"] * 2)
    text = np.array(["x", "y", "x", "z", "x", "y", "y", "x", "w", "w"])  # d says one word only
    i, j, same = S.sample_pairs(spk, text, 400, same_fraction=0.25, seed=3)
    assert len(i) == 400 and same.sum() == 100
    assert (i != j).all()
    assert ((spk[i] == spk[j]) == same.astype(bool)).all()
    assert (text[i] != text[j]).all()
    assert not np.isin(spk[i[same == 1]], ["c", "d"]).any()  # no usable second recording
    again = S.sample_pairs(spk, text, 400, same_fraction=0.25, seed=3)
    assert all((x == y).all() for x, y in zip((i, j, same), again))
    i2, j2, same2 = S.sample_pairs(spk, text, 50, same_fraction=1.0, seed=0, different_text=False)
    assert same2.all() and (spk[i2] == spk[j2]).all()
    with pytest.raises(ValueError, match="same-speaker"):
        S.sample_pairs(["a", "b"], ["x", "y"], 10)


def test_distinct_trials_are_distinct_capped_and_grouped():
    spk = np.array(
        ["big"] * 30 + ["mid"] * 6 + ["one"] * 1 + ["same_word"] * 3 + [f"s{k}" for k in range(10) for _ in range(3)]
    )
    text = np.r_[np.arange(30) % 10, np.arange(6), [0], [5, 5, 5], np.tile([0, 1, 2], 10)].astype(str)
    T = S.distinct_trials(spk, text, max_targets_per_speaker=8, seed=1)
    i, j, same, group = T["i"], T["j"], T["same"].astype(bool), T["group"]
    pairs = set(zip(np.minimum(i, j).tolist(), np.maximum(i, j).tolist()))
    assert len(pairs) == len(i)  # no pair twice, in either order
    assert ((spk[i] == spk[j]) == same).all() and (text[i] != text[j]).all()
    assert (spk[i] == group).all()  # group = first recording's speaker
    per = pd.Series(same).groupby(group).sum()
    assert per.max() == 8 and per["mid"] == 8 and per["s0"] == 3  # capped / all distinct pairs
    assert "one" not in per.index and "same_word" not in per.index  # no usable target pair
    assert (pd.Series(~same).groupby(group).sum() == per).all()  # as many non-targets per speaker
    again = S.distinct_trials(spk, text, max_targets_per_speaker=8, seed=1)
    assert all((T[k] == again[k]).all() for k in T)
    c = S.trial_concentration(spk, text, cap=None, top=1)
    assert c["n_targets"] == 30 * 29 // 2 - 10 * 3 + 15 + 10 * 3 and c["n_speakers"] == 12
    assert S.trial_concentration(spk, text, cap=8, top=1)["top_share"] == pytest.approx(8 / (8 + 8 + 30))


# --------------------------------------------------------------------------
# TIMIT loader on a generated fixture, features, save/load/embed_files
# --------------------------------------------------------------------------
@pytest.fixture
def timit_dir(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "TIMIT"
    layout = {
        ("TRAIN", "DR1", "FCJF0"): 0.3,
        ("TRAIN", "DR2", "MDAB0"): 0.1,
        ("TRAIN", "DR1", "MKLS0"): 0.2,
        ("TEST", "DR3", "FDHC0"): 0.4,
    }
    for (split, dr, spk), pitch in layout.items():
        folder = root / split / dr / spk
        folder.mkdir(parents=True)
        for sent in ("SA1", "SX3", "SI7"):
            t = np.arange(int(16000 * 1.3)) / 16000
            y = 0.2 * np.sin(2 * np.pi * 800 * pitch * t) + 0.01 * rng.standard_normal(len(t))
            sf.write(folder / f"{sent}.WAV", y.astype(np.float32), 16000, format="WAV")
        (folder / f"{sent}.PHN").write_text("0 100 h#\n")
    return root


def test_timit_loader_reads_layout(timit_dir):
    df = S.timit_speakers(timit_dir)
    assert len(df) == 12 and set(df["speaker"]) == {"FCJF0", "MDAB0", "MKLS0", "FDHC0"}
    assert set(df.loc[df["speaker"] == "FDHC0", "official_split"]) == {"test"}
    assert set(df["sex"]) == {"F", "M"} and set(df["text"]) == {"SA1", "SX3", "SI7"}
    split = S.split_speakers(df, {"train": 0.5, "val": 0.25, "test": 0.25})
    assert set(split.loc[split["official_split"] == "test", "split"]) == {"test"}
    assert set(split.loc[split["official_split"] == "train", "split"]) <= {"train", "val"}
    data.check_disjoint(split["speaker"], split["split"])


def test_timit_loader_errors_name_the_folder(tmp_path):
    with pytest.raises(data.DataMissingError, match="nowhere"):
        S.timit_speakers(tmp_path / "nowhere")
    (tmp_path / "empty" / "TRAIN").mkdir(parents=True)
    with pytest.raises(data.DataMissingError, match="empty"):
        S.timit_speakers(tmp_path / "empty")


def test_features_save_load_and_embed_files(timit_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIO_REPRO_CACHE", str(tmp_path / "cache"))
    df = S.timit_speakers(timit_dir)
    F = S.clip_features(df, clip_s=1.0, crop="loudest")
    assert F["logmel"].shape == (12, 40, 101) and F["mfcc"].shape == (12, 40)
    np.testing.assert_allclose(F["logmel"].mean(axis=(1, 2)), 0, atol=1e-4)  # per-clip normalised
    assert list((tmp_path / "cache" / "features").glob("speakers_clips-*.npz"))
    training.set_seed(0)
    net = siamese.Embedder(emb_dim=8, channels=(4, 8, 8), rnn_hidden=8).eval()
    path = siamese.save(net, tmp_path / "m.pt", threshold=-1.0, clip_s=1.0)
    E = siamese.embed_files(df["abs_path"][:3].tolist(), path, max_seconds=1.0)
    assert E.shape == (3, 8)
    # Same features as the cached training features when cut the same way
    np.testing.assert_allclose(E, siamese.embed(net, F["logmel"][:3]), atol=1e-4)
    scores, same = siamese.verify([(df["abs_path"][0], df["abs_path"][1])], path, threshold=-1e9)
    assert scores.shape == (1,) and same.all()
    scores2, same2 = siamese.verify([(df["abs_path"][0], df["abs_path"][1])], path)  # stored threshold
    np.testing.assert_allclose(scores2, scores)
    assert (same2 == (scores2 >= -1.0)).all()
    # a short file is padded to the training clip length, as the training clips were
    short = tmp_path / "short.wav"
    sf.write(short, np.random.default_rng(0).normal(size=8000).astype(np.float32) * 0.1, 16000)
    from lib import features

    y = features.fix_length(data.load_audio(short)[0], 16000)
    np.testing.assert_allclose(
        siamese.embed_files([short], path), siamese.embed(net, siamese.log_mel_normalised(y)[None]), atol=1e-4
    )
    band = siamese.save(net, tmp_path / "band.pt", feature_params={"norm": "band"}, clip_s=1.0)
    np.testing.assert_allclose(
        siamese.embed_files([short], band),
        siamese.embed(net, siamese.band_normalise(siamese.log_mel_normalised(y))[None]),
        atol=1e-4,
    )
    model, ckpt = siamese.load(path)
    assert ckpt["meta"]["threshold"] == -1.0 and ckpt["feature_params"]["n_mels"] == 40
    xv = siamese.save(siamese.AMSoftmaxClassifier(3, channels=8, pooled=12, emb_dim=8), tmp_path / "xv.pt")
    assert isinstance(siamese.load(xv)[0], siamese.XVector) and "weight" not in siamese.load(xv)[1]["state_dict"]
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 20)
    with pytest.raises(data.AudioError, match="bad.wav"):
        siamese.embed_files([bad], path)
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        siamese.load(tmp_path / "missing.pt")
    (tmp_path / "junk.pt").write_bytes(b"junk")
    with pytest.raises(ValueError, match="junk.pt"):
        siamese.load(tmp_path / "junk.pt")


def test_mfcc_stats_shape_and_meaning():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(2, 16000)).astype(np.float32) * 0.1
    v = siamese.mfcc_stats(y, n_mfcc=13)
    assert v.shape == (2, 26)
    from lib import features

    M = features.mfcc(y[0], n_mfcc=13, n_fft=512, win_length=400, hop_length=160, n_mels=40)
    np.testing.assert_allclose(v[0, :13], M.mean(axis=1), rtol=1e-5)
    np.testing.assert_allclose(v[0, 13:], M.std(axis=1), rtol=1e-5)


def test_load_segment_reads_the_requested_window(tmp_path):
    y = np.arange(32000, dtype=np.float32) / 32000
    f = tmp_path / "ramp.wav"
    sf.write(f, y, 16000, subtype="FLOAT")
    seg = S.load_segment(f, 0.5, 0.25)
    np.testing.assert_allclose(seg, y[8000:12000])


def test_clip_batches_draw_the_requested_number_of_clips():
    X = np.zeros((10, 40, 12), np.float32)
    y = np.arange(10)
    seen = np.concatenate([b[1].numpy() for b in siamese.ClipBatches(X, y, batch_size=5, n_per_epoch=25)])
    assert len(seen) == 25 and set(seen[:10]) == set(range(10))  # a full permutation first
    assert len(np.concatenate([b[1].numpy() for b in siamese.ClipBatches(X, y, batch_size=4)])) == 10


def test_shipped_embedder_works_without_training(tmp_path):
    """The embedder in book/models/ (written by the book profile) embeds files on a fresh clone."""
    if not siamese.DEFAULT_MODEL.is_file():
        pytest.skip("book/models/siamese_embedder.pt not written yet (run the chapter's book profile)")
    assert siamese.DEFAULT_MODEL.stat().st_size < 5 * 2**20  # a few MB at most
    rng = np.random.default_rng(0)
    files = []
    for k in range(3):
        f = tmp_path / f"f{k}.wav"
        sf.write(f, (0.1 * rng.normal(size=16000 + 4000 * k)).astype(np.float32), 16000)
        files.append(f)
    E = siamese.embed_files(files)
    assert E.shape[0] == 3 and np.isfinite(E).all()
    scores, same = siamese.verify([(files[0], files[1])])
    assert scores.shape == (1,) and same.dtype == bool
