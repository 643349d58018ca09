"""The three tasks of the head-to-head chapter, as pooled feature vectors with controlled imbalance.

Each task reuses the split and the features of its own chapter's dataset module (so the
numbers are comparable) and pools the frame sequence to its per-feature mean and standard
deviation: the method, not the architecture, is the variable.

* ``kws``: 12-class keyword spotting (:mod:`lib.datasets.kws`); metric macro-F1.
* ``events``: dog bark / baby cry / gun shot vs background at 8 kHz (:mod:`lib.datasets.events`);
  metric overall EER (mean of the three one-vs-rest EERs).
* ``emotion``: EmoDB, 7 emotions, speaker-independent (:mod:`lib.datasets.emotion`); metric UA.

:func:`controlled_subset` builds the imbalance: every common class keeps the same number of
training clips (``cap``, or fewer if that is all there is) and every rare class gets
``cap / ratio`` of them; validation is left as it is and the test set is balanced by
subsampling every class to the smallest class count, so all ratios are scored on the same
balanced test set.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from lib import metrics


@dataclass
class Task:
    name: str
    classes: list
    rare: list  # class indices made rare
    X: dict  # split -> (n, d) pooled features (standardised with training statistics)
    y: dict  # split -> (n,) class indices
    metric: str
    notes: list = field(default_factory=list)


def pool(X: np.ndarray, time_axis: int) -> np.ndarray:
    """Mean and standard deviation over the time axis, concatenated."""
    return np.concatenate([X.mean(axis=time_axis), X.std(axis=time_axis)], axis=1).astype(np.float32)


def _standardise(X: dict) -> dict:
    mean, std = X["train"].mean(0), X["train"].std(0) + 1e-6
    return {k: ((v - mean) / std).astype(np.float32) for k, v in X.items()}


def _limit(df, split_col: str, label_col: str, limit: int | None, seed: int = 0):
    """At most ``limit`` rows per (split, class): the smoke profile's small subsets."""
    if limit is None:
        return df
    draw = pd.Series(np.random.default_rng(seed).random(len(df)), index=df.index)
    rank = draw.groupby([df[split_col], df[label_col]]).rank(method="first")
    return df[rank <= limit]


def load_events(limit: int | None = None, crop_s: float = 0.5) -> Task:
    """The events chapter's split and cached features (the same 0.5-s loudest crops)."""
    from lib.datasets import events

    df = events.load_manifest()
    df["split"] = events.split(df, seed=0)
    df = _limit(df, "split", "label", limit)
    F = pool(events.logmel_features(df, crop_s=crop_s), time_axis=2)
    split = df["split"].to_numpy()
    X = {s: F[split == s] for s in ("train", "val", "test")}
    y = {s: df["y"].to_numpy()[split == s] for s in ("train", "val", "test")}
    rare = [events.LABELS.index(e) for e in events.EVENTS]
    return Task("events", list(events.LABELS), rare, _standardise(X), y, "overall EER",
                ["every clip at 8 kHz, loudest 0.5 s; split 70/20/10 by source recording (lib.datasets.events)"])


def load_emotion(limit: int | None = None) -> Task:
    """EmoDB with the emotion chapter's fixed speaker split and log-mel frame features."""
    from lib.datasets import emotion

    df = emotion.emodb_table()
    F = pool(emotion.emodb_features("logmel", df), time_axis=1)  # cached for all 535 utterances
    keep = _limit(df.reset_index(drop=True), "split", "label", limit).index.to_numpy()
    split = df["split"].to_numpy()[keep]
    F, labels = F[keep], df["label"].to_numpy()[keep]
    X = {s: F[split == s] for s in ("train", "val", "test")}
    y = {s: labels[split == s] for s in ("train", "val", "test")}
    rare = [emotion.EMODB_CLASSES.index(c) for c in ("disgust", "fear")]
    return Task("emotion", list(emotion.EMODB_CLASSES), rare, _standardise(X), y, "UA",
                ["fixed speaker split of lib.datasets.emotion (6 / 2 / 2 speakers)"])


def load_kws(limit: int | None = None) -> Task:
    """The keyword chapter's speaker-disjoint 12-class split and MFCC+delta features (no augmentation)."""
    from lib.datasets import kws

    df = _limit(kws.build_split(seed=0), "split", "label", limit)
    F = pool(kws.compute_features(df), time_axis=2)
    labels = kws.label_index(df["label"])
    split = df["split"].to_numpy()
    X = {s: F[split == s] for s in ("train", "val", "test")}
    y = {s: labels[split == s] for s in ("train", "val", "test")}
    rare = [kws.LABELS.index(c) for c in ("on", "off", "go")]
    return Task("kws", list(kws.LABELS), rare, _standardise(X), y, "macro-F1",
                ["speaker-disjoint 12-class split of lib.datasets.kws; 20 MFCC + 20 deltas, pooled"])


LOADERS = {"kws": load_kws, "events": load_events, "emotion": load_emotion}


def controlled_subset(y: np.ndarray, rare: list, ratio: float, cap: int, seed: int = 0) -> tuple[np.ndarray, dict]:
    """Training indices with every common class at ``min(cap, available)`` and every rare class at
    ``max(2, round(cap / ratio))`` (never more than available).  Returns indices and counts per class."""
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


def balanced_subset(y: np.ndarray, seed: int = 0) -> np.ndarray:
    """Indices with every class subsampled to the smallest class count."""
    rng = np.random.default_rng(seed)
    n = np.bincount(y)[np.bincount(y) > 0].min()
    return np.sort(np.concatenate([rng.choice(np.flatnonzero(y == c), size=n, replace=False) for c in np.unique(y)]))


def score(task: Task, y_true: np.ndarray, proba: np.ndarray) -> float:
    """The task's metric: macro-F1 (kws), overall EER over the rare events (events), UA (emotion)."""
    if task.name == "events":
        return float(np.mean([metrics.eer((y_true == c).astype(int), proba[:, c]) for c in task.rare]))
    pred = proba.argmax(1)
    if task.name == "emotion":
        return metrics.unweighted_accuracy(y_true, pred)
    return metrics.classification_summary(y_true, pred, list(range(len(task.classes))))["f1_macro"]
