"""Class-imbalance tools: class weights, resamplers and mixup.

Resamplers follow imbalanced-learn's ``fit_resample(X, y)`` shape; where
imbalanced-learn has the method (random over/under-sampling, SMOTE, SMOTEENN)
we use it directly rather than re-writing it.
"""
from __future__ import annotations

import numpy as np
from imblearn.combine import SMOTEENN  # noqa: F401  (re-exported for chapters)
from imblearn.over_sampling import SMOTE, RandomOverSampler  # noqa: F401
from imblearn.under_sampling import RandomUnderSampler  # noqa: F401
from sklearn.utils.class_weight import compute_class_weight


def class_weights(y, classes=None) -> dict:
    """'Balanced' weights n_samples / (n_classes * count_c), as Keras' ``class_weight`` dict."""
    y = np.asarray(y)
    classes = np.unique(y) if classes is None else np.asarray(classes)
    weights = compute_class_weight("balanced", classes=classes, y=y)
    return {int(c) if np.issubdtype(classes.dtype, np.integer) else c: float(w) for c, w in zip(classes, weights)}


def subsample_to_counts(y, counts: dict, seed: int = 0) -> np.ndarray:
    """Indices that keep ``counts[c]`` random items of each class ``c`` (never more than exist)."""
    y = np.asarray(y)
    rng = np.random.default_rng(seed)
    keep = []
    for c, n in counts.items():
        idx = np.flatnonzero(y == c)
        if n > len(idx):
            raise ValueError(f"class {c!r}: asked for {n} items but only {len(idx)} exist")
        keep.append(rng.choice(idx, size=n, replace=False))
    return np.sort(np.concatenate(keep))


def counts_for_ratio(available: dict, ratio: dict) -> dict:
    """The largest per-class counts proportional to ``ratio`` that ``available`` allows."""
    unit = min(available[c] // ratio[c] for c in ratio)
    if unit == 0:
        raise ValueError(f"ratio {ratio} cannot be met with counts {available}")
    return {c: int(unit * ratio[c]) for c in ratio}


def mixup(X1, X2, Y1, Y2, lam):
    """Convex combination of samples and their (one-hot or distribution) labels (Zhang et al., 2018)."""
    lam = np.asarray(lam, dtype=np.float32)
    shape_x = lam.reshape(lam.shape + (1,) * (np.ndim(X1) - lam.ndim))
    shape_y = lam.reshape(lam.shape + (1,) * (np.ndim(Y1) - lam.ndim))
    return shape_x * X1 + (1 - shape_x) * X2, shape_y * Y1 + (1 - shape_y) * Y2
