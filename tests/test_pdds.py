"""PDDS (lib.balancing): hand-computed small cases, and eq. (1) against scipy's convolution."""

import numpy as np
import pytest
from scipy.ndimage import convolve1d

from lib import balancing

W1 = np.exp(-0.5)  # Gaussian weight of a neighbouring bin for sigma = 1


def votes_from_counts(M):
    """Vote rows realising a (c, c) pair-count matrix: clear rows [3,0,..], ambiguous rows 2 major + 1 minor."""
    c = len(M)
    rows = []
    for i in range(c):
        for j in range(c):
            for _ in range(int(M[i][j])):
                v = np.zeros(c)
                if i == j:
                    v[i] = 3
                else:
                    v[i], v[j] = 2, 1
                rows.append(v)
    return np.array(rows)


def test_vote_types_hand_cases():
    t = balancing.vote_types([[3, 0, 0], [2, 1, 0], [1, 1, 0], [3, 1, 1], [0, 0, 0], [0, 1, 4]])
    assert t["kind"].tolist() == ["clear", "ambiguous", "no_majority", "ambiguous", "empty", "ambiguous"]
    assert t["major"].tolist() == [0, 0, -1, 0, -1, 2]
    assert t["minor"].tolist() == [-1, 1, -1, 1, -1, 1]
    assert t["minor_tie"].tolist() == [False, False, False, True, False, False]


def test_pair_counts_matrix():
    M = balancing.pair_counts([[3, 0], [2, 1], [2, 1], [0, 5], [1, 1]])
    assert M.tolist() == [[1, 2], [0, 1]]  # the no-majority row is not counted


def test_smoothing_hand_computed_and_against_scipy_convolution():
    M = np.array([[10, 2], [0, 4]])
    S = balancing.smooth_pair_counts(M, sigma=1.0)
    assert S[0, 1] == pytest.approx(W1 * 10 + 2 + W1 * 0)  # 8.065
    assert S[1, 0] == pytest.approx(W1 * 2 + 0 + W1 * 4)  # 3.639
    assert S[0, 0] == 10 and S[1, 1] == 4  # clear bins are not smoothed
    # Independent reference: convolve the four-bin distribution I, I_j, J_i, J with [w1, 1, w1].
    four = np.array([10, 2, 0, 4], dtype=float)
    ref = convolve1d(four, [W1, 1.0, W1], mode="constant")
    assert S[0, 1] == pytest.approx(ref[1]) and S[1, 0] == pytest.approx(ref[2])
    # Normalised kernel variant and another sigma.
    Sn = balancing.smooth_pair_counts(M, sigma=1.0, normalize=True)
    assert Sn[0, 1] == pytest.approx(ref[1] / (1 + 2 * W1))
    w = np.exp(-1 / (2 * 0.5**2))
    assert balancing.smooth_pair_counts(M, sigma=0.5)[0, 1] == pytest.approx(w * 10 + 2)


def test_smoothing_three_classes_every_pair():
    rng = np.random.default_rng(0)
    M = rng.integers(0, 30, size=(3, 3))
    S = balancing.smooth_pair_counts(M)
    for i in range(3):
        for j in range(3):
            if i != j:
                ref = convolve1d(np.array([M[i, i], M[i, j], M[j, i], M[j, j]], float), [W1, 1, W1], mode="constant")
                assert S[i, j] == pytest.approx(ref[1])


def test_clear_targets():
    assert balancing.clear_targets([10, 4, 7], "min_other").tolist() == [10, 7, 7]
    assert balancing.clear_targets([10, 4, 7], "max").tolist() == [10, 10, 10]
    assert balancing.clear_targets([10, 4, 7], 8).tolist() == [10, 8, 8]
    assert balancing.clear_targets([10, 4, 7], None).tolist() == [10, 4, 7]
    with pytest.raises(ValueError, match="unknown clear target"):
        balancing.clear_targets([1, 2], "mean")


