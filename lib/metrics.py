"""Metrics: classification summaries, EER and DET, CER/WER, weighted/unweighted accuracy.

Where scikit-learn has the metric we call it; EER and the Levenshtein-based
CER/WER are written here and tested against independent computations
(a brute-force threshold sweep, and jiwer).
"""
from __future__ import annotations

from collections.abc import Sequence

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


def confusion(y_true, y_pred, labels: Sequence, normalize: str | None = None) -> np.ndarray:
    return skm.confusion_matrix(y_true, y_pred, labels=labels, normalize=normalize)


def most_confused(cm: np.ndarray, labels: Sequence, k: int = 5) -> list[tuple[str, str, int]]:
    """The ``k`` largest off-diagonal cells as (true, predicted, count)."""
    off = cm.astype(float).copy()
    np.fill_diagonal(off, -1)
    order = np.argsort(off, axis=None)[::-1][:k]
    return [(str(labels[i]), str(labels[j]), int(cm[i, j])) for i, j in zip(*np.unravel_index(order, cm.shape))
            if cm[i, j] > 0]


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
    """Levenshtein distance (substitutions, insertions, deletions, all cost 1)."""
    ref, hyp = list(ref), list(hyp)
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h))
        previous = current
    return previous[-1]


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
