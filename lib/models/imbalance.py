"""One fixed small model, nine ways to fight class imbalance (the head-to-head chapter).

The model is a two-layer MLP on pooled features; only the *method* changes.  The methods are
the entries of :data:`BALANCING` (name -> :class:`Method`: a description, a resampler with
imbalanced-learn's ``fit_resample`` interface and/or a loss); :data:`METHODS` lists their names in
order.  Adding a method is adding one entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lib import balancing
from lib.models import training


class PooledNet(nn.Module):
    """features -> 128 ReLU -> dropout -> 64-d embedding -> class logits (the one fixed model)."""

    def __init__(self, d_in: int, n_classes: int, hidden: int = 128, dim: int = 64, dropout: float = 0.2):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, dim))
        self.head = nn.Linear(dim, n_classes)
        self.dim = dim

    def embed(self, x):
        return F.normalize(self.body(x), dim=-1)

    def forward(self, x):
        return self.head(self.body(x))


class ClusterNet(nn.Module):
    """Embedding + triple-header cluster layer; class score = log-sum-exp of that class's cluster logits."""

    def __init__(self, net: PooledNet, centroids, cluster_class):
        super().__init__()
        from lib.models.triple_header import ClusterLayer

        self.net = net
        self.clusters = ClusterLayer(centroids)
        self.register_buffer("cluster_class", torch.as_tensor(np.asarray(cluster_class)))

    def cluster_logits(self, x):
        return self.clusters(self.net.embed(x))

    def forward(self, x):
        z = self.cluster_logits(x)
        n_classes = int(self.cluster_class.max()) + 1
        mask = self.cluster_class[None, :] == torch.arange(n_classes)[:, None]  # (C, K)
        return torch.logsumexp(z[:, None, :].masked_fill(~mask[None], -1e9), dim=-1)


def _loader(X, Y, batch_size, seed, shuffle=True):
    return DataLoader(
        TensorDataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y)),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )


# SMOTEENN variants (imbalanced-learn).  "chapter01" is the keyword chapter's call, SMOTEENN with its
# defaults: edited nearest neighbours (ENN, kind_sel="all") removes every sample of every class whose
# three nearest neighbours are not all of its own class.  Where classes overlap, as on pooled features,
# that deletes most real samples of the common classes.  Two imbalanced-learn settings were measured
# as alternatives: "enn_mode" (Wilson's rule: keep a sample when most of its neighbours share its class)
# and "enn_grown" (edit only the classes SMOTE grew).  "enn_synthetic", the one the sweep uses, edits
# only the samples SMOTE made, with SMOTEENN's rule: a synthetic sample is dropped when any of its three
# nearest neighbours (among real and synthetic samples) belongs to another class.  Real data are never
# deleted.
SMOTEENN_CONFIGS = {
    "chapter01": {"kind_sel": "all"},
    "enn_mode": {"kind_sel": "mode"},
    "enn_grown": {"kind_sel": "all", "grown_only": True},
    "enn_synthetic": {"synthetic_only": True},
}
SMOTEENN_DEFAULT = "enn_synthetic"


class SyntheticENN:
    """SMOTE, then ENN's kind_sel="all" rule applied to the synthetic samples only (``fit_resample``)."""

    def __init__(self, smote, n_neighbors: int = 3):
        self.smote, self.n_neighbors = smote, n_neighbors

    def fit_resample(self, X, y):
        from sklearn.neighbors import NearestNeighbors

        Xs, ys = self.smote.fit_resample(X, y)  # imbalanced-learn appends the synthetic samples
        synthetic = np.arange(len(X), len(Xs))
        if not len(synthetic):
            return Xs, ys
        nn = NearestNeighbors(n_neighbors=self.n_neighbors + 1).fit(Xs)
        neighbours = nn.kneighbors(Xs[synthetic], return_distance=False)[:, 1:]  # itself first
        keep_synth = (ys[neighbours] == ys[synthetic][:, None]).all(1)
        keep = np.r_[np.ones(len(X), bool), keep_synth]
        return Xs[keep], ys[keep]