def test_pdds_counts_before_and_after_hand_computed():
    M = np.array([[10, 2], [0, 4]])
    V = votes_from_counts(M)
    X = np.arange(len(V), dtype=np.float32)[:, None].repeat(3, 1)
    pdds = balancing.PDDS(p=0.8, random_state=0)
    X2, Y2 = pdds.fit_resample(X, V)
    assert pdds.counts_before_.tolist() == [[10, 2], [0, 4]]
    # Step 2: class 1 (4 clear) is raised to the other class's 10 clear samples.
    # Step 3 on the balanced counts: 0->1: w1*10 + 2 + w1*0 = 8.07 -> 8; 1->0: w1*10 + 0 + w1*2 = 7.28 -> 7.
    assert pdds.counts_target_.tolist() == [[10, 8], [7, 10]]
    assert pdds.counts_after_.tolist() == [[10, 8], [7, 10]]
    kinds = pdds.origin_["kind"]
    assert (kinds == "original").sum() == 16 and (kinds == "clear_mix").sum() == 6
    assert (kinds == "ambiguous_mix").sum() == 6 + 7
    assert len(X2) == len(Y2) == 16 + 6 + 13
    # The output's own vote types agree with the reported counts.
    assert balancing.pair_counts(Y2).tolist() == pdds.counts_after_.tolist()


def test_mixed_samples_features_and_label_distributions():
    M = np.array([[5, 0, 0], [0, 5, 0], [0, 0, 5]])
    V = votes_from_counts(M)
    rng = np.random.default_rng(1)
    X = rng.normal(size=(len(V), 4, 2)).astype(np.float32)  # frame sequences work too
    X2, Y2 = balancing.PDDS(p=0.7, random_state=0).fit_resample(X, V)
    pdds = balancing.PDDS(p=0.7, random_state=0)
    X2, Y2 = pdds.fit_resample(X, V)
    o = pdds.origin_
    amb = np.flatnonzero(o["kind"] == "ambiguous_mix")
    assert len(amb) == 6 * round(W1 * 5)  # every ordered pair: w1*5 = 3.03 -> 3
    for k in amb:
        a, b = o["a"][k], o["b"][k]
        np.testing.assert_allclose(X2[k], 0.7 * X[a] + 0.3 * X[b], rtol=1e-6)
        i, j = np.argmax(V[a]), np.argmax(V[b])
        assert i != j
        expected = np.zeros(3)
        expected[i], expected[j] = 0.7, 0.3
        np.testing.assert_allclose(Y2[k], expected, atol=1e-6)
    np.testing.assert_allclose(Y2.sum(1), 1.0, atol=1e-6)
    # Originals come first, unchanged, with their votes turned into distributions.
    np.testing.assert_array_equal(X2[: len(X)], X)
    np.testing.assert_allclose(Y2[: len(X)], V / V.sum(1, keepdims=True))


def test_clear_mix_is_within_class_with_clear_p():
    V = votes_from_counts(np.array([[6, 0], [0, 2]]))
    X = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    pdds = balancing.PDDS(ambiguous=None, random_state=0)
    X2, Y2 = pdds.fit_resample(X, V)
    mix = np.flatnonzero(pdds.origin_["kind"] == "clear_mix")
    assert len(mix) == 4
    for k in mix:
        a, b = pdds.origin_["a"][k], pdds.origin_["b"][k]
        assert a != b and np.argmax(V[a]) == np.argmax(V[b]) == 1
        np.testing.assert_allclose(X2[k], 0.5 * X[a] + 0.5 * X[b], rtol=1e-6)
        np.testing.assert_allclose(Y2[k], [0, 1])
    assert (pdds.origin_["kind"] == "ambiguous_mix").sum() == 0


def test_never_undersamples():
    M = np.array([[1, 50], [3, 1]])  # abundant ambiguous bin 0->1 exceeds its smoothed target
    V = votes_from_counts(M)
    X = np.zeros((len(V), 2), np.float32)
    # The unnormalised kernel of eq. (1) never lowers a bin (its own weight is 1) ...
    pdds = balancing.PDDS(random_state=0)
    pdds.fit_resample(X, V)
    assert pdds.counts_target_[0, 1] == round(W1 * 1 + 50 + W1 * 3)
    # ... the normalised one would (50 -> 23.7): PDDS keeps the 50 originals and adds nothing there.
    pdds = balancing.PDDS(normalize_kernel=True, random_state=0)
    X2, Y2 = pdds.fit_resample(X, V)
    assert pdds.counts_target_[0, 1] == 50 and pdds.counts_after_[0, 1] == 50
    assert (pdds.counts_after_ >= pdds.counts_before_).all()
    assert len(X2) >= len(X)
    # Uniform balancing to 5: only bins under 5 grow.
    pdds = balancing.PDDS(clear_target=5, ambiguous=5, random_state=0)
    pdds.fit_resample(X, V)
    assert pdds.counts_after_.tolist() == [[5, 50], [5, 5]]


