"""Class-imbalance tools: class weights, resamplers, mixup, PDDS and imbalance-aware losses.

Resamplers follow imbalanced-learn's ``fit_resample(X, y)`` shape; where
imbalanced-learn has the method (random over/under-sampling, SMOTE, SMOTEENN)
we use it directly rather than re-writing it.  Here also the samplers the head-to-head
chapter's methods need (:func:`smoteenn` with its configurations, :class:`SyntheticENN`,
:class:`HardLabelPDDS`); the methods' registry itself is ``BALANCING`` in
:mod:`lib.models.head_to_head`.  Nothing here imports :mod:`lib.models`.
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
    """Convex combination of samples and their (one-hot or distribution) labels (Zhang et al., 2018).

    Works on NumPy arrays and on PyTorch tensors (``lam`` scalar or one weight per sample).
    """
    if isinstance(X1, np.ndarray):
        lam = np.asarray(lam, dtype=np.float32)
    else:
        import torch

        lam = torch.as_tensor(lam, dtype=X1.dtype, device=X1.device)
    shape_x = lam.reshape(lam.shape + (1,) * (np.ndim(X1) - lam.ndim))
    shape_y = lam.reshape(lam.shape + (1,) * (np.ndim(Y1) - lam.ndim))
    return shape_x * X1 + (1 - shape_x) * X2, shape_y * Y1 + (1 - shape_y) * Y2


# --------------------------------------------------------------------------
# SMOTEENN, as the head-to-head chapter configures it
# --------------------------------------------------------------------------
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
    smote = SMOTE(k_neighbors=min(5, smallest - 1), random_state=seed)
    cfg = dict(SMOTEENN_CONFIGS[config])
    if cfg.pop("synthetic_only", False):
        return SyntheticENN(smote)
    grown = [int(c) for c in np.flatnonzero((counts > 0) & (counts < counts.max()))]
    target = grown if cfg.pop("grown_only", False) else "all"
    if not len(target):  # all classes equal: SMOTE adds nothing, so there is nothing synthetic to edit
        return None
    enn = EditedNearestNeighbours(sampling_strategy=target, n_neighbors=3, **cfg)
    return SMOTEENN(smote=smote, enn=enn, random_state=seed)


# --------------------------------------------------------------------------
# PDDS: pairwise-emotion data distribution smoothing (Liang et al., 2023)
# --------------------------------------------------------------------------
def vote_types(votes, tol: float = 1e-9) -> dict:
    """Clear / ambiguous type of every sample from per-rater votes or label distributions.

    ``votes`` is ``(n, c)``: vote counts per class or a label distribution.  A sample is
    *clear* when a single class holds every vote, *ambiguous (major i, minor j)* when class
    ``i`` has strictly the most votes and ``j`` the second most (a tie for second place goes to
    the lower class index; ``minor_tie`` flags it), and *no majority* when the top is tied.
    Returns arrays ``kind`` ("clear" / "ambiguous" / "no_majority" / "empty"), ``major``, ``minor``
    (-1 where undefined) and ``minor_tie``.
    """
    V = np.asarray(votes, dtype=float)
    if V.ndim != 2:
        raise ValueError(f"votes must be (n_samples, n_classes), got shape {V.shape}")
    if (V < -tol).any():
        raise ValueError("votes must be non-negative")
    n = len(V)
    order = np.argsort(-V, axis=1, kind="stable")  # ties: lower class index first
    top = V[np.arange(n), order[:, 0]]
    second = V[np.arange(n), order[:, 1]] if V.shape[1] > 1 else np.zeros(n)
    third = V[np.arange(n), order[:, 2]] if V.shape[1] > 2 else np.zeros(n)
    kind = np.full(n, "ambiguous", dtype=object)
    kind[second <= tol] = "clear"
    kind[(second > tol) & (np.abs(top - second) <= tol)] = "no_majority"
    kind[top <= tol] = "empty"
    major = np.where(np.isin(kind, ["clear", "ambiguous"]), order[:, 0], -1)
    minor = np.where(kind == "ambiguous", order[:, 1], -1)
    minor_tie = (kind == "ambiguous") & (np.abs(second - third) <= tol) & (third > tol)
    return {"kind": kind.astype(str), "major": major, "minor": minor, "minor_tie": minor_tie}


def pair_counts(votes, n_classes: int | None = None) -> np.ndarray:
    """The ``(c, c)`` count matrix of PDDS: ``M[i, i]`` clear samples of ``i``, ``M[i, j]`` ambiguous
    samples with major ``i`` and minor ``j`` (Fig. 1(b) of the paper as a matrix)."""
    t = vote_types(votes)
    c = np.asarray(votes).shape[1] if n_classes is None else n_classes
    M = np.zeros((c, c), dtype=int)
    clear = t["kind"] == "clear"
    amb = t["kind"] == "ambiguous"
    np.add.at(M, (t["major"][clear], t["major"][clear]), 1)
    np.add.at(M, (t["major"][amb], t["minor"][amb]), 1)
    return M


def gaussian_weights(sigma: float = 1.0) -> tuple[float, float]:
    """Weights of eq. (1) for the bin itself (distance 0) and its two neighbours (distance 1)."""
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    return 1.0, float(np.exp(-1.0 / (2.0 * sigma**2)))


def smooth_pair_counts(M, sigma: float = 1.0, normalize: bool = False) -> np.ndarray:
    """Gaussian-smoothed quantities of the ambiguous bins (eq. (1)); clear counts (diagonal) unchanged.

    For the four-bin distribution (clear i, ambiguous i→j, ambiguous j→i, clear j) the bin
    i→j becomes ``w1·M[i,i] + M[i,j] + w1·M[j,i]`` with ``w1 = exp(-1/(2σ²))``: eq. (1) sums the
    bin and its two neighbours with an *unnormalised* Gaussian kernel, as printed in the paper.
    ``normalize=True`` divides by the kernel sum ``1 + 2·w1`` instead (an ordinary smoothing filter).
    Returns floats; PDDS rounds them and never goes below the original count.
    """
    M = np.asarray(M, dtype=float)
    if M.ndim != 2 or M.shape[0] != M.shape[1]:
        raise ValueError(f"pair counts must be a square (c, c) matrix, got shape {M.shape}")
    w0, w1 = gaussian_weights(sigma)
    d = np.diag(M)
    S = w1 * d[:, None] + w0 * M + w1 * M.T
    if normalize:
        S = S / (w0 + 2 * w1)
    np.fill_diagonal(S, d)
    return S


def clear_targets(clear_counts, target) -> np.ndarray:
    """Target number of clear samples per class (never below the current count).

    ``target``: ``None`` (keep), ``"min_other"`` (a class smaller than every other class is raised
    to the smallest of the others: the paper raised only its scarcest class), ``"median"``,
    ``"max"``, an int (every class to at least that), or a per-class sequence.
    """
    n = np.asarray(clear_counts, dtype=int)
    if target is None:
        goal = n.copy()
    elif isinstance(target, str):
        if target == "max":
            goal = np.full_like(n, n.max())
        elif target == "median":
            goal = np.full_like(n, int(round(np.median(n))))
        elif target == "min_other":
            goal = np.array([np.delete(n, i).min() if len(n) > 1 else n[i] for i in range(len(n))])
        else:
            raise ValueError(f"unknown clear target {target!r}: use None, 'min_other', 'median', 'max' or numbers")
    elif np.ndim(target) == 0:
        goal = np.full_like(n, int(target))
    else:
        goal = np.asarray(target, dtype=int)
        if goal.shape != n.shape:
            raise ValueError(f"per-class clear targets need {len(n)} values, got {goal.shape}")
    return np.maximum(n, goal)


class PDDS:
    """Pairwise-emotion Data Distribution Smoothing as an imbalanced-learn-style resampler.

    ``fit_resample(X, Y)`` takes features ``X`` (any shape ``(n, ...)``: pooled vectors or fixed-length
    frame sequences) and labels ``Y`` — per-rater vote counts or label distributions ``(n, c)``, or
    integer class labels ``(n,)`` (all samples then count as clear) — and returns the original samples
    followed by the new ones, with label distributions ``(n_out, c)``.  It never removes a sample.

    Steps (section 2.1 of the paper):

    1. type every sample from its votes (:func:`vote_types`) and count the bins (:func:`pair_counts`);
    2. raise scarce clear classes to ``clear_target`` by mixup of two clear samples of that class with
       weight ``clear_p`` (label stays one-hot);
    3. smooth every emotion pair's four-bin distribution with the Gaussian kernel of eq. (1)
       (``sigma``; the clear counts used are those after step 2), or, with ``ambiguous`` an int,
       raise every ambiguous bin to that fixed count (the "uniform balancing" ablation), or skip
       with ``ambiguous=None``;
    4. fill every ambiguous bin that falls short of its target with mixup (eqs. 2–3) of an original
       clear sample of the major emotion (weight ``p``) and one of the minor emotion (``1 - p``);
       the label becomes ``p·onehot(major) + (1 − p)·onehot(minor)``.  Bins already at or above
       their target keep their original samples only.

    Samples of no-majority votes are passed through unchanged and are not counted.  After fitting,
    ``counts_before_``, ``counts_target_``, ``counts_after_`` (``(c, c)`` matrices) and ``origin_``
    (per output sample: ``kind`` original / clear_mix / ambiguous_mix, source indices ``a``, ``b`` and
    the weight ``lam``) describe what was done.
    """

    def __init__(
        self,
        p: float = 0.8,
        sigma: float = 1.0,
        clear_target="min_other",
        ambiguous="smooth",
        clear_p: float = 0.5,
        normalize_kernel: bool = False,
        random_state=None,
    ):
        self.p, self.sigma, self.clear_target, self.ambiguous = p, sigma, clear_target, ambiguous
        self.clear_p, self.normalize_kernel, self.random_state = clear_p, normalize_kernel, random_state

    def get_params(self, deep: bool = True) -> dict:
        return {
            k: getattr(self, k)
            for k in ("p", "sigma", "clear_target", "ambiguous", "clear_p", "normalize_kernel", "random_state")
        }

    def set_params(self, **params) -> PDDS:
        for k, v in params.items():
            if k not in self.get_params():
                raise ValueError(f"PDDS has no parameter {k!r}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        return "PDDS(" + ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()) + ")"

    @staticmethod
    def _as_distributions(Y, n_classes=None) -> np.ndarray:
        Y = np.asarray(Y)
        if Y.ndim == 1:
            if not np.issubdtype(Y.dtype, np.integer):
                raise ValueError("1-D labels must be integer class indices 0..c-1")
            c = int(Y.max()) + 1 if n_classes is None else n_classes
            return np.eye(c, dtype=np.float32)[Y]
        if Y.ndim != 2:
            raise ValueError(f"Y must be (n,) class indices or (n, c) votes/distributions, got shape {Y.shape}")
        return Y.astype(np.float64)

    def fit_resample(self, X, Y, n_classes: int | None = None):
        if not 0.0 <= self.p <= 1.0 or not 0.0 <= self.clear_p <= 1.0:
            raise ValueError(f"mixup weights must lie in [0, 1], got p={self.p}, clear_p={self.clear_p}")
        X = np.asarray(X)
        V = self._as_distributions(Y, n_classes)
        if len(X) != len(V):
            raise ValueError(f"X has {len(X)} samples but Y has {len(V)}")
        c = V.shape[1]
        rng = np.random.default_rng(self.random_state)
        dist = (V / np.maximum(V.sum(axis=1, keepdims=True), 1e-12)).astype(np.float32)
        types = vote_types(V)
        M = pair_counts(V, c)
        self.types_ = types
        self.counts_before_ = M.copy()
        clear_idx = [np.flatnonzero((types["kind"] == "clear") & (types["major"] == k)) for k in range(c)]
        eye = np.eye(c, dtype=np.float32)
        new_a, new_b, new_lam, new_kind, new_y = [], [], [], [], []

        # Step 2: balance the clear classes.
        goal_clear = clear_targets(np.diag(M), self.clear_target)
        for k in range(c):
            need = int(goal_clear[k] - M[k, k])
            if need <= 0:
                continue
            pool = clear_idx[k]
            if len(pool) == 0:
                raise ValueError(f"class {k} has no clear sample: cannot raise it to {goal_clear[k]} by mixup")
            a = rng.choice(pool, size=need)
            b = rng.choice(pool, size=need)
            if len(pool) > 1:  # mix two different samples
                same = a == b
                while same.any():
                    b[same] = rng.choice(pool, size=int(same.sum()))
                    same = a == b
            new_a.append(a), new_b.append(b), new_lam.append(np.full(need, self.clear_p))
            new_kind.append(np.full(need, "clear_mix", dtype=object)), new_y.append(np.repeat(eye[[k]], need, 0))
        M_balanced = M.copy()
        np.fill_diagonal(M_balanced, goal_clear)

        # Step 3: target quantities of the ambiguous bins.
        if self.ambiguous is None:
            target = M_balanced.astype(float)
        elif isinstance(self.ambiguous, str):
            if self.ambiguous != "smooth":
                raise ValueError(f"ambiguous must be 'smooth', None or an int count, got {self.ambiguous!r}")
            target = smooth_pair_counts(M_balanced, self.sigma, self.normalize_kernel)
        else:
            target = np.full((c, c), float(self.ambiguous))
            np.fill_diagonal(target, np.diag(M_balanced))
        target = np.maximum(np.rint(target).astype(int), M_balanced)  # never undersample
        self.counts_target_ = target

        # Step 4: fill the ambiguous bins by mixup of clear(major) and clear(minor).
        self.skipped_pairs_ = []
        for i in range(c):
            for j in range(c):
                need = int(target[i, j] - M[i, j]) if i != j else 0
                if need <= 0:
                    continue
                if len(clear_idx[i]) == 0 or len(clear_idx[j]) == 0:
                    self.skipped_pairs_.append((i, j))
                    continue
                a = rng.choice(clear_idx[i], size=need)
                b = rng.choice(clear_idx[j], size=need)
                new_a.append(a), new_b.append(b), new_lam.append(np.full(need, self.p))
                new_kind.append(np.full(need, "ambiguous_mix", dtype=object))
                new_y.append(np.repeat((self.p * eye[i] + (1 - self.p) * eye[j])[None], need, 0))

        n = len(X)
        if new_a:
            a, b = np.concatenate(new_a), np.concatenate(new_b)
            lam = np.concatenate(new_lam).astype(np.float32)
            X_new, _ = mixup(X[a], X[b], dist[a], dist[b], lam)
            Y_new = np.concatenate(new_y).astype(np.float32)
            kind = np.concatenate(new_kind).astype(str)
            X_out = np.concatenate([X, X_new.astype(X.dtype, copy=False)])
            Y_out = np.concatenate([dist, Y_new])
        else:
            a = b = np.zeros(0, dtype=int)
            lam = np.zeros(0, dtype=np.float32)
            kind = np.zeros(0, dtype=str)
            X_out, Y_out = X.copy(), dist
        self.origin_ = {
            "kind": np.concatenate([np.full(n, "original"), kind]).astype(str),
            "a": np.concatenate([np.arange(n), a]),
            "b": np.concatenate([np.full(n, -1), b]),
            "lam": np.concatenate([np.ones(n, dtype=np.float32), lam]),
        }
        after = self.counts_before_.copy()
        for k in range(c):
            after[k, k] += int(
                ((self.origin_["kind"] == "clear_mix") & (self.origin_["a"] >= 0) & (np.argmax(Y_out, 1) == k)).sum()
            )
        amb_new = self.origin_["kind"] == "ambiguous_mix"
        if amb_new.any():
            np.add.at(
                after, (types["major"][self.origin_["a"][amb_new]], types["major"][self.origin_["b"][amb_new]]), 1
            )
        self.counts_after_ = after
        return X_out, Y_out


class HardLabelPDDS:
    """The emotion chapter's PDDS (chapters/05_pdds_emotion.py) on hard labels, as a sampler:
    ``fit_resample(X, y)`` returns label distributions as float32."""

    def __init__(self, n_classes: int, seed: int):
        self.n_classes = n_classes
        self.pdds = PDDS(p=0.8, sigma=1.0, clear_target="min_other", random_state=seed)

    def fit_resample(self, X, y):
        Xr, Yr = self.pdds.fit_resample(X, y, self.n_classes)
        return Xr, Yr.astype(np.float32)


# --------------------------------------------------------------------------
# Imbalance-aware losses (PyTorch): focal loss and logit adjustment
# --------------------------------------------------------------------------
def focal_loss(logits, target, gamma: float = 2.0, weight=None):
    """Focal loss (Lin et al., 2017): cross-entropy scaled by (1 - p_t)^gamma; gamma=0 is cross-entropy.

    ``target`` holds class indices; ``weight`` optional per-class weights (alpha).
    """
    import torch.nn.functional as F

    log_p = F.log_softmax(logits, dim=-1)
    log_pt = log_p.gather(1, target[:, None]).squeeze(1)
    loss = -((1 - log_pt.exp()) ** gamma) * log_pt
    if weight is not None:
        loss = loss * weight[target]
        return loss.sum() / weight[target].sum()
    return loss.mean()


def logit_adjusted_loss(logits, target, log_prior, tau: float = 1.0):
    """Logit-adjusted cross-entropy (Menon et al., ICLR 2021): CE on ``logits + tau * log prior``.

    Train with this loss and predict with the plain ``argmax(logits)``: the adjustment moves
    the decision boundary away from the frequent classes.  ``log_prior``: log of the training
    class frequencies (tensor of length C); tau=0 is cross-entropy.
    """
    import torch.nn.functional as F

    return F.cross_entropy(logits + tau * log_prior, target)


def soft_cross_entropy(logits, target_distribution):
    """Cross-entropy against label distributions (mixup, PDDS): -sum_c q_c log p_c, batch mean."""
    import torch.nn.functional as F

    return -(target_distribution * F.log_softmax(logits, dim=-1)).sum(dim=-1).mean()
