"""The three tasks of the head-to-head chapter, as pooled feature vectors with controlled imbalance.

Each task reuses the clips and cached features of its own chapter's dataset module and pools
the frame sequence to its per-feature mean and standard deviation: the method, not the
architecture, is the variable.

* ``kws``: 12-class keyword spotting (:mod:`lib.datasets.kws`), the chapter's speaker-disjoint
  split; the whole test part (1,593 clips) is scored; metric macro-F1.
* ``events``: dog bark / baby cry / gun shot vs background at 8 kHz (:mod:`lib.datasets.events`);
  the events chapter's 70/20/10 split left only 14 gun shots for testing, so here the clips are
  split into five folds by source recording (stratified by label): fold k is tested, fold k+1
  validates, the other three train, and every clip is tested exactly once.  Metric: overall EER
  (mean of the three one-vs-rest EERs) on the predictions of all folds pooled.
* ``emotion``: EmoDB, 7 emotions (:mod:`lib.datasets.emotion`), leave-two-speakers-out: the same
  five speaker pairs (one man, one woman each) as the emotion chapter's cross-validation, fold k
  tested, pair k+1 validating, six speakers training; metric UA over all 535 utterances.

:func:`controlled_subset` builds the imbalance inside each fold's training part: every common
class keeps ``min(cap, available)`` clips and every rare class ``cap / ratio`` (never more than
available).  Validation and test are never touched, so every ratio and method is scored on the
same, complete test set.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lib import metrics

# The emotion chapter's five speaker pairs (lib.datasets.emotion, cross-validation), copied here so that
# this chapter does not change when that module is edited.
EMODB_FOLD_PAIRS = [("03", "08"), ("10", "09"), ("11", "13"), ("12", "14"), ("15", "16")]
EVENT_FOLDS = 5


@dataclass
class Task:
    name: str
    classes: list
    rare: list  # class indices made rare
    X: np.ndarray  # (n, d) pooled features, not standardised (each fold standardises with its training part)
    y: np.ndarray  # (n,) class indices
    groups: np.ndarray  # (n,) speaker or source recording: the bootstrap's resampling unit
    folds: list  # one dict per fold: "train", "val", "test" -> index arrays into X
    metric: str
    higher_is_better: bool
    group_name: str = "speaker"
    notes: list = field(default_factory=list)

    @property
    def test_index(self) -> np.ndarray:
        """Every tested item, in the order the folds' predictions are concatenated."""
        return np.concatenate([f["test"] for f in self.folds])

    def standardised(self, fold: dict) -> dict:
        """Features of one fold, standardised with the statistics of its whole training part."""
        tr = self.X[fold["train"]]
        mean, std = tr.mean(0), tr.std(0) + 1e-6
        return {k: ((self.X[fold[k]] - mean) / std).astype(np.float32) for k in ("train", "val", "test")}

    def weighted_score(self, W: np.ndarray, y_true, pred) -> np.ndarray:
        """The task's metric under item weights ``W`` ``(B, n)`` (:func:`weighted_score`; what
        :func:`lib.metrics.paired_effect` bootstraps)."""
        return weighted_score(self, W, y_true, pred)


def pool(X: np.ndarray, time_axis: int) -> np.ndarray:
    """Mean and standard deviation over the time axis, concatenated."""
    return np.concatenate([X.mean(axis=time_axis), X.std(axis=time_axis)], axis=1).astype(np.float32)


def _limit(labels, limit: int | None, seed: int = 0) -> np.ndarray:
    """Positions of at most ``limit`` items per class (the smoke profile's small subsets)."""
    labels = np.asarray(labels)
    if limit is None:
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    keep = [np.sort(rng.permutation(np.flatnonzero(labels == c))[:limit]) for c in np.unique(labels)]
    return np.sort(np.concatenate(keep))


def _limit_per_split(df, split_col: str, label_col: str, limit: int | None, seed: int = 0):
    if limit is None:
        return df
    draw = pd.Series(np.random.default_rng(seed).random(len(df)), index=df.index)
    rank = draw.groupby([df[split_col], df[label_col]]).rank(method="first")
    return df[rank <= limit]


def group_folds(y, groups, n_folds: int, seed: int = 0) -> list[dict]:
    """Stratified group k-fold: fold k tests, fold k+1 (mod k) validates, the rest trains."""
    from sklearn.model_selection import StratifiedGroupKFold

    parts = [
        test
        for _, test in StratifiedGroupKFold(n_folds, shuffle=True, random_state=seed).split(np.zeros(len(y)), y, groups)
    ]
    return [
        {
            "train": np.sort(np.concatenate([parts[j] for j in range(n_folds) if j not in (k, (k + 1) % n_folds)])),
            "val": np.sort(parts[(k + 1) % n_folds]),
            "test": np.sort(parts[k]),
        }
        for k in range(n_folds)
    ]


