"""Triple-header cross-entropy embeddings for imbalanced acoustic event detection (PyTorch).

The method of the chapter ``03_triple_header_events`` (section 3 and Algorithm 1 of the paper):

1. an embedding network (:class:`LSTMEmbedder` or :class:`CNNEmbedder`) whose output is
   L2-normalised, i.e. lies on the unit sphere;
2. per class ``c``, spherical k-means of the embeddings into ``K_c = floor(I_c / min I)``
   clusters (:func:`cluster_per_class`);
3. a dense layer whose columns start at the centroids (:class:`ClusterLayer`), trained with the
   *triple-header* soft-max (:func:`triple_header_logits`): the logit of every cluster of the
   sample's own class but not its own cluster is raised by ``beta``, the logit of every cluster of
   another class by ``beta_prime > beta``, so the sample must be closer to its own centroid than to
   same-class centroids by a margin, and closer to those than to other-class centroids by a larger
   one; categorical cross-entropy with per-cluster weights ``1 / K_{c_k}`` (every class counts the
   same, :func:`cluster_weights`);
4. the detector: ``L`` sigmoid units on top of the cluster layer, trained with the class-weighted
   binary cross-entropy of eq. (2) (:func:`weighted_bce`); ``Proposed1`` trains the output layer
   only, ``Proposed2`` then the whole model; the ``Baseline`` trains the same embedding network
   with a sigmoid layer directly with eq. (2).

For the efficiency comparison, the quintuplet-sampling triple-header hinge loss of Huang et al.
(CVPR 2016, "Learning deep representation for imbalanced classification") is here too:
:func:`mine_quintuplets` (all pairwise distances, O(I²)) and :func:`quintuplet_hinge_loss`.

The equations (5)-(9) are not legible in the copy of the paper we have; what this module
implements is our reading of the surrounding text, and the chapter says so.

Public entry points: :func:`learn_embedding`, :func:`train_detector`, :func:`train_baseline`,
:func:`embed` (L2-normalised embeddings of an array), :func:`detect` (event probabilities) and, for
your own recordings with the detector shipped in ``book/models``, :func:`score_files`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lib.models import shipped, training


# --------------------------------------------------------------------------
# Embedding networks
# --------------------------------------------------------------------------
class LSTMEmbedder(nn.Module):
    """One LSTM layer (128 units by default) over the frames; the last hidden state, L2-normalised."""

    def __init__(self, n_in: int = 64, hidden: int = 128):
        super().__init__()
        self.lstm = nn.LSTM(n_in, hidden, batch_first=True)
        self.dim = hidden

    def forward(self, x):  # x: (batch, n_features, n_frames)
        _, (h, _) = self.lstm(x.transpose(1, 2))
        return F.normalize(h[-1], dim=1)


class CNNEmbedder(nn.Module):
    """Two convolution layers as in the paper, flattened and L2-normalised.

    32 filters 7×7, ReLU, batch norm, max-pool 4 (mel) × 5 (time), dropout 0.3; 64 filters 7×7,
    ReLU, batch norm, max-pool 4 (mel) × all frames (the paper pools 100 of its 200 remaining frames),
    dropout 0.3.  Embedding size 64 × n_mels/16.
    """

    def __init__(self, n_mels: int = 64, dropout: float = 0.3):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 7, padding=3)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 7, padding=3)
        self.bn2 = nn.BatchNorm2d(64)
        self.drop = nn.Dropout(dropout)
        self.dim = 64 * (n_mels // 16)

    def forward(self, x):  # x: (batch, n_mels, n_frames)
        x = x.unsqueeze(1)
        x = self.drop(F.max_pool2d(self.bn1(F.relu(self.conv1(x))), (4, 5), ceil_mode=True))
        x = self.bn2(F.relu(self.conv2(x)))
        x = self.drop(F.max_pool2d(x, (4, x.shape[-1])))
        return F.normalize(x.flatten(1), dim=1)


EMBEDDERS = {"lstm": LSTMEmbedder, "cnn": CNNEmbedder}


def make_embedder(kind: str, n_mels: int = 64, channels_last: bool = True) -> nn.Module:
    """The paper's LSTM or CNN embedding network.  ``channels_last`` stores the CNN's weights
    channels-last: same arithmetic, but oneDNN's convolutions run faster on this CPU (measured 1.5x for the
    forward and backward pass alone, 1.1x for a whole training epoch; ``benchmarks/events_throughput.py``)."""
    if kind == "lstm":
        return LSTMEmbedder(n_mels, 128)
    if kind == "cnn":
        net = CNNEmbedder(n_mels)
        return net.to(memory_format=torch.channels_last) if channels_last else net
    raise ValueError(f"unknown embedder {kind!r}; choose one of {sorted(EMBEDDERS)}")


# --------------------------------------------------------------------------
# Spherical k-means, per class
# --------------------------------------------------------------------------
def spherical_kmeans(X: np.ndarray, k: int, n_iter: int = 50, n_init: int = 3, seed: int = 0, balanced: bool = False):
    """K-means with cosine similarity (Dhillon & Modha, 2001): centroids are normalised means.

    ``X`` rows are L2-normalised first.  Initialisation k-means++ on cosine distance; the run with
    the highest total similarity of ``n_init`` wins.  With ``balanced`` the solution is then refined
    with size-constrained assignments (:func:`balanced_assignment`: no cluster holds more than
    ⌈n/k⌉ points), the roughly equal cluster sizes the paper asks for.
    Returns ``(centroids (k, d), labels (n,))``.
    """
    X = np.asarray(X, dtype=np.float64)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    n = len(X)
    if not 1 <= k <= n:
        raise ValueError(f"spherical_kmeans: k={k} must be between 1 and the number of points ({n})")
    rng = np.random.default_rng(seed)
    best = (-np.inf, None, None)
    for _ in range(n_init):
        centres = [X[rng.integers(n)]]
        for _ in range(1, k):  # k-means++ with distance 1 - cos
            d = np.clip(1 - np.max(X @ np.array(centres).T, axis=1), 0, None)
            p = d / d.sum() if d.sum() > 0 else np.full(n, 1 / n)
            centres.append(X[rng.choice(n, p=p)])
        C = np.array(centres)
        labels = None
        for _ in range(n_iter):
            new = np.argmax(X @ C.T, axis=1)
            if labels is not None and np.array_equal(new, labels):
                break
            labels = new
            for j in range(k):
                members = X[labels == j]
                if len(members) == 0:  # empty cluster: restart it at the worst-served point
                    C[j] = X[np.argmin(np.max(X @ C.T, axis=1))]
                else:
                    s = members.sum(axis=0)
                    C[j] = s / max(np.linalg.norm(s), 1e-12)
        labels = np.argmax(X @ C.T, axis=1)
        score = float(np.sum(np.max(X @ C.T, axis=1)))
        if score > best[0]:
            best = (score, C.copy(), labels.copy())
    if balanced:
        return _balance(X, best[1], n_iter)
    return best[1].astype(np.float32), best[2]


def balanced_assignment(X: np.ndarray, C: np.ndarray) -> np.ndarray:
    """Assign every row of ``X`` to a centroid of ``C`` so that no centroid takes more than ⌈n/k⌉ rows
    and the total cosine similarity is the largest possible.

    Exact: each centroid is replicated to its capacity and the rows are matched to the copies by
    :func:`scipy.optimize.linear_sum_assignment` (the assignment step of balanced k-means,
    Malinen & Fränti 2014).
    """
    from scipy.optimize import linear_sum_assignment

    n, k = len(X), len(C)
    capacity = -(-n // k)
    rows, cols = linear_sum_assignment(-np.repeat(X @ C.T, capacity, axis=1))
    labels = np.empty(n, dtype=np.int64)
    labels[rows] = cols // capacity
    return labels


def _balance(X: np.ndarray, C: np.ndarray, n_iter: int):
    """Lloyd iterations with :func:`balanced_assignment` in place of the nearest-centroid step."""
    C = C.copy()
    labels = None
    for _ in range(n_iter):
        new = balanced_assignment(X, C)
        if labels is not None and np.array_equal(new, labels):
            break
        labels = new
        for j in range(len(C)):
            s = X[labels == j].sum(axis=0)
            C[j] = s / max(np.linalg.norm(s), 1e-12)
    return C.astype(np.float32), labels


@dataclass
class Clustering:
    centroids: np.ndarray  # (K, d), unit rows
    cluster_class: np.ndarray  # (K,) class of every cluster
    assignment: np.ndarray  # (I,) cluster of every sample
    k_per_class: dict = field(default_factory=dict)


def clusters_per_class(counts: dict) -> dict:
    """K_c = floor(I_c / min_c I_c) (at least 1) for every class."""
    smallest = min(counts.values())
    return {c: max(1, int(n // smallest)) for c, n in counts.items()}


def cluster_per_class(emb: np.ndarray, y: np.ndarray, seed: int = 0, balanced: bool = False) -> Clustering:
    """Spherical k-means of each class's embeddings into K_c clusters (clusters never mix classes);
    ``balanced``: clusters of roughly equal size (:func:`balanced_assignment`)."""
    y = np.asarray(y)
    classes = np.unique(y)
    k_c = clusters_per_class({int(c): int((y == c).sum()) for c in classes})
    centroids, cluster_class = [], []
    assignment = np.empty(len(y), dtype=np.int64)
    for c in classes:
        idx = np.flatnonzero(y == c)
        C, lab = spherical_kmeans(emb[idx], k_c[int(c)], seed=seed + int(c), balanced=balanced)
        assignment[idx] = lab + len(cluster_class)
        centroids.extend(C)
        cluster_class.extend([int(c)] * len(C))
    return Clustering(np.array(centroids, dtype=np.float32), np.array(cluster_class), assignment, k_c)


# --------------------------------------------------------------------------
# The triple-header layer and loss
# --------------------------------------------------------------------------
class ClusterLayer(nn.Module):
    """Dense layer of eq. (4) with the scale alpha folded into the columns (the paper's implementation note).

    The output for embedding e (unit norm) is ``W^T e``; with column norms alpha it equals
    ``alpha * cos(e, centroid_k)``.  Columns start at ``alpha_init`` × the centroids.
    """

    def __init__(self, centroids: np.ndarray, alpha_init: float = 10.0):
        super().__init__()
        C = torch.as_tensor(np.asarray(centroids), dtype=torch.float32)
        self.weight = nn.Parameter(alpha_init * F.normalize(C, dim=1).T.contiguous())  # (d, K)

    @property
    def n_clusters(self) -> int:
        return self.weight.shape[1]

    def forward(self, e):
        return e @ self.weight


def triple_header_logits(logits, target, cluster_class, beta: float = 0.0, beta_prime: float = 5.0):
    """Add the triple-header offsets to cluster logits.

    For sample i with cluster ``target[i]`` of class c_i: clusters k ≠ target of class c_i get
    ``+beta``, clusters of another class get ``+beta_prime``; the own cluster gets nothing.
    """
    cluster_class = torch.as_tensor(cluster_class, device=logits.device)
    sample_class = cluster_class[target]  # (B,)
    same = cluster_class[None, :] == sample_class[:, None]  # (B, K)
    offset = torch.where(
        same,
        torch.as_tensor(beta, dtype=logits.dtype, device=logits.device),
        torch.as_tensor(beta_prime, dtype=logits.dtype, device=logits.device),
    )
    own = F.one_hot(target, logits.shape[1]).bool()
    return logits + offset.masked_fill(own, 0.0)


def cluster_weights(cluster_class) -> torch.Tensor:
    """Per-cluster weights 1 / K_{c_k}: every class weighs the same, whatever its number of clusters."""
    cc = torch.as_tensor(np.asarray(cluster_class))
    k_of_class = torch.bincount(cc)[cc].float()
    return 1.0 / k_of_class


def triple_header_loss(logits, target, cluster_class, beta: float = 0.0, beta_prime: float = 5.0, weights=None):
    """Weighted categorical cross-entropy of the triple-header soft-max (weighted mean over the batch)."""
    adjusted = triple_header_logits(logits, target, cluster_class, beta, beta_prime)
    if weights is None:
        weights = cluster_weights(cluster_class)
    return F.cross_entropy(adjusted, target, weight=torch.as_tensor(weights, dtype=logits.dtype, device=logits.device))


# --------------------------------------------------------------------------
# The class-weighted binary cross-entropy of eq. (2)
# --------------------------------------------------------------------------
def event_targets(y: np.ndarray, n_events: int = 3) -> np.ndarray:
    """Multi-hot targets t_il from class indices; the last class (index ``n_events``) is background (no event)."""
    y = np.asarray(y)
    return (y[:, None] == np.arange(n_events)[None, :]).astype(np.float32)


def positive_weights(y: np.ndarray, n_events: int = 3) -> torch.Tensor:
    """w_l = I / I_l: inversely proportional to the number of training samples with event l."""
    t = event_targets(y, n_events)
    counts = t.sum(axis=0)
    if (counts == 0).any():
        raise ValueError(f"every event needs training samples; counts per event: {counts.tolist()}")
    return torch.as_tensor(len(y) / counts, dtype=torch.float32)


def weighted_bce(logits, targets, pos_weight):
    """Eq. (2): -mean_{i,l} [w_l t_il log y_il + (1 - t_il) log(1 - y_il)], y = sigmoid(logits)."""
    return F.binary_cross_entropy_with_logits(
        logits, targets, pos_weight=torch.as_tensor(pos_weight, device=logits.device)
    )


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
class Detector(nn.Module):
    """embedder → [cluster layer] → L sigmoid units (logits out; sigmoid applied in :func:`detect`)."""

    def __init__(self, embedder: nn.Module, n_events: int = 3, cluster_layer: ClusterLayer | None = None):
        super().__init__()
        self.embedder = embedder
        self.cluster_layer = cluster_layer
        width = cluster_layer.n_clusters if cluster_layer is not None else embedder.dim
        self.out = nn.Linear(width, n_events)

    def features(self, x):
        e = self.embedder(x)
        return self.cluster_layer(e) if self.cluster_layer is not None else e

    def forward(self, x):
        return self.out(self.features(x))


class _Head(nn.Module):
    """Wraps a layer applied to pre-computed features (for training one layer alone, fast)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, z):
        return self.layer(z)


