"""The rank-agreement effect behind the head-to-head ranking claim: its value against Kendall's W and the
Friedman statistic (scipy), its edge cases, and the behaviour of its bootstrap interval by simulation."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lib import metrics as M


def test_rank_agreement_is_kendalls_w_rescaled():
    """Without ties, the mean pairwise Spearman correlation is (N·W − 1)/(N − 1), W = χ²_F / (N(k − 1))."""
    x = np.random.default_rng(0).normal(size=(9, 7)) + np.linspace(0, 1, 7)
    n, k = x.shape
    chi2 = stats.friedmanchisquare(*x.T).statistic
    w = chi2 / (n * (k - 1))
    iv = M.rank_agreement(x, n_boot=200)
    assert iv.estimate == pytest.approx((n * w - 1) / (n - 1))
    pairs = [stats.spearmanr(x[i], x[j]).statistic for i in range(n) for j in range(i + 1, n)]
    assert iv.estimate == pytest.approx(np.mean(pairs))
    assert iv.low <= iv.estimate <= iv.high and iv.n == n and iv.p_value is None


def test_identical_and_opposite_orderings():
    ordered = np.tile(np.arange(5.0), (4, 1))
    same = M.rank_agreement(ordered, n_boot=100)
    assert same.estimate == pytest.approx(1.0) and same.low == pytest.approx(1.0)
    up_down = M.rank_agreement(np.vstack([np.arange(5.0), -np.arange(5.0)] * 4), n_boot=100)
    assert up_down.estimate == pytest.approx((12 * 1 + 16 * -1) / 28)  # of 28 pairs, 12 agree and 16 are reversed


def test_a_block_that_ties_every_method_enters_no_pair():
    x = np.random.default_rng(1).normal(size=(6, 5))
    with_tie = np.vstack([x, np.full(5, 0.3)])
    assert M.rank_agreement(with_tie, n_boot=100).estimate == pytest.approx(M.rank_agreement(x, n_boot=100).estimate)


def test_floating_point_noise_is_a_tie_not_an_order():
    a = np.array([[0.1 + 0.2, 0.3, 0.5], [0.3, 0.1 + 0.2, 0.5], [0.2, 0.4, 0.9]] * 3)
    b = np.array([[0.3, 0.3, 0.5], [0.3, 0.3, 0.5], [0.2, 0.4, 0.9]] * 3)
    assert M.rank_agreement(a, n_boot=50).estimate == pytest.approx(M.rank_agreement(b, n_boot=50).estimate)


def test_dataframe_input_and_a_fixed_seed_give_the_same_interval():
    x = np.random.default_rng(2).normal(size=(8, 6))
    df = pd.DataFrame(x, columns=[f"m{i}" for i in range(6)])
    assert M.rank_agreement(df, n_boot=300, seed=4) == M.rank_agreement(x, n_boot=300, seed=4)


@pytest.mark.parametrize(
    "bad",
    [np.ones((1, 5)), np.ones((4, 2)), np.array([[1.0, np.nan, 2.0], [1.0, 2.0, 3.0]]), np.ones((2, 3, 4))],
)
def test_refuses_what_it_cannot_rank(bad):
    with pytest.raises(ValueError):
        M.rank_agreement(bad)


def test_interval_rarely_claims_agreement_when_all_methods_are_alike_and_finds_a_real_order():
    """Simulation, 9 blocks × 9 methods as in the head-to-head: with no difference between the methods the
    interval lies above 0 in at most a few per cent of data sets; with a steady difference it does in most."""
    rng = np.random.default_rng(0)
    reps = 150
    false_hold = true_hold = 0
    for r in range(reps):
        noise = rng.normal(size=(9, 9))
        false_hold += M.rank_agreement(noise, n_boot=300, seed=r).low > 0
        true_hold += M.rank_agreement(noise + 0.3 * np.arange(9), n_boot=300, seed=r).low > 0
    assert false_hold / reps <= 0.05
    assert true_hold / reps >= 0.8


@pytest.mark.parametrize("n_blocks,most", [(4, 0.07), (6, 0.05)])
def test_from_four_blocks_on_the_interval_rarely_claims_agreement_by_chance(n_blocks, most):
    rng = np.random.default_rng(n_blocks)
    reps = 400
    false_hold = sum(M.rank_agreement(rng.normal(size=(n_blocks, 9)), n_boot=300, seed=r).low > 0 for r in range(reps))
    assert false_hold / reps <= most


def test_three_blocks_are_enough_to_run():
    """The smoke profile ranks three (task, ratio) blocks: a replicate that draws one block thrice is left out."""
    iv = M.rank_agreement(np.random.default_rng(3).normal(size=(3, 9)), n_boot=300)
    assert -1 <= iv.low <= iv.estimate <= iv.high <= 1


def test_the_spread_of_mean_ranks_is_far_from_zero_when_all_methods_are_alike():
    """Why the ranking claim's effect is not the best-to-worst spread of mean ranks: with 9 methods alike over
    9 blocks it averages about 2.7 ranks (chapter 06 says so), while the agreement averages 0."""
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(2000, 9, 9))
    mean_ranks = stats.rankdata(noise, axis=2).mean(1)
    spread = mean_ranks.max(1) - mean_ranks.min(1)
    assert spread.mean() == pytest.approx(2.7, abs=0.1) and spread.min() > 0.5
    agreement = [M.rank_agreement(x, n_boot=1).estimate for x in noise[:300]]
    assert abs(np.mean(agreement)) < 0.01
