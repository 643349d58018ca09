"""The statistics behind every verdict, checked against scipy, textbook values and simulation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import metrics as M


def test_bootstrap_ci_matches_scipy_percentile_bootstrap():
    x = np.random.default_rng(1).normal(3.0, 2.0, 300)
    ours = M.bootstrap_ci(np.mean, x, n_boot=4000, seed=0)
    ref = stats.bootstrap((x,), np.mean, n_resamples=4000, method="percentile", random_state=0).confidence_interval
    assert ours.estimate == pytest.approx(x.mean())
    assert ours.low == pytest.approx(ref.low, abs=0.05) and ours.high == pytest.approx(ref.high, abs=0.05)
    assert ours.n == 300 and ours.n_groups is None


def test_group_bootstrap_keeps_coverage_when_items_cluster():
    """Simulation: 20 speakers × 30 trials with a speaker effect. Resampling trials as if independent
    under-covers; resampling speakers keeps close to the nominal 95 %."""
    rng = np.random.default_rng(0)
    hits_items = hits_groups = 0
    reps = 120
    for _ in range(reps):
        groups = np.repeat(np.arange(20), 30)
        x = rng.normal(0, 1, 20)[groups] + rng.normal(0, 0.5, groups.size)  # true mean 0
        a = M.bootstrap_ci(np.mean, x, n_boot=300, seed=int(rng.integers(1e9)), null=None)
        b = M.bootstrap_ci(np.mean, x, groups=groups, n_boot=300, seed=int(rng.integers(1e9)), null=None)
        hits_items += a.low <= 0 <= a.high
        hits_groups += b.low <= 0 <= b.high
    assert hits_items / reps < 0.5
    assert hits_groups / reps > 0.85


def test_paired_difference_sees_what_unpaired_seeds_hide():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 2000)
    hard = rng.random(2000) < 0.4  # items both systems find hard
    a = np.where(hard, 1 - y, y)
    b = a.copy()
    flip = rng.choice(np.flatnonzero(~hard), 100, replace=False)  # B errs on 100 more items
    b[flip] = 1 - b[flip]
    acc = lambda t, p: np.mean(t == p)  # noqa: E731
    d = M.paired_difference(acc, y, a, b, n_boot=1000)
    assert d.estimate == pytest.approx(0.05) and d.low > 0 and d.p_value < 0.01
    same = M.paired_difference(acc, y, a, a, n_boot=200)
    assert same.estimate == same.low == same.high == 0.0


def test_mean_ci_is_the_t_interval():
    v = [1.2, -0.4, 2.5, 0.8, 1.9, 0.1]
    ours = M.mean_ci(v)
    low, high = stats.t.interval(0.95, len(v) - 1, loc=np.mean(v), scale=stats.sem(v))
    assert (ours.low, ours.high) == pytest.approx((low, high))
    assert ours.p_value == pytest.approx(stats.ttest_1samp(v, 0).pvalue)


def test_binomial_ci_textbook_wilson():
    ci = M.binomial_ci(8, 10)  # Wilson 95 % for 8/10: 0.490 to 0.943 (Newcombe 1998, Table I method 3)
    assert ci.estimate == 0.8 and ci.low == pytest.approx(0.490, abs=1e-3) and ci.high == pytest.approx(0.943, abs=1e-3)


def test_sign_and_mcnemar_exact_values():
    # 9 wins, 1 loss: two-sided exact binomial p = 2 * 11 / 1024
    assert M.sign_test([1] * 9 + [-1] + [0, 0])["p_value"] == pytest.approx(22 / 1024)
    assert M.sign_test([1] * 9 + [-1] + [0, 0])["ties"] == 2
    a = np.array([1] * 9 + [0] + [1] * 50, bool)
    b = np.array([0] * 9 + [1] + [1] * 50, bool)
    r = M.mcnemar(a, b)
    assert (r["only_a_correct"], r["only_b_correct"]) == (9, 1) and r["p_value"] == pytest.approx(22 / 1024)


@pytest.mark.parametrize(
    "k,q", [(2, 1.960), (3, 2.343), (4, 2.569), (5, 2.728), (6, 2.850), (7, 2.949), (8, 3.031), (9, 3.102), (10, 3.164)]
)
def test_nemenyi_critical_difference_matches_demsar_table(k, q):
    # Demšar (2006), JMLR 7, Table 5(a): q_0.05 for the Nemenyi test; CD = q sqrt(k(k+1)/(6N))
    assert M.nemenyi_critical_difference(k, 12) == pytest.approx(q * np.sqrt(k * (k + 1) / 72), abs=2e-3)


def test_friedman_ranking_matches_scipy_and_keeps_ties():
    rng = np.random.default_rng(0)
    scores = pd.DataFrame(rng.random((12, 4)), columns=list("abcd"))
    scores["a"] += 0.5
    out = M.friedman_ranking(scores)
    ref = stats.friedmanchisquare(*[scores[c] for c in scores])
    assert out["friedman_chi2"] == pytest.approx(ref.statistic) and out["p_value"] == pytest.approx(ref.pvalue)
    assert min(out["mean_ranks"], key=out["mean_ranks"].get) == "a"
    tied = pd.DataFrame({"x": [0.5, 0.7, 0.2], "y": [0.5 + 1e-15, 0.7, 0.2 + 1e-16], "z": [0.1, 0.1, 0.1]})
    r = M.friedman_ranking(tied)["mean_ranks"]
    assert r["x"] == r["y"] == 1.5 and r["z"] == 3.0