def load_events(limit: int | None = None, crop_s: float = 0.5) -> Task:
    """The events chapter's clips and cached features (8 kHz, loudest 0.5 s), in five folds by recording."""
    from lib.datasets import events

    df = events.load_manifest()
    df = df.iloc[_limit(df["label"].to_numpy(), limit)].reset_index(drop=True)
    F = pool(events.logmel_features(df, crop_s=crop_s), time_axis=2)
    y, groups = df["y"].to_numpy(), df["group"].astype(str).to_numpy()
    folds = group_folds(y, groups, EVENT_FOLDS, seed=0)
    rare = [events.LABELS.index(e) for e in events.EVENTS]
    return Task(
        "events",
        list(events.LABELS),
        rare,
        F,
        y,
        groups,
        folds,
        "overall EER",
        False,
        "source recording",
        [
            "every clip at 8 kHz, loudest 0.5 s, 0–3.5 kHz (lib.datasets.events); five folds by source "
            "recording, every clip tested once"
        ],
    )


def load_emotion(limit: int | None = None) -> Task:
    """EmoDB log-mel frames, pooled; leave-two-speakers-out over the emotion chapter's five speaker pairs."""
    from lib.datasets import emotion

    df = emotion.emodb_table()
    F = pool(emotion.emodb_features("logmel", df), time_axis=1)  # cached for all 535 utterances
    keep = _limit(df["label"].to_numpy(), limit)
    df, F = df.iloc[keep].reset_index(drop=True), F[keep]
    speakers = df["speaker"].astype(str).to_numpy()
    folds = []
    for k, pair in enumerate(EMODB_FOLD_PAIRS):
        val_pair = EMODB_FOLD_PAIRS[(k + 1) % len(EMODB_FOLD_PAIRS)]
        test, val = np.isin(speakers, pair), np.isin(speakers, val_pair)
        folds.append({"train": np.flatnonzero(~(test | val)), "val": np.flatnonzero(val), "test": np.flatnonzero(test)})
    rare = [emotion.EMODB_CLASSES.index(c) for c in ("disgust", "fear")]
    return Task(
        "emotion",
        list(emotion.EMODB_CLASSES),
        rare,
        F,
        df["label"].to_numpy(),
        speakers,
        folds,
        "UA",
        True,
        "speaker",
        ["leave-two-speakers-out over five speaker pairs; every utterance tested once"],
    )


def load_kws(limit: int | None = None, scheme: str = "mirror") -> Task:
    """The keyword chapter's speaker-disjoint 12-class split and MFCC+delta features (no augmentation).

    ``scheme``: ``"mirror"`` (the offline mirror's speaker split) or ``"official"`` (the full dataset's lists).
    """
    from lib.datasets import kws

    df = _limit_per_split(kws.build_split(seed=0, scheme=scheme), "split", "label", limit).reset_index(drop=True)
    F = pool(kws.compute_features(df), time_axis=2)
    labels = kws.label_index(df["label"])
    split = df["split"].to_numpy()
    speaker = df["speaker"].fillna("").astype(str)
    groups = np.where(
        speaker == "", "clip:" + df["abs_path"].astype(str) + ":" + df["start"].astype(str), "spk:" + speaker
    ).astype(str)
    folds = [{s: np.flatnonzero(split == s) for s in ("train", "val", "test")}]
    rare = [kws.LABELS.index(c) for c in ("on", "off", "go")]
    return Task(
        "kws",
        list(kws.LABELS),
        rare,
        F,
        np.asarray(labels),
        groups,
        folds,
        "macro-F1",
        True,
        "speaker",
        ["speaker-disjoint 12-class split of lib.datasets.kws; 20 MFCC + 20 deltas, pooled"],
    )


LOADERS = {"kws": load_kws, "events": load_events, "emotion": load_emotion}


