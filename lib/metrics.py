"""Metrics: classification summaries, EER and DET, CER/WER, weighted/unweighted accuracy.

Where scikit-learn has the metric we call it; EER is written here and tested against a
brute-force threshold sweep; CER/WER use rapidfuzz's Levenshtein distance and are tested
against jiwer.  The statistics at the end (intervals, paired tests, rank tests) are tested
against scipy, textbook values and simulation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from sklearn import metrics as skm


# --------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------
def classification_summary(y_true, y_pred, labels: Sequence) -> dict:
    """Accuracy, macro precision/recall/F1 and the per-class values, as plain floats."""
    p, r, f, support = skm.precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision_macro": float(p.mean()),
        "recall_macro": float(r.mean()),
        "f1_macro": float(f.mean()),
        "per_class": {
            str(lab): {"precision": float(pi), "recall": float(ri), "f1": float(fi), "support": int(si)}
            for lab, pi, ri, fi, si in zip(labels, p, r, f, support)
        },
    }


def macro_scores(y_true, y_pred, n_classes: int) -> dict:
    """Macro precision, recall and F1 over the classes ``0 .. n_classes-1``, from one confusion count.

    The same numbers as :func:`classification_summary` (scikit-learn, ``zero_division=0``: a class never
    predicted has precision 0, a class absent from ``y_true`` recall 0; macro F1 is the mean of the
    per-class F1), about fifty times faster, for bootstrapping them.
    """
    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    cm = np.bincount(y_true * n_classes + y_pred, minlength=n_classes * n_classes).reshape(n_classes, n_classes)
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    p = np.divide(tp, predicted, out=np.zeros(n_classes), where=predicted > 0)
    r = np.divide(tp, actual, out=np.zeros(n_classes), where=actual > 0)
    f = np.divide(2 * p * r, p + r, out=np.zeros(n_classes), where=(p + r) > 0)
    return {"precision_macro": float(p.mean()), "recall_macro": float(r.mean()), "f1_macro": float(f.mean())}


def confusion(y_true, y_pred, labels: Sequence, normalize: str | None = None) -> np.ndarray:
    return skm.confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)


def most_confused(cm: np.ndarray, labels: Sequence, k: int = 5) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells as (true, predicted, count)."""
    off = cm.astype(float).copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(off, axis=None)[::-1][:k]
    return [
        (str(labels[i]), str(labels[j]), int(cm[i, j]))
        for i, j in zip(*np.unravel_index(order, cm.shape))
        if cm[i, j] > 0
    ]


def weighted_accuracy(y_true, y_pred) -> float:
    """WA: the fraction of correctly classified samples (overall accuracy)."""
    return float(skm.accuracy_score(y_true, y_pred))


def unweighted_accuracy(y_true, y_pred) -> float:
    """UA: the mean of the per-class recalls (balanced accuracy over the classes present in ``y_true``)."""
    return float(skm.balanced_accuracy_score(y_true, y_pred))


# --------------------------------------------------------------------------
# Detection: EER and DET
# --------------------------------------------------------------------------
def det_curve(labels, scores) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """False-positive rate, false-negative rate and thresholds (``labels``: 1 = target, higher score = target)."""
    fpr, fnr, thresholds = skm.det_curve(np.asarray(labels), np.asarray(scores))
    return fpr, fnr, thresholds


def eer(labels, scores) -> float:
    """Equal error rate: where the miss rate equals the false-alarm rate.

    Computed on the ROC convex of all thresholds, with linear interpolation
    between the two operating points that bracket FNR = FPR.
    """
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    if labels.min() == labels.max():
        raise ValueError("EER needs both target (1) and non-target (0) trials")
    fpr, tpr, _ = skm.roc_curve(labels, scores, drop_intermediate=False)
    fnr = 1.0 - tpr
    diff = fnr - fpr  # decreasing from 1 to -1 along the curve
    i = int(np.argmax(diff <= 0))
    if i == 0:
        return float(fpr[0])
    d0, d1 = diff[i - 1], diff[i]
    w = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1]))