def _loader(X, y, batch_size, shuffle, seed):
    ds = TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    g = torch.Generator().manual_seed(seed)
    return DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g if shuffle else None)


@torch.no_grad()
def embed(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """L2-normalised embeddings of an array ``(n, n_features, n_frames)`` (eval mode)."""
    embedder = model.embedder if isinstance(model, Detector) else model
    return training.predict(embedder, torch.as_tensor(X), batch_size)


@torch.no_grad()
def detect(model: Detector, X, batch_size: int = 256) -> np.ndarray:
    """Event probabilities ``(n, L)`` = sigmoid of the detector's output (eval mode)."""
    return 1 / (1 + np.exp(-training.predict(model, torch.as_tensor(X), batch_size)))


# --------------------------------------------------------------------------
# Algorithm 1, part 1: learning the embedding
# --------------------------------------------------------------------------
@dataclass
class EmbeddingResult:
    embedder: nn.Module
    cluster_layer: ClusterLayer
    clustering: Clustering
    history: list
    snapshots: list  # (round, stage, embeddings) when requested


def learn_embedding(
    embedder: nn.Module,
    X,
    y,
    rounds: int = 5,
    head_epochs: int = 2,
    epochs=(30, 30, 30, 30, 150),
    beta: float = 0.0,
    beta_prime: float = 5.0,
    alpha_init: float = 10.0,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    snapshot: bool = False,
    log=None,
    balanced: bool = False,
    X_val=None,
    y_val=None,
    patience: int | None = None,
    autocast: bool = False,
) -> EmbeddingResult:
    """Algorithm 1, "learning the embedding": ``rounds`` times cluster, tune the cluster layer alone, train end to end.

    ``epochs[r]`` is the number of end-to-end epochs of round r: a fixed number (the paper), or, with
    validation data ``X_val, y_val`` and a ``patience``, a cap: each round then stops when the
    triple-header loss of the validation clips (each assigned to the nearest cluster of its own class)
    has not fallen for ``patience`` epochs, and keeps its best weights.  ``balanced`` clusters with
    roughly equal sizes; ``autocast`` runs the forward pass in bfloat16.
    """
    X = torch.as_tensor(X)
    y = np.asarray(y)
    history, snapshots = [], []
    if snapshot:
        snapshots.append((0, "initial", embed(embedder, X)))
    layer, clustering = None, None
    for r in range(rounds):
        emb = embed(embedder, X)
        clustering = cluster_per_class(emb, y, seed=seed + 1000 * r, balanced=balanced)
        layer = ClusterLayer(clustering.centroids, alpha_init)
        target = torch.as_tensor(clustering.assignment)
        cc, w = clustering.cluster_class, cluster_weights(clustering.cluster_class)
        val_loader = None
        if X_val is not None:
            val_target = nearest_own_cluster(embed(embedder, torch.as_tensor(X_val)), y_val, clustering)
            val_loader = _loader(np.asarray(X_val), torch.as_tensor(val_target), 256, False, seed)

        def loss_fn(model, batch):
            xb, tb = batch
            return triple_header_loss(_forward(model, xb, autocast), tb, cc, beta, beta_prime, w)  # noqa: B023 (called within this iteration)

        head = _Head(layer)
        hist = training.fit(
            head,
            _loader(emb, target, batch_size, True, seed + r),
            None,
            loss_fn,
            torch.optim.Adam(head.parameters(), lr=lr),
            head_epochs,
            log=log,
        )
        history += [{**h, "round": r + 1, "stage": "cluster layer"} for h in hist]
        full = nn.Sequential(embedder, layer)
        n_ep = epochs[r] if r < len(epochs) else epochs[-1]
        hist = training.fit(
            full,
            _loader(X, target, batch_size, True, seed + r),
            val_loader,
            loss_fn,
            torch.optim.Adam(full.parameters(), lr=lr),
            n_ep,
            patience=patience if val_loader is not None else None,
            log=log,
        )
        history += [{**h, "round": r + 1, "stage": "end to end"} for h in hist]
        if snapshot:
            snapshots.append((r + 1, "trained", embed(embedder, X)))
    return EmbeddingResult(embedder, layer, clustering, history, snapshots)


def nearest_own_cluster(emb: np.ndarray, y, clustering: Clustering) -> np.ndarray:
    """For each embedding, the most similar centroid among the clusters of its own class."""
    sim = np.asarray(emb) @ clustering.centroids.T
    own = clustering.cluster_class[None, :] == np.asarray(y)[:, None]
    return np.where(own, sim, -np.inf).argmax(axis=1)


def _forward(model, xb, autocast: bool):
    """The model's output in float32; with ``autocast`` the forward pass runs in bfloat16 (on the model's device)."""
    if not autocast:
        return model(xb)
    with training.autocast(model, True):
        return model(xb).float()


# --------------------------------------------------------------------------
# Algorithm 1, part 2, and the baseline: training with eq. (2)
# --------------------------------------------------------------------------
def _bce_loss(pos_weight, autocast: bool = False):
    def loss_fn(model, batch):
        xb, tb = batch
        return weighted_bce(_forward(model, xb, autocast), tb, pos_weight)

    return loss_fn


def train_detector(
    emb: EmbeddingResult,
    X_tr,
    y_tr,
    X_va,
    y_va,
    head_epochs: int = 200,
    e2e_epochs: int = 100,
    patience: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    log=None,
    autocast: bool = False,
):
    """Proposed1 (output layer on the frozen embedding + cluster layer) and Proposed2 (then end to end).

    Both stop when the validation loss of eq. (2) has not improved for ``patience`` epochs and keep the
    best weights.  Returns ``(proposed1, proposed2, history)``; the two models share no parameters.
    ``autocast``: bfloat16 forward passes in the end-to-end stage.
    """
    import copy

    training.set_seed(seed)
    pw = positive_weights(y_tr)
    t_tr, t_va = torch.as_tensor(event_targets(y_tr)), torch.as_tensor(event_targets(y_va))
    model = Detector(copy.deepcopy(emb.embedder), pw.numel(), copy.deepcopy(emb.cluster_layer))
    # Proposed1: the output layer alone, on pre-computed cluster-layer outputs.
    with torch.no_grad():
        model.eval()
        z_tr = torch.cat([model.features(torch.as_tensor(X_tr[i : i + 256])) for i in range(0, len(X_tr), 256)])
        z_va = torch.cat([model.features(torch.as_tensor(X_va[i : i + 256])) for i in range(0, len(X_va), 256)])
    head = _Head(model.out)
    h1 = training.fit(
        head,
        _loader(z_tr, t_tr, batch_size, True, seed),
        _loader(z_va, t_va, 512, False, seed),
        _bce_loss(pw),
        torch.optim.Adam(head.parameters(), lr=lr),
        head_epochs,
        patience=patience,
        log=log,
    )
    proposed1 = copy.deepcopy(model)
    # Proposed2: everything, end to end, from Proposed1.
    h2 = training.fit(
        model,
        _loader(X_tr, t_tr, batch_size, True, seed + 1),
        _loader(X_va, t_va, 256, False, seed),
        _bce_loss(pw, autocast),
        torch.optim.Adam(model.parameters(), lr=lr),
        e2e_epochs,
        patience=patience,
        log=log,
    )
    history = [{**h, "stage": "Proposed1 (output layer)"} for h in h1] + [
        {**h, "stage": "Proposed2 (end to end)"} for h in h2
    ]
    return proposed1, model, history


def train_baseline(
    embedder: nn.Module,
    X_tr,
    y_tr,
    X_va,
    y_va,
    epochs: int = 100,
    patience: int = 10,
    lr: float = 1e-3,
    batch_size: int = 64,
    seed: int = 0,
    log=None,
    autocast: bool = False,
):
    """The same network with L sigmoid outputs, trained directly with eq. (2); best validation loss kept.

    ``autocast``: bfloat16 forward passes."""
    training.set_seed(seed)
    pw = positive_weights(y_tr)
    model = Detector(embedder, pw.numel())
    t_tr, t_va = torch.as_tensor(event_targets(y_tr)), torch.as_tensor(event_targets(y_va))
    hist = training.fit(
        model,
        _loader(X_tr, t_tr, batch_size, True, seed),
        _loader(X_va, t_va, 256, False, seed),
        _bce_loss(pw, autocast),
        torch.optim.Adam(model.parameters(), lr=lr),
        epochs,
        patience=patience,
        log=log,
    )
    return model, hist


# --------------------------------------------------------------------------
# Huang et al.'s quintuplet-sampling triple-header hinge loss (for the efficiency comparison)
# --------------------------------------------------------------------------
@torch.no_grad()
def mine_quintuplets(emb, cluster, cls, chunk: int = 2048) -> np.ndarray:
    """For every anchor i: (p+, p-, p--, n) indices, from all pairwise distances (O(I²) time).

    p+  the farthest sample of i's own cluster; p- the nearest sample of i's class in another
    cluster; p-- the farthest sample of i's class in another cluster; n the nearest sample of
    another class.  -1 where no such sample exists (a class with one cluster has no p-, p--).
    """
    E = torch.as_tensor(np.asarray(emb), dtype=torch.float32)
    cluster = torch.as_tensor(np.asarray(cluster))
    cls = torch.as_tensor(np.asarray(cls))
    n = len(E)
    out = torch.full((n, 4), -1, dtype=torch.long)
    inf = torch.tensor(float("inf"))
    for s in range(0, n, chunk):
        a = slice(s, min(n, s + chunk))
        D = torch.cdist(E[a], E).pow(2)  # (b, n) squared distances
        same_cluster = cluster[a, None] == cluster[None, :]
        same_class = cls[a, None] == cls[None, :]
        self_mask = torch.zeros_like(same_cluster)
        self_mask[torch.arange(a.stop - a.start), torch.arange(a.start, a.stop)] = True
        pos = same_cluster & ~self_mask
        mid = same_class & ~same_cluster
        neg = ~same_class
        for j, (mask, far) in enumerate([(pos, True), (mid, False), (mid, True), (neg, False)]):
            filled = torch.where(mask, D, -inf if far else inf)
            idx = filled.argmax(1) if far else filled.argmin(1)
            out[a, j] = torch.where(mask.any(1), idx, torch.tensor(-1))
    return out.numpy()


def quintuplet_hinge_loss(e_a, e_pp, e_pm, e_pmm, e_n, valid, margins=(0.1, 0.1, 0.1)):
    """Huang et al.'s triple-header hinge: D(p+) + g1 < D(p-),  D(p-) + g2 < D(p--),  D(p--) + g3 < D(n).

    D is the squared Euclidean distance of unit vectors.  ``valid`` (b, 4) says which of p+, p-, p--, n
    exist; a class with one cluster skips the two middle constraints and uses D(p+) + g1 < D(n).
    """
    d = [((e_a - e) ** 2).sum(1) for e in (e_pp, e_pm, e_pmm, e_n)]
    v = valid.float()
    g1, g2, g3 = margins
    has_mid = v[:, 1] * v[:, 2]
    l1 = F.relu(g1 + d[0] - d[1]) * v[:, 0] * has_mid
    l2 = F.relu(g2 + d[1] - d[2]) * has_mid
    l3 = F.relu(g3 + d[2] - d[3]) * has_mid * v[:, 3]
    l_single = F.relu(g1 + d[0] - d[3]) * v[:, 0] * v[:, 3] * (1 - has_mid)
    return (l1 + l2 + l3 + l_single).mean()


# --------------------------------------------------------------------------
# Time per epoch of the two embedding losses
# --------------------------------------------------------------------------
def epoch_time_triple_header(embedder, X, y, batch_size: int = 64, seed: int = 0) -> dict:
    """One epoch of triple-header cross-entropy, clustering included (as if re-clustered every epoch)."""
    t0 = time.perf_counter()
    emb = embed(embedder, X)
    cl = cluster_per_class(emb, y, seed=seed)
    layer = ClusterLayer(cl.centroids)
    t_cluster = time.perf_counter() - t0
    model = nn.Sequential(embedder, layer)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    target = torch.as_tensor(cl.assignment)
    w = cluster_weights(cl.cluster_class)
    t1 = time.perf_counter()
    model.train()
    for xb, tb in _loader(X, target, batch_size, True, seed):
        opt.zero_grad(set_to_none=True)
        triple_header_loss(model(xb), tb, cl.cluster_class, weights=w).backward()
        opt.step()
    t_train = time.perf_counter() - t1
    return {"select_s": t_cluster, "train_s": t_train, "epoch_s": t_cluster + t_train}


def epoch_time_quintuplet(embedder, X, y, cluster, batch_size: int = 64, seed: int = 0) -> dict:
    """One epoch of the quintuplet hinge loss: embed all, mine quintuplets (O(I²)), train on every anchor."""
    X = torch.as_tensor(X)
    t0 = time.perf_counter()
    emb = embed(embedder, X)
    q = torch.as_tensor(mine_quintuplets(emb, cluster, y))
    t_mine = time.perf_counter() - t0
    opt = torch.optim.Adam(embedder.parameters(), lr=1e-3)
    t1 = time.perf_counter()
    embedder.train()
    for (idx,) in DataLoader(
        TensorDataset(torch.arange(len(X))),
        batch_size=batch_size,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    ):
        members = q[idx]
        valid = members >= 0
        flat = torch.cat([idx, members.clamp(min=0).T.reshape(-1)])
        e = embedder(X[flat]).view(5, len(idx), -1)
        opt.zero_grad(set_to_none=True)
        quintuplet_hinge_loss(e[0], e[1], e[2], e[3], e[4], valid).backward()
        opt.step()
    t_train = time.perf_counter() - t1
    return {"select_s": t_mine, "train_s": t_train, "epoch_s": t_mine + t_train}


def growth_order(sizes, seconds) -> float:
    """Slope of log(time) against log(size): the empirical exponent p in time ∝ size^p."""
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(np.asarray(seconds, float)), 1)[0])