def smoteenn(y, n_classes: int, seed: int, config: str = SMOTEENN_DEFAULT):
    """SMOTE + ENN with SMOTE's k reduced to what the smallest class allows (None: nothing to do)."""
    from imblearn.under_sampling import EditedNearestNeighbours

    counts = np.bincount(y, minlength=n_classes)
    smallest = int(counts[counts > 0].min())
    if smallest < 2:
        raise ValueError("SMOTE needs at least 2 samples of every class")
    smote = balancing.SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
    cfg = dict(SMOTEENN_CONFIGS[config])
    if cfg.pop("synthetic_only", False):
        return SyntheticENN(smote)
    grown = [int(c) for c in np.flatnonzero((counts > 0) & (counts < counts.max()))]
    target = grown if cfg.pop("grown_only", False) else "all"
    if not len(target):  # all classes equal: SMOTE adds nothing, so there is nothing synthetic to edit
        return None
    enn = EditedNearestNeighbours(sampling_strategy=target, n_neighbors=3, **cfg)
    return balancing.SMOTEENN(smote=smote, enn=enn, random_state=seed)


def resample(method: str, X, y, n_classes: int, seed: int, smoteenn_config: str = SMOTEENN_DEFAULT):
    """Returns training features and targets (class indices, or label distributions for PDDS)."""
    entry = BALANCING.get(method)
    sampler = None if entry is None or entry.resampler is None else entry.resampler(y, n_classes, seed, smoteenn_config)
    return (X, y) if sampler is None else sampler.fit_resample(X, y)


def fit_predict(
    method: str,
    X_train,
    y_train,
    X_val,
    y_val,
    X_test,
    n_classes: int,
    seed: int = 0,
    epochs: int = 60,
    batch_size: int = 64,
    lr: float = 1e-3,
    th_rounds: int = 2,
    patience: int | None = 10,
    smoteenn_config: str = SMOTEENN_DEFAULT,
    return_info: bool = False,
):
    """Train the fixed model with ``method`` and return class probabilities on ``X_test``.

    Model selection: the epoch with the lowest validation cross-entropy (validation data are
    never resampled), stopping after ``patience`` epochs without improvement.  ``epochs`` caps the
    passes over the *original* training set: a resampled set gets proportionally fewer passes, so
    no method gets more gradient steps than another.  With ``return_info`` also a dict: training
    size and class counts after resampling (argmax of soft labels), epochs run, best epoch, cap.
    """
    if method not in BALANCING:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    entry = BALANCING[method]
    training.set_seed(seed)
    X_train, y_train = np.asarray(X_train, np.float32), np.asarray(y_train)
    Xr, Yr = resample(method, X_train, y_train, n_classes, seed, smoteenn_config)
    net = PooledNet(X_train.shape[1], n_classes)
    val = _loader(X_val, y_val, 512, seed, shuffle=False)

    def val_ce(model, batch):
        return F.cross_entropy(model(batch[0]), batch[1])

    loss = (entry.loss or _cross_entropy)(y_train, n_classes, seed)

    model: nn.Module = net
    if entry.fit is not None:
        model, hist, cap = entry.fit(
            net, X_train, y_train, val, val_ce, seed, epochs, batch_size, lr, th_rounds, patience
        )
    else:
        train = _loader(Xr, Yr, batch_size, seed)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        # No method gets more gradient steps than another: a resampled (larger) set gets fewer epochs.
        cap = max(1, int(round(epochs * len(X_train) / len(Xr))))
        hist = training.fit(net, train, val, loss, opt, epochs=cap, log=None, val_loss_fn=val_ce, patience=patience)
    with torch.no_grad():
        model.eval()
        proba = torch.softmax(model(torch.as_tensor(X_test, dtype=torch.float32)), -1).numpy()
    if not return_info:
        return proba
    hard = Yr if np.ndim(Yr) == 1 else np.asarray(Yr).argmax(1)
    info = {
        "n_train_before": len(X_train),
        "n_train_after": len(Xr),
        "counts_after": np.bincount(np.asarray(hard), minlength=n_classes).tolist(),
        "epochs_run": len(hist),
        "best_epoch": int(np.argmin([h["val_loss"] for h in hist])) + 1,
        "epoch_cap": cap,
    }
    return proba, info