def eer_threshold(labels, scores) -> float:
    """The score threshold at the EER operating point (for choosing a threshold on validation data)."""
    fpr, tpr, thresholds = skm.roc_curve(np.asarray(labels).astype(int), np.asarray(scores, dtype=float))
    i = int(np.nanargmin(np.abs((1 - tpr) - fpr)))
    return float(thresholds[i])


def best_accuracy_threshold(labels, scores) -> float:
    """The threshold that maximises accuracy of ``score >= t`` (chosen on validation, applied to test)."""
    labels = np.asarray(labels).astype(int)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores)
    s, y = scores[order], labels[order]
    tp = np.cumsum(y)
    fp = np.cumsum(1 - y)
    correct = tp + (len(y) - y.sum() - fp)
    last = np.r_[s[1:] != s[:-1], True]  # only between distinct scores
    i = int(np.argmax(np.where(last, correct, -1)))
    return float(s[i])


# --------------------------------------------------------------------------
# Speech recognition: CER and WER
# --------------------------------------------------------------------------
def edit_distance(ref: Sequence, hyp: Sequence) -> int:
    """Levenshtein distance (substitutions, insertions, deletions, all cost 1), by rapidfuzz.

    Works on strings (characters) and on lists of words alike.
    """
    from rapidfuzz.distance import Levenshtein

    return int(Levenshtein.distance(list(ref), list(hyp)))


