"""The head-to-head chapter's tasks and experiment: weighted metrics, folds, the repaired SMOTEENN through the
registry, the paired effect (lib.metrics) and the CD cliques (lib.page)."""

import numpy as np
import pytest

from lib import balancing, metrics, page
from lib.datasets import head_to_head as T
from lib.models import head_to_head as M


def _task(name, n_classes, rare, higher=True):
    return T.Task(
        name, [str(c) for c in range(n_classes)], rare, np.zeros((1, 1)), np.zeros(1, int), np.zeros(1), [], "m", higher
    )


def test_weighted_metrics_with_unit_weights_match_the_library():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 300)
    pred = np.where(rng.random(300) < 0.6, y, rng.integers(0, 5, 300))
    proba = np.eye(5)[pred]
    ones = np.ones((1, 300))
    kws, emo = _task("kws", 5, [1]), _task("emotion", 5, [1])
    assert np.isclose(T.weighted_score(kws, ones, y, pred)[0], T.score(kws, y, proba))
    assert np.isclose(T.weighted_score(emo, ones, y, pred)[0], T.score(emo, y, proba))
    scores = rng.random((300, 5)) + 0.8 * np.eye(5)[y]
    scores[:40, 1] = 0.5  # ties
    ev = _task("events", 5, [0, 1, 2], higher=False)
    assert np.isclose(T.weighted_score(ev, ones, y, scores[:, [0, 1, 2]])[0], T.score(ev, y, scores))


def test_integer_weights_equal_repeating_items():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    s = rng.random(200) + 0.5 * y
    w = rng.integers(0, 4, 200)
    rep = np.repeat(np.arange(200), w)
    assert np.isclose(T.weighted_eer(w[None].astype(float), y, s)[0], metrics.eer(y[rep], s[rep]))
    pred = np.where(rng.random(200) < 0.7, y, 1 - y)
    M_ = T.weighted_confusion(w[None], y, pred, 2)[0]
    assert np.array_equal(M_, metrics.confusion(y[rep], pred[rep], [0, 1]))


def test_group_folds_test_every_item_once_and_keep_groups_together():
    rng = np.random.default_rng(2)
    groups = rng.integers(0, 60, 500).astype(str)
    y = (rng.random(500) < 0.2).astype(int)
    folds = T.group_folds(y, groups, 5)
    test = np.concatenate([f["test"] for f in folds])
    assert sorted(test) == list(range(500))
    for f in folds:
        parts = [set(groups[f[k]]) for k in ("train", "val", "test")]
        assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_controlled_subset_counts():
    y = np.repeat([0, 1, 2], [100, 50, 30])
    idx, counts = T.controlled_subset(y, [2], 5, 40, seed=0)
    assert counts == {0: 40, 1: 40, 2: 8}
    assert np.array_equal(np.bincount(y[idx]), [40, 40, 8])


@pytest.mark.parametrize("config", list(balancing.SMOTEENN_CONFIGS))
def test_smoteenn_configs_run_and_the_repaired_one_never_deletes_real_samples(config):
    rng = np.random.default_rng(3)
    y = np.repeat([0, 1, 2], [200, 200, 10])
    X = rng.normal(size=(410, 4)).astype(np.float32) + 0.3 * y[:, None]  # heavily overlapping classes
    Xr, yr = M.resample("smoteenn", X, y, 3, seed=0, smoteenn_config=config)
    counts = np.bincount(yr, minlength=3)
    if config == "enn_synthetic":
        assert (counts >= np.bincount(y)).all()
        assert np.array_equal(Xr[:410], X)  # the originals come first, untouched
    if config == "chapter01":
        assert counts[:2].sum() < 400  # the defaults delete real samples of the common classes


def test_nemenyi_cliques():
    ranks = {"a": 1.0, "b": 1.5, "c": 3.0, "d": 6.0}
    assert page.nemenyi_cliques(ranks, 2.1) == [(0, 2)]
    assert page.nemenyi_cliques(ranks, 0.1) == []


def test_paired_effect_sign_and_interval():
    rng = np.random.default_rng(4)
    n = 120
    y = rng.integers(0, 3, n)
    groups = np.arange(n) // 4
    task = T.Task(
        "emotion",
        ["a", "b", "c"],
        [2],
        np.zeros((n, 1)),
        y,
        groups.astype(str),
        [{"train": np.arange(0), "val": np.arange(0), "test": np.arange(n)}],
        "UA",
        True,
    )
    good = {(5, s, "good"): np.where(rng.random(n) < 0.9, y, (y + 1) % 3) for s in range(3)}
    bad = {(5, s, "bad"): np.where(rng.random(n) < 0.4, y, (y + 1) % 3) for s in range(3)}
    iv = metrics.paired_effect(
        {"emotion": task}, {"emotion": {**good, **bad}}, "good", "bad", {"emotion": [5]}, range(3), n_boot=200
    )
    assert iv.low > 0 and iv.low <= iv.estimate <= iv.high
    assert iv.n == 3 * n and iv.n_groups == 30
