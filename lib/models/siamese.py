"""Deep Siamese speaker embeddings (PyTorch): embedder, contrastive loss, baselines, save/load, verification.

The embedder follows the description of the source article: a CNN over the
normalised log-mel spectrogram, an RNN over the CNN's frames, a linear layer to
the embedding and batch normalisation of the embedding.  Two recordings are
compared by the Euclidean distance of their embeddings; the verification score
is the *negative* distance, so that a higher score means "same speaker".

Compared with it (same features, same speakers):

* :class:`AMSoftmaxClassifier` — a small x-vector/ECAPA-style TDNN (:class:`XVector`) trained as a
  speaker classifier with an additive-margin softmax, its embedding scored by cosine: the modern
  reference;
* :func:`mfcc_stats` + :func:`cosine_scores` — mean and standard deviation of MFCCs over time,
  standardised with training statistics, scored by cosine: no training at all.

Training (:func:`train_siamese`, :func:`train_xvector`) runs until a validation criterion computed on
held-out *speakers* (:class:`PairValidation`) stops improving.

For unseen recordings, with the embedder shipped in ``book/models/`` (no training needed)::

    from lib.models import siamese
    E = siamese.embed_files(["a.wav", "b.flac"])
    score = siamese.score_pairs(E[[0]], E[[1]])     # higher = more likely the same speaker
    scores, same = siamese.verify([("a.wav", "b.flac")])   # with the stored validation threshold
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib import features
from lib.datasets.speakers import (  # noqa: F401 (the front end lives with the speaker data; re-exported)
    FEATURE_PARAMS,
    band_normalise,
    log_mel_normalised,
    mfcc_stats,
)
from lib.models import shipped, training


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------
class Embedder(nn.Module):
    """CNN → bidirectional GRU → linear → batch norm.

    Input ``(batch, n_mels, n_frames)`` (or with a channel axis); output ``(batch, emb_dim)``.
    Three conv blocks (3×3 conv, batch norm, ReLU) halve the mel and time axes three times — the
    first by a stride-2 convolution, the others by 2×2 max-pooling (40 × 101 → 5 × 12 for a 1-s
    clip); the GRU reads the resulting frame sequence and its final forward and backward states are
    concatenated, so any input of at least 9 frames works.  The sizes are small on purpose: the book
    trains on two CPU cores.

    The batch-normalised embedding is divided by √(2·emb_dim) so that the expected squared distance
    between two independent embeddings is about one: distances start on the scale of the contrastive
    margin (1.0).
    Without this (``scale_embedding=False``) random 128-d unit-variance embeddings lie ≈ 16 apart, far
    beyond the margin, so the different-speaker term of the loss is zero and the margin has no effect
    until training has shrunk the embedding.
    """

    def __init__(
        self,
        n_mels: int = 40,
        emb_dim: int = 128,
        channels: Sequence[int] = (16, 32, 64),
        rnn_hidden: int = 128,
        dropout: float = 0.1,
        scale_embedding: bool = True,
    ):
        super().__init__()
        self.config = {
            "n_mels": n_mels,
            "emb_dim": emb_dim,
            "channels": list(channels),
            "rnn_hidden": rnn_hidden,
            "dropout": dropout,
            "scale_embedding": scale_embedding,
        }
        blocks, c_in, freq_out = [], 1, n_mels
        for k, c_out in enumerate(channels):
            stride = 2 if k == 0 else 1
            blocks += [
                nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.ReLU(),
            ]
            if k > 0:
                blocks.append(nn.MaxPool2d(2))
            freq_out = (freq_out - 1) // 2 + 1 if k == 0 else freq_out // 2
            c_in = c_out
        self.cnn = nn.Sequential(*blocks)
        self.rnn = nn.GRU(c_in * freq_out, rnn_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(2 * rnn_hidden, emb_dim)
        self.norm = nn.BatchNorm1d(emb_dim)
        self.scale = 1.0 / np.sqrt(2 * emb_dim) if scale_embedding else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[2] != self.config["n_mels"]:
            raise ValueError(f"expected (batch, {self.config['n_mels']}, frames) features, got {tuple(x.shape)}")
        h = self.cnn(x)  # (B, C, F', T')
        h = h.flatten(1, 2).transpose(1, 2)  # (B, T', C·F')
        _, last = self.rnn(h)  # (2, B, H): final state of each direction
        h = torch.cat([last[0], last[1]], dim=1)
        return self.norm(self.linear(self.dropout(h))) * self.scale


class XVector(nn.Module):
    """A small x-vector / ECAPA-style TDNN embedder (the modern reference of the chapter).

    Five 1-D convolutions over frames with the mel bands as channels (kernel 5, then 3 with dilation
    2 and 3, then two 1×1 layers; batch norm and ReLU after each, as in Snyder et al.'s x-vector TDNN),
    statistics pooling (mean and standard deviation over time, computed in float32), a linear layer to
    the embedding and batch normalisation.  Sized for CPUs (``channels=128`` instead of 512).
    Input ``(batch, n_mels, n_frames)``; output ``(batch, emb_dim)``.
    """

    def __init__(self, n_mels: int = 40, channels: int = 128, pooled: int = 384, emb_dim: int = 128):
        super().__init__()
        self.config = {"n_mels": n_mels, "channels": channels, "pooled": pooled, "emb_dim": emb_dim}
        spec = [
            (n_mels, channels, 5, 1),
            (channels, channels, 3, 2),
            (channels, channels, 3, 3),
            (channels, channels, 1, 1),
            (channels, pooled, 1, 1),
        ]
        layers = []
        for c_in, c_out, k, d in spec:
            layers += [
                nn.Conv1d(c_in, c_out, k, dilation=d, padding=d * (k - 1) // 2, bias=False),
                nn.BatchNorm1d(c_out),
                nn.ReLU(),
            ]
        self.frames = nn.Sequential(*layers)
        self.linear = nn.Linear(2 * pooled, emb_dim)
        self.norm = nn.BatchNorm1d(emb_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 4:
            x = x.squeeze(1)
        if x.dim() != 3 or x.shape[1] != self.config["n_mels"]:
            raise ValueError(f"expected (batch, {self.config['n_mels']}, frames) features, got {tuple(x.shape)}")
        h = self.frames(x).float()  # (B, pooled, T)
        stats = torch.cat([h.mean(dim=2), torch.sqrt(h.var(dim=2, unbiased=False) + 1e-5)], dim=1)
        return self.norm(self.linear(stats))


class AMSoftmaxClassifier(nn.Module):
    """:class:`XVector` + additive-margin softmax over the training speakers (Wang et al., 2018).

    ``logits(x, y)`` are ``scale · (cos θ − margin · [class = y])`` with unit-length embeddings and class
    weights, so training pushes each embedding's cosine to its own speaker at least ``margin`` above the
    others; at test time only :meth:`embed` is used and pairs are scored by cosine.
    """

    def __init__(self, n_speakers: int, scale: float = 30.0, margin: float = 0.2, **xvector_kwargs):
        super().__init__()
        self.embedder = XVector(**xvector_kwargs)
        self.weight = nn.Parameter(torch.randn(n_speakers, self.embedder.config["emb_dim"]) * 0.01)
        self.scale, self.margin = scale, margin
        self.config = {**self.embedder.config, "n_speakers": n_speakers, "scale": scale, "margin": margin}

    def cosine(self, x: torch.Tensor) -> torch.Tensor:
        e = F.normalize(self.embedder(x).float(), dim=1)
        return e @ F.normalize(self.weight.float(), dim=1).T

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale * self.cosine(x)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedder(x)


def am_softmax_loss_fn(bf16: bool = False):
    """``loss_fn(model, batch)`` for :func:`lib.models.training.fit`: additive-margin softmax cross-entropy."""

    def loss_fn(model, batch):
        x, y = batch
        with training.autocast(model, bf16):
            cos = model.cosine(x)
        onehot = F.one_hot(y, cos.shape[1]).to(cos.dtype)
        return F.cross_entropy(model.scale * (cos.float() - model.margin * onehot), y)

    return loss_fn


# --------------------------------------------------------------------------
# Loss and scores
# --------------------------------------------------------------------------
def contrastive_loss(e1: torch.Tensor, e2: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Contrastive loss (Hadsell, Chopra & LeCun, 2006) as the article describes it.

    ``d = ||e1 − e2||₂``; a same-speaker pair (``same = 1``) costs ``d²``, a different-speaker pair
    ``max(0, margin − d)²``; the mean over the batch is returned.  ``same`` may be bool or 0/1 and
    must have one entry per pair (a ``(B, 1)`` distance against a ``(B,)`` label would silently
    broadcast to ``(B, B)``, one of the companion code's defects, so shapes are checked).
    """
    if e1.shape != e2.shape or e1.dim() != 2:
        raise ValueError(f"embeddings must both be (batch, dim), got {tuple(e1.shape)} and {tuple(e2.shape)}")
    same = same.reshape(-1).to(e1.dtype)
    if same.shape[0] != e1.shape[0]:
        raise ValueError(f"{same.shape[0]} labels for {e1.shape[0]} pairs")
    d = F.pairwise_distance(e1, e2, eps=0.0)
    loss = same * d.pow(2) + (1 - same) * torch.clamp(margin - d, min=0).pow(2)
    return loss.mean()


def score_pairs(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """Verification scores of row-aligned embedding pairs: minus the Euclidean distance (higher = same)."""
    emb_a, emb_b = np.asarray(emb_a, dtype=np.float64), np.asarray(emb_b, dtype=np.float64)
    if emb_a.shape != emb_b.shape:
        raise ValueError(f"embedding arrays differ in shape: {emb_a.shape} vs {emb_b.shape}")
    return -np.linalg.norm(emb_a - emb_b, axis=-1)


def cosine_scores(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """Cosine similarity of row-aligned pairs."""
    a = np.asarray(emb_a, dtype=np.float64)
    b = np.asarray(emb_b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return (a * b).sum(axis=-1)


# --------------------------------------------------------------------------
# Training batches
# --------------------------------------------------------------------------
class PairBatches:
    """Mini-batches ``(x1, x2, same)`` of feature pairs; ``sample(epoch)`` draws fresh pairs every epoch.

    ``X``: ``(n_clips, n_mels, n_frames)`` float32; ``sample(epoch) -> (i, j, same)`` index arrays.
    """

    def __init__(self, X: np.ndarray, sample, batch_size: int = 64):
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.sample, self.batch_size, self.epoch = sample, batch_size, 0

    def __iter__(self):
        i, j, same = self.sample(self.epoch)
        self.epoch += 1
        same = torch.as_tensor(np.asarray(same, dtype=np.float32))
        for s in range(0, len(i), self.batch_size):
            k = slice(s, s + self.batch_size)
            if len(i[k]) < 2:  # batch norm needs two items
                continue
            yield self.X[i[k]], self.X[j[k]], same[k]


class ClipBatches:
    """Shuffled mini-batches ``(x, label)`` for the classifier baseline (a new order every epoch).

    ``n_per_epoch`` (default: all clips) sets how many clips one epoch draws, cycling through fresh
    permutations, so that the baseline can see exactly as many clips as the Siamese network.
    """

    def __init__(
        self,
        X: np.ndarray,
        y: np.ndarray,
        batch_size: int = 128,
        seed: int = 0,
        shuffle: bool = True,
        n_per_epoch: int | None = None,
    ):
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.long)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n_per_epoch = n_per_epoch or len(self.y)
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        n = len(self.y)
        if self.shuffle:
            reps = int(np.ceil(self.n_per_epoch / n))
            order = np.concatenate([self.rng.permutation(n) for _ in range(reps)])[: self.n_per_epoch]
        else:
            order = np.resize(np.arange(n), self.n_per_epoch)
        for s in range(0, len(order), self.batch_size):
            k = torch.as_tensor(order[s : s + self.batch_size])
            if len(k) < 2:
                continue
            yield self.X[k], self.y[k]


def siamese_loss_fn(margin: float = 1.0, bf16: bool = False):
    """``loss_fn(model, batch)`` for :func:`lib.models.training.fit`: both sides in one forward pass.

    ``bf16=True`` runs the forward pass under bfloat16 autocast (weights, loss and optimiser
    stay float32); the chapter checks that this leaves the EER unchanged before using it.
    """

    def loss_fn(model, batch):
        x1, x2, same = batch
        with training.autocast(model, bf16):
            e = model(torch.cat([x1, x2]))
        e = e.float()
        return contrastive_loss(e[: len(x1)], e[len(x1) :], same, margin)

    return loss_fn


# --------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------
def _embedder(model: nn.Module) -> nn.Module:
    return model.embedder if isinstance(model, AMSoftmaxClassifier) else model


@torch.no_grad()
def embed(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """Embeddings of equal-length feature matrices ``X`` ``(n, n_mels, n_frames)``, eval mode."""
    net = _embedder(model)
    net.eval()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    if len(X) == 0:
        return np.zeros((0, net.config["emb_dim"]), dtype=np.float32)
    device = training.device_of(net)
    return torch.cat([net(X[s : s + batch_size].to(device)).cpu() for s in range(0, len(X), batch_size)]).numpy()


@torch.no_grad()
def embed_ragged(model: nn.Module, feats: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Embeddings of feature matrices of different lengths (grouped by length, order kept)."""
    net = _embedder(model)
    net.eval()
    out = np.zeros((len(feats), net.config["emb_dim"]), dtype=np.float32)
    lengths = np.array([f.shape[-1] for f in feats])
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        out[idx] = embed(net, np.stack([feats[k] for k in idx]), batch_size)
    return out


# --------------------------------------------------------------------------
# Model selection on validation speakers, and training to convergence
# --------------------------------------------------------------------------
class PairValidation:
    """Per-epoch model selection on fixed validation trials (speakers never used for training).

    All validation recordings are embedded once per epoch (eval mode, float32) and every trial is
    scored from those embeddings, so the criterion uses thousands of distinct pairs at the cost of one
    forward pass.  ``criterion``:

    * ``"contrastive"`` — the article's loss on the validation pairs (the Siamese network's own loss;
      smoother than the EER, which depends on the few trials near the threshold);
    * ``"ranking"`` — 1 − ROC AUC of the scores (for models trained with another loss), also a
      statistic of all trials rather than of the threshold region.

    Use ``loader`` and ``loss`` as ``val_loader`` / ``val_loss_fn`` of :func:`lib.models.training.fit`
    and ``metrics`` as its ``metrics``: each epoch then also records ``val_eer`` and ``val_auc_error``.
    """

    def __init__(
        self, X: np.ndarray, trials: dict, criterion: str = "contrastive", margin: float = 1.0, score: str = "euclidean"
    ):
        if criterion not in ("contrastive", "ranking"):
            raise ValueError(f"criterion must be 'contrastive' or 'ranking', got {criterion!r}")
        if score not in ("euclidean", "cosine"):
            raise ValueError(f"score must be 'euclidean' or 'cosine', got {score!r}")
        rows, inverse = np.unique(np.r_[trials["i"], trials["j"]], return_inverse=True)
        self.X = np.ascontiguousarray(X[rows], dtype=np.float32)
        self.a, self.b = inverse[: len(trials["i"])], inverse[len(trials["i"]) :]
        self.same = np.asarray(trials["same"]).astype(int)
        self.criterion, self.margin, self.score = criterion, margin, score
        self.loader = [None]  # one "batch": the whole validation set
        self.last: dict = {}

    def loss(self, model: nn.Module, batch=None) -> torch.Tensor:
        from sklearn.metrics import roc_auc_score

        from lib import metrics

        E = embed(model, self.X)
        scores = (score_pairs if self.score == "euclidean" else cosine_scores)(E[self.a], E[self.b])
        auc_error = 1.0 - float(roc_auc_score(self.same, scores))
        self.last = {"val_eer": metrics.eer(self.same, scores), "val_auc_error": auc_error}
        if self.criterion == "contrastive":
            return contrastive_loss(
                torch.from_numpy(E[self.a]), torch.from_numpy(E[self.b]), torch.from_numpy(self.same), self.margin
            )
        return torch.tensor(auc_error)

    def metrics(self, model: nn.Module) -> dict:
        return dict(self.last)


def _fit(model, loader, loss_fn, val: PairValidation, lr: float, lr_step: int, max_epochs: int, patience: int) -> dict:
    import time

    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=lr_step, gamma=0.5)
    t0 = time.perf_counter()
    history = training.fit(
        model,
        loader,
        val.loader,
        loss_fn,
        opt,
        max_epochs,
        scheduler=sched,
        patience=patience,
        metrics=val.metrics,
        log=None,
        val_loss_fn=val.loss,
    )
    seconds = time.perf_counter() - t0
    best = int(np.argmin([h["val_loss"] for h in history]))
    return {
        "model": model,
        "history": history,
        "best_epoch": best + 1,
        "epochs_run": len(history),
        "stopped_early": len(history) < max_epochs,
        "seconds": seconds,
    }


def train_siamese(
    X: np.ndarray,
    train_rows: np.ndarray,
    speaker,
    text,
    val: PairValidation,
    *,
    seed: int,
    max_epochs: int,
    pairs_per_epoch: int,
    lr_step: int,
    patience: int,
    batch_size: int = 64,
    lr: float = 1e-3,
    margin: float = 1.0,
    same_fraction: float = 0.5,
    bf16: bool = False,
    **embedder_kwargs,
) -> dict:
    """Train an :class:`Embedder` with the contrastive loss until the validation criterion stops improving.

    Every epoch draws ``pairs_per_epoch`` fresh training pairs (:func:`lib.datasets.speakers.sample_pairs`,
    different words in every pair); Adam with a StepLR schedule that halves the learning rate every
    ``lr_step`` epochs; training stops after ``patience`` epochs without a lower validation criterion
    (or at ``max_epochs``) and the weights of the best epoch are kept.  Returns a dict with ``model``,
    ``history`` (one row per epoch), ``best_epoch``, ``epochs_run``, ``stopped_early`` and ``seconds``.
    """
    from lib.datasets import speakers

    training.set_seed(seed)
    model = Embedder(**embedder_kwargs)
    train_rows = np.asarray(train_rows)
    spk, txt = np.asarray(speaker)[train_rows], np.asarray(text)[train_rows]

    def sample(epoch):
        i, j, same = speakers.sample_pairs(spk, txt, pairs_per_epoch, same_fraction, seed=seed * 1000 + epoch)
        return train_rows[i], train_rows[j], same

    loader = PairBatches(X, sample, batch_size)
    out = _fit(model, loader, siamese_loss_fn(margin, bf16), val, lr, lr_step, max_epochs, patience)
    out["steps"] = out["epochs_run"] * int(np.ceil(pairs_per_epoch / batch_size))
    out["pairs_seen"] = out["epochs_run"] * pairs_per_epoch
    return out


def train_xvector(
    X: np.ndarray,
    train_rows: np.ndarray,
    labels,
    val: PairValidation,
    *,
    seed: int,
    max_epochs: int,
    lr_step: int,
    patience: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    bf16: bool = False,
    scale: float = 30.0,
    margin: float = 0.2,
    **xvector_kwargs,
) -> dict:
    """Train an :class:`AMSoftmaxClassifier` over the training speakers (one epoch = every training clip
    once), selecting the epoch on the validation speakers' trials (``val`` with ``criterion="ranking"``)."""
    training.set_seed(seed)
    labels = np.asarray(labels)
    model = AMSoftmaxClassifier(int(labels.max()) + 1, scale=scale, margin=margin, **xvector_kwargs)
    loader = ClipBatches(X[np.asarray(train_rows)], labels, batch_size=batch_size, seed=seed)
    out = _fit(model, loader, am_softmax_loss_fn(bf16), val, lr, lr_step, max_epochs, patience)
    out["steps"] = out["epochs_run"] * int(np.ceil(len(labels) / batch_size))
    return out


# --------------------------------------------------------------------------
# Save / load / verify unseen recordings
# --------------------------------------------------------------------------
#: The embedder shipped with the book (written by the chapter's ``book`` profile): a fresh clone can
#: embed and compare recordings without training anything.
DEFAULT_MODEL = shipped.FOLDER / "siamese_embedder.pt"


def save(model: nn.Module, path: str | os.PathLike, feature_params: dict | None = None, **meta) -> Path:
    """Write an embedder's weights, architecture and front-end parameters to one small file.

    Only the embedding network is stored (an :class:`AMSoftmaxClassifier` is saved without its
    speaker weights); ``meta`` holds anything a user needs, e.g. the validation ``threshold`` and
    ``clip_s`` (the training clip length, to which shorter files are padded by :func:`embed_files`).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    net = _embedder(model)
    kind = "xvector" if isinstance(net, XVector) else "siamese"
    state = {k: v.detach().clone() for k, v in net.state_dict().items()}
    torch.save(
        {
            "kind": kind,
            "config": net.config,
            "state_dict": state,
            "feature_params": {**FEATURE_PARAMS, "norm": "clip", **(feature_params or {})},
            "meta": meta,
        },
        path,
    )
    return path


def load(path: str | os.PathLike | None = None) -> tuple[nn.Module, dict]:
    """Rebuild an embedder saved by :func:`save` (default: the shipped one, :data:`DEFAULT_MODEL`);
    returns ``(model in eval mode, checkpoint dict)``."""
    path = shipped.resolve(path, DEFAULT_MODEL)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a model file written by lib.models.siamese.save ({exc})") from exc
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or ckpt.get("kind") not in ("siamese", "xvector"):
        raise ValueError(f"{path}: not a model file written by lib.models.siamese.save")
    model = (XVector if ckpt["kind"] == "xvector" else Embedder)(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt


def embed_files(
    paths: Sequence[str | os.PathLike],
    model_path: str | os.PathLike | None = None,
    max_seconds: float | None = None,
    batch_size: int = 64,
) -> np.ndarray:
    """Speaker embeddings of audio files: one row per file, ``(len(paths), emb_dim)``.

    ``model_path`` defaults to the embedder shipped with the book, :data:`DEFAULT_MODEL`
    (``book/models/siamese_embedder.pt``), so this works on a fresh clone without training::

        from lib.models import siamese
        E = siamese.embed_files(["a.wav", "b.flac", "c.opus"])
        siamese.score_pairs(E[[0]], E[[1]])      # minus the Euclidean distance: higher = more alike

    Each file is decoded with :func:`lib.data.load_audio` (any rate, mono mix), optionally cut to its
    loudest ``max_seconds``, padded with silence to the training clip length when shorter (as the
    training clips were; a file shorter than that gets a warning naming it and its duration), turned
    into the normalised log-mel spectrogram the model was trained on (front-end settings stored in the
    model file) and embedded whole (the recurrent layer accepts any length).  A file that cannot be read
    raises an error naming it; a missing model file raises :class:`FileNotFoundError`.  A relative
    ``model_path`` that does not exist from the current folder is looked up from the project root.
    """
    import warnings

    from lib import data

    path = shipped.resolve(model_path, DEFAULT_MODEL)
    if model_path is None and not path.is_file():
        raise FileNotFoundError(
            f"{path}: the shipped embedder is missing; run the chapter "
            "chapters/02_siamese_speakers.py with --profile book to write it"
        )
    model, ckpt = load(path)
    p = ckpt["feature_params"]
    min_len = max(int(round(float(ckpt["meta"].get("clip_s") or 0) * p["sr"])), p["sr"] // 10)
    clip_s = float(ckpt["meta"].get("clip_s") or 0)
    feats = []
    for f in paths:
        y, _ = data.load_audio(f, sr=p["sr"])
        if len(y) < min_len - p["sr"] // 1000:  # 1 ms of tolerance for rounding
            window = f"{clip_s:g}-s training clips" if clip_s else f"{min_len / p['sr']:g}-s minimum input"
            warnings.warn(
                f"{f}: {len(y) / p['sr']:.2f} s is shorter than the speaker embedder's {window}; padded with silence",
                stacklevel=2,
            )
        if max_seconds is not None:
            y = features.loudest_window(y, int(max_seconds * p["sr"]))
        if len(y) < min_len:  # the CNN needs at least 9 frames; training clips were padded likewise
            y = features.fix_length(y, min_len)
        feats.append(log_mel_normalised(y, p))
    return embed_ragged(model, feats, batch_size)


def verify(
    pairs: Sequence[tuple], model_path: str | os.PathLike | None = None, threshold: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Score ``[(path_a, path_b), ...]`` and decide "same speaker" when ``score >= threshold``.

    Returns ``(scores, decisions)``.  ``threshold`` defaults to the one stored with the model (chosen
    on validation speakers when it was trained); ``model_path`` to :data:`DEFAULT_MODEL`.
    """
    path = shipped.resolve(model_path, DEFAULT_MODEL)
    if threshold is None:
        threshold = load(path)[1]["meta"].get("threshold")
        if threshold is None:
            raise ValueError(f"{path}: no threshold stored with the model; pass one")
    files = sorted({str(p) for pair in pairs for p in pair})
    E = embed_files(files, path)
    row = {f: k for k, f in enumerate(files)}
    a = np.array([row[str(p)] for p, _ in pairs])
    b = np.array([row[str(q)] for _, q in pairs])
    scores = score_pairs(E[a], E[b])
    return scores, scores >= threshold
