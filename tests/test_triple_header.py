"""Unit tests of lib.models.triple_header and lib.datasets.events (seconds, no real data needed)."""

import math

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from lib.datasets import events as ev
from lib.models import triple_header as th


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: one thread avoids thread-synchronisation overhead on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --------------------------------------------------------------------------
# The triple-header non-linearity and loss, against a hand computation
# --------------------------------------------------------------------------
def test_triple_header_loss_matches_hand_computation():
    # 3 clusters: clusters 0, 1 of class 0 and cluster 2 of class 1; two samples.
    cluster_class = np.array([0, 0, 1])
    logits = torch.tensor([[2.0, 1.0, 0.5], [0.3, -0.2, 1.5]])
    target = torch.tensor([0, 2])
    beta, beta_p = 0.5, 5.0
    loss = th.triple_header_loss(logits, target, cluster_class, beta, beta_p)

    # Sample 0 (cluster 0, class 0): own +0, cluster 1 (same class) +beta, cluster 2 (other class) +beta'.
    z0 = [2.0, 1.0 + beta, 0.5 + beta_p]
    # Sample 1 (cluster 2, class 1): clusters 0 and 1 are of the other class: +beta'.
    z1 = [0.3 + beta_p, -0.2 + beta_p, 1.5]
    nll0 = -(z0[0] - math.log(sum(math.exp(v) for v in z0)))
    nll1 = -(z1[2] - math.log(sum(math.exp(v) for v in z1)))
    # Cluster weights 1/K_c: class 0 has 2 clusters (w=1/2), class 1 one (w=1); weighted mean.
    w0, w1 = 0.5, 1.0
    expected = (w0 * nll0 + w1 * nll1) / (w0 + w1)
    assert float(loss) == pytest.approx(expected, rel=1e-6)


def test_offsets_only_touch_the_right_clusters():
    cc = np.array([0, 0, 1, 2])
    logits = torch.zeros(1, 4)
    out = th.triple_header_logits(logits, torch.tensor([1]), cc, beta=0.25, beta_prime=5.0)
    assert out.tolist() == [[0.25, 0.0, 5.0, 5.0]]


def test_cluster_layer_output_is_alpha_times_cosine():
    rng = np.random.default_rng(0)
    C = rng.normal(size=(5, 8)).astype(np.float32)
    layer = th.ClusterLayer(C, alpha_init=7.0)
    e = torch.nn.functional.normalize(torch.randn(3, 8), dim=1)
    cos = e.numpy() @ (C / np.linalg.norm(C, axis=1, keepdims=True)).T
    np.testing.assert_allclose(layer(e).detach().numpy(), 7.0 * cos, rtol=1e-5, atol=1e-6)


