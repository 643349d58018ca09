import jiwer
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib import metrics as M


def brute_force_eer(labels, scores):
    """Independent EER: sweep every threshold, take the point where |FNR - FPR| is smallest."""
    labels, scores = np.asarray(labels), np.asarray(scores)
    best = (2.0, None)
    for t in np.r_[np.unique(scores), np.inf]:
        accept = scores >= t
        fpr = (accept & (labels == 0)).sum() / (labels == 0).sum()
        fnr = (~accept & (labels == 1)).sum() / (labels == 1).sum()
        if abs(fnr - fpr) < best[0]:
            best = (abs(fnr - fpr), (fnr + fpr) / 2)
    return best[1]


def test_eer_known_values():
    assert M.eer([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert M.eer([0, 0, 1, 1], [0.9, 0.8, 0.2, 0.1]) == 1.0
    rng = np.random.default_rng(0)
    # Two unit-variance Gaussians one d' apart: EER = Phi(-d'/2).
    from scipy.stats import norm

    neg, pos = rng.normal(0, 1, 200000), rng.normal(2, 1, 200000)
    e = M.eer(np.r_[np.zeros_like(neg), np.ones_like(pos)], np.r_[neg, pos])
    assert abs(e - norm.cdf(-1)) < 0.003


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=4, max_size=60))
def test_eer_agrees_with_brute_force(pairs):
    labels = [p[0] for p in pairs]
    scores = [round(p[1], 2) for p in pairs]
    if len(set(labels)) < 2:
        return
    ours, ref = M.eer(labels, scores), brute_force_eer(labels, scores)
    # Interpolated vs. nearest-threshold: they agree within one trial's step.
    step = 1 / min(labels.count(0), labels.count(1))
    assert abs(ours - ref) <= step + 1e-9
    assert 0 <= ours <= 1


def test_eer_needs_both_classes():
    with pytest.raises(ValueError):
        M.eer([1, 1], [0.2, 0.3])


def test_thresholds():
    labels = [0, 0, 0, 1, 1, 1]
    scores = [0.1, 0.2, 0.6, 0.5, 0.8, 0.9]
    t = M.best_accuracy_threshold(labels, scores)
    acc = np.mean((np.array(scores) >= t) == np.array(labels))
    assert acc == pytest.approx(5 / 6)
    fpr, fnr, thr = M.det_curve(labels, scores)
    assert len(fpr) == len(fnr) == len(thr)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.text(alphabet="abc ", min_size=1, max_size=12).filter(lambda s: s.strip()), min_size=1, max_size=5),
    st.lists(st.text(alphabet="abcd ", max_size=12), min_size=5, max_size=5),
)
def test_wer_and_cer_agree_with_jiwer(refs, hyps):
    hyps = [" ".join(h.split()) for h in hyps[: len(refs)]]
    refs = [" ".join(r.split()) for r in refs]
    assert M.wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps))
    assert M.cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps))


def test_edit_distance():
    assert M.edit_distance("kitten", "sitting") == 3
    assert M.edit_distance([], ["a"]) == 1


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=2, max_size=40), st.data())
def test_ua_is_mean_recall_and_wa_is_accuracy(y_true, data):
    y_pred = data.draw(st.lists(st.integers(0, 3), min_size=len(y_true), max_size=len(y_true)))
    y_true, y_pred = np.array(y_true), np.array(y_pred)
    recalls = [np.mean(y_pred[y_true == c] == c) for c in np.unique(y_true)]
    assert M.unweighted_accuracy(y_true, y_pred) == pytest.approx(np.mean(recalls))
    assert M.weighted_accuracy(y_true, y_pred) == pytest.approx(np.mean(y_true == y_pred))


def test_classification_summary_and_confusions():
    y = ["a", "a", "b", "b", "c"]
    p = ["a", "b", "b", "b", "a"]
    s = M.classification_summary(y, p, ["a", "b", "c"])
    assert s["accuracy"] == pytest.approx(0.6)
    assert s["per_class"]["c"]["recall"] == 0
    cm = M.confusion(y, p, ["a", "b", "c"])
    assert M.most_confused(cm, ["a", "b", "c"], 2)[0][2] == 1


@pytest.mark.parametrize("shift,margin", [(0.0, 1.0), (0.4, 1.0), (-0.7, 1.0), (1.5, 1.0), (0.2, 0.3)])
def test_tost_agrees_with_statsmodels(shift, margin):
    """Independent reference: statsmodels' paired TOST (the differences against zeros) and its two t-tests."""
    from statsmodels.stats.weightstats import ttost_paired

    rng = np.random.default_rng(7)
    v = rng.normal(shift, 0.8, 8)
    ours = M.tost(v, margin, alpha=0.05)
    p, (_, p_low, df_low), (_, p_up, _) = ttost_paired(v, np.zeros_like(v), -margin, margin)
    assert ours["p_value"] == pytest.approx(p)
    assert ours["p_lower"] == pytest.approx(p_low) and ours["p_upper"] == pytest.approx(p_up)
    assert ours["df"] == df_low == len(v) - 1


@pytest.mark.parametrize("alpha", [0.05, 0.025])
def test_tost_rejects_exactly_when_its_interval_lies_inside_the_margin(alpha):
    rng = np.random.default_rng(3)
    for _ in range(200):
        v = rng.normal(rng.uniform(-2, 2), rng.uniform(0.2, 2), rng.integers(3, 10))
        out = M.tost(v, 1.0, alpha=alpha)
        iv = out["interval"]
        assert iv.level == pytest.approx(1 - 2 * alpha) and iv.p_value == out["p_value"]
        assert out["equivalent"] == (-1.0 < iv.low and iv.high < 1.0)
        ref = M.mean_ci(v, level=1 - 2 * alpha)  # the same t-interval as mean_ci at that level
        assert (iv.low, iv.high) == pytest.approx((ref.low, ref.high))


def test_tost_edge_cases():
    assert M.tost([0.5, 0.5, 0.5], 1.0)["equivalent"]  # no spread: the mean is exact
    assert not M.tost([1.5, 1.5], 1.0)["equivalent"]
    with pytest.raises(ValueError):
        M.tost([0.1], 1.0)
    with pytest.raises(ValueError):
        M.tost([0.1, 0.2], 0.0)