def wer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus word error rate: total word edits over total reference words."""
    edits = sum(edit_distance(r.split(), h.split()) for r, h in zip(references, hypotheses, strict=True))
    words = sum(len(r.split()) for r in references)
    return edits / max(words, 1)


def cer(references: Sequence[str], hypotheses: Sequence[str]) -> float:
    """Corpus character error rate (spaces count as characters, as in jiwer)."""
    edits = sum(edit_distance(r, h) for r, h in zip(references, hypotheses, strict=True))
    chars = sum(len(r) for r in references)
    return edits / max(chars, 1)


# --------------------------------------------------------------------------
# Statistics: intervals, paired comparisons, rank tests
# --------------------------------------------------------------------------
# Every chapter answers "does the paper's claim hold?" with an effect, a 95 % interval and n.
# The resampling unit matters: trials or clips from one speaker or one recording are not
# independent, so the bootstrap below resamples whole groups when ``groups`` is given.


@dataclass(frozen=True)
class Interval:
    """A point estimate with its confidence interval and the sample it rests on."""

    estimate: float
    low: float
    high: float
    n: int  # test items (clips, trials, requests)
    n_groups: int | None = None  # resampling units when items cluster (speakers, recordings, folds)
    level: float = 0.95
    method: str = ""
    p_value: float | None = None  # two-sided, against "no effect", where the method gives one

    def scaled(self, factor: float) -> Interval:
        return Interval(
            self.estimate * factor,
            self.low * factor,
            self.high * factor,
            self.n,
            self.n_groups,
            self.level,
            self.method,
            self.p_value,
        )

    def as_dict(self) -> dict:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.estimate:.3g} [{self.low:.3g}, {self.high:.3g}]"


def _group_index(groups, n: int):
    if groups is None:
        return [np.array([i]) for i in range(n)]
    groups = np.asarray(groups)
    if len(groups) != n:
        raise ValueError(f"groups has {len(groups)} entries for {n} items")
    _, inverse = np.unique(groups, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.flatnonzero(np.diff(inverse[order])) + 1
    return np.split(order, bounds)


def bootstrap_ci(
    statistic, *arrays, groups=None, n_boot: int = 2000, level: float = 0.95, seed: int = 0, null: float | None = 0.0
) -> Interval:
    """Percentile bootstrap interval of ``statistic(*arrays)``, resampling items or whole groups.

    ``arrays`` are indexed together (one entry per test item); with ``groups`` (a speaker or
    recording id per item) the bootstrap draws groups with replacement and keeps all their
    items, which is what makes the interval honest when items cluster.  Replicates where the
    statistic is undefined (e.g. an EER on a resample with one class) are dropped and counted.
    With ``null`` set, a two-sided bootstrap p-value for "the statistic equals ``null``" is given
    (twice the smaller tail share, the usual percentile-bootstrap test).
    """
    arrays = [np.asarray(a) for a in arrays]
    n = len(arrays[0])
    if any(len(a) != n for a in arrays):
        raise ValueError("all arrays must have one entry per test item")
    blocks = _group_index(groups, n)
    estimate = float(statistic(*arrays))
    rng = np.random.default_rng(seed)
    reps = []
    for _ in range(n_boot):
        pick = rng.integers(0, len(blocks), len(blocks))
        idx = np.concatenate([blocks[i] for i in pick])
        try:
            value = float(statistic(*(a[idx] for a in arrays)))
        except ValueError:
            continue
        if np.isfinite(value):
            reps.append(value)
    if len(reps) < 0.9 * n_boot:
        raise ValueError(
            f"the statistic was undefined in {n_boot - len(reps)} of {n_boot} resamples; "
            "use larger groups or more test items"
        )
    reps = np.asarray(reps)
    alpha = (1 - level) / 2
    low, high = np.quantile(reps, [alpha, 1 - alpha])
    p = None
    if null is not None:
        p = float(min(1.0, 2 * min(np.mean(reps <= null), np.mean(reps >= null))))
    return Interval(
        estimate,
        float(low),
        float(high),
        n,
        None if groups is None else len(blocks),
        level,
        f"percentile bootstrap over {'groups' if groups is not None else 'items'}, {n_boot} resamples",
        p,
    )


def paired_difference(statistic, y_true, pred_a, pred_b, groups=None, **kw) -> Interval:
    """``statistic(y_true, pred_a) − statistic(y_true, pred_b)`` on the same test items, bootstrapped together.

    Pairing removes the between-item variance both systems share; ``pred_*`` may be labels or scores.
    """

    def diff(y, a, b):
        return statistic(y, a) - statistic(y, b)

    out = bootstrap_ci(diff, y_true, pred_a, pred_b, groups=groups, **kw)
    return Interval(
        out.estimate, out.low, out.high, out.n, out.n_groups, out.level, "paired " + out.method, out.p_value
    )


def paired_effect(
    tasks: dict,
    outputs: dict,
    a: str,
    b: str,
    ratios: dict,
    seeds,
    n_boot: int = 1000,
    seed: int = 0,
    scale: float = 100.0,
) -> Interval:
    """Mean paired difference ``a − b`` of the task metrics (EER sign-flipped: positive = ``a`` better), over
    ``tasks`` (name -> task), their ``ratios`` and ``seeds``, with a two-way percentile bootstrap that
    resamples seeds (training noise) and, in every task, whole speakers or recordings (test sampling)
    together.  Returns an :class:`Interval` in points (``scale``).

    A task (:class:`lib.datasets.head_to_head.Task`) has ``test_index``, ``y``, ``groups``,
    ``higher_is_better`` and ``weighted_score(W, y_true, output)``, its metric under item weights
    ``W`` ``(B, n)``; ``outputs[name][(ratio, seed, method)]`` is a method's pooled test output.
    """
    rng = np.random.default_rng(seed)
    seeds = list(seeds)
    omega = np.vstack([np.ones(len(seeds)), rng.multinomial(len(seeds), np.ones(len(seeds)) / len(seeds), n_boot)])
    total = np.zeros(n_boot + 1)
    n_items, n_groups = 0, 0
    for name, task in tasks.items():
        idx = task.test_index
        y = task.y[idx]
        _, g = np.unique(task.groups[idx], return_inverse=True)
        n_g = g.max() + 1
        Wg = np.vstack([np.ones(n_g), rng.multinomial(n_g, np.ones(n_g) / n_g, n_boot)])
        W = Wg[:, g]
        sign = 1.0 if task.higher_is_better else -1.0
        per_ratio = []
        for r in ratios[name]:
            D = np.column_stack(
                [
                    task.weighted_score(W, y, outputs[name][(r, s, a)])
                    - task.weighted_score(W, y, outputs[name][(r, s, b)])
                    for s in seeds
                ]
            )
            per_ratio.append(sign * scale * np.nansum(omega * D, 1) / omega.sum(1))
        total += np.mean(per_ratio, 0)
        n_items += len(y)
        n_groups += n_g
    total /= len(tasks)
    est, reps = float(total[0]), total[1:][np.isfinite(total[1:])]
    low, high = np.quantile(reps, [0.025, 0.975])
    p = float(min(1.0, 2 * min(np.mean(reps <= 0), np.mean(reps >= 0))))
    return Interval(
        est,
        float(min(low, est)),
        float(max(high, est)),
        n_items * len(seeds),
        n_groups,
        0.95,
        f"two-way percentile bootstrap over seeds and test speakers/recordings, {n_boot} resamples",
        p,
    )


def mean_ci(values, level: float = 0.95, null: float | None = 0.0) -> Interval:
    """Student-t interval of the mean of independent replicates (seeds, folds, seed × fold)."""
    from scipy import stats

    v = np.asarray(list(values), dtype=float)
    if len(v) < 2:
        raise ValueError("a t-interval needs at least two replicates")
    m, se = float(v.mean()), float(v.std(ddof=1) / np.sqrt(len(v)))
    half = float(stats.t.ppf(0.5 + level / 2, len(v) - 1) * se)
    p = None
    if null is not None:
        p = 1.0 if se == 0 and m == null else float(stats.ttest_1samp(v, null).pvalue) if se > 0 else 0.0
    return Interval(m, m - half, m + half, len(v), None, level, f"t-interval over {len(v)} replicates", p)


def tost(values, margin: float, alpha: float = 0.05) -> dict:
    """Equivalence of a mean to 0 within ±``margin``: two one-sided t-tests (Schuirmann 1987) on replicates.

    ``values``: independent replicates of an effect (e.g. per-fold paired differences).  The two nulls are
    "mean ≤ −margin" and "mean ≥ +margin"; equivalence is shown when both are rejected at ``alpha``, i.e. when
    the larger of the two one-sided p-values is below ``alpha`` — exactly when the ``1 − 2·alpha`` t-interval
    lies inside ±margin.  Returns ``p_lower``, ``p_upper``, ``p_value`` (their maximum), ``df``, ``margin``,
    ``equivalent`` and ``interval`` (an :class:`Interval` at level ``1 − 2·alpha`` whose ``p_value`` is the
    TOST p-value, against non-equivalence, not against no effect).
    """
    from scipy import stats

    v = np.asarray(list(values), dtype=float)
    if len(v) < 2:
        raise ValueError("a TOST needs at least two replicates")
    if not margin > 0:
        raise ValueError(f"the equivalence margin must be positive, got {margin}")
    if not 0 < alpha < 0.5:
        raise ValueError(f"alpha must lie in (0, 0.5), got {alpha}")
    n, m = len(v), float(v.mean())
    se, df = float(v.std(ddof=1) / np.sqrt(n)), n - 1
    if se > 0:
        p_lower = float(stats.t.sf((m + margin) / se, df))  # H0: mean <= -margin
        p_upper = float(stats.t.cdf((m - margin) / se, df))  # H0: mean >= +margin
    else:  # no spread: the mean is known exactly
        p_lower, p_upper = float(m <= -margin), float(m >= margin)
    p = max(p_lower, p_upper)
    half = float(stats.t.ppf(1 - alpha, df) * se)
    level = 1 - 2 * alpha
    iv = Interval(
        m,
        m - half,
        m + half,
        n,
        None,
        level,
        f"TOST (two one-sided t-tests at {alpha:g} each, margin ±{margin:g}) over {n} replicates; "
        f"p against non-equivalence",
        p,
    )
    return {
        "p_lower": p_lower,
        "p_upper": p_upper,
        "p_value": p,
        "df": df,
        "margin": float(margin),
        "equivalent": p < alpha,
        "interval": iv,
    }


def binomial_ci(successes: int, n: int, level: float = 0.95) -> Interval:
    """Proportion with its Wilson score interval (scipy), e.g. hit@5 over spoken requests."""
    from scipy import stats

    if n <= 0:
        raise ValueError("a proportion needs n > 0")
    ci = stats.binomtest(int(successes), int(n)).proportion_ci(confidence_level=level, method="wilson")
    return Interval(successes / n, float(ci.low), float(ci.high), int(n), None, level, "Wilson score interval")


def sign_test(differences) -> dict:
    """Two-sided exact sign test on paired differences (ties dropped): how often A beat B."""
    from scipy import stats

    d = np.asarray(list(differences), dtype=float)
    wins, losses = int((d > 0).sum()), int((d < 0).sum())
    p = float(stats.binomtest(wins, wins + losses).pvalue) if wins + losses else 1.0
    return {"wins": wins, "losses": losses, "ties": int((d == 0).sum()), "p_value": p}


def mcnemar(correct_a, correct_b) -> dict:
    """Exact McNemar test on two classifiers' per-item correctness (binomial on discordant items)."""
    from scipy import stats

    a, b = np.asarray(correct_a, bool), np.asarray(correct_b, bool)
    only_a, only_b = int((a & ~b).sum()), int((~a & b).sum())
    p = float(stats.binomtest(only_a, only_a + only_b).pvalue) if only_a + only_b else 1.0
    return {"only_a_correct": only_a, "only_b_correct": only_b, "p_value": p}