def _fit_triple_header(net, X, y, val, val_ce, seed, epochs, batch_size, lr, rounds, patience):
    """Algorithm 1 of paper 002 on the pooled MLP: cluster each class, tune the cluster layer, then end to end.

    The events chapter's settings: beta = 0, beta' = 5, alpha_init = 10, cluster weights 1 / K_c, two
    epochs of the cluster layer alone per round, clustering seeds ``seed + 1000 r``.  Returns the
    model, the history of the last round and its epoch cap.
    """
    from lib.models.triple_header import cluster_per_class, triple_header_loss

    model, hist = None, []
    per_round = max(2, epochs // rounds)
    for r in range(rounds):
        with torch.no_grad():
            net.eval()
            emb = net.embed(torch.as_tensor(X)).numpy()
        clustering = cluster_per_class(emb, y, seed=seed + 1000 * r)
        model = ClusterNet(net, clustering.centroids, clustering.cluster_class)
        cc = clustering.cluster_class
        train = _loader(X, clustering.assignment, batch_size, seed + r)
        th = lambda m, b: triple_header_loss(m.cluster_logits(b[0]), b[1], cc, 0.0, 5.0)  # noqa: E731,B023
        head_opt = torch.optim.Adam(model.clusters.parameters(), lr=lr)
        training.fit(model, train, None, th, head_opt, epochs=2, log=None)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        hist = training.fit(
            model, train, val, th, opt, epochs=per_round, log=None, val_loss_fn=val_ce, patience=patience
        )
    return model, hist, per_round


# --------------------------------------------------------------------------
# The methods: one entry each
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Method:
    """One way to fight class imbalance.

    ``resampler(y, n_classes, seed, config)`` returns an object with imbalanced-learn's
    ``fit_resample(X, y)`` (or ``None``: nothing to resample); ``config`` is the SMOTEENN configuration
    name, which only ``smoteenn`` reads.  ``loss(y, n_classes, seed)`` returns the training loss
    ``loss(model, batch)`` (default: cross-entropy).  ``fit`` replaces the whole training procedure
    (signature of :func:`_fit_triple_header`).
    """

    description: str
    resampler: Callable | None = None
    loss: Callable | None = None
    fit: Callable | None = None


def _cross_entropy(y, n_classes, seed):
    return lambda m, b: F.cross_entropy(m(b[0]), b[1])


def _class_weighted_cross_entropy(y, n_classes, seed):
    weight = torch.as_tensor(
        [balancing.class_weights(y, np.arange(n_classes)).get(c, 0.0) for c in range(n_classes)],
        dtype=torch.float32,
    )
    return lambda m, b: F.cross_entropy(m(b[0]), b[1], weight=weight)


def _focal(y, n_classes, seed):
    return lambda m, b: balancing.focal_loss(m(b[0]), b[1], gamma=2.0)


def _logit_adjusted(y, n_classes, seed):
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    log_prior = torch.log(torch.as_tensor(np.maximum(counts, 1) / counts.sum()))
    return lambda m, b: balancing.logit_adjusted_loss(m(b[0]), b[1], log_prior, tau=1.0)


def _soft_cross_entropy(y, n_classes, seed):
    return lambda m, b: balancing.soft_cross_entropy(m(b[0]), b[1])


def _mixup(y, n_classes, seed):
    gen = np.random.default_rng(seed)

    def loss(m, b):
        x, yb = b
        lam = gen.beta(0.4, 0.4, size=len(x)).astype(np.float32)
        perm = torch.as_tensor(gen.permutation(len(x)))
        onehot = F.one_hot(yb, n_classes).float()
        xm, ym = balancing.mixup(x, x[perm], onehot, onehot[perm], lam)
        return balancing.soft_cross_entropy(m(xm), ym)

    return loss


class HardLabelPDDS:
    """The emotion chapter's PDDS (chapters/05_pdds_emotion.py) on hard labels, as a sampler:
    ``fit_resample(X, y)`` returns label distributions as float32."""

    def __init__(self, n_classes: int, seed: int):
        self.n_classes = n_classes
        self.pdds = balancing.PDDS(p=0.8, sigma=1.0, clear_target="min_other", random_state=seed)

    def fit_resample(self, X, y):
        Xr, Yr = self.pdds.fit_resample(X, y, self.n_classes)
        return Xr, Yr.astype(np.float32)


#: Every method of the head-to-head chapter, in the chapter's order.  A new method is one entry here
#: (its helper, if new, goes to :mod:`lib.balancing`).
BALANCING: dict[str, Method] = {
    "none": Method("cross-entropy"),
    "class_weight": Method("cross-entropy with 'balanced' class weights", loss=_class_weighted_cross_entropy),
    "ros": Method(
        "random over-sampling (imbalanced-learn)",
        resampler=lambda y, n_classes, seed, config: balancing.RandomOverSampler(random_state=seed),
    ),
    "smoteenn": Method(
        "SMOTE + edited nearest neighbours (imbalanced-learn); configuration: see SMOTEENN_CONFIGS "
        "(the keyword chapter's default one deletes most of the data)",
        resampler=smoteenn,
    ),
    "mixup": Method("in-batch mixup, Beta(0.4, 0.4) (Zhang et al., 2018)", loss=_mixup),
    "pdds": Method(
        "PDDS resampler of lib.balancing on hard labels, the emotion chapter's setting "
        "(p = 0.8, sigma = 1, clear classes: the scarcest raised to the next-smallest)",
        resampler=lambda y, n_classes, seed, config: HardLabelPDDS(n_classes, seed),
        loss=_soft_cross_entropy,
    ),
    "triple_header": Method(
        "per-class spherical k-means + triple-header cross-entropy (paper 002)", fit=_fit_triple_header
    ),
    "focal": Method("focal loss, gamma = 2 (Lin et al., 2017)", loss=_focal),
    "logit_adjust": Method("logit-adjusted cross-entropy, tau = 1 (Menon et al., 2021)", loss=_logit_adjusted),
}
METHODS = list(BALANCING)


# --------------------------------------------------------------------------
# One block of the sweep: every method on one fold of one task at one ratio and seed
# --------------------------------------------------------------------------
def run_block(
    task,
    fold: int,
    ratio: float,
    cap: int,
    seed: int,
    epochs: int,
    methods=None,
    patience: int | None = 10,
    smoteenn_configs=(SMOTEENN_DEFAULT,),
    threads: int = 1,
) -> list[dict]:
    """Train every method on fold ``fold`` of ``task`` (a :class:`lib.datasets.imbalance.Task`).

    The training part is subsampled to the ratio with seed ``(seed, fold)``; returns one record per
    method with its test output (predicted labels, or the rare classes' probabilities for events),
    the counts after resampling, epochs and wall time.  Warnings are returned, not printed (this runs
    in worker processes).
    """
    import time
    import warnings

    from lib.datasets import imbalance as tasks_lib

    torch.set_num_threads(threads)
    f = task.folds[fold]
    Xs = task.standardised(f)
    y_tr_full = task.y[f["train"]]
    pos, counts = tasks_lib.controlled_subset(y_tr_full, task.rare, ratio, cap, seed=seed * 7919 + fold)
    X_tr, y_tr = Xs["train"][pos], y_tr_full[pos]
    out = []
    jobs = [(m, SMOTEENN_DEFAULT) for m in (methods or METHODS) if m != "smoteenn"]
    if "smoteenn" in (methods or METHODS):
        jobs += [("smoteenn", c) for c in smoteenn_configs]
    for method, config in jobs:
        t0 = time.perf_counter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                proba, info = fit_predict(
                    method,
                    X_tr,
                    y_tr,
                    Xs["val"],
                    task.y[f["val"]],
                    Xs["test"],
                    len(task.classes),
                    seed=seed,
                    epochs=epochs,
                    patience=patience,
                    smoteenn_config=config,
                    return_info=True,
                )
                error = ""
            except ValueError as exc:  # e.g. SMOTE with a single sample of a class: recorded, not hidden
                proba, info, error = None, {}, str(exc)
        output = None if proba is None else (proba[:, task.rare] if task.name == "events" else proba.argmax(1))
        out.append(
            {
                "task": task.name,
                "fold": fold,
                "ratio": ratio,
                "seed": seed,
                "method": method if method != "smoteenn" or config == SMOTEENN_DEFAULT else f"smoteenn_{config}",
                "smoteenn_config": config if method == "smoteenn" else "",
                "output": output,
                "counts_before": [counts.get(c, 0) for c in range(len(task.classes))],
                **info,
                "fit_s": time.perf_counter() - t0,
                "error": error,
                "warnings": sorted({f"{w.category.__name__}: {w.message}" for w in caught}),
            }
        )
    return out


# --------------------------------------------------------------------------
# The chapter's scores, paired intervals and critical-difference diagrams
# --------------------------------------------------------------------------
def pooled_outputs(records, task) -> dict:
    """(ratio, seed, method) -> the test outputs of all folds, concatenated in fold order (``task.test_index``)."""
    by = {}
    for r in records:
        if r["task"] == task.name and r["output"] is not None:
            by.setdefault((r["ratio"], r["seed"], r["method"]), {})[r["fold"]] = r["output"]
    return {
        k: np.concatenate([v[f] for f in range(len(task.folds))]) for k, v in by.items() if len(v) == len(task.folds)
    }


def block_scores(task, outputs: dict) -> "pd.DataFrame":  # noqa: F821, UP037 (pandas imported inside)
    """One row per (ratio, seed, method) with the task's metric on the pooled test outputs."""
    import pandas as pd

    from lib.datasets import imbalance as tasks_lib

    y = task.y[task.test_index]
    ones = np.ones((1, len(y)))
    rows = [
        {
            "task": task.name,
            "ratio": r,
            "seed": s,
            "method": m,
            "value": float(tasks_lib.weighted_score(task, ones, y, out)[0]),
        }
        for (r, s, m), out in outputs.items()
    ]
    return pd.DataFrame(rows)


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
):
    """Mean paired difference ``a − b`` of the task metrics (EER sign-flipped: positive = ``a`` better), over
    ``tasks`` (name -> Task), their ``ratios`` and ``seeds``, with a two-way percentile bootstrap that
    resamples seeds (training noise) and, in every task, whole speakers or recordings (test sampling)
    together.  Returns a :class:`lib.metrics.Interval` in points (``scale``)."""
    from lib import metrics
    from lib.datasets import imbalance as tasks_lib

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
                    tasks_lib.weighted_score(task, W, y, outputs[name][(r, s, a)])
                    - tasks_lib.weighted_score(task, W, y, outputs[name][(r, s, b)])
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
    return metrics.Interval(
        est,
        float(min(low, est)),
        float(max(high, est)),
        n_items * len(seeds),
        n_groups,
        0.95,
        f"two-way percentile bootstrap over seeds and test speakers/recordings, {n_boot} resamples",
        p,
    )