# --------------------------------------------------------------------------
# The toy example of Fig. 1
# --------------------------------------------------------------------------
def toy_data(n: int = 1000, proportions=(1, 1, 4), length: int = 20, seed: int = 0):
    """Sequences of ``length`` scalars in 3 classes at 1:1:4; the big class is a mixture of 4 modes.

    Each mode is a noisy sinusoid with its own frequency and phase.  Returns ``(X (n, 1, length), y)``.
    """
    rng = np.random.default_rng(seed)
    p = np.asarray(proportions, float) / sum(proportions)
    counts = np.floor(p * n).astype(int)
    counts[-1] = n - counts[:-1].sum()
    t = np.arange(length)
    modes = {0: [(0.10, 0.0)], 1: [(0.45, 1.0)], 2: [(0.2, 2.0), (0.3, 4.0), (0.6, 0.5), (0.05, 3.0)]}
    X, y = [], []
    for c, cnt in enumerate(counts):
        m = rng.integers(len(modes[c]), size=cnt)
        for mi in m:
            f, ph = modes[c][mi]
            X.append(np.sin(2 * np.pi * f * t + ph + rng.normal(0, 0.3)) + rng.normal(0, 0.3, length))
            y.append(c)
    X = np.asarray(X, dtype=np.float32)[:, None, :]
    return X, np.asarray(y)