def nemenyi_critical_difference(k: int, n_blocks: int, alpha: float = 0.05) -> float:
    """Critical difference of mean ranks (Demšar 2006): q_α √(k(k+1)/(6N)), q from the studentized range."""
    from scipy import stats

    q = stats.studentized_range.ppf(1 - alpha, k, np.inf) / np.sqrt(2)
    return float(q * np.sqrt(k * (k + 1) / (6.0 * n_blocks)))


def friedman_ranking(scores, higher_is_better: bool = True, alpha: float = 0.05, decimals: int = 9) -> dict:
    """Rank many methods over blocks (tasks × ratios × seeds): Friedman test and Nemenyi critical difference.

    ``scores``: DataFrame, one row per block, one column per method.  Scores are rounded to
    ``decimals`` before ranking so that ties in discrete metrics stay ties (average ranks)
    instead of being broken by floating-point noise.
    """
    import pandas as pd
    from scipy import stats

    s = pd.DataFrame(scores).astype(float).round(decimals)
    if s.isna().any().any():
        raise ValueError("every method needs a score in every block")
    ranks = (-s if higher_is_better else s).rank(axis=1, method="average")
    k, n = s.shape[1], s.shape[0]
    statistic, p = stats.friedmanchisquare(*[s[c].to_numpy() for c in s.columns])
    cd = nemenyi_critical_difference(k, n, alpha)
    mean_ranks = ranks.mean().sort_values()
    out = {
        "mean_ranks": mean_ranks.to_dict(),
        "friedman_chi2": float(statistic),
        "p_value": float(p),
        "critical_difference": cd,
        "n_blocks": n,
        "k_methods": k,
        "alpha": alpha,
    }
    try:
        import scikit_posthocs as sp

        out["nemenyi_p"] = (
            sp.posthoc_nemenyi_friedman(s.to_numpy()).set_axis(s.columns, axis=0).set_axis(s.columns, axis=1)
        )
    except ImportError:
        pass
    return out