def nemenyi_cliques(mean_ranks: dict, cd: float) -> list[tuple[int, int]]:
    """Maximal runs (start, end positions in rank order) of methods whose mean ranks lie within ``cd``."""
    r = np.sort(np.asarray(list(mean_ranks.values()), dtype=float))
    runs = []
    for i in range(len(r)):
        j = int(np.searchsorted(r, r[i] + cd, side="right")) - 1
        if j > i and not any(s <= i and j <= e for s, e in runs):
            runs.append((i, j))
    return runs


def cd_diagram(ax, mean_ranks: dict, cd: float, title: str = "", colors: dict | None = None):
    """Critical-difference diagram (Demšar 2006): methods on the mean-rank axis (1 = best, on the left),
    a bar of length CD, and thick lines joining methods that the Nemenyi test cannot tell apart."""
    items = sorted(mean_ranks.items(), key=lambda kv: kv[1])
    k = len(items)
    ax.set_xlim(-2.9, k + 3.4)  # room for the labels on both sides
    ax.set_ylim(0, 1.08)
    ax.axhline(0.78, color="0.2", lw=1)
    for t in range(1, k + 1):
        ax.plot([t, t], [0.78, 0.82], color="0.2", lw=1)
        ax.text(t, 0.85, str(t), ha="center", va="bottom", fontsize=8)
    ax.plot([1, 1 + cd], [0.97, 0.97], color="black", lw=2)
    ax.text(1 + cd / 2, 0.99, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    half = (k + 1) // 2
    for pos, (name, r) in enumerate(items):
        left = pos < half
        row = pos if left else k - 1 - pos
        y = 0.62 - 0.11 * row
        x_text = 0.5 if left else k + 0.5
        color = (colors or {}).get(name, "0.2")
        ax.plot([r, r, x_text], [0.78, y, y], color=color, lw=1.2)
        ax.text(
            x_text + (-0.05 if left else 0.05),
            y,
            f"{name} ({r:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=8,
            color="0.1",
        )
    for n, (s, e) in enumerate(nemenyi_cliques(mean_ranks, cd)):
        ax.plot(
            [items[s][1] - 0.03, items[e][1] + 0.03],
            [0.74 - 0.035 * n] * 2,
            color="black",
            lw=3,
            solid_capstyle="round",
        )
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return ax