def controlled_subset(y: np.ndarray, rare: list, ratio: float, cap: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Positions (into ``y``) with every common class at ``min(cap, available)`` and every rare class at
    ``max(2, round(cap / ratio))`` (never more than available).  Returns positions and counts per class."""
    rng = np.random.default_rng(seed)
    counts = {}
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        n = max(2, int(round(cap / ratio))) if c in rare else cap
        n = min(n, len(idx))
        counts[int(c)] = n
        keep.append(rng.choice(idx, size=n, replace=False))
    return np.sort(np.concatenate(keep)), counts


def score(task: Task, y_true: np.ndarray, proba: np.ndarray) -> float:
    """The task's metric: macro-F1 (kws), overall EER over the rare events (events), UA (emotion)."""
    if task.name == "events":
        return float(np.mean([metrics.eer((y_true == c).astype(int), proba[:, c]) for c in task.rare]))
    pred = proba.argmax(1)
    if task.name == "emotion":
        return metrics.unweighted_accuracy(y_true, pred)
    return metrics.classification_summary(y_true, pred, list(range(len(task.classes))))["f1_macro"]


# --------------------------------------------------------------------------
# The same metrics with item weights, vectorised over bootstrap replicates
# --------------------------------------------------------------------------
def weighted_confusion(W: np.ndarray, y_true, y_pred, n_classes: int) -> np.ndarray:
    """``(B, C, C)`` confusion matrices, item ``i`` counted ``W[b, i]`` times in replicate ``b``."""
    from scipy import sparse

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cell = y_true * n_classes + y_pred
    onehot = sparse.csr_matrix(
        (np.ones(len(cell)), (np.arange(len(cell)), cell)), shape=(len(cell), n_classes * n_classes)
    )
    return np.asarray((onehot.T @ np.asarray(W, float).T).T).reshape(len(W), n_classes, n_classes)


def macro_f1_from_confusion(M: np.ndarray) -> np.ndarray:
    """Macro-F1 over all classes of ``(B, C, C)`` confusions (a class with no items and no predictions scores 0,
    as scikit-learn's ``zero_division=0``)."""
    tp = np.diagonal(M, axis1=1, axis2=2)
    denom = M.sum(2) + M.sum(1)  # 2tp + fn + fp
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)
    return f1.mean(1)


def ua_from_confusion(M: np.ndarray) -> np.ndarray:
    """Mean recall over the classes present (scikit-learn's balanced accuracy) of ``(B, C, C)`` confusions."""
    tp = np.diagonal(M, axis1=1, axis2=2)
    support = M.sum(2)
    recall = np.divide(tp, support, out=np.zeros_like(tp, dtype=float), where=support > 0)
    return recall.sum(1) / np.maximum((support > 0).sum(1), 1)


def weighted_eer(W: np.ndarray, labels, scores) -> np.ndarray:
    """EER of ``score`` for ``labels`` (1 = target) with item weights ``W`` ``(B, n)``: the interpolation of
    :func:`lib.metrics.eer` on the ROC of all distinct thresholds, once per replicate."""
    labels = np.asarray(labels).astype(bool)
    scores = np.asarray(scores, dtype=float)
    order = np.argsort(-scores, kind="mergesort")
    s = scores[order]
    last = np.r_[s[1:] != s[:-1], True]  # the end of each run of tied scores: one ROC point per distinct score
    Wo = np.asarray(W, float)[:, order]
    tp = np.cumsum(Wo * labels[order], axis=1)[:, last]
    fp = np.cumsum(Wo * ~labels[order], axis=1)[:, last]
    P, N = tp[:, -1:], fp[:, -1:]
    tpr = np.concatenate([np.zeros((len(W), 1)), tp / np.maximum(P, 1e-12)], axis=1)
    fpr = np.concatenate([np.zeros((len(W), 1)), fp / np.maximum(N, 1e-12)], axis=1)
    diff = (1 - tpr) - fpr
    i = np.argmax(diff <= 0, axis=1)
    rows = np.arange(len(W))
    i0 = np.maximum(i - 1, 0)
    d0, d1 = diff[rows, i0], diff[rows, i]
    w = np.divide(d0, d0 - d1, out=np.zeros_like(d0), where=d0 != d1)
    out = fpr[rows, i0] + w * (fpr[rows, i] - fpr[rows, i0])
    out = np.where(i == 0, fpr[:, 0], out)
    return np.where((P[:, 0] > 0) & (N[:, 0] > 0), out, np.nan)


def weighted_score(task: Task, W: np.ndarray, y_true, pred) -> np.ndarray:
    """The task's metric under item weights ``W`` ``(B, n)``; ``pred``: predicted labels (kws, emotion) or
    the rare classes' scores ``(n, len(task.rare))`` (events)."""
    if task.name == "events":
        return np.mean([weighted_eer(W, np.asarray(y_true) == c, pred[:, j]) for j, c in enumerate(task.rare)], 0)
    M = weighted_confusion(W, y_true, pred, len(task.classes))
    return ua_from_confusion(M) if task.name == "emotion" else macro_f1_from_confusion(M)
