"""One fixed small model, nine ways to fight class imbalance (the head-to-head chapter).

The model is a two-layer MLP on pooled features; only the *method* changes:

=================  ============================================================
``none``           cross-entropy
``class_weight``   cross-entropy with 'balanced' class weights
``ros``            random over-sampling (imbalanced-learn)
``smoteenn``       SMOTE + edited nearest neighbours (imbalanced-learn)
``mixup``          in-batch mixup, Beta(0.4, 0.4) (Zhang et al., 2018)
``pdds``           PDDS resampler of :mod:`lib.balancing` on hard labels
``triple_header``  per-class spherical k-means + triple-header cross-entropy (paper 002)
``focal``          focal loss, gamma = 2 (Lin et al., 2017)
``logit_adjust``   logit-adjusted cross-entropy, tau = 1 (Menon et al., 2021)
=================  ============================================================
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lib import balancing
from lib.models import training

METHODS = ["none", "class_weight", "ros", "smoteenn", "mixup", "pdds", "triple_header", "focal", "logit_adjust"]


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
    return DataLoader(TensorDataset(torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y)),
                      batch_size=batch_size, shuffle=shuffle, generator=torch.Generator().manual_seed(seed))


def resample(method: str, X, y, n_classes: int, seed: int):
    """Returns training features and targets (class indices, or label distributions for PDDS)."""
    if method == "ros":
        return balancing.RandomOverSampler(random_state=seed).fit_resample(X, y)
    if method == "smoteenn":
        smallest = int(np.bincount(y, minlength=n_classes)[np.bincount(y, minlength=n_classes) > 0].min())
        if smallest < 2:
            raise ValueError("SMOTE needs at least 2 samples of every class")
        smote = balancing.SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
        return balancing.SMOTEENN(smote=smote, random_state=seed).fit_resample(X, y)
    if method == "pdds":
        Xr, Yr = balancing.PDDS(p=0.8, clear_target="max", random_state=seed).fit_resample(X, y, n_classes)
        return Xr, Yr.astype(np.float32)
    return X, y


def fit_predict(method: str, X_train, y_train, X_val, y_val, X_test, n_classes: int, seed: int = 0,
                epochs: int = 60, batch_size: int = 64, lr: float = 1e-3, th_rounds: int = 2) -> np.ndarray:
    """Train the fixed model with ``method`` and return class probabilities on ``X_test``.

    Model selection: the epoch with the lowest validation cross-entropy (validation data are
    never resampled).  ``epochs`` counts passes over the *original* training set: a resampled
    set gets proportionally fewer passes, so every method takes about the same number of
    gradient steps.
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose from {METHODS}")
    training.set_seed(seed)
    X_train, y_train = np.asarray(X_train, np.float32), np.asarray(y_train)
    Xr, Yr = resample(method, X_train, y_train, n_classes, seed)
    counts = np.bincount(y_train, minlength=n_classes).astype(np.float32)
    net = PooledNet(X_train.shape[1], n_classes)
    val = _loader(X_val, y_val, 512, seed, shuffle=False)

    def val_ce(model, batch):
        return F.cross_entropy(model(batch[0]), batch[1])

    if method == "class_weight":
        weight = torch.as_tensor([balancing.class_weights(y_train, np.arange(n_classes)).get(c, 0.0)
                                  for c in range(n_classes)], dtype=torch.float32)
        loss = lambda m, b: F.cross_entropy(m(b[0]), b[1], weight=weight)  # noqa: E731
    elif method == "focal":
        loss = lambda m, b: balancing.focal_loss(m(b[0]), b[1], gamma=2.0)  # noqa: E731
    elif method == "logit_adjust":
        log_prior = torch.log(torch.as_tensor(np.maximum(counts, 1) / counts.sum()))
        loss = lambda m, b: balancing.logit_adjusted_loss(m(b[0]), b[1], log_prior, tau=1.0)  # noqa: E731
    elif method == "pdds":
        loss = lambda m, b: balancing.soft_cross_entropy(m(b[0]), b[1])  # noqa: E731
    elif method == "mixup":
        gen = np.random.default_rng(seed)

        def loss(m, b):
            x, yb = b
            lam = gen.beta(0.4, 0.4, size=len(x)).astype(np.float32)
            perm = torch.as_tensor(gen.permutation(len(x)))
            onehot = F.one_hot(yb, n_classes).float()
            xm, ym = balancing.mixup(x, x[perm], onehot, onehot[perm], lam)
            return balancing.soft_cross_entropy(m(xm), ym)
    else:
        loss = lambda m, b: F.cross_entropy(m(b[0]), b[1])  # noqa: E731

    model: nn.Module = net
    if method == "triple_header":
        model = _fit_triple_header(net, X_train, y_train, val, val_ce, seed, epochs, batch_size, lr, th_rounds)
    else:
        train = _loader(Xr, Yr, batch_size, seed)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        # Same number of gradient steps for every method: a resampled (larger) set gets fewer epochs.
        epochs_here = max(1, int(round(epochs * len(X_train) / len(Xr))))
        training.fit(net, train, val, loss, opt, epochs=epochs_here, log=None, val_loss_fn=val_ce)
    with torch.no_grad():
        model.eval()
        return torch.softmax(model(torch.as_tensor(X_test, dtype=torch.float32)), -1).numpy()


def _fit_triple_header(net, X, y, val, val_ce, seed, epochs, batch_size, lr, rounds):
    """Algorithm 1 of paper 002 on the pooled MLP: cluster each class, tune the cluster layer, then end to end."""
    from lib.models.triple_header import cluster_per_class, triple_header_loss

    model = None
    per_round = max(2, epochs // rounds)
    for r in range(rounds):
        with torch.no_grad():
            net.eval()
            emb = net.embed(torch.as_tensor(X)).numpy()
        clustering = cluster_per_class(emb, y, seed=seed + r)
        model = ClusterNet(net, clustering.centroids, clustering.cluster_class)
        cc = clustering.cluster_class
        train = _loader(X, clustering.assignment, batch_size, seed + r)
        th = lambda m, b: triple_header_loss(m.cluster_logits(b[0]), b[1], cc)  # noqa: E731
        head_opt = torch.optim.Adam(model.clusters.parameters(), lr=lr)
        training.fit(model, train, None, th, head_opt, epochs=2, log=None)
        opt = torch.optim.Adam(model.parameters(), lr=lr)
        training.fit(model, train, val, th, opt, epochs=per_round, log=None, val_loss_fn=val_ce)
    return model