def test_integer_labels_all_clear_and_p_one_copies_major():
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    X = np.arange(8, dtype=np.float32)[:, None]
    pdds = balancing.PDDS(p=1.0, random_state=0)
    X2, Y2 = pdds.fit_resample(X, y)
    t = round(W1 * 4)
    assert pdds.counts_target_.tolist() == [[4, t], [t, 4]]
    amb = pdds.origin_["kind"] == "ambiguous_mix"
    np.testing.assert_allclose(X2[amb][:, 0], X[pdds.origin_["a"][amb], 0])  # p = 1: a copy of the major sample
    np.testing.assert_allclose(Y2[amb].max(1), 1.0)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="samples"):
        balancing.PDDS().fit_resample(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="mixup weights"):
        balancing.PDDS(p=1.5).fit_resample(np.zeros((2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="no clear sample"):
        balancing.PDDS(clear_target=3).fit_resample(np.zeros((3, 1)), np.array([[2, 1], [2, 1], [3, 0]]))


def test_reproducible_with_random_state():
    V = votes_from_counts(np.array([[4, 1, 0], [0, 6, 2], [1, 0, 3]]))
    X = np.random.default_rng(0).normal(size=(len(V), 2)).astype(np.float32)
    a = balancing.PDDS(random_state=3).fit_resample(X, V)
    b = balancing.PDDS(random_state=3).fit_resample(X, V)
    np.testing.assert_array_equal(a[0], b[0])
    assert balancing.PDDS(p=0.6).get_params()["p"] == 0.6


def test_all_clear_labels_give_uniform_all_pairs_mixup_under_both_readings():
    """EmoDB's case: no votes, every sample clear -> each ordered pair gets round(w * n_major) mixtures."""
    y = np.repeat(np.arange(3), [10, 20, 30])
    for normalize, w in [(False, W1), (True, W1 / (1 + 2 * W1))]:
        pdds = balancing.PDDS(p=0.8, clear_target="min_other", normalize_kernel=normalize, random_state=0)
        X2, Y2 = pdds.fit_resample(np.zeros((len(y), 2), np.float32), y, n_classes=3)
        clear = np.array([20, 20, 30])  # the scarcest class raised to the next-smallest
        expected = np.rint(w * clear[:, None] * np.ones((1, 3))).astype(int)
        np.fill_diagonal(expected, clear)
        assert pdds.counts_after_.tolist() == expected.tolist()
        # No real sample is removed, re-weighted or relabelled: the originals come first, unchanged.
        assert np.array_equal(Y2[: len(y)], np.eye(3, dtype=np.float32)[y])
        assert (pdds.origin_["kind"][: len(y)] == "original").all()


def test_pdds_on_one_hot_votes_is_hard_label_pdds():
    """EmoDB's votes are one-hot, so the emotion chapter's PDDS (on votes) and the head-to-head chapter's
    (on hard labels) make the same training set: 'soft vs hard labels' is no difference between them."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(4), [12, 7, 9, 15])
    X = rng.normal(size=(len(y), 5, 3)).astype(np.float32)
    votes = np.eye(4, dtype=np.float32)[y]
    Xa, Ya = balancing.PDDS(p=0.8, sigma=1.0, clear_target="min_other", random_state=5).fit_resample(X, votes, 4)
    Xb, Yb = balancing.HardLabelPDDS(4, 5).fit_resample(X, y)
    np.testing.assert_array_equal(Xa, Xb)
    np.testing.assert_allclose(Ya, Yb)


def test_kl_loss_and_soft_cross_entropy_differ_by_a_constant():
    """The emotion chapter's KL loss and the head-to-head chapter's soft-label cross-entropy give the same
    gradients: they differ by the targets' entropy, which does not depend on the model."""
    import torch

    from lib.models import cltnet

    torch.manual_seed(0)
    logits = torch.randn(6, 4, requires_grad=True)
    target = torch.tensor(np.eye(4, dtype=np.float32)[[0, 1, 2, 3, 0, 1]])
    target[4] = torch.tensor([0.8, 0.2, 0.0, 0.0])  # a PDDS mixture
    kl, ce = cltnet.kl_loss(logits, target), balancing.soft_cross_entropy(logits, target)
    entropy = -(target * torch.log(target.clamp_min(1e-12))).sum(1).mean()
    assert torch.allclose(ce - kl, entropy, atol=1e-6)
    (g_kl,) = torch.autograd.grad(kl, logits)
    (g_ce,) = torch.autograd.grad(ce, logits)
    assert torch.allclose(g_kl, g_ce, atol=1e-7)
