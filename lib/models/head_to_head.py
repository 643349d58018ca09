"""The head-to-head experiment (chapter 06): one fixed small model, nine ways to fight class imbalance.

The model is a two-layer MLP on pooled features (:class:`PooledNet`; :class:`ClusterNet` for the
triple header); only the *method* changes.  The methods are the entries of :data:`BALANCING`
(name -> :class:`Method`: a description, a resampler with imbalanced-learn's ``fit_resample``
interface and/or a loss); :data:`METHODS` lists their names in order.  Adding a method is adding
one entry.  :func:`resample` and :func:`fit_predict` train one method, :func:`run_block` runs every
method on one fold of one task (:mod:`lib.datasets.head_to_head`), :func:`pooled_outputs` and
:func:`block_scores` score the sweep.  The samplers the methods use live in :mod:`lib.balancing`,
the paired effect in :func:`lib.metrics.paired_effect`, the critical-difference diagram in
:func:`lib.page.cd_diagram`.
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
        mask = self.cluster_class[None, :] == torch.arange(n_classes, device=z.device)[:, None]  # (C, K)
        return torch.logsumexp(z[:, None, :].masked_fill(~mask[None], -1e9), dim=-1)


def _loader(X, Y, batch_size, seed, shuffle=True):
    return DataLoader(
        TensorDataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y)),
        batch_size=batch_size,
        shuffle=shuffle,
        generator=torch.Generator().manual_seed(seed),
    )


def resample(method: str, X, y, n_classes: int, seed: int, smoteenn_config: str = balancing.SMOTEENN_DEFAULT):
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
    smoteenn_config: str = balancing.SMOTEENN_DEFAULT,
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

    def loss(m, b):
        logits = m(b[0])
        return F.cross_entropy(logits, b[1], weight=weight.to(logits.device))

    return loss


def _focal(y, n_classes, seed):
    return lambda m, b: balancing.focal_loss(m(b[0]), b[1], gamma=2.0)


def _logit_adjusted(y, n_classes, seed):
    counts = np.bincount(y, minlength=n_classes).astype(np.float32)
    log_prior = torch.log(torch.as_tensor(np.maximum(counts, 1) / counts.sum()))

    def loss(m, b):
        logits = m(b[0])
        return balancing.logit_adjusted_loss(logits, b[1], log_prior.to(logits.device), tau=1.0)

    return loss


def _soft_cross_entropy(y, n_classes, seed):
    return lambda m, b: balancing.soft_cross_entropy(m(b[0]), b[1])


def _mixup(y, n_classes, seed):
    gen = np.random.default_rng(seed)

    def loss(m, b):
        x, yb = b
        lam = gen.beta(0.4, 0.4, size=len(x)).astype(np.float32)
        perm = torch.as_tensor(gen.permutation(len(x)), device=x.device)
        onehot = F.one_hot(yb, n_classes).float()
        xm, ym = balancing.mixup(x, x[perm], onehot, onehot[perm], lam)
        return balancing.soft_cross_entropy(m(xm), ym)

    return loss


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
        resampler=balancing.smoteenn,
    ),
    "mixup": Method("in-batch mixup, Beta(0.4, 0.4) (Zhang et al., 2018)", loss=_mixup),
    "pdds": Method(
        "PDDS resampler of lib.balancing on hard labels, the emotion chapter's setting "
        "(p = 0.8, sigma = 1, clear classes: the scarcest raised to the next-smallest)",
        resampler=lambda y, n_classes, seed, config: balancing.HardLabelPDDS(n_classes, seed),
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
    smoteenn_configs=(balancing.SMOTEENN_DEFAULT,),
    threads: int = 1,
) -> list[dict]:
    """Train every method on fold ``fold`` of ``task`` (a :class:`lib.datasets.head_to_head.Task`).

    The training part is subsampled to the ratio with seed ``(seed, fold)``; returns one record per
    method with its test output (predicted labels, or the rare classes' probabilities for events),
    the counts after resampling, epochs and wall time.  Warnings are returned, not printed (this runs
    in worker processes).
    """
    import time
    import warnings

    from lib.datasets import head_to_head as tasks_lib

    torch.set_num_threads(threads)
    f = task.folds[fold]
    Xs = task.standardised(f)
    y_tr_full = task.y[f["train"]]
    pos, counts = tasks_lib.controlled_subset(y_tr_full, task.rare, ratio, cap, seed=seed * 7919 + fold)
    X_tr, y_tr = Xs["train"][pos], y_tr_full[pos]
    out = []
    jobs = [(m, balancing.SMOTEENN_DEFAULT) for m in (methods or METHODS) if m != "smoteenn"]
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
                "method": method
                if method != "smoteenn" or config == balancing.SMOTEENN_DEFAULT
                else f"smoteenn_{config}",
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
# The chapter's scores (the paired intervals are lib.metrics.paired_effect, the diagrams lib.page.cd_diagram)
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

    from lib.datasets import head_to_head as tasks_lib

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