def test_weighted_bce_matches_eq2_by_hand():
    logits = torch.tensor([[0.2, -1.0, 2.0], [-0.5, 0.3, 0.0]])
    targets = torch.tensor([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    w = torch.tensor([2.0, 3.0, 4.0])
    got = float(th.weighted_bce(logits, targets, w))
    y = 1 / (1 + np.exp(-logits.numpy()))
    t = targets.numpy()
    by_hand = -(w.numpy() * t * np.log(y) + (1 - t) * np.log(1 - y)).mean()
    assert got == pytest.approx(by_hand, rel=1e-6)


def test_positive_weights_inverse_to_counts_and_targets():
    y = np.array([0, 0, 1, 2, 3, 3, 3, 3])
    np.testing.assert_allclose(th.positive_weights(y).numpy(), [8 / 2, 8 / 1, 8 / 1])
    assert th.event_targets(np.array([3, 1])).tolist() == [[0, 0, 0], [0, 1, 0]]
    with pytest.raises(ValueError, match="every event"):
        th.positive_weights(np.array([0, 3, 3]))


# --------------------------------------------------------------------------
# Clustering
# --------------------------------------------------------------------------
def test_spherical_kmeans_agrees_with_sklearn_on_separated_directions():
    from sklearn.cluster import KMeans
    from sklearn.metrics import adjusted_rand_score

    rng = np.random.default_rng(1)
    directions = np.eye(6)[:4]
    truth = rng.integers(4, size=300)
    X = directions[truth] + 0.05 * rng.normal(size=(300, 6))
    C, labels = th.spherical_kmeans(X, 4, seed=0)
    np.testing.assert_allclose(np.linalg.norm(C, axis=1), 1.0, atol=1e-5)
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    ref = KMeans(4, n_init=5, random_state=0).fit_predict(Xn)
    assert adjusted_rand_score(truth, labels) == pytest.approx(1.0)
    assert adjusted_rand_score(ref, labels) == pytest.approx(1.0)


def test_clusters_per_class_rule_and_no_mixing():
    assert th.clusters_per_class({0: 10, 1: 25, 2: 41}) == {0: 1, 1: 2, 2: 4}
    rng = np.random.default_rng(0)
    y = np.r_[np.zeros(20), np.ones(45), np.full(83, 2)].astype(int)
    emb = rng.normal(size=(len(y), 5))
    cl = th.cluster_per_class(emb, y)
    assert cl.k_per_class == {0: 1, 1: 2, 2: 4}
    assert len(cl.centroids) == 7
    assert (cl.cluster_class[cl.assignment] == y).all()


# --------------------------------------------------------------------------
# Quintuplets (Huang et al.)
# --------------------------------------------------------------------------
def test_mine_quintuplets_matches_brute_force():
    rng = np.random.default_rng(2)
    E = rng.normal(size=(40, 4))
    E /= np.linalg.norm(E, axis=1, keepdims=True)
    cls = rng.integers(2, size=40)
    cluster = cls * 2 + rng.integers(2, size=40)
    cluster[cls == 1] = 2  # class 1 has a single cluster: no p-, p--
    q = th.mine_quintuplets(E, cluster, cls, chunk=7)
    D = ((E[:, None] - E[None]) ** 2).sum(-1)
    for i in range(40):
        others = np.arange(40) != i
        pos = np.flatnonzero(others & (cluster == cluster[i]))
        mid = np.flatnonzero((cls == cls[i]) & (cluster != cluster[i]))
        neg = np.flatnonzero(cls != cls[i])
        exp = [
            pos[np.argmax(D[i, pos])] if len(pos) else -1,
            mid[np.argmin(D[i, mid])] if len(mid) else -1,
            mid[np.argmax(D[i, mid])] if len(mid) else -1,
            neg[np.argmin(D[i, neg])],
        ]
        assert q[i].tolist() == exp


def test_quintuplet_hinge_by_hand():
    a = torch.tensor([[1.0, 0.0]])
    pp, pm, pmm, n = (
        torch.tensor([[0.0, 1.0]]),
        torch.tensor([[1.0, 0.0]]),
        torch.tensor([[0.6, 0.8]]),
        torch.tensor([[1.0, 0.0]]),
    )
    valid = torch.tensor([[True, True, True, True]])
    d = [2.0, 0.0, 0.8, 0.0]  # squared distances of a to pp, pm, pmm, n
    g = 0.1
    expected = max(0, g + d[0] - d[1]) + max(0, g + d[1] - d[2]) + max(0, g + d[2] - d[3])
    assert float(th.quintuplet_hinge_loss(a, pp, pm, pmm, n, valid)) == pytest.approx(expected, rel=1e-6)
    single = torch.tensor([[True, False, False, True]])
    assert float(th.quintuplet_hinge_loss(a, pp, pm, pmm, n, single)) == pytest.approx(g + d[0] - d[3])


def test_growth_order():
    n = np.array([100, 200, 400, 800])
    assert th.growth_order(n, 3e-6 * n**2) == pytest.approx(2.0)


# --------------------------------------------------------------------------
# Networks and training
# --------------------------------------------------------------------------
@pytest.mark.parametrize("kind,dim", [("lstm", 128), ("cnn", 256)])
def test_embedders_are_unit_norm(kind, dim):
    m = th.make_embedder(kind)
    out = m(torch.randn(3, 64, 51))
    assert out.shape == (3, dim) and m.dim == dim
    np.testing.assert_allclose(out.norm(dim=1).detach().numpy(), 1.0, atol=1e-5)
    with pytest.raises(ValueError, match="unknown embedder"):
        th.make_embedder("mlp")


def test_algorithm1_runs_end_to_end_on_toy_data():
    from lib.models.training import set_seed

    set_seed(0)
    X, y = th.toy_data(n=60, seed=0)
    assert np.bincount(y).tolist() == [10, 10, 40]
    res = th.learn_embedding(th.LSTMEmbedder(1, 3), X, y, rounds=2, head_epochs=1, epochs=(1, 1), snapshot=True)
    assert res.clustering.k_per_class == {0: 1, 1: 1, 2: 4}
    assert len(res.snapshots) == 3
    Xva, yva = th.toy_data(n=30, seed=1)
    p1, p2, hist = th.train_detector(res, X, y, Xva, yva, head_epochs=2, e2e_epochs=1)
    assert th.detect(p2, Xva).shape == (30, 3)
    base, _ = th.train_baseline(th.LSTMEmbedder(1, 3), X, y, Xva, yva, epochs=1)
    assert th.detect(base, Xva).shape == (30, 3)
    # Proposed1 kept its own copy: Proposed2's end-to-end training did not change it.
    assert not torch.equal(p1.out.weight, p2.out.weight) or len([h for h in hist if "2" in h["stage"]]) == 0


def test_epoch_timers_run():
    X, y = th.toy_data(n=90, seed=0)
    a = th.epoch_time_triple_header(th.LSTMEmbedder(1, 3), X, y)
    cl = th.cluster_per_class(th.embed(th.LSTMEmbedder(1, 3), X), y)
    b = th.epoch_time_quintuplet(th.LSTMEmbedder(1, 3), X, y, cl.assignment)
    assert a["epoch_s"] > 0 and b["epoch_s"] > 0


# --------------------------------------------------------------------------
# The events dataset, on a tiny generated fixture
# --------------------------------------------------------------------------
def _fixture_corpus(root):
    folder = root / "acoustic_events"
    rng = np.random.default_rng(0)
    rows = []
    specs = [
        ("UrbanSound8K/audio/fold1/1001-3-0-{}.wav", "dog_bark", "UrbanSound8K", "1", 16000),
        ("UrbanSound8K/audio/fold1/2002-6-0-{}.wav", "gun_shot", "UrbanSound8K", "1", 16000),
        ("UrbanSound8K/audio/fold2/3003-0-0-{}.wav", "background", "UrbanSound8K", "2", 16000),
        (
            "donateacry_cleaned/hungry/0a1b2c3d-0000-1111-2222-333344445555-14307-1.7-m-04-hu-{}.wav",
            "baby_cry",
            "donateacry-corpus",
            "",
            8000,
        ),
        ("SESA/gunshot/gunshot_00{}.wav", "gun_shot", "SESA", "sesa:gunshot_00{}", 16000),
    ]
    for pattern, label, corpus, fold, sr in specs:
        for k in range(3):
            rel = pattern.format(k)
            path = folder / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            sf.write(path, (0.1 * rng.standard_normal(int(sr * 0.7))).astype(np.float32), sr)
            rows.append(
                {
                    "path": rel,
                    "label": label,
                    "original_class": label,
                    "corpus": corpus,
                    "fold": fold.format(k) if "{}" in fold else fold,
                    "sample_rate": sr,
                    "duration_s": 0.7,
                }
            )
    pd.DataFrame(rows).to_csv(folder / "manifest.csv", index=False)
    return folder


def test_events_loader_groups_features_and_bandwidth(tmp_path, monkeypatch):
    _fixture_corpus(tmp_path)
    monkeypatch.setenv("AUDIO_REPRO_DATA", str(tmp_path))
    monkeypatch.setenv("AUDIO_REPRO_CACHE", str(tmp_path / "cache"))
    df = ev.load_manifest()
    assert len(df) == 15 and set(df["y"]) == {0, 1, 2, 3}
    groups = df.set_index("label")["group"]
    assert set(groups["dog_bark"]) == {"freesound:1001"}
    assert set(groups["baby_cry"]) == {"donateacry:0a1b2c3d-0000-1111-2222-333344445555"}
    assert groups["gun_shot"].nunique() == 4  # one UrbanSound8K recording + three SESA groups
    X = ev.logmel_features(df, crop_s=0.5)
    assert X.shape == (15, 64, 51) and np.isfinite(X).all()
    assert (tmp_path / "cache" / "features").is_dir()
    # The 8 kHz file has no energy above 4 kHz when analysed at 16 kHz; at 8 kHz it looks like the rest.
    F16, F8 = ev.bandwidth_table(df, 16000), ev.bandwidth_table(df, 8000)
    is8 = (df["sample_rate"] == 8000).to_numpy()
    assert F16[is8, 0].max() < F16[~is8, 0].min() - 30
    assert abs(F8[is8, 0].mean() - F8[~is8, 0].mean()) < 3


def test_split_is_disjoint_by_recording_and_ratio_counts():
    rng = np.random.default_rng(0)
    n = 400
    df = pd.DataFrame(
        {
            "label": rng.choice(list(ev.LABELS), size=n, p=[0.2, 0.1, 0.1, 0.6]),
            "group": rng.integers(120, size=n).astype(str),
        }
    )
    s = ev.split(df, seed=0)
    spread = pd.DataFrame({"g": df["group"], "s": s}).groupby("g")["s"].nunique()
    assert spread.max() == 1 and set(s) == {"train", "val", "test"}
    labels = np.array(["dog_bark"] * 70 + ["baby_cry"] * 30 + ["gun_shot"] * 25 + ["background"] * 300)
    idx, counts = ev.ratio_subset(labels, ev.RATIO_6_1_2_16)
    assert counts == {"dog_bark": 66, "baby_cry": 11, "gun_shot": 22, "background": 176}
    assert len(idx) == sum(counts.values())
    _, small = ev.ratio_subset(labels, ev.RATIO_2_2_1_26, max_unit=5)
    assert small == {"dog_bark": 10, "baby_cry": 10, "gun_shot": 5, "background": 130}


def test_bad_file_names_raise_naming_the_file():
    bad = pd.DataFrame(
        {
            "path": ["UrbanSound8K/audio/fold1/abc-1-0-0.wav"],
            "corpus": ["UrbanSound8K"],
            "fold": ["1"],
            "label": ["dog_bark"],
        }
    )
    with pytest.raises(ev.data.DataError, match="abc-1-0-0.wav"):
        ev.source_groups(bad)
    missing = pd.DataFrame({"path": ["SESA/x.wav"], "corpus": ["SESA"], "fold": [""], "label": ["gun_shot"]})
    with pytest.raises(ev.data.DataError, match="SESA/x.wav"):
        ev.source_groups(missing)
    with pytest.raises(ev.data.DataError, match="unknown labels"):
        ev.annotate(pd.DataFrame({"path": ["a.wav"], "corpus": ["SESA"], "fold": ["g"], "label": ["cat"]}))


def test_band_limit_hides_an_anti_alias_roll_off_below_nyquist():
    """Noise low-passed at 3.7 kHz (an 8 kHz recording chain) vs full-band noise, both at 8 kHz:
    the whole-band descriptors tell them apart, the 0–3.5 kHz descriptors do not."""
    from scipy.signal import butter, sosfiltfilt

    rng = np.random.default_rng(0)
    sos = butter(10, 3700, fs=8000, output="sos")
    full = [rng.standard_normal(8000) for _ in range(5)]
    rolled = [sosfiltfilt(sos, rng.standard_normal(8000)) for _ in range(5)]
    whole = np.array([[ev.bandwidth_features(y, 8000)[0] for y in ys] for ys in (full, rolled)])
    band = np.array([[ev.bandwidth_features(y, 8000, ev.FMAX)[0] for y in ys] for ys in (full, rolled)])
    assert whole[0].min() > whole[1].max() + 2  # top eighth of 0–4 kHz: the roll-off shows
    assert abs(band[0].mean() - band[1].mean()) < 0.5  # top eighth of 0–3.5 kHz: it does not
    X = ev.logmel_clip_batch(np.stack([full[0], rolled[0]]).astype(np.float32))
    assert X.shape[1] == 64 and np.abs(X[0] - X[1]).mean() < 8  # same content below 3.5 kHz


# --------------------------------------------------------------------------
# Size-balanced clusters, cross-validation folds, the shipped-detector round trip
# --------------------------------------------------------------------------
def _brute_force_balanced(S, capacity):
    """Best total similarity over every assignment that respects the capacity (independent reference)."""
    import itertools

    n, k = S.shape
    best = -np.inf
    for labels in itertools.product(range(k), repeat=n):
        if max(np.bincount(labels, minlength=k)) <= capacity:
            best = max(best, S[np.arange(n), labels].sum())
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_balanced_assignment_is_optimal_under_the_capacity(seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((7, 4))
    C = rng.standard_normal((3, 4))
    labels = th.balanced_assignment(X, C)
    assert np.bincount(labels, minlength=3).max() <= 3  # ceil(7 / 3)
    S = X @ C.T
    assert S[np.arange(7), labels].sum() == pytest.approx(_brute_force_balanced(S, 3))


def test_balanced_kmeans_evens_out_a_lopsided_class():
    """Plain k-means follows the data (one big blob, one small); the balanced variant halves them."""
    rng = np.random.default_rng(0)
    big = rng.normal([1, 0, 0], 0.05, (90, 3))
    small = rng.normal([0, 1, 0], 0.05, (10, 3))
    X = np.vstack([big, small])
    _, plain = th.spherical_kmeans(X, 2, seed=0)
    _, even = th.spherical_kmeans(X, 2, seed=0, balanced=True)
    assert sorted(np.bincount(plain)) == [10, 90]
    assert sorted(np.bincount(even)) == [50, 50]
    cl = th.cluster_per_class(X, np.r_[np.zeros(98, int), [1, 1]], balanced=True)
    assert max(np.bincount(cl.assignment[:98])) - min(np.bincount(cl.assignment[:98])) <= 1


def test_nearest_own_cluster_never_picks_another_class():
    cl = th.Clustering(np.eye(3, dtype=np.float32), np.array([0, 0, 1]), np.zeros(3, dtype=int))
    emb = np.array([[0.0, 0.0, 1.0], [0.0, 0.9, 0.1], [1.0, 0.0, 0.0]])
    assert th.nearest_own_cluster(emb, [0, 0, 1], cl).tolist() == [0, 1, 2]


def test_cross_validation_tests_every_clip_once_and_never_splits_a_recording():
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame(
        {
            "label": rng.choice(list(ev.LABELS), size=n, p=[0.2, 0.1, 0.1, 0.6]),
            "group": rng.integers(200, size=n).astype(str),
        }
    )
    folds = ev.cross_validation_folds(df, n_folds=5, seed=0)
    assert list(folds.columns) == [f"fold{k}" for k in range(5)]
    assert ((folds == "test").sum(axis=1) == 1).all()  # every clip is tested exactly once
    for col in folds:
        spread = pd.DataFrame({"g": df["group"], "s": folds[col]}).groupby("g")["s"].nunique()
        assert spread.max() == 1
        share = folds[col].value_counts(normalize=True)
        assert 0.1 < share["val"] < 0.3 and 0.1 < share["test"] < 0.3


def test_shipped_detector_round_trip_scores_a_file(tmp_path):
    from lib.models.training import set_seed

    set_seed(0)
    X, y = th.toy_data(n=60, seed=0)
    res = th.learn_embedding(
        th.CNNEmbedder(64),
        np.random.default_rng(0).standard_normal((60, 64, 51)).astype(np.float32),
        y,
        rounds=1,
        head_epochs=1,
        epochs=(1,),
    )
    Xf = np.random.default_rng(1).standard_normal((60, 64, 51)).astype(np.float32)
    _, p2, _ = th.train_detector(res, Xf, y, Xf[:20], y[:20], head_epochs=1, e2e_epochs=1)
    path = th.save_detector(
        p2,
        tmp_path / "d.pt",
        arch="cnn",
        n_mels=64,
        mean=np.zeros((1, 64, 1)),
        std=np.ones((1, 64, 1)),
        crop_s=0.5,
        thresholds=[0.5, 0.5, 0.5],
    )
    model, ckpt = th.load_detector(path)
    assert np.allclose(th.detect(model, Xf[:5]), th.detect(p2.eval(), Xf[:5]), atol=1e-6)
    wav = tmp_path / "clip.wav"
    sf.write(wav, (0.1 * np.random.default_rng(2).standard_normal(16000)).astype(np.float32), 16000)
    out = th.score_files([wav], path)
    assert list(out.columns) == ["file", *ev.EVENTS] and out.shape == (1, 4)
    assert ((out[list(ev.EVENTS)] >= 0) & (out[list(ev.EVENTS)] <= 1)).all().all()
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        th.load_detector(tmp_path / "nope.pt")
    with pytest.raises(ValueError, match="clip.wav"):
        th.load_detector(wav)