# --------------------------------------------------------------------------
# The shipped detector: score your own recordings
# --------------------------------------------------------------------------
#: The detector shipped with the book (written by the chapter's ``book`` profile): the CNN Proposed2 model
#: of the first seed and fold, so that a fresh clone can score recordings without training.
DEFAULT_MODEL = shipped.FOLDER / "events_detector.pt"


def save_detector(model: Detector, path, *, arch: str, n_mels: int, mean, std, crop_s: float, **meta) -> Path:
    """Write a detector, its network kind and its input normalisation (training mean/std per mel band)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(
        {
            "kind": "triple_header_detector",
            "arch": arch,
            "n_mels": int(n_mels),
            "n_events": int(model.out.out_features),
            "state_dict": {k: v.detach().clone() for k, v in model.state_dict().items()},
            "mean": torch.as_tensor(np.asarray(mean, dtype=np.float32)),
            "std": torch.as_tensor(np.asarray(std, dtype=np.float32)),
            "crop_s": float(crop_s),
            "meta": meta,
        },
        path,
    )
    return path


def load_detector(path=None) -> tuple[Detector, dict]:
    """Rebuild a detector saved by :func:`save_detector` (default: the shipped one); ``(model in eval mode, checkpoint)``."""
    path = shipped.resolve(path, DEFAULT_MODEL)
    if not path.is_file():
        hint = (
            " (run chapters/03_triple_header_events.py with --profile book to write it)"
            if path == DEFAULT_MODEL
            else ""
        )
        raise FileNotFoundError(f"{path}: no such model file{hint}")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a detector written by lib.models.triple_header.save_detector ({exc})") from exc
    if not isinstance(ckpt, dict) or ckpt.get("kind") != "triple_header_detector":
        raise ValueError(f"{path}: not a detector written by lib.models.triple_header.save_detector")
    state = ckpt["state_dict"]
    embedder = make_embedder(ckpt["arch"], ckpt["n_mels"])
    layer = None
    if "cluster_layer.weight" in state:
        layer = ClusterLayer(np.ones((state["cluster_layer.weight"].shape[1], embedder.dim), dtype=np.float32))
    model = Detector(embedder, ckpt["n_events"], layer)
    model.load_state_dict(state)
    model.eval()
    return model, ckpt


def score_files(paths, model_path=None) -> pd.DataFrame:
    """Event probabilities of audio files, one row per file, one column per event::

        from lib.models import triple_header as th
        th.score_files(["bark.wav", "street.opus"])   # columns: file, dog_bark, baby_cry, gun_shot

    Each file is decoded at 8 kHz (any format :func:`lib.data.load_audio` reads), cut to its loudest
    ``crop_s`` seconds (the training input), turned into 64 log-mel energies over 0–3.5 kHz and
    normalised with the training statistics stored in the model file.  A file shorter than ``crop_s`` is
    zero-padded, with a warning naming it and its duration.  A probability at or above the model's
    ``meta["thresholds"]`` (the validation equal-error-rate threshold of each event, also in
    ``out.attrs["thresholds"]``) counts as a detection.  ``model_path``: default the shipped detector
    (:data:`DEFAULT_MODEL`); a relative path is also looked up from the project root.
    """
    import warnings

    import soundfile as sf

    from lib import data
    from lib.datasets import events as ev

    paths = [paths] if isinstance(paths, (str, Path)) else list(paths)
    model, ckpt = load_detector(model_path)
    X = ev.logmel_files(paths, ckpt["crop_s"], n_mels=ckpt["n_mels"], n_jobs=1)
    for p in paths:  # every file decoded above; now only its length is read
        seconds = sf.info(str(data.resolve_audio(p))).duration
        if seconds < ckpt["crop_s"] - 1e-3:
            warnings.warn(
                f"{p}: {seconds:.2f} s is shorter than the event detector's {ckpt['crop_s']:g}-s window; zero-padded",
                stacklevel=2,
            )
    X = ((X - ckpt["mean"].numpy()) / (ckpt["std"].numpy() + 1e-6)).astype(np.float32)
    probs = detect(model, X)
    out = pd.DataFrame(probs, columns=list(ev.EVENTS))
    out.insert(0, "file", [Path(p).name for p in paths])
    out.attrs["thresholds"] = dict(zip(ev.EVENTS, ckpt["meta"].get("thresholds") or []))
    return out