def rank_agreement(scores, n_boot: int = 1000, seed: int = 0, level: float = 0.95, decimals: int = 9) -> Interval:
    """How consistently the blocks order the methods: the mean Spearman correlation between the methods'
    ranks in two different blocks, with a percentile bootstrap over blocks.

    ``scores``: one row per block, one column per method (a DataFrame or an array), higher = better in
    every block (flip a lower-is-better metric first); scores are rounded to ``decimals`` and ranked
    within each block, ties averaged, as in :func:`friedman_ranking`.  The estimate is 0 in expectation
    when every block orders the methods at random, i.e. when all methods perform alike (the Friedman
    test's null), and 1 when every block orders them the same way; without ties it equals
    ``(N·W − 1) / (N − 1)`` for Kendall's W over N blocks (the Friedman statistic is ``N(k − 1)W``).
    A replicate draws N blocks with replacement and averages the correlations over the pairs of draws
    of two *different* blocks, as the estimate does, so that a block drawn twice does not agree with
    itself; a block whose methods all tie (it ranks nothing) enters no pair, and a replicate that drew
    a single block is left out (with three blocks, one in nine).  Averaged seeds stay inside their
    block: their noise is part of each block's ranking.  Near no agreement the interval is wide: with
    nine blocks of nine methods that all perform alike it lies above 0 in about 1 % of data sets, with
    four to eight blocks in at most about 5 % (tests/test_ranking_stats.py); with three blocks (three
    pairs) it is too narrow, above 0 in about 13 %.  ``p_value`` is None: the Friedman test is the test of the same null.
    """
    x = np.asarray(scores, dtype=float)
    if x.ndim != 2:
        raise ValueError("scores must be a table: one row per block, one column per method")
    n_blocks, k = x.shape
    if n_blocks < 2 or k < 3:
        raise ValueError(f"rank agreement needs at least 2 blocks and 3 methods, got {n_blocks} and {k}")
    if not np.isfinite(x).all():
        raise ValueError("every method needs a finite score in every block")
    from scipy import stats

    ranks = stats.rankdata(np.round(x, decimals), method="average", axis=1)
    centred = ranks - ranks.mean(1, keepdims=True)
    norm = np.sqrt((centred**2).sum(1))
    with np.errstate(invalid="ignore", divide="ignore"):
        rho = (centred @ centred.T) / np.outer(norm, norm)  # Spearman: Pearson correlation of the ranks
    valid = np.isfinite(rho) & ~np.eye(n_blocks, dtype=bool)
    if not valid.any():
        raise ValueError("no two blocks rank the methods (every block but one ties all methods)")
    rho = np.where(valid, rho, 0.0)
    rng = np.random.default_rng(seed)
    v = np.vstack([np.ones(n_blocks), rng.multinomial(n_blocks, np.ones(n_blocks) / n_blocks, n_boot)])
    num = np.einsum("bi,ij,bj->b", v, rho, v)
    den = np.einsum("bi,ij,bj->b", v, valid.astype(float), v)
    est = float(num[0] / den[0])
    reps = num[1:][den[1:] > 0] / den[1:][den[1:] > 0]
    if len(reps) < 0.5 * n_boot:
        raise ValueError(f"the agreement was undefined in {n_boot - len(reps)} of {n_boot} resamples")
    alpha = (1 - level) / 2
    low, high = np.quantile(reps, [alpha, 1 - alpha])
    return Interval(
        est,
        float(min(low, est)),
        float(max(high, est)),
        n_blocks,
        n_blocks,
        level,
        f"mean Spearman correlation between two blocks' rankings of {k} methods; percentile bootstrap over "
        f"{n_blocks} blocks, {n_boot} resamples",
        None,
    )
