"""lib.balancing: class weights, ratio subsampling, mixup, and the head-to-head chapter's samplers."""

import numpy as np
import pytest

from lib import balancing


def test_class_weights_and_ratio_subsampling():
    y = np.array([0] * 90 + [1] * 10)
    w = balancing.class_weights(y)
    assert w[1] == pytest.approx(5.0) and w[0] == pytest.approx(100 / 180)
    counts = balancing.counts_for_ratio(
        {"dog": 300, "baby": 400, "gun": 120, "bg": 2000}, {"dog": 6, "baby": 1, "gun": 2, "bg": 16}
    )
    assert counts == {"dog": 300, "baby": 50, "gun": 100, "bg": 800}
    labels = np.array(["a"] * 5 + ["b"] * 5)
    idx = balancing.subsample_to_counts(labels, {"a": 2, "b": 5})
    assert (labels[idx] == "a").sum() == 2
    with pytest.raises(ValueError):
        balancing.subsample_to_counts(labels, {"a": 6})


def test_mixup_mixes_features_and_labels():
    X1, X2 = np.ones((2, 3)), np.zeros((2, 3))
    Y1, Y2 = np.array([[1, 0], [1, 0]]), np.array([[0, 1], [0, 1]])
    X, Y = balancing.mixup(X1, X2, Y1, Y2, np.array([0.7, 0.2]))
    np.testing.assert_allclose(X[:, 0], [0.7, 0.2])
    np.testing.assert_allclose(Y.sum(axis=1), 1)


def _overlapping(seed=3):
    rng = np.random.default_rng(seed)
    y = np.repeat([0, 1, 2], [200, 200, 10])
    X = rng.normal(size=(410, 4)).astype(np.float32) + 0.3 * y[:, None]  # heavily overlapping classes
    return X, y


def test_smoteenn_samplers_by_configuration():
    X, y = _overlapping()
    assert balancing.SMOTEENN_DEFAULT in balancing.SMOTEENN_CONFIGS
    default = balancing.smoteenn(y, 3, seed=0)
    assert isinstance(default, balancing.SyntheticENN)
    Xr, yr = default.fit_resample(X, y)
    assert np.array_equal(Xr[:410], X) and (np.bincount(yr, minlength=3) >= np.bincount(y)).all()
    assert isinstance(balancing.smoteenn(y, 3, seed=0, config="chapter01"), balancing.SMOTEENN)
    assert balancing.smoteenn(np.repeat([0, 1], 5), 2, seed=0, config="enn_grown") is None  # nothing grown
    with pytest.raises(ValueError, match="at least 2"):
        balancing.smoteenn(np.r_[np.zeros(5, int), 1], 2, seed=0)


def test_hard_label_pdds_returns_distributions_and_keeps_the_originals():
    X, y = _overlapping(4)
    Xr, Yr = balancing.HardLabelPDDS(3, seed=0).fit_resample(X, y)
    assert Yr.dtype == np.float32 and Yr.shape == (len(Xr), 3)
    np.testing.assert_allclose(Yr.sum(1), 1, atol=1e-6)
    assert np.array_equal(Xr[:410], X) and np.array_equal(Yr[:410].argmax(1), y)
    assert (Yr.argmax(1) == 2).sum() > 10  # the scarce clear class is raised
